"""SQS event source mappings on the local endpoint, through plain boto3: the mapping's API as AWS answers it, the
SQS event, and the moto internals the poller and the other event paths rely on (contract tests)."""
import json
import uuid

import pytest

from gluelab.localaws import lambda_event_sources


@pytest.fixture
def function(lab):
    """A zip-deployed Python function (its role made for it); deleted afterwards."""
    import io
    import zipfile

    iam, lam = lab.client("iam"), lab.client("lambda")
    role_name = lab.names.resource(f"fn-role-{uuid.uuid4().hex[:6]}")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handle(event, context):\n    return None\n")
    name = lab.names.resource(f"fn-{uuid.uuid4().hex[:6]}")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handle",
                        Code={"ZipFile": code.getvalue()}, Timeout=10)
    yield name
    lam.delete_function(FunctionName=name)
    iam.delete_role(RoleName=role_name)


def test_a_mapping_reads_as_aws_reports_it_through_create_update_and_delete(lab, make, function):
    lam = lab.client("lambda")
    _, queue = make.queue("mapped", VisibilityTimeout="60")
    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=queue, BatchSize=5)
    assert (created["State"], created["StateTransitionReason"]) == ("Creating", "USER_INITIATED")
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"], created["FunctionResponseTypes"]) == (
        5, 0, [])
    uuid_ = created["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Enabled"
    listed = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [(m["UUID"], m["State"]) for m in listed] == [(uuid_, "Enabled")]
    arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    assert [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]] == [uuid_]
    updated = lam.update_event_source_mapping(UUID=uuid_, Enabled=False, BatchSize=8)
    assert updated["State"] == "Updating" and updated["BatchSize"] == 8
    assert lam.get_event_source_mapping(UUID=uuid_)["State"] == "Disabled"
    with pytest.raises(lam.exceptions.ResourceConflictException, match=uuid_):
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=queue)
    assert lam.delete_event_source_mapping(UUID=uuid_)["State"] == "Deleting"
    assert not lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert uuid_ not in lambda_event_sources.Poller.running


def test_a_mapping_aws_would_refuse_is_refused(lab, make, function):
    lam = lab.client("lambda")
    _, short = make.queue("short", VisibilityTimeout="5")
    with pytest.raises(lam.exceptions.InvalidParameterValueException,
                       match="Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds"):
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=short)
    _, queue = make.queue("big", VisibilityTimeout="60")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="Maximum batch window"):
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=queue, BatchSize=100)


