"""Amazon States Language, read as data: definitions with substitutions, their states in order, and an
execution's history turned into the steps it took.

Why: a state machine is a JSON document, and what an execution did is a list of history events
(``get_execution_history``). Lessons ask three questions of them: *which ARNs does this definition hard-code*
(:func:`substitute` replaces ``${Name}`` placeholders as CloudFormation's ``DefinitionSubstitutions`` does),
*in what order are its states* (:func:`state_order`), and *which path did this execution take, how long did each
state last and how did it end* (:func:`steps`). Pure functions over AWS's documented shapes; both backends.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def substitute(definition: dict | str, **values: str) -> str:
    """The definition (a dict or JSON text) as JSON text with every ``${Name}`` replaced by ``values[Name]``,
    as CloudFormation's ``DefinitionSubstitutions`` does. A placeholder without a value is an error naming it
    (AWS would create a state machine that fails at run time)."""
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"no value for placeholder(s) {', '.join('${' + m + '}' for m in missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def hard_coded_arns(definition: dict | str) -> list[str]:
    """Every ARN written into the definition that names an account (``arn:aws:...:123456789012:...``): what
    ties it to one account and region."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return sorted(set(re.findall(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\"\s]+", text)))


def state_order(definition: dict | str) -> list[str]:
    """The top-level states, from ``StartAt`` along Next/Default/Choices/Catch (depth first), then any left."""
    spec = json.loads(definition) if isinstance(definition, str) else definition
    states = spec["States"]
    order: list[str] = []

    def visit(name):
        if name in order or name not in states:
            return
        order.append(name)
        state = states[name]
        for choice in state.get("Choices", []):
            visit(choice.get("Next"))
        visit(state.get("Next"))
        visit(state.get("Default"))
        for catcher in state.get("Catch", []):
            visit(catcher.get("Next"))

    visit(spec["StartAt"])
    return order + [n for n in states if n not in order]


def outline(definition: dict | str) -> str:
    """One line per top-level state, in :func:`state_order`: name, type, what it runs and where it goes next
    (``->`` Next, ``?`` a Choice's branches and Default, ``!`` a Catch, ``end`` for End, Succeed and Fail)."""
    spec = json.loads(definition) if isinstance(definition, str) else definition
    lines = []
    for name in state_order(spec):
        state = spec["States"][name]
        runs = state.get("Resource", "")
        goes = [f"-> {state['Next']}"] if "Next" in state else []
        goes += [f"? {c['Next']}" for c in state.get("Choices", [])]
        goes += [f"? {state['Default']} (default)"] if "Default" in state else []
        goes += [f"! {c['Next']} on {','.join(c.get('ErrorEquals', []))}" for c in state.get("Catch", [])]
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            goes.append("end")
        retry = " retry" if state.get("Retry") else ""
        lines.append(f"{name:<26} {state['Type']:<7}{retry:<6} {runs:<45} {'  '.join(goes)}".rstrip())
    return "\n".join(lines)


@dataclass
class Step:
    """One state of an execution, entered at ``entered`` and left at ``exited`` (None: still in it)."""
    name: str
    type: str
    entered: datetime
    exited: datetime | None
    outcome: str            # "succeeded", "failed", "caught", "retried ..." or "running"
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        return (self.exited - self.entered).total_seconds() if self.exited else None


_ENTERED = re.compile(r"^(\w+?)StateEntered$")


def steps(events: list[dict]) -> list[Step]:
    """The top-level states an execution went through, in order, from its history events (oldest first, as
    ``get_execution_history`` returns them). States inside Parallel branches and Map iterations are part of
    their parent's step. A task that failed and was retried says after how many attempts it ended; a failure a
    Catch handled is ``caught``; the state the execution failed in is ``failed``."""
    out: list[Step] = []
    current: Step | None = None
    attempts = failures = 0

    def close(step: Step, when) -> None:
        step.exited = when
        step.outcome = "caught" if failures and failures >= attempts else "succeeded"
        if attempts > 1:
            step.outcome += f" after {attempts} attempts"

    for event in events:
        kind, when = event["type"], event["timestamp"]
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
        entered = _ENTERED.match(kind)
        if entered:
            if current is not None and current.exited is None:
                if current.type in ("Parallel", "Map"):
                    continue                       # a state inside a branch or an iteration
                close(current, when)               # left without an exit event: its error was caught
            current = Step(details.get("name", "?"), entered.group(1), when, None, "running")
            attempts = failures = 0
            out.append(current)
            continue
        if current is None or current.exited is not None:
            continue
        if kind in _EXECUTION_ENDS:
            current.exited = when
            current.error = details.get("error") or current.error
            current.outcome = _EXECUTION_ENDS[kind]
        elif kind == f"{current.type}StateExited" and details.get("name") == current.name:
            close(current, when)
        elif current.type in ("Parallel", "Map"):
            if kind == f"{current.type}StateFailed":
                attempts, failures = attempts + 1, failures + 1
                current.error = details.get("error") or current.error
            elif kind == f"{current.type}StateStarted":
                attempts += 1
        elif kind.endswith("Scheduled"):           # TaskScheduled, LambdaFunctionScheduled, ActivityScheduled
            attempts += 1
        elif kind.endswith(("Failed", "TimedOut", "StartFailed", "ScheduleFailed")):
            failures += 1
            current.error = details.get("error") or current.error
    return out


_EXECUTION_ENDS = {"ExecutionFailed": "failed", "ExecutionAborted": "aborted", "ExecutionTimedOut": "timed out"}


def path(events: list[dict]) -> list[str]:
    """The names of the top-level states an execution entered, in order."""
    return [s.name for s in steps(events)]
