"""Polling until AWS work finishes, the way boto3 code on AWS does it, without sleeping longer than needed.

Glue has no boto3 waiters for job runs or crawlers; every pipeline polls ``get_job_run`` until the state is
final. These helpers do that loop once, with a timeout and a clear error, and return the states they saw.
"""
from __future__ import annotations

import time

#: Job run states after which nothing more happens.
FINAL_JOB_RUN_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"})
#: Job run states that are still going (WAITING: queued for capacity; STOPPING: BatchStopJobRun was called).
ACTIVE_JOB_RUN_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})


def job_run(glue, job_name: str, run_id: str, *, timeout: float = 600, poll: float = 0.2,
            follow_retries: bool = False):
    """Poll ``glue.get_job_run`` until the run reaches a final state; return ``(run, states_seen)``.

    ``states_seen`` lists the states the polls saw, each once, in order (e.g. ``["STARTING", "RUNNING",
    "SUCCEEDED"]``). A short state can fall between two polls, so for output that must be the same every time
    show ``run["JobRunState"]`` (or ``states_seen[-1]``), not the whole list. Nothing is printed. A state AWS
    may add later is polled like an active one. With ``follow_retries=True`` a FAILED run of a job with
    MaxRetries is followed into its retry attempts (``<run id>_attempt_<n>``): the result is the last
    attempt's run, and ``states_seen`` spans all attempts. Raises TimeoutError (with the last state) if it
    has not finished within ``timeout`` seconds.
    """
    states: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        if not states or states[-1] != state:
            states.append(state)
        if state in FINAL_JOB_RUN_STATES:
            retry = _next_attempt(glue, job_name, run) if follow_retries and state == "FAILED" else None
            if retry is None:
                return run, states
            run_id = retry
            continue
        if time.monotonic() > deadline:
            raise TimeoutError(f"job run {run_id} of {job_name} is still {state} after {timeout:g} s")
        time.sleep(poll)


def _next_attempt(glue, job_name: str, run: dict) -> str | None:
    """The id of the retry that followed a failed attempt, if the job started one."""
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name):
        for other in page["JobRuns"]:
            follows = other.get("PreviousRunId") == run["Id"]
            if follows and other.get("Attempt", 0) == run.get("Attempt", 0) + 1:
                return other["Id"]
    return None


def crawler(glue, name: str, *, timeout: float = 600, poll: float = 0.2):
    """Poll ``glue.get_crawler`` until the crawler is READY again after a crawl; return ``(crawler, states)``.

    ``crawler["LastCrawl"]["Status"]`` then says how the crawl ended (SUCCEEDED, FAILED or CANCELLED).
    Raises TimeoutError (with the last state) if it is still busy after ``timeout`` seconds.
    """
    states: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        info = glue.get_crawler(Name=name)["Crawler"]
        state = info["State"]
        if not states or states[-1] != state:
            states.append(state)
        if state == "READY" and (len(states) > 1 or "LastCrawl" in info):
            return info, states
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawler {name} is still {state} after {timeout:g} s")
        time.sleep(poll)


#: Workflow run states after which nothing more happens (COMPLETED even when some actions failed: the run's
#: Statistics say how many).
FINAL_WORKFLOW_RUN_STATES = frozenset({"COMPLETED", "STOPPED", "ERROR"})


def workflow_run(glue, name: str, run_id: str, *, timeout: float = 1800, poll: float = 0.2) -> dict:
    """Poll ``glue.get_workflow_run`` until the run is COMPLETED, STOPPED or ERROR; return the run (with its
    graph). Raises TimeoutError (with the last status) if it is still going after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        run = glue.get_workflow_run(Name=name, RunId=run_id, IncludeGraph=True)["Run"]
        if run["Status"] in FINAL_WORKFLOW_RUN_STATES:
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"workflow {name} run {run_id} is still {run['Status']} after {timeout:g} s")
        time.sleep(poll)


#: Step Functions execution statuses after which nothing more happens.
FINAL_EXECUTION_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def execution(sfn, execution_arn: str, *, timeout: float = 600, poll: float = 0.1) -> dict:
    """Poll ``sfn.describe_execution`` until the Step Functions execution has ended (SUCCEEDED, FAILED,
    TIMED_OUT or ABORTED); return the description. Raises TimeoutError if it is still RUNNING after ``timeout``
    seconds."""
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] in FINAL_EXECUTION_STATUSES:
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} is still {described['status']} after {timeout:g} s")
        time.sleep(poll)
