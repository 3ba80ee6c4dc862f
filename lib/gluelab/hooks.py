"""The execution-hook seam: where moto's control plane is made to act.

moto stores AWS state faithfully but runs nothing: a Glue job run is SUCCEEDED the moment it is created and its
script never executes. gluelab patches a few of moto's model methods, all in this module, so that the same boto3
calls a learner makes against AWS really do the work locally. Each hook is registered with :func:`hook`, which
checks that the method it replaces still exists with the arguments it expects: a moto upgrade that moves things
fails loudly at start-up (and in tests/test_hooks_contract.py), never silently.

Hooks installed here:

* ``glue.start_job_run``: runs the job's script. Which runner is chosen by the job's ``Command.Name``
  (``JOB_RUNNERS``): ``pythonshell`` runs the script in a child Python process (this module); ``glueetl``
  and ``gluestreaming`` run it in this process on the lab's SparkSession (``gluelab.glue.runner``); other
  types keep moto's stored state. An executed run is STARTING (Spark jobs) and RUNNING while the script runs,
  then SUCCEEDED, FAILED (ErrorMessage = the exception, as Glue shows it), TIMEOUT (the run's or job's
  Timeout, in minutes, elapsed) or STOPPED (``batch_stop_job_run``, via STOPPING), with real StartedOn,
  CompletedOn and ExecutionTime, plus Attempt, DPUSeconds (DPUs x execution seconds) and the capacity it ran
  with (WorkerType/NumberOfWorkers, or MaxCapacity). A FAILED attempt of a job with MaxRetries starts the
  next attempt, ``<run id>_attempt_<n>`` with PreviousRunId = the attempt before. MaxConcurrentRuns counts
  STARTING, RUNNING, STOPPING and WAITING runs; one more start_job_run raises
  ConcurrentRunsExceededException.
  stdout and stderr go to CloudWatch Logs, as on AWS, in ``/aws-glue/python-jobs/output`` and ``/error``
  (Python shell) or ``/aws-glue/jobs/output`` and ``/error`` (Spark), under a stream named by the run id.
* Job actions moto lacks, answered at moto's Glue dispatch (``GLUE_ACTIONS``): ``batch_stop_job_run``
  (SuccessfulSubmissions / Errors as on AWS), ``get_job_bookmark`` and ``reset_job_bookmark`` (from the
  process's bookmark store, ``gluelab.glue.bookmarks.STORE``; EntityNotFoundException for an unknown job or a
  job without a bookmark; ``delete_job`` deletes the job's bookmark too) and ``update_job`` (replaces the whole
  definition, as AWS does).
* ``glue.register_schema_version`` (and ``create_schema``): the Schema Registry enforces the schema's
  Compatibility (NONE, DISABLED, BACKWARD[_ALL], FORWARD[_ALL], FULL[_ALL]) for AVRO and JSON with the rules of
  ``gluelab.registry``; an incompatible version is stored with Status FAILURE and never becomes the latest.
  Invalid AVRO definitions are refused as on AWS. ``list_schema_versions``, which moto lacks, is answered at
  moto's Glue dispatch (oldest first, paginated with MaxResults/NextToken).
* ``glue.start_crawler`` / ``stop_crawler`` / ``get_crawler`` / ``get_crawler_metrics``: crawlers really crawl
  S3 with ``gluelab.crawler`` (RUNNING -> STOPPING -> READY, LastCrawl SUCCEEDED / FAILED / CANCELLED, messages
  in ``/aws-glue/crawlers``); get_crawler_metrics, which moto lacks, is answered at moto's Glue dispatch.
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

from moto.glue.exceptions import ConcurrentRunsExceededException  # noqa: E402
from moto.glue.models import FakeJob, FakeJobRun  # noqa: E402

from .cost import WORKER_DPU  # noqa: E402
# ACTIVE: a run holds one of the job's MaxConcurrentRuns slots and can still be stopped; FINAL: never changes again
from .waiting import ACTIVE_JOB_RUN_STATES, FINAL_JOB_RUN_STATES  # noqa: E402

#: Job runners by ``Command.Name``: ``runner(job, run) -> None`` executes the run and must finish it with
#: :func:`finish_run`. A runner may set ``first_state`` (default ``"RUNNING"``): the state a run shows before
#: the runner moves it on (``glueetl`` starts in ``"STARTING"`` while Spark comes up).
JOB_RUNNERS: dict[str, Callable[[FakeJob, "ExecutedJobRun"], None]] = {}

#: Default Glue job Timeout, in minutes, when the job sets none (AWS's default is 2,880 = 48 hours).
DEFAULT_TIMEOUT_MINUTES = 2880
#: Seconds in one minute of a job's Timeout (tests shrink it to check timeouts without waiting minutes).
SECONDS_PER_TIMEOUT_MINUTE = 60
#: Capacity of a Spark job that names neither WorkerType/NumberOfWorkers nor MaxCapacity (the console's
#: default).
DEFAULT_SPARK_WORKERS = ("G.1X", 10)
#: Capacity of a Python shell job that names no MaxCapacity.
DEFAULT_PYTHON_SHELL_CAPACITY = 0.0625

_start_lock = threading.Lock()  # MaxConcurrentRuns: the count and the new run must be one step


class ExecutedJobRun(FakeJobRun):
    """A job run whose state comes from a real execution instead of moto's state machine.

    Besides moto's fields it keeps: ``job`` and ``runner`` (what executes it), ``attempt`` (0 for the run
    StartJobRun made, n for its n-th retry), ``stop_requested`` (an Event runners watch: BatchStopJobRun sets
    it), ``next_attempt`` (the retry a FAILED attempt started, if any) and the exact execution time behind
    ExecutionTime and DPUSeconds.
    """

    def _start_execution(self, state: str = "RUNNING") -> None:
        self._state_lock = threading.RLock()
        self.stop_requested = threading.Event()
        self.next_attempt = None
        self.started_on = datetime.now(timezone.utc)
        self.completed_on = None
        self.error_message = None
        self.execution_seconds = 0
        self.execution_exact = 0.0
        # ExecutionTime counts from here for a run that starts RUNNING; a STARTING run's clock starts with
        # restart_clock() when its script does
        self._t0 = time.monotonic() if state == "RUNNING" else None
        self._exec_status = state  # not through the property: this also runs before the class is switched

    @property
    def status(self):  # moto's ManagedState would advance to SUCCEEDED on its own; ours does not.
        return self._exec_status

    @status.setter
    def status(self, value):
        self._exec_status = value

    def set_state(self, state: str) -> bool:
        """Move an active run to ``state`` (e.g. STARTING -> RUNNING); False, and no change, once a stop was
        requested or the run has finished."""
        with self._state_lock:
            if self.stop_requested.is_set() or self.status in FINAL_JOB_RUN_STATES:
                return False
            self.status = state
            return True

    def restart_clock(self) -> None:
        """Start measuring ExecutionTime from now (a runner calls it when the script itself starts: start-up
        and waiting for a turn are not execution, as on AWS where start-up time is not billed)."""
        self._t0 = time.monotonic()

    def request_stop(self) -> bool:
        """BatchStopJobRun: an active run goes STOPPING and its runner is told to stop; False if it is not
        active any more."""
        with self._state_lock:
            if self.status not in ACTIVE_JOB_RUN_STATES:
                return False
            self.status = "STOPPING"
            self.stop_requested.set()
            return True

    @property
    def dpus(self) -> float | None:
        """The DPUs this run holds: workers x DPUs per worker, else MaxCapacity."""
        if self.worker_type in WORKER_DPU and self.number_of_workers:
            return WORKER_DPU[self.worker_type] * self.number_of_workers
        return float(self.max_capacity) if self.max_capacity else None

    def as_dict(self):
        d = super().as_dict()
        finished = self.completed_on is not None
        d["Attempt"] = self.attempt
        d["ExecutionTime"] = self.execution_seconds if finished else (
            0 if self._t0 is None else int(time.monotonic() - self._t0))
        d["StartedOn"] = self.started_on
        d["LastModifiedOn"] = self.modified_on
        d["JobRunState"] = self.status
        if finished:
            d["CompletedOn"] = self.completed_on
            if self.dpus is not None:
                d["DPUSeconds"] = round(self.dpus * self.execution_exact, 3)
        else:
            d.pop("CompletedOn", None)
        if self.error_message:
            d["ErrorMessage"] = self.error_message
        d["LogGroupName"] = self.log_group
        d["GlueVersion"] = self.glue_version
        d["ExecutionClass"] = self.execution_class
        return {k: v for k, v in d.items() if v is not None}


def _prepare_run(job: FakeJob, run: FakeJobRun, runner, attempt: int) -> ExecutedJobRun:
    """Turn moto's stored run into an executed one: log group, Glue version, capacity and Timeout as AWS fills
    them in, first state."""
    command = (job.command or {}).get("Name", "")
    run.attempt = attempt
    run.job = job
    run.runner = runner
    run.log_group = "/aws-glue/python-jobs" if command == "pythonshell" else "/aws-glue/jobs"
    run.glue_version = job.glue_version or ("3.0" if command == "pythonshell" else "4.0")
    run.execution_class = job.execution_class or "STANDARD"
    if command == "pythonshell":
        run.worker_type, run.number_of_workers = None, None
        run.max_capacity = run.max_capacity or DEFAULT_PYTHON_SHELL_CAPACITY
    elif not (run.worker_type and run.number_of_workers) and not run.max_capacity:
        run.worker_type, run.number_of_workers = DEFAULT_SPARK_WORKERS
    if command != "pythonshell" and run.worker_type in WORKER_DPU and run.number_of_workers:
        run.max_capacity = WORKER_DPU[run.worker_type] * run.number_of_workers
        run.allocated_capacity = int(run.max_capacity)
    if command != "gluestreaming":  # streaming jobs run until stopped unless a Timeout is set
        run.timeout = run.timeout or job.timeout or DEFAULT_TIMEOUT_MINUTES
    ExecutedJobRun._start_execution(run, getattr(runner, "first_state", "RUNNING"))
    run.__class__ = ExecutedJobRun  # last: another request may read the run at any moment
    return run


def finish_run(run: ExecutedJobRun, state: str, error: str | None = None) -> None:
    """Record the end of an executed run: state, ErrorMessage, CompletedOn and ExecutionTime (whole seconds).

    A FAILED attempt of a job with MaxRetries left starts the next attempt first (so a poller that sees
    FAILED finds the retry already there): Id ``<first run id>_attempt_<n>``, Attempt n, PreviousRunId = the
    attempt that failed.
    """
    with run._state_lock:
        if state == "FAILED":
            run.next_attempt = _retry(run)
        run.error_message = error
        run.completed_on = datetime.now(timezone.utc)
        run.modified_on = run.completed_on
        run.execution_exact = 0.0 if run._t0 is None else max(0.0, time.monotonic() - run._t0)
        run.execution_seconds = round(run.execution_exact)
        run.status = state


def _retry(failed: ExecutedJobRun) -> ExecutedJobRun | None:
    job = getattr(failed, "job", None)
    if job is None or failed.attempt >= (job.max_retries or 0) or job.backend.jobs.get(job.name) is not job:
        return None
    runner = JOB_RUNNERS.get((job.command or {}).get("Name", ""))
    if runner is None:
        return None
    retry = FakeJobRun(job_name=job.name, job_run_id=failed.job_run_id, arguments=failed.arguments,
                       allocated_capacity=failed.allocated_capacity, max_capacity=failed.max_capacity,
                       timeout=failed.timeout, worker_type=failed.worker_type,
                       notification_property=failed.notification_property,
                       security_configuration=failed.security_configuration,
                       number_of_workers=failed.number_of_workers)
    first_id = failed.job_run_id.split("_attempt_")[0]
    retry.job_run_id = f"{first_id}_attempt_{failed.attempt + 1}"
    _prepare_run(job, retry, runner, failed.attempt + 1)
    job.job_runs.append(retry)
    return retry


@hook(FakeJob, "start_job_run", ("allocated_capacity", "max_capacity", "timeout", "worker_type",
                                 "number_of_workers", "previous_run_id", "arguments"))
def _start_job_run(original, job: FakeJob, *args, **kwargs):
    runner = JOB_RUNNERS.get((job.command or {}).get("Name", ""))
    with _start_lock:
        if runner is not None:  # executed runs are STOPPING or WAITING too, which moto does not count
            limit = max(1, int((job.execution_property or {}).get("MaxConcurrentRuns", 1) or 1))
            if sum(r.status in ACTIVE_JOB_RUN_STATES for r in job.job_runs) >= limit:
                raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {job.name}")
        run_id = original(job, *args, **kwargs)
        if runner is None:
            return run_id  # a job type gluelab does not execute (yet): moto's stored state only
        run = _prepare_run(job, next(r for r in job.job_runs if r.job_run_id == run_id), runner, 0)
    threading.Thread(target=_run_guarded, args=(job, run), daemon=True,
                     name=f"gluelab-jobrun-{run_id[:12]}").start()
    return run_id


def _run_guarded(job: FakeJob, run: ExecutedJobRun | None) -> None:
    """Run an attempt, then each retry it starts; every attempt ends in a final state whatever happens."""
    while run is not None:
        try:
            run.runner(job, run)
        except Exception as exc:  # the runner itself broke: the run must still end, with the reason
            finish_run(run, "FAILED", f"gluelab could not run the job: {type(exc).__name__}: {exc}")
        if run.status not in FINAL_JOB_RUN_STATES:
            finish_run(run, "FAILED", "gluelab could not run the job: the runner ended without a final state")
        run = run.next_attempt


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


def timeout_message(minutes) -> str:
    """The ErrorMessage of a run that reached its Timeout."""
    return f"Job run timed out after {minutes:g} minute(s) (the job's Timeout)."


def _last_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "the script exited with an error and printed nothing"


def run_python_shell(job: FakeJob, run: ExecutedJobRun) -> None:
    """Run a Python shell job's script in a child Python process with the job's arguments.

    The child inherits this process's environment, so boto3 inside the script talks to the lab's endpoint.
    The job's Timeout and BatchStopJobRun kill the child (TIMEOUT, STOPPED).
    """
    try:
        source = fetch_script(job)
    except (FileNotFoundError, ValueError) as exc:
        finish_run(run, "FAILED", str(exc))
        return
    timeout_min = run.timeout or job.timeout or DEFAULT_TIMEOUT_MINUTES
    deadline = time.monotonic() + timeout_min * SECONDS_PER_TIMEOUT_MINUTE
    with tempfile.TemporaryDirectory(prefix="gluelab-job-") as tmp:
        script = os.path.join(tmp, os.path.basename(job.command["ScriptLocation"]) or "script.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(source)
        proc = subprocess.Popen([sys.executable, script, *job_argv(job, run)], cwd=tmp, text=True,
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
        finish_run(run, "FAILED", _last_error_line(stderr))


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


def _run_glue_spark(job: FakeJob, run: ExecutedJobRun) -> None:
    """Spark jobs (``glueetl``, ``gluestreaming``) run in this process: see :mod:`gluelab.glue.runner`."""
    from .glue import runner

    runner.run_glue_job(job, run)


_run_glue_spark.first_state = "STARTING"

JOB_RUNNERS["pythonshell"] = run_python_shell
JOB_RUNNERS["glueetl"] = _run_glue_spark
JOB_RUNNERS["gluestreaming"] = _run_glue_spark


# --- Crawlers (start_crawler, stop_crawler, get_crawler_metrics, ...) ---------------------------------------

# Crawlers, as AWS runs them: start_crawler crawls S3 in a background thread with gluelab's crawler
# (gluelab.crawler) on moto's own backends; the crawler is RUNNING, then STOPPING, then READY, and
# LastCrawl says SUCCEEDED, FAILED (with ErrorMessage) or CANCELLED (stop_crawler). Messages go to CloudWatch
# Logs, group /aws-glue/crawlers, stream = the crawler's name, each prefixed by the crawl's id.
# get_crawler_metrics, which moto lacks, is answered at moto's Glue dispatch.

import json  # noqa: E402

from moto.glue import exceptions as _glue_exc  # noqa: E402
from moto.glue.models import FakeCrawl, FakeCrawler  # noqa: E402
from moto.glue.responses import GlueResponse  # noqa: E402

CRAWLER_LOG_GROUP = "/aws-glue/crawlers"
#: Seconds a finished crawl stays STOPPING before READY (AWS takes a while to wrap up; tests may set 0).
CRAWLER_STOPPING_SECONDS = 0.2
_LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "STOPPED": "CANCELLED"}


class ExecutedCrawl(FakeCrawl):
    """A crawl whose state comes from a real crawl instead of moto's state machine."""

    @property
    def status(self):
        return self._exec_status

    @status.setter
    def status(self, value):
        self._exec_status = value

    def advance(self) -> None:  # moto's list_crawls advances its simulated crawls; ours move on their own
        pass

    def as_dict(self):
        d = super().as_dict()
        d["State"] = {"STOPPING": "RUNNING"}.get(self.status, self.status)
        if self.error_message:
            d["ErrorMessage"] = self.error_message
        d["Summary"] = json.dumps(self.summary) if self.summary else ""
        return d


