"""``lab.prepare(stage)``: re-create, idempotently, what earlier lessons built.

Each lesson that needs earlier work starts with ``lab.prepare("<stage>")``, so any notebook can run first, twice
in a row, or at the same time as another (each notebook's process has its own local endpoint). Stages run in
order: preparing a stage prepares every stage before it. Each step skips what already exists (buckets that are
there, objects with the same content), so preparing twice does nothing the second time.

Later lessons add stages (the catalog crawled, jobs deployed, ...) with :func:`stage`.

Generated inputs (the shop's transactions, the messy multi-source files, the customer exports) are made once
per machine and kept in ``~/.cache/gluelab/generated/`` (:func:`generated`), keyed by what they are made from:
the generator's code, the bundled data, the library versions that shape them, and the scale and seed. A
notebook that prepares a stage then only uploads them; ``GLUELAB_CACHE=0`` makes them afresh every time.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import data, synth


@dataclass(frozen=True)
class RawSource:
    """One source system's dataset as it lands in the raw zone: ``raw/<system>/<dataset>/<filename>``."""
    system: str
    dataset: str
    name: str          # gluelab.data dataset name
    filename: str      # object name in the raw zone

    @property
    def key(self) -> str:
        return f"{self.system}/{self.dataset}/{self.filename}"


#: The real datasets of seed 000's multi-source scenario, by the source system that delivers them.
RAW_SOURCES = (
    RawSource("crm", "customers", "customer_personality", "marketing_campaign.tsv"),
    RawSource("shop", "transactions_sample", "online_shop_sample", "sales_transactions_sample.csv"),
    RawSource("catalog", "products", "olist_products", "olist_products.csv"),
    RawSource("catalog", "category_translation", "olist_category_translation", "category_translation.csv"),
    RawSource("reviews", "clothing_reviews", "clothing_reviews", "womens_clothing_reviews.csv.gz"),
    RawSource("property", "sales", "property_sales", "raw_sales.csv"),
    RawSource("property", "moving_averages", "property_ma", "ma_lga.csv"),
    RawSource("retail", "superstore_orders", "superstore_sales", "superstore_train.csv"),
)
#: Where the generated online-shop transactions and the messy multi-source files land in the raw zone.
TRANSACTIONS_KEY = "shop/transactions/sales_transactions.csv"
INTEGRATION_PREFIX = "integration"
#: Rows of the generated online-shop file at scale 1.0 (the original's size).
TRANSACTIONS_ROWS = 536_350

_STAGES: dict[str, Callable] = {}


def stage(name: str):
    """Register ``fn(lab, scale, seed)`` as the stage ``name`` (after all stages registered before it).

    A stage changes the account only through the lab's helpers (``lab.upload``, ``lab.ensure_database``,
    ``jobs.deploy``, ...) or after ``lab._plan(...)`` said yes, so a dry-run lab prepares nothing and lists
    what it would do."""
    def register(fn):
        _STAGES[name] = fn
        return fn
    return register


def names() -> list[str]:
    """The stages in the order they run."""
    return list(_STAGES)


def prepare(lab, name: str, *, scale: float = 1.0, seed: int = 42) -> None:
    """Run every stage up to and including ``name``."""
    if name not in _STAGES:
        raise ValueError(f"unknown stage {name!r}; stages are: {', '.join(_STAGES)}")
    for current, fn in _STAGES.items():
        fn(lab, scale=scale, seed=seed)
        if current == name:
            return


# --- Generated inputs, made once per machine ------------------------------------------------------------------

#: Cached generated inputs not used for this long are removed when another is made.
UNUSED_DAYS = 14


def _generated_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gluelab" / "generated"


def _fingerprint() -> str:
    """What generated data depends on besides its parameters: the generator's and the data loader's code, the
    bundled data's manifest, and the libraries whose random streams and writers shape the files."""
    import numpy
    import pandas
    import pyarrow

    digest = hashlib.sha256()
    for path in (Path(synth.__file__), Path(data.__file__), data.data_dir() / "manifest.json"):
        digest.update(path.read_bytes())
    digest.update(f"{numpy.__version__}|{pandas.__version__}|{pyarrow.__version__}".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def generated(kind: str, make: Callable[[Path], object], **params) -> Iterator[Path]:
    """Yield a folder holding what ``make(folder)`` writes for ``kind`` and ``params`` (JSON values).

    Made once per machine: the folder is built under a temporary name and renamed into place when complete, so
    a reader never sees half of it; two processes making the same one at once both end with the same
    complete folder (the second rename loses and its copy is dropped). Never write into the yielded folder.
    Without a usable cache (``GLUELAB_CACHE=0``, or the cache folder cannot be written) the files are made in a
    temporary folder that is removed afterwards.
    """
    key = json.dumps({"kind": kind, "params": params, "code": _fingerprint()}, sort_keys=True)
    name = f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"
    root = _generated_root()
    final = root / name
    if os.environ.get("GLUELAB_CACHE", "1") != "0":
        try:
            if not final.is_dir():
                root.mkdir(parents=True, exist_ok=True)
                partial = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
                try:
                    make(partial)
                    (partial / ".key.json").write_text(key)
                    os.rename(partial, final)
                except OSError:
                    if not final.is_dir():  # not another process's complete copy: a real failure
                        raise
                finally:
                    shutil.rmtree(partial, ignore_errors=True)
                _remove_unused(root)
            os.utime(final)  # in use: keeps it from being removed as unused
        except OSError:
            pass  # no usable cache: made in a temporary folder below
        else:
            yield final
            return
    with tempfile.TemporaryDirectory(prefix=f"gluelab-{kind}-") as tmp:
        make(Path(tmp))
        yield Path(tmp)


def _remove_unused(root: Path) -> None:
    cutoff = time.time() - UNUSED_DAYS * 86400
    for entry in root.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry)


