"""The rules engine: turns a normalised rules document into Spark work.

Holds the schemas (:func:`spark_schema`), one step function per rule kind, :func:`validate`, :func:`apply`
and the result types :class:`RuleStat` and :class:`RuleResult`.

Why apart from :mod:`.document`: this is the part that needs PySpark (imported inside functions). The same
steps serve :func:`validate` (run on an empty DataFrame of the schema, so Spark's analyser checks every rule
and no job runs) and :func:`apply` (run on the data, rejected rows marked, never dropped). It imports the
document's names and private helpers from :mod:`.document`; the document never imports the engine.
"""
from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field

from .. import catalogmodel
from .document import RuleError, _as_list, _label, _normalized, _suggest, load_from_table, normalize

_P = "__rules_"                      # prefix of the engine's working columns
_REJECT = _P + "rejected"
_TMP = _P + "tmp"
_QUIET = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


class _Problem(Exception):
    """One problem with one rule, raised inside a step and collected by the runner."""


# ---- schemas -----------------------------------------------------------------------------------------------


#: A Spark StructType from a Glue table or a list of Glue columns (:func:`gluelab.catalogmodel.spark_schema`).
spark_schema = catalogmodel.spark_schema


def read_table(spark, table: dict):
    """The data of a catalog table (``get_table()["Table"]``) as the generic rules job reads it.

    CSV is read with the table's own columns (:func:`spark_schema`; header skipped when the table says
    ``skip.header.line.count`` = 1), so the rules see the catalog's names and types; other classifications
    (parquet, json, orc) carry their own schema and are read as they are.
    """
    params, sd = table.get("Parameters", {}), table["StorageDescriptor"]
    if params.get("classification") == "csv":
        return spark.read.csv(sd["Location"], schema=spark_schema(table), escape='"',
                              header=params.get("skip.header.line.count") == "1")
    return spark.read.format(params["classification"]).load(sd["Location"])


def apply_to_table(spark, glue, database: str, table_name: str, *, s3=None) -> RuleResult:
    """The generic rules job: the rules stored with a catalog table applied to its data.

    Reads the table and its rules (:func:`~gluelab.rules.load_from_table`), validates them against the table's
    schema (a :class:`RuleError` before any data is read) and applies them to :func:`read_table`'s data.
    Changing what the job does is changing the table's rules, not this code.
    """
    table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
    doc = load_from_table(glue, database, table_name, s3=s3)
    validate(doc, table)
    return apply(read_table(spark, table), doc, validated=True)


def _schema_frame(schema, spark=None):
    """An empty DataFrame of ``schema`` (StructType, DataFrame, Glue table, columns): analysed, never run."""
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql import types as T

    if isinstance(schema, DataFrame):
        spark, schema = schema.sparkSession, schema.schema
    elif not isinstance(schema, T.StructType):
        schema = spark_schema(schema)
    spark = spark or SparkSession.getActiveSession()
    if spark is None:
        from .. import spark as gluelab_spark

        spark = gluelab_spark.session()
    return spark.createDataFrame([], schema)


# ---- the steps: one function per rule kind, shared by validate (empty frame) and apply (data) --------------


def _c(name: str):
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _live():
    return _c(_REJECT).isNull()


def _data_columns(df) -> list[str]:
    return [c for c in df.columns if not c.startswith(_P)]


def _explain(e: Exception, df) -> str:
    """A one-line explanation of a Spark analysis or parse error."""
    cond = e.getCondition() if hasattr(e, "getCondition") else None
    params = e.getMessageParameters() if hasattr(e, "getMessageParameters") else {}
    params = params or {}
    cols = ", ".join(_data_columns(df))
    if cond and cond.startswith("UNRESOLVED_COLUMN"):
        name = params.get("objectName", "?").replace("`", "")
        return f"column {name!r} does not exist{_suggest(name, _data_columns(df))}; columns are {cols}"
    if cond == "UNRESOLVED_ROUTINE":
        return f"function {params.get('routineName', '?').replace('`', '')} does not exist"
    if cond == "PARSE_SYNTAX_ERROR":
        return f"cannot be parsed: syntax error at or near {params.get('error', '?')}{params.get('hint', '')}"
    if cond == "UNSUPPORTED_DATATYPE":
        return ("not a Spark SQL type (types are e.g. int, bigint, double, decimal(10,2), string, boolean, "
                "date, timestamp)")
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return re.sub(r"\s*SQLSTATE: \w+;?.*$", "", re.sub(r"^\[[A-Z_.]+\] ", "", first))


