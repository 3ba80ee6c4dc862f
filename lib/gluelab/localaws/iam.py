"""AWS IAM: moto's IAM as it is (the lab's Glue service role; AWS managed policies load on request).

Teardown deletes the lab's roles after detaching and deleting their policies.
"""
from __future__ import annotations

from .service import Owned, Service, tag_list


def _roles(iam) -> list[str]:
    return [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]


def _delete_role(iam, name: str) -> None:
    for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=p)
    iam.delete_role(RoleName=name)


SERVICE = Service(
    "iam", guarded=("RoleName", "Role", "RoleArn"),
    operations=("CreateRole", "DeleteRole", "UpdateRole", "UpdateAssumeRolePolicy", "AttachRolePolicy",
                "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "TagRole", "UntagRole"),
    owned=(Owned("IAM role", _roles, _delete_role,
                 tags=lambda iam, name, _account: tag_list(iam.list_role_tags(RoleName=name)["Tags"])),))
