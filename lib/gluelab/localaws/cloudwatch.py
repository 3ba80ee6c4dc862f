"""Amazon CloudWatch: moto's metrics, alarms and dashboards as they are; the prefix guard and teardown know
alarms and dashboards."""
from __future__ import annotations

from .service import Owned, Service, paged

SERVICE = Service("cloudwatch", guarded=("AlarmName", "DashboardName"), owned=(
    Owned("alarm", paged("describe_alarms", "MetricAlarms", "AlarmName"),
          lambda client, name: client.delete_alarms(AlarmNames=[name])),
    Owned("dashboard", paged("list_dashboards", "DashboardEntries", "DashboardName"),
          lambda client, name: client.delete_dashboards(DashboardNames=[name])),
))
