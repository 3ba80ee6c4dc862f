"""Choice types: where they come from (CSV, JSON, union) and the expressions that resolve them.

Glue computes a DynamicFrame's schema from its records and, where records disagree on a field's type, records
a *choice* instead of giving up and calling everything a string as Spark's readers do. This module does the
same on Spark DataFrames:

- :func:`csv_frame` types an all-string CSV read in one aggregation pass: a column whose non-empty values are
  all integers is ``long``, all numbers ``double``, all ``true``/``false`` ``boolean``; numbers mixed with text
  make a choice of the numeric type and ``string``; empty strings are null.
- :func:`read_json` reads JSON (lines, or whole-file documents) after one Python pass over the text that
  collects each field's types; fields whose records disagree become choices (nested structs included). No
  choices inside arrays: array elements that disagree widen ``int``/``long``/``double`` to ``double`` and
  otherwise hold the JSON text as ``string``. Lines that are not JSON objects become error records naming
  the file and the line (:func:`json_frame` raises on them instead).
- :func:`union_frames` aligns two frames for ``union``; fields whose types differ become choices.
- ``cast_expr``/``project_expr``/``make_cols_exprs`` are the resolveChoice actions as Column expressions.

A choice is stored as a struct whose field names are Glue type names (see :mod:`gluelab.glue.types`).
"""
from __future__ import annotations

import json
import re

from pyspark.sql import functions as F
from pyspark.sql import types as T

from .types import (choice_alternatives, choice_column, choice_kind_of, choice_type, join_path, python_kind,
                    slot_name)

_INT_RE = r"^\s*[+-]?\d+\s*$"
_NUM_RE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def _c(name: str):
    return F.col("`" + name.replace("`", "``") + "`")


# ----------------------------------------------------------------------------------------------- CSV

def csv_frame(df):
    """Type an all-string DataFrame (CSV read without inferSchema) as Glue would: ``(typed df, choices)``.

    One aggregation pass counts, per column, the non-empty values and how many parse as integers, numbers
    and booleans; a second, lazy projection builds the typed columns. Column order is kept.
    """
    aggs = []
    for name in df.columns:
        v = _c(name)
        nonempty = v.isNotNull() & (F.trim(v) != "")
        is_int = nonempty & v.rlike(_INT_RE) & F.trim(v).try_cast("long").isNotNull()
        is_num = nonempty & v.rlike(_NUM_RE)
        is_bool = nonempty & F.lower(F.trim(v)).isin("true", "false")
        aggs += [F.count_if(nonempty), F.count_if(is_int), F.count_if(is_num), F.count_if(is_bool)]
    if not aggs:
        return df, frozenset()
    counts = df.agg(*aggs).collect()[0]
    cols, choices = [], set()
    for i, name in enumerate(df.columns):
        nonempty_n, int_n, num_n, bool_n = counts[4 * i: 4 * i + 4]
        v = _c(name)
        t = F.trim(v)
        nonempty = v.isNotNull() & (t != "")
        if nonempty_n == 0:
            col = F.when(nonempty, v).cast("string")
        elif int_n == nonempty_n:
            col = F.when(nonempty, t.try_cast("long"))
        elif num_n == nonempty_n:
            col = F.when(nonempty, t.try_cast("double"))
        elif bool_n == nonempty_n:
            col = F.when(nonempty, F.lower(t) == "true")
        elif num_n > 0:
            numeric = "long" if int_n == num_n else "double"
            is_num = nonempty & v.rlike(_INT_RE if numeric == "long" else _NUM_RE)
            if numeric == "long":
                is_num = is_num & t.try_cast("long").isNotNull()
            col = choice_column({numeric: F.when(is_num, t.try_cast(numeric)),
                                 "string": F.when(nonempty & ~is_num, v)})
            choices.add(join_path([name]))
        else:
            col = F.when(nonempty, v)
        cols.append(col.alias(name))
    return df.select(*cols), frozenset(choices)


# ----------------------------------------------------------------------------------------------- JSON

_ELEM = "\x00[]"  # path step for "element of an array" in the collected (path, kind) pairs


def _json_kind(value):
    """The Glue kind of a parsed JSON value; whole numbers that fit 32 bits are ``int``, as Glue reads them."""
    kind = python_kind(value)
    if kind == "long" and -2**31 <= value < 2**31:
        return "int"
    return kind


def _collect_kinds(value, path, out: dict):
    kind = _json_kind(value)
    if kind is None:
        return
    out.setdefault((path, kind), None)
    if kind == "struct":
        for k, v in value.items():
            _collect_kinds(v, path + (str(k),), out)
    elif kind == "array":
        for v in value:
            _collect_kinds(v, path + (_ELEM,), out)