def _crawler_state(crawler: FakeCrawler) -> dict:
    """gluelab's per-crawler memory: incremental-crawl state and the figures get_crawler_metrics reports."""
    state = crawler.__dict__.get("_gluelab")
    if state is None:
        from .crawler import CrawlState

        state = crawler.__dict__["_gluelab"] = {"crawl_state": CrawlState(), "runtimes": [], "last": None}
    return state


@hook(FakeCrawler, "start_crawler", ())
def _start_crawler(original, crawler: FakeCrawler):
    if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
        raise _glue_exc.CrawlerRunningException(f"Crawler with name {crawler.name} has already started")
    original(crawler)
    crawl = crawler.crawls[-1]
    crawl.__class__ = ExecutedCrawl
    crawl.status = "RUNNING"
    crawl.error_message = None
    crawl.summary = None
    crawl.cancel = threading.Event()
    crawl.started_monotonic = time.monotonic()
    crawl.start_time = datetime.now(timezone.utc)
    threading.Thread(target=_run_crawl, args=(crawler, crawl), daemon=True,
                     name=f"gluelab-crawl-{crawler.name[:20]}").start()


@hook(FakeCrawler, "stop_crawler", ())
def _stop_crawler(original, crawler: FakeCrawler):
    crawl = crawler.crawls[-1] if crawler.crawls else None
    if isinstance(crawl, ExecutedCrawl) and crawl.status == "STOPPING":
        raise _glue_exc.GlueClientError("CrawlerStoppingException", f"Crawler with name {crawler.name} is stopping")
    original(crawler)  # raises CrawlerNotRunningException unless RUNNING; sets STOPPING
    if isinstance(crawl, ExecutedCrawl):
        crawl.cancel.set()


