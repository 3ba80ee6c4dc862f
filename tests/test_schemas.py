"""Schema evolution: Hive type parsing, diff classification, the seed's customer versions, the v1 -> v2 migration."""
import datetime as dt

import pytest

from gluelab import schemas
from gluelab.schemas import BACKWARD, BREAKING, FORWARD, UNCHANGED, Change


def kinds(changes):
    return [(c.kind, c.path, c.compatibility) for c in changes]


# --- Hive types --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["int", "decimal(10,2)", "varchar(50)", "array<string>", "map<string,bigint>",
                                  "struct<email:string,prefs:struct<sms:boolean>>",
                                  "array<struct<id:bigint,tags:array<string>>>"])
def test_hive_types_round_trip(text):
    assert str(schemas.parse_type(text)) == text


def test_hive_type_parser_normalises_and_rejects():
    assert schemas.parse_type("STRUCT< a : INTEGER , b : Long >") == schemas.parse_type("struct<a:int,b:bigint>")
    assert schemas.parse_type("decimal").params == (10, 0)
    for bad in ("struct<a:int", "array<int,int>", "int>", "decimal(10,", ""):
        with pytest.raises(ValueError):
            schemas.parse_type(bad)


def test_glue_columns_table_and_simple_dict_read_the_same():
    cols = [{"Name": "id", "Type": "string"}, {"Name": "contact", "Type": "struct<email:string>"},
            {"Name": "tags", "Type": "array<string>"}]
    simple = {"id": "string", "contact": {"email": "string"}, "tags": ["string"]}
    table = {"Name": "t", "StorageDescriptor": {"Columns": cols}, "PartitionKeys": [{"Name": "year", "Type": "string"}]}
    assert schemas.as_schema(cols).columns == schemas.as_schema(simple).columns == schemas.as_schema(table).columns
    assert list(schemas.as_schema(table).partition_keys) == ["year"]
    assert schemas.as_schema(simple).to_glue_columns() == cols


# --- classification ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, expected", [
    ("int", "bigint", BACKWARD), ("float", "double", BACKWARD), ("int", "double", BACKWARD),
    ("bigint", "double", BACKWARD), ("decimal(10,2)", "decimal(12,2)", BACKWARD),
    ("varchar(50)", "varchar(100)", BACKWARD), ("varchar(50)", "string", BACKWARD),
    ("bigint", "int", FORWARD), ("double", "float", FORWARD), ("decimal(12,2)", "decimal(10,2)", FORWARD),
    ("string", "int", BREAKING), ("int", "string", BREAKING), ("double", "bigint", BREAKING),
    ("date", "timestamp", BREAKING), ("decimal(10,2)", "decimal(10,4)", BREAKING), ("int", "int", UNCHANGED),
])
def test_type_changes(old, new, expected):
    assert schemas.type_change(schemas.parse_type(old), schemas.parse_type(new)) == expected


def test_seed_rules_one_by_one():
    base = {"id": "string", "amount": "int", "note": "string", "contact": {"email": "string"}}
    assert kinds(schemas.diff(base, {**base, "channel": "string"})) == [("add_column", "channel", BACKWARD)]
    assert kinds(schemas.diff(base, {**base, "amount": "bigint"})) == [("widen_type", "amount", BACKWARD)]
    assert kinds(schemas.diff(base, {**base, "contact": {"email": "string", "sms": "boolean"}})) == [
        ("add_nested_field", "contact.sms", BACKWARD)]
    without_note = {k: v for k, v in base.items() if k != "note"}
    assert kinds(schemas.diff(base, without_note)) == [("remove_column", "note", FORWARD)]
    assert kinds(schemas.diff(base, without_note, required=["note"])) == [("remove_required_column", "note", BREAKING)]
    assert kinds(schemas.diff(base, {**base, "amount": "string"})) == [("change_type", "amount", BREAKING)]
    assert kinds(schemas.diff(base, {**base, "contact": "string"})) == [("change_type", "contact", BREAKING)]


def test_renames_are_breaking_unless_aliased():
    old, new = {"id": "string", "mail": "string"}, {"id": "string", "email": "string"}
    (change,) = schemas.diff(old, new)
    assert (change.kind, change.compatibility, change.new) == ("rename", BREAKING, "email")
    assert "aliases={'mail': 'email'}" in change.detail
    assert kinds(schemas.diff(old, new, aliases={"mail": "email"})) == [("rename", "mail", FORWARD)]


