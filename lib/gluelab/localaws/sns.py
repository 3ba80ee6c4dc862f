"""Amazon SNS: moto's topics, subscriptions, filter policies and SQS deliveries (raw and wrapped), with Lambda and
HTTP/HTTPS subscriptions delivered as AWS delivers them.

moto invokes a Lambda subscriber synchronously with a made-up record (fixed MessageId, a 1970 Timestamp, sample
MessageAttributes, ``arn:aws:sns:EXAMPLE``), posts to an HTTP endpoint without SNS's headers and fails the
Publish when the endpoint is down, and takes HTTP subscriptions as confirmed at once. Here:

* a Lambda subscriber is invoked asynchronously (InvocationType Event) with AWS's SNS event: ``Records`` of one
  record with ``EventSource`` ``aws:sns``, the subscription's ARN and the notification (``Type``, ``MessageId``,
  ``TopicArn``, ``Subject`` (null when none), ``Message``, ``Timestamp``, ``MessageAttributes``, ...);
* an HTTP/HTTPS subscription starts pending, as on AWS: Subscribe answers ``pending confirmation``, SNS posts a
  ``SubscriptionConfirmation`` (with ``Token`` and ``SubscribeURL``) to the endpoint, and nothing is delivered
  until ConfirmSubscription gets that token or the endpoint visits the SubscribeURL (a URL of the local
  endpoint); a notification is posted with SNS's ``x-amz-sns-*`` headers, in the background, retried three
  times at once when the endpoint fails (AWS waits 20 s between tries), then dropped with a log line. HTTPS
  endpoints are not asked for a trusted certificate.

Teardown deletes the lab's topics, found by name (the last part of a topic's ARN); their subscriptions go with
them, as DeleteTopic does on AWS.
"""
from __future__ import annotations

import json
import logging
import secrets
import ssl
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

from moto.core.responses import ActionResult
from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend, Subscription
from moto.sns import urls as sns_urls
from moto.sns.responses import SNSResponse

from . import delivery, server
from .hooks import hook
from .service import Owned, Service, tag_list

_log = logging.getLogger("gluelab.localaws")
#: How many times a failed HTTP delivery is tried again.
HTTP_RETRIES = 3


def _topic_arns(sns) -> list[str]:
    return [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page.get("Topics", [])]


def _subscribe_endpoint(_client, params: dict) -> list[str]:
    """A subscription's endpoint when it is an ARN (a queue, a function): it must be the lab's too."""
    endpoint = str(params.get("Endpoint") or "")
    return [endpoint] if endpoint.startswith("arn:") else []


def _subscription_topic(_client, params: dict) -> list[str]:
    """A subscription's ARN is its topic's ARN and an id: the topic is what the lab must own."""
    return [str(params.get("SubscriptionArn") or "").rsplit(":", 1)[0]]


SERVICE = Service(
    "sns", guarded=("TopicArn", "TargetArn"),
    operations=("CreateTopic", "DeleteTopic", "Publish", "PublishBatch", "Subscribe", "ConfirmSubscription",
                "Unsubscribe", "SetSubscriptionAttributes", "SetTopicAttributes", "TagResource", "UntagResource"),
    owned=(Owned("SNS topic", _topic_arns, lambda sns, arn: sns.delete_topic(TopicArn=arn),
                 name_of=lambda arn: arn.rsplit(":", 1)[-1],
                 tags=lambda sns, arn, _account: tag_list(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])),),
    resolvers={"Subscribe": _subscribe_endpoint, "Unsubscribe": _subscription_topic,
               "SetSubscriptionAttributes": _subscription_topic})


def _notification(subscription: Subscription, message: str, message_id: str, subject: str | None,
                  message_attributes: dict | None, for_lambda: bool) -> dict:
    topic = subscription.topic
    region = topic.sns_backend.region_name
    note = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic.arn}
    if subject or for_lambda:
        note["Subject"] = subject
    note.update({"Message": message, "Timestamp": iso_8601_datetime_with_milliseconds(), "SignatureVersion": "1",
                 "Signature": "EXAMPLE", ("SigningCertUrl" if for_lambda else "SigningCertURL"):
                     f"https://sns.{region}.amazonaws.com/SimpleNotificationService-gluelab.pem",
                 ("UnsubscribeUrl" if for_lambda else "UnsubscribeURL"):
                     f"{server.endpoint_url()}/sns_{region}/?Action=Unsubscribe&SubscriptionArn="
                     f"{quote(subscription.arn, safe='')}"})
    if message_attributes or for_lambda:
        note["MessageAttributes"] = {k: {"Type": v.get("Type"), "Value": v.get("Value")}
                                     for k, v in (message_attributes or {}).items()}
    return note


