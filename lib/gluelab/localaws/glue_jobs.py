"""AWS Glue job runs: ``start_job_run`` really runs the job's script, with Glue's states, retries and limits.

What moto lacks and this module answers: an executed run (:class:`ExecutedJobRun`) instead of moto's state
machine that says SUCCEEDED at once; ``batch_stop_job_run`` and ``update_job`` (at moto's Glue dispatch). Which
runner executes a run is chosen by the job's ``Command.Name`` (:data:`JOB_RUNNERS`, filled by
:mod:`.glue_job_runners`); other job types keep moto's stored state.

A run is STARTING (Spark jobs) or RUNNING while its script runs, then SUCCEEDED, FAILED (ErrorMessage as Glue
shows it), TIMEOUT (the run's or job's Timeout, in minutes) or STOPPED (``batch_stop_job_run``, via STOPPING),
with real StartedOn, CompletedOn and ExecutionTime, Attempt, DPUSeconds and the capacity it ran with. A FAILED
attempt of a job with MaxRetries starts ``<run id>_attempt_<n>`` with PreviousRunId the attempt before.
MaxConcurrentRuns counts STARTING, RUNNING, STOPPING and WAITING runs. Every finished attempt emits
``"Glue Job State Change"`` (:mod:`.signals`), as AWS emits it to EventBridge.

Teardown deletes the lab's jobs; the guard checks ``JobName`` (and ``SessionId`` of interactive sessions).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Callable

from moto.glue import exceptions as glue_exceptions
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob, FakeJobRun
from moto.glue.responses import GlueResponse

from ..cost import WORKER_DPU
# ACTIVE: a run holds one of the job's MaxConcurrentRuns slots and can still be stopped; FINAL: never changes again
from ..waiting import ACTIVE_JOB_RUN_STATES, FINAL_JOB_RUN_STATES
from . import dispatch, signals
from .hooks import hook
from .service import Owned, Service, glue_tags, paged

SERVICE = Service(
    "glue", guarded=("JobName", "SessionId"),
    operations=("CreateJob", "UpdateJob", "DeleteJob", "StartJobRun", "BatchStopJobRun"),
    owned=(Owned("job", paged("get_jobs", "Jobs"), lambda glue, name: glue.delete_job(JobName=name),
                 tags=glue_tags("job")),))

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
    signals.emit(signals.JOB_STATE_CHANGE, {
        "jobName": run.job_name, "severity": _SEVERITY.get(state, "ERROR"), "state": state,
        "jobRunId": run.job_run_id, "message": error or _MESSAGES.get(state, f"Job run {state.lower()}")},
        resource=run)


#: The severity and message of AWS's "Glue Job State Change" event, by the run's final state (a failed run's
#: message is its error).
_SEVERITY = {"SUCCEEDED": "INFO", "STOPPED": "INFO", "TIMEOUT": "WARN", "FAILED": "ERROR", "ERROR": "ERROR"}
_MESSAGES = {"SUCCEEDED": "Job run succeeded", "STOPPED": "Job run stopped", "TIMEOUT": "Job run timed out",
             "FAILED": "Job run failed", "ERROR": "Job run failed"}


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




# --- actions moto lacks: batch_stop_job_run, update_job ----------------------------------------------------

@dispatch.action(GlueResponse, "batch_stop_job_run")
def _batch_stop_job_run(response: GlueResponse) -> dict:
    """BatchStopJobRun (moto has none): each named run that is still active goes STOPPING, its runner stops
    the script and the run ends STOPPED. Runs that cannot be stopped are listed in ``Errors``, as AWS does."""
    params = dispatch.params(response)
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


@dispatch.action(GlueResponse, "update_job")
def _update_job(response: GlueResponse) -> dict:
    """UpdateJob (moto has none). As on AWS the job definition is replaced as a whole: fields the JobUpdate
    leaves out go back to their defaults (so send the full definition, e.g. get_job's with one change). Runs
    already started keep the arguments they started with."""
    params = dispatch.params(response)
    name = params.get("JobName")
    job = response.glue_backend.get_job(name)  # EntityNotFoundException "Job <name> not found."
    update = params.get("JobUpdate") or {}
    if not update.get("Role"):
        raise glue_exceptions.InvalidInputException(
            "UpdateJob", "JobUpdate.Role is required: UpdateJob replaces the whole job definition")
    if not (update.get("Command") or {}).get("Name"):
        raise glue_exceptions.InvalidInputException(
            "UpdateJob", "JobUpdate.Command is required: UpdateJob replaces the whole job definition")
    for key, (attribute, default) in _JOB_UPDATABLE.items():
        setattr(job, attribute, update.get(key, default))
    job.last_modified_on = datetime.now(timezone.utc)
    return {"JobName": name}