_PATH_STEP = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\*|\d+)\s*\]")


def parse_json_path(path: str) -> tuple:
    """The steps of a ``jsonPath`` format option: ``("field", name)``, ``("all", None)`` for ``[*]`` (every
    element) and ``("index", n)``.

    Glue reads the records a JsonPath expression selects, e.g. ``$.records[*]`` for records nested in an outer
    array. The local runtime takes the common subset: ``$`` followed by ``.name``, ``['name']``, ``[*]`` and
    ``[n]``; anything else (filters, ``..``, slices) raises ValueError naming what it cannot read.
    """
    text = (path or "").strip()
    if not text.startswith("$"):
        raise ValueError(f"jsonPath {path!r}: a JsonPath starts with '$'")
    steps, pos = [], 1
    while pos < len(text):
        m = _PATH_STEP.match(text, pos)
        if m is None:
            raise ValueError(f"jsonPath {path!r}: cannot read {text[pos:]!r} (the local runtime reads $ followed "
                             f"by .name, ['name'], [*] and [n])")
        name, bracket = m.group(1) or m.group(2) or m.group(3), m.group(4)
        if bracket is None:
            steps.append(("field", name or ""))
        else:
            steps.append(("all", None) if bracket == "*" else ("index", int(bracket)))
        pos = m.end()
    return tuple(steps)


def _select(value, steps: tuple):
    """The values ``steps`` selects in ``value`` (a parsed JSON document); a missing field selects nothing."""
    if not steps:
        return [value]
    (kind, key), rest = steps[0], steps[1:]
    if kind == "all":
        items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
        return [found for item in items for found in _select(item, rest)]
    if kind == "index":
        return _select(value[key], rest) if isinstance(value, list) and -len(value) <= key < len(value) else []
    return _select(value[key], rest) if isinstance(value, dict) and key in value else []


def _records_of(text: str, multiline: bool, steps: tuple | None = None):
    if multiline:
        doc = json.loads(text)
    else:
        stripped = text.strip()
        if not stripped:
            return []
        doc = json.loads(stripped)
    if steps is not None:
        return _select(doc, steps)
    if multiline:
        return doc if isinstance(doc, list) else [doc]
    return [doc]


def _parsed_records(text: str, multiline: bool, steps) -> list:
    """The records of one line (or whole document): raises ValueError saying why they are not JSON objects."""
    try:
        records = _records_of(text, multiline, steps)
    except ValueError as exc:  # json.JSONDecodeError: msg, lineno, colno
        where = f", line {exc.lineno}" if multiline and hasattr(exc, "lineno") else ""
        raise ValueError(f"not valid JSON ({getattr(exc, 'msg', exc)}{where}, column "
                         f"{getattr(exc, 'colno', '?')})") from None
    for rec in records:
        if not isinstance(rec, dict):
            raise ValueError(f"not a JSON object (a JSON {_json_name(rec)})")
    return records


def _json_name(value) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null", dict: "object"}.get(
        type(value), "number")


def _partition_kinds(multiline, steps=None):
    """Per partition of the text rows (value, file, block start): the (path, kind) pairs seen, up to three
    samples of bad records, how many records were bad, and how many rows each (file, block) holds."""
    def run(rows):
        seen, bad, n_bad, lines = {}, [], 0, {}
        for row in rows:
            block = (row[1], row[2])
            lines[block] = lines.get(block, 0) + 1
            try:
                for rec in _parsed_records(row[0], multiline, steps):
                    _collect_kinds(rec, (), seen)
            except ValueError as exc:
                n_bad += 1
                if len(bad) < 3:
                    bad.append(f"{exc} in {row[0][:80]!r}")
        yield list(seen), bad, n_bad, lines
    return run


def _bad_records(multiline, steps, first_line: dict):
    """Per partition: ``(record, reason, source_file)`` of every line (or document) that is not JSON objects;
    the reason starts with the line number in its file."""
    def run(rows):
        index: dict = {}
        for row in rows:
            block = (row[1], row[2])
            line = first_line[block] + index.get(block, 0)
            index[block] = index.get(block, 0) + 1
            try:
                _parsed_records(row[0], multiline, steps)
            except ValueError as exc:
                reason = str(exc) if multiline else f"line {line}: {exc}"
                yield row[0], reason, row[1]
    return run


