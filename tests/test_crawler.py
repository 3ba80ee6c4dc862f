"""gluelab's crawler engine (gluelab.crawler) on the local endpoint's moto backends, without Spark."""
import gzip
import io
import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gluelab.clock import Clock, Cron
from gluelab.crawler import CrawlerSpec, CrawlState, engine
from gluelab.localaws.crawler_storage import MotoCatalog, MotoStorage
from gluelab.crawler.listing import Exclusions, is_skipped

ACCOUNT = "123456789012"


class World:
    """A fresh bucket and database, and a crawl over them with moto's backends (counting reads)."""

    def __init__(self, lab):
        from moto.glue.models import glue_backends

        self.s3 = lab.client("s3")
        self.bucket = f"crawl-{uuid.uuid4().hex[:12]}"
        self.db = self.bucket.replace("-", "_")
        self.s3.create_bucket(Bucket=self.bucket)
        lab.client("glue").create_database(DatabaseInput={"Name": self.db})
        self.glue = lab.client("glue")
        self.storage = MotoStorage(ACCOUNT)
        self.catalog = MotoCatalog(glue_backends[ACCOUNT]["us-east-1"])
        self.state = CrawlState()
        self.reads: list[tuple[str, int]] = []
        self.batches: list[int] = []
        read, batch = self.storage.read, self.catalog.batch_create_partition

        def counting_read(bucket, key, start=0, length=None):
            data = read(bucket, key, start, length)
            self.reads.append((key, len(data)))
            return data

        def spying_batch(database, table, inputs):
            self.batches.append(len(inputs))
            return batch(database, table, inputs)

        self.storage.read = counting_read
        self.catalog.batch_create_partition = spying_batch

    def put(self, key, body):
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def delete(self, key):
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def crawl(self, path="data/", exclusions=(), **kwargs):
        target = {"Path": f"s3://{self.bucket}/{path}", "Exclusions": list(exclusions)}
        if "sample_size" in kwargs:
            target["SampleSize"] = kwargs.pop("sample_size")
        spec = CrawlerSpec(name="unit-crawler", database=self.db, s3_targets=[target], **kwargs)
        self.reads.clear()
        self.batches.clear()
        return engine.crawl(spec, self.storage, self.catalog, self.state)

    def tables(self):
        return {t["Name"]: t for t in self.glue.get_tables(DatabaseName=self.db)["TableList"]}

    def columns(self, table):
        return [(c["Name"], c["Type"]) for c in self.tables()[table]["StorageDescriptor"]["Columns"]]


@pytest.fixture
def world(lab):
    return World(lab)


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# --- listing -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, key, excluded", [
    ("*.csv", "a.csv", True),
    ("*.csv", "sub/a.csv", False),               # * stays inside one folder level
    ("**.csv", "sub/deeper/a.csv", True),        # ** crosses folders
    ("departments/**", "departments/x/y.json", True),
    ("departments/**", "employees/y.json", False),
    ("*.{csv,avro}", "x.avro", True),
    ("*.{csv,avro}", "x.json", False),
    ("foo.?", "foo.c", True),
    ("foo.?", "foo.cc", False),
    ("2015/0[2-9]/**", "2015/05/01/a.csv", True),
    ("2015/0[2-9]/**", "2015/01/01/a.csv", False),
    ("2015/01/{[!0],0[8-9]}**", "2015/01/15/a.csv", True),
    ("2015/01/{[!0],0[8-9]}**", "2015/01/08/a.csv", True),
    ("2015/01/{[!0],0[8-9]}**", "2015/01/03/a.csv", False),
    (r"a\*b", "a*b", True),
    (r"a\*b", "axb", False),
])
def test_exclusion_globs_follow_glue(pattern, key, excluded):
    assert Exclusions([pattern]).excludes(key) is excluded


def test_markers_spark_files_and_hidden_files_are_skipped():
    for key in ("dir/", "_SUCCESS", "x/_SUCCESS", "_temporary/0/part.csv", ".hidden.csv", "a/.tmp/b.csv",
                "x/_committed_123"):
        assert is_skipped(key), key
    assert not is_skipped("year=2024/part-0.csv")


