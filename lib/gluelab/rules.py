"""Metadata-driven transformation rules: the rules live with the table, one generic job applies them.

Why: hard-coded ETL puts every business decision (how to fill a missing amount, which rows count, how a
partition key is built) into code, so each change is a code change, a review and a deployment. Kept as
metadata next to the table (a Glue table parameter, or a JSON/YAML document in S3), the same decisions can be
read, versioned and changed by the people who own them, and one generic job applies whatever the table says.

A rules document, in the shape of the guide's example::

    {"table": "customer_transactions",
     "rules": [
       {"type": "data_quality", "rule": "null_handling", "column": "transaction_amount",
        "action": "replace_with_zero"},
       {"type": "business_logic", "rule": "derived_field", "expression": "transaction_amount * tax_rate",
        "target_column": "total_amount"},
       {"type": "optimization", "rule": "partition_key",
        "expression": "date_format(transaction_date, 'yyyy-MM')", "target_column": "year_month"}]}

``type`` is a category (``data_quality``, ``business_logic``, ``optimization``: a label for people) and
``rule`` the kind of rule. The guide's shorter form, where ``type`` names the rule (``column_combination``,
``filter``, ``data_type_conversion``), is accepted too. Rule kinds (:data:`RULES` lists their keys):

* ``null_handling``: ``column``, ``action`` = replace_with_zero | replace_with_value (+ ``value``) |
  replace_with_mean | drop_row;
* ``derived_field``: ``expression`` (Spark SQL), ``target_column``;
* ``filter``: ``condition`` (Spark SQL); rows where it is false or null are rejected;
* ``type_conversion``: ``column``, ``target_type`` (a Spark SQL type); values that do not convert are
  rejected;
* ``categorical_mapping``: ``column``, ``mapping`` {value: new value}, optional ``default`` (else unmapped
  values are kept) and ``target_column`` (else the column is replaced);
* ``partition_key``: ``expression``, ``target_column``; the result lists it in ``partition_keys``;
* ``deduplicate``: ``keys``, optional ``order_by`` ("col" or "col desc", or a list) and ``keep``
  (first | last); later duplicates are rejected;
* ``standardize``: ``column``, ``action`` (one or a list of trim, lower, upper, collapse_spaces, phone,
  email, date); ``date`` needs ``formats`` (Spark datetime patterns) and makes a DATE, rejecting text that
  matches none of them.

Every rule may carry ``description`` (text) and ``enabled`` (false skips it).

The engine's promises: :func:`validate` checks a document against a schema before any data is read (unknown
rules, missing keys, missing columns, expressions Spark cannot parse or resolve, unknown types: all problems
in one :class:`RuleError`); rules apply in order, so a rule may use a column an earlier one made; and
:func:`apply` never drops a row silently: every input row ends up either in ``output`` or in ``rejected``
(with the rule and the reason), which :meth:`RuleResult.reconcile` proves by counting.
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import html
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CATEGORIES", "PARAMETER", "PARAMETER_LIMIT", "PARAMETER_URI", "RULES", "RuleError", "RuleResult",
           "RuleStat", "RulesView", "apply", "describe", "dumps", "load", "load_from_table", "normalize",
           "save_to_s3", "save_to_table", "spark_schema", "validate"]

#: Table parameter holding the rules document as JSON text.
PARAMETER = "transformation_rules"
#: Table parameter holding the S3 URI of a rules document (for documents too large for a parameter).
PARAMETER_URI = "transformation_rules_uri"
#: Glue's limit on a table parameter value (TableInput.Parameters: at most 512,000 characters).
PARAMETER_LIMIT = 512_000
CATEGORIES = ("data_quality", "business_logic", "optimization")

_COMMON = ("description", "enabled")
#: rule -> (default category, required keys, optional keys)
RULES = {
    "null_handling": ("data_quality", ("column", "action"), ("value",)),
    "derived_field": ("business_logic", ("expression", "target_column"), ()),
    "filter": ("business_logic", ("condition",), ()),
    "type_conversion": ("optimization", ("column", "target_type"), ()),
    "categorical_mapping": ("business_logic", ("column", "mapping"), ("default", "target_column")),
    "partition_key": ("optimization", ("expression", "target_column"), ()),
    "deduplicate": ("data_quality", ("keys",), ("order_by", "keep")),
    "standardize": ("data_quality", ("column", "action"), ("formats",)),
}
#: Other names for rules: the guide's static-vs-dynamic example and common spellings.
ALIASES = {"column_combination": "derived_field", "data_type_conversion": "type_conversion",
           "dedup": "deduplicate", "duplicate_detection": "deduplicate",
           "format_standardization": "standardize", "standardise": "standardize"}
NULL_ACTIONS = ("replace_with_zero", "replace_with_value", "replace_with_mean", "drop_row")
STANDARDIZE_ACTIONS = ("trim", "lower", "upper", "collapse_spaces", "phone", "email", "date")

_P = "__rules_"                      # prefix of the engine's working columns
_REJECT = _P + "rejected"
_TMP = _P + "tmp"
_QUIET = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


class RuleError(ValueError):
    """A rules document that cannot be used, with every problem found (``.problems``)."""

    def __init__(self, problems, table: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        where = f" for table {table}" if table else ""
        n = len(self.problems)
        head = f"{n} problem{'s' * (n != 1)} in the rules{where}:"
        super().__init__(head + "".join(f"\n  - {p}" for p in self.problems))


class _Problem(Exception):
    """One problem with one rule, raised inside a step and collected by the runner."""


# ---- documents: normalise, load, store ---------------------------------------------------------------------


def _suggest(word, choices) -> str:
    choices = list(choices)
    same = [c for c in choices if str(c).lower() == str(word).lower()]
    close = same or difflib.get_close_matches(str(word), choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _label(i: int, rule: dict) -> str:
    return f"rule {i} ({rule['rule']})" if rule.get("rule") in RULES else f"rule {i}"


def _as_list(value):
    return [value] if isinstance(value, str) else value


def _check_values(rule: dict) -> list[str]:
    """Problems with the values of a rule's keys (types, allowed actions) that need no schema."""
    out = []

    def text(key):
        v = rule.get(key)
        if key in rule and not (isinstance(v, str) and v.strip()):
            out.append(f"{key!r} must be a non-empty string, not {v!r}")

    for key in ("column", "expression", "condition", "target_column", "target_type", "description"):
        text(key)
    for key in ("expression", "condition"):
        if isinstance(rule.get(key), str):
            out += [h for h in map(_pattern_hint, _DATETIME_PATTERN.findall(rule[key])) if h]
    kind = rule["rule"]
    if kind == "null_handling" and "action" in rule:
        if rule["action"] not in NULL_ACTIONS:
            out.append(f"unknown action {rule['action']!r}{_suggest(rule['action'], NULL_ACTIONS)}; actions "
                       f"are {', '.join(NULL_ACTIONS)}")
        elif rule["action"] == "replace_with_value" and "value" not in rule:
            out.append("action 'replace_with_value' needs a 'value'")
    if kind == "categorical_mapping" and "mapping" in rule:
        m = rule["mapping"]
        if not isinstance(m, dict) or not m:
            out.append(f"'mapping' must be a non-empty object {{value: new value}}, not {m!r}")
        else:
            kinds = {_value_kind(v) for v in [*m.values(), *([rule["default"]] if "default" in rule else [])]}
            kinds.discard("null")
            if len(kinds) > 1 or "other" in kinds:
                out.append("mapping values (and the default) must all be text, all numbers or all true/false")
    if kind == "deduplicate":
        keys = _as_list(rule.get("keys"))
        if "keys" in rule and not (isinstance(keys, list) and keys
                                   and all(isinstance(k, str) and k for k in keys)):
            out.append(f"'keys' must be a column name or a non-empty list of them, not {rule['keys']!r}")
        order = _as_list(rule.get("order_by", []))
        if not (isinstance(order, list) and all(isinstance(o, str) and o.strip() for o in order)):
            out.append(f"'order_by' must be a column (optionally 'col desc') or a list of them, not "
                       f"{rule['order_by']!r}")
        if rule.get("keep", "first") not in ("first", "last"):
            out.append(f"'keep' must be 'first' or 'last', not {rule['keep']!r}")
    if kind == "standardize" and "action" in rule:
        actions = _as_list(rule["action"])
        if not (isinstance(actions, list) and actions and all(isinstance(a, str) for a in actions)):
            out.append(f"'action' must be one of {', '.join(STANDARDIZE_ACTIONS)} or a list of them")
        else:
            for a in actions:
                if a not in STANDARDIZE_ACTIONS:
                    out.append(f"unknown action {a!r}{_suggest(a, STANDARDIZE_ACTIONS)}; actions are "
                               f"{', '.join(STANDARDIZE_ACTIONS)}")
            if "date" in actions and actions[-1] != "date":
                out.append("'date' must be the last action (it turns text into a DATE)")
            if "date" in actions:
                formats = _as_list(rule.get("formats"))
                if not (isinstance(formats, list) and formats
                        and all(isinstance(f, str) and f for f in formats)):
                    out.append("action 'date' needs 'formats': a list of Spark datetime patterns, e.g. "
                               "['M/d/yyyy', 'yyyy-MM-dd']")
                else:
                    out += [_pattern_hint(f) for f in formats if _pattern_hint(f)]
    if "enabled" in rule and not isinstance(rule["enabled"], bool):
        out.append(f"'enabled' must be true or false, not {rule['enabled']!r}")
    return out


