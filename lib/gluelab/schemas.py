"""Schema evolution: compare two table schemas and say whether readers and writers still understand each other.

A schema is given either as Glue columns (``[{"Name": "id", "Type": "bigint"}, ...]``, Hive type strings such as
``struct<email:string,phone:string>``, ``array<int>``, ``decimal(10,2)``), as a whole Glue table (``get_table``'s
``Table``, whose ``PartitionKeys`` count too), or as a plain dict where a nested dict is a struct and a one-item
list an array: ``{"customer_id": "string", "contact": {"email": "string"}, "tags": ["string"]}``.

:func:`diff` lists the changes between an old and a new schema and classifies each one with the rules of the
course's "Schema Evolution Patterns":

========================================================  ==========  =============================================
change                                                    class       why
========================================================  ==========  =============================================
add an optional column / nested field / partition column  backward    new readers read old data (missing -> null)
widen a type (int->bigint, float->double, int->double,    backward    every old value fits the new type
decimal precision up, varchar(n) up, varchar->string)
remove an optional column or nested field                 forward     old readers read new data (missing -> null)
narrow a type (bigint->int, double->float, ...)           forward     every new value fits the old type
rename, with an alias mapping ``{"old": "new"}``           forward     readers map the old name to the new one
change the partition keys (other than adding one)         forward     the data moves: coordinate the jobs
remove a required column                                  breaking    readers need it
rename without an alias (remove + add of the same type)   breaking    old readers find nothing under the new name
incompatible type change (string->int, date->string ...)  breaking    values cannot be converted safely
split one column into several (name -> first/last_name)   breaking    a different model of the data
restructure (flat columns moved into a struct, or back)   breaking    a different model of the data
========================================================  ==========  =============================================

Which columns are required is not part of a Glue schema: pass ``required=`` (e.g. the key columns). Renames,
splits and restructures are recognised by name and type, so they are suggestions a person should confirm: a
removed column and an added one of the same type, one each (rename); a removed column whose name is a word of
two or more added columns of its type (split, ``name`` -> ``first_name``, ``last_name``); removed columns that
reappear as fields of a struct (restructure). :func:`compatibility` summarises a list of changes by its worst class.

The seed's customer schema versions are here as data (``CUSTOMER_V1_0``, ``CUSTOMER_V1_1``, ``CUSTOMER_V2_0``),
with the lesson's migration :func:`migrate_customers_v1_to_v2` and :func:`validate_consistency` (both on Spark).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

UNCHANGED, BACKWARD, FORWARD, BREAKING = "unchanged", "backward", "forward", "breaking"
#: Classes from best to worst; :func:`compatibility` returns the worst one present.
SEVERITY = (UNCHANGED, BACKWARD, FORWARD, BREAKING)


# --- Hive type strings -> a small tree ---------------------------------------------------------------------

@dataclass(frozen=True)
class HiveType:
    """A parsed Hive type: ``name`` is the base type (``int``, ``decimal``, ``struct``, ``array``, ``map``...),
    ``params`` its numeric parameters (``decimal(10,2)`` -> (10, 2)), ``fields`` a struct's (name, type)
    pairs, ``children`` an array's element or a map's key and value."""
    name: str
    params: tuple[int, ...] = ()
    fields: tuple[tuple[str, "HiveType"], ...] = ()
    children: tuple["HiveType", ...] = ()

    def __str__(self) -> str:
        if self.name == "struct":
            return "struct<" + ",".join(f"{n}:{t}" for n, t in self.fields) + ">"
        if self.name in ("array", "map"):
            return f"{self.name}<" + ",".join(str(c) for c in self.children) + ">"
        if self.params:
            return f"{self.name}(" + ",".join(str(p) for p in self.params) + ")"
        return self.name

    @property
    def field_map(self) -> dict[str, "HiveType"]:
        return dict(self.fields)


_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\d+)|(.))")
_ALIASES = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint", "real": "float",
            "dec": "decimal", "numeric": "decimal", "bool": "boolean", "str": "string", "text": "string"}


def parse_type(text: str) -> HiveType:
    """Parse a Hive type string (``struct<a:int,b:array<string>>``, ``decimal(10,2)``, ``map<string,int>``)."""
    tokens = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            tokens.append(m.group(1).strip("`"))
        elif m.group(2) and not m.group(2).isspace():
            tokens.append(m.group(2))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take(expected=None):
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"bad Hive type {text!r}: expected {expected or 'a type'} at token {pos}, got {tok!r}")
        pos += 1
        return tok

    def parse():
        name = take().lower()
        name = _ALIASES.get(name, name)
        if name == "struct":
            take("<")
            fields = []
            while peek() != ">":
                fname = take()
                take(":")
                fields.append((fname, parse()))
                if peek() == ",":
                    take(",")
            take(">")
            return HiveType("struct", fields=tuple(fields))
        if name in ("array", "map"):
            take("<")
            children = [parse()]
            while peek() == ",":
                take(",")
                children.append(parse())
            take(">")
            if len(children) != (1 if name == "array" else 2):
                raise ValueError(f"bad Hive type {text!r}: {name} takes {1 if name == 'array' else 2} type(s)")
            return HiveType(name, children=tuple(children))
        params = []
        if peek() == "(":
            take("(")
            params.append(int(take()))
            while peek() == ",":
                take(",")
                params.append(int(take()))
            take(")")
        if name == "decimal" and not params:
            params = [10, 0]  # Hive's default precision and scale
        return HiveType(name, tuple(params))

    result = parse()
    if peek() is not None:
        raise ValueError(f"bad Hive type {text!r}: unexpected {peek()!r} after the type")
    return result


# --- schemas -----------------------------------------------------------------------------------------------

@dataclass
class Schema:
    """Columns (name -> :class:`HiveType`, in order) and partition keys (names -> types, in order)."""
    columns: dict[str, HiveType]
    partition_keys: dict[str, HiveType] = field(default_factory=dict)

    def to_glue_columns(self) -> list[dict]:
        """The columns as Glue ``StorageDescriptor.Columns`` (``[{"Name": ..., "Type": ...}]``)."""
        return [{"Name": n, "Type": str(t)} for n, t in self.columns.items()]


def _from_simple(value) -> HiveType:
    if isinstance(value, HiveType):
        return value
    if isinstance(value, Mapping):
        return HiveType("struct", fields=tuple((k, _from_simple(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return HiveType("array", children=(_from_simple(value[0]),))
    if isinstance(value, str):
        return parse_type(value)
    raise TypeError(f"cannot read {value!r} as a type: use a Hive type string, a dict (struct) or [type] (array)")


def _columns(cols) -> dict[str, HiveType]:
    return {c["Name"]: parse_type(c["Type"]) for c in cols}


def as_schema(obj, partition_keys=None) -> Schema:
    """Read a :class:`Schema` from Glue columns, a Glue table dict, a simple dict, or a Schema."""
    if isinstance(obj, Schema):
        schema = Schema(dict(obj.columns), dict(obj.partition_keys))
    elif isinstance(obj, Mapping) and "StorageDescriptor" in obj:  # a Glue Table / TableInput
        schema = Schema(_columns(obj["StorageDescriptor"].get("Columns", [])),
                        _columns(obj.get("PartitionKeys", [])))
    elif isinstance(obj, Mapping):
        schema = Schema({k: _from_simple(v) for k, v in obj.items()})
    elif isinstance(obj, (list, tuple)):
        schema = Schema(_columns(obj))
    else:
        raise TypeError(f"cannot read a schema from {type(obj).__name__}")
    if partition_keys is not None:  # a mapping name -> type, Glue columns, or names (typed string)
        if isinstance(partition_keys, Mapping):
            schema.partition_keys = {k: _from_simple(v) for k, v in partition_keys.items()}
        else:
            schema.partition_keys = {(k["Name"] if isinstance(k, Mapping) else k):
                                     parse_type(k["Type"] if isinstance(k, Mapping) else "string")
                                     for k in partition_keys}
    return schema


# --- type changes ------------------------------------------------------------------------------------------

_INTEGRAL = ("tinyint", "smallint", "int", "bigint")
_FLOATING = ("float", "double")
_STRINGS = ("char", "varchar", "string")


def type_change(old: HiveType, new: HiveType) -> str:
    """Classify a change of a primitive type: UNCHANGED, BACKWARD (widening), FORWARD (narrowing) or BREAKING."""
    if old == new:
        return UNCHANGED
    o, n = old.name, new.name
    if o in _INTEGRAL and n in _INTEGRAL:
        return BACKWARD if _INTEGRAL.index(n) > _INTEGRAL.index(o) else FORWARD
    if o in _FLOATING and n in _FLOATING:
        return BACKWARD if n == "double" else FORWARD
    if o in _INTEGRAL and n == "double" or o in ("tinyint", "smallint", "int") and n == "float":
        return BACKWARD
    if n in _INTEGRAL and o in ("float", "double"):
        return BREAKING  # fractions would be lost
    if o == "decimal" and n == "decimal":
        (op, os_), (np_, ns) = old.params, new.params
        if ns >= os_ and np_ - ns >= op - os_:
            return BACKWARD  # more (or the same) integer digits and scale: every old value fits
        if ns <= os_ and np_ - ns <= op - os_:
            return FORWARD
        return BREAKING
    if o in _INTEGRAL and n == "decimal":
        digits = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}[o]
        return BACKWARD if new.params[0] - new.params[1] >= digits else BREAKING
    if o in _STRINGS and n in _STRINGS:
        width = lambda t: t.params[0] if t.params else float("inf")  # noqa: E731
        return BACKWARD if width(new) >= width(old) else FORWARD
    return BREAKING


# --- changes -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One difference between two schemas. ``kind`` is e.g. ``add_column``, ``widen_type``, ``rename``;
    ``path`` the column (``contact.email`` for nested fields); ``compatibility`` BACKWARD, FORWARD or BREAKING."""
    kind: str
    path: str
    compatibility: str
    old: str | None = None
    new: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        what = f"{self.kind} {self.path}"
        if self.old is not None or self.new is not None:
            what += f" ({self.old or '-'} -> {self.new or '-'})"
        return f"[{self.compatibility}] {what}" + (f": {self.detail}" if self.detail else "")


