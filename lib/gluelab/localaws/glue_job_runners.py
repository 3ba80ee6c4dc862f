"""The job runners behind ``start_job_run``: a Python shell job in a child Python process, a Spark job
(``glueetl``, ``gluestreaming``) in this process on the lab's SparkSession (:mod:`gluelab.glue.runner` runs the
script). Both fetch the script from the job's ``ScriptLocation`` in the lab's S3, pass Glue's arguments, ship
stdout and stderr to CloudWatch Logs and finish the run (:func:`.glue_jobs.finish_run`).
"""
from __future__ import annotations

import functools
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tokenize

from moto.glue.models import FakeJob
from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import s3_backends

from .. import spark as gluelab_spark
from ..glue import SHIM as GLUE_SHIM
from ..glue import enable as enable_awsglue
from ..glue import runner as script_runner
from ..uris import split_uri
from . import glue_jobs, logship, server
from .glue_jobs import JOB_RUNNERS, ExecutedJobRun, finish_run


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
    try:
        bucket, key = split_uri(location)
    except ValueError:
        raise ValueError(f"ScriptLocation must be an s3:// URI, got {location!r}") from None
    backend = s3_backends[job.backend.account_id][job.backend.partition]
    try:
        obj = backend.get_object(bucket, key)
    except (MissingBucket, MissingKey):
        obj = None
    if obj is None:
        raise FileNotFoundError(f"the job's script {location} does not exist")
    return decode_script(obj.value, location)


