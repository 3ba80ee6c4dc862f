"""The transform classes as Glue scripts import them, and ApplyMapping's paths, casts and error records."""
from __future__ import annotations

import decimal
import json

import pytest

import gluelab.glue
from gluelab.glue import transforms as tr
from gluelab.glue.dynamicframe import DynamicFrame, DynamicFrameCollection

gluelab.glue.enable()
from awsglue.transforms import *  # noqa: E402,F401,F403
from awsglue.transforms import __all__ as AWSGLUE_ALL  # noqa: E402
from awsglueml.transforms import FillMissingValues  # noqa: E402


@pytest.fixture()
def orders(spark):
    df = spark.createDataFrame(
        [("1", "p1", "10", "2.50", None, ("Oslo", "0150")),
         ("2", "p2", "x", "3.75", None, ("Rome", None)),
         ("3", "p1", "30", "bad", None, None)],
        "`order id` string, `provider id` string, qty string, `unit.price` string, nothing string, "
        "addr struct<city:string,zip:string>")
    return DynamicFrame(df, None, "orders")


def rows(frame, order):
    return [r.asDict(recursive=True) for r in frame.toDF().orderBy(order).collect()]


def test_star_import_exports_every_transform():
    names = {"ApplyMapping", "ResolveChoice", "DropNullFields", "Filter", "Map", "Join", "Relationalize",
             "SelectFields", "DropFields", "RenameField", "SplitFields", "SplitRows", "Spigot", "Unbox",
             "UnnestFrame", "SelectFromCollection", "Union", "Repartition", "Coalesce", "ErrorsAsDynamicFrame",
             "MapToCollection", "FlatMap"}
    assert set(AWSGLUE_ALL) == names
    assert ApplyMapping is tr.ApplyMapping  # noqa: F405 - the shim re-exports the same classes
    for name in names:
        described = getattr(tr, name).describe()["transform"]
        assert described["name"] == name and described["description"] and described["args"]
    assert tr.get_transform("applymapping") is tr.ApplyMapping
    assert json.loads(tr.describe_transform("Filter"))["transform"]["name"] == "Filter"


def test_apply_mapping_nested_targets_backticks_and_casts(orders):
    out = ApplyMapping.apply(frame=orders, mappings=[  # noqa: F405
        ("`order id`", "string", "id", "long"),
        ("provider id", "string", "provider.id", "string"),
        ("qty", "string", "provider.qty", "int"),
        ("`unit.price`", "string", "price", "decimal(10,2)"),
        ("addr.city", "string", "city", "string"),
        ("ADDR.zip", "string", "`post.code`", "string"),
    ], transformation_ctx="am")
    assert out.toDF().columns == ["id", "provider", "price", "city", "post.code"]
    assert out.schema().field_map() == {"id": "long", "provider": "struct", "price": "decimal",
                                        "city": "string", "post.code": "string"}
    assert rows(out, "id") == [{"id": 1, "provider": {"id": "p1", "qty": 10}, "price": decimal.Decimal("2.50"),
                                "city": "Oslo", "post.code": "0150"}]
    errs = sorted((r.asDict() for r in out.errorsAsDynamicFrame().toDF().collect()),
                  key=lambda e: json.loads(e["record"])["order id"])
    assert out.count() + out.stageErrorsCount() == orders.count() == 3
    assert [e["reason"] for e in errs] == [
        "cannot cast field 'qty' value x from string to int",
        "cannot cast field '`unit.price`' value bad from string to decimal(10,2)"]
    assert json.loads(errs[0]["record"])["addr"] == {"city": "Rome", "zip": None}


def test_apply_mapping_short_tuples_case_and_missing_sources(orders):
    out = orders.apply_mapping([("ADDR", "address"), ("qty", "quantity", "string"), ("ghost", "g", "int")])
    assert out.toDF().columns == ["address", "quantity"]
    assert out.count() == 3 and out.stageErrorsCount() == 0
    strict = orders.apply_mapping([("ADDR", "address")], case_sensitive=True)
    assert strict.toDF().columns == []
    with pytest.raises(ValueError, match="length 2, 3, or 4"):
        orders.apply_mapping([("a",)])


def test_resolve_choice_transform(spark):
    a = DynamicFrame(spark.createDataFrame([(1, 5)], "id long, v long"), None)
    b = DynamicFrame(spark.createDataFrame([(2, "six")], "id long, v string"), None)
    out = ResolveChoice.apply(Union.apply(a, b), specs=[("v", "cast:string")])  # noqa: F405
    assert [r["v"] for r in rows(out, "id")] == ["5", "six"] and out.choices == frozenset()


