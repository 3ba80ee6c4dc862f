"""Crawlers through boto3 on the local endpoint, as a learner's script uses them on AWS (start_crawler really
crawls). Also the contract of the crawler hooks in gluelab.localaws.glue_crawlers."""
import io
import json
import time
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gluelab import waiting
from gluelab.localaws import hooks


def test_crawler_hooks_fit_moto():
    hooks.check_contracts()
    hooked = {(h.owner.__name__, h.method) for h in hooks._HOOKS}
    assert hooked >= {("FakeCrawler", "start_crawler"), ("FakeCrawler", "stop_crawler"),
                      ("FakeCrawler", "as_dict"), ("GlueResponse", "call_action")}


@pytest.fixture
def setup(lab):
    """A plain boto3 world (gluelab.start() already ran): a bucket, a database, a crawler factory."""
    s3, glue = boto3.client("s3"), boto3.client("glue")
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    db = bucket.replace("-", "_")
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": db})
    made = []

    def crawler(prefix="lake/", **kwargs):
        name = f"{db}-{len(made)}"
        glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=db,
                            Targets={"S3Targets": [{"Path": f"s3://{bucket}/{prefix}"}]}, **kwargs)
        made.append(name)
        return name

    yield s3, glue, bucket, db, crawler
    for name in made:
        glue.delete_crawler(Name=name)


def run(glue, name):
    glue.start_crawler(Name=name)
    info, states = waiting.crawler(glue, name, timeout=60, poll=0.05)
    return info, states


def parquet_bytes(table):
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_acceptance_a_plain_boto3_crawl(setup):
    s3, glue, bucket, db, crawler = setup
    for month in (1, 2, 3):
        s3.put_object(Bucket=bucket, Key=f"lake/orders/year=2024/month={month}/part-0.csv",
                      Body=b"order_id,customer,amount,paid\n1,c1,9.5,true\n2,c2,3,false\n")
    s3.put_object(Bucket=bucket, Key="lake/orders/year=2024/month=1/_SUCCESS", Body=b"")
    s3.put_object(Bucket=bucket, Key="lake/orders/", Body=b"")
    s3.put_object(Bucket=bucket, Key="lake/clicks/clicks.json",
                  Body=b'{"user": {"id": 7, "tags": ["a"]}, "page": "/", "ms": 12}\n'
                       b'{"user": {"id": 8}, "page": "/x", "ms": 15.5}\n')
    s3.put_object(Bucket=bucket, Key="lake/products/p.parquet", Body=parquet_bytes(
        pa.table({"sku": ["a"], "price": pa.array([1.5], pa.float64()), "stock": pa.array([3], pa.int32())})))
    name = crawler()
    glue.start_crawler(Name=name)
    assert glue.get_crawler(Name=name)["Crawler"]["State"] in ("RUNNING", "STOPPING")
    info, states = waiting.crawler(glue, name, timeout=60, poll=0.05)
    assert states[0] in ("RUNNING", "STOPPING") and states[-1] == "READY"
    assert info["LastCrawl"]["Status"] == "SUCCEEDED"
    assert info["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers" and info["LastCrawl"]["LogStream"] == name

    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=db)["TableList"]}
    assert sorted(tables) == ["clicks", "orders", "products"]
    cols = lambda t: [(c["Name"], c["Type"]) for c in tables[t]["StorageDescriptor"]["Columns"]]  # noqa: E731
    assert cols("orders") == [("order_id", "bigint"), ("customer", "string"), ("amount", "double"),
                              ("paid", "boolean")]
    assert cols("clicks") == [("user", "struct<id:int,tags:array<string>>"), ("page", "string"),
                              ("ms", "double")]
    assert cols("products") == [("sku", "string"), ("price", "double"), ("stock", "int")]
    orders = tables["orders"]
    assert [k["Name"] for k in orders["PartitionKeys"]] == ["year", "month"]
    assert orders["StorageDescriptor"]["Location"] == f"s3://{bucket}/lake/orders/"
    assert orders["Parameters"]["classification"] == "csv"
    assert orders["Parameters"]["objectCount"] == "3" and orders["Parameters"]["recordCount"] == "6"
    assert orders["Parameters"]["UPDATED_BY_CRAWLER"] == name
    parts = glue.get_partitions(DatabaseName=db, TableName="orders", Expression="month = '2'")["Partitions"]
    assert [p["Values"] for p in parts] == [["2024", "2"]]
    assert parts[0]["StorageDescriptor"]["Location"] == f"s3://{bucket}/lake/orders/year=2024/month=2/"
    assert tables["products"]["Parameters"]["classification"] == "parquet"
    assert not tables["products"]["PartitionKeys"]

    logs = boto3.client("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)["events"]
    text = "\n".join(e["message"] for e in logs)
    assert f"[{info['LastCrawl']['MessagePrefix']}]" in text and "Created table orders" in text

    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert metrics["CrawlerName"] == name and metrics["TablesCreated"] == 3
    assert metrics["TablesUpdated"] == metrics["TablesDeleted"] == 0
    assert metrics["StillEstimating"] is False and metrics["TimeLeftSeconds"] == 0
    assert 0 < metrics["LastRuntimeSeconds"] == metrics["MedianRuntimeSeconds"] < 30


def test_new_column_gives_a_new_table_version_and_log_changes_nothing(setup):
    s3, glue, bucket, db, crawler = setup
    s3.put_object(Bucket=bucket, Key="lake/t/k=1/a.csv", Body=b"id,name,v\n1,a,2\n3,b,4\n")
    logged = crawler("lake/t/", SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
    updating = crawler("lake/t/")
    run(glue, updating)
    s3.put_object(Bucket=bucket, Key="lake/t/k=2/a.csv", Body=b"id,name,v,extra\n1,a,2,x\n3,b,4,y\n")

    run(glue, logged)
    table = glue.get_table(DatabaseName=db, Name="t")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "name", "v"]
    assert len(glue.get_table_versions(DatabaseName=db, TableName="t")["TableVersions"]) == 1

    run(glue, updating)
    table = glue.get_table(DatabaseName=db, Name="t")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "name", "v", "extra"]
    versions = glue.get_table_versions(DatabaseName=db, TableName="t")["TableVersions"]
    assert sorted(v["VersionId"] for v in versions) == ["1", "2"]
    assert glue.get_crawler_metrics(CrawlerNameList=[updating])["CrawlerMetricsList"][0]["TablesUpdated"] == 1


