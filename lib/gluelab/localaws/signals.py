"""State changes one service announces and others act on, named as AWS names its EventBridge events.

A Glue job run that ends emits ``"Glue Job State Change"``, a crawl ``"Glue Crawler State Change"``; Glue
workflows listen for both to fire their conditional triggers. ``detail`` has the fields AWS's event carries;
``resource`` is the moto object concerned, for listeners inside this package.

A signal also says where AWS would send it as an EventBridge event: its ``source`` (``aws.glue``; for a detail
type emitted without one, :data:`SOURCES` says it; an empty source means AWS sends no event for it), the account
and region, and the event's ``resources``. :mod:`.events` listens to every signal (:func:`subscribe_all`) and puts
those with a source on the default bus: one mechanism for every service's events.

A listener that fails does not stop the emitter or the other listeners: its traceback is logged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

JOB_STATE_CHANGE = "Glue Job State Change"
CRAWLER_STATE_CHANGE = "Glue Crawler State Change"
DATABASE_STATE_CHANGE = "Glue Data Catalog Database State Change"
TABLE_STATE_CHANGE = "Glue Data Catalog Table State Change"
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


@dataclass(frozen=True)
class AwsEvent:
    """How a detail type becomes an EventBridge event: its ``source``, and the detail field (if any) whose value
    is the ARN AWS lists in the event's ``resources``."""
    source: str
    resource_field: str | None = None


#: The EventBridge source of each detail type, for emitters that do not pass one.
SOURCES: dict[str, AwsEvent] = {
    JOB_STATE_CHANGE: AwsEvent("aws.glue"),
    CRAWLER_STATE_CHANGE: AwsEvent("aws.glue"),
    DATABASE_STATE_CHANGE: AwsEvent("aws.glue"),
    TABLE_STATE_CHANGE: AwsEvent("aws.glue"),
    EXECUTION_STATUS_CHANGE: AwsEvent("aws.states", "executionArn"),
}


@dataclass(frozen=True)
class Signal:
    """One emitted state change, as :func:`subscribe_all` listeners receive it."""
    detail_type: str
    detail: dict
    resource: Any = None
    source: str = ""
    account: str | None = None
    region: str | None = None
    resources: list = field(default_factory=list)


_LISTENERS: dict[str, list[Callable]] = {}
_ALL: list[Callable[[Signal], None]] = []
_log = logging.getLogger("gluelab.localaws")


def subscribe(detail_type: str, listener: Callable[..., None]) -> None:
    """Call ``listener(detail, resource=...)`` for every ``detail_type`` emitted (idempotent)."""
    listeners = _LISTENERS.setdefault(detail_type, [])
    if listener not in listeners:
        listeners.append(listener)


def subscribe_all(listener: Callable[[Signal], None]) -> None:
    """Call ``listener(signal)`` for every signal emitted, after the listeners of its detail type
    (idempotent)."""
    if listener not in _ALL:
        _ALL.append(listener)


def emit(detail_type: str, detail: dict, resource: Any = None, *, source: str | None = None,
         account: str | None = None, region: str | None = None, resources: list | None = None) -> None:
    """Tell every listener of ``detail_type``, then every listener of all signals. ``source`` defaults to
    :data:`SOURCES`; ``account`` and ``region`` to the resource's, or to those of an ARN in ``resources``."""
    for listener in list(_LISTENERS.get(detail_type, ())):
        try:
            listener(detail, resource=resource)
        except Exception:
            _log.exception("a listener of %r failed", detail_type)
    if not _ALL:
        return
    known = SOURCES.get(detail_type)
    if source is None:
        source = known.source if known else ""
    if resources is None:
        arn = detail.get(known.resource_field) if known and known.resource_field else None
        resources = [arn] if arn else []
    signal = Signal(detail_type, detail, resource, source, account, region, list(resources))
    for listener in list(_ALL):
        try:
            listener(signal)
        except Exception:
            _log.exception("a listener of all signals failed on %r", detail_type)
