"""GlueContext: reading S3 and the catalog, writing (with catalog updates), purging, SQL over the catalog."""
import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import types as T

DB = "gluelab_test_b_ctx"


@pytest.fixture(scope="module")
def glue_context(lab, spark):
    from gluelab.glue import GlueContext

    glue = lab.client("glue")
    try:
        glue.create_database(DatabaseInput={"Name": DB})
    except glue.exceptions.AlreadyExistsException:
        pass
    return GlueContext(spark.sparkContext)


@pytest.fixture
def where(lab):
    """A fresh folder in the raw zone: (bucket, prefix, s3 uri)."""
    prefix = f"b-ctx/{uuid.uuid4().hex[:8]}/"
    bucket = lab.zones.bucket("raw")
    return bucket, prefix, f"s3://{bucket}/{prefix}"


def _put(lab, bucket, key, body):
    lab.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def _keys(lab, bucket, prefix):
    pages = lab.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"][len(prefix):] for p in pages for o in p.get("Contents", []))


def _rows(frame, *cols):
    df = frame if isinstance(frame, DataFrame) else frame.toDF()
    return sorted(tuple(r[c] for c in cols) for r in df.select(*cols).collect())


# ---- reading with from_options -------------------------------------------------------------------------

def test_csv_with_header_separator_and_quote(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "a.csv", "id;name;note\n1;Ann;'x; y'\n2;Bob;plain\n")
    _put(lab, bucket, prefix + "b.csv", "id;name;note\n3;Cy;'z'\n")
    frame = glue_context.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": [uri]}, format="csv",
        format_options={"withHeader": True, "separator": ";", "quoteChar": "'"})
    assert _rows(frame, "id", "name", "note") == [(1, "Ann", "x; y"), (2, "Bob", "plain"), (3, "Cy", "z")]
    assert isinstance(frame.toDF().schema["id"].dataType, (T.IntegerType, T.LongType))


def test_csv_without_header_names_columns_like_glue(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "a.csv", "1,Ann\n2,Bob\n")
    df = glue_context.create_data_frame.from_options(
        connection_type="s3", connection_options={"paths": [uri]}, format="csv")
    assert df.columns == ["col0", "col1"]
    assert _rows(df, "col0", "col1") == [(1, "Ann"), (2, "Bob")]


def test_malformed_csv_rows_become_error_records_not_losses(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "a.csv", "id,name\n1,Ann\n2,Bob,extra\n3\n4,Dee\n5,Eve\n")
    frame = glue_context.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": [uri]}, format="csv",
        format_options={"withHeader": True})
    assert _rows(frame, "id") == [(1,), (4,), (5,)]
    assert frame.errorsCount() == 2
    errors = frame.errorsAsDynamicFrame().toDF().collect()
    text = json.dumps([r.asDict(recursive=True) for r in errors], default=str)
    assert "2,Bob,extra" in text and "more fields" in text and "fewer fields" in text
    assert frame.count() + frame.errorsCount() == 5  # every input record is output or error


def test_json_lines_and_multiline(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "lines/a.json", '{"id": 1, "tag": "x"}\n{"id": 2, "tag": "y"}\n')
    _put(lab, bucket, prefix + "multi/a.json", '[\n  {"id": 3,\n   "tag": "z"},\n  {"id": 4, "tag": "w"}\n]\n')
    lines = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [uri + "lines/"]}, format="json")
    multi = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [uri + "multi/"]}, format="json", format_options={"multiline": True})
    assert _rows(lines, "id", "tag") == [(1, "x"), (2, "y")]
    assert _rows(multi, "id", "tag") == [(3, "z"), (4, "w")]


def _errors(frame):
    return sorted((r.info, r.reason, r.record) for r in frame.errorsAsDynamicFrame().toDF().collect())


