"""Fallback: when the primary path fails, take the alternative one and say so.

Graceful degradation keeps a pipeline producing something useful: if today's source cannot be read even after
retries, process the previous day's cached data and tell the team. :func:`fallback` runs ``primary``; on an
error that ``on`` accepts it notifies, runs ``fallback``, and returns which path ran and why, so the run's
report can say "served from the cache because ...". A failing fallback raises its own error (chained to the
primary's), so a double failure is never hidden.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._common import describe, exception_matcher

PRIMARY, FALLBACK = "primary", "fallback"


@dataclass(frozen=True)
class FallbackResult:
    """``value`` came from ``path`` (``"primary"`` or ``"fallback"``); ``error`` is why the primary failed."""
    value: Any
    path: str
    error: BaseException | None = None

    @property
    def degraded(self) -> bool:
        return self.path == FALLBACK

    def __str__(self) -> str:
        if self.error is None:
            return "primary path ran"
        return f"fallback path ran: the primary failed ({describe(self.error)})"


def fallback(primary: Callable[[], Any], fallback: Callable[[], Any], *, on=Exception,
             notify: Callable[[BaseException], Any] | None = None) -> FallbackResult:
    """Run ``primary()``; if it raises an error ``on`` accepts (exception classes or a predicate), call
    ``notify(error)`` (when given) and return ``fallback()`` marked as the fallback path. Errors ``on``
    does not accept are raised as they are."""
    if not callable(primary) or not callable(fallback):
        raise TypeError("fallback needs two functions: primary() and fallback()")
    if notify is not None and not callable(notify):
        raise TypeError(f"notify must be a function error -> anything, got {notify!r}")
    accepts = exception_matcher(on, "on")
    try:
        return FallbackResult(primary(), PRIMARY)
    except Exception as exc:
        if not accepts(exc):
            raise
        if notify is not None:
            notify(exc)
        return FallbackResult(fallback(), FALLBACK, exc)
