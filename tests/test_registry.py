"""Glue Schema Registry compatibility: the JSON Schema rules, and the local endpoint's enforcement through boto3."""
import itertools
import json

import pytest
from botocore.exceptions import ClientError

from gluelab import registry

# --- schema builders ---------------------------------------------------------------------------------------


def avro(*fields):
    """An Avro record with fields given as (name, type) or (name, type, default)."""
    out = []
    for f in fields:
        d = {"name": f[0], "type": f[1]}
        if len(f) == 3:
            d["default"] = f[2]
        out.append(d)
    return json.dumps({"type": "record", "name": "Customer", "fields": out})


def js(required=(), additional=None, **props):
    """A JSON Schema object with the given properties (name=type or name=schema dict)."""
    schema = {"type": "object",
              "properties": {k: (v if isinstance(v, dict) else {"type": v}) for k, v in props.items()},
              "required": list(required)}
    if additional is not None:
        schema["additionalProperties"] = additional
    return json.dumps(schema)


# --- JSON Schema rules (pure) ------------------------------------------------------------------------------

def test_json_adding_an_optional_property_is_readable_both_ways():
    old, new = js(["id"], id="string"), js(["id"], id="string", email="string")
    assert registry.json_problems(new, old) == []  # the new reader reads old data
    assert registry.json_problems(old, new) == []  # and the old reader ignores the extra property


def test_json_a_new_required_property_breaks_backward_only():
    old, new = js(["id"], id="string"), js(["id", "email"], id="string", email="string")
    assert registry.json_problems(new, old) == ["$.email: required by the reader but absent in the writer"]
    assert registry.json_problems(old, new) == []


def test_json_types_integer_widens_to_number_but_not_back():
    assert registry.json_problems(js(n="number"), js(n="integer")) == []
    assert "type ['number'] written" in registry.json_problems(js(n="integer"), js(n="number"))[0]
    assert registry.json_problems(js(n=["string", "null"]), js(n="string")) == []
    assert registry.json_problems(js(n="integer"), js(n="string"))


def test_json_closed_reader_rejects_unknown_properties():
    reader = js(additional=False, id="string")
    assert registry.json_problems(reader, js(id="string", x="string")) == [
        "$.x: written but the reader allows no additional properties"]
    assert registry.json_problems(js(additional={"type": "string"}, id="string"), js(id="string", x="integer"))