def test_malformed_json_lines_become_error_records_with_their_line(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "a.json", '{"id": 1, "tag": "x"}\n{"id": 2, "tag": \n\n[3]\n{"id": 4, "tag": "w"}\n')
    _put(lab, bucket, prefix + "b c=d.json", '{"id": 5, "tag": "v"}\nnot json\n')
    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [uri]}, format="json", transformation_ctx="src")
    assert _rows(frame, "id", "tag") == [(1, "x"), (4, "w"), (5, "v")]
    assert frame.errorsCount() == 3 and frame.count() + frame.errorsCount() == 6  # the non-blank lines
    assert _errors(frame) == [
        (uri + "a.json", "line 2: not valid JSON (Expecting value, column 17)", '{"id": 2, "tag": '),
        (uri + "a.json", "line 4: not a JSON object (a JSON array)", "[3]"),
        (uri + "b c=d.json", "line 2: not valid JSON (Expecting value, column 1)", "not json"),
    ]
    row = frame.errorsAsDynamicFrame().toDF().first()
    assert (row.transformation, row.transformation_ctx) == ("DataSource", "src")


def test_from_catalog_json_sends_malformed_lines_to_the_error_records(lab, glue_context, where):
    bucket, prefix, uri = where
    glue = lab.client("glue")
    _put(lab, bucket, prefix + "flat/a.json", '{"id": 1}\n{"id": \n{"id": 3}\n')
    _put(lab, bucket, prefix + "parts/k=1/a.json", '{"id": 1}\n{oops}\n')
    _put(lab, bucket, prefix + "parts/k=2/a.json", '{"id": 2}\n')
    sd = {"Columns": [{"Name": "id", "Type": "int"}],
          "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}
    flat = f"flat_{uuid.uuid4().hex[:6]}"
    glue.create_table(DatabaseName=DB, TableInput={"Name": flat, "Parameters": {"classification": "json"},
                                                   "StorageDescriptor": {**sd, "Location": uri + "flat/"}})
    frame = glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=flat)
    assert _rows(frame, "id") == [(1,), (3,)] and [e[1][:7] for e in _errors(frame)] == ["line 2:"]
    parts = f"parts_{uuid.uuid4().hex[:6]}"
    _partitioned_table(glue, parts, {**sd, "Location": uri + "parts/"}, "json", [("k", "string")], [("1",), ("2",)])
    frame = glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=parts)
    assert _rows(frame, "id", "k") == [(1, "1"), (2, "2")]
    assert [(e[0], e[1][:7], e[2]) for e in _errors(frame)] == [(uri + "parts/k=1/a.json", "line 2:", "{oops}")]


def test_json_path_reads_records_nested_in_a_document(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "nested/a.json",
         '{"meta": {"n": 2},\n "records": [{"id": 1, "v": "x"}, {"id": 2, "v": 5}]}\n')
    _put(lab, bucket, prefix + "nested/b.json", '{"meta": {"n": 1}, "records": [{"id": 3, "v": "z"}]}\n')
    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [uri + "nested/"], "groupFiles": "inPartition"}, format="json",
        format_options={"multiline": True, "jsonPath": "$.records[*]"})
    assert frame.count() == 3 and frame.choices == frozenset({"v"})
    assert _rows(frame.resolveChoice(specs=[("v", "cast:string")]), "id", "v") == [(1, "x"), (2, "5"), (3, "z")]
    first = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [uri + "nested/"]}, format="json",
        format_options={"multiline": True, "jsonPath": "$['records'][0]"})
    assert sorted(r["id"] for r in first.toDF().collect()) == [1, 3]


@pytest.mark.parametrize("path", ["records[*]", "$..id", "$.records[?(@.id > 1)]", "$.records[0:2]"])
def test_json_path_outside_the_supported_subset_is_a_clear_error(lab, glue_context, where, path):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "bad/a.json", '{"records": [{"id": 1}]}\n')
    with pytest.raises(ValueError, match="jsonPath"):
        glue_context.create_dynamic_frame.from_options(
            "s3", {"paths": [uri + "bad/"]}, format="json", format_options={"multiline": True, "jsonPath": path})


