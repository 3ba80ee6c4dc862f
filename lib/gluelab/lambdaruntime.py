"""Lambda execution environments on this machine: a function's handler runs in a Python process of its own,
kept warm between invocations, as AWS Lambda keeps an environment.

Why a process per environment (not a thread of the lab): a handler gets its own module state, environment
variables, working directory and imports; a timeout can end it for sure (the process is killed); and concurrent
invocations are isolated from each other and from the notebook. What AWS does, done the same way:

* **init**: a new environment imports the handler's module once (its module-level code runs once); the
  ``REPORT`` line of its first invocation carries ``Init Duration``. Import errors, syntax errors and a missing
  handler are reported as the Python runtime reports them (``Runtime.ImportModuleError``, ...).
* **reuse**: an idle environment of the same function version, code and configuration serves the next
  invocation; concurrent invocations each get one (:class:`Pool`). A code or configuration change starts new
  ones; a timeout or a crash ends the environment.
* **imports**: the standard library, the runtime's packages (:data:`RUNTIME_PACKAGES`), the function's zip and
  its layers' ``python/`` folders. gluelab's stand-in for AWS's managed "AWS SDK for pandas" layer adds
  :data:`PANDAS_LAYER_PACKAGES` from this machine.
* **logs**: ``START``/``END``/``REPORT`` lines as AWS writes them, the handler's prints, and ``logging`` records
  formatted as the Python runtime formats them, returned per invocation for the caller to ship to
  ``/aws/lambda/<name>`` (one log stream per environment).

The handler runs on this machine's Python (3.11) whatever ``python3.x`` runtime the function names. This module
knows nothing of moto: :mod:`gluelab.localaws.awslambda` feeds it functions and ships its logs.
"""
from __future__ import annotations

import atexit
import io
import json
import math
import os
import queue
import shutil
import site
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

#: Top-level packages AWS's Python runtimes ship besides the standard library (boto3 and what it needs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
#: What gluelab's stand-in for the "AWS SDK for pandas" layer makes importable (installed on this machine).
PANDAS_LAYER_PACKAGES = ("pandas", "numpy", "pyarrow", "pytz", "tzdata")
#: AWS's publisher account of the managed "AWS SDK for pandas" layers.
PANDAS_LAYER_ACCOUNT = "336392948345"

_BOOT = Path(__file__).with_name("lambdaboot.py")
_MARK = "\x1e"


def is_pandas_layer(arn: str) -> bool:
    """Whether ``arn`` names a version of AWS's managed "AWS SDK for pandas" layer (any region, any Python)."""
    parts = arn.split(":")
    return len(parts) >= 7 and parts[4] == PANDAS_LAYER_ACCOUNT and parts[6].startswith("AWSSDKPandas-")


@dataclass(frozen=True)
class Function:
    """What an environment is made from: one version of a function's code and configuration."""
    name: str
    arn: str
    version: str
    handler: str
    runtime: str
    timeout: float
    memory_mb: int
    code: bytes                       # the deployment zip
    code_sha256: str
    environment: tuple = ()           # ((name, value), ...) the function's variables
    layers: tuple = ()                # ((arn, zip bytes or None), ...) in order
    region: str = "us-east-1"
    extra_environment: tuple = ()     # variables gluelab adds (credentials, the endpoint)

    @property
    def key(self) -> tuple:
        """Environments are reused only for the same version, code and configuration."""
        return (self.arn, self.version, self.code_sha256, self.handler, self.runtime, self.timeout,
                self.memory_mb, self.environment, tuple(a for a, _ in self.layers), self.extra_environment)


@dataclass
class Result:
    """One invocation's outcome: the JSON ``payload`` or the ``error`` object AWS returns, and its log lines."""
    request_id: str
    payload: str | None
    error: dict | None
    log: list[str]
    log_group: str
    log_stream: str
    duration_ms: float = 0.0
    cold: bool = False
    timed_out: bool = False

    @property
    def body(self) -> bytes:
        """The Invoke response's payload bytes."""
        return (json.dumps(self.error) if self.error is not None else self.payload or "null").encode()

    def tail(self, limit: int = 4096) -> str:
        """The last ``limit`` bytes of the log, as ``LogType=Tail`` returns them."""
        text = "".join(line + "\n" for line in self.log).encode()
        return text[-limit:].decode("utf-8", "ignore")


class RuntimeFailure(RuntimeError):
    """The environment could not be started (not an error of the function's code)."""


