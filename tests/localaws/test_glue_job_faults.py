"""Glue Spark job runs under faults: S3 errors on the local endpoint, a stop during the write and during the
output commit, a Timeout during the commit, two runs of the same job at once.

Every case checks the same invariants: a run's output is either complete (``_SUCCESS``, and the bookmark
advanced past the files it read) or absent (no visible object); no input row is lost or written twice
(input rows = output rows + error records over the runs that succeeded).
"""
from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config

from gluelab import waiting
from gluelab.glue import runner
from gluelab.localaws import glue_jobs
from gluelab.localaws import s3 as local_s3

FILES, ROWS = 4, 30  # per file: ROWS good rows and one malformed row (a Glue error record)

SCRIPT = """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "source", "target"])
ctx = GlueContext(SparkContext.getOrCreate())
job = Job(ctx)
job.init(args["JOB_NAME"], args)
frame = ctx.create_dynamic_frame.from_options(
    "s3", {"paths": [args["source"]]}, format="csv", format_options={"withHeader": True},
    transformation_ctx="orders")
rows = frame.toDF()
if "id" not in rows.columns:  # nothing new since the last run: an empty output
    rows = ctx.spark_session.createDataFrame([], "id string")
good = rows.select(F.lit("ok").alias("kind"), F.col("id").cast("string").alias("id"))
errors = frame.errorsAsDynamicFrame().toDF().select(F.lit("error").alias("kind"),
                                                    F.lit(None).cast("string").alias("id"))
# good rows and error records in one write: one commit, so they appear together or not at all
good.unionByName(errors).repartition(3).write.partitionBy("kind").parquet(f"{args['target']}run={args['JOB_RUN_ID']}/")
job.commit()
"""


@pytest.fixture
def fault_job(lab, make_job, spark):
    """``fault_job(case, **job_kwargs) -> (job name, source uri, target uri)``: input files written, job made."""
    def make(case, **job_kwargs):
        s3 = lab.client("s3")
        source = lab.zones.uri("raw", f"faults/{case}/in/")
        target = lab.zones.uri("curated", f"faults/{case}/out/")
        lab.delete_prefix(source)
        lab.delete_prefix(target)
        raw = lab.zones.bucket("raw")
        for f in range(FILES):
            lines = ["id,name"] + [f"{f * 1000 + i},n{i}" for i in range(ROWS)] + [f"{f * 1000 + 999},bad,extra"]
            s3.put_object(Bucket=raw, Key=f"faults/{case}/in/part-{f}.csv", Body="\n".join(lines).encode())
        name = make_job(f"faults-{case}", SCRIPT, "glueetl", "3", GlueVersion="4.0", DefaultArguments={
            "--job-bookmark-option": "job-bookmark-enable", "--source": source, "--target": target},
            **job_kwargs)
        return name, source, target
    return make


def wait(glue, job, run_id):
    return waiting.job_run(glue, job, run_id, timeout=180, poll=0.05)


def visible(keys: list[str], prefix: str) -> list[str]:
    """Keys a reader sees under prefix: no ``_`` or ``.`` file or folder (``_temporary/``), no folder markers."""
    out = []
    for key in keys:
        rel = key[len(prefix):]
        if rel.endswith("/") or any(part.startswith(("_", ".")) for part in rel.split("/")):
            continue
        out.append(key)
    return out