def _value_kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "text" if isinstance(v, str) else "other"


#: The pattern argument of Spark's datetime functions inside an expression (one level of nested parentheses).
_DATETIME_PATTERN = re.compile(r"\b(?:date_format|to_date|to_timestamp|try_to_date|try_to_timestamp|"
                               r"unix_timestamp|to_unix_timestamp|from_unixtime)"
                               r"\s*\((?:[^()']|\([^()]*\))*?,\s*'([^']*)'", re.I)


def _pattern_hint(fmt: str) -> str:
    """A likely mistake in a Spark datetime pattern, or ''."""
    letters = re.sub(r"'[^']*'", "", fmt)
    if "Y" in letters:
        return f"format {fmt!r}: 'Y' is the week-based year; use 'y' for the calendar year"
    if "D" in letters:
        return f"format {fmt!r}: 'D' is the day of the year; use 'd' for the day of the month"
    if "m" in letters and not re.search("[Hhk]", letters):
        return f"format {fmt!r}: 'm' is minutes; use 'M' for the month"
    return ""


def _normalize_rule(i: int, raw) -> tuple[dict, list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"rule {i}: must be an object with 'type' and 'rule', not {raw!r}"]
    rule = dict(raw)
    kind = rule.get("rule")
    category = rule.get("type")
    names = [*CATEGORIES, *RULES, *ALIASES]
    if kind is None and category is None:
        return rule, [f"rule {i}: has neither 'type' nor 'rule'"]
    if kind is None:              # the guide's short form: "type" names the rule
        kind, category = category, None
    if not isinstance(kind, str) or not isinstance(category, (str, type(None))):
        return rule, [f"rule {i}: 'type' and 'rule' must be names, not {raw.get('type')!r} and "
                      f"{raw.get('rule')!r}"]
    kind = ALIASES.get(kind, kind)
    if kind not in RULES:
        known = ", ".join(RULES)
        return rule, [f"rule {i}: unknown rule {kind!r}{_suggest(kind, names)}; rules are {known}"]
    if category is not None and ALIASES.get(category, category) not in (*CATEGORIES, kind):
        return rule, [f"rule {i} ({kind}): unknown type {category!r}{_suggest(category, CATEGORIES)}; types "
                      f"are {', '.join(CATEGORIES)}"]
    if category is None or category not in CATEGORIES:
        category = RULES[kind][0]
    _, required, optional = RULES[kind]
    allowed = {"type", "rule", *required, *optional, *_COMMON}
    out = {"type": category, "rule": kind, **{k: v for k, v in rule.items() if k not in ("type", "rule")}}
    label = f"rule {i} ({kind})"
    problems = [f"{label}: missing key {k!r}" for k in required if k not in rule]
    problems += [f"{label}: unknown key {k!r}{_suggest(k, allowed)}" for k in rule if k not in allowed]
    problems += [f"{label}: {p}" for p in _check_values(out)]
    return out, problems


