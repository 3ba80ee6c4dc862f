"""AWS Lambda event source mappings for SQS: a poller per mapping, as Lambda runs one.

moto stores mappings and, when a message is sent to a mapped queue, invokes the function with that one message
inside the SendMessage request (so BatchSize, the batching window, partial batch failures and the visibility
timeout never apply), and keeps invoking after the mapping is deleted. Here moto's send-time invocation is
switched off (the mapping is taken off moto's queue) and each mapping gets a poller that does what Lambda does:

* it receives up to ``BatchSize`` visible messages (with their attributes, so the receive counts and the queue's
  RedrivePolicy apply: a message received ``maxReceiveCount`` times moves to the dead-letter queue when it would
  be received again) and invokes the function synchronously with AWS's SQS event (``Records`` with ``messageId``,
  ``receiptHandle``, ``body``, ``attributes``, ``messageAttributes``, ``md5OfBody``, ``eventSource``,
  ``eventSourceARN``, ``awsRegion``) through Lambda's invoke path (:func:`.delivery.invoke`);
* with ``MaximumBatchingWindowInSeconds``, it gathers messages until the batch is full or the window, counted from
  the first message, has passed: on the lab clock (``lab.clock.advance`` + ``run_due``), or in real time,
  whichever comes first;
* when the function returns, the batch is deleted; with ``FunctionResponseTypes`` ``["ReportBatchItemFailures"]``
  only the messages not listed in the response's ``batchItemFailures`` (an unknown ``itemIdentifier`` fails the
  whole batch, as on AWS); when the function fails, nothing is deleted;
* a message left on the queue returns after the queue's VisibilityTimeout: on the lab clock (``run_due`` once lab
  time has moved that far), or in real time, whichever comes first. So a lesson shows a poison message reach the
  dead-letter queue by moving the lab clock ``maxReceiveCount`` times, within a second or two.

``run_due`` first waits until every poller is idle (no invocation running, no visible message left to take), so
lab time moves after what already happened. Mappings read as AWS reports them: ``Creating``, ``Updating``,
``Deleting`` in the answer to the call that changed them, then ``Enabled`` or ``Disabled`` (StateTransitionReason
``USER_INITIATED``); CreateEventSourceMapping refuses a second mapping of the same queue and function, a BatchSize
over 10 without a batching window, and a queue whose VisibilityTimeout is shorter than the function's Timeout,
with AWS's errors.

Guard: CreateEventSourceMapping needs the function and the queue to be the lab's; Update/DeleteEventSourceMapping
name the mapping by UUID, so the guard reads the mapping to find its function. Teardown deletes the lab's
mappings (found through their function's name) before functions and queues.
"""
from __future__ import annotations

import base64
import json
import logging
import threading
import time

from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.awslambda.utils import get_backend
from moto.awslambda.exceptions import LambdaClientError
from moto.sqs.models import Queue, sqs_backends

from . import delivery, scheduler
from .hooks import hook
from .service import Owned, Service

_log = logging.getLogger("gluelab.localaws")
#: How long a poller sleeps at most between two looks at its queue (real seconds): it is woken at once when a
#: message arrives, so this only bounds how late a real-time visibility timeout or batching window is noticed.
POLL_SECONDS = 0.25
#: How long ``run_due`` waits at most for the pollers to be idle.
SETTLE_SECONDS = 120.0


# --- what the guard checks and teardown deletes ------------------------------------------------------------------

def _mappings(client) -> list[str]:
    """``function-name/uuid`` of every mapping."""
    out = []
    for page in client.get_paginator("list_event_source_mappings").paginate():
        for m in page.get("EventSourceMappings", []):
            out.append(f"{m['FunctionArn'].split(':function:', 1)[-1].split(':')[0]}/{m['UUID']}")
    return out


def _mapping_tags(client, ident: str, _account: str) -> dict:
    arn = client.get_event_source_mapping(UUID=ident.rsplit("/", 1)[1])["EventSourceMappingArn"]
    return client.list_tags(Resource=arn).get("Tags", {})