@hook(FakeCrawler, "as_dict", ())
def _crawler_as_dict(original, crawler: FakeCrawler):
    d = original(crawler)
    finished = [c for c in crawler.crawls if c.status in _LAST_CRAWL_STATUS]
    if finished:
        last = finished[-1]
        d["LastCrawl"] = {"Status": _LAST_CRAWL_STATUS[last.status], "LogGroup": last.log_group,
                          "LogStream": last.log_stream, "MessagePrefix": last.message_prefix,
                          "StartTime": last.start_time}
        if getattr(last, "error_message", None):
            d["LastCrawl"]["ErrorMessage"] = last.error_message
    else:
        d.pop("LastCrawl", None)
    running = crawler.crawls[-1] if crawler.crawls else None
    if isinstance(running, ExecutedCrawl) and running.status in ("RUNNING", "STOPPING"):
        d["CrawlElapsedTime"] = int((time.monotonic() - running.started_monotonic) * 1000)
    else:
        d["CrawlElapsedTime"] = 0
    return d


def _crawl_logger(crawler: FakeCrawler, crawl: ExecutedCrawl):
    from moto.logs.models import logs_backends

    logs = logs_backends[crawler.backend.account_id][crawler.backend.region_name]
    if CRAWLER_LOG_GROUP not in logs.groups:
        logs.create_log_group(CRAWLER_LOG_GROUP, tags={})
    if crawler.name not in logs.groups[CRAWLER_LOG_GROUP].streams:
        logs.create_log_stream(CRAWLER_LOG_GROUP, crawler.name)

    def log(level: str, message: str) -> None:
        logs.put_log_events(CRAWLER_LOG_GROUP, crawler.name, [
            {"timestamp": int(time.time() * 1000), "message": f"[{crawl.message_prefix}] {level} : {message}"}])
    return log


