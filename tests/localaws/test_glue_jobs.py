"""Glue job runs on the local endpoint (Python shell jobs here; Spark jobs in test_glue_spark_jobs.py): every
executed behaviour through boto3, as a learner sees it."""
import json

import pytest

from gluelab import waiting
from gluelab.localaws import glue_jobs


def wait_for_run(glue, job, run_id, timeout=30):
    return waiting.job_run(glue, job, run_id, timeout=timeout, poll=0.1)


@pytest.fixture
def shell_job(make_job):
    """Create a Python shell job from script text; returns its name."""
    def make(name, source, **job_kwargs):
        return make_job(name, source, "pythonshell", "3.9", **job_kwargs)
    return make


def test_python_shell_job_runs_its_script_with_arguments(lab, shell_job):
    job = shell_job("argv-job", f"""
import json, sys, time, boto3
time.sleep(1.2)
boto3.client("s3").put_object(Bucket="{lab.zones.bucket('temp')}", Key="hook-test/argv.json",
                              Body=json.dumps(sys.argv[1:]))
print("wrote", len(sys.argv) - 1, "arguments")
""", DefaultArguments={"--day": "2024-01-01", "--mode": "default"})
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job, Arguments={"--mode": "override"})["JobRunId"]
    run, states = wait_for_run(glue, job, run_id)
    assert states[0] == "RUNNING" and states[-1] == "SUCCEEDED", states
    assert "ErrorMessage" not in run
    # real timing: the script slept 1.2 s
    elapsed = (run["CompletedOn"] - run["StartedOn"]).total_seconds()
    assert 1.2 <= elapsed < 20
    assert run["ExecutionTime"] == round(elapsed) or abs(run["ExecutionTime"] - elapsed) <= 1
    argv = json.loads(lab.client("s3").get_object(Bucket=lab.zones.bucket("temp"),
                                                  Key="hook-test/argv.json")["Body"].read())
    args = dict(zip(argv[::2], argv[1::2]))
    assert args == {"--JOB_NAME": job, "--JOB_RUN_ID": run_id, "--day": "2024-01-01", "--mode": "override"}


def test_failing_python_shell_job_reports_the_error(lab, shell_job):
    job = shell_job("failing-job", "print('starting')\nraise ValueError('customer file has 3 bad rows')\n")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, states = wait_for_run(glue, job, run_id)
    assert states[-1] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: customer file has 3 bad rows (exit code 1)"
    assert run["CompletedOn"] >= run["StartedOn"]


@pytest.mark.parametrize("script, message", [
    ("import sys\nsys.exit(3)\n", "Command failed with exit code 3"),
    ("import os\nos._exit(4)\n", "Command failed with exit code 4"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
     "Command failed: the script's process was killed by SIGKILL (exit code -9)"),
])
def test_a_python_shell_jobs_error_message_gives_the_exit_code(lab, shell_job, script, message):
    job = shell_job("exit-code", script)
    glue = lab.client("glue")
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert (run["JobRunState"], run["ErrorMessage"]) == ("FAILED", message)


def test_sys_exit_0_ends_a_python_shell_job_as_succeeded(lab, shell_job):
    job = shell_job("exit-zero", "import sys\nprint('done')\nsys.exit(0)\nprint('never')\n")
    glue = lab.client("glue")
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "SUCCEEDED" and "ErrorMessage" not in run


def test_a_script_that_is_not_utf8_fails_naming_the_script(lab, make_job):
    glue, s3 = lab.client("glue"), lab.client("s3")
    job = make_job("latin1", "print('x')\n", "pythonshell", "3.9")
    location = glue.get_job(JobName=job)["Job"]["Command"]["ScriptLocation"]
    bucket, key = location[5:].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body="print('ok')\nname = 'Jos\u00e9'\n".encode("latin-1"))
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == (f"SyntaxError: Non-UTF-8 code starting with b'\\xe9' in the job's script "
                                   f"{location} on line 2, but no encoding declared (save it as UTF-8)")
    # with a coding line, as Python allows, the same bytes run
    s3.put_object(Bucket=bucket, Key=key, Body="# -*- coding: latin-1 -*-\nprint('Jos\u00e9')\n".encode("latin-1"))
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    out = lab.client("logs").get_log_events(logGroupName="/aws-glue/python-jobs/output",
                                            logStreamName=run["Id"])["events"]
    assert [e["message"] for e in out] == ["Jos\u00e9"]


