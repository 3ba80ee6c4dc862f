"""The process one Lambda execution environment runs: it imports the function's handler once (init), then answers
invocations one at a time, as AWS's Python runtime does.

Run by :mod:`gluelab.lambdaruntime` as ``python -S -u lambdaboot.py`` (a script, not a module of gluelab: the
function's code must not see gluelab), with the environment variables AWS's runtime sets (``_HANDLER``,
``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``, ...) plus ``GLUELAB_LAMBDA_PATH`` (the task root and layers'
``python`` folders) and ``GLUELAB_LAMBDA_SITE`` (where boto3 is installed), ``GLUELAB_LAMBDA_ALLOWED`` (top-level
packages the runtime provides besides the standard library).

Imports are limited to what a Lambda Python runtime has: the standard library, the runtime's packages (boto3,
botocore and their dependencies), the function's own code and its layers. Anything else fails as on AWS
(``No module named 'pandas'``), even when this machine has it installed.

Protocol: one JSON request per line on stdin; the handler's prints and log records go to stdout as lines; each
answer is one line on stdout starting with the record separator ``\\x1e``, so answers and log lines stay in order.
"""
import importlib.abc
import importlib.machinery
import json
import logging
import os
import resource
import sys
import time
import traceback

MARK = "\x1e"
TASK_ROOT = os.environ["LAMBDA_TASK_ROOT"]
SHOWN_ROOT = "/var/task"     # where AWS puts the function's code: tracebacks name it so
PATHS = [p for p in os.environ.get("GLUELAB_LAMBDA_PATH", "").split(os.pathsep) if p]
SITE = [p for p in os.environ.get("GLUELAB_LAMBDA_SITE", "").split(os.pathsep) if p]
ALLOWED = set(os.environ.get("GLUELAB_LAMBDA_ALLOWED", "").split(","))
# the standard library's folders (run with -S, sys.path has no site-packages), not this script's own folder
STDLIB = [p for p in sys.path if p and "-packages" not in p and p != os.path.dirname(os.path.abspath(__file__))]
_out = sys.stdout
_request_id = ""


class RuntimeImports(importlib.abc.MetaPathFinder):
    """Refuses a top-level package that the Lambda runtime, the function's zip and its layers do not have."""

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if path is not None or top in sys.stdlib_module_names or top in ALLOWED or top in sys.builtin_module_names:
            return None
        if importlib.machinery.PathFinder.find_spec(top, PATHS + STDLIB) is not None:
            return None
        raise ModuleNotFoundError(f"No module named '{top}'", name=top)


def peak_memory_mb() -> int:
    """The process's peak resident memory (VmHWM; ru_maxrss would count the process that started this one)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def shown(text: str) -> str:
    """Paths as a Lambda environment has them: the function's code in /var/task, layers in /opt, the runtime's
    packages (boto3, ...) in /var/runtime, Python in /var/lang."""
    text = text.replace(TASK_ROOT, SHOWN_ROOT)
    for layer in PATHS[1:]:
        text = text.replace(layer, "/opt/python" if layer.endswith("python") else "/opt")
    for folder in SITE:
        text = text.replace(folder, "/var/runtime")
    for folder in sorted(STDLIB, key=len, reverse=True):
        text = text.replace(folder, "/var/lang/lib/python3.11")
    return text


def answer(message: dict) -> None:
    _out.flush()
    sys.stderr.flush()
    _out.write(MARK + json.dumps(message) + "\n")
    _out.flush()


class _LambdaFormatter(logging.Formatter):
    """``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>``, the Python runtime's text format."""
    converter = time.gmtime

    def format(self, record):
        record.aws_request_id = _request_id
        return super().format(record)


def _not_the_local_endpoint(record) -> bool:
    """False for botocore's "Found endpoint for s3 via: environment_global." line: it reports the local
    endpoint the lab sets (``AWS_ENDPOINT_URL``), which a function on AWS does not have, so its log on AWS has
    no such line."""
    return not str(record.msg).startswith("Found endpoint for ")


class Context:
    """What the Python runtime passes as ``context``."""

    def __init__(self, request: dict):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["invoked_function_arn"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = request["request_id"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = request.get("client_context")
        self._deadline_ms = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def error_of(exc: BaseException, error_type: str | None = None, skip: int = 0) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)[skip:]
    return {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__, "requestId": _request_id,
            "stackTrace": [shown(line) for line in traceback.format_list(frames)]}


def log_error(error: dict) -> None:
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):"]
    print("\n".join(lines + [line.rstrip("\n") for line in error["stackTrace"]]), flush=True)


def init():
    """Import the handler's module; return ``(handler, None)`` or ``(None, error)`` as AWS reports it."""
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        module = __import__(module_name.replace("/", "."))
        for part in module_name.split(".")[1:]:
            module = getattr(module, part)
    except SyntaxError as exc:
        where = f"({os.path.basename(exc.filename or '')}, line {exc.lineno})"
        return None, {"errorMessage": f"Syntax error in module '{module_name}': {exc.msg} {where}",
                      "errorType": "Runtime.UserCodeSyntaxError", "requestId": "",
                      "stackTrace": [shown(f'  File "{exc.filename}" Line {exc.lineno}\n    {(exc.text or "").strip()}\n')]}
    except ImportError as exc:
        return None, {"errorMessage": f"Unable to import module '{module_name}': {exc}",
                      "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    except Exception as exc:  # an error in the module's own code, at import
        return None, error_of(exc, skip=1)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {"errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
                      "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
    return handler, None


def main() -> None:
    global _request_id
    sys.path[:] = PATHS + STDLIB + SITE
    sys.meta_path.insert(0, RuntimeImports())
    os.chdir(TASK_ROOT)
    root = logging.getLogger()
    handler_ = logging.StreamHandler(sys.stdout)
    handler_.setFormatter(_LambdaFormatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t"
                                           "%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler_.addFilter(_not_the_local_endpoint)
    root.addHandler(handler_)
    started = time.perf_counter()
    handler, init_error = init()
    init_ms = (time.perf_counter() - started) * 1000
    answer({"ready": True, "init_ms": init_ms, "init_error": init_error})
    if init_error is not None:
        log_error(init_error)
        answer({"init_logged": True})
        return
    for line in sys.stdin:
        request = json.loads(line)
        _request_id = request["request_id"]
        began = time.perf_counter()
        try:
            result = handler(request["event"], Context(request))
            try:
                payload, error = json.dumps(result), None
            except (TypeError, ValueError) as exc:
                payload, error = None, {"errorMessage": f"Unable to marshal response: {exc}",
                                        "errorType": "Runtime.MarshalError", "requestId": _request_id,
                                        "stackTrace": []}
        except Exception as exc:
            payload, error = None, error_of(exc, skip=1)
        except SystemExit as exc:
            payload, error = None, {"errorMessage": f"RequestId: {_request_id} Error: Runtime exited with error: "
                                                    f"exit status {exc.code}", "errorType": "Runtime.ExitError"}
        duration_ms = (time.perf_counter() - began) * 1000
        if error is not None and error["errorType"] != "Runtime.ExitError":
            log_error(error)
        answer({"payload": payload, "error": error, "duration_ms": duration_ms,
                "max_memory_mb": peak_memory_mb()})
        if error is not None and error["errorType"] == "Runtime.ExitError":
            return


if __name__ == "__main__":
    main()
