"""AWS CloudFormation: moto's stacks as they are; the prefix guard and teardown know them.

Teardown deletes the lab's stacks that are not deleted already.
"""
from __future__ import annotations

from .service import Owned, Service, paged, tag_list

def _stack_tags(client, name: str, _account: str) -> dict:
    return tag_list(client.describe_stacks(StackName=name)["Stacks"][0].get("Tags"))


SERVICE = Service("cloudformation", guarded=("StackName", "ChangeSetName"),
                  operations=("CreateStack", "UpdateStack", "DeleteStack", "CreateChangeSet", "ExecuteChangeSet",
                              "DeleteChangeSet"), owned=(
    Owned("stack", paged("list_stacks", "StackSummaries", "StackName",
                         StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE", "ROLLBACK_COMPLETE",
                                            "CREATE_FAILED", "UPDATE_ROLLBACK_COMPLETE"]),
          lambda client, name: client.delete_stack(StackName=name), tags=_stack_tags),))