def test_filter_map_and_errors_transforms(spark):
    frame = DynamicFrame(spark.createDataFrame([(i,) for i in range(1, 6)], "n long"), None)
    mapped = Map.apply(frame=frame, f=lambda r: {"n": r["n"], "inv": 1 / (r["n"] - 3)})  # noqa: F405
    kept = Filter.apply(frame=mapped, f=lambda r: r["inv"] > 0)  # noqa: F405
    assert [r["n"] for r in rows(kept, "n")] == [4, 5]
    errs = ErrorsAsDynamicFrame.apply(kept).toDF().collect()  # noqa: F405
    assert len(errs) == 1 and errs[0]["reason"].startswith("ZeroDivisionError:")
    assert json.loads(errs[0]["record"]) == {"n": 3}


def test_field_transforms(spark):
    df = spark.createDataFrame([(1, "a", (2, 3)), (2, "b", (4, 5))], "id long, s string, st struct<x:int,y:int>")
    frame = DynamicFrame(df, None, "f")
    assert SelectFields.apply(frame, ["id", "st.y"]).toDF().columns == ["id", "st"]  # noqa: F405
    assert DropFields.apply(frame, ["s"]).toDF().columns == ["id", "st"]  # noqa: F405
    assert rows(RenameField.apply(frame, "st.x", "sx"), "id")[0] == {  # noqa: F405
        "id": 1, "s": "a", "st": {"y": 3}, "sx": 2}
    parts = SplitFields.apply(frame, ["s"])  # noqa: F405
    assert sorted(parts.keys()) == ["f1", "f2"] and parts["f1"].toDF().columns == ["s"]
    split = SplitRows.apply(frame, {"id": {"=": 1}})  # noqa: F405
    assert split["frame1"].count() == 1 and split["frame2"].count() == 1
    flat = UnnestFrame.apply(frame)  # noqa: F405
    assert flat.toDF().columns == ["id", "s", "st.x", "st.y"]
    assert Repartition.apply(frame, 3).getNumPartitions() == 3  # noqa: F405
    assert Coalesce.apply(Repartition.apply(frame, 3), 1).getNumPartitions() == 1  # noqa: F405


def test_join_union_and_collection_transforms(spark):
    people = DynamicFrame(spark.createDataFrame([(1, "ann"), (2, "bob")], "id long, name string"), None, "p")
    orders = DynamicFrame(spark.createDataFrame([(10, 1), (11, 2), (12, 2)], "oid long, pid long"), None, "o")
    joined = Join.apply(people, orders, "id", "pid")  # noqa: F405
    assert sorted((r["name"], r["oid"]) for r in joined.toDF().collect()) == [("ann", 10), ("bob", 11), ("bob", 12)]
    both = Union.apply(people, people)  # noqa: F405
    assert both.count() == 4
    dfc = DynamicFrameCollection({"p": people, "o": orders}, None)
    assert SelectFromCollection.apply(dfc, "o") is orders  # noqa: F405
    counted = MapToCollection.apply(dfc, lambda f, ctx: f.select_fields(["id"]))  # noqa: F405
    assert counted["p"].toDF().columns == ["id"] and counted["o"].toDF().columns == []
    flat = FlatMap.apply(dfc, SelectFields, "frame", paths=["id"])  # noqa: F405
    assert sorted(flat.keys()) == ["o", "p"]


def test_relationalize_unbox_spigot_transforms(spark, tmp_path):
    df = spark.createDataFrame([(1, [1, 2], '{"k": 1}')], "id long, xs array<int>, js string")
    frame = DynamicFrame(df, None)
    dfc = Relationalize.apply(frame, str(tmp_path / "stage"), "top")  # noqa: F405
    assert sorted(dfc.keys()) == ["top", "top_xs"]
    assert Unbox.apply(frame, "js", "json").toDF().collect()[0]["js"]["k"] == 1  # noqa: F405
    assert Spigot.apply(frame, str(tmp_path / "spig"), {"topk": 1}).count() == 1  # noqa: F405
    assert list((tmp_path / "spig").glob("part-*"))


def test_drop_null_fields_drops_only_all_null_fields(spark):
    df = spark.createDataFrame([(1, None, (None, 2), None), (2, None, (None, 3), "x")],
                               "id long, gone string, st struct<a:int,b:int>, some string")
    out = DropNullFields.apply(DynamicFrame(df, None))  # noqa: F405
    assert rows(out, "id") == [{"id": 1, "st": {"b": 2}, "some": None}, {"id": 2, "st": {"b": 3}, "some": "x"}]


def test_fill_missing_values(spark):
    df = spark.createDataFrame([(1, 10, "a"), (2, None, ""), (3, 21, "a"), (4, 20, "b"), (5, None, None)],
                               "id long, age int, grade string")
    frame = DynamicFrame(df, None)
    ages = FillMissingValues.apply(frame, "age")
    assert [(r["age"], r["age_filled"]) for r in rows(ages, "id")] == [
        (10, 10), (None, 17), (21, 21), (20, 20), (None, 17)]
    grades = FillMissingValues.apply(frame, "grade", output_column="grade_guess")
    assert [r["grade_guess"] for r in rows(grades, "id")] == ["a", "a", "a", "b", "a"]
    with pytest.raises(ValueError, match="no column 'nope'"):
        FillMissingValues.apply(frame, "nope")
