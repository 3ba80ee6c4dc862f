"""AWS Lambda: moto's Lambda stores functions; the prefix guard and teardown know them.

Teardown deletes the lab's functions.
"""
from __future__ import annotations

from .service import Owned, Service, paged

SERVICE = Service("lambda", guarded=("FunctionName",), owned=(
    Owned("Lambda function", paged("list_functions", "Functions", "FunctionName"),
          lambda client, name: client.delete_function(FunctionName=name)),))
