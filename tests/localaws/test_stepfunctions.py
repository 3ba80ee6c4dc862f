"""Step Functions on the local endpoint, through plain boto3: state machines written for AWS run unchanged,
Glue jobs really run under ``.sync``, waits and retries pass on each execution's timeline (the history shows
them, the test does not wait), and executions answer in AWS's shapes."""
import inspect
import json
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest

from gluelab import guard, waiting
from gluelab.localaws import signals, stepfunctions, stepfunctions_tasks
from gluelab.naming import Naming

ROLE = "arn:aws:iam::123456789012:role/gluelab-test--sfn"
WAIT_FOR_GO = """
import sys, time, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
bucket, key = args["--go"].split("/", 3)[2:]
s3 = boto3.client("s3")
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
        print("go")
        break
    time.sleep(0.05)
else:
    raise SystemExit("no go")
"""


@pytest.fixture
def sfn(lab):
    return lab.client("stepfunctions")


@pytest.fixture
def machine(lab, sfn):
    """``machine(name, definition)``: a state machine (deleted afterwards); returns its ARN."""
    made = []

    def make(name, definition, **kwargs):
        arn = sfn.create_state_machine(name=lab.names.resource(name), definition=json.dumps(definition),
                                       roleArn=ROLE, **kwargs)["stateMachineArn"]
        made.append(arn)
        return arn
    yield make
    for arn in made:
        sfn.delete_state_machine(stateMachineArn=arn)


@pytest.fixture
def shell_job(make_job):
    def make(name, source, **job_kwargs):
        return make_job(name, source, "pythonshell", "3.9", **job_kwargs)
    return make


@pytest.fixture
def go(lab):
    """``go(name)`` -> (the ``--go`` argument a WAIT_FOR_GO job waits on, a function that lets it finish)."""
    s3, bucket = lab.client("s3"), lab.zones.bucket("temp")

    def make(name):
        key = f"sfn-go/{name}"
        s3.delete_object(Bucket=bucket, Key=key)
        return f"s3://{bucket}/{key}", lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"go")
    return make


def run(sfn, arn, execution_input=None, **kwargs):
    """Start an execution and wait for its end; returns its description."""
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input or {}), **kwargs)
    return waiting.execution(sfn, started["executionArn"], timeout=60, poll=0.02)


def history(sfn, execution_arn, **kwargs):
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000, **kwargs)["events"]


def types(events):
    return [e["type"] for e in events]


def seconds(events, first, second):
    """Seconds between the first event of type ``first`` and the first of type ``second`` after it."""
    i = next(n for n, e in enumerate(events) if e["type"] == first)
    j = next(n for n, e in enumerate(events) if n > i and e["type"] == second)
    return (events[j]["timestamp"] - events[i]["timestamp"]).total_seconds()


# --- executions: names, shapes, history ------------------------------------------------------------------------

def test_an_unnamed_execution_is_named_with_a_uuid_and_described_as_aws_describes_it(sfn, machine):
    arn = machine("hello", {"StartAt": "Hello", "States": {
        "Hello": {"Type": "Pass", "Result": {"greeting": "hi"}, "ResultPath": "$.said", "End": True}}})
    done = run(sfn, arn, {"who": "you"})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", done["name"])
    assert done["executionArn"].endswith(f":execution:{arn.rsplit(':', 1)[1]}:{done['name']}")
    assert done["status"] == "SUCCEEDED"
    assert done["output"] == '{"who":"you","said":{"greeting":"hi"}}'  # compact JSON, as AWS writes it
    assert done["inputDetails"] == {"included": True} and done["outputDetails"] == {"included": True}
    assert done["stopDate"] >= done["startDate"]
    assert done["redriveStatus"] == "NOT_REDRIVABLE"
    assert "error" not in done and "cause" not in done

    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [(e["name"], e["status"]) for e in listed] == [(done["name"], "SUCCEEDED")]

    events = history(sfn, done["executionArn"])
    assert types(events) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [(e["id"], e["previousEventId"]) for e in events] == [(1, 0), (2, 0), (3, 2), (4, 3)]
    assert events[0]["executionStartedEventDetails"] == {"input": '{"who":"you"}',
                                                        "inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert events[1]["stateEnteredEventDetails"]["name"] == "Hello"
    assert events[-1]["executionSucceededEventDetails"]["output"] == done["output"]


def test_a_named_execution_keeps_its_name_and_a_second_start_with_another_input_is_refused(sfn, machine):
    arn = machine("named", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert run(sfn, arn, {"a": 1}, name="daily-2024-01-01")["name"] == "daily-2024-01-01"
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="daily-2024-01-01", input='{"a": 2}')
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=arn, name="no spaces allowed")