def _run_crawl(crawler: FakeCrawler, crawl: ExecutedCrawl) -> None:
    from .crawler import CrawlCancelled, CrawlerSpec, MotoCatalog, MotoStorage, engine

    state = _crawler_state(crawler)
    log = _crawl_logger(crawler, crawl)
    log("BENCHMARK", f"Running Start Crawl for Crawler {crawler.name}")
    status, error, result = "COMPLETED", None, None
    try:
        spec = CrawlerSpec.from_crawler({**crawler.as_dict(), "Configuration": crawler.configuration})
        backend = crawler.backend
        result = engine.crawl(spec, MotoStorage(backend.account_id, backend.partition), MotoCatalog(backend),
                              state["crawl_state"], cancelled=crawl.cancel.is_set,
                              log=lambda message: log("INFO", message))
    except CrawlCancelled as exc:
        status = "STOPPED"
        log("INFO", str(exc))
    except Exception as exc:  # the crawl failed: LastCrawl FAILED with the reason, as on AWS
        status, error = "FAILED", (str(exc) or type(exc).__name__)
        log("ERROR", error)
    runtime = time.monotonic() - crawl.started_monotonic
    if status == "COMPLETED" and result is not None:
        state["runtimes"].append(runtime)
        state["last"] = result
        crawl.summary = {"TablesCreated": result.tables_created, "TablesUpdated": result.tables_updated,
                         "TablesDeleted": result.tables_deleted, "PartitionsCreated": result.partitions_created}
    crawl.error_message = error
    crawl.dpu_hour = round(runtime / 3600 * 2, 6)
    crawl.status = "STOPPING"
    time.sleep(CRAWLER_STOPPING_SECONDS)
    crawl.end_time = datetime.now(timezone.utc)
    crawl.status = status
    crawler.crawl_elapsed_time = 0
    log("BENCHMARK", f"Crawler has finished running and is in state READY")