def test_partition_keys_added_or_changed():
    cols = [{"Name": "id", "Type": "string"}]
    t = lambda *keys: {"Name": "t", "StorageDescriptor": {"Columns": cols},  # noqa: E731
                       "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys]}
    assert kinds(schemas.diff(t("year"), t("year", "month"))) == [("add_partition_key", "month", BACKWARD)]
    assert kinds(schemas.diff(t("year", "month"), t("month"))) == [("change_partition_keys", "year,month", FORWARD)]


def test_flattening_a_struct_is_a_restructure():
    changes = schemas.diff({"id": "string", "contact": {"email": "string"}}, {"id": "string", "email": "string"})
    assert kinds(changes) == [("restructure", "contact", BREAKING)]


def test_compatibility_is_the_worst_class():
    c = lambda cls: Change("x", "p", cls)  # noqa: E731
    assert schemas.compatibility([]) == UNCHANGED
    assert schemas.compatibility([c(BACKWARD), c(FORWARD)]) == FORWARD
    assert schemas.compatibility([c(BREAKING), c(BACKWARD)]) == BREAKING


# --- the seed's customer schema ----------------------------------------------------------------------------

def test_customer_v1_0_to_v1_1_is_backward_compatible():
    changes = schemas.diff(schemas.CUSTOMER_V1_0, schemas.CUSTOMER_V1_1, required=schemas.CUSTOMER_REQUIRED)
    assert kinds(changes) == [("add_column", "phone", BACKWARD), ("add_column", "last_login", BACKWARD)]
    assert schemas.compatibility(changes) == BACKWARD


def test_customer_v1_1_to_v2_0_breaks_with_the_split_and_the_restructure():
    changes = schemas.diff(schemas.CUSTOMER_V1_1, schemas.CUSTOMER_V2_0, required=schemas.CUSTOMER_REQUIRED)
    assert kinds(changes) == [("restructure", "contact", BREAKING), ("split", "name", BREAKING)]
    restructure, split = changes
    assert split.new == "first_name, last_name"
    assert restructure.old == "email, phone"
    assert "preferences:struct<email_notifications:boolean,sms_notifications:boolean>" in restructure.new
    assert schemas.compatibility(changes) == BREAKING
    assert schemas.report(changes).endswith("overall: breaking")


# --- migration on Spark ------------------------------------------------------------------------------------

V1_ROWS = [("c1", "Ana Maria Lopez", "ana@example.com", "555-0101", dt.date(2023, 1, 5)),
           ("c2", "Bo", "bo@example.com", None, dt.date(2023, 2, 6))]
V1_DDL = "customer_id string, name string, email string, phone string, registration_date date"


def test_migrate_customers_v1_to_v2(spark):
    v1 = spark.createDataFrame(V1_ROWS, V1_DDL)
    v2 = schemas.migrate_customers_v1_to_v2(v1)
    expected = schemas.as_schema(schemas.CUSTOMER_V2_0)
    assert [(f.name, f.dataType.simpleString()) for f in v2.schema.fields] == [
        (n, str(t)) for n, t in expected.columns.items()]
    rows = {r.customer_id: r for r in v2.collect()}
    assert (rows["c1"].first_name, rows["c1"].last_name) == ("Ana", "Maria Lopez")
    assert (rows["c2"].first_name, rows["c2"].last_name) == ("Bo", None)
    assert rows["c1"].contact.phone == "555-0101"
    assert rows["c1"].contact.preferences.asDict() == {"email_notifications": False, "sms_notifications": False}
    assert rows["c1"].last_login is None

    report = schemas.validate_consistency(v1, v2)
    assert report == {"only_in_v1": 0, "only_in_v2": 0, "matched": 2, "mismatched": 0, "mismatched_fields": {}}
    from pyspark.sql import functions as F

    broken = v2.filter("customer_id = 'c1'").withColumn("contact", F.col("contact").withField("email", F.lit("x")))
    extra = spark.createDataFrame([("c9", "Zed Q", "z@example.com", None, None)], V1_DDL)
    report = schemas.validate_consistency(v1.unionByName(extra), broken)
    assert report == {"only_in_v1": 2, "only_in_v2": 0, "matched": 0, "mismatched": 1,
                      "mismatched_fields": {"email": 1}}