@pytest.mark.parametrize("behavior", ["DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE", "LOG"])
def test_deleted_data_follows_delete_behavior(setup, behavior):
    s3, glue, bucket, db, crawler = setup
    s3.put_object(Bucket=bucket, Key="lake/a/x.csv", Body=b"id,v\n1,2\n3,4\n")
    s3.put_object(Bucket=bucket, Key="lake/b/x.json", Body=b'{"q": "r"}\n')
    s3.put_object(Bucket=bucket, Key="lake/c/x.json", Body=b'{"z": 1, "w": 2}\n')
    name = crawler(SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": behavior})
    run(glue, name)
    s3.delete_object(Bucket=bucket, Key="lake/b/x.json")
    run(glue, name)
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=db)["TableList"]}
    if behavior == "DELETE_FROM_DATABASE":
        assert sorted(tables) == ["a", "c"]
    else:
        assert sorted(tables) == ["a", "b", "c"]
        assert ("DEPRECATED_BY_CRAWLER" in tables["b"]["Parameters"]) is (behavior == "DEPRECATE_IN_DATABASE")


def test_running_crawler_refuses_a_second_start_and_can_be_stopped(setup, monkeypatch):
    s3, glue, bucket, db, crawler = setup
    from gluelab.crawler import classify

    slow = classify.classify

    def slow_classify(*args, **kwargs):
        time.sleep(0.05)
        return slow(*args, **kwargs)

    monkeypatch.setattr(classify, "classify", slow_classify)
    for i in range(200):
        s3.put_object(Bucket=bucket, Key=f"lake/t/k={i}/a.csv", Body=b"id,v\n1,2\n3,4\n")
    name = crawler("lake/t/")
    glue.start_crawler(Name=name)
    with pytest.raises(glue.exceptions.CrawlerRunningException):
        glue.start_crawler(Name=name)
    time.sleep(0.3)
    glue.stop_crawler(Name=name)
    assert glue.get_crawler(Name=name)["Crawler"]["State"] == "STOPPING"
    info, _ = waiting.crawler(glue, name, timeout=60, poll=0.05)
    assert info["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.get_tables(DatabaseName=db)["TableList"] == []  # nothing written by a cancelled crawl
    with pytest.raises(glue.exceptions.CrawlerNotRunningException):
        glue.stop_crawler(Name=name)
    crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert crawls[-1]["State"] == "STOPPED"


def test_failed_crawl_reports_the_error(setup):
    s3, glue, bucket, db, crawler = setup
    name = f"{db}-nodb"
    glue.create_crawler(Name=name, Role="r", DatabaseName="does_not_exist",
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/lake/"}]})
    info, _ = run(glue, name)
    assert info["LastCrawl"]["Status"] == "FAILED"
    assert "does_not_exist" in info["LastCrawl"]["ErrorMessage"]
    glue.delete_crawler(Name=name)


def test_metrics_before_any_crawl(setup):
    _, glue, _, _, crawler = setup
    name = crawler()
    m = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (m["TablesCreated"], m["LastRuntimeSeconds"], m["StillEstimating"]) == (0, 0, False)


def test_update_crawler_changes_only_the_named_fields(setup):
    s3, glue, bucket, db, crawler = setup
    s3.put_object(Bucket=bucket, Key="lake/t/a.csv", Body=b"id,v\n1,2\n3,4\n")
    s3.put_object(Bucket=bucket, Key="lake/t/a.tmp", Body=b"id,v,w\n1,2,3\n3,4,5\n")
    name = crawler("lake/", Description="first")
    before = glue.get_crawler(Name=name)["Crawler"]
    glue.update_crawler(Name=name, Schedule="cron(0 2 * * ? *)", TablePrefix="p_",
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/lake/", "Exclusions": ["**.tmp"]}]})
    after = glue.get_crawler(Name=name)["Crawler"]
    assert after["Description"] == "first" and after["Role"] == before["Role"]
    assert after["Schedule"] == {"ScheduleExpression": "cron(0 2 * * ? *)", "State": "SCHEDULED"}
    assert after["Version"] == before["Version"] + 1
    info, _ = run(glue, name)
    assert info["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = glue.get_tables(DatabaseName=db)["TableList"]  # the new prefix and exclusion were used
    assert [t["Name"][:2] for t in tables] == ["p_"]
    assert [c["Name"] for c in tables[0]["StorageDescriptor"]["Columns"]] == ["id", "v"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.update_crawler(Name=f"{db}-missing", Description="x")


def test_update_crawler_is_refused_while_it_runs(setup, monkeypatch):
    s3, glue, bucket, db, crawler = setup
    from gluelab.crawler import classify

    slow = classify.classify
    monkeypatch.setattr(classify, "classify", lambda *a, **k: (time.sleep(0.05), slow(*a, **k))[1])
    for i in range(100):
        s3.put_object(Bucket=bucket, Key=f"lake/t/k={i}/a.csv", Body=b"id,v\n1,2\n3,4\n")
    name = crawler("lake/t/")
    glue.start_crawler(Name=name)
    with pytest.raises(glue.exceptions.CrawlerRunningException):
        glue.update_crawler(Name=name, Description="changed")
    glue.stop_crawler(Name=name)
    waiting.crawler(glue, name, timeout=60, poll=0.05)
    glue.update_crawler(Name=name, Description="changed")
    assert glue.get_crawler(Name=name)["Crawler"]["Description"] == "changed"


def test_gluelab_answered_actions_return_glue_errors(setup):
    _, glue, _, db, _ = setup
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_crawler_metrics(CrawlerNameList=[f"{db}-missing"])


def test_a_read_error_keeps_the_tables_and_is_reported(setup, monkeypatch):
    s3, glue, bucket, db, crawler = setup
    from gluelab.localaws.crawler_storage import MotoStorage

    s3.put_object(Bucket=bucket, Key="lake/a/x.csv", Body=b"id,v\n1,2\n3,4\n")
    for k in (1, 2):
        s3.put_object(Bucket=bucket, Key=f"lake/b/k={k}/x.json", Body=b'{"q": "r"}\n')
    s3.put_object(Bucket=bucket, Key="lake/b/k=3/notes.txt", Body=b"")
    name = crawler(SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE",
                                       "DeleteBehavior": "DELETE_FROM_DATABASE"})
    run(glue, name)
    failing = {"lake/a/x.csv", "lake/b/k=2/x.json"}
    read = MotoStorage.read

    def flaky(self, bucket_, key, start=0, length=None):
        if key in failing:
            raise OSError(f"AccessDenied reading {key}")
        return read(self, bucket_, key, start, length)

    monkeypatch.setattr(MotoStorage, "read", flaky)
    info, _ = run(glue, name)
    tables = {t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]}
    assert tables == {"a", "b"}
    parts = glue.get_partitions(DatabaseName=db, TableName="b")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["1"], ["2"]]
    assert info["LastCrawl"]["Status"] == "SUCCEEDED"
    message = info["LastCrawl"]["ErrorMessage"]
    assert message.startswith("gluelab: 2 object(s) could not be read")
    assert f"s3://{bucket}/lake/a/x.csv" in message and "AccessDenied" in message
    crawl = glue.list_crawls(CrawlerName=name)["Crawls"][-1]
    summary = json.loads(crawl["Summary"])
    counts = summary["TablesDeleted"], summary["ObjectsUnreadable"], summary["ObjectsUnclassified"]
    assert counts == (0, 2, 1)
    assert crawl["ErrorMessage"] == message
    prefix = info["LastCrawl"]["MessagePrefix"]
    logs = boto3.client("logs")
    events = logs.get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)["events"]
    lines = [e["message"] for e in events if e["message"].startswith(f"[{prefix}]")]
    unread = f"ERROR : could not read s3://{bucket}/lake/b/k=2/x.json: OSError: AccessDenied"
    assert any(unread in m for m in lines)
    assert any(f"WARN : s3://{bucket}/lake/b/k=3/notes.txt is empty" in m for m in lines)
    assert not any("is gone" in m for m in lines)
