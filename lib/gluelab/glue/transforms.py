"""Glue's transform classes (``from awsglue.transforms import *``) and the structural transforms behind them.

Each class has a classmethod ``apply(...)`` with the parameters Glue documents and ``describe()`` returning a
short dict; ``apply`` calls the DynamicFrame (or DynamicFrameCollection) method, so both spellings behave the
same. This module also holds the algorithms that reshape a frame's structure:

- :func:`unnest_columns`: structs flattened to top-level fields with dotted names (``provider.id``).
- :func:`relationalize_frames`: the root table (structs flattened, each array replaced by a link id) plus one
  table per array, named ``<root>_<path>`` with columns ``id`` (the link), ``index`` (position in the array)
  and ``<path>.val`` (scalar elements) or ``<path>.val.<field>`` (struct elements); arrays inside elements
  make further tables the same way. Link ids come from ``monotonically_increasing_id`` on data materialized
  once (Parquet under ``staging_path``, or a local checkpoint without one) so that root and child tables
  agree; a null or empty array has no child rows.
- :func:`null_fields`: the fields null in every record (one aggregation pass), for DropNullFields.
"""
from __future__ import annotations

import json
import uuid

from pyspark.sql import functions as F
from pyspark.sql import types as T

from .types import join_path, leaf_paths

_LINK = "__gluelab_link__"
_VAL = "__gluelab_val__"


# ----------------------------------------------------------------------------------------------- algorithms

def _c(name):
    return F.col("`" + name.replace("`", "``") + "`")


def unnest_columns(schema: T.StructType, choices=frozenset()):
    """``(columns, choices)``: every struct flattened to top-level columns named ``a.b``; choices follow."""
    cols, out_choices = [], set()

    def walk(prefix, col, dt, path):
        is_choice = join_path(path) in choices
        if isinstance(dt, T.StructType) and not is_choice:
            for f in dt.fields:
                walk(f"{prefix}.{f.name}", col.getField(f.name), f.dataType, path + (f.name,))
        else:
            cols.append(col.alias(prefix))
            if is_choice:
                out_choices.add(join_path([prefix]))

    for f in schema.fields:
        walk(f.name, _c(f.name), f.dataType, (f.name,))
    return cols, frozenset(out_choices)


def _has_array(dt, choices, path):
    if isinstance(dt, T.ArrayType):
        return True
    if isinstance(dt, T.StructType) and join_path(path) not in choices:
        return any(_has_array(f.dataType, choices, path + (f.name,)) for f in dt.fields)
    return False


def _materialize(df, staging_path, table):
    """``df`` computed once (so its generated ids are fixed): Parquet under ``staging_path``, else a local
    checkpoint."""
    if staging_path:
        path = f"{str(staging_path).rstrip('/')}/relationalize-{uuid.uuid4().hex[:12]}/{table}"
        df.write.mode("overwrite").parquet(path)
        return df.sparkSession.read.parquet(path)
    return df.localCheckpoint(eager=True)


def relationalize_frames(frame, root_name, staging_path, options) -> dict:
    """``{table name: (DataFrame, choices)}`` for :meth:`DynamicFrame.relationalize` (see module doc)."""
    df, choices = frame.toDF(), frame.choices
    fields = [(f.name, _c(f.name), f.dataType, (f.name,)) for f in df.schema.fields]
    tables: dict = {}
    base = df
    if any(_has_array(dt, choices, path) for _, _, dt, path in fields):
        base = _materialize(df.withColumn(_LINK, F.monotonically_increasing_id()), staging_path, root_name)
    _emit(base, root_name, root_name, [], fields, choices, staging_path, tables)
    return tables


