"""The S3 data plane: Spark's own reads and writes of s3:// paths against the local endpoint's S3.

Every test checks behaviour through a second client too (boto3, the AWS CLI in another process), because the
point of the data plane is that what Spark writes lives in the lab's S3.
"""
import datetime as dt
import decimal
import hashlib
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual


@pytest.fixture(scope="module")
def s3(endpoint):
    return boto3.client("s3", endpoint_url=endpoint)


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"dataplane-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


def keys(s3, bucket, prefix=""):
    """Every key under prefix, all pages."""
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def put_many(s3, bucket, objects):
    """Create many small objects. Straight into moto's in-process store when possible: 1,000 HTTP PUTs to
    the threaded server take ~6 s on 2 cores, the store ~0.1 s, and Spark still reads them over HTTP."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        backend.get_bucket(bucket)
    except Exception:  # noqa: BLE001 - another moto layout: fall back to HTTP
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), objects.items()))
        return
    for key, body in objects.items():
        backend.put_object(bucket, key, body)


def hadoop_fs(spark, uri, **overrides):
    """The Hadoop FileSystem for uri (a fresh instance when settings are overridden)."""
    jvm = spark._jvm
    conf = jvm.org.apache.hadoop.conf.Configuration(spark._jsc.hadoopConfiguration())
    for key, value in overrides.items():
        conf.set(key, str(value))
    path = jvm.org.apache.hadoop.fs.Path(uri)
    if overrides:
        return jvm.org.apache.hadoop.fs.FileSystem.newInstance(path.toUri(), conf), path
    return path.getFileSystem(conf), path


def java_error(excinfo):
    """(class name, message) of the Java exception behind a Py4JJavaError."""
    java = excinfo.value.java_exception
    return java.getClass().getName(), java.getMessage()


TYPED_SCHEMA = T.StructType([
    T.StructField("id", T.IntegerType()),
    T.StructField("big", T.LongType()),
    T.StructField("price", T.DoubleType()),
    T.StructField("name", T.StringType()),
    T.StructField("day", T.DateType()),
    T.StructField("at", T.TimestampType()),
    T.StructField("amount", T.DecimalType(12, 2)),
    T.StructField("flag", T.BooleanType()),
    T.StructField("month", T.IntegerType()),
])
NESTED_FIELDS = [
    T.StructField("address", T.StructType([T.StructField("city", T.StringType()),
                                           T.StructField("zip", T.IntegerType())])),
    T.StructField("tags", T.ArrayType(T.StringType())),
]


def typed_rows(nested=False):
    rows = []
    for i in range(6):
        row = (i, 2**40 + i, i / 3, f"name {i}", dt.date(2024, 1 + i % 3, 10 + i),
               dt.datetime(2024, 3, 1, 12, 30, 15, 123456 + i), decimal.Decimal(f"{i}1234.5{i}"), i % 2 == 0,
               1 + i % 3)
        if nested:
            row += ({"city": f"city {i}", "zip": 1000 + i}, [f"t{i}", "x"])
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def typed_df(spark):
    return spark.createDataFrame(typed_rows(), TYPED_SCHEMA)


@pytest.fixture(scope="module")
def nested_df(spark):
    return spark.createDataFrame(typed_rows(nested=True), T.StructType(TYPED_SCHEMA.fields + NESTED_FIELDS))


MICROS = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"  # Spark's CSV/JSON writers keep only milliseconds by default


def reordered(df, schema):
    """df's columns in schema's order (partition columns come back last)."""
    return df.select(*schema.fieldNames())


# ---- round trips ------------------------------------------------------------------------------------------

def test_parquet_round_trip_keeps_types_and_partition_column(spark, bucket, nested_df):
    uri = f"s3://{bucket}/roundtrip/parquet"
    nested_df.write.mode("overwrite").partitionBy("month").parquet(uri)
    back = spark.read.parquet(uri)
    assert dict(back.dtypes) == dict(nested_df.dtypes)
    assertDataFrameEqual(reordered(back, nested_df.schema), nested_df)
    assert back.where("month = 2").select("at").orderBy("at").first()[0].microsecond == 123457


def test_json_round_trip_keeps_types_and_partition_column(spark, bucket, nested_df):
    uri = f"s3://{bucket}/roundtrip/json"
    nested_df.write.mode("overwrite").partitionBy("month").json(uri, timestampFormat=MICROS)
    back = spark.read.schema(nested_df.schema).json(uri, timestampFormat=MICROS)
    assertDataFrameEqual(reordered(back, nested_df.schema), nested_df)


def test_csv_round_trip_keeps_types_and_partition_column(spark, bucket, typed_df):
    uri = f"s3://{bucket}/roundtrip/csv"
    typed_df.write.mode("overwrite").partitionBy("month").csv(uri, header=True, timestampFormat=MICROS)
    back = spark.read.schema(typed_df.schema).csv(uri, header=True, timestampFormat=MICROS)
    assertDataFrameEqual(reordered(back, typed_df.schema), typed_df)


# ---- what other clients see -------------------------------------------------------------------------------

def test_partitioned_write_is_visible_to_boto3(spark, s3, bucket, typed_df):
    typed_df.write.partitionBy("month").parquet(f"s3://{bucket}/visible")
    found = keys(s3, bucket, "visible/")
    assert "visible/_SUCCESS" in found
    data = [k for k in found if k != "visible/_SUCCESS"]
    assert {k.split("/")[1] for k in data} == {"month=1", "month=2", "month=3"}
    assert all(k.endswith(".parquet") and "/part-" in k for k in data)
    assert not [k for k in found if "_temporary" in k or k.endswith("/")], found


def test_aws_cli_in_another_process_sees_spark_output(spark, endpoint, bucket, typed_df):
    typed_df.write.partitionBy("month").parquet(f"s3://{bucket}/cli")
    aws = Path(sys.executable).with_name("aws")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([str(aws), "s3", "ls", "--recursive", f"s3://{bucket}/cli/",
                          "--endpoint-url", endpoint],
                         capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    listed = [line.split()[-1] for line in out.splitlines() if line.strip()]
    assert len([k for k in listed if k.endswith(".parquet")]) >= 3
    assert "cli/_SUCCESS" in listed


def test_partition_pruning_reads_only_the_selected_partition(spark, bucket, typed_df):
    uri = f"s3://{bucket}/pruning"
    typed_df.write.partitionBy("month").parquet(uri)
    query = spark.read.parquet(uri).where(F.col("month") == 3)
    plan = query._jdf.queryExecution().executedPlan().toString()
    assert "PartitionFilters: [isnotnull(month" in plan and "(month#" in plan and "= 3)" in plan, plan
    assert sorted(r.id for r in query.collect()) == [2, 5]


# ---- atomic writes and save modes -------------------------------------------------------------------------

def _fail_on_row(bad_id):
    def check(i):
        if i == bad_id:
            raise ValueError(f"row {i} is poisoned")
        return i
    return F.udf(check, T.LongType())


def test_failed_write_leaves_nothing_under_the_destination(spark, s3, bucket):
    # Two tasks: the first finishes (and commits its task output), the second raises on its last row.
    df = spark.range(0, 2000, numPartitions=2).withColumn("v", _fail_on_row(1999)("id"))
    with pytest.raises(Exception, match="poisoned"):
        df.write.parquet(f"s3://{bucket}/failed")
    assert keys(s3, bucket, "failed") == []


def test_failed_append_keeps_only_the_previous_data(spark, s3, bucket):
    uri = f"s3://{bucket}/append"
    spark.range(0, 10).write.parquet(uri)
    before = sorted(keys(s3, bucket, "append/"))
    df = spark.range(100, 2100, numPartitions=2).select(_fail_on_row(2099)("id").alias("id"))
    with pytest.raises(Exception, match="poisoned"):
        df.write.mode("append").parquet(uri)
    assert sorted(keys(s3, bucket, "append/")) == before
    assert spark.read.parquet(uri).count() == 10


def test_overwrite_replaces_the_previous_data(spark, s3, bucket):
    uri = f"s3://{bucket}/overwrite"
    spark.range(0, 10).write.csv(uri)
    old = set(keys(s3, bucket, "overwrite/"))
    spark.range(100, 103).write.mode("overwrite").csv(uri)
    assert sorted(int(r[0]) for r in spark.read.csv(uri).collect()) == [100, 101, 102]
    assert not old & {k for k in keys(s3, bucket, "overwrite/") if k != "overwrite/_SUCCESS"}


def test_errorifexists_raises_when_the_destination_exists(spark, bucket):
    uri = f"s3://{bucket}/exists"
    spark.range(3).write.json(uri)
    with pytest.raises(AnalysisException, match="PATH_ALREADY_EXISTS"):
        spark.range(3).write.mode("errorifexists").json(uri)


# ---- reading what other tools left behind -----------------------------------------------------------------

def test_folder_markers_and_success_files_are_not_read_as_rows(spark, s3, bucket):
    for key, body in [("marked/", b""), ("marked/sub/", b""), ("marked/_SUCCESS", b"9,not a row\n"),
                      ("marked/a.csv", b"1,one\n2,two\n"), ("marked/sub/b.csv", b"3,three\n")]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    rows = spark.read.schema("id INT, name STRING").csv(f"s3://{bucket}/marked", recursiveFileLookup=True)
    assert sorted(r.id for r in rows.collect()) == [1, 2, 3]
    fs, path = hadoop_fs(spark, f"s3://{bucket}/marked")
    names = sorted(s.getPath().getName() for s in fs.listStatus(path))
    assert names == ["_SUCCESS", "a.csv", "sub"]          # the marker itself is not a file


def test_listing_pages_past_1000_objects_and_recursive_delete(spark, s3, bucket):
    count = 1005                                      # S3 returns at most 1000 keys per page
    put_many(s3, bucket, {f"many/part-{i:05d}.json": b'{"i": %d}\n' % i for i in range(count)})
    uri = f"s3://{bucket}/many"
    files = spark.read.schema("i INT").json(uri).inputFiles()          # Spark's own listing
    assert len(files) == count and files[0].startswith(uri + "/part-")
    fs, path = hadoop_fs(spark, uri)
    assert len(fs.listStatus(path)) == count
    assert fs.delete(path, True)                     # multi-object delete in batches of 1000
    assert keys(s3, bucket, "many/") == []


def test_keys_with_equals_spaces_and_unicode(spark, s3, bucket):
    df = spark.createDataFrame([(1, "a b"), (2, "x=y"), (3, "ü/é%")], "id INT, label STRING")
    uri = f"s3://{bucket}/odd keys/t"
    df.write.partitionBy("label").parquet(uri)
    assert sorted(spark.read.parquet(uri).select("id", "label").collect()) == sorted(df.collect())
    found = keys(s3, bucket, "odd keys/t/")
    assert any("label=x%3Dy/" in k for k in found) and any("label=a b/" in k for k in found), found
    s3.put_object(Bucket=bucket, Key="odd keys/raw data=1/file one.csv", Body=b"7,seven\n")
    one = spark.read.schema("id INT, name STRING").csv(f"s3://{bucket}/odd keys/raw data=1/file one.csv")
    assert [tuple(r) for r in one.collect()] == [(7, "seven")]
    globbed = spark.read.schema("id INT, name STRING").csv(f"s3://{bucket}/odd keys/raw*/*.csv")
    assert [r.id for r in globbed.collect()] == [7]


def test_structured_streaming_with_checkpoints_in_s3(spark, s3, bucket):
    for i in range(2):
        s3.put_object(Bucket=bucket, Key=f"stream/in/f{i}.json", Body=b'{"a": %d}\n{"a": %d}\n' % (i, i + 10))

    def run_once():
        query = (spark.readStream.schema("a INT").json(f"s3://{bucket}/stream/in").writeStream
                 .format("parquet").option("checkpointLocation", f"s3://{bucket}/stream/checkpoint")
                 .trigger(availableNow=True).start(f"s3://{bucket}/stream/out"))
        query.awaitTermination(120)
        return spark.read.parquet(f"s3://{bucket}/stream/out").count()

    assert run_once() == 4
    s3.put_object(Bucket=bucket, Key="stream/in/f9.json", Body=b'{"a": 99}\n')
    assert run_once() == 5                      # only the new file: the checkpoint in S3 remembered the rest


# ---- errors -----------------------------------------------------------------------------------------------

def test_missing_path_or_bucket_is_a_clear_error(spark, bucket):
    with pytest.raises(AnalysisException, match=f"PATH_NOT_FOUND.*s3://{bucket}/no/such/path"):
        spark.read.parquet(f"s3://{bucket}/no/such/path")
    with pytest.raises(AnalysisException, match="PATH_NOT_FOUND.*s3://no-such-bucket-here/x"):
        spark.read.csv("s3://no-such-bucket-here/x")
    fs, path = hadoop_fs(spark, f"s3://{bucket}/no/such/file.csv")
    with pytest.raises(Py4JJavaError) as missing:
        fs.open(path)
    cls, message = java_error(missing)
    assert cls == "java.io.FileNotFoundException" and f"s3://{bucket}/no/such/file.csv" in message
    fs, path = hadoop_fs(spark, "s3://no-such-bucket-here/file.csv")
    with pytest.raises(Py4JJavaError) as no_bucket:
        fs.getFileStatus(path)
    cls, message = java_error(no_bucket)
    assert cls == "java.io.FileNotFoundException" and "bucket 'no-such-bucket-here' does not exist" in message
    assert "<?xml" not in message and "<Error>" not in message
    fs, path = hadoop_fs(spark, "s3://any-bucket/k", **{"fs.gluelab.s3.endpoint": "http://127.0.0.1:9"})
    with pytest.raises(Py4JJavaError) as unreachable:
        fs.getFileStatus(path)
    assert "cannot connect to the S3 endpoint http://127.0.0.1:9" in java_error(unreachable)[1]
    fs.close()


# ---- file system operations Spark relies on ---------------------------------------------------------------

def test_seek_and_ranged_reads(spark, s3, bucket):
    data = hashlib.sha256(b"seed").digest() * 40000          # 1.28 MB, beyond one read-ahead window
    s3.put_object(Bucket=bucket, Key="seek/blob.bin", Body=data)
    fs, path = hadoop_fs(spark, f"s3://{bucket}/seek/blob.bin")
    stream = fs.open(path)
    try:
        for pos in [len(data) - 8, 5, 100_000, 100_010, 1_200_000, 0, len(data) - 1]:  # back, forward, skip
            stream.seek(pos)
            got = bytes(stream.read() for _ in range(min(8, len(data) - pos)))
            assert got == data[pos:pos + 8], pos
        stream.seek(len(data))
        assert stream.read() == -1
    finally:
        stream.close()
    assert fs.getFileStatus(path).getLen() == len(data)


def test_rename_and_mkdirs(spark, s3, bucket):
    for key in ["mv/src/a.txt", "mv/src/deep/b.txt", "mv/one.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    jpath = spark._jvm.org.apache.hadoop.fs.Path
    fs, _ = hadoop_fs(spark, f"s3://{bucket}/")
    assert fs.rename(jpath(f"s3://{bucket}/mv/src"), jpath(f"s3://{bucket}/mv/dst"))
    assert sorted(keys(s3, bucket, "mv/")) == ["mv/dst/a.txt", "mv/dst/deep/b.txt", "mv/one.txt"]
    assert fs.mkdirs(jpath(f"s3://{bucket}/mv/empty"))
    assert "mv/empty/" in keys(s3, bucket, "mv/")
    assert fs.getFileStatus(jpath(f"s3://{bucket}/mv/empty")).isDirectory()
    assert fs.rename(jpath(f"s3://{bucket}/mv/one.txt"), jpath(f"s3://{bucket}/mv/empty"))  # into a directory
    body = s3.get_object(Bucket=bucket, Key="mv/empty/one.txt")["Body"].read()
    assert body == b"mv/one.txt"
    assert not fs.rename(jpath(f"s3://{bucket}/mv/missing"), jpath(f"s3://{bucket}/mv/x"))
    with pytest.raises(Py4JJavaError) as not_empty:
        fs.delete(jpath(f"s3://{bucket}/mv/dst"), False)
    assert "PathIsNotEmptyDirectoryException" in java_error(not_empty)[0]


def test_large_files_are_uploaded_in_parts(spark, s3, bucket):
    fs, path = hadoop_fs(spark, f"s3://{bucket}/big/file.bin", **{
        "fs.gluelab.s3.spill.bytes": 1 << 20, "fs.gluelab.s3.multipart.bytes": 1 << 20,
        "fs.gluelab.s3.part.bytes": 5 << 20})
    chunk = os.urandom(1 << 20)
    out = fs.create(path, False)
    for _ in range(11):
        out.write(chunk)
    assert keys(s3, bucket, "big/") == []                    # nothing visible before close
    out.close()
    fs.close()
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == 11 << 20 and head["ETag"].endswith('-3"')   # three parts
    body = s3.get_object(Bucket=bucket, Key="big/file.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(chunk * 11).digest()


# ---- request signing --------------------------------------------------------------------------------------

def _java_sign(*args):
    """Headers from the data plane's SigV4 signer, run on its own (java -cp jar gluelab.s3.SigV4 ...)."""
    from gluelab import s3fs

    out = subprocess.run(["java", "-cp", s3fs.jar_path(), "gluelab.s3.SigV4", *args], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


@pytest.mark.parametrize("method, path, query, payload, token, extra", [
    ("GET", "/bucket/dir/key%3D1/a%20b.txt", "", "EMPTY", "", ["range:bytes=0-9"]),
    ("GET", "/bucket", "list-type=2&prefix=a%2Fb%3Dc&continuation-token=x%2By", "EMPTY", "tok/en+=", []),
    ("PUT", "/bucket/dst/%C3%BC.parquet", "", "UNSIGNED-PAYLOAD", "",
     ["x-amz-copy-source:/bucket/src/%C3%BC.parquet", "content-type:application/octet-stream"]),
    ("POST", "/bucket", "delete", "8c1b9ac4f1d1f5a5a7c77d2f6b1ae84f2c03a0d6c5b6f8e34e0f9b5c1a9dd9f1", "", []),
])
def test_sigv4_signature_matches_botocore(monkeypatch, method, path, query, payload, token, extra):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    empty = hashlib.sha256(b"").hexdigest()
    payload = empty if payload == "EMPTY" else payload
    when = dt.datetime(2013, 5, 24, 0, 0, 0)
    host = "127.0.0.1:9000"
    java = _java_sign(method, path, query, host, payload, when.strftime("%Y%m%dT%H%M%SZ"), "eu-west-1",
                      "testing", "testing", token, *extra)

    headers = {h.split(":", 1)[0]: h.split(":", 1)[1] for h in extra}
    headers["X-Amz-Content-SHA256"] = payload
    request = AWSRequest(method=method, url=f"http://{host}{path}" + (f"?{query}" if query else ""),
                         headers=headers)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when)
    signer = botocore.auth.S3SigV4Auth(Credentials("testing", "testing", token or None), "s3", "eu-west-1")
    monkeypatch.setattr(signer, "payload", lambda request: payload)
    signer.add_auth(request)
    assert java["authorization"] == request.headers["Authorization"]


