"""Glue workflows and triggers on the local endpoint, built and driven with plain boto3 calls only."""
import json
from datetime import timedelta

import pytest

import gluelab
from gluelab import waiting

OK = "import sys\nprint(' '.join(sys.argv[1:]))\n"


@pytest.fixture(scope="module")
def wlab(endpoint):
    lab = gluelab.start(backend="local", prefix="wflow")
    lab.ensure_zones()
    yield lab
    lab.teardown()


@pytest.fixture
def job(wlab):
    """``job(name, source)``: a Python shell job running ``source``; returns its name."""
    glue, s3 = wlab.client("glue"), wlab.client("s3")

    def make(name, source=OK):
        name = wlab.names.resource(name)
        s3.put_object(Bucket=wlab.zones.bucket("scripts"), Key=f"wf/{name}.py", Body=source.encode())
        try:
            glue.delete_job(JobName=name)
        except glue.exceptions.EntityNotFoundException:
            pass
        glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": "pythonshell", "PythonVersion": "3.9",
                                 "ScriptLocation": wlab.zones.uri("scripts", f"wf/{name}.py")})
        return name
    return make


@pytest.fixture
def workflow(wlab):
    """``workflow(name, *triggers)``: a workflow with ``triggers`` (create_trigger kwargs); deleted after."""
    glue = wlab.client("glue")
    made = []

    def make(name, *triggers, **kwargs):
        name = wlab.names.resource(name)
        glue.create_workflow(Name=name, **kwargs)
        for trigger in triggers:
            glue.create_trigger(WorkflowName=name, **trigger)
            made.append(("trigger", trigger["Name"]))
        made.append(("workflow", name))
        return name
    yield make
    for kind, name in made:
        (glue.delete_trigger if kind == "trigger" else glue.delete_workflow)(Name=name)


def when(*conditions, logical="AND"):
    return {"Logical": logical, "Conditions": [
        {"LogicalOperator": "EQUALS", "JobName": name, "State": state} for name, state in conditions]}


def trigger(wlab, name, kind, actions, predicate=None, **kwargs):
    t = {"Name": wlab.names.resource(name), "Type": kind, "Actions": actions, **kwargs}
    if predicate:
        t["Predicate"] = predicate
        t.setdefault("StartOnCreation", True)
    return t


def job_runs(run):
    return {n["Name"]: n["JobDetails"].get("JobRuns", []) for n in run["Graph"]["Nodes"] if n["Type"] == "JOB"}


