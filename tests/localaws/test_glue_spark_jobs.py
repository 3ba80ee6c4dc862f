"""The glueetl job runner: boto3's start_job_run runs a Glue Spark script in this process, on the lab's Spark.

Scripts are uploaded to the lab's S3 and run through the local endpoint exactly as a learner would on AWS.
"""
from __future__ import annotations

import json
import sys
import threading
import time

import pytest

from gluelab import cost, jobs, waiting
from gluelab.localaws import glue_bookmarks, glue_jobs
from gluelab.glue import runner


def wait(glue, job, run_id, **kwargs):
    return waiting.job_run(glue, job, run_id, timeout=120, poll=0.05, **kwargs)


def start_and_wait_until_running(glue, job):
    """Start a run of ``job`` and return its id once the run is RUNNING (its script has started)."""
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    deadline = time.monotonic() + 60
    while glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] != "RUNNING":
        assert time.monotonic() < deadline, f"run {run_id} of {job} never reached RUNNING"
        time.sleep(0.02)
    return run_id


def log_lines(lab, group, run_id):
    return jobs.log_lines(lab, {"Id": run_id}, group)


@pytest.fixture
def etl_job(make_job, spark):
    """Create a glueetl job (Glue 4.0) from script text; returns its name. Jobs are deleted afterwards."""
    def make(name, source, **job_kwargs):
        return make_job(name, source, "glueetl", "3", **{"GlueVersion": "4.0", **job_kwargs})
    return make


def test_plain_spark_script_writes_parquet_to_s3(lab, spark, etl_job):
    out = lab.zones.uri("curated", "runner-test/orders/")
    job = etl_job("write-parquet", f"""
from pyspark.context import SparkContext
from pyspark.sql import SparkSession
sc = SparkContext.getOrCreate()
spark = SparkSession.builder.getOrCreate()
rows = [(1, "books", 12.5), (2, "games", 30.0), (3, "books", 7.25)]
spark.createDataFrame(rows, "id int, category string, amount double").write.mode("overwrite").parquet("{out}")
print("wrote", len(rows), "rows")
""")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, states = wait(glue, job, run_id)
    assert states[-1] == "SUCCEEDED", run.get("ErrorMessage")
    assert "RUNNING" in states
    assert run["Attempt"] == 0 and "ErrorMessage" not in run
    assert run["LogGroupName"] == "/aws-glue/jobs" and run["GlueVersion"] == "4.0"
    assert run["CompletedOn"] >= run["StartedOn"]
    keys = [o["Key"] for o in lab.client("s3").list_objects_v2(Bucket=lab.zones.bucket("curated"),
                                                                Prefix="runner-test/orders/")["Contents"]]
    assert "runner-test/orders/_SUCCESS" in keys and any(k.endswith(".parquet") for k in keys)
    back = spark.read.parquet(out).orderBy("id").collect()
    assert [(r.id, r.category, r.amount) for r in back] == [(1, "books", 12.5), (2, "games", 30.0),
                                                             (3, "books", 7.25)]
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["wrote 3 rows"]


def test_failing_script_fails_the_run_with_glues_error_message_and_the_traceback(lab, etl_job):
    job = etl_job("name-error", "import sys\nprint('starting')\nprint('to stderr', file=sys.stderr)\n"
                                "today = datetime.date.today()\n")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, states = wait(glue, job, run_id)
    assert states[-1] == "FAILED"
    assert run["ErrorMessage"] == "NameError: name 'datetime' is not defined"
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["starting"]
    err = log_lines(lab, "/aws-glue/jobs/error", run_id)
    assert err[0] == "to stderr"
    assert err[1] == "Traceback (most recent call last):"
    script_uri = lab.zones.uri("scripts", "jobs/name-error.py")
    assert f'  File "{script_uri}", line 4, in <module>' in err
    assert "    today = datetime.date.today()" in err  # the script's source line, as Python shows it
    assert err[-1] == "NameError: name 'datetime' is not defined"
    assert not any("runner.py" in line for line in err)  # the runner's own frames are left out


def test_spark_analysis_error_is_reported_as_glue_shows_it(lab, etl_job):
    missing = lab.zones.uri("raw", "runner-test/no-such-folder/")
    job = etl_job("analysis-error", f"""
from pyspark.sql import SparkSession
SparkSession.builder.getOrCreate().read.parquet("{missing}").count()
""")
    glue = lab.client("glue")
    run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"].startswith("AnalysisException: [PATH_NOT_FOUND]"), run["ErrorMessage"]
    assert "\n" not in run["ErrorMessage"]