def check_runs(lab, spark, job, target):
    """Assert the invariants over every run of the job; return (complete run ids, rows out, error records)."""
    glue, s3 = lab.client("glue"), lab.client("s3")
    bucket, prefix = lab.zones.bucket("curated"), target.split("/", 3)[3]
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in p.get("Contents", [])]
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    complete, rows, errors = [], 0, 0
    for run in runs:
        here = f"{prefix}run={run['Id']}/"
        mine = [k for k in keys if k.startswith(here)]
        if run["JobRunState"] == "SUCCEEDED":
            assert here + "_SUCCESS" in mine, f"run {run['Id']} SUCCEEDED without _SUCCESS: {mine}"
            df = spark.read.schema("id string, kind string").parquet(f"s3://{bucket}/{here}")
            rows += df.filter("kind = 'ok'").count()
            errors += df.filter("kind = 'error'").count()
            complete.append(run["Id"])
        else:
            assert run["JobRunState"] in ("FAILED", "STOPPED", "TIMEOUT"), run["JobRunState"]
            assert visible(mine, here) == [] and here + "_SUCCESS" not in mine, (
                f"run {run['Id']} ended {run['JobRunState']} but left output: {visible(mine, here)}")
    # the bookmark: advanced by the runs that succeeded, and only by them
    try:
        entry = glue.get_job_bookmark(JobName=job)["JobBookmarkEntry"]
        files = json.loads(entry["JobBookmark"]).get("orders", {}).get("files", {})
    except glue.exceptions.EntityNotFoundException:
        entry, files = None, {}
    assert (len(files) == FILES) == bool(complete), (files, complete)
    if complete:
        assert entry["RunId"] in complete
    return complete, rows, errors


def assert_nothing_lost(complete, rows, errors):
    assert complete, "no run succeeded"
    assert (rows, errors) == (FILES * ROWS, FILES), "input rows = output rows + error records, each once"


def rerun(glue, job):
    run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    return run


def test_a_clean_run_satisfies_the_invariants(lab, spark, fault_job):
    job, _, target = fault_job("clean")
    glue = lab.client("glue")
    rerun(glue, job)
    assert_nothing_lost(*check_runs(lab, spark, job, target))
    rerun(glue, job)  # the bookmark: nothing new, nothing written twice
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_ten_percent_s3_errors_are_retried_and_the_run_succeeds(lab, spark, fault_job):
    job, _, target = fault_job("slowdown10")
    glue = lab.client("glue")
    buckets = [lab.zones.bucket("raw"), lab.zones.bucket("curated")]
    with local_s3.faults(0.10, seed=10, buckets=buckets) as injected:
        run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert len(injected.injected) > 0 and injected.seen > 20, "the faults did not reach the job's requests"
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_fifty_percent_s3_errors_leave_complete_output_or_none(lab, spark, fault_job):
    job, _, target = fault_job("slowdown50")
    glue = lab.client("glue")
    buckets = [lab.zones.bucket("raw"), lab.zones.bucket("curated")]
    with local_s3.faults(0.5, seed=50, code="ServiceUnavailable", buckets=buckets) as injected:
        run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert len(injected.injected) > 0
    complete, _, _ = check_runs(lab, spark, job, target)
    if run["JobRunState"] == "FAILED":  # the usual outcome: the error names the object and S3's code
        assert "ServiceUnavailable" in run["ErrorMessage"] and "s3://" in run["ErrorMessage"], run["ErrorMessage"]
        assert not complete
    rerun(glue, job)  # without faults the next run processes what the failed one did not
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def _stop_when(lab, spark, job, match, *, how="stop"):
    """Start a run, hold the first request that ``match``es, stop the run (or let its Timeout fire) while it
    is held, release it; return the run's final dict."""
    glue = lab.client("glue")
    with local_s3.hold(match) as gate:
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        assert gate.reached.wait(120), "the run never reached the held request"
        if how == "stop":
            assert glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id])["SuccessfulSubmissions"]
        deadline = time.monotonic() + 120
        while not runner.cancelled(spark, run_id):
            assert time.monotonic() < deadline, "the runner never cancelled the run's output"
            time.sleep(0.02)
        if how == "stop":
            time.sleep(3 * runner.STOP_GRACE_SECONDS)  # past the grace period: still held in the commit
            state = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"]
            assert state == "STOPPING", f"the run ended ({state}) while its commit was still going on"
        gate.release()
        return wait(glue, job, run_id)[0]


def _is_commit_copy(target_bucket, target_key):
    """The job commit's copies: into the output itself (task commits copy within ``_temporary/``)."""
    return lambda r: (r.kind == "COPY" and r.bucket == target_bucket and r.key.startswith(target_key)
                      and "/_temporary/" not in r.key)


