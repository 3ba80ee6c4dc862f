"""A dead-letter queue (DLQ) on Amazon SQS: problem records go aside for review instead of stopping the run.

A record that cannot be processed (bad data, a rule it breaks, a handler that keeps crashing) is sent to a
separate queue with the reason, so the rest of the batch goes on and nothing is lost. People review the
letters (:meth:`DeadLetterQueue.drain`), fix the cause, and reprocess them in a batch
(:meth:`DeadLetterQueue.redrive`): what the fix handles is deleted, what still fails stays in the queue, and
the report accounts for every letter.

SQS can also move messages to a DLQ by itself: a source queue's ``RedrivePolicy`` names the DLQ and a
``maxReceiveCount``; a message received that many times without being deleted moves to the DLQ on the next
receive. :func:`create_queue_with_dlq` sets that up with plain SQS calls. Standard (not FIFO) queues.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._common import as_clock, describe

#: Seconds a received letter stays hidden from other readers while it is reviewed or reprocessed.
HOLD_SECONDS = 300


@dataclass(frozen=True)
class DeadLetter:
    """One message of the DLQ. ``record`` is what was sent (for a message SQS moved by a redrive policy,
    its body, parsed as JSON when it is JSON); ``reason``, ``source``, ``error`` and ``failed_at`` are None
    for such messages."""
    record: Any
    reason: str | None
    source: str | None
    error: str | None
    failed_at: str | None
    message_id: str
    receipt_handle: str = field(repr=False)
    receive_count: int = 0
    body: str = field(default="", repr=False)


@dataclass
class RedriveReport:
    """What :meth:`DeadLetterQueue.redrive` did: ``processed`` letters were handled and deleted, ``kept``
    letters failed again (with the error) and are still in the queue; together they are every letter read."""
    processed: list[DeadLetter] = field(default_factory=list)
    kept: list[tuple[DeadLetter, BaseException]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.processed) + len(self.kept)

    def __str__(self) -> str:
        lines = [(f"redrive: {self.total} letters, {len(self.processed)} reprocessed and deleted, "
                  f"{len(self.kept)} kept in the dead-letter queue")]
        lines += [f"  kept {letter.message_id}: {describe(err)}" for letter, err in self.kept]
        return "\n".join(lines)


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string (SQS rejects empty attribute values), "
                         f"got {value!r}")
    return value


class DeadLetterQueue:
    """The dead-letter queue at ``queue_url``, over a boto3 SQS client. ``clock`` stamps ``failed_at``."""

    def __init__(self, sqs, queue_url: str, *, clock=None):
        self.sqs, self.queue_url = sqs, _text(queue_url, "queue_url")
        self.clock = as_clock(clock)

    def send(self, record, reason: str, source: str, *, error: BaseException | str | None = None) -> str:
        """Put ``record`` (anything JSON can hold) in the queue with why it failed and where it came from;
        returns the SQS MessageId. The body is JSON ``{record, reason, source, error, failed_at}``; the
        reason, source and error type are message attributes too, so a reader can see them without parsing."""
        if isinstance(error, BaseException):
            error_type, error = type(error).__name__, f"{type(error).__name__}: {error}"
        elif error is None or isinstance(error, str):
            error_type = None
        else:
            raise TypeError(f"error must be an exception, a string or None, got {error!r}")
        envelope = {"record": record, "reason": _text(reason, "reason"), "source": _text(source, "source"),
                    "error": error, "failed_at": self.clock.now().isoformat()}
        try:
            body = json.dumps(envelope, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"a dead letter's record must be JSON data (dicts, lists, strings, numbers, "
                            f"booleans, None); convert it first: {exc}") from exc
        attributes = {"Reason": {"DataType": "String", "StringValue": reason},
                      "Source": {"DataType": "String", "StringValue": source}}
        if error_type:
            attributes["ErrorType"] = {"DataType": "String", "StringValue": error_type}
        response = self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body,
                                         MessageAttributes=attributes)
        return response["MessageId"]

    def receive(self, max_messages: int = 10, *, hold_seconds: int = HOLD_SECONDS,
                wait_seconds: int = 0) -> list[DeadLetter]:
        """Up to ``max_messages`` (1-10) letters; they stay in the queue, hidden from other readers for
        ``hold_seconds`` (the visibility timeout) unless deleted or released; ``wait_seconds`` > 0
        long-polls."""
        if isinstance(max_messages, bool) or not isinstance(max_messages, int) or not 1 <= max_messages <= 10:
            raise ValueError(f"SQS receives 1 to 10 messages at a time, got max_messages={max_messages!r}")
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=wait_seconds, MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount"])
        return [_letter(m) for m in response.get("Messages", [])]

    def _receive_all(self, hold_seconds: int):
        """Batches until the queue has no visible message left. A short poll that comes back empty is
        checked against the queue's count, then by one long poll (SQS short polls sample servers and can
        miss some)."""
        while True:
            batch = self.receive(10, hold_seconds=hold_seconds)
            if not batch and self._visible() > 0:
                batch = self.receive(10, hold_seconds=hold_seconds, wait_seconds=1)
            if not batch:
                return
            yield batch

    def _visible(self) -> int:
        return self._attributes("ApproximateNumberOfMessages")

    def count(self) -> int:
        """Messages in the queue, visible or held (exact locally; approximate on AWS, as SQS reports it)."""
        return self._attributes("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")

    def _attributes(self, *names: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                   AttributeNames=list(names))["Attributes"]
        return sum(int(attributes[name]) for name in names)

    def release(self, letters: list[DeadLetter]) -> None:
        """Make received ``letters`` visible again at once (they stay in the queue)."""
        for start in range(0, len(letters), 10):
            entries = [{"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                       for i, letter in enumerate(letters[start:start + 10])]
            failed = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url,
                                                              Entries=entries).get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS could not release {len(failed)} letters: {failed}")

    def drain(self, *, release: bool = True) -> list[DeadLetter]:
        """Every letter in the queue, for review. Nothing is deleted; with ``release`` (default) they are
        visible again afterwards, otherwise hidden for :data:`HOLD_SECONDS`."""
        letters: dict[str, DeadLetter] = {}
        for batch in self._receive_all(HOLD_SECONDS):
            letters.update((letter.message_id, letter) for letter in batch)
        if release:
            self.release(list(letters.values()))
        return list(letters.values())

    def delete(self, letter: DeadLetter) -> None:
        """Remove a received letter from the queue for good."""
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt_handle)

    def redrive(self, fn) -> RedriveReport:
        """Reprocess every letter: ``fn(record)``; a letter ``fn`` returns from is deleted, one it raises on
        stays in the queue (visible again) and is reported with the error. Nothing is dropped: processed +
        kept = the letters that were in the queue."""
        if not callable(fn):
            raise TypeError(f"redrive needs a function record -> anything, got {fn!r}")
        report = RedriveReport()
        for batch in self._receive_all(HOLD_SECONDS):
            for letter in batch:
                try:
                    fn(letter.record)
                except Exception as exc:
                    report.kept.append((letter, exc))
                    continue
                self.delete(letter)
                report.processed.append(letter)
        self.release([letter for letter, _ in report.kept])
        return report


def _letter(message: dict) -> DeadLetter:
    body = message["Body"]
    count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body
    attributes = message.get("MessageAttributes", {})
    ours = isinstance(parsed, dict) and "record" in parsed and "Reason" in attributes
    envelope = parsed if ours else {"record": parsed}
    return DeadLetter(envelope["record"], envelope.get("reason"), envelope.get("source"),
                      envelope.get("error"), envelope.get("failed_at"), message["MessageId"],
                      message["ReceiptHandle"], count, body)


def create_queue_with_dlq(sqs, name: str, *, dlq_name: str | None = None, max_receive_count: int = 3,
                          attributes: dict | None = None) -> tuple[str, str]:
    """Create a DLQ (``dlq_name``, default ``<name>-dlq``) and a source queue ``name`` whose ``RedrivePolicy``
    moves a message there once it has been received ``max_receive_count`` times (1-1000) without being
    deleted. ``attributes`` are more source queue attributes. Returns ``(queue_url, dlq_url)``."""
    _text(name, "name")
    if name.endswith(".fifo") or (dlq_name or "").endswith(".fifo"):
        raise ValueError(f"{name!r}: create_queue_with_dlq makes standard queues, not FIFO queues")
    if isinstance(max_receive_count, bool) or not isinstance(max_receive_count, int) \
            or not 1 <= max_receive_count <= 1000:
        raise ValueError(f"maxReceiveCount must be a whole number from 1 to 1000, got {max_receive_count!r}")
    dlq_url = sqs.create_queue(QueueName=dlq_name or f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})
    queue = sqs.create_queue(QueueName=name, Attributes={**(attributes or {}), "RedrivePolicy": policy})
    return queue["QueueUrl"], dlq_url
