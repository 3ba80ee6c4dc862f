"""What each service module declares about itself: the names the prefix guard checks, what teardown deletes.

Why declared per service: the facade (``lab.teardown()``, the prefix guard) must know every kind of resource a
lab can make, and a list kept in the facade falls behind as services are added. Each module of this package
says it once, next to the behaviour it adds; :func:`gluelab.localaws.services` collects them. Both backends use
the declarations: teardown and the guard talk plain boto3.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable


@dataclass(frozen=True)
class Owned:
    """A kind of resource a lab owns by name: ``names(client)`` lists every one in the account and region (a
    name, or an identifier such as a URL or ARN that ``name_of`` turns into the name), ``delete(client, ident)``
    deletes one with what it contains. Teardown deletes those whose name the lab's prefix owns."""
    kind: str
    names: Callable[[object], Iterable[str]]
    delete: Callable[[object, str], None]
    name_of: Callable[[str], str] = lambda ident: ident


@dataclass(frozen=True)
class Service:
    """One AWS service as the lab sees it. ``client`` is the boto3 service name; ``guarded`` the request
    parameters (any case) naming a resource of the service, which the aws backend's guard checks against the
    prefix; ``owned`` the resources teardown deletes, in order (a trigger before the job it starts)."""
    client: str
    guarded: tuple[str, ...] = ()
    owned: tuple[Owned, ...] = field(default=())


def paged(operation: str, key: str, field_name: str | None = "Name", **kwargs) -> Callable[[object], list]:
    """A lister over a paginated operation: ``paged("get_jobs", "Jobs")(glue) -> [job names]``."""
    def names(client) -> list:
        return [item[field_name] if field_name else item
                for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]
    return names
