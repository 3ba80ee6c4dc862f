"""Tests for gluelab.synth: the synthetic online-shop transactions and the messy multi-source files.

Counts are computed here independently (csv/json/hashlib/pyarrow), never by calling back into the code
under test, so a wrong generator summary or manifest cannot agree with itself.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from gluelab import data, synth

DATA = Path(__file__).resolve().parents[1] / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["datasets"]


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# generate_transactions
# ---------------------------------------------------------------------------------------------------------

SAMPLE = DATA / MANIFEST["online_shop_sample"]["file"]


def test_transactions_deterministic(tmp_path):
    def make(name, **kw):
        options = {"rows": 30_011, "chunk_rows": 8_000, **kw}
        synth.generate_transactions(tmp_path / name, progress=False, **options)
        return (tmp_path / name).read_bytes()

    first = make("a.csv")
    assert make("b.csv") == first                                   # same seed, same bytes
    assert make("c.csv", chunk_rows=30_011) == first                # chunking does not change the output
    assert make("d.csv", seed=1) != first                           # another seed, other data
    parquet = make("a.parquet", fmt="parquet")
    assert make("b.parquet", fmt="parquet") == parquet
    assert make("c.parquet", fmt="parquet", seed=1) != parquet
    # in Parquet, chunk_rows sets the row groups: other bytes, same values
    make("d.parquet", fmt="parquet", chunk_rows=3_000)
    assert pq.read_table(tmp_path / "d.parquet").equals(pq.read_table(tmp_path / "a.parquet"))
    assert pq.read_table(tmp_path / "a.parquet").to_pandas()["TransactionNo"].tolist() == \
        pd.read_csv(tmp_path / "a.csv", dtype={"TransactionNo": str})["TransactionNo"].tolist()


@pytest.mark.parametrize("rows", [0, 1, 12_345])
def test_transactions_exact_rows_in_the_sample_format(tmp_path, rows):
    out = tmp_path / "t.csv"
    written, summary = synth.generate_transactions(out, rows=rows, chunk_rows=5_000, progress=False)
    assert written == out
    raw = out.read_bytes()
    header = SAMPLE.read_bytes().split(b"\r\n", 1)[0]
    assert raw.split(b"\r\n", 1)[0] == header
    assert raw.count(b"\r\n") == rows and not raw.endswith(b"\n")  # CRLF, no final newline, like the sample
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert summary["rows"] == rows == len(pd.read_csv(out))


def test_transactions_quirks_and_summary(tmp_path):
    out = tmp_path / "t.csv"
    _, summary = synth.generate_transactions(out, rows=60_000, seed=3, chunk_rows=25_000, progress=False)
    with open(out, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))[1:]
    assert len(records) == 60_000 and all(len(r) == 8 for r in records)
    cancelled = [r for r in records if r[0].startswith("C")]
    assert all((int(r[5]) < 0) == r[0].startswith("C") for r in records)
    assert len(cancelled) == summary["cancelled"] > 0
    assert sum(r[6] == "" for r in records) == summary["blank_customers"] > 0
    assert len({r[0].lstrip("C") for r in records}) == summary["transactions"]
    dates = [datetime.strptime(r[1], "%m/%d/%Y").date() for r in records]
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", records[0][1]) and records[0][1] == "12/9/2019"
    assert str(min(dates)) == summary["first_date"] == "2018-12-01" and str(max(dates)) == "2019-12-09"
    assert dates == sorted(dates, reverse=True)                    # newest first, like the sample
    sample = pd.read_csv(SAMPLE, dtype={"ProductNo": str})
    assert {r[2] for r in records} <= set(sample["ProductNo"])      # products come from the real sample
    assert all(re.fullmatch(r"\d+\.\d\d", r[4]) for r in records)
    one_basket = Counter((r[0], r[1], r[6], r[7]) for r in records)
    assert len({k[0] for k in one_basket}) == len(one_basket)       # one date, customer, country each
    frame = pd.read_csv(out, dtype={"TransactionNo": str})
    assert len(frame) == 60_000 and frame["CustomerNo"].isna().sum() == summary["blank_customers"]
    assert pacsv.read_csv(out).num_rows == 60_000


def test_transactions_parquet(tmp_path):
    written, summary = synth.generate_transactions(tmp_path, rows=20_000, fmt="parquet", chunk_rows=6_000,
                                                   progress=False)
    assert written == tmp_path / "transactions.parquet"
    file = pq.ParquetFile(written)
    assert file.metadata.num_rows == 20_000 and file.metadata.num_row_groups == 4
    table = file.read()
    assert table.schema.names == MANIFEST["online_shop_sample"]["columns"]
    assert str(table.schema.field("Date").type) == "date32[day]"
    assert table.column("CustomerNo").null_count == summary["blank_customers"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transactions.parquet"]  # no .partial left behind


def test_transactions_written_one_chunk_at_a_time(tmp_path, monkeypatch):
    events = []
    make_chunks = synth._transaction_chunks

    def watched_chunks(*args, **kwargs):
        for chunk in make_chunks(*args, **kwargs):
            events.append(("made", len(chunk)))
            yield chunk

    write = synth._ShopCsvSink.write

    def watched_write(self, chunk):
        events.append(("written", len(chunk)))
        write(self, chunk)

    monkeypatch.setattr(synth, "_transaction_chunks", watched_chunks)
    monkeypatch.setattr(synth._ShopCsvSink, "write", watched_write)
    synth.generate_transactions(tmp_path / "t.csv", rows=200_000, chunk_rows=50_000, progress=False)
    # each chunk is written before the next one is made, and none is bigger than chunk_rows
    assert events == [("made", 50_000), ("written", 50_000)] * 4


def test_transactions_peak_memory_follows_chunk_size(tmp_path):
    """Python and numpy allocations (traced) grow with chunk_rows, not rows: quarter chunks, < 40% peak."""
    synth.generate_transactions(tmp_path / "warm.parquet", rows=10, fmt="parquet", progress=False)

    def peak(chunk_rows):
        tracemalloc.start()
        try:
            synth.generate_transactions(tmp_path / f"{chunk_rows}.parquet", rows=100_000,
                                        chunk_rows=chunk_rows, fmt="parquet", progress=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    quarter, whole = peak(25_000), peak(100_000)
    assert quarter < 0.4 * whole, (quarter, whole)


def test_transactions_leave_nothing_behind_on_failure(tmp_path, monkeypatch):
    def broken(self, chunk):
        raise OSError("disk full")

    monkeypatch.setattr(synth._ShopCsvSink, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        synth.generate_transactions(tmp_path / "t.csv", rows=1_000, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_transactions_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        synth.generate_transactions(tmp_path / "t.x", rows=10, fmt="xlsx", progress=False)
    with pytest.raises(ValueError, match="chunk_rows"):
        synth.generate_transactions(tmp_path / "t.csv", rows=10, chunk_rows=0, progress=False)


# ---------------------------------------------------------------------------------------------------------
# generate_messy_sources
# ---------------------------------------------------------------------------------------------------------

NAMING = {"snake_case": r"[a-z]+(_[a-z]+)*", "camelCase": r"[a-z]+([A-Z][a-z]*)*",
          "PascalCase": r"([A-Z][a-z]*)+"}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("messy")
    return folder, synth.generate_messy_sources(folder, seed=7, scale=0.05, progress=False)


def count_csv(file: Path, columns: list[str]) -> dict:
    with open(file, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    assert records[0] == columns
    body = records[1:]
    bad = [i + 1 for i, r in enumerate(body) if len(r) != len(columns)]
    good = [tuple(r) for r in body if len(r) == len(columns)]
    return {"rows": len(body), "corrupt_record_numbers": bad, "duplicates": len(good) - len(set(good)),
            "nulls": {c: sum(r[i] == "" for r in good) for i, c in enumerate(columns)}, "good": good}


def count_jsonl(file: Path, columns: list[str]) -> dict:
    lines = file.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    lines, bad, good = lines[:-1], [], []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        assert set(record) <= set(columns)
        good.append(tuple(record.get(c) for c in columns))
    return {"rows": len(lines), "corrupt_record_numbers": bad, "duplicates": len(good) - len(set(good)),
            "nulls": {c: sum(r[i] is None for r in good) for i, c in enumerate(columns)}, "good": good}


def count_parquet(file: Path, columns: list[str]) -> dict:
    table = pq.read_table(file)
    assert table.schema.names == columns
    frame = table.to_pandas()
    return {"rows": table.num_rows, "corrupt_record_numbers": [], "duplicates": int(frame.duplicated().sum()),
            "nulls": {c: table.column(c).null_count for c in columns},
            "good": list(frame.itertuples(index=False, name=None))}


COUNTERS = {"csv": count_csv, "jsonl": count_jsonl, "parquet": count_parquet}


def test_messy_manifest_is_written_and_complete(messy):
    folder, manifest = messy
    written = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(manifest))
    files = manifest["files"]
    assert {f["format"] for f in files.values()} == {"csv", "jsonl", "parquet"}
    assert {f["naming"] for f in files.values()} == set(NAMING)
    assert {f["date_format"]["name"] for f in files.values()} == {"yyyy-mm-dd", "dd/mm/yyyy", "m/d/yyyy",
                                                                  "epoch_seconds"}
    assert {f["entity"] for f in files.values()} == {"customers", "products", "transactions", "reviews"}
    sizes = [f["rows"] for f in files.values()]
    assert max(sizes) / min(sizes) >= 100                           # sizes differ by orders of magnitude
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert found == sorted([*files, "_manifest.json"])


def test_messy_counts_equal_what_is_in_the_files(messy):
    folder, manifest = messy
    for name, entry in manifest["files"].items():
        file = folder / name
        found = COUNTERS[entry["format"]](file, entry["columns"])
        assert found["rows"] == entry["rows"], name
        assert found["corrupt_record_numbers"] == entry["corrupt_record_numbers"], name
        assert len(found["corrupt_record_numbers"]) == entry["corrupt_rows"] == sum(entry["corrupt"].values())
        assert found["duplicates"] == entry["duplicates"] > 0, name
        assert found["nulls"] == entry["nulls"], name
        assert entry["valid_rows"] == entry["rows"] - entry["corrupt_rows"]
        assert entry["distinct_rows"] == len(set(found["good"]))
        assert entry["sha256"] == sha256(file.read_bytes()) and entry["bytes"] == file.stat().st_size
        for column, injected in entry["nulls_injected"].items():
            assert injected == 0 or found["nulls"][column] >= injected
        assert all(re.fullmatch(NAMING[entry["naming"]], c) for c in entry["columns"]), name
        if entry["format"] != "parquet":
            assert entry["corrupt_rows"] > 0, name


def test_messy_dates_follow_the_declared_format(messy):
    folder, manifest = messy
    for name, entry in manifest["files"].items():
        found = COUNTERS[entry["format"]](folder / name, entry["columns"])
        spec = entry["date_format"]
        for column in spec["columns"]:
            i = entry["columns"].index(column)
            values = [r[i] for r in found["good"] if r[i] not in ("", None)]
            assert values, name
            for v in values:
                if spec["name"] == "epoch_seconds":
                    assert 2012 <= datetime.fromtimestamp(v, UTC).year <= 2014
                else:
                    assert 2012 <= datetime.strptime(v, spec["python"]).year <= 2015
                    if spec["name"] == "dd/mm/yyyy":
                        assert re.fullmatch(r"\d\d/\d\d/\d{4}", v)


def test_messy_entities_are_real_and_linked(messy):
    folder, manifest = messy
    customers = count_csv(folder / "crm/customers.csv", manifest["files"]["crm/customers.csv"]["columns"])
    crm_ids = {int(r[0]) for r in customers["good"]}
    assert crm_ids <= set(data.load("customer_personality")["ID"])
    reviews = count_csv(folder / "reviews/reviews.csv", manifest["files"]["reviews/reviews.csv"]["columns"])
    assert {int(r[1].removeprefix("CUST-")) for r in reviews["good"]} <= crm_ids
    assert any("\n" in r[6] for r in reviews["good"])               # line breaks inside quoted values
    products = count_jsonl(folder / "catalog/products.jsonl",
                           manifest["files"]["catalog/products.jsonl"]["columns"])
    product_ids = {r[0] for r in products["good"]}
    assert product_ids <= set(data.load("olist_products")["product_id"])
    sales = pq.read_table(folder / "sales/transactions.parquet").to_pandas()
    assert set(sales["ProductId"]) <= product_ids and set(sales["CustomerId"].dropna().astype(int)) <= crm_ids


def test_messy_sources_deterministic(tmp_path):
    def make(folder, seed):
        synth.generate_messy_sources(tmp_path / folder, seed=seed, scale=0.01, progress=False)
        return {p.relative_to(tmp_path / folder).as_posix(): p.read_bytes()
                for p in sorted((tmp_path / folder).rglob("*")) if p.is_file()}

    first = make("a", 1)
    assert make("b", 1) == first
    other = make("c", 2)
    assert other.keys() == first.keys() and all(other[k] != first[k] for k in first)


def test_customer_batches_counts_match_the_files(tmp_path):
    manifest = synth.generate_customer_batches(tmp_path, batches=3, rows_per_batch=100, seed=7)
    assert json.loads((tmp_path / "_manifest.json").read_text()) == manifest
    for batch in (1, 2, 3):
        entry = manifest["files"][f"customers/batch_{batch:03d}.jsonl"]
        records = [json.loads(line) for line in (tmp_path / f"customers/batch_{batch:03d}.jsonl").read_text()
                   .splitlines()]
        assert len(records) == entry["rows"] == entry["distinct_rows"] + entry["duplicates"]
        assert len({json.dumps(r, sort_keys=True) for r in records}) == entry["distinct_rows"]
        counted = Counter()
        for r in records:
            counted["missing_email"] += r["email"] is None
            counted["invalid_email"] += r["email"] is not None and "@" not in r["email"]
            counted["missing_purchase_amount"] += r["purchase_amount"] is None
            counted["purchase_amount_as_text"] += isinstance(r["purchase_amount"], str)
        assert {k: v for k, v in counted.items() if v} == entry["problems"]
        # only batch 2 (the default) writes amounts as text: the type disagreement a choice type captures
        assert (counted["purchase_amount_as_text"] > 0) == (batch == 2)
        assert all(isinstance(r["address"], dict) and isinstance(r["orders"], list) for r in records)
    countries = {r["country"] for f in (tmp_path / "customers").iterdir() for r in map(json.loads, f.read_text()
                 .splitlines())}
    reference = list(csv.DictReader((tmp_path / "reference/country_codes.csv").open()))
    assert countries <= {row["country_name"] for row in reference}


def test_customer_batches_deterministic(tmp_path):
    a = synth.generate_customer_batches(tmp_path / "a", batches=2, rows_per_batch=50, seed=3)
    b = synth.generate_customer_batches(tmp_path / "b", batches=2, rows_per_batch=50, seed=3)
    c = synth.generate_customer_batches(tmp_path / "c", batches=2, rows_per_batch=50, seed=4)
    assert a == b and a != c
