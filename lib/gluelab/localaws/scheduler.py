"""One scheduler on the lab's clock for everything AWS runs on a schedule.

On AWS a crawler's ``Schedule``, a SCHEDULED Glue trigger and (later) an EventBridge schedule fire when the wall
clock reaches a time their cron expression names. moto stores them and never fires. Here the lab owns the time
(:class:`gluelab.clock.Clock`): a service module registers a *source* with :func:`source`, and
``lab.clock.run_due()`` asks every source to start what fell due between the last check and lab time now. One
mechanism, so a lesson's ``lab.clock.advance(timedelta(days=1))`` moves crawlers, triggers and schedules alike.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

#: ``fn(after, until) -> [names started]``: what a service starts for due times in ``(after, until]``.
Source = Callable[[datetime, datetime], list[str]]

_SOURCES: list[Source] = []


def source(fn: Source) -> Source:
    """Register a schedule source (idempotent)."""
    if fn not in _SOURCES:
        _SOURCES.append(fn)
    return fn


def run_due(after: datetime, until: datetime) -> list[str]:
    """Start everything whose schedule fell due in ``(after, until]``; return what was started, in source
    order (the lab clock's source for the local backend)."""
    started: list[str] = []
    for fn in list(_SOURCES):
        started += fn(after, until)
    return started