class _Node:
    """What was seen at one path of the JSON records: kinds, struct fields (in order), array element."""

    def __init__(self):
        self.kinds: list[str] = []
        self.fields: dict[str, _Node] = {}
        self.element: _Node | None = None

    def at(self, path):
        node = self
        for step in path:
            if step == _ELEM:
                node.element = node.element or _Node()
                node = node.element
            else:
                node = node.fields.setdefault(step, _Node())
        return node


def _merge_kinds(kinds, in_array: bool):
    ks = list(dict.fromkeys(kinds))
    if "int" in ks and "long" in ks:
        ks.remove("int")
    if in_array and len(ks) > 1 and set(ks) <= {"int", "long", "double"}:
        ks = ["double"]
    return ks


_JSON_TYPES = {"int": T.IntegerType(), "long": T.LongType(), "double": T.DoubleType(),
               "string": T.StringType(), "boolean": T.BooleanType()}


def _node_type(node: _Node, path, in_array: bool, choices: set, plan: dict):
    """Spark type for a node; ``plan`` notes where Python must convert (choices, stringified values)."""
    kinds = _merge_kinds(node.kinds, in_array)
    if not kinds:
        return T.StringType()
    if len(kinds) > 1 and in_array:
        plan["stringify"] = True
        return T.StringType()
    if len(kinds) > 1:
        alts = [_one_type(k, node, path, True, set(), plan) for k in kinds]
        choices.add(join_path(path))
        plan["choice"] = True
        return choice_type(alts)
    return _one_type(kinds[0], node, path, in_array, choices, plan)


def _one_type(kind, node, path, in_array, choices, plan):
    if kind == "struct":
        return T.StructType([T.StructField(k, _node_type(n, path + (k,), in_array, choices, plan), True)
                             for k, n in node.fields.items()])
    if kind == "array":
        return T.ArrayType(_node_type(node.element or _Node(), path, True, choices, plan), True)
    return _JSON_TYPES[kind]


def _converter(dt: T.DataType, choices=frozenset(), path=()):
    """A function turning a parsed JSON value into Spark's Python form for ``dt`` (choices as tuples)."""
    if path and join_path(path) in choices:
        slots = [(n, t, _converter(t)) for n, t in choice_alternatives(dt)]
        names = [n for n, _, _ in slots]

        def conv_choice(v):
            if v is None:
                return None
            kind = _json_kind(v)
            want = {"int": ("int", "long"), "long": ("long",)}.get(kind, (kind,))
            for w in want:
                if w in names:
                    i = names.index(w)
                    out = [None] * len(slots)
                    out[i] = slots[i][2](v)
                    return tuple(out)
            return None
        return conv_choice
    if isinstance(dt, T.StructType):
        fields = [(f.name, _converter(f.dataType, choices, path + (f.name,))) for f in dt.fields]

        def conv_struct(v):
            if not isinstance(v, dict):
                return None
            return tuple(c(v.get(n)) for n, c in fields)
        return conv_struct
    if isinstance(dt, T.ArrayType):
        elem = _converter(dt.elementType)
        return lambda v: [elem(x) for x in v] if isinstance(v, list) else None
    if isinstance(dt, T.StringType):
        return lambda v: v if v is None or isinstance(v, str) else json.dumps(v)
    if isinstance(dt, T.DoubleType):
        return lambda v: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return lambda v: v


#: Spark's JSON parser refuses strings longer than 20,000,000 characters by default (Jackson's limit); the
#: Python pass took them, so Spark must too.
_MAX_STRING = 2**31 - 1

#: The error records of a JSON read: the raw line (or document), why it is not a record, and its file.
JSON_ERRORS = T.StructType([T.StructField("record", T.StringType()), T.StructField("reason", T.StringType()),
                            T.StructField("source_file", T.StringType())])


def json_frame(spark, paths: list[str], multiline: bool = False, json_path: str | None = None):
    """Read JSON as a Glue DynamicFrame would: ``(df, choices)`` with choices where records disagree.

    Text that is not JSON objects raises a ValueError quoting up to three bad records (:func:`read_json`
    returns them as error records instead).
    """
    df, choices, _, bad, n_bad = _read_json(spark, paths, multiline, json_path)
    if n_bad:
        raise ValueError(f"{n_bad} malformed JSON record(s) in {list(paths)}: {'; '.join(bad)}")
    return df, choices


