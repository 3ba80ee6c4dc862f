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

