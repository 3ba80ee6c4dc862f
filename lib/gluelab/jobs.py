"""Glue jobs from a notebook: deploy a script, run it and read how the run went.

A lesson teaches ``create_job`` and ``start_job_run`` once, with every setting explained; after that, notebooks
deploy and run jobs with these helpers, so the same few boto3 calls are not written again in every notebook.
They work the same on both backends (``lab.client("glue")`` is moto locally, AWS Glue on the aws backend):

- :func:`deploy`: upload a script to the lab's scripts bucket and (re-)create a ``glueetl`` job running it,
  with its bookmark reset, so a re-run of a notebook starts from a clean state;
- :func:`run`: start a run, wait until it ends (Glue has no waiter for job runs), print its state and cost
  (on the aws backend its cost :func:`estimate` first);
- :func:`log_lines`: what a run wrote to CloudWatch Logs (``/aws-glue/jobs/output`` or ``/aws-glue/jobs/error``,
  one stream per run, named by the run id);
- :func:`bookmarked_files`: the files a job's bookmark has recorded, per ``transformation_ctx``;
- :func:`edit_script`: replace pieces of a script's text, failing when a piece is not there;
- :func:`customer_script`: the guide's ``glue_etl_job.py`` with its bugs fixed (lesson 05), shipped with gluelab
  as ``gluelab/scripts/glue_etl_job.py``; :func:`script`: any script shipped there (lesson 09's workflow steps).
"""
from __future__ import annotations

import json
from importlib import resources

from . import cost, waiting

__all__ = ["bookmarked_files", "customer_script", "deploy", "edit_script", "estimate", "log_lines", "run",
           "script"]

#: The settings :func:`deploy` gives a job unless told otherwise: the smallest Spark job (2 x G.1X), a
#: 10-minute timeout so a stuck run stops costing, no retries (a bug fails every attempt) and one run at a time
#: (two bookmarked runs at once would both process the same new files).
JOB_DEFAULTS = {"GlueVersion": "4.0", "WorkerType": "G.1X", "NumberOfWorkers": 2, "Timeout": 10, "MaxRetries": 0,
                "ExecutionProperty": {"MaxConcurrentRuns": 1}}
#: The same for a Python shell job: the smallest capacity (1/16 DPU), no Spark, no bookmarks.
PYTHON_SHELL_DEFAULTS = {"GlueVersion": "3.0", "MaxCapacity": 0.0625, "Timeout": 10, "MaxRetries": 0,
                         "ExecutionProperty": {"MaxConcurrentRuns": 1}}


def script(name: str) -> str:
    """The text of a job script shipped with gluelab (``gluelab/scripts/<name>``), e.g. lesson 09's
    ``workflow_quality_check.py``."""
    path = resources.files("gluelab").joinpath("scripts", name)
    if not path.is_file():
        shipped = sorted(p.name for p in resources.files("gluelab").joinpath("scripts").iterdir()
                         if p.name.endswith(".py"))
        raise FileNotFoundError(f"no job script {name!r} ships with gluelab; there are: {', '.join(shipped)}")
    return path.read_text(encoding="utf-8")


def customer_script() -> str:
    """The text of lesson 05's job script: the guide's ``glue_etl_job.py`` with each fix marked ``FIX``."""
    return script("glue_etl_job.py")


def edit_script(script: str, *replacements: tuple[str, str]) -> str:
    """``script`` with each ``(old, new)`` replaced, in order.

    Raises ValueError naming ``old`` when it is not in the text: a typo in an edit must not go unnoticed and
    deploy the script unchanged.
    """
    for old, new in replacements:
        if old not in script:
            raise ValueError(f"not in the script: {old!r}")
        script = script.replace(old, new)
    return script


def deploy(lab, name: str, script: str, key: str, *, bookmarks: bool = True, python_shell: bool = False,
           **default_arguments: str) -> dict:
    """(Re-)create the ``glueetl`` job ``name`` running ``script``; return the job as ``get_job`` shows it.

    The script is uploaded to the lab's scripts bucket under ``key``. An existing job of that name is deleted
    first and the new job's bookmark reset, so its first run reads everything. ``default_arguments`` (e.g.
    ``**{"--output_path": uri}``) become the job's DefaultArguments, with ``--job-bookmark-option`` set to
    ``job-bookmark-enable`` (or ``-disable`` with ``bookmarks=False``); the other settings are
    :data:`JOB_DEFAULTS`. ``python_shell=True`` makes a Python shell job instead (:data:`PYTHON_SHELL_DEFAULTS`,
    no bookmark option: Python shell jobs have no bookmarks). A dry-run lab uploads and creates nothing and
    returns the job it would create (``create_job``'s arguments).
    """
    glue = lab.client("glue")
    compile(script, key, "exec")  # a syntax error shows here, not in a failed run
    uri = lab.zones.uri("scripts", key)
    lab.put_bytes(uri, script.encode())
    if python_shell:
        definition = {"Command": {"Name": "pythonshell", "ScriptLocation": uri, "PythonVersion": "3.9"},
                      "DefaultArguments": default_arguments, **PYTHON_SHELL_DEFAULTS}
    else:
        option = "job-bookmark-enable" if bookmarks else "job-bookmark-disable"
        definition = {"Command": {"Name": "glueetl", "ScriptLocation": uri, "PythonVersion": "3"},
                      "DefaultArguments": {"--job-bookmark-option": option, **default_arguments}, **JOB_DEFAULTS}
    definition = {"Name": name, "Role": lab.ensure_glue_role(), **definition}
    existing = _job(glue, name)
    shape = (f"{definition['MaxCapacity']:g} DPU" if python_shell
             else f"{definition['NumberOfWorkers']} x {definition['WorkerType']}")
    action = "delete and re-create Glue job" if existing else "create Glue job"
    if not lab._plan(action, f"{name} ({definition['Command']['Name']}, {shape}, script {uri})"):
        lab.planned_resources[("job", name)] = definition
        return definition
    if existing:
        glue.delete_job(JobName=name)
    glue.create_job(**definition)
    if not python_shell:
        try:
            glue.reset_job_bookmark(JobName=name)
        except glue.exceptions.EntityNotFoundException:  # AWS: a new job has no bookmark yet
            pass
    return glue.get_job(JobName=name)["Job"]


