"""The execution-hook seam: where moto's control plane is made to act.

moto stores AWS state faithfully but runs nothing: a Glue job run is SUCCEEDED the moment it is created and its
script never executes. gluelab patches a few of moto's model methods, all in this module, so that the same boto3
calls a learner makes against AWS really do the work locally. Each hook is registered with :func:`hook`, which
checks that the method it replaces still exists with the arguments it expects: a moto upgrade that moves things
fails loudly at start-up (and in tests/test_hooks_contract.py), never silently.

Hooks installed here:

* ``glue.start_job_run``: runs the job's script. Which runner is chosen by the job's ``Command.Name``
  (``JOB_RUNNERS``); this module provides ``pythonshell``, later modules register more (``glueetl``, ...).
  The run is RUNNING while the script runs, then SUCCEEDED, FAILED (ErrorMessage = the exception's last line)
  or TIMEOUT (the job's Timeout, in minutes, elapsed), with real StartedOn, CompletedOn and ExecutionTime.
  stdout and stderr go to CloudWatch Logs, as on AWS, in ``/aws-glue/python-jobs/output`` and ``/error``
  under a stream named by the run id.
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import moto

#: The moto release the hooks were written against (pinned exactly in requirements.txt).
MOTO_VERSION = "5.2.5"


@dataclass
class _Hook:
    owner: type
    method: str
    expected_params: tuple[str, ...]
    replacement: Callable
    original: Callable | None = field(default=None)


_HOOKS: list[_Hook] = []
_installed = False


class HookContractError(RuntimeError):
    """moto no longer has the method or arguments a gluelab hook relies on."""


def hook(owner: type, method: str, expected_params: tuple[str, ...]):
    """Register ``fn(original, self, *args, **kwargs)`` to replace ``owner.method`` when hooks are installed."""
    def register(fn: Callable) -> Callable:
        _HOOKS.append(_Hook(owner, method, expected_params, fn))
        return fn
    return register


def check_contracts() -> None:
    """Raise HookContractError if any hooked moto method is missing or changed its parameters."""
    problems = []
    if moto.__version__ != MOTO_VERSION:
        problems.append(f"moto {moto.__version__} is installed; gluelab's hooks are written for {MOTO_VERSION}")
    for h in _HOOKS:
        target = getattr(h.owner, h.method, None)
        if target is None:
            problems.append(f"{h.owner.__qualname__}.{h.method} no longer exists")
            continue
        target = getattr(target, "__gluelab_original__", target)
        params = tuple(inspect.signature(target).parameters)[1:]  # without self
        missing = [p for p in h.expected_params if p not in params]
        if missing:
            problems.append(f"{h.owner.__qualname__}.{h.method} lost parameter(s) {missing}; has {params}")
    if problems:
        raise HookContractError("gluelab's execution hooks do not fit this moto:\n  " + "\n  ".join(problems))


def install() -> None:
    """Patch moto with every registered hook (idempotent)."""
    global _installed
    if _installed:
        return
    check_contracts()
    for h in _HOOKS:
        original = getattr(h.owner, h.method)

        def patched(self, *args, __h=h, __orig=original, **kwargs):
            return __h.replacement(__orig, self, *args, **kwargs)

        patched.__gluelab_original__ = original
        patched.__name__ = h.method
        setattr(h.owner, h.method, patched)
    _installed = True


# --- Glue job runs -------------------------------------------------------------------------------------------

from moto.glue.models import FakeJob, FakeJobRun  # noqa: E402

#: Job runners by ``Command.Name``: ``runner(job, run) -> None`` executes the run and must finish it with
#: :func:`finish_run`. Other modules add entries (e.g. ``"glueetl"``).
JOB_RUNNERS: dict[str, Callable[[FakeJob, "ExecutedJobRun"], None]] = {}

#: Default Glue job Timeout, in minutes, when the job sets none (AWS's default is 2,880 = 48 hours).
DEFAULT_TIMEOUT_MINUTES = 2880
#: Seconds in one minute of a job's Timeout (tests shrink it to check timeouts without waiting minutes).
SECONDS_PER_TIMEOUT_MINUTE = 60


class ExecutedJobRun(FakeJobRun):
    """A job run whose state comes from a real execution instead of moto's state machine."""

    def _start_execution(self) -> None:
        self.status = "RUNNING"
        self.started_on = datetime.now(timezone.utc)
        self.completed_on = None
        self.error_message = None
        self.execution_seconds = 0
        self._t0 = time.monotonic()

    @property
    def status(self):  # moto's ManagedState would advance to SUCCEEDED on its own; ours does not.
        return self._exec_status

    @status.setter
    def status(self, value):
        self._exec_status = value

    def as_dict(self):
        d = super().as_dict()
        d["ExecutionTime"] = self.execution_seconds if self.completed_on else int(time.monotonic() - self._t0)
        d["StartedOn"] = self.started_on
        d["LastModifiedOn"] = self.modified_on
        if self.completed_on:
            d["CompletedOn"] = self.completed_on
        else:
            d.pop("CompletedOn", None)
        if self.error_message:
            d["ErrorMessage"] = self.error_message
        d["LogGroupName"] = self.log_group
        d["GlueVersion"] = self.glue_version
        return d


def finish_run(run: ExecutedJobRun, state: str, error: str | None = None) -> None:
    """Record the end of an executed run: state, ErrorMessage, CompletedOn and ExecutionTime (whole seconds)."""
    run.error_message = error
    run.completed_on = datetime.now(timezone.utc)
    run.modified_on = run.completed_on
    run.execution_seconds = max(0, round(time.monotonic() - run._t0))
    run.status = state


