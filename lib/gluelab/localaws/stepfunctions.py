"""AWS Step Functions: moto's interpreter runs the state machines (the local endpoint switches it on); this module
makes its executions behave as AWS's. Task integrations (Glue, Lambda, the AWS SDK) are in
:mod:`.stepfunctions_tasks`.

What it adds to moto's interpreter:

* CreateStateMachine and UpdateStateMachine refuse a Task ``Resource`` AWS does not recognise, with AWS's
  ``InvalidDefinition`` message (``SCHEMA_VALIDATION_FAILED: The resource provided ... is not recognized ... at
  /States/<state>/Resource``): an action AWS offers no optimized integration for (``glue:startCrawler``: AWS
  reaches it only as ``aws-sdk:glue:startCrawler``), an integration pattern the action does not support
  (``glue:startJobRun.waitForTaskToken``, any ``aws-sdk:...sync``), an SDK action the service does not have;
* an execution started without a name is named with a UUID, as AWS names it;
* DescribeExecution, GetExecutionHistory (``maxResults``, ``nextToken``, ``reverseOrder``,
  ``includeExecutionData``) and StopExecution (``error``, ``cause``; the execution is ABORTED at once) answer in
  AWS's shapes; once an execution is aborted its history ends with ``ExecutionAborted``, and an aborted or
  timed-out execution stays so;
* every status change (RUNNING, then SUCCEEDED, FAILED, TIMED_OUT or ABORTED) emits ``"Step Functions Execution
  Status Change"`` (:mod:`.signals`, source ``aws.states``) with the detail AWS sends to EventBridge.

Time: Wait states and Retry intervals never sleep, and an execution's history still shows every wait. Each execution
has its own timeline. It starts at the endpoint's time (the wall clock every local service stamps its resources
with: Glue job runs, crawls, S3 objects) when StartExecution is called and runs with it, ahead by the seconds its
waits have passed: ``Wait`` (``Seconds``, ``SecondsPath``, ``Timestamp``, ``TimestampPath``, a timestamp measured
against the timeline) and each ``Retry`` interval (``IntervalSeconds`` x ``BackoffRate`` per attempt, capped by
``MaxDelaySeconds``, drawn at random below it with ``JitterStrategy: FULL``) move the timeline forward at once. So a
history reads as on AWS (``WaitStateExited`` = ``WaitStateEntered`` + ``Seconds``; a retried task's attempts spaced
by their intervals; ``stopDate`` after every wait) while the lesson does not wait. Work that really takes time (a
Glue job run, a Lambda handler) takes it for real, and the timeline shows it. While work the execution started is
still running for real (a job run, crawl or workflow run started by ``glue:startJobRun`` or
``aws-sdk:glue:startJobRun``/``startCrawler``/``startWorkflowRun``), a wait first lets real time pass, until a piece
of that work ends or the wait's seconds are over: a poll loop (Wait, GetCrawler, Choice) then sees the work end
after as many waits as on AWS instead of spinning, and never waits longer than the work takes. Each Parallel branch
and Map iteration passes its waits on its own timeline, forked from its state's; the state continues from the latest
of them, so a Map with ``MaxConcurrency: 1`` shows its iterations' waits one after the other and parallel ones
overlap. A state machine's ``TimeoutSeconds`` counts on the timeline: a Wait that would pass it ends the execution
TIMED_OUT at the deadline.

The lab's clock (``lab.clock``) is a separate thing: it moves only when a lesson advances it, and it decides
when schedules fire (crawlers, triggers, EventBridge schedules). An execution such a schedule starts begins at
the endpoint's time of that moment; an execution's waits never move ``lab.clock``, and advancing ``lab.clock``
does not shorten a running execution's wait (there is nothing left to shorten: the wait passed at once).
Choosing the endpoint's time (rather than lab time) keeps an execution's timestamps consistent with the Glue
job runs it starts, which the endpoint stamps with its own time.

The prefix guard checks ``stateMachineArn``, ``roleArn``, ``resourceArn`` and the state machine of an
``executionArn``; teardown deletes the lab's state machines, found by name (the last part of the ARN).
"""
from __future__ import annotations

