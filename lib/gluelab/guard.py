"""The prefix guard for the real-AWS backend: it refuses by default.

It hooks botocore's ``provide-client-params`` event on every client the lab hands out, so it sees each call's
parameters before anything is sent. An operation that only reads (Get*, List*, Describe*, ...) passes. Any other
operation must be declared by one of :mod:`gluelab.localaws`'s service modules (``Service.operations``), and every
resource it names must carry the lab's prefix: the parameters the modules declare (``Service.guarded``) at any
depth (a trigger's actions, a crawler's targets), a top-level ``Name``, the ``Name`` of a ``DatabaseInput``,
every ``s3://`` URI (its bucket), a schema's registry, the state machine of a Step Functions execution ARN. A
declared operation that names nothing the guard can check (e.g. PutResourcePolicy on the whole catalog) is refused too. Resources an operation touches without naming them
in a parameter are found by the service's resolver (``Service.resolvers``), which may read from AWS: the bus of
each PutEvents entry (``default`` when it names none, so a lab puts events only on its own buses), the function of
an event source mapping named by UUID, a subscription's ARN endpoint, a RedrivePolicy's dead-letter queue. A
refused call raises :class:`OutsidePrefixError` naming the operation and the resource; nothing reaches AWS.

Tables and partitions are owned through their database; schemas through their registry.
"""
from __future__ import annotations

import re

from . import localaws
from .naming import Naming

#: Operations that only read. Everything else changes state (or bills, or sends), and is guarded.
READ_ONLY = re.compile(r"^(Get|List|Describe|Head|Search|Lookup|Filter|Simulate|BatchGet|Query|Scan|Select|"
                       r"Check|Validate)[A-Z]")

#: Parameters (compared case-insensitively) that name a resource: what the services declare they guard.
NAME_PARAMS = {param.lower() for service in localaws.services() for param in service.guarded}
#: Operations whose top-level ``Name`` is a table or partition inside ``DatabaseName`` (the database is checked).
IN_DATABASE = re.compile(r"Table|Partition|ColumnStatistics")
#: Operations whose top-level ``name`` is not a resource of their own (a Step Functions execution's name).
NAME_IS_NOT_RESOURCE = {("stepfunctions", "StartExecution"), ("stepfunctions", "StartSyncExecution")}


def declared_operations() -> dict[str, set[str]]:
    """The state-changing operations each service (boto3 name) lets a lab send, from the service modules."""
    allowed: dict[str, set[str]] = {}
    for service in localaws.services():
        allowed.setdefault(service.client, set()).update(service.operations)
    return allowed


class OutsidePrefixError(PermissionError):
    """A call would change something the lab did not create, or that the guard cannot tell is the lab's."""


def declared_resolvers() -> dict[str, dict]:
    """``{service: {operation: resolver}}``: the resources an operation touches that its parameters do not spell
    out, as the service modules find them (``Service.resolvers``)."""
    found: dict[str, dict] = {}
    for service in localaws.services():
        found.setdefault(service.client, {}).update(service.resolvers)
    return found


def install(client, naming: Naming) -> None:
    """Make ``client`` refuse every state-changing call that is undeclared or touches a resource outside
    ``naming.prefix``."""
    service = client.meta.service_model.service_name
    allowed = declared_operations().get(service, set())
    resolvers = declared_resolvers().get(service, {})

    def check(params, model, **_):
        extra: list = []
        resolver = resolvers.get(model.name)
        if resolver is not None and not READ_ONLY.match(model.name) and model.name in allowed:
            try:
                extra = [n for n in resolver(client, params) if n is not None]
            except Exception as exc:
                raise OutsidePrefixError(
                    f"{service}.{model.name} refused: the lab with prefix {naming.prefix!r} could not find which "
                    f"resources it would change ({type(exc).__name__}: {exc})") from exc
        refusal = refuse(service, model.name, params, naming, allowed, extra)
        if refusal:
            raise OutsidePrefixError(refusal)

    # botocore names events by the service id (``sfn``, ``cloudwatch-logs``), not the client's name
    client.meta.events.register(f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}.*",
                                check)