def test_history_pages_reverse_order_and_leaves_out_execution_data_on_request(sfn, machine):
    arn = machine("paged", {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Pass", "End": True}}})
    done = run(sfn, arn, {"x": 1})
    every = history(sfn, done["executionArn"])
    assert len(every) == 8
    first = sfn.get_execution_history(executionArn=done["executionArn"], maxResults=3)
    assert [e["id"] for e in first["events"]] == [1, 2, 3]
    rest = sfn.get_execution_history(executionArn=done["executionArn"], maxResults=10, nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == [4, 5, 6, 7, 8] and "nextToken" not in rest
    last = sfn.get_execution_history(executionArn=done["executionArn"], reverseOrder=True, maxResults=1)
    assert last["events"][0]["type"] == "ExecutionSucceeded"
    bare = history(sfn, done["executionArn"], includeExecutionData=False)
    assert bare[0]["executionStartedEventDetails"] == {"roleArn": ROLE}
    assert bare[1]["stateEnteredEventDetails"] == {"name": "A"}


# --- JSONPath processing and the flow states ------------------------------------------------------------------

def test_input_path_parameters_result_selector_result_path_and_output_path(sfn, machine):
    arn = machine("paths", {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "InputPath": "$.order",
                  "Parameters": {"id.$": "$.id", "first.$": "$.lines[0].sku", "skus.$": "$.lines[*].sku",
                                 "execution.$": "$$.Execution.Name", "fixed": "yes"},
                  "ResultPath": "$.shaped", "Next": "Pick"},
        "Pick": {"Type": "Pass", "OutputPath": "$.shaped", "Next": "Select"},
        # ResultSelector shapes a task's raw result: here a service call's, via the AWS SDK integration
        "Select": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getDatabases",
                   "ResultSelector": {"count.$": "States.ArrayLength($.DatabaseList)"},
                   "ResultPath": "$.catalog", "End": True}}})
    done = run(sfn, arn, {"order": {"id": 7, "lines": [{"sku": "A-1"}, {"sku": "B-2"}]}}, name="paths-run")
    out = json.loads(done["output"])
    assert {k: out[k] for k in ("id", "first", "skus", "execution", "fixed")} == {
        "id": 7, "first": "A-1", "skus": ["A-1", "B-2"], "execution": "paths-run", "fixed": "yes"}
    assert isinstance(out["catalog"]["count"], int)


def test_choice_in_the_seeds_variable_form_pass_succeed_and_fail(sfn, machine):
    arn = machine("choice", {"StartAt": "Branch", "States": {
        "Branch": {"Type": "Choice", "Choices": [
            {"Variable": "$.dataAvailable", "BooleanEquals": True, "Next": "Process"},
            {"Variable": "$.records[0].status", "StringEquals": "BROKEN", "Next": "Broken"}],
            "Default": "NoData"},
        "Process": {"Type": "Pass", "Result": "processed", "ResultPath": "$.result", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "NoData": {"Type": "Pass", "Result": "No data to process", "End": True},
        "Broken": {"Type": "Fail", "Error": "BrokenRecord", "Cause": "the first record is broken"}}})
    assert json.loads(run(sfn, arn, {"dataAvailable": True})["output"])["result"] == "processed"
    assert run(sfn, arn, {"dataAvailable": False, "records": []})["output"] == '"No data to process"'
    failed = run(sfn, arn, {"dataAvailable": False, "records": [{"status": "BROKEN"}]})
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "BrokenRecord",
                                                                    "the first record is broken")
    assert "output" not in failed
    events = history(sfn, failed["executionArn"])
    assert types(events)[-2:] == ["FailStateEntered", "ExecutionFailed"]
    assert events[-1]["executionFailedEventDetails"] == {"error": "BrokenRecord",
                                                         "cause": "the first record is broken"}


def test_parallel_and_map_with_items_path_max_concurrency_item_processor_and_iterator(sfn, machine):
    arn = machine("fanout", {"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "EachProcessor", "Branches": [
            {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "L", "End": True}}},
            {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Result": "R", "End": True}}}]},
        "EachProcessor": {"Type": "Map", "ItemsPath": "$.files", "MaxConcurrency": 2, "ResultPath": "$.sizes",
                          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Size", "States": {
                              "Size": {"Type": "Pass", "Parameters": {"file.$": "$.key", "kb.$": "$.kb"},
                                       "End": True}}},
                          "Next": "EachIterator"},
        "EachIterator": {"Type": "Map", "ItemsPath": "$.files", "MaxConcurrency": 1, "ResultPath": "$.names",
                         "Iterator": {"StartAt": "Name", "States": {
                             "Name": {"Type": "Pass", "InputPath": "$.key", "End": True}}},
                         "End": True}}})
    out = json.loads(run(sfn, arn, {"files": [{"key": "a.csv", "kb": 1}, {"key": "b.csv", "kb": 2}]})["output"])
    assert out["both"] == ["L", "R"]
    assert out["sizes"] == [{"file": "a.csv", "kb": 1}, {"file": "b.csv", "kb": 2}]
    assert out["names"] == ["a.csv", "b.csv"]


def test_catch_with_result_path_keeps_the_input_and_adds_the_error(sfn, machine):
    arn = machine("catch", {"StartAt": "Lookup", "States": {
        "Lookup": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJob",
                   "Parameters": {"JobName": "gluelab-test--no-such-job"},
                   "Catch": [{"ErrorEquals": ["Glue.EntityNotFoundException"], "ResultPath": "$.error",
                              "Next": "Recover"}], "End": True},
        "Recover": {"Type": "Pass", "End": True}}})
    out = json.loads(run(sfn, arn, {"day": "2024-01-01"})["output"])
    assert out["day"] == "2024-01-01"
    assert out["error"]["Error"] == "Glue.EntityNotFoundException"
    assert "(Service: Glue, Status Code: 400, Request ID: " in out["error"]["Cause"]


