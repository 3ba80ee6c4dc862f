"""``GlueContext``: how a Glue script reads and writes S3 and the Data Catalog, on local Spark.

Reads list S3 objects through boto3 (the endpoint in the environment: the lab's local one), apply the job
bookmark (:mod:`gluelab.glue.bookmarks`), then let Spark read exactly those objects through its ``s3://``
data plane:

* ``create_dynamic_frame.from_options(connection_type="s3", connection_options={"paths": [...],
  "recurse": True, "exclusions": "[\\"**.txt\\"]"}, format="csv"|"json"|"parquet", format_options=...)``;
  files and folders named ``_*`` or ``.*`` and folder markers are skipped, as on Glue;
* ``create_dynamic_frame.from_catalog(database, table_name, push_down_predicate=...)``: format, options and
  partitions come from the catalog; the predicate (Spark SQL over the partition columns) is evaluated against
  the catalog's partitions, so only the matching partitions' objects are listed and read; the partition
  columns are added with the catalog's types.

CSV is read with every column as a string and then typed as Glue does (choices where values disagree, see
:mod:`gluelab.glue.choice`). A CSV row with too many or too few fields is not dropped: it becomes an error
record of the frame (``errorsCount()``, ``errorsAsDynamicFrame()``) carrying the raw line, the reason and the
file. JSON likewise: a line that is not a JSON object is an error record (``record`` the raw line, ``reason``
``line N: not valid JSON (...)``, ``info`` the file), so records + error records = the non-blank input lines. Without header (``withHeader`` defaults to False, as on Glue) the columns are ``col0``, ``col1``, ...
JSON takes ``multiline`` and ``jsonPath`` (records nested in a document, e.g. ``$.records[*]``; the subset
:func:`gluelab.glue.choice.parse_json_path` reads). ``groupFiles``/``groupSize`` are accepted and change
nothing: they tune how Glue packs small files into tasks, which Spark's reader already does on its own, and
the records read are the same. ``boundedFiles``/``boundedSize`` (connection or additional options) cap what a
read takes, oldest files first; with bookmarks the rest is left for the next runs.

Writes append (as Glue does) in csv, json, parquet/glueparquet or orc, partitioned into ``key=value/``
folders by ``partitionKeys``. A frame with unresolved choice types is refused with an error that names the
fields. With ``enableUpdateCatalog`` (``getSink(...)`` + ``setCatalogInfo``, or ``write_dynamic_frame.
from_catalog(..., additional_options={"enableUpdateCatalog": True})``) the catalog table is created or its
schema updated (``updateBehavior="LOG"`` leaves an existing schema alone) and the new partitions are
registered. ``purge_s3_path`` / ``purge_table`` delete objects older than ``retentionPeriod`` hours.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, SQLContext
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ..uris import split_uri
from . import bookmarks, sqlcatalog

_FILE = "__gluelab_source_file"
_CORRUPT = "__gluelab_corrupt_record"
_CATALOG_COLUMNS = "__gluelab_catalog_columns"
_OTHER_CODECS = (".bz2", ".snappy", ".lz4", ".deflate", ".zst", ".lzo", ".xz", ".br")
_FORMATS = {"csv": "csv", "json": "json", "parquet": "parquet", "glueparquet": "parquet", "orc": "orc"}


def _now() -> datetime:
    """The current time (a function so tests can move it)."""
    return datetime.now(UTC)


def _truthy(value) -> bool:
    return value is True or str(value).lower() == "true"


class GlueLogger:
    """``glueContext.get_logger()``: info to stdout, warnings and errors to stderr (a job run ships both
    to CloudWatch Logs)."""

    def _emit(self, level: str, message, stream) -> None:
        print(f"{level} GlueLogger: {message}", file=stream, flush=True)

    def info(self, message) -> None:
        self._emit("INFO", message, sys.stdout)

    def warn(self, message) -> None:
        self._emit("WARN", message, sys.stderr)

    warning = warn

    def error(self, message) -> None:
        self._emit("ERROR", message, sys.stderr)

    def debug(self, message) -> None:  # Glue's default log level hides debug messages
        pass


class GlueContext(SQLContext):
    """Glue's entry point: wraps the SparkSession and reads/writes DynamicFrames.

    ``GlueContext(SparkContext.getOrCreate())`` as in a Glue script; a SparkSession is accepted too. The
    active SparkSession is used (the one :func:`gluelab.spark.session` started; started here if none is).
    ``glue_client=`` / ``s3_client=`` pin the boto3 clients (default: ``boto3.client(...)`` from the
    environment, which points at the local endpoint once it runs).
    """

    Spark_SQL_Formats = frozenset({"parquet", "orc"})

    def __init__(self, sparkContext=None, **options):
        session = _session_for(sparkContext)
        super().__init__(session.sparkContext, session)
        self.spark_session = session
        self._glue = options.get("glue_client")
        self._s3 = options.get("s3_client")
        self._logger = GlueLogger()
        self._bookmark_run: bookmarks.BookmarkRun | None = None
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.create_data_frame = DataFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.write_data_frame = DataFrameWriter(self)

    # ---- clients and small things ------------------------------------------------------------------
    @property
    def glue_client(self):
        if self._glue is None:
            import boto3
            self._glue = boto3.client("glue")
        return self._glue

    @property
    def s3_client(self):
        if self._s3 is None:
            import boto3
            self._s3 = boto3.client("s3")
        return self._s3

    def get_logger(self) -> GlueLogger:
        return self._logger

    def currentTimeMillis(self) -> int:
        return round(time.time() * 1000)

    def _frame(self, df: DataFrame, name: str = "", choices=frozenset(), errors: DataFrame | None = None):
        from .dynamicframe import DynamicFrame

        frame = DynamicFrame(df, self, name, choices=frozenset(choices))
        if errors is not None:
            frame = _attach_errors(frame, errors, name)
        return frame

    def _select(self, transformation_ctx: str, files: list, options: dict | None = None) -> list:
        """The files to read: the bookmark's choice, then Glue's ``boundedFiles``/``boundedSize`` options."""
        options = options or {}
        limits = {}
        for key, name in (("boundedFiles", "max_files"), ("boundedSize", "max_bytes")):
            if options.get(key) not in (None, ""):
                try:
                    limits[name] = int(options[key])
                except (TypeError, ValueError):
                    raise ValueError(f"{key} must be a whole number, got {options[key]!r}") from None
        run = self._bookmark_run
        if run is not None:
            return run.select(transformation_ctx, files, **limits)
        return bookmarks.bounded(files, **limits)

    # ---- reading ------------------------------------------------------------------------------------
    def create_dynamic_frame_from_options(self, connection_type, connection_options={}, format=None,  # noqa: B006
                                          format_options={}, transformation_ctx="", push_down_predicate="",  # noqa: B006
                                          **kwargs):
        """A DynamicFrame from S3 objects (``connection_type="s3"``); see the module docstring."""
        if connection_type not in ("s3",):
            raise NotImplementedError(f"connection_type {connection_type!r}: the local Glue runtime reads "
                                      f"'s3' (use a JDBC URL with spark.read.jdbc for databases)")
        paths = connection_options.get("paths") or connection_options.get("path")
        if not paths:
            raise ValueError("connection_options needs 'paths': a list of s3:// paths")
        paths = [paths] if isinstance(paths, str) else list(paths)
        exclusions = connection_options.get("exclusions") or []
        if isinstance(exclusions, str):
            exclusions = json.loads(exclusions)
        recurse = _truthy(connection_options.get("recurse", False))
        files = []
        for path in paths:
            files.extend(bookmarks.list_files(self.s3_client, path, recurse=recurse, exclusions=exclusions))
        files = self._select(transformation_ctx, files, connection_options)
        df, choices, errors = _read_files(self, files, _format(format), dict(format_options or {}))
        return self._frame(df, transformation_ctx, choices, errors)

    def create_data_frame_from_options(self, connection_type, connection_options={}, format=None,  # noqa: B006
                                       format_options={}, transformation_ctx="",  # noqa: B006
                                       push_down_predicate="", **kwargs):
        return self.create_dynamic_frame_from_options(connection_type, connection_options, format,
                                                      format_options, transformation_ctx, push_down_predicate,
                                                      **kwargs).toDF()

    def create_dynamic_frame_from_catalog(self, database=None, table_name=None, redshift_tmp_dir="",
                                          transformation_ctx="", push_down_predicate="",
                                          additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        """A DynamicFrame of a catalog table: only the partitions matching ``push_down_predicate`` (and
        ``additional_options["catalogPartitionPredicate"]``, evaluated by the catalog) are read."""
        database = database or kwargs.pop("name_space", None)
        if not database or not table_name:
            raise ValueError("from_catalog needs database= and table_name=")
        table = self._table(database, table_name, catalog_id)
        fmt, options = sqlcatalog.table_format({**table, "DatabaseName": database})
        options.update({k: v for k, v in (additional_options or {}).items()
                        if k in ("withHeader", "separator", "quoteChar", "escaper", "multiline", "multiLine")})
        sd = table.get("StorageDescriptor") or {}
        keys = [(k["Name"], k.get("Type") or "string") for k in table.get("PartitionKeys") or []]
        options[_CATALOG_COLUMNS] = [c["Name"] for c in sd.get("Columns") or []]
        if not keys:
            files = bookmarks.list_files(self.s3_client, sd["Location"], recurse=True)
            files = self._select(transformation_ctx, files, additional_options)
            df, choices, errors = _read_files(self, files, fmt, options)
            return self._frame(df, transformation_ctx or table_name, choices, errors)
        partitions = self._partitions(database, table_name, catalog_id,
                                      (additional_options or {}).get("catalogPartitionPredicate"))
        chosen = _matching(self.spark_session, keys, partitions, push_down_predicate, f"{database}.{table_name}")
        located = []  # (file, partition values)
        for part in chosen:
            where = (part.get("StorageDescriptor") or {}).get("Location")
            for f in bookmarks.list_files(self.s3_client, where, recurse=True):
                located.append((f, tuple(part["Values"])))
        selected = {f.uri for f in self._select(transformation_ctx, [f for f, _ in located], additional_options)}
        located = [(f, values) for f, values in located if f.uri in selected]
        df, choices, errors = _read_partitioned(self, located, keys, fmt, options, table)
        return self._frame(df, transformation_ctx or table_name, choices, errors)

    def create_data_frame_from_catalog(self, database=None, table_name=None, redshift_tmp_dir="",
                                       transformation_ctx="", push_down_predicate="", additional_options={},  # noqa: B006
                                       catalog_id=None, **kwargs):
        return self.create_dynamic_frame_from_catalog(database, table_name, redshift_tmp_dir, transformation_ctx,
                                                      push_down_predicate, additional_options, catalog_id,
                                                      **kwargs).toDF()

    def create_dynamic_frame_from_rdd(self, data, name, schema=None, sample_ratio=None, transformation_ctx=""):
        return self._frame(self.spark_session.createDataFrame(data, schema, sample_ratio), name)

    def getSource(self, connection_type, format=None, transformation_ctx="", push_down_predicate="",
                  **options):
        return DataSource(self, connection_type, format, transformation_ctx, options)

    def get_catalog_schema_as_spark_schema(self, database=None, table_name=None, catalog_id=None):
        table = self._table(database, table_name, catalog_id)
        columns = list((table.get("StorageDescriptor") or {}).get("Columns") or []) + list(
            table.get("PartitionKeys") or [])
        return T._parse_datatype_string(", ".join(f"`{c['Name']}` {c.get('Type') or 'string'}" for c in columns))

    def _table(self, database, table_name, catalog_id=None) -> dict:
        kwargs = {"CatalogId": catalog_id} if catalog_id else {}
        return self.glue_client.get_table(DatabaseName=database, Name=table_name, **kwargs)["Table"]

    def _partitions(self, database, table_name, catalog_id=None, expression=None) -> list[dict]:
        kwargs = {"DatabaseName": database, "TableName": table_name}
        if catalog_id:
            kwargs["CatalogId"] = catalog_id
        if expression:
            kwargs["Expression"] = expression
        out = []
        for page in self.glue_client.get_paginator("get_partitions").paginate(**kwargs):
            out.extend(page["Partitions"])
        return out

    # ---- writing ------------------------------------------------------------------------------------
    def getSink(self, connection_type="s3", format=None, transformation_ctx="", **options):
        """A :class:`DataSink` (``path=``, ``partitionKeys=``, ``enableUpdateCatalog=``, ``updateBehavior=``,
        ``compression=``); ``setFormat`` / ``setCatalogInfo`` / ``writeFrame`` as on Glue."""
        return DataSink(self, connection_type, format, transformation_ctx, options)

    def write_dynamic_frame_from_options(self, frame, connection_type="s3", connection_options={},  # noqa: B006
                                         format=None, format_options={}, transformation_ctx=""):  # noqa: B006
        """Append ``frame`` under ``connection_options["path"]`` (``partitionKeys``, ``compression``)."""
        sink = self.getSink(connection_type, format, transformation_ctx, **connection_options)
        sink.setFormat(format or "json", **(format_options or {}))
        return sink.writeFrame(frame)

    def write_from_options(self, frame_or_dfc, connection_type="s3", connection_options={}, format={},  # noqa: B006
                           format_options={}, transformation_ctx="", **kwargs):  # noqa: B006
        """:meth:`write_dynamic_frame_from_options` under the other name and parameters Glue offers (what
        ``DynamicFrame.write`` calls): ``frame_or_dfc``, ``format`` defaulting to ``{}`` (no format: JSON) and
        keyword options such as ``accumulator_size``, which has no effect here."""
        return self.write_dynamic_frame_from_options(frame_or_dfc, connection_type, connection_options,
                                                     format or None, format_options, transformation_ctx)

    def write_dynamic_frame_from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="",
                                         transformation_ctx="", additional_options={}, catalog_id=None,  # noqa: B006
                                         **kwargs):
        """Append ``frame`` to a catalog table's location, in its format. With
        ``additional_options={"enableUpdateCatalog": True}`` the schema is updated and new partitions are
        registered; ``partitionKeys`` default to the table's."""
        database = database or kwargs.pop("name_space", None)
        if not database or not table_name:
            raise ValueError("from_catalog needs database= and table_name=")
        table = self._table(database, table_name, catalog_id)
        fmt, options = sqlcatalog.table_format({**table, "DatabaseName": database})
        opts = dict(additional_options or {})
        keys = opts.get("partitionKeys") or [k["Name"] for k in table.get("PartitionKeys") or []]
        sink = self.getSink("s3", fmt, transformation_ctx, path=table["StorageDescriptor"]["Location"],
                            partitionKeys=keys, **{k: v for k, v in opts.items() if k != "partitionKeys"})
        sink.setFormat(fmt, **{"writeHeader": options.get("withHeader", True), **options})
        sink.setCatalogInfo(catalogDatabase=database, catalogTableName=table_name, catalogId=catalog_id or "")
        sink._table = table
        return sink.writeFrame(frame)

    def write_data_frame_from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="",
                                      transformation_ctx="", additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        return self.write_dynamic_frame_from_catalog(self._frame(frame, table_name or ""), database, table_name,
                                                     redshift_tmp_dir, transformation_ctx, additional_options,
                                                     catalog_id, **kwargs)

    # ---- purging ------------------------------------------------------------------------------------
    def purge_s3_path(self, s3_path, options={}, transformation_ctx=""):  # noqa: B006
        """Delete every object under ``s3_path`` older than ``retentionPeriod`` hours (default 168), except
        those in ``excludeStorageClasses``. ``manifestFilePath``: where ``Success.csv`` / ``Failed.csv``
        listing the purged objects go. Returns the purged ``s3://`` URIs."""
        files = bookmarks.list_files(self.s3_client, s3_path, recurse=True, include_hidden=True)
        return self._purge(files, options)

    def purge_table(self, database, table_name, options={}, transformation_ctx="", catalog_id=None):  # noqa: B006
        """Purge a catalog table's objects (of the partitions matching ``partitionPredicate``) as
        :meth:`purge_s3_path` does; partitions left without objects are removed from the catalog."""
        options = dict(options or {})
        table = self._table(database, table_name, catalog_id)
        keys = [(k["Name"], k.get("Type") or "string") for k in table.get("PartitionKeys") or []]
        if not keys:
            return self.purge_s3_path(table["StorageDescriptor"]["Location"], options, transformation_ctx)
        parts = _matching(self.spark_session, keys, self._partitions(database, table_name, catalog_id),
                          options.get("partitionPredicate", ""), f"{database}.{table_name}")
        purged, emptied = [], []
        for part in parts:
            where = part["StorageDescriptor"]["Location"]
            files = bookmarks.list_files(self.s3_client, where, recurse=True, include_hidden=True)
            gone = self._purge(files, options)
            purged.extend(gone)
            if len(gone) == len(files):
                emptied.append({"Values": part["Values"]})
        for chunk in _chunks(emptied, 25):
            self.glue_client.batch_delete_partition(DatabaseName=database, TableName=table_name,
                                                    PartitionsToDelete=chunk)
        return purged

    def _purge(self, files: list, options: dict) -> list[str]:
        hours = float(options.get("retentionPeriod", 168))
        cutoff = _now() - timedelta(hours=hours)
        excluded = set(options.get("excludeStorageClasses") or [])
        doomed = [f for f in files if f.last_modified < cutoff and f.storage_class not in excluded]
        failed = []
        by_bucket: dict[str, list] = {}
        for f in doomed:
            by_bucket.setdefault(f.bucket, []).append(f)
        for bucket, objs in by_bucket.items():
            for chunk in _chunks(objs, 1000):
                answer = self.s3_client.delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": f.key} for f in chunk], "Quiet": True})
                failed.extend(f"s3://{bucket}/{e['Key']}" for e in answer.get("Errors", []))
        purged = [f.uri for f in doomed if f.uri not in set(failed)]
        manifest = options.get("manifestFilePath")
        if manifest:
            for name, uris in (("Success.csv", purged), ("Failed.csv", failed)):
                bucket, prefix = split_uri(manifest)
                key = (prefix.rstrip("/") + "/" if prefix.strip("/") else "") + name
                self.s3_client.put_object(Bucket=bucket, Key=key, Body="".join(u + "\n" for u in uris).encode())
        return purged


