"""Local AWS: moto's server inside the lab's process, made to act, one module per AWS service.

moto keeps AWS's control plane (resources, their state, the API's shapes and errors) and runs nothing. Each
service module here has the same shape, as moto lays out its own services:

* what moto lacks and gluelab answers (actions registered at moto's dispatch, :mod:`.dispatch`);
* the state gluelab adds (``Executed*`` classes that replace moto's simulated ones);
* the hooks that make moto act (:mod:`.hooks`, each contract-checked against the pinned moto);
* ``SERVICE``: the request parameters the aws backend's prefix guard checks and the resources ``teardown()``
  deletes (:mod:`.service`), used by both backends.

Shared pieces live once: hook registration (:mod:`.hooks`), the dispatcher (:mod:`.dispatch`), lines to
CloudWatch Logs (:mod:`.logship`), state changes one service announces to another (:mod:`.signals`), one
scheduler on the lab's clock (:mod:`.scheduler`), deliveries from one service to another (:mod:`.delivery`), and
the endpoint itself (:mod:`.server`).
"""
from __future__ import annotations

from . import (awslambda, cloudformation, cloudwatch, events, glue_bookmarks, glue_catalog, glue_crawlers,
               glue_dataquality, glue_job_runners, glue_jobs, glue_registry, glue_triggers, glue_workflows, iam,
               lambda_event_sources, logs, s3, s3_notifications, sns, sqs, ssm, stepfunctions,
               stepfunctions_tasks)
from . import delivery, scheduler
from .server import FAKE_CREDENTIALS, endpoint_url, reset, start
from .service import Owned, Service

__all__ = ["start", "endpoint_url", "reset", "services", "FAKE_CREDENTIALS", "Service", "Owned"]

#: Every service module, in teardown order: what starts or reads others goes before them (a crawler before its
#: database, a job before the buckets holding its script, a rule before its targets' functions, an event source
#: mapping before its function and queue).
_MODULES = (glue_workflows, glue_crawlers, glue_jobs, glue_bookmarks, glue_catalog, glue_registry, glue_dataquality,
            events, lambda_event_sources, stepfunctions, awslambda, sns, sqs, ssm, cloudwatch, cloudformation, logs,
            s3_notifications, s3, iam)


def services() -> tuple[Service, ...]:
    """Each service module's declaration (guarded parameters, owned resources), in teardown order."""
    return tuple(module.SERVICE for module in _MODULES)