def test_an_uncaught_task_error_fails_the_execution_but_routing_it_to_a_pass_state_succeeds(sfn, machine):
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJob",
            "Parameters": {"JobName": "gluelab-test--no-such-job"}, "End": True}
    uncaught = run(sfn, machine("uncaught", {"StartAt": "T", "States": {"T": task}}))
    assert (uncaught["status"], uncaught["error"]) == ("FAILED", "Glue.EntityNotFoundException")
    assert types(history(sfn, uncaught["executionArn"]))[-3:] == ["TaskStarted", "TaskFailed", "ExecutionFailed"]
    # the seed's pattern: a failure branch that is a Pass (or Succeed) state ends the execution SUCCEEDED
    routed = run(sfn, machine("routed", {"StartAt": "T", "States": {
        "T": {**task, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "ETLFailed"}]},
        "ETLFailed": {"Type": "Pass", "Result": "ETL workflow failed", "End": True}}}))
    assert (routed["status"], routed["output"]) == ("SUCCEEDED", '"ETL workflow failed"')


# --- time: waits and retries pass on the execution's timeline -------------------------------------------------

def test_wait_states_pass_on_the_timeline_and_the_history_shows_each_wait(sfn, machine):
    arn = machine("waits", {"StartAt": "Seconds", "States": {
        "Seconds": {"Type": "Wait", "Seconds": 3600, "Next": "SecondsPath"},
        "SecondsPath": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Timestamp"},
        "Timestamp": {"Type": "Wait", "Timestamp": "2000-01-01T01:00:00+01:00", "Next": "TimestampPath"},
        "TimestampPath": {"Type": "Wait", "TimestampPath": "$.until", "End": True}}})
    until = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    done = run(sfn, arn, {"pause": 90, "until": until.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert done["status"] == "SUCCEEDED"
    events = history(sfn, done["executionArn"])
    waits = [(e["timestamp"], events[i + 1]["timestamp"]) for i, e in enumerate(events)
             if e["type"] == "WaitStateEntered"]
    assert [round((out - into).total_seconds()) for into, out in waits[:3]] == [3600, 90, 0]  # 2000 is past
    assert abs((waits[3][1] - until).total_seconds()) < 1  # TimestampPath: exits at that moment
    assert done["stopDate"] >= until


def test_a_timestamp_that_is_not_rfc3339_fails_as_aws_fails_it(sfn, machine):
    arn = machine("badstamp", {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "TimestampPath": "$.until", "End": True}}})
    failed = run(sfn, arn, {"until": "tomorrow"})
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Runtime")
    assert "The TimestampPath parameter does not reference a valid ISO-8601" in failed["cause"]


def test_retry_intervals_back_off_cap_at_max_delay_and_pass_on_the_timeline(sfn, machine):
    arn = machine("retry", {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJob",
        "Parameters": {"JobName": "gluelab-test--no-such-job"},
        "Retry": [{"ErrorEquals": ["Glue.EntityNotFoundException"], "IntervalSeconds": 20, "BackoffRate": 3,
                   "MaxAttempts": 3, "MaxDelaySeconds": 100}], "End": True}}})
    failed = run(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "Glue.EntityNotFoundException")
    events = history(sfn, failed["executionArn"])
    assert types(events).count("TaskScheduled") == 4  # the attempt and 3 retries
    gaps = [(events[i + 1]["timestamp"] - e["timestamp"]).total_seconds() for i, e in enumerate(events)
            if e["type"] == "TaskFailed" and events[i + 1]["type"] == "TaskScheduled"]
    assert [round(g) for g in gaps] == [20, 60, 100]  # 20, 20 x 3, 20 x 9 capped at MaxDelaySeconds


def test_full_jitter_draws_each_retry_interval_below_the_backed_off_one(sfn, machine):
    arn = machine("jitter", {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJob",
        "Parameters": {"JobName": "gluelab-test--no-such-job"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 100, "MaxAttempts": 4,
                   "JitterStrategy": "FULL"}], "End": True}}})
    events = history(sfn, run(sfn, arn)["executionArn"])
    gaps = [(events[i + 1]["timestamp"] - e["timestamp"]).total_seconds() for i, e in enumerate(events)
            if e["type"] == "TaskFailed" and events[i + 1]["type"] == "TaskScheduled"]
    assert len(gaps) == 4
    assert all(0 <= gap <= limit + 1 for gap, limit in zip(gaps, (100, 200, 400, 800))), gaps


def test_parallel_branches_wait_side_by_side_and_a_map_of_one_at_a_time_waits_in_turn(sfn, machine):
    arn = machine("overlap", {"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Next": "OneByOne", "Branches": [
            {"StartAt": "Short", "States": {"Short": {"Type": "Wait", "Seconds": 10, "End": True}}},
            {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 30, "End": True}}}]},
        "OneByOne": {"Type": "Map", "ItemsPath": "$[0].items", "MaxConcurrency": 1, "End": True,
                     "ItemProcessor": {"StartAt": "Pause", "States": {
                         "Pause": {"Type": "Wait", "Seconds": 5, "End": True}}}}}})
    done = run(sfn, arn, {"items": [1, 2, 3]})
    assert done["output"] == "[1,2,3]"
    events = history(sfn, done["executionArn"])
    assert round(seconds(events, "ParallelStateStarted", "ParallelStateSucceeded")) == 30  # the longer branch
    assert round(seconds(events, "MapStateStarted", "MapStateSucceeded")) == 15  # 3 x 5, one after the other


