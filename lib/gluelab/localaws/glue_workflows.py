"""AWS Glue workflows: ``start_workflow_run`` really walks the graph.

moto stores workflows and their runs and runs nothing (a run stays RUNNING forever, IncludeGraph returns no
graph). Here a run fires the workflow's start trigger (ON_DEMAND, or SCHEDULED when started on demand), then,
each time one of *its* job runs or crawls ends, every activated CONDITIONAL trigger of the workflow whose
predicate now holds for this run (:func:`.glue_triggers.holds`), once per run: fan-out, fan-in, failure
branches. Jobs it starts receive ``--WORKFLOW_NAME`` and ``--WORKFLOW_RUN_ID``, so their scripts read and write
the run's properties (``get/put_workflow_run_properties``).

A run is RUNNING while an action runs or can still start, then COMPLETED (its Statistics say how the actions
ended: a failed job does not fail the run), STOPPED after ``stop_workflow_run`` (via STOPPING), or ERROR when it
cannot start at all. ``get_workflow`` and ``get_workflow_run(s)`` return the graph with ``IncludeGraph``: nodes
(triggers, jobs, crawlers, each with a stable ``UniqueId``) and edges, each job and crawler node with the runs of
that workflow run. ``resume_workflow_run`` restarts the given nodes and everything downstream of them in a new
run (``PreviousRunId``) that keeps the results of the rest. ``MaxConcurrentRuns`` is honoured. A workflow whose
start trigger is of Type EVENT is started by the events an EventBridge rule delivers to it (see "EVENT triggers"
below).

Teardown deletes the lab's triggers first (a trigger names the jobs and crawlers it starts), then its
workflows; the guard checks ``WorkflowName`` and ``TriggerName``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from moto.glue import exceptions as glue_exceptions
from moto.glue.models import FakeWorkflowRun, GlueBackend, glue_backends
from moto.glue.responses import GlueResponse

from ..waiting import FINAL_JOB_RUN_STATES
from . import delivery, dispatch, scheduler, signals
from .glue_triggers import CRAWL_STATES, holds, start_action, watched
from .hooks import hook
from .service import Owned, Service, glue_tags, paged

SERVICE = Service(
    "glue", guarded=("WorkflowName", "TriggerName"),
    operations=("CreateWorkflow", "UpdateWorkflow", "DeleteWorkflow", "StartWorkflowRun", "StopWorkflowRun",
                "ResumeWorkflowRun", "PutWorkflowRunProperties", "CreateTrigger", "UpdateTrigger", "DeleteTrigger",
                "StartTrigger", "StopTrigger"),
    owned=(
        Owned("trigger", paged("get_triggers", "Triggers"), lambda glue, name: glue.delete_trigger(Name=name),
              tags=glue_tags("trigger")),
        Owned("workflow", lambda glue: glue.list_workflows().get("Workflows", []),
              lambda glue, name: glue.delete_workflow(Name=name), tags=glue_tags("workflow")),
    ))

_log = logging.getLogger("gluelab.localaws")

#: Statistics counters by the final state of an action (a job run's state, a crawl's CrawlState).
_COUNTERS = {"SUCCEEDED": "SucceededActions", "FAILED": "FailedActions", "TIMEOUT": "TimeoutActions",
             "STOPPED": "StoppedActions", "CANCELLED": "StoppedActions", "ERROR": "ErroredActions"}


def node_id(workflow: str, kind: str, name: str) -> str:
    """A node's ``UniqueId``: stable for the same workflow, type and name (as AWS keeps it across runs)."""
    return "wnode_" + hashlib.sha256(f"{workflow}|{kind}|{name}".encode()).hexdigest()[:40]


@dataclass
class Action:
    """One action of a workflow run: a job run (its attempts) or a crawl, and how it ended (None: running)."""
    kind: str                    # "JOB" or "CRAWLER"
    name: str
    runs: list = field(default_factory=list)   # ExecutedJobRun attempts, or the FakeCrawl
    state: str | None = None     # SUCCEEDED, FAILED, TIMEOUT, STOPPED, CANCELLED, ERROR
    error: str | None = None     # why an action could not start
    inherited: bool = False      # copied from the run a resumed run resumes (not run again)


