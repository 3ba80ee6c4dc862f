"""DynamicFrame: records in, records out, error records that reconcile, schema text, Glue's method set."""
from __future__ import annotations

import json

import pytest

from gluelab.glue import dynamicframe as dfm
from gluelab.glue.dynamicframe import DynamicFrame, DynamicFrameCollection, ErrorThresholdExceeded

PEOPLE_DDL = "id long, name string, provider struct<id:int,city:string>, tags array<string>"
PEOPLE = [
    (1, "ann", (10, "Oslo"), ["a", "b"]),
    (2, "bob", None, []),
    (3, "cy", (30, "Rome"), None),
    (4, "dee", (40, "Oslo"), ["c"]),
]


@pytest.fixture()
def people(spark):
    return DynamicFrame(spark.createDataFrame(PEOPLE, PEOPLE_DDL), None, "people")


def rows(frame, order="id"):
    return [r.asDict(recursive=True) for r in frame.toDF().orderBy(order).collect()]


def errors(frame):
    return [r.asDict() for r in frame.errorsAsDynamicFrame().toDF().collect()]


# ------------------------------------------------------------------------------------------- basics

def test_fromdf_todf_count_and_name(spark):
    df = spark.createDataFrame([(1,), (2,)], "x int")
    frame = DynamicFrame.fromDF(df, None, "nums")
    assert frame.name == "nums" and frame.count() == 2 and frame.choices == frozenset()
    assert frame.toDF() is df
    assert frame.errorsCount() == 0 and frame.stageErrorsCount() == 0


def test_print_schema_matches_glue_format(people, capsys):
    people.printSchema()
    assert capsys.readouterr().out == (
        "root\n"
        "|-- id: long\n"
        "|-- name: string\n"
        "|-- provider: struct\n"
        "|    |-- id: int\n"
        "|    |-- city: string\n"
        "|-- tags: array\n"
        "|    |-- element: string\n")


def test_print_schema_shows_choice_alternatives(spark, capsys):
    a = DynamicFrame(spark.createDataFrame([(1, 2.5)], "id long, price double"), None, "a")
    b = DynamicFrame(spark.createDataFrame([(2, "n/a")], "id long, price string"), None, "b")
    a.union(b).printSchema()
    assert capsys.readouterr().out == (
        "root\n"
        "|-- id: long\n"
        "|-- price: choice\n"
        "|    |-- double\n"
        "|    |-- string\n")


def test_show_prints_json_lines_in_frame_order(people, capsys):
    people.show(2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ['{"id": 1, "name": "ann", "provider": {"id": 10, "city": "Oslo"}, "tags": ["a", "b"]}',
                     '{"id": 2, "name": "bob", "provider": null, "tags": []}']


def test_show_prints_choice_values_not_structs(spark, capsys):
    a = DynamicFrame(spark.createDataFrame([(1, 7)], "id long, v long"), None)
    b = DynamicFrame(spark.createDataFrame([(2, "x")], "id long, v string"), None)
    a.union(b).show()
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"id": 1, "v": 7}, {"id": 2, "v": "x"}]


def test_schema_fields_mirror_gluetypes(people):
    schema = people.schema()
    assert [f.name for f in schema.fields] == ["id", "name", "provider", "tags"]
    assert schema.field_map() == {"id": "long", "name": "string", "provider": "struct", "tags": "array"}
    assert schema.getField("provider").dataType.field_map() == {"id": "int", "city": "string"}


def test_dataframe_only_methods_raise_attribute_error(people):
    with pytest.raises(AttributeError, match="toDF"):
        people.dropDuplicates()
    with pytest.raises(AttributeError):
        people.groupBy("id")
    assert not hasattr(people, "withColumn")


# ------------------------------------------------------------------------------------------- map/filter

