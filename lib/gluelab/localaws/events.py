"""Amazon EventBridge: rules that deliver to their targets, schedules on the lab clock, AWS services' events.

moto keeps buses, rules and targets, matches event patterns (prefix, anything-but, numeric, exists, ...) and
sends matching events to SQS and log groups only: a rule with a Lambda, Step Functions or SNS target makes its
PutEvents fail, a DISABLED rule still delivers, scheduled rules never fire, and AWS services' own events never
reach a bus. Here a rule's delivery (moto's ``Rule.send_to_targets``) is replaced, for every way an event
reaches a bus:

* an ENABLED rule with an event pattern that matches sends the event to each target, asynchronously (through
  :mod:`.delivery`): a Lambda function (invoked with InvocationType Event), an SQS queue (``SqsParameters``'
  MessageGroupId for FIFO), an SNS topic, a Step Functions state machine (StartExecution with the event as
  input), a Glue workflow (its EVENT trigger, :mod:`.glue_workflows`), another bus, a log group;
* each target gets the whole event, or its ``Input`` (constant JSON), its ``InputPath`` (a part of the event)
  or its ``InputTransformer`` (``InputPathsMap`` and ``InputTemplate``, with ``<aws.events.rule-arn>``,
  ``<aws.events.rule-name>``, ``<aws.events.event.json>`` and ``<aws.events.event.ingestion-time>``);
* a target that cannot take the event (it does not exist, it refuses) gets no retries, as AWS does for such
  errors: the event goes to the target's dead-letter queue (``DeadLetterConfig``, with AWS's RULE_ARN,
  TARGET_ARN, ERROR_CODE, ERROR_MESSAGE and RETRY_ATTEMPTS message attributes) and the failure is logged;
* a rule with a ``ScheduleExpression`` (``cron(...)`` in AWS's six fields, or ``rate(n minutes|hours|days)``)
  fires when the lab clock passes a time it names (:mod:`.scheduler`; once per ``run_due``, however many times
  fell due), delivering AWS's "Scheduled Event";
* AWS services' events go to the default bus of their region: S3's for EventBridge-enabled buckets
  (:mod:`.s3_notifications`) and every state change announced through :mod:`.signals` with an AWS source
  ("Glue Job State Change", "Glue Crawler State Change", "Glue Data Catalog Database/Table State Change",
  "Step Functions Execution Status Change", ...), by one mechanism: :func:`put_service_event`;
* PutEvents answers per entry (an EventId, or an ErrorCode): an entry whose Source starts with ``aws.`` is
  refused with NotAuthorizedForSourceException, as on AWS.

Guard: PutEvents is sent only to the lab's own buses: every entry must name an EventBusName carrying the lab's
prefix (the default bus is shared by every lab of the account, and another lab's rules there could match). Rules,
targets' ARNs (and their dead-letter queues and roles) and buses must carry the prefix.

Teardown removes a lab rule's targets, then the rule (AWS refuses to delete a rule that has targets), on every
bus; then the lab's buses.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timedelta, timezone

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import unix_time
from moto.events.models import EventsBackend, Rule, events_backends

from ..clock import Cron
from . import delivery, scheduler, signals
from .hooks import hook
from .service import Owned, Service, tag_list

_log = logging.getLogger("gluelab.localaws")


# --- what the guard checks and teardown deletes ------------------------------------------------------------------

def _rules(events) -> list[str]:
    """``bus|rule`` for every rule on every bus."""
    out = []
    for bus in ["default"] + _buses(events):
        for page in events.get_paginator("list_rules").paginate(EventBusName=bus):
            out += [f"{bus}|{r['Name']}" for r in page.get("Rules", [])]
    return out


def _delete_rule(events, ident: str) -> None:
    bus, _, name = ident.partition("|")
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])]
    if ids:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
    events.delete_rule(Name=name, EventBusName=bus)


def _rule_tags(events, ident: str, _account: str) -> dict:
    bus, _, name = ident.partition("|")
    arn = events.describe_rule(Name=name, EventBusName=bus)["Arn"]
    return tag_list(events.list_tags_for_resource(ResourceARN=arn)["Tags"])


def _buses(events) -> list[str]:
    return [b["Name"] for b in events.list_event_buses().get("EventBuses", []) if b["Name"] != "default"]


def _bus_tags(events, name: str, _account: str) -> dict:
    arn = events.describe_event_bus(Name=name)["Arn"]
    return tag_list(events.list_tags_for_resource(ResourceARN=arn)["Tags"])


def _put_events_buses(_client, params: dict) -> list[str]:
    """The bus of every PutEvents entry (``default`` when it names none)."""
    return [entry.get("EventBusName") or "default" for entry in params.get("Entries") or []]


SERVICE = Service(
    "events", guarded=("Rule", "Arn", "EventBusName"),
    operations=("PutRule", "DeleteRule", "EnableRule", "DisableRule", "PutTargets", "RemoveTargets", "PutEvents",
                "CreateEventBus", "DeleteEventBus"),
    owned=(Owned("EventBridge rule", _rules, _delete_rule, name_of=lambda ident: ident.partition("|")[2],
                 tags=_rule_tags),
           Owned("event bus", _buses, lambda events, name: events.delete_event_bus(Name=name), tags=_bus_tags)),
    resolvers={"PutEvents": _put_events_buses})


# --- events ---------------------------------------------------------------------------------------------------------

def _iso(moment: datetime | float | str | None) -> str:
    """An event's ``time`` as EventBridge writes it (``2024-05-01T12:00:00Z``)."""
    if isinstance(moment, str):
        return moment
    if moment is None:
        moment = datetime.now(timezone.utc)
    elif not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(float(moment), timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_event(account: str, region: str, source: str, detail_type: str, detail: dict, resources=(),
               time=None, event_id: str | None = None) -> dict:
    """An EventBridge event, its fields in AWS's order."""
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": account, "time": _iso(time), "region": region, "resources": list(resources),
            "detail": detail}