def test_exclusions_are_relative_to_the_include_path(world):
    world.put("data/keep/a.csv", b"id,name\n1,x\n2,y\n")
    world.put("data/tmp/b.csv", b"id,name\n1,x\n2,y\n")
    world.put("data/keep/c.tmp", b"junk")
    world.put("data/keep/", b"")
    result = world.crawl(exclusions=["tmp/**", "**.tmp"])
    assert {k for k, _ in world.reads} == {"data/keep/a.csv"}
    assert list(world.tables()) == ["data"]  # one compatible folder left: the table is the include path
    assert result.objects_read == 1


# --- classification ------------------------------------------------------------------------------------------

def test_csv_header_types_and_lazy_simple_serde(world):
    world.put("data/t/a.csv", b"id,name,price,active,day\n1,apple,1.5,true,2024-01-01\n2,pear,2,false,2024-01-02\n")
    world.crawl()
    table = world.tables()["data"]
    assert world.columns("data") == [("id", "bigint"), ("name", "string"), ("price", "double"),
                                     ("active", "boolean"), ("day", "string")]
    p = table["Parameters"]
    assert (p["classification"], p["delimiter"], p["skip.header.line.count"], p["areColumnsQuoted"]) == \
        ("csv", ",", "1", "false")
    sd = table["StorageDescriptor"]
    assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert sd["SerdeInfo"] == {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                               "Parameters": {"field.delim": ","}}
    assert sd["Location"] == f"s3://{world.bucket}/data/"
    assert table["TableType"] == "EXTERNAL_TABLE"


def test_headerless_csv_gets_col_names(world):
    world.put("data/a.csv", b"1,apple,1.5\n2,pear,2.5\n")
    world.crawl()
    assert world.columns("data") == [("col0", "bigint"), ("col1", "string"), ("col2", "double")]
    assert "skip.header.line.count" not in world.tables()["data"]["Parameters"]


def test_all_string_csv_has_no_header(world):
    # Glue: a header must differ from the data; when every column is a string, the first row is data
    world.put("data/a.csv", b"name,city\nann,paris\nbob,rome\n")
    world.crawl()
    assert world.columns("data") == [("col0", "string"), ("col1", "string")]