def _spark_errors():
    from pyspark.errors import PySparkException
    from py4j.protocol import Py4JJavaError

    return (PySparkException, Py4JJavaError)


def _resolve(df, what: str, build):
    """Run ``build()`` (which parses and analyses Spark expressions); Spark's errors become a _Problem."""
    try:
        return build()
    except _spark_errors() as e:
        raise _Problem(f"{what}: {_explain(e, df)}") from None


def _need_column(df, name: str, key: str = "column"):
    if name not in _data_columns(df):
        raise _Problem(f"{key} {name!r} does not exist{_suggest(name, _data_columns(df))}; columns are "
                       f"{', '.join(_data_columns(df))}")
    return df.schema[name].dataType


class _Run:
    """State of one pass over the rules: counters to aggregate at the end, partition keys, dry or real."""

    def __init__(self, dry: bool):
        self.dry = dry
        self.counters: dict[int, dict[str, str]] = {}
        self.notes: dict[int, str] = {}
        self.partition_keys: list[str] = []

    def count(self, df, i: int, name: str, condition):
        """Add a column flagging live rows where ``condition`` holds now; counted in the summary."""
        from pyspark.sql import functions as F

        col = f"{_P}{i}_{name}"
        self.counters.setdefault(i, {})[name] = col
        return df.withColumn(col, _live() & F.coalesce(condition, F.lit(False)))


def _reject(df, i: int, rule: dict, condition, reason):
    """Mark live rows where ``condition`` is true as rejected by rule ``i`` with ``reason`` and the record as
    JSON (as the rule saw it)."""
    from pyspark.sql import functions as F

    record = F.to_json(F.struct(*[_c(c) for c in _data_columns(df)]), {"ignoreNullFields": "false"})
    mark = F.struct(F.lit(i).alias("rule_index"), F.lit(rule["rule"]).alias("rule"), reason.alias("reason"),
                    record.alias("record"))
    return df.withColumn(_REJECT, F.when(_live() & F.coalesce(condition, F.lit(False)), mark)
                         .otherwise(_c(_REJECT)))


def _set(df, name: str, value):
    """Set column ``name`` (new or replaced in place) to ``value`` for live rows, NULL for rejected ones."""
    from pyspark.sql import functions as F

    return df.withColumn(name, F.when(_live(), value))


def _literal_for(value, dtype, column: str):
    """A literal of ``dtype`` for a replacement value, or a _Problem if the value cannot be one."""
    from datetime import date, datetime

    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    bad = _Problem(f"value {value!r} does not fit column {column!r} ({dtype.simpleString()})")
    if value is None:
        raise _Problem("a replacement value of null would change nothing")
    if isinstance(dtype, T.NumericType):
        if isinstance(value, bool):
            raise bad
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad from None
        if number != number or number in (float("inf"), float("-inf")):
            raise bad
        if isinstance(dtype, T.IntegralType) and number != int(number):
            raise bad
        return F.lit(str(value)).cast(dtype)
    if isinstance(dtype, T.BooleanType):
        if not isinstance(value, bool):
            raise bad
        return F.lit(value)
    if isinstance(dtype, (T.DateType, T.TimestampType, T.TimestampNTZType)):
        try:
            (date if isinstance(dtype, T.DateType) else datetime).fromisoformat(str(value))
        except ValueError:
            raise bad from None
        return F.lit(str(value)).cast(dtype)
    if isinstance(dtype, T.StringType):
        if isinstance(value, (dict, list)):
            raise bad
        return F.lit(str(value).lower() if isinstance(value, bool) else str(value))
    raise bad