def test_acceptance_fan_out_fan_in_failure_branch_statistics_graph_and_resume(wlab, job, workflow):
    glue, s3 = wlab.client("glue"), wlab.client("s3")
    a, b, c, d, e = job("a"), job("b"), job("c", "raise SystemExit('c: source not reachable')\n"), job("d"), job("e")
    wf = workflow("acceptance",
                  trigger(wlab, "acc-start", "ON_DEMAND", [{"JobName": a}]),
                  trigger(wlab, "acc-fan-out", "CONDITIONAL", [{"JobName": b}, {"JobName": c}],
                          when((a, "SUCCEEDED"))),
                  trigger(wlab, "acc-fan-in", "CONDITIONAL", [{"JobName": d}],
                          when((b, "SUCCEEDED"), (c, "SUCCEEDED"))),
                  trigger(wlab, "acc-on-failure", "CONDITIONAL", [{"JobName": e, "Arguments": {"--why": "c"}}],
                          when((c, "FAILED"), (b, "FAILED"), logical="ANY")))
    run_id = glue.start_workflow_run(Name=wf, RunProperties={"batch": "7"})["RunId"]
    run = waiting.workflow_run(glue, wf, run_id, timeout=60)
    assert run["Status"] == "COMPLETED"     # a failed action does not fail the run: Statistics say it
    assert run["Statistics"] == {"TotalActions": 4, "SucceededActions": 3, "FailedActions": 1, "TimeoutActions": 0,
                                 "StoppedActions": 0, "RunningActions": 0, "ErroredActions": 0, "WaitingActions": 0}
    runs = job_runs(run)
    assert {name: [r["JobRunState"] for r in rs] for name, rs in runs.items()} == {
        a: ["SUCCEEDED"], b: ["SUCCEEDED"], c: ["FAILED"], d: [], e: ["SUCCEEDED"]}
    # each step started after the step its trigger watched had finished
    assert runs[b][0]["StartedOn"] >= runs[a][0]["CompletedOn"] <= runs[c][0]["StartedOn"]
    assert runs[e][0]["StartedOn"] >= runs[c][0]["CompletedOn"]
    assert runs[c][0]["ErrorMessage"] == "c: source not reachable (exit code 1)"
    assert runs[e][0]["Arguments"] == {"--why": "c", "--WORKFLOW_NAME": wf, "--WORKFLOW_RUN_ID": run_id}
    nodes = {n["UniqueId"]: n for n in run["Graph"]["Nodes"]}
    edges = {(nodes[x["SourceId"]]["Name"], nodes[x["DestinationId"]]["Name"]) for x in run["Graph"]["Edges"]}
    t = wlab.names.resource
    assert edges == {(t("acc-start"), a), (a, t("acc-fan-out")), (t("acc-fan-out"), b), (t("acc-fan-out"), c),
                     (b, t("acc-fan-in")), (c, t("acc-fan-in")), (t("acc-fan-in"), d), (b, t("acc-on-failure")),
                     (c, t("acc-on-failure")), (t("acc-on-failure"), e)}
    assert sorted(n["Type"] for n in nodes.values()) == ["JOB"] * 5 + ["TRIGGER"] * 4

    # fix c, resume it: c and what follows it run again in a new run; a and b are not repeated
    s3.put_object(Bucket=wlab.zones.bucket("scripts"), Key=f"wf/{c}.py", Body=OK.encode())
    c_node = next(n["UniqueId"] for n in nodes.values() if n["Name"] == c)
    answer = glue.resume_workflow_run(Name=wf, RunId=run_id, NodeIds=[c_node])
    assert answer["NodeIds"] == [c_node] and answer["RunId"] != run_id
    resumed = waiting.workflow_run(glue, wf, answer["RunId"], timeout=60)
    assert resumed["Status"] == "COMPLETED" and resumed["PreviousRunId"] == run_id
    assert resumed["WorkflowRunProperties"] == {"batch": "7"}
    assert resumed["Statistics"]["TotalActions"] == 2 and resumed["Statistics"]["SucceededActions"] == 2
    again = job_runs(resumed)
    assert [r["JobRunState"] for r in again[c]] == ["SUCCEEDED"] and [r["JobRunState"] for r in again[d]] == [
        "SUCCEEDED"]
    assert again[a] == runs[a] and again[b] == runs[b] and again[e] == []
    assert glue.get_workflow(Name=wf)["Workflow"]["LastRun"]["WorkflowRunId"] == answer["RunId"]
    listed = glue.get_workflow_runs(Name=wf)["Runs"]
    assert [r["WorkflowRunId"] for r in listed] == [answer["RunId"], run_id]


def test_resume_refuses_nodes_that_did_not_run_and_runs_still_going(wlab, job, workflow):
    glue = wlab.client("glue")
    a, b = job("ra"), job("rb")
    wf = workflow("resume-checks", trigger(wlab, "rc-start", "ON_DEMAND", [{"JobName": a}]),
                  trigger(wlab, "rc-next", "CONDITIONAL", [{"JobName": b}], when((a, "FAILED"))))
    run_id = glue.start_workflow_run(Name=wf)["RunId"]
    run = waiting.workflow_run(glue, wf, run_id, timeout=60)
    b_node = next(n["UniqueId"] for n in run["Graph"]["Nodes"] if n["Name"] == b)
    with pytest.raises(glue.exceptions.InvalidInputException, match="no run attempt"):
        glue.resume_workflow_run(Name=wf, RunId=run_id, NodeIds=[b_node])
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.resume_workflow_run(Name=wf, RunId="wr_nope", NodeIds=[b_node])


def test_run_properties_from_a_job_script_and_the_workflow_arguments(wlab, job, workflow):
    glue = wlab.client("glue")
    writer = job("props-writer", """import sys, boto3
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ['WORKFLOW_NAME', 'WORKFLOW_RUN_ID'])
glue = boto3.client('glue')
props = glue.get_workflow_run_properties(Name=args['WORKFLOW_NAME'], RunId=args['WORKFLOW_RUN_ID'])['RunProperties']
glue.put_workflow_run_properties(Name=args['WORKFLOW_NAME'], RunId=args['WORKFLOW_RUN_ID'],
                                 RunProperties={'rows': str(int(props['seed_rows']) * 2)})
""")
    wf = workflow("props", trigger(wlab, "pr-start", "ON_DEMAND", [{"JobName": writer}]),
                  DefaultRunProperties={"seed_rows": "1", "owner": "data-team"})
    run_id = glue.start_workflow_run(Name=wf, RunProperties={"seed_rows": "21"})["RunId"]
    run = waiting.workflow_run(glue, wf, run_id, timeout=60)
    assert run["Statistics"]["SucceededActions"] == 1, job_runs(run)
    assert glue.get_workflow_run_properties(Name=wf, RunId=run_id)["RunProperties"] == {
        "seed_rows": "21", "owner": "data-team", "rows": "42"}


