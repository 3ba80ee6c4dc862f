"""AWS Glue triggers: conditions, actions and schedules that really fire.

moto stores triggers and never fires one. Here a trigger's **actions** start real job runs (the job hooks execute
them) and real crawls; its **predicate** (conditions on jobs' ``State`` and crawlers' ``CrawlState`` joined by
``Logical`` AND or ANY) is evaluated when a job run or a crawl ends (:mod:`.signals`); a SCHEDULED trigger fires
when the lab clock passes a time its cron expression names (:mod:`.scheduler`). Only ACTIVATED triggers fire;
``start_trigger`` on an ON_DEMAND trigger fires it at once, as on AWS.

Triggers inside a workflow are fired by the workflow's run (:mod:`.glue_workflows`), for the steps of that run
only. A CONDITIONAL trigger outside any workflow watches every run of its jobs and crawlers: it fires when the
last runs of the jobs and crawlers it names make its predicate hold, as AWS does.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from moto.glue import exceptions as glue_exceptions
from moto.glue.models import GlueBackend, glue_backends
from moto.glue.utils import Predicate

from ..clock import Cron
from . import scheduler, signals
from .hooks import hook

#: A finished crawl's state in a trigger condition (``CrawlState``), by the crawl's status.
CRAWL_STATES = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "STOPPED": "CANCELLED"}
#: ``CrawlState`` values of the crawler state-change signal, by its ``state``.
_SIGNAL_CRAWL_STATES = {"Succeeded": "SUCCEEDED", "Failed": "FAILED", "Cancelled": "CANCELLED"}


def holds(predicate, state_of: Callable[[str, str], str | None]) -> bool:
    """Whether ``predicate`` (moto's Predicate) holds, with ``state_of("JOB" | "CRAWLER", name)`` the state each
    condition is compared with (None: not run)."""
    if predicate is None or not predicate.conditions:
        return False
    results = []
    for condition in predicate.conditions:
        if condition.job_name:
            wanted = condition.state.value if condition.state else None
            results.append(wanted is not None and state_of("JOB", condition.job_name) == wanted)
        else:
            wanted = condition.crawl_state.value if condition.crawl_state else None
            results.append(wanted is not None and state_of("CRAWLER", condition.crawler_name) == wanted)
    logical = getattr(predicate.logical, "value", predicate.logical) or "AND"
    return any(results) if logical == "ANY" else all(results)


def watched(predicate) -> set[tuple[str, str]]:
    """``(kind, name)`` of every job and crawler a predicate names."""
    if predicate is None:
        return set()
    return {("JOB", c.job_name) if c.job_name else ("CRAWLER", c.crawler_name) for c in predicate.conditions}


def start_action(backend, action, extra_arguments: dict | None = None, owner=None):
    """Start one action of a trigger: ``("JOB", name, run)`` for a job run (the action's Arguments, Timeout and
    NotificationProperty, plus ``extra_arguments``), ``("CRAWLER", name, crawl)`` for a crawl, whose ``owner``
    is set before it can end. An action that cannot start raises moto's error (an unknown job, a crawler
    already running, MaxConcurrentRuns)."""
    if action.job_name:
        arguments = {**(action.arguments or {}), **(extra_arguments or {})}
        run_id = backend.start_job_run(action.job_name, arguments, None, None, action.timeout, None,
                                       action.security_configuration, None, action.notification_property, None)
        job = backend.get_job(action.job_name)
        return "JOB", action.job_name, next(r for r in job.job_runs if r.job_run_id == run_id)
    crawler = backend.get_crawler(action.crawler_name)
    crawler.start_owner = owner
    try:
        backend.start_crawler(action.crawler_name)
    finally:
        crawler.__dict__.pop("start_owner", None)
    return "CRAWLER", action.crawler_name, crawler.crawls[-1]


@hook(Predicate, "__init__", ("inputs",))
def _predicate(original, predicate, inputs, *args, **kwargs):
    """``Logical`` may be left out when a predicate has one condition (AWS then reads it as AND)."""
    if isinstance(inputs, dict) and not inputs.get("Logical"):
        inputs = {**inputs, "Logical": "AND"}
    original(predicate, inputs, *args, **kwargs)


@hook(GlueBackend, "start_trigger", ("name",))
def _start_trigger(original, backend, name):
    """StartTrigger: activates the trigger; an ON_DEMAND trigger outside a workflow fires at once."""
    original(backend, name)
    trigger = backend.get_trigger(name)
    if trigger.trigger_type == "ON_DEMAND" and not trigger.workflow_name:
        for action in trigger.actions:
            start_action(backend, action)


# --- CONDITIONAL triggers outside workflows ------------------------------------------------------------------

def _last_state(backend, kind: str, name: str) -> str | None:
    if kind == "JOB":
        job = backend.jobs.get(name)
        finished = [r for r in (job.job_runs if job else []) if getattr(r, "completed_on", None) is not None
                    and getattr(r, "next_attempt", None) is None]
        return finished[-1].status if finished else None
    crawler = backend.crawlers.get(name)
    done = [c for c in (crawler.crawls if crawler else []) if c.status in CRAWL_STATES]
    return CRAWL_STATES[done[-1].status] if done else None


def _fire_standalone(backend, kind: str, name: str) -> None:
    for trigger in list(backend.triggers.values()):
        if (trigger.workflow_name or trigger.trigger_type != "CONDITIONAL" or trigger.state != "ACTIVATED"
                or (kind, name) not in watched(trigger.predicate)):
            continue
        if holds(trigger.predicate, lambda k, n: _last_state(backend, k, n)):
            for action in trigger.actions:
                try:
                    start_action(backend, action)
                except glue_exceptions.GlueClientError:
                    pass  # e.g. the crawler is already running: AWS skips the action too


def _job_ended(detail: dict, resource=None) -> None:
    if resource is None or "--WORKFLOW_RUN_ID" in (resource.arguments or {}):
        return
    if getattr(resource, "next_attempt", None) is not None:
        return  # a retry is running: the job has not ended yet
    _fire_standalone(resource.job.backend, "JOB", detail["jobName"])


def _crawl_ended(detail: dict, resource=None) -> None:
    if detail.get("state") == "Started":
        return
    if resource is None or not resource.crawls or getattr(resource.crawls[-1], "owner", None) is not None:
        return
    _fire_standalone(resource.backend, "CRAWLER", detail["crawlerName"])


signals.subscribe(signals.JOB_STATE_CHANGE, _job_ended)
signals.subscribe(signals.CRAWLER_STATE_CHANGE, _crawl_ended)


# --- SCHEDULED triggers on the lab clock ------------------------------------------------------------------------

@scheduler.source
def _scheduled_triggers(after: datetime, until: datetime) -> list[str]:
    """Fire every activated SCHEDULED trigger whose cron schedule fell due in ``(after, until]`` (once, however
    many due times): one in a workflow starts a workflow run, one outside starts its actions."""
    fired = []
    for regions in list(glue_backends.values()):
        for region in list(regions.keys()):
            backend = regions[region]
            for trigger in list(backend.triggers.values()):
                if trigger.trigger_type != "SCHEDULED" or trigger.state != "ACTIVATED":
                    continue
                try:
                    if not Cron(trigger.schedule or "").fire_times(after, until):
                        continue
                except ValueError:
                    continue
                try:
                    if trigger.workflow_name:
                        backend.start_workflow_run(trigger.workflow_name, None)
                    else:
                        for action in trigger.actions:
                            start_action(backend, action)
                except glue_exceptions.GlueClientError:
                    continue  # e.g. the workflow's MaxConcurrentRuns: AWS skips this firing too
                fired.append(trigger.name)
    return fired
