"""EventBridge on the local endpoint, through plain boto3: rules with event patterns delivering to SQS, SNS, Step
Functions and Glue workflows, target inputs, dead-letter queues, schedules on the lab clock, and the events AWS
services put on the default bus (Glue jobs, crawlers, the Data Catalog, Step Functions)."""
import json
import time
import uuid
from datetime import timedelta

from gluelab import waiting


def test_put_events_answers_per_entry_and_matching_rules_deliver(lab, make):
    sqs, events = lab.client("sqs"), lab.client("events")
    bus = make.bus("orders")
    url, arn = make.queue("orders")
    pattern = {"source": [{"prefix": "shop."}], "detail": {
        "status": [{"anything-but": ["test"]}], "amount": [{"numeric": [">", 100]}], "coupon": [{"exists": False}]}}
    make.rule("big", [{"Id": "q", "Arn": arn}], bus=bus, EventPattern=json.dumps(pattern))
    entries = [
        {"EventBusName": bus, "Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps(d)}
        for d in ({"status": "new", "amount": 150}, {"status": "test", "amount": 150},
                  {"status": "new", "amount": 50}, {"status": "new", "amount": 150, "coupon": "X"})]
    entries.append({"EventBusName": bus, "Source": "aws.s3", "DetailType": "Order", "Detail": "{}"})
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 1
    assert all("EventId" in e for e in answer["Entries"][:4])
    assert answer["Entries"][4] == {"ErrorCode": "NotAuthorizedForSourceException",
                                    "ErrorMessage": "Not authorized for the source."}
    got = make.receive(url)
    assert len(got) == 1 and make.silent(url)
    event = got[0]["Json"]
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert event["detail"] == {"status": "new", "amount": 150} and event["time"].endswith("Z")


def test_a_disabled_rule_delivers_nothing(lab, make):
    sqs, events = lab.client("sqs"), lab.client("events")
    bus = make.bus("quiet")
    url, arn = make.queue("quiet")
    name, _ = make.rule("off", [{"Id": "q", "Arn": arn}], bus=bus, EventPattern='{"source": ["app"]}')
    events.disable_rule(Name=name, EventBusName=bus)
    events.put_events(Entries=[{"EventBusName": bus, "Source": "app", "DetailType": "x", "Detail": "{}"}])
    assert make.silent(url)
    events.enable_rule(Name=name, EventBusName=bus)
    events.put_events(Entries=[{"EventBusName": bus, "Source": "app", "DetailType": "x", "Detail": "{}"}])
    assert len(make.receive(url)) == 1


def test_targets_get_their_input_input_path_or_input_transformer(lab, make):
    sqs, events = lab.client("sqs"), lab.client("events")
    bus = make.bus("inputs")
    queues = [make.queue(f"in{i}") for i in range(3)]
    name, rule_arn = make.rule("shape", [
        {"Id": "const", "Arn": queues[0][1], "Input": '{"fixed": true}'},
        {"Id": "path", "Arn": queues[1][1], "InputPath": "$.detail.order"},
        {"Id": "tmpl", "Arn": queues[2][1], "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.order.id", "who": "$.detail.customer", "items": "$.detail.order.items"},
            "InputTemplate": '{"text": "order <id> for <who>", "who": <who>, "items": <items>, '
                             '"rule": "<aws.events.rule-name>"}'}}],
        bus=bus, EventPattern='{"source": ["shop"]}')
    detail = {"order": {"id": "o-1", "items": [1, 2]}, "customer": 'Ann "A" Lee'}
    events.put_events(Entries=[{"EventBusName": bus, "Source": "shop", "DetailType": "d",
                                "Detail": json.dumps(detail)}])
    const, path, tmpl = (make.receive(url)[0] for url, _ in queues)
    assert const["Body"] == '{"fixed": true}'
    assert path["Json"] == {"id": "o-1", "items": [1, 2]}
    assert tmpl["Json"] == {"text": 'order o-1 for Ann "A" Lee', "who": 'Ann "A" Lee', "items": [1, 2],
                            "rule": name}