def crawler_metrics(crawler: FakeCrawler) -> dict:
    """One CrawlerMetrics entry as GetCrawlerMetrics returns it."""
    import statistics

    state = _crawler_state(crawler)
    runtimes, last = state["runtimes"], state["last"]
    current = crawler.crawls[-1] if crawler.crawls else None
    running = isinstance(current, ExecutedCrawl) and current.status in ("RUNNING", "STOPPING")
    median = statistics.median(runtimes) if runtimes else 0.0
    left = max(0.0, median - (time.monotonic() - current.started_monotonic)) if running and runtimes else 0.0
    return {"CrawlerName": crawler.name, "TimeLeftSeconds": round(left, 3),
            "StillEstimating": bool(running and not runtimes),
            "LastRuntimeSeconds": round(runtimes[-1], 3) if runtimes else 0.0,
            "MedianRuntimeSeconds": round(median, 3),
            "TablesCreated": last.tables_created if last else 0,
            "TablesUpdated": last.tables_updated if last else 0,
            "TablesDeleted": last.tables_deleted if last else 0}


#: Glue actions moto lacks that gluelab answers at moto's dispatch: action (snake_case) -> fn(response).
GLUE_ACTIONS: dict[str, Callable] = {}


def _get_crawler_metrics(response: GlueResponse) -> dict:
    params = json.loads(response.body or "{}")
    backend = response.glue_backend
    names = params.get("CrawlerNameList") or list(backend.crawlers)
    metrics = [crawler_metrics(backend.get_crawler(n)) for n in names]
    return {"CrawlerMetricsList": metrics}


