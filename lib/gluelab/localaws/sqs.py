"""Amazon SQS: moto's SQS as it is (queues, dead-letter queues with RedrivePolicy and maxReceiveCount).

Teardown deletes the lab's queues, found by name (a queue URL ends with the queue's name).
"""
from __future__ import annotations

from .service import Owned, Service


def _queue_urls(sqs) -> list[str]:
    return [url for page in sqs.get_paginator("list_queues").paginate() for url in page.get("QueueUrls", [])]


SERVICE = Service(
    "sqs", guarded=("QueueName", "QueueUrl"),
    operations=("CreateQueue", "DeleteQueue", "SendMessage", "SendMessageBatch", "ReceiveMessage",
                "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
                "PurgeQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"),
    owned=(Owned("SQS queue", _queue_urls, lambda sqs, url: sqs.delete_queue(QueueUrl=url),
                 name_of=lambda url: url.rstrip("/").rsplit("/", 1)[-1],
                 tags=lambda sqs, url, _account: sqs.list_queue_tags(QueueUrl=url).get("Tags", {})),))
