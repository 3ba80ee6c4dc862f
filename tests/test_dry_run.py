"""A dry-run lab changes nothing: every gluelab helper that creates, changes, deletes or starts something plans it
instead (``lab.planned``), and billable work shows its cost estimate.

Run on the aws code path against the local endpoint standing in for AWS, with fake credentials. Each case calls
one helper on a dry-run lab and compares the stand-in account before and after: buckets and their objects,
Glue databases and tables, jobs and their runs, crawlers and their crawls, workflows and their runs, triggers,
IAM roles. ``seen`` is a lab whose resources exist (made by a real lab of the same prefix first), ``fresh`` one
whose resources were never made (a dry run must not fail because its own buckets are missing).
"""
from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

import gluelab
from gluelab import jobs, stages, workflows

SEEN, FRESH = "dryseen", "dryfresh"
SHELL_SCRIPT = "print('hello')\n"
LIB = Path(gluelab.__file__).resolve().parent


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def start(endpoint, prefix, dry_run=True):
    return gluelab.start(backend="aws", region="us-east-1", prefix=prefix, endpoint_url=endpoint, dry_run=dry_run)


def names(lab):
    return {"job": lab.names.resource("shell"), "workflow": lab.names.resource("flow"),
            "crawler": lab.names.resource("crawler"), "schedule": lab.names.resource("hourly"),
            "database": lab.names.database("sales")}


def crawler_config(lab, name):
    return {"Name": name, "Role": lab.ensure_glue_role(), "DatabaseName": names(lab)["database"],
            "Targets": {"S3Targets": [{"Path": lab.zones.uri("raw", "crm_exports/")}]},
            "Schedule": "cron(0 * * * ? *)"}


def flow_triggers(lab):
    n = names(lab)
    return [{"Name": lab.names.resource("flow-start"), "Type": "ON_DEMAND", "Actions": [{"JobName": n["job"]}]},
            {"Name": lab.names.resource("flow-crawl"), "Type": "CONDITIONAL", "StartOnCreation": True,
             "Predicate": {"Conditions": [{"LogicalOperator": "EQUALS", "JobName": n["job"], "State": "SUCCEEDED"}]},
             "Actions": [{"CrawlerName": n["crawler"]}]}]