def test_teardown_deletes_the_labs_mappings_before_its_functions_and_queues(endpoint):
    import io
    import zipfile

    import gluelab
    from gluelab import localaws

    kinds = [o.kind for s in localaws.services() for o in s.owned]
    assert kinds.index("event source mapping") < kinds.index("Lambda function") < kinds.index("SQS queue")
    assert kinds.index("EventBridge rule") < kinds.index("event bus")
    lab = gluelab.start(backend="local", prefix="tdesm")
    role = lab.client("iam").create_role(RoleName=lab.names.resource("role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("h.py", "def handle(event, context):\n    return None\n")
    lam, sqs, events = lab.client("lambda"), lab.client("sqs"), lab.client("events")
    lam.create_function(FunctionName=lab.names.resource("fn"), Runtime="python3.11", Role=role, Handler="h.handle",
                        Code={"ZipFile": code.getvalue()})
    url = sqs.create_queue(QueueName=lab.names.resource("in"))["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lam.create_event_source_mapping(FunctionName=lab.names.resource("fn"), EventSourceArn=queue)["UUID"]
    bus = lab.names.resource("bus")
    events.create_event_bus(Name=bus)
    events.put_rule(Name=lab.names.resource("rule"), EventBusName=bus, EventPattern='{"source": ["x"]}')
    events.put_targets(Rule=lab.names.resource("rule"), EventBusName=bus, Targets=[{"Id": "q", "Arn": queue}])
    deleted = lab.teardown()
    order = [d.split(" tdesm")[0] for d in deleted]
    assert order == ["EventBridge rule", "event bus", "event source mapping", "Lambda function", "SQS queue",
                     "IAM role"]
    assert mapping not in [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]]


def test_the_sqs_record_and_partial_batch_answers_are_read_as_aws_reads_them():
    from moto.sqs.models import Message, Queue

    queue = Queue("gluelab-test--q", "us-east-1", "123456789012")
    message = Message("m-1", "hello")
    message.message_attributes = {"kind": {"DataType": "String", "StringValue": "order"}}
    message.mark_sent()
    message.mark_received()
    record = lambda_event_sources.sqs_record(message, queue)
    assert list(record) == ["messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                            "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {"dataType": "String", "stringValue": "order",
                                                   "stringListValues": [], "binaryListValues": []}
    assert (record["md5OfBody"], record["eventSource"]) == ("5d41402abc4b2a76b9719d911017c592", "aws:sqs")
    ids = ["a", "b"]
    assert lambda_event_sources.failed_items(b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', ids) == {"b"}
    assert lambda_event_sources.failed_items(b'{"batchItemFailures": []}', ids) == set()
    assert lambda_event_sources.failed_items(b"null", ids) == set()
    assert lambda_event_sources.failed_items(b'{"batchItemFailures": [{"itemIdentifier": "zz"}]}', ids) is None
    assert lambda_event_sources.failed_items(b'{"batchItemFailures": [{"itemIdentifier": ""}]}', ids) is None


def test_the_moto_internals_the_event_paths_rely_on_are_still_there():
    """Attributes and module data (not methods: those are pinned by hooks.check_contracts) of moto 5.2.5."""
    import inspect

    from moto.awslambda.models import EventSourceMapping, LambdaBackend
    from moto.events.models import EventPattern, Rule
    from moto.s3.models import NotificationConfiguration
    from moto.sns import urls as sns_urls
    from moto.sns.models import Subscription
    from moto.sqs.models import Message, Queue

    queue = Queue("q", "us-east-1", "123456789012")
    for name in ("lambda_event_source_mappings", "_messages", "visibility_timeout", "queue_arn", "fifo_queue"):
        assert hasattr(queue, name), f"sqs Queue.{name}"
    assert isinstance(queue.lambda_event_source_mappings, dict)
    # moto invokes at send time through this dict: the mapping is taken off it
    add_message = getattr(Queue.add_message, "__gluelab_original__", Queue.add_message)
    assert "lambda_event_source_mappings" in inspect.getsource(add_message)
    message = Message("id", "body")
    for name in ("visible_at", "approximate_receive_count", "receipt_handle", "sender_id", "sent_timestamp",
                 "approximate_first_receive_timestamp", "message_attributes", "body_md5", "attribute_md5"):
        assert hasattr(message, name), f"sqs Message.{name}"
    assert "_event_source_mappings" in inspect.getsource(getattr(LambdaBackend.__init__, "__gluelab_original__",
                                                                 LambdaBackend.__init__))
    for name in ("uuid", "enabled", "batch_size", "max_batch_window", "function_response_types", "function_arn"):
        assert name in inspect.getsource(EventSourceMapping.__init__) or hasattr(EventSourceMapping, name)
    for name in ("_filter_policy_matcher", "_parse_message_structure", "attributes", "topic", "endpoint"):
        assert name in inspect.getsource(Subscription), f"sns Subscription.{name}"
    assert "{0}/$" in sns_urls.url_paths
    for name in ("cloud_function", "queue", "topic", "event_bridge"):
        assert name in inspect.getsource(NotificationConfiguration.__init__)
    assert hasattr(EventPattern, "get_pattern") and hasattr(EventPattern, "matches_event")
    for name in ("targets", "state", "scheduled_expression", "event_pattern", "arn"):
        assert name in inspect.getsource(Rule), f"events Rule.{name}"


# --- with a running handler (Lambda's runtime: gluelab.localaws.awslambda.invoke) ------------------------------------

HANDLER = '''
import json, os, time, uuid
import boto3

def handle(event, context):
    started = time.time()
    records = event.get("Records", [])
    bodies = [r.get("body") for r in records]
    boto3.client("s3").put_object(Bucket=os.environ["OUT_BUCKET"],
                                  Key=f"{os.environ['OUT_PREFIX']}/{uuid.uuid4().hex}.json",
                                  Body=json.dumps({"started": started, "event": event}))
    if "poison" in bodies:
        raise RuntimeError("poison message")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                  if str(r.get("body", "")).startswith("bad")]}
'''


@pytest.fixture
def handler(lab):
    """A zip-deployed handler that writes every event it gets to the temp zone; ``handler.seen()`` reads them."""
    import io
    import time
    import zipfile

    from gluelab.localaws import awslambda

    if not hasattr(awslambda, "invoke"):
        pytest.skip("Lambda's runtime (gluelab.localaws.awslambda.invoke) is not in this branch")
    iam, lam, s3 = lab.client("iam"), lab.client("lambda"), lab.client("s3")
    role_name = lab.names.resource(f"h-role-{uuid.uuid4().hex[:6]}")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", HANDLER)
    name = lab.names.resource(f"h-{uuid.uuid4().hex[:6]}")
    bucket, prefix = lab.zones.bucket("temp"), f"handler-events/{name}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handle",
                              Code={"ZipFile": code.getvalue()}, Timeout=10,
                              Environment={"Variables": {"OUT_BUCKET": bucket, "OUT_PREFIX": prefix}})["FunctionArn"]

    class Handler:
        def __init__(self):
            self.name, self.arn, self.read = name, arn, set()

        def seen(self, count=1, timeout=30.0):
            """The events of at least ``count`` new invocations (oldest first), with their start times."""
            got, deadline = [], time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
                    for obj in page.get("Contents", []):
                        if obj["Key"] not in self.read:
                            self.read.add(obj["Key"])
                            got.append(json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
                if len(got) < count:
                    time.sleep(0.05)
            return sorted(got, key=lambda seen: seen["started"])

    yield Handler()
    for m in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=m["UUID"])
    lam.delete_function(FunctionName=name)
    iam.delete_role(RoleName=role_name)


def _bodies(seen):
    return [r["body"] for r in seen["event"]["Records"]]


def test_s3_invokes_a_zip_deployed_handler_with_the_key_as_s3_encodes_it(lab, handler):
    s3 = lab.client("s3")
    bucket = lab.zones.bucket("raw")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "to-fn", "LambdaFunctionArn": handler.arn,
                                          "Events": ["s3:ObjectCreated:*"],
                                          "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}}]})
    try:
        s3.put_object(Bucket=bucket, Key="a/b c+d.csv", Body=b"id\n1\n")
        record = handler.seen()[0]["event"]["Records"][0]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["object"]["key"] == "a/b+c%2Bd.csv"
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})


def test_an_sqs_mapping_honours_batch_size_and_the_batching_window_on_the_lab_clock(lab, make, handler):
    import gluelab
    from datetime import timedelta

    sqs, lam = lab.client("sqs"), lab.client("lambda")
    clock_lab = gluelab.start(backend="local", prefix=lab.prefix)
    url, queue = make.queue("batches", VisibilityTimeout="30")
    lam.create_event_source_mapping(FunctionName=handler.name, EventSourceArn=queue, BatchSize=4,
                                    MaximumBatchingWindowInSeconds=20)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
    full = handler.seen(2)
    assert [len(_bodies(s)) for s in full] == [4, 4]
    clock_lab.clock.advance(timedelta(seconds=20))
    clock_lab.clock.run_due()
    rest = handler.seen(1)
    assert [len(_bodies(s)) for s in rest] == [2]
    assert sorted(b for s in full + rest for b in _bodies(s)) == sorted(f"m{i}" for i in range(10))
    record = full[0]["event"]["Records"][0]
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", queue, "us-east-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "1" and record["md5OfBody"]


def test_partial_batch_failures_leave_only_the_failed_messages_to_return(lab, make, handler):
    import gluelab
    from datetime import timedelta

    sqs, lam = lab.client("sqs"), lab.client("lambda")
    clock_lab = gluelab.start(backend="local", prefix=lab.prefix)
    url, queue = make.queue("partial", VisibilityTimeout="30")
    lam.create_event_source_mapping(FunctionName=handler.name, EventSourceArn=queue, BatchSize=3,
                                    MaximumBatchingWindowInSeconds=5,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body}
                                                  for i, body in enumerate(("ok1", "bad1", "ok2"))])
    assert sorted(_bodies(handler.seen(1)[0])) == ["bad1", "ok1", "ok2"]
    clock_lab.clock.advance(timedelta(seconds=30))
    clock_lab.clock.run_due()
    clock_lab.clock.advance(timedelta(seconds=5))
    clock_lab.clock.run_due()
    again = handler.seen(1)[0]["event"]["Records"]
    assert [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in again] == [("bad1", "2")]