def test_syntax_error_fails_the_run_before_it_runs(lab, etl_job):
    job = etl_job("syntax-error", "print('never')\ndef broken(:\n")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"].startswith("SyntaxError: ")
    assert "syntax-error.py, line 2" in run["ErrorMessage"]
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == []


def test_arguments_are_merged_and_resolved_like_glue(lab, etl_job):
    job = etl_job("arguments", """
import json, sys
print(json.dumps(sys.argv))
from awsglue.utils import getResolvedOptions
args = getResolvedOptions(sys.argv, ["JOB_NAME", "day", "mode"])
print(json.dumps({k: args[k] for k in ("JOB_NAME", "day", "mode")}))
""", DefaultArguments={"--day": "2024-01-01", "--mode": "default"})
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job, Arguments={"--mode": "override"})["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    out = log_lines(lab, "/aws-glue/jobs/output", run_id)
    argv = json.loads(out[0])
    assert argv[0] == "arguments.py"
    assert dict(zip(argv[1::2], argv[2::2])) == {"--JOB_NAME": job, "--JOB_RUN_ID": run_id,
                                                 "--day": "2024-01-01", "--mode": "override"}
    assert json.loads(out[1]) == {"JOB_NAME": job, "day": "2024-01-01", "mode": "override"}
    assert sys.argv[0] != "arguments.py"  # the process's own argv is back


def test_output_of_other_threads_is_not_captured(lab, etl_job, capsys):
    job = etl_job("chatty", "import time\nfor i in range(3):\n"
                            "    print('job line', i)\n    time.sleep(0.2)\n")
    glue = lab.client("glue")
    run_id = start_and_wait_until_running(glue, job)
    print("main thread line")  # while the script runs: goes where this thread's output goes
    wait(glue, job, run_id)
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["job line 0", "job line 1", "job line 2"]
    assert "main thread line" in capsys.readouterr().out
    assert not isinstance(sys.stdout, runner._ThreadCapture)
    assert not isinstance(sys.stderr, runner._ThreadCapture)


def test_spark_context_can_be_created_in_two_runs_in_a_row(lab, spark, etl_job):
    job = etl_job("spark-context", """
from pyspark import SparkConf
from pyspark.context import SparkContext
from pyspark.sql import SparkSession
sc = SparkContext()
assert SparkContext(conf=SparkConf().setAppName("my job")) is sc is SparkContext.getOrCreate()
spark = SparkSession(sc)
print(spark.range(5).count())
spark.stop()
sc.stop()
""")
    glue = lab.client("glue")
    for _ in range(2):
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        run, _ = wait(glue, job, run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["5"]
    from pyspark import SparkContext

    assert "__new__" not in SparkContext.__dict__  # the patch is gone after the run
    with pytest.raises(ValueError, match="Cannot run multiple SparkContexts"):
        SparkContext()
    assert spark.range(3).count() == 3  # the lab's session survived the scripts' stop() calls


def test_timeout_interrupts_a_python_loop(lab, etl_job, monkeypatch):
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 0.5)
    job = etl_job("endless", "import time\nprint('working')\nwhile True:\n    time.sleep(0.02)\n", Timeout=2)
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, states = wait(glue, job, run_id)
    assert states[-1] == "TIMEOUT"
    assert run["ErrorMessage"] == "Job run timed out after 2 minute(s) (the job's Timeout)."
    assert run["Timeout"] == 2 and run["ExecutionTime"] <= 3
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["working"]
    assert "timed out" in log_lines(lab, "/aws-glue/jobs/error", run_id)[-1]


def test_timeout_cancels_a_running_spark_job(lab, etl_job, monkeypatch):
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 1.5)
    job = etl_job("stuck-in-spark", """
import time
from pyspark.sql import SparkSession
sc = SparkSession.builder.getOrCreate().sparkContext
sc.parallelize([1, 2], 2).map(lambda x: time.sleep(120) or x).collect()
print("never printed")
""", Timeout=1)
    glue = lab.client("glue")
    started = time.monotonic()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "TIMEOUT"
    assert time.monotonic() - started < 60  # the Spark job was cancelled, not waited for (120 s)
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == []


def test_a_script_stuck_in_a_c_call_is_left_behind_after_the_grace_period(lab, etl_job, monkeypatch):
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 0.5)
    monkeypatch.setattr(runner, "STOP_GRACE_SECONDS", 0.5)
    job = etl_job("sleeper", "import time\ntime.sleep(6)\n", Timeout=1)
    glue = lab.client("glue")
    started = time.monotonic()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "TIMEOUT"
    assert time.monotonic() - started < 5  # not the 6 s the sleep takes
    assert "was left to end on its own" in log_lines(lab, "/aws-glue/jobs/error", run_id)[-1]
    after = etl_job("after-sleeper", "print('next run')\n")  # the next script does not wait for the sleeper
    next_id = glue.start_job_run(JobName=after)["JobRunId"]
    assert wait(glue, after, next_id)[0]["JobRunState"] == "SUCCEEDED"
    assert log_lines(lab, "/aws-glue/jobs/output", next_id) == ["next run"]


def test_batch_stop_job_run_stops_the_script(lab, etl_job):
    job = etl_job("stoppable", "import time\nprint('up')\nwhile True:\n    time.sleep(0.02)\n")
    glue = lab.client("glue")
    run_id = start_and_wait_until_running(glue, job)
    answer = glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id, "jr_does_not_exist"])
    assert answer["SuccessfulSubmissions"] == [{"JobName": job, "JobRunId": run_id}]
    assert [(e["JobRunId"], e["ErrorDetail"]["ErrorCode"]) for e in answer["Errors"]] == [
        ("jr_does_not_exist", "EntityNotFoundException")]
    run, states = wait(glue, job, run_id)
    assert states[-1] == "STOPPED" and "ErrorMessage" not in run
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["up"]
    again = glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id])  # a finished run cannot be stopped
    assert again["SuccessfulSubmissions"] == []
    assert again["Errors"][0]["ErrorDetail"]["ErrorCode"] == "InvalidInputException"


def test_max_retries_runs_a_failing_job_again_as_a_new_attempt(lab, etl_job):
    job = etl_job("flaky", "raise RuntimeError('source not ready')\n", MaxRetries=1)
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    first, _ = wait(glue, job, run_id)
    assert first["JobRunState"] == "FAILED" and first["Attempt"] == 0
    last, states = wait(glue, job, run_id, follow_retries=True)
    assert last["Id"] == f"{run_id}_attempt_1"
    assert last["Attempt"] == 1 and last["PreviousRunId"] == run_id
    assert last["JobRunState"] == "FAILED" and last["ErrorMessage"] == "RuntimeError: source not ready"
    assert states[-1] == "FAILED"
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    assert sorted(r["Id"] for r in runs) == sorted([run_id, f"{run_id}_attempt_1"])  # 2 attempts, no more