class ExecutedWorkflowRun(FakeWorkflowRun):
    """A workflow run whose state comes from its actions instead of staying RUNNING."""

    def _start_execution(self, backend: GlueBackend) -> None:
        self.backend = backend
        self.lock = threading.RLock()
        self.actions: list[Action] = []
        self.fired: set[str] = set()
        self.error_message: str | None = None

    def state_of(self, kind: str, name: str) -> str | None:
        """The final state of the last action of this run on ``(kind, name)``, None if none ended."""
        for action in reversed(self.actions):
            if action.kind == kind and action.name == name:
                return action.state
        return None

    def statistics(self) -> dict:
        own = [a for a in self.actions if not a.inherited]
        stats = dict.fromkeys(("TotalActions", "TimeoutActions", "FailedActions", "StoppedActions",
                               "SucceededActions", "RunningActions", "ErroredActions", "WaitingActions"), 0)
        stats["TotalActions"] = len(own)
        for action in own:
            stats[_COUNTERS.get(action.state, "RunningActions")] += 1
        return stats

    def as_dict(self, graph: bool = False) -> dict:
        d = super().as_dict()
        d["Statistics"] = self.statistics()
        if self.error_message:
            d["ErrorMessage"] = self.error_message
        if graph:
            d["Graph"] = build_graph(self.backend, self.workflow_name, self)
        return d


# --- the graph -------------------------------------------------------------------------------------------------

def _triggers(backend: GlueBackend, workflow: str) -> list:
    return sorted((t for t in backend.triggers.values() if t.workflow_name == workflow), key=lambda t: t.name)


def build_graph(backend: GlueBackend, workflow: str, run: ExecutedWorkflowRun | None = None) -> dict:
    """Nodes and edges as AWS returns them: trigger -> each action's job or crawler, each watched job or
    crawler -> the conditional trigger watching it; with ``run``, each node's runs in that workflow run."""
    nodes: dict[tuple[str, str], dict] = {}
    edges: list[dict] = []

    def node(kind: str, name: str) -> dict:
        key = (kind, name)
        if key not in nodes:
            nodes[key] = {"Type": kind, "Name": name, "UniqueId": node_id(workflow, kind, name)}
        return nodes[key]

    for trigger in _triggers(backend, workflow):
        t = node("TRIGGER", trigger.name)
        t["TriggerDetails"] = {"Trigger": trigger.as_dict()}
        for kind, name in sorted(watched(trigger.predicate)):
            edges.append({"SourceId": node(kind, name)["UniqueId"], "DestinationId": t["UniqueId"]})
        for action in trigger.actions:
            kind, name = ("JOB", action.job_name) if action.job_name else ("CRAWLER", action.crawler_name)
            edges.append({"SourceId": t["UniqueId"], "DestinationId": node(kind, name)["UniqueId"]})
    for (kind, name), n in nodes.items():
        mine = [a for a in run.actions if (a.kind, a.name) == (kind, name)] if run is not None else []
        if kind == "JOB":
            n["JobDetails"] = {"JobRuns": [r.as_dict() for a in mine for r in a.runs]} if mine else {}
        elif kind == "CRAWLER":
            n["CrawlerDetails"] = {"Crawls": [_crawl_dict(a) for a in mine]} if mine else {}
    unique = []
    for e in edges:
        if e not in unique:
            unique.append(e)
    return {"Nodes": list(nodes.values()), "Edges": unique}


def _crawl_dict(action: Action) -> dict:
    if not action.runs:
        return {"State": action.state or "ERROR", "ErrorMessage": action.error or ""}
    crawl = action.runs[-1]
    d = {"State": CRAWL_STATES.get(crawl.status, "RUNNING"), "StartedOn": crawl.start_time,
         "LogGroup": crawl.log_group, "LogStream": crawl.log_stream}
    if getattr(crawl, "end_time", None) is not None and crawl.status in CRAWL_STATES:
        d["CompletedOn"] = crawl.end_time
    if getattr(crawl, "error_message", None):
        d["ErrorMessage"] = crawl.error_message
    return d


def _downstream(backend: GlueBackend, workflow: str, starts: set[tuple[str, str]]) -> tuple[set, set]:
    """The jobs and crawlers reachable from ``starts`` (included) and the triggers on the way."""
    triggers = _triggers(backend, workflow)
    reached, fired = set(starts), set()
    changed = True
    while changed:
        changed = False
        for trigger in triggers:
            if trigger.name in fired or not (watched(trigger.predicate) & reached):
                continue
            fired.add(trigger.name)
            for action in trigger.actions:
                reached.add(("JOB", action.job_name) if action.job_name else ("CRAWLER", action.crawler_name))
            changed = True
    return reached, fired


# --- running -----------------------------------------------------------------------------------------------------

