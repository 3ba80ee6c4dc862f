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
    import gluelab
    from gluelab import localaws

    kinds = [o.kind for s in localaws.services() for o in s.owned]
    assert kinds.index("event source mapping") < kinds.index("Lambda function") < kinds.index("SQS queue")
    assert kinds.index("EventBridge rule") < kinds.index("event bus")


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
