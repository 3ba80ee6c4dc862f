"""Step Functions state machines for the lessons: deploy a definition, run it, read what it did, picture it.

Why a module: each is a few boto3 calls a lesson shows once (``create_state_machine`` or
``update_state_machine``, ``start_execution``, a polling loop, ``get_execution_history`` with its pages); the
lessons then call these. The local backend runs executions for real (Glue jobs, Lambda handlers, waits on lab
time); on AWS, Step Functions does.
"""
from __future__ import annotations

import json

from . import asl, diagrams, waiting
from .naming import BOUNDARY


def deploy(lab, name: str, definition: dict | str, *, role: str | None = None, kind: str = "STANDARD") -> str:
    """Create the state machine ``name`` (a lab resource name), or update its definition and role when it
    exists; return its ARN. ``role`` defaults to the lab's Step Functions role (:meth:`Lab.ensure_role`)."""
    sfn = lab.client("stepfunctions")
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    role = role or lab.ensure_role("states")
    arn = f"arn:aws:states:{lab.region}:{lab.account_id}:stateMachine:{name}"
    if not lab._plan("deploy state machine", name):
        lab.planned_resources[("state machine", name)] = {"name": name, "definition": text}
        return arn
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        return sfn.create_state_machine(name=name, definition=text, roleArn=role, type=kind)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role)
    return arn


def run(lab, state_machine_arn: str, execution_input: dict | None = None, *, name: str | None = None,
        timeout: float = 600) -> dict:
    """Start an execution and wait until it ends; return ``describe_execution``'s answer with ``output`` and
    ``input`` decoded from JSON. A dry-run lab plans the start and returns ``{"status": "PLANNED"}``."""
    sfn = lab.client("stepfunctions")
    if not lab._plan("start execution of", state_machine_arn.rsplit(":", 1)[-1]):
        return {"status": "PLANNED"}
    started = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(execution_input or {}),
                                  **({"name": name} if name else {}))
    described = waiting.execution(sfn, started["executionArn"], timeout=timeout)
    for key in ("input", "output"):
        if described.get(key):
            described[key] = json.loads(described[key])
    return described


def history(lab, execution_arn: str) -> list[dict]:
    """Every history event of an execution, oldest first (all pages)."""
    sfn = lab.client("stepfunctions")
    return [event for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
            for event in page["events"]]


def steps(lab, execution_arn: str) -> list[asl.Step]:
    """The top-level states the execution went through, with timing and outcome (:func:`gluelab.asl.steps`)."""
    return asl.steps(history(lab, execution_arn))


def describe(lab, execution: dict, *, timing: bool = False) -> str:
    """One line per state the execution went through: its name, type, how it ended and the error, with the
    seconds spent when ``timing`` (left out by default: a task's real duration differs from run to run)."""
    lines = []
    for step in steps(lab, execution["executionArn"]):
        seconds = f" {step.seconds:8.1f} s" if timing and step.seconds is not None else ""
        lines.append((f"{step.name:<28} {step.type:<8} {step.outcome:<27}{seconds}"
                      + (f" {step.error}" if step.error else "")).rstrip())
    return "\n".join(lines)


def picture(lab, execution: dict, title: str = ""):
    """The execution as a picture: every state of its definition top to bottom, the ones it entered as bars
    over time coloured by how they ended, the ones it did not enter greyed (:func:`gluelab.diagrams.execution`)."""
    sfn = lab.client("stepfunctions")
    definition = sfn.describe_state_machine_for_execution(executionArn=execution["executionArn"])["definition"]
    return diagrams.execution(asl.state_order(definition), steps(lab, execution["executionArn"]),
                              title=title or f"{execution.get('name', '')}: {execution.get('status', '')}",
                              strip=lab.prefix + BOUNDARY)
