"""Amazon SNS: moto's SNS as it is (topics, subscriptions to SQS, filter policies).

Teardown deletes the lab's topics, found by name (the last part of a topic's ARN).
"""
from __future__ import annotations

from .service import Owned, Service, tag_list


def _topic_arns(sns) -> list[str]:
    return [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page.get("Topics", [])]


SERVICE = Service(
    "sns", guarded=("TopicArn", "TargetArn"),
    operations=("CreateTopic", "DeleteTopic", "Publish", "PublishBatch", "Subscribe", "SetTopicAttributes",
                "TagResource", "UntagResource"),
    owned=(Owned("SNS topic", _topic_arns, lambda sns, arn: sns.delete_topic(TopicArn=arn),
                 name_of=lambda arn: arn.rsplit(":", 1)[-1],
                 tags=lambda sns, arn, _account: tag_list(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])),))