def test_the_context_objects_times_are_on_the_timeline_as_aws_writes_them(sfn, machine):
    arn = machine("context", {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 600, "Next": "Stamp"},
        "Stamp": {"Type": "Pass", "Parameters": {"started.$": "$$.Execution.StartTime",
                                                 "entered.$": "$$.State.EnteredTime"}, "End": True}}})
    done = run(sfn, arn)
    out = json.loads(done["output"])
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(stamp, out["started"]) and re.fullmatch(stamp, out["entered"])
    started, entered = (datetime.strptime(out[k], "%Y-%m-%dT%H:%M:%S.%f%z") for k in ("started", "entered"))
    assert abs((started - done["startDate"]).total_seconds()) < 0.002
    stamp_entered = [e for e in history(sfn, done["executionArn"]) if e["type"] == "PassStateEntered"][0]
    assert abs((entered - stamp_entered["timestamp"]).total_seconds()) < 0.002
    assert round((entered - started).total_seconds()) == 600


def test_a_poll_loop_around_a_crawl_waits_as_many_times_as_on_aws_not_in_a_spin(lab, sfn, machine):
    glue = lab.client("glue")
    crawler, database = lab.names.resource("sfn-poll-crawler"), lab.names.database("sfn_poll")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": lab.zones.uri("raw", "sfn-poll/")}]})
    try:
        arn = machine("crawl-poll", {"StartAt": "StartCrawler", "States": {
            "StartCrawler": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                             "Parameters": {"Name": crawler}, "ResultPath": None, "Next": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 30, "Next": "GetCrawler"},
            "GetCrawler": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                           "Parameters": {"Name": crawler}, "ResultSelector": {"state.$": "$.Crawler.State"},
                           "ResultPath": "$.crawler", "Next": "Ready?"},
            "Ready?": {"Type": "Choice", "Choices": [
                {"Variable": "$.crawler.state", "StringEquals": "READY", "Next": "Done"}], "Default": "Wait"},
            "Done": {"Type": "Succeed"}}})
        done = run(sfn, arn)
        assert done["status"] == "SUCCEEDED"
        events = history(sfn, done["executionArn"])
        # the crawl takes far less than 30 s: one wait, then GetCrawler sees it READY
        assert types(events).count("WaitStateEntered") == 1
        assert glue.get_crawler(Name=crawler)["Crawler"]["LastCrawl"]["Status"] == "SUCCEEDED"
    finally:
        glue.delete_crawler(Name=crawler)
        glue.delete_database(Name=database)


def test_a_poll_loop_around_a_job_run_lets_the_run_take_its_real_time(sfn, machine, shell_job):
    job = shell_job("sfn-poll-job", "import time\ntime.sleep(3)\n")
    arn = machine("job-poll", {"StartAt": "Start", "States": {
        "Start": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun", "Parameters": {"JobName": job},
                  "ResultSelector": {"id.$": "$.JobRunId"}, "ResultPath": "$.run", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJobRun",
                "Parameters": {"JobName": job, "RunId.$": "$.run.id"},
                "ResultSelector": {"state.$": "$.JobRun.JobRunState"}, "ResultPath": "$.status", "Next": "Ended?"},
        "Ended?": {"Type": "Choice", "Choices": [
            {"Variable": "$.status.state", "StringEquals": "RUNNING", "Next": "Wait"}], "Default": "Done"},
        "Done": {"Type": "Pass", "End": True}}})
    done = run(sfn, arn)
    assert json.loads(done["output"])["status"]["state"] == "SUCCEEDED"
    waits = types(history(sfn, done["executionArn"])).count("WaitStateEntered")
    # a 3 s script (plus its start) polled every second, as on AWS: neither spinning nor jumping to its end (the
    # bounds leave room for a loaded machine, where the states themselves and the job's start take longer)
    assert 3 <= waits <= 8, waits


