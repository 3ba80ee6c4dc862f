"""AWS Step Functions: moto's interpreter (switched on by the local endpoint); the prefix guard and teardown
know its state machines.

Teardown deletes the lab's state machines, found by name (the last part of the ARN).
"""
from __future__ import annotations

from .service import Owned, Service, paged, tag_list

SERVICE = Service(
    "stepfunctions", guarded=("stateMachineArn", "roleArn"),
    operations=("CreateStateMachine", "UpdateStateMachine", "DeleteStateMachine", "StartExecution",
                "StartSyncExecution"),
    owned=(Owned("state machine", paged("list_state_machines", "stateMachines", "stateMachineArn"),
                 lambda client, arn: client.delete_state_machine(stateMachineArn=arn),
                 name_of=lambda arn: arn.rsplit(":", 1)[-1],
                 tags=lambda client, arn, _account: tag_list(
                     client.list_tags_for_resource(resourceArn=arn)["tags"], "key", "value")),))