def _mapping_function(client, params: dict) -> list[str]:
    """The function of the mapping a call names by UUID (read from Lambda)."""
    return [client.get_event_source_mapping(UUID=params["UUID"])["FunctionArn"]]


SERVICE = Service(
    "lambda", guarded=("FunctionName", "EventSourceArn"),
    operations=("CreateEventSourceMapping", "UpdateEventSourceMapping", "DeleteEventSourceMapping"),
    owned=(Owned("event source mapping", _mappings,
                 lambda client, ident: client.delete_event_source_mapping(UUID=ident.rsplit("/", 1)[1]),
                 name_of=lambda ident: ident.rsplit("/", 1)[0], tags=_mapping_tags),),
    resolvers={"UpdateEventSourceMapping": _mapping_function, "DeleteEventSourceMapping": _mapping_function})


# --- the mappings' API ----------------------------------------------------------------------------------------------

def _queue_of(esm: EventSourceMapping) -> Queue | None:
    parts = esm.event_source_arn.split(":")
    backend = sqs_backends[parts[4]][parts[3]]
    return backend.queues.get(parts[5])


class _Conflict(LambdaClientError):
    code = 409


def _invalid(message: str) -> LambdaClientError:
    return LambdaClientError("InvalidParameterValueException", message)


@hook(LambdaBackend, "create_event_source_mapping", ("spec",))
def _create(original, backend: LambdaBackend, spec: dict):
    source = str(spec.get("EventSourceArn") or "")
    if ":sqs:" in source:
        batch = spec.get("BatchSize")
        if batch is not None and int(batch) > 10 and not int(spec.get("MaximumBatchingWindowInSeconds") or 0):
            raise _invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                           "greater than 10")
        function = backend.get_function(spec.get("FunctionName", ""))
        for other in backend._event_source_mappings.values():
            if other.event_source_arn == source and other.function_arn == function.function_arn:
                raise _Conflict("ResourceConflictException",
                                f'An event source mapping with SQS arn (" {source} ") and function '
                                f'(" {spec.get("FunctionName")} ") already exists. Please update or delete the '
                                f"existing mapping with UUID {other.uuid}")
        parts = source.split(":")
        queue = sqs_backends[parts[4]][parts[3]].queues.get(parts[5]) if len(parts) == 6 else None
        if queue is not None and int(queue.visibility_timeout) < int(function.timeout or 3):
            raise _invalid(f"Queue visibility timeout: {int(queue.visibility_timeout)} seconds is less than "
                           f"Function timeout: {int(function.timeout or 3)} seconds")
    esm = original(backend, spec)
    if ":sqs:" in source:
        queue = _queue_of(esm)
        if queue is not None:
            queue.lambda_event_source_mappings.pop(esm.function_arn, None)  # no invocation at send time
        esm.gluelab_transition = "Creating"
        Poller.start(esm)
    return esm


@hook(LambdaBackend, "update_event_source_mapping", ("uuid", "spec"))
def _update(original, backend: LambdaBackend, uuid: str, spec: dict):
    esm = original(backend, uuid, spec)
    if esm is not None:
        esm.gluelab_transition = "Updating"
        poller = Poller.running.get(esm.uuid)
        if poller is not None:
            poller.wake()
    return esm


@hook(LambdaBackend, "delete_event_source_mapping", ("uuid",))
def _delete(original, backend: LambdaBackend, uuid: str):
    esm = original(backend, uuid)
    poller = Poller.running.pop(uuid, None)
    if poller is not None:
        poller.stop()
    return esm


@hook(LambdaBackend, "list_event_source_mappings", ("event_source_arn", "function_name"))
def _list(original, backend: LambdaBackend, event_source_arn, function_name):
    """FunctionName filters by the function however it is named (name, ARN, partial ARN), as on AWS."""
    mappings = original(backend, event_source_arn, None)
    if not function_name:
        return mappings
    try:
        wanted = backend.get_function(function_name).function_arn
    except Exception:
        return []
    return [m for m in mappings if m.function_arn.split(":$")[0] == wanted or m.function_arn == wanted]