import copy
import functools
import json
import logging
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import botocore.session
from jsonpath_ng.ext import parse as _parse_json_path
from moto.core.responses import ActionResult
from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import InvalidToken
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType, ServiceException
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringLiteral
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped, ProgramTimedOut
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.parser.backend.execution import SyncExecution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from . import dispatch, signals
from .hooks import hook
from .service import Owned, Service, paged, tag_list

SERVICE = Service(
    "stepfunctions", guarded=("stateMachineArn", "roleArn", "executionArn", "resourceArn"),
    operations=("CreateStateMachine", "UpdateStateMachine", "DeleteStateMachine", "StartExecution",
                "StartSyncExecution", "StopExecution", "TagResource", "UntagResource"),
    owned=(Owned("state machine", paged("list_state_machines", "stateMachines", "stateMachineArn"),
                 lambda client, arn: client.delete_state_machine(stateMachineArn=arn),
                 name_of=lambda arn: arn.rsplit(":", 1)[-1],
                 tags=lambda client, arn, _account: tag_list(
                     client.list_tags_for_resource(resourceArn=arn)["tags"], "key", "value")),))

#: The EventBridge detail type of an execution's status change (source ``aws.states``).
STATUS_CHANGE = "Step Functions Execution Status Change"

#: GetExecutionHistory's page size when the request names none, and the largest it accepts.
HISTORY_PAGE = 100
HISTORY_PAGE_MAX = 1000

_log = logging.getLogger("gluelab.localaws")
_TIMELINE = "_gluelab_timeline"


def aws_error(message: str, code: str) -> AWSError:
    """An error the client receives with its code (the interpreter's own errors carry their code where moto's
    serializer does not look, and reach the client with an empty one)."""
    return AWSError(message, exception_type=code)