def test_a_crawler_step_and_a_condition_on_its_crawl_state(wlab, job, workflow):
    glue, s3 = wlab.client("glue"), wlab.client("s3")
    s3.put_object(Bucket=wlab.zones.bucket("raw"), Key="wfcrawl/orders/part-1.csv", Body=b"id,amount\n1,2.5\n")
    db = wlab.names.database("wf_db")
    glue.create_database(DatabaseInput={"Name": db})
    crawler = wlab.names.resource("wf-crawler")
    glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=db,
                        Targets={"S3Targets": [{"Path": wlab.zones.uri("raw", "wfcrawl/")}]})
    after = job("after-crawl")
    wf = workflow("crawl", trigger(wlab, "cw-start", "ON_DEMAND", [{"CrawlerName": crawler}]),
                  trigger(wlab, "cw-next", "CONDITIONAL", [{"JobName": after}],
                          {"Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": crawler,
                                           "CrawlState": "SUCCEEDED"}]}))
    try:
        run = waiting.workflow_run(glue, wf, glue.start_workflow_run(Name=wf)["RunId"], timeout=60)
        assert run["Statistics"]["SucceededActions"] == 2 and run["Status"] == "COMPLETED"
        crawl_node = next(n for n in run["Graph"]["Nodes"] if n["Type"] == "CRAWLER")
        assert [c["State"] for c in crawl_node["CrawlerDetails"]["Crawls"]] == ["SUCCEEDED"]
        assert [t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]] == ["wfcrawl"]
    finally:
        waiting.crawler(glue, crawler, timeout=30)
        glue.delete_crawler(Name=crawler)
        glue.delete_database(Name=db)


def test_a_trigger_that_is_not_activated_does_nothing(wlab, job, workflow):
    glue = wlab.client("glue")
    a, b = job("na"), job("nb")
    wf = workflow("inactive", trigger(wlab, "in-start", "ON_DEMAND", [{"JobName": a}]),
                  trigger(wlab, "in-next", "CONDITIONAL", [{"JobName": b}], when((a, "SUCCEEDED")),
                          StartOnCreation=False))
    run = waiting.workflow_run(glue, wf, glue.start_workflow_run(Name=wf)["RunId"], timeout=60)
    assert run["Statistics"]["TotalActions"] == 1 and job_runs(run)[b] == []
    glue.start_trigger(Name=wlab.names.resource("in-next"))
    run = waiting.workflow_run(glue, wf, glue.start_workflow_run(Name=wf)["RunId"], timeout=60)
    assert run["Statistics"]["TotalActions"] == 2 and len(job_runs(run)[b]) == 1


def test_max_concurrent_runs_and_stop_workflow_run(wlab, job, workflow):
    glue = wlab.client("glue")
    slow = job("slow", "import time\ntime.sleep(30)\n")
    after = job("after-slow")
    wf = workflow("stoppable", trigger(wlab, "st-start", "ON_DEMAND", [{"JobName": slow}]),
                  trigger(wlab, "st-next", "CONDITIONAL", [{"JobName": after}],
                          when((slow, "STOPPED"), (slow, "SUCCEEDED"), logical="ANY")), MaxConcurrentRuns=1)
    run_id = glue.start_workflow_run(Name=wf)["RunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_workflow_run(Name=wf)
    glue.stop_workflow_run(Name=wf, RunId=run_id)
    run = waiting.workflow_run(glue, wf, run_id, timeout=30)
    assert run["Status"] == "STOPPED"
    assert run["Statistics"]["StoppedActions"] == 1 and run["Statistics"]["TotalActions"] == 1
    with pytest.raises(glue.exceptions.IllegalWorkflowStateException):
        glue.stop_workflow_run(Name=wf, RunId=run_id)


def test_a_workflow_without_a_start_trigger_ends_in_error(wlab, workflow):
    glue = wlab.client("glue")
    wf = workflow("empty")
    run = glue.get_workflow_run(Name=wf, RunId=glue.start_workflow_run(Name=wf)["RunId"])["Run"]
    assert run["Status"] == "ERROR" and "no start trigger" in run["ErrorMessage"]


def test_a_scheduled_workflow_runs_when_the_lab_clock_passes_its_time(wlab, job, workflow):
    glue = wlab.client("glue")
    nightly = job("nightly")
    name = wlab.names.resource("sch-nightly")
    wf = workflow("scheduled", trigger(wlab, "sch-nightly", "SCHEDULED", [{"JobName": nightly}],
                                       Schedule="cron(0 2 * * ? *)", StartOnCreation=True))
    assert glue.get_workflow_runs(Name=wf)["Runs"] == []
    wlab.clock.advance(timedelta(days=1))
    assert name in wlab.clock.run_due()
    run_id = glue.get_workflow(Name=wf)["Workflow"]["LastRun"]["WorkflowRunId"]
    run = waiting.workflow_run(glue, wf, run_id, timeout=60)
    assert run["Statistics"]["SucceededActions"] == 1
    glue.stop_trigger(Name=name)
    wlab.clock.advance(timedelta(days=1))
    assert name not in wlab.clock.run_due()
    assert len(glue.get_workflow_runs(Name=wf)["Runs"]) == 1


def test_triggers_outside_workflows_on_demand_and_conditional(wlab, job):
    glue = wlab.client("glue")
    first, second = job("solo-first"), job("solo-second")
    names = [wlab.names.resource(n) for n in ("solo-now", "solo-then")]
    glue.create_trigger(Name=names[0], Type="ON_DEMAND", Actions=[{"JobName": first, "Arguments": {"--x": "1"}}])
    glue.create_trigger(Name=names[1], Type="CONDITIONAL", StartOnCreation=True, Actions=[{"JobName": second}],
                        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": first,
                                                   "State": "SUCCEEDED"}]})
    try:
        glue.start_trigger(Name=names[0])
        for name in (first, second):
            deadline_runs = []
            for _ in range(300):
                deadline_runs = glue.get_job_runs(JobName=name)["JobRuns"]
                if deadline_runs and deadline_runs[0]["JobRunState"] == "SUCCEEDED":
                    break
                waiting.time.sleep(0.1)
            assert [r["JobRunState"] for r in deadline_runs] == ["SUCCEEDED"], name
        assert glue.get_job_runs(JobName=first)["JobRuns"][0]["Arguments"] == {"--x": "1"}
    finally:
        for name in names:
            glue.delete_trigger(Name=name)


