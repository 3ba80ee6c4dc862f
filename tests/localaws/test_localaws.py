"""The local AWS layer's shared pieces: hook contracts, the dispatcher, log shipping, signals, the scheduler and
each service's declaration (what the guard checks, what teardown deletes)."""
import re
from datetime import timedelta
from pathlib import Path

import moto
import pytest
from moto.glue.responses import GlueResponse

import gluelab
from gluelab import guard, localaws, waiting
from gluelab.localaws import dispatch, hooks, logship, scheduler, signals

ROOT = Path(__file__).resolve().parents[2]


def test_moto_is_the_pinned_version():
    pins = dict(re.findall(r"^([a-z0-9_-]+)(?:\[[^\]]*\])?==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    assert moto.__version__ == pins["moto"] == hooks.MOTO_VERSION


def test_every_hooked_method_still_fits_moto():
    hooks.check_contracts()  # raises HookContractError with the details otherwise
    assert {(h.owner.__name__, h.method) for h in hooks._HOOKS} >= {("FakeJob", "start_job_run")}


def test_contract_check_fails_loudly_when_moto_changes(monkeypatch):
    class Moved:
        def start(self, other_args):
            pass

    monkeypatch.setattr(hooks, "_HOOKS", [hooks._Hook(Moved, "start", ("name",), lambda *a: None),
                                          hooks._Hook(Moved, "gone", (), lambda *a: None)])
    with pytest.raises(hooks.HookContractError) as err:
        hooks.check_contracts()
    assert "Moved.start lost parameter(s) ['name']" in str(err.value)
    assert "Moved.gone no longer exists" in str(err.value)


def test_glue_actions_gluelab_answers_are_still_missing_from_moto():
    """If moto gains one of these, gluelab's answer shadows it: compare them, drop ours if moto's fits."""
    from moto.glue.responses import GlueResponse

    ours = {"batch_stop_job_run", "get_job_bookmark", "reset_job_bookmark", "update_job", "update_crawler",
            "get_crawler_metrics", "list_schema_versions"}
    assert ours <= dispatch.actions(GlueResponse)
    assert not [a for a in ours if hasattr(GlueResponse, a)]


def test_every_service_module_declares_itself_once_and_the_guard_checks_what_they_declare():
    services = localaws.services()
    declared = {p.lower() for s in services for p in s.guarded}
    assert guard.NAME_PARAMS == declared
    assert {"bucket", "jobname", "crawlername", "workflowname", "triggername", "databasename", "queueurl",
            "functionname", "statemachinearn", "rolename"} <= declared
    kinds = [o.kind for s in services for o in s.owned]
    assert len(kinds) == len(set(kinds))
    # what starts others is deleted before them: triggers before jobs and crawlers, buckets and roles last
    assert kinds.index("trigger") < kinds.index("crawler") < kinds.index("job") < kinds.index("database")
    assert kinds[-2:] == ["bucket", "IAM role"]


def test_teardown_deletes_what_each_service_owns_and_nothing_else(endpoint):
    lab = gluelab.start(backend="local", prefix="tdown")
    other = gluelab.start(backend="local", prefix="tdownx")
    for each in (lab, other):
        each.ensure_zones()
        each.client("sqs").create_queue(QueueName=each.names.resource("dlq"))
        each.client("sns").create_topic(Name=each.names.resource("alerts"))
        each.client("glue").create_database(DatabaseInput={"Name": each.names.database("db")})
    deleted = lab.teardown()
    assert sorted(d.split(" ")[0] for d in deleted) == ["SNS", "SQS", "bucket", "bucket", "bucket", "bucket",
                                                        "bucket", "database"]
    assert {d for d in deleted if d.startswith(("SQS", "SNS", "database"))} == {
        f"SQS queue {lab.names.resource('dlq')}", f"SNS topic {lab.names.resource('alerts')}",
        f"database {lab.names.database('db')}"}
    queues = other.client("sqs").list_queues().get("QueueUrls", [])
    assert any(url.endswith("/" + other.names.resource("dlq")) for url in queues)
    assert not any(url.endswith("/" + lab.names.resource("dlq")) for url in queues)
    assert other.teardown()


def test_an_action_handler_error_reaches_the_client_as_moto_answers_its_own(endpoint):
    glue = gluelab.start().client("glue")
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Job no-such-job not found"):
        glue.get_job_bookmark(JobName="no-such-job")


def test_logship_creates_the_group_and_stream_and_appends(endpoint):
    logs = gluelab.start().client("logs")
    group, stream = "/gluelab-test/logship", "stream-1"
    assert logship.ship("123456789012", "us-east-1", group, stream, ["one", "two"]) == 2
    assert logship.ship("123456789012", "us-east-1", group, stream, []) == 0
    logship.ship("123456789012", "us-east-1", group, stream, ["three"])
    events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["one", "two", "three"]


def test_a_failing_listener_does_not_stop_the_others(caplog):
    seen = []

    def broken(detail, resource=None):
        raise RuntimeError("listener bug")

    def good(detail, resource=None):
        seen.append((detail, resource))

    signals.subscribe("gluelab test signal", broken)
    signals.subscribe("gluelab test signal", good)
    signals.subscribe("gluelab test signal", good)  # idempotent
    signals.emit("gluelab test signal", {"x": 1}, resource="r")
    assert seen == [({"x": 1}, "r")]
    assert "listener bug" in caplog.text


def test_the_lab_clock_fires_a_crawlers_schedule_through_the_scheduler(endpoint):
    lab = gluelab.start(backend="local", prefix="sched")
    lab.ensure_zones()
    glue = lab.client("glue")
    glue.create_database(DatabaseInput={"Name": lab.names.database("db")})
    name = lab.names.resource("nightly")
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/glue",
                        DatabaseName=lab.names.database("db"), Schedule="cron(0 2 * * ? *)",
                        Targets={"S3Targets": [{"Path": lab.zones.uri("raw", "nothing/")}]})
    try:
        start = lab.clock.now()
        lab.clock.advance(timedelta(hours=24))
        assert name in lab.clock.run_due()
        assert lab.clock.run_due() == []     # nothing new fell due
        assert scheduler.run_due(start, start) == []   # an empty window starts nothing
    finally:
        waiting.crawler(glue, name, timeout=30)
        lab.teardown()