def test_a_wait_past_the_state_machines_timeout_times_the_execution_out_at_the_deadline(sfn, machine):
    arn = machine("timeout", {"StartAt": "W", "TimeoutSeconds": 120, "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    done = run(sfn, arn)
    assert done["status"] == "TIMED_OUT"
    assert round((done["stopDate"] - done["startDate"]).total_seconds()) == 120
    assert types(history(sfn, done["executionArn"]))[-1] == "ExecutionTimedOut"


# --- Glue: startJobRun and startJobRun.sync ---------------------------------------------------------------------

GLUE_SYNC_KEYS = {"Attempt", "CompletedOn", "ExecutionTime", "GlueVersion", "Id", "JobName", "JobRunState",
                  "LastModifiedOn", "LogGroupName", "MaxCapacity", "PredecessorRuns", "StartedOn", "Timeout"}


def test_start_job_run_sync_runs_the_job_and_outputs_its_job_run_as_aws_does(sfn, machine, shell_job):
    job = shell_job("sfn-ok", "print('rows: 3')\n")
    arn = machine("glue-sync", {"StartAt": "Glue StartJobRun", "States": {"Glue StartJobRun": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": job, "Arguments": {"--day.$": "$.day"}}, "End": True}}})
    done = run(sfn, arn, {"day": "2024-01-01"})
    assert done["status"] == "SUCCEEDED", done
    out = json.loads(done["output"])
    assert GLUE_SYNC_KEYS <= set(out)
    assert list(out) == sorted(out)
    assert (out["JobName"], out["JobRunState"], out["Arguments"]) == (job, "SUCCEEDED", {"--day": "2024-01-01"})
    assert isinstance(out["StartedOn"], int) and out["CompletedOn"] >= out["StartedOn"]  # epoch milliseconds
    glue_run = sfn_glue_run(sfn, job, out["Id"])
    assert glue_run["JobRunState"] == "SUCCEEDED"
    events = history(sfn, done["executionArn"])
    assert types(events) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                             "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"], scheduled["region"]) == (
        "glue", "startJobRun.sync", "us-east-1")
    assert json.loads(scheduled["parameters"]) == {"JobName": job, "Arguments": {"--day": "2024-01-01"}}
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert (submitted["JobName"], submitted["JobRunId"]) == (job, out["Id"])
    assert json.loads(events[5]["taskSucceededEventDetails"]["output"]) == out


def sfn_glue_run(sfn, job, run_id):
    import boto3

    return boto3.client("glue").get_job_run(JobName=job, RunId=run_id)["JobRun"]


def test_start_job_run_without_sync_returns_at_once_while_the_job_still_runs(lab, sfn, machine, shell_job, go):
    argument, release = go("rr")
    job = shell_job("sfn-rr", WAIT_FOR_GO, DefaultArguments={"--go": argument})
    arn = machine("glue-rr", {"StartAt": "RunGlueETL", "States": {"RunGlueETL": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun", "Parameters": {"JobName": job},
        "End": True}}})
    done = run(sfn, arn)
    out = json.loads(done["output"])
    assert set(out) == {"JobName", "JobRunId", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert out["JobName"] == job and out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["SdkResponseMetadata"]["RequestId"] == out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]
    glue = lab.client("glue")
    assert glue.get_job_run(JobName=job, RunId=out["JobRunId"])["JobRun"]["JobRunState"] == "RUNNING"
    release()
    assert waiting.job_run(glue, job, out["JobRunId"], timeout=30, poll=0.05)[0]["JobRunState"] == "SUCCEEDED"


def test_a_failed_job_run_fails_the_sync_task_with_the_job_run_as_cause(sfn, machine, shell_job):
    job = shell_job("sfn-bad", "raise ValueError('3 bad rows')\n")
    arn = machine("glue-fail", {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Parameters": {"JobName": job},
        "End": True}}})
    failed = run(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(failed["cause"])
    assert (cause["JobName"], cause["JobRunState"]) == (job, "FAILED")
    assert cause["ErrorMessage"] == "ValueError: 3 bad rows (exit code 1)"
    task_failed = [e for e in history(sfn, failed["executionArn"]) if e["type"] == "TaskFailed"][0]
    assert task_failed["taskFailedEventDetails"] == {"resourceType": "glue", "resource": "startJobRun.sync",
                                                    "error": "States.TaskFailed", "cause": failed["cause"]}


def test_a_job_glue_does_not_know_fails_with_glues_error(sfn, machine):
    arn = machine("glue-missing", {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": "gluelab-test--not-deployed"}, "End": True}}})
    failed = run(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "Glue.EntityNotFoundException")
    assert "(Service: AWSGlue; Status Code: 400; Error Code: EntityNotFoundException; Request ID: " in failed["cause"]


def aws_glue_job_example(job: str) -> dict:
    """The developer guide's "Glue StartJobRun" Task state (connect-glue), with the Retry and Catch its error
    handling chapter adds: retry Glue's transient errors and a failed run, then catch everything into a
    notification step that keeps the input."""
    return {"Comment": "Run an AWS Glue job", "StartAt": "Glue StartJobRun", "States": {
        "Glue StartJobRun": {
            "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": job},
            "Retry": [{"ErrorEquals": ["Glue.AWSGlueException", "Glue.ConcurrentRunsExceededException",
                                       "States.TaskFailed"],
                       "IntervalSeconds": 30, "MaxAttempts": 2, "BackoffRate": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Notify Failure"}],
            "ResultPath": "$.jobRun", "Next": "ValidateOutput"},
        "ValidateOutput": {"Type": "Choice", "Choices": [
            {"Variable": "$.jobRun.JobRunState", "StringEquals": "SUCCEEDED", "Next": "Notify Success"}],
            "Default": "Notify Failure"},
        "Notify Success": {"Type": "Pass", "Result": "AWS Glue Job completed successfully",
                           "ResultPath": "$.message", "End": True},
        "Notify Failure": {"Type": "Pass", "Result": "AWS Glue Job failed", "ResultPath": "$.message",
                           "End": True}}}


def test_the_aws_glue_job_example_runs_to_succeeded(sfn, machine, shell_job):
    job = shell_job("sfn-example-ok", "print('done')\n")
    done = run(sfn, machine("example-ok", aws_glue_job_example(job)), {"run": 1})
    out = json.loads(done["output"])
    assert (done["status"], out["message"], out["jobRun"]["JobRunState"]) == (
        "SUCCEEDED", "AWS Glue Job completed successfully", "SUCCEEDED")
    assert types(history(sfn, done["executionArn"])).count("TaskScheduled") == 1


def test_the_aws_glue_job_example_retries_a_failing_job_then_takes_the_catch_branch(sfn, machine, shell_job):
    job = shell_job("sfn-example-bad", "raise SystemExit('source bucket is empty')\n")
    done = run(sfn, machine("example-bad", aws_glue_job_example(job)), {"run": 2})
    out = json.loads(done["output"])
    assert (done["status"], out["message"], out["error"]["Error"]) == (
        "SUCCEEDED", "AWS Glue Job failed", "States.TaskFailed")
    assert json.loads(out["error"]["Cause"])["JobRunState"] == "FAILED"
    events = history(sfn, done["executionArn"])
    assert types(events).count("TaskScheduled") == 3  # the run and 2 retries, each a new job run
    gaps = [(events[i + 1]["timestamp"] - e["timestamp"]).total_seconds() for i, e in enumerate(events)
            if e["type"] == "TaskFailed" and events[i + 1]["type"] == "TaskScheduled"]
    assert [round(g) for g in gaps] == [30, 60]
    import boto3

    assert len(boto3.client("glue").get_job_runs(JobName=job)["JobRuns"]) == 3


def test_stopping_an_execution_aborts_it_at_once_and_stops_its_job_run(lab, sfn, machine, shell_job, go):
    argument, _release = go("stop")
    job = shell_job("sfn-stop", WAIT_FOR_GO, DefaultArguments={"--go": argument})
    arn = machine("glue-stop", {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Parameters": {"JobName": job},
        "End": True}}})
    execution_arn = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    glue = lab.client("glue")
    deadline = datetime.now() + timedelta(seconds=30)
    while not glue.get_job_runs(JobName=job)["JobRuns"] and datetime.now() < deadline:
        threading.Event().wait(0.02)
    run_id = glue.get_job_runs(JobName=job)["JobRuns"][0]["Id"]
    stopped = sfn.stop_execution(executionArn=execution_arn, error="Operator", cause="stopped by the on-call")
    described = sfn.describe_execution(executionArn=execution_arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED", "Operator", "stopped by the on-call")
    assert described["stopDate"] == stopped["stopDate"]
    assert waiting.job_run(glue, job, run_id, timeout=30, poll=0.05)[0]["JobRunState"] == "STOPPED"
    deadline = datetime.now() + timedelta(seconds=10)
    while types(history(sfn, execution_arn))[-1] != "ExecutionAborted" and datetime.now() < deadline:
        threading.Event().wait(0.02)
    events = history(sfn, execution_arn)
    assert types(events)[-1] == "ExecutionAborted" and "TaskFailed" not in types(events)
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "stopped by the on-call"}
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "ABORTED"


# --- what AWS recognises: optimized integrations and AWS SDK integrations -------------------------------------

@pytest.mark.parametrize("resource", ["arn:aws:states:::glue:startCrawler", "arn:aws:states:::glue:startJobRun"
                                      ".waitForTaskToken", "arn:aws:states:::aws-sdk:glue:startCrawler.sync",
                                      "arn:aws:states:::aws-sdk:glue:startCrawlers"])
def test_a_resource_aws_does_not_recognise_is_refused_when_the_state_machine_is_created(sfn, lab, resource):
    definition = {"StartAt": "Outer", "States": {"Outer": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "UpdateDataCatalog", "States": {"UpdateDataCatalog": {
            "Type": "Task", "Resource": resource, "Parameters": {"Name": "x"}, "End": True}}}]}}}
    with pytest.raises(sfn.exceptions.InvalidDefinition) as refused:
        sfn.create_state_machine(name=lab.names.resource("refused"), definition=json.dumps(definition),
                                 roleArn=ROLE)
    assert refused.value.response["Error"]["Message"] == (
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided {resource} is not "
        "recognized. The value is not a valid resource ARN, or the resource is not available in this region. "
        "at /States/Outer/Branches/0/States/UpdateDataCatalog/Resource'")