def test_job_output_and_errors_go_to_cloudwatch_logs(lab, shell_job):
    job = shell_job("logging-job", "import sys\nprint('hello from the job')\nprint('careful', file=sys.stderr)\n")
    glue, logs = lab.client("glue"), lab.client("logs")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    run, _ = wait_for_run(glue, job, run_id)
    assert run["LogGroupName"] == "/aws-glue/python-jobs"
    out = logs.get_log_events(logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id)["events"]
    err = logs.get_log_events(logGroupName="/aws-glue/python-jobs/error", logStreamName=run_id)["events"]
    assert [e["message"] for e in out] == ["hello from the job"]
    assert [e["message"] for e in err] == ["careful"]


def test_missing_script_fails_the_run_with_the_location(lab):
    glue = lab.client("glue")
    name = lab.names.resource("no-script")
    location = lab.zones.uri("scripts", "does/not/exist.py")
    glue.create_job(Name=name, Role="r", Command={"Name": "pythonshell", "ScriptLocation": location})
    run, _ = wait_for_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert location in run["ErrorMessage"]
    glue.delete_job(JobName=name)


def test_job_timeout_stops_the_script(lab, shell_job, monkeypatch):
    monkeypatch.setattr(glue_jobs, "SECONDS_PER_TIMEOUT_MINUTE", 0.5)
    job = shell_job("slow-job", "import time\ntime.sleep(30)\n", Timeout=1)
    glue = lab.client("glue")
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["JobRunState"] == "TIMEOUT"
    assert "timed out" in run["ErrorMessage"]
    assert run["ExecutionTime"] < 10


def test_max_concurrent_runs_is_enforced_while_running(lab, shell_job):
    job = shell_job("single-job", "import time\ntime.sleep(1.5)\n", ExecutionProperty={"MaxConcurrentRuns": 1})
    glue = lab.client("glue")
    first = glue.start_job_run(JobName=job)["JobRunId"]
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName=job)
    wait_for_run(glue, job, first)
    second = glue.start_job_run(JobName=job)["JobRunId"]  # allowed again once the first finished
    assert wait_for_run(glue, job, second)[0]["JobRunState"] == "SUCCEEDED"


def test_job_types_without_a_runner_keep_motos_stored_state(lab):
    glue = lab.client("glue")
    name = lab.names.resource("ray-job")
    glue.create_job(Name=name, Role="r", Command={"Name": "glueray", "ScriptLocation": "s3://x/y.py"})
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    assert glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] in ("STARTING", "RUNNING",
                                                                                      "SUCCEEDED")
    glue.delete_job(JobName=name)


# --- job runs: stop, retries, update_job, and the actions moto lacks --------------------------------------

def test_spark_job_types_have_the_in_process_runner():
    assert glue_jobs.JOB_RUNNERS["glueetl"] is glue_jobs.JOB_RUNNERS["gluestreaming"]
    assert glue_jobs.JOB_RUNNERS["glueetl"].first_state == "STARTING"
    assert getattr(glue_jobs.JOB_RUNNERS["pythonshell"], "first_state", "RUNNING") == "RUNNING"


def test_batch_stop_job_run_kills_a_python_shell_job(lab, shell_job):
    job = shell_job("stop-shell", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    answer = glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id])
    assert answer["SuccessfulSubmissions"] == [{"JobName": job, "JobRunId": run_id}]
    assert answer["Errors"] == []
    assert glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] in ("STOPPING", "STOPPED")
    run, _ = wait_for_run(glue, job, run_id)
    assert run["JobRunState"] == "STOPPED" and run["ExecutionTime"] < 10


def test_batch_stop_job_run_of_an_unknown_job_reports_each_run(lab):
    answer = lab.client("glue").batch_stop_job_run(JobName="gluelab-test-nope", JobRunIds=["jr_1", "jr_2"])
    assert answer["SuccessfulSubmissions"] == []
    assert [(e["JobRunId"], e["ErrorDetail"]["ErrorCode"]) for e in answer["Errors"]] == [
        ("jr_1", "EntityNotFoundException"), ("jr_2", "EntityNotFoundException")]


def test_max_retries_applies_to_python_shell_jobs_too(lab, shell_job):
    job = shell_job("retry-shell", "import sys\nsys.exit('still broken')\n", MaxRetries=2)
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    last, _ = waiting.job_run(glue, job, run_id, timeout=30, poll=0.1, follow_retries=True)
    assert (last["Id"], last["Attempt"], last["PreviousRunId"]) == (f"{run_id}_attempt_2", 2,
                                                                     f"{run_id}_attempt_1")
    runs = {r["Id"]: r for r in glue.get_job_runs(JobName=job)["JobRuns"]}
    assert set(runs) == {run_id, f"{run_id}_attempt_1", f"{run_id}_attempt_2"}
    assert all(r["JobRunState"] == "FAILED" and r["ErrorMessage"] == "still broken (exit code 1)"
               for r in runs.values())


