"""Error classification: which kind of error is this, and what should the pipeline do about it?

A resilient workflow treats errors differently by kind. The four classes and their responses:

- TRANSIENT (network, temporary resource issues): retry with exponential backoff, a circuit breaker for
  external dependencies, other resources, degrade to a backup processing path.
- DATA_QUALITY (schema violations, business rule failures in records): quarantine the invalid records for
  review, continue with the valid ones, report to data stewards, apply correction rules where possible.
- SYSTEM (resource exhaustion, configuration issues): escalate to operations at once, roll back to the last
  known good state, scale or re-size the job, manual intervention.
- BUSINESS_LOGIC (incorrect transformations, calculation errors): stop so no corrupt data is published,
  compare outputs with history, validate against the business rules, require manual approval to continue.

:class:`Classifier` maps an exception to its class: an AWS error code first (a botocore ``ClientError``'s
``Error.Code``, the throttling and transient codes boto3's standard retry mode retries, and 5xx responses),
then the exception's type, most specific first. Both mappings are plain dicts a caller can add to. An error
nobody classified counts as SYSTEM: stopping and asking is safer than retrying or carrying on blindly.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from enum import Enum

from botocore import exceptions as botocore_errors

from ._common import describe
from .backoff import RetriesExhausted
from .breaker import CircuitOpenError


class ErrorClass(Enum):
    TRANSIENT = "transient"
    DATA_QUALITY = "data quality"
    SYSTEM = "system"
    BUSINESS_LOGIC = "business logic"


class DataQualityError(Exception):
    """Records broke the schema or a data rule; ``records`` (optional) are the offending records."""

    def __init__(self, message: str, records=None):
        super().__init__(message)
        self.records = list(records or [])


class BusinessLogicError(Exception):
    """A transformation or calculation produced results that break a business rule (totals that do not
    reconcile, a metric far outside its history): publishing them would corrupt downstream data."""


class ConfigurationError(Exception):
    """The job is set up wrongly (a missing parameter, a connection that names nothing): retrying cannot
    help."""


@dataclass(frozen=True)
class Policy:
    """What to do about one class of error: the ``action`` in a few words, whether to ``retry`` the call,
    whether the pipeline may ``continue_processing``, and the responses the pattern lists."""
    error_class: ErrorClass
    action: str
    retry: bool
    continue_processing: bool
    responses: tuple[str, ...]


POLICIES = {p.error_class: p for p in (
    Policy(ErrorClass.TRANSIENT, "retry with backoff", True, True, (
        "Automatic retry with exponential backoff", "Circuit breaker pattern for external dependencies",
        "Alternative resource allocation strategies", "Graceful degradation to backup processing paths")),
    Policy(ErrorClass.DATA_QUALITY, "quarantine and continue", False, True, (
        "Quarantine invalid records for review", "Continue processing valid records",
        "Generate quality reports for data stewards", "Apply correction rules where possible")),
    Policy(ErrorClass.SYSTEM, "escalate and stop", False, False, (
        "Immediate escalation to operations team", "Rollback to last known good state",
        "Resource scaling or job re-sizing", "Emergency manual intervention procedures")),
    Policy(ErrorClass.BUSINESS_LOGIC, "stop and require approval", False, False, (
        "Stop processing to prevent data corruption", "Compare outputs with historical patterns",
        "Validate against business rules and expectations", "Require manual approval before continuation")),
)}

#: AWS error codes that are worth retrying: boto3's standard retry mode's transient and throttling codes,
#: the service-side failures services name instead of (or besides) a 5xx status, and Glue's concurrency limit.
TRANSIENT_CODES = (
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "EC2ThrottledException", "ServiceUnavailable", "ServiceUnavailableException", "InternalError",
    "InternalFailure", "InternalServiceException", "ConcurrentRunsExceededException",
)
#: HTTP statuses boto3's standard retry mode treats as transient.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})

DEFAULT_TYPES = {
    ConnectionError: ErrorClass.TRANSIENT, TimeoutError: ErrorClass.TRANSIENT,
    botocore_errors.ConnectionError: ErrorClass.TRANSIENT,
    botocore_errors.HTTPClientError: ErrorClass.TRANSIENT,
    CircuitOpenError: ErrorClass.TRANSIENT,
    DataQualityError: ErrorClass.DATA_QUALITY, json.JSONDecodeError: ErrorClass.DATA_QUALITY,
    UnicodeDecodeError: ErrorClass.DATA_QUALITY, csv.Error: ErrorClass.DATA_QUALITY,
    MemoryError: ErrorClass.SYSTEM, RecursionError: ErrorClass.SYSTEM, ConfigurationError: ErrorClass.SYSTEM,
    botocore_errors.NoCredentialsError: ErrorClass.SYSTEM, botocore_errors.NoRegionError: ErrorClass.SYSTEM,
    botocore_errors.PartialCredentialsError: ErrorClass.SYSTEM,
    botocore_errors.ProfileNotFound: ErrorClass.SYSTEM,
    botocore_errors.ParamValidationError: ErrorClass.SYSTEM, botocore_errors.ClientError: ErrorClass.SYSTEM,
    RetriesExhausted: ErrorClass.SYSTEM,
    BusinessLogicError: ErrorClass.BUSINESS_LOGIC, ArithmeticError: ErrorClass.BUSINESS_LOGIC,
}


@dataclass(frozen=True)
class Decision:
    """The class of ``error`` and the :class:`Policy` for it."""
    error: BaseException
    error_class: ErrorClass
    policy: Policy

    def __str__(self) -> str:
        return (f"{describe(self.error)} -> {self.error_class.value} error: "
                f"{self.policy.action} ({'; '.join(self.policy.responses)})")


def aws_error_code(exc: BaseException) -> str | None:
    """The ``Error.Code`` of a botocore ``ClientError`` (None for any other exception)."""
    response = getattr(exc, "response", None)
    return (response.get("Error") or {}).get("Code") if isinstance(response, dict) else None


class Classifier:
    """Maps exceptions to an :class:`ErrorClass`: ``codes`` (AWS error code -> class) first, then a 5xx
    status, then ``types`` (exception class -> class, the most specific in the exception's MRO wins), else
    ``default``. Add to it with :meth:`add` or by editing the dicts."""

    def __init__(self, *, types=None, codes=None, default: ErrorClass = ErrorClass.SYSTEM):
        self.types = dict(DEFAULT_TYPES if types is None else types)
        self.codes = dict.fromkeys(TRANSIENT_CODES, ErrorClass.TRANSIENT) if codes is None else dict(codes)
        self.default = _error_class(default)

    def add(self, key, error_class: ErrorClass) -> Classifier:
        """Classify ``key`` (an exception class, or an AWS error code string) as ``error_class``."""
        error_class = _error_class(error_class)
        if isinstance(key, str):
            self.codes[key] = error_class
        elif isinstance(key, type) and issubclass(key, BaseException):
            self.types[key] = error_class
        else:
            raise TypeError(f"classify an exception class or an AWS error code string, got {key!r}")
        return self

    def classify(self, exc: BaseException) -> ErrorClass:
        """The class of ``exc``."""
        if not isinstance(exc, BaseException):
            raise TypeError(f"classify takes an exception, got {exc!r}")
        code = aws_error_code(exc)
        if code in self.codes:
            return self.codes[code]
        if code is not None:
            status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            if status in TRANSIENT_STATUSES:
                return ErrorClass.TRANSIENT
        for cls in type(exc).__mro__:
            if cls in self.types:
                return self.types[cls]
        return self.default

    def decide(self, exc: BaseException) -> Decision:
        """What to do about ``exc``: its class and the policy for that class."""
        error_class = self.classify(exc)
        return Decision(exc, error_class, POLICIES[error_class])

    def is_transient(self, exc: BaseException) -> bool:
        """Whether retrying ``exc`` may help (a ``retry_on`` predicate for :class:`Retry`)."""
        return self.classify(exc) is ErrorClass.TRANSIENT


def _error_class(value) -> ErrorClass:
    if not isinstance(value, ErrorClass):
        raise TypeError(f"expected an ErrorClass (e.g. ErrorClass.TRANSIENT), got {value!r}")
    return value


#: The classifier :func:`classify`, :func:`decide` and :func:`is_transient` use; add to it to teach it more.
CLASSIFIER = Classifier()


def classify(exc: BaseException) -> ErrorClass:
    """The class of ``exc`` by :data:`CLASSIFIER`."""
    return CLASSIFIER.classify(exc)


def decide(exc: BaseException) -> Decision:
    """What to do about ``exc`` by :data:`CLASSIFIER` and :data:`POLICIES`."""
    return CLASSIFIER.decide(exc)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a transient error by :data:`CLASSIFIER` (``retry(retry_on=is_transient)``)."""
    return CLASSIFIER.is_transient(exc)
