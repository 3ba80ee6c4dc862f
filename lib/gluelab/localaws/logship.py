"""Lines to CloudWatch Logs, as AWS's services write them (job output, crawler messages, later Lambda).

Written straight into moto's Logs backend (no HTTP round trip), so a client reading ``get_log_events`` or
``filter_log_events`` sees them as on AWS. The group and stream are created when missing.
"""
from __future__ import annotations

import time
from typing import Iterable

from moto.logs.models import logs_backends

#: AWS's limit of events per PutLogEvents call.
MAX_EVENTS_PER_CALL = 10_000


def ship(account_id: str, region: str, group: str, stream: str, lines: Iterable[str],
         timestamp_ms: int | None = None) -> int:
    """Append ``lines`` (one event each) to ``group``/``stream``; return how many were written."""
    logs = logs_backends[account_id][region]
    if group not in logs.groups:
        logs.create_log_group(group, tags={})
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    now_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    events = [{"timestamp": now_ms, "message": line} for line in lines]
    for i in range(0, len(events), MAX_EVENTS_PER_CALL):
        logs.put_log_events(group, stream, events[i:i + MAX_EVENTS_PER_CALL])
    return len(events)