def _job(glue, name: str) -> dict | None:
    """``get_job``'s Job, or None when there is no job of that name."""
    try:
        return glue.get_job(JobName=name)["Job"]
    except glue.exceptions.EntityNotFoundException:
        return None


def estimate(lab, name: str) -> cost.Estimate:
    """What one run of job ``name`` may cost (:func:`gluelab.cost.job_estimate`): from the job's settings, or
    from what a dry run's :func:`deploy` planned, else from :data:`JOB_DEFAULTS`."""
    job = (_job(lab.client("glue"), name) or lab.planned_resources.get(("job", name))
           or {"Name": f"{name} (not deployed; gluelab's defaults)", **JOB_DEFAULTS})
    return cost.job_estimate(job)


def run(lab, name: str, *, timeout: float = 900, **arguments: str) -> dict:
    """Start a run of job ``name``, wait until it ends and return it (the ``JobRun`` dict of ``get_job_run``).

    ``arguments`` are the run's Arguments: they are added to the job's DefaultArguments and override those of
    the same name, for this run only. Prints the final state and the run's cost, and the ErrorMessage of a run
    that failed. Raises TimeoutError when the run has not ended after ``timeout`` seconds. On the aws backend
    the cost estimate (:func:`estimate`) is printed before the run starts; a dry-run lab prints it and starts
    nothing: the answer is then a JobRun whose ``JobRunState`` is ``"NOT_STARTED"``.
    """
    glue = lab.client("glue")
    priced = estimate(lab, name) if lab.dry_run or lab.backend == "aws" else None
    if not lab._plan("start a run of", f"job {name}", priced):
        return {"JobName": name, "Id": None, "JobRunState": "NOT_STARTED", "Arguments": arguments}
    run_id = glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]
    job_run, _ = waiting.job_run(glue, name, run_id, timeout=timeout)
    print("state:", job_run["JobRunState"], "| cost:", cost.run_cost(job_run))
    if job_run.get("ErrorMessage"):
        print("ErrorMessage:", job_run["ErrorMessage"])
    return job_run


def log_lines(lab, job_run: dict, group: str | None = None) -> list[str]:
    """The messages ``job_run`` wrote to the log group ``group`` (the stream named by the run id), oldest first.

    ``group`` defaults to the run's output group: ``<LogGroupName>/output`` (``/aws-glue/jobs/output`` for Spark
    jobs, ``/aws-glue/python-jobs/output`` for Python shell jobs); pass ``.../error`` for stderr. A run that
    wrote nothing to that group has no stream there: the answer is then ``[]``.
    """
    group = group or f"{job_run.get('LogGroupName') or '/aws-glue/jobs'}/output"
    logs = lab.client("logs")
    lines, kwargs = [], {"logGroupName": group, "logStreamName": job_run["Id"], "startFromHead": True}
    while True:
        try:
            page = logs.get_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return lines
        lines += [event["message"] for event in page["events"]]
        if not page["events"] or page.get("nextForwardToken") in (None, kwargs.get("nextToken")):
            return lines
        kwargs["nextToken"] = page["nextForwardToken"]


def bookmarked_files(lab, name: str) -> dict[str, list[str] | None]:
    """The files job ``name``'s bookmark has recorded, per ``transformation_ctx`` (file names only, sorted).

    An empty dict when the bookmark is new or was reset. The bookmark's text is the service's own: the local
    runtime's lists the files, AWS Glue's keeps timestamps instead, and for those sources the value is None.
    """
    glue = lab.client("glue")
    try:
        entry = glue.get_job_bookmark(JobName=name)["JobBookmarkEntry"]
    except glue.exceptions.EntityNotFoundException:  # AWS: no run has committed a bookmark yet
        return {}
    bookmark = json.loads(entry.get("JobBookmark") or "{}")
    return {ctx: sorted(uri.rsplit("/", 1)[1] for uri in state["files"]) if "files" in state else None
            for ctx, state in sorted(bookmark.items()) if isinstance(state, dict)}
