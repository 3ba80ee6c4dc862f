"""Glue's view of Spark types: type names, choice types, field paths, printSchema text and record codecs.

A Glue DynamicFrame names its types differently from Spark (``long``, not ``bigint``) and has one type Spark
lacks: the *choice*, a field whose records disagree on its type. Here a choice is stored as a Spark struct
whose field names are Glue type names (``struct<long: bigint, string: string>``), with at most one slot set
per record; the frame remembers which paths are choices. This module turns Spark types into Glue names and
back, builds and reads choice structs, renders ``printSchema`` as Glue prints it, mirrors the small part of
``awsglue.gluetypes`` that scripts touch (``schema().fields``), infers a Spark type from the Python values a
``map`` function returns, and converts records between Arrow's Python form and the dicts that user functions
see (choices unwrapped to their value, maps as dicts).
"""
from __future__ import annotations

import datetime
import decimal
import re

from pyspark.sql import types as T

__all__ = [
    # the awsglue.gluetypes mirror
    "ArrayType", "BinaryType", "BooleanType", "ByteType", "ChoiceType", "DataType", "DateType", "DecimalType",
    "DoubleType", "Field", "FloatType", "IntegerType", "LongType", "MapType", "NullType", "ShortType",
    "StringType", "StructType", "TimestampType", "UnknownType",
    # helpers
    "choice_alternatives", "choice_column", "choice_type", "glue_type_name", "join_path", "parse_type",
    "render_schema", "split_path", "to_glue_type",
]

# ----------------------------------------------------------------------------------------------- type names

_ATOMIC_NAMES = {
    T.ByteType: "byte", T.ShortType: "short", T.IntegerType: "int", T.LongType: "long",
    T.FloatType: "float", T.DoubleType: "double", T.StringType: "string", T.BooleanType: "boolean",
    T.DateType: "date", T.TimestampType: "timestamp", T.TimestampNTZType: "timestamp_ntz",
    T.BinaryType: "binary", T.NullType: "null",
}

_PARSE = {
    "byte": T.ByteType(), "tinyint": T.ByteType(), "short": T.ShortType(), "smallint": T.ShortType(),
    "int": T.IntegerType(), "integer": T.IntegerType(), "long": T.LongType(), "bigint": T.LongType(),
    "float": T.FloatType(), "real": T.FloatType(), "double": T.DoubleType(), "string": T.StringType(),
    "varchar": T.StringType(), "char": T.StringType(), "boolean": T.BooleanType(), "bool": T.BooleanType(),
    "date": T.DateType(), "timestamp": T.TimestampType(), "timestamp_ntz": T.TimestampNTZType(),
    "binary": T.BinaryType(), "null": T.NullType(), "void": T.NullType(),
    # Glue's own default precision and scale for a bare "decimal"
    "decimal": T.DecimalType(10, 2),
}
_DECIMAL_RE = re.compile(r"^\s*(?:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$", re.I)
_SIZED_STRING_RE = re.compile(r"^\s*(?:varchar|char)\s*\(\s*\d+\s*\)\s*$", re.I)

COMPLEX_NAMES = frozenset({"struct", "array", "map", "choice"})


def glue_type_name(dt: T.DataType) -> str:
    """The name Glue prints for a Spark type: ``long`` for LongType, ``decimal(10,2)``, ``struct``, ..."""
    for cls, name in _ATOMIC_NAMES.items():
        if isinstance(dt, cls):
            return name
    if isinstance(dt, T.DecimalType):
        return f"decimal({dt.precision},{dt.scale})"
    if isinstance(dt, T.StructType):
        return "struct"
    if isinstance(dt, T.ArrayType):
        return "array"
    if isinstance(dt, T.MapType):
        return "map"
    return dt.simpleString()


def slot_name(dt: T.DataType) -> str:
    """The field name a type gets inside a choice struct (``decimal`` for every decimal precision)."""
    return "decimal" if isinstance(dt, T.DecimalType) else glue_type_name(dt)


def parse_type(name: str | T.DataType) -> T.DataType | None:
    """The Spark type for a Glue (or Hive/Spark DDL) type name; ``None`` for ``struct``/``array``/``map``.

    Names are case-insensitive (``"Long"`` works, as in Glue's ApplyMapping examples). ``None`` means "keep
    the source's own complex type". Anything else unknown raises ValueError naming the type.
    """
    if isinstance(name, T.DataType):
        return name
    key = str(name).strip()
    low = key.lower()
    if low in _PARSE:
        return _PARSE[low]
    if low in COMPLEX_NAMES:
        return None
    match = _DECIMAL_RE.match(key)
    if match:
        return T.DecimalType(int(match.group(1)), int(match.group(2) or 0))
    if _SIZED_STRING_RE.match(key):
        return T.StringType()
    try:
        return T._parse_datatype_string(key)
    except Exception as exc:  # noqa: BLE001 - re-raised with the name that failed
        raise ValueError(f"unknown type name {name!r}") from exc


