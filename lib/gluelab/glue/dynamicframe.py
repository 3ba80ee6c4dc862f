"""Glue's DynamicFrame on a Spark DataFrame, with Glue's error records and choice types.

A :class:`DynamicFrame` wraps a DataFrame of good records plus what Glue adds on top:

- **choices**: dotted paths of fields whose records disagree on a type, stored as structs with one slot per
  Glue type name (see :mod:`gluelab.glue.types`); ``printSchema`` shows them, ``resolveChoice`` removes them.
- **error records**: a record that makes a transformation fail (a Python function that raises, a cast that
  does not fit, a value outside the schema) is never dropped silently. It goes to the frame's error records
  with the reason (exception type and message), the transformation's name, ``transformation_ctx`` and
  ``info``, and the input record as JSON. ``stageErrorsCount()`` counts this stage's, ``errorsCount()`` this
  stage's plus every upstream stage's, ``errorsAsDynamicFrame()`` returns them all, and
  ``assertErrorThreshold()`` raises when ``stageThreshold``/``totalThreshold`` (0 = no limit) are exceeded.
  For every transformation, input records = output records + stage error records.

``map`` and ``filter`` run Python functions on records given as dicts (nested structs are dicts, arrays are
lists, choices show the value they hold). Consecutive ``map``/``filter`` calls run as one Python pass
(``mapInArrow``): each stage converts its output to Arrow, so a record that does not fit the stage's schema
fails at that stage, exactly as if the stages ran apart. ``map`` infers its output schema by applying the
function to the first :data:`SAMPLE_SIZE` records on the driver (so the function also runs there), keeping
the input's type for fields whose values still fit it; a later record that does not fit is an error record
naming the field. Errors are computed lazily: asking for them runs the pipeline again.

Everything else is Spark expressions: ``apply_mapping`` and ``resolveChoice`` use ``try_cast`` and split the
records that fail with two ``where`` clauses.
"""
from __future__ import annotations

import base64
import datetime
import decimal
import json
from functools import reduce
from itertools import compress

from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import choice as _choice
from .types import (RecordCodec, find_field, glue_type_name, infer_record_type, join_path, parse_type,
                    render_schema, slot_name, split_path, to_glue_type)

__all__ = ["DynamicFrame", "DynamicFrameCollection", "ResolveOption", "ErrorThresholdExceeded", "ERROR_SCHEMA"]

#: records a ``map`` function is applied to on the driver to infer its output schema
SAMPLE_SIZE = 100

ERROR_SCHEMA = T.StructType([
    T.StructField("transformation", T.StringType(), True),
    T.StructField("transformation_ctx", T.StringType(), True),
    T.StructField("info", T.StringType(), True),
    T.StructField("reason", T.StringType(), True),
    T.StructField("record", T.StringType(), True),
])
_ERR = "__gluelab_error__"
_STAGE = "stage"
_WRAP_ERROR = T.StructType([T.StructField(_STAGE, T.IntegerType(), True)] + ERROR_SCHEMA.fields)


class ErrorThresholdExceeded(RuntimeError):
    """More error records than a transformation's ``stageThreshold`` or ``totalThreshold`` allows."""


class ResolveOption:
    """A choice resolution for ``toDF(options)``: action ``"Project"``, ``"Cast"`` or ``"KeepAsStruct"``."""

    def __init__(self, path, action, target=None):
        self.path, self.action, self.target = path, action, target


def _c(name: str):
    return F.col("`" + name.replace("`", "``") + "`")


def _col_at(parts, alias=None):
    first = "`" + parts[0].replace("`", "``") + "`"
    col = F.col(f"`{alias}`.{first}" if alias else first)
    for p in parts[1:]:
        col = col.getField(p)
    return col


def _record_json_col(columns):
    """The whole record as JSON text (null fields kept), for error records made by Spark expressions."""
    return F.to_json(F.struct(*[_c(n) for n in columns]), {"ignoreNullFields": "false"})