def decode_script(data: bytes, location: str) -> str:
    """A script's text, decoded as Python decodes a source file: UTF-8 unless a ``# -*- coding: ... -*-``
    line says otherwise. A script that is not valid text in its encoding fails as Python would fail it, naming
    the script's location (Python itself would name only a temporary file)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown coding declaration, or a first line that is not UTF-8
        head = data.split(b"\n", 2)[:2]
        if any(_CODING_LINE.match(line.decode("latin-1")) for line in head):
            raise ValueError(f"SyntaxError: {exc.msg} in the job's script {location}") from None
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        bad = data[exc.start:exc.start + 1]
        raise ValueError(f"SyntaxError: Non-UTF-8 code starting with {bad!r} in the job's script {location} on "
                         f"line {line}, but no encoding declared (save it as UTF-8)" if encoding == "utf-8" else
                         f"SyntaxError: the job's script {location} is not valid {encoding} text (line {line}): "
                         f"{exc.reason}") from None


def timeout_message(minutes) -> str:
    """The ErrorMessage of a run that reached its Timeout."""
    return f"Job run timed out after {minutes:g} minute(s) (the job's Timeout)."


def exit_message(returncode: int, stderr: str) -> str:
    """A failed Python shell run's ErrorMessage: the script's last error line and its exit code, e.g.
    ``"ValueError: bad rows (exit code 1)"``; ``"Command failed with exit code 3"`` (Glue's words) when it
    printed nothing; a process killed by a signal names the signal."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"Command failed: the script's process was killed by {name} (exit code {returncode})"
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return f"Command failed with exit code {returncode}"
    return f"{lines[-1].strip()} (exit code {returncode})"


def run_python_shell(job: FakeJob, run: ExecutedJobRun) -> None:
    """Run a Python shell job's script in a child Python process with the job's arguments.

    The child inherits this process's environment, so boto3 inside the script talks to the lab's endpoint, and
    can import ``awsglue.utils`` (``getResolvedOptions``) as on AWS.
    The job's Timeout and BatchStopJobRun kill the child (TIMEOUT, STOPPED).
    """
    try:
        source = fetch_script(job)
    except (FileNotFoundError, ValueError) as exc:
        finish_run(run, "FAILED", str(exc))
        return
    timeout_min = run.timeout or job.timeout or glue_jobs.DEFAULT_TIMEOUT_MINUTES
    deadline = time.monotonic() + timeout_min * glue_jobs.SECONDS_PER_TIMEOUT_MINUTE
    with tempfile.TemporaryDirectory(prefix="gluelab-job-") as tmp:
        script = os.path.join(tmp, os.path.basename(job.command["ScriptLocation"]) or "script.py")
        with open(script, "w", encoding="utf-8") as fh:  # re-encoded: a coding line still says latin-1
            if not source.isascii():
                source = _without_coding_line(source)
            fh.write(source)
        # ``from awsglue.utils import getResolvedOptions`` works in a Python shell job on AWS: here too
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(GLUE_SHIM), os.environ.get("PYTHONPATH", "")) if p)}
        proc = subprocess.Popen([sys.executable, script, *job_argv(job, run)], cwd=tmp, text=True, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ended = None
        while True:
            try:
                stdout, stderr = proc.communicate(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if run.stop_requested.is_set():
                    ended = "STOPPED"
                elif time.monotonic() >= deadline:
                    ended = "TIMEOUT"
                else:
                    continue
                proc.kill()
                stdout, stderr = proc.communicate()
                break
    _ship_logs(job, run, _text(stdout), _text(stderr))
    if ended == "TIMEOUT":
        finish_run(run, "TIMEOUT", timeout_message(timeout_min))
    elif ended == "STOPPED":
        finish_run(run, "STOPPED")
    elif proc.returncode == 0:
        finish_run(run, "SUCCEEDED")
    else:
        finish_run(run, "FAILED", exit_message(proc.returncode, _text(stderr)))


_CODING_LINE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")  # PEP 263


def _without_coding_line(source: str) -> str:
    """The text with its PEP 263 coding declaration (first two lines) neutralised: it is written as UTF-8."""
    lines = source.splitlines(True)
    for i in range(min(2, len(lines))):
        if _CODING_LINE.match(lines[i]):
            lines[i] = "#\n"
    return "".join(lines)


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _ship_logs(job: FakeJob, run: ExecutedJobRun, stdout: str, stderr: str) -> None:
    """Write the run's stdout and stderr to CloudWatch Logs (``<LogGroupName>/output`` and ``/error``)."""
    for suffix, text in (("output", stdout), ("error", stderr)):
        logship.ship(job.backend.account_id, job.backend.region_name, f"{run.log_group}/{suffix}",
                     run.job_run_id, text.splitlines())


def run_glue_spark(job: FakeJob, run: ExecutedJobRun) -> None:
    """Spark jobs (``glueetl``, ``gluestreaming``): the script runs in this process on the lab's SparkSession
    (:func:`gluelab.glue.runner.run_script`); ``import awsglue`` works, and with ``--enable-glue-datacatalog``
    the Data Catalog's tables are registered in Spark SQL before the script starts."""
    try:
        source = fetch_script(job)
    except (FileNotFoundError, ValueError) as exc:
        finish_run(run, "FAILED", str(exc))
        return
    location = job.command["ScriptLocation"]
    try:
        _enable_awsglue_once()
        spark = _lab_session(job.backend.region_name)
    except Exception as exc:
        finish_run(run, "FAILED", f"gluelab could not prepare Spark for the job: {type(exc).__name__}: {exc}")
        return
    if not run.set_state("RUNNING"):  # stopped while starting
        finish_run(run, "STOPPED")
        return
    arguments = run.arguments or {}
    setup = None
    if str(arguments.get("--enable-glue-datacatalog", "false")).lower() != "false":
        def setup():
            from ..glue import sqlcatalog

            sqlcatalog.sync(spark)
    timeout_min = run.timeout  # None for a streaming job without a Timeout: it runs until stopped
    timeout_seconds = timeout_min * glue_jobs.SECONDS_PER_TIMEOUT_MINUTE if timeout_min else None
    result = script_runner.run_script(
        source, [os.path.basename(location) or "script.py", *job_argv(job, run)], spark=spark,
        filename=location, group=run.job_run_id, timeout_seconds=timeout_seconds, stop=run.stop_requested,
        on_start=run.restart_clock, setup=setup)
    _ship_logs(job, run, result.stdout, result.stderr)
    error = timeout_message(timeout_min) if result.state == "TIMEOUT" else result.error
    finish_run(run, result.state, error)


run_glue_spark.first_state = "STARTING"

#: ``import awsglue`` made to work once per process (a real installation, if any, is announced once).
_enable_awsglue_once = functools.cache(enable_awsglue)


def _lab_session(region: str):
    """The lab's SparkSession (started on the local endpoint if this process has none yet)."""
    session = gluelab_spark.session(endpoint_url=server.endpoint_url(), region=region)
    if getattr(session, "_sc", None) is None:
        raise RuntimeError("Glue job scripts need a SparkContext, which Spark Connect does not have: run the "
                           "lab with local Spark (no SPARK_MASTER=sc://...)")
    return session


JOB_RUNNERS["pythonshell"] = run_python_shell
JOB_RUNNERS["glueetl"] = run_glue_spark
JOB_RUNNERS["gluestreaming"] = run_glue_spark