@hook(EventSourceMapping, "get_configuration", ())
def _configuration(original, esm: EventSourceMapping):
    """State as AWS reports it: the transitional state once, in the answer to the call that changed it."""
    config = original(esm)
    transition = esm.__dict__.pop("gluelab_transition", None)
    config["State"] = transition or ("Enabled" if esm.enabled else "Disabled")
    config["StateTransitionReason"] = "USER_INITIATED"
    if ":sqs:" in esm.event_source_arn:
        config.setdefault("MaximumBatchingWindowInSeconds", 0)
        config.setdefault("FunctionResponseTypes", [])
    return config


@hook(Queue, "add_message", ("message",))
def _message_added(original, queue: Queue, message):
    original(queue, message)
    for poller in list(Poller.running.values()):
        if poller.queue_arn == queue.queue_arn:
            poller.wake()


# --- the poller ------------------------------------------------------------------------------------------------------

def sqs_record(message, queue: Queue) -> dict:
    """One record of Lambda's SQS event."""
    attributes = {"ApproximateReceiveCount": str(message.approximate_receive_count),
                  "SentTimestamp": str(message.sent_timestamp), "SenderId": message.sender_id,
                  "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp)}
    if queue.fifo_queue:
        attributes.update(SequenceNumber=str(message.sequence_number), MessageGroupId=message.group_id,
                          MessageDeduplicationId=message.deduplication_id)
    message_attributes = {}
    for name, value in message.message_attributes.items():
        entry = {"dataType": value.get("DataType")}
        if value.get("StringValue") is not None:
            entry["stringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            binary = value["BinaryValue"]
            entry["binaryValue"] = binary if isinstance(binary, str) else base64.b64encode(binary).decode()
        entry.update(stringListValues=[], binaryListValues=[])
        message_attributes[name] = entry
    record = {"messageId": message.id, "receiptHandle": message.receipt_handle, "body": message.body,
              "attributes": attributes, "messageAttributes": message_attributes}
    if message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    record.update(md5OfBody=message.body_md5, eventSource="aws:sqs", eventSourceARN=queue.queue_arn,
                  awsRegion=queue.region)
    return record


def failed_items(response: bytes, message_ids: list[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response lists; None when the whole batch counts as failed (an
    item without a known identifier, or a response Lambda cannot read)."""
    text = (response or b"").decode("utf-8", "replace").strip()
    if not text or text == "null":
        return set()
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return set()
    failures = answer.get("batchItemFailures") or []
    ids = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in message_ids:
            return None
        ids.add(identifier)
    return ids


class Poller:
    """The poller of one SQS event source mapping (one batch at a time)."""

    running: dict[str, "Poller"] = {}
    _idle = threading.Condition()

    def __init__(self, esm: EventSourceMapping):
        self.esm = esm
        self.queue_arn = esm.event_source_arn
        self._wake = threading.Event()
        self._stopped = False
        self.busy = False
        self.window_ended = threading.Event()

    @classmethod
    def start(cls, esm: EventSourceMapping) -> "Poller":
        poller = cls(esm)
        cls.running[esm.uuid] = poller
        threading.Thread(target=poller._loop, name=f"gluelab-sqs-poller-{esm.uuid[:8]}", daemon=True).start()
        return poller

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _alive(self) -> bool:
        if self._stopped:
            return False
        try:
            backend = get_backend(self.esm.account_id, self.esm.region)
        except Exception:
            return False
        return backend._event_source_mappings.get(self.esm.uuid) is self.esm

    def idle(self) -> bool:
        """Nothing running and nothing visible to take (or the mapping is disabled, or a window is open)."""
        if self.busy or not self._alive():
            return not self.busy
        queue = _queue_of(self.esm)
        return not self.esm.enabled or queue is None or not queue.messages

    def _set_busy(self, busy: bool) -> None:
        with Poller._idle:
            self.busy = busy
            Poller._idle.notify_all()

    def _loop(self) -> None:
        while self._alive():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if not self._alive() or not self.esm.enabled:
                continue
            try:
                self._poll()
            except Exception:
                _log.exception("the SQS poller of event source mapping %s failed", self.esm.uuid)
                self._set_busy(False)
                time.sleep(POLL_SECONDS)
        Poller.running.pop(self.esm.uuid, None)

    def _receive(self, queue: Queue, count: int) -> list:
        backend = sqs_backends[queue.account_id][queue.region]
        return backend.receive_message(queue.name, count, 0, int(queue.visibility_timeout),
                                       message_attribute_names=["All"])

    def _poll(self) -> None:
        queue = _queue_of(self.esm)
        if queue is None or not queue.messages:
            return
        self._set_busy(True)
        try:
            size = int(self.esm.batch_size)
            batch = self._receive(queue, min(size, 10))
            window = int(self.esm.max_batch_window or 0)
            if batch and window and len(batch) < size:
                batch += self._gather(queue, size - len(batch), window)
            if batch:
                self._invoke(queue, batch)
        finally:
            self._set_busy(False)

    def _gather(self, queue: Queue, wanted: int, window: int) -> list:
        """More messages until ``wanted`` more arrived or the window ended (lab clock or real time)."""
        self.window_ended.clear()
        timer = scheduler.countdown(window, self._end_window)
        deadline = time.monotonic() + window
        got: list = []
        self._set_busy(False)  # waiting for the window: idle for the lab clock
        try:
            while len(got) < wanted and not self.window_ended.is_set() and time.monotonic() < deadline:
                if not self._alive():
                    break
                got += self._receive(queue, min(wanted - len(got), 10))
                if len(got) < wanted:
                    self._wake.wait(POLL_SECONDS)
                    self._wake.clear()
        finally:
            timer.cancel()
            self._set_busy(True)
        return got

    def _end_window(self) -> str | None:
        self.window_ended.set()
        self._wake.set()
        return None

    def _invoke(self, queue: Queue, batch: list) -> None:
        payload = json.dumps({"Records": [sqs_record(m, queue) for m in batch]})
        ids = [m.id for m in batch]
        try:
            response, error = delivery.invoke(self.esm.function_arn, payload, "RequestResponse")
        except delivery.DeliveryError as exc:
            response, error = b"", str(exc)
        if error:
            failed = set(ids)
        elif "ReportBatchItemFailures" in (self.esm.function_response_types or []):
            listed = failed_items(response, ids)
            failed = set(ids) if listed is None else listed
        else:
            failed = set()
        backend = sqs_backends[queue.account_id][queue.region]
        for message in batch:
            if message.id in failed:
                self._return_later(queue, message)
            else:
                try:
                    backend.delete_message(queue.name, message.receipt_handle)
                except Exception:
                    _log.warning("could not delete message %s from %s after its batch succeeded", message.id,
                                 queue.name)

    def _return_later(self, queue: Queue, received) -> None:
        """A failed message becomes visible again after the queue's VisibilityTimeout of lab time (moto already
        counts it in real time)."""
        def visible_again() -> str | None:
            for message in list(queue._messages):
                if message.id == received.id and message.receipt_handle == received.receipt_handle:
                    message.visible_at = 0.0
                    self.wake()
            return None
        scheduler.countdown(int(queue.visibility_timeout), visible_again)


@scheduler.settle
def settled(timeout: float | None = None) -> bool:
    """Wait until every poller is idle (at most ``timeout`` seconds, default SETTLE_SECONDS)."""
    deadline = time.monotonic() + (SETTLE_SECONDS if timeout is None else timeout)
    with Poller._idle:
        while not all(p.idle() for p in list(Poller.running.values())):
            left = deadline - time.monotonic()
            if left <= 0:
                _log.warning("Lambda pollers still busy after %.0f s; the lab clock moves on", SETTLE_SECONDS)
                return False
            Poller._idle.wait(min(left, POLL_SECONDS))
    return True