def _null_handling(df, i, rule, run):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    name, action = rule["column"], rule["action"]
    dtype = _need_column(df, name)
    col = _c(name)
    if action == "drop_row":
        return _reject(df, i, rule, col.isNull(), F.lit(f"column {name!r} is null"))
    if action in ("replace_with_zero", "replace_with_mean") and not isinstance(dtype, T.NumericType):
        raise _Problem(f"{action} needs a numeric column; {name!r} is {dtype.simpleString()}")
    if action == "replace_with_zero":
        value, note = F.lit(0).cast(dtype), "nulls replaced with 0"
    elif action == "replace_with_value":
        value, note = _literal_for(rule["value"], dtype, name), f"nulls replaced with {rule['value']!r}"
    else:
        mean = None if run.dry else df.filter(_live()).agg(F.avg(col)).first()[0]
        if mean is None and not run.dry:
            raise RuleError(f"rule {i} (null_handling): column {name!r} has no values to take the mean of")
        mean = float(mean or 0.0)
        if isinstance(dtype, T.IntegralType):
            mean = float(round(mean))
        value, note = F.lit(mean).cast(dtype), f"nulls replaced with the mean {mean:g}"
    run.notes[i] = note
    df = run.count(df, i, "affected", col.isNull())
    return _set(df, name, F.coalesce(col, value))


def _expression(df, text: str, what: str):
    from pyspark.sql import functions as F

    expr = _resolve(df, f"{what} {text!r}", lambda: F.expr(text))
    dtype = _resolve(df, f"{what} {text!r}", lambda: df.select(expr.alias("x")).schema["x"].dataType)
    return expr, dtype


def _derived_field(df, i, rule, run):
    expr, _ = _expression(df, rule["expression"], "expression")
    target = rule["target_column"]
    df = _set(df, target, expr)
    return run.count(df, i, "affected", _c(target).isNotNull())


def _partition_key(df, i, rule, run):
    from pyspark.sql import types as T

    expr, dtype = _expression(df, rule["expression"], "expression")
    if isinstance(dtype, (T.StructType, T.ArrayType, T.MapType, T.BinaryType)):
        raise _Problem(f"a partition key must be a simple value; {rule['expression']!r} gives "
                       f"{dtype.simpleString()}")
    target = rule["target_column"]
    df = _set(df, target, expr)
    run.partition_keys.append(target)
    df = run.count(df, i, "null", _c(target).isNull())
    return run.count(df, i, "affected", _c(target).isNotNull())


def _filter(df, i, rule, run):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    text = rule["condition"]
    cond, dtype = _expression(df, text, "condition")
    if not isinstance(dtype, (T.BooleanType, T.NullType)):
        raise _Problem(f"condition {text!r} gives {dtype.simpleString()}, not true/false")
    reason = (F.when(cond.isNull(), F.lit(f"condition {text} is null"))
              .otherwise(F.lit(f"condition {text} is false")))
    return _reject(df, i, rule, ~F.coalesce(cond, F.lit(False)), reason)


def _type_conversion(df, i, rule, run):
    from pyspark.sql import functions as F

    name, target = rule["column"], rule["target_type"]
    _need_column(df, name)
    col = _c(name)
    converted = _resolve(df, f"target_type {target!r}", lambda: col.try_cast(target))
    df = _resolve(df, f"converting {name!r} to {target!r}", lambda: _set(df, _TMP, converted))
    reason = F.concat(F.lit(f"column {name!r}: cannot convert '"), col.cast("string"),
                      F.lit(f"' to {target}"))
    df = _reject(df, i, rule, col.isNotNull() & _c(_TMP).isNull(), reason)
    df = run.count(df, i, "affected", _c(_TMP).isNotNull())
    return df.withColumn(name, _c(_TMP)).drop(_TMP)


def _categorical_mapping(df, i, rule, run):
    from itertools import chain

    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    name = rule["column"]
    dtype = _need_column(df, name)
    target = rule.get("target_column", name)
    mapping = rule["mapping"]
    lookup = F.create_map(*chain.from_iterable((F.lit(str(k)), F.lit(v)) for k, v in mapping.items()))
    key = _c(name).cast("string")
    found = F.map_contains_key(lookup, key)
    value_type = _resolve(df, "mapping", lambda: df.select(lookup.alias("m")).schema["m"].dataType.valueType)
    if "default" in rule:
        other = F.lit(rule["default"])
        run.notes[i] = f"unmapped values set to {rule['default']!r}"
    elif isinstance(value_type, (T.StringType, T.NullType)):
        other = _c(name).cast("string")
        run.notes[i] = "unmapped values kept"
    elif value_type == dtype:
        other = _c(name)
        run.notes[i] = "unmapped values kept"
    else:
        raise _Problem(f"unmapped values of {name!r} ({dtype.simpleString()}) are kept, so mapping values "
                       f"must be text or {dtype.simpleString()}, not {value_type.simpleString()}; or give a "
                       "'default'")
    df = run.count(df, i, "affected", found)
    df = run.count(df, i, "unmapped", _c(name).isNotNull() & ~found)
    return _resolve(df, "mapping", lambda: _set(df, target, F.when(found, lookup[key]).otherwise(other)))


