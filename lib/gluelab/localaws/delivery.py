"""Deliveries from one AWS service to another, one path per kind of destination, as AWS makes them.

S3 notifications, SNS subscriptions, EventBridge targets and the Lambda pollers all hand a payload to a
destination named by its ARN: a Lambda function (invoked through Lambda's own invoke path, :func:`invoke`), an
SQS queue, an SNS topic, a Step Functions state machine, a CloudWatch Logs group, or what another module of this
package registers with :func:`destination` (an event bus, a Glue workflow). Each path writes through moto's
backends, so what arrives is what a client reading the destination sees.

On AWS these deliveries are asynchronous: the call that caused them (PutObject, Publish, PutEvents) returns
first. :func:`later` runs them on a few background threads, in order of submission per thread; ``lab.clock``'s
``run_due()`` waits for them to finish before lab time moves (:func:`settled`). A destination that is missing or
refuses raises :class:`DeliveryError`; the sender decides what AWS does with it (retry, a dead-letter queue)
and logs it: nothing is lost silently.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from . import logship, scheduler

_log = logging.getLogger("gluelab.localaws")

#: ``service -> deliver(arn, payload, **options)`` for destinations other modules add.
_DESTINATIONS: dict[str, Callable[..., None]] = {}
#: How many background threads deliver (a slow Lambda handler does not hold up the others).
WORKERS = 4
#: How long ``run_due`` waits at most for deliveries in flight.
SETTLE_SECONDS = 120.0


class DeliveryError(Exception):
    """A destination that does not exist or refused the payload: ``code`` and ``message`` as AWS reports them."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Arn:
    """The parts of an ARN: ``arn:partition:service:region:account:resource``."""
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> "Arn":
        parts = str(text).split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise DeliveryError("InvalidArn", f"{text!r} is not an ARN")
        return cls(parts[2], parts[3], parts[4], parts[5])

    @property
    def name(self) -> str:
        """The resource's name: the part after the last ``/`` or ``:``."""
        return self.resource.replace(":", "/").rsplit("/", 1)[-1]


def destination(service: str):
    """Register ``fn(arn: Arn, payload: str, **options)`` as the delivery path for ARNs of ``service``."""
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        _DESTINATIONS[service] = fn
        return fn
    return register


def deliver(target_arn: str, payload: str, **options: Any) -> None:
    """Deliver ``payload`` (text: JSON for most destinations) to ``target_arn`` now; raise DeliveryError.

    Options: ``message_group_id`` and ``message_attributes`` (SQS), ``subject`` and ``message_attributes``
    (SNS), ``execution_name`` (Step Functions), ``event`` (the EventBridge event, for destinations that keep it
    whole, e.g. a Glue workflow)."""
    arn = Arn.parse(target_arn)
    fn = _DESTINATIONS.get(arn.service)
    if fn is None:
        raise DeliveryError("UnsupportedTarget", f"gluelab delivers nothing to {arn.service} ({target_arn})")
    fn(arn, payload, **options)


# --- the built-in destinations ---------------------------------------------------------------------------------

@destination("lambda")
def _to_lambda(arn: Arn, payload: str, **_options) -> None:
    invoke(target_arn_of(arn), payload, "Event")


def target_arn_of(arn: Arn) -> str:
    return f"arn:aws:{arn.service}:{arn.region}:{arn.account}:{arn.resource}"


def invoke(function_arn: str, payload: str, invocation_type: str = "RequestResponse") -> tuple[bytes, str | None]:
    """Invoke a Lambda function through Lambda's invoke path (what ``lambda.invoke`` does); return the response
    payload and the function error (``"Handled"``/``"Unhandled"``, None when the handler returned). Raises
    DeliveryError when the function does not exist."""
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.utils import get_backend

    arn = Arn.parse(function_arn)
    backend = get_backend(arn.account, arn.region)
    response_headers: dict[str, str] = {}
    try:
        result = backend.invoke(function_arn, None, payload, {"x-amz-invocation-type": invocation_type},
                                response_headers)
    except UnknownFunctionException as exc:
        raise DeliveryError("ResourceNotFoundException", f"Function not found: {function_arn}") from exc
    if isinstance(result, str):
        result = result.encode()
    return result or b"", response_headers.get("x-amz-function-error")


