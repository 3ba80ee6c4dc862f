"""The AWS Glue Data Catalog: moto's databases, tables, partitions and table versions as they are.

moto keeps the catalog faithfully (every update_table a version, get_partitions evaluating Expression), so
nothing is hooked here: the crawler (:mod:`.glue_crawlers`) and the Glue runtime write it through the calls AWS
offers.

Teardown deletes the lab's databases with their tables; the guard checks ``DatabaseName`` (a table is owned
through its database).
"""
from __future__ import annotations

from .service import Owned, Service, glue_tags, paged

SERVICE = Service(
    "glue", guarded=("DatabaseName", "ResourceArn"),
    operations=("CreateDatabase", "UpdateDatabase", "DeleteDatabase", "CreateTable", "UpdateTable", "DeleteTable",
                "BatchDeleteTable", "DeleteTableVersion", "BatchDeleteTableVersion", "CreatePartition",
                "BatchCreatePartition", "UpdatePartition", "BatchUpdatePartition", "DeletePartition",
                "BatchDeletePartition", "CreatePartitionIndex", "DeletePartitionIndex",
                "UpdateColumnStatisticsForTable", "DeleteColumnStatisticsForTable",
                "UpdateColumnStatisticsForPartition", "DeleteColumnStatisticsForPartition",
                "TagResource", "UntagResource"),
    owned=(Owned("database", paged("get_databases", "DatabaseList"), lambda glue, name: glue.delete_database(Name=name),
                 tags=glue_tags("database")),))