def test_map_adds_field_keeps_input_types_and_counts_reconcile(people):
    def add(rec):
        if rec["id"] == 2:
            raise ValueError("no bob")
        rec["city"] = rec["provider"]["city"] if rec["provider"] else None
        rec["n_tags"] = len(rec["tags"] or [])
        return rec

    out = people.map(add, transformation_ctx="add_city", info="step 1")
    assert out.toDF().schema["provider"].dataType.simpleString() == "struct<id:int,city:string>"
    assert out.schema().field_map()["n_tags"] == "long"
    assert [(r["id"], r["city"], r["n_tags"]) for r in rows(out)] == [(1, "Oslo", 2), (3, "Rome", 0),
                                                                       (4, "Oslo", 1)]
    assert out.count() + out.stageErrorsCount() == people.count()
    (err,) = errors(out)
    assert err["transformation"] == "Map" and err["transformation_ctx"] == "add_city"
    assert err["info"] == "step 1" and err["reason"] == "ValueError: no bob"
    assert json.loads(err["record"]) == {"id": 2, "name": "bob", "provider": None, "tags": []}


def test_map_returning_none_or_extra_fields_is_an_error(spark, monkeypatch):
    monkeypatch.setattr(dfm, "SAMPLE_SIZE", 2)
    frame = DynamicFrame(spark.createDataFrame([(i,) for i in range(1, 7)], "id long"), None)

    def f(rec):
        if rec["id"] == 3:
            return None
        if rec["id"] == 5:
            return {"id": 5, "surprise": True}
        return {"id": rec["id"], "sq": rec["id"] ** 2}

    out = frame.map(f)
    assert [(r["id"], r["sq"]) for r in rows(out)] == [(1, 1), (2, 4), (4, 16), (6, 36)]
    reasons = sorted(e["reason"] for e in errors(out))
    assert reasons[0].startswith("TypeError: the map function returned None")
    assert "ValueError: record has fields not in the frame's schema ['surprise']" in reasons[1]
    assert out.count() + out.stageErrorsCount() == 6


def test_map_changing_its_record_in_place_sends_only_the_failing_record_to_errors(spark):
    """Glue's examples change the record and return it (``del rec[...]``); a failure elsewhere in the batch must
    not make the other records meet their own changes a second time."""
    frame = DynamicFrame(spark.createDataFrame([(i, f"n{i}") for i in range(1, 7)], "id long, name string")
                         .coalesce(1), None)

    def f(rec):
        del rec["name"]
        if rec["id"] == 4:
            raise ValueError("four")
        rec["sq"] = rec["id"] ** 2
        return rec

    out = frame.map(f)
    assert [(r["id"], r["sq"]) for r in rows(out)] == [(1, 1), (2, 4), (3, 9), (5, 25), (6, 36)]
    assert [e["reason"] for e in errors(out)] == ["ValueError: four"]
    assert json.loads(errors(out)[0]["record"]) == {"id": 4, "name": "n4"}


def test_map_value_that_does_not_fit_inferred_type_is_error_with_field(spark, monkeypatch):
    monkeypatch.setattr(dfm, "SAMPLE_SIZE", 2)
    frame = DynamicFrame(spark.createDataFrame([(i,) for i in range(1, 6)], "id long"), None)
    out = frame.map(lambda r: {"id": r["id"], "code": r["id"] * 10 if r["id"] < 4 else f"c{r['id']}"})
    assert out.schema().field_map() == {"id": "long", "code": "long"}
    assert [r["code"] for r in rows(out)] == [10, 20, 30]
    errs = errors(out)
    assert len(errs) == 2 and out.stageErrorsCount() == 2
    assert all("field 'code': str value" in e["reason"] and "long" in e["reason"] for e in errs)
    assert sorted(json.loads(e["record"])["id"] for e in errs) == [4, 5]


def test_map_with_conflicting_sample_types_makes_a_choice(spark):
    frame = DynamicFrame(spark.createDataFrame([(1,), (2,), (3,)], "id long"), None)
    out = frame.map(lambda r: {"id": r["id"], "v": r["id"] if r["id"] != 2 else "two"})
    assert out.choices == frozenset({"v"})
    assert [r["v"] for r in rows(out)] == [{"long": 1, "string": None}, {"long": None, "string": "two"},
                                           {"long": 3, "string": None}]
    seen = out.map(lambda r: {"id": r["id"], "kind": type(r["v"]).__name__})
    assert [r["kind"] for r in rows(seen)] == ["int", "str", "int"]