def test_quoted_csv_uses_opencsvserde(world):
    world.put("data/a.csv", b'id,comment\n1,"hello, world"\n2,"plain"\n')
    world.crawl()
    table = world.tables()["data"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == \
        "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert table["Parameters"]["areColumnsQuoted"] == "true"
    assert world.columns("data") == [("id", "bigint"), ("comment", "string")]


@pytest.mark.parametrize("delim", ["|", "\t", ";", ","])
def test_delimiter_detection(world, delim):
    rows = [["id", "amount", "label"], ["1", "2.5", "a,b" if delim != "," else "ab"], ["2", "3.5", "c"]]
    world.put("data/a.csv", "\n".join(delim.join(r) for r in rows).encode() + b"\n")
    world.crawl()
    table = world.tables()["data"]
    assert table["Parameters"]["delimiter"] == delim
    assert world.columns("data") == [("id", "bigint"), ("amount", "double"), ("label", "string")]


def test_single_column_text_is_not_csv(world):
    world.put("data/a.txt", b"just\nwords\nhere\n")
    result = world.crawl()
    assert world.tables() == {}
    assert any("UNKNOWN" in m for m in result.messages)


def test_gzip_csv(world):
    world.put("data/a.csv.gz", gzip.compress(b"id,name\n1,x\n2,y\n"))
    world.crawl()
    table = world.tables()["data"]
    assert table["Parameters"]["compressionType"] == "gzip"
    assert world.columns("data") == [("id", "bigint"), ("name", "string")]


def test_nested_json_lines(world):
    lines = [{"id": 1, "user": {"name": "a", "tags": ["x"]}, "items": [{"sku": "s1", "qty": 2}]},
             {"id": 2, "user": {"name": "b", "age": 30}, "items": [{"sku": "s2", "price": 9.5}], "ok": True}]
    world.put("data/a.json", "\n".join(json.dumps(x) for x in lines).encode())
    world.crawl()
    table = world.tables()["data"]
    assert world.columns("data") == [
        ("id", "int"), ("user", "struct<name:string,tags:array<string>,age:int>"),
        ("items", "array<struct<sku:string,qty:int,price:double>>"), ("ok", "boolean")]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert table["Parameters"]["classification"] == "json"


def test_parquet_types_from_the_footer(world):
    t = pa.table({
        "i32": pa.array([1], pa.int32()), "i64": pa.array([1], pa.int64()), "f32": pa.array([1.0], pa.float32()),
        "f64": pa.array([1.0], pa.float64()), "s": ["a"], "b": [True],
        "ts": pa.array([datetime(2024, 1, 1)], pa.timestamp("us")), "d": pa.array([date(2024, 1, 1)]),
        "dec": pa.array([Decimal("1.23")], pa.decimal128(10, 2)),
        "st": pa.array([{"x": 1, "y": "z"}]), "l": pa.array([[1, 2]], pa.list_(pa.int64())),
        "m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int32())),
    })
    world.put("data/p.parquet", parquet(t))
    world.crawl()
    assert world.columns("data") == [
        ("i32", "int"), ("i64", "bigint"), ("f32", "float"), ("f64", "double"), ("s", "string"),
        ("b", "boolean"), ("ts", "timestamp"), ("d", "date"), ("dec", "decimal(10,2)"),
        ("st", "struct<x:bigint,y:string>"), ("l", "array<bigint>"), ("m", "map<string,int>")]
    sd = world.tables()["data"]["StorageDescriptor"]
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert world.tables()["data"]["Parameters"]["recordCount"] == "1"


def test_conflicting_types_widen(world):
    world.put("data/p=1/a.json", b'{"id": 1, "v": 1, "s": 1}\n')
    world.put("data/p=2/a.json", b'{"id": 5000000000, "v": 2.5, "s": "x"}\n')
    world.crawl()
    assert world.columns("data") == [("id", "bigint"), ("v", "double"), ("s", "string")]


def test_empty_and_corrupt_files_are_reported_not_fatal(world):
    world.put("data/t/good.csv", b"id,name\n1,x\n2,y\n")
    world.put("data/t/empty.csv", b"")
    world.put("data/t/broken.parquet", b"PAR1 this is not parquet")
    result = world.crawl()
    assert list(world.tables()) == ["data"]
    assert world.tables()["data"]["Parameters"]["objectCount"] == "1"
    text = "\n".join(result.messages)
    assert "empty.csv is empty" in text
    assert f"could not read s3://{world.bucket}/data/t/broken.parquet: no readable Parquet footer" in text
    assert [u for u, _ in result.unclassified] == [f"s3://{world.bucket}/data/t/empty.csv"]
    assert [u for u, _ in result.unreadable] == [f"s3://{world.bucket}/data/t/broken.parquet"]


def test_json_lines_with_a_bad_line_stay_json_and_name_the_line(world):
    world.put("data/a.json", b'{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n{"id": 3, "name": \n'
                             b'{"id": 4, "name": "d"}\n')
    result = world.crawl()
    table = world.tables()["data"]
    assert table["Parameters"]["classification"] == "json"
    assert world.columns("data") == [("id", "int"), ("name", "string")]
    assert table["Parameters"]["recordCount"] == "3"
    assert [(u, p.split(":")[0]) for u, p in result.rejected] == [(f"s3://{world.bucket}/data/a.json", "line 3")]
    assert any(f"s3://{world.bucket}/data/a.json line 3: not valid JSON" in m for m in result.messages)


def test_ragged_csv_is_unknown_naming_the_first_odd_line(world):
    world.put("data/a.csv", b"id,name,v\n1,a,2.5\n2,b\n3,c,4.5\n4,d,5.5,extra\n5,e,6.5\n")
    result = world.crawl()
    assert world.tables() == {}
    (uri, reason), = result.unclassified
    assert reason == (f"{uri}: CSV rows with different numbers of fields (line 3 has 2 where the first row has 3 "
                      f"and 1 more row(s)): classification UNKNOWN")


def test_a_truncated_gzip_is_unreadable_not_a_good_table(world):
    body = gzip.compress(b"id,name\n" + b"".join(b"%d,name%d\n" % (i, i) for i in range(2000)))
    world.put("data/t.csv.gz", body[:len(body) // 2])
    result = world.crawl()
    assert world.tables() == {}
    (uri, reason), = result.unreadable
    assert uri == f"s3://{world.bucket}/data/t.csv.gz" and "truncated gzip" in reason and uri in reason


def test_gzip_is_read_whole_and_its_records_counted(world):
    text = b"id,name\n" + b"".join(b"%d,n%d\n" % (i, i) for i in range(300_000))
    world.put("data/t.csv.gz", gzip.compress(text) + gzip.compress(b"300000,last\n"))  # two gzip members
    result = world.crawl()
    assert not result.unreadable
    assert abs(int(world.tables()["data"]["Parameters"]["recordCount"]) - 300_001) < 3_000


def test_latin1_text_is_reported_with_its_line(world):
    world.put("data/a.csv", "id,name\n1,caf\u00e9\n".encode("latin-1"))
    result = world.crawl()
    (uri, reason), = result.unclassified
    assert uri in reason and "not UTF-8 text (byte 0xe9 on line 2" in reason


class FailingReads:
    """A storage whose reads of some keys fail, as S3 does for AccessDenied or a dropped connection."""

    def __init__(self, storage, failing):
        self.storage, self.failing = storage, failing

    def __getattr__(self, name):
        return getattr(self.storage, name)

    def read(self, bucket, key, start=0, length=None):
        if key in self.failing:
            raise PermissionError(f"AccessDenied: GetObject on s3://{bucket}/{key}")
        return self.storage.read(bucket, key, start, length)

    def open(self, bucket, key, size):
        from gluelab.crawler.backends import RangeFile
        return RangeFile(lambda start, length: self.read(bucket, key, start, length), size)


@pytest.mark.parametrize("behavior", ["DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"])
def test_a_read_error_is_not_deleted_data(world, behavior):
    world.put("data/a/x.csv", b"id,v\n1,2\n3,4\n")
    world.put("data/b/k=1/x.json", b'{"q": "r"}\n')
    world.put("data/b/k=2/x.json", b'{"q": "s"}\n')
    world.put("data/c/x.parquet", parquet(pa.table({"z": [1]})))
    world.crawl()
    before = world.tables()
    assert sorted(before) == ["a", "b", "c"]
    world.storage = FailingReads(world.storage, {"data/a/x.csv", "data/b/k=2/x.json", "data/c/x.parquet"})
    result = world.crawl(delete_behavior=behavior)
    after = world.tables()
    assert sorted(after) == ["a", "b", "c"] and result.tables_deleted == 0
    assert all("DEPRECATED_BY_CRAWLER" not in t["Parameters"] for t in after.values())
    assert world.columns("c") == [("z", "bigint")]
    parts = world.glue.get_partitions(DatabaseName=world.db, TableName="b")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["1"], ["2"]] and result.partitions_deleted == 0
    assert sorted(u for u, _ in result.unreadable) == [f"s3://{world.bucket}/data/{k}" for k in
                                                       ("a/x.csv", "b/k=2/x.json", "c/x.parquet")]
    assert all("AccessDenied" in reason and uri in reason for uri, reason in result.unreadable)


def test_an_unreadable_folder_is_read_again_by_the_next_incremental_crawl(world):
    world.put("data/t/day=1/a.csv", b"id,v\n1,2\n3,4\n")
    world.put("data/t/day=2/a.csv", b"id,v\n1,2\n3,4\n")
    healthy = world.storage
    world.storage = FailingReads(healthy, {"data/t/day=2/a.csv"})
    first = world.crawl("data/t/", recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY")
    assert first.partitions_created == 1 and len(first.unreadable) == 1
    world.storage = healthy
    again = world.crawl("data/t/", recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY")
    assert {k for k, _ in world.reads} == {"data/t/day=2/a.csv"} and again.partitions_created == 1


def test_big_objects_are_sampled_not_read_whole(world):
    body = b"id,name\n" + b"".join(b"%07d,name\n" % i for i in range(400_000))  # 5.2 MB
    world.put("data/big.csv", body)
    world.crawl()
    assert sum(n for _, n in world.reads) <= 1024 * 1024
    params = world.tables()["data"]["Parameters"]
    assert abs(int(params["recordCount"]) - 400_000) < 40_000  # estimated from the sample, as Glue does


# --- partitions and grouping ---------------------------------------------------------------------------------

def test_hive_partitions(world):
    for y in (2023, 2024):
        for m in (1, 2):
            world.put(f"data/sales/year={y}/month={m}/part.csv", b"id,amount\n1,2.5\n2,3.5\n")
    world.crawl("data/sales/")
    table = world.tables()["sales"]
    assert table["PartitionKeys"] == [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}]
    parts = world.glue.get_partitions(DatabaseName=world.db, TableName="sales")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in parts) == [("2023", "1"), ("2023", "2"), ("2024", "1"), ("2024", "2")]
    p = next(p for p in parts if p["Values"] == ["2024", "2"])
    assert p["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/data/sales/year=2024/month=2/"


def test_unnamed_partitions(world):
    for day in ("2024-01-01", "2024-01-02"):
        world.put(f"data/logs/{day}/a.json", b'{"a": 1}\n')
    world.crawl("data/logs/")
    assert world.tables()["logs"]["PartitionKeys"] == [{"Name": "partition_0", "Type": "string"}]
    values = sorted(p["Values"] for p in world.glue.get_partitions(DatabaseName=world.db, TableName="logs")["Partitions"])
    assert values == [["2024-01-01"], ["2024-01-02"]]


def test_more_than_100_partitions_are_registered_in_batches_of_100(world):
    for i in range(250):
        world.put(f"data/t/k={i:03d}/a.csv", b"id,v\n1,2\n3,4\n")
    result = world.crawl("data/t/")
    assert world.batches == [100, 100, 50]
    assert result.partitions_created == 250


def test_compatible_folders_make_one_table_incompatible_ones_separate(world):
    world.put("data/orders/a.csv", b"order_id,amount,customer\n1,2.5,c1\n2,3.5,c2\n")
    world.put("data/customers/a.csv", b"customer,name,email\nc1,ann,a@x\nc2,bob,b@x\n")
    world.put("data/events/a.json", b'{"e": 1}\n')
    world.crawl()
    assert sorted(world.tables()) == ["customers", "events", "orders"]
    assert all(not t["PartitionKeys"] for t in world.tables().values())


def test_combine_compatible_schemas(world):
    world.put("data/year=2017/a.json", b'{"a": 1, "b": 2}\n')
    world.put("data/year=2018/b.json", b'{"c": 3, "d": 4}\n')
    world.crawl()
    assert sorted(world.tables()) == ["year_2017", "year_2018"]  # AWS's own example: not similar
    for name in list(world.tables()):
        world.glue.delete_table(DatabaseName=world.db, Name=name)
    world.crawl(configuration={"Version": 1.0, "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"}})
    assert list(world.tables()) == ["data"]
    assert world.columns("data") == [("a", "int"), ("b", "int"), ("c", "int"), ("d", "int")]
    assert world.tables()["data"]["PartitionKeys"] == [{"Name": "year", "Type": "string"}]


def test_table_level_configuration(world):
    for m in ("jan", "feb"):
        for d in (1, 2):
            world.put(f"mydataset/year/{m}/{d}/a.csv", b"id,v\n1,2\n3,4\n")
    world.crawl("mydataset/", configuration={"Grouping": {"TableLevelConfiguration": 3}})
    assert sorted(world.tables()) == ["feb", "jan"]
    jan = world.tables()["jan"]
    assert jan["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/mydataset/year/jan/"
    assert jan["PartitionKeys"] == [{"Name": "partition_0", "Type": "string"}]


def test_table_prefix(world):
    world.put("data/a.csv", b"id,v\n1,2\n3,4\n")
    world.crawl(table_prefix="raw_")
    assert list(world.tables()) == ["raw_data"]


def test_inherit_from_table(world):
    world.put("data/k=1/a.csv", b"id,v\n1,2\n3,4\n")
    world.put("data/k=2/a.csv", b"id,v,extra\n1,2,x\n3,4,y\n")
    world.crawl(configuration={"CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}})
    parts = world.glue.get_partitions(DatabaseName=world.db, TableName="data")["Partitions"]
    for p in parts:
        assert [c["Name"] for c in p["StorageDescriptor"]["Columns"]] == ["id", "v", "extra"]


# --- policies ------------------------------------------------------------------------------------------------

def test_update_in_database_versions_the_table_and_log_leaves_it(world):
    world.put("data/k=1/a.csv", b"id,v\n1,2\n3,4\n")
    world.crawl()
    world.put("data/k=2/a.csv", b"id,v,extra\n1,2,x\n3,4,y\n")
    result = world.crawl(update_behavior="LOG")
    assert result.tables_updated == 0 and [c for c, _ in world.columns("data")] == ["id", "v"]
    assert any("LOG" in m for m in result.messages)
    assert result.partitions_created == 1  # new partitions are added whatever the policy
    result = world.crawl(update_behavior="UPDATE_IN_DATABASE")
    assert result.tables_updated == 1 and [c for c, _ in world.columns("data")] == ["id", "v", "extra"]
    versions = world.glue.get_table_versions(DatabaseName=world.db, TableName="data")["TableVersions"]
    assert len(versions) == 2
    assert world.crawl().tables_updated == 0  # nothing changed: no new version


@pytest.mark.parametrize("behavior", ["DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE", "LOG"])
def test_delete_behaviors(world, behavior):
    world.put("data/a/x.csv", b"id,v\n1,2\n3,4\n")
    world.put("data/b/x.json", b'{"q": "r"}\n')
    world.put("data/c/x.json", b'{"z": 1, "w": 2}\n')
    world.crawl()
    assert sorted(world.tables()) == ["a", "b", "c"]
    world.delete("data/b/x.json")
    result = world.crawl(delete_behavior=behavior)
    tables = world.tables()
    if behavior == "DELETE_FROM_DATABASE":
        assert sorted(tables) == ["a", "c"] and result.tables_deleted == 1
    elif behavior == "DEPRECATE_IN_DATABASE":
        assert sorted(tables) == ["a", "b", "c"] and result.tables_deleted == 1
        assert int(tables["b"]["Parameters"]["DEPRECATED_BY_CRAWLER"]) > 1_600_000_000_000
        assert "DEPRECATED_BY_CRAWLER" not in tables["a"]["Parameters"]
    else:
        assert sorted(tables) == ["a", "b", "c"] and result.tables_deleted == 0
        assert "DEPRECATED_BY_CRAWLER" not in tables["b"]["Parameters"]
        assert any("LOG" in m for m in result.messages)


def test_deleted_partitions_follow_delete_from_database(world):
    world.put("data/k=1/a.csv", b"id,v\n1,2\n3,4\n")
    world.put("data/k=2/a.csv", b"id,v\n1,2\n3,4\n")
    world.crawl()
    world.delete("data/k=2/a.csv")
    world.crawl(delete_behavior="DELETE_FROM_DATABASE")
    assert [p["Values"] for p in world.glue.get_partitions(DatabaseName=world.db, TableName="data")["Partitions"]] \
        == [["1"]]


def test_crawl_new_folders_only_reads_only_new_folders(world):
    for i in range(10):
        world.put(f"data/t/day={i:02d}/a.csv", b"id,v\n1,2\n3,4\n")
        world.put(f"data/t/day={i:02d}/b.csv", b"id,v\n5,6\n7,8\n")
    first = world.crawl("data/t/", recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY")
    assert first.objects_read == 20 and first.partitions_created == 10
    world.put("data/t/day=10/a.csv", b"id,v,extra\n1,2,x\n3,4,y\n")
    again = world.crawl("data/t/", recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY")
    assert {k for k, _ in world.reads} == {"data/t/day=10/a.csv"}
    assert again.objects_read == 1 and again.objects_listed == 1
    assert again.partitions_created == 1 and again.tables_updated == 0  # forced LOG: schema untouched
    assert [c for c, _ in world.columns("t")] == ["id", "v"]
    assert len(world.glue.get_partitions(DatabaseName=world.db, TableName="t")["Partitions"]) == 11


def test_sample_size_limits_files_per_folder(world):
    for i in range(5):
        world.put(f"data/k=1/f{i}.csv", b"id,v\n1,2\n3,4\n")
    result = world.crawl(sample_size=2)
    assert result.objects_read == 2


def test_missing_database_fails_the_crawl(world):
    spec = CrawlerSpec(name="x", database="no_such_db", s3_targets=[{"Path": f"s3://{world.bucket}/"}])
    with pytest.raises(engine.CrawlError, match="no_such_db"):
        engine.crawl(spec, world.storage, world.catalog)


# --- schedules -----------------------------------------------------------------------------------------------

def test_cron_expressions():
    at = lambda *a: datetime(*a, tzinfo=timezone.utc)  # noqa: E731
    assert Cron("cron(15 10 * * ? *)").matches(at(2024, 3, 5, 10, 15))
    assert not Cron("cron(15 10 * * ? *)").matches(at(2024, 3, 5, 10, 16))
    assert Cron("cron(0/15 * * * ? *)").fire_times(at(2024, 1, 1, 0, 0), at(2024, 1, 1, 1, 0)) == \
        [at(2024, 1, 1, 0, 15), at(2024, 1, 1, 0, 30), at(2024, 1, 1, 0, 45), at(2024, 1, 1, 1, 0)]
    assert Cron("cron(0 12 ? * MON-FRI *)").matches(at(2024, 3, 4, 12, 0))      # a Monday
    assert not Cron("cron(0 12 ? * MON-FRI *)").matches(at(2024, 3, 3, 12, 0))  # a Sunday
    assert Cron("cron(0 0 L * ? *)").matches(at(2024, 2, 29, 0, 0))
    assert Cron("cron(0 0 ? * 6L *)").matches(at(2024, 3, 29, 0, 0))            # last Friday of March 2024
    assert Cron("cron(0 8 1 JAN,JUL ? 2024-2025)").matches(at(2025, 7, 1, 8, 0))
    assert not Cron("cron(0 8 1 JAN,JUL ? 2024-2025)").matches(at(2026, 7, 1, 8, 0))
    with pytest.raises(ValueError):
        Cron("cron(0 8 * * *)")


def test_clock_starts_due_crawlers(lab):
    glue = lab.client("glue")
    from moto.glue.models import glue_backends

    name = f"sched-{uuid.uuid4().hex[:8]}"
    glue.create_crawler(Name=name, Role="r", DatabaseName="none", Targets={"S3Targets": []},
                        Schedule="cron(0 * * * ? *)")
    clock = Clock(datetime(2024, 1, 1, 10, 30, tzinfo=timezone.utc))
    assert clock.run_due(lab) == []
    clock.advance(timedelta(minutes=20))
    assert clock.run_due(glue_backends[ACCOUNT]["us-east-1"]) == []
    clock.advance(timedelta(minutes=15))  # 11:05: 11:00 fell due
    assert clock.run_due(lab) == [name]
    assert clock.now() == datetime(2024, 1, 1, 11, 5, tzinfo=timezone.utc)
    from gluelab import waiting

    waiting.crawler(glue, name, timeout=20, poll=0.05)
    glue.delete_crawler(Name=name)


def test_the_aws_clock_fires_only_the_labs_own_schedules(lab, endpoint):
    """On the aws backend's code path lab time starts what fell due, inside the lab's prefix only."""
    from gluelab.clock import crawler_source, trigger_source

    glue = lab.client("glue")
    started = []

    class Recorder:
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            return getattr(self._client, name)

        def start_crawler(self, Name):
            started.append(("crawler", Name))

        def start_workflow_run(self, Name):
            started.append(("workflow", Name))

        def start_job_run(self, JobName, Arguments):
            started.append(("job", JobName, Arguments))

    for owner in (lab.names.resource("mine"), "someone-else"):
        glue.create_trigger(Name=owner + "-nightly", Type="SCHEDULED", Schedule="cron(0 2 * * ? *)",
                            StartOnCreation=True, Actions=[{"JobName": owner + "-job", "Arguments": {"--x": "1"}}])
    glue.create_trigger(Name=lab.names.resource("off"), Type="SCHEDULED", Schedule="cron(0 2 * * ? *)",
                        Actions=[{"JobName": "never"}])
    try:
        after = datetime(2024, 1, 1, 1, 0, tzinfo=timezone.utc)
        fired = trigger_source(Recorder(glue), lab.names.owns)(after, after + timedelta(hours=2))
        assert fired == [lab.names.resource("mine") + "-nightly"]
        assert started == [("job", lab.names.resource("mine") + "-job", {"--x": "1"})]
        assert crawler_source(Recorder(glue), lambda name: False)(after, after + timedelta(days=2)) == []
    finally:
        for name in (lab.names.resource("mine") + "-nightly", "someone-else-nightly", lab.names.resource("off")):
            glue.delete_trigger(Name=name)