@hook(Subscription, "publish", ("message", "message_id", "subject", "message_attributes", "message_structure"))
def _publish(original, subscription: Subscription, message, message_id, subject=None, message_attributes=None,
             group_id=None, deduplication_id=None, message_structure=None):
    """Lambda and HTTP(S) subscribers as on AWS; the others (SQS, ...) as moto delivers them."""
    if subscription.protocol not in ("lambda", "http", "https"):
        return original(subscription, message, message_id, subject=subject, message_attributes=message_attributes,
                        group_id=group_id, deduplication_id=deduplication_id, message_structure=message_structure)
    matcher = subscription._filter_policy_matcher
    if matcher is not None and not matcher.matches(message_attributes, message):
        return None
    if message_structure == "json":
        message = subscription._parse_message_structure(message, subscription.protocol)
    if subscription.protocol == "lambda":
        event = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                              "EventSubscriptionArn": subscription.arn,
                              "Sns": _notification(subscription, message, message_id, subject, message_attributes,
                                                   True)}]}
        delivery.later(_to_function, subscription.endpoint, json.dumps(event))
        return None
    if str(subscription.attributes.get("PendingConfirmation")).lower() == "true":
        return None
    note = _notification(subscription, message, message_id, subject, message_attributes, False)
    delivery.later(_post, subscription, note)
    return None


def _to_function(function_arn: str, payload: str) -> None:
    try:
        delivery.deliver(function_arn, payload)
    except delivery.DeliveryError as exc:
        _log.warning("SNS could not invoke %s: %s", function_arn, exc)


def _post(subscription: Subscription, message: dict) -> bool:
    """POST ``message`` to the subscription's endpoint with SNS's headers; True when it answered 2xx."""
    headers = {"Content-Type": "text/plain; charset=UTF-8", "User-Agent": "Amazon Simple Notification Service Agent",
               "x-amz-sns-message-type": message["Type"], "x-amz-sns-message-id": message["MessageId"],
               "x-amz-sns-topic-arn": subscription.topic.arn}
    if message["Type"] == "Notification":
        headers["x-amz-sns-subscription-arn"] = subscription.arn
    body = json.dumps(message).encode()
    error = None
    for _ in range(1 + HTTP_RETRIES):
        request = urllib.request.Request(subscription.endpoint, data=body, method="POST", headers=headers)
        try:
            context = ssl._create_unverified_context() if subscription.endpoint.startswith("https") else None
            with urllib.request.urlopen(request, timeout=15, context=context) as response:
                if 200 <= response.status < 300:
                    return True
                error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(exc)
    _log.warning("SNS could not deliver %s %s to %s after %d tries: %s", message["Type"], message["MessageId"],
                 subscription.endpoint, 1 + HTTP_RETRIES, error)
    return False


#: The SubscribeURL's path on the local endpoint: an unsigned GET there reaches SNS's dispatch (moto routes a
#: request to ``/<service>_<region>/`` by its path; SNS's own URL map answers ``/`` only).
_SUBSCRIBE_PATH = "{0}/sns_(?P<sns_region>[a-z0-9-]+)/$"
sns_urls.url_paths.setdefault(_SUBSCRIBE_PATH, SNSResponse.dispatch)


@hook(SNSBackend, "subscribe", ("topic_arn", "endpoint", "protocol"))
def _subscribe(original, backend: SNSBackend, topic_arn, endpoint, protocol):
    """An HTTP/HTTPS subscription is pending until confirmed; SNS posts it a SubscriptionConfirmation."""
    known = backend._find_subscription(topic_arn, endpoint, protocol)
    subscription = original(backend, topic_arn, endpoint, protocol)
    if protocol in ("http", "https") and known is None:
        subscription.attributes["PendingConfirmation"] = "true"
        subscription.attributes["ConfirmationWasAuthenticated"] = "false"
        subscription.confirmation_token = secrets.token_hex(64)
        region = backend.region_name
        url = (f"{server.endpoint_url()}/sns_{region}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}"
               f"&Token={subscription.confirmation_token}")
        delivery.later(_post, subscription, {
            "Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()),
            "Token": subscription.confirmation_token, "TopicArn": topic_arn,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, "
                       f"visit the SubscribeURL included in this message.",
            "SubscribeURL": url, "Timestamp": iso_8601_datetime_with_milliseconds(), "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-gluelab.pem"})
    return subscription


@hook(SNSResponse, "subscribe", ())
def _subscribe_answer(original, response, *args, **kwargs):
    """Subscribe answers ``pending confirmation`` for a subscription that waits for its confirmation (unless
    ReturnSubscriptionArn is true)."""
    result = original(response, *args, **kwargs)
    arn = getattr(result, "result", {}).get("SubscriptionArn") if hasattr(result, "result") else None
    subscription = response.backend.subscriptions.get(arn) if arn else None
    pending = subscription is not None and str(subscription.attributes.get("PendingConfirmation")).lower() == "true"
    if pending and str(response._get_param("ReturnSubscriptionArn")).lower() != "true":
        result.result["SubscriptionArn"] = "pending confirmation"
    return result


@hook(SNSResponse, "confirm_subscription", ())
def _confirm_subscription(original, response, *args, **kwargs):
    """ConfirmSubscription (or a visit to the SubscribeURL) with the token SNS sent confirms the subscription."""
    topic_arn, token = response._get_param("TopicArn"), response._get_param("Token")
    original(response, *args, **kwargs)  # AWS's NotFound for an unknown topic
    for subscription in response.backend.subscriptions.values():
        if subscription.topic.arn == topic_arn and getattr(subscription, "confirmation_token", None) == token:
            subscription.attributes["PendingConfirmation"] = "false"
            subscription.confirmed = True
            return ActionResult({"SubscriptionArn": subscription.arn})
    raise SNSInvalidParameter("Invalid token")