def test_parquet_recurse_exclusions_and_skipped_files(lab, spark, glue_context, where):
    bucket, prefix, uri = where
    spark.createDataFrame([(1,), (2,)], "id int").coalesce(1).write.parquet(uri + "top/")
    spark.createDataFrame([(3,)], "id int").coalesce(1).write.parquet(uri + "top/sub/")
    _put(lab, bucket, prefix + "top/readme.txt", "not data")
    _put(lab, bucket, prefix + "top/.hidden.parquet", "not data")
    _put(lab, bucket, prefix + "top/sub/_temporary/x.parquet", "not data")
    _put(lab, bucket, prefix + "top/empty-folder/", "")
    assert "_SUCCESS" in _keys(lab, bucket, prefix + "top/")

    def read(**options):
        return glue_context.create_dynamic_frame.from_options(
            "s3", {"paths": [uri + "top/"], "exclusions": '["**.txt"]', **options}, format="parquet")

    assert _rows(read(), "id") == [(1,), (2,)]
    assert _rows(read(recurse=True), "id") == [(1,), (2,), (3,)]
    with pytest.raises(Exception, match="(?i)parquet"):  # without the exclusion the text file is read and fails
        glue_context.create_dynamic_frame.from_options(
            "s3", {"paths": [uri + "top/"]}, format="parquet").toDF().collect()


def test_list_files_path_forms(lab, where):
    from gluelab.glue.bookmarks import list_files

    bucket, prefix, uri = where
    for key in ("d/a.csv", "d/sub/b.csv", "d2/c.csv", "d/_SUCCESS"):
        _put(lab, bucket, prefix + key, "x")
    s3 = lab.client("s3")
    assert [f.key[len(prefix):] for f in list_files(s3, uri + "d", recurse=True)] == ["d/a.csv", "d/sub/b.csv"]
    assert [f.key[len(prefix):] for f in list_files(s3, uri + "d/", recurse=False)] == ["d/a.csv"]
    assert [f.key[len(prefix):] for f in list_files(s3, uri + "d/a.csv")] == ["d/a.csv"]
    assert len(list_files(s3, uri + "d/", include_hidden=True)) == 3


# ---- from_catalog with a push-down predicate -----------------------------------------------------------

def _partitioned_table(glue, name, sd, classification, keys, partitions):
    """Register table ``name`` in DB (storage ``sd``, partition ``keys`` as (name, type)) and one partition per
    tuple of values in ``partitions``, each at ``<location>k1=v1/k2=v2/``."""
    glue.create_table(DatabaseName=DB, TableInput={
        "Name": name, "StorageDescriptor": sd, "Parameters": {"classification": classification},
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in keys]})
    glue.batch_create_partition(DatabaseName=DB, TableName=name, PartitionInputList=[
        {"Values": list(values), "StorageDescriptor": {
            **sd, "Location": sd["Location"] + "".join(f"{k}={v}/" for (k, _), v in zip(keys, values))}}
        for values in partitions])