def _json_default(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def record_json(record) -> str:
    """A record as the JSON text Glue shows (``show()``, error records): dates ISO, decimals as text."""
    return json.dumps(record, default=_json_default, ensure_ascii=False)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------------------------- Python stages

class _Stage:
    """One ``map`` or ``filter`` step of a Python pipeline (runs on Arrow batches, on executors)."""

    def __init__(self, kind, fn, index, in_schema, in_choices, out_schema, out_choices, ctx, info):
        import pyarrow as pa
        from pyspark.sql.pandas.types import to_arrow_schema

        self.kind, self.fn, self.index = kind, fn, index
        self.in_schema, self.out_schema = in_schema, out_schema
        self.ctx, self.info = ctx, info
        self.in_codec = RecordCodec(in_schema, in_choices)
        self.out_codec = RecordCodec(out_schema, out_choices)
        self.out_arrow = to_arrow_schema(out_schema, timezone="UTC")
        self.out_struct = pa.struct(list(self.out_arrow))
        self.name = "Map" if kind == "map" else "Filter"

    def _error(self, batch, i, reason):
        rec = self.in_codec.decode(batch.slice(i, 1).to_pylist())[0]
        return {_STAGE: self.index, "transformation": self.name, "transformation_ctx": self.ctx,
                "info": self.info, "reason": reason, "record": record_json(rec)}

    def run(self, batch, records=None):
        """``(output batch, error dicts, output records or None)`` for one input batch.

        ``records`` are the batch's rows already decoded (what a filter just before this stage kept), so a
        filter followed by a map converts each row to Python once, not twice; None means decode the batch.
        (A filter function is meant to read its record, not change it.)
        The whole batch first goes through in one pass; only a batch where some record fails is gone through
        again record by record, on records decoded afresh (the first pass may have changed some: a function
        that does ``del rec["x"]`` must not meet its own change), to send exactly the failing ones to the
        error records.
        """
        import pyarrow as pa

        if records is None:
            records = self.in_codec.decode(batch.to_pylist())
        fn = self.fn
        if self.kind == "filter":
            try:
                mask = list(map(fn, records))
            except Exception:  # noqa: BLE001 - some record fails: find which, one by one
                return self._filter_each(batch)
            try:
                keep = pa.array(mask, pa.bool_())
            except (pa.ArrowException, TypeError):  # truthy values that are not bools
                mask = [bool(m) for m in mask]
                keep = pa.array(mask, pa.bool_())
            if keep.null_count:  # None is falsy
                mask = [bool(m) for m in mask]
                keep = pa.array(mask, pa.bool_())
            return batch.filter(keep), [], list(compress(records, mask))
        codec = self.out_codec
        try:
            if codec.plain:  # only the field names to check: at C speed over the batch
                outs = list(map(fn, records))
                fits = all(map(codec.field_names.issuperset, outs))
            else:
                outs, fits = list(map(codec.encode, map(fn, records))), True
            arr = pa.array(outs, type=self.out_struct) if fits else None
        except Exception:  # noqa: BLE001 - some record fails: find which, one by one
            arr = None
        if arr is None or arr.null_count:  # a failure, or a function that returned None
            return self._map_each(batch)
        return pa.RecordBatch.from_struct_array(arr), [], None

    def _filter_each(self, batch):
        import pyarrow as pa

        records = self.in_codec.decode(batch.to_pylist())
        errors, mask, fn = [], [], self.fn
        for i, rec in enumerate(records):
            try:
                mask.append(bool(fn(rec)))
            except Exception as exc:  # noqa: BLE001 - the record goes to the error frame
                mask.append(False)
                errors.append(self._error(batch, i, _reason(exc)))
        return batch.filter(pa.array(mask, pa.bool_())), errors, list(compress(records, mask))

    def _map_each(self, batch):
        import pyarrow as pa

        records = self.in_codec.decode(batch.to_pylist())
        errors, good, fn, encode = [], [], self.fn, self.out_codec.encode
        for i, rec in enumerate(records):
            try:
                out = fn(rec)
                if out is None:
                    raise TypeError("the map function returned None instead of a record")
                out = encode(out)
            except Exception as exc:  # noqa: BLE001 - the record goes to the error frame
                errors.append(self._error(batch, i, _reason(exc)))
                continue
            try:
                pa.array([out], type=self.out_struct)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                errors.append(self._error(batch, i, self._diagnose(out, exc)))
                continue
            good.append(out)
        return pa.RecordBatch.from_struct_array(pa.array(good, type=self.out_struct)), errors, None

    def _diagnose(self, out, exc):
        import pyarrow as pa

        for field in self.out_arrow:
            value = out.get(field.name)
            try:
                pa.array([value], type=field.type)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as sub:
                text = repr(value)
                text = text if len(text) <= 60 else text[:57] + "..."
                spark_type = self.out_schema[field.name].dataType
                return (f"field '{field.name}': {type(value).__name__} value {text} does not fit the inferred "
                        f"type {glue_type_name(spark_type)} ({type(sub).__name__}: {sub})")
        return _reason(exc)


def _pipeline(stages, final_arrow):
    """The ``mapInArrow`` function running ``stages``; good rows first, then error rows, per batch."""
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            errors, current, records = [], batch, None
            for stage in stages:
                if current.num_rows == 0:
                    break
                current, errs, records = stage.run(current, records)
                errors += errs
            if current.num_rows:
                cols = [current.column(i) for i in range(current.num_columns)]
                yield pa.RecordBatch.from_arrays(cols + [pa.nulls(current.num_rows, pa.string())],
                                                 names=final_arrow.names + [_ERR])
            if errors:
                cols = [pa.nulls(len(errors), f.type) for f in final_arrow]
                yield pa.RecordBatch.from_arrays(cols + [pa.array([json.dumps(e) for e in errors], pa.string())],
                                                 names=final_arrow.names + [_ERR])
    return run


def _local_batch(df):
    """The rows of ``df`` (a few: a sample, what ``show`` prints) as one Arrow RecordBatch on the driver.

    ``collect()`` plus PySpark's own Row-to-Arrow conversion: for a ``limit`` this runs one short Spark job,
    where ``toArrow()`` runs the limit as a shuffle into one partition, twice the time for a hundred rows.
    """
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    rows = df.collect()
    if rows:
        try:
            from pyspark.sql.conversion import LocalDataToArrowConversion

            table = LocalDataToArrowConversion.convert(rows, df.schema, False)
        except Exception:  # noqa: BLE001 - another PySpark, or a type it cannot convert: the slower route
            table = df.toArrow()
        batches = table.combine_chunks().to_batches()
        if batches:
            return batches[0]
    schema = to_arrow_schema(df.schema, timezone="UTC")
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)


class _Lazy:
    """A DataFrame built on first use: the error records of a Python stage, which most jobs never ask for
    (building a DataFrame costs a round trip to the JVM and an analysis)."""

    def __init__(self, build):
        self._build, self._df = build, None

    def get(self):
        if self._df is None:
            self._df = self._build()
        return self._df


def _built(part):
    return part.get() if isinstance(part, _Lazy) else part


# ----------------------------------------------------------------------------------------------- the frame