def _emit(base, table, root_name, head, fields, choices, staging_path, tables):
    cols, children, out_choices = list(head), [], set()

    def walk(name, col, dt, path):
        is_choice = path is not None and join_path(path) in choices
        if isinstance(dt, T.StructType) and not is_choice:
            for f in dt.fields:
                walk(f"{name}.{f.name}", col.getField(f.name), f.dataType,
                     path + (f.name,) if path is not None else None)
        elif isinstance(dt, T.ArrayType):
            cols.append(F.when(col.isNotNull(), F.col(_LINK)).alias(name))
            children.append((name, col, dt.elementType))
        else:
            cols.append(col.alias(name))
            if is_choice:
                out_choices.add(join_path([name]))

    for name, col, dt, path in fields:
        walk(name, col, dt, path)
    tables[table] = (base.select(*cols), frozenset(out_choices))
    for name, col, elem in children:
        child = f"{root_name}_{name}"
        rows = base.select(F.col(_LINK).alias("id"), F.posexplode(col).alias("index", _VAL))
        rows = rows.withColumn("index", F.col("index").cast("int"))
        if _has_array(elem, frozenset(), ()):
            rows = _materialize(rows.withColumn(_LINK, F.monotonically_increasing_id()), staging_path, child)
        _emit(rows, child, root_name, [F.col("id"), F.col("index")], [(f"{name}.val", F.col(_VAL), elem, None)],
              choices, staging_path, tables)


def null_fields(frame) -> list[str]:
    """Paths of the fields that are null in every record (structs descended; arrays and choices whole)."""
    df = frame.toDF()
    paths = list(leaf_paths(df.schema, frame.choices))
    if not paths:
        return []
    aggs = []
    for parts in paths:
        col = _c(parts[0])
        for p in parts[1:]:
            col = col.getField(p)
        aggs.append(F.count(col))
    counts = df.agg(*aggs).collect()[0]
    return [join_path(parts) for parts, n in zip(paths, counts) if n == 0]


# ----------------------------------------------------------------------------------------------- classes

class GlueTransform:
    """Base of the transforms: ``apply(*args, **kwargs)`` builds the transform and calls it."""

    _description = ""
    _args: tuple = ()
    _returns = "DynamicFrame"

    @classmethod
    def apply(cls, *args, **kwargs):
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls):
        return cls.__name__

    @classmethod
    def describeArgs(cls):
        return [{"name": a} for a in cls._args]

    @classmethod
    def describeReturn(cls):
        return {"type": cls._returns}

    @classmethod
    def describeTransform(cls):
        return cls._description

    @classmethod
    def describeErrors(cls):
        return []

    @classmethod
    def describe(cls):
        return {"transform": {"name": cls.name(), "args": [a["name"] for a in cls.describeArgs()],
                              "returns": cls._returns, "description": cls._description}}

    def __repr__(self):
        return f"<Transform: {self.name()}>"


_COMMON = ("transformation_ctx", "info", "stageThreshold", "totalThreshold")


class ApplyMapping(GlueTransform):
    _description = "Select, rename, nest and cast fields with (source, type, target, type) tuples."
    _args = ("frame", "mappings", "case_sensitive") + _COMMON

    def __call__(self, frame, mappings, case_sensitive=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx, info, stageThreshold,
                                   totalThreshold)


class ResolveChoice(GlueTransform):
    _description = "Resolve choice fields with cast:T, project:T, make_cols, make_struct or match_catalog."
    _args = ("frame", "specs", "choice", "database", "table_name") + _COMMON + ("catalog_id",)

    def __call__(self, frame, specs=None, choice="", database=None, table_name=None, transformation_ctx="",
                 info="", stageThreshold=0, totalThreshold=0, catalog_id=None):
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx, info,
                                   stageThreshold, totalThreshold, catalog_id)


class DropNullFields(GlueTransform):
    _description = "Drop the fields that are null in every record (one aggregation pass)."
    _args = ("frame",) + _COMMON

    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.drop_fields(null_fields(frame), transformation_ctx, info, stageThreshold, totalThreshold)


