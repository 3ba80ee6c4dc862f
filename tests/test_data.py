"""Tests for gluelab.data: the bundled datasets and their manifest, Kaggle download errors, the generators.

Counts are computed here independently (csv/json/hashlib/pyarrow), never by calling back into the code
under test, so a wrong manifest or a wrong generator summary cannot agree with itself.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import sys
import tracemalloc
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from gluelab import data

DATA = Path(__file__).resolve().parents[1] / "data"
MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["datasets"]

# Row counts as documented in the datasets' provenance notes (typed in on purpose: the manifest must agree).
DOCUMENTED_ROWS = {
    "customer_personality": 2240, "online_shop_sample": 1305, "superstore_sales": 9800,
    "property_sales": 29580, "property_ma": 347, "clothing_reviews": 23486, "olist_products": 32951,
    "olist_category_translation": 71,
}


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def parse_csv(raw: bytes, encoding: str, sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode(encoding), newline=""), delimiter=sep))


# ---------------------------------------------------------------------------------------------------------
# bundled files and manifest
# ---------------------------------------------------------------------------------------------------------

def test_manifest_names_are_the_documented_datasets():
    assert data.datasets() == list(DOCUMENTED_ROWS)
    assert set(MANIFEST) == set(DOCUMENTED_ROWS)


@pytest.mark.parametrize("name", list(DOCUMENTED_ROWS))
def test_bundled_file_matches_manifest(name):
    entry = MANIFEST[name]
    file = DATA / entry["file"]
    assert file.is_file(), file
    raw = file.read_bytes()
    assert sha256(raw) == entry["sha256"]
    assert len(raw) == entry["size_bytes"]
    if entry["compression"] == "gzip":
        raw = gzip.decompress(raw)
        assert sha256(raw) == entry["original_sha256"]
        assert len(raw) == entry["original_size_bytes"]
        assert file.name == entry["original_name"] + ".gz"
    else:
        assert entry["compression"] is None and file.name == entry["original_name"]
    ro = entry["read_options"]
    records = parse_csv(raw, ro["encoding"], ro["sep"])
    assert records[0] == entry["columns"]
    assert all(len(r) == len(records[0]) for r in records[1:])
    assert len(records) - 1 == entry["rows"] == DOCUMENTED_ROWS[name]
    assert entry["kaggle"]["slug"].count("/") == 1 and entry["licence"] and entry["quirks"]
    assert {"repository", "commit", "path"} <= set(entry["source"])


def test_only_manifest_files_are_bundled():
    bundled = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file()}
    assert bundled == {e["file"] for e in MANIFEST.values()} | {"manifest.json", "README.md"}


def test_partial_sample_is_marked_partial():
    assert [n for n, e in MANIFEST.items() if e["partial"]] == ["online_shop_sample"]
    assert "PARTIAL" in MANIFEST["online_shop_sample"]["file"]


@pytest.mark.parametrize("name", list(DOCUMENTED_ROWS))
def test_load_returns_documented_rows_and_columns(name):
    frame = data.load(name)
    assert len(frame) == DOCUMENTED_ROWS[name]
    assert list(frame.columns) == MANIFEST[name]["columns"]


def test_load_handles_the_quirks():
    people = data.load("customer_personality")                   # TAB-separated
    assert people.shape == (2240, 29) and people["Income"].isna().sum() == 24

    raw = (DATA / MANIFEST["olist_category_translation"]["file"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                         # the BOM is in the file ...
    names = data.load("olist_category_translation")
    assert names.columns[0] == "product_category_name"            # ... and not in the column name

    reviews = data.load("clothing_reviews")                        # gzip + line breaks inside quoted fields
    assert len(reviews) == 23486
    text = reviews["Review Text"].dropna()
    assert text.str.contains("\n").sum() == 2024
    assert reviews[""].tolist() == list(range(23486))              # the empty first header is kept as ""

    shop = data.load("online_shop_sample")
    assert shop["ProductNo"].map(type).eq(str).all() and "84596F" in set(shop["ProductNo"])
    assert shop["TransactionNo"].map(type).eq(str).all()

    superstore = data.load("superstore_sales")
    assert superstore["Postal Code"].isna().sum() == 11
    assert superstore["Postal Code"].dropna().str.len().eq(4).sum() == 429


def test_compressed_reviews_read_directly_by_pandas_and_pyarrow():
    file = DATA / MANIFEST["clothing_reviews"]["file"]
    table = pacsv.read_csv(file, parse_options=pacsv.ParseOptions(newlines_in_values=True))
    assert table.num_rows == 23486 == len(pd.read_csv(file))


def test_info_and_path():
    entry = data.info("property_ma")
    entry["rows"] = -1                                              # a copy: the manifest is unchanged
    assert data.info("property_ma")["rows"] == 347
    assert data.path("property_ma") == DATA / MANIFEST["property_ma"]["file"]
    with pytest.raises(ValueError, match="customer_personality"):
        data.info("no_such_dataset")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setenv("GLUELAB_DATA", str(copy))
    return copy


def test_load_refuses_a_changed_or_missing_file(data_copy):
    file = data_copy / MANIFEST["property_ma"]["file"]
    assert len(data.load("property_ma")) == 347
    file.write_bytes(file.read_bytes().replace(b"441854", b"441855", 1))
    with pytest.raises(data.DatasetError, match="has changed"):
        data.load("property_ma")
    file.unlink()
    with pytest.raises(data.DatasetError, match="missing"):
        data.load("property_ma")


# ---------------------------------------------------------------------------------------------------------
# download
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def no_kaggle_credentials(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR", "XDG_CONFIG_HOME",
                "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    return home


def test_download_without_credentials_says_what_to_do(no_kaggle_credentials):
    imported_before = "kaggle" in sys.modules
    with pytest.raises(data.KaggleError) as err:
        data.download("property_ma", dest=no_kaggle_credentials / "dl")
    message = str(err.value)
    assert "No Kaggle credentials" in message
    assert "KAGGLE_API_TOKEN" in message and "kaggle.json" in message and "load('property_ma')" in message
    assert imported_before or "kaggle" not in sys.modules          # kaggle is not even imported


def test_download_without_network_says_what_to_do(no_kaggle_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "nobody")
    monkeypatch.setenv("KAGGLE_KEY", "not-a-key")
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")              # nothing listens there: no network
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(data.KaggleError, match="Could not download .*network connection"):
        data.download("property_ma", dest=no_kaggle_credentials / "dl")


class FakeKaggle:
    """Stands in for KaggleApi: writes the given bytes, zipped like Kaggle does for large files."""

    def __init__(self, payload: bytes):
        self.payload = payload

    def dataset_download_file(self, slug, file_name, path, force, quiet):
        with zipfile.ZipFile(Path(path) / (file_name + ".zip"), "w") as zf:
            zf.writestr(file_name, self.payload)
        return True


def test_download_compares_sha256(no_kaggle_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", "fake")
    original = (DATA / MANIFEST["property_ma"]["file"]).read_bytes()
    monkeypatch.setattr(data, "_kaggle_api", lambda: FakeKaggle(original))
    got = data.download("property_ma", dest=no_kaggle_credentials / "dl")
    assert got["matches"] is True and got["path"].read_bytes() == original and not got["path"].with_suffix(
        ".csv.zip").exists()

    monkeypatch.setattr(data, "_kaggle_api", lambda: FakeKaggle(original.replace(b"\n", b"\r\n")))
    with pytest.warns(UserWarning, match="not byte-identical"):
        assert data.download("property_ma", dest=no_kaggle_credentials / "dl2")["matches"] is False
    with pytest.raises(data.KaggleError, match="not byte-identical"):
        data.download("property_ma", dest=no_kaggle_credentials / "dl3", strict=True)

    reviews = gzip.decompress((DATA / MANIFEST["clothing_reviews"]["file"]).read_bytes())
    monkeypatch.setattr(data, "_kaggle_api", lambda: FakeKaggle(reviews))    # vs the uncompressed hash
    assert data.download("clothing_reviews", dest=no_kaggle_credentials / "dl4")["matches"] is True
    monkeypatch.setattr(data, "_kaggle_api", lambda: FakeKaggle(b"TransactionNo\r\n1"))
    assert data.download("online_shop_sample", dest=no_kaggle_credentials / "dl5")["matches"] is None


# ---------------------------------------------------------------------------------------------------------
# generate_transactions
# ---------------------------------------------------------------------------------------------------------

SAMPLE = DATA / MANIFEST["online_shop_sample"]["file"]


def test_transactions_deterministic(tmp_path):
    def make(name, **kw):
        options = {"rows": 30_011, "chunk_rows": 8_000, **kw}
        data.generate_transactions(tmp_path / name, progress=False, **options)
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
    written, summary = data.generate_transactions(out, rows=rows, chunk_rows=5_000, progress=False)
    assert written == out
    raw = out.read_bytes()
    header = SAMPLE.read_bytes().split(b"\r\n", 1)[0]
    assert raw.split(b"\r\n", 1)[0] == header
    assert raw.count(b"\r\n") == rows and not raw.endswith(b"\n")  # CRLF, no final newline, like the sample
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert summary["rows"] == rows == len(pd.read_csv(out))


def test_transactions_quirks_and_summary(tmp_path):
    out = tmp_path / "t.csv"
    _, summary = data.generate_transactions(out, rows=60_000, seed=3, chunk_rows=25_000, progress=False)
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
    written, summary = data.generate_transactions(tmp_path, rows=20_000, fmt="parquet", chunk_rows=6_000,
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
    make_chunks = data._transaction_chunks

    def watched_chunks(*args, **kwargs):
        for chunk in make_chunks(*args, **kwargs):
            events.append(("made", len(chunk)))
            yield chunk

    write = data._ShopCsvSink.write

    def watched_write(self, chunk):
        events.append(("written", len(chunk)))
        write(self, chunk)

    monkeypatch.setattr(data, "_transaction_chunks", watched_chunks)
    monkeypatch.setattr(data._ShopCsvSink, "write", watched_write)
    data.generate_transactions(tmp_path / "t.csv", rows=200_000, chunk_rows=50_000, progress=False)
    # each chunk is written before the next one is made, and none is bigger than chunk_rows
    assert events == [("made", 50_000), ("written", 50_000)] * 4


def test_transactions_peak_memory_follows_chunk_size(tmp_path):
    """Python and numpy allocations (traced) grow with chunk_rows, not rows: quarter chunks, < 40% peak."""
    data.generate_transactions(tmp_path / "warm.parquet", rows=10, fmt="parquet", progress=False)

    def peak(chunk_rows):
        tracemalloc.start()
        try:
            data.generate_transactions(tmp_path / f"{chunk_rows}.parquet", rows=100_000,
                                       chunk_rows=chunk_rows, fmt="parquet", progress=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    quarter, whole = peak(25_000), peak(100_000)
    assert quarter < 0.4 * whole, (quarter, whole)


def test_transactions_leave_nothing_behind_on_failure(tmp_path, monkeypatch):
    def broken(self, chunk):
        raise OSError("disk full")

    monkeypatch.setattr(data._ShopCsvSink, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        data.generate_transactions(tmp_path / "t.csv", rows=1_000, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_transactions_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        data.generate_transactions(tmp_path / "t.x", rows=10, fmt="xlsx", progress=False)
    with pytest.raises(ValueError, match="chunk_rows"):
        data.generate_transactions(tmp_path / "t.csv", rows=10, chunk_rows=0, progress=False)


# ---------------------------------------------------------------------------------------------------------
# generate_messy_sources
# ---------------------------------------------------------------------------------------------------------

NAMING = {"snake_case": r"[a-z]+(_[a-z]+)*", "camelCase": r"[a-z]+([A-Z][a-z]*)*",
          "PascalCase": r"([A-Z][a-z]*)+"}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("messy")
    return folder, data.generate_messy_sources(folder, seed=7, scale=0.05, progress=False)


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
        data.generate_messy_sources(tmp_path / folder, seed=seed, scale=0.01, progress=False)
        return {p.relative_to(tmp_path / folder).as_posix(): p.read_bytes()
                for p in sorted((tmp_path / folder).rglob("*")) if p.is_file()}

    first = make("a", 1)
    assert make("b", 1) == first
    other = make("c", 2)
    assert other.keys() == first.keys() and all(other[k] != first[k] for k in first)


def test_readme_table_agrees_with_manifest():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    assert set(rows) == set(MANIFEST)
    for name, entry in MANIFEST.items():
        cells = [c.strip(" `") for c in rows[name].split("|")]
        assert cells[2] == entry["kaggle"]["slug"] and cells[3] == entry["file"]
        assert cells[4] == f"{entry['rows']:,}" and cells[5] == str(len(entry["columns"]))
