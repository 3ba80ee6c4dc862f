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
