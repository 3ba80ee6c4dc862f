"""What a Glue job costs: DPU-hours times the price, billed per second with a minimum.

AWS Glue bills Spark (``glueetl``) and Python shell jobs by the Data Processing Unit hour (DPU-hour; 1 DPU = 4
vCPU + 16 GB). The price in us-east-1 is $0.44 per DPU-hour (Flex execution: $0.29); since Glue 2.0 runs are
billed per second with a 1-minute minimum (Glue 0.9/1.0 had a 10-minute minimum). A worker type fixes the DPUs
per worker. Prices differ by region and change over time: pass ``price_per_dpu_hour`` for yours (see the AWS
Glue pricing page). These functions are what the lessons and the job runner use to put a price on every run:
:func:`job_cost` for a planned run, :func:`run_cost` for a finished one (the dict ``get_job_run`` returns).

Before a run nobody knows how long it will take, so what the lab shows before billable work is an
:class:`Estimate`: at least the billing minimum, at most the job's Timeout. :func:`job_estimate` reads a job's
settings (as ``get_job`` returns them, or ``create_job``'s arguments); :func:`crawler_estimate` prices a crawl:
crawlers are billed at the same DPU-hour price, per second with a 10-minute minimum, on as many DPUs as AWS
gives the crawl (not a setting; :data:`CRAWLER_DPUS` is assumed), with no timeout to bound them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: DPUs per worker, by Glue worker type.
WORKER_DPU = {"Standard": 1.0, "G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0,
              "G.12X": 12.0, "G.16X": 16.0}
#: us-east-1 list prices, USD per DPU-hour.
PRICE_PER_DPU_HOUR = 0.44
FLEX_PRICE_PER_DPU_HOUR = 0.29
#: Python shell jobs run with MaxCapacity 0.0625 (1/16 DPU) or 1 DPU.
PYTHON_SHELL_CAPACITIES = (0.0625, 1.0)
#: A crawl's billing minimum (seconds), and the DPUs assumed for a crawl (AWS decides; its pricing example uses 2).
CRAWLER_MINIMUM_SECONDS = 600
CRAWLER_DPUS = 2.0
#: A job's Timeout (minutes) when it sets none: AWS's default.
DEFAULT_TIMEOUT_MINUTES = 2880


@dataclass(frozen=True)
class JobCost:
    """One run's cost: the DPUs it held, the seconds billed, and the price."""
    dpus: float
    run_seconds: float
    billed_seconds: int
    price_per_dpu_hour: float

    @property
    def dpu_hours(self) -> float:
        return self.dpus * self.billed_seconds / 3600

    @property
    def usd(self) -> float:
        return self.dpu_hours * self.price_per_dpu_hour

    def __str__(self) -> str:
        return (f"{self.dpus:g} DPU x {self.billed_seconds:,} s billed = {self.dpu_hours:.4f} DPU-hours "
                f"x ${self.price_per_dpu_hour:.2f} = ${self.usd:.4f}")


def billed_seconds(run_seconds: float, minimum_seconds: int = 60) -> int:
    """Seconds AWS bills for a run: whole seconds rounded up, and never less than the minimum."""
    if run_seconds < 0:
        raise ValueError(f"run time cannot be negative, got {run_seconds}")
    return max(minimum_seconds, math.ceil(run_seconds))


def job_cost(seconds: float, worker_type: str = "G.1X", workers: int = 2, *, job_type: str = "glueetl",
             max_capacity: float | None = None, flex: bool = False, glue_version: str = "4.0",
             price_per_dpu_hour: float | None = None) -> JobCost:
    """The cost of one job run of ``seconds`` with ``workers`` workers of ``worker_type``.

    ``job_type="pythonshell"`` uses ``max_capacity`` (0.0625 or 1 DPU) instead of workers. ``flex=True`` uses
    the Flex price. Glue versions before 2.0 bill a 10-minute minimum.
    """
    if job_type == "pythonshell":
        dpus = 0.0625 if max_capacity is None else max_capacity
        if dpus not in PYTHON_SHELL_CAPACITIES:
            raise ValueError(f"a Python shell job's MaxCapacity is 0.0625 or 1 DPU, got {dpus}")
    elif job_type in ("glueetl", "gluestreaming"):
        if worker_type not in WORKER_DPU:
            raise ValueError(f"unknown worker type {worker_type!r}; Glue has {', '.join(WORKER_DPU)}")
        if workers < 2:
            raise ValueError(f"a Glue Spark job needs at least 2 workers (1 driver + executors), got {workers}")
        dpus = WORKER_DPU[worker_type] * workers
    else:
        raise ValueError(f"job_type must be 'glueetl', 'gluestreaming' or 'pythonshell', got {job_type!r}")
    return _priced(dpus, seconds, glue_version, flex, price_per_dpu_hour)


def _priced(dpus: float, seconds: float, glue_version: str, flex: bool, price_per_dpu_hour: float | None) -> JobCost:
    """``dpus`` for ``seconds``, billed per second with the Glue version's minimum, at the standard, Flex or a
    given price."""
    minimum = 600 if glue_version in ("0.9", "1.0") else 60
    price = price_per_dpu_hour if price_per_dpu_hour is not None else (
        FLEX_PRICE_PER_DPU_HOUR if flex else PRICE_PER_DPU_HOUR)
    return JobCost(dpus, seconds, billed_seconds(seconds, minimum), price)