def test_filter_keeps_true_and_sends_raising_records_to_errors(people):
    out = people.filter(lambda r: r["provider"]["city"] == "Oslo", transformation_ctx="oslo")
    assert [r["id"] for r in rows(out)] == [1, 4]
    (err,) = errors(out)
    assert err["transformation"] == "Filter" and err["reason"].startswith("TypeError")
    assert json.loads(err["record"])["id"] == 2
    # input = kept + filtered out (cy) + errors
    assert out.count() + 1 + out.stageErrorsCount() == people.count()


@pytest.mark.parametrize("keep", [lambda r: r["id"] % 2, lambda r: "yes" if r["id"] % 2 else "",
                                  lambda r: True if r["id"] % 2 else None])
def test_filter_keeps_records_by_python_truthiness(spark, keep):
    frame = DynamicFrame(spark.createDataFrame([(i,) for i in range(1, 7)], "id long"), None)
    out = frame.filter(keep).map(lambda r: {"id": r["id"], "half": r["id"] // 2})
    assert [(r["id"], r["half"]) for r in rows(out)] == [(1, 0), (3, 1), (5, 2)]
    assert out.errorsCount() == 0


def test_errors_accumulate_along_a_chain(people):
    m = people.map(lambda r: {**r, "inv": 10 // (r["id"] - 1)})          # id 1 fails
    f = m.filter(lambda r: r["tags"][0] != "zz")                          # bob ([]) and cy (None) fail
    am = f.apply_mapping([("id", "long", "id", "long"), ("name", "string", "name", "int")])  # dee fails
    assert (m.stageErrorsCount(), f.stageErrorsCount(), am.stageErrorsCount()) == (1, 2, 1)
    assert (m.errorsCount(), f.errorsCount(), am.errorsCount()) == (1, 3, 4)
    assert am.count() == 0
    assert sorted(e["transformation"] for e in errors(am)) == ["ApplyMapping", "Filter", "Filter", "Map"]


def test_assert_error_threshold(people):
    out = people.filter(lambda r: r["tags"][0] == "a", stageThreshold=1)
    assert out.stageErrorsCount() == 2
    with pytest.raises(ErrorThresholdExceeded, match="stageThreshold 1"):
        out.assertErrorThreshold()
    assert people.filter(lambda r: r["tags"][0] == "a", stageThreshold=2).assertErrorThreshold() is None
    assert people.filter(lambda r: r["tags"][0] == "a").assertErrorThreshold() is None
    total = out.map(lambda r: r, totalThreshold=1)
    with pytest.raises(ErrorThresholdExceeded, match="totalThreshold 1"):
        total.assertErrorThreshold()


# ------------------------------------------------------------------------------------------- fields

def test_rename_field_nested_within_and_across_levels(people):
    out = (people.rename_field("provider.id", "provider.pid")
           .rename_field("provider.city", "city")
           .rename_field("name", "provider.name"))
    assert out.toDF().columns == ["id", "provider", "tags", "city"]
    assert rows(out)[0] == {"id": 1, "provider": {"pid": 10, "name": "ann"}, "tags": ["a", "b"], "city": "Oslo"}
    assert rows(out)[2]["provider"] == {"pid": 30, "name": "cy"}
    with pytest.raises(ValueError, match="no field 'nope'"):
        people.rename_field("nope", "x")


def test_select_and_drop_fields_nested(people):
    sel = people.select_fields(["id", "provider.city", "missing"])
    assert rows(sel)[:2] == [{"id": 1, "provider": {"city": "Oslo"}}, {"id": 2, "provider": None}]
    dropped = people.drop_fields(["provider.city", "tags"])
    assert rows(dropped)[0] == {"id": 1, "name": "ann", "provider": {"id": 10}}


def test_split_fields_and_split_rows_partition_everything(people):
    parts = people.split_fields(["id", "name"], "ids", "rest")
    assert set(parts.keys()) == {"ids", "rest"}
    assert parts["ids"].toDF().columns == ["id", "name"]
    assert parts["rest"].toDF().columns == ["provider", "tags"]
    split = people.split_rows({"provider.id": {">": 15, "<=": 40}}, "mid", "other")
    assert [r["id"] for r in rows(split["mid"])] == [3, 4]
    assert [r["id"] for r in rows(split["other"])] == [1, 2]  # bob's null provider lands here, not lost
    with pytest.raises(ValueError, match="unknown comparison"):
        people.split_rows({"id": {"~": 1}}, "a", "b")


# ------------------------------------------------------------------------------------------- combining

def test_join_keeps_both_keys(spark, people):
    orders = DynamicFrame(spark.createDataFrame([(100, 1), (101, 1), (102, 3), (103, 9)],
                                                "order_id long, person_id long"), None, "orders")
    out = people.select_fields(["id", "name"]).join(["id"], ["person_id"], orders)
    assert out.name == "peopleorders"
    assert sorted((r["id"], r["person_id"], r["order_id"]) for r in rows(out)) == [
        (1, 1, 100), (1, 1, 101), (3, 3, 102)]
    same = people.select_fields(["id"]).join("id", "id", people.select_fields(["id", "name"]))
    assert same.toDF().columns == ["id", "name"]
    with pytest.raises(ValueError, match="both frames have fields"):
        people.join("id", "id", people)


def test_union_of_different_types_is_a_choice(spark):
    a = DynamicFrame(spark.createDataFrame([(1, 10, (1,))], "id long, v int, s struct<x:int>"), None)
    b = DynamicFrame(spark.createDataFrame([(2, "ten", (2, "y"))], "id long, v string, s struct<x:int,y:string>"),
                     None)
    out = a.union(b)
    assert out.choices == frozenset({"v"})
    assert out.count() == 2
    assert rows(out) == [{"id": 1, "v": {"int": 10, "string": None}, "s": {"x": 1, "y": None}},
                         {"id": 2, "v": {"int": None, "string": "ten"}, "s": {"x": 2, "y": "y"}}]


def test_merge_dynamic_frame_replaces_matching_records(spark):
    src = DynamicFrame(spark.createDataFrame([(1, "a"), (2, "b"), (2, "b2")], "id long, v string"), None)
    stage = DynamicFrame(spark.createDataFrame([(2, "B"), (3, "C")], "id long, v string"), None)
    out = src.mergeDynamicFrame(stage, ["id"])
    assert sorted((r["id"], r["v"]) for r in rows(out)) == [(1, "a"), (2, "B"), (3, "C")]


# ------------------------------------------------------------------------------------------- structure

def test_unnest_flattens_structs(people):
    out = people.unnest()
    assert out.toDF().columns == ["id", "name", "provider.id", "provider.city", "tags"]
    assert rows(out)[0]["provider.city"] == "Oslo"


def test_unbox_json_string_with_bad_text_to_errors(spark):
    df = spark.createDataFrame([(1, '{"a": 1, "b": "x"}'), (2, '{"a": 2}'), (3, "{oops"), (4, None)],
                               "id long, payload string")
    out = DynamicFrame(df, None).unbox("payload", "json")
    assert [r["payload"] for r in rows(out)] == [{"a": 1, "b": "x"}, {"a": 2, "b": None}, None]
    (err,) = errors(out)
    assert err["transformation"] == "Unbox" and "not valid JSON" in err["reason"]
    assert out.count() + out.stageErrorsCount() == 4


def test_spigot_writes_a_sample_and_passes_through(people, tmp_path):
    out = people.spigot(str(tmp_path / "sample"), {"topk": 2})
    assert rows(out) == rows(people)
    lines = [json.loads(line) for p in (tmp_path / "sample").glob("part-*") for line in p.read_text().splitlines()]
    assert [r["id"] for r in lines] == [1, 2]


def test_repartition_coalesce_and_partitions(people):
    assert people.repartition(3).getNumPartitions() == 3
    assert people.repartition(3).coalesce(1).getNumPartitions() == 1
    assert people.repartition(3).coalesce(1).count() == 4


def test_relationalize_two_arrays_rebuilds_by_joining(spark, tmp_path):
    data = [(1, "ann", (("Oslo", "NO")), ["x", "y"], [(1, "p"), (2, "q")]),
            (2, "bob", None, [], [(3, "r")]),
            (3, "cy", (("Rome", "IT")), None, None)]
    df = spark.createDataFrame(data, "id long, name string, addr struct<city:string,cc:string>, "
                                     "tags array<string>, items array<struct<n:int,code:string>>")
    dfc = DynamicFrame(df, None, "src").relationalize("root", str(tmp_path / "staging"))
    assert sorted(dfc.keys()) == ["root", "root_items", "root_tags"]
    root = dfc["root"].toDF()
    assert root.columns == ["id", "name", "addr.city", "addr.cc", "tags", "items"]
    assert dict(root.dtypes)["tags"] == "bigint" and dict(root.dtypes)["items"] == "bigint"
    tags = dfc["root_tags"].toDF()
    items = dfc["root_items"].toDF()
    assert tags.columns == ["id", "index", "tags.val"]
    assert items.columns == ["id", "index", "items.val.n", "items.val.code"]
    assert dict(tags.dtypes)["index"] == "int"
    rebuilt = {}
    for r in root.collect():
        t = sorted((x["index"], x["tags.val"]) for x in tags.where(tags["id"] == r["tags"]).collect()) \
            if r["tags"] is not None else None
        i = sorted((x["index"], x["items.val.n"], x["items.val.code"])
                   for x in items.where(items["id"] == r["items"]).collect()) if r["items"] is not None else None
        rebuilt[r["id"]] = (r["addr.city"], [v for _, v in t] if t is not None else None,
                            [(n, c) for _, n, c in i] if i is not None else None)
    assert rebuilt == {1: ("Oslo", ["x", "y"], [(1, "p"), (2, "q")]),
                       2: (None, [], [(3, "r")]),
                       3: ("Rome", None, None)}


def test_relationalize_nested_array_in_array_elements(spark):
    df = spark.createDataFrame([(1, [("a", [1, 2]), ("b", [])])],
                               "id long, groups array<struct<g:string,vals:array<int>>>")
    dfc = DynamicFrame(df, None).relationalize("r", None)
    assert sorted(dfc.keys()) == ["r", "r_groups", "r_groups.val.vals"]
    groups = dfc["r_groups"].toDF()
    vals = dfc["r_groups.val.vals"].toDF()
    a_link = groups.where("`groups.val.g` = 'a'").collect()[0]["groups.val.vals"]
    assert sorted(r["groups.val.vals.val"] for r in vals.where(vals["id"] == a_link).collect()) == [1, 2]


# ------------------------------------------------------------------------------------------- collection

def test_dynamic_frame_collection(people):
    ids = people.select_fields(["id"])
    ids.name = "ids"
    dfc = DynamicFrameCollection({"a": people, "b": ids}, None)
    assert len(dfc) == 2 and list(dfc.keys()) == ["a", "b"] and dfc.select("b").toDF().columns == ["id"]
    assert dfc["a"] is people and list(dfc.values())[0] is people
    mapped = dfc.map(lambda f, ctx: f.select_fields(["id"]))
    assert [f.toDF().columns for f in mapped.values()] == [["id"], ["id"]]
    flat = dfc.flatmap(lambda f, ctx: f.split_fields(["id"], f"{ctx}_1", f"{ctx}_2"))
    assert sorted(flat.keys()) == [":ids_1", ":ids_2", ":people_1", ":people_2"]
    with pytest.raises(KeyError, match="no frame 'zz'"):
        dfc.select("zz")
    with pytest.raises(TypeError):
        dfc.map(lambda f, ctx: f.toDF())