def put_service_event(account: str, region: str, source: str, detail_type: str, detail: dict, resources=(),
                      bus: str = "default") -> dict:
    """Put an AWS service's event on ``bus`` (the default bus of the region): every ENABLED rule whose pattern
    matches delivers it. Returns the event."""
    event = make_event(account, region, source, detail_type, detail, resources)
    backend = events_backends[account][region]
    target_bus = backend.event_buses.get(bus)
    for rule in list(target_bus.rules.values()) if target_bus is not None else []:
        route(rule, event)
    return event


def route(rule: Rule, event: dict) -> bool:
    """Deliver ``event`` to the targets of ``rule`` when the rule is ENABLED, has an event pattern and the
    pattern matches; return whether it did."""
    if rule.state != "ENABLED" or not rule.event_pattern.get_pattern():
        return False
    if not rule.event_pattern.matches_event(event):
        return False
    deliver_to_targets(rule, event)
    return True


@hook(Rule, "send_to_targets", ("original_event", "transform_input"))
def _send_to_targets(original, rule: Rule, original_event, transform_input: bool = True):
    """moto's delivery of an event put on the rule's bus (PutEvents, archives' replays): as on AWS."""
    event = dict(original_event)
    event["time"] = _iso(event.get("time"))
    event.setdefault("ingestion-time", unix_time())
    route(rule, event)


def deliver_to_targets(rule: Rule, event: dict) -> None:
    """Send ``event`` to every target of ``rule``, each as its Input/InputPath/InputTransformer says."""
    ingestion = event.pop("ingestion-time", None) or unix_time()
    for target in list(rule.targets):
        try:
            payload = target_input(target, event, rule, ingestion)
        except ValueError as exc:
            _failed(rule, target, event, delivery.DeliveryError("InvalidInput", str(exc)))
            continue
        delivery.later(_deliver, rule, target, payload, event)


def _deliver(rule: Rule, target: dict, payload: str, event: dict) -> None:
    options = {"event": event}
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    if group:
        options["message_group_id"] = group
    try:
        delivery.deliver(target["Arn"], payload, **options)
    except delivery.DeliveryError as exc:
        _failed(rule, target, event, exc)


def _failed(rule: Rule, target: dict, event: dict, error: delivery.DeliveryError) -> None:
    """A target that cannot take the event: its dead-letter queue gets the event, and the failure is logged."""
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    _log.warning("EventBridge rule %s could not deliver event %s to target %s (%s): %s%s", rule.name,
                 event.get("id"), target.get("Id"), target.get("Arn"), error,
                 f"; sent to its dead-letter queue {dlq}" if dlq else "")
    if not dlq:
        return
    attributes = {"RULE_ARN": rule.arn, "TARGET_ARN": target.get("Arn", ""), "ERROR_CODE": error.code,
                  "ERROR_MESSAGE": error.message, "RETRY_ATTEMPTS": "0"}
    try:
        delivery.deliver(dlq, _compact(event), message_attributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})
    except delivery.DeliveryError as exc:
        _log.warning("EventBridge could not send event %s to the dead-letter queue %s either: %s",
                     event.get("id"), dlq, exc)


def _compact(document) -> str:
    return json.dumps(document, separators=(",", ":"))


# --- Input, InputPath, InputTransformer ------------------------------------------------------------------------

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_MISSING = object()


def json_path(document, path: str):
    """The value at ``path`` (``$``, ``$.detail.state``, ``$.resources[0]``, ``$.detail['a-b']``); a missing
    step gives _MISSING. ValueError for a path EventBridge would refuse."""
    path = (path or "").strip()
    if not path.startswith("$"):
        raise ValueError(f"InputPath {path!r} must start with $")
    value, rest = document, path[1:]
    while rest:
        step = _PATH_STEP.match(rest)
        if step is None:
            raise ValueError(f"InputPath {path!r} is not a JSON path EventBridge reads")
        key = next(g for g in step.groups() if g is not None)
        if step.group(2) is not None:
            value = value[int(key)] if isinstance(value, list) and int(key) < len(value) else _MISSING
        else:
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            return _MISSING
        rest = rest[step.end():]
    return value


