"""Fixtures of the local AWS tests: queues, rules and buses made for one test and deleted after it."""
import json
import time
import uuid

import pytest


@pytest.fixture
def make(lab):
    """Helpers that make queues, rules and buses for one test and delete them afterwards."""
    sqs, events = lab.client("sqs"), lab.client("events")
    made = {"queues": [], "rules": [], "buses": []}

    class Make:
        def queue(self, base, **attributes):
            url = sqs.create_queue(QueueName=lab.names.resource(f"{base}-{uuid.uuid4().hex[:6]}"),
                                   Attributes=attributes)["QueueUrl"]
            made["queues"].append(url)
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            return url, arn

        def rule(self, base, targets, bus="default", **kwargs):
            name = lab.names.resource(f"{base}-{uuid.uuid4().hex[:6]}")
            arn = events.put_rule(Name=name, EventBusName=bus, **kwargs)["RuleArn"]
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            made["rules"].append((bus, name))
            return name, arn

        def bus(self, base):
            name = lab.names.resource(f"{base}-{uuid.uuid4().hex[:6]}")
            events.create_event_bus(Name=name)
            made["buses"].append(name)
            return name

        def receive(self, url, count=1, timeout=10.0):
            """Poll ``url`` until ``count`` messages arrived (or the deadline); return them, deleted, each with its
            body parsed as ``"Json"`` (None when not JSON)."""
            got, deadline = [], time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                             MessageAttributeNames=["All"]).get("Messages", []):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    try:
                        m["Json"] = json.loads(m["Body"])
                    except ValueError:
                        m["Json"] = None
                    got.append(m)
            return got

        def silent(self, url, seconds=1):
            """Whether no message arrives on ``url`` within ``seconds``."""
            return not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=int(seconds)).get("Messages")

    yield Make()
    for bus, name in made["rules"]:
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
        if ids:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
        events.delete_rule(Name=name, EventBusName=bus)
    for name in made["buses"]:
        events.delete_event_bus(Name=name)
    for url in made["queues"]:
        sqs.delete_queue(QueueUrl=url)
