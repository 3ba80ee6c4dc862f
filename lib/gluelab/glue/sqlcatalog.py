"""The Data Catalog as Spark sees it: table formats, column types, and catalog tables in Spark SQL.

Glue jobs meet the catalog three ways, and each needs a translation between a catalog table (``get_table``)
and Spark:

* reading a table (``from_catalog``): which format and reader options its storage descriptor means
  (:func:`table_format`);
* writing one (``enableUpdateCatalog``): :func:`update_for_write` creates or updates the table from the
  written DataFrame and registers its new partitions; the storage descriptors (:func:`storage_descriptor`) are
  the ones AWS's crawler writes (:mod:`gluelab.catalogmodel`), so crawled and job-written tables look alike;
* SQL over the catalog (``--enable-glue-datacatalog`` on AWS): :func:`sync` registers every catalog table as
  an external Spark table ``USING parquet|csv|json LOCATION 's3://...'`` (with its catalog partitions), so
  ``spark.sql("select * from db.table")`` works.
"""
from __future__ import annotations

import os
import tempfile
import warnings

from pyspark.sql import functions as F

from .. import catalogmodel
from ..catalogmodel import table_input

#: Spark reader formats for a catalog ``classification``.
_CLASSIFICATIONS = {"csv": "csv", "json": "json", "parquet": "parquet", "orc": "orc", "avro": "avro",
                    "glueparquet": "parquet"}
#: Characters Spark escapes in partition folder names (``key=value``).
_ESCAPED = set('"#%\'*/:=?\\\x7f{[]^') | {chr(c) for c in range(0x20)}


class CatalogMappingError(ValueError):
    """A catalog table whose format or columns have no Spark equivalent here."""


def table_format(table: dict) -> tuple[str, dict]:
    """``(format, format_options)`` for reading ``table`` (a ``get_table()["Table"]``): format is ``csv``,
    ``json``, ``parquet`` or ``orc``; format_options use Glue's names (``withHeader``, ``separator``,
    ``quoteChar``). Raises :class:`CatalogMappingError` for a table it cannot read."""
    sd = table.get("StorageDescriptor") or {}
    params = {**(sd.get("Parameters") or {}), **(table.get("Parameters") or {})}
    serde = sd.get("SerdeInfo") or {}
    serde_params = serde.get("Parameters") or {}
    fmt = _CLASSIFICATIONS.get(str(params.get("classification", "")).lower())
    if fmt is None:
        fmt = catalogmodel.SERDE_FORMATS.get(serde.get("SerializationLibrary", ""))
    if fmt is None and "parquet" in str(sd.get("InputFormat", "")).lower():
        fmt = "parquet"
    if fmt is None:
        raise CatalogMappingError(
            f"table {table.get('DatabaseName', '?')}.{table.get('Name', '?')}: cannot tell its format "
            f"(classification={params.get('classification')!r}, serde={serde.get('SerializationLibrary')!r}); "
            f"set Parameters.classification to csv, json or parquet")
    options: dict = {}
    if fmt == "csv":
        options["separator"] = (serde_params.get("field.delim") or serde_params.get("separatorChar")
                                or params.get("delimiter") or ",")
        if serde_params.get("quoteChar"):
            options["quoteChar"] = serde_params["quoteChar"]
        options["withHeader"] = str(params.get("skip.header.line.count", "0")) not in ("", "0")
    return fmt, options


#: The catalog (Hive) spelling of a Spark type, and catalog Columns of a Spark schema (gluelab.catalogmodel).
hive_type = catalogmodel.hive_type
columns_of = catalogmodel.catalog_columns


def storage_descriptor(fmt: str, location: str, columns: list[dict], format_options: dict | None = None,
                       compression: str | None = None) -> tuple[dict, dict]:
    """``(StorageDescriptor, table Parameters)`` for files of ``fmt`` written at ``location``, described as
    AWS's crawler would describe them."""
    fmt = {"glueparquet": "parquet"}.get(fmt, fmt)
    format_options = format_options or {}
    params = {"classification": fmt, "compressionType": (compression or "none").lower(), "typeOfData": "file"}
    sep = format_options.get("separator", ",")
    if fmt == "csv":
        params.update({"delimiter": sep, "areColumnsQuoted": "false", "columnsOrdered": "true"})
        if format_options.get("writeHeader", True):
            params["skip.header.line.count"] = "1"
    try:
        inp, out, serde = catalogmodel.formats_and_serde(fmt, delimiter=sep,
                                                         quote_char=format_options.get("quoteChar", '"'),
                                                         json_paths=(c["Name"] for c in columns))
    except ValueError as exc:
        raise CatalogMappingError(str(exc)) from None
    sd = catalogmodel.storage_descriptor(columns, location, inp, out, serde,
                                         compressed=params["compressionType"] not in ("none", "uncompressed"),
                                         parameters=params)
    return sd, params


