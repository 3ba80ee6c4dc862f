"""AWS Lambda: moto's Lambda stores functions; the prefix guard and teardown know them.

Teardown deletes the lab's functions.
"""
from __future__ import annotations

from .service import Owned, Service, paged

def _function_tags(client, name: str, _account: str) -> dict:
    arn = client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return client.list_tags(Resource=arn).get("Tags", {})


SERVICE = Service(
    "lambda", guarded=("FunctionName",),
    operations=("CreateFunction", "DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration",
                "Invoke", "InvokeAsync", "AddPermission", "RemovePermission", "PublishVersion", "CreateAlias",
                "UpdateAlias", "DeleteAlias", "CreateEventSourceMapping", "PutFunctionConcurrency",
                "DeleteFunctionConcurrency"),
    owned=(Owned("Lambda function", paged("list_functions", "Functions", "FunctionName"),
                 lambda client, name: client.delete_function(FunctionName=name), tags=_function_tags),))