def _with_error_codes(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ServiceException as exc:
        code = type(exc).__dict__.get("code") or next(
            (c.__dict__["code"] for c in type(exc).__mro__ if isinstance(c.__dict__.get("code"), str)), "")
        if exc.error_type or not code:
            raise
        raise aws_error(exc.message, code) from None


# --- time: each execution's timeline ----------------------------------------------------------------------------

class InFlight:
    """Work an execution started that runs for real (Glue job runs, crawls): while some of it is still going, a
    wait lets real time pass, until a piece of it ends or the wait's seconds are over, whichever comes first.
    So a poll loop (Wait, then GetCrawler or GetJobRun, then a Choice) sees the work end after as many waits as
    on AWS, instead of spinning. Each piece is a ``done()`` callable (True once it has ended)."""
    #: Notified whenever gluelab work ends (a "Glue Job State Change", a "Glue Crawler State Change") or an
    #: execution is stopped.
    changed = threading.Condition()
    #: Longest real wait between two checks of the work (its end usually wakes the wait at once).
    CHECK_SECONDS = 1.0

    def __init__(self):
        self._pending: list = []
        self._lock = threading.Lock()

    def add(self, done) -> None:
        with self._lock:
            self._pending.append(done)

    def _still_running(self) -> int:
        with self._lock:
            pending = list(self._pending)
        running = []
        for done in pending:
            try:
                if not done():
                    running.append(done)
            except Exception:  # the work cannot be read any more (deleted): nothing to wait for
                pass
        with self._lock:
            self._pending = [d for d in self._pending if d in running or d not in pending]
            return len(self._pending)

    def let_run(self, seconds: float, running) -> float:
        """Let up to ``seconds`` of real time pass while the work goes on (and ``running()``); return the real
        seconds that passed."""
        started = time.monotonic()
        at_start = self._still_running()
        while at_start:
            seen = InFlight.generation
            left = seconds - (time.monotonic() - started)
            if left <= 0 or not running() or self._still_running() < at_start:
                break
            InFlight.wait_after(seen, min(left, InFlight.CHECK_SECONDS))
        return time.monotonic() - started

    #: How many times gluelab work has ended (or an execution was stopped): a waiter reads it before it checks
    #: the work, so an end between its check and its wait still wakes it.
    generation = 0

    @classmethod
    def notify(cls, *_args, **_kwargs) -> None:
        with cls.changed:
            cls.generation += 1
            cls.changed.notify_all()

    @classmethod
    def wait_after(cls, seen: int, timeout: float) -> None:
        """Wait until something ended after ``seen`` was read (at most ``timeout`` seconds)."""
        with cls.changed:
            cls.changed.wait_for(lambda: cls.generation != seen, timeout=timeout)


signals.subscribe(signals.JOB_STATE_CHANGE, InFlight.notify)
signals.subscribe(signals.CRAWLER_STATE_CHANGE, InFlight.notify)


class Timeline:
    """An execution's time (or one Parallel branch's or Map iteration's): the endpoint's time plus the seconds
    its waits have passed (``ahead``). ``root`` is the execution's environment; ``deadline`` the moment its
    ``TimeoutSeconds`` ends it (None: no timeout); ``work`` what it started that runs for real (shared by the
    execution's branches)."""

    def __init__(self, root: Environment, ahead: float = 0.0, deadline: datetime | None = None,
                 work: InFlight | None = None):
        self.root = root
        self.ahead = ahead
        self.deadline = deadline
        self.work = work or InFlight()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.ahead)

    def pass_seconds(self, seconds: float) -> None:
        """Move forward by ``seconds``: at once, or, while work the execution started runs, after the real time
        it takes to end (at most ``seconds``); a wait that would pass the execution's deadline stops at it and
        times the execution out."""
        if seconds <= 0:
            return
        seconds -= self.work.let_run(seconds, self.root.is_running)  # real time passed already counts
        with self._lock:
            if self.deadline is not None and self.now() + timedelta(seconds=seconds) >= self.deadline:
                self.ahead += max(0.0, (self.deadline - self.now()).total_seconds())
                late = True
            else:
                self.ahead += seconds
                late = False
        if late:
            root_timeline = timeline_of(self.root)
            if root_timeline is not None and root_timeline is not self:
                root_timeline.catch_up(self)
            self.root.set_timed_out()

    def fork(self) -> "Timeline":
        return Timeline(self.root, self.ahead, self.deadline, self.work)

    def catch_up(self, other: "Timeline") -> None:
        """Continue from the later of this timeline and ``other`` (a branch that has joined)."""
        with self._lock:
            self.ahead = max(self.ahead, other.ahead)


def aws_time(moment: datetime) -> str:
    """A moment as the context object writes it (``$$.Execution.StartTime``): ``2024-01-01T12:00:00.123Z``."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _EnteredTime:
    """Stands in for the ``datetime`` module inside moto's State: ``$$.State.EnteredTime`` is the moment of the
    state's ...StateEntered event on the timeline, written as AWS writes it."""
    timezone = timezone
    moment = threading.local()

    class datetime:
        @staticmethod
        def now(tz=None):
            moment = getattr(_EnteredTime.moment, "value", None)
            _EnteredTime.moment.value = None
            return _AwsMoment(moment or datetime.now(tz or timezone.utc))


class _AwsMoment:
    def __init__(self, moment: datetime):
        self.moment = moment

    def isoformat(self) -> str:
        return aws_time(self.moment)


state_module.datetime = _EnteredTime


def timeline_of(env) -> Timeline | None:
    """The timeline of an interpreter environment (an execution or one of its frames), if it has one."""
    return getattr(env, _TIMELINE, None)


def _attach(env: Environment, timeline: Timeline) -> None:
    setattr(env, _TIMELINE, timeline)
    setattr(env.event_history_context, _TIMELINE, timeline)


_environments = threading.Condition()  # an execution's environment exists (StopExecution may need it at once)