@pytest.fixture
def sales_table(lab, spark, glue_context, where):
    """A parquet table partitioned by year (int) and month (string), registered with 3 partitions; the
    partition year=2023/month=12 holds a corrupt file that a full read trips over."""
    bucket, prefix, uri = where
    name = f"sales_{uuid.uuid4().hex[:6]}"
    data = [(1, 10.0, 2024, "01"), (2, 20.0, 2024, "01"), (3, 30.0, 2024, "02"), (4, 40.0, 2023, "12")]
    spark.createDataFrame(data, "id int, amount double, year int, month string").write.partitionBy(
        "year", "month").parquet(uri)
    glue = lab.client("glue")
    sd = {"Columns": [{"Name": "id", "Type": "int"}, {"Name": "amount", "Type": "double"}], "Location": uri,
          "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}
    _partitioned_table(glue, name, sd, "parquet", [("year", "int"), ("month", "string")],
                       [("2024", "01"), ("2024", "02"), ("2023", "12")])
    _put(lab, bucket, prefix + "year=2023/month=12/broken.parquet", "this is not parquet")
    return name


def test_from_catalog_push_down_predicate_reads_only_matching_partitions(glue_context, sales_table):
    frame = glue_context.create_dynamic_frame.from_catalog(
        database=DB, table_name=sales_table, push_down_predicate="year = 2024 AND month >= '01'")
    df = frame.toDF()
    assert _rows(df, "id", "year", "month") == [(1, 2024, "01"), (2, 2024, "01"), (3, 2024, "02")]
    assert isinstance(df.schema["year"].dataType, T.IntegerType)  # the catalog's type, not a string
    # The 2023 partition holds a corrupt file: reading everything fails, so the pruned read never opened it.
    with pytest.raises(Exception, match="(?i)parquet"):
        glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=sales_table).toDF().collect()
    one = glue_context.create_data_frame.from_catalog(
        database=DB, table_name=sales_table, push_down_predicate="month = '02'")
    assert _rows(one, "id", "amount") == [(3, 30.0)]


def test_from_catalog_catalog_partition_predicate_and_bad_predicate(glue_context, sales_table):
    df = glue_context.create_data_frame.from_catalog(
        database=DB, table_name=sales_table, additional_options={"catalogPartitionPredicate": "month = '01'"})
    assert _rows(df, "id") == [(1,), (2,)]
    with pytest.raises(ValueError, match="push_down_predicate"):
        glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=sales_table,
                                                       push_down_predicate="no_such_column = 1")


