"""Glue Schema Registry compatibility: which new schema versions a schema's ``Compatibility`` mode accepts.

AWS checks every ``RegisterSchemaVersion`` against the schema's earlier versions; moto stores versions without
checking. :mod:`gluelab.localaws.glue_registry` uses :func:`check` so that the local endpoint behaves like AWS: a version that
breaks the mode is stored with ``Status`` ``FAILURE`` (it keeps its version number but never becomes the
schema's ``LatestSchemaVersion``, and later checks ignore it), a compatible one is ``AVAILABLE``.
AWS's API does not say *why* a version failed: :func:`explain` works that out on either backend.

The modes (AWS Glue ``Compatibility``), with "A reads B" meaning data written with schema B can be read with
schema A:

* ``NONE``: any new version is accepted. ``DISABLED``: no new versions at all (an error, as on AWS).
* ``BACKWARD``: the new version reads the latest; ``BACKWARD_ALL``: ... reads every earlier version.
* ``FORWARD``: the latest reads the new version; ``FORWARD_ALL``: every earlier version reads it.
* ``FULL``: both directions with the latest; ``FULL_ALL``: both directions with every earlier version.

"Earlier versions" are the ``AVAILABLE`` ones. AVRO is checked with Apache Avro's own reader/writer
compatibility checker (``avro.compatibility``), i.e. Avro's schema resolution rules. JSON uses the rules of
:func:`json_problems`. Other formats (PROTOBUF) are accepted unchecked.
"""
from __future__ import annotations

import json

MODES = ("NONE", "DISABLED", "BACKWARD", "BACKWARD_ALL", "FORWARD", "FORWARD_ALL", "FULL", "FULL_ALL")


class InvalidDefinition(ValueError):
    """A schema definition that is not valid for its data format."""


# --- Avro --------------------------------------------------------------------------------------------------

def parse_avro(definition: str):
    import avro.errors
    import avro.schema

    try:
        return avro.schema.parse(definition)
    except (avro.errors.AvroException, ValueError, TypeError) as exc:
        raise InvalidDefinition(str(exc)) from exc


