"""One scheduler on the lab's clock for everything AWS runs on a schedule or after a delay.

On AWS a crawler's ``Schedule``, a SCHEDULED Glue trigger and an EventBridge schedule fire when the wall clock
reaches a time their expression names; a message an SQS consumer failed returns after the queue's visibility
timeout; a Glue EVENT trigger fires when its batch window ends. moto stores them and never fires. Here the lab owns
the time (:class:`gluelab.clock.Clock`): a service module registers a *source* with :func:`source` (for
schedules) or starts a :func:`countdown` (for delays), and ``lab.clock.run_due()`` first lets what runs in the
background settle (:func:`settle`: deliveries in flight, a Lambda poller's batch), then asks every source to start
what fell due between the last check and lab time now, and fires the countdowns that lab time has used up. One
mechanism, so a lesson's ``lab.clock.advance(timedelta(days=1))`` moves crawlers, triggers, schedules and
timeouts alike.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

#: ``fn(after, until) -> [names started]``: what a service starts for due times in ``(after, until]``.
Source = Callable[[datetime, datetime], list[str]]

_SOURCES: list[Source] = []
_SETTLERS: list[Callable[[], None]] = []
_COUNTDOWNS: list["Countdown"] = []
_lock = threading.Lock()
_log = logging.getLogger("gluelab.localaws")


def source(fn: Source) -> Source:
    """Register a schedule source (idempotent)."""
    if fn not in _SOURCES:
        _SOURCES.append(fn)
    return fn


def settle(fn: Callable[[], None]) -> Callable[[], None]:
    """Register ``fn()``, which returns once the background work it knows of is done (bounded by its own
    timeout); :func:`run_due` calls every one first, so lab time passes after what already happened."""
    if fn not in _SETTLERS:
        _SETTLERS.append(fn)
    return fn


@dataclass(eq=False)
class Countdown:
    """Fires ``fire()`` (which returns a name to report, or None) once lab time has moved ``seconds`` on."""
    seconds: float
    fire: Callable[[], str | None]
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        self.cancelled = True


def countdown(seconds: float, fire: Callable[[], str | None]) -> Countdown:
    """Call ``fire()`` from the first :func:`run_due` by which lab time has moved ``seconds`` past now."""
    timer = Countdown(float(seconds), fire)
    with _lock:
        _COUNTDOWNS.append(timer)
    return timer


def run_due(after: datetime, until: datetime) -> list[str]:
    """Start everything whose schedule fell due in ``(after, until]`` and fire the countdowns that lab time has
    used up; return what was started, in source order (the lab clock's source for the local backend)."""
    for fn in list(_SETTLERS):
        try:
            fn()
        except Exception:
            _log.exception("waiting for background work before the lab clock moved failed")
    started: list[str] = []
    for fn in list(_SOURCES):
        started += fn(after, until)
    elapsed = max(0.0, (until - after).total_seconds())
    with _lock:
        due = []
        for timer in list(_COUNTDOWNS):
            timer.seconds -= elapsed
            if timer.cancelled or timer.seconds <= 0:
                _COUNTDOWNS.remove(timer)
                if not timer.cancelled:
                    due.append(timer)
    for timer in due:
        try:
            name = timer.fire()
        except Exception:
            _log.exception("a countdown on the lab clock failed")
            continue
        if name:
            started.append(name)
    return started
