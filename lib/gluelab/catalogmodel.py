"""The Data Catalog's model, once: TableInput, storage descriptors and SerDes, partition batches, and the mapping
between catalog (Hive) types and Spark types.

Why one module: the crawler describes the files it finds, the Glue runtime describes the files a job writes
(``getSink(enableUpdateCatalog=True)``) and reads tables back, the rules engine reads tables with their catalog
types, and later lessons (data quality, infrastructure as code) do the same. Each used to carry its own copy, and
the copies had drifted (which read-only fields a TableInput drops, how ``varchar(n)`` maps to Spark). Storage
descriptors are written as AWS's crawler writes them (as seen in any crawled table's ``get_table``):

* CSV: ``TextInputFormat`` / ``HiveIgnoreKeyTextOutputFormat`` with ``LazySimpleSerDe`` (``field.delim``), or
  ``OpenCSVSerde`` (``separatorChar``, ``quoteChar``) when values are quoted;
* JSON: the same text formats with ``org.openx.data.jsonserde.JsonSerDe`` (``paths`` = the top-level fields);
* Parquet: ``MapredParquetInputFormat`` / ``MapredParquetOutputFormat`` with ``ParquetHiveSerDe``;
* ORC: ``OrcInputFormat`` / ``OrcOutputFormat`` with ``OrcSerde``.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
ORC_INPUT = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
ORC_OUTPUT = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
HCATALOG_JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
ORC_SERDE = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"

#: The file format a SerDe reads (for tables without a ``classification`` parameter).
SERDE_FORMATS = {PARQUET_SERDE: "parquet", JSON_SERDE: "json", HCATALOG_JSON_SERDE: "json", OPEN_CSV: "csv",
                 LAZY_SIMPLE: "csv", ORC_SERDE: "orc"}

#: AWS's limit of partitions per BatchCreatePartition / BatchDeletePartition / BatchUpdatePartition call.
PARTITION_BATCH = 100

#: Fields of a Table (as get_table returns it) that are not part of a TableInput: read-only, or shaped
#: differently in the input.
NOT_INPUT = frozenset({"DatabaseName", "CreateTime", "UpdateTime", "CreatedBy", "IsRegisteredWithLakeFormation",
                       "CatalogId", "VersionId", "FederatedTable", "ViewDefinition", "IsMultiDialectView",
                       "Status", "IsMaterializedView"})


def table_input(table: dict) -> dict:
    """A TableInput for ``create_table`` / ``update_table`` from a Table as ``get_table`` returns it."""
    return {k: v for k, v in table.items() if k not in NOT_INPUT}


def batches(items: list, size: int = PARTITION_BATCH) -> Iterator[list]:
    """``items`` in consecutive chunks of at most ``size`` (one catalog batch call each)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def formats_and_serde(fmt: str, *, delimiter: str = ",", quoted: bool = True, quote_char: str = '"',
                      json_paths: Iterable[str] = ()) -> tuple[str, str, dict]:
    """``(InputFormat, OutputFormat, SerdeInfo)`` of files in ``fmt`` (csv, json, parquet, orc). A CSV whose
    values are quoted gets OpenCSVSerde, otherwise LazySimpleSerDe, as AWS's crawler chooses."""
    fmt = {"glueparquet": "parquet"}.get(fmt, fmt)
    if fmt == "parquet":
        return PARQUET_INPUT, PARQUET_OUTPUT, {"SerializationLibrary": PARQUET_SERDE,
                                               "Parameters": {"serialization.format": "1"}}
    if fmt == "json":
        return TEXT_INPUT, TEXT_OUTPUT, {"SerializationLibrary": JSON_SERDE,
                                         "Parameters": {"paths": ",".join(sorted(json_paths))}}
    if fmt == "csv":
        if quoted:
            return TEXT_INPUT, TEXT_OUTPUT, {"SerializationLibrary": OPEN_CSV,
                                             "Parameters": {"separatorChar": delimiter, "quoteChar": quote_char}}
        return TEXT_INPUT, TEXT_OUTPUT, {"SerializationLibrary": LAZY_SIMPLE,
                                         "Parameters": {"field.delim": delimiter}}
    if fmt == "orc":
        return ORC_INPUT, ORC_OUTPUT, {"SerializationLibrary": ORC_SERDE, "Parameters": {}}
    raise ValueError(f"cannot describe {fmt!r} files in the catalog (csv, json, parquet, orc)")


def storage_descriptor(columns: list[dict], location: str, input_format: str, output_format: str, serde: dict,
                       *, compressed: bool, parameters: dict) -> dict:
    """A StorageDescriptor with every field AWS's crawler fills in."""
    return {"Columns": columns, "Location": location, "InputFormat": input_format, "OutputFormat": output_format,
            "Compressed": compressed, "NumberOfBuckets": -1, "SerdeInfo": serde, "BucketColumns": [],
            "SortColumns": [], "Parameters": dict(parameters), "StoredAsSubDirectories": False}


# ---- catalog (Hive) types <-> Spark types ------------------------------------------------------------------

def hive_type(data_type) -> str:
    """The catalog (Hive) spelling of a Spark type: ``bigint``, ``decimal(10,2)``, ``struct<a:int>``."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return "struct<" + ",".join(f"{f.name}:{hive_type(f.dataType)}" for f in data_type.fields) + ">"
    if isinstance(data_type, T.ArrayType):
        return f"array<{hive_type(data_type.elementType)}>"
    if isinstance(data_type, T.MapType):
        return f"map<{hive_type(data_type.keyType)},{hive_type(data_type.valueType)}>"
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return "timestamp"
    if isinstance(data_type, (T.NullType, T.CharType, T.VarcharType, T.StringType)):
        return "string"
    return data_type.simpleString()


def catalog_columns(schema, exclude=()) -> list[dict]:
    """Catalog ``Columns`` for a Spark schema, without the ``exclude`` names (partition keys)."""
    return [{"Name": f.name, "Type": hive_type(f.dataType)} for f in schema.fields if f.name not in exclude]


_CHAR = re.compile(r"\b(?:var)?char\s*\(\s*\d+\s*\)", re.I)


def spark_type(hive: str):
    """The Spark type of a catalog type: Hive and Spark share the DDL syntax, except that ``char(n)`` and
    ``varchar(n)`` are read as ``string`` (Spark would pad or check their length)."""
    from pyspark.sql import types as T

    return T.DataType.fromDDL(_CHAR.sub("string", hive))


def spark_schema(table_or_columns):
    """A Spark StructType from a Glue table (``get_table()["Table"]``: columns then partition keys) or a list
    of Glue columns ``[{"Name", "Type"}]``."""
    from pyspark.sql import types as T

    if isinstance(table_or_columns, dict):
        columns = (table_or_columns.get("StorageDescriptor", {}).get("Columns", [])
                   + table_or_columns.get("PartitionKeys", []))
    else:
        columns = list(table_or_columns)
    return T.StructType([T.StructField(c["Name"], spark_type(c["Type"]), True) for c in columns])
