"""What each service module declares about itself: the operations a lab may send and the names in them the
prefix guard checks, what teardown deletes and how it tells the lab's resources from others'.

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
    """A kind of resource a lab owns: ``names(client)`` lists every one in the account and region (a name, or an
    identifier such as a URL or ARN that ``name_of`` turns into the name), ``delete(client, ident)`` deletes one
    with what it contains (stopping it first when it runs). ``tags(client, ident, account_id)`` reads its tags
    when the kind takes tags: teardown deletes a resource only when its name carries the lab's prefix *and* its
    ``gluelab:lab`` tag names the lab."""
    kind: str
    names: Callable[[object], Iterable[str]]
    delete: Callable[[object, str], None]
    name_of: Callable[[str], str] = lambda ident: ident
    tags: Callable[[object, str, str], dict] | None = None


@dataclass(frozen=True)
class Service:
    """One AWS service as the lab sees it. ``client`` is the boto3 service name.

    ``operations``: the state-changing operations (botocore's names, e.g. ``"CreateJob"``) a lab on the aws
    backend may send; the guard refuses every other one. ``guarded``: the request parameters (any case, at any
    depth: trigger actions, crawler targets, ...) that name a resource of the service, which must carry the
    prefix. ``owned``: the resources teardown deletes, in order (a trigger before the job it starts).
    ``tag_after``: for a create operation that takes no tags (S3's CreateBucket),
    ``tag_after[operation](client, params, tags)`` tags what it made. ``resolvers``: for an operation that
    touches resources its parameters do not spell out (PutEvents' default bus when an entry names none, the
    function of an event source mapping named by its UUID), ``resolvers[operation](client, params)`` returns
    their names or ARNs (it may use read calls); the guard checks them too."""
    client: str
    guarded: tuple[str, ...] = ()
    owned: tuple[Owned, ...] = field(default=())
    operations: tuple[str, ...] = ()
    tag_after: dict = field(default_factory=dict)
    resolvers: dict = field(default_factory=dict)


def glue_tags(kind: str) -> Callable[[object, str, str], dict]:
    """A tag reader for a Glue resource: ``glue_tags("job")(glue, name, account_id)`` -> ``{key: value}``."""
    def tags(glue, name: str, account_id: str) -> dict:
        arn = f"arn:aws:glue:{glue.meta.region_name}:{account_id}:{kind}/{name}"
        return glue.get_tags(ResourceArn=arn).get("Tags", {})
    return tags


def tag_list(items, key: str = "Key", value: str = "Value") -> dict:
    """``[{"Key": k, "Value": v}, ...]`` (the shape most services return tags in) as ``{k: v}``."""
    return {t[key]: t.get(value, "") for t in items or []}


def paged(operation: str, key: str, field_name: str | None = "Name", **kwargs) -> Callable[[object], list]:
    """A lister over a paginated operation: ``paged("get_jobs", "Jobs")(glue) -> [job names]``."""
    def names(client) -> list:
        return [item[field_name] if field_name else item
                for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]
    return names