def compatibility(changes: Iterable[Change]) -> str:
    """The worst class among ``changes``: UNCHANGED when there are none, else BACKWARD < FORWARD < BREAKING."""
    worst = UNCHANGED
    for c in changes:
        if SEVERITY.index(c.compatibility) > SEVERITY.index(worst):
            worst = c.compatibility
    return worst


def _type_diff(path: str, old: HiveType, new: HiveType, required: set[str]) -> list[Change]:
    if old == new:
        return []
    if old.name == "struct" and new.name == "struct":
        changes = []
        of, nf = old.field_map, new.field_map
        for name, t in nf.items():
            if name not in of:
                changes.append(Change("add_nested_field", f"{path}.{name}", BACKWARD, new=str(t)))
        for name, t in of.items():
            sub = f"{path}.{name}"
            if name not in nf:
                req = sub in required
                changes.append(Change("remove_required_field" if req else "remove_nested_field", sub,
                                      BREAKING if req else FORWARD, old=str(t)))
            else:
                changes += _type_diff(sub, t, nf[name], required)
        return changes
    if old.name == new.name and old.name in ("array", "map"):
        changes = []
        for label, o, n in zip(("element", "value") if old.name == "array" else ("key", "value"),
                               old.children, new.children):
            changes += _type_diff(f"{path}[{label}]" if old.name == "map" else f"{path}[]", o, n, required)
        return changes
    if {old.name, new.name} & {"struct", "array", "map"}:
        return [Change("change_type", path, BREAKING, str(old), str(new), "a different kind of type")]
    cls = type_change(old, new)
    kind = {BACKWARD: "widen_type", FORWARD: "narrow_type", BREAKING: "change_type"}[cls]
    return [Change(kind, path, cls, str(old), str(new))]