def _start(run: ExecutedWorkflowRun, actions, trigger=None) -> None:
    """Start ``actions`` (a trigger's) for ``run``; an action that cannot start counts as errored."""
    extra = {"--WORKFLOW_NAME": run.workflow_name, "--WORKFLOW_RUN_ID": run.run_id}
    for spec in actions:
        kind, name = ("JOB", spec.job_name) if spec.job_name else ("CRAWLER", spec.crawler_name)
        action = Action(kind, name)
        run.actions.append(action)
        try:
            _, _, started = start_action(run.backend, spec, extra, owner=run)
        except glue_exceptions.GlueClientError as exc:
            action.state, action.error = "ERROR", str(exc)
            continue
        action.runs.append(started)


def _advance(run: ExecutedWorkflowRun) -> None:
    """After an action ended: fire what now holds, and finish the run when nothing runs or can start."""
    with run.lock:
        if run.status == "RUNNING":
            for trigger in _triggers(run.backend, run.workflow_name):
                if (trigger.trigger_type == "CONDITIONAL" and trigger.state == "ACTIVATED"
                        and trigger.name not in run.fired and holds(trigger.predicate, run.state_of)):
                    run.fired.add(trigger.name)
                    _start(run, trigger.actions, trigger)
        if any(a.state is None for a in run.actions):
            return
        if run.status in ("RUNNING", "STOPPING"):
            run.status = "COMPLETED" if run.status == "RUNNING" else "STOPPED"
            run.completed_on = datetime.now(timezone.utc)


def _run_of(backend: GlueBackend, workflow: str | None, run_id: str | None) -> ExecutedWorkflowRun | None:
    wf = backend.workflows.get(workflow or "")
    run = wf.runs.get(run_id or "") if wf else None
    return run if isinstance(run, ExecutedWorkflowRun) else None


def _job_ended(detail: dict, resource=None) -> None:
    arguments = getattr(resource, "arguments", None) or {}
    run = _run_of(resource.job.backend, arguments.get("--WORKFLOW_NAME"), arguments.get("--WORKFLOW_RUN_ID")) \
        if resource is not None and hasattr(resource, "job") else None
    if run is None:
        return
    with run.lock:
        action = next((a for a in run.actions if a.kind == "JOB" and resource in a.runs), None)
        if action is None:
            return
        if resource.next_attempt is not None:   # a retry started: the action goes on
            action.runs.append(resource.next_attempt)
            return
        action.state = detail["state"] if detail["state"] in FINAL_JOB_RUN_STATES else "FAILED"
    _advance(run)


def _crawl_ended(detail: dict, resource=None) -> None:
    if detail.get("state") == "Started":
        return
    crawl = resource.crawls[-1] if resource is not None and resource.crawls else None
    run = getattr(crawl, "owner", None)
    if not isinstance(run, ExecutedWorkflowRun):
        return
    with run.lock:
        action = next((a for a in run.actions if a.kind == "CRAWLER" and crawl in a.runs), None)
        if action is None:
            return
        action.state = CRAWL_STATES.get(crawl.status, "FAILED")
    _advance(run)


signals.subscribe(signals.JOB_STATE_CHANGE, _job_ended)
signals.subscribe(signals.CRAWLER_STATE_CHANGE, _crawl_ended)


def _new_run(backend: GlueBackend, workflow, run: FakeWorkflowRun) -> ExecutedWorkflowRun:
    ExecutedWorkflowRun._start_execution(run, backend)
    run.__class__ = ExecutedWorkflowRun
    return run


def _illegal_state(message: str) -> Exception:
    """AWS's IllegalWorkflowStateException (moto's class of that name answers with another error code)."""
    return glue_exceptions.GlueClientError("IllegalWorkflowStateException", message)


def _check_capacity(workflow) -> None:
    limit = workflow.max_concurrent_runs
    active = sum(r.status in ("RUNNING", "STOPPING") for r in workflow.runs.values())
    if limit and active >= int(limit):
        raise glue_exceptions.ConcurrentRunsExceededException(
            f"Concurrent runs exceeded for workflow: {workflow.name}")