def avro_problems(reader: str, writer: str) -> list[str]:
    """Why data written with Avro schema ``writer`` cannot be read with ``reader`` (empty: it can)."""
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    result = ReaderWriterCompatibilityChecker().get_compatibility(reader=parse_avro(reader),
                                                                  writer=parse_avro(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    kinds = ", ".join(sorted({i.value for i in result.incompatibilities}))
    where = ", ".join(sorted(result.locations))
    what = "; ".join(sorted(result.messages))
    return [f"{kinds} at {where}: {what}"]


# --- JSON Schema -------------------------------------------------------------------------------------------

#: Keywords that only annotate (ignored when comparing).
_ANNOTATIONS = {"$schema", "$id", "id", "title", "description", "default", "examples", "$comment", "readOnly",
                "writeOnly", "deprecated", "definitions", "$defs"}
#: Keywords interpreted by the rules below.
_UNDERSTOOD = {"type", "properties", "required", "additionalProperties", "items", "enum", "const",
               "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
               "minItems", "maxItems"}
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_ALL_TYPES = {"null", "boolean", "object", "array", "number", "string", "integer"}


def _types(schema: dict) -> set[str]:
    t = schema.get("type")
    if t is None:
        return set(_ALL_TYPES)
    return {t} if isinstance(t, str) else set(t)


def json_problems(reader, writer, path: str = "$") -> list[str]:
    """Why every document valid under JSON Schema ``writer`` might not be valid under ``reader`` (empty: it is).

    ``reader`` and ``writer`` are JSON Schema objects (dicts) or their JSON text. The rules, applied recursively
    through ``properties`` and ``items``:

    1. Types: every type the writer allows must be allowed by the reader (``integer`` counts as a ``number``);
       no ``type`` means any type.
    2. Required: every property the reader requires must be required by the writer (else writer data may
       lack it). So a reader may not add a required property, and may drop a requirement.
    3. Properties in both: the reader's schema must accept the writer's (recursively).
    4. A property only the writer defines is fine unless the reader has ``additionalProperties: false``, or an
       ``additionalProperties`` schema that does not accept it.
    5. A property only the reader defines is fine: the writer's data is assumed to contain only the properties
       the writer declares (see limits).
    6. ``enum``/``const``: the reader's values must include all the writer's. Bounds (``minimum``, ``maximum``,
       ``minLength``, ``maxLength``, ``minItems``, ``maxItems``, exclusive bounds): the reader's range must
       contain the writer's.
    7. Any other keyword (``$ref``, ``oneOf``, ``anyOf``, ``allOf``, ``not``, ``pattern``, ``format``,
       ``patternProperties``, ``if``/``then``/``else``, ...) must be equal in both, or the pair is reported as
       not verifiable (treated as incompatible). Annotations (``title``, ``description``, ``default``, ...)
       are ignored.

    Limits: rule 5 ignores the open content model (with ``additionalProperties`` absent a writer may put
    *anything* under a name the reader later defines), as most registries' practical checks do; ``$ref`` is not
    resolved; ``pattern``/``format`` changes are not reasoned about, only compared.
    """
    reader = json.loads(reader) if isinstance(reader, str) else reader
    writer = json.loads(writer) if isinstance(writer, str) else writer
    if reader is True or reader == {}:
        return []
    if writer is True or writer == {}:
        writer = {}
    if reader is False:
        return [f"{path}: the reader accepts nothing"]
    if writer is False:
        return []
    problems = []
    rt, wt = _types(reader), _types(writer)
    extra = {t for t in wt - rt if not (t == "integer" and "number" in rt)}
    if extra:
        problems.append(f"{path}: type {sorted(extra)} written but the reader accepts only {sorted(rt)}")
    for key in ("enum", "const"):
        if key in reader:
            allowed = reader[key] if key == "enum" else [reader[key]]
            written = writer.get("enum", [writer["const"]] if "const" in writer else None)
            if written is None or any(v not in allowed for v in written):
                problems.append(f"{path}: the reader allows only {allowed!r}, the writer "
                                f"{'any value' if written is None else repr(written)}")
    for key in _UPPER:
        if key in reader and (key not in writer or writer[key] > reader[key]):
            problems.append(f"{path}: reader {key} {reader[key]} is tighter than the writer's {writer.get(key)}")
    for key in _LOWER:
        if key in reader and (key not in writer or writer[key] < reader[key]):
            problems.append(f"{path}: reader {key} {reader[key]} is tighter than the writer's {writer.get(key)}")
    for key in sorted((set(reader) | set(writer)) - _UNDERSTOOD - _ANNOTATIONS):
        if reader.get(key) != writer.get(key):
            problems.append(f"{path}: {key} differs and cannot be verified")

    if "object" in rt & wt or "properties" in reader or "properties" in writer:
        rprops, wprops = reader.get("properties", {}), writer.get("properties", {})
        wrequired = set(writer.get("required", []))
        for name in reader.get("required", []):
            if name not in wrequired:
                problems.append(f"{path}.{name}: required by the reader but "
                                f"{'optional' if name in wprops else 'absent'} in the writer")
        for name, wschema in wprops.items():
            sub = f"{path}.{name}"
            if name in rprops:
                problems += json_problems(rprops[name], wschema, sub)
            else:
                extra_ok = reader.get("additionalProperties", True)
                if extra_ok is False:
                    problems.append(f"{sub}: written but the reader allows no additional properties")
                elif isinstance(extra_ok, dict):
                    problems += json_problems(extra_ok, wschema, sub)
    if "items" in reader or "items" in writer:
        problems += json_problems(reader.get("items", {}), writer.get("items", {}), f"{path}[]")
    return problems


def parse_json_schema(definition: str) -> dict:
    try:
        schema = json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinition(str(exc)) from exc
    if not isinstance(schema, (dict, bool)):
        raise InvalidDefinition("a JSON Schema must be an object or a boolean")
    return schema


# --- modes -------------------------------------------------------------------------------------------------

def can_read(data_format: str, reader: str, writer: str) -> list[str]:
    """Why data written with definition ``writer`` cannot be read with ``reader`` in ``data_format``."""
    if data_format == "AVRO":
        return avro_problems(reader, writer)
    if data_format == "JSON":
        return json_problems(parse_json_schema(reader), parse_json_schema(writer))
    return []  # PROTOBUF and others: not checked


def validate(data_format: str, definition: str) -> None:
    """Raise :class:`InvalidDefinition` when ``definition`` is not a valid schema of ``data_format``."""
    if data_format == "AVRO":
        parse_avro(definition)
    elif data_format == "JSON":
        parse_json_schema(definition)


def check(data_format: str, compatibility: str, new: str, previous: list) -> list[str]:
    """Why ``new`` may not follow ``previous`` under ``compatibility``; empty when it may.

    ``previous``: the AVAILABLE versions, oldest first, as definitions or ``(version number, definition)``
    pairs. ``DISABLED`` is refused before any check (by the registry itself), so it passes here.
    """
    if compatibility not in MODES:
        raise ValueError(f"unknown compatibility {compatibility!r}; one of {MODES}")
    pairs = [p if isinstance(p, tuple) else (i, p) for i, p in enumerate(previous, start=1)]
    if compatibility in ("NONE", "DISABLED") or not pairs:
        return []
    against = pairs if compatibility.endswith("_ALL") else pairs[-1:]
    problems = []
    for number, old in against:
        label = f"version {number}"
        if compatibility.startswith(("BACKWARD", "FULL")):
            problems += [f"{compatibility}: the new version cannot read data written with {label}: {p}"
                         for p in can_read(data_format, new, old)]
        if compatibility.startswith(("FORWARD", "FULL")):
            problems += [f"{compatibility}: {label} cannot read data written with the new version: {p}"
                         for p in can_read(data_format, old, new)]
    return problems


def explain(glue, schema_id: dict, definition: str) -> list[str]:
    """Why ``definition`` is (or would be) refused as a new version of the schema ``schema_id``
    (``{"RegistryName": ..., "SchemaName": ...}`` or ``{"SchemaArn": ...}``); empty when it is compatible.

    Uses only ``get_schema`` and ``get_schema_version``, so it answers the same on the local endpoint and on
    AWS, whose API reports that a version FAILED but not why.
    """
    schema = glue.get_schema(SchemaId=schema_id)
    if schema["Compatibility"] == "DISABLED":
        return ["DISABLED: the schema accepts no new versions"]
    same = (lambda a, b: json.loads(a) == json.loads(b)) if schema["DataFormat"] in ("AVRO", "JSON") else \
        (lambda a, b: a == b)
    available = []
    for number in range(1, schema["NextSchemaVersion"]):
        try:
            v = glue.get_schema_version(SchemaId=schema_id, SchemaVersionNumber={"VersionNumber": number})
        except glue.exceptions.EntityNotFoundException:
            continue
        if same(v["SchemaDefinition"], definition):  # already registered: judge it against what came before
            break
        if v["Status"] == "AVAILABLE":
            available.append((number, v["SchemaDefinition"]))
    return check(schema["DataFormat"], schema["Compatibility"], definition, available)
