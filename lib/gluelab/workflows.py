"""Glue workflows from a notebook: (re)build one, run it, read its graph.

Lesson 09 builds its first workflow with plain boto3 calls, every field explained. After that these helpers do
what a notebook repeats, the same on both backends:

- :func:`rebuild`: delete a workflow and its triggers if they exist, then create them from their definitions,
  so re-running a notebook gives the same workflow (``create_workflow`` alone fails the second time);
- :func:`ensure_crawler`: create a crawler, or update it to the given configuration;
- :func:`run`: start a run, wait until it ends, print its Status and Statistics (and, on the aws backend,
  its cost :func:`estimate` first);
- :func:`predicate`: a CONDITIONAL trigger's predicate from ``(kind, name, state)`` conditions;
- :func:`next_run`: wait for the next run that something else starts (an event, a schedule) to end;
- :func:`node_ids`: the graph's ``UniqueId`` of named jobs and crawlers (what ``resume_workflow_run`` takes);
- :func:`picture`: the run's graph with each step's last state (:func:`gluelab.diagrams.workflow_graph`).
"""
from __future__ import annotations

import time

from . import cost, diagrams, jobs, waiting
from .naming import BOUNDARY

__all__ = ["ensure_crawler", "estimate", "next_run", "node_ids", "picture", "predicate", "rebuild", "run",
           "run_ids", "statistics"]

#: The Statistics counters in the order AWS's console shows them.
COUNTERS = ("TotalActions", "SucceededActions", "FailedActions", "TimeoutActions", "StoppedActions",
            "ErroredActions", "RunningActions", "WaitingActions")


def rebuild(lab, name: str, triggers: list[dict], **workflow: object) -> str:
    """(Re-)create workflow ``name`` (``workflow`` = create_workflow's other fields) with ``triggers``
    (create_trigger's fields, ``WorkflowName`` filled in). Triggers of an existing workflow of that name are
    deleted first, then the workflow. Returns the name."""
    glue = lab.client("glue")
    try:
        graph = glue.get_workflow(Name=name, IncludeGraph=True)["Workflow"].get("Graph") or {}
    except glue.exceptions.EntityNotFoundException:
        graph = None
    action = "delete and re-create Glue workflow" if graph is not None else "create Glue workflow"
    names = ", ".join(t["Name"] for t in triggers)
    if not lab._plan(action, f"{name} with {len(triggers)} trigger(s): {names}"):
        lab.planned_resources[("workflow", name)] = {"Name": name, **workflow, "Triggers": triggers}
        return name
    if graph is not None:
        for node in graph.get("Nodes", []):
            if node["Type"] == "TRIGGER":
                glue.delete_trigger(Name=node["Name"])
        glue.delete_workflow(Name=name)
    glue.create_workflow(Name=name, **workflow)
    for trigger in triggers:
        glue.create_trigger(**{**trigger, "WorkflowName": name})
    return name


def ensure_crawler(lab, config: dict) -> str:
    """Create the crawler ``config["Name"]``, or bring an existing one up to ``config``; "created" or
    "updated" (in a dry run: what would happen)."""
    glue = lab.client("glue")
    try:
        glue.get_crawler(Name=config["Name"])
        outcome = "updated"
    except glue.exceptions.EntityNotFoundException:
        outcome = "created"
    if not lab._plan("create Glue crawler" if outcome == "created" else "update Glue crawler", config["Name"]):
        lab.planned_resources[("crawler", config["Name"])] = config
        return outcome
    try:
        glue.create_crawler(**config)
        return "created"
    except glue.exceptions.AlreadyExistsException:
        glue.update_crawler(**config)
        return "updated"


def estimate(lab, name: str) -> str:
    """What one run of workflow ``name`` may cost: its jobs (:func:`gluelab.jobs.estimate`) and crawlers
    (:func:`gluelab.cost.crawler_estimate`), each once, from its graph or from what a dry run's :func:`rebuild`
    planned. One line per job and crawler, then the total."""
    glue = lab.client("glue")
    try:
        nodes = glue.get_workflow(Name=name, IncludeGraph=True)["Workflow"].get("Graph", {}).get("Nodes", [])
        steps = [(n["Type"], n["Name"]) for n in nodes if n["Type"] in ("JOB", "CRAWLER")]
    except glue.exceptions.EntityNotFoundException:
        planned = lab.planned_resources.get(("workflow", name), {})
        steps = [("JOB", a["JobName"]) if a.get("JobName") else ("CRAWLER", a["CrawlerName"])
                 for t in planned.get("Triggers", []) for a in t.get("Actions", [])]
    steps = sorted(set(steps), key=steps.index)
    if not steps:
        return f"workflow {name}: no jobs or crawlers found, nothing billed"
    estimates = [jobs.estimate(lab, n) if kind == "JOB" else cost.crawler_estimate(n) for kind, n in steps]
    return "\n".join([*(f"    {e}" for e in estimates), f"    total: {cost.total(estimates)}"])


