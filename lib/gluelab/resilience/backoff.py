"""Retry with exponential backoff and jitter, waiting on the lab's clock.

A transient error (a throttled API call, a source database that timed out) usually goes away if you wait and
try again; waiting longer after each failure gives the other side room to recover, and a little random jitter
keeps many clients from retrying in lock-step. tenacity does the retrying; :class:`Retry` is the small API a
lesson needs on top of it: plain parameters, waits that pass on the lab's clock (``clock=lab.clock``: "waited
5 min" takes no real time), a :attr:`Retry.history` of every attempt to print or plot, and one clear
:class:`RetriesExhausted` error when the attempts run out.

The wait before attempt ``n + 1`` is ``min(initial_delay * multiplier ** (n - 1), max_delay)`` plus a jitter
drawn uniformly from ``[0, jitter]`` with a seeded :class:`random.Random`, so the same seed gives the same
waits every run.
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace
from datetime import datetime

import tenacity

from ._common import as_clock, describe, duration, exception_matcher, seconds

#: What happened after an attempt.
SUCCEEDED, RETRIED, EXHAUSTED, NOT_RETRYABLE = "succeeded", "retried", "exhausted", "not retryable"


@dataclass(frozen=True)
class Attempt:
    """One call of the function: its number (1 = first), the clock's time when it started, the exception it
    raised (None if it succeeded), the seconds waited before the next attempt (None if there was none) and the
    outcome (``"succeeded"``, ``"retried"``, ``"exhausted"`` or ``"not retryable"``)."""
    number: int
    at: datetime
    error: BaseException | None
    wait: float | None
    outcome: str

    def __str__(self) -> str:
        head = f"attempt {self.number} at {self.at:%H:%M:%S}"
        if self.error is None:
            return f"{head} succeeded"
        tail = {RETRIED: f"waited {duration(self.wait or 0)}", EXHAUSTED: "no attempts left",
                NOT_RETRYABLE: "not retryable, raised at once"}[self.outcome]
        return f"{head} failed ({describe(self.error)}); {tail}"


class RetriesExhausted(Exception):
    """Every attempt failed with a retryable error. ``attempts``, ``history`` and ``last_error`` say how;
    the last error is also chained as ``__cause__``."""

    def __init__(self, name: str, history: list[Attempt]):
        self.name, self.history = name, list(history)
        self.attempts = len(history)
        self.last_error = history[-1].error
        waited = sum(a.wait or 0 for a in history)
        lines = "\n  ".join(str(a) for a in history)
        super().__init__(f"{name} failed all {self.attempts} attempts (waited {duration(waited)} in all); "
                         f"last error {describe(self.last_error)}\n  {lines}")


class _SeededJitter(tenacity.wait.wait_base):
    """tenacity wait strategy: a uniform ``[0, jitter]`` seconds from a seeded generator."""

    def __init__(self, jitter: float, rng: random.Random):
        self.jitter, self.rng = jitter, rng

    def __call__(self, retry_state) -> float:
        return self.rng.uniform(0, self.jitter)


class Retry:
    """A retry policy: call a function up to ``attempts`` times (the first call included: "retry 3 times" is
    ``attempts=4``), waiting with exponential backoff between failures whose exception ``retry_on`` accepts
    (exception classes, or a predicate such as :func:`gluelab.resilience.is_transient`). Any other exception
    is raised at once. Waits go through ``clock.sleep`` (default: real time).

    Use it as a decorator (``@Retry(...)``; the wrapper's ``.retry`` is the policy) or call
    ``policy.call(fn, *args, **kwargs)``. After a call, :attr:`history` lists its attempts."""

    def __init__(self, *, attempts: int = 3, initial_delay: float = 1.0, multiplier: float = 2.0,
                 max_delay: float | None = None, jitter: float = 0.0, seed: int | random.Random = 0,
                 retry_on=Exception, clock=None):
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be a whole number >= 1 (the first call counts), "
                             f"got {attempts!r}")
        self.attempts = attempts
        self.initial_delay = seconds(initial_delay, "initial_delay")
        if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier < 1:
            raise ValueError(f"multiplier must be a number >= 1 (1 = the same delay every time), "
                             f"got {multiplier!r}")
        self.multiplier = float(multiplier)
        self.max_delay = None if max_delay is None else seconds(max_delay, "max_delay")
        self.jitter = seconds(jitter, "jitter")
        if not isinstance(seed, (int, random.Random)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int or a random.Random, got {seed!r}")
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        self.retry_on = retry_on
        self._condition = tenacity.retry_if_exception(exception_matcher(retry_on, "retry_on"))
        self.clock = as_clock(clock)
        self.history: list[Attempt] = []

    def _wait(self):
        backoff = (tenacity.wait_exponential(multiplier=self.initial_delay, exp_base=self.multiplier)
                   if self.max_delay is None else
                   tenacity.wait_exponential(multiplier=self.initial_delay, exp_base=self.multiplier,
                                             max=self.max_delay))
        return backoff + _SeededJitter(self.jitter, self.rng) if self.jitter else backoff

    def call(self, fn, /, *args, **kwargs):
        """``fn(*args, **kwargs)`` under this policy: its result, the first non-retryable exception as it is,
        or :class:`RetriesExhausted` (chaining the last error) when every attempt failed."""
        if not callable(fn):
            raise TypeError(f"Retry.call needs a function to call, got {fn!r}")
        history: list[Attempt] = []
        self.history = history

        def attempt(*a, **kw):
            history.append(Attempt(len(history) + 1, self.clock.now(), None, None, SUCCEEDED))
            try:
                return fn(*a, **kw)
            except BaseException as exc:
                history[-1] = replace(history[-1], error=exc, outcome=NOT_RETRYABLE)
                raise

        def before_sleep(state):
            history[-1] = replace(history[-1], wait=float(state.next_action.sleep), outcome=RETRIED)

        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(self.attempts), wait=self._wait(),
                                     retry=self._condition, sleep=lambda s: self.clock.sleep(float(s)),
                                     before_sleep=before_sleep)
        try:
            return retrying(attempt, *args, **kwargs)
        except tenacity.RetryError as exhausted:
            history[-1] = replace(history[-1], outcome=EXHAUSTED)
            name = getattr(fn, "__qualname__", None) or repr(fn)
            raise RetriesExhausted(name, history) from exhausted.last_attempt.exception()

    def __call__(self, fn):
        """Decorate ``fn``: each call runs under this policy; ``wrapper.retry`` is the policy (with the
        history)."""
        if not callable(fn):
            raise TypeError(f"Retry decorates a function, got {fn!r}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return self.call(fn, *args, **kwargs)
        wrapper.retry = self
        return wrapper

    @property
    def waits(self) -> list[float]:
        """The seconds waited between the attempts of the last call."""
        return [a.wait for a in self.history if a.wait is not None]

    def report(self) -> str:
        """The last call's attempts, one line each (``attempt 1 at 02:00:00 failed (...); waited 5 min``)."""
        return "\n".join(str(a) for a in self.history)

    def __repr__(self) -> str:
        return (f"Retry(attempts={self.attempts}, initial_delay={self.initial_delay:g}, "
                f"multiplier={self.multiplier:g}, max_delay={self.max_delay}, jitter={self.jitter:g})")


def retry(fn=None, /, **options):
    """Retry with exponential backoff; see :class:`Retry` for ``options``.

    ``retry(fn, **options)`` or a bare ``@retry`` returns ``fn`` wrapped; ``retry(**options)`` returns the
    :class:`Retry` policy, a decorator that also has ``.call(fn, *args)``. A source database that times out,
    retried 3 times with 5-minute delays on lab time::

        @retry(attempts=4, initial_delay=300, multiplier=1, retry_on=is_transient, clock=lab.clock)
        def extract_customers(): ...
        print(extract_customers.retry.report())
    """
    policy = Retry(**options)
    return policy if fn is None else policy(fn)