class Filter(GlueTransform):
    _description = "Keep the records for which a Python function returns true."
    _args = ("frame", "f") + _COMMON

    def __call__(self, frame, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.filter(f, transformation_ctx, info, stageThreshold, totalThreshold)


class Map(GlueTransform):
    _description = "Apply a Python function to every record (dict in, dict out)."
    _args = ("frame", "f", "preservesPartitioning") + _COMMON

    def __call__(self, frame, f, preservesPartitioning=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.map(f, preservesPartitioning, transformation_ctx, info, stageThreshold, totalThreshold)


class Join(GlueTransform):
    _description = "Equality join of two frames on keys1 = keys2."
    _args = ("frame1", "frame2", "keys1", "keys2", "transformation_ctx")

    def __call__(self, frame1, frame2, keys1, keys2, transformation_ctx=""):
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Relationalize(GlueTransform):
    _description = "Flatten nested data into a root table and one table per array, linked by ids."
    _args = ("frame", "staging_path", "name", "options") + _COMMON
    _returns = "DynamicFrameCollection"

    def __call__(self, frame, staging_path=None, name="roottable", options=None, transformation_ctx="", info="",
                 stageThreshold=0, totalThreshold=0):
        return frame.relationalize(name, staging_path, options or {}, transformation_ctx, info, stageThreshold,
                                   totalThreshold)


class SelectFields(GlueTransform):
    _description = "Keep only the given fields."
    _args = ("frame", "paths") + _COMMON

    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.select_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class DropFields(GlueTransform):
    _description = "Drop the given fields."
    _args = ("frame", "paths") + _COMMON

    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.drop_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class RenameField(GlueTransform):
    _description = "Rename a field (nested paths too)."
    _args = ("frame", "old_name", "new_name") + _COMMON

    def __call__(self, frame, old_name, new_name, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.rename_field(old_name, new_name, transformation_ctx, info, stageThreshold, totalThreshold)


class SplitFields(GlueTransform):
    _description = "Split a frame into two: the given fields, and the rest."
    _args = ("frame", "paths", "name1", "name2") + _COMMON
    _returns = "DynamicFrameCollection"

    def __call__(self, frame, paths, name1=None, name2=None, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        base = frame.name or "frame"
        return frame.split_fields(paths, name1 or base + "1", name2 or base + "2", transformation_ctx, info,
                                  stageThreshold, totalThreshold)


class SplitRows(GlueTransform):
    _description = "Split records into those meeting every comparison and the rest."
    _args = ("frame", "comparison_dict", "name1", "name2") + _COMMON
    _returns = "DynamicFrameCollection"

    def __call__(self, frame, comparison_dict, name1="frame1", name2="frame2", transformation_ctx="", info=None,
                 stageThreshold=0, totalThreshold=0):
        return frame.split_rows(comparison_dict, name1, name2, transformation_ctx, info or "", stageThreshold,
                                totalThreshold)


class Spigot(GlueTransform):
    _description = "Write a sample of the records to a path; the frame passes through unchanged."
    _args = ("frame", "path", "options", "transformation_ctx")

    def __call__(self, frame, path, options, transformation_ctx=""):
        return frame.spigot(path, options, transformation_ctx)


class Unbox(GlueTransform):
    _description = "Parse a string field holding JSON into a struct."
    _args = ("frame", "path", "format") + _COMMON

    def __call__(self, frame, path, format, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0,
                 **options):
        return frame.unbox(path, format, transformation_ctx, info, stageThreshold, totalThreshold, **options)


class UnnestFrame(GlueTransform):
    _description = "Flatten nested structs into top-level fields named with dots."
    _args = ("frame",) + _COMMON

    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.unnest(transformation_ctx, info, stageThreshold, totalThreshold)


class SelectFromCollection(GlueTransform):
    _description = "The frame with the given key from a DynamicFrameCollection."
    _args = ("dfc", "key", "transformation_ctx")

    def __call__(self, dfc, key, transformation_ctx=""):
        return dfc.select(key, transformation_ctx)


class Union(GlueTransform):
    _description = "All records of two frames; differing field types become choices."
    _args = ("frame1", "frame2") + _COMMON

    def __call__(self, frame1, frame2, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame1.union(frame2, transformation_ctx, info, stageThreshold, totalThreshold)


class Repartition(GlueTransform):
    _description = "The same records in a given number of partitions."
    _args = ("frame", "num_partitions") + _COMMON

    def __call__(self, frame, num_partitions, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.repartition(num_partitions, transformation_ctx, info, stageThreshold, totalThreshold)


class Coalesce(GlueTransform):
    _description = "The same records in at most a given number of partitions."
    _args = ("frame", "num_partitions", "shuffle") + _COMMON

    def __call__(self, frame, num_partitions, shuffle=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        return frame.coalesce(num_partitions, shuffle, transformation_ctx, info, stageThreshold, totalThreshold)


class ErrorsAsDynamicFrame(GlueTransform):
    _description = "The error records up to a frame, as a DynamicFrame."
    _args = ("frame",)

    def __call__(self, frame):
        return frame.errorsAsDynamicFrame()


class MapToCollection(GlueTransform):
    _description = "Apply a function (frame, ctx) -> frame to every frame of a collection."
    _args = ("dfc", "callable", "transformation_ctx")
    _returns = "DynamicFrameCollection"

    def __call__(self, dfc, callable, transformation_ctx=""):
        return dfc.map(callable, transformation_ctx)


class FlatMap(GlueTransform):
    _description = "Apply a transform to every frame of a collection; results gathered in one collection."
    _args = ("dfc", "BaseTransform", "frame_name", "transformation_ctx")
    _returns = "DynamicFrameCollection"

    def __call__(self, dfc, BaseTransform, frame_name, transformation_ctx="", **base_kwargs):
        def inner(frame, ctx):
            return BaseTransform.apply(**{**base_kwargs, frame_name: frame, "transformation_ctx": ctx})
        return dfc.flatmap(inner, transformation_ctx)


class FillMissingValues(GlueTransform):
    """Fill a column's missing values (null, or empty string) into a new column (``awsglueml.transforms``).

    Glue trains a model for the estimate; here the estimate is simple and documented: the mean for numeric
    columns (rounded for integer types), the most frequent value otherwise (ties: the smallest). Rows with a
    value keep it in the new column. One aggregation pass computes the estimate.
    """

    _description = "Fill missing values of a column into <column>_filled (mean or most frequent value)."
    _args = ("frame", "missing_values_column", "output_column") + _COMMON

    def __call__(self, frame, missing_values_column, output_column="", transformation_ctx="", info="",
                 stageThreshold=0, totalThreshold=0):
        from .types import find_field, split_path

        df = frame.toDF()
        parts = split_path(missing_values_column)
        found = find_field(df.schema, parts)
        if found is None:
            raise ValueError(f"FillMissingValues: no column '{missing_values_column}' (fields: {df.columns})")
        names, field = found
        col = _c(names[0])
        for p in names[1:]:
            col = col.getField(p)
        dt = field.dataType
        missing = col.isNull() | (col.cast("string") == "") if isinstance(dt, T.StringType) else col.isNull()
        present = df.where(~missing)
        if isinstance(dt, T.NumericType):
            fill = present.agg(F.avg(col)).collect()[0][0]
            if fill is not None and isinstance(dt, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
                fill = int(fill + 0.5) if fill >= 0 else -int(-fill + 0.5)
        else:
            top = present.groupBy(col.alias("v")).count().orderBy(F.desc("count"), F.asc("v")).limit(1).collect()
            fill = top[0]["v"] if top else None
        out = output_column or f"{names[-1]}_filled"
        value = F.when(missing, F.lit(fill).cast(dt)).otherwise(col)
        return frame._derive(df.withColumn(out, value), transformation_ctx=transformation_ctx,
                             stageThreshold=stageThreshold, totalThreshold=totalThreshold)


ALL_TRANSFORMS = (ApplyMapping, Coalesce, DropFields, DropNullFields, ErrorsAsDynamicFrame, Filter, FlatMap,
                  Join, Map, MapToCollection, Relationalize, RenameField, Repartition, ResolveChoice,
                  SelectFields, SelectFromCollection, Spigot, SplitFields, SplitRows, Unbox, Union, UnnestFrame)

__all__ = [t.__name__ for t in ALL_TRANSFORMS]


def get_transforms():
    """One instance of every transform."""
    return {t() for t in ALL_TRANSFORMS}


def get_transform(name):
    """The transform class called ``name`` (case-insensitive), or None."""
    return next((t for t in ALL_TRANSFORMS if t.__name__.lower() == str(name).lower()), None)


def describe_transform(name):
    """``describe()`` of a transform as JSON text ({} when there is no such transform)."""
    transform = get_transform(name)
    return json.dumps(transform.describe() if transform else {}, sort_keys=True, indent=4)