def _normalized(doc) -> tuple[dict, list[tuple[int, str]], set[int]]:
    """(canonical document, problems as (rule number or 0, text), numbers of the rules with problems)."""
    if isinstance(doc, list):
        doc = {"rules": doc}
    if not isinstance(doc, dict):
        raise RuleError(f"a rules document is an object {{'table': ..., 'rules': [...]}}, "
                        f"not {type(doc).__name__}")
    problems = [(0, f"unknown key {k!r}{_suggest(k, ('table', 'rules'))} at the top level (expected 'table' "
                 "and 'rules')") for k in doc if k not in ("table", "rules")]
    table = doc.get("table")
    if table is not None and not (isinstance(table, str) and table):
        problems.append((0, f"'table' must be a table name, not {table!r}"))
    rules = doc.get("rules")
    if not isinstance(rules, list):
        raise RuleError([p for _, p in problems] + [f"'rules' must be a list of rules, not {rules!r}"], table)
    out, broken = [], set()
    for i, raw in enumerate(rules, start=1):
        rule, found = _normalize_rule(i, raw)
        out.append(rule)
        problems += [(i, p) for p in found]
        broken |= {i} if found else set()
    return {"table": table, "rules": copy.deepcopy(out)}, problems, broken


def normalize(doc) -> dict:
    """The canonical form of a rules document (aliases resolved, every rule with ``type`` and ``rule``).

    Raises :class:`RuleError` listing every structural problem (unknown rules and keys, missing keys, wrong
    values); checks that need the table's schema are :func:`validate`'s.
    """
    doc, problems, _ = _normalized(doc)
    if problems:
        raise RuleError([p for _, p in problems], doc["table"])
    return doc


