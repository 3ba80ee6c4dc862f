"""Amazon CloudWatch Logs: moto's Logs, written to by the services here (:mod:`.logship`).

Log groups are named by the service that writes them (``/aws-glue/jobs/output``), not by the lab, so teardown
leaves them; a change to a log group still needs a name the lab owns.
"""
from __future__ import annotations

from .service import Service

SERVICE = Service(
    "logs", guarded=("logGroupName",),
    operations=("CreateLogGroup", "DeleteLogGroup", "CreateLogStream", "DeleteLogStream", "PutLogEvents",
                "PutRetentionPolicy", "DeleteRetentionPolicy", "PutMetricFilter", "DeleteMetricFilter"))