def _transactions(folder: Path, scale: float, seed: int) -> None:
    rows = max(1, round(TRANSACTIONS_ROWS * scale))
    synth.generate_transactions(folder / "transactions.csv", rows=rows, seed=seed, progress=False)


def _messy(folder: Path, scale: float, seed: int) -> None:
    synth.generate_messy_sources(folder, seed=seed, scale=scale, progress=False)


@stage("zones")
def _zones(lab, scale, seed):
    lab.ensure_zones()


@stage("raw")
def _raw(lab, scale, seed):
    """Lesson 01: the real datasets, the generated transactions and the messy multi-source files in raw."""
    for src in RAW_SOURCES:
        lab.upload(data.path(src.name), lab.zones.uri("raw", src.key))
    with generated("transactions", lambda d: _transactions(d, scale, seed), scale=scale, seed=seed) as folder:
        lab.upload(folder / "transactions.csv", lab.zones.uri("raw", TRANSACTIONS_KEY))
    with generated("messy", lambda d: _messy(d, scale, seed), scale=scale, seed=seed) as messy_dir:
        for f in sorted(p for p in messy_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            lab.upload(f, lab.zones.uri("raw", INTEGRATION_PREFIX, f.relative_to(messy_dir).as_posix()))


# --- Lessons 05+: customer exports arriving in batches, crawled into the catalog -----------------------------

#: Where the CRM's customer exports land (one JSON-lines file per batch) and the country reference table.
CUSTOMER_EXPORTS = "crm_exports/customers_raw/"
COUNTRY_CODES = "reference/country_codes/"
#: Batches delivered by the "customers" stage; later batches arrive during a lesson (deliver_customer_batch).
CUSTOMER_BATCHES_AT_START = 2
CUSTOMER_BATCHES = 3
CUSTOMER_ROWS_PER_BATCH = 200


def _customer_batches(folder: Path, scale: float, seed: int) -> None:
    rows = max(20, round(CUSTOMER_ROWS_PER_BATCH * scale))
    synth.generate_customer_batches(folder, batches=CUSTOMER_BATCHES, rows_per_batch=rows, seed=seed)


def customer_batch_uri(lab, batch: int) -> str:
    """The raw-zone URI of customer export batch ``batch`` (1-based)."""
    return lab.zones.uri("raw", CUSTOMER_EXPORTS, f"batch_{batch:03d}.jsonl")


def deliver_customer_batch(lab, batch: int, *, scale: float = 1.0, seed: int = 42) -> str:
    """Upload customer export batch ``batch`` to the raw zone (what a new delivery from the CRM looks like)."""
    if not 1 <= batch <= CUSTOMER_BATCHES:
        raise ValueError(f"batch must be 1..{CUSTOMER_BATCHES}, got {batch}")
    with generated("customers", lambda d: _customer_batches(d, scale, seed), scale=scale, seed=seed) as files:
        return lab.upload(files / "customers" / f"batch_{batch:03d}.jsonl", customer_batch_uri(lab, batch))


@stage("customers")
def _customers(lab, scale, seed):
    """Lesson 05: customer export batches 1-2 (later batches removed) and the country reference table in the raw
    zone, catalogued as ``customers_raw`` (database ``<prefix>_customer_db``) and ``country_codes``
    (``<prefix>_reference_db``) by gluelab's crawler run over boto3 (no crawler resource, nothing billed)."""
    from . import crawler

    with generated("customers", lambda d: _customer_batches(d, scale, seed), scale=scale, seed=seed) as files:
        for batch in range(1, CUSTOMER_BATCHES_AT_START + 1):
            lab.upload(files / "customers" / f"batch_{batch:03d}.jsonl", customer_batch_uri(lab, batch))
        lab.upload(files / "reference" / "country_codes.csv",
                   lab.zones.uri("raw", COUNTRY_CODES, "country_codes.csv"))
    for batch in range(CUSTOMER_BATCHES_AT_START + 1, CUSTOMER_BATCHES + 1):
        lab.delete_object(customer_batch_uri(lab, batch))
    # every column of country_codes.csv is text, so no classifier can tell its header from data (AWS's cannot
    # either): a custom CSV classifier says the header is there, as one would on AWS
    with_header = {"Name": "csv-with-header", "Delimiter": ",", "QuoteSymbol": '"', "ContainsHeader": "PRESENT"}
    for database, path, classifier in (("customer_db", CUSTOMER_EXPORTS, None),
                                       ("reference_db", COUNTRY_CODES, with_header)):
        name = lab.ensure_database(lab.names.database(database))
        target = lab.zones.uri("raw", path)
        if lab._plan("catalogue", f"{target} into database {name} (gluelab's crawler over boto3, not billed)"):
            spec = crawler.CrawlerSpec(name=lab.names.resource(f"{database}-stage"), database=name,
                                       s3_targets=[{"Path": target}], csv_classifier=classifier)
            crawler.crawl(spec, glue=lab.client("glue"), s3=lab.client("s3"))
