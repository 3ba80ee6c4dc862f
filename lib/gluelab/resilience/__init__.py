"""Error handling and recovery patterns for Glue pipelines, each small enough to read in a lesson.

- :func:`retry` / :class:`Retry`: retry transient errors with exponential backoff and seeded jitter, waiting
  on the lab's clock; every attempt is kept in a history.
- :class:`CircuitBreaker`: fail fast while a dependency keeps failing, try again after a reset timeout.
- :func:`classify` / :func:`decide`: the four error classes (transient, data quality, system, business
  logic) and what to do about each.
- :class:`DeadLetterQueue`: set problem records aside in SQS, review them, reprocess them.
- :class:`Saga`: compensate completed steps in reverse order when a later step fails.
- :class:`Checkpoint`: resume a rerun after the last completed step.
- :func:`fallback`: take the backup path (yesterday's cached data) and say so.

Pass ``clock=lab.clock`` so waits pass on lab time: a 5-minute backoff takes no real time.
"""
from .backoff import Attempt, RetriesExhausted, Retry, retry
from .breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpenError, Transition
from .checkpoint import Checkpoint, MemoryStore, S3Store
from .degradation import FallbackResult, fallback
from .dlq import DeadLetter, DeadLetterQueue, RedriveReport, create_queue_with_dlq
from .errors import (CLASSIFIER, POLICIES, BusinessLogicError, Classifier, ConfigurationError,
                     DataQualityError, Decision, ErrorClass, Policy, aws_error_code, classify, decide,
                     is_transient)
from .saga import Event, Saga, SagaFailed, Step

__all__ = [
    "retry", "Retry", "Attempt", "RetriesExhausted",
    "CircuitBreaker", "CircuitOpenError", "Transition", "CLOSED", "OPEN", "HALF_OPEN",
    "ErrorClass", "Policy", "POLICIES", "Decision", "Classifier", "CLASSIFIER", "classify", "decide",
    "is_transient", "aws_error_code", "DataQualityError", "BusinessLogicError", "ConfigurationError",
    "DeadLetterQueue", "DeadLetter", "RedriveReport", "create_queue_with_dlq",
    "Saga", "Step", "Event", "SagaFailed",
    "Checkpoint", "S3Store", "MemoryStore",
    "fallback", "FallbackResult",
]
