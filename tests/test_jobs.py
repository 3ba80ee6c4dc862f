"""gluelab.jobs: deploy a script as a glueetl job, run it, read its logs and bookmark."""
from __future__ import annotations

import pytest

from gluelab import jobs

SCRIPT = """import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
glue_ctx = GlueContext(SparkContext())
job = Job(glue_ctx)
job.init(args["JOB_NAME"], args)
frame = glue_ctx.create_dynamic_frame.from_options("s3", {"paths": [args["source"]]}, format="csv",
                                                   format_options={"withHeader": True}, transformation_ctx="src")
print("records read:", frame.count())
if frame.count():
    glue_ctx.write_dynamic_frame.from_options(frame, connection_type="s3", format="parquet",
                                              connection_options={"path": args["target"]})
job.commit()
"""


@pytest.fixture
def job(lab, spark):
    source, target = lab.zones.uri("raw", "jobs_test/in/"), lab.zones.uri("processed", "jobs_test/out/")
    for uri in (source, target):
        lab.delete_prefix(uri)
    lab.put_bytes(source + "a.csv", b"id,name\n1,ann\n2,bob\n")
    name = lab.names.resource("jobs-test")
    deployed = jobs.deploy(lab, name, SCRIPT, "jobs_test/job.py", **{"--source": source, "--target": target})
    return name, deployed, source, target


def test_deploy_creates_the_job_with_its_script_and_defaults(lab, job):
    name, deployed, source, _ = job
    assert deployed["Name"] == name and deployed["Command"]["Name"] == "glueetl"
    assert deployed["Command"]["ScriptLocation"] == lab.zones.uri("scripts", "jobs_test/job.py")
    assert deployed["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-enable"
    assert deployed["DefaultArguments"]["--source"] == source
    assert (deployed["WorkerType"], deployed["NumberOfWorkers"], deployed["MaxRetries"]) == ("G.1X", 2, 0)
    bucket, key = deployed["Command"]["ScriptLocation"][len("s3://"):].split("/", 1)
    assert lab.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode() == SCRIPT


def test_run_logs_and_bookmark_follow_the_runs(lab, job, capsys):
    name, _, source, target = job
    first = jobs.run(lab, name)
    assert first["JobRunState"] == "SUCCEEDED"
    assert capsys.readouterr().out.startswith("state: SUCCEEDED | cost:")
    assert jobs.log_lines(lab, first) == ["records read: 2"]
    assert jobs.log_lines(lab, first, "/aws-glue/jobs/error") == []
    assert jobs.bookmarked_files(lab, name) == {"src": ["a.csv"]}

    lab.put_bytes(source + "b.csv", b"id,name\n3,cy\n")
    second = jobs.run(lab, name)
    assert jobs.log_lines(lab, second) == ["records read: 1"]
    assert jobs.bookmarked_files(lab, name) == {"src": ["a.csv", "b.csv"]}
    assert lab.spark.read.parquet(target).count() == 3


def test_redeploy_starts_afresh_and_a_failed_run_says_why(lab, job, capsys):
    name, _, source, target = job
    jobs.run(lab, name)
    broken = jobs.edit_script(SCRIPT, ('["JOB_NAME", "source", "target"]', '["JOB_NAME", "source", "missing"]'))
    jobs.deploy(lab, name, broken, "jobs_test/job.py", **{"--source": source, "--target": target})
    assert jobs.bookmarked_files(lab, name) == {}
    failed = jobs.run(lab, name)
    assert failed["JobRunState"] == "FAILED" and "missing" in failed["ErrorMessage"]
    assert "ErrorMessage:" in capsys.readouterr().out
    assert any("missing" in line for line in jobs.log_lines(lab, failed, "/aws-glue/jobs/error"))


def test_edit_script_refuses_a_piece_that_is_not_there():
    assert jobs.edit_script("a = 1\nb = 2\n", ("a = 1", "a = 3"), ("b", "c")) == "a = 3\nc = 2\n"
    with pytest.raises(ValueError, match="not in the script: 'x = 1'"):
        jobs.edit_script("a = 1\n", ("x = 1", "x = 2"))


def test_deploy_refuses_a_script_that_does_not_compile(lab):
    with pytest.raises(SyntaxError):
        jobs.deploy(lab, lab.names.resource("jobs-broken"), "def f(:\n", "jobs_test/broken.py")


def test_customer_script_is_the_fixed_guide_script():
    script = jobs.customer_script()
    compile(script, "glue_etl_job.py", "exec")
    assert script.startswith("# glue_etl_job.py") and script.count("# FIX") >= 7
    assert "getResolvedOptions(sys.argv, ['JOB_NAME', 'customer_db', 'reference_db', 'output_path'])" in script


def test_bookmarked_files_of_a_bookmark_that_lists_no_files(monkeypatch):
    aws_style = {"datasource0": {"jsonClass": "HadoopDataSourceJobBookmarkState",
                                 "timestamps": {"RUN": "1", "HIGH_BAND": "900000"}}}

    class Glue:
        class exceptions:
            EntityNotFoundException = KeyError

        def get_job_bookmark(self, JobName):
            import json
            return {"JobBookmarkEntry": {"JobName": JobName, "JobBookmark": json.dumps(aws_style)}}

    class Lab:
        def client(self, service):
            return Glue()

    assert jobs.bookmarked_files(Lab(), "any") == {"datasource0": None}


def test_deploy_a_python_shell_job_and_read_its_output(lab, capsys):
    name = lab.names.resource("shell-helper")
    job = jobs.deploy(lab, name, "import sys\nprint('args', sys.argv[1:3])\n", "jobs/shell_helper.py",
                      python_shell=True, **{"--day": "2024-01-01"})
    assert job["Command"]["Name"] == "pythonshell" and job["MaxCapacity"] == 0.0625
    assert job["DefaultArguments"] == {"--day": "2024-01-01"}
    run = jobs.run(lab, name)
    assert run["JobRunState"] == "SUCCEEDED"
    assert jobs.log_lines(lab, run) == [f"args ['--JOB_NAME', '{name}']"]
    assert jobs.log_lines(lab, run, "/aws-glue/python-jobs/error") == []
    lab.client("glue").delete_job(JobName=name)


def test_shipped_scripts_compile_and_an_unknown_name_lists_them():
    for name in ("glue_etl_job.py", "workflow_quality_check.py", "workflow_validate_output.py",
                 "workflow_notify.py"):
        compile(jobs.script(name), name, "exec")
    with pytest.raises(FileNotFoundError, match="workflow_notify.py"):
        jobs.script("no_such_script.py")