@hook(FakeJob, "start_job_run", ("allocated_capacity", "max_capacity", "timeout", "worker_type",
                                 "number_of_workers", "previous_run_id", "arguments"))
def _start_job_run(original, job: FakeJob, *args, **kwargs):
    run_id = original(job, *args, **kwargs)
    runner = JOB_RUNNERS.get((job.command or {}).get("Name", ""))
    if runner is None:
        return run_id  # a job type gluelab does not execute (yet): moto's stored state only
    run = next(r for r in job.job_runs if r.job_run_id == run_id)
    run.__class__ = ExecutedJobRun
    run.log_group = "/aws-glue/python-jobs" if job.command.get("Name") == "pythonshell" else "/aws-glue/jobs"
    run.glue_version = job.glue_version or ("3.0" if job.command.get("Name") == "pythonshell" else "4.0")
    run._start_execution()
    threading.Thread(target=_run_guarded, args=(runner, job, run), daemon=True,
                     name=f"gluelab-jobrun-{run_id[:12]}").start()
    return run_id


def _run_guarded(runner, job: FakeJob, run: ExecutedJobRun) -> None:
    try:
        runner(job, run)
    except Exception as exc:  # the runner itself broke: the run must still end, with the reason
        finish_run(run, "FAILED", f"gluelab could not run the job: {type(exc).__name__}: {exc}")


def job_argv(job: FakeJob, run: ExecutedJobRun) -> list[str]:
    """The command-line arguments Glue passes to a job script: ``--JOB_NAME``, ``--JOB_RUN_ID``, then the
    run's arguments (DefaultArguments merged with the run's Arguments, as moto already did)."""
    argv = ["--JOB_NAME", job.name, "--JOB_RUN_ID", run.job_run_id]
    for key, value in (run.arguments or {}).items():
        argv += [key if key.startswith("--") else f"--{key}", str(value)]
    return argv


def fetch_script(job: FakeJob) -> str:
    """The job's script text, read from its ``Command.ScriptLocation`` (s3://bucket/key) in the lab's S3."""
    location = (job.command or {}).get("ScriptLocation", "")
    if not location.startswith("s3://"):
        raise ValueError(f"ScriptLocation must be an s3:// URI, got {location!r}")
    bucket, _, key = location[len("s3://"):].partition("/")
    from moto.s3.models import s3_backends
    from moto.s3.exceptions import MissingBucket, MissingKey

    backend = s3_backends[job.backend.account_id][job.backend.partition]
    try:
        obj = backend.get_object(bucket, key)
    except (MissingBucket, MissingKey):
        obj = None
    if obj is None:
        raise FileNotFoundError(f"the job's script {location} does not exist")
    return obj.value.decode("utf-8")


def _last_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "the script exited with an error and printed nothing"


def run_python_shell(job: FakeJob, run: ExecutedJobRun) -> None:
    """Run a Python shell job's script in a child Python process with the job's arguments.

    The child inherits this process's environment, so boto3 inside the script talks to the lab's endpoint.
    """
    try:
        source = fetch_script(job)
    except (FileNotFoundError, ValueError) as exc:
        finish_run(run, "FAILED", str(exc))
        return
    timeout_min = run.timeout or job.timeout or DEFAULT_TIMEOUT_MINUTES
    with tempfile.TemporaryDirectory(prefix="gluelab-job-") as tmp:
        script = os.path.join(tmp, os.path.basename(job.command["ScriptLocation"]) or "script.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(source)
        try:
            proc = subprocess.run([sys.executable, script, *job_argv(job, run)], cwd=tmp, capture_output=True,
                                  text=True, timeout=timeout_min * SECONDS_PER_TIMEOUT_MINUTE)
        except subprocess.TimeoutExpired as exc:
            _ship_logs(job, run, _text(exc.stdout), _text(exc.stderr))
            finish_run(run, "TIMEOUT", f"Job run timed out after {timeout_min} minute(s) (the job's Timeout).")
            return
    _ship_logs(job, run, proc.stdout, proc.stderr)
    if proc.returncode == 0:
        finish_run(run, "SUCCEEDED")
    else:
        finish_run(run, "FAILED", _last_error_line(proc.stderr))


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _ship_logs(job: FakeJob, run: ExecutedJobRun, stdout: str, stderr: str) -> None:
    """Write the run's stdout and stderr to CloudWatch Logs (``<LogGroupName>/output`` and ``/error``)."""
    from moto.logs.models import logs_backends

    logs = logs_backends[job.backend.account_id][job.backend.region_name]
    now_ms = int(time.time() * 1000)
    for suffix, text in (("output", stdout), ("error", stderr)):
        group = f"{run.log_group}/{suffix}"
        if group not in logs.groups:
            logs.create_log_group(group, tags={})
        if run.job_run_id not in logs.groups[group].streams:
            logs.create_log_stream(group, run.job_run_id)
        lines = text.splitlines() or []
        if lines:
            logs.put_log_events(group, run.job_run_id,
                                [{"timestamp": now_ms, "message": line} for line in lines])


JOB_RUNNERS["pythonshell"] = run_python_shell


# --- Crawlers (start_crawler, stop_crawler, get_crawler_metrics, ...) ---------------------------------------


# --- Schema Registry (register_schema_version compatibility) ------------------------------------------------
