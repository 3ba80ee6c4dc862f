"""States Language as data: substitutions, state order, and an execution's path from its history events."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from gluelab import asl, diagrams, jobs

SEED = json.loads(jobs.script("etl_workflow.asl.json"))
T0 = datetime(2024, 5, 1, 2, 0, tzinfo=timezone.utc)


def history(*events):
    """AWS's history event shape: id, previousEventId, timestamp, type, <type>EventDetails."""
    out = []
    for i, (seconds, kind, details) in enumerate(events, start=1):
        event = {"id": i, "previousEventId": i - 1, "timestamp": T0 + timedelta(seconds=seconds), "type": kind}
        if details is not None:
            key = kind[0].lower() + kind[1:]
            key = ("stateEnteredEventDetails" if kind.endswith("StateEntered") else
                   "stateExitedEventDetails" if kind.endswith("StateExited") else key + "EventDetails")
            event[key] = details
        out.append(event)
    return out


def test_the_seeds_definition_hard_codes_an_account_in_four_arns():
    assert asl.hard_coded_arns(SEED) == [
        "arn:aws:lambda:us-east-1:123456789012:function:check-etl-status",
        "arn:aws:lambda:us-east-1:123456789012:function:check-source-data",
        "arn:aws:sns:us-east-1:123456789012:etl-alerts",
        "arn:aws:sns:us-east-1:123456789012:etl-notifications"]


def test_state_order_follows_the_path_from_start_at():
    assert asl.state_order(SEED) == [
        "CheckSourceData", "BranchOnDataAvailability", "RunGlueETL", "CheckETLStatus", "ETLSuccessChoice",
        "UpdateDataCatalog", "SendSuccessNotification", "ETLFailed", "NoDataAvailable"]


def test_substitute_replaces_placeholders_and_names_the_missing_ones():
    template = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${CheckFn}", "End": True}}}
    assert json.loads(asl.substitute(template, CheckFn="arn:x"))["States"]["A"]["Resource"] == "arn:x"
    with pytest.raises(KeyError, match=r"\$\{CheckFn\}"):
        asl.substitute(template)


def test_steps_read_the_path_outcomes_retries_and_catches():
    events = history(
        (0, "ExecutionStarted", {"input": "{}"}),
        (0, "TaskStateEntered", {"name": "CheckSourceData"}),
        (0, "LambdaFunctionScheduled", {"resource": "arn"}),
        (1, "LambdaFunctionFailed", {"error": "Lambda.ServiceException"}),
        (3, "LambdaFunctionScheduled", {"resource": "arn"}),
        (4, "LambdaFunctionSucceeded", {"output": "{}"}),
        (4, "TaskStateExited", {"name": "CheckSourceData"}),
        (4, "TaskStateEntered", {"name": "RunGlueETL"}),
        (4, "TaskScheduled", {"resource": "startJobRun.sync"}),
        (64, "TaskFailed", {"error": "States.TaskFailed"}),
        (64, "PassStateEntered", {"name": "NoDataAvailable"}),
        (64, "PassStateExited", {"name": "NoDataAvailable"}),
        (64, "FailStateEntered", {"name": "ETLFailed"}),
        (64, "ExecutionFailed", {"error": "ETL.Failed"}),
    )
    steps = asl.steps(events)
    assert [(s.name, s.outcome, s.error, s.seconds) for s in steps] == [
        ("CheckSourceData", "succeeded after 2 attempts", "Lambda.ServiceException", 4.0),
        ("RunGlueETL", "caught", "States.TaskFailed", 60.0),
        ("NoDataAvailable", "succeeded", None, 0.0),
        ("ETLFailed", "failed", "ETL.Failed", 0.0)]
    assert asl.path(events) == ["CheckSourceData", "RunGlueETL", "NoDataAvailable", "ETLFailed"]


def test_states_inside_a_parallel_belong_to_it():
    events = history(
        (0, "ExecutionStarted", {}),
        (0, "ParallelStateEntered", {"name": "Both"}),
        (0, "ParallelStateStarted", None),
        (0, "TaskStateEntered", {"name": "Left"}),
        (2, "TaskStateExited", {"name": "Left"}),
        (0, "PassStateEntered", {"name": "Right"}),
        (0, "PassStateExited", {"name": "Right"}),
        (2, "ParallelStateSucceeded", None),
        (2, "ParallelStateExited", {"name": "Both"}),
        (2, "SucceedStateEntered", {"name": "Done"}),
        (2, "SucceedStateExited", {"name": "Done"}),
        (2, "ExecutionSucceeded", {"output": "{}"}),
    )
    assert [(s.name, s.type, s.outcome) for s in asl.steps(events)] == [
        ("Both", "Parallel", "succeeded"), ("Done", "Succeed", "succeeded")]


def test_the_execution_picture_is_drawn_with_the_states_not_entered():
    events = history((0, "ExecutionStarted", {}), (0, "TaskStateEntered", {"name": "CheckSourceData"}),
                     (1, "TaskStateExited", {"name": "CheckSourceData"}), (1, "ExecutionSucceeded", {}))
    figure = diagrams.execution(asl.state_order(SEED), asl.steps(events), title="t")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "CheckSourceData" and len(labels) == 9
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