# ---- catalog updates after a write -------------------------------------------------------------------

def _escape_path(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in value)


def _written_partitions(df, path: str, keys: list[str]) -> list[tuple[list[str], str]]:
    """``(values, folder URI)`` of every partition in ``df``, named as Spark names partition folders."""
    rows = df.select(*[F.col(k).cast("string").alias(k) for k in keys]).distinct().collect()
    out = []
    for row in rows:
        values = ["__HIVE_DEFAULT_PARTITION__" if row[k] in (None, "") else row[k] for k in keys]
        folder = "/".join(f"{_escape_path(k)}={_escape_path(v)}" for k, v in zip(keys, values))
        out.append((values, path.rstrip("/") + "/" + folder + "/"))
    return sorted(out)


def _merge_columns(old: list[dict], new: list[dict]) -> list[dict]:
    types = {c["Name"]: c["Type"] for c in new}
    merged = [{**c, "Type": types.get(c["Name"], c["Type"])} for c in old]
    known = {c["Name"] for c in old}
    return merged + [c for c in new if c["Name"] not in known]


def update_for_write(glue, database: str, table_name: str, df, fmt: str, path: str, keys: list[str],
                     format_options: dict, compression, behavior: str = "UPDATE_IN_DATABASE", warn=print) -> None:
    """What ``enableUpdateCatalog`` does after ``df`` was written to ``path``: create the table (columns from
    ``df``, ``keys`` as partition keys, the storage descriptor of ``fmt``) or update its columns (existing
    columns keep their order, new ones are appended; ``behavior="LOG"`` only warns), then register the
    partitions of ``df`` that the catalog does not have yet (``batch_create_partition``)."""
    if behavior not in ("UPDATE_IN_DATABASE", "LOG"):
        raise ValueError(f"updateBehavior must be UPDATE_IN_DATABASE or LOG, got {behavior!r}")
    columns = columns_of(df.schema, exclude=keys)
    key_columns = [{"Name": k, "Type": hive_type(df.schema[k].dataType)} for k in keys]
    location = path if path.endswith("/") else path + "/"
    sd, params = storage_descriptor(fmt, location, columns, format_options, compression)
    try:
        table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        table = None
    if table is None:
        glue.create_table(DatabaseName=database, TableInput={
            "Name": table_name, "TableType": "EXTERNAL_TABLE", "Parameters": params, "StorageDescriptor": sd,
            "PartitionKeys": key_columns})
        table_sd = sd
    else:
        old_keys = [k["Name"] for k in table.get("PartitionKeys") or []]
        if old_keys and old_keys != keys:
            raise ValueError(f"table {database}.{table_name} is partitioned by {old_keys}; the frame was written "
                             f"with partitionKeys {keys}")
        table_sd = table.get("StorageDescriptor") or sd
        old_columns = table_sd.get("Columns") or []
        merged = _merge_columns(old_columns, columns)
        if merged != old_columns:
            if behavior == "UPDATE_IN_DATABASE":
                table_sd = {**table_sd, "Columns": merged}
                update = table_input(table)
                update["StorageDescriptor"] = table_sd
                glue.update_table(DatabaseName=database, TableInput=update)
            else:
                warn(f"{database}.{table_name}: schema differs from the frame's; updateBehavior=LOG leaves it "
                     f"unchanged")
    if not keys:
        return
    existing = {tuple(p["Values"]) for p in _paged(glue, "get_partitions", "Partitions", DatabaseName=database,
                                                    TableName=table_name)}
    inputs = [{"Values": values, "StorageDescriptor": {**table_sd, "Location": folder},
               "Parameters": dict(params)}
              for values, folder in _written_partitions(df, location, keys) if tuple(values) not in existing]
    for chunk in catalogmodel.batches(inputs):
        answer = glue.batch_create_partition(DatabaseName=database, TableName=table_name, PartitionInputList=chunk)
        errors = [e for e in answer.get("Errors", [])
                  if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if errors:
            raise RuntimeError(f"registering partitions of {database}.{table_name} failed: {errors[:3]}")


# ---- Spark SQL registration --------------------------------------------------------------------------

def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _paged(glue, method: str, key: str, **kwargs) -> list[dict]:
    out = []
    for page in glue.get_paginator(method).paginate(**kwargs):
        out.extend(page[key])
    return out


def sync(spark, glue_client=None, databases=None) -> list[str]:
    """Register the catalog's tables in Spark SQL; returns the ``db.table`` names registered.

    For each Glue database (or only ``databases``): ``CREATE DATABASE IF NOT EXISTS``, then each table as an
    external table over its S3 location, re-created on every call so it follows catalog changes (the data is
    never touched), with the catalog's partitions added (``ALTER TABLE ... ADD PARTITION ... LOCATION``).
    Tables that cannot be mapped (no S3 location, unknown format, a view) are skipped with a warning that
    says why. Idempotent.
    """
    if glue_client is None:
        import boto3
        glue_client = boto3.client("glue")
    if databases is None:
        databases = [d["Name"] for d in _paged(glue_client, "get_databases", "DatabaseList")]
    elif isinstance(databases, str):
        databases = [databases]
    warehouse = os.path.join(tempfile.gettempdir(), f"gluelab-spark-warehouse-{os.getuid()}")
    registered = []
    for db in databases:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {_quote(db)} LOCATION "
                  f"{_literal(os.path.join(warehouse, db + '.db'))}")
        for table in _paged(glue_client, "get_tables", "TableList", DatabaseName=db):
            try:
                _register(spark, glue_client, db, table)
            except CatalogMappingError as e:
                warnings.warn(f"sqlcatalog.sync: skipped {db}.{table.get('Name')}: {e}", stacklevel=2)
                continue
            registered.append(f"{db}.{table['Name']}")
    return registered