GLUE_ACTIONS["get_crawler_metrics"] = _get_crawler_metrics

#: update_crawler's optional fields -> FakeCrawler attributes. As on AWS, only the fields a request names change.
_CRAWLER_UPDATABLE = {"Role": "role", "DatabaseName": "database_name", "Description": "description",
                      "Targets": "targets", "Schedule": "schedule", "Classifiers": "classifiers",
                      "TablePrefix": "table_prefix", "SchemaChangePolicy": "schema_change_policy",
                      "RecrawlPolicy": "recrawl_policy", "LineageConfiguration": "lineage_configuration",
                      "Configuration": "configuration",
                      "CrawlerSecurityConfiguration": "crawler_security_configuration"}


def _update_crawler(response: GlueResponse) -> dict:
    """UpdateCrawler (moto has none): change the named fields of an existing crawler, refused while it runs.
    The crawler keeps its crawl history and incremental-crawl state; its Version goes up by one."""
    params = json.loads(response.body or "{}")
    try:
        crawler = response.glue_backend.get_crawler(params.get("Name"))
    except _glue_exc.CrawlerNotFoundException as exc:  # UpdateCrawler's error shape is EntityNotFoundException
        raise _glue_exc.EntityNotFoundException(f"Crawler {params.get('Name')} not found.") from None
    if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
        raise _glue_exc.CrawlerRunningException(f"Crawler with name {crawler.name} is running; "
                                                "update it when it is READY")
    for field, attribute in _CRAWLER_UPDATABLE.items():
        if field in params:
            setattr(crawler, attribute, params[field])
    crawler.version += 1
    crawler.last_updated = datetime.now(timezone.utc)
    return {}


GLUE_ACTIONS["update_crawler"] = _update_crawler


@hook(GlueResponse, "call_action", ())
def _glue_call_action(original, response: GlueResponse):
    from moto.core.responses import ActionResult
    from moto.core.utils import camelcase_to_underscores

    handler = GLUE_ACTIONS.get(camelcase_to_underscores(response._get_action()))
    if handler is None:
        return original(response)
    try:
        status, headers, body = response.serialized(ActionResult(handler(response)))
    except _glue_exc.GlueClientError as exc:  # an HTTPException: answered as moto answers its own Glue errors
        error_headers = dict(exc.get_headers() or [])
        error_headers["status"] = exc.code
        status, headers, body = response._transform_response(response.response_headers,
                                                              (exc.description, error_headers))
    headers, body = response._enrich_response(headers, body)
    return status, headers, body



# --- Schema Registry (register_schema_version compatibility) ------------------------------------------------

from moto.glue.exceptions import InvalidSchemaDefinitionException  # noqa: E402
from moto.glue.glue_schema_registry_utils import (  # noqa: E402
    get_schema_version_if_definition_exists, validate_schema_id)
from moto.glue.models import GlueBackend  # noqa: E402

from . import registry as _registry  # noqa: E402


def _validate_definition(data_format: str, definition: str) -> None:
    try:
        _registry.validate(data_format, definition)
    except _registry.InvalidDefinition as exc:
        raise InvalidSchemaDefinitionException(data_format, exc) from None


@hook(GlueBackend, "create_schema", ("registry_id", "schema_name", "data_format", "compatibility",
                                     "schema_definition"))
def _create_schema(original, backend, registry_id, schema_name, data_format, compatibility, schema_definition,
                   *args, **kwargs):
    """The first version has nothing to be compatible with; it must still be a valid schema (AVRO is parsed)."""
    _validate_definition(data_format, schema_definition)
    return original(backend, registry_id, schema_name, data_format, compatibility, schema_definition,
                    *args, **kwargs)