def read_json(spark, paths: list[str], multiline: bool = False, json_path: str | None = None):
    """Read JSON as a Glue DynamicFrame would: ``(df, choices, errors)``.

    One Python pass over the text collects each field's types; fields whose records disagree become choices.
    A line that is not a JSON object (or, with ``multiline``, a file that is not JSON objects) is not a
    record: it is an error record in ``errors`` (``record``: the raw text, ``reason``: ``line N: not valid
    JSON (...)`` or ``line N: not a JSON object (...)``, ``source_file``), so records + error records = the
    input's non-blank lines. ``errors`` is None when there are none. Without conflicts or bad lines Spark then
    parses the files with the collected schema; otherwise, or with ``json_path`` (the records are what that
    JsonPath selects in each document: see :func:`parse_json_path`), a Python pass builds the records.
    """
    df, choices, errors, _, _ = _read_json(spark, paths, multiline, json_path)
    return df, choices, errors


def _read_json(spark, paths, multiline, json_path):
    if isinstance(paths, str):
        paths = [paths]
    steps = parse_json_path(json_path) if json_path else None
    # the file (decoded: Spark's file_path is a URI) and the split's start: to number the lines of each file
    text = spark.read.text(list(paths), wholetext=multiline).select(
        "value", F.expr("url_decode(replace(_metadata.file_path, '+', '%2B'))").alias("file"),
        F.col("_metadata.file_block_start").alias("block"))
    parts = text.rdd.mapPartitions(_partition_kinds(multiline, steps)).collect()
    root, bad, n_bad, lines = _Node(), [], 0, {}
    for seen, bad_here, n_here, lines_here in parts:
        for path, kind in seen:
            node = root.at(path)
            if kind not in node.kinds:
                node.kinds.append(kind)
        bad += bad_here
        n_bad += n_here
        lines.update(lines_here)
    errors = None
    if n_bad:
        first_line, running = {}, {}
        for file, start in sorted(lines):
            first_line[(file, start)] = running.get(file, 0) + 1
            running[file] = running.get(file, 0) + lines[(file, start)]
        errors = spark.createDataFrame(text.rdd.mapPartitions(_bad_records(multiline, steps, first_line)),
                                       JSON_ERRORS)
    choices: set[str] = set()
    plan: dict = {}
    root.kinds = ["struct"]
    schema = _one_type("struct", root, (), False, choices, plan)
    if not plan and steps is None and not n_bad:
        reader = spark.read.schema(schema).option("multiLine", multiline).option("maxStringLen", _MAX_STRING)
        return reader.json(list(paths)), frozenset(), None, bad[:3], n_bad
    conv = _converter(schema, frozenset(choices))

    def build(rows):
        for row in rows:
            try:
                records = _parsed_records(row[0], multiline, steps)
            except ValueError:
                continue  # an error record
            for rec in records:
                yield conv(rec)
    df = spark.createDataFrame(text.rdd.mapPartitions(build), schema, verifySchema=False)
    return df, frozenset(choices), errors, bad[:3], n_bad


# ----------------------------------------------------------------------------------------------- union

def _alts(dt, is_choice):
    return choice_alternatives(dt) if is_choice else [(slot_name(dt), dt)]


def _merge_slot(name, a: T.DataType, b: T.DataType, path):
    if a == b:
        return a
    if isinstance(a, T.DecimalType) and isinstance(b, T.DecimalType):
        scale = max(a.scale, b.scale)
        return T.DecimalType(min(38, max(a.precision - a.scale, b.precision - b.scale) + scale), scale)
    raise TypeError(f"union: field '{join_path(path)}' holds {a.simpleString()} in one frame and "
                    f"{b.simpleString()} in the other, which cannot share the choice slot '{name}'")


def _as_choice(col, dt, is_choice, target: T.StructType):
    """Re-express one side's value as the merged choice struct ``target``."""
    mine = dict(_alts(dt, is_choice))
    slots = {}
    for f in target.fields:
        if f.name not in mine:
            slots[f.name] = F.lit(None).cast(f.dataType)
        elif is_choice:
            slots[f.name] = col[f.name].cast(f.dataType)
        else:
            slots[f.name] = col.cast(f.dataType)
    return choice_column(slots, target)