@pytest.fixture(scope="module")
def seen(endpoint):
    """Resources of the prefix SEEN, made by a real (not dry-run) lab: what a dry run may want to change."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        lab = start(endpoint, SEEN, dry_run=False)
        n = names(lab)
        lab.ensure_zones()
        lab.put_bytes(lab.zones.uri("temp", "out/a.txt"), b"a")
        lab.put_bytes(stages.customer_batch_uri(lab, 3), b'{"id": 1}\n')
        lab.client("glue").create_database(DatabaseInput={"Name": n["database"]})
        jobs.deploy(lab, n["job"], SHELL_SCRIPT, "jobs/shell.py", python_shell=True)
        workflows.ensure_crawler(lab, crawler_config(lab, n["crawler"]))
        workflows.rebuild(lab, n["workflow"], flow_triggers(lab))
        lab.client("glue").create_trigger(Name=n["schedule"], Type="SCHEDULED", Schedule="cron(0 * * * ? *)",
                                          Actions=[{"JobName": n["job"]}], StartOnCreation=True)
    return lab


def account(endpoint) -> dict:
    """Everything a helper could change in the stand-in account, read with plain boto3 clients."""
    s3, glue, iam = (boto3.client(s, endpoint_url=endpoint, region_name="us-east-1") for s in ("s3", "glue", "iam"))
    buckets = {}
    for bucket in s3.list_buckets()["Buckets"]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"])
        buckets[bucket["Name"]] = sorted((o["Key"], o["ETag"]) for p in pages for o in p.get("Contents", []))
    databases = {d["Name"]: sorted(t["Name"] for t in glue.get_tables(DatabaseName=d["Name"])["TableList"])
                 for d in glue.get_databases()["DatabaseList"]}
    job_list = glue.get_jobs()["Jobs"]
    return {
        "buckets": buckets,
        "databases": databases,
        "jobs": {j["Name"]: json.dumps(j, sort_keys=True, default=str) for j in job_list},
        "job runs": {j["Name"]: len(glue.get_job_runs(JobName=j["Name"])["JobRuns"]) for j in job_list},
        "crawlers": {c["Name"]: json.dumps(c, sort_keys=True, default=str) for c in glue.get_crawlers()["Crawlers"]},
        "workflows": {w: len(glue.get_workflow_runs(Name=w).get("Runs", []))
                      for w in glue.list_workflows()["Workflows"]},
        "triggers": {t["Name"]: json.dumps(t, sort_keys=True, default=str) for t in glue.get_triggers()["Triggers"]},
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
    }


def _deploy(lab):
    return jobs.deploy(lab, names(lab)["job"], SHELL_SCRIPT + "# changed\n", "jobs/shell.py", python_shell=True)


def _deploy_then_run(lab):
    jobs.deploy(lab, lab.names.resource("new-etl"), "x = 1\n", "jobs/new.py")
    return jobs.run(lab, lab.names.resource("new-etl"))


def _rebuild_then_run(lab):
    workflows.ensure_crawler(lab, crawler_config(lab, names(lab)["crawler"]))
    jobs.deploy(lab, names(lab)["job"], SHELL_SCRIPT, "jobs/shell.py", python_shell=True)
    workflows.rebuild(lab, names(lab)["workflow"], flow_triggers(lab))
    return workflows.run(lab, names(lab)["workflow"])


def _clock(lab):
    lab.clock.advance(timedelta(hours=2))
    return lab.clock.run_due()


#: (helper, the lab it runs on, what it does, what its plan says, billable: an estimate is printed)
CASES = [
    ("Lab.ensure_zones", FRESH, lambda lab: lab.ensure_zones(), "create bucket", False),
    ("Lab.ensure_glue_role", FRESH, lambda lab: lab.ensure_glue_role(), "create IAM role", False),
    ("Lab.ensure_role", FRESH, lambda lab: lab.ensure_role("lambda"), "create IAM role", False),
    ("Lab.ensure_database", FRESH, lambda lab: lab.ensure_database(lab.names.database("sales")),
     "create Glue database", False),
    ("Lab.upload", SEEN, lambda lab: lab.upload(Path(gluelab.__file__), lab.zones.uri("temp", "up/init.py")),
     "upload", False),
    ("Lab.put_bytes", SEEN, lambda lab: lab.put_bytes(lab.zones.uri("temp", "out/a.txt"), b"b"), "upload", False),
    ("Lab.put_bytes", FRESH, lambda lab: lab.put_bytes(lab.zones.uri("temp", "out/a.txt"), b"b"), "upload", False),
    ("Lab.delete_prefix", SEEN, lambda lab: lab.delete_prefix(lab.zones.uri("temp", "out/")), "delete", False),
    ("Lab.delete_object", SEEN, lambda lab: lab.delete_object(lab.zones.uri("temp", "out/a.txt")), "delete", False),
    ("Lab.prepare", FRESH, lambda lab: lab.prepare("customers", scale=0.01, seed=1), "catalogue", False),
    ("Lab.prepare", SEEN, lambda lab: lab.prepare("customers", scale=0.01, seed=1), "delete", False),
    ("stages.deliver_customer_batch", FRESH,
     lambda lab: stages.deliver_customer_batch(lab, 3, scale=0.01, seed=1), "upload", False),
    ("Lab.teardown", SEEN, lambda lab: lab.teardown(), "delete bucket", False),
    ("jobs.deploy", SEEN, _deploy, "delete and re-create Glue job", False),
    ("jobs.deploy", FRESH, _deploy, "create Glue job", False),
    ("jobs.run", SEEN, lambda lab: jobs.run(lab, names(lab)["job"]), "start a run of", True),
    ("jobs.run", FRESH, _deploy_then_run, "start a run of", True),
    ("workflows.ensure_crawler", SEEN, lambda lab: workflows.ensure_crawler(lab, crawler_config(
        lab, names(lab)["crawler"])), "update Glue crawler", False),
    ("workflows.ensure_crawler", FRESH, lambda lab: workflows.ensure_crawler(lab, crawler_config(
        lab, names(lab)["crawler"])), "create Glue crawler", False),
    ("workflows.rebuild", SEEN, lambda lab: workflows.rebuild(lab, names(lab)["workflow"], flow_triggers(lab)),
     "delete and re-create Glue workflow", False),
    ("workflows.run", SEEN, lambda lab: workflows.run(lab, names(lab)["workflow"]), "start a run of", True),
    ("workflows.run", FRESH, _rebuild_then_run, "start a run of", True),
    ("Lab.clock.run_due", SEEN, _clock, "start a run of", True),
]


@pytest.mark.parametrize("helper, prefix, call, action, billable", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_dry_run_helper_plans_and_leaves_the_account_unchanged(endpoint, seen, capsys, helper, prefix, call,
                                                                  action, billable):
    lab = start(endpoint, prefix)
    before = account(endpoint)
    call(lab)
    assert account(endpoint) == before, f"{helper} changed the account in a dry run"
    out = capsys.readouterr().out
    assert any(a.startswith(action) for a, _ in lab.planned), (lab.planned, out)
    assert all(prefix in target for _, target in lab.planned), lab.planned   # nothing outside the lab
    assert ("estimated cost:" in out) == billable, out


def test_a_dry_run_job_run_is_priced_from_the_job_it_would_deploy(endpoint, capsys):
    lab = start(endpoint, FRESH)
    jobs.deploy(lab, lab.names.resource("wide"), "x = 1\n", "jobs/wide.py")
    run = jobs.run(lab, lab.names.resource("wide"))
    assert run["JobRunState"] == "NOT_STARTED"
    out = capsys.readouterr().out
    # the job gluelab would deploy: 2 x G.1X with a 10-minute timeout
    assert f"estimated cost: job {FRESH}--wide: at least $0.0147" in out and "at most $0.1467" in out
    flow = workflows.run(lab, lab.names.resource("never-built"))
    assert flow["Status"] == "NOT_STARTED" and "nothing billed" in capsys.readouterr().out


def test_the_aws_backend_prints_the_estimate_before_billable_work(endpoint, seen, capsys):
    lab = start(endpoint, SEEN, dry_run=False)
    capsys.readouterr()
    job = names(lab)["job"]
    run = jobs.run(lab, job)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"start a run of job {job}: estimated cost job {job}: at least $0.0005 (0.0625 DPU x 60 s "
                      "billed = 0.0010 DPU-hours x $0.44 = $0.0005), at most $0.0046 if it runs to its 10-minute "
                      "timeout")
    assert out[1].startswith(f"state: {run['JobRunState']} | cost:") and lab.planned == []


# ---- every helper that changes the account is among the cases above -------------------------------------

#: Client calls that create, change, delete or start something (the guard's verbs), and gluelab's crawler.
CHANGING = ("create_", "put_", "delete_", "start_", "update_", "reset_", "upload_", "attach_", "batch_", "stop_",
            "resume_", "tag_", "untag_", "register_")
FACADE = {"lab": "Lab.", "jobs": "jobs.", "workflows": "workflows.", "stages": "stages."}


def changing_helpers() -> set[str]:
    """Public functions and methods of the facade modules that call a changing client method themselves; a
    private stage function counts as Lab.prepare."""
    found = set()
    for module, qualifier in FACADE.items():
        tree = ast.parse((LIB / f"{module}.py").read_text())
        for owner, fn in _functions(tree):
            calls = {n.func.attr for n in ast.walk(fn) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Attribute)}
            if any(c.startswith(CHANGING) or c == "crawl" for c in calls):
                if owner == "_PlannedStarts":
                    found.add("Lab.clock.run_due")
                elif module == "stages" and fn.name.startswith("_"):
                    found.add("Lab.prepare")
                else:
                    found.add((owner + "." if owner else qualifier) + fn.name)
    return found


def _functions(tree):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield None, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield node.name, item


def test_every_helper_that_changes_the_account_has_a_dry_run_case():
    covered = {c[0] for c in CASES}
    assert changing_helpers() - covered == set()
    assert {"Lab.ensure_zones", "jobs.deploy", "jobs.run", "workflows.run", "Lab.prepare"} <= changing_helpers()


def test_a_dry_run_labs_own_client_calls_are_planned_not_sent(endpoint, capsys):
    """A notebook's own boto3 calls on a dry-run lab change nothing either: they are planned."""
    lab = start(endpoint, FRESH)
    raw_glue = boto3.client("glue", endpoint_url=endpoint)
    before = sorted(d["Name"] for d in raw_glue.get_databases()["DatabaseList"])
    glue, s3 = lab.client("glue"), lab.client("s3")
    glue.create_database(DatabaseInput={"Name": lab.names.database("own")})
    s3.create_bucket(Bucket=lab.names.bucket("own"))
    glue.get_databases()  # reads are sent
    assert sorted(d["Name"] for d in raw_glue.get_databases()["DatabaseList"]) == before
    assert lab.names.bucket("own") not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert lab.planned == [("call glue.CreateDatabase on", lab.names.database("own")),
                           ("call s3.CreateBucket on", lab.names.bucket("own"))]
    assert f"[dry run] would call glue.CreateDatabase on {lab.names.database('own')}" in capsys.readouterr().out