def test_update_job_replaces_the_definition(lab, shell_job):
    job = shell_job("updatable", "import json, sys\nprint(json.dumps(sys.argv[1:]))\n",
                    DefaultArguments={"--day": "2024-01-01"}, MaxRetries=3, Timeout=30)
    glue, logs = lab.client("glue"), lab.client("logs")
    before = glue.get_job(JobName=job)["Job"]
    assert glue.update_job(JobName=job, JobUpdate={
        "Role": before["Role"], "Command": before["Command"],
        "DefaultArguments": {"--day": "2024-02-02", "--mode": "full"}})["JobName"] == job
    after = glue.get_job(JobName=job)["Job"]
    assert after["DefaultArguments"] == {"--day": "2024-02-02", "--mode": "full"}
    assert "MaxRetries" not in after and "Timeout" not in after  # left out = back to the default, as on AWS
    assert after["LastModifiedOn"] >= before["LastModifiedOn"]
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    wait_for_run(glue, job, run_id)
    out = logs.get_log_events(logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id)["events"]
    argv = json.loads(out[0]["message"])
    assert dict(zip(argv[::2], argv[1::2]))["--day"] == "2024-02-02"
    with pytest.raises(glue.exceptions.InvalidInputException, match="Role is required"):
        glue.update_job(JobName=job, JobUpdate={"DefaultArguments": {}})
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Job gluelab-test-missing not found"):
        glue.update_job(JobName="gluelab-test-missing", JobUpdate={"Role": "r", "Command": before["Command"]})


def test_job_run_reports_attempt_capacity_and_dpu_seconds(lab, shell_job):
    job = shell_job("shape", "print('ok')\n")
    glue = lab.client("glue")
    run, _ = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])
    assert run["Attempt"] == 0 and run["MaxCapacity"] == 0.0625
    elapsed = (run["CompletedOn"] - run["StartedOn"]).total_seconds()
    assert run["DPUSeconds"] == pytest.approx(0.0625 * elapsed, abs=0.05)
    assert run["Timeout"] == glue_jobs.DEFAULT_TIMEOUT_MINUTES


def test_batch_stop_job_run_of_runs_gluelab_does_not_execute(lab):
    from moto.moto_api import state_manager

    glue = lab.client("glue")
    name = lab.names.resource("ray-stop")
    glue.create_job(Name=name, Role="r", Command={"Name": "glueray", "ScriptLocation": "s3://x/y.py"})
    done = glue.start_job_run(JobName=name)["JobRunId"]  # moto's default: SUCCEEDED as soon as it is read
    answer = glue.batch_stop_job_run(JobName=name, JobRunIds=[done])
    assert answer["Errors"][0]["ErrorDetail"]["ErrorCode"] == "InvalidInputException"
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 1000})
    try:
        running = glue.start_job_run(JobName=name)["JobRunId"]  # stays STARTING until advanced 1000 times
        answer = glue.batch_stop_job_run(JobName=name, JobRunIds=[running])
        assert answer["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": running}]
        assert glue.get_job_run(JobName=name, RunId=running)["JobRun"]["JobRunState"] == "STOPPED"
    finally:
        state_manager.unset_transition("glue::job_run")
        glue.delete_job(JobName=name)


def test_every_finished_attempt_announces_its_state_change(lab, shell_job):
    from gluelab.localaws import signals

    seen = []
    signals.subscribe(signals.JOB_STATE_CHANGE, lambda detail, resource=None: seen.append(detail))
    name = shell_job("announce", "import sys\nsys.exit('no source data')\n", MaxRetries=1)
    glue = lab.client("glue")
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    final, _ = waiting.job_run(glue, name, run_id, timeout=30, poll=0.1, follow_retries=True)
    assert final["JobRunState"] == "FAILED" and final["Attempt"] == 1
    mine = [d for d in seen if d["jobName"] == name]
    assert [(d["jobRunId"], d["state"], d["severity"]) for d in mine] == [
        (run_id, "FAILED", "ERROR"), (f"{run_id}_attempt_1", "FAILED", "ERROR")]
    assert mine[0]["message"] == "no source data (exit code 1)"


def test_a_python_shell_script_resolves_its_arguments_with_awsglue_utils(lab, shell_job):
    source = ("import sys\nfrom awsglue.utils import getResolvedOptions\n"
              "args = getResolvedOptions(sys.argv, ['JOB_NAME', 'day'])\n"
              "print(args['JOB_NAME'], args['day'], 'pyspark' in sys.modules)\n")
    name = shell_job("resolved", source, DefaultArguments={"--day": "2024-01-01"})
    glue = lab.client("glue")
    run, _ = wait_for_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    out = lab.client("logs").get_log_events(logGroupName="/aws-glue/python-jobs/output",
                                            logStreamName=run["Id"])["events"]
    assert [e["message"] for e in out] == [f"{name} 2024-01-01 False"]
