"""Amazon EventBridge: moto's rules and targets as they are; the prefix guard and teardown know its rules.

Teardown removes a lab rule's targets, then the rule (AWS refuses to delete a rule that has targets).
"""
from __future__ import annotations

from .service import Owned, Service, paged


def _delete_rule(events, name: str) -> None:
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name).get("Targets", [])]
    if ids:
        events.remove_targets(Rule=name, Ids=ids)
    events.delete_rule(Name=name)


SERVICE = Service("events", guarded=("Rule",), owned=(
    Owned("EventBridge rule", paged("list_rules", "Rules"), _delete_rule),))