def test_aws_sdk_glue_calls_take_pascal_case_parameters_and_answer_at_once(lab, sfn, machine):
    glue = lab.client("glue")
    crawler, database = lab.names.resource("sfn-crawler"), lab.names.database("sfn")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": lab.zones.uri("raw", "sfn-empty/")}]})
    try:
        arn = machine("sdk", {"StartAt": "UpdateDataCatalog", "States": {
            "UpdateDataCatalog": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                                  "Parameters": {"Name": crawler}, "ResultPath": "$.started", "Next": "Look"},
            "Look": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                     "Parameters": {"Name.$": "$.crawler"}, "ResultSelector": {
                         "name.$": "$.Crawler.Name", "created.$": "$.Crawler.CreationTime"}, "End": True}}})
        done = run(sfn, arn, {"crawler": crawler})
        out = json.loads(done["output"])
        assert out["name"] == crawler
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", out["created"])
        assert json.loads(history(sfn, done["executionArn"])[4]["taskSucceededEventDetails"]["output"]) == {}
        waiting.crawler(glue, crawler, timeout=30, poll=0.05)
    finally:
        glue.delete_crawler(Name=crawler)
        glue.delete_database(Name=database)


def test_aws_sdk_step_functions_calls_take_pascal_case_parameters_and_answer_in_pascal_case(sfn, machine):
    child = machine("child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    arn = machine("parent", {"StartAt": "Describe", "States": {"Describe": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeStateMachine",
        "Parameters": {"StateMachineArn": child}, "ResultSelector": {"name.$": "$.Name", "arn.$": "$.StateMachineArn"},
        "End": True}}})
    out = json.loads(run(sfn, arn)["output"])
    assert out == {"name": child.rsplit(":", 1)[1], "arn": child}