@destination("sqs")
def _to_sqs(arn: Arn, payload: str, message_group_id: str | None = None, message_attributes: dict | None = None,
            deduplication_id: str | None = None, **_options) -> None:
    from moto.sqs.exceptions import QueueDoesNotExist
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[arn.account][arn.region]
    try:
        backend.send_message(arn.resource, payload, message_attributes=message_attributes or {},
                             group_id=message_group_id, deduplication_id=deduplication_id,
                             validate_group_id=False)
    except QueueDoesNotExist as exc:
        raise DeliveryError("AWS.SimpleQueueService.NonExistentQueue",
                            "The specified queue does not exist.") from exc


@destination("sns")
def _to_sns(arn: Arn, payload: str, subject: str | None = None, message_attributes: dict | None = None,
            **_options) -> None:
    from moto.sns.exceptions import SNSNotFoundError
    from moto.sns.models import sns_backends

    try:
        sns_backends[arn.account][arn.region].publish(payload, target_arn_of(arn), subject=subject,
                                                      message_attributes=message_attributes or {})
    except SNSNotFoundError as exc:
        raise DeliveryError("NotFound", f"Topic does not exist: {target_arn_of(arn)}") from exc


@destination("states")
def _to_state_machine(arn: Arn, payload: str, execution_name: str | None = None, **_options) -> None:
    from moto.stepfunctions.exceptions import StateMachineDoesNotExist
    from moto.stepfunctions.responses import get_backend

    try:  # the backend StartExecution uses (moto's interpreter when the local endpoint switched it on)
        get_backend(arn.account, arn.region).start_execution(target_arn_of(arn), execution_name or "", payload)
    except StateMachineDoesNotExist as exc:
        raise DeliveryError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{target_arn_of(arn)}'") \
            from exc


@destination("logs")
def _to_log_group(arn: Arn, payload: str, **_options) -> None:
    from moto.logs.models import logs_backends

    group = arn.resource.split(":", 1)[1] if arn.resource.startswith("log-group:") else arn.resource
    group = group.removesuffix(":*")
    if group not in logs_backends[arn.account][arn.region].groups:
        raise DeliveryError("ResourceNotFoundException", f"The specified log group does not exist: {group}")
    logship.ship(arn.account, arn.region, group, str(uuid.uuid4()), [payload])


# --- asynchronous delivery ----------------------------------------------------------------------------------------

_queue: "queue.Queue[tuple[Callable, tuple, dict]]" = queue.Queue()
_pending = 0
_idle = threading.Condition()
_workers: list[threading.Thread] = []
_start_lock = threading.Lock()


def later(fn: Callable, *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` on a background delivery thread; an exception it raises is logged."""
    global _pending
    with _start_lock:
        while len(_workers) < WORKERS:
            worker = threading.Thread(target=_work, name=f"gluelab-delivery-{len(_workers)}", daemon=True)
            worker.start()
            _workers.append(worker)
    with _idle:
        _pending += 1
    _queue.put((fn, args, kwargs))


def _work() -> None:
    global _pending
    while True:
        fn, args, kwargs = _queue.get()
        try:
            fn(*args, **kwargs)
        except Exception:
            _log.exception("a delivery failed")
        finally:
            with _idle:
                _pending -= 1
                _idle.notify_all()


@scheduler.settle
def settled(timeout: float | None = None) -> bool:
    """Wait until no delivery is queued or running (at most ``timeout`` seconds, default SETTLE_SECONDS);
    return whether that happened."""
    deadline = time.monotonic() + (SETTLE_SECONDS if timeout is None else timeout)
    with _idle:
        while _pending:
            left = deadline - time.monotonic()
            if left <= 0:
                _log.warning("deliveries still running after %.0f s; the lab clock moves on", SETTLE_SECONDS)
                return False
            _idle.wait(left)
    return True
