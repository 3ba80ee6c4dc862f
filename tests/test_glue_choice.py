"""Choice types: typed CSV, JSON with disagreeing records, and every resolveChoice action."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from gluelab.glue.choice import csv_frame, json_frame
from gluelab.glue.dynamicframe import DynamicFrame
from gluelab.glue.types import parse_type, render_schema, split_path


def rows(df, order="id"):
    return [r.asDict(recursive=True) for r in df.orderBy(order).collect()]


def errors(frame):
    return [r.asDict() for r in frame.errorsAsDynamicFrame().toDF().collect()]


# ------------------------------------------------------------------------------------------- CSV

def test_csv_frame_types_columns_and_makes_choices(spark):
    raw = spark.createDataFrame(
        [("1", "10", "2.5", "true", "a", ""), ("2", "n/a", "3", "FALSE", "b", ""),
         ("3", "12", "", "", "", ""), ("4", "", "x", "true", "d", "")],
        "id string, provider string, price string, active string, name string, empty string")
    df, choices = csv_frame(raw)
    assert choices == frozenset({"provider", "price"})
    assert render_schema(df, choices) == (
        "root\n|-- id: long\n|-- provider: choice\n|    |-- long\n|    |-- string\n"
        "|-- price: choice\n|    |-- double\n|    |-- string\n|-- active: boolean\n|-- name: string\n"
        "|-- empty: string")
    got = rows(df)
    assert [r["provider"] for r in got] == [{"long": 10, "string": None}, {"long": None, "string": "n/a"},
                                            {"long": 12, "string": None}, None]
    assert [r["price"] for r in got] == [{"double": 2.5, "string": None}, {"double": 3.0, "string": None},
                                         None, {"double": None, "string": "x"}]
    assert [r["active"] for r in got] == [True, False, None, True]
    assert [r["name"] for r in got] == ["a", "b", None, "d"]  # empty strings are null
    assert df.count() == raw.count()


def test_csv_frame_numbers_only_and_huge_integers(spark):
    raw = spark.createDataFrame([("1", "1.5", "99999999999999999999"), ("-2", "1e3", "1")],
                                "a string, b string, c string")
    df, choices = csv_frame(raw)
    assert choices == frozenset()
    # an integer too big for a long is still a number: the column is double, not a choice
    assert df.dtypes == [("a", "bigint"), ("b", "double"), ("c", "double")]
    assert [r["b"] for r in df.orderBy("a").collect()] == [1000.0, 1.5]


# ------------------------------------------------------------------------------------------- JSON

def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_json_frame_conflicts_become_choices_nested_too(spark, tmp_path):
    lines = [{"id": 1, "price": 2.5, "provider": {"id": "p1", "zip": 1000}, "tags": ["a"]},
             {"id": 2, "price": "free", "provider": {"id": 7, "zip": 2000}, "tags": []},
             {"id": 3, "price": None, "provider": None, "tags": ["b", 3]},
             {"id": 4, "price": 4, "provider": {"id": "p4"}}]
    path = _write(tmp_path, "a.json", "\n".join(json.dumps(x) for x in lines) + "\n")
    df, choices = json_frame(spark, [path])
    assert choices == frozenset({"price", "provider.id"})
    assert render_schema(df, choices) == (
        "root\n|-- id: int\n|-- price: choice\n|    |-- double\n|    |-- int\n|    |-- string\n"
        "|-- provider: struct\n|    |-- id: choice\n|    |    |-- int\n|    |    |-- string\n"
        "|    |-- zip: int\n|-- tags: array\n|    |-- element: string")
    got = rows(df)
    assert got[0]["price"] == {"double": 2.5, "int": None, "string": None}
    assert got[1]["price"] == {"double": None, "int": None, "string": "free"}
    assert got[2]["price"] is None and got[2]["provider"] is None
    assert got[3]["price"] == {"double": None, "int": 4, "string": None}
    assert got[1]["provider"] == {"id": {"int": 7, "string": None}, "zip": 2000}
    assert got[2]["tags"] == ["b", "3"]  # no choices inside arrays: the disagreeing element keeps its JSON text
    assert got[3]["tags"] is None


def test_json_frame_without_conflicts_uses_spark_reader_and_longs(spark, tmp_path):
    path = _write(tmp_path, "b.json", '{"id": 1, "big": 5000000000, "ok": true}\n\n{"id": 2, "big": 1}\n')
    df, choices = json_frame(spark, path)
    assert choices == frozenset()
    assert df.dtypes == [("id", "int"), ("big", "bigint"), ("ok", "boolean")]
    assert rows(df) == [{"id": 1, "big": 5000000000, "ok": True}, {"id": 2, "big": 1, "ok": None}]


def test_json_frame_multiline_documents(spark, tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    _write(d, "one.json", json.dumps([{"id": 1, "v": 1}, {"id": 2, "v": "two"}], indent=2))
    _write(d, "two.json", json.dumps({"id": 3, "v": 3}, indent=2))
    df, choices = json_frame(spark, [str(d)], multiline=True)
    assert choices == frozenset({"v"})
    assert [r["v"] for r in rows(df)] == [{"int": 1, "string": None}, {"int": None, "string": "two"},
                                          {"int": 3, "string": None}]


def test_json_frame_rejects_malformed_text(spark, tmp_path):
    path = _write(tmp_path, "bad.json", '{"id": 1}\n{"id": 2,\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"2 malformed JSON record\(s\)"):
        json_frame(spark, [path])


# ------------------------------------------------------------------------------------------- resolveChoice

@pytest.fixture()
def mixed(spark):
    """Records whose price is double or string and whose provider.id is long or string."""
    a = spark.createDataFrame([(1, 2.5, (10,)), (2, 4.0, (20,))], "id long, price double, provider struct<id:long>")
    b = spark.createDataFrame([(3, "7.5", ("x3",)), (4, "free", ("40",))],
                              "id long, price string, provider struct<id:string>")
    frame = DynamicFrame(a, None, "a").union(DynamicFrame(b, None, "b"))
    assert frame.choices == frozenset({"price", "provider.id"})
    return frame


def test_resolve_cast_sends_uncastable_values_to_errors(mixed):
    out = mixed.resolveChoice(specs=[("price", "cast:double"), ("provider.id", "cast:long")],
                              transformation_ctx="rc")
    assert out.choices == frozenset()
    assert [(r["id"], r["price"], r["provider"]["id"]) for r in rows(out.toDF())] == [
        (1, 2.5, 10), (2, 4.0, 20)]
    errs = sorted(errors(out), key=lambda e: e["record"])
    assert len(errs) == 2 and out.count() + out.stageErrorsCount() == mixed.count()
    assert errs[0]["transformation"] == "ResolveChoice" and errs[0]["transformation_ctx"] == "rc"
    assert "cannot cast field 'provider.id'" in errs[0]["reason"]                 # id 3: "x3"
    assert "cannot cast field 'price'" in errs[1]["reason"] and "free" in errs[1]["reason"]  # id 4


def test_resolve_cast_to_string_keeps_everything(mixed):
    out = mixed.resolveChoice(choice="cast:string")
    assert [r["price"] for r in rows(out.toDF())] == ["2.5", "4.0", "7.5", "free"]
    assert out.stageErrorsCount() == 0 and out.choices == frozenset()


def test_resolve_project_keeps_one_type_and_reports_others(mixed):
    out = mixed.resolveChoice(specs=[("price", "project:double")])
    assert out.choices == frozenset({"provider.id"})
    assert [(r["id"], r["price"]) for r in rows(out.toDF())] == [(1, 2.5), (2, 4.0)]
    errs = errors(out)
    assert len(errs) == 2 and all("project keeps only double values" in e["reason"] for e in errs)
    assert sorted(json.loads(e["record"])["id"] for e in errs) == [3, 4]


def test_resolve_make_cols_and_make_struct(mixed):
    cols = mixed.resolveChoice(specs=[("price", "make_cols"), ("provider.id", "make_cols")])
    assert cols.choices == frozenset()
    got = rows(cols.toDF())
    assert got[0] == {"id": 1, "price_double": 2.5, "price_string": None,
                      "provider": {"id_long": 10, "id_string": None}}
    assert got[3]["price_string"] == "free"
    struct = mixed.resolveChoice(choice="make_struct")
    assert struct.choices == frozenset()
    assert rows(struct.toDF())[2]["price"] == {"double": None, "string": "7.5"}


def test_resolve_match_catalog_reads_table_types(mixed, endpoint):
    glue = boto3.client("glue")
    db = "gluelab_choice_" + uuid.uuid4().hex[:8]
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput={"Name": "prices", "StorageDescriptor": {"Columns": [
        {"Name": "id", "Type": "bigint"}, {"Name": "price", "Type": "decimal(10,2)"},
        {"Name": "provider", "Type": "struct<id:string>"}]}})
    out = mixed.resolveChoice(choice="match_catalog", database=db, table_name="prices")
    assert out.choices == frozenset()
    assert dict(out.toDF().dtypes)["price"] == "decimal(10,2)"
    assert [(r["id"], str(r["price"]), r["provider"]["id"]) for r in rows(out.toDF())] == [
        (1, "2.50", "10"), (2, "4.00", "20"), (3, "7.50", "x3")]
    assert out.stageErrorsCount() == 1  # "free" is no decimal
    with pytest.raises(ValueError, match="database= and table_name="):
        mixed.resolveChoice(choice="match_catalog")


def test_resolve_choice_argument_errors(mixed):
    with pytest.raises(ValueError, match="both missing"):
        mixed.resolveChoice()
    with pytest.raises(ValueError, match="both specified"):
        mixed.resolveChoice(specs=[("price", "make_cols")], choice="make_cols")
    with pytest.raises(ValueError, match="unknown action"):
        mixed.resolveChoice(specs=[("price", "explode")])
    with pytest.raises(ValueError, match="no field 'nope'"):
        mixed.resolveChoice(specs=[("nope", "cast:long")])


def test_type_helpers():
    assert split_path("`a.b`.c") == ["a.b", "c"]
    assert parse_type("Long").simpleString() == "bigint"
    assert parse_type("decimal(12,4)").simpleString() == "decimal(12,4)"
    assert parse_type("struct") is None
    with pytest.raises(ValueError, match="unknown type name"):
        parse_type("frobnicate")