def test_a_stop_during_the_commit_rolls_it_back_and_the_run_ends_after_it(lab, spark, fault_job, monkeypatch):
    monkeypatch.setattr(runner, "STOP_GRACE_SECONDS", 0.3)
    job, _, target = fault_job("stop-commit")
    bucket, key = target.split("/", 3)[2], target.split("/", 3)[3]
    run = _stop_when(lab, spark, job, _is_commit_copy(bucket, key))
    assert run["JobRunState"] == "STOPPED"
    complete, _, _ = check_runs(lab, spark, job, target)
    assert complete == []
    rerun(lab.client("glue"), job)
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_a_stop_during_the_write_leaves_nothing(lab, spark, fault_job, monkeypatch):
    monkeypatch.setattr(runner, "STOP_GRACE_SECONDS", 0.3)
    job, _, target = fault_job("stop-write")
    bucket, key = target.split("/", 3)[2], target.split("/", 3)[3]
    task_file = lambda r: (r.kind == "PUT" and r.bucket == bucket and r.key.startswith(key)  # noqa: E731
                           and "/_temporary/" in r.key and r.key.endswith(".parquet"))
    glue = lab.client("glue")
    with local_s3.hold(task_file) as gate:
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        assert gate.reached.wait(120), "the run never wrote a task file"
        glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id])
        deadline = time.monotonic() + 120
        while not runner.cancelled(spark, run_id):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        gate.release()
        run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "STOPPED"
    assert check_runs(lab, spark, job, target)[0] == []
    rerun(glue, job)
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_a_timeout_during_the_commit_rolls_it_back(lab, spark, fault_job, monkeypatch):
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 10)
    job, _, target = fault_job("timeout-commit", Timeout=1)
    bucket, key = target.split("/", 3)[2], target.split("/", 3)[3]
    run = _stop_when(lab, spark, job, _is_commit_copy(bucket, key), how="timeout")
    assert run["JobRunState"] == "TIMEOUT"
    assert check_runs(lab, spark, job, target)[0] == []
    glue = lab.client("glue")
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 600)
    rerun(glue, job)
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_two_runs_of_the_same_job_at_once_process_each_file_once(lab, spark, fault_job):
    job, _, target = fault_job("concurrent", ExecutionProperty={"MaxConcurrentRuns": 2})
    glue = lab.client("glue")
    buckets = [lab.zones.bucket("raw"), lab.zones.bucket("curated")]
    with local_s3.faults(0.10, seed=3, buckets=buckets):
        ids = [glue.start_job_run(JobName=job)["JobRunId"] for _ in range(2)]
        finals = [wait(glue, job, run_id)[0] for run_id in ids]
    assert [r["JobRunState"] for r in finals] == ["SUCCEEDED", "SUCCEEDED"], [r.get("ErrorMessage") for r in finals]
    assert_nothing_lost(*check_runs(lab, spark, job, target))


def test_an_s3_error_names_the_object_not_only_the_bucket(lab, spark):
    path = lab.zones.uri("curated", "faults/named/")
    spark.range(3).write.mode("overwrite").parquet(path)
    bucket = lab.zones.bucket("curated")
    with local_s3.faults(1.0, buckets=[bucket], kinds=["GET"]):
        with pytest.raises(Exception) as caught:
            spark.read.parquet(path).collect()
    message = runner.error_message(caught.value)
    assert "SlowDown" in message and f"s3://{bucket}/faults/named/part-" in message, message
    assert "after 4 attempts" in message
    assert not message.startswith("Py4JJavaError")


def test_faults_are_seeded_and_off_outside_the_block(lab):
    s3 = lab.client("s3")
    bucket = lab.zones.bucket("temp")
    s3.put_object(Bucket=bucket, Key="faults/seeded.txt", Body=b"x")
    plain = boto3.client("s3", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))  # no retries

    def pattern(seed):
        out = []
        with local_s3.faults(0.5, seed=seed, buckets=[bucket]) as injected:
            for _ in range(16):
                try:
                    plain.head_object(Bucket=bucket, Key="faults/seeded.txt")
                    out.append(True)
                except plain.exceptions.ClientError as e:
                    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                    out.append(False)
        assert len(injected.injected) == out.count(False)
        return out

    first = pattern(1)
    assert first == pattern(1) and False in first and True in first
    assert first != pattern(2)
    plain.head_object(Bucket=bucket, Key="faults/seeded.txt")  # no faults outside the block
