"""Tests for gluelab.data: the bundled datasets and their manifest, and Kaggle download errors.

Counts are computed here independently (csv/hashlib/pyarrow), never by calling back into the code under
test, so a wrong manifest cannot agree with itself.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
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


def test_readme_table_agrees_with_manifest():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    assert set(rows) == set(MANIFEST)
    for name, entry in MANIFEST.items():
        cells = [c.strip(" `") for c in rows[name].split("|")]
        assert cells[2] == entry["kaggle"]["slug"] and cells[3] == entry["file"]
        assert cells[4] == f"{entry['rows']:,}" and cells[5] == str(len(entry["columns"]))


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