@hook(ExecutionWorker, "_get_evaluation_environment", ())
def _new_environment(original, worker: ExecutionWorker) -> Environment:
    env = original(worker)
    started = worker._evaluation_details.execution_details.start_time
    env.states.context_object.context_object_data["Execution"]["StartTime"] = aws_time(started)
    timeline = Timeline(env, ahead=(started - datetime.now(timezone.utc)).total_seconds())
    _attach(env, timeline)
    setattr(env.event_manager, _TIMELINE, timeline)
    with _environments:
        worker.env = env
        _environments.notify_all()
    return env


def _environment(execution: ParserExecution, timeout: float = 30.0) -> Environment | None:
    """The execution's environment, once its worker has made it."""
    worker = execution.exec_worker
    if worker is None:
        return None
    with _environments:
        _environments.wait_for(lambda: worker.env is not None, timeout=timeout)
    return worker.env


@hook(EventManager, "add_event", ("context", "event_type", "event_details", "timestamp", "update_source_event_id"))
def _add_event(original, manager, context, event_type, event_details=None, timestamp=None,
               update_source_event_id=True):
    timeline = timeline_of(context) or timeline_of(manager)
    if timeline is not None:
        if isinstance(timeline.root.program_state(), ProgramStopped) \
                and event_type != HistoryEventType.ExecutionAborted:
            return context.last_published_event_id  # an aborted execution's history ends with ExecutionAborted
        timestamp = timestamp or timeline.now()
        if str(event_type).endswith("StateEntered"):
            _EnteredTime.moment.value = timestamp  # the state's $$.State.EnteredTime, read right after
    if event_details:
        event_details = {key: _as_aws_writes(value) if isinstance(value, dict) else value
                         for key, value in event_details.items()}
    return original(manager, context, event_type, event_details, timestamp, update_source_event_id)


_JSON_FIELDS = ("input", "output", "parameters")


def _as_aws_writes(details: dict) -> dict:
    """An event's details as AWS writes them: no null fields; input, output and parameters as compact JSON."""
    out = {}
    for key, value in details.items():
        if value is None:
            continue
        if key in _JSON_FIELDS and isinstance(value, str):
            try:
                value = output_json(json.loads(value))
            except ValueError:
                pass
        out[key] = value
    return out


@hook(Environment, "open_frame", ("event_history_context",))
def _open_frame(original, env, event_history_context=None):
    frame = original(env, event_history_context)
    if timeline_of(env) is not None:
        _attach(frame, timeline_of(env).fork())
    return frame


@hook(Environment, "open_inner_frame", ("event_history_context",))
def _open_inner_frame(original, env, event_history_context=None):
    frame = original(env, event_history_context)
    if timeline_of(env) is not None:
        _attach(frame, timeline_of(env).fork())
    return frame


@hook(Environment, "close_frame", ("frame",))
def _close_frame(original, env, frame):
    original(env, frame)
    if timeline_of(env) is not None and timeline_of(frame) is not None:
        timeline_of(env).catch_up(timeline_of(frame))


@hook(Environment, "delete_frame", ("frame",))
def _delete_frame(original, env, frame):
    original(env, frame)
    if timeline_of(env) is not None and timeline_of(frame) is not None:
        timeline_of(env).catch_up(timeline_of(frame))


@hook(Environment, "set_error", ("error",))
def _set_error(original, env, error):
    if isinstance(env.program_state(), (ProgramStopped, ProgramTimedOut)):
        return  # a task that fails after StopExecution or the execution's timeout does not make it FAILED
    original(env, error)


@hook(Program, "eval", ("env",))
def _program(original, program, env):
    timeline = timeline_of(env)
    if timeline is not None and not env.is_frame() and program.timeout_seconds is not None:
        timeline.deadline = timeline.now() + timedelta(seconds=program.timeout_seconds.timeout_seconds)
    return original(program, env)