def create_table_sql(db: str, table: dict) -> str:
    """The ``CREATE TABLE`` statement that registers a catalog table in Spark SQL."""
    name = f"{_quote(db)}.{_quote(table['Name'])}"
    sd = table.get("StorageDescriptor") or {}
    location = sd.get("Location") or ""
    if table.get("TableType") == "VIRTUAL_VIEW":
        raise CatalogMappingError("it is a view (views are not registered)")
    if not location.startswith(("s3://", "s3a://", "file:", "/")):
        raise CatalogMappingError(f"its location {location!r} is not an S3 path")
    fmt, options = table_format({**table, "DatabaseName": db})
    keys = table.get("PartitionKeys") or []
    columns = list(sd.get("Columns") or []) + list(keys)
    if not columns:
        raise CatalogMappingError("it has no columns")
    cols = ", ".join(f"{_quote(c['Name'])} {c.get('Type') or 'string'}" for c in columns)
    spark_options = {}
    if fmt == "csv":
        spark_options = {"header": str(options["withHeader"]).lower(), "sep": options["separator"]}
        if "quoteChar" in options:
            spark_options["quote"] = options["quoteChar"]
    sql = f"CREATE TABLE {name} ({cols}) USING {fmt}"
    if spark_options:
        sql += " OPTIONS (" + ", ".join(f"{_quote(k)} {_literal(v)}" for k, v in spark_options.items()) + ")"
    if keys:
        sql += " PARTITIONED BY (" + ", ".join(_quote(k["Name"]) for k in keys) + ")"
    return sql + f" LOCATION {_literal(location)}"


def _register(spark, glue, db: str, table: dict) -> None:
    statement = create_table_sql(db, table)
    name = f"{_quote(db)}.{_quote(table['Name'])}"
    spark.sql(f"DROP TABLE IF EXISTS {name}")
    try:
        spark.sql(statement)
    except Exception as e:  # a type Spark does not know, a bad option
        raise CatalogMappingError(f"Spark refused {statement!r}: {str(e).splitlines()[0][:300]}") from None
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not keys:
        return
    parts = _paged(glue, "get_partitions", "Partitions", DatabaseName=db, TableName=table["Name"])
    specs = []
    for part in parts:
        spec = ", ".join(f"{_quote(k)} = {_literal(v)}" for k, v in zip(keys, part["Values"], strict=False))
        where = (part.get("StorageDescriptor") or {}).get("Location")
        specs.append(f"PARTITION ({spec})" + (f" LOCATION {_literal(where)}" if where else ""))
    for i in range(0, len(specs), 200):  # one statement per batch, not per partition
        spark.sql(f"ALTER TABLE {name} ADD IF NOT EXISTS " + " ".join(specs[i:i + 200]))
