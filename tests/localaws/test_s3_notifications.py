"""S3 event notifications on the local endpoint, through plain boto3: the record as AWS writes it, the test event,
key filters, event types, EventBridge-enabled buckets and SNS subscribers (raw, wrapped, HTTP)."""
import json
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gluelab.localaws import s3_notifications


@pytest.fixture
def bucket(lab):
    s3 = lab.client("s3")
    name = lab.names.resource(f"notify-{uuid.uuid4().hex[:6]}")
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=name)


def notify(s3, bucket, queue_arn, events=("s3:ObjectCreated:*",), rules=None, config_id="to-queue", **extra):
    queue = {"Id": config_id, "QueueArn": queue_arn, "Events": list(events)}
    if rules:
        queue["Filter"] = {"Key": {"FilterRules": [{"Name": k, "Value": v} for k, v in rules.items()]}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [queue], **extra})


def records(make, url, count=1):
    return [m["Json"]["Records"][0] for m in make.receive(url, count)]


def test_the_record_is_aws_s_with_the_key_encoded_as_s3_encodes_it(lab, make, bucket):
    s3, sqs = lab.client("s3"), lab.client("sqs")
    url, arn = make.queue("records")
    notify(s3, bucket, arn)
    test = make.receive(url)[0]["Json"]
    assert (test["Service"], test["Event"], test["Bucket"]) == ("Amazon S3", "s3:TestEvent", bucket)
    assert {"Time", "RequestId", "HostId"} <= set(test)
    put = s3.put_object(Bucket=bucket, Key="a/b c+d.csv", Body=b"id\n1\n")
    record = records(make, url)[0]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1" and record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 24
    assert record["s3"]["configurationId"] == "to-queue"
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    assert obj["key"] == "a/b+c%2Bd.csv"
    assert (obj["size"], obj["eTag"]) == (5, put["ETag"].strip('"'))
    assert len(obj["sequencer"]) == 18 and "versionId" not in obj
    assert s3_notifications.encode_key("x y/(1)~*.csv") == "x+y/%281%29%7E*.csv"