def test_from_catalog_csv_without_header_takes_the_catalog_column_names(lab, glue_context, where):
    bucket, prefix, uri = where
    _put(lab, bucket, prefix + "a.csv", "1|Ann\n2|Bob\n")
    name = f"people_{uuid.uuid4().hex[:6]}"
    lab.client("glue").create_table(DatabaseName=DB, TableInput={
        "Name": name, "Parameters": {"classification": "csv"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
                              "Location": uri, "SerdeInfo": {
                                  "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                  "Parameters": {"field.delim": "|"}}}})
    df = glue_context.create_data_frame.from_catalog(database=DB, table_name=name)
    assert df.columns == ["id", "name"]
    assert _rows(df, "id", "name") == [(1, "Ann"), (2, "Bob")]


def test_from_catalog_json_partitions_get_catalog_types(lab, glue_context, where):
    bucket, prefix, uri = where
    glue = lab.client("glue")
    name = f"events_{uuid.uuid4().hex[:6]}"
    _put(lab, bucket, prefix + "region=eu/day=1/a.json", '{"id": 1, "v": 10}\n{"id": 2, "v": "n/a"}\n')
    _put(lab, bucket, prefix + "region=us/day=2/a.json", '{"id": 3, "v": 30}\n')
    sd = {"Columns": [{"Name": "id", "Type": "int"}, {"Name": "v", "Type": "string"}], "Location": uri,
          "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}
    _partitioned_table(glue, name, sd, "json", [("region", "string"), ("day", "int")], [("eu", "1"), ("us", "2")])
    frame = glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=name)
    df = frame.toDF()
    assert isinstance(df.schema["day"].dataType, T.IntegerType)
    assert _rows(df, "id", "region", "day") == [(1, "eu", 1), (2, "eu", 1), (3, "us", 2)]
    assert "v" in frame.choices  # 10 and "n/a": the records disagree, as Glue reports it
    pruned = glue_context.create_dynamic_frame.from_catalog(database=DB, table_name=name,
                                                            push_down_predicate="day > 1")
    assert _rows(pruned, "id") == [(3,)] and not pruned.choices


# ---- writing --------------------------------------------------------------------------------------------

def _frame(glue_context, rows, ddl, name="f", choices=frozenset()):
    from gluelab.glue.dynamicframe import DynamicFrame

    return DynamicFrame(glue_context.spark_session.createDataFrame(rows, ddl), glue_context, name, choices=choices)


def test_partitioned_write_lays_out_key_value_folders_and_appends(lab, spark, glue_context, where):
    bucket, prefix, uri = where
    frame = _frame(glue_context, [(1, "2024", "01"), (2, "2024", "02"), (3, "2024", "02")],
                   "id int, year string, month string")
    for _ in range(2):
        glue_context.write_dynamic_frame.from_options(
            frame=frame, connection_type="s3", connection_options={"path": uri, "partitionKeys": ["year", "month"]},
            format="parquet")
    folders = {k.rsplit("/", 1)[0] for k in _keys(lab, bucket, prefix) if k.endswith(".parquet")}
    assert folders == {"year=2024/month=01", "year=2024/month=02"}
    assert spark.read.parquet(uri).count() == 6  # appended twice


def test_write_compression_and_formats(lab, spark, glue_context, where):
    bucket, prefix, uri = where
    frame = _frame(glue_context, [(1, "a"), (2, "b")], "id int, v string")
    glue_context.write_dynamic_frame.from_options(frame, "s3", {"path": uri + "csv/", "compression": "gzip"},
                                                  format="csv")
    glue_context.write_dynamic_frame.from_options(frame, "s3", {"path": uri + "json/"}, format="json")
    glue_context.write_dynamic_frame.from_options(frame, "s3", {"path": uri + "gp/"}, format="glueparquet",
                                                  format_options={"compression": "gzip"})
    csv_keys = [k for k in _keys(lab, bucket, prefix + "csv/") if not k.startswith("_")]
    assert csv_keys and all(k.endswith(".csv.gz") for k in csv_keys)
    body = lab.client("s3").get_object(Bucket=bucket, Key=prefix + "csv/" + csv_keys[0])["Body"].read()
    assert gzip.decompress(body).decode().startswith("id,v")
    assert all(".gz." in k for k in _keys(lab, bucket, prefix + "gp/") if k.endswith(".parquet"))
    assert spark.read.option("header", "true").csv(uri + "csv/").count() == 2
    assert spark.read.json(uri + "json/").count() == 2


def test_write_refuses_unresolved_choices(glue_context, where):
    frame = _frame(glue_context, [(1, "a")], "id int, price string", name="prices", choices=frozenset({"price"}))
    with pytest.raises(ValueError, match="price.*resolveChoice"):
        glue_context.write_dynamic_frame.from_options(frame, "s3", {"path": where[2]}, format="parquet")


def test_sink_creates_table_with_partitions_then_adds_new_ones(lab, spark, glue_context, where):
    _, _, uri = where
    glue = lab.client("glue")
    table = f"sink_{uuid.uuid4().hex[:6]}"

    def write(rows, ddl, behavior="UPDATE_IN_DATABASE"):
        sink = glue_context.getSink(connection_type="s3", path=uri, enableUpdateCatalog=True,
                                    updateBehavior=behavior, partitionKeys=["day"])
        sink.setFormat("glueparquet")
        sink.setCatalogInfo(catalogDatabase=DB, catalogTableName=table)
        sink.writeFrame(_frame(glue_context, rows, ddl))

    write([(1, "a", "2024-01-01"), (2, "b", "2024-01-02")], "id int, v string, day string")
    t = glue.get_table(DatabaseName=DB, Name=table)["Table"]
    assert [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]] == [("id", "int"), ("v", "string")]
    assert [k["Name"] for k in t["PartitionKeys"]] == ["day"]
    assert t["Parameters"]["classification"] == "parquet"

    def partitions():
        return sorted((p["Values"][0], p["StorageDescriptor"]["Location"])
                      for p in glue.get_partitions(DatabaseName=DB, TableName=table)["Partitions"])

    assert partitions() == [("2024-01-01", uri + "day=2024-01-01/"), ("2024-01-02", uri + "day=2024-01-02/")]
    # LOG: a new column does not change the schema, but the new partition is registered.
    write([(3, "c", 1.5, "2024-01-03")], "id int, v string, extra double, day string", behavior="LOG")
    t = glue.get_table(DatabaseName=DB, Name=table)["Table"]
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == ["id", "v"]
    assert [v for v, _ in partitions()] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # UPDATE_IN_DATABASE: the column is added; an existing partition is not registered twice.
    write([(4, "d", 2.5, "2024-01-03"), (5, "e", 3.5, "2024-01-04")], "id int, v string, extra double, day string")
    t = glue.get_table(DatabaseName=DB, Name=table)["Table"]
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == ["id", "v", "extra"]
    assert [v for v, _ in partitions()] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    # ...and the table reads back through the catalog: 5 rows in 4 partitions.
    back = glue_context.create_data_frame.from_catalog(database=DB, table_name=table)
    assert _rows(back, "id", "day") == [(1, "2024-01-01"), (2, "2024-01-02"), (3, "2024-01-03"),
                                        (4, "2024-01-03"), (5, "2024-01-04")]


def test_write_from_catalog_registers_partitions_only_when_asked(lab, glue_context, sales_table):
    glue = lab.client("glue")
    frame = _frame(glue_context, [(9, 90.0, 2025, "03")], "id int, amount double, year int, month string")
    glue_context.write_dynamic_frame.from_catalog(frame=frame, database=DB, table_name=sales_table)
    values = {tuple(p["Values"]) for p in glue.get_partitions(DatabaseName=DB, TableName=sales_table)["Partitions"]}
    assert ("2025", "03") not in values  # written, but the catalog does not know it yet (as on AWS)
    glue_context.write_dynamic_frame.from_catalog(frame=frame, database=DB, table_name=sales_table,
                                                  additional_options={"enableUpdateCatalog": True})
    values = {tuple(p["Values"]) for p in glue.get_partitions(DatabaseName=DB, TableName=sales_table)["Partitions"]}
    assert ("2025", "03") in values
    df = glue_context.create_data_frame.from_catalog(database=DB, table_name=sales_table,
                                                     push_down_predicate="year = 2025")
    assert _rows(df, "id", "month") == [(9, "03"), (9, "03")]  # both writes appended to the same folder


# ---- purging ---------------------------------------------------------------------------------------------

def _age(lab, bucket, key, hours):
    """Make an object look ``hours`` old (moto runs in this process; S3 has no API for it)."""
    from moto.s3.models import s3_backends

    obj = s3_backends[lab.account_id]["aws"].buckets[bucket].keys[key]
    obj.last_modified = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=hours)


def test_purge_s3_path_keeps_objects_within_retention(lab, glue_context, where):
    bucket, prefix, uri = where
    for key in ("old/a.csv", "old/_SUCCESS", "new/b.csv", "cold/c.csv"):
        _put(lab, bucket, prefix + key, "x")
    _age(lab, bucket, prefix + "old/a.csv", 10)
    _age(lab, bucket, prefix + "old/_SUCCESS", 10)
    lab.client("s3").copy_object(Bucket=bucket, Key=prefix + "cold/c.csv", StorageClass="GLACIER",
                                 CopySource={"Bucket": bucket, "Key": prefix + "cold/c.csv"})
    _age(lab, bucket, prefix + "cold/c.csv", 10)
    purged = glue_context.purge_s3_path(uri, {"retentionPeriod": 1, "excludeStorageClasses": ["GLACIER"],
                                              "manifestFilePath": uri + "manifest/"})
    assert sorted(purged) == [uri + "old/_SUCCESS", uri + "old/a.csv"]
    assert _keys(lab, bucket, prefix) == ["cold/c.csv", "manifest/Failed.csv", "manifest/Success.csv",
                                          "new/b.csv"]
    glue_context.purge_s3_path(uri + "new/", {"retentionPeriod": 0})
    assert "new/b.csv" not in _keys(lab, bucket, prefix)


def test_purge_table_drops_emptied_partitions(lab, glue_context, sales_table):
    glue = lab.client("glue")
    table = glue.get_table(DatabaseName=DB, Name=sales_table)["Table"]
    uri = table["StorageDescriptor"]["Location"]
    bucket, prefix = uri[5:].split("/", 1)
    for key in _keys(lab, bucket, prefix + "year=2024/month=01/"):
        _age(lab, bucket, prefix + "year=2024/month=01/" + key, 200)
    glue_context.purge_table(DB, sales_table, {"partitionPredicate": "year = 2024"})  # default 168 h
    values = {tuple(p["Values"]) for p in glue.get_partitions(DatabaseName=DB, TableName=sales_table)["Partitions"]}
    assert values == {("2024", "02"), ("2023", "12")}
    assert not _keys(lab, bucket, prefix + "year=2024/month=01/")
    assert _keys(lab, bucket, prefix + "year=2024/month=02/")


# ---- SQL over the catalog, the logger, the shim ----------------------------------------------------------

def test_sqlcatalog_sync_registers_tables_and_partitions(lab, spark, glue_context, sales_table, where):
    from gluelab.glue import sqlcatalog

    bucket, prefix, uri = where
    glue = lab.client("glue")
    _put(lab, bucket, prefix + "people/a.csv", "id,name\n1,Ann\n2,Bob\n")
    glue.create_table(DatabaseName=DB, TableInput={
        "Name": "people_b", "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
                              "Location": uri + "people/",
                              "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy."
                                            "LazySimpleSerDe", "Parameters": {"field.delim": ","}}}})
    glue.create_table(DatabaseName=DB, TableInput={
        "Name": "nowhere_b", "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}],
                                                   "Location": "jdbc://db/x"}})
    with pytest.warns(UserWarning, match="nowhere_b"):
        names = sqlcatalog.sync(spark, glue, databases=[DB])
    assert f"{DB}.{sales_table}" in names and f"{DB}.people_b" in names
    with pytest.warns(UserWarning):
        sqlcatalog.sync(spark, glue, databases=[DB])  # idempotent
    try:
        assert spark.sql(f"select count(*) from {DB}.people_b").first()[0] == 2
        assert spark.sql(f"select sum(id) from {DB}.people_b").first()[0] == 3
        # The corrupt 2023 file is in a partition the query prunes away.
        assert spark.sql(f"select count(*) from {DB}.{sales_table} where year = 2024").first()[0] == 3
    finally:
        glue.delete_table(DatabaseName=DB, Name="nowhere_b")


def test_logger_prefixes(glue_context, capsys):
    log = glue_context.get_logger()
    log.info("hello")
    log.error("bad")
    out, err = capsys.readouterr()
    assert out == "INFO GlueLogger: hello\n" and err == "ERROR GlueLogger: bad\n"


def test_shim_imports_are_the_same_classes():
    from gluelab import glue

    glue.enable()
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection
    from awsglue.job import Job
    namespace: dict = {}
    exec("from awsglue.transforms import *", namespace)  # what scripts do
    import awsglue.transforms as shim_transforms
    from awsglue.utils import getResolvedOptions
    from gluelab.glue import context, dynamicframe, job, utils
    assert GlueContext is context.GlueContext is glue.GlueContext
    assert DynamicFrame is dynamicframe.DynamicFrame is glue.DynamicFrame
    assert DynamicFrameCollection is dynamicframe.DynamicFrameCollection
    assert Job is job.Job and getResolvedOptions is utils.getResolvedOptions
    from gluelab.glue import transforms
    assert set(transforms.__all__) <= set(namespace) and shim_transforms.__all__ == transforms.__all__
    assert glue.enable() == str(glue.SHIM / "awsglue")  # a second call changes nothing