class DynamicFrame:
    """A distributed collection of self-describing records (Glue's DynamicFrame) backed by a DataFrame.

    ``DynamicFrame(df, glue_ctx, name="", choices=frozenset())``; ``glue_ctx`` may be None (the frame then
    uses ``df.sparkSession``). ``choices`` lists the dotted paths of choice fields in ``df``.
    """

    def __init__(self, df, glue_ctx, name="", *, choices=frozenset()):
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name
        self._choices = frozenset(choices)
        self._stage_errors = None          # DataFrame (ERROR_SCHEMA) of this stage's error records
        self._error_parts: tuple = ()      # DataFrames whose union is every error up to this frame
        self._pipe = None                  # (base df, stages, error parts before the pipeline) for map/filter
        self._thresholds = (0, 0)
        self.transformation_ctx = ""

    # --------------------------------------------------------------------------------------- basics
    @property
    def choices(self) -> frozenset:
        """Dotted paths of the fields whose type is a choice."""
        return self._choices

    @property
    def _spark(self):
        ctx = self.glue_ctx
        spark = getattr(ctx, "spark_session", None) if ctx is not None else None
        return spark or self._df.sparkSession

    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name=""):
        """A DynamicFrame over a Spark DataFrame (no choices)."""
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options=None):
        """The records as a Spark DataFrame; unresolved choices stay struct columns, as on Glue.

        ``options``: a list of :class:`ResolveOption` (``Project``/``Cast`` with a target type, or
        ``KeepAsStruct``) applied first, like ``resolveChoice``.
        """
        if not options:
            return self._df
        specs = []
        for opt in options:
            action = opt.action.lower()
            if action == "keepasstruct":
                specs.append((opt.path, "make_struct"))
                continue
            if opt.target is None:
                raise ValueError(f"Missing target type for resolve action {opt.action}.")
            target = opt.target if isinstance(opt.target, str) else slot_name(opt.target)
            specs.append((opt.path, f"{'cast' if action == 'cast' else 'project'}:{target}"))
        return self.resolveChoice(specs=specs).toDF()

    def schema(self):
        """The frame's schema as gluetypes-style objects (``StructType`` of ``Field``, ``ChoiceType``...)."""
        return to_glue_type(self._df.schema, self._choices)

    def printSchema(self):
        """Print the schema as Glue does (``root`` then ``|-- name: type``, choices with alternatives)."""
        print(render_schema(self._df.schema, self._choices))

    def show(self, num_rows=20):
        """Print the first ``num_rows`` records as JSON, one per line, in frame order."""
        batch = _local_batch(self._df.limit(num_rows))
        records = RecordCodec(self._df.schema, self._choices).decode(batch.to_pylist())
        print("\n".join(record_json(r) for r in records))

    def count(self):
        """Number of (good) records."""
        return self._df.count()

    def getName(self):
        return self.name

    def getNumPartitions(self):
        """Partitions of the underlying DataFrame."""
        return self._df.rdd.getNumPartitions()

    def __getattr__(self, name):
        if name in _DATAFRAME_ONLY:
            raise AttributeError(f"'DynamicFrame' object has no attribute '{name}' (it is a DataFrame method: "
                                 f"use frame.toDF().{name}(...) and DynamicFrame.fromDF(...) to come back)")
        raise AttributeError(f"'DynamicFrame' object has no attribute '{name}'")

    def __repr__(self):
        return f"DynamicFrame(name={self.name!r}, fields={self._df.columns})"

    # --------------------------------------------------------------------------------------- derivation
    def _derive(self, df, *, choices=None, stage_errors=None, transformation_ctx="", stageThreshold=0,
                totalThreshold=0, name=None, others=()):
        frame = DynamicFrame(df, self.glue_ctx, self.name if name is None else name,
                             choices=self._choices if choices is None else choices)
        parts = list(self._error_parts)
        for other in others:
            parts += [p for p in other._error_parts if all(p is not q for q in parts)]
        if stage_errors is not None:
            parts.append(stage_errors)
        frame._error_parts = tuple(parts)
        frame._stage_errors = stage_errors
        frame._thresholds = (int(stageThreshold or 0), int(totalThreshold or 0))
        frame.transformation_ctx = transformation_ctx or ""
        return frame

    def _split_errors(self, df, failed, reason, transformation, ctx, info, record=None):
        """Good rows (``failed`` false) and error rows (ERROR_SCHEMA) of ``df`` for an expression stage."""
        flag = F.coalesce(failed, F.lit(False))
        good = df.where(~flag)
        record = record if record is not None else _record_json_col(self._df.columns)
        errors = df.where(flag).select(
            F.lit(transformation).alias("transformation"), F.lit(ctx or "").alias("transformation_ctx"),
            F.lit(info or "").alias("info"), reason.alias("reason"), record.alias("record"))
        return good, errors

    # --------------------------------------------------------------------------------------- errors
    def errorsAsDynamicFrame(self):
        """Every error record up to this frame (this stage's and upstream), as a DynamicFrame."""
        return DynamicFrame(self._all_errors(), self.glue_ctx, self.name)

    def _all_errors(self):
        if not self._error_parts:
            return self._spark.createDataFrame([], ERROR_SCHEMA)
        return reduce(lambda a, b: a.unionByName(b), [_built(p) for p in self._error_parts])

    def errorsCount(self):
        """Number of error records up to and including this stage."""
        return self._all_errors().count() if self._error_parts else 0

    def stageErrorsCount(self):
        """Number of error records the transformation that made this frame produced."""
        return _built(self._stage_errors).count() if self._stage_errors is not None else 0

    def assertErrorThreshold(self):
        """Raise :class:`ErrorThresholdExceeded` when this stage's or the total error count is over its
        threshold (``stageThreshold``/``totalThreshold``; 0 means no limit, and nothing is counted)."""
        stage_max, total_max = self._thresholds
        if stage_max > 0:
            n = self.stageErrorsCount()
            if n > stage_max:
                raise ErrorThresholdExceeded(f"{n} error records in this transformation, more than its "
                                             f"stageThreshold {stage_max}")
        if total_max > 0:
            n = self.errorsCount()
            if n > total_max:
                raise ErrorThresholdExceeded(f"{n} error records in total, more than totalThreshold {total_max}")
        return None

    # --------------------------------------------------------------------------------------- Python stages
    def _sample(self):
        """Up to SAMPLE_SIZE input records of this frame, computed on the driver."""
        if self._pipe is not None:
            base, stages, _ = self._pipe
            batch = _local_batch(base.limit(SAMPLE_SIZE))
            records = None
            for stage in stages:
                if batch.num_rows == 0:
                    break
                batch, _, records = stage.run(batch, records)
        else:
            batch = _local_batch(self._df.limit(SAMPLE_SIZE))
        return RecordCodec(self._df.schema, self._choices).decode(batch.to_pylist())

    def _python_stage(self, kind, fn, transformation_ctx, info, stageThreshold, totalThreshold):
        in_schema, in_choices = self._df.schema, self._choices
        out_schema, out_choices = in_schema, in_choices
        if kind == "map":
            outputs = []
            for rec in self._sample():
                try:
                    out = fn(rec)
                except Exception:  # noqa: BLE001 - such records become error records when the frame runs
                    continue
                if isinstance(out, dict):
                    outputs.append(out)
            if outputs:
                out_schema, out_choices = infer_record_type(outputs, in_schema, in_choices)
        if self._pipe is not None:
            base, stages, base_parts = self._pipe
        else:
            base, stages, base_parts = self._df, (), self._error_parts
        stage = _Stage(kind, fn, len(stages), in_schema, in_choices, out_schema, out_choices,
                       transformation_ctx or "", info or "")
        stages = stages + (stage,)
        wrapped_schema = T.StructType([T.StructField(f.name, f.dataType, True) for f in out_schema.fields]
                                      + [T.StructField(_ERR, T.StringType(), True)])
        wrapped = base.mapInArrow(_pipeline(stages, stage.out_arrow), wrapped_schema)
        good = wrapped.where(F.col(_ERR).isNull()).drop(_ERR)
        # Error records travel as JSON text in one column: on the rows that are not errors it is a plain null,
        # the cheapest column to carry through Arrow for every good row.
        parsed = F.from_json(F.col(_ERR), _WRAP_ERROR)
        errors = [parsed.getField(f.name).alias(f.name) for f in ERROR_SCHEMA.fields]
        all_errors = _Lazy(lambda: wrapped.where(F.col(_ERR).isNotNull()).select(*errors))
        stage_errors = _Lazy(lambda: wrapped.where(parsed.getField(_STAGE) == stage.index).select(*errors))
        frame = DynamicFrame(good, self.glue_ctx, self.name, choices=out_choices)
        frame._error_parts = tuple(base_parts) + (all_errors,)
        frame._stage_errors = stage_errors
        frame._thresholds = (int(stageThreshold or 0), int(totalThreshold or 0))
        frame.transformation_ctx = transformation_ctx or ""
        frame._pipe = (base, stages, base_parts)
        return frame

    def map(self, f, preservesPartitioning=False, transformation_ctx="", info="", stageThreshold=0,
            totalThreshold=0):
        """Apply ``f`` (record dict -> record dict) to every record; records where it raises, returns None or
        returns a record outside the inferred schema go to the error records."""
        return self._python_stage("map", f, transformation_ctx, info, stageThreshold, totalThreshold)

    def filter(self, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Keep the records for which ``f(record)`` is true; records where ``f`` raises go to the error
        records (reason = exception type and message), never silently away."""
        return self._python_stage("filter", f, transformation_ctx, info, stageThreshold, totalThreshold)

    # --------------------------------------------------------------------------------------- paths
    def _resolve(self, path, case_sensitive=False, *, required=True):
        parts = split_path(path) if isinstance(path, str) else list(path)
        found = find_field(self._df.schema, parts, case_sensitive)
        if found is None:
            if required:
                raise ValueError(f"no field '{path}' in frame '{self.name}' (fields: {self._df.columns})")
            return None
        return found

    def _is_choice(self, names):
        return join_path(names) in self._choices

    def _rename_choices(self, old, new):
        old_p, new_p = join_path(old), join_path(new)
        out = set()
        for c in self._choices:
            if c == old_p:
                out.add(new_p)
            elif c.startswith(old_p + "."):
                out.add(new_p + c[len(old_p):])
            else:
                out.add(c)
        return frozenset(out)

    def _without_choices(self, names_list):
        drop = [join_path(n) for n in names_list]
        return frozenset(c for c in self._choices
                         if not any(c == d or c.startswith(d + ".") for d in drop))

    # --------------------------------------------------------------------------------------- mapping
    def applyMapping(self, *args, **kwargs):
        """Alias of :meth:`apply_mapping` (tolerates a frame passed first, as older Glue scripts do)."""
        if args and isinstance(args[0], DynamicFrame):
            args = args[1:]
        return self.apply_mapping(*args, **kwargs)

    def apply_mapping(self, mappings, case_sensitive=False, transformation_ctx="", info="", stageThreshold=0,
                      totalThreshold=0):
        """Select, rename, nest and cast fields: ``(source path, source type, target path, target type)``.

        Dots nest (``("provider id", "string", "provider.id", "long")``), backticks quote names with dots.
        Unmapped fields are dropped; a source field that does not exist yields no target. A value that
        cannot be cast to the target type sends its record to the error records with the reason (it never
        becomes a silent null). 2-tuples ``(source, target)`` keep the type; 3-tuples are
        ``(source, target, target type)``.
        """
        if isinstance(mappings, tuple):
            mappings = [mappings]
        tree: dict = {}
        failures, choices = [], set()
        for m in mappings:
            if not isinstance(m, tuple):
                raise TypeError(f"Mapping must be specified as a tuple. Got {m!r}")
            if len(m) == 2:
                src, tgt, ttype = m[0], m[1], None
            elif len(m) == 3:
                src, tgt, ttype = m
            elif len(m) == 4:
                src, _, tgt, ttype = m
            else:
                raise ValueError(f"Mapping tuple must be of length 2, 3, or 4. Got {m!r}")
            found = self._resolve(src, case_sensitive, required=False)
            if found is None:
                continue
            names, field = found
            col, dtype, is_choice = _col_at(names), field.dataType, self._is_choice(names)
            target = parse_type(ttype) if ttype is not None else None
            tgt_parts = split_path(tgt)
            if target is None:
                value = col
                if is_choice:
                    choices.add(join_path(tgt_parts))
            else:
                value, failed = _choice.cast_expr(col, dtype, is_choice, target)
                if not (dtype == target and not is_choice):
                    shown = _choice.value_text(col, dtype, is_choice)
                    kind = _choice.kind_text(col, dtype, is_choice)
                    failures.append((failed, F.concat(
                        F.lit(f"cannot cast field '{src}' value "), F.coalesce(shown, F.lit("null")),
                        F.lit(" from "), kind, F.lit(f" to {glue_type_name(target)}"))))
            node = tree
            for part in tgt_parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ValueError(f"target path '{tgt}' nests under a field that is already mapped")
            node[tgt_parts[-1]] = value

        def build(node):
            return [F.struct(*build(v)).alias(k) if isinstance(v, dict) else v.alias(k) for k, v in node.items()]

        return self._expression_stage(build(tree), failures, "ApplyMapping", transformation_ctx, info,
                                      stageThreshold, totalThreshold, frozenset(choices))

    def _expression_stage(self, select, failures, transformation, ctx, info, stage_t, total_t, choices):
        """A stage made of Column expressions; ``failures`` = ``[(failed Column, reason Column)]``."""
        if not failures:
            return self._derive(self._df.select(*select), choices=choices, transformation_ctx=ctx,
                                stageThreshold=stage_t, totalThreshold=total_t)
        failed = reduce(lambda a, b: a | b, [F.coalesce(f, F.lit(False)) for f, _ in failures])
        reason = F.concat_ws("; ", *[F.when(F.coalesce(f, F.lit(False)), r) for f, r in failures])
        good, errors = self._split_errors(self._df, failed, reason, transformation, ctx, info)
        return self._derive(good.select(*select), choices=choices, stage_errors=errors, transformation_ctx=ctx,
                            stageThreshold=stage_t, totalThreshold=total_t)

    # --------------------------------------------------------------------------------------- choices
    def resolveChoice(self, specs=None, choice="", database=None, table_name=None, transformation_ctx="",
                      info="", stageThreshold=0, totalThreshold=0, catalog_id=None):
        """Resolve choice fields: ``specs=[(path, action)]`` or one ``choice`` action for every choice.

        Actions: ``cast:T`` (every value cast to T; values that cannot be go to the error records),
        ``project:T`` (keep values of type T; a record whose value has another type goes to the error records
        with the reason, rather than losing the value), ``make_cols`` (one column per type,
        ``price_double``, ``price_string``), ``make_struct`` (keep the struct, no longer a choice),
        ``match_catalog`` (cast to the type of the same column in ``database``.``table_name``, read with
        boto3 ``glue.get_table``). ``cast`` and ``match_catalog`` also work on fields that are not choices.
        """
        if specs is None and not choice:
            raise ValueError("Parameter specs and option are both missing, add one.")
        if specs is not None and choice:
            raise ValueError("Parameter specs and option are both specified, choose one.")
        if isinstance(specs, tuple):
            specs = [specs]
        if choice:
            specs = [(p, choice) for p in sorted(self._choices)]
        catalog = None
        if any(a.strip().lower() == "match_catalog" for _, a in specs):
            catalog = _catalog_types(database, table_name, catalog_id)
        df, choices = self._df, set(self._choices)
        err = F.lit(None).cast("string")
        record = _record_json_col(self._df.columns)
        rec_name, err_name = "__gluelab_record__", "__gluelab_reason__"
        df = df.withColumn(rec_name, record).withColumn(err_name, err)
        for path, action in specs:
            found = find_field(df.schema, split_path(path), False)
            if found is None:
                raise ValueError(f"resolveChoice: no field '{path}' in frame '{self.name}'")
            names, field = found
            df, choices = _resolve_one(df, names, field.dataType, join_path(names) in choices, action, path,
                                       choices, catalog, err_name)
        flag = F.col(err_name).isNotNull()
        good = df.where(~flag).drop(rec_name, err_name)
        errors = df.where(flag).select(
            F.lit("ResolveChoice").alias("transformation"), F.lit(transformation_ctx or "").alias(
                "transformation_ctx"), F.lit(info or "").alias("info"), F.col(err_name).alias("reason"),
            F.col(rec_name).alias("record"))
        return self._derive(good, choices=frozenset(choices), stage_errors=errors,
                            transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    # --------------------------------------------------------------------------------------- fields
    def drop_fields(self, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Drop fields (nested paths too); paths that do not exist are ignored."""
        if isinstance(paths, str):
            paths = [paths]
        df, dropped = self._df, []
        for path in paths:
            found = find_field(df.schema, split_path(path), False)
            if found is None:
                continue
            names, _ = found
            df = df.select(*_transform_at(df.schema, names, lambda c, t, n: []))
            dropped.append(names)
        return self._derive(df, choices=self._without_choices(dropped), transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def select_fields(self, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Keep only the given fields (nested paths keep their parents); missing paths are ignored."""
        if isinstance(paths, str):
            paths = [paths]
        tree: dict = {}
        kept = []
        for path in paths:
            found = self._resolve(path, required=False)
            if found is None:
                continue
            names, _ = found
            kept.append(join_path(names))
            node = tree
            for part in names[:-1]:
                if part in node and node[part] is None:
                    break  # a parent is already kept whole
                node = node.setdefault(part, {})
            else:
                node[names[-1]] = None  # the whole field
        select = _select_tree(self._df.schema, tree, ())
        choices = frozenset(c for c in self._choices if any(c == k or c.startswith(k + ".") for k in kept))
        return self._derive(self._df.select(*select), choices=choices, transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def rename_field(self, oldName, newName, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Rename a field; nested paths work, within a struct (``a.b`` -> ``a.c``) or across levels
        (``a.b`` -> ``b``, ``x`` -> ``a.x``)."""
        names, _ = self._resolve(oldName)
        new = split_path(newName)
        df = self._df
        if new[:-1] == names[:-1]:
            df = df.select(*_transform_at(df.schema, names, lambda c, t, n: [(new[-1], c)]))
        else:
            tmp = "__gluelab_moving__"
            df = df.withColumn(tmp, _col_at(names))
            df = df.select(*_transform_at(df.schema, names, lambda c, t, n: []))
            df = df.select(*_insert_at(df.schema, new, _c(tmp), skip=tmp))
        return self._derive(df, choices=self._rename_choices(names, new), transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def split_fields(self, paths, name1, name2, transformation_ctx="", info="", stageThreshold=0,
                     totalThreshold=0):
        """A collection of two frames: ``name1`` with the given fields, ``name2`` with the rest."""
        first = self.select_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)
        rest = self.drop_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)
        first.name, rest.name = name1, name2
        return DynamicFrameCollection({name1: first, name2: rest}, self.glue_ctx)

    def split_rows(self, comparison_dict, name1, name2, transformation_ctx="", info="", stageThreshold=0,
                   totalThreshold=0):
        """Split records: those meeting every comparison (``{"age": {">": 10, "<": 20}}``) go to ``name1``,
        all others (nulls included) to ``name2``; together they hold every record."""
        ops = {"<": "__lt__", ">": "__gt__", "<=": "__le__", ">=": "__ge__", "=": "__eq__", "==": "__eq__",
               "!=": "__ne__"}
        cond = F.lit(True)
        for path, comparisons in comparison_dict.items():
            names, _ = self._resolve(path)
            col = _col_at(names)
            for op, value in comparisons.items():
                if op not in ops:
                    raise ValueError(f"split_rows: unknown comparison {op!r} (use one of {sorted(ops)})")
                cond = cond & getattr(col, ops[op])(F.lit(value))
        cond = F.coalesce(cond, F.lit(False))
        first = self._derive(self._df.where(cond), name=name1, transformation_ctx=transformation_ctx,
                             stageThreshold=stageThreshold, totalThreshold=totalThreshold)
        rest = self._derive(self._df.where(~cond), name=name2, transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)
        return DynamicFrameCollection({name1: first, name2: rest}, self.glue_ctx)

    # --------------------------------------------------------------------------------------- combining
    def join(self, paths1, paths2, frame2, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Equality join with ``frame2`` on ``paths1`` = ``paths2``; both frames' key fields are kept (one copy
        when a key has the same name on both sides). Other same-named fields raise ValueError: rename first."""
        if isinstance(paths1, str):
            paths1 = [paths1]
        if isinstance(paths2, str):
            paths2 = [paths2]
        if len(paths1) != len(paths2):
            raise ValueError("join: paths1 and paths2 must have the same length")
        left, right = self._df.alias("__l"), frame2._df.alias("__r")
        k1 = [self._resolve(p)[0] for p in paths1]
        k2 = [frame2._resolve(p)[0] for p in paths2]
        shared_keys = {a[0] for a, b in zip(k1, k2) if a == b and len(a) == 1}
        clash = (set(self._df.columns) & set(frame2._df.columns)) - shared_keys
        if clash:
            raise ValueError(f"join: both frames have fields {sorted(clash)}; rename or drop them first")
        cond = reduce(lambda a, b: a & b, [_col_at(a, "__l") == _col_at(b, "__r") for a, b in zip(k1, k2)])
        out = left.join(right, cond, "inner")
        cols = [_col_at([n], "__l").alias(n) for n in self._df.columns]
        cols += [_col_at([n], "__r").alias(n) for n in frame2._df.columns if n not in shared_keys]
        choices = self._choices | frame2._choices
        return self._derive(out.select(*cols), choices=choices, name=self.name + frame2.name, others=[frame2],
                            transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    def union(self, other_frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """All records of both frames; a field whose type differs between them becomes a choice."""
        d1, d2, choices = _choice.union_frames(self._df, self._choices, other_frame._df, other_frame._choices)
        return self._derive(d1.unionByName(d2), choices=choices, others=[other_frame],
                            transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    def mergeDynamicFrame(self, stage_dynamic_frame, primary_keys, transformation_ctx="", options={}, info="",
                          stageThreshold=0, totalThreshold=0):
        """Records of this frame, with those whose ``primary_keys`` match a staging record replaced by the
        staging records (staging records without a match are added); duplicates are kept."""
        if isinstance(primary_keys, str):
            primary_keys = [primary_keys]
        stage = stage_dynamic_frame
        kept = self._df.join(stage._df.select(*primary_keys).distinct(), list(primary_keys), "left_anti")
        d1, d2, choices = _choice.union_frames(kept, self._choices, stage._df, stage._choices)
        return self._derive(d1.unionByName(d2), choices=choices, others=[stage],
                            transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    # --------------------------------------------------------------------------------------- structure
    def unnest(self, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Flatten nested structs into top-level fields named with dots (``provider.id``); arrays stay."""
        from .transforms import unnest_columns

        cols, choices = unnest_columns(self._df.schema, self._choices)
        return self._derive(self._df.select(*cols), choices=choices, transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def relationalize(self, root_table_name, staging_path, options={}, transformation_ctx="", info="",
                      stageThreshold=0, totalThreshold=0):
        """Flatten into relational tables: the root table plus one per array (``<root>_<path>``), linked by
        ids. See :func:`gluelab.glue.transforms.relationalize_frames`."""
        from .transforms import relationalize_frames

        tables = relationalize_frames(self, root_table_name, staging_path, options or {})
        frames = {name: self._derive(df, choices=ch, name=name, transformation_ctx=transformation_ctx,
                                     stageThreshold=stageThreshold, totalThreshold=totalThreshold)
                  for name, (df, ch) in tables.items()}
        return DynamicFrameCollection(frames, self.glue_ctx)

    def unbox(self, path, format, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0, **options):
        """Parse a string field holding JSON into a struct (schema inferred from the values); records whose
        text is not valid JSON go to the error records."""
        if str(format).lower() != "json":
            raise NotImplementedError(f"unbox supports format 'json' only, not {format!r}")
        names, field = self._resolve(path)
        if not isinstance(field.dataType, T.StringType):
            raise ValueError(f"unbox: field '{path}' is {glue_type_name(field.dataType)}, not string")
        col = _col_at(names)
        texts = self._df.select(col.alias("v")).where(F.col("v").isNotNull() & F.try_parse_json(F.col("v"))
                                                      .isNotNull())
        inferred = self._spark.read.json(texts.rdd.map(lambda r: r[0])).schema
        parsed = F.from_json(col, inferred)
        failed = col.isNotNull() & F.try_parse_json(col).isNull()
        reason = F.concat(F.lit(f"field '{path}' is not valid JSON: "), F.substring(col, 1, 80))
        good, errors = self._split_errors(self._df, failed, reason, "Unbox", transformation_ctx, info)
        good = good.select(*_transform_at(good.schema, names, lambda c, t, n: [(n, parsed)]))
        return self._derive(good, stage_errors=errors, transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def spigot(self, path, options={}, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """Write a sample of the records as JSON lines under ``path`` (``{"topk": n}`` the first n, default
        100; ``{"prob": p}`` each record with probability p) and return the frame unchanged."""
        options = options or {}
        sample = self._df
        if "prob" in options:
            sample = sample.sample(fraction=float(options["prob"]), seed=int(options.get("seed", 42)))
        else:
            sample = sample.limit(int(options.get("topk", 100)))
        sample.coalesce(1).write.mode("overwrite").json(path)
        return self._derive(self._df, transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    def repartition(self, num_partitions, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        """The same records in ``num_partitions`` partitions (a shuffle)."""
        return self._derive(self._df.repartition(num_partitions), transformation_ctx=transformation_ctx,
                            stageThreshold=stageThreshold, totalThreshold=totalThreshold)

    def coalesce(self, num_partitions, shuffle=False, transformation_ctx="", info="", stageThreshold=0,
                 totalThreshold=0):
        """The same records in at most ``num_partitions`` partitions (no shuffle unless ``shuffle``)."""
        df = self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions)
        return self._derive(df, transformation_ctx=transformation_ctx, stageThreshold=stageThreshold,
                            totalThreshold=totalThreshold)

    def write(self, connection_type, connection_options={}, format=None, format_options={}, accumulator_size=0):
        """Write through the GlueContext (``glue_ctx.write_from_options``)."""
        if self.glue_ctx is None:
            raise ValueError("write needs a GlueContext: build the frame with one")
        return self.glue_ctx.write_from_options(frame_or_dfc=self, connection_type=connection_type,
                                                connection_options=connection_options, format=format,
                                                format_options=format_options,
                                                accumulator_size=accumulator_size)


_DATAFRAME_ONLY = frozenset({
    "dropDuplicates", "drop_duplicates", "distinct", "groupBy", "groupby", "agg", "orderBy", "sort", "select",
    "where", "withColumn", "withColumnRenamed", "collect", "take", "head", "limit", "cache", "persist",
    "createOrReplaceTempView", "fillna", "dropna", "na", "columns", "dtypes", "selectExpr", "crossJoin",
    "unionByName", "intersect", "subtract", "exceptAll", "describe", "summary", "explain", "rdd",
})


# ----------------------------------------------------------------------------------------------- helpers

def _transform_at(schema: T.StructType, names, fn):
    """Top-level Columns of ``schema`` with ``fn(col, dtype, name) -> [(name, Column)]`` applied at ``names``
    (a nested field's parents are rebuilt; a null parent stays null)."""
    out = []
    for f in schema.fields:
        col = _c(f.name)
        if f.name == names[0]:
            if len(names) == 1:
                out += [c.alias(n) for n, c in fn(col, f.dataType, f.name)]
            else:
                out.append(_rebuild(col, f.dataType, names[1:], fn).alias(f.name))
        else:
            out.append(col)
    return out


def _rebuild(col, dtype, names, fn):
    if not isinstance(dtype, T.StructType):
        raise ValueError(f"cannot reach '{names[0]}' inside a {glue_type_name(dtype)}")
    fields = []
    for f in dtype.fields:
        sub = col.getField(f.name)
        if f.name == names[0]:
            fields += fn(sub, f.dataType, f.name) if len(names) == 1 else [
                (f.name, _rebuild(sub, f.dataType, names[1:], fn))]
        else:
            fields.append((f.name, sub))
    return F.when(col.isNotNull(), F.struct(*[c.alias(n) for n, c in fields]))


def _insert_at(schema: T.StructType, names, value, skip=None):
    """Top-level Columns with ``value`` added at path ``names`` (parents created when missing)."""
    out, placed = [], False
    for f in schema.fields:
        if f.name == skip:
            continue
        col = _c(f.name)
        if len(names) > 1 and f.name == names[0]:
            if not isinstance(f.dataType, T.StructType):
                raise ValueError(f"cannot nest '{join_path(names)}' under non-struct field '{f.name}'")
            out.append(_add_field(col, f.dataType, names[1:], value).alias(f.name))
            placed = True
        elif len(names) == 1 and f.name == names[0]:
            raise ValueError(f"a field '{names[0]}' already exists")
        else:
            out.append(col)
    if not placed:
        out.append(_nest(names[1:], value).alias(names[0]) if len(names) > 1 else value.alias(names[0]))
    return out


def _add_field(col, dtype, names, value):
    fields, placed = [], False
    for f in dtype.fields:
        sub = col.getField(f.name)
        if len(names) > 1 and f.name == names[0] and isinstance(f.dataType, T.StructType):
            fields.append((f.name, _add_field(sub, f.dataType, names[1:], value)))
            placed = True
        elif len(names) == 1 and f.name == names[0]:
            raise ValueError(f"a field '{names[0]}' already exists")
        else:
            fields.append((f.name, sub))
    if not placed:
        fields.append((names[0], _nest(names[1:], value) if len(names) > 1 else value))
    return F.struct(*[c.alias(n) for n, c in fields])


def _nest(names, value):
    if not names:
        return value
    return F.struct(_nest(names[1:], value).alias(names[0]))


def _select_tree(schema: T.StructType, tree: dict, prefix):
    """Columns keeping the paths in ``tree`` (``None`` leaf = the whole field), in schema order."""
    out = []
    for f in schema.fields:
        if f.name not in tree:
            continue
        sub = tree[f.name]
        col = _col_at(list(prefix) + [f.name])
        if sub is None or not isinstance(f.dataType, T.StructType):
            out.append(col.alias(f.name))
        else:
            inner = _select_tree(f.dataType, sub, tuple(prefix) + (f.name,))
            out.append(F.when(col.isNotNull(), F.struct(*inner)).alias(f.name))
    return out


def _catalog_types(database, table_name, catalog_id=None) -> dict:
    """``{column name (lower case): Spark type}`` of a Glue catalog table (columns and partition keys)."""
    if not database or not table_name:
        raise ValueError("match_catalog needs database= and table_name=")
    import boto3

    kwargs = {"DatabaseName": database, "Name": table_name}
    if catalog_id:
        kwargs["CatalogId"] = catalog_id
    table = boto3.client("glue").get_table(**kwargs)["Table"]
    columns = table.get("StorageDescriptor", {}).get("Columns", []) + table.get("PartitionKeys", [])
    return {c["Name"].lower(): parse_type(c["Type"]) for c in columns}


def _resolve_one(df, names, dtype, is_choice, action, path, choices, catalog, err_name):
    """Apply one resolveChoice action at ``names``: ``(new df, new choices)``; failures set ``err_name``."""
    act = action.strip()
    low = act.lower()
    here = join_path(names)
    col = _col_at(names)
    choices = set(choices)

    def with_failure(frame, failed, reason):
        err = F.col(err_name)
        new = F.when(F.coalesce(failed, F.lit(False)),
                     F.when(err.isNull(), reason).otherwise(F.concat_ws("; ", err, reason))).otherwise(err)
        return frame.withColumn(err_name, new)

    if low.startswith("cast:") or low == "match_catalog":
        if low == "match_catalog":
            target = _catalog_type(catalog, names)
            if target is None:
                raise ValueError(f"resolveChoice match_catalog: no column '{here}' in the catalog table")
        else:
            target = parse_type(act[5:])
            if target is None:
                raise ValueError(f"resolveChoice: cannot cast '{path}' to a complex type ({act})")
        value, failed = _choice.cast_expr(col, dtype, is_choice, target)
        reason = F.concat(F.lit(f"{low.split(':')[0]}: cannot cast field '{here}' value "),
                          _choice.value_text(col, dtype, is_choice), F.lit(" from "),
                          _choice.kind_text(col, dtype, is_choice), F.lit(f" to {glue_type_name(target)}"))
        df = with_failure(df, failed, reason)
        df = df.select(*_transform_at(df.schema, names, lambda c, t, n: [(n, value)]))
        choices.discard(here)
    elif low.startswith("project:"):
        target_name = slot_name(parse_type(act[8:]) or T.StringType()) if act[8:].lower() not in (
            "struct", "array", "map") else act[8:].lower()
        value, failed = _choice.project_expr(col, dtype, is_choice, target_name)
        value = value.cast(_choice.project_type(dtype, is_choice, target_name))
        reason = F.concat(F.lit(f"project:{target_name}: field '{here}' holds a "),
                          _choice.kind_text(col, dtype, is_choice), F.lit(" value "),
                          _choice.value_text(col, dtype, is_choice),
                          F.lit(f", not {target_name}; project keeps only {target_name} values"))
        df = with_failure(df, failed, reason)
        df = df.select(*_transform_at(df.schema, names, lambda c, t, n: [(n, value)]))
        choices.discard(here)
    elif low == "make_cols":
        if is_choice:
            df = df.select(*_transform_at(df.schema, names,
                                          lambda c, t, n: _choice.make_cols_exprs(n, c, t, True)))
            choices.discard(here)
    elif low == "make_struct":
        choices.discard(here)
    else:
        raise ValueError(f"resolveChoice: unknown action {action!r} for '{path}' (use cast:T, project:T, "
                         f"make_cols, make_struct or match_catalog)")
    return df, choices


def _catalog_type(catalog, names):
    dt = catalog.get(names[0].lower())
    for part in names[1:]:
        if not isinstance(dt, T.StructType):
            return None
        dt = next((f.dataType for f in dt.fields if f.name.lower() == part.lower()), None)
    return dt


# ----------------------------------------------------------------------------------------------- collection

class DynamicFrameCollection:
    """A dict of named DynamicFrames (what split_fields, split_rows and relationalize return)."""

    def __init__(self, dynamic_frames, glue_ctx):
        if isinstance(dynamic_frames, list):
            dynamic_frames = {f.name: f for f in dynamic_frames}
        if not isinstance(dynamic_frames, dict):
            raise TypeError("dynamic_frames must be list or dict.")
        self._df_dict = dict(dynamic_frames)
        self._glue_ctx = glue_ctx

    def __getitem__(self, key):
        return self._df_dict[key]

    def __len__(self):
        return len(self._df_dict)

    def __iter__(self):
        return iter(self._df_dict)

    def keys(self):
        return self._df_dict.keys()

    def values(self):
        return self._df_dict.values()

    def items(self):
        return self._df_dict.items()

    def select(self, key, transformation_ctx=""):
        """The frame named ``key``; KeyError (listing the names) when there is none."""
        if key not in self._df_dict:
            raise KeyError(f"no frame {key!r} in the collection (frames: {sorted(self._df_dict)})")
        return self._df_dict[key]

    def map(self, callable, transformation_ctx=""):
        """Apply ``callable(frame, ctx)`` to each frame; a new collection with the same names."""
        out = {}
        for key, frame in self._df_dict.items():
            res = callable(frame, f"{transformation_ctx}:{key}")
            if not isinstance(res, DynamicFrame):
                raise TypeError(f"callable must return a DynamicFrame. Got {type(res)}")
            out[key] = res
        return DynamicFrameCollection(out, self._glue_ctx)

    def flatmap(self, f, transformation_ctx=""):
        """Apply ``f(frame, ctx)`` returning a frame or a collection; all results in one collection."""
        out = {}
        for frame in self._df_dict.values():
            res = f(frame, f"{transformation_ctx}:{frame.name}")
            if isinstance(res, DynamicFrame):
                out[res.name] = res
            elif isinstance(res, DynamicFrameCollection):
                out.update(res._df_dict)
            else:
                raise TypeError("Function argument to flatmap must return DynamicFrame or "
                                f"DynamicFrameCollection. Got {type(res)}")
        return DynamicFrameCollection(out, self._glue_ctx)

    def __repr__(self):
        return f"DynamicFrameCollection({sorted(self._df_dict)})"