# ----------------------------------------------------------------------------------------------- choices

def choice_type(alternatives) -> T.StructType:
    """The struct type that stores a choice between Spark types (slots named by Glue type name, sorted)."""
    slots = {}
    for dt in alternatives:
        slots.setdefault(slot_name(dt), dt)
    return T.StructType([T.StructField(n, slots[n], True) for n in sorted(slots)])


def choice_alternatives(dt: T.StructType) -> list[tuple[str, T.DataType]]:
    """A choice struct's alternatives as ``(glue name, Spark type)`` pairs."""
    return [(f.name, f.dataType) for f in dt.fields]


def choice_column(alternatives: dict, dtype: T.StructType | None = None):
    """A choice struct column from ``{glue name: Column}`` (each Column null where the value has another type).

    The result is null when every alternative is null, so a null value stays null.
    """
    from pyspark.sql import functions as F

    names = sorted(alternatives)
    cols = [alternatives[n] for n in names]
    if not cols:
        raise ValueError("a choice needs at least one alternative")
    struct = F.struct(*[c.alias(n) for n, c in zip(names, cols)])
    any_set = cols[0].isNotNull()
    for c in cols[1:]:
        any_set = any_set | c.isNotNull()
    out = F.when(any_set, struct)
    return out.cast(dtype) if dtype is not None else out


def choice_kind_of(col, dtype: T.StructType):
    """A string Column naming the alternative a choice value holds (null when the value is null)."""
    from pyspark.sql import functions as F

    expr = F.lit(None).cast("string")
    for name, _ in reversed(choice_alternatives(dtype)):
        expr = F.when(col[name].isNotNull(), F.lit(name)).otherwise(expr)
    return expr


# ----------------------------------------------------------------------------------------------- paths

def split_path(path: str) -> list[str]:
    """``"a.b"`` -> ``["a", "b"]``; a part in backticks may contain dots: ``"`a.b`.c"`` -> ``["a.b", "c"]``."""
    parts, buf, quoted, i = [], [], False, 0
    while i < len(path):
        ch = path[i]
        if ch == "`":
            if quoted and i + 1 < len(path) and path[i + 1] == "`":
                buf.append("`")
                i += 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if quoted:
        raise ValueError(f"unbalanced backtick in path {path!r}")
    parts.append("".join(buf))
    return parts


def join_path(parts) -> str:
    """Inverse of :func:`split_path`: parts that contain a dot or backtick are quoted with backticks."""
    out = []
    for p in parts:
        if "." in p or "`" in p:
            out.append("`" + p.replace("`", "``") + "`")
        else:
            out.append(p)
    return ".".join(out)


def find_field(schema: T.StructType, parts, case_sensitive: bool = False):
    """Resolve a path in a schema: the list of actual field names and the leaf StructField, or ``None``."""
    names, dt, field = [], schema, None
    for part in parts:
        if not isinstance(dt, T.StructType):
            return None
        match = next((f for f in dt.fields if f.name == part), None)
        if match is None and not case_sensitive:
            match = next((f for f in dt.fields if f.name.lower() == part.lower()), None)
        if match is None:
            return None
        names.append(match.name)
        field, dt = match, match.dataType
    return names, field


def leaf_paths(schema: T.StructType, choices=frozenset(), prefix=()):
    """Every field path in a schema (structs descended, choices and arrays treated as leaves)."""
    for f in schema.fields:
        parts = prefix + (f.name,)
        if isinstance(f.dataType, T.StructType) and join_path(parts) not in choices:
            yield from leaf_paths(f.dataType, choices, parts)
        else:
            yield parts


# ----------------------------------------------------------------------------------------------- printSchema