def test_an_express_state_machine_answers_start_sync_execution_with_its_end(sfn, machine):
    express = machine("express", {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 2, "Next": "Greet"},
        "Greet": {"Type": "Pass", "Parameters": {"hello.$": "$.who"}, "End": True}}}, type="EXPRESS")
    done = sfn.start_sync_execution(stateMachineArn=express, input='{"who": "world"}', name="sync-1")
    assert (done["status"], done["output"], done["name"]) == ("SUCCEEDED", '{"hello":"world"}', "sync-1")
    assert re.fullmatch(rf"{express.replace(':stateMachine:', ':express:')}:sync-1:[0-9a-f-]{{36}}",
                        done["executionArn"])
    assert done["stopDate"] - done["startDate"] >= timedelta(seconds=2)
    assert done["billingDetails"]["billedMemoryUsedInMB"] == 64
    assert done["billingDetails"]["billedDurationInMilliseconds"] >= 2000
    failed = sfn.start_sync_execution(stateMachineArn=machine("express-fail", {"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}, type="EXPRESS"))
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Nope", "no")
    standard = machine("standard", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=standard)


# --- Lambda ------------------------------------------------------------------------------------------------------

MISSING_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:check-source-data"


def test_a_hard_coded_function_arn_that_does_not_exist_fails_as_on_aws(sfn, machine):
    legacy = run(sfn, machine("legacy-missing", {"StartAt": "CheckSourceData", "States": {
        "CheckSourceData": {"Type": "Task", "Resource": MISSING_FUNCTION, "End": True}}}))
    assert (legacy["status"], legacy["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert legacy["cause"].startswith(f"Function not found: {MISSING_FUNCTION} (Service: AWSLambda; "
                                      "Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ")
    events = history(sfn, legacy["executionArn"])
    assert types(events) == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                             "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"]
    assert events[4]["lambdaFunctionFailedEventDetails"] == {"error": legacy["error"], "cause": legacy["cause"]}
    optimized = run(sfn, machine("invoke-missing", {"StartAt": "Invoke", "States": {"Invoke": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": MISSING_FUNCTION, "Payload.$": "$"}, "End": True}}}))
    assert (optimized["status"], optimized["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    failed = [e for e in history(sfn, optimized["executionArn"]) if e["type"] == "TaskFailed"][0]
    assert (failed["taskFailedEventDetails"]["resourceType"], failed["taskFailedEventDetails"]["resource"]) == (
        "lambda", "invoke")


# --- status changes as EventBridge sees them ------------------------------------------------------------------

def test_every_status_change_emits_the_step_functions_execution_status_change_event(sfn, machine):
    seen = []

    def listener(detail, resource=None):
        seen.append(detail)

    signals.subscribe(stepfunctions.STATUS_CHANGE, listener)
    try:
        ok = run(sfn, machine("events-ok", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
                 {"n": 1})
        bad = run(sfn, machine("events-bad", {"StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}))
        slow = machine("events-stop", {"StartAt": "W", "States": {"W": {"Type": "Task",
                       "Resource": "arn:aws:states:::aws-sdk:glue:getJobs", "Next": "Hold"},
                       "Hold": {"Type": "Wait", "Seconds": 1, "Next": "W"}}})
        stopping = sfn.start_execution(stateMachineArn=slow)["executionArn"]
        sfn.stop_execution(executionArn=stopping)
    finally:
        signals._LISTENERS[stepfunctions.STATUS_CHANGE].remove(listener)
    by_arn = {}
    for detail in seen:
        by_arn.setdefault(detail["executionArn"], []).append(detail)
    assert [d["status"] for d in by_arn[ok["executionArn"]]] == ["RUNNING", "SUCCEEDED"]
    assert [d["status"] for d in by_arn[bad["executionArn"]]] == ["RUNNING", "FAILED"]
    assert [d["status"] for d in by_arn[stopping]] == ["RUNNING", "ABORTED"]
    running, succeeded = by_arn[ok["executionArn"]]
    assert running == {
        "executionArn": ok["executionArn"], "stateMachineArn": ok["stateMachineArn"], "name": ok["name"],
        "status": "RUNNING", "startDate": int(ok["startDate"].timestamp() * 1000), "stopDate": None,
        "input": '{"n": 1}', "output": None, "stateMachineVersionArn": None, "stateMachineAliasArn": None,
        "redriveCount": 0, "redriveDate": None, "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is RUNNING and cannot be redriven", "inputDetails": {"included": True},
        "outputDetails": None, "error": None, "cause": None}
    assert (succeeded["output"], succeeded["outputDetails"]) == ('{"n":1}', {"included": True})
    assert succeeded["stopDate"] == int(ok["stopDate"].timestamp() * 1000)
    failed = by_arn[bad["executionArn"]][1]
    assert (failed["error"], failed["cause"], failed["redriveStatus"]) == ("E", "c", "REDRIVABLE")


# --- the guard and the moto internals relied on -----------------------------------------------------------------

def test_the_guard_checks_the_state_machine_of_an_execution_arn():
    naming = Naming("mylab", "123456789012", "us-east-1")
    allowed = guard.declared_operations()["stepfunctions"]
    mine = "arn:aws:states:us-east-1:123456789012:execution:mylab--etl:4f0c1f7e-0d7f-4a41-9a51-5c3d8e1e6b1a"
    theirs = "arn:aws:states:us-east-1:123456789012:execution:their-etl:mylab--looks-mine"
    assert guard.refuse("stepfunctions", "StopExecution", {"executionArn": mine}, naming, allowed) is None
    assert "refused" in guard.refuse("stepfunctions", "StopExecution", {"executionArn": theirs}, naming, allowed)
    machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:mylab--etl"
    assert guard.refuse("stepfunctions", "StartExecution", {"stateMachineArn": machine_arn, "name": "any-name"},
                        naming, allowed) is None
    assert guard.refuse("stepfunctions", "TagResource", {"resourceArn": machine_arn, "tags": []}, naming,
                        allowed) is None


def test_every_place_the_interpreter_sleeps_or_waits_is_accounted_for():
    """Pins the moto internals behind lab time: a new sleep or wait in moto's interpreter fails here."""
    from pathlib import Path

    import moto.stepfunctions.parser as parser
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    found = set()
    for path in Path(parser.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for line in text.splitlines():
            if re.search(r"time\.sleep\(|\.wait\(", line):
                found.add((path.relative_to(Path(parser.__file__).parent).as_posix(), line.strip()))
    accounted = {
        # retry intervals: moto's ``time`` there is gluelab's (the interval passes on the timeline)
        ("asl/component/common/retry/retrier_decl.py", "time.sleep(interval_seconds)"),
        # Wait states: _wait_interval is replaced
        ("asl/component/state/wait/wait_function/wait_function.py", "env.program_state_event.wait(wait_seconds)"),
        # .sync polling: replaced for Glue (glue_tasks wait for the run's end); other services are not run here
        ("asl/component/state/exec/state_task/service/state_task_service_callback.py",
         "time.sleep(_DELAY_SECONDS_SYNC_CONDITION_CHECK)"),
        # real work: a task's TimeoutSeconds and the Map, Parallel and callback (task token) machinery
        ("asl/component/state/exec/execute_state.py",
         "finished_on_time: bool = terminated_event.wait(timeout_seconds)"),
        ("asl/component/state/exec/state_map/iteration/job.py", "self._termination_event.wait()"),
        ("asl/component/state/exec/state_parallel/branches_decl.py", "self._termination_event.wait()"),
        ("asl/component/state/exec/state_parallel/branches_decl.py", "branch_worker_pool.wait()"),
        ("asl/eval/count_down_latch.py", "self.lock.wait()"),
        ("asl/eval/callback/callback.py", "return self._next_heartbeat_event.wait(timeout=self._heartbeat_seconds)"),
        ("asl/eval/callback/callback.py", "self._next_activity_task_start_event.wait(timeout=timeout_seconds)"),
        ("asl/eval/callback/callback.py", "self._notify_event.wait(timeout=timeout)"),
        ("asl/component/state/exec/state_task/state_task_activitiy.py",
         "task_start_outcome = activity_task_start_endpoint.wait("),
        ("asl/component/state/exec/state_task/state_task_activitiy.py",
         "outcome = callback_endpoint.wait(timeout=timeout_seconds)"),
        ("asl/component/state/exec/state_task/service/state_task_service_callback.py",
         "outcome: CallbackOutcome | None = callback_endpoint.wait("),
        # moto's copy of the interpreter's service provider, which moto never imports
        ("provider.py", "time.sleep(1)"),
    }
    assert found == accounted
    assert retrier_decl.time is stepfunctions._RetryTime
    body = retrier_decl.RetrierDecl._eval_body
    assert "time.sleep(interval_seconds)" in inspect.getsource(getattr(body, "__gluelab_original__", body))


def test_the_other_moto_internals_relied_on_still_fit():
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    # every interpreter module reads JSONPath through gluelab's reader
    holders = [name for name, module in sys.modules.items() if name.startswith("moto.stepfunctions.parser")
               and hasattr(module, "extract_json")]
    assert holders and all(sys.modules[n].extract_json is stepfunctions.extract_json for n in holders)
    assert json_path.extract_json("$.a[0].b", {"a": [{"b": 1}]}) == 1
    # the AWS SDK integration names its errors from this table
    assert state_task_service_aws_sdk._SERVICE_ERROR_NAMES["glue"] == "Glue"
    assert "_SERVICE_ERROR_NAMES" in inspect.getsource(StateTaskServiceAwsSdkClass())
    # the execution's start time, read when its environment is made
    assert "self._evaluation_details = evaluation_details" in inspect.getsource(ExecutionWorker.__init__)
    assert stepfunctions_tasks.SDK_ERROR_NAMES["dynamodb"] == "DynamoDb"


def StateTaskServiceAwsSdkClass():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk)

    return StateTaskServiceAwsSdk._normalise_service_error_name