@dataclass
class Environment:
    """One warm environment: a process running :mod:`gluelab.lambdaboot` for one function version."""
    function: Function
    process: subprocess.Popen
    folder: Path
    stream: str
    init_ms: float = 0.0
    init_error: dict | None = None
    used: int = 0
    pending: list = field(default_factory=list)     # log lines written before the first invocation
    lines: queue.Queue = field(default_factory=queue.Queue)   # its output, line by line (a reader thread)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe and pipe.close()
            except OSError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


class Pool:
    """Warm environments per function version; :meth:`invoke` runs one invocation in an idle one or a new one."""

    def __init__(self) -> None:
        self._idle: dict[tuple, list[Environment]] = {}
        self._busy: set[int] = set()
        self._all: list[Environment] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def invoke(self, function: Function, event: object, *, request_id: str | None = None,
               client_context: object = None) -> Result:
        """Run ``function``'s handler with ``event``; never raises for the function's own errors."""
        request_id = request_id or str(uuid.uuid4())
        env, cold = self._take(function)
        try:
            return self._run(env, cold, event, request_id, client_context)
        finally:
            with self._lock:
                self._busy.discard(id(env))
                if env.alive():
                    self._idle.setdefault(function.key, []).append(env)
                else:
                    self._forget(env)

    def discard(self, arn_prefix: str) -> None:
        """End every idle environment of functions whose ARN starts with ``arn_prefix`` (a code or configuration
        change, a deleted function)."""
        with self._lock:
            for key in [k for k in self._idle if k[0].startswith(arn_prefix)]:
                for env in self._idle.pop(key):
                    self._forget(env)
                    env.close()

    def close(self) -> None:
        """End every environment (the lab's endpoint is reset, or the process ends)."""
        with self._lock:
            envs, self._idle, self._all = list(self._all), {}, []
        for env in envs:
            env.close()

    def environments(self) -> int:
        """How many environments are running (idle or busy)."""
        with self._lock:
            return len(self._all)

    # ---- inside ----------------------------------------------------------------------------------------------

    def _forget(self, env: Environment) -> None:
        if env in self._all:
            self._all.remove(env)

    def _take(self, function: Function) -> tuple[Environment, bool]:
        with self._lock:
            stale = [k for k in self._idle if k[0] == function.arn and k != function.key]
            for key in stale:          # environments of an older version of the code or configuration
                for env in self._idle.pop(key):
                    self._forget(env)
                    env.close()
            idle = self._idle.get(function.key) or []
            while idle:
                env = idle.pop()
                if env.alive():
                    self._busy.add(id(env))
                    return env, False
                self._forget(env)
        env = _start(function)
        with self._lock:
            self._all.append(env)
            self._busy.add(id(env))
        return env, True

    def _run(self, env: Environment, cold: bool, event, request_id: str, client_context) -> Result:
        f = env.function
        version = "$LATEST" if f.version in ("", "$LATEST") else f.version
        log = [f"START RequestId: {request_id} Version: {version}"]
        log += env.pending
        env.pending = []
        result = Result(request_id, None, None, log, f"/aws/lambda/{f.name}", env.stream, cold=cold)
        if env.init_error is not None:   # AWS reports the init error on the invocation, and starts afresh next time
            result.error = env.init_error
            _drain(env, log, until="init_logged", deadline=time.monotonic() + 5)
            env.close()
            log += [f"END RequestId: {request_id}",
                    f"REPORT RequestId: {request_id}\tDuration: {env.init_ms:.2f} ms\tBilled Duration: "
                    f"{math.ceil(env.init_ms)} ms\tMemory Size: {f.memory_mb} MB\tMax Memory Used: 0 MB\t"
                    f"Status: error\tError Type: {env.init_error['errorType']}"]
            return result
        started = time.time()
        deadline = started + f.timeout
        request = {"request_id": request_id, "event": event, "deadline_ms": deadline * 1000,
                   "invoked_function_arn": f.arn, "client_context": client_context}
        try:
            env.process.stdin.write(json.dumps(request) + "\n")
            env.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeFailure(f"the execution environment of {f.name} ended unexpectedly: {exc}") from exc
        message = _drain(env, log, until="payload", deadline=time.monotonic() + f.timeout)
        if message is None:    # timed out, or the process died
            timed_out = env.alive()
            env.close()
            elapsed = (time.time() - started) * 1000
            if timed_out:
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                log.append(f"{stamp} {request_id} Task timed out after {f.timeout:.2f} seconds")
                result.error = {"errorType": "Sandbox.Timedout",
                                "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                                                f"{f.timeout:.2f} seconds"}
                result.timed_out = True
                status = "\tStatus: timeout"
            else:
                code = env.process.returncode
                result.error = {"errorType": "Runtime.ExitError",
                                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                                                f"{_exit_text(code)}"}
                log.append(result.error["errorMessage"])
                status = "\tStatus: error\tError Type: Runtime.ExitError"
            log += [f"END RequestId: {request_id}",
                    f"REPORT RequestId: {request_id}\tDuration: {elapsed:.2f} ms\tBilled Duration: "
                    f"{math.ceil(elapsed)} ms\tMemory Size: {f.memory_mb} MB\tMax Memory Used: 0 MB" + status]
            result.duration_ms = elapsed
            return result
        result.payload, result.error = message["payload"], message["error"]
        if result.error is not None and result.error.get("errorType") == "Runtime.ExitError":
            log.append(result.error["errorMessage"])
            env.close()
        result.duration_ms = message["duration_ms"]
        init = f"\tInit Duration: {env.init_ms:.2f} ms" if cold else ""
        log += [f"END RequestId: {request_id}",
                f"REPORT RequestId: {request_id}\tDuration: {message['duration_ms']:.2f} ms\tBilled Duration: "
                f"{math.ceil(message['duration_ms'])} ms\tMemory Size: {f.memory_mb} MB\tMax Memory Used: "
                f"{message['max_memory_mb']} MB{init}"]
        env.used += 1
        return result


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
    return f"exit status {code}"


def _drain(env: Environment, log: list[str], *, until: str, deadline: float) -> dict | None:
    """Read the environment's output into ``log`` until an answer holding ``until`` arrives; None on timeout or
    when the process ends first."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            line = env.lines.get(timeout=remaining)
        except queue.Empty:
            return None
        if line is None:          # the process closed its output: it ended
            return None
        if _MARK in line:
            before, _, data = line.partition(_MARK)
            if before.strip():
                log.append(before.rstrip("\n"))
            message = json.loads(data)
            if until in message:
                return message
            continue
        log.append(line.rstrip("\n"))


def _read_lines(stream, lines: queue.Queue) -> None:
    """The environment's reader thread: every line of its output, then None at the end."""
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    lines.put(None)


def _start(function: Function) -> Environment:
    """Unpack the code and layers and start the environment's process; wait for its init to finish."""
    folder = Path(tempfile.mkdtemp(prefix="gluelab-lambda-"))
    task = folder / "task"
    _unzip(function.code, task, function.name)
    paths = [str(task)]
    allowed = list(RUNTIME_PACKAGES)
    for i, (arn, content) in enumerate(function.layers):
        if is_pandas_layer(arn):
            allowed += PANDAS_LAYER_PACKAGES
            continue
        opt = folder / f"layer{i}"
        _unzip(content or b"", opt, arn)
        paths += [str(opt / "python"), str(opt)]
    now = datetime.now(timezone.utc)
    version = "$LATEST" if function.version in ("", "$LATEST") else function.version
    stream = f"{now:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task), "LAMBDA_RUNTIME_DIR": str(task), "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}", "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": version, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}", "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "GLUELAB_LAMBDA_PATH": os.pathsep.join(paths),
        "GLUELAB_LAMBDA_SITE": os.pathsep.join(site.getsitepackages()),
        "GLUELAB_LAMBDA_ALLOWED": ",".join(allowed),
        **dict(function.environment), **dict(function.extra_environment),
    }
    process = subprocess.Popen([sys.executable, "-S", "-E", "-u", str(_BOOT)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=str(task),
                               text=True, encoding="utf-8", errors="replace", bufsize=1)
    environment = Environment(function, process, folder, stream)
    threading.Thread(target=_read_lines, args=(process.stdout, environment.lines), daemon=True,
                     name=f"gluelab-lambda-{function.name}").start()
    pending: list[str] = []
    ready = _drain(environment, pending, until="ready", deadline=time.monotonic() + max(30.0, function.timeout))
    if ready is None:
        environment.close()
        raise RuntimeFailure(f"the execution environment of {function.name} did not start: "
                             + " | ".join(pending[-5:]))
    environment.init_ms, environment.init_error = ready["init_ms"], ready["init_error"]
    environment.pending = pending
    return environment


def _unzip(content: bytes, into: Path, what: str) -> None:
    into.mkdir(parents=True, exist_ok=True)
    if not content:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.infolist():
                target = (into / member.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise RuntimeFailure(f"the code of {what} has an entry outside its folder: {member.filename}")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise RuntimeFailure(f"the code of {what} is not a zip file: {exc}") from exc