def statistics(workflow_run: dict) -> str:
    """A run's Statistics on one line, zero counters left out: ``"3 actions: 2 succeeded, 1 failed"``."""
    stats = workflow_run.get("Statistics") or {}
    parts = [f"{stats[c]} {c[:-len('Actions')].lower()}" for c in COUNTERS[1:] if stats.get(c)]
    return f"{stats.get('TotalActions', 0)} actions" + (": " + ", ".join(parts) if parts else "")


def run(lab, name: str, *, timeout: float = 1800, **properties: str) -> dict:
    """Start a run of workflow ``name`` with ``properties`` as its RunProperties, wait until it ends, print its
    Status and Statistics and return it (``get_workflow_run``'s ``Run``, with its graph). On the aws backend
    the cost :func:`estimate` is printed before the run starts; a dry-run lab prints it and starts nothing (the
    answer's Status is then ``"NOT_STARTED"``)."""
    glue = lab.client("glue")
    priced = "\n" + estimate(lab, name) if lab.dry_run or lab.backend == "aws" else None
    if not lab._plan("start a run of", f"workflow {name}", priced):
        return {"Name": name, "RunId": None, "Status": "NOT_STARTED", "Statistics": {},
                "RunProperties": properties, "Graph": {"Nodes": []}}
    run_id = glue.start_workflow_run(Name=name, **({"RunProperties": properties} if properties else {}))["RunId"]
    finished = waiting.workflow_run(glue, name, run_id, timeout=timeout)
    print(f"{finished['Status']}: {statistics(finished)}")
    return finished


def predicate(*conditions: tuple[str, str, str], logical: str = "AND") -> dict:
    """A CONDITIONAL trigger's ``Predicate``: each condition is ``("job", name, state)`` or
    ``("crawler", name, crawl_state)``, joined by ``logical`` (``"AND"``: all hold; ``"ANY"``: one holds)."""
    return {"Logical": logical, "Conditions": [
        {"LogicalOperator": "EQUALS", "JobName": name, "State": state} if kind == "job" else
        {"LogicalOperator": "EQUALS", "CrawlerName": name, "CrawlState": state}
        for kind, name, state in conditions]}


def next_run(lab, name: str, known: set[str] | list[str], *, timeout: float = 600, poll: float = 0.2) -> dict:
    """Wait for a run of workflow ``name`` that is not in ``known`` (run ids) to start, then for it to end;
    return it with its graph. For a workflow something else starts (an event, a schedule): take
    ``known = run_ids(lab, name)`` before the event. A TimeoutError says that no run started."""
    glue = lab.client("glue")
    deadline = time.monotonic() + timeout
    while True:
        new = [run_id for run_id in run_ids(lab, name) if run_id not in set(known)]
        if new:
            return waiting.workflow_run(glue, name, new[0], timeout=max(1.0, deadline - time.monotonic()))
        if time.monotonic() > deadline:
            raise TimeoutError(f"no new run of workflow {name} started in {timeout:g} s: did the event reach it?")
        time.sleep(poll)


def run_ids(lab, name: str) -> list[str]:
    """The ids of workflow ``name``'s runs, oldest first (empty for a dry-run lab's workflow)."""
    glue = lab.client("glue")
    try:
        runs = [r for page in glue.get_paginator("get_workflow_runs").paginate(Name=name) for r in page["Runs"]]
    except glue.exceptions.EntityNotFoundException:
        return []
    return [r["WorkflowRunId"] for r in sorted(runs, key=lambda r: r["StartedOn"])]


def node_ids(workflow_run: dict, *names: str) -> list[str]:
    """The ``UniqueId`` of each named job or crawler in a run's graph (ValueError naming any that is not
    there)."""
    ids = {n["Name"]: n["UniqueId"] for n in (workflow_run.get("Graph") or {}).get("Nodes", [])
           if n["Type"] in ("JOB", "CRAWLER")}
    missing = [n for n in names if n not in ids]
    if missing:
        raise ValueError(f"not a job or crawler of this workflow run: {missing}; it has {sorted(ids)}")
    return [ids[n] for n in names]


def picture(lab, workflow_run: dict, title: str = ""):
    """The run's graph, each job and crawler coloured by its last state; lab-prefixed names shortened."""
    return diagrams.workflow_graph(workflow_run["Graph"], title=title, strip=lab.prefix + BOUNDARY)