@hook(WaitFunction, "_wait_interval", ("env", "wait_seconds"))
def _wait(original, function, env, wait_seconds):
    timeline = timeline_of(env)
    if timeline is None:
        return original(function, env, wait_seconds)
    if env.is_running():
        timeline.pass_seconds(wait_seconds)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text) -> datetime | None:
    """A Wait state's ``Timestamp``: RFC 3339 with an uppercase T and Z or a numeric offset (None if not)."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@hook(Timestamp, "__init__", ("string",))
def _timestamp(original, function, string):
    """A literal ``Timestamp`` with a numeric offset (``2024-01-01T09:00:00+01:00``) is valid, as on AWS."""
    try:
        original(function, string)
    except ValueError:
        if not (isinstance(string, StringLiteral) and parse_timestamp(string.literal_value)):
            raise
        function.string = string


@hook(Timestamp, "_get_wait_seconds", ("env",))
def _seconds_until(original, function, env):
    timeline = timeline_of(env)
    if timeline is None:
        return original(function, env)
    function.string.eval(env=env)
    text = env.stack.pop()
    moment = parse_timestamp(text)
    if moment is None:
        raise FailureEventException(function._create_failure_event(env, text))
    return max(0.0, (moment - timeline.now()).total_seconds())


class _RetryTime:
    """Stands in for the ``time`` module inside moto's retrier: a retry interval passes on the timeline of the
    environment retrying (real ``time.sleep`` for an environment without one)."""
    local = threading.local()

    @classmethod
    def sleep(cls, seconds: float) -> None:
        timeline = timeline_of(getattr(cls.local, "env", None))
        if timeline is None:
            time.sleep(seconds)
        else:
            timeline.pass_seconds(seconds)


retrier_decl.time = _RetryTime


@hook(RetrierDecl, "_eval_body", ("env",))
def _retry(original, retrier, env):
    previous, _RetryTime.local.env = getattr(_RetryTime.local, "env", None), env
    try:
        return original(retrier, env)
    finally:
        _RetryTime.local.env = previous


# --- JSONPath as AWS reads it ----------------------------------------------------------------------------------

_INDEFINITE = re.compile(r"\.\.|\.\*|\[[^\]]*[*?:,][^\]]*\]")


def extract_json(path: str, data):
    """A JSONPath's value as AWS reads it: a definite path (``$.Records[0].s3.bucket.name``) gives the value, an
    indefinite one (a wildcard, filter, slice, union or ``..``) the list of values, empty when nothing matches.
    (moto's reader wraps the value of any field reached through an array index in a list.)"""
    matches = _parse_json_path(path).find(data)
    if _INDEFINITE.search(path):
        return [match.value for match in matches]
    if not matches:
        raise json_path.NoSuchJsonPathError(json_path=path, data=data)
    return matches[0].value


_original_extract_json = json_path.extract_json


def _read_json_paths_as_aws() -> None:
    """Point every interpreter module that imported moto's JSONPath reader at :func:`extract_json`."""
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) \
                is _original_extract_json:
            module.extract_json = extract_json


_read_json_paths_as_aws()

# The interpreter logs every task error at ERROR level with its own internals; AWS shows errors in the
# execution's history, and so does the local endpoint.
logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


# --- executions: names, status changes, AWS's shapes --------------------------------------------------------

def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def output_json(value) -> str:
    """An execution's output as AWS writes it: compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _status(execution) -> str:
    status = execution.exec_status
    return status.value if isinstance(status, ExecutionStatus) else str(status)


def _redrive(status: str) -> dict:
    if status in ("RUNNING", "SUCCEEDED"):
        return {"redriveStatus": "NOT_REDRIVABLE",
                "redriveStatusReason": f"Execution is {status} and cannot be redriven"}
    return {"redriveStatus": "REDRIVABLE"}


def describe(execution: ParserExecution) -> dict:
    """DescribeExecution's answer, as AWS gives it."""
    status = _status(execution)
    out = {"executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
           "name": execution.name, "status": status, "startDate": execution.start_date,
           "input": execution.execution_input, "inputDetails": {"included": True}}
    if status != "RUNNING" and execution.stop_date is not None:
        out["stopDate"] = execution.stop_date
    if status == "SUCCEEDED":
        out["output"] = output_json(execution.output)
        out["outputDetails"] = {"included": True}
    if execution.trace_header:
        out["traceHeader"] = execution.trace_header
    if execution.error is not None:
        out["error"] = execution.error
    if execution.cause is not None:
        out["cause"] = execution.cause
    out["redriveCount"] = 0
    out.update(_redrive(status))
    return out


