"""Lambda functions for the lessons: package, deploy, invoke and read the logs, with plain boto3 on both
backends.

Why a module: deploying a function is four AWS calls and a wait (zip the code, create or update the function,
wait until the update is done, set the configuration), and reading why an invocation failed is two more (the
payload's ``errorType``/``errorMessage``, then the function's log in CloudWatch). The lessons show those calls
once, then use these helpers. On the local backend the lab runs the handler for real (without Docker); on
AWS, Lambda does.

* :func:`package` builds the deployment zip: the handler's files, plus installed packages copied in as
  ``pip install --target`` would (``requirements=["requests"]``): what AWS calls a .zip deployment package.
* :func:`edit` makes a fix to a listing as a visible change (each old text must be there);
* :func:`deploy` creates the function, or updates its code and configuration when it exists (so a lesson cell
  can run twice); a dry-run lab plans it.
* :func:`invoke` invokes and returns an :class:`Invocation`: the decoded result or error and the log tail.
* :func:`log` reads the function's log lines from ``/aws/lambda/<name>``;
* :func:`invocations` reads them grouped by invocation (``START`` to ``REPORT``), and :func:`wait_for` waits
  until a function invoked by an event (S3, SQS, EventBridge: nothing answers the notebook) has finished a
  number of invocations: on both backends, by reading the log, as you would on AWS.
"""
from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata

from packaging.requirements import Requirement

#: The runtime the lessons deploy: the Python of this machine (the local backend runs handlers with it).
RUNTIME = "python3.11"

#: AWS's managed layer "AWS SDK for pandas" (pandas, numpy, pyarrow), published by AWS in every region.
PANDAS_LAYER = "arn:aws:lambda:{region}:336392948345:layer:AWSSDKPandas-Python311:{version}"
PANDAS_LAYER_VERSION = 20


def pandas_layer(region: str, version: int = PANDAS_LAYER_VERSION) -> str:
    """The ARN of AWS's managed "AWS SDK for pandas" layer for :data:`RUNTIME` in ``region``."""
    return PANDAS_LAYER.format(region=region, version=version)


def arn(lab, name: str) -> str:
    """The ARN of the lab's function ``name`` (what a state machine or a rule names as its target)."""
    return f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{name}"