def _words(name: str) -> set[str]:
    """``first_name`` and ``firstName`` -> {"first", "name"}."""
    return {w.lower() for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name)} - {""}


def diff(old, new, *, required: Iterable[str] = (), aliases: Mapping[str, str] | None = None) -> list[Change]:
    """The changes from schema ``old`` to schema ``new`` (any form :func:`as_schema` reads), classified.

    ``required``: names (``col`` or ``struct.field``) that readers need; removing one is breaking.
    ``aliases``: ``{"old_name": "new_name"}`` for renames that readers map (forward-compatible).
    """
    old, new = as_schema(old), as_schema(new)
    required, aliases = set(required), dict(aliases or {})
    changes: list[Change] = []
    removed = [n for n in old.columns if n not in new.columns]
    added = [n for n in new.columns if n not in old.columns]

    # renames the caller vouches for
    for o, n in aliases.items():
        if o in removed and n in added:
            removed.remove(o)
            added.remove(n)
            changes.append(Change("rename", o, FORWARD, o, n, f"alias mapping {o} -> {n}"))
            changes += _type_diff(n, old.columns[o], new.columns[n], required)

    # restructure: removed columns that reappear as fields of a new or changed struct column
    for sname, stype in new.columns.items():
        if stype.name != "struct":
            continue
        moved = [c for c in removed if c in stype.field_map]
        if moved:
            for c in moved:
                removed.remove(c)
            if sname in added:
                added.remove(sname)
            changes.append(Change("restructure", sname, BREAKING, ", ".join(moved), str(stype),
                                  f"top-level {', '.join(moved)} moved into struct {sname}"))
    for sname in list(removed):  # the other way: a struct flattened into top-level columns
        stype = old.columns[sname]
        if stype.name == "struct" and (moved := [f for f in stype.field_map if f in added]):
            removed.remove(sname)
            for f in moved:
                added.remove(f)
            changes.append(Change("restructure", sname, BREAKING, str(stype), ", ".join(moved),
                                  f"struct {sname} flattened into top-level {', '.join(moved)}"))

    # split: one removed column, its name a word of two or more added columns of its type
    for o in list(removed):
        parts = [n for n in added if o.lower() in _words(n) and new.columns[n] == old.columns[o]]
        if len(parts) >= 2:
            removed.remove(o)
            for p in parts:
                added.remove(p)
            changes.append(Change("split", o, BREAKING, o, ", ".join(parts), f"{o} split into {', '.join(parts)}"))

    # rename suggestions: exactly one removed and one added column of a type
    for o in list(removed):
        same_old = [r for r in removed if old.columns[r] == old.columns[o]]
        same_new = [a for a in added if new.columns[a] == old.columns[o]]
        if len(same_old) == 1 and len(same_new) == 1:
            n = same_new[0]
            removed.remove(o)
            added.remove(n)
            changes.append(Change("rename", o, BREAKING, o, n,
                                  f"looks like a rename to {n}; pass aliases={{{o!r}: {n!r}}} if readers map it"))

    for n in added:
        changes.append(Change("add_column", n, BACKWARD, new=str(new.columns[n])))
    for o in removed:
        req = o in required
        changes.append(Change("remove_required_column" if req else "remove_column", o, BREAKING if req else FORWARD,
                              old=str(old.columns[o])))
    for name in old.columns:
        if name in new.columns:
            changes += _type_diff(name, old.columns[name], new.columns[name], required)

    # partition keys
    ok, nk = list(old.partition_keys), list(new.partition_keys)
    if ok != nk:
        if nk[:len(ok)] == ok:
            for k in nk[len(ok):]:
                changes.append(Change("add_partition_key", k, BACKWARD, new=str(new.partition_keys[k])))
        else:
            changes.append(Change("change_partition_keys", ",".join(ok) or "-", FORWARD, ",".join(ok),
                                  ",".join(nk), "the partition scheme changed: coordinate the jobs that read it"))
    for k in ok:
        if k in new.partition_keys:
            changes += _type_diff(k, old.partition_keys[k], new.partition_keys[k], required)
    return changes


