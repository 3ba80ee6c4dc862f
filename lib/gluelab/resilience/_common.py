"""What every resilience pattern shares: the clock it waits on, durations, and exception matching.

A pattern needs two things from a clock: ``now()`` (when did this attempt run, when may the circuit close
again) and ``sleep(seconds)`` (wait before the next attempt). The lab's clock moves lab time forward at once,
so a lesson shows "waited 5 min" without waiting; without a clock the patterns use real time, as production
code would.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class RealClock:
    """Wall-clock time: ``now()`` in UTC and a real ``time.sleep``."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "RealClock()"


def as_clock(clock):
    """``clock`` itself if it has ``now()`` and ``sleep(seconds)``, a :class:`RealClock` for None; else a
    TypeError."""
    if clock is None:
        return RealClock()
    missing = [name for name in ("now", "sleep") if not callable(getattr(clock, name, None))]
    if missing:
        raise TypeError(f"clock must have now() and sleep(seconds) (gluelab.clock.Clock does); "
                        f"{clock!r} lacks {', '.join(missing)}()")
    return clock


def seconds(value, what: str) -> float:
    """``value`` (seconds as a number, or a timedelta) in seconds; a clear error if negative or not a
    duration."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or a timedelta, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return float(value)


def duration(secs: float) -> str:
    """A wait as people say it: ``"5 min"``, ``"1 h 30 min"``, ``"5 min 12.34 s"``, ``"0.5 s"``."""
    hours, rest = divmod(round(secs, 2), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{int(hours)} h"] * bool(hours) + [f"{int(minutes)} min"] * bool(minutes)
    if secs or not parts:
        parts.append(f"{round(secs, 2):g} s")
    return " ".join(parts)


def exception_matcher(spec, what: str):
    """A predicate ``exc -> bool`` from exception classes (one or a tuple) or a predicate itself."""
    def is_class(x):
        return isinstance(x, type) and issubclass(x, BaseException)
    if is_class(spec) or (isinstance(spec, tuple) and spec and all(map(is_class, spec))):
        return lambda exc: isinstance(exc, spec)
    if callable(spec):
        return spec
    raise TypeError(f"{what} must be an exception class, a tuple of them, or a function exc -> bool; "
                    f"got {spec!r}")


def describe(exc: BaseException) -> str:
    """``"TypeName: first line of the message"``: an error in one line of a report."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
