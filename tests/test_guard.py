"""The prefix guard refuses by default: every state-changing operation of every service a lab hands out is
either declared by a service module and checked against the prefix, or refused.

The operations come from botocore's service models, so a new botocore operation is covered the day it appears.
Calls are generated from each operation's input shape and stubbed (botocore's Stubber): nothing is sent.
"""
import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber, UnStubbedResponseError

from gluelab import guard, localaws
from gluelab.naming import Naming

NAMING = Naming("mylab", "123456789012", "us-east-1")
#: Every service the lab's modules declare, plus services no module knows (all of theirs must be refused).
SERVICES = sorted({s.client for s in localaws.services()} | {"dynamodb", "kinesis", "sts", "ec2"})


def _value(shape, text: str, depth: int = 0):
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        # the required members, and the optional ones that name a resource (sns.Publish's TopicArn)
        return {name: _value(member, text, depth + 1) for name, member in shape.members.items()
                if name in shape.required_members or name.lower() in guard.NAME_PARAMS}
    if kind == "list":
        return [_value(shape.member, text, depth + 1)]
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return 1
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return dt.datetime(2026, 1, 1)
    shortest = shape.metadata.get("min") or 0
    return text + "x" * (shortest - len(text)) if kind == "string" and len(text) < shortest else text


def _state_changing(service):
    model = boto3.session.Session().client(service, region_name="us-east-1").meta.service_model
    return [op for op in model.operation_names if not guard.READ_ONLY.match(op)]


def _client(service):
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    guard.install(client, NAMING)
    return client


#: The read call a service's resolver makes for an operation (``Service.resolvers``), and its stubbed answer.
RESOLVER_READS = {
    ("lambda", op): ("get_event_source_mapping",
                     lambda text: {"FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{text}"})
    for op in ("UpdateEventSourceMapping", "DeleteEventSourceMapping")}


def _call(client, operation: str, text: str):
    model = client.meta.service_model.operation_model(operation)
    params = _value(model.input_shape, text) if model.input_shape is not None else {}
    method = getattr(client, next(m for m, op in client.meta.method_to_api_mapping.items() if op == operation))
    with Stubber(client) as stub:
        read = RESOLVER_READS.get((client.meta.service_model.service_name, operation))
        if read is not None:
            stub.add_response(read[0], read[1](text))
        method(**params)


def test_every_resolver_has_its_read_stubbed_here():
    assert {(s, op) for s, ops in guard.declared_resolvers().items() for op in ops
            if any(n in op for n in ("EventSourceMapping",))} == set(RESOLVER_READS)


@pytest.mark.parametrize("service", SERVICES)
def test_every_state_changing_operation_is_refused_on_resources_outside_the_prefix(service):
    client = _client(service)
    operations = _state_changing(service)
    assert operations
    for operation in operations:
        with pytest.raises(guard.OutsidePrefixError, match=f"{service}.{operation}") as refused:
            _call(client, operation, "someone-elses-thing")
        assert "refused" in str(refused.value)


@pytest.mark.parametrize("service", sorted({s.client for s in localaws.services()}))
def test_every_declared_operation_goes_through_when_it_names_only_the_labs_resources(service):
    client = _client(service)
    declared = guard.declared_operations()[service]
    unknown = declared - set(client.meta.service_model.operation_names)
    assert not unknown, f"declared operations botocore does not know: {unknown}"
    for operation in sorted(declared):
        with pytest.raises(UnStubbedResponseError):  # the guard let it through to the (stubbed) network
            _call(client, operation, "mylab--thing")