def refuse(service: str, operation: str, params: dict, naming: Naming, allowed: set[str],
           extra=()) -> str | None:
    """Why the lab must not send ``operation`` with ``params`` (None when it may); ``extra``: more resources it
    touches (from the service's resolver)."""
    if READ_ONLY.match(operation):
        return None
    where = f"the lab with prefix {naming.prefix!r}"
    if operation not in allowed:
        return (f"{service}.{operation} refused: {where} does not send this operation, because gluelab cannot "
                f"tell which resources it would change (no gluelab service module declares it)")
    names = [str(n) for n in list(named_resources(service, operation, params)) + list(extra) if n]
    if not names:
        return (f"{service}.{operation} refused: the call names no resource {where} can check as its own "
                f"(it may act on the whole account)")
    for name in names:
        if not naming.owns(name):
            return (f"{service}.{operation} on {name!r} refused: {where} only changes resources it named "
                    f"(use lab.names / lab.zones to build names)")
    return None


def named_resources(service: str, operation: str, params: dict):
    """Every resource name, ARN, URL or bucket the call's parameters name, at any depth."""
    for key, value in params.items():
        lkey = key.lower()
        if lkey == "name" and isinstance(value, str):
            if (service, operation) in NAME_IS_NOT_RESOURCE:
                continue
            if IN_DATABASE.search(operation) and "DatabaseName" in params:
                continue  # a table or partition inside DatabaseName, which is checked
            yield value
        else:
            yield from _walk(key, value)


def _walk(key: str, value):
    lkey = key.lower()
    if isinstance(value, str):
        if value.startswith(("s3://", "s3a://")):
            yield value.split("/")[2]  # the bucket
        elif lkey in NAME_PARAMS:
            yield _owner(value)
    elif isinstance(value, dict):
        if lkey == "schemaid":
            # a schema lives in a registry as a table in a database: the lab owns the registry (AWS's default
            # registry when none is named), and a schema name need not carry the prefix
            arn = value.get("SchemaArn")
            yield arn.split("/")[-2] if arn and arn.count("/") >= 2 else value.get("RegistryName") or "default-registry"
            return
        if lkey in NAME_PARAMS:  # e.g. RegistryId={"RegistryName": ...}
            yield from (v for k, v in value.items() if k.endswith(("Name", "Arn")) and isinstance(v, str))
        if lkey in ("databaseinput",):
            yield value.get("Name")
        for k, v in value.items():
            if lkey in NAME_PARAMS and k.endswith(("Name", "Arn")):
                continue
            yield from _walk(k, v)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(key, item)


#: A Step Functions execution or map run ARN: its state machine is what the lab owns (the execution's own name
#: is free, a UUID when the caller gives none).
_EXECUTION_ARN = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:(?:execution|express|mapRun):(?P<machine>[^:/]+)")


def _owner(name: str) -> str:
    """The resource a name stands for, as the lab owns it: an execution's state machine, else the name."""
    match = _EXECUTION_ARN.match(name)
    return match["machine"] if match else name


def plan_instead(client, plan) -> None:
    """On a dry-run lab: every state-changing call of ``client`` is recorded with ``plan(action, target)`` and
    answered with an empty response instead of being sent, so a notebook's own boto3 calls change nothing either.
    (A cell that reads a field of the response, e.g. ``["Role"]["Arn"]``, then fails: nothing was made.)"""
    from botocore.awsrequest import AWSResponse

    service = client.meta.service_model.service_name

    def skip(model, params, context=None, **_):
        if READ_ONLY.match(model.name):
            return None
        plan(f"call {service}.{model.name} on", ", ".join(sorted({str(n) for n in _names_in(service, model.name,
                                                                                              context)})) or "-")
        if context is not None:
            context["gluelab_dry_run"] = True
        return AWSResponse(params.get("url", ""), 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def remember(params, model, context=None, **_):
        if context is not None:
            context["gluelab_call_params"] = dict(params)

    event_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"provide-client-params.{event_id}.*", remember)
    client.meta.events.register(f"before-call.{event_id}.*", skip)


def _names_in(service: str, operation: str, context) -> list:
    params = (context or {}).get("gluelab_call_params") or {}
    return [n for n in named_resources(service, operation, params) if n]
