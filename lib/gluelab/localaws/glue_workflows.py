"""AWS Glue workflows and triggers.

Teardown deletes the lab's triggers first (a trigger names the jobs and crawlers it starts), then its
workflows; the guard checks ``WorkflowName`` and ``TriggerName``.
"""
from __future__ import annotations

from .service import Owned, Service, paged

SERVICE = Service("glue", guarded=("WorkflowName", "TriggerName"), owned=(
    Owned("trigger", paged("get_triggers", "Triggers"), lambda glue, name: glue.delete_trigger(Name=name)),
    Owned("workflow", lambda glue: glue.list_workflows().get("Workflows", []),
          lambda glue, name: glue.delete_workflow(Name=name)),
))
