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