def test_max_concurrent_runs_refuses_a_second_start_and_runs_serialise(lab, etl_job):
    script = "import time\ntime.sleep(0.8)\nprint('done')\n"
    single = etl_job("single", script, ExecutionProperty={"MaxConcurrentRuns": 1})
    glue = lab.client("glue")
    first = glue.start_job_run(JobName=single)["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName=single)
    assert wait(glue, single, first)[0]["JobRunState"] == "SUCCEEDED"

    double = etl_job("double", script, ExecutionProperty={"MaxConcurrentRuns": 2})
    a = glue.start_job_run(JobName=double)["JobRunId"]
    b = glue.start_job_run(JobName=double)["JobRunId"]  # allowed; its script waits for its turn, RUNNING
    ra, rb = wait(glue, double, a)[0], wait(glue, double, b)[0]
    assert ra["JobRunState"] == rb["JobRunState"] == "SUCCEEDED"
    assert log_lines(lab, "/aws-glue/jobs/output", a) == ["done"]
    assert log_lines(lab, "/aws-glue/jobs/output", b) == ["done"]


def test_dpu_seconds_worker_settings_and_the_cost_of_a_run(lab, etl_job):
    job = etl_job("sized", "import time\ntime.sleep(1.1)\n", WorkerType="G.2X", NumberOfWorkers=3)
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "SUCCEEDED"
    assert (run["WorkerType"], run["NumberOfWorkers"], run["MaxCapacity"]) == ("G.2X", 3, 6.0)
    elapsed = (run["CompletedOn"] - run["StartedOn"]).total_seconds()
    assert 1.1 * 6 <= run["DPUSeconds"] <= elapsed * 6 + 0.01  # 3 workers x 2 DPU x the script's seconds
    assert run["ExecutionTime"] == round(run["DPUSeconds"] / 6)
    billed = cost.run_cost(run)
    assert billed == cost.job_cost(run["ExecutionTime"], "G.2X", 3, glue_version="4.0")
    assert billed.billed_seconds == 60  # the 1-minute minimum
    # a run started with other capacity than the job's
    other = glue.start_job_run(JobName=job, WorkerType="G.1X", NumberOfWorkers=2)["JobRunId"]
    assert wait(glue, job, other)[0]["MaxCapacity"] == 2.0


def test_run_cost_from_job_run_dicts():
    done = {"Id": "jr_1", "JobRunState": "SUCCEEDED", "CompletedOn": "t", "GlueVersion": "4.0"}
    assert cost.run_cost({**done, "WorkerType": "G.1X", "NumberOfWorkers": 10, "ExecutionTime": 600}).usd == \
        pytest.approx(10 * 600 / 3600 * 0.44)
    assert cost.run_cost({**done, "WorkerType": "G.1X", "NumberOfWorkers": 10, "ExecutionTime": 600,
                          "ExecutionClass": "FLEX"}).usd == pytest.approx(10 * 600 / 3600 * 0.29)
    assert cost.run_cost({**done, "MaxCapacity": 0.0625, "ExecutionTime": 20}).dpus == 0.0625  # Python shell
    spark_dpus = cost.run_cost({**done, "MaxCapacity": 10.0, "ExecutionTime": 30})
    assert (spark_dpus.dpus, spark_dpus.billed_seconds) == (10.0, 60)
    assert cost.run_cost({**done, "GlueVersion": "1.0", "MaxCapacity": 10.0,
                          "ExecutionTime": 30}).billed_seconds == 600
    with pytest.raises(ValueError, match="RUNNING and has not finished"):
        cost.run_cost({"Id": "jr_2", "JobRunState": "RUNNING", "WorkerType": "G.1X", "NumberOfWorkers": 2})


def test_job_without_capacity_gets_glues_default_workers(lab, etl_job):
    job = etl_job("default-size", "pass\n")
    glue = lab.client("glue")
    run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert (run["WorkerType"], run["NumberOfWorkers"]) == glue_jobs.DEFAULT_SPARK_WORKERS
    assert run["Timeout"] == glue_jobs.DEFAULT_TIMEOUT_MINUTES


def test_job_bookmark_actions_answer_from_the_bookmark_store(lab, etl_job, monkeypatch):
    class FakeStore:
        """Stands in for gluelab.glue.bookmarks.STORE: the dispatch is what is tested here."""
        def __init__(self):
            self.entries = {}

        def has(self, name):
            return name in self.entries

        def entry(self, name):
            return self.entries[name]

        def reset(self, name, run_id=None):
            if run_id == "jr_unknown":
                raise KeyError(f"job {name!r} has no committed run {run_id!r} to rewind its bookmark to")
            self.entries[name] = {**self.entries[name], "JobBookmark": "{}", "RunId": run_id or ""}
            return self.entries[name]

    store = FakeStore()
    monkeypatch.setattr(glue_bookmarks, "STORE", store)
    job = etl_job("bookmarked", "pass\n")
    glue = lab.client("glue")
    not_found = glue.exceptions.EntityNotFoundException
    with pytest.raises(not_found, match=f"Continuation for job {job} not found"):
        glue.get_job_bookmark(JobName=job)
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Job no-such-job not found"):
        glue.get_job_bookmark(JobName="no-such-job")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.reset_job_bookmark(JobName="no-such-job")
    store.entries[job] = {"JobName": job, "Version": 2, "Run": 2, "Attempt": 0, "PreviousRunId": "jr_a",
                          "RunId": "jr_b", "JobBookmark": json.dumps({"source": {"files": 3}})}
    entry = glue.get_job_bookmark(JobName=job)["JobBookmarkEntry"]
    assert entry == store.entries[job]
    reset = glue.reset_job_bookmark(JobName=job, RunId="jr_a")["JobBookmarkEntry"]
    assert reset["JobBookmark"] == "{}" and reset["RunId"] == "jr_a" and reset["JobName"] == job
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="no committed run 'jr_unknown'"):
        glue.reset_job_bookmark(JobName=job, RunId="jr_unknown")


