"""Hive types as the Data Catalog spells them, inferred from values and merged across files.

A type is a Hive type string for primitives (``"bigint"``, ``"decimal(10,2)"``) or a tuple for nested types:
``("struct", ((name, type), ...))``, ``("array", type)``, ``("map", key_type, value_type)``. ``None`` means
"no value seen yet" (JSON null, an empty CSV cell) and merges with anything.

Merging follows what Glue's crawler does when files disagree: integers widen (tinyint < smallint < int <
bigint), integers and floating point widen to double, decimals widen to the larger precision and scale,
date and timestamp widen to timestamp; structs take the union of their fields (in first-seen order), arrays
and maps merge their element types; anything else that conflicts becomes ``string``.
"""
from __future__ import annotations

import re

Type = object  # str | tuple | None

_INTEGERS = ("tinyint", "smallint", "int", "bigint")
_FLOATS = ("float", "double")
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)\Z")
_INT32 = 2 ** 31


def merge(a: Type, b: Type) -> Type:
    """The narrowest type both ``a`` and ``b`` fit in."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        if a[0] == "struct":
            return ("struct", merge_fields(a[1], b[1]))
        if a[0] == "array":
            return ("array", merge(a[1], b[1]))
        return ("map", merge(a[1], b[1]), merge(a[2], b[2]))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return "string"
    if a in _INTEGERS and b in _INTEGERS:
        return _INTEGERS[max(_INTEGERS.index(a), _INTEGERS.index(b))]
    numeric = _INTEGERS + _FLOATS
    if a in numeric and b in numeric:
        return "double"
    da, db = _DECIMAL.match(a), _DECIMAL.match(b)
    if da and db:
        pa, sa, pb, sb = int(da[1]), int(da[2]), int(db[1]), int(db[2])
        scale = max(sa, sb)
        return f"decimal({min(38, max(pa - sa, pb - sb) + scale)},{scale})"
    if (da and b in _FLOATS) or (db and a in _FLOATS):
        return "double"
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    return "string"


def merge_fields(a, b) -> tuple:
    """Union of two ``((name, type), ...)`` field lists, merging types of fields present in both."""
    merged = dict(a)
    for name, t in b:
        merged[name] = merge(merged[name], t) if name in merged else t
    return tuple(merged.items())


def to_hive(t: Type) -> str:
    """The Data Catalog spelling: ``struct<a:int,b:array<string>>``; an unknown type is ``string``."""
    if t is None:
        return "string"
    if isinstance(t, str):
        return t
    if t[0] == "struct":
        return "struct<" + ",".join(f"{n}:{to_hive(ft)}" for n, ft in t[1]) + ">"
    if t[0] == "array":
        return f"array<{to_hive(t[1])}>"
    return f"map<{to_hive(t[1])},{to_hive(t[2])}>"


def json_type(value) -> Type:
    """The type Glue's JSON classifier gives a parsed JSON value (int for 32-bit integers, else bigint)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if -_INT32 <= value < _INT32 else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return ("struct", tuple((k.lower(), json_type(v)) for k, v in value.items()))
    if isinstance(value, list):
        elem = None
        for item in value:
            elem = merge(elem, json_type(item))
        return ("array", elem)
    return "string"


_BIGINT = re.compile(r"[+-]?\d{1,19}\Z")
_DOUBLE = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?\Z")


def csv_type(value: str) -> Type:
    """The type Glue's CSV classifier gives one cell: boolean, bigint, double or string (None when empty).

    Dates and timestamps in CSV stay ``string``: the built-in CSV classifier does not recognise them."""
    v = value.strip()
    if not v:
        return None
    low = v.lower()
    if low in ("true", "false"):
        return "boolean"
    if _BIGINT.match(v) and -2 ** 63 <= int(v) < 2 ** 63:
        return "bigint"
    if _DOUBLE.match(v):
        return "double"
    return "string"


def arrow_type(pa_type) -> Type:
    """The Hive type of a pyarrow type read from a Parquet footer."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_dictionary(pa_type):
        return arrow_type(pa_type.value_type)
    if pt.is_boolean(pa_type):
        return "boolean"
    if pt.is_int8(pa_type):
        return "tinyint"
    if pt.is_int16(pa_type) or pt.is_uint8(pa_type):
        return "smallint"
    if pt.is_int32(pa_type) or pt.is_uint16(pa_type):
        return "int"
    if pt.is_integer(pa_type):
        return "bigint"
    if pt.is_float16(pa_type) or pt.is_float32(pa_type):
        return "float"
    if pt.is_float64(pa_type):
        return "double"
    if pt.is_decimal(pa_type):
        return f"decimal({pa_type.precision},{pa_type.scale})"
    if pt.is_string(pa_type) or pt.is_large_string(pa_type) or getattr(pt, "is_string_view", lambda _: False)(pa_type):
        return "string"
    if pt.is_binary(pa_type) or pt.is_large_binary(pa_type) or pt.is_fixed_size_binary(pa_type):
        return "binary"
    if pt.is_timestamp(pa_type):
        return "timestamp"
    if pt.is_date(pa_type):
        return "date"
    if pt.is_struct(pa_type):
        return ("struct", tuple((pa_type.field(i).name.lower(), arrow_type(pa_type.field(i).type))
                                for i in range(pa_type.num_fields)))
    if pt.is_map(pa_type):
        return ("map", arrow_type(pa_type.key_type), arrow_type(pa_type.item_type))
    if pt.is_list(pa_type) or pt.is_large_list(pa_type) or pt.is_fixed_size_list(pa_type):
        return ("array", arrow_type(pa_type.value_type))
    if pa_type == pa.null():
        return None
    return "string"


def similarity(a: tuple, b: tuple) -> float:
    """How alike two schemas' column names are: shared names / names of the smaller schema (1.0 = one has all
    the other's columns, so a schema that gained columns stays similar to the old one)."""
    na, nb = {n for n, _ in a}, {n for n, _ in b}
    if not na or not nb:
        return 1.0 if na == nb else 0.0
    return len(na & nb) / min(len(na), len(nb))