def test_json_nested_objects_enums_bounds_and_unknown_keywords():
    old = js(contact={"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]})
    new = js(contact={"type": "object", "properties": {"email": {"type": "string"}, "sms": {"type": "boolean"}},
                      "required": ["email", "sms"]})
    assert registry.json_problems(new, old) == ["$.contact.sms: required by the reader but absent in the writer"]
    assert registry.json_problems(js(s={"enum": ["a", "b", "c"]}), js(s={"enum": ["a", "b"]})) == []
    assert registry.json_problems(js(s={"enum": ["a"]}), js(s={"enum": ["a", "b"]}))
    short, longer = {"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 10}
    assert registry.json_problems(js(s=longer), js(s=short)) == []
    assert registry.json_problems(js(s={"type": "string", "maxLength": 5}), js(s={"type": "string"}))
    assert registry.json_problems(js(s={"type": "string", "pattern": "^a"}), js(s={"type": "string"})) == [
        "$.s: pattern differs and cannot be verified"]
    assert registry.json_problems(js(s={"type": "array", "items": {"type": "number"}}),
                                  js(s={"type": "array", "items": {"type": "integer"}})) == []


def test_check_modes_against_latest_or_all():
    v1 = js(["a"], a="string")
    v2 = js(a="string", b="string")        # a no longer required, b optional
    v3 = js(["a"], a="string", b="string")  # a required again: v2 data may lack it
    assert registry.check("JSON", "BACKWARD", v3, [v1]) == []
    assert registry.check("JSON", "BACKWARD", v3, [v1, v2])  # the latest (v2) does not guarantee a
    assert registry.check("JSON", "BACKWARD_ALL", v3, [v1, v2])[0].startswith(
        "BACKWARD_ALL: the new version cannot read data written with version 2")
    assert registry.check("JSON", "NONE", v3, [v1, v2]) == []
    with pytest.raises(ValueError):
        registry.check("JSON", "SIDEWAYS", v3, [v1])


# --- the local endpoint enforces the modes (through boto3) -------------------------------------------------

_names = itertools.count()


@pytest.fixture(scope="module")
def glue_registry(lab):
    glue = lab.client("glue")
    name = lab.names.resource("registry-tests")
    try:
        glue.create_registry(RegistryName=name)
    except glue.exceptions.AlreadyExistsException:
        pass
    yield glue, name
    glue.delete_registry(RegistryId={"RegistryName": name})


@pytest.fixture
def make_schema(glue_registry):
    glue, reg = glue_registry

    def make(compatibility, data_format, first):
        name = f"schema-{compatibility.lower()}-{data_format.lower()}-{next(_names)}"
        glue.create_schema(RegistryId={"RegistryName": reg}, SchemaName=name, DataFormat=data_format,
                           Compatibility=compatibility, SchemaDefinition=first)
        sid = {"RegistryName": reg, "SchemaName": name}
        register = lambda d: glue.register_schema_version(SchemaId=sid, SchemaDefinition=d)  # noqa: E731
        return sid, register

    return make


def test_backward_avro_rejects_a_field_without_default_and_accepts_one_with(glue_registry, make_schema):
    glue, _ = glue_registry
    sid, register = make_schema("BACKWARD", "AVRO", avro(("id", "string")))
    bad = register(avro(("id", "string"), ("email", "string")))  # new reader: email has no default
    assert bad["Status"] == "FAILURE" and bad["VersionNumber"] == 2
    assert glue.get_schema_version(SchemaVersionId=bad["SchemaVersionId"])["Status"] == "FAILURE"
    good = register(avro(("id", "string"), ("email", ["null", "string"], None)))
    assert good["Status"] == "AVAILABLE" and good["VersionNumber"] == 3
    assert register(avro(("id", "int")))["Status"] == "FAILURE"  # string data cannot be read as int
    widened = register(avro(("id", "string"), ("email", ["null", "string"], None), ("n", "long", 0)))
    assert widened["Status"] == "AVAILABLE"


def test_backward_json_rejects_a_new_required_property(make_schema):
    sid, register = make_schema("BACKWARD", "JSON", js(["id"], id="string"))
    assert register(js(["id", "email"], id="string", email="string"))["Status"] == "FAILURE"
    assert register(js(["id"], id="string", email="string"))["Status"] == "AVAILABLE"


def test_failed_version_is_not_latest(glue_registry, make_schema):
    glue, _ = glue_registry
    sid, register = make_schema("BACKWARD", "JSON", js(["id"], id="string"))
    ok = register(js(["id"], id="string", email="string"))
    failed = register(js(["id"], id="integer"))
    assert failed["Status"] == "FAILURE" and failed["VersionNumber"] == 3
    schema = glue.get_schema(SchemaId=sid)
    assert schema["LatestSchemaVersion"] == 2 and schema["NextSchemaVersion"] == 4
    latest = glue.get_schema_version(SchemaId=sid, SchemaVersionNumber={"LatestVersion": True})
    assert latest["SchemaVersionId"] == ok["SchemaVersionId"] and latest["Status"] == "AVAILABLE"
    # later checks ignore the failed version: this one is judged against version 2 only
    after = register(js(["id"], id="string", email="string", phone="string"))
    assert after["Status"] == "AVAILABLE" and after["VersionNumber"] == 4
    assert glue.get_schema(SchemaId=sid)["LatestSchemaVersion"] == 4
    # registering the failed definition again returns the failed version, as AWS returns existing versions
    again = register(js(["id"], id="integer"))
    assert again["SchemaVersionId"] == failed["SchemaVersionId"] and again["Status"] == "FAILURE"
    # and explain() says why, using only the public API (so it works on AWS too)
    assert registry.explain(glue, sid, js(["id"], id="integer")) == [
        "BACKWARD: the new version cannot read data written with version 2: "
        "$.id: type ['string'] written but the reader accepts only ['integer']"]


def test_forward_checks_that_the_latest_reads_the_new_version(make_schema):
    sid, register = make_schema("FORWARD", "AVRO", avro(("id", "string"), ("email", "string")))
    assert register(avro(("id", "string")))["Status"] == "FAILURE"  # old readers need email (no default)
    assert register(avro(("id", "string"), ("email", "string"), ("phone", "string")))["Status"] == "AVAILABLE"


def test_full_needs_both_directions(make_schema):
    sid, register = make_schema("FULL", "AVRO", avro(("id", "string")))
    assert register(avro(("id", "string"), ("email", "string")))["Status"] == "FAILURE"  # backward fails
    assert register(avro(("id", "string"), ("email", "string", "")))["Status"] == "AVAILABLE"


@pytest.mark.parametrize("mode, data_format, expected", [
    ("BACKWARD", "JSON", "AVAILABLE"), ("BACKWARD_ALL", "JSON", "FAILURE"),
    ("FORWARD", "JSON", "AVAILABLE"), ("FORWARD_ALL", "JSON", "FAILURE"),
    ("FULL", "JSON", "AVAILABLE"), ("FULL_ALL", "JSON", "FAILURE"),
    ("BACKWARD", "AVRO", "AVAILABLE"), ("BACKWARD_ALL", "AVRO", "FAILURE"),
])
def test_all_modes_check_every_available_version_not_only_the_latest(make_schema, mode, data_format, expected):
    """v1 has `a` as a string, v2 drops it, v3 brings it back as a number: v3 fits v2 but not v1."""
    if data_format == "JSON":
        v1, v2, v3 = js(id="string", a="string"), js(id="string"), js(id="string", a="integer")
    else:
        v1, v2, v3 = (avro(("id", "string"), ("a", "string", "")), avro(("id", "string")),
                      avro(("id", "string"), ("a", "int", 0)))
    sid, register = make_schema(mode, data_format, v1)
    assert register(v2)["Status"] == "AVAILABLE"
    assert register(v3)["Status"] == expected


def test_none_accepts_anything(make_schema):
    sid, register = make_schema("NONE", "AVRO", avro(("id", "string")))
    assert register(avro(("id", "int"), ("email", "string")))["Status"] == "AVAILABLE"


def test_disabled_refuses_new_versions_as_aws(glue_registry, make_schema):
    sid, register = make_schema("DISABLED", "AVRO", avro(("id", "string")))
    with pytest.raises(ClientError) as err:
        register(avro(("id", "string"), ("x", "int", 0)))
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert "DISABLED" in err.value.response["Error"]["Message"]


def test_invalid_avro_is_refused(glue_registry, make_schema):
    glue, reg = glue_registry
    with pytest.raises(ClientError) as err:
        glue.create_schema(RegistryId={"RegistryName": reg}, SchemaName="bad-avro", DataFormat="AVRO",
                           Compatibility="NONE", SchemaDefinition=json.dumps({"type": "record", "name": "r"}))
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    sid, register = make_schema("BACKWARD", "AVRO", avro(("id", "string")))
    with pytest.raises(ClientError):
        register(json.dumps({"type": "recordz", "name": "r", "fields": []}))


def test_registry_hooks_are_covered_by_the_contract_check():
    from gluelab.localaws import hooks

    hooks.check_contracts()
    assert {("GlueBackend", "register_schema_version"), ("GlueBackend", "create_schema")} <= {
        (h.owner.__name__, h.method) for h in hooks._HOOKS}


def test_list_schema_versions_lists_failed_versions_too_oldest_first_and_pages(glue_registry, make_schema):
    glue, reg = glue_registry
    sid, register = make_schema("BACKWARD", "AVRO", avro(("id", "string")))
    register(avro(("id", "string"), ("email", ["null", "string"], None)))   # 2: AVAILABLE
    register(avro(("id", "string"), ("email", "string")))                   # 3: FAILURE (no default)
    listed = glue.list_schema_versions(SchemaId=sid)
    assert [(v["VersionNumber"], v["Status"]) for v in listed["Schemas"]] == [
        (1, "AVAILABLE"), (2, "AVAILABLE"), (3, "FAILURE")]
    assert "NextToken" not in listed
    arn = glue.get_schema(SchemaId=sid)["SchemaArn"]
    assert {v["SchemaArn"] for v in listed["Schemas"]} == {arn}
    for v in listed["Schemas"]:
        assert glue.get_schema_version(SchemaVersionId=v["SchemaVersionId"])["VersionNumber"] == v["VersionNumber"]
    pages = glue.get_paginator("list_schema_versions").paginate(SchemaId=sid, PaginationConfig={"PageSize": 2})
    assert [[v["VersionNumber"] for v in p["Schemas"]] for p in pages] == [[1, 2], [3]]
    assert [v["VersionNumber"] for v in glue.list_schema_versions(SchemaId={"SchemaArn": arn})["Schemas"]] == [1, 2, 3]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.list_schema_versions(SchemaId={"RegistryName": reg, "SchemaName": "no-such-schema"})
