"""What a crawler writes: TableInput and PartitionInput dicts shaped like the ones AWS's crawler writes.

The storage descriptors and SerDes per format come from :mod:`gluelab.catalogmodel`; a CSV table also gets the
parameters ``delimiter``, ``skip.header.line.count`` (with a header), ``areColumnsQuoted``, ``columnsOrdered``.

Every table and partition carries ``classification``, ``compressionType``, ``typeOfData`` = ``file``,
``objectCount``, ``sizeKey``, ``recordCount``, ``averageRecordSize``, ``UPDATED_BY_CRAWLER`` and the crawler
schema (de)serializer versions, in both the table's and the storage descriptor's Parameters.
"""
from __future__ import annotations

import json

from .. import catalogmodel
from . import infer


def columns_of(files) -> tuple:
    cols: tuple = ()
    for _, schema in files:
        cols = infer.merge_fields(cols, schema.columns)
    return cols


def statistics(files) -> dict:
    """objectCount, sizeKey, recordCount and averageRecordSize of ``(obj, schema)`` pairs."""
    size = sum(obj.size for obj, _ in files)
    records = sum(schema.records for _, schema in files)
    record_bytes = sum(schema.record_bytes for _, schema in files)
    return {"objectCount": str(len(files)), "sizeKey": str(size), "recordCount": str(records),
            "averageRecordSize": str(round(record_bytes / records) if records else 0)}


def format_of(files) -> tuple[dict, str, str, dict]:
    """(format parameters, InputFormat, OutputFormat, SerdeInfo) for files of one signature."""
    first = files[0][1]
    params = {"classification": first.classification, "compressionType": first.compression,
              "typeOfData": "file"}
    if first.classification in ("parquet", "json"):
        return (params, *catalogmodel.formats_and_serde(first.classification,
                                                        json_paths=(n for n, _ in columns_of(files))))
    quoted = any(schema.quoted for _, schema in files)
    params.update({"delimiter": first.delimiter, "areColumnsQuoted": str(quoted).lower(),
                   "columnsOrdered": "true"})
    if first.header:
        params["skip.header.line.count"] = "1"
    return (params, *catalogmodel.formats_and_serde("csv", delimiter=first.delimiter, quoted=quoted))


def crawler_parameters(crawler_name: str, exclusions: list[str] | None = None) -> dict:
    params = {"UPDATED_BY_CRAWLER": crawler_name, "CrawlerSchemaDeserializerVersion": "1.0",
              "CrawlerSchemaSerializerVersion": "1.0"}
    if exclusions:
        params["exclusions"] = json.dumps(exclusions)
    return params


def storage_descriptor(columns: tuple, location: str, files, parameters: dict) -> dict:
    _, input_format, output_format, serde = format_of(files)
    return catalogmodel.storage_descriptor([{"Name": n, "Type": infer.to_hive(t)} for n, t in columns], location,
                                           input_format, output_format, serde,
                                           compressed=files[0][1].compression != "none", parameters=parameters)


def table_input(name: str, plan, crawler_name: str, exclusions=None) -> dict:
    files = plan.files
    params = {**format_of(files)[0], **statistics(files), **crawler_parameters(crawler_name, exclusions)}
    if plan.partition_keys:
        params["partition_filtering.enabled"] = "true"
    return {"Name": name, "Owner": "owner", "Retention": 0, "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in plan.partition_keys],
            "StorageDescriptor": storage_descriptor(columns_of(files), plan.location, files, params),
            "Parameters": params}


def partition_input(values: tuple, folder_uri: str, files, table: dict, crawler_name: str,
                    inherit: bool) -> dict:
    """A partition with its own schema and statistics, or the table's (``InheritFromTable``)."""
    if inherit:
        sd = {**table["StorageDescriptor"], "Location": folder_uri}
        params = dict(table.get("Parameters", {}))
    else:
        params = {**format_of(files)[0], **statistics(files), **crawler_parameters(crawler_name)}
        sd = storage_descriptor(columns_of(files), folder_uri, files, params)
    return {"Values": list(values), "StorageDescriptor": sd, "Parameters": params}


def shape(table: dict) -> tuple:
    """What makes a schema change: columns and their types, partition keys, format and serde."""
    sd = table.get("StorageDescriptor", {})
    params = table.get("Parameters", {})
    return (tuple((c["Name"], c["Type"]) for c in sd.get("Columns", [])),
            tuple(k["Name"] for k in table.get("PartitionKeys", [])),
            sd.get("InputFormat"), (sd.get("SerdeInfo") or {}).get("SerializationLibrary"),
            sd.get("Location"), params.get("classification"), params.get("delimiter"),
            params.get("skip.header.line.count"), "DEPRECATED_BY_CRAWLER" in params)