def package(files: dict[str, str | bytes], *, requirements: tuple[str, ...] | list[str] = ()) -> bytes:
    """A deployment zip: ``files`` (``{"app.py": source, ...}``) at the root, plus each installed distribution
    named in ``requirements`` and the distributions it requires, copied file by file from this environment
    (what ``pip install --target . requests`` puts next to the handler). A distribution that is not installed
    is an error naming it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(_entry(name), content)
        for dist in _with_dependencies(requirements):
            for file in sorted(dist.files or [], key=str):
                if file.parts[0].endswith((".dist-info", "__pycache__")) or ".." in file.parts or \
                        file.suffix == ".pyc":
                    continue
                path = dist.locate_file(file)
                if path.is_file():
                    archive.write(path, str(file))
    return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # same bytes on every run
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _with_dependencies(requirements) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = list(requirements)
    while todo:
        name = todo.pop(0)
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ValueError(f"cannot package {name!r}: it is not installed in this environment") from None
        seen[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return [seen[k] for k in sorted(seen)]


def edit(source: str, *changes: tuple[str, str]) -> str:
    """``source`` with each ``(old, new)`` change made, in order: the way a lesson shows a fix to a listing as
    exactly what changes. Each ``old`` must occur in the text (else the error names it), so a fix that no longer
    applies fails instead of silently leaving the bug in."""
    for old, new in changes:
        if old not in source:
            raise ValueError(f"cannot make the change: the text {old!r} is not in the source")
        source = source.replace(old, new)
    return source


def deploy(lab, name: str, files: dict[str, str | bytes], handler: str, *, environment: dict | None = None,
           timeout: int = 30, memory: int = 256, layers: tuple[str, ...] | list[str] = (),
           requirements: tuple[str, ...] | list[str] = (), role: str | None = None, runtime: str = RUNTIME) -> dict:
    """Create the function ``name`` (a lab resource name) from ``files``, or update its code and configuration
    when it exists; return its configuration as ``get_function_configuration`` shows it. ``handler`` is
    ``module.function`` (e.g. ``"check_source_data.lambda_handler"``); ``role`` defaults to the lab's Lambda
    role (:meth:`Lab.ensure_role`)."""
    awslambda = lab.client("lambda")
    role = role or lab.ensure_role("lambda")
    config = {"Role": role, "Handler": handler, "Runtime": runtime, "Timeout": timeout, "MemorySize": memory,
              "Environment": {"Variables": dict(environment or {})}, "Layers": list(layers)}
    code = package(files, requirements=requirements)
    if not lab._plan("deploy Lambda function", name):
        lab.planned_resources[("function", name)] = {"FunctionName": name, **config}
        return {"FunctionName": name, **config}
    try:
        awslambda.get_function(FunctionName=name)
    except awslambda.exceptions.ResourceNotFoundException:
        awslambda.create_function(FunctionName=name, Code={"ZipFile": code}, Publish=False, **config)
        awslambda.get_waiter("function_active_v2").wait(FunctionName=name)
    else:
        awslambda.update_function_code(FunctionName=name, ZipFile=code)
        awslambda.get_waiter("function_updated_v2").wait(FunctionName=name)
        awslambda.update_function_configuration(FunctionName=name, **config)
        awslambda.get_waiter("function_updated_v2").wait(FunctionName=name)
    return awslambda.get_function_configuration(FunctionName=name)


@dataclass
class Invocation:
    """One invocation's answer: ``status`` (HTTP), ``result`` (the decoded payload), ``error`` (the
    FunctionError, e.g. ``"Unhandled"``, or None), ``log`` (the tail AWS returns with ``LogType="Tail"``)."""
    function: str
    status: int
    result: object
    error: str | None = None
    log: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status < 300

    def __str__(self) -> str:
        if self.ok:
            return f"{self.function}: {self.status}, result {json.dumps(self.result, sort_keys=True)}"
        detail = self.result if isinstance(self.result, dict) else {"errorMessage": str(self.result)}
        return (f"{self.function}: {self.error} error {detail.get('errorType', '')}: "
                f"{detail.get('errorMessage', '')}")


def invoke(lab, name: str, event: object = None, *, invocation_type: str = "RequestResponse") -> Invocation:
    """Invoke ``name`` with ``event`` (JSON-serialisable) and return what came back, with the log tail."""
    awslambda = lab.client("lambda")
    payload = json.dumps(event if event is not None else {}).encode()
    if not lab._plan("invoke Lambda function", name):
        return Invocation(name, 0, None, None, [])
    answer = awslambda.invoke(FunctionName=name, Payload=payload, InvocationType=invocation_type,
                              **({"LogType": "Tail"} if invocation_type == "RequestResponse" else {}))
    body = answer["Payload"].read() if "Payload" in answer else b""
    try:
        result = json.loads(body) if body else None
    except ValueError:
        result = body.decode("utf-8", "replace")
    tail = base64.b64decode(answer["LogResult"]).decode("utf-8", "replace") if answer.get("LogResult") else ""
    return Invocation(name, answer["StatusCode"], result, answer.get("FunctionError"), tail.splitlines())


def log(lab, name: str, *, contains: str | None = None, limit: int = 10_000) -> list[str]:
    """The function's log lines (every stream of ``/aws/lambda/<name>``, oldest first), only those containing
    ``contains`` when given."""
    logs = lab.client("logs")
    group = f"/aws/lambda/{name}"
    kwargs = {"logGroupName": group, **({"filterPattern": f'"{contains}"'} if contains else {})}
    lines: list[str] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
            lines += [event["message"].rstrip("\n") for event in page.get("events", [])]
            if len(lines) >= limit:
                break
    except logs.exceptions.ResourceNotFoundException:
        return []
    return lines[:limit]


def invocations(lab, name: str) -> list[list[str]]:
    """The function's finished invocations, oldest first: each the list of its log lines from ``START`` to
    ``REPORT``. (Each log stream is one execution environment, which runs one invocation at a time, so an
    invocation's lines are consecutive within its stream.)"""
    logs = lab.client("logs")
    streams: dict[str, list[tuple[int, str]]] = {}
    try:
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{name}"):
            for event in page.get("events", []):
                streams.setdefault(event["logStreamName"], []).append(
                    (event["timestamp"], event["message"].rstrip("\n")))
    except logs.exceptions.ResourceNotFoundException:
        return []
    done: list[tuple[int, list[str]]] = []
    for events in streams.values():
        current: list[str] | None = None
        started = 0
        for timestamp, line in events:
            if line.startswith("START RequestId:"):
                current, started = [line], timestamp
            elif current is not None:
                current.append(line)
                if line.startswith("REPORT RequestId:"):
                    done.append((started, current))
                    current = None
    return [lines for _, lines in sorted(done, key=lambda item: item[0])]


def wait_for(lab, name: str, count: int = 1, *, timeout: float = 120, poll: float = 0.2) -> list[list[str]]:
    """Wait until ``name`` has finished at least ``count`` invocations (by its log); return them all
    (:func:`invocations`). A TimeoutError says how many finished. A dry-run lab waits for nothing."""
    if lab.dry_run:
        return []
    deadline = time.monotonic() + timeout
    while True:
        done = invocations(lab, name)
        if len(done) >= count:
            return done
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} finished {len(done)} of {count} invocations in {timeout:g} s: "
                               f"is its trigger set up (notification, mapping, rule, permission)?")
        time.sleep(poll)


def handler_lines(invocation: list[str]) -> list[str]:
    """An invocation's lines without the runtime's own (``START``, ``END``, ``REPORT``, ``INIT_START``): what
    the handler printed and logged, and its error."""
    return [line for line in invocation
            if not line.startswith(("START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_START"))]


_LOGGER_PREFIX = re.compile(r"^\[(\w+)\]\t\d{4}-\d\d-\d\dT[\d:.]+Z\t[\w-]*\t")


def plain(line: str) -> str:
    """A log line of the Python runtime's logger (``[INFO]\\t<time>\\t<request id>\\t<message>``) as
    ``[INFO] <message>``: the time and request id differ on every run. Other lines are returned as they are."""
    return _LOGGER_PREFIX.sub(r"[\1] ", line)