def test_job_bookmark_actions_with_the_real_store(lab, etl_job):
    from gluelab.glue.bookmarks import STORE

    job = etl_job("real-bookmark", "pass\n")
    glue = lab.client("glue")
    if not STORE.has(job):
        with pytest.raises(glue.exceptions.EntityNotFoundException):
            glue.get_job_bookmark(JobName=job)
    entry = glue.reset_job_bookmark(JobName=job)["JobBookmarkEntry"]
    assert entry["JobName"] == job
    assert set(entry) <= {"JobName", "Version", "Run", "Attempt", "PreviousRunId", "RunId", "JobBookmark"}


def test_a_glue_script_with_job_bookmarks_reads_only_new_files(lab, etl_job):
    s3, glue = lab.client("s3"), lab.client("glue")
    raw, prefix = lab.zones.bucket("raw"), "runner-test/bookmarked-input/"
    s3.put_object(Bucket=raw, Key=prefix + "a.csv", Body=b"id,name\n1,ann\n2,bob\n")
    job = etl_job("bookmarks-e2e", """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
frame = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [args["source"]]}, format="csv",
    format_options={"withHeader": True}, transformation_ctx="people")
print("rows", frame.count())
job.commit()
""", DefaultArguments={"--job-bookmark-option": "job-bookmark-enable", "--source": f"s3://{raw}/{prefix}"})

    def run_once():
        run_id = glue.start_job_run(JobName=job)["JobRunId"]
        run, _ = wait(glue, job, run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        return run_id, log_lines(lab, "/aws-glue/jobs/output", run_id)

    assert run_once()[1] == ["rows 2"]
    s3.put_object(Bucket=raw, Key=prefix + "b.csv", Body=b"id,name\n3,cy\n")
    assert run_once()[1] == ["rows 1"]  # only the new file
    last_id, out = run_once()
    assert out == ["rows 0"]
    entry = glue.get_job_bookmark(JobName=job)["JobBookmarkEntry"]
    assert (entry["JobName"], entry["Run"], entry["RunId"]) == (job, 3, last_id)
    glue.reset_job_bookmark(JobName=job)
    assert run_once()[1] == ["rows 3"]  # everything again after the reset
    assert glue.get_job_bookmark(JobName=job)["JobBookmarkEntry"]["Run"] >= 1
    job_definition = glue.get_job(JobName=job)["Job"]
    glue.delete_job(JobName=job)          # as on AWS, the bookmark goes with the job
    glue.create_job(Name=job, Role=job_definition["Role"], Command=job_definition["Command"],
                    DefaultArguments=job_definition["DefaultArguments"], GlueVersion="4.0")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_job_bookmark(JobName=job)
    assert run_once()[1] == ["rows 3"]


def test_enable_glue_datacatalog_syncs_the_catalog_before_the_script(lab, etl_job, monkeypatch):
    from gluelab.glue import sqlcatalog

    calls = []
    monkeypatch.setattr(sqlcatalog, "sync", lambda spark, glue_client=None, databases=None: calls.append(spark) or [])
    job = etl_job("catalog", "print('ran')\n")
    glue = lab.client("glue")
    plain, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert plain["JobRunState"] == "SUCCEEDED" and calls == []
    run_id = glue.start_job_run(JobName=job, Arguments={"--enable-glue-datacatalog": "true"})["JobRunId"]
    assert wait(glue, job, run_id)[0]["JobRunState"] == "SUCCEEDED"
    assert len(calls) == 1 and calls[0] is lab.spark
    monkeypatch.setattr(sqlcatalog, "sync",
                        lambda spark, **_: (_ for _ in ()).throw(PermissionError("no access to database sales")))
    failed, _ = wait(glue, job, glue.start_job_run(JobName=job, Arguments={"--enable-glue-datacatalog": ""})[
        "JobRunId"])
    assert failed["JobRunState"] == "FAILED"
    assert failed["ErrorMessage"] == "PermissionError: no access to database sales"


def test_enable_glue_datacatalog_lets_the_script_query_catalog_tables(lab, spark, etl_job):
    from gluelab.glue import sqlcatalog

    glue = lab.client("glue")
    db, location = lab.names.database("runner_sql"), lab.zones.uri("curated", "runner-test/sql-sales/")
    df = spark.createDataFrame([(1, 10.0), (2, 5.5), (3, 4.5)], "id int, amount double")
    df.write.mode("overwrite").parquet(location)
    sd, params = sqlcatalog.storage_descriptor("parquet", location, sqlcatalog.columns_of(df.schema))
    glue.create_database(DatabaseInput={"Name": db})
    try:
        glue.create_table(DatabaseName=db, TableInput={"Name": "sales", "StorageDescriptor": sd,
                                                       "Parameters": params, "TableType": "EXTERNAL_TABLE"})
        job = etl_job("catalog-sql", f"""
from pyspark.sql import SparkSession
row = SparkSession.builder.getOrCreate().sql("select count(*) n, sum(amount) total from {db}.sales").first()
print(row.n, row.total)
""")
        run_id = glue.start_job_run(JobName=job, Arguments={"--enable-glue-datacatalog": "true"})["JobRunId"]
        run, _ = wait(glue, job, run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["3 20.0"]
    finally:
        glue.delete_database(Name=db)


def test_a_small_job_finishes_within_seconds_once_spark_is_up(lab, etl_job):
    job = etl_job("tiny", "from pyspark.sql import SparkSession\n"
                          "print(SparkSession.builder.getOrCreate().range(10).count())\n")
    glue = lab.client("glue")
    wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    started = time.monotonic()
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    seconds = time.monotonic() - started
    assert run["JobRunState"] == "SUCCEEDED"
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["10"]
    print(f"\nstart_job_run -> SUCCEEDED for a tiny job: {seconds:.2f} s")


def test_run_script_reports_stop_while_waiting_for_its_turn(spark):
    stop = threading.Event()
    stop.set()
    with runner._EXEC_LOCK:  # another script holds the turn
        result = runner.run_script("print('never')", ["x.py"], spark=spark, stop=stop)
    assert (result.state, result.stdout) == ("STOPPED", "")


def test_error_message_takes_the_first_line():
    assert runner.error_message(ValueError("bad\nmore detail")) == "ValueError: bad"
    assert runner.error_message(KeyError("id")) == "KeyError: 'id'"
    assert runner.error_message(RuntimeError()) == "RuntimeError"


class ScriptedGlue:
    """A glue client whose get_job_run walks through given states (waiting.job_run is tested on its own)."""

    def __init__(self, states):
        self.states = list(states)

    def get_job_run(self, JobName, RunId):  # noqa: N803 (boto3's names)
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"JobRun": {"Id": RunId, "JobName": JobName, "JobRunState": state}}


@pytest.mark.parametrize("states", [["WAITING", "STARTING", "RUNNING", "STOPPING", "STOPPED"],
                                    ["STARTING", "RUNNING", "TIMEOUT"], ["RUNNING", "ERROR"],
                                    ["WAITING", "EXPIRED"]])
def test_waiting_follows_every_job_run_state_to_the_end(states):
    run, seen = waiting.job_run(ScriptedGlue(states), "job", "jr_1", timeout=5, poll=0)
    assert seen == states and run["JobRunState"] == states[-1]


def test_waiting_times_out_on_a_run_that_stays_active():
    with pytest.raises(TimeoutError, match="jr_1 of job is still STOPPING"):
        waiting.job_run(ScriptedGlue(["RUNNING", "STOPPING"]), "job", "jr_1", timeout=0.05, poll=0.01)


def test_a_runs_cached_csv_parse_is_released_when_it_ends(lab, spark, make_job):
    """A CSV read caches its parse (to find malformed rows); the cache must not outlive the run."""
    source = lab.zones.uri("raw", "runner_cache/in/")
    lab.delete_prefix(source)
    lab.put_bytes(source + "a.csv", b"id,name\n1,ann\n2,bob,extra\n")
    script = (
        "import sys\n"
        "from awsglue.context import GlueContext\n"
        "from awsglue.utils import getResolvedOptions\n"
        "from pyspark.context import SparkContext\n"
        "args = getResolvedOptions(sys.argv, ['source'])\n"
        "ctx = GlueContext(SparkContext())\n"
        "frame = ctx.create_dynamic_frame.from_options('s3', {'paths': [args['source']]}, format='csv',\n"
        "                                              format_options={'withHeader': True})\n"
        "print(frame.count(), frame.errorsCount())\n")
    name = make_job("runner-cache", script, "glueetl", "3")
    glue = lab.client("glue")
    cached_before = spark.sparkContext._jsc.getPersistentRDDs().size()
    run_id = glue.start_job_run(JobName=name, Arguments={"--source": source})["JobRunId"]
    run, _ = wait(glue, name, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["1 1"]
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == cached_before


# --- a script cannot break the notebook it runs in -----------------------------------------------------------

@pytest.mark.parametrize("ending, state, message", [
    ("import sys\nsys.exit(0)\n", "SUCCEEDED", None),
    ("import sys\nsys.exit()\n", "SUCCEEDED", None),
    ("import os\nos._exit(0)\n", "SUCCEEDED", None),
    ("import sys\nsys.exit(2)\n", "FAILED", "Command failed with exit code 2"),
    ("import os\nos._exit(3)\n", "FAILED", "Command failed with exit code 3"),
    ("import sys\nsys.exit('no input today')\n", "FAILED", "no input today (exit code 1)"),
])
def test_exit_in_a_script_ends_the_run_not_the_notebook(lab, etl_job, ending, state, message):
    job = etl_job("exits", "print('before')\n" + ending + "print('after')\n")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == state and run.get("ErrorMessage") == message
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["before"]
    import os

    assert os._exit.__module__ in ("posix", "nt")  # the process's own os._exit is back


def test_a_scripts_cwd_environment_path_and_modules_stay_in_the_run(lab, etl_job, tmp_path):
    import os

    cwd, env, path = os.getcwd(), dict(os.environ), list(sys.path)
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "jobhelper_gluelab_test.py").write_text("VALUE = 42\n")
    job = etl_job("leaky", f"""
import os, sys
os.chdir("/")
os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
os.environ["GLUELAB_SCRIPT_ONLY"] = "1"
del os.environ["AWS_DEFAULT_REGION"]
sys.path.insert(0, {str(helpers)!r})
import jobhelper_gluelab_test
print(jobhelper_gluelab_test.VALUE, os.getcwd())
""")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait(glue, job, run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert log_lines(lab, "/aws-glue/jobs/output", run_id) == ["42 /"]
    assert os.getcwd() == cwd
    assert dict(os.environ) == env
    assert sys.path == path
    assert "jobhelper_gluelab_test" not in sys.modules
    assert lab.client("s3").list_buckets()["Buckets"] is not None  # the endpoint is still the lab's


# --- error messages name the root cause ----------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "spark.sparkContext.parallelize([1, 2], 2).map(lambda x: x / 0).collect()",
    "from pyspark.sql import functions as F\n"
    "spark.range(3).select(F.udf(lambda x: x / 0, 'double')('id')).collect()",
])
def test_an_error_in_a_python_worker_is_reported_as_the_python_exception(lab, etl_job, code):
    job = etl_job("worker-error", "from pyspark.sql import SparkSession\n"
                                  "spark = SparkSession.builder.getOrCreate()\n" + code + "\n")
    glue = lab.client("glue")
    run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ZeroDivisionError: division by zero"