def test_a_target_that_cannot_take_the_event_sends_it_to_its_dead_letter_queue(lab, make, caplog):
    sqs, events = lab.client("sqs"), lab.client("events")
    bus = make.bus("dlq")
    dlq_url, dlq_arn = make.queue("dlq")
    missing = f"arn:aws:sqs:us-east-1:123456789012:{lab.names.resource('no-such-queue')}"
    _, rule_arn = make.rule("lost", [{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}}],
                            bus=bus, EventPattern='{"source": ["app"]}')
    answer = events.put_events(Entries=[{"EventBusName": bus, "Source": "app", "DetailType": "x",
                                         "Detail": '{"n": 1}'}])
    assert answer["FailedEntryCount"] == 0
    got = make.receive(dlq_url)
    assert got[0]["Json"]["detail"] == {"n": 1}
    attributes = {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == missing
    assert attributes["ERROR_CODE"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "could not deliver event" in caplog.text


def test_rules_deliver_to_sns_topics_and_step_functions(lab, make):
    sqs, sns, events, sfn = (lab.client(s) for s in ("sqs", "sns", "events", "stepfunctions"))
    bus = make.bus("fanout")
    url, queue_arn = make.queue("via-sns")
    topic = sns.create_topic(Name=lab.names.resource("fanout"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    machine = sfn.create_state_machine(
        name=lab.names.resource(f"echo-{uuid.uuid4().hex[:6]}"), roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    try:
        make.rule("both", [{"Id": "t", "Arn": topic}, {"Id": "s", "Arn": machine}], bus=bus,
                  EventPattern='{"detail-type": ["Order"]}')
        put = events.put_events(Entries=[{"EventBusName": bus, "Source": "shop", "DetailType": "Order",
                                          "Detail": '{"id": 7}'}])
        assert put["FailedEntryCount"] == 0
        assert make.receive(url)[0]["Json"]["detail"] == {"id": 7}
        deadline = time.monotonic() + 10
        while not sfn.list_executions(stateMachineArn=machine)["executions"] and time.monotonic() < deadline:
            time.sleep(0.1)
        execution = sfn.list_executions(stateMachineArn=machine)["executions"][0]
        started = sfn.describe_execution(executionArn=execution["executionArn"])
        assert json.loads(started["input"])["id"] == put["Entries"][0]["EventId"]
    finally:
        sns.delete_topic(TopicArn=topic)
        sfn.delete_state_machine(stateMachineArn=machine)


def test_scheduled_rules_fire_when_the_lab_clock_passes_their_time(lab, make):
    import gluelab

    clock_lab = gluelab.start(backend="local", prefix=lab.prefix)
    sqs = lab.client("sqs")
    url, arn = make.queue("ticks")
    now = clock_lab.clock.now()
    at = now + timedelta(minutes=3)
    cron, cron_arn = make.rule("cron", [{"Id": "q", "Arn": arn, "Input": '"cron"'}],
                               ScheduleExpression=f"cron({at.minute} {at.hour} * * ? *)")
    rate, _ = make.rule("rate", [{"Id": "q", "Arn": arn}], ScheduleExpression="rate(5 minutes)")
    clock_lab.clock.advance(timedelta(minutes=2))
    assert cron not in clock_lab.clock.run_due()
    clock_lab.clock.advance(timedelta(minutes=2))
    assert cron in clock_lab.clock.run_due()
    assert [m["Body"] for m in make.receive(url)] == ['"cron"']
    clock_lab.clock.advance(timedelta(minutes=2))
    fired = clock_lab.clock.run_due()
    assert rate in fired and cron not in fired
    event = make.receive(url)[0]["Json"]
    assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.events", {})
    assert event["resources"][0].endswith(f":rule/{rate}")


def test_glue_catalog_changes_reach_the_default_bus(lab, make):
    sqs, glue = lab.client("sqs"), lab.client("glue")
    url, arn = make.queue("catalog")
    database = lab.names.database(f"events_{uuid.uuid4().hex[:6]}")
    make.rule("catalog", [{"Id": "q", "Arn": arn}], EventPattern=json.dumps(
        {"source": ["aws.glue"], "detail": {"databaseName": [database]}}))
    glue.create_database(DatabaseInput={"Name": database})
    table = {"Name": "orders", "PartitionKeys": [{"Name": "day", "Type": "string"}],
             "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}], "Location": "s3://x/orders/"}}
    glue.create_table(DatabaseName=database, TableInput=table)
    glue.update_table(DatabaseName=database, TableInput={**table, "Description": "changed"})
    glue.batch_create_partition(DatabaseName=database, TableName="orders", PartitionInputList=[
        {"Values": ["2024-01-01"], "StorageDescriptor": table["StorageDescriptor"]},
        {"Values": ["2024-01-02"], "StorageDescriptor": table["StorageDescriptor"]}])
    glue.delete_database(Name=database)
    got = sorted((m["Json"] for m in make.receive(url, count=5)), key=lambda e: e["time"])
    changes = {e["detail"]["typeOfChange"]: e for e in got}
    assert set(changes) == {"CreateDatabase", "CreateTable", "UpdateTable", "BatchCreatePartition",
                            "DeleteDatabase"}
    assert changes["CreateTable"]["detail-type"] == "Glue Data Catalog Database State Change"
    assert changes["CreateTable"]["detail"]["changedTables"] == ["orders"]
    assert changes["CreateTable"]["resources"] == [
        f"arn:aws:glue:us-east-1:123456789012:table/{database}/orders"]
    partitions = changes["BatchCreatePartition"]
    assert partitions["detail-type"] == "Glue Data Catalog Table State Change"
    assert partitions["detail"] == {"databaseName": database, "tableName": "orders",
                                    "changedPartitions": ["[2024-01-01]", "[2024-01-02]"],
                                    "typeOfChange": "BatchCreatePartition"}


def test_a_glue_job_state_change_reaches_the_default_bus(lab, make, make_job):
    sqs, glue = lab.client("sqs"), lab.client("glue")
    url, arn = make.queue("jobs")
    job = make_job(f"evt-{uuid.uuid4().hex[:6]}", "print('done')\n", "pythonshell", "3.9")
    make.rule("jobs", [{"Id": "q", "Arn": arn}], EventPattern=json.dumps(
        {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"], "detail": {"jobName": [job]}}))
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    waiting.job_run(glue, job, run_id, timeout=60, poll=0.1)
    event = make.receive(url, timeout=20)[0]["Json"]
    assert (event["source"], event["account"], event["region"], event["resources"]) == (
        "aws.glue", "123456789012", "us-east-1", [])
    assert event["detail"] == {"jobName": job, "severity": "INFO", "state": "SUCCEEDED", "jobRunId": run_id,
                               "message": "Job run succeeded"}


def test_every_signal_with_an_aws_source_reaches_the_default_bus(lab, make):
    """One mechanism: a state change another module announces (here Step Functions') becomes its AWS event."""
    from gluelab.localaws import signals

    sqs = lab.client("sqs")
    url, arn = make.queue("sfn")
    make.rule("sfn", [{"Id": "q", "Arn": arn}], EventPattern=json.dumps(
        {"source": ["aws.states"], "detail": {"status": ["SUCCEEDED"]}}))
    execution = "arn:aws:states:us-east-1:123456789012:execution:machine:run-1"
    signals.emit(signals.EXECUTION_STATUS_CHANGE, {"executionArn": execution, "status": "SUCCEEDED"})
    event = make.receive(url)[0]["Json"]
    assert (event["detail-type"], event["source"], event["resources"]) == (
        "Step Functions Execution Status Change", "aws.states", [execution])


def test_an_event_trigger_starts_its_workflow_when_the_batch_is_full_or_its_window_ends(lab, make, make_job):
    import gluelab

    glue, events = lab.client("glue"), lab.client("events")
    clock_lab = gluelab.start(backend="local", prefix=lab.prefix)
    bus = make.bus("wf")
    workflow = lab.names.resource(f"ingest-{uuid.uuid4().hex[:6]}")
    job = make_job(f"wfjob-{uuid.uuid4().hex[:6]}", "print('ok')\n", "pythonshell", "3.9")
    glue.create_workflow(Name=workflow)
    trigger = lab.names.resource(f"on-event-{uuid.uuid4().hex[:6]}")
    glue.create_trigger(Name=trigger, WorkflowName=workflow, Type="EVENT", Actions=[{"JobName": job}],
                        EventBatchingCondition={"BatchSize": 2, "BatchWindow": 60})
    glue.start_trigger(Name=trigger)
    workflow_arn = f"arn:aws:glue:us-east-1:123456789012:workflow/{workflow}"
    make.rule("wf", [{"Id": "w", "Arn": workflow_arn, "RoleArn": "arn:aws:iam::123456789012:role/x"}],
              bus=bus, EventPattern='{"source": ["uploads"]}')
    try:
        def put():
            return events.put_events(Entries=[{"EventBusName": bus, "Source": "uploads", "DetailType": "File",
                                               "Detail": "{}"}])["Entries"][0]["EventId"]

        def runs(n):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                found = glue.get_workflow_runs(Name=workflow)["Runs"]
                if len(found) >= n:
                    return found
                time.sleep(0.1)
            return glue.get_workflow_runs(Name=workflow)["Runs"]

        first, second = put(), put()
        full = runs(1)
        assert len(full) == 1
        assert full[0]["WorkflowRunProperties"]["aws:eventIds"] == f"[{first}, {second}]"
        third = put()
        time.sleep(0.5)
        assert len(glue.get_workflow_runs(Name=workflow)["Runs"]) == 1
        clock_lab.clock.advance(timedelta(seconds=61))
        assert workflow in clock_lab.clock.run_due()
        windowed = runs(2)
        assert windowed[0]["WorkflowRunProperties"]["aws:eventIds"] == f"[{third}]"
    finally:
        glue.delete_trigger(Name=trigger)
        glue.delete_workflow(Name=workflow)
