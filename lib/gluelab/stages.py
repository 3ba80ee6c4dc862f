"""``lab.prepare(stage)``: re-create, idempotently, what earlier lessons built.

Each lesson that needs earlier work starts with ``lab.prepare("<stage>")``, so any notebook can run first, twice
in a row, or at the same time as another (each notebook's process has its own local endpoint). Stages run in
order: preparing a stage prepares every stage before it. Each step skips what already exists (buckets that are
there, objects with the same content), so preparing twice does nothing the second time.

Later lessons add stages (the catalog crawled, jobs deployed, ...) with :func:`stage`.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import data, synth
from .uris import split_uri


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
    """Register ``fn(lab, scale, seed)`` as the stage ``name`` (after all stages registered before it)."""
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


@stage("zones")
def _zones(lab, scale, seed):
    lab.ensure_zones()


@stage("raw")
def _raw(lab, scale, seed):
    """Lesson 01: the real datasets, the generated transactions and the messy multi-source files in raw."""
    for src in RAW_SOURCES:
        lab.upload(data.path(src.name), lab.zones.uri("raw", src.key))
    with tempfile.TemporaryDirectory(prefix="gluelab-raw-") as tmp:
        rows = max(1, round(TRANSACTIONS_ROWS * scale))
        path, _ = synth.generate_transactions(Path(tmp) / "transactions.csv", rows=rows, seed=seed,
                                              progress=False)
        lab.upload(path, lab.zones.uri("raw", TRANSACTIONS_KEY))
        messy_dir = Path(tmp) / "messy"
        synth.generate_messy_sources(messy_dir, seed=seed, scale=scale, progress=False)
        for f in sorted(p for p in messy_dir.rglob("*") if p.is_file()):
            lab.upload(f, lab.zones.uri("raw", INTEGRATION_PREFIX, f.relative_to(messy_dir).as_posix()))



# --- Lessons 05+: customer exports arriving in batches, crawled into the catalog -----------------------------

#: Where the CRM's customer exports land (one JSON-lines file per batch) and the country reference table.
CUSTOMER_EXPORTS = "crm_exports/customers_raw/"
COUNTRY_CODES = "reference/country_codes/"
#: Batches delivered by the "customers" stage; later batches arrive during a lesson (deliver_customer_batch).
CUSTOMER_BATCHES_AT_START = 2
CUSTOMER_BATCHES = 3
CUSTOMER_ROWS_PER_BATCH = 200


def _customer_files(scale: float, seed: int, tmp: str) -> Path:
    rows = max(20, round(CUSTOMER_ROWS_PER_BATCH * scale))
    synth.generate_customer_batches(tmp, batches=CUSTOMER_BATCHES, rows_per_batch=rows, seed=seed)
    return Path(tmp)


def customer_batch_uri(lab, batch: int) -> str:
    """The raw-zone URI of customer export batch ``batch`` (1-based)."""
    return lab.zones.uri("raw", CUSTOMER_EXPORTS, f"batch_{batch:03d}.jsonl")


def deliver_customer_batch(lab, batch: int, *, scale: float = 1.0, seed: int = 42) -> str:
    """Upload customer export batch ``batch`` to the raw zone (what a new delivery from the CRM looks like)."""
    if not 1 <= batch <= CUSTOMER_BATCHES:
        raise ValueError(f"batch must be 1..{CUSTOMER_BATCHES}, got {batch}")
    with tempfile.TemporaryDirectory(prefix="gluelab-customers-") as tmp:
        files = _customer_files(scale, seed, tmp)
        return lab.upload(files / "customers" / f"batch_{batch:03d}.jsonl", customer_batch_uri(lab, batch))


@stage("customers")
def _customers(lab, scale, seed):
    """Lesson 05: customer export batches 1-2 (later batches removed) and the country reference table in the raw
    zone, catalogued as ``customers_raw`` (database ``<prefix>_customer_db``) and ``country_codes``
    (``<prefix>_reference_db``) by gluelab's crawler run over boto3 (no crawler resource, nothing billed)."""
    from . import crawler

    with tempfile.TemporaryDirectory(prefix="gluelab-customers-") as tmp:
        files = _customer_files(scale, seed, tmp)
        for batch in range(1, CUSTOMER_BATCHES_AT_START + 1):
            lab.upload(files / "customers" / f"batch_{batch:03d}.jsonl", customer_batch_uri(lab, batch))
        lab.upload(files / "reference" / "country_codes.csv",
                   lab.zones.uri("raw", COUNTRY_CODES, "country_codes.csv"))
    s3 = lab.client("s3")
    for batch in range(CUSTOMER_BATCHES_AT_START + 1, CUSTOMER_BATCHES + 1):
        bucket, key = split_uri(customer_batch_uri(lab, batch))
        s3.delete_object(Bucket=bucket, Key=key)
    glue = lab.client("glue")
    # every column of country_codes.csv is text, so no classifier can tell its header from data (AWS's cannot
    # either): a custom CSV classifier says the header is there, as one would on AWS
    with_header = {"Name": "csv-with-header", "Delimiter": ",", "QuoteSymbol": '"', "ContainsHeader": "PRESENT"}
    for database, path, classifier in (("customer_db", CUSTOMER_EXPORTS, None),
                                       ("reference_db", COUNTRY_CODES, with_header)):
        name = lab.names.database(database)
        try:
            glue.create_database(DatabaseInput={"Name": name})
        except glue.exceptions.AlreadyExistsException:
            pass
        spec = crawler.CrawlerSpec(name=lab.names.resource(f"{database}-stage"), database=name,
                                   s3_targets=[{"Path": lab.zones.uri("raw", path)}], csv_classifier=classifier)
        crawler.crawl(spec, glue=glue, s3=s3)