# ---- readers/writers objects as Glue exposes them -------------------------------------------------------

class DynamicFrameReader:
    """``glueContext.create_dynamic_frame``: ``from_options``, ``from_catalog``, ``from_rdd``."""

    def __init__(self, glue_context: GlueContext):
        self._glue_context = glue_context

    def from_options(self, connection_type, connection_options={}, format=None, format_options={},  # noqa: B006
                     transformation_ctx="", push_down_predicate="", **kwargs):
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, transformation_ctx, push_down_predicate,
            **kwargs)

    def from_catalog(self, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     push_down_predicate="", additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        return self._glue_context.create_dynamic_frame_from_catalog(
            database, table_name, redshift_tmp_dir, transformation_ctx, push_down_predicate, additional_options,
            catalog_id, **kwargs)

    def from_rdd(self, data, name, schema=None, sampleRatio=None):
        return self._glue_context.create_dynamic_frame_from_rdd(data, name, schema, sampleRatio)


class DataFrameReader(DynamicFrameReader):
    """``glueContext.create_data_frame``: the same sources, as Spark DataFrames."""

    def from_options(self, connection_type, connection_options={}, format=None, format_options={},  # noqa: B006
                     transformation_ctx="", push_down_predicate="", **kwargs):
        return super().from_options(connection_type, connection_options, format, format_options,
                                    transformation_ctx, push_down_predicate, **kwargs).toDF()

    def from_catalog(self, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     push_down_predicate="", additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        return super().from_catalog(database, table_name, redshift_tmp_dir, transformation_ctx,
                                    push_down_predicate, additional_options, catalog_id, **kwargs).toDF()


class DynamicFrameWriter:
    """``glueContext.write_dynamic_frame``: ``from_options``, ``from_catalog``."""

    def __init__(self, glue_context: GlueContext):
        self._glue_context = glue_context

    def from_options(self, frame, connection_type="s3", connection_options={}, format=None,  # noqa: B006
                     format_options={}, transformation_ctx=""):  # noqa: B006
        return self._glue_context.write_dynamic_frame_from_options(
            frame, connection_type, connection_options, format, format_options, transformation_ctx)

    def from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        return self._glue_context.write_dynamic_frame_from_catalog(
            frame, database, table_name, redshift_tmp_dir, transformation_ctx, additional_options, catalog_id,
            **kwargs)


class DataFrameWriter(DynamicFrameWriter):
    """``glueContext.write_data_frame``: writes Spark DataFrames the same way."""

    def from_options(self, frame, connection_type="s3", connection_options={}, format=None,  # noqa: B006
                     format_options={}, transformation_ctx=""):  # noqa: B006
        return super().from_options(self._glue_context._frame(frame), connection_type, connection_options,
                                    format, format_options, transformation_ctx)

    def from_catalog(self, frame, database=None, table_name=None, redshift_tmp_dir="", transformation_ctx="",
                     additional_options={}, catalog_id=None, **kwargs):  # noqa: B006
        return super().from_catalog(self._glue_context._frame(frame), database, table_name, redshift_tmp_dir,
                                    transformation_ctx, additional_options, catalog_id, **kwargs)


class DataSource:
    """``glueContext.getSource(...)``: ``setFormat`` then ``getFrame``."""

    def __init__(self, glue_context, connection_type, fmt, transformation_ctx, options):
        self._glue_context = glue_context
        self._connection_type = connection_type
        self._format = fmt
        self._format_options: dict = {}
        self._ctx = transformation_ctx
        self._options = options

    def setFormat(self, format, **options):
        self._format, self._format_options = format, options

    def getFrame(self, **kwargs):
        return self._glue_context.create_dynamic_frame_from_options(
            self._connection_type, self._options, self._format, self._format_options, self._ctx)

    def getDataFrame(self):
        return self.getFrame().toDF()


class DataSink:
    """Where a frame is written: an S3 path in a format, optionally kept in step with a catalog table."""

    def __init__(self, glue_context: GlueContext, connection_type, fmt, transformation_ctx, options: dict):
        if connection_type not in ("s3", "parquet", "orc"):
            raise NotImplementedError(f"connection_type {connection_type!r}: the local Glue runtime writes 's3'")
        self._glue_context = glue_context
        self._format = fmt or (connection_type if connection_type != "s3" else None)
        self._format_options: dict = {}
        self._options = dict(options)
        self._ctx = transformation_ctx
        self._database = self._table_name = None
        self._table: dict | None = None

    def setFormat(self, format, **options):
        self._format = format
        self._format_options = dict(options)

    def setCatalogInfo(self, catalogDatabase, catalogTableName, catalogId=""):
        self._database, self._table_name = catalogDatabase, catalogTableName

    def setAccumulableSize(self, size):
        pass

    def writeDataFrame(self, data_frame, glue_context=None, info=""):
        return self.writeFrame(self._glue_context._frame(data_frame), info)

    def write(self, dynamic_frame_or_dfc, info=""):
        return self.writeFrame(dynamic_frame_or_dfc, info)

    def writeFrame(self, dynamic_frame, info=""):
        """Write (append) the frame, then update the catalog when ``enableUpdateCatalog`` is set."""
        from .dynamicframe import DynamicFrame

        frame = dynamic_frame
        if not isinstance(frame, DynamicFrame):
            raise TypeError(f"writeFrame needs a DynamicFrame, got {type(frame).__name__} "
                            f"(use DynamicFrame.fromDF(df, glueContext, name) for a DataFrame)")
        _refuse_choices(frame)
        update = _truthy(self._options.get("enableUpdateCatalog", False))
        if update and not (self._database and self._table_name):
            raise ValueError("enableUpdateCatalog needs setCatalogInfo(catalogDatabase=..., catalogTableName=...)")
        path = self._options.get("path")
        if not path and self._database:
            self._table = self._table or self._glue_context._table(self._database, self._table_name)
            path = self._table["StorageDescriptor"]["Location"]
        if not path or not str(path).startswith("s3://"):
            raise ValueError(f"the sink needs an s3:// path (connection_options={{'path': 's3://bucket/prefix/'}})"
                             f", got {path!r}")
        fmt = _format(self._format or "json")
        keys = list(self._options.get("partitionKeys") or [])
        compression = self._options.get("compression") or self._format_options.get("compression")
        df = frame.toDF()
        missing = [k for k in keys if k not in df.columns]
        if missing:
            raise ValueError(f"partitionKeys {missing} are not fields of the frame (fields: {df.columns})")
        if not df.columns:
            return frame  # nothing to write: Glue writes no files for an empty schema
        if update and keys:
            df = df.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            _write(df, path, fmt, self._format_options, keys, compression)
            if update:
                sqlcatalog.update_for_write(
                    self._glue_context.glue_client, self._database, self._table_name, df, fmt, path, keys,
                    self._format_options, compression, self._options.get("updateBehavior", "UPDATE_IN_DATABASE"),
                    warn=self._glue_context.get_logger().warn)
        finally:
            if update and keys:
                df.unpersist()
        return frame


# ---- helpers ------------------------------------------------------------------------------------------

def _session_for(spark_context) -> SparkSession:
    """The SparkSession a GlueContext uses: the given one, the active one, the one running on the given or
    active SparkContext, else gluelab's session (started, pointed at the local endpoint when it runs)."""
    from pyspark import SparkContext

    if isinstance(spark_context, SparkSession):
        return spark_context
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if spark_context is not None or SparkContext._active_spark_context is not None:
        return SparkSession.builder.getOrCreate()
    from .. import spark as gluelab_spark

    # the local endpoint, when one runs, has pointed AWS_ENDPOINT_URL at itself; on AWS it is unset
    return gluelab_spark.session(endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def _format(fmt) -> str:
    name = str(fmt or "").lower()
    if name not in _FORMATS:
        raise ValueError(f"format {fmt!r}: the local Glue runtime reads and writes {', '.join(sorted(_FORMATS))}")
    return _FORMATS[name]


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _attach_errors(frame, errors: DataFrame, transformation_ctx: str = ""):
    """``frame`` with the reader's error records (``record``, ``reason``, ``source_file``) as its first
    stage's errors, in the DynamicFrame's error schema (the file goes to ``info``)."""
    from .dynamicframe import ERROR_SCHEMA

    shaped = errors.select(F.lit("DataSource").alias("transformation"),
                           F.lit(transformation_ctx or "").alias("transformation_ctx"),
                           F.col("source_file").alias("info"), F.col("reason"), F.col("record"))
    shaped = shaped.select(*[F.col(f.name).cast(f.dataType) for f in ERROR_SCHEMA.fields])
    return frame._derive(frame.toDF(), stage_errors=shaped, transformation_ctx=transformation_ctx)


def _read_files(ctx: GlueContext, files: list, fmt: str, options: dict, with_file: bool = False):
    """``(df, choices, errors)`` for reading ``files`` (S3File) in ``fmt``; ``errors`` is None when nothing
    can be malformed (Parquet/ORC) and has columns ``record``, ``reason``, ``source_file`` otherwise."""
    spark = ctx.spark_session
    uris = [f.uri for f in files]
    if not uris:
        return spark.createDataFrame([], T.StructType([])), frozenset(), None
    if fmt in ("parquet", "orc"):
        df = spark.read.option("mergeSchema", "true").format(fmt).load(uris)
        if with_file:
            df = df.select("*", _decoded_file())
        return df, frozenset(), None
    if fmt == "json":
        from .choice import read_json

        multiline = _truthy(options.get("multiline", options.get("multiLine", False)))
        df, choices, errors = read_json(spark, uris, multiline, options.get("jsonPath"))
        return df, frozenset(choices), errors
    return _read_csv(spark, ctx.s3_client, files, options, with_file)


def _decoded_file():
    # Spark's file_path is a URI: spaces etc. are %-encoded, while '+' is literal.
    return F.expr("url_decode(replace(_metadata.file_path, '+', '%2B'))").alias(_FILE)


def _csv_reader_options(options: dict) -> dict:
    quote = options.get("quoteChar", '"')
    spark_options = {"sep": options.get("separator", ","), "quote": "\u0000" if str(quote) == "-1" else quote,
                     "header": str(_truthy(options.get("withHeader", False))).lower(),
                     "multiLine": str(_truthy(options.get("multiLine", options.get("multiline", False)))).lower(),
                     "inferSchema": "false", "enforceSchema": "false"}
    if options.get("escaper"):
        spark_options["escape"] = options["escaper"]
    return spark_options


def _csv_first_record(s3, files: list, spark_options: dict) -> list[str] | None:
    """The fields of the first record of the first non-empty file, read with one ranged GET (cheaper than a
    Spark job); None when that is not possible."""
    first = next((f for f in files if f.size > 0), None)
    if first is None or len(spark_options["sep"]) != 1 or first.key.endswith(_OTHER_CODECS):
        return None
    head = s3.get_object(Bucket=first.bucket, Key=first.key, Range="bytes=0-65535")["Body"].read()
    if first.key.endswith(".gz"):
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or (len(lines) == 1 and len(head) >= 65536):
        return None
    quote = spark_options["quote"] if spark_options["quote"] != "\u0000" else None
    row = next(csv.reader(io.StringIO(lines[0]), delimiter=spark_options["sep"][0], quotechar=quote,
                          quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE), None)
    return [name if name else f"_c{i}" for i, name in enumerate(row)] if row else None


def _read_csv(spark, s3, files: list, options: dict, with_file: bool):
    from .choice import csv_frame

    uris = [f.uri for f in files]
    spark_options = _csv_reader_options(options)
    header = spark_options["header"] == "true"
    names = _csv_first_record(s3, files, spark_options)
    if names is None:  # compressed other than gzip, or a very long first line: let Spark find it
        names = spark.read.options(**spark_options).csv(uris).columns
    if not names:  # only empty files: no columns, no records
        return spark.createDataFrame([], T.StructType([])), frozenset(), None
    if not header:
        names = [f"col{i}" for i in range(len(names))]
    catalog_names = options.get(_CATALOG_COLUMNS)
    if catalog_names and len(catalog_names) == len(names):  # a catalog table names its columns
        names = list(catalog_names)
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names]
                          + [T.StructField(_CORRUPT, T.StringType())])
    parsed = (spark.read.options(**{**spark_options, "enforceSchema": "true"}).schema(schema)
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", _CORRUPT).csv(uris)
              .select("*", _decoded_file()))
    # Cached: Spark only fills the corrupt-record column reliably when every column is parsed.
    parsed = _persist(parsed)
    good = parsed.where(F.col(_CORRUPT).isNull()).drop(_CORRUPT)
    if not with_file:
        good = good.drop(_FILE)
    fields = F.size(F.split(F.col(_CORRUPT), _regex_escape(spark_options["sep"]), -1))
    errors = parsed.where(F.col(_CORRUPT).isNotNull()).select(
        F.col(_CORRUPT).alias("record"),
        F.when(fields > len(names), F.lit(f"more fields than the {len(names)} columns"))
         .when(fields < len(names), F.lit(f"fewer fields than the {len(names)} columns"))
         .otherwise(F.lit("malformed CSV record")).alias("reason"),
        F.col(_FILE).alias("source_file"))
    df, choices = csv_frame(good)
    return df, frozenset(choices), errors


_OWNED = threading.local()


def _persist(df: DataFrame) -> DataFrame:
    """``df`` persisted; inside :func:`released_after`, on the same thread, it is unpersisted when that ends."""
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    owned = getattr(_OWNED, "frames", None)
    if owned is not None:
        owned.append(df)
    return df


@contextlib.contextmanager
def released_after():
    """Unpersist, on leaving, what reads on this thread cached meanwhile (CSV reads keep their parse cached).

    A job run uses it: the script's frames die with the run, so their cache must not outlive it on a Spark that
    the notebook and later runs share. Outside a run the cache lives as long as the session, like a
    ``df.cache()`` of one's own.
    """
    outer = getattr(_OWNED, "frames", None)
    _OWNED.frames = []
    try:
        yield
    finally:
        for df in _OWNED.frames:
            with contextlib.suppress(Exception):  # the session may already be gone
                df.unpersist()
        _OWNED.frames = outer


def _regex_escape(text: str) -> str:
    import re

    return re.escape(text)


def _typed_partitions(spark, keys: list[tuple[str, str]], partitions: list[dict]) -> DataFrame:
    """The catalog's partitions as a DataFrame: one row per partition, the keys with the catalog's types,
    and ``__index`` (position in ``partitions``)."""
    schema = T.StructType([T.StructField(f"__v{i}", T.StringType()) for i in range(len(keys))]
                          + [T.StructField("__index", T.IntegerType())])
    rows = [tuple(p["Values"][:len(keys)]) + (i,) for i, p in enumerate(partitions)]
    raw = spark.createDataFrame(rows, schema)
    return raw.select(*[F.col(f"__v{i}").cast(t).alias(name) for i, (name, t) in enumerate(keys)], "__index")


def _matching(spark, keys, partitions: list[dict], predicate: str, table: str) -> list[dict]:
    """The partitions for which ``predicate`` (Spark SQL over the partition columns) is true."""
    if not predicate or not partitions:
        return list(partitions)
    typed = _typed_partitions(spark, keys, partitions)
    try:
        hits = [r["__index"] for r in typed.where(predicate).select("__index").collect()]
    except Exception as e:
        raise ValueError(f"push_down_predicate {predicate!r} on {table} (partition columns "
                         f"{', '.join(f'{n} {t}' for n, t in keys)}): {str(e).splitlines()[0][:300]}") from None
    return [partitions[i] for i in sorted(hits)]


def _read_partitioned(ctx: GlueContext, located: list, keys, fmt: str, options: dict, table: dict):
    """Read the partitions' files at once and add the partition columns, typed as the catalog says."""
    spark = ctx.spark_session
    if not located:
        columns = list((table.get("StorageDescriptor") or {}).get("Columns") or []) + list(table["PartitionKeys"])
        ddl = ", ".join(f"`{c['Name']}` {c.get('Type') or 'string'}" for c in columns)
        return spark.createDataFrame([], ddl), frozenset(), None
    if fmt == "json":  # the JSON reader returns no file names: read partition by partition and union
        return _read_json_by_partition(ctx, located, keys, options)
    df, choices, errors = _read_files(ctx, [f for f, _ in located], fmt, options, with_file=True)
    mapping_schema = T.StructType([T.StructField(_FILE, T.StringType())]
                                  + [T.StructField(f"__v{i}", T.StringType()) for i in range(len(keys))])
    mapping = spark.createDataFrame([(f.uri,) + values for f, values in located], mapping_schema).select(
        _FILE, *[F.col(f"__v{i}").cast(t).alias(name) for i, (name, t) in enumerate(keys)])
    data = df.drop(*[name for name, _ in keys if name in df.columns])
    joined = data.join(F.broadcast(mapping), on=_FILE, how="left").drop(_FILE)
    return joined, choices, errors


def _read_json_by_partition(ctx: GlueContext, located: list, keys, options: dict):
    groups: dict[tuple, list] = {}
    for f, values in located:
        groups.setdefault(values, []).append(f)
    frames, errors = [], None
    for values, files in groups.items():
        df, choices, bad = _read_files(ctx, files, "json", options)
        df = df.drop(*[name for name, _ in keys if name in df.columns]).select(
            "*", *[F.lit(v).cast(t).alias(name) for v, (name, t) in zip(values, keys)])
        frames.append(ctx._frame(df, "", choices))
        if bad is not None:
            errors = bad if errors is None else errors.unionByName(bad)
    merged = frames[0]
    for other in frames[1:]:
        merged = merged.union(other)
    return merged.toDF(), frozenset(getattr(merged, "choices", frozenset())), errors


def _refuse_choices(frame) -> None:
    choices = sorted(getattr(frame, "choices", ()) or ())
    if choices:
        raise ValueError(
            f"cannot write frame {getattr(frame, 'name', '') or ''!r}: field(s) {', '.join(choices)} have "
            f"unresolved choice types (their values have more than one type). Resolve them first, e.g. "
            f"frame.resolveChoice(specs=[('{choices[0]}', 'cast:string')]) or resolveChoice(choice="
            f"'make_struct'|'make_cols'|'project:<type>'|'match_catalog', ...)")


def _write(df: DataFrame, path: str, fmt: str, format_options: dict, keys: list[str], compression) -> None:
    writer = df.write.mode("append")
    if keys:
        writer = writer.partitionBy(*keys)
    if fmt == "csv":
        quote = format_options.get("quoteChar", '"')
        writer = writer.option("header", str(_truthy(format_options.get("writeHeader", True))).lower()).option(
            "sep", format_options.get("separator", ",")).option("quote", "\u0000" if str(quote) == "-1" else quote)
    codec = compression or ("snappy" if fmt in ("parquet", "orc") else "none")
    writer = writer.option("compression", {"uncompressed": "none", "bz2": "bzip2"}.get(str(codec), str(codec)))
    writer.format(fmt).save(path)


__all__ = [
    "DataFrameReader",
    "DataFrameWriter",
    "DataSink",
    "DataSource",
    "DynamicFrameReader",
    "DynamicFrameWriter",
    "GlueContext",
    "GlueLogger",
]

