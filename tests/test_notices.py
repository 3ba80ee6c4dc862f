"""An inbox reads what a topic sends, once, in order."""
from gluelab import notices


def test_the_inbox_reads_each_published_message_once_in_order(lab):
    sns = lab.client("sns")
    topic = sns.create_topic(Name=lab.names.resource("notices-test"))["TopicArn"]
    inbox = notices.Inbox(lab, topic, "notices-test-inbox")
    assert notices.Inbox(lab, topic, "notices-test-inbox").url == inbox.url     # subscribed once
    sns.publish(TopicArn=topic, Message='{"outcome": "ok"}')
    sns.publish(TopicArn=topic, Message="plain text", Subject="s")
    assert inbox.read() == [{"outcome": "ok"}, "plain text"]
    assert inbox.read() == []


def test_a_queue_lets_the_named_services_send_and_drains_oldest_first(lab):
    import json

    from gluelab import queues

    sqs = lab.client("sqs")
    queue = queues.ensure(lab, "queues-test", senders=("s3.amazonaws.com",), VisibilityTimeout="10")
    assert queues.ensure(lab, "queues-test", VisibilityTimeout="10") == queue          # idempotent
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    statement = json.loads(attributes["Policy"])["Statement"][0]
    assert (statement["Principal"], statement["Action"], statement["Resource"]) == (
        {"Service": ["s3.amazonaws.com"]}, "sqs:SendMessage", queue.arn)
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": lab.account_id}}
    for body in ('{"n": 1}', "1002", "[1, 2]", "{not json"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    assert [m["Body"] for m in queues.drain(lab, queue.url)] == [{"n": 1}, "1002", [1, 2], "{not json"]
    assert queues.drain(lab, queue.url) == []