def status_change_detail(execution: ParserExecution, status: str | None = None) -> dict:
    """The ``detail`` of AWS's "Step Functions Execution Status Change" event for the execution as it is now
    (or as it was when its status was ``status``: ``"RUNNING"`` for an execution that has already ended)."""
    status = status or _status(execution)
    succeeded = status == "SUCCEEDED"
    redrive = _redrive(status)
    return {"executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
            "name": execution.name, "status": status, "startDate": _epoch_ms(execution.start_date),
            "stopDate": None if status == "RUNNING" else _epoch_ms(execution.stop_date),
            "input": execution.execution_input, "output": output_json(execution.output) if succeeded else None,
            "stateMachineVersionArn": None, "stateMachineAliasArn": None, "redriveCount": 0, "redriveDate": None,
            "redriveStatus": redrive["redriveStatus"], "redriveStatusReason": redrive.get("redriveStatusReason"),
            "inputDetails": {"included": True}, "outputDetails": {"included": True} if succeeded else None,
            "error": None if status == "RUNNING" else execution.error,
            "cause": None if status == "RUNNING" else execution.cause}


_announcing = threading.Lock()  # guards the creation of each execution's own lock


def _announce(execution: ParserExecution) -> None:
    """Emit the execution's status changes once per status, RUNNING first (AWS sends these for Standard workflows
    only). The start and the end are announced from different threads, and a short execution may end before its
    start is announced: the execution's lock (held while its listeners run) and the RUNNING-first rule keep its
    events in AWS's order."""
    if isinstance(execution, SyncExecution):
        return
    with _announcing:
        lock = execution.__dict__.setdefault("_gluelab_announce_lock", threading.RLock())
    with lock:
        status = _status(execution)
        announced = execution.__dict__.setdefault("_gluelab_announced", set())
        for change in ("RUNNING", status):
            if change not in announced:
                announced.add(change)
                signals.emit(STATUS_CHANGE, status_change_detail(execution, change), resource=execution)


@hook(StepFunctionsParserBackend, "start_execution", ("state_machine_arn", "name", "execution_input", "trace_header"))
def _start_execution(original, backend, state_machine_arn, name=None, execution_input=None, trace_header=None):
    """StartExecution: a UUID names an execution the caller does not name (moto would name it ``None``)."""
    if name:
        backend._validate_name(name)
    else:
        name = str(uuid.uuid4())
    execution = _with_error_codes(original, backend, state_machine_arn, name, execution_input, trace_header)
    _environment(execution)
    _announce(execution)
    return execution


@hook(BaseExecutionWorkerCommunication, "terminated", ())
def _terminated(original, comm):
    original(comm)
    execution = comm.execution
    stopped = execution.__dict__.get("_gluelab_stopped")
    if stopped is not None:  # StopExecution decided the end already
        execution.exec_status, execution.stop_date = ExecutionStatus.ABORTED, stopped
    else:
        timeline = timeline_of(execution.exec_worker.env)
        if timeline is not None:
            execution.stop_date = timeline.now()
    _announce(execution)


def stop(execution: ParserExecution, error: str | None = None, cause: str | None = None) -> datetime:
    """StopExecution: a running execution is ABORTED now (its history ends with ExecutionAborted once the state
    it is in lets go); returns its stop date."""
    if _status(execution) != "RUNNING":
        return execution.stop_date
    env = _environment(execution)
    timeline = timeline_of(env)
    stop_date = timeline.now() if timeline is not None else datetime.now(timezone.utc)
    execution._gluelab_stopped = stop_date
    execution.exec_worker.stop(stop_date=stop_date, error=error, cause=cause)
    execution.exec_status, execution.stop_date = ExecutionStatus.ABORTED, stop_date
    execution.error, execution.cause = error, cause
    InFlight.notify()
    _announce(execution)
    return stop_date


