"""AWS Lambda: ``invoke`` runs the function's handler, without Docker.

moto stores functions and layers, and runs a handler only inside Docker (without Docker it answers with an error).
Here every invocation (boto3's ``invoke``, S3 notifications, SNS, SQS event source mappings, Step Functions'
Lambda tasks: all reach moto's ``LambdaFunction.invoke``) runs the handler in an execution environment of
:mod:`gluelab.lambdaruntime`: a warm Python process per function version, the function's environment variables,
its Timeout enforced, imports limited to what AWS's Python runtime has, the answer and the log as AWS gives them.

* ``RequestResponse``: the handler's JSON result, or the error object with ``FunctionError: Unhandled``;
  ``LogType=Tail`` returns the last 4 KB of the invocation's log.
* ``Event``: answered at once (202); the handler runs in the background and a failed invocation is retried
  twice (or ``MaximumRetryAttempts`` of the function's event invoke config), as AWS does. AWS waits about a minute
  and then two between those attempts; here they follow each other at once (gluelab's shortcut).
* ``DryRun``: answered 204, nothing runs.
* The log goes to ``/aws/lambda/<name>``, one stream per environment, as AWS names them.
* AWS's managed "AWS SDK for pandas" layers (account 336392948345) are accepted in ``Layers`` (moto does not
  know them) and make pandas, numpy and pyarrow importable (gluelab's stand-in for the layer's content).
* The handler's boto3 reaches the lab: its environment has fake credentials and ``AWS_ENDPOINT_URL`` of the local
  endpoint (gluelab's addition; on AWS the role's credentials are there instead).

Only Python runtimes run here; the handler runs on this machine's Python 3.11 whatever ``python3.x`` the
function names. Teardown deletes the lab's functions and layers.
"""
from __future__ import annotations

import base64
import json
import logging
import threading

from moto.awslambda.models import LambdaBackend, LambdaFunction

from .. import lambdaruntime
from . import logship, server
from .hooks import hook
from .service import Owned, Service, paged

#: The process's execution environments (warm between invocations).
POOL = lambdaruntime.Pool()
#: How often AWS retries a failed asynchronous invocation unless the function's event invoke config says.
ASYNC_RETRIES = 2

_log = logging.getLogger("gluelab.localaws")


def _function_tags(client, name: str, _account: str) -> dict:
    arn = client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return client.list_tags(Resource=arn).get("Tags", {})


def _layer_names(client) -> list[str]:
    return [layer["LayerName"] for page in client.get_paginator("list_layers").paginate()
            for layer in page.get("Layers", [])]


def _delete_layer(client, name: str) -> None:
    for page in client.get_paginator("list_layer_versions").paginate(LayerName=name):
        for version in page.get("LayerVersions", []):
            client.delete_layer_version(LayerName=name, VersionNumber=version["Version"])


SERVICE = Service(
    "lambda", guarded=("FunctionName", "LayerName"),
    operations=("CreateFunction", "DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
                "Invoke", "InvokeAsync", "AddPermission", "RemovePermission", "PublishVersion", "CreateAlias",
                "UpdateAlias", "DeleteAlias", "CreateEventSourceMapping", "PutFunctionConcurrency",
                "DeleteFunctionConcurrency", "PublishLayerVersion", "DeleteLayerVersion",
                "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
                "DeleteFunctionEventInvokeConfig"),
    owned=(Owned("Lambda function", paged("list_functions", "Functions", "FunctionName"),
                 lambda client, name: client.delete_function(FunctionName=name), tags=_function_tags),
           Owned("Lambda layer", _layer_names, _delete_layer)))