def fill_template(template: str, values: dict) -> str:
    """``InputTemplate`` with each ``<name>`` replaced as EventBridge does: inside a JSON string the value's text
    (escaped), elsewhere the value as JSON (a string in quotes); a name with no value becomes null."""
    out, i, in_string = [], 0, False
    while i < len(template):
        c = template[i]
        if in_string and c == "\\":
            out.append(template[i:i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        elif c == "<":
            m = _PLACEHOLDER.match(template, i)
            if m and m.group(1) in values:
                value = values[m.group(1)]
                if in_string:
                    text = "" if value is None else (value if isinstance(value, str) else _compact(value))
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(_compact(value))
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def target_input(target: dict, event: dict, rule: Rule | None = None, ingestion: float | None = None) -> str:
    """What ``target`` receives for ``event``: its Input, the part InputPath selects, its InputTransformer's
    template filled in, or the whole event (JSON text)."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return _compact(None if value is _MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer:
        values = {}
        for name, path in (transformer.get("InputPathsMap") or {}).items():
            value = json_path(event, path)
            values[name] = None if value is _MISSING else value
        if rule is not None:
            values.setdefault("aws.events.rule-arn", rule.arn)
            values.setdefault("aws.events.rule-name", rule.name)
        values.setdefault("aws.events.event.json", event)
        values.setdefault("aws.events.event.ingestion-time", _iso(ingestion))
        return fill_template(transformer.get("InputTemplate", ""), values)
    return _compact(event)


# --- PutEvents --------------------------------------------------------------------------------------------------

@hook(EventsBackend, "put_events", ("events",))
def _put_events(original, backend: EventsBackend, entries):
    """An entry whose Source starts with ``aws.`` is refused (only AWS services send those); the others go on."""
    refused = {i for i, e in enumerate(entries or []) if str(e.get("Source") or "").startswith("aws.")}
    if not refused:
        return original(backend, entries)
    allowed = [e for i, e in enumerate(entries) if i not in refused]
    answers = iter(original(backend, allowed) if allowed else [])
    return [{"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
            if i in refused else next(answers) for i in range(len(entries))]


# --- scheduled rules on the lab clock ---------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_anchors: dict[str, datetime] = {}


def fire_times(rule: Rule, after: datetime, until: datetime) -> list[datetime]:
    """The times in ``(after, until]`` a scheduled rule names: a cron expression's minutes, or every period of
    a rate counted from when the lab clock first saw the rule."""
    expression = (rule.scheduled_expression or "").strip()
    rate = _RATE.match(expression)
    if rate:
        period = timedelta(seconds=int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")])
        if period <= timedelta(0):
            return []
        anchor = _anchors.setdefault(rule.arn, after)
        if until <= anchor:
            return []
        first = max(1, int((after - anchor) / period) + 1)
        times, k = [], first
        while anchor + k * period <= until:
            if anchor + k * period > after:
                times.append(anchor + k * period)
            k += 1
        return times
    try:
        return Cron(expression).fire_times(after, until)
    except ValueError:
        return []


@scheduler.source
def _scheduled_rules(after: datetime, until: datetime) -> list[str]:
    """Every ENABLED scheduled rule of every default bus whose schedule fell due delivers a Scheduled Event."""
    fired = []
    for account, regions in list(events_backends.items()):
        for region in list(regions.keys()):
            bus = regions[region].event_buses.get("default")
            for rule in list(bus.rules.values()) if bus is not None else []:
                if rule.state != "ENABLED" or not rule.scheduled_expression:
                    continue
                times = fire_times(rule, after, until)
                if not times:
                    continue
                deliver_to_targets(rule, make_event(account, region, "aws.events", "Scheduled Event", {},
                                                    [rule.arn], time=times[-1]))
                fired.append(rule.name)
    return fired


# --- AWS services' state changes on the default bus --------------------------------------------------------------

def _where(signal: signals.Signal) -> tuple[str, str]:
    """The account and region a signal's event belongs to."""
    if signal.account and signal.region:
        return signal.account, signal.region
    owners = [signal.resource, getattr(signal.resource, "backend", None),
              getattr(getattr(signal.resource, "job", None), "backend", None)]
    for owner in owners:
        account = getattr(owner, "account_id", None)
        region = getattr(owner, "region_name", None)
        if account and region:
            return signal.account or account, signal.region or region
    for arn in list(signal.resources) + [v for k, v in signal.detail.items() if k.lower().endswith("arn")]:
        parts = str(arn).split(":")
        if len(parts) > 5 and parts[0] == "arn" and parts[3] and parts[4]:
            return signal.account or parts[4], signal.region or parts[3]
    return signal.account or DEFAULT_ACCOUNT_ID, signal.region or "us-east-1"


def _forward(signal: signals.Signal) -> None:
    if not signal.source:
        return
    account, region = _where(signal)
    put_service_event(account, region, signal.source, signal.detail_type, signal.detail, signal.resources)


signals.subscribe_all(_forward)