def test_a_poison_message_ends_in_the_dead_letter_queue_after_max_receive_count(lab, make, handler):
    import time
    import gluelab
    from datetime import timedelta

    sqs, lam = lab.client("sqs"), lab.client("lambda")
    clock_lab = gluelab.start(backend="local", prefix=lab.prefix)
    dlq_url, dlq = make.queue("poison-dlq")
    url, queue = make.queue("poison", VisibilityTimeout="30", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq, "maxReceiveCount": 3}))
    lam.create_event_source_mapping(FunctionName=handler.name, EventSourceArn=queue, BatchSize=1)
    started = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(3):
        clock_lab.clock.advance(timedelta(seconds=30))
        clock_lab.clock.run_due()
    dead = make.receive(dlq_url)
    print(f"poison message in the dead-letter queue after {time.monotonic() - started:.2f} s")
    assert [m["Body"] for m in dead] == ["poison"]
    assert [s["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] for s in handler.seen(3)] == [
        "1", "2", "3"]


def test_an_eventbridge_rule_invokes_the_handler(lab, make, handler):
    events = lab.client("events")
    bus = make.bus("to-fn")
    make.rule("fn", [{"Id": "f", "Arn": handler.arn}], bus=bus, EventPattern='{"source": ["orders"]}')
    put = events.put_events(Entries=[{"EventBusName": bus, "Source": "orders", "DetailType": "Order",
                                      "Detail": '{"id": 1}'}])
    assert put["FailedEntryCount"] == 0
    event = handler.seen()[0]["event"]
    assert (event["id"], event["detail"]) == (put["Entries"][0]["EventId"], {"id": 1})


def test_latency_from_put_object_to_the_sqs_handler_starting(lab, make, handler):
    """Measured, printed, not asserted: S3 -> SQS -> the poller -> the handler's first line."""
    import statistics
    import time

    s3, lam = lab.client("s3"), lab.client("lambda")
    url, queue = make.queue("latency", VisibilityTimeout="30")
    lam.create_event_source_mapping(FunctionName=handler.name, EventSourceArn=queue, BatchSize=1)
    bucket = lab.names.resource(f"latency-{uuid.uuid4().hex[:6]}")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]})
    handler.seen(1)  # the s3:TestEvent
    samples = []
    try:
        for i in range(5):
            sent = time.time()
            s3.put_object(Bucket=bucket, Key=f"in/{i}.csv", Body=b"1")
            samples.append(handler.seen(1)[0]["started"] - sent)
    finally:
        for i in range(5):
            s3.delete_object(Bucket=bucket, Key=f"in/{i}.csv")
        s3.delete_bucket(Bucket=bucket)
    print(f"put_object -> SQS -> handler start: median {statistics.median(samples) * 1000:.0f} ms "
          f"(of {[round(s * 1000) for s in samples]} ms)")
