"""Amazon CloudWatch: moto's metrics, alarms and dashboards as they are; the prefix guard and teardown know
alarms and dashboards."""
from __future__ import annotations

from .service import Owned, Service, paged, tag_list

def _alarm_tags(client, name: str, _account: str) -> dict:
    arn = client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return tag_list(client.list_tags_for_resource(ResourceARN=arn)["Tags"])


SERVICE = Service(
    "cloudwatch", guarded=("AlarmName", "DashboardName", "AlarmNames", "DashboardNames"),
    operations=("PutMetricAlarm", "DeleteAlarms", "PutDashboard", "DeleteDashboards", "SetAlarmState",
                "EnableAlarmActions", "DisableAlarmActions"),
    owned=(
    Owned("alarm", paged("describe_alarms", "MetricAlarms", "AlarmName"),
          lambda client, name: client.delete_alarms(AlarmNames=[name]), tags=_alarm_tags),
    Owned("dashboard", paged("list_dashboards", "DashboardEntries", "DashboardName"),
          lambda client, name: client.delete_dashboards(DashboardNames=[name])),
))