def render_schema(schema, choices=frozenset()) -> str:
    """The text Glue's ``printSchema()`` prints: ``root`` then ``|-- name: type`` lines, ``|    `` per level.

    ``schema`` is a Spark StructType or a DataFrame. Choice fields print as ``choice`` followed by one line per
    alternative; array elements as ``element``; map entries as ``key`` and ``value``.
    """
    if not isinstance(schema, T.StructType):
        schema = schema.schema
    lines = ["root"]

    def walk(dt, depth, path, in_choice=False):
        pad = "|    " * depth
        if isinstance(dt, T.StructType):
            for f in dt.fields:
                child = path + (f.name,)
                is_choice = not in_choice and join_path(child) in choices
                emit(f.name, f.dataType, depth, child, is_choice)
        elif isinstance(dt, T.ArrayType):
            emit("element", dt.elementType, depth, path, False, in_choice=True)
        elif isinstance(dt, T.MapType):
            lines.append(f"{pad}|-- key: {glue_type_name(dt.keyType)}")
            emit("value", dt.valueType, depth, path, False, in_choice=True)

    def emit(name, dt, depth, path, is_choice, in_choice=False):
        pad = "|    " * depth
        if is_choice:
            lines.append(f"{pad}|-- {name}: choice")
            for alt_name, alt_type in choice_alternatives(dt):
                lines.append(f"{pad}|    |-- {glue_type_name(alt_type)}")
                if isinstance(alt_type, (T.StructType, T.ArrayType, T.MapType)):
                    walk(alt_type, depth + 2, path, in_choice=True)
            return
        lines.append(f"{pad}|-- {name}: {glue_type_name(dt)}")
        if isinstance(dt, (T.StructType, T.ArrayType, T.MapType)):
            walk(dt, depth + 1, path, in_choice=in_choice)

    walk(schema, 0, ())
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- gluetypes

class DataType:
    """Base of the light mirror of ``awsglue.gluetypes`` returned by ``DynamicFrame.schema()``."""

    def __init__(self, spark_type: T.DataType | None = None):
        self.spark_type = spark_type

    @classmethod
    def typeName(cls) -> str:
        return cls.__name__[:-4].lower()

    def __eq__(self, other):
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"{type(self).__name__}()"


def _atomic(name, glue_name):
    return type(name, (DataType,), {"typeName": classmethod(lambda cls: glue_name)})


BinaryType = _atomic("BinaryType", "binary")
BooleanType = _atomic("BooleanType", "boolean")
ByteType = _atomic("ByteType", "byte")
DateType = _atomic("DateType", "date")
DoubleType = _atomic("DoubleType", "double")
FloatType = _atomic("FloatType", "float")
IntegerType = _atomic("IntegerType", "int")
LongType = _atomic("LongType", "long")
NullType = _atomic("NullType", "null")
ShortType = _atomic("ShortType", "short")
StringType = _atomic("StringType", "string")
TimestampType = _atomic("TimestampType", "timestamp")
UnknownType = _atomic("UnknownType", "unknown")


class DecimalType(DataType):
    """A decimal with precision and scale (Glue's defaults are 10 and 2)."""

    def __init__(self, precision=10, scale=2, spark_type=None):
        super().__init__(spark_type)
        self.precision, self.scale = precision, scale

    @classmethod
    def typeName(cls):
        return "decimal"

    def __repr__(self):
        return f"DecimalType({self.precision}, {self.scale})"


class ArrayType(DataType):
    """An array; ``elementType`` is a gluetypes DataType."""

    def __init__(self, elementType=None, spark_type=None):
        super().__init__(spark_type)
        self.elementType = elementType or UnknownType()

    def __repr__(self):
        return f"ArrayType({self.elementType!r})"


class MapType(DataType):
    """A map with string keys; ``valueType`` is a gluetypes DataType."""

    def __init__(self, valueType=None, spark_type=None):
        super().__init__(spark_type)
        self.valueType = valueType or UnknownType()

    def __repr__(self):
        return f"MapType({self.valueType!r})"


class ChoiceType(DataType):
    """A field whose records hold values of different types: ``choices`` maps glue name -> DataType."""

    def __init__(self, choices=(), spark_type=None):
        super().__init__(spark_type)
        self.choices = {c.typeName() if not isinstance(c, DecimalType) else "decimal": c for c in choices}

    def __repr__(self):
        return f"ChoiceType([{', '.join(repr(c) for c in self.choices.values())}])"


class Field:
    """A named field: ``name`` and ``dataType`` (a gluetypes DataType)."""

    def __init__(self, name, dataType):
        self.name, self.dataType = name, dataType

    def __eq__(self, other):
        return isinstance(other, Field) and (self.name, self.dataType) == (other.name, other.dataType)

    def __repr__(self):
        return f"Field({self.name}, {self.dataType!r})"


