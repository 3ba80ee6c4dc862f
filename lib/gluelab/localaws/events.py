"""Amazon EventBridge: moto's rules and targets as they are; the prefix guard and teardown know its rules.

Teardown removes a lab rule's targets, then the rule (AWS refuses to delete a rule that has targets).
"""
from __future__ import annotations

from .service import Owned, Service, paged, tag_list


def _delete_rule(events, name: str) -> None:
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name).get("Targets", [])]
    if ids:
        events.remove_targets(Rule=name, Ids=ids)
    events.delete_rule(Name=name)


def _rule_tags(events, name: str, _account: str) -> dict:
    arn = events.describe_rule(Name=name)["Arn"]
    return tag_list(events.list_tags_for_resource(ResourceARN=arn)["Tags"])


SERVICE = Service(
    "events", guarded=("Rule", "Arn"),
    operations=("PutRule", "DeleteRule", "EnableRule", "DisableRule", "PutTargets", "RemoveTargets"),
    owned=(Owned("EventBridge rule", paged("list_rules", "Rules"), _delete_rule, tags=_rule_tags),))