@hook(GlueBackend, "start_workflow_run", ("workflow_name", "properties"))
def _start_workflow_run(original, backend: GlueBackend, workflow_name: str, properties):
    """StartWorkflowRun: fire the workflow's start trigger (its one ON_DEMAND, SCHEDULED or EVENT trigger)."""
    workflow = backend.workflows.get(workflow_name)
    if workflow is not None:
        _check_capacity(workflow)
    run_id = original(backend, workflow_name, properties)
    run = _new_run(backend, workflow, workflow.runs[run_id])
    with run.lock:
        start = [t for t in _triggers(backend, workflow_name) if t.trigger_type != "CONDITIONAL"]
        if not start:
            run.status, run.error_message = "ERROR", f"Workflow {workflow_name} has no start trigger"
            run.completed_on = datetime.now(timezone.utc)
            return run_id
        run.fired.add(start[0].name)
        _start(run, start[0].actions, start[0])
    _advance(run)
    return run_id


@hook(GlueBackend, "stop_workflow_run", ("workflow_name", "run_id"))
def _stop_workflow_run(original, backend: GlueBackend, workflow_name: str, run_id: str):
    """StopWorkflowRun: no trigger fires any more; running actions are stopped; STOPPING, then STOPPED."""
    original(backend, workflow_name, run_id)
    run = backend.workflows[workflow_name].get_run(run_id)
    if not isinstance(run, ExecutedWorkflowRun) or run.status != "RUNNING":
        raise _illegal_state(f"Workflow run {run_id} is not running")
    with run.lock:
        run.status = "STOPPING"
        for action in run.actions:
            if action.state is None and action.runs:
                current = action.runs[-1]
                if action.kind == "JOB":
                    current.request_stop()
                else:
                    try:
                        backend.stop_crawler(action.name)
                    except glue_exceptions.GlueClientError:
                        pass
    _advance(run)


# --- the API moto lacks or answers without graphs --------------------------------------------------------------

def _workflow(response) -> tuple[GlueBackend, object, dict]:
    params = dispatch.params(response)
    backend = response.glue_backend
    workflow = backend.workflows.get(params.get("Name"))
    if workflow is None:
        raise glue_exceptions.EntityNotFoundException(f"Workflow {params.get('Name')} not found")
    return backend, workflow, params


def _run_dict(run, graph: bool) -> dict:
    return run.as_dict(graph) if isinstance(run, ExecutedWorkflowRun) else run.as_dict()


@dispatch.action(GlueResponse, "get_workflow")
def _get_workflow(response) -> dict:
    backend, workflow, params = _workflow(response)
    d = workflow.as_dict()
    graph = bool(params.get("IncludeGraph"))
    if workflow.runs:
        d["LastRun"] = _run_dict(workflow.runs[next(reversed(workflow.runs))], graph)
    if graph:
        d["Graph"] = build_graph(backend, workflow.name)
    return {"Workflow": d}


@dispatch.action(GlueResponse, "get_workflow_run")
def _get_workflow_run(response) -> dict:
    _, workflow, params = _workflow(response)
    return {"Run": _run_dict(workflow.get_run(params.get("RunId")), bool(params.get("IncludeGraph")))}


@dispatch.action(GlueResponse, "get_workflow_runs")
def _get_workflow_runs(response) -> dict:
    """Newest first, as AWS lists them; MaxResults (1-1000, default 100) and NextToken page through them."""
    _, workflow, params = _workflow(response)
    runs = list(reversed(workflow.runs.values()))
    limit = int(params.get("MaxResults") or 100)
    token = params.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = {"Runs": [_run_dict(r, bool(params.get("IncludeGraph"))) for r in runs[start:start + limit]]}
    if start + limit < len(runs):
        page["NextToken"] = str(start + limit)
    return page


@dispatch.action(GlueResponse, "resume_workflow_run")
def _resume_workflow_run(response) -> dict:
    """ResumeWorkflowRun: the given nodes (each must have run in the original run) and everything downstream of
    them run again in a new run; the other nodes keep their results."""
    backend, workflow, params = _workflow(response)
    original = workflow.get_run(params.get("RunId"))
    if not isinstance(original, ExecutedWorkflowRun) or original.status not in ("COMPLETED", "STOPPED"):
        raise _illegal_state(
            f"Workflow run {params.get('RunId')} is {original.status}: only a completed or stopped run resumes")
    by_id = {node_id(workflow.name, a.kind, a.name): (a.kind, a.name) for a in original.actions}
    wanted = params.get("NodeIds") or []
    unknown = [n for n in wanted if n not in by_id]
    if not wanted or unknown:
        raise glue_exceptions.InvalidInputException(
            "ResumeWorkflowRun", f"Node ids {unknown or wanted} have no run attempt in run {original.run_id}")
    _check_capacity(workflow)
    starts = {by_id[n] for n in wanted}
    reset, refire = _downstream(backend, workflow.name, starts)
    run = FakeWorkflowRun(workflow.name, previous_run_id=original.run_id, properties=dict(original.properties))
    workflow.runs[run.run_id] = run
    run = _new_run(backend, workflow, run)
    with run.lock:
        run.actions = [Action(a.kind, a.name, list(a.runs), a.state, a.error, True)
                       for a in original.actions if (a.kind, a.name) not in reset]
        run.fired = set(original.fired) - refire
        for trigger in _triggers(backend, workflow.name):
            chosen = [a for a in trigger.actions
                      if (("JOB", a.job_name) if a.job_name else ("CRAWLER", a.crawler_name)) in starts
                      and trigger.name in original.fired]
            if chosen:
                starts -= {("JOB", a.job_name) if a.job_name else ("CRAWLER", a.crawler_name) for a in chosen}
                _start(run, chosen, trigger)
    _advance(run)
    return {"RunId": run.run_id, "NodeIds": list(wanted)}