def report(changes: Iterable[Change]) -> str:
    """The changes one per line, then the overall verdict."""
    changes = list(changes)
    lines = [str(c) for c in changes] or ["no changes"]
    return "\n".join(lines + [f"overall: {compatibility(changes)}"])


# --- the seed's customer schema, v1.0 -> v1.1 -> v2.0 ------------------------------------------------------

CUSTOMER_V1_0 = {"customer_id": "string", "name": "string", "email": "string", "registration_date": "date"}
CUSTOMER_V1_1 = {"customer_id": "string", "name": "string", "email": "string", "phone": "string",
                 "registration_date": "date", "last_login": "timestamp"}
CUSTOMER_V2_0 = {"customer_id": "string", "first_name": "string", "last_name": "string",
                 "contact": {"email": "string", "phone": "string",
                             "preferences": {"email_notifications": "boolean", "sms_notifications": "boolean"}},
                 "registration_date": "date", "last_login": "timestamp"}
#: The customer table's key: removing it would break every reader.
CUSTOMER_REQUIRED = ("customer_id",)


def spark_type(t: HiveType | str) -> str:
    """The Spark SQL DDL type of a Hive type (they share the syntax, with struct fields as ``name: type``)."""
    t = parse_type(t) if isinstance(t, str) else t
    if t.name == "struct":
        return "struct<" + ", ".join(f"`{n}`: {spark_type(f)}" for n, f in t.fields) + ">"
    if t.name in ("array", "map"):
        return f"{t.name}<" + ", ".join(spark_type(c) for c in t.children) + ">"
    return str(t)


