"""Compensating transactions (a saga): undo the steps that completed when a later step fails.

A pipeline that writes to several places cannot roll back like one database transaction. Instead each step
comes with a *compensation* that undoes it (delete the files it wrote, drop the partition it added). When a
step fails, :class:`Saga` runs the compensations of the completed steps in reverse order, keeps an audit
:attr:`Saga.log` of everything it did, and raises :class:`SagaFailed` naming the failed step and what was
compensated. A compensation that itself fails is logged and reported too (that step needs manual rollback);
the others still run. Compensations should be idempotent, so running one twice does no harm.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._common import as_clock, describe


@dataclass(frozen=True)
class Step:
    """``action()`` does the work; ``compensate(result)`` undoes it given what the action returned (None: the
    step changes nothing that needs undoing)."""
    name: str
    action: Callable[[], Any]
    compensate: Callable[[Any], Any] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a step needs a non-empty name, got {self.name!r}")
        if not callable(self.action) or not (self.compensate is None or callable(self.compensate)):
            raise TypeError(f"step {self.name!r}: action and compensate must be functions")


@dataclass(frozen=True)
class Event:
    """One entry of the audit log: at ``at``, step ``step`` was ``what`` (``done``, ``failed``,
    ``compensated``, ``compensation failed``), with ``detail`` (the error, if any)."""
    at: datetime
    step: str
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.what} {self.step}" + (f": {self.detail}" if self.detail else "")


class SagaFailed(Exception):
    """A step failed and the completed steps were compensated. ``failed_step``, ``compensated`` (names, in
    the order they were undone), ``compensation_errors`` (name -> exception) and ``log`` say what happened;
    the step's error is chained as ``__cause__``."""

    def __init__(self, failed_step: str, error: BaseException, compensated: list[str],
                 compensation_errors: dict[str, BaseException], log: list[Event]):
        self.failed_step, self.error = failed_step, error
        self.compensated, self.compensation_errors, self.log = compensated, compensation_errors, log
        message = (f"step {failed_step!r} failed ({describe(error)}); "
                   f"compensated: {', '.join(compensated) or 'nothing'}")
        if compensation_errors:
            message += "; compensation FAILED for " + ", ".join(
                f"{name} ({describe(e)})" for name, e in compensation_errors.items()) + \
                ": roll these back by hand"
        super().__init__(message)


class Saga:
    """Run ``steps`` (:class:`Step` or ``(name, action, compensate)`` tuples) in order; see the module."""

    def __init__(self, steps, *, clock=None):
        self.steps = [s if isinstance(s, Step) else Step(*s) for s in steps]
        names = [s.name for s in self.steps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"step names must be unique; repeated: {', '.join(duplicates)}")
        self.clock = as_clock(clock)
        self.log: list[Event] = []

    def _note(self, step: str, what: str, detail: str = "") -> None:
        self.log.append(Event(self.clock.now(), step, what, detail))

    def run(self) -> dict[str, Any]:
        """Run every step; return ``{step name: result}``, or compensate and raise :class:`SagaFailed`."""
        self.log = []
        done: list[tuple[Step, Any]] = []
        for step in self.steps:
            try:
                result = step.action()
            except Exception as exc:
                self._note(step.name, "failed", describe(exc))
                compensated, errors = self._compensate(done)
                raise SagaFailed(step.name, exc, compensated, errors, list(self.log)) from exc
            done.append((step, result))
            self._note(step.name, "done")
        return {step.name: result for step, result in done}

    def _compensate(self, done):
        compensated, errors = [], {}
        for step, result in reversed(done):
            if step.compensate is None:
                continue
            try:
                step.compensate(result)
            except Exception as exc:
                errors[step.name] = exc
                self._note(step.name, "compensation failed", describe(exc))
                continue
            compensated.append(step.name)
            self._note(step.name, "compensated")
        return compensated, errors

    def report(self) -> str:
        """The audit log of the last run, one line each."""
        return "\n".join(str(e) for e in self.log)