def _order(df, spec: str):
    m = re.match(r"^(.*?)(?:\s+(asc|desc))?\s*$", spec.strip(), flags=re.I)
    name, direction = m.group(1), (m.group(2) or "asc").lower()
    _need_column(df, name, "order_by column")
    return _c(name).desc_nulls_last() if direction == "desc" else _c(name).asc_nulls_last()


def _deduplicate(df, i, rule, run):
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    keys = _as_list(rule["keys"])
    for k in keys:
        _need_column(df, k, "key column")
    order = [_order(df, o) for o in _as_list(rule.get("order_by", []))]
    if rule.get("keep", "first") == "last":
        order = [_order(df, o + (" asc" if o.lower().endswith(" desc") else " desc"))
                 for o in (s.strip() for s in _as_list(rule.get("order_by", [])))]
    # ties broken by every simple column, so which row is kept never depends on how the data is split
    ties = [_c(f.name).asc_nulls_last() for f in df.schema.fields
            if not f.name.startswith(_P) and isinstance(f.dataType, T.AtomicType)]
    window = Window.partitionBy(*[_c(k) for k in keys], _live()).orderBy(*order, *ties)
    df = df.withColumn(_TMP, F.row_number().over(window))
    values = F.concat_ws(", ", *[F.coalesce(_c(k).cast("string"), F.lit("null")) for k in keys])
    reason = F.concat(F.lit(f"duplicate of ({', '.join(keys)}) = ("), values, F.lit(")"))
    return _reject(df, i, rule, _c(_TMP) > 1, reason).drop(_TMP)


def _standardize(df, i, rule, run):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    name = rule["column"]
    dtype = _need_column(df, name)
    if not isinstance(dtype, T.StringType):
        raise _Problem(f"standardize works on text; {name!r} is {dtype.simpleString()}")
    col = value = _c(name)
    for action in _as_list(rule["action"]):
        if action == "trim":
            value = F.trim(value)
        elif action == "lower":
            value = F.lower(value)
        elif action == "upper":
            value = F.upper(value)
        elif action == "collapse_spaces":
            value = F.regexp_replace(F.trim(value), r"\s+", " ")
        elif action == "phone":        # keep digits and a leading +; "00" as international prefix becomes "+"
            digits = F.regexp_replace(value, r"[^0-9+]", "")
            value = F.regexp_replace(F.regexp_replace(digits, r"(?<!^)\+", ""), r"^00", "+")
        elif action == "email":
            value = F.lower(F.trim(value))
        elif action == "date":
            formats = _as_list(rule["formats"])
            parsed = F.coalesce(*[F.try_to_date(value, f) for f in formats])
            df = _set(df, _TMP, parsed)
            reason = F.concat(F.lit(f"column {name!r}: '"), col,
                              F.lit(f"' matches none of the formats {', '.join(formats)}"))
            df = _reject(df, i, rule, col.isNotNull() & _c(_TMP).isNull(), reason)
            df = run.count(df, i, "affected", _c(_TMP).isNotNull())
            return df.withColumn(name, _c(_TMP)).drop(_TMP)
    df = run.count(df, i, "affected", ~col.eqNullSafe(value))
    return _set(df, name, value)


_STEPS = {"null_handling": _null_handling, "derived_field": _derived_field, "filter": _filter,
          "type_conversion": _type_conversion, "categorical_mapping": _categorical_mapping,
          "partition_key": _partition_key, "deduplicate": _deduplicate, "standardize": _standardize}
_TARGETS = {"derived_field": "target_column", "partition_key": "target_column",
            "categorical_mapping": "target_column"}