def run_cost(job_run: dict, *, price_per_dpu_hour: float | None = None) -> JobCost:
    """The cost of a finished job run, from the ``JobRun`` dict ``get_job_run`` returns.

    Uses the run's WorkerType x NumberOfWorkers (else its MaxCapacity: 0.0625 or 1 DPU means a Python shell
    job), its ExecutionTime (seconds), GlueVersion (the billing minimum) and ExecutionClass (FLEX price).
    Raises ValueError for a run that has not finished: its ExecutionTime is not final yet.
    """
    state = job_run.get("JobRunState")
    if "CompletedOn" not in job_run:
        raise ValueError(f"job run {job_run.get('Id', '?')} is {state} and has not finished: its cost is "
                         "known when it ends")
    seconds = float(job_run.get("ExecutionTime") or 0)
    glue_version = str(job_run.get("GlueVersion") or "4.0")
    flex = job_run.get("ExecutionClass") == "FLEX"
    worker_type, workers = job_run.get("WorkerType"), job_run.get("NumberOfWorkers")
    if worker_type and workers:
        return job_cost(seconds, worker_type, int(workers), flex=flex, glue_version=glue_version,
                        price_per_dpu_hour=price_per_dpu_hour)
    capacity = job_run.get("MaxCapacity")
    if capacity is None:
        raise ValueError(f"job run {job_run.get('Id', '?')} has neither WorkerType/NumberOfWorkers nor "
                         "MaxCapacity")
    if float(capacity) in PYTHON_SHELL_CAPACITIES:
        return job_cost(seconds, job_type="pythonshell", max_capacity=float(capacity),
                        glue_version=glue_version, price_per_dpu_hour=price_per_dpu_hour)
    # a Spark job sized in DPUs (MaxCapacity) rather than workers: the same per-second billing
    return _priced(float(capacity), seconds, glue_version, flex, price_per_dpu_hour)


@dataclass(frozen=True)
class Estimate:
    """What a run not started yet may cost: at least ``low`` (its billing minimum), at most ``high`` (it runs
    until its timeout; None when nothing bounds it, as for a crawl)."""
    what: str
    low: JobCost
    high: JobCost | None = None

    def __str__(self) -> str:
        text = f"{self.what}: at least ${self.low.usd:.4f} ({self.low})"
        if self.high is None:
            return text + ", more if it runs longer"
        return text + f", at most ${self.high.usd:.4f} if it runs to its {self.high.run_seconds / 60:g}-minute timeout"


def job_estimate(job: dict, *, price_per_dpu_hour: float | None = None) -> Estimate:
    """The cost range of one run of ``job`` (``get_job``'s ``Job``, or ``create_job``'s arguments): the billing
    minimum on its capacity, up to its Timeout (AWS's default when it sets none)."""
    command = (job.get("Command") or {}).get("Name", "glueetl")
    glue_version = str(job.get("GlueVersion") or "4.0")
    flex = job.get("ExecutionClass") == "FLEX"
    timeout = 60 * float(job.get("Timeout") or DEFAULT_TIMEOUT_MINUTES)

    def at(seconds: float) -> JobCost:
        if command == "pythonshell":
            return job_cost(seconds, job_type="pythonshell", max_capacity=float(job.get("MaxCapacity") or 0.0625),
                            glue_version=glue_version, price_per_dpu_hour=price_per_dpu_hour)
        if job.get("WorkerType") and job.get("NumberOfWorkers"):
            return job_cost(seconds, job["WorkerType"], int(job["NumberOfWorkers"]), job_type=command, flex=flex,
                            glue_version=glue_version, price_per_dpu_hour=price_per_dpu_hour)
        return _priced(float(job.get("MaxCapacity") or 10), seconds, glue_version, flex, price_per_dpu_hour)

    name = job.get("Name") or job.get("JobName") or "job"
    return Estimate(f"job {name}", at(0), at(timeout))


def crawler_estimate(name: str, *, dpus: float = CRAWLER_DPUS,
                     price_per_dpu_hour: float | None = None) -> Estimate:
    """The cost of one crawl of crawler ``name``: at least its 10-minute minimum on ``dpus`` DPUs; no upper
    bound (a crawl runs until it is done)."""
    price = PRICE_PER_DPU_HOUR if price_per_dpu_hour is None else price_per_dpu_hour
    return Estimate(f"crawler {name}", JobCost(dpus, 0, CRAWLER_MINIMUM_SECONDS, price))


def total(estimates: list[Estimate]) -> str:
    """Several estimates on one line: ``"at least $0.0293, at most $0.2933"`` (no upper bound when one of
    them has none)."""
    low = sum(e.low.usd for e in estimates)
    if any(e.high is None for e in estimates):
        return f"at least ${low:.4f}, more when a crawl runs longer than its 10-minute minimum"
    return f"at least ${low:.4f}, at most ${sum(e.high.usd for e in estimates):.4f}"
