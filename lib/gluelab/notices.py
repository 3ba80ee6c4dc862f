"""Reading what an SNS topic sends, from a notebook: an SQS queue subscribed to the topic.

Why: a pipeline tells people what happened by publishing to an SNS topic (email, chat, a pager). A notebook
cannot read an inbox, so a lesson subscribes a queue of its own to the topic (what the topic's subscribers
receive lands there) and reads the queue. Plain SNS and SQS calls, on both backends.
"""
from __future__ import annotations

import json


class Inbox:
    """An SQS queue (``<prefix>--<name>``) subscribed to ``topic_arn`` with raw message delivery, so each
    message is exactly what was published. :meth:`read` returns what arrived since the last read."""

    def __init__(self, lab, topic_arn: str, name: str = "inbox"):
        self.sqs = lab.client("sqs")
        sns = lab.client("sns")
        self.url = self.sqs.create_queue(QueueName=lab.names.resource(name))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        subscribed = any(s["Endpoint"] == arn for page in
                         sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
                         for s in page["Subscriptions"])
        if not subscribed:
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true"})

    def read(self) -> list:
        """The messages waiting, oldest first, read and deleted; a JSON message is decoded."""
        notices = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return notices
            for message in messages:
                try:
                    notices.append(json.loads(message["Body"]))
                except ValueError:
                    notices.append(message["Body"])
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
