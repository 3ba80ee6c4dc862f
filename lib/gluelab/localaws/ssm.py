"""AWS Systems Manager Parameter Store: moto's parameters as they are (String, StringList, SecureString with
``WithDecryption``); the prefix guard and teardown know the lab's parameters.

Lambda functions read settings and API keys from here (lesson 11). A lab names its parameters like any other
resource (``<prefix>--api-key``), so teardown deletes exactly its own.
"""
from __future__ import annotations

from .service import Owned, Service, paged, tag_list


def _parameter_tags(ssm, name: str, _account: str) -> dict:
    return tag_list(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"])


SERVICE = Service(
    "ssm",  # a parameter is named by the top-level Name, which the guard checks for every service
    operations=("PutParameter", "DeleteParameter", "LabelParameterVersion"),
    owned=(Owned("SSM parameter", paged("describe_parameters", "Parameters"),
                 lambda ssm, name: ssm.delete_parameter(Name=name), tags=_parameter_tags),))
