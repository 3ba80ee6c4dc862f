# shop_router.py: the event router of the shop's pipeline (a Lambda function, lesson 11)
# Steps 3-4 of the guide's event-driven flow: it reads a batch of SQS messages, each an S3 event notification,
# decides which Glue workflow handles each new file, and starts that workflow with the file in its run properties.
#
# - ROUTES (environment, JSON) maps a key prefix to a workflow name; a file no route knows is a poison message.
# - Each object version starts at most one run: a marker object written with If-None-Match: * (an S3 conditional
#   write) claims it, so a duplicate event (S3 and SQS both deliver at least once) or a re-upload of the same bytes
#   starts nothing.
# - A message that cannot be handled is reported in batchItemFailures (the mapping has ReportBatchItemFailures):
#   only that message goes back to the queue, and after the queue's maxReceiveCount to its dead-letter queue.
import json
import os
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

glue = boto3.client("glue")
s3 = boto3.client("s3")
ROUTES = json.loads(os.environ["ROUTES"])
MARKERS_BUCKET = os.environ["MARKERS_BUCKET"]
MARKERS_PREFIX = os.environ.get("MARKERS_PREFIX", "router-markers/")


def lambda_handler(event, context):
    failures = []
    for message in event["Records"]:
        try:
            handle(json.loads(message["body"]))
        except Exception as error:  # this message only: the rest of the batch goes on
            print(f"ERROR message {message['messageId']}: {type(error).__name__}: {error}")
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}


def handle(notification):
    for bucket, key, etag in new_objects(notification):
        workflow = route(key)
        marker = f"{MARKERS_PREFIX}{bucket}/{key}@{etag}"
        if not claim(marker):
            print(f"duplicate: s3://{bucket}/{key} (eTag {etag}) already started a run; nothing to do")
            continue
        try:
            glue.start_workflow_run(Name=workflow, RunProperties={
                "source_uri": f"s3://{bucket}/{key}", "source_etag": etag, "batch": batch_of(key)})
        except Exception:
            s3.delete_object(Bucket=MARKERS_BUCKET, Key=marker)  # unclaimed: the retry of this message starts it
            raise
        print(f"s3://{bucket}/{key} -> workflow {workflow} (run started)")


def new_objects(notification):
    """(bucket, key, eTag) of each new object a message announces: an S3 event notification (its keys
    URL-encoded), or an EventBridge "Object Created" event (keys as they are)."""
    if notification.get("detail-type") == "Object Created":
        detail = notification["detail"]
        yield detail["bucket"]["name"], detail["object"]["key"], detail["object"]["etag"]
    elif notification.get("Event") == "s3:TestEvent":  # sent once when the notification is configured
        print("skipped the s3:TestEvent")
    else:
        for record in notification["Records"]:
            yield (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]),
                   record["s3"]["object"]["eTag"])


def batch_of(key):
    """The batch a file is: its name without the extension (``2019-12.csv`` -> ``2019-12``)."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def route(key):
    for prefix, workflow in sorted(ROUTES.items(), key=lambda item: -len(item[0])):  # the longest prefix wins
        if key.startswith(prefix):
            return workflow
    raise ValueError(f"no route for {key!r}: the routes are {sorted(ROUTES)}")


def claim(marker):
    """True for the first event of this object version; False if an earlier event claimed it."""
    try:
        s3.put_object(Bucket=MARKERS_BUCKET, Key=marker, Body=b"", IfNoneMatch="*")
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise
