"""A circuit breaker: stop calling a dependency that keeps failing, and try it again later.

Retrying a source that is down only adds load and delay. A breaker counts consecutive failures: after
``failure_threshold`` of them it *opens* and every call fails fast with :class:`CircuitOpenError`, without
calling the dependency. Once ``reset_timeout`` has passed on the clock it is *half-open*: the next call is a
trial; success *closes* it (normal service), failure opens it again for another ``reset_timeout``. Every
change of state is kept in :attr:`CircuitBreaker.transitions`, so a lesson can show when it opened and why.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._common import as_clock, describe, duration, seconds

CLOSED, OPEN, HALF_OPEN = "CLOSED", "OPEN", "HALF_OPEN"


@dataclass(frozen=True)
class Transition:
    """The breaker went from ``source`` to ``target`` at ``at`` (clock time) because of ``reason``."""
    at: datetime
    source: str
    target: str
    reason: str

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.source} -> {self.target}: {self.reason}"


class CircuitOpenError(Exception):
    """The circuit is open: the call was refused without calling the function. ``retry_at`` is when the
    breaker lets a trial call through."""

    def __init__(self, name: str, failures: int, opened_at: datetime, retry_at: datetime):
        self.name, self.failures, self.opened_at, self.retry_at = name, failures, opened_at, retry_at
        super().__init__(f"circuit {name!r} is OPEN since {opened_at:%H:%M:%S} after {failures} consecutive "
                         f"failures; the call was not made; a trial call is allowed from {retry_at:%H:%M:%S}")


class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures -> half-open after ``reset_timeout``
    (seconds or a timedelta) on ``clock`` -> closed on a successful trial, open again on a failed one.

    Only exceptions that ``failure_on`` (an exception class or tuple of them) accepts count as failures;
    others pass through without changing the state. Use :meth:`call` or decorate a function."""

    def __init__(self, name: str = "dependency", *, failure_threshold: int = 5, reset_timeout=60.0,
                 failure_on=Exception, clock=None):
        if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int) \
                or failure_threshold < 1:
            raise ValueError(f"failure_threshold must be a whole number >= 1, got {failure_threshold!r}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = timedelta(seconds=seconds(reset_timeout, "reset_timeout"))
        classes = failure_on if isinstance(failure_on, tuple) else (failure_on,)
        if not classes or not all(isinstance(c, type) and issubclass(c, BaseException) for c in classes):
            raise TypeError(f"failure_on must be an exception class or a tuple of them, got {failure_on!r}")
        self.failure_on = failure_on
        self.clock = as_clock(clock)
        self.failures = 0
        self.opened_at: datetime | None = None
        self.transitions: list[Transition] = []
        self._state = CLOSED

    def _move(self, target: str, reason: str, at: datetime | None = None) -> None:
        self.transitions.append(Transition(at or self.clock.now(), self._state, target, reason))
        self._state = target

    @property
    def state(self) -> str:
        """``"CLOSED"``, ``"OPEN"`` or ``"HALF_OPEN"``; an open breaker whose reset timeout has passed turns
        half-open when asked (the transition is dated when the timeout ended)."""
        if self._state == OPEN and self.clock.now() >= self.opened_at + self.reset_timeout:
            self._move(HALF_OPEN, f"reset timeout of {duration(self.reset_timeout.total_seconds())} passed",
                       at=self.opened_at + self.reset_timeout)
        return self._state

    def call(self, fn, /, *args, **kwargs):
        """``fn(*args, **kwargs)`` through the breaker: its result or exception, or :class:`CircuitOpenError`
        at once (``fn`` not called) while the circuit is open."""
        if not callable(fn):
            raise TypeError(f"CircuitBreaker.call needs a function to call, got {fn!r}")
        if self.state == OPEN:
            raise CircuitOpenError(self.name, self.failures, self.opened_at,
                                   self.opened_at + self.reset_timeout)
        try:
            result = fn(*args, **kwargs)
        except self.failure_on as exc:
            self._failed(exc)
            raise
        if self._state == HALF_OPEN:
            self._move(CLOSED, "trial call succeeded")
        self.failures = 0
        return result

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        error = describe(exc)
        if self._state == HALF_OPEN:
            self.opened_at = self.clock.now()
            self._move(OPEN, f"trial call failed ({error})")
        elif self.failures >= self.failure_threshold:
            self.opened_at = self.clock.now()
            self._move(OPEN, f"{self.failures} consecutive failures (last: {error})")

    def __call__(self, fn):
        """Decorate ``fn`` so every call goes through this breaker; ``wrapper.breaker`` is the breaker."""
        if not callable(fn):
            raise TypeError(f"CircuitBreaker decorates a function, got {fn!r}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return self.call(fn, *args, **kwargs)
        wrapper.breaker = self
        return wrapper

    def report(self) -> str:
        """The transitions so far, one line each (``02:15:00 CLOSED -> OPEN: 3 consecutive failures ...``)."""
        return "\n".join(str(t) for t in self.transitions)

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self._state}, failures={self.failures})"
