"""Every resource a lab creates carries the tag ``gluelab:lab=<prefix>``.

Why: a name is the first sign that a resource is the lab's (:mod:`gluelab.naming`); the tag is the second,
checked with it before ``Lab.teardown()`` deletes anything. A resource named like the lab's but made by hand, by
an older lab or by another tool has no such tag and is kept (teardown says so).

The tag is added to the request of every create operation that takes tags (``Tags``/``tags`` in botocore's model
of the operation: a map, or a list of key/value pairs, whichever the service uses), on the lab's own clients,
on both backends. Creates that take no tags (S3's CreateBucket) are tagged right after they succeed, as each
service module says (``Service.tag_after``).
"""
from __future__ import annotations

from . import localaws

#: The tag key; its value is the lab's prefix.
TAG_KEY = "gluelab:lab"


def install(client, prefix: str) -> None:
    """Make ``client`` tag what it creates with ``gluelab:lab=<prefix>``."""
    service = client.meta.service_model.service_name
    after = {op: fn for s in localaws.services() if s.client == service for op, fn in s.tag_after.items()}
    tags = {TAG_KEY: prefix}

    def add(params, model, context=None, **_):
        if model.name in after and context is not None:
            context["gluelab_params"] = dict(params)
        if not model.name.startswith(("Create", "Put")) or model.input_shape is None:
            return
        if _updates_in_place(model.name, params):
            return
        for member, shape in model.input_shape.members.items():
            if member.lower() == "tags":
                params[member] = with_tag(params.get(member), shape, prefix)
                return

    def tag_after(http_response=None, parsed=None, model=None, context=None, **_):
        if http_response is None or http_response.status_code >= 300 or not context:
            return
        if context.get("gluelab_dry_run"):  # nothing was made
            return
        created = context.get("gluelab_params")
        if created is not None:
            after[model.name](client, created, tags)

    event_id = client.meta.service_model.service_id.hyphenize()  # botocore's event names use the service id
    client.meta.events.register(f"provide-client-params.{event_id}.*", add)
    for operation in after:
        client.meta.events.register(f"after-call.{event_id}.{operation}", tag_after)


def _updates_in_place(operation: str, params: dict) -> bool:
    """A Put that changes an existing resource, where AWS refuses tags: SSM's PutParameter with
    ``Overwrite=True`` ("tags and overwrite can't be used together"); the parameter keeps its first tags."""
    return operation == "PutParameter" and bool(params.get("Overwrite"))


def with_tag(given, shape, prefix: str):
    """``given`` tags (None, a map or a key/value list, as ``shape`` says) with ``gluelab:lab=<prefix>`` set."""
    if shape.type_name == "map":
        return {**(given or {}), TAG_KEY: prefix}
    members = list(shape.member.members)
    key = next(m for m in members if m.lower() == "key")
    value = next(m for m in members if m.lower() == "value")
    return [t for t in (given or []) if t.get(key) != TAG_KEY] + [{key: TAG_KEY, value: prefix}]


def lab_of(tags: dict) -> str | None:
    """The lab a resource's tags (``{key: value}``) say made it."""
    return (tags or {}).get(TAG_KEY)