@contextlib.contextmanager
def _quiet_spark_errors():
    """PySpark logs every analysis error it raises; the ones validation catches on purpose are not news."""
    loggers = [logging.getLogger(n) for n in _QUIET]
    before = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, before):
            lg.disabled = was


def _run(df, doc: dict, dry: bool, skip: frozenset = frozenset()) -> tuple:
    """Apply every enabled rule in order to ``df`` (with the reject column); returns (df, run, problems).

    Rules numbered in ``skip`` (broken in structure) are not run; a column they would make is added as NULLs
    so that later rules using it are not reported as well.
    """
    from pyspark.sql import functions as F

    run, problems = _Run(dry), []
    clash = [c for c in df.columns if c.startswith(_P)]
    if clash:
        raise RuleError(f"the input has columns the engine uses for itself: {', '.join(clash)}", doc["table"])
    reject_type = "struct<rule_index:int,rule:string,reason:string,record:string>"
    df = df.withColumn(_REJECT, F.lit(None).cast(reject_type))
    for i, rule in enumerate(doc["rules"], start=1):
        if rule.get("enabled", True) is False:
            run.notes[i] = "disabled"
            continue
        try:
            if i in skip:
                raise _Problem("")
            df = _STEPS[rule["rule"]](df, i, rule, run)
        except _Problem as p:
            if i not in skip:
                problems.append((i, f"{_label(i, rule)}: {p}"))
            target = rule.get(_TARGETS.get(rule.get("rule"), ""))
            if isinstance(target, str) and target and target.lower() not in {c.lower() for c in df.columns}:
                df = df.withColumn(target, F.lit(None))
    return df, run, problems


def validate(doc, schema, *, spark=None):
    """Check the rules against a schema without reading any data; return the output schema they produce.

    ``schema``: a StructType, a DataFrame (only its schema is used), a Glue table (``get_table()["Table"]``)
    or a list of Glue columns. Checks structure (:func:`normalize`), then runs every rule through Spark's
    analyser on an empty DataFrame of that schema: missing columns, expressions Spark cannot parse or
    resolve, unknown target types, impossible casts, values that do not fit their column. Rules see the
    columns earlier rules made. All problems are raised together in one :class:`RuleError`; no Spark job runs.
    """
    doc, problems, broken = _normalized(doc)
    frame = _schema_frame(schema, spark)
    with _quiet_spark_errors():
        out, _, found = _run(frame, doc, dry=True, skip=frozenset(broken))
    if problems or found:
        ordered = sorted(problems + found, key=lambda p: p[0])     # by rule number; stable within a rule
        raise RuleError([p for _, p in ordered], doc["table"])
    from pyspark.sql import types as T

    return T.StructType([f for f in out.schema.fields if not f.name.startswith(_P)])


# ---- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleStat:
    """What one rule did: rows it changed (``affected``), rows it rejected, and a short note."""
    index: int
    type: str
    rule: str
    target: str
    affected: int
    rejected: int
    note: str = ""


@dataclass(frozen=True)
class RuleResult:
    """The outcome of :func:`apply`.

    ``output``: the transformed rows. ``rejected``: the rows rules removed, with ``rule_index``, ``rule``,
    ``reason`` and ``record`` (the row as JSON, as the rule saw it). ``input_rows = output_rows +
    rejected_rows`` by construction; :meth:`reconcile` counts all three again, independently.
    """
    table: str | None
    output: object
    rejected: object
    input_rows: int
    output_rows: int
    rejected_rows: int
    stats: tuple
    partition_keys: tuple
    source: object = field(repr=False, default=None)
    _persisted: object = field(repr=False, default=None)

    @property
    def reconciled(self) -> bool:
        return self.input_rows == self.output_rows + self.rejected_rows

    def reconcile(self) -> dict:
        """Count input, output and rejected rows with three separate Spark jobs; raise RuleError unless
        input = output + rejected. Returns the counts."""
        counts = {"input": self.source.count(), "output": self.output.count(),
                  "rejected": self.rejected.count()}
        if counts["input"] != counts["output"] + counts["rejected"]:
            total = counts["output"] + counts["rejected"]
            raise RuleError(f"{counts['input']} input rows but {counts['output']} output + "
                            f"{counts['rejected']} rejected = {total}", self.table)
        return counts

    def unpersist(self) -> None:
        """Free the transformed rows :func:`apply` kept for ``output`` and ``rejected``."""
        if self._persisted is not None:
            self._persisted.unpersist()

    def report(self) -> str:
        """The per-rule summary as a text table, with the reconciliation line."""
        head = ("#", "type", "rule", "target", "affected", "rejected", "note")
        rows = [(str(s.index), s.type, s.rule, s.target, f"{s.affected:,}", f"{s.rejected:,}", s.note)
                for s in self.stats]
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        right = {0, 4, 5}

        def line(r):
            return "  ".join(v.rjust(w) if k in right else v.ljust(w) for k, (v, w) in
                             enumerate(zip(r, widths))).rstrip()
        ok = "=" if self.reconciled else "!="
        return "\n".join([line(head), *map(line, rows),
                          f"input {self.input_rows:,} {ok} output {self.output_rows:,} + rejected "
                          f"{self.rejected_rows:,}"])

    def stats_frame(self):
        """The per-rule summary as a pandas DataFrame (for plots)."""
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.stats])


