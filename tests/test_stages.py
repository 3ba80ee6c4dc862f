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


# ---- generated inputs, made once per machine ---------------------------------------------------------------

def _made(folder, text="rows\n"):
    (folder / "sub").mkdir()
    (folder / "sub" / "data.csv").write_text(text)


def test_generated_files_are_made_once_and_kept_per_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GLUELAB_CACHE", raising=False)
    calls = []

    def make(folder):
        calls.append(folder)
        _made(folder, f"made for {len(calls)}\n")

    with stages.generated("probe", make, scale=0.5, seed=1) as first:
        assert (first / "sub" / "data.csv").read_text() == "made for 1\n"
    with stages.generated("probe", make, scale=0.5, seed=1) as again:
        assert again == first and len(calls) == 1                      # kept, not made again
    with stages.generated("probe", make, scale=0.5, seed=2) as other:
        assert other != first and (other / "sub" / "data.csv").read_text() == "made for 2\n"
    monkeypatch.setattr(stages, "_fingerprint", lambda: "the generator changed")
    with stages.generated("probe", make, scale=0.5, seed=1) as remade:
        assert remade != first and len(calls) == 3
    cached = sorted(p.name for p in (tmp_path / "gluelab" / "generated").iterdir())
    assert len(cached) == 3 and not any(name.startswith(".") for name in cached)   # no half-made folder


def test_generated_files_made_by_two_at_once_end_complete_and_the_same(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GLUELAB_CACHE", raising=False)
    both_making = threading.Barrier(2)

    def make(folder):
        both_making.wait(timeout=30)           # each has its own half-made folder now
        _made(folder)

    seen = []

    def use():
        with stages.generated("race", make, seed=1) as folder:
            seen.append((folder, (folder / "sub" / "data.csv").read_text()))

    threads = [threading.Thread(target=use) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0][1] == "rows\n"
    assert [p.name for p in (tmp_path / "gluelab" / "generated").iterdir()] == [seen[0][0].name]


def test_a_failed_generation_leaves_nothing_and_without_a_cache_files_are_temporary(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GLUELAB_CACHE", raising=False)

    def broken(folder):
        _made(folder)
        raise ValueError("generator bug")

    with pytest.raises(ValueError, match="generator bug"):
        with stages.generated("broken", broken, seed=1):
            pass
    assert list((tmp_path / "gluelab" / "generated").iterdir()) == []
    monkeypatch.setenv("GLUELAB_CACHE", "0")
    with stages.generated("uncached", _made, seed=1) as folder:
        assert (folder / "sub" / "data.csv").is_file() and not folder.is_relative_to(tmp_path)
    assert not folder.exists() and list((tmp_path / "gluelab" / "generated").iterdir()) == []


def test_prepare_uploads_the_same_bytes_from_the_cache_as_made_afresh(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def objects(prefix, cache):
        monkeypatch.setenv("GLUELAB_CACHE", cache)
        lab = gluelab.start(backend="local", region="us-east-1", prefix=prefix)
        lab.prepare("customers", scale=0.01, seed=3)
        s3, bucket = lab.client("s3"), lab.zones.bucket("raw")
        return {o["Key"]: o["ETag"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])}

    fresh = objects("cache-off", "0")
    cached = objects("cache-on", "1")
    again = objects("cache-again", "1")                              # from the cache this time
    assert len(list((tmp_path / "gluelab" / "generated").iterdir())) == 3
    assert fresh == cached == again and stages.TRANSACTIONS_KEY in fresh