def _moto_auth(endpoint, actions_without_auth):
    import urllib.request

    req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=str(actions_without_auth).encode(),
                                 method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def test_signed_requests_pass_moto_with_iam_enforced(spark, endpoint, s3, bucket):
    import json

    iam = boto3.client("iam", endpoint_url=endpoint)
    user = f"dataplane-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    good = {"fs.gluelab.s3.access.key": key["AccessKeyId"],
            "fs.gluelab.s3.secret.key": key["SecretAccessKey"]}
    bad = {**good, "fs.gluelab.s3.secret.key": "not-the-secret"}
    _moto_auth(endpoint, 0)                   # from now on moto checks every signature and policy
    try:
        fs, path = hadoop_fs(spark, f"s3://{bucket}/signed/dir/file one.txt", **good)
        out = fs.create(path, True)
        out.write(b"signed bytes")
        out.close()
        assert fs.getFileStatus(path).getLen() == 12
        assert [s.getPath().getName() for s in fs.listStatus(path.getParent())] == ["file one.txt"]
        stream = fs.open(path)
        stream.seek(7)
        assert bytes(stream.read() for _ in range(5)) == b"bytes"
        stream.close()
        target = spark._jvm.org.apache.hadoop.fs.Path(f"s3://{bucket}/signed/moved")
        assert fs.rename(path.getParent(), target)
        assert fs.delete(target, True)
        fs.close()
        wrong, path = hadoop_fs(spark, f"s3://{bucket}/signed/x", **bad)
        with pytest.raises(Py4JJavaError) as denied:
            wrong.getFileStatus(path)
        cls, message = java_error(denied)
        assert cls == "java.nio.file.AccessDeniedException" and "403" in message, message
        wrong.close()
    finally:
        _moto_auth(endpoint, "inf")
    assert keys(s3, bucket, "signed/") == []
