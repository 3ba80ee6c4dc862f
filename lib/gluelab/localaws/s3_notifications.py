"""Amazon S3 event notifications: to Lambda, SQS and SNS, and to EventBridge for EventBridge-enabled buckets.

moto writes notifications at the right moments (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject)
but not as AWS does: its object key is encoded with ``/`` as ``%2F``, the record lacks the sequencer, the
request ids and the principal, a Lambda destination is invoked synchronously inside the PutObject request, a
versioned bucket's delete marker sends nothing, and its EventBridge events go to every bus. Here moto's
``send_event`` and ``send_test_event`` are replaced:

* the event record is AWS's (version 2.1; 2.3 for tagging, ACL and restore-delete events), with the object key
  URL-encoded as S3 encodes it (form encoding: a space is ``+``, ``+`` is ``%2B``; ``/`` stays ``/``), size and
  eTag for created objects, ``versionId`` on versioned buckets and a ``sequencer`` that grows with every event;
* each matching configuration (its events, including ``s3:ObjectCreated:*``, and its ``prefix``/``suffix`` key
  filters) gets the event: a Lambda function asynchronously (InvocationType Event), a queue as the message
  body, a topic as the message (Subject "Amazon S3 Notification");
* a versioned bucket's DeleteObject without a version sends ``ObjectRemoved:DeleteMarkerCreated``; deleting a
  version sends ``ObjectRemoved:Delete``;
* PutBucketNotificationConfiguration checks that each queue, topic and function exists (AWS's
  "Unable to validate the following destination configurations") and sends ``s3:TestEvent`` to each queue and
  topic (not to functions, which AWS checks by their permissions);
* a bucket with ``EventBridgeConfiguration`` sends "Object Created", "Object Deleted", ... to the default bus of
  its region (:func:`.events.put_service_event`).

A destination that fails is logged, as S3 drops a notification it cannot deliver.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from types import SimpleNamespace
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import notifications
from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeBucket, S3Backend
from moto.s3.responses import S3Response

from . import delivery, events
from .hooks import hook
from .service import Service

SERVICE = Service("s3", guarded=("QueueArn", "LambdaFunctionArn", "TopicArn"),
                  operations=("PutBucketNotificationConfiguration",))

_log = logging.getLogger("gluelab.localaws")
_quiet = threading.local()
_sequence_lock = threading.Lock()
_last_sequence = 0

#: EventBridge's detail-type and reason for each S3 event (``s3:<name>``).
_EVENTBRIDGE = {"ObjectCreated:Put": ("Object Created", "PutObject"),
                "ObjectCreated:Post": ("Object Created", "POST Object"),
                "ObjectCreated:Copy": ("Object Created", "CopyObject"),
                "ObjectCreated:CompleteMultipartUpload": ("Object Created", "CompleteMultipartUpload"),
                "ObjectRemoved:Delete": ("Object Deleted", "DeleteObject"),
                "ObjectRemoved:DeleteMarkerCreated": ("Object Deleted", "DeleteObject"),
                "ObjectTagging:Put": ("Object Tags Added", None),
                "ObjectTagging:Delete": ("Object Tags Deleted", None),
                "ObjectAcl:Put": ("Object ACL Updated", None),
                "ObjectRestore:Post": ("Object Restore Initiated", None),
                "ObjectRestore:Completed": ("Object Restore Completed", None)}
#: Events whose records S3 writes as version 2.3.
_VERSION_2_3 = ("ObjectTagging:", "ObjectAcl:", "ObjectRestore:Delete", "LifecycleExpiration:", "LifecycleTransition",
                "IntelligentTiering")


def encode_key(key: str) -> str:
    """An object key as S3 writes it into an event record: form-encoded (space ``+``, ``+`` ``%2B``, ``~``
    ``%7E``, as Java's URLEncoder does), with ``/`` left as it is."""
    return quote_plus(key, safe="/*").replace("~", "%7E")


def sequencer() -> str:
    """A hexadecimal sequencer (18 digits) greater than every one handed out before in this process."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(_last_sequence + 1, time.time_ns())
        return f"{_last_sequence:018X}"


def _request_ids() -> dict:
    return {"x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": secrets.token_urlsafe(48)}


def record(account_id: str, event_name: str, bucket, key, configuration_id: str, sequence: str) -> dict:
    """One S3 event record (``event_name`` without ``s3:``, e.g. ``ObjectCreated:Put``)."""
    obj: dict = {"key": encode_key(key.name)}
    if event_name.startswith("ObjectCreated") or event_name.startswith(("ObjectTagging", "ObjectAcl")):
        obj["size"] = key.size
        obj["eTag"] = key.etag.strip('"')
    if bucket.is_versioned and getattr(key, "version_id", None) not in (None, "null"):
        obj["versionId"] = str(key.version_id)
    obj["sequencer"] = sequence
    return {
        "eventVersion": "2.3" if event_name.startswith(_VERSION_2_3) else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": iso_8601_datetime_with_milliseconds(),
        "eventName": event_name,
        "userIdentity": {"principalId": f"AWS:{account_id}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": _request_ids(),
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": account_id}, "arn": bucket.arn},
               "object": obj},
    }


def _filter_rules(notification) -> dict[str, str]:
    rules = ((notification.filters or {}).get("S3Key") or {}).get("FilterRule") or []
    if isinstance(rules, dict):
        rules = [rules]
    return {str(r.get("Name", "")).lower(): r.get("Value", "") for r in rules}


def matches(notification, event_name: str, key_name: str) -> bool:
    """Whether a bucket's notification configuration (moto's Notification) wants ``event_name`` (``s3:...``)
    for ``key_name``: one of its events names it or its ``*`` group, and the key has its prefix and suffix."""
    group = ":".join(event_name.split(":")[:2]) + ":*"
    if event_name not in notification.events and group not in notification.events:
        return False
    rules = _filter_rules(notification)
    return key_name.startswith(rules.get("prefix", "")) and key_name.endswith(rules.get("suffix", ""))


def _compact(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"))


def _send(target_arn: str, payload: str, what: str, **options) -> None:
    try:
        delivery.deliver(target_arn, payload, **options)
    except delivery.DeliveryError as exc:
        _log.warning("S3 could not deliver %s to %s: %s", what, target_arn, exc)


@hook(notifications, "send_event", ("account_id", "event_name", "bucket", "key"))
def _send_event(original, account_id, event_name, bucket, key):
    """moto's S3 event, delivered as AWS delivers it (see the module's docstring). moto tags every new object
    through the call that answers PutObjectTagging; only that API sends ``ObjectTagging:Put`` on AWS."""
    name = str(getattr(event_name, "value", event_name))
    if getattr(_quiet, "on", False) or (name == "s3:ObjectTagging:Put" and not getattr(_quiet, "tagging", False)):
        return
    if name == "s3:ObjectCreated:Put" and getattr(_quiet, "multipart", False):
        return  # moto's CompleteMultipartUpload stores the object with a PutObject of its own
    publish(account_id, name, bucket, key)


@hook(S3Backend, "complete_multipart_upload", ("bucket_name", "multipart_id"))
def _complete_multipart_upload(original, backend, *args, **kwargs):
    _quiet.multipart = True
    try:
        return original(backend, *args, **kwargs)
    finally:
        _quiet.multipart = False


@hook(S3Response, "put_object_tagging", ())
def _put_object_tagging(original, response, *args, **kwargs):
    _quiet.tagging = True
    try:
        return original(response, *args, **kwargs)
    finally:
        _quiet.tagging = False


def publish(account_id: str, event_name: str, bucket, key) -> None:
    """Send ``event_name`` (``s3:...``) about ``key`` to every destination of ``bucket`` that wants it."""
    config = bucket.notification_configuration
    if config is None or key is None:
        return
    short = event_name.removeprefix("s3:")
    sequence = sequencer()
    what = f"the {short} event of s3://{bucket.name}/{key.name}"
    for notification in config.cloud_function:
        if matches(notification, event_name, key.name):
            body = _compact({"Records": [record(account_id, short, bucket, key, notification.id, sequence)]})
            delivery.later(_send, notification.arn, body, what)
    for notification in config.queue:
        if matches(notification, event_name, key.name):
            body = _compact({"Records": [record(account_id, short, bucket, key, notification.id, sequence)]})
            delivery.later(_send, notification.arn, body, what)
    for notification in config.topic:
        if matches(notification, event_name, key.name):
            body = _compact({"Records": [record(account_id, short, bucket, key, notification.id, sequence)]})
            delivery.later(_send, notification.arn, body, what, subject="Amazon S3 Notification")
    if config.event_bridge is not None and short in _EVENTBRIDGE:
        _to_eventbridge(account_id, short, bucket, key, sequence)


def _to_eventbridge(account_id: str, short: str, bucket, key, sequence: str) -> None:
    detail_type, reason = _EVENTBRIDGE[short]
    obj: dict = {"key": key.name}
    if short.startswith("ObjectCreated"):
        obj.update(size=key.size, etag=key.etag.strip('"'))
    if bucket.is_versioned and getattr(key, "version_id", None) not in (None, "null"):
        obj["version-id"] = str(key.version_id)
    obj["sequencer"] = sequence
    detail = {"version": "0", "bucket": {"name": bucket.name}, "object": obj,
              "request-id": secrets.token_hex(8).upper(), "requester": account_id,
              "source-ip-address": "127.0.0.1"}
    if reason:
        detail["reason"] = reason
    if short.startswith("ObjectRemoved"):
        detail["deletion-type"] = ("Delete Marker Created" if short.endswith("DeleteMarkerCreated")
                                   else "Permanently Deleted")
    events.put_service_event(account_id, bucket.region_name, "aws.s3", detail_type, detail, [bucket.arn])


@hook(notifications, "send_test_event", ("account_id", "bucket"))
def _send_test_event(original, account_id, bucket):
    """``s3:TestEvent`` to each queue and topic of the configuration just put (once per destination)."""
    config = bucket.notification_configuration
    if config is None:
        return
    for arn in dict.fromkeys([n.arn for n in config.queue] + [n.arn for n in config.topic]):
        ids = _request_ids()
        test = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso_8601_datetime_with_milliseconds(),
                "Bucket": bucket.name, "RequestId": ids["x-amz-request-id"], "HostId": ids["x-amz-id-2"]}
        options = {"subject": "Amazon S3 Notification"} if ":sns:" in arn else {}
        _send(arn, _compact(test), f"the s3:TestEvent of bucket {bucket.name}", **options)


def _exists(account_id: str, arn: str) -> bool:
    parsed = delivery.Arn.parse(arn)
    if parsed.service == "sqs":
        from moto.sqs.models import sqs_backends
        return parsed.resource in sqs_backends[parsed.account][parsed.region].queues
    if parsed.service == "sns":
        from moto.sns.models import sns_backends
        return arn in sns_backends[parsed.account][parsed.region].topics
    if parsed.service == "lambda":
        from moto.awslambda.utils import get_backend
        try:
            get_backend(parsed.account, parsed.region).get_function(arn)
            return True
        except Exception:
            return False
    return False


@hook(FakeBucket, "set_notification_configuration", ("notification_config",))
def _set_notification_configuration(original, bucket, notification_config):
    """AWS checks every queue, topic and function of the configuration before taking it."""
    arns = []
    for kind, field in (("QueueConfiguration", "Queue"), ("TopicConfiguration", "Topic"),
                        ("CloudFunctionConfiguration", "CloudFunction")):
        for item in (notification_config or {}).get(kind) or []:
            arns.append(item.get(field, ""))
    missing = [arn for arn in arns if arn and not _exists(bucket.account_id, arn)]
    if missing:
        raise S3ClientError("InvalidArgument", "Unable to validate the following destination configurations")
    return original(bucket, notification_config)


@hook(S3Backend, "delete_object", ("bucket_name", "key_name", "version_id"))
def _delete_object(original, backend, bucket_name, key_name, version_id=None, *args, **kwargs):
    """DeleteObject's events as S3 sends them: DeleteMarkerCreated when a versioned bucket gets a delete marker,
    Delete when an object or one of its versions is gone."""
    bucket = backend.get_bucket(bucket_name)
    before = bucket.keys.getlist(key_name, []) if key_name in bucket.keys else []
    _quiet.on = True
    try:
        success, meta = original(backend, bucket_name, key_name, version_id, *args, **kwargs)
    finally:
        _quiet.on = False
    if not success or not before:
        return success, meta
    if meta.get("delete-marker") == "true" and version_id is None:
        key = SimpleNamespace(name=key_name, version_id=meta.get("version-id"))
        publish(backend.account_id, "s3:ObjectRemoved:DeleteMarkerCreated", bucket, key)
    else:
        deleted = next((k for k in before if version_id is None or str(k.version_id) == str(version_id)), None)
        key = SimpleNamespace(name=key_name, version_id=version_id if bucket.is_versioned else None,
                              size=getattr(deleted, "size", 0), etag=getattr(deleted, "etag", ""))
        publish(backend.account_id, "s3:ObjectRemoved:Delete", bucket, key)
    return success, meta
