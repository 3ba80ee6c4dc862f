"""SQS queues for the lessons: make one that AWS services may send to, and read what is waiting.

Why a module: event-driven lessons put a queue between an event and the code that handles it (S3 notifications,
EventBridge rules, dead-letter queues), and a notebook reads queues to show what arrived. Each needs the same
three calls: create the queue and look up its ARN, give it a policy that lets S3 or EventBridge send to it
(without one, AWS refuses the notification configuration or drops the events), and receive-and-delete until
nothing is left. Plain SQS calls, on both backends.
"""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Queue:
    """A queue's URL (what SQS calls take) and ARN (what notifications, rules and mappings name)."""
    url: str
    arn: str


def ensure(lab, name: str, *, senders: tuple[str, ...] = (), **attributes: str) -> Queue:
    """The queue ``<prefix>--<name>`` with ``attributes`` (e.g. ``VisibilityTimeout="10"``), created unless it
    exists. ``senders`` (e.g. ``("s3.amazonaws.com", "events.amazonaws.com")``) are the AWS services its policy
    lets send to it, from this account only."""
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=lab.names.resource(name), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if senders:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": list(senders)}, "Action": "sqs:SendMessage",
                "Resource": arn, "Condition": {"StringEquals": {"aws:SourceAccount": lab.account_id}}}]})})
    return Queue(url, arn)


def drain(lab, url: str, *, wait_seconds: int = 0) -> list[dict]:
    """Every message waiting in the queue, oldest first, received and deleted (a ``Body`` holding a JSON object
    or array decoded, the rest of each message as SQS returns it). ``wait_seconds`` long-polls for the first
    message."""
    sqs = lab.client("sqs")
    drained: list[dict] = []
    wait = wait_seconds
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=wait).get("Messages", []):
        wait = 0
        for message in messages:
            if message["Body"].lstrip()[:1] in ("{", "["):
                try:
                    message = {**message, "Body": json.loads(message["Body"])}
                except ValueError:
                    pass
            drained.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return drained