def migrate_customers_v1_to_v2(df):
    """Convert a customer DataFrame of schema v1.0 or v1.1 to v2.0.

    ``name`` is split on its first space (``"Ana Maria Lopez"`` -> ``"Ana"``, ``"Maria Lopez"``; a single word
    leaves ``last_name`` null); ``email`` and ``phone`` move into ``contact`` with ``preferences`` both false;
    columns v1.0 lacks (``phone``, ``last_login``) become typed nulls.
    """
    from pyspark.sql import functions as F

    def col_or_null(name, typ):
        return F.col(name) if name in df.columns else F.lit(None).cast(typ)

    name = F.trim(F.col("name"))
    space = F.instr(name, " ")
    return df.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        F.when(space > 0, F.expr("substring(trim(name), 1, instr(trim(name), ' ') - 1)"))
         .otherwise(name).alias("first_name"),
        F.when(space > 0, F.trim(F.expr("substring(trim(name), instr(trim(name), ' ') + 1)"))).alias("last_name"),
        F.struct(col_or_null("email", "string").alias("email"),
                 col_or_null("phone", "string").alias("phone"),
                 F.struct(F.lit(False).alias("email_notifications"),
                          F.lit(False).alias("sms_notifications")).alias("preferences")).alias("contact"),
        col_or_null("registration_date", "date").cast("date").alias("registration_date"),
        col_or_null("last_login", "timestamp").cast("timestamp").alias("last_login"),
    )


def validate_consistency(v1_df, v2_df, key: str = "customer_id") -> dict:
    """Compare customers in v1 (v1.0/v1.1) and v2.0 form, joined on ``key``.

    Returns ``{"only_in_v1": n, "only_in_v2": n, "matched": n, "mismatched": n, "mismatched_fields": {field: n}}``
    where a v2 row matches its v1 row when ``first_name + " " + last_name`` equals ``name`` (after trimming)
    and email, phone, registration_date and last_login are equal (nulls equal nulls); fields v1 lacks are skipped.
    """
    from pyspark.sql import functions as F

    v2_as_v1 = {
        "name": F.concat_ws(" ", F.col("v2.first_name"), F.col("v2.last_name")),
        "email": F.col("v2.contact.email"),
        "phone": F.col("v2.contact.phone"),
        "registration_date": F.col("v2.registration_date"),
        "last_login": F.col("v2.last_login"),
    }
    fields = [f for f in v2_as_v1 if f in v1_df.columns]
    joined = v1_df.alias("v1").join(v2_df.alias("v2"), F.col(f"v1.{key}") == F.col(f"v2.{key}"), "full_outer")
    v1_value = {f: (F.trim(F.col(f"v1.{f}")) if f == "name" else F.col(f"v1.{f}")) for f in fields}
    flags = [(~v1_value[f].eqNullSafe(v2_as_v1[f].cast(v1_df.schema[f].dataType))).cast("int").alias(f)
             for f in fields]
    both = F.col(f"v1.{key}").isNotNull() & F.col(f"v2.{key}").isNotNull()
    rows = joined.select(F.col(f"v1.{key}").isNull().alias("_no_v1"), F.col(f"v2.{key}").isNull().alias("_no_v2"),
                         both.alias("_both"), *flags)
    aggs = [F.sum(F.col("_no_v2").cast("int")).alias("only_in_v1"),
            F.sum(F.col("_no_v1").cast("int")).alias("only_in_v2"),
            F.sum(F.col("_both").cast("int")).alias("_both")]
    aggs += [F.sum(F.when(F.col("_both"), F.col(f))).alias(f) for f in fields]
    bad_row = F.greatest(*[F.col(f) for f in fields]) if len(fields) > 1 else F.col(fields[0])
    aggs.append(F.sum(F.when(F.col("_both"), bad_row)).alias("_mismatched"))
    r = rows.agg(*aggs).first().asDict()
    mismatched = int(r["_mismatched"] or 0)
    return {"only_in_v1": int(r["only_in_v1"] or 0), "only_in_v2": int(r["only_in_v2"] or 0),
            "matched": int(r["_both"] or 0) - mismatched, "mismatched": mismatched,
            "mismatched_fields": {f: int(r[f] or 0) for f in fields if r[f]}}