def test_a_java_error_names_the_root_cause_not_py4j(lab, etl_job):
    from gluelab.localaws import s3 as local_s3

    out = lab.zones.uri("curated", "runner-test/java-error/")
    job = etl_job("java-error", f"""
from pyspark.sql import SparkSession
SparkSession.builder.getOrCreate().range(5).write.mode("overwrite").parquet("{out}")
""")
    glue = lab.client("glue")
    with local_s3.faults(1.0, buckets=[lab.zones.bucket("curated")], kinds=["PUT"]):
        run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    message = run["ErrorMessage"]
    assert run["JobRunState"] == "FAILED"
    assert message.startswith("An error occurred while calling o") and ".parquet. S3 request PUT " in message, message
    assert f"{out}_temporary/" in message and "HTTP 503 SlowDown" in message, message
    assert "Py4JJavaError" not in message and "\n" not in message


def test_a_script_that_is_not_utf8_fails_naming_the_script(lab, etl_job):
    job = etl_job("latin1-spark", "print('x')\n")
    glue, s3 = lab.client("glue"), lab.client("s3")
    location = glue.get_job(JobName=job)["Job"]["Command"]["ScriptLocation"]
    bucket, key = location[5:].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body="name = 'Jos\u00e9'\n".encode("latin-1"))
    run, _ = wait(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == (f"SyntaxError: Non-UTF-8 code starting with b'\\xe9' in the job's script "
                                   f"{location} on line 1, but no encoding declared (save it as UTF-8)")
