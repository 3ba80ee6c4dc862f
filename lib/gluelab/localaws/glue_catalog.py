"""The AWS Glue Data Catalog: moto's databases, tables, partitions and table versions as they are.

moto keeps the catalog faithfully (every update_table a version, get_partitions evaluating Expression): the
crawler (:mod:`.glue_crawlers`) and the Glue runtime write it through the calls AWS offers. What is added: each
change is announced as AWS announces it on EventBridge (see below).

Teardown deletes the lab's databases with their tables; the guard checks ``DatabaseName`` (a table is owned
through its database).
"""
from __future__ import annotations

import inspect
import threading

from moto.glue.models import GlueBackend

from . import signals
from .hooks import hook
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


# --- the catalog's EventBridge events ------------------------------------------------------------------------------
#
# AWS sends "Glue Data Catalog Database State Change" for CreateDatabase, DeleteDatabase, CreateTable, DeleteTable
# and BatchDeleteTable (``changedTables``), and "Glue Data Catalog Table State Change" for UpdateTable and the
# partition operations (``changedPartitions``, each partition's values as ``[a, b]``). ``typeOfChange`` is the API
# operation. A call made inside another (BatchDeleteTable deleting each table) announces only the outer one; the
# crawler's catalog writes go through the same methods, so they are announced too, as on AWS.

_depth = threading.local()


def _arn(backend: GlueBackend, kind: str, *names: str) -> str:
    return f"arn:aws:glue:{backend.region_name}:{backend.account_id}:{kind}/{'/'.join(names)}"


def _values(values) -> str:
    return "[" + ", ".join(str(v) for v in values or []) + "]"


def _failed(result) -> list:
    """The partition values (or table names) a batch call reports as errors."""
    failed = []
    for error in result or []:
        failed.append(error.get("PartitionValues") or error.get("TableName"))
    return failed


def _announce(method: str, params: tuple[str, ...], operation: str, describe):
    """Hook ``GlueBackend.method`` to announce ``operation`` with ``describe(backend, args, result)`` ->
    ``(detail type, detail, resources)`` after it succeeded (outermost call only)."""
    @hook(GlueBackend, method, params)
    def announced(original, backend, *args, **kwargs):
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        try:
            result = original(backend, *args, **kwargs)
        finally:
            _depth.n = depth
        if depth == 0:
            bound = inspect.signature(original).bind(backend, *args, **kwargs).arguments
            detail_type, detail, resources = describe(backend, bound, result)
            signals.emit(detail_type, {**detail, "typeOfChange": operation}, resource=backend,
                         account=backend.account_id, region=backend.region_name, resources=resources)
        return result
    return announced


def _database_change(backend, a, _result):
    return (signals.DATABASE_STATE_CHANGE, {"databaseName": a["database_name"]},
            [_arn(backend, "database", a["database_name"])])


def _table_in_database(backend, a, _result):
    return (signals.DATABASE_STATE_CHANGE, {"databaseName": a["database_name"], "changedTables": [a["table_name"]]},
            [_arn(backend, "table", a["database_name"], a["table_name"])])


def _tables_in_database(backend, a, result):
    failed = _failed(result)
    tables = [t for t in a["tables"] if t not in failed]
    return (signals.DATABASE_STATE_CHANGE, {"databaseName": a["database_name"], "changedTables": tables},
            [_arn(backend, "table", a["database_name"], t) for t in tables])


def _partitions(values_of):
    def describe(backend, a, result):
        failed = _failed(result)
        changed = [_values(v) for v in values_of(a) if v not in failed]
        detail = {"databaseName": a["database_name"], "tableName": a["table_name"]}
        if values_of is not _no_partitions:
            detail["changedPartitions"] = changed
        return (signals.TABLE_STATE_CHANGE, detail, [_arn(backend, "table", a["database_name"], a["table_name"])])
    return describe


def _no_partitions(_a) -> list:
    return []


_announce("create_database", ("database_name",), "CreateDatabase", _database_change)
_announce("delete_database", ("database_name",), "DeleteDatabase", _database_change)
_announce("create_table", ("database_name", "table_name"), "CreateTable", _table_in_database)
_announce("delete_table", ("database_name", "table_name"), "DeleteTable", _table_in_database)
_announce("batch_delete_table", ("database_name", "tables"), "BatchDeleteTable", _tables_in_database)
_announce("update_table", ("database_name", "table_name"), "UpdateTable", _partitions(_no_partitions))
_announce("create_partition", ("database_name", "table_name", "part_input"), "CreatePartition",
          _partitions(lambda a: [a["part_input"].get("Values")]))
_announce("batch_create_partition", ("database_name", "table_name", "partition_input"), "BatchCreatePartition",
          _partitions(lambda a: [p.get("Values") for p in a["partition_input"]]))
_announce("update_partition", ("database_name", "table_name", "part_to_update"), "UpdatePartition",
          _partitions(lambda a: [a["part_to_update"]]))
_announce("batch_update_partition", ("database_name", "table_name", "entries"), "BatchUpdatePartition",
          _partitions(lambda a: [e.get("PartitionValueList") for e in a["entries"]]))
_announce("delete_partition", ("database_name", "table_name", "part_to_delete"), "DeletePartition",
          _partitions(lambda a: [a["part_to_delete"]]))
_announce("batch_delete_partition", ("database_name", "table_name", "parts"), "BatchDeletePartition",
          _partitions(lambda a: [p.get("Values") for p in a["parts"]]))