@hook(StepFunctionResponse, "describe_execution", ())
def _describe_execution(original, response):
    execution = response.stepfunction_backend.describe_execution(response._get_param("executionArn"))
    if not isinstance(execution, ParserExecution):
        return original(response)
    return ActionResult(describe(execution))


@hook(StepFunctionResponse, "stop_execution", ())
def _stop_execution(original, response):
    execution = response.stepfunction_backend.describe_execution(response._get_param("executionArn"))
    if not isinstance(execution, ParserExecution):
        return original(response)
    return ActionResult({"stopDate": stop(execution, response._get_param("error"), response._get_param("cause"))})


@dispatch.action(StepFunctionResponse, "start_sync_execution")
def _start_sync_execution(response) -> dict:
    """StartSyncExecution (moto has none): an Express state machine's execution runs to its end before the call
    answers, with AWS's answer (status SUCCEEDED, FAILED or TIMED_OUT; billing details). Like AWS, nothing keeps
    it: it has no history to read and ListExecutions does not list it; a Standard state machine is refused."""
    params = dispatch.params(response)
    backend = response.stepfunction_backend
    machine = backend.describe_state_machine(params.get("stateMachineArn", ""))
    if machine.type != "EXPRESS":
        raise aws_error("This operation is not supported by this type of state machine",
                        "StateMachineTypeNotSupported")
    name = params.get("name") or str(uuid.uuid4())
    backend._validate_name(name)
    execution_input = params.get("input") or "{}"
    try:
        json.loads(execution_input)
    except ValueError as exc:
        raise aws_error(f"Invalid State Machine Execution Input: '{exc}'", "InvalidExecutionInput") from None
    snapshot = copy.deepcopy(machine, {id(machine.executions): [], id(machine.backend): machine.backend})
    execution = SyncExecution(
        name=name, sm_type=machine.type, role_arn=machine.roleArn,
        exec_arn=f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:express:"
                 f"{machine.name}:{name}:{uuid.uuid4()}",
        account_id=backend.account_id, region_name=backend.region_name, state_machine=snapshot,
        start_date=datetime.now(timezone.utc), cloud_watch_logging_session=None, activity_store={},
        input_data=execution_input, trace_header=params.get("traceHeader"))
    execution.start()  # runs to the end in this thread
    out = {key: value for key, value in execution.to_start_sync_execution_output().items() if value is not None}
    out["input"] = execution_input
    if "output" in out:
        out["output"] = output_json(execution.output)
    billed_ms = (execution.stop_date - execution.start_date).total_seconds() * 1000
    out["billingDetails"] = {"billedMemoryUsedInMB": 64,
                             "billedDurationInMilliseconds": 100 * -(-int(billed_ms) // 100)}
    return out


_EXECUTION_DATA = ("input", "inputDetails", "output", "outputDetails")


@hook(StepFunctionResponse, "get_execution_history", ())
def _get_execution_history(original, response):
    backend = response.stepfunction_backend
    if not isinstance(backend, StepFunctionsParserBackend):
        return original(response)
    events = list(backend.get_execution_history(response._get_param("executionArn"))["events"])
    if response._get_param("reverseOrder"):
        events.reverse()
    token = response._get_param("nextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidToken(f"'{token}'") from None
    size = min(response._get_int_param("maxResults") or HISTORY_PAGE, HISTORY_PAGE_MAX)
    page = events[start:start + size]
    if response._get_param("includeExecutionData") is False:
        page = [{key: {k: v for k, v in value.items() if k not in _EXECUTION_DATA} if key.endswith("EventDetails")
                 else value for key, value in event.items()} for event in page]
    out = {"events": page}
    if start + size < len(events):
        out["nextToken"] = str(start + size)
    return ActionResult(out)


# --- definitions: the Task resources AWS recognises -------------------------------------------------------------

#: AWS's optimized integrations: service -> action -> the integration patterns it supports ("" = Request
#: Response). A service not listed here is left to moto's interpreter.
OPTIMIZED = {
    "lambda": {"invoke": {"", "waitForTaskToken"}},
    "glue": {"startJobRun": {"", "sync"}},
    "sns": {"publish": {"", "waitForTaskToken"}},
    "sqs": {"sendMessage": {"", "waitForTaskToken"}},
    "events": {"putEvents": {"", "waitForTaskToken"}},
    "states": {"startExecution": {"", "sync", "sync:2", "waitForTaskToken"}},
    "dynamodb": {action: {""} for action in ("getItem", "putItem", "updateItem", "deleteItem")},
    "batch": {"submitJob": {"", "sync", "waitForTaskToken"}},
    "ecs": {"runTask": {"", "sync", "waitForTaskToken"}},
}
#: AWS SDK integration service names that are not botocore's.
SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}

_INTEGRATION = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:(?P<service>[^:]+):(?P<rest>.+)$")


def unrecognised(resource: str) -> bool:
    """Whether AWS rejects a Task ``Resource`` as not recognized (False when it is, or is not ours to judge)."""
    match = _INTEGRATION.match(resource)
    if not match or match["service"] in ("activity", "stateMachine"):
        return False
    service, rest = match["service"], match["rest"]
    if service == "aws-sdk":
        sdk_service, _, call = rest.partition(":")
        action, _, pattern = call.partition(".")
        if pattern not in ("", "waitForTaskToken") or not action:
            return True
        operations = _sdk_operations(SDK_SERVICES.get(sdk_service, sdk_service))
        return operations is not None and action[:1].upper() + action[1:] not in operations
    action, _, pattern = rest.partition(".")
    actions = OPTIMIZED.get(service)
    return actions is not None and pattern not in actions.get(action, ())


_botocore = botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    """botocore's model of a service (its boto3 name), or None when botocore does not know it."""
    try:
        return _botocore.get_service_model(service)
    except Exception:
        return None


def _sdk_operations(service: str) -> set[str] | None:
    model = service_model(service)
    return None if model is None else set(model.operation_names)  # unknown to botocore: AWS may know it


def _task_resources(states: dict, path: str):
    for name, state in (states or {}).items():
        if not isinstance(state, dict):
            continue
        where = f"{path}/States/{name}"
        if state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
            yield f"{where}/Resource", state["Resource"]
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                yield from _task_resources(branch.get("States"), f"{where}/Branches/{i}")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _task_resources(state[key].get("States"), f"{where}/{key}")


def check_definition(definition: str | None) -> None:
    """Raise InvalidDefinition, as AWS words it, for every Task resource AWS does not recognise."""
    try:
        document = json.loads(definition or "")
    except ValueError:
        return  # moto's parser reports it
    if not isinstance(document, dict):
        return
    problems = [f"SCHEMA_VALIDATION_FAILED: The resource provided {resource} is not recognized. The value is not a "
                f"valid resource ARN, or the resource is not available in this region. at {where}"
                for where, resource in _task_resources(document.get("States"), "") if unrecognised(resource)]
    if problems:
        raise aws_error(f"Invalid State Machine Definition: '{', '.join(problems)}'", "InvalidDefinition")


@hook(StepFunctionsParserBackend, "create_state_machine", ("name", "definition", "roleArn"))
def _create_state_machine(original, backend, *args, **kwargs):
    check_definition(kwargs["definition"] if "definition" in kwargs else args[1])
    return _with_error_codes(original, backend, *args, **kwargs)


@hook(StepFunctionsParserBackend, "update_state_machine", ("arn", "definition"))
def _update_state_machine(original, backend, *args, **kwargs):
    check_definition(kwargs.get("definition") if "definition" in kwargs else (args[1] if len(args) > 1 else None))
    return _with_error_codes(original, backend, *args, **kwargs)