def test_workflow_graph_without_a_run(wlab, job, workflow):
    glue = wlab.client("glue")
    a = job("ga")
    wf = workflow("graph-only", trigger(wlab, "go-start", "ON_DEMAND", [{"JobName": a}]))
    graph = glue.get_workflow(Name=wf, IncludeGraph=True)["Workflow"]["Graph"]
    assert [(n["Type"], n["Name"]) for n in graph["Nodes"]] == [("TRIGGER", wlab.names.resource("go-start")),
                                                                 ("JOB", a)]
    assert graph["Nodes"][1]["JobDetails"] == {}
    assert "Graph" not in glue.get_workflow(Name=wf)["Workflow"]
    assert json.loads(json.dumps(graph["Edges"]))[0]["DestinationId"] == graph["Nodes"][1]["UniqueId"]


def test_the_notebook_helpers_rebuild_run_and_picture_a_workflow(wlab, job, capsys):
    from gluelab import workflows

    a, b = job("helper-a"), job("helper-b", "raise SystemExit('no')\n")
    name = wlab.names.resource("helpers")
    triggers = [trigger(wlab, "hp-start", "ON_DEMAND", [{"JobName": a}]),
                trigger(wlab, "hp-next", "CONDITIONAL", [{"JobName": b}], when((a, "SUCCEEDED")))]
    for _ in range(2):  # a second rebuild replaces the first
        workflows.rebuild(wlab, name, triggers, Description="twice")
    run = workflows.run(wlab, name, day="2024-01-01")
    assert capsys.readouterr().out == "COMPLETED: 2 actions: 1 succeeded, 1 failed\n"
    assert run["WorkflowRunProperties"] == {"day": "2024-01-01"}
    assert workflows.node_ids(run, b) == [n["UniqueId"] for n in run["Graph"]["Nodes"] if n["Name"] == b]
    with pytest.raises(ValueError, match="not a job or crawler"):
        workflows.node_ids(run, "nothing")
    fig = workflows.picture(wlab, run, title="helpers")
    assert {t.get_text() for t in fig.axes[0].texts} >= {"job helper-a\nSUCCEEDED", "job helper-b\nFAILED"}
    assert workflows.ensure_crawler(wlab, {"Name": wlab.names.resource("hp-crawler"), "Role": "r",
                                           "DatabaseName": "db", "Targets": {"S3Targets": []}}) == "created"
    assert workflows.ensure_crawler(wlab, {"Name": wlab.names.resource("hp-crawler"), "Role": "r",
                                           "DatabaseName": "db", "Targets": {"S3Targets": []}}) == "updated"
    glue = wlab.client("glue")
    glue.delete_crawler(Name=wlab.names.resource("hp-crawler"))
    for t in triggers:
        glue.delete_trigger(Name=t["Name"])
    glue.delete_workflow(Name=name)
