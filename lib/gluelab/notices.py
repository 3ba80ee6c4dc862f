"""Reading what an SNS topic sends, from a notebook: an SQS queue subscribed to the topic.

Why: a pipeline tells people what happened by publishing to an SNS topic (email, chat, a pager). A notebook
cannot read an inbox, so a lesson subscribes a queue of its own to the topic (what the topic's subscribers
receive lands there) and reads the queue. Plain SNS and SQS calls, on both backends.
"""
from __future__ import annotations

from . import queues


class Inbox:
    """An SQS queue (``<prefix>--<name>``) subscribed to ``topic_arn`` with raw message delivery, so each
    message is exactly what was published. :meth:`read` returns what arrived since the last read."""

    def __init__(self, lab, topic_arn: str, name: str = "inbox"):
        self.lab = lab
        sns = lab.client("sns")
        queue = queues.ensure(lab, name, senders=("sns.amazonaws.com",))  # SNS may send to it
        self.url, arn = queue.url, queue.arn
        subscribed = any(s["Endpoint"] == arn for page in
                         sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
                         for s in page["Subscriptions"])
        if not subscribed:
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true"})

    def read(self) -> list:
        """The messages waiting, oldest first, read and deleted; a JSON message is decoded."""
        return [message["Body"] for message in queues.drain(self.lab, self.url)]