def dumps(doc, fmt: str = "json") -> str:
    """The document as text: ``json`` (compact, for a table parameter), ``json-pretty`` or ``yaml``."""
    doc = normalize(doc)
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if fmt == "json-pretty":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    raise ValueError(f"fmt must be 'json', 'json-pretty' or 'yaml', not {fmt!r}")


def _parse(text: str, name: str, fmt: str | None = None):
    if fmt is None:
        fmt = "yaml" if name.lower().endswith((".yaml", ".yml")) else "json" if name.lower().endswith(
            ".json") else None
    if fmt in (None, "json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            if fmt == "json":
                raise RuleError(f"{name} is not valid JSON: {e}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RuleError(f"{name} is neither valid JSON nor valid YAML: {e}") from None


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ValueError(f"not an S3 object URI: {uri!r} (expected s3://bucket/key)")
    return bucket, key


def load(source, *, s3=None) -> dict:
    """Read a rules document from a dict, a JSON/YAML file path, an ``s3://bucket/key`` URI or JSON text.

    The format comes from the extension (``.json``, ``.yaml``/``.yml``); without one JSON is tried, then YAML.
    ``s3`` is a boto3 S3 client (default: ``boto3.client("s3")``, which reaches the lab's endpoint once it is
    started). Returns the normalised document (:func:`normalize`).
    """
    if isinstance(source, (dict, list)):
        return normalize(source)
    text = str(source)
    if isinstance(source, str) and text.lstrip().startswith("{"):
        return normalize(_parse(text, "the rules text", "json"))
    if text.startswith("s3://"):
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        bucket, key = _split_s3(text)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        return normalize(_parse(body, text))
    path = Path(source)
    return normalize(_parse(path.read_text(encoding="utf-8"), path.name))


def save_to_s3(s3, uri: str, doc) -> str:
    """Write the document to ``s3://bucket/key``: YAML for ``.yaml``/``.yml``, else pretty JSON."""
    fmt = "yaml" if uri.lower().endswith((".yaml", ".yml")) else "json-pretty"
    bucket, key = _split_s3(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=dumps(doc, fmt).encode("utf-8"),
                  ContentType="application/yaml" if fmt == "yaml" else "application/json")
    return uri


def save_to_table(glue, database: str, table: str, doc=None, *, uri: str | None = None) -> str:
    """Store rules with a Glue table: the document as JSON in the parameter :data:`PARAMETER`, or (``uri=``)
    the S3 URI of a document in :data:`PARAMETER_URI`. Returns the table's new version id.

    Every ``update_table`` keeps the previous definition as a table version, so the catalog records the
    history of the rules too. A parameter value holds at most 512,000 characters: a larger document is
    refused with a :class:`RuleError` that says to store it in S3 and save its URI instead.
    """
    if (doc is None) == (uri is None):
        raise ValueError("give either the rules document or uri='s3://...' of one")
    from .catalog import table_input

    current = glue.get_table(DatabaseName=database, Name=table)["Table"]
    params = dict(current.get("Parameters", {}))
    params.pop(PARAMETER, None)
    params.pop(PARAMETER_URI, None)
    if uri is not None:
        _split_s3(uri)
        params[PARAMETER_URI] = uri
    else:
        doc = normalize(doc)
        if doc["table"] not in (None, table):
            raise RuleError(f"the document is for table {doc['table']!r}, not {table!r}", table)
        text = dumps({**doc, "table": table})
        if len(text) > PARAMETER_LIMIT or len(text.encode("utf-8")) > PARAMETER_LIMIT:
            raise RuleError(f"the rules are {len(text.encode('utf-8')):,} bytes as JSON; a Glue table "
                            f"parameter value holds at most {PARAMETER_LIMIT:,}: store the document in S3 "
                            "(save_to_s3) and save its URI with save_to_table(..., uri='s3://...')", table)
        params[PARAMETER] = text
    glue.update_table(DatabaseName=database, TableInput={**table_input(current), "Parameters": params})
    return glue.get_table(DatabaseName=database, Name=table)["Table"].get("VersionId", "")


def load_from_table(glue, database: str, table: str, *, s3=None) -> dict:
    """The rules stored with a Glue table (see :func:`save_to_table`), normalised."""
    params = glue.get_table(DatabaseName=database, Name=table)["Table"].get("Parameters", {})
    if PARAMETER in params:
        doc = _parse(params[PARAMETER], f"parameter {PARAMETER!r} of {database}.{table}", "json")
    elif PARAMETER_URI in params:
        doc = load(params[PARAMETER_URI], s3=s3)
    else:
        raise RuleError(f"table {database}.{table} has no rules: no parameter {PARAMETER!r} (JSON) or "
                        f"{PARAMETER_URI!r} (S3 URI of a JSON/YAML document); store some with "
                        "rules.save_to_table", table)
    doc = normalize(doc)
    return {**doc, "table": doc["table"] or table}


# ---- schemas -----------------------------------------------------------------------------------------------


def spark_schema(table_or_columns):
    """A Spark StructType from a Glue table (``get_table()["Table"]``: columns then partition keys) or a list
    of Glue columns ``[{"Name", "Type"}]``. ``char(n)``/``varchar(n)`` become ``string``."""
    from pyspark.sql import types as T

    if isinstance(table_or_columns, dict):
        columns = (table_or_columns.get("StorageDescriptor", {}).get("Columns", [])
                   + table_or_columns.get("PartitionKeys", []))
    else:
        columns = list(table_or_columns)
    fields = []
    for c in columns:
        hive = re.sub(r"\b(?:var)?char\s*\(\s*\d+\s*\)", "string", c["Type"], flags=re.I)
        fields.append(T.StructField(c["Name"], T.DataType.fromDDL(hive), True))
    return T.StructType(fields)


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
        from . import spark as gluelab_spark

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


# ---- describe ----------------------------------------------------------------------------------------------


def _what(rule: dict) -> str:
    """A rule in words."""
    kind = rule["rule"]
    if kind == "null_handling":
        action = rule["action"]
        fill = {"replace_with_zero": "0", "replace_with_mean": "the column's mean",
                "replace_with_value": repr(rule.get("value"))}.get(action)
        return (f"reject rows where {rule['column']} is null" if action == "drop_row"
                else f"replace nulls in {rule['column']} with {fill}")
    if kind in ("derived_field", "partition_key"):
        return f"{rule['target_column']} = {rule['expression']}"
    if kind == "filter":
        return f"keep rows where {rule['condition']}"
    if kind == "type_conversion":
        return f"convert {rule['column']} to {rule['target_type']}"
    if kind == "categorical_mapping":
        m = rule["mapping"]
        shown = ", ".join(f"{k}->{v}" for k, v in list(m.items())[:3]) + (", ..." if len(m) > 3 else "")
        rest = f"; else {rule['default']!r}" if "default" in rule else ""
        into = f" into {rule['target_column']}" if rule.get("target_column") else ""
        return f"map {rule['column']}{into}: {shown}{rest}"
    if kind == "deduplicate":
        order = ", ".join(_as_list(rule.get("order_by", []))) or "all columns"
        keys = ", ".join(_as_list(rule["keys"]))
        return f"keep the {rule.get('keep', 'first')} row per ({keys}) by {order}"
    actions = _as_list(rule["action"])
    formats = f" from {' or '.join(_as_list(rule['formats']))}" if "date" in actions else ""
    return f"{' + '.join(actions)} {rule['column']}{formats}"


class RulesView:
    """A rules document as a small table; ``print()`` it, or let Jupyter show it as HTML."""

    HEAD = ("#", "type", "rule", "what", "enabled")

    def __init__(self, doc: dict):
        self.table = doc["table"]
        self.rows = [(str(i), r["type"], r["rule"], _what(r), "yes" if r.get("enabled", True) else "no")
                     for i, r in enumerate(doc["rules"], start=1)]

    def __str__(self) -> str:
        widths = [max(len(r[k]) for r in [self.HEAD, *self.rows]) for k in range(len(self.HEAD))]
        lines = [f"rules for {self.table or '(no table)'}"]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in [self.HEAD, *self.rows]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(h)}</th>" for h in self.HEAD)
        body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in self.rows)
        return (f"<div><b>rules for {e(self.table or '(no table)')}</b>"
                f"<table><tr>{head}</tr>{body}</table></div>")


def describe(doc) -> RulesView:
    """The rules as a small table (number, type, rule, what it does in words, enabled)."""
    return RulesView(normalize(doc))