@hook(GlueBackend, "register_schema_version", ("schema_id", "schema_definition"))
def _register_schema_version(original, backend, schema_id, schema_definition):
    """Check a new version against the schema's Compatibility (gluelab.registry.check). An incompatible version
    is kept with Status FAILURE (as AWS does); LatestSchemaVersion stays on the newest AVAILABLE version."""
    registry_name, schema_name, _ = validate_schema_id(schema_id, backend.registries)
    schema = backend.registries[registry_name].schemas[schema_name]
    if schema.compatibility == "DISABLED":
        return original(backend, schema_id, schema_definition)  # moto refuses it, with AWS's error
    _validate_definition(schema.data_format, schema_definition)
    versions = list(schema.schema_versions.values())
    if get_schema_version_if_definition_exists(versions, schema.data_format, schema_definition):
        return original(backend, schema_id, schema_definition)  # an existing version is returned as it is
    available = [(v.version_number, v.schema_definition) for v in versions if v.schema_version_status == "AVAILABLE"]
    problems = _registry.check(schema.data_format, schema.compatibility, schema_definition, available)
    result = original(backend, schema_id, schema_definition)
    if problems:
        version = schema.schema_versions[result["SchemaVersionId"]]
        version.schema_version_status = "FAILURE"
        version.gluelab_failure_reasons = problems  # AWS's API does not expose a reason; registry.explain does
        result["Status"] = "FAILURE"
    schema.latest_schema_version = max(v.version_number for v in schema.schema_versions.values()
                                       if v.schema_version_status == "AVAILABLE")
    return result


def _list_schema_versions(response: GlueResponse) -> dict:
    """ListSchemaVersions (moto has none): every version of a schema, FAILURE ones included, oldest first, as
    ``{"SchemaArn", "SchemaVersionId", "VersionNumber", "Status", "CreatedTime"}``; ``MaxResults`` (1-100,
    default 100) and ``NextToken`` page through them."""
    params = json.loads(response.body or "{}")
    backend = response.glue_backend
    registry_name, schema_name, _ = validate_schema_id(params.get("SchemaId") or {}, backend.registries)
    versions = sorted(backend.registries[registry_name].schemas[schema_name].schema_versions.values(),
                      key=lambda v: v.version_number)
    limit = int(params.get("MaxResults") or 100)
    if not 1 <= limit <= 100:
        raise _glue_exc.InvalidInputException("ListSchemaVersions", "MaxResults must be between 1 and 100")
    token = params.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = versions[start:start + limit]
    result = {"Schemas": [{"SchemaArn": v.schema_arn, "SchemaVersionId": v.schema_version_id,
                           "VersionNumber": v.version_number, "Status": v.schema_version_status,
                           "CreatedTime": str(v.created_time)} for v in page]}
    if start + limit < len(versions):
        result["NextToken"] = str(start + limit)
    return result


GLUE_ACTIONS["list_schema_versions"] = _list_schema_versions


# --- Job actions moto lacks (batch_stop_job_run, get/reset_job_bookmark, update_job) -----------------------

def _batch_stop_job_run(response: GlueResponse) -> dict:
    """BatchStopJobRun (moto has none): each named run that is still active goes STOPPING, its runner stops
    the script and the run ends STOPPED. Runs that cannot be stopped are listed in ``Errors``, as AWS does."""
    params = json.loads(response.body or "{}")
    name = params.get("JobName")
    job = response.glue_backend.jobs.get(name)
    submitted, errors = [], []

    def error(run_id: str, code: str, message: str) -> None:
        errors.append({"JobName": name, "JobRunId": run_id,
                       "ErrorDetail": {"ErrorCode": code, "ErrorMessage": message}})

    for run_id in params.get("JobRunIds") or []:
        run = next((r for r in job.job_runs if r.job_run_id == run_id), None) if job else None
        if job is None:
            error(run_id, "EntityNotFoundException", f"Job {name} not found.")
        elif run is None:
            error(run_id, "EntityNotFoundException", f"Job run {run_id} not found.")
        elif not isinstance(run, ExecutedJobRun):  # a job type gluelab does not execute: only its state moves
            if run.status in ("STARTING", "RUNNING"):
                run.status = "STOPPED"  # moto's state machine has no transition out of STOPPED
                run.completed_on = run.modified_on = datetime.now(timezone.utc)
                submitted.append({"JobName": name, "JobRunId": run_id})
            else:
                error(run_id, "InvalidInputException", "Job Run cannot be stopped in current state.")
        elif run.request_stop() or run.status == "STOPPING":
            submitted.append({"JobName": name, "JobRunId": run_id})
        else:
            error(run_id, "InvalidInputException", "Job Run cannot be stopped in current state.")
    return {"SuccessfulSubmissions": submitted, "Errors": errors}


