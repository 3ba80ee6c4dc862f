"""lab.prepare(stage): re-creates earlier lessons' work, idempotently."""
import pytest

import gluelab
from gluelab import stages


@pytest.fixture(scope="module")
def stage_lab(endpoint):
    return gluelab.start(backend="local", region="us-east-1", prefix="stages-test")


def count_writes(lab):
    calls = []
    lab.client("s3").meta.events.register("before-call.s3.PutObject", lambda **kw: calls.append(kw))
    lab.client("s3").meta.events.register("before-call.s3.CreateMultipartUpload", lambda **kw: calls.append(kw))
    lab.client("s3").meta.events.register("before-call.s3.CreateBucket", lambda **kw: calls.append(kw))
    return calls


def test_prepare_raw_lands_every_source_and_is_idempotent(stage_lab):
    writes = count_writes(stage_lab)
    stage_lab.prepare("raw", scale=0.01, seed=7)
    first = len(writes)
    keys = {o["Key"] for o in stage_lab.client("s3").list_objects_v2(Bucket=stage_lab.zones.bucket("raw"))["Contents"]}
    assert {src.key for src in stages.RAW_SOURCES} <= keys
    assert stages.TRANSACTIONS_KEY in keys
    assert "integration/_manifest.json" in keys and "integration/sales/transactions.parquet" in keys
    assert first == 5 + len(keys)  # five buckets, one write per object

    stage_lab.prepare("raw", scale=0.01, seed=7)   # same data again: nothing is written
    assert len(writes) == first
    stage_lab.prepare("raw", scale=0.01, seed=8)   # another seed: only the generated files change
    changed = len(writes) - first
    assert 0 < changed <= len(keys) - len(stages.RAW_SOURCES)


def test_upload_skips_identical_bytes(stage_lab, tmp_path):
    stage_lab.ensure_zones()
    f = tmp_path / "a.csv"
    f.write_bytes(b"x,y\n1,2\n")
    writes = count_writes(stage_lab)
    uri = stage_lab.zones.uri("temp", "upload/a.csv")
    stage_lab.upload(f, uri)
    stage_lab.upload(f, uri)
    assert len(writes) == 1
    f.write_bytes(b"x,y\n1,3\n")
    stage_lab.upload(f, uri)
    assert len(writes) == 2


def test_unknown_stage_names_the_known_ones(stage_lab):
    with pytest.raises(ValueError, match="zones, raw"):
        stage_lab.prepare("nope")


def test_prepare_customers_catalogues_two_batches_and_a_third_arrives_on_demand(stage_lab):
    stage_lab.prepare("customers", scale=0.1, seed=7)
    s3, glue = stage_lab.client("s3"), stage_lab.client("glue")
    raw = stage_lab.zones.bucket("raw")

    def batches():
        return sorted(o["Key"].rsplit("/", 1)[1] for o in s3.list_objects_v2(
            Bucket=raw, Prefix=stages.CUSTOMER_EXPORTS).get("Contents", []))

    assert batches() == ["batch_001.jsonl", "batch_002.jsonl"]
    customers = glue.get_table(DatabaseName=stage_lab.names.database("customer_db"), Name="customers_raw")["Table"]
    columns = {c["Name"]: c["Type"] for c in customers["StorageDescriptor"]["Columns"]}
    assert columns["orders"].startswith("array<struct<") and columns["address"].startswith("struct<")
    countries = glue.get_table(DatabaseName=stage_lab.names.database("reference_db"), Name="country_codes")["Table"]
    assert [c["Name"] for c in countries["StorageDescriptor"]["Columns"]] == ["country_name", "iso_code", "region"]

    stages.deliver_customer_batch(stage_lab, 3, scale=0.1, seed=7)
    assert batches() == ["batch_001.jsonl", "batch_002.jsonl", "batch_003.jsonl"]
    stage_lab.prepare("customers", scale=0.1, seed=7)   # back to the state the lesson starts from
    assert batches() == ["batch_001.jsonl", "batch_002.jsonl"]
    with pytest.raises(ValueError, match="batch must be 1..3"):
        stages.deliver_customer_batch(stage_lab, 4)