def _target(rule: dict) -> str:
    if rule["rule"] == "deduplicate":
        return ", ".join(_as_list(rule["keys"]))
    if rule["rule"] == "filter":
        return ""
    return rule.get("target_column") or rule.get("column", "")


def apply(df, doc, *, validated: bool = False, persist: bool = True) -> RuleResult:
    """Apply the rules to ``df`` in order; return output, rejected rows and a per-rule summary.

    The rules are validated against ``df``'s schema first (no data read), unless ``validated``. Rows are never
    lost: filter, ``drop_row``, deduplicate, failed type conversions and unparseable dates move rows to
    ``rejected`` with the rule and the reason (Spark 4 runs in ANSI mode; conversions use ``try_cast`` and
    failures are routed, never turned into silent NULLs). Later rules skip rejected rows.

    One Spark job counts the summary. With ``persist`` (the default) the transformed rows are kept (memory,
    then disk) by that job, so writing ``output`` and ``rejected`` afterwards does not run the rules again;
    :meth:`RuleResult.unpersist` frees them.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    doc = normalize(doc)
    if not validated:
        validate(doc, df)
    marked, run, problems = _run(df, doc, dry=False)
    if problems:
        raise RuleError([p for _, p in problems], doc["table"])
    if persist:
        marked = marked.persist(StorageLevel.MEMORY_AND_DISK)
    aggs = [F.count(F.lit(1)).alias("input"), F.count_if(_live()).alias("output")]
    for i, names in run.counters.items():
        aggs += [F.count_if(_c(col)).alias(f"c{i}_{name}") for name, col in names.items()]
    aggs += [F.count_if(_c(_REJECT).getField("rule_index") == i).alias(f"r{i}")
             for i in range(1, len(doc["rules"]) + 1)]
    totals = marked.agg(*aggs).first().asDict()
    output = marked.filter(_live()).select(*[_c(c) for c in _data_columns(marked)])
    rejected = marked.filter(~_live()).select(f"{_REJECT}.*")
    stats = []
    for i, rule in enumerate(doc["rules"], start=1):
        note = run.notes.get(i, "")
        if rule["rule"] == "categorical_mapping" and totals.get(f"c{i}_unmapped"):
            note = f"{totals[f'c{i}_unmapped']:,} {note}"
        if rule["rule"] == "partition_key" and rule.get("enabled", True):
            target = rule["target_column"]
            distinct = output.select(_c(target)).where(_c(target).isNotNull()).distinct().count()
            note = f"{distinct:,} distinct values"
            if totals[f"c{i}_null"]:
                n = totals[f"c{i}_null"]
                note += f", {n:,} row{'s' * (n != 1)} without a value"
        stats.append(RuleStat(i, rule["type"], rule["rule"], _target(rule),
                              int(totals.get(f"c{i}_affected", 0)), int(totals[f"r{i}"]), note))
    return RuleResult(doc["table"], output, rejected, int(totals["input"]), int(totals["output"]),
                      int(totals["input"]) - int(totals["output"]), tuple(stats), tuple(run.partition_keys),
                      df, marked if persist else None)