GLUE_ACTIONS["batch_stop_job_run"] = _batch_stop_job_run


def bookmark_store():
    """The process's job-bookmark store (``gluelab.glue.bookmarks.STORE``), or None if it is missing."""
    import importlib

    try:
        return importlib.import_module("gluelab.glue.bookmarks").STORE
    except (ImportError, AttributeError):
        return None


def _bookmark_job(response: GlueResponse) -> tuple[str, dict]:
    params = json.loads(response.body or "{}")
    name = params.get("JobName")
    response.glue_backend.get_job(name)  # EntityNotFoundException "Job <name> not found." as on AWS
    return name, params


def _get_job_bookmark(response: GlueResponse) -> dict:
    """GetJobBookmark (moto has none): the job's JobBookmarkEntry from the bookmark store; a job that has
    never committed a bookmark has none (EntityNotFoundException, as on AWS)."""
    name, _ = _bookmark_job(response)
    store = bookmark_store()
    if store is None or not store.has(name):
        raise _glue_exc.EntityNotFoundException(f"Continuation for job {name} not found")
    return {"JobBookmarkEntry": store.entry(name)}


def _reset_job_bookmark(response: GlueResponse) -> dict:
    """ResetJobBookmark (moto has none): forget what the job has processed (or go back to the state after
    ``RunId``); the next bookmark-enabled run processes everything again."""
    name, params = _bookmark_job(response)
    store = bookmark_store()
    if store is None:
        raise _glue_exc.EntityNotFoundException(f"Continuation for job {name} not found")
    try:
        return {"JobBookmarkEntry": store.reset(name, params.get("RunId"))}
    except KeyError as exc:  # a RunId that is not a committed run of this job
        raise _glue_exc.EntityNotFoundException(str(exc.args[0]) if exc.args else str(exc)) from None


@hook(GlueBackend, "delete_job", ("name",))
def _delete_job(original, backend: GlueBackend, name: str):
    """DeleteJob: as on AWS, the job's bookmark is deleted with it (a job re-created with the same name starts
    with none)."""
    original(backend, name)
    store = bookmark_store()
    if store is not None:
        store.forget(name)


GLUE_ACTIONS["get_job_bookmark"] = _get_job_bookmark
GLUE_ACTIONS["reset_job_bookmark"] = _reset_job_bookmark

#: JobUpdate's fields -> FakeJob attributes, with the value a field takes when the update leaves it out.
_JOB_UPDATABLE = {"Description": ("description", None), "LogUri": ("log_uri", None), "Role": ("role", None),
                  "ExecutionProperty": ("execution_property", {}), "Command": ("command", None),
                  "DefaultArguments": ("default_arguments", {}),
                  "NonOverridableArguments": ("non_overridable_arguments", None),
                  "Connections": ("connections", None), "MaxRetries": ("max_retries", None),
                  "AllocatedCapacity": ("allocated_capacity", None), "Timeout": ("timeout", None),
                  "MaxCapacity": ("max_capacity", None), "WorkerType": ("worker_type", None),
                  "NumberOfWorkers": ("number_of_workers", None),
                  "SecurityConfiguration": ("security_configuration", None),
                  "NotificationProperty": ("notification_property", None),
                  "GlueVersion": ("glue_version", None),
                  "CodeGenConfigurationNodes": ("code_gen_configuration_nodes", None),
                  "ExecutionClass": ("execution_class", "STANDARD"),
                  "SourceControlDetails": ("source_control_details", None)}


def _update_job(response: GlueResponse) -> dict:
    """UpdateJob (moto has none). As on AWS the job definition is replaced as a whole: fields the JobUpdate
    leaves out go back to their defaults (so send the full definition, e.g. get_job's with one change). Runs
    already started keep the arguments they started with."""
    params = json.loads(response.body or "{}")
    name = params.get("JobName")
    job = response.glue_backend.get_job(name)  # EntityNotFoundException "Job <name> not found."
    update = params.get("JobUpdate") or {}
    if not update.get("Role"):
        raise _glue_exc.InvalidInputException(
            "UpdateJob", "JobUpdate.Role is required: UpdateJob replaces the whole job definition")
    if not (update.get("Command") or {}).get("Name"):
        raise _glue_exc.InvalidInputException(
            "UpdateJob", "JobUpdate.Command is required: UpdateJob replaces the whole job definition")
    for key, (attribute, default) in _JOB_UPDATABLE.items():
        setattr(job, attribute, update.get(key, default))
    job.last_modified_on = datetime.now(timezone.utc)
    return {"JobName": name}


GLUE_ACTIONS["update_job"] = _update_job
