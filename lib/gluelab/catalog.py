"""Data Catalog helpers for the lessons: table versions, schema diffs between them, rollback, partitions, and a
readable view of a table. Everything goes through a boto3 Glue client, so it works on both backends.

>>> glue = lab.client("glue")
>>> [v["VersionId"] for v in table_versions(glue, "sales", "orders")]
['1', '2', '3']
>>> print(schemas.report(diff_versions(glue, "sales", "orders", "1", "3")))
>>> rollback(glue, "sales", "orders", "1")          # makes version 4 with version 1's definition
>>> partitions(glue, "sales", "orders", "year = '2024' AND month IN ('01', '02')")
"""
from __future__ import annotations

import html
from collections import Counter

from . import schemas
from .catalogmodel import table_input

def table_versions(glue, database: str, table: str) -> list[dict]:
    """Every stored version of a table, oldest first: ``{"VersionId", "UpdateTime", "Columns", "PartitionKeys",
    "Table"}`` (``Table`` is the full definition of that version)."""
    out = []
    for page in glue.get_paginator("get_table_versions").paginate(DatabaseName=database, TableName=table):
        for v in page["TableVersions"]:
            t = v["Table"]
            out.append({"VersionId": v["VersionId"], "UpdateTime": t.get("UpdateTime") or t.get("CreateTime"),
                        "Columns": t.get("StorageDescriptor", {}).get("Columns", []),
                        "PartitionKeys": t.get("PartitionKeys", []), "Table": t})
    return sorted(out, key=lambda v: int(v["VersionId"]))


def _version(glue, database: str, table: str, version_id) -> dict:
    return glue.get_table_version(DatabaseName=database, TableName=table, VersionId=str(version_id))[
        "TableVersion"]["Table"]


def diff_versions(glue, database: str, table: str, from_version, to_version, **diff_options) -> list:
    """The schema changes (:func:`gluelab.schemas.diff`) from one table version to another, partition keys
    included. ``diff_options`` go to :func:`~gluelab.schemas.diff` (``required=``, ``aliases=``)."""
    return schemas.diff(_version(glue, database, table, from_version),
                        _version(glue, database, table, to_version), **diff_options)


def rollback(glue, database: str, table: str, version_id) -> str:
    """Restore the definition of an earlier version with ``update_table``. As on AWS this does not rewrite
    history: it adds a new version equal to the old one. Returns the new version's id."""
    glue.update_table(DatabaseName=database, TableInput=table_input(_version(glue, database, table, version_id)))
    return glue.get_table(DatabaseName=database, Name=table)["Table"]["VersionId"]


def partitions(glue, database: str, table: str, expression: str | None = None) -> list[dict]:
    """The table's partitions (all pages) matching ``expression`` (``get_partitions``' Expression, e.g.
    ``"year = '2024' AND month > '06'"``), as rows ``{partition key: value, ..., "Location": s3 uri}``, sorted
    by their values."""
    keys = [k["Name"] for k in glue.get_table(DatabaseName=database, Name=table)["Table"].get("PartitionKeys", [])]
    kwargs = {"DatabaseName": database, "TableName": table}
    if expression:
        kwargs["Expression"] = expression
    rows = []
    for page in glue.get_paginator("get_partitions").paginate(**kwargs):
        for p in page["Partitions"]:
            row = dict(zip(keys, p["Values"]))
            row["Location"] = p.get("StorageDescriptor", {}).get("Location")
            rows.append(row)
    return sorted(rows, key=lambda r: [r[k] for k in keys])


def partitions_per(glue, database: str, table: str, key: str, expression: str | None = None) -> dict:
    """How many partitions each value of partition key ``key`` has, sorted by value (for a bar chart)."""
    return dict(sorted(Counter(r[key] for r in partitions(glue, database, table, expression)).items()))


class TableView:
    """A table's definition at a glance; ``print()`` it, or let Jupyter show it as HTML."""

    def __init__(self, table: dict, partition_count: int):
        self.table = table
        self.partition_count = partition_count
        sd = table.get("StorageDescriptor", {})
        self.name = f"{table.get('DatabaseName', '?')}.{table['Name']}"
        self.columns = [(c["Name"], c["Type"]) for c in sd.get("Columns", [])]
        self.partition_keys = [(c["Name"], c["Type"]) for c in table.get("PartitionKeys", [])]
        self.location = sd.get("Location", "")
        self.parameters = dict(sorted(table.get("Parameters", {}).items()))
        self.classification = self.parameters.get("classification", "")
        self.version = table.get("VersionId", "")

    def _facts(self):
        return [("location", self.location), ("classification", self.classification or "-"),
                ("version", self.version or "-"), ("partitions", str(self.partition_count))]

    def __str__(self) -> str:
        width = max([len(n) for n, _ in self.columns + self.partition_keys] + [8])
        lines = [f"table {self.name}"]
        lines += [f"  {k:<14} {v}" for k, v in self._facts()]
        lines.append("  columns:")
        lines += [f"    {n:<{width}}  {t}" for n, t in self.columns]
        if self.partition_keys:
            lines.append("  partition keys:")
            lines += [f"    {n:<{width}}  {t}" for n, t in self.partition_keys]
        if self.parameters:
            lines.append("  parameters:")
            lines += [f"    {k} = {v}" for k, v in self.parameters.items()]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(f"<tr><td>{e(n)}</td><td><code>{e(t)}</code></td><td></td></tr>" for n, t in self.columns)
        rows += "".join(f"<tr><td>{e(n)}</td><td><code>{e(t)}</code></td><td>partition key</td></tr>"
                        for n, t in self.partition_keys)
        facts = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in self._facts())
        params = ", ".join(f"{e(k)}={e(v)}" for k, v in self.parameters.items())
        return (f"<div><b>{e(self.name)}</b><ul>{facts}</ul>"
                f"<table><tr><th>column</th><th>type</th><th></th></tr>{rows}</table>"
                + (f"<p><small>parameters: {params}</small></p>" if params else "") + "</div>")


def render_table(glue, database: str, table: str) -> TableView:
    """A readable view of a table: columns, partition keys, partition count, location, classification and
    parameters."""
    t = glue.get_table(DatabaseName=database, Name=table)["Table"]
    t.setdefault("DatabaseName", database)
    count = len(partitions(glue, database, table)) if t.get("PartitionKeys") else 0
    return TableView(t, count)