class StructType(DataType):
    """A record type: ``fields`` is a list of :class:`Field`; iterable; ``getField``/``hasField`` by name."""

    def __init__(self, fields=(), spark_type=None):
        super().__init__(spark_type)
        self.fields = list(fields)

    def __iter__(self):
        return iter(self.fields)

    def hasField(self, name):
        return any(f.name == (name.name if isinstance(name, Field) else name) for f in self.fields)

    def getField(self, name):
        return next((f for f in self.fields if f.name == name), None)

    def field_map(self) -> dict:
        """``{name: glue type name}`` of the top-level fields (handy in tests and notebooks)."""
        return {f.name: f.dataType.typeName() for f in self.fields}

    def __repr__(self):
        return f"StructType([{', '.join(repr(f) for f in self.fields)}])"


_MIRROR = {
    T.BinaryType: BinaryType, T.BooleanType: BooleanType, T.ByteType: ByteType, T.DateType: DateType,
    T.DoubleType: DoubleType, T.FloatType: FloatType, T.IntegerType: IntegerType, T.LongType: LongType,
    T.NullType: NullType, T.ShortType: ShortType, T.StringType: StringType, T.TimestampType: TimestampType,
    T.TimestampNTZType: TimestampType,
}


def to_glue_type(dt: T.DataType, choices=frozenset(), path=()) -> DataType:
    """The gluetypes mirror of a Spark type (choice structs at ``choices`` paths become ChoiceType)."""
    if path and join_path(path) in choices and isinstance(dt, T.StructType):
        return ChoiceType([to_glue_type(t) for _, t in choice_alternatives(dt)], spark_type=dt)
    if isinstance(dt, T.StructType):
        return StructType([Field(f.name, to_glue_type(f.dataType, choices, path + (f.name,)))
                           for f in dt.fields], spark_type=dt)
    if isinstance(dt, T.ArrayType):
        return ArrayType(to_glue_type(dt.elementType), spark_type=dt)
    if isinstance(dt, T.MapType):
        return MapType(to_glue_type(dt.valueType), spark_type=dt)
    if isinstance(dt, T.DecimalType):
        return DecimalType(dt.precision, dt.scale, spark_type=dt)
    for cls, mirror in _MIRROR.items():
        if isinstance(dt, cls):
            return mirror(dt)
    return UnknownType(dt)


# ----------------------------------------------------------------------------------------------- inference