def test_the_defects_found_by_probing_are_refused():
    glue, iam = _client("glue"), _client("iam")
    mine_db = NAMING.database("sales")
    refused = [
        lambda: glue.create_crawler(Name="their-crawler", Role="mylab--role", DatabaseName=mine_db,
                                    Targets={"S3Targets": [{"Path": "s3://mylab--raw-x/"}]}),
        lambda: glue.update_crawler(Name="their-crawler", DatabaseName=mine_db),
        lambda: glue.create_crawler(Name="mylab--c", Role="mylab--role", DatabaseName=mine_db,
                                    Targets={"S3Targets": [{"Path": "s3://their-bucket/data/"}]}),
        lambda: glue.create_trigger(Name="mylab--t", Type="ON_DEMAND", Actions=[{"JobName": "their-job"}]),
        lambda: glue.tag_resource(ResourceArn="arn:aws:glue:us-east-1:123456789012:job/their-job",
                                  TagsToAdd={"a": "b"}),
        lambda: glue.put_resource_policy(PolicyInJson="{}"),
        lambda: glue.create_connection(ConnectionInput={"Name": "mylab--conn", "ConnectionType": "JDBC",
                                                        "ConnectionProperties": {}}),
        lambda: glue.create_job(Name="mylab--etl", Role="their-role",
                                Command={"Name": "glueetl", "ScriptLocation": "s3://mylab--scripts-x/a.py"}),
        lambda: glue.create_job(Name="mylab--etl", Role="mylab--role", DefaultArguments={"--TempDir": "s3://x/t/"},
                                Command={"Name": "glueetl", "ScriptLocation": "s3://mylab--scripts-x/a.py"}),
        lambda: iam.create_user(UserName="mylab--user"),
        lambda: iam.create_access_key(UserName="someone"),
        lambda: iam.create_policy(PolicyName="mylab--p", PolicyDocument="{}"),
        lambda: _client("dynamodb").delete_table(TableName="orders"),
        lambda: _client("stepfunctions").delete_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:their-sm"),
        lambda: _client("logs").delete_log_group(logGroupName="/aws/lambda/their-fn"),
    ]
    for call in refused:
        with pytest.raises(guard.OutsidePrefixError, match="refused"):
            call()


def test_put_events_goes_only_to_the_labs_own_buses():
    events = _client("events")
    entry = {"Source": "mylab.orders", "DetailType": "Order", "Detail": "{}"}
    for entries in ([entry], [{**entry, "EventBusName": "default"}],
                    [{**entry, "EventBusName": "mylab--bus"}, entry],
                    [{**entry, "EventBusName": "arn:aws:events:us-east-1:123456789012:event-bus/their-bus"}]):
        with pytest.raises(guard.OutsidePrefixError, match="PutEvents"):
            events.put_events(Entries=entries)
    with pytest.raises(UnStubbedResponseError), Stubber(events):
        events.put_events(Entries=[
            {**entry, "EventBusName": "mylab--bus"},
            {**entry, "EventBusName": "arn:aws:events:us-east-1:123456789012:event-bus/mylab--b"}])


def test_event_plumbing_names_only_the_labs_resources():
    s3, sns, sqs, events = _client("s3"), _client("sns"), _client("sqs"), _client("events")
    mine_queue = "arn:aws:sqs:us-east-1:123456789012:mylab--q"
    refused = [
        lambda: s3.put_bucket_notification_configuration(Bucket="mylab--raw", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:123456789012:their-q",
                                     "Events": ["s3:ObjectCreated:*"]}]}),
        lambda: s3.put_bucket_notification_configuration(Bucket="mylab--raw", NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": "arn:aws:lambda:us-east-1:1:function:their-fn",
                                              "Events": ["s3:ObjectCreated:*"]}]}),
        lambda: sns.subscribe(TopicArn="arn:aws:sns:us-east-1:123456789012:mylab--t", Protocol="sqs",
                              Endpoint="arn:aws:sqs:us-east-1:123456789012:their-q"),
        lambda: sqs.set_queue_attributes(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/their-q",
                                         Attributes={"VisibilityTimeout": "5"}),
        lambda: sqs.set_queue_attributes(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/mylab--q",
                                         Attributes={"RedrivePolicy": json.dumps({
                                             "deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:their-dlq",
                                             "maxReceiveCount": 3})}),
        lambda: events.put_targets(Rule="mylab--r", Targets=[{"Id": "t", "Arn": mine_queue,
                                                              "DeadLetterConfig": {"Arn": "arn:aws:sqs:::their"}}]),
        lambda: _client("lambda").create_event_source_mapping(FunctionName="mylab--fn",
                                                              EventSourceArn="arn:aws:sqs:us-east-1:1:their-q"),
    ]
    for call in refused:
        with pytest.raises(guard.OutsidePrefixError, match="refused"):
            call()
    with pytest.raises(UnStubbedResponseError), Stubber(sns):
        sns.subscribe(TopicArn="arn:aws:sns:us-east-1:123456789012:mylab--t", Protocol="https",
                      Endpoint="https://example.com/hook")