def describe(fn: LambdaFunction) -> lambdaruntime.Function:
    """The runtime's view of one of moto's functions: code, layers' code, configuration."""
    from moto.awslambda.utils import get_backend

    backend = get_backend(fn.account_id, fn.region)
    layers = []
    for layer in fn.layers or []:
        arn = layer["Arn"]
        found = None if lambdaruntime.is_pandas_layer(arn) else backend.layers_versions_by_arn(arn)
        layers.append((arn, found.code_bytes if found is not None else None))
    url = server.endpoint_url()
    extra = {**server.FAKE_CREDENTIALS, "AWS_SESSION_TOKEN": "testing", **({"AWS_ENDPOINT_URL": url} if url else {})}
    return lambdaruntime.Function(
        name=fn.function_name, arn=fn.function_arn, version=str(fn.version or "$LATEST"), handler=fn.handler or "",
        runtime=fn.run_time or "", timeout=float(fn.timeout or 3), memory_mb=int(fn.memory_size or 128),
        code=fn.code_bytes or b"", code_sha256=fn.code_sha_256 or "",
        environment=tuple(sorted((fn.environment_vars or {}).items())), layers=tuple(layers), region=fn.region,
        extra_environment=tuple(sorted(extra.items())))


def run(fn: LambdaFunction, event: object) -> lambdaruntime.Result:
    """Run one invocation of ``fn`` and ship its log; never raises for the handler's own errors."""
    if not (fn.run_time or "").startswith("python3"):
        raise lambdaruntime.RuntimeFailure(
            f"gluelab runs Python functions only; {fn.function_name} has runtime {fn.run_time!r}")
    result = POOL.invoke(describe(fn), event)
    logship.ship(fn.account_id, fn.region, result.log_group, result.log_stream, result.log)
    return result


def invoke(account_id: str, region: str, function: str, payload: bytes | str,
           invocation_type: str = "RequestResponse", qualifier: str | None = None) -> lambdaruntime.Result | None:
    """Invoke a function by name or ARN from inside the local endpoint (an event source, a target): the same
    path as boto3's ``invoke``. ``Event`` returns None at once and runs in the background."""
    from moto.awslambda.utils import get_backend

    fn = get_backend(account_id, region).get_function(function, qualifier)
    event = json.loads(payload) if payload else {}
    if invocation_type == "Event":
        threading.Thread(target=_run_async, args=(fn, event), daemon=True, name="gluelab-lambda-event").start()
        return None
    return run(fn, event)


def _run_async(fn: LambdaFunction, event: object) -> None:
    configs = getattr(fn, "event_invoke_config", None) or []
    retries = configs[0].config.get("MaximumRetryAttempts", ASYNC_RETRIES) if configs else ASYNC_RETRIES
    for _ in range(1 + int(retries)):
        try:
            if run(fn, event).error is None:
                return
        except Exception:
            _log.exception("an asynchronous invocation of %s could not run", fn.function_name)
            return


def _header(headers, name: str) -> str | None:
    for key, value in (headers.items() if headers else ()):
        if key.lower() == name:
            return value
    return None


@hook(LambdaFunction, "invoke", ("body", "request_headers", "response_headers"))
def _invoke(original, fn: LambdaFunction, body, request_headers, response_headers):
    kind = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
    if kind == "DryRun":
        return b""
    event = json.loads(body) if body else {}
    if kind == "Event":
        threading.Thread(target=_run_async, args=(fn, event), daemon=True, name="gluelab-lambda-event").start()
        return b""
    result = run(fn, event)
    if result.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(result.tail().encode()).decode()
    response_headers["x-amz-executed-version"] = str(fn.version or "$LATEST")
    return result.body


@hook(LambdaFunction, "_get_layers_data", ("layers_versions_arns",))
def _layers_data(original, fn: LambdaFunction, layers_versions_arns):
    """AWS's managed pandas layers exist in every account; moto knows only layers published in the account."""
    managed = [a for a in layers_versions_arns if lambdaruntime.is_pandas_layer(a)]
    own = original(fn, [a for a in layers_versions_arns if a not in managed]) if len(managed) < len(
        layers_versions_arns) else []
    by_arn = {d["Arn"]: d for d in own}
    return [by_arn.get(a) or {"Arn": a, "CodeSize": 0} for a in layers_versions_arns if a in by_arn or a in managed]


@hook(LambdaBackend, "delete_function", ("function_name", "qualifier"))
def _delete_function(original, backend: LambdaBackend, function_name, qualifier=None):
    try:
        arn = backend.get_function(function_name, qualifier).function_arn
    except Exception:
        arn = None
    original(backend, function_name, qualifier)
    if arn:
        POOL.discard(arn.split(":$")[0])
