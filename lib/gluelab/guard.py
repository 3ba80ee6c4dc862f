"""The prefix guard for the real-AWS backend: refuse any change to a resource the lab did not name.

It hooks botocore's ``provide-client-params`` event on every client the lab hands out, so it sees the parameters
of each call before anything is sent. Calls that change state (Create*, Delete*, Put*, Update*, Start*, ...)
must name only resources that carry the lab's prefix; reads are allowed. A refused call raises
:class:`OutsidePrefixError` and nothing reaches AWS.
"""
from __future__ import annotations

import re

from . import localaws
from .naming import Naming

MUTATING = re.compile(r"^(Create|Delete|Put|Update|Start|Stop|Batch|Reset|Tag|Untag|Run|Invoke|Send|Publish|"
                      r"Copy|Upload|Complete|Abort|Restore|Import|Register|Deregister|Resume|Attach|Detach|"
                      r"Enable|Disable|Set|Add|Remove|Purge|Subscribe|Unsubscribe|Modify|Redrive|Notify)")

#: Parameters (compared case-insensitively) that name the resource an operation acts on: what each service of
#: the local AWS layer declares it owns (``gluelab.localaws.services``).
NAME_PARAMS = {param.lower() for service in localaws.services() for param in service.guarded}
#: Operations whose top-level ``Name`` is the name of the resource they act on.
NAME_IS_RESOURCE = re.compile(r"^(Create|Delete|Update|Start|Stop|Put)")


class OutsidePrefixError(PermissionError):
    """A call would change a resource whose name does not carry the lab's prefix."""


def install(client, naming: Naming) -> None:
    """Make ``client`` refuse state-changing calls on resources outside ``naming.prefix``."""
    service = client.meta.service_model.service_name

    def check(params, model, **_):
        if not MUTATING.match(model.name):
            return
        for name in _named_resources(model.name, params):
            if name and not naming.owns(str(name)):
                raise OutsidePrefixError(
                    f"{service}.{model.name} on {name!r} refused: the lab with prefix {naming.prefix!r} only "
                    f"changes resources it named (use lab.names / lab.zones to build names)")

    client.meta.events.register(f"provide-client-params.{service}.*", check)


def _named_resources(operation: str, params: dict):
    for key, value in params.items():
        lkey = key.lower()
        if lkey == "schemaid" and isinstance(value, dict):
            # a schema lives in a registry as a table lives in a database: the lab owns the registry (AWS's
            # default registry when none is named), and a schema name need not carry the prefix
            arn = value.get("SchemaArn")
            yield arn.split("/")[-2] if arn and arn.count("/") >= 2 else value.get("RegistryName") or "default-registry"
        elif lkey in NAME_PARAMS:
            if isinstance(value, dict):  # e.g. RegistryId={"RegistryName": ...}
                yield from (v for k, v in value.items() if k.endswith("Name"))
            else:
                yield value
        elif lkey == "name" and NAME_IS_RESOURCE.match(operation) and "DatabaseName" not in params:
            yield value  # with a DatabaseName, Name is a table inside that database: the database is checked
        elif key == "DatabaseInput" and isinstance(value, dict):
            yield value.get("Name")