def python_kind(value) -> str | None:
    """The Glue kind of a Python value (``None`` for None): long, double, string, boolean, struct, ..."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    if isinstance(value, datetime.datetime):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    if isinstance(value, dict):
        return "struct"
    if isinstance(value, (list, tuple)):
        return "array"
    return "string"  # unknown objects: the record fails conversion later, with the value in the reason


class Observed:
    """The kinds seen at one place of the records (and, for structs and arrays, what was seen inside)."""

    __slots__ = ("kinds", "fields", "element")

    def __init__(self):
        self.kinds: set[str] = set()
        self.fields: dict[str, Observed] = {}
        self.element: Observed | None = None

    def add(self, value):
        """Record one value (recursively)."""
        kind = python_kind(value)
        if kind is None:
            return
        self.kinds.add(kind)
        if kind == "struct":
            for k, v in value.items():
                self.fields.setdefault(str(k), Observed()).add(v)
        elif kind == "array":
            if self.element is None:
                self.element = Observed()
            for v in value:
                self.element.add(v)


_DEFAULT_TYPES = {
    "long": T.LongType(), "double": T.DoubleType(), "string": T.StringType(), "boolean": T.BooleanType(),
    "decimal": T.DecimalType(38, 18), "timestamp": T.TimestampType(), "date": T.DateType(),
    "binary": T.BinaryType(),
}
_FITS = {
    T.ByteType: {"long"}, T.ShortType: {"long"}, T.IntegerType: {"long"}, T.LongType: {"long"},
    T.FloatType: {"double", "long"}, T.DoubleType: {"double", "long"}, T.DecimalType: {"decimal", "long"},
    T.StringType: {"string"}, T.BooleanType: {"boolean"}, T.DateType: {"date"},
    T.TimestampType: {"timestamp"}, T.TimestampNTZType: {"timestamp"}, T.BinaryType: {"binary"},
}


def _fits(obs: Observed, hint: T.DataType, hint_is_choice: bool) -> bool:
    if not obs.kinds:
        return True
    if hint_is_choice:
        alts = [t for _, t in choice_alternatives(hint)]
        return all(any(_fits_one(k, obs, t) for t in alts) for k in obs.kinds)
    return all(_fits_one(k, obs, hint) for k in obs.kinds)


def _fits_one(kind: str, obs: Observed, hint: T.DataType) -> bool:
    if isinstance(hint, T.MapType):
        return kind == "struct" and all(_fits(o, hint.valueType, False) for o in obs.fields.values())
    if isinstance(hint, T.StructType):
        return kind == "struct"
    if isinstance(hint, T.ArrayType):
        return kind == "array" and (obs.element is None or _fits(obs.element, hint.elementType, False))
    for cls, kinds in _FITS.items():
        if isinstance(hint, cls):
            return kind in kinds
    return False


def infer_type(obs: Observed, hint: T.DataType | None = None, *, hint_choices=frozenset(), path=(),
               allow_choice: bool = True, choices_out: set | None = None) -> T.DataType:
    """The Spark type for what :class:`Observed` saw, preferring ``hint`` (the input's type) when it fits.

    Kinds that disagree become a choice (``long`` and ``double`` widen to ``double``) unless
    ``allow_choice`` is off (inside arrays), where they fall back to string. Choice paths go to
    ``choices_out``. A place where only nulls were seen keeps the hint's type, else becomes string.
    """
    here = join_path(path)
    hint_is_choice = bool(path) and here in hint_choices and isinstance(hint, T.StructType)
    if hint is not None and _fits(obs, hint, hint_is_choice) and not (
            isinstance(hint, T.StructType) and not hint_is_choice and obs.kinds):
        if hint_is_choice and choices_out is not None and allow_choice:
            choices_out.add(here)
        elif hint_is_choice:
            return T.StringType()
        return hint
    kinds = set(obs.kinds)
    if not kinds:
        return T.StringType()
    if kinds == {"long", "double"}:
        kinds = {"double"}
    if len(kinds) == 1:
        kind = next(iter(kinds))
        return _infer_one(kind, obs, hint, hint_choices, path, allow_choice, choices_out)
    if not allow_choice:
        return T.StringType()
    alts = [_infer_one(k, obs, None, hint_choices, path, False, None) for k in sorted(kinds)]
    if choices_out is not None:
        choices_out.add(here)
    return choice_type(alts)


def _infer_one(kind, obs, hint, hint_choices, path, allow_choice, choices_out):
    if kind == "struct":
        hint_struct = hint if isinstance(hint, T.StructType) and join_path(path) not in hint_choices else None
        fields = []
        order = list(obs.fields)
        if hint_struct is not None:  # keep the input's field order for fields that survive
            known = hint_struct.fieldNames()
            order = [n for n in known if n in obs.fields] + [n for n in obs.fields if n not in known]
        for name in order:
            sub_hint = None
            if hint_struct is not None and name in hint_struct.fieldNames():
                sub_hint = hint_struct[name].dataType
            fields.append(T.StructField(name, infer_type(
                obs.fields[name], sub_hint, hint_choices=hint_choices, path=path + (name,),
                allow_choice=allow_choice, choices_out=choices_out), True))
        return T.StructType(fields)
    if kind == "array":
        elem_hint = hint.elementType if isinstance(hint, T.ArrayType) else None
        elem = infer_type(obs.element or Observed(), elem_hint, allow_choice=False)
        return T.ArrayType(elem, True)
    return _DEFAULT_TYPES[kind]


def infer_record_type(records, hint: T.StructType | None = None, hint_choices=frozenset()):
    """The StructType (and choice paths) for a sample of output records (dicts), using the input as hint."""
    obs = Observed()
    for rec in records:
        obs.add(rec)
    choices: set[str] = set()
    dtype = _infer_one("struct", obs, hint, hint_choices, (), True, choices)
    return dtype, frozenset(choices)


# ----------------------------------------------------------------------------------------------- codecs

_SLOT_PREFERENCE = {
    "boolean": ("boolean",),
    "long": ("long", "int", "short", "byte", "double", "float", "decimal"),
    "double": ("double", "float", "decimal"),
    "string": ("string",),
    "decimal": ("decimal", "double"),
    "timestamp": ("timestamp", "timestamp_ntz"),
    "date": ("date",),
    "binary": ("binary",),
    "struct": ("struct", "map"),
    "array": ("array",),
}


class RecordCodec:
    """Converts records between Arrow's ``to_pylist`` form and what user functions see, for one schema.

    ``decode(records)`` (in place): choice structs become the value they hold, maps (lists of pairs) become
    dicts. ``encode(record)``: the reverse for choices, after checking the record has no field the schema
    lacks (raising ValueError that names them), so no value is dropped silently.
    """

    def __init__(self, schema: T.StructType, choices=frozenset()):
        self.schema = schema
        self.choices = frozenset(choices)
        self._decode = _decoder(schema, self.choices, ())
        self._encode = _encoder(schema, self.choices, ())
        #: the schema's top-level field names; when ``plain``, no value needs converting, so checking a
        #: record (a dict) is only ``field_names.issuperset(record)``, which can run over a whole batch at once
        self.field_names = frozenset(schema.fieldNames())
        self.plain = not any(_encoder(f.dataType, self.choices, (f.name,)) for f in schema.fields)

    def decode(self, records: list) -> list:
        if self._decode is not None:
            for i, rec in enumerate(records):
                records[i] = self._decode(rec)
        return records

    def encode(self, record: dict) -> dict:
        return self._encode(record)


def _decoder(dt, choices, path):
    """A function fixing one value of type ``dt`` in place (or returning the fixed value); None if no fix."""
    if path and join_path(path) in choices and isinstance(dt, T.StructType):
        names = [f.name for f in dt.fields]
        subs = {f.name: _decoder(f.dataType, frozenset(), ()) for f in dt.fields}

        def pick(v):
            if v is None:
                return None
            for n in names:
                x = v.get(n)
                if x is not None:
                    sub = subs[n]
                    return sub(x) if sub is not None else x
            return None
        return pick
    if isinstance(dt, T.StructType):
        subs = [(f.name, _decoder(f.dataType, choices, path + (f.name,))) for f in dt.fields]
        subs = [(n, s) for n, s in subs if s is not None]
        if not subs:
            return None

        def fix_struct(v):
            if v is not None:
                for n, s in subs:
                    v[n] = s(v.get(n))
            return v
        return fix_struct
    if isinstance(dt, T.ArrayType):
        sub = _decoder(dt.elementType, frozenset(), ())
        if sub is None:
            return None
        return lambda v: None if v is None else [sub(x) for x in v]
    if isinstance(dt, T.MapType):
        sub = _decoder(dt.valueType, frozenset(), ())
        if sub is None:
            return lambda v: None if v is None else dict(v)
        return lambda v: None if v is None else {k: sub(x) for k, x in v}
    return None


def _describe(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _encoder(dt, choices, path):
    """A function that checks and converts one output value of type ``dt`` for Arrow."""
    here = join_path(path)
    if path and here in choices and isinstance(dt, T.StructType):
        slots = {f.name: f.dataType for f in dt.fields}
        subs = {n: _encoder(t, frozenset(), path) for n, t in slots.items()}
        wanted = "choice<" + ",".join(slots) + ">"

        def wrap(v):
            if v is None:
                return None
            kind = python_kind(v)
            for slot in _SLOT_PREFERENCE.get(kind, ()):
                if slot in slots:
                    sub = subs[slot]
                    return {slot: sub(v) if sub is not None else v}
            raise TypeError(f"field '{here}': {type(v).__name__} value {_describe(v)} does not fit {wanted}")
        return wrap
    if isinstance(dt, T.StructType):
        names = dt.fieldNames()
        known = frozenset(names)
        subs = [(f.name, _encoder(f.dataType, choices, path + (f.name,))) for f in dt.fields]
        subs = [(n, s) for n, s in subs if s is not None]
        where = f"field '{here}'" if path else "record"

        def enc_struct(v):
            if v is None:
                return None
            if not isinstance(v, dict):
                raise TypeError(f"{where}: expected a dict, got {type(v).__name__} {_describe(v)}")
            if not known.issuperset(v):
                extra = sorted(str(k) for k in v if k not in known)
                raise ValueError(f"{where} has fields not in the frame's schema {extra} "
                                 f"(schema fields: {names})")
            if subs:
                v = dict(v)
                for n, s in subs:
                    v[n] = s(v.get(n))
            return v
        return enc_struct
    if isinstance(dt, T.ArrayType):
        sub = _encoder(dt.elementType, frozenset(), path + ("element",))
        if sub is None:
            return None
        return lambda v: None if v is None else [sub(x) for x in v]
    if isinstance(dt, T.MapType):
        sub = _encoder(dt.valueType, frozenset(), path + ("value",))
        if sub is None:
            return None
        return lambda v: None if v is None else {k: sub(x) for k, x in v.items()}
    return None
