"""Amazon SQS: moto's SQS as it is (queues, dead-letter queues with RedrivePolicy and maxReceiveCount); Lambda
polls it through event source mappings (:mod:`.lambda_event_sources`).

Teardown deletes the lab's queues, found by name (a queue URL ends with the queue's name). The guard checks the
queue and, in a RedrivePolicy, the dead-letter queue.
"""
from __future__ import annotations

import json

from .service import Owned, Service


def _queue_urls(sqs) -> list[str]:
    return [url for page in sqs.get_paginator("list_queues").paginate() for url in page.get("QueueUrls", [])]


def _dead_letter_queue(_client, params: dict) -> list[str]:
    """The dead-letter queue a RedrivePolicy names: the lab must own it too."""
    policy = (params.get("Attributes") or {}).get("RedrivePolicy")
    try:
        target = json.loads(policy).get("deadLetterTargetArn") if policy else None
    except (TypeError, ValueError, AttributeError):
        return ["(a RedrivePolicy that is not JSON)"]
    return [target] if target else []


SERVICE = Service(
    "sqs", guarded=("QueueName", "QueueUrl"),
    operations=("CreateQueue", "DeleteQueue", "SendMessage", "SendMessageBatch", "ReceiveMessage",
                "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
                "PurgeQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"),
    owned=(Owned("SQS queue", _queue_urls, lambda sqs, url: sqs.delete_queue(QueueUrl=url),
                 name_of=lambda url: url.rstrip("/").rsplit("/", 1)[-1],
                 tags=lambda sqs, url, _account: sqs.list_queue_tags(QueueUrl=url).get("Tags", {})),),
    resolvers={"CreateQueue": _dead_letter_queue, "SetQueueAttributes": _dead_letter_queue})