# --- EVENT triggers: a workflow started by the events an EventBridge rule delivers ----------------------------------
#
# An EventBridge rule whose target is a workflow (``arn:aws:glue:<region>:<account>:workflow/<name>``) notifies
# the workflow of each event. Its start trigger, of Type EVENT, batches them as its EventBatchingCondition says:
# when BatchSize events have arrived the run starts at once; otherwise BatchWindow seconds (default 900) after the
# first event of the batch, on the lab clock. The run's properties hold the IDs of the events that started it
# under ``aws:eventIds`` (``[id1, id2]``, as Glue writes it). An event for a workflow without an activated EVENT
# trigger is dropped (logged), as Glue does.

_batches: dict[tuple[str, str, str], "EventBatch"] = {}
_batches_lock = threading.Lock()
#: BatchWindow when the trigger gives none (AWS's default).
DEFAULT_BATCH_WINDOW = 900


@dataclass
class EventBatch:
    """The events a workflow's EVENT trigger has received since its last run started."""
    event_ids: list = field(default_factory=list)
    countdown: object = None


def _event_trigger(backend: GlueBackend, workflow: str):
    return next((t for t in _triggers(backend, workflow) if t.trigger_type == "EVENT"), None)


@delivery.destination("glue")
def _notify_event(arn: delivery.Arn, payload: str, event: dict | None = None, **_options) -> None:
    """An EventBridge target that is a Glue workflow: count the event into the EVENT trigger's batch."""
    kind, _, name = arn.resource.partition("/")
    backend = glue_backends[arn.account][arn.region]
    if kind != "workflow" or name not in backend.workflows:
        raise delivery.DeliveryError("EntityNotFoundException", f"Workflow {name or arn.resource} not found")
    trigger = _event_trigger(backend, name)
    if trigger is None or trigger.state != "ACTIVATED":
        raise delivery.DeliveryError("InvalidInputException",
                                     f"Workflow {name} has no activated trigger of type EVENT")
    event_id = (event or {}).get("id") or json.loads(payload).get("id") or str(uuid.uuid4())
    condition = trigger.event_batching_condition or {}
    size = int(condition.get("BatchSize") or 1)
    window = int(condition.get("BatchWindow") or DEFAULT_BATCH_WINDOW)
    key = (arn.account, arn.region, name)
    with _batches_lock:
        batch = _batches.setdefault(key, EventBatch())
        batch.event_ids.append(event_id)
        if len(batch.event_ids) >= size:
            ready = _batches.pop(key)
            if ready.countdown is not None:
                ready.countdown.cancel()
        else:
            ready = None
            if batch.countdown is None:
                batch.countdown = scheduler.countdown(window, lambda: _window_ended(key))
    if ready is not None:
        _start_batch(backend, name, ready)


def _window_ended(key: tuple[str, str, str]) -> str | None:
    with _batches_lock:
        ready = _batches.pop(key, None)
    if ready is None or not ready.event_ids:
        return None
    account, region, name = key
    return _start_batch(glue_backends[account][region], name, ready)


def _start_batch(backend: GlueBackend, workflow: str, batch: EventBatch) -> str | None:
    ids = "[" + ", ".join(batch.event_ids) + "]"
    try:
        backend.start_workflow_run(workflow, {"aws:eventIds": ids})
    except glue_exceptions.GlueClientError as exc:
        _log.warning("the EVENT trigger of workflow %s could not start a run for events %s: %s", workflow, ids, exc)
        return None
    return workflow