def test_sequencers_grow_and_each_event_type_is_named_as_aws_names_it(lab, make, bucket):
    s3, sqs = lab.client("s3"), lab.client("sqs")
    url, arn = make.queue("types")
    notify(s3, bucket, arn, events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"))
    make.receive(url)  # the test event
    s3.put_object(Bucket=bucket, Key="one.csv", Body=b"1")
    s3.copy_object(Bucket=bucket, Key="two.csv", CopySource={"Bucket": bucket, "Key": "one.csv"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.csv")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big.csv", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    s3.complete_multipart_upload(Bucket=bucket, Key="big.csv", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    s3.delete_object(Bucket=bucket, Key="one.csv")
    got = records(make, url, 4)
    assert [r["eventName"] for r in sorted(got, key=lambda r: r["s3"]["object"]["sequencer"])] == [
        "ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete"]
    removed = next(r for r in got if r["eventName"] == "ObjectRemoved:Delete")["s3"]["object"]
    assert set(removed) == {"key", "sequencer"}
    s3.put_object_tagging(Bucket=bucket, Key="two.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert make.silent(url)


def test_a_versioned_bucket_sends_delete_marker_created_and_version_ids(lab, make, bucket):
    s3, sqs = lab.client("s3"), lab.client("sqs")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url, arn = make.queue("versions")
    notify(s3, bucket, arn, events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"))
    make.receive(url)
    version = s3.put_object(Bucket=bucket, Key="v.csv", Body=b"1")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="v.csv")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="v.csv", VersionId=version)
    got = sorted(records(make, url, 3), key=lambda r: r["s3"]["object"]["sequencer"])
    assert [(r["eventName"], r["s3"]["object"]["versionId"]) for r in got] == [
        ("ObjectCreated:Put", version), ("ObjectRemoved:DeleteMarkerCreated", marker),
        ("ObjectRemoved:Delete", version)]


def test_prefix_and_suffix_filters_and_event_lists_choose_what_is_sent(lab, make, bucket):
    s3, sqs = lab.client("s3"), lab.client("sqs")
    url, arn = make.queue("filtered")
    notify(s3, bucket, arn, events=("s3:ObjectCreated:Put",), rules={"prefix": "raw/", "suffix": ".csv"})
    make.receive(url)
    for key in ("raw/a.csv", "raw/a.json", "other/a.csv", "raw/sub/b.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    s3.copy_object(Bucket=bucket, Key="raw/c.csv", CopySource={"Bucket": bucket, "Key": "raw/a.csv"})
    assert sorted(r["s3"]["object"]["key"] for r in records(make, url, 2)) == ["raw/a.csv", "raw/sub/b.csv"]
    assert make.silent(url)


def test_a_destination_that_does_not_exist_is_refused(lab, bucket):
    s3 = lab.client("s3")
    with pytest.raises(s3.exceptions.ClientError, match="Unable to validate the following destination"):
        notify(s3, bucket, f"arn:aws:sqs:us-east-1:123456789012:{lab.names.resource('nowhere')}")


def test_an_eventbridge_enabled_bucket_sends_object_created_to_the_default_bus(lab, make, bucket):
    s3, sqs = lab.client("s3"), lab.client("sqs")
    url, arn = make.queue("eb")
    make.rule("s3", [{"Id": "q", "Arn": arn}], EventPattern=json.dumps(
        {"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"],
         "detail": {"bucket": {"name": [bucket]}}}))
    s3.put_bucket_notification_configuration(Bucket=bucket,
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"abc")
    s3.delete_object(Bucket=bucket, Key="in/a b.csv")
    got = sorted((m["Json"] for m in make.receive(url, 2)), key=lambda e: e["detail"]["object"]["sequencer"])
    created, deleted = got
    assert created["detail-type"] == "Object Created" and created["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert created["detail"]["object"]["key"] == "in/a b.csv" and created["detail"]["object"]["size"] == 3
    assert created["detail"]["reason"] == "PutObject" and "etag" in created["detail"]["object"]
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"


def test_sns_delivers_s3_events_raw_and_wrapped_with_filter_policies(lab, make, bucket):
    s3, sqs, sns = lab.client("s3"), lab.client("sqs"), lab.client("sns")
    raw_url, raw_arn = make.queue("raw")
    wrapped_url, wrapped_arn = make.queue("wrapped")
    topic = sns.create_topic(Name=lab.names.resource(f"s3-{uuid.uuid4().hex[:6]}"))["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=wrapped_arn)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
        assert make.receive(raw_url)[0]["Json"]["Event"] == "s3:TestEvent"
        make.receive(wrapped_url)
        s3.put_object(Bucket=bucket, Key="t.csv", Body=b"1")
        assert make.receive(raw_url)[0]["Json"]["Records"][0]["eventName"] == "ObjectCreated:Put"
        wrapped = make.receive(wrapped_url)[0]["Json"]
        assert (wrapped["Type"], wrapped["TopicArn"], wrapped["Subject"]) == (
            "Notification", topic, "Amazon S3 Notification")
        assert json.loads(wrapped["Message"])["Records"][0]["s3"]["object"]["key"] == "t.csv"

        filtered_url, filtered_arn = make.queue("filtered")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=filtered_arn, Attributes={
            "RawMessageDelivery": "true", "FilterPolicy": json.dumps({"kind": [{"prefix": "ord"}]})})
        sns.publish(TopicArn=topic, Message="no", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "invoice"}})
        sns.publish(TopicArn=topic, Message="yes", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "order"}})
        assert [m["Body"] for m in make.receive(filtered_url)] == ["yes"]
        assert make.silent(filtered_url)
    finally:
        sns.delete_topic(TopicArn=topic)
    assert not [s for s in sns.list_subscriptions()["Subscriptions"] if s["TopicArn"] == topic]


def test_an_http_subscription_is_confirmed_before_it_gets_notifications(lab):
    sns = lab.client("sns")
    got, arrived = [], threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            got.append((self.headers["x-amz-sns-message-type"], body))
            arrived.set()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    topic = sns.create_topic(Name=lab.names.resource(f"http-{uuid.uuid4().hex[:6]}"))["TopicArn"]
    try:
        answer = sns.subscribe(TopicArn=topic, Protocol="http",
                               Endpoint=f"http://127.0.0.1:{server.server_port}/hook")
        assert answer["SubscriptionArn"] == "pending confirmation"
        assert arrived.wait(10)
        kind, confirmation = got[0]
        assert kind == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
        sns.publish(TopicArn=topic, Message="too early")
        time.sleep(0.5)
        assert len(got) == 1
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.confirm_subscription(TopicArn=topic, Token="not-the-token")
        urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10).read()
        arrived.clear()
        sns.publish(TopicArn=topic, Message="hello", Subject="greeting")
        assert arrived.wait(10)
        kind, note = got[-1]
        assert kind == "Notification"
        assert (note["Message"], note["Subject"], note["TopicArn"]) == ("hello", "greeting", topic)
    finally:
        sns.delete_topic(TopicArn=topic)
        server.shutdown()