def _merge_field(c1, t1, ch1, c2, t2, ch2, path, choices: set, given):
    """Columns for one field on both sides (either may be None = missing) with a common type."""
    here = join_path(path)
    if c1 is None or c2 is None:
        col, dt, ch = (c2, t2, ch2) if c1 is None else (c1, t1, ch1)
        if ch:
            choices.add(here)
        null = F.lit(None).cast(dt)
        return (null, col) if c1 is None else (col, null)
    if t1 == t2 and ch1 == ch2:
        if ch1:
            choices.add(here)
        return c1, c2
    if not ch1 and not ch2 and isinstance(t1, T.StructType) and isinstance(t2, T.StructType):
        n1 = {f.name: f.dataType for f in t1.fields}
        n2 = {f.name: f.dataType for f in t2.fields}
        out1, out2 = [], []
        for name in list(n1) + [n for n in n2 if n not in n1]:
            sub = path + (name,)
            a, b = _merge_field(c1[name] if name in n1 else None, n1.get(name), join_path(sub) in given[0],
                                c2[name] if name in n2 else None, n2.get(name), join_path(sub) in given[1],
                                sub, choices, given)
            out1.append(a.alias(name))
            out2.append(b.alias(name))
        return (F.when(c1.isNotNull(), F.struct(*out1)), F.when(c2.isNotNull(), F.struct(*out2)))
    merged = {}
    for name, dt in _alts(t1, ch1) + _alts(t2, ch2):
        merged[name] = _merge_slot(name, merged[name], dt, path) if name in merged else dt
    target = T.StructType([T.StructField(n, merged[n], True) for n in sorted(merged)])
    choices.add(here)
    return _as_choice(c1, t1, ch1, target), _as_choice(c2, t2, ch2, target)


def union_frames(df1, choices1, df2, choices2):
    """Align two DataFrames for a union: ``(df1', df2', choices)``; differing field types become choices.

    Fields missing on one side are null there; structs merge field by field; a field already a choice gains
    the other side's type as one more alternative.
    """
    given = (frozenset(choices1), frozenset(choices2))
    s1 = {f.name: f.dataType for f in df1.schema.fields}
    s2 = {f.name: f.dataType for f in df2.schema.fields}
    cols1, cols2, choices = [], [], set()
    for name in list(s1) + [n for n in s2 if n not in s1]:
        path = (name,)
        a, b = _merge_field(_c(name) if name in s1 else None, s1.get(name), join_path(path) in given[0],
                            _c(name) if name in s2 else None, s2.get(name), join_path(path) in given[1],
                            path, choices, given)
        cols1.append(a.alias(name))
        cols2.append(b.alias(name))
    return df1.select(*cols1), df2.select(*cols2), frozenset(choices)


# ----------------------------------------------------------------------------------------------- resolve

def value_text(col, dt: T.DataType, is_choice: bool):
    """A string Column showing a value in an error reason (JSON for structs and choices)."""
    if is_choice or isinstance(dt, (T.StructType, T.ArrayType, T.MapType)):
        return F.to_json(col)
    return col.cast("string")


def cast_expr(col, dt: T.DataType, is_choice: bool, target: T.DataType):
    """``(value, failed)``: the value cast to ``target`` (choices: whichever alternative is set) and a
    boolean Column true where a non-null value could not be cast (those records go to the error frame)."""
    if is_choice:
        values = [col[name].try_cast(target) if alt != target else col[name]
                  for name, alt in choice_alternatives(dt)]
        value = F.coalesce(*values) if len(values) > 1 else values[0]
    elif dt == target:
        return col, F.lit(False)
    else:
        value = col.try_cast(target)
    return value, col.isNotNull() & value.isNull()


def project_expr(col, dt: T.DataType, is_choice: bool, target_name: str):
    """``(value, failed)`` for ``project:T``: keep values of type T; other non-null values fail."""
    if not is_choice:
        if slot_name(dt) == target_name:
            return col, F.lit(False)
        return F.lit(None).cast(dt), col.isNotNull()
    names = [n for n, _ in choice_alternatives(dt)]
    if target_name not in names:
        return F.lit(None), col.isNotNull()
    value = col[target_name]
    return value, col.isNotNull() & value.isNull()


def project_type(dt: T.DataType, is_choice: bool, target_name: str) -> T.DataType:
    """The type a ``project:T`` leaves behind."""
    if is_choice:
        alts = dict(choice_alternatives(dt))
        return alts.get(target_name, T.NullType())
    return dt


def kind_text(col, dt, is_choice):
    """A string Column naming the type of the value a field holds (for error reasons)."""
    if is_choice:
        return choice_kind_of(col, dt)
    return F.lit(slot_name(dt))


def make_cols_exprs(name: str, col, dt: T.DataType, is_choice: bool):
    """``[(new name, Column)]`` for ``make_cols``: one column per alternative, ``<name>_<type>``."""
    if not is_choice:
        return [(name, col)]
    return [(f"{name}_{alt}", col[alt]) for alt, _ in choice_alternatives(dt)]
