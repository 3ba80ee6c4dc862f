"""Contract tests for gluelab's moto execution hooks: every hooked behaviour, through boto3 as a learner sees it.

If a moto upgrade moves or changes what a hook relies on, these fail loudly.
"""
import json
import re
from pathlib import Path

import moto
import pytest

from gluelab import hooks, waiting

ROOT = Path(__file__).resolve().parents[1]


def wait_for_run(glue, job, run_id, timeout=30):
    return waiting.job_run(glue, job, run_id, timeout=timeout, poll=0.1)


@pytest.fixture
def shell_job(lab):
    """Create a Python shell job from script text; returns its name."""
    glue, s3 = lab.client("glue"), lab.client("s3")
    made = []

    def make(name, source, **job_kwargs):
        key = f"jobs/{name}.py"
        s3.put_object(Bucket=lab.zones.bucket("scripts"), Key=key, Body=source.encode())
        job_name = lab.names.resource(name)
        glue.create_job(Name=job_name, Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": "pythonshell", "ScriptLocation": lab.zones.uri("scripts", key),
                                 "PythonVersion": "3.9"}, **job_kwargs)
        made.append(job_name)
        return job_name

    yield make
    for name in made:
        glue.delete_job(JobName=name)


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
    assert run["ErrorMessage"] == "ValueError: customer file has 3 bad rows"
    assert run["CompletedOn"] >= run["StartedOn"]


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
    monkeypatch.setattr(hooks, "SECONDS_PER_TIMEOUT_MINUTE", 0.5)
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
