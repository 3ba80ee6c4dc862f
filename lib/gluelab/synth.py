"""Synthetic data for the lessons: seeded, deterministic, written chunk by chunk.

Why: the real files (:mod:`gluelab.data`) are fixed in size and tidy in shape, but the lessons also need a
full-size online-shop file (only a 1,305-row sample of the original could be obtained), sizes chosen at will,
and the problems that real multi-source ingestion meets. Two generators provide them:

* ``generate_transactions`` writes a stand-in for the online-shop file with any number of rows: the same
  columns and format as the bundled sample (CSV), or typed columns (Parquet). Products, prices, quantities
  and some customers are drawn from the real sample.
* ``generate_messy_sources`` delivers the same customers, products, transactions and reviews (real where the
  data exists) as several "source systems" that differ in format, naming, date format and ids, with
  deliberately injected problems (missing values, exact duplicates, corrupt records). It writes a manifest of
  exactly what it injected, so lessons and tests can check that what they find is what is there.

* ``generate_customer_batches`` delivers customer records as JSON lines in several batches (files arriving
  one after another), nested and imperfect the way application exports are, plus a country reference table:
  the input of the Glue job lessons (DynamicFrames, choice types, relationalize, bookmarks).

All are deterministic (the same seed gives byte-identical files) and write chunk by chunk, so even 10M rows
never sit in memory; a file appears only once it is complete.
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .data import file_sha256, load

__all__ = ["generate_customer_batches", "generate_messy_sources", "generate_transactions"]


# ----------------------------------------------------------------------------------------------------------
# Shared helpers for the generators
# ----------------------------------------------------------------------------------------------------------

def _progress(total: int, enabled: bool, desc: str):
    """A tqdm bar (a widget in Jupyter when ipywidgets is installed, text otherwise), or a silent one."""
    with warnings.catch_warnings():         # without ipywidgets tqdm.auto warns once, then falls back to text
        warnings.filterwarnings("ignore", message="IProgress not found")
        from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="rows", unit_scale=True, leave=False)


def _csv_field(value) -> str:
    """One CSV field, RFC 4180 style: quoted only when it holds a separator, a quote or a line break."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _column_values(frame: pd.DataFrame, column: str) -> list:
    """A column as plain Python values (int, float, str), missing values as None."""
    series = frame[column]
    return series.astype(object).where(series.notna(), None).tolist()


def _day_strings(first: date, days: int, fmt: str) -> np.ndarray:
    """Text of ``days`` consecutive dates from ``first``, in one of the formats the lessons meet."""
    render = {
        "yyyy-mm-dd": lambda d: d.isoformat(),
        "dd/mm/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
        "m/d/yyyy": lambda d: f"{d.month}/{d.day}/{d.year}",
    }[fmt]
    return np.array([render(first + timedelta(days=i)) for i in range(days)], dtype=object)


@contextlib.contextmanager
def _atomic_file(final: Path):
    """Yield a temporary ``*.partial`` path next to ``final``; rename it to ``final`` only on success.

    Why: a crawler or a reader must never see half a file, and a failed run must not leave one behind.
    """
    partial = final.with_name(final.name + ".partial")
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)


# ----------------------------------------------------------------------------------------------------------
# Synthetic online-shop transactions
# ----------------------------------------------------------------------------------------------------------

_SHOP_COLUMNS = ["TransactionNo", "Date", "ProductNo", "ProductName", "Price", "Quantity", "CustomerNo",
                 "Country"]
_SHOP_FIRST, _SHOP_LAST = date(2018, 12, 1), date(2019, 12, 9)
_SHOP_DAYS = (_SHOP_LAST - _SHOP_FIRST).days + 1
_SHOP_BLOCK = 32_768            # rows per random block: output does not depend on chunk_rows
# Plausible rates, not measured (the full file was not available): lines per transaction, the share of
# transactions that are cancellations, and the share without a CustomerNo.
_MEAN_BASKET = 23
_CANCEL_RATE = 0.016
_BLANK_CUSTOMER_RATE = 0.0015
# The sample holds only 4 countries (one day of orders). The others appear in the UCI "Online Retail" data,
# which this dataset appears to be derived from (not verified against the full file); small weights, so that
# country-level lessons have something to group.
_OTHER_COUNTRIES = {
    "France": 8, "EIRE": 8, "Spain": 3, "Netherlands": 3, "Switzerland": 2, "Portugal": 2, "Australia": 2,
    "Italy": 1, "Sweden": 1, "Finland": 1, "Austria": 1, "Denmark": 1, "Japan": 1, "Poland": 1,
    "Channel Islands": 1, "Cyprus": 1, "Iceland": 0.5, "Israel": 0.5, "Canada": 0.5, "Singapore": 0.5,
    "USA": 0.5, "Greece": 0.5, "Malta": 0.5, "Lithuania": 0.3, "United Arab Emirates": 0.3, "Brazil": 0.2,
    "Czech Republic": 0.2,
}


def _shop_catalogue(rows: int, seed: int) -> dict:
    """Products, quantities and a customer pool drawn from the real partial sample."""
    sample = load("online_shop_sample")
    items = (sample.groupby(["ProductNo", "ProductName", "Price"], sort=True).size()
             .rename("n").reset_index())
    rng = np.random.default_rng([seed, 0])
    known = sample.drop_duplicates("CustomerNo")[["CustomerNo", "Country"]].sort_values("CustomerNo")
    pool = max(len(known) + 27, round(rows / 113))          # about 4,700 customers for the full 536,350 rows
    taken = set(known["CustomerNo"].tolist())
    candidates = rng.permutation(max(6_284, 2 * pool)) + 12_004        # the real ids start at 12004
    numbers = candidates[~np.isin(candidates, list(taken))][: pool - len(known)]
    base = sample["Country"].value_counts()
    countries = {**{c: float(base[c]) / len(sample) * 90 for c in base.index}, **_OTHER_COUNTRIES}
    names, weights = list(countries), np.array(list(countries.values()))
    drawn = rng.choice(len(names), size=len(numbers), p=weights / weights.sum())
    others = np.array(names, dtype=object)[drawn]
    customer_no = np.concatenate([known["CustomerNo"].to_numpy(dtype=np.int64), numbers.astype(np.int64)])
    customer_country = np.concatenate([known["Country"].to_numpy(dtype=object), others])
    activity = rng.pareto(1.2, size=len(customer_no)) + 0.05
    return {
        "product_no": items["ProductNo"].to_numpy(dtype=object),
        "product_name": items["ProductName"].to_numpy(dtype=object),
        "price": items["Price"].to_numpy(dtype=np.float64),
        "item_p": (items["n"] / items["n"].sum()).to_numpy(),
        "quantity": sample["Quantity"].to_numpy(dtype=np.int64),
        "customer_no": customer_no,
        "customer_country": customer_country,
        "customer_p": activity / activity.sum(),
        "first_number": max(581_587, rows + 100_000),
    }


def _shop_block(cat: dict, seed: int, block: int) -> dict:
    """The random draws for rows [block * _SHOP_BLOCK, (block + 1) * _SHOP_BLOCK), the same for a seed."""
    rng = np.random.default_rng([seed, 1, block])
    n = _SHOP_BLOCK
    return {
        "start": rng.random(n) < 1 / _MEAN_BASKET,
        "customer": rng.choice(len(cat["customer_no"]), size=n, p=cat["customer_p"]),
        "cancel": rng.random(n) < _CANCEL_RATE,
        "blank": rng.random(n) < _BLANK_CUSTOMER_RATE,
        "item": rng.choice(len(cat["price"]), size=n, p=cat["item_p"]),
        "quantity": rng.choice(cat["quantity"], size=n),
    }


def _transaction_chunks(rows: int, seed: int, chunk_rows: int, cat: dict):
    """Yield the transactions as DataFrames of at most ``chunk_rows`` rows, newest first like the real file.

    Only one chunk (plus one random block) is alive at a time: each chunk is built in its own function call,
    so its intermediate arrays are gone when it is yielded, and the generator drops its reference on resume.
    """
    carry = None          # the open transaction at the end of the previous chunk
    cache: dict = {}
    for lo in range(0, rows, chunk_rows):
        chunk, carry = _transaction_chunk(lo, min(rows, lo + chunk_rows), rows, seed, cat, carry, cache)
        yield chunk
        del chunk


def _transaction_chunk(lo: int, hi: int, rows: int, seed: int, cat: dict, carry: dict | None, cache: dict):
    """Rows [lo, hi) and the transaction still open at hi.

    A transaction (basket) starts at a row with probability 1/23 and keeps that row's customer, date and
    cancellation flag for all its lines, also across chunk boundaries. Dates run from 2019-12-09 back to
    2018-12-01 with the row position.
    """
    parts = []
    for block in range(lo // _SHOP_BLOCK, (hi - 1) // _SHOP_BLOCK + 1):
        if block not in cache:
            cache.clear()
            cache[block] = _shop_block(cat, seed, block)
        b0 = block * _SHOP_BLOCK
        s, e = max(lo, b0) - b0, min(hi, b0 + _SHOP_BLOCK) - b0
        parts.append({k: v[s:e] for k, v in cache[block].items()})
    draw = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = hi - lo
    start = draw["start"].copy()
    if lo == 0:
        start[0] = True
    day_of_row = (np.arange(lo, hi, dtype=np.int64) * _SHOP_DAYS) // rows        # 0 = the newest day
    first = np.maximum.accumulate(np.where(start, np.arange(n), -1))
    opened = first >= 0
    at = np.where(opened, first, 0)
    t = (carry["t"] if carry else -1) + np.cumsum(start)
    attrs = {"customer": draw["customer"][at], "cancel": draw["cancel"][at], "blank": draw["blank"][at],
             "day": day_of_row[at]}
    if carry:
        attrs = {k: np.where(opened, v, carry[k]) for k, v in attrs.items()}
    number = (cat["first_number"] - t).astype(str).astype(object)
    cancel = attrs["cancel"]
    customer_no = pd.array(cat["customer_no"][attrs["customer"]], dtype="Int64")
    customer_no[attrs["blank"]] = pd.NA
    frame = pd.DataFrame({
        "TransactionNo": np.where(cancel, "C" + number, number),
        "Date": np.datetime64(_SHOP_LAST, "D") - attrs["day"].astype("timedelta64[D]"),
        "ProductNo": cat["product_no"][draw["item"]],
        "ProductName": cat["product_name"][draw["item"]],
        "Price": cat["price"][draw["item"]],
        "Quantity": np.where(cancel, -draw["quantity"], draw["quantity"]),
        "CustomerNo": customer_no,
        "Country": cat["customer_country"][attrs["customer"]],
    }, index=pd.RangeIndex(lo, hi))
    return frame, {"t": int(t[-1]), **{k: v[-1] for k, v in attrs.items()}}


class _ShopCsvSink:
    """Writes chunks in the sample's format: comma, CRLF, m/d/yyyy, 2-decimal prices, no final line break."""

    _dates = _day_strings(_SHOP_FIRST, _SHOP_DAYS, "m/d/yyyy")

    def __init__(self, fh):
        self.fh = fh
        fh.write(",".join(_SHOP_COLUMNS))

    def write(self, chunk: pd.DataFrame) -> None:
        days = (chunk["Date"].to_numpy().astype("datetime64[D]") - np.datetime64(_SHOP_FIRST, "D"))
        days = days.astype(int)
        fields = [
            chunk["TransactionNo"].tolist(),
            self._dates[days].tolist(),
            chunk["ProductNo"].tolist(),
            [_csv_field(v) for v in chunk["ProductName"].tolist()],
            [f"{p:.2f}" for p in chunk["Price"].tolist()],
            chunk["Quantity"].astype(str).tolist(),
            ["" if v is None else str(v) for v in _column_values(chunk, "CustomerNo")],
            [_csv_field(v) for v in chunk["Country"].tolist()],
        ]
        self.fh.write("".join("\r\n" + ",".join(r) for r in zip(*fields)))


class _ShopParquetSink:
    """Writes chunks as row groups of one Parquet file, with real types (date, double, nullable int)."""

    def __init__(self, file_path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        types = [pa.string(), pa.date32(), pa.string(), pa.string(), pa.float64(), pa.int64(), pa.int64(),
                 pa.string()]
        self.schema = pa.schema(list(zip(_SHOP_COLUMNS, types)))
        self.writer = pq.ParquetWriter(file_path, self.schema)

    def write(self, chunk: pd.DataFrame) -> None:
        columns = {c: chunk[c].to_numpy() for c in _SHOP_COLUMNS}
        columns["Date"] = columns["Date"].astype("datetime64[D]")
        columns["CustomerNo"] = chunk["CustomerNo"]
        arrays = [self.pa.array(columns[c], type=f.type) for c, f in zip(_SHOP_COLUMNS, self.schema)]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def generate_transactions(dest: str | os.PathLike, rows: int = 536_350, seed: int = 0, fmt: str = "csv",
                          chunk_rows: int = 100_000, progress: bool = True) -> tuple[Path, dict]:
    """Write a synthetic "Sales Transaction v.4a" file of exactly ``rows`` rows; return (path, summary).

    Why: the real online-shop file (536,350 rows) could not be obtained, only a 1,305-row sample
    (``online_shop_sample``). This makes a full-size (or any-size) stand-in with the same columns and format:
    CSV like the sample (comma, CRLF, m/d/yyyy, no final newline) or Parquet (typed columns). Products,
    prices, quantities and some customers come from the real sample; it adds the documented quirks the sample
    lacks: cancellations (TransactionNo prefixed 'C', negative Quantity), blank CustomerNo, dates from
    2018-12-01 to 2019-12-09 (newest first, like the sample).

    ``dest`` is a file path, or an existing folder (the file is then ``transactions.csv``/``.parquet``).
    The same seed gives byte-identical files. ``chunk_rows`` bounds memory and does not change the data: a CSV
    is byte-identical whatever it is; a Parquet file gets one row group per chunk (same values, other layout).
    The file appears atomically (written to ``*.partial`` and renamed). Returns ``(path, summary)`` with
    summary ``{"format", "rows", "transactions", "cancelled", "blank_customers", "chunks", "seed",
    "first_date", "last_date"}``; ``cancelled`` and ``blank_customers`` count rows.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if int(rows) != rows or rows < 0 or int(chunk_rows) != chunk_rows or chunk_rows < 1:
        raise ValueError("rows must be a whole number >= 0 and chunk_rows a whole number >= 1")
    rows, chunk_rows = int(rows), int(chunk_rows)
    target = Path(dest)
    if target.is_dir():
        target = target / f"transactions.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    cat = _shop_catalogue(rows, seed)
    summary = {"format": fmt, "rows": 0, "transactions": 0, "cancelled": 0,
               "blank_customers": 0, "chunks": 0, "seed": seed, "first_date": None, "last_date": None}
    last_number = None
    with _atomic_file(target) as partial, contextlib.ExitStack() as stack:
        if fmt == "csv":
            sink = _ShopCsvSink(stack.enter_context(open(partial, "w", encoding="utf-8", newline="")))
        else:
            sink = _ShopParquetSink(partial)
            stack.callback(sink.close)
        bar = stack.enter_context(_progress(rows, progress, "transactions"))
        for chunk in _transaction_chunks(rows, seed, chunk_rows, cat):
            sink.write(chunk)
            last_number = chunk["TransactionNo"].iloc[-1]
            summary["rows"] += len(chunk)
            summary["cancelled"] += int((chunk["Quantity"] < 0).sum())
            summary["blank_customers"] += int(chunk["CustomerNo"].isna().sum())
            summary["chunks"] += 1
            summary["first_date"] = str(chunk["Date"].iloc[-1].date())
            summary["last_date"] = summary["last_date"] or str(chunk["Date"].iloc[0].date())
            bar.update(len(chunk))
            del chunk                       # let it go before the next one is made
    if last_number is not None:             # numbers count down from first_number, one per transaction
        summary["transactions"] = cat["first_number"] - int(last_number.lstrip("C")) + 1
    return target, summary


# ----------------------------------------------------------------------------------------------------------
# Messy multi-source data for the integration and quality lessons
# ----------------------------------------------------------------------------------------------------------

_MESSY_FIRST, _MESSY_LAST = date(2012, 1, 1), date(2014, 12, 31)
_DELTA_FIRST = date(2015, 1, 1)
_MESSY_CHUNK = 100_000
_EPOCH_DAY0 = int((np.datetime64(_MESSY_FIRST, "D") - np.datetime64("1970-01-01", "D")).astype(int))
_DATE_FORMATS = {
    "yyyy-mm-dd": {"python": "%Y-%m-%d", "spark": "yyyy-MM-dd"},
    "dd/mm/yyyy": {"python": "%d/%m/%Y", "spark": "dd/MM/yyyy"},
    "m/d/yyyy": {"python": "%m/%d/%Y", "spark": "M/d/yyyy"},
    "epoch_seconds": {"python": "datetime.fromtimestamp(v, timezone.utc)", "spark": "timestamp_seconds(col)"},
}
_PAYMENTS = (["credit_card", "boleto", "voucher", "debit_card"], [0.74, 0.19, 0.055, 0.015])


def _count_for(rate: float, n: int) -> int:
    """How many of ``n`` rows get a problem at ``rate``: at least one when the rate is positive, so tiny
    files still carry every kind of problem."""
    return 0 if rate <= 0 or n == 0 else min(n, max(1, round(rate * n)))


class _World:
    """The entities every source describes: real customers and products, prices and reviews around them."""

    def __init__(self, seed: int, scale: float):
        rng = np.random.default_rng([seed, 100])
        real_share = min(1.0, scale)
        people = load("customer_personality")
        keep = np.sort(rng.choice(len(people), size=max(10, round(len(people) * real_share)), replace=False))
        self.customers = people.iloc[keep].reset_index(drop=True)
        signup = pd.to_datetime(self.customers["Dt_Customer"], format="%d-%m-%Y").to_numpy()
        signup = signup.astype("datetime64[D]")
        self.signup_day = (signup - np.datetime64(_MESSY_FIRST, "D")).astype(np.int64)
        spend = self.customers.filter(like="Mnt").sum(axis=1).to_numpy(dtype=float) + 10
        self.customer_p = spend / spend.sum()
        channels = self.customers[["NumWebPurchases", "NumCatalogPurchases", "NumStorePurchases"]]
        channels = channels.to_numpy(dtype=float)
        channels[channels.sum(axis=1) == 0] = 1
        self.channel_cum = np.cumsum(channels / channels.sum(axis=1, keepdims=True), axis=1)

        products = load("olist_products")
        names = load("olist_category_translation")
        keep = np.sort(rng.choice(len(products), size=max(10, round(len(products) * real_share)),
                                  replace=False))
        self.products = (products.iloc[keep].merge(names, how="left", on="product_category_name")
                         .reset_index(drop=True))
        self.list_price = np.round(np.exp(rng.normal(np.log(45), 0.9, size=len(self.products))) + 2, 2)
        popularity = 1 / np.arange(1, len(self.products) + 1) ** 0.9
        self.product_p = popularity[rng.permutation(len(self.products))]
        self.product_p /= self.product_p.sum()
        seconds = (_MESSY_LAST - _MESSY_FIRST).days * 86_400
        self.product_updated = rng.integers(0, seconds, size=len(self.products))

        self.reviews = load("clothing_reviews")
        self.days = (_DELTA_FIRST - _MESSY_FIRST).days

    def customer_ref(self, idx: np.ndarray) -> np.ndarray:
        """The id other systems use for a customer: 'CUST-005524' instead of the CRM's 5524."""
        return np.array([f"CUST-{i:06d}" for i in self.customers["ID"].to_numpy()[idx]], dtype=object)

    def day_after_signup(self, rng, idx: np.ndarray) -> np.ndarray:
        first = self.signup_day[idx]
        return first + (rng.random(len(idx)) * (self.days - first)).astype(np.int64)


def _customers_chunks(world: _World, seed: int, scale: float):
    c = world.customers
    iso = _day_strings(_MESSY_FIRST, world.days, "yyyy-mm-dd")
    yield pd.DataFrame({
        "customer_id": c["ID"], "birth_year": c["Year_Birth"], "education": c["Education"],
        "marital_status": c["Marital_Status"], "income": c["Income"].astype("Int64"),
        "kids_at_home": c["Kidhome"], "teens_at_home": c["Teenhome"], "signup_date": iso[world.signup_day],
        "recency_days": c["Recency"], "complained": c["Complain"],
    })


def _products_chunks(world: _World, seed: int, scale: float):
    p = world.products

    def as_int(column):               # olist stores counts as floats because of its blanks
        return p[column].astype("Int64")

    yield pd.DataFrame({
        "productId": p["product_id"], "categoryName": p["product_category_name"],
        "categoryNameEnglish": p["product_category_name_english"],
        "nameLength": as_int("product_name_lenght"),
        "descriptionLength": as_int("product_description_lenght"),
        "photosQty": as_int("product_photos_qty"), "weightG": as_int("product_weight_g"),
        "lengthCm": as_int("product_length_cm"), "heightCm": as_int("product_height_cm"),
        "widthCm": as_int("product_width_cm"), "listPrice": world.list_price,
        "updatedAt": _EPOCH_DAY0 * 86_400 + world.product_updated,
    })


def _orders(world: _World, rng, n: int, first_id: int, prefix: str) -> dict:
    """n orders: who (weighted by real spend), what (popular products more often), when (after signup)."""
    cust = rng.choice(len(world.customers), size=n, p=world.customer_p)
    prod = rng.choice(len(world.products), size=n, p=world.product_p)
    discount = rng.choice([0.0, 0.1, 0.2], size=n, p=[0.85, 0.1, 0.05])
    return {
        "id": np.array([f"{prefix}{i:09d}" for i in range(first_id, first_id + n)], dtype=object),
        "customer": cust,
        "product": world.products["product_id"].to_numpy()[prod],
        "quantity": rng.geometric(0.55, size=n),
        "price": np.round(world.list_price[prod] * (1 - discount), 2),
        "payment": np.array(_PAYMENTS[0], dtype=object)[rng.choice(4, size=n, p=_PAYMENTS[1])],
        "day": world.day_after_signup(rng, cust),
        "channel": np.array(["web", "catalog", "store"], dtype=object)[
            (rng.random(n)[:, None] > world.channel_cum[cust]).sum(axis=1).clip(0, 2)],
    }


def _transactions_chunks(world: _World, seed: int, scale: float):
    total = max(100, round(250_000 * scale))
    mdy = _day_strings(_MESSY_FIRST, world.days, "m/d/yyyy")
    for c, lo in enumerate(range(0, total, _MESSY_CHUNK)):
        n = min(_MESSY_CHUNK, total - lo)
        o = _orders(world, np.random.default_rng([seed, 30, c]), n, lo + 1, "TX")
        yield pd.DataFrame({
            "TransactionId": o["id"], "OrderDate": mdy[o["day"]],
            "CustomerId": world.customers["ID"].to_numpy()[o["customer"]], "ProductId": o["product"],
            "Quantity": o["quantity"], "UnitPrice": o["price"], "PaymentMethod": o["payment"],
            "Channel": o["channel"],
        }, index=pd.RangeIndex(lo, lo + n))


def _reviews_chunks(world: _World, seed: int, scale: float):
    source = world.reviews
    total = max(20, round(len(source) * scale))
    dmy = _day_strings(_MESSY_FIRST, world.days, "dd/mm/yyyy")
    picks = np.random.default_rng([seed, 40]).choice(len(source), size=total, replace=total > len(source))
    if total <= len(source):
        picks.sort()
    for c, lo in enumerate(range(0, total, _MESSY_CHUNK)):
        n = min(_MESSY_CHUNK, total - lo)
        rng = np.random.default_rng([seed, 41, c])
        r = source.iloc[picks[lo:lo + n]]
        cust = rng.integers(0, len(world.customers), size=n)
        prod = rng.choice(len(world.products), size=n, p=world.product_p)
        yield pd.DataFrame({
            "reviewId": [f"R{i:08d}" for i in range(lo + 1, lo + n + 1)],
            "customerRef": world.customer_ref(cust),
            "productId": world.products["product_id"].to_numpy()[prod],
            "reviewDate": dmy[world.day_after_signup(rng, cust)], "rating": r["Rating"].to_numpy(),
            "title": r["Title"].to_numpy(), "reviewText": r["Review Text"].to_numpy(),
            "recommended": r["Recommended IND"].to_numpy(),
            "helpfulVotes": r["Positive Feedback Count"].to_numpy(),
        }, index=pd.RangeIndex(lo, lo + n))


def _delta_chunks(world: _World, seed: int, scale: float):
    n = max(10, round(50 * scale))
    o = _orders(world, np.random.default_rng([seed, 50]), n, round(250_000 * scale) + 1_000_001, "WEB")
    days = np.random.default_rng([seed, 51]).integers(0, 2, size=n)
    yield pd.DataFrame({
        "transaction_id": o["id"], "customer_ref": world.customer_ref(o["customer"]),
        "product_id": o["product"],
        "order_date": [(_DELTA_FIRST + timedelta(days=int(d))).isoformat() for d in days],
        "quantity": o["quantity"], "unit_price": o["price"], "payment_method": o["payment"],
    })


# One entry per delivered file: which source system, how it is written, and which problems it carries.
# nulls: share of rows blanked per column; duplicates and corrupt: share of rows (at least one of each).
_SOURCES = [
    {"path": "crm/customers.csv", "system": "CRM export", "entity": "customers", "make": _customers_chunks,
     "format": "csv", "line_ending": "\r\n", "naming": "snake_case", "key": "customer_id",
     "date_format": "yyyy-mm-dd", "date_columns": ["signup_date"],
     "nulls": {"education": 0.015, "marital_status": 0.01, "signup_date": 0.005}, "duplicates": 0.01,
     "corrupt": 0.002},
    {"path": "catalog/products.jsonl", "system": "product catalogue API", "entity": "products",
     "make": _products_chunks, "format": "jsonl", "naming": "camelCase", "key": "productId",
     "date_format": "epoch_seconds", "date_columns": ["updatedAt"],
     "nulls": {"weightG": 0.01, "listPrice": 0.005}, "duplicates": 0.005, "corrupt": 0.0003},
    {"path": "sales/transactions.parquet", "system": "transaction database", "entity": "transactions",
     "make": _transactions_chunks, "format": "parquet", "naming": "PascalCase", "key": "TransactionId",
     "date_format": "m/d/yyyy", "date_columns": ["OrderDate"],
     "nulls": {"CustomerId": 0.002, "UnitPrice": 0.001, "PaymentMethod": 0.01}, "duplicates": 0.002,
     "corrupt": 0},
    {"path": "reviews/reviews.csv", "system": "review platform export", "entity": "reviews",
     "make": _reviews_chunks, "format": "csv", "line_ending": "\n", "naming": "camelCase", "key": "reviewId",
     "date_format": "dd/mm/yyyy", "date_columns": ["reviewDate"],
     "nulls": {"rating": 0.005, "productId": 0.005}, "duplicates": 0.01, "corrupt": 0.0005},
    {"path": "webshop/orders_delta.jsonl", "system": "web shop (late-arriving orders)",
     "entity": "transactions", "make": _delta_chunks, "format": "jsonl", "naming": "snake_case",
     "key": "transaction_id",
     "date_format": "yyyy-mm-dd", "date_columns": ["order_date"],
     "nulls": {"payment_method": 0.05}, "duplicates": 0.02, "corrupt": 0.02},
]


def _inject_nulls(frame: pd.DataFrame, plan: dict, rng) -> tuple[pd.DataFrame, dict]:
    """Blank exactly round(rate * rows) values (at least one) per planned column, only where one exists."""
    frame, injected = frame.copy(), {}
    for column, rate in plan.items():
        present = np.flatnonzero(frame[column].notna().to_numpy())
        k = min(len(present), _count_for(rate, len(frame)))
        chosen = np.sort(rng.choice(present, size=k, replace=False))
        if frame[column].dtype.kind in "iu":
            frame[column] = frame[column].astype("Int64")
        frame.iloc[chosen, frame.columns.get_loc(column)] = None
        injected[column] = int(k)
    return frame, injected


def _with_duplicates(frame: pd.DataFrame, rate: float, rng) -> tuple[pd.DataFrame, int]:
    """Add exact copies of some rows, each placed somewhere after its original (a record sent again later)."""
    n, k = len(frame), _count_for(rate, len(frame))
    copies = np.sort(rng.choice(n, size=k, replace=False))
    keys = np.concatenate([np.arange(n, dtype=float), copies + 0.5 + rng.random(k) * (n - copies - 0.5)])
    order = np.concatenate([np.arange(n), copies])[np.argsort(keys, kind="stable")]
    return frame.iloc[order], k


def _records(frame: pd.DataFrame, fmt: str) -> list[str]:
    """Serialize rows to CSV records or JSON lines (without line ending).

    In JSON a missing value is written as ``null`` on odd row labels and left out entirely on even ones:
    both happen in real feeds. A duplicated row keeps its label, so its copy is byte-identical.
    """
    columns = list(frame.columns)
    values = [_column_values(frame, c) for c in columns]
    if fmt == "csv":
        return [",".join(_csv_field(v) for v in row) for row in zip(*values)]
    lines = []
    for label, row in zip(frame.index.tolist(), zip(*values)):
        pairs = zip(columns, row)
        record = {c: v for c, v in pairs if v is not None or label % 2}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def _corrupt_records(frame: pd.DataFrame, fmt: str, k: int, rng) -> tuple[list[str], list[str]]:
    """k broken records built from real rows: a CSV row missing its last field or with a stray trailing
    delimiter; a JSON line cut off half-way (as when a writer dies mid-line)."""
    if k == 0:
        return [], []
    rows = frame.iloc[np.sort(rng.choice(len(frame), size=k, replace=False))]
    if fmt == "jsonl":
        return [line[: max(2, len(line) // 2)] for line in _records(rows, fmt)], ["truncated_json"] * k
    out, kinds = [], []
    for i, row in enumerate(zip(*[_column_values(rows, c) for c in rows.columns])):
        fields = [_csv_field(v) for v in row]
        if i % 2 == 0:
            out.append(",".join(fields[:-1]))
            kinds.append("missing_field")
        else:
            out.append(",".join(fields) + ",")
            kinds.append("extra_field")
    return out, kinds


def _write_source(dest_dir: Path, spec: dict, world: _World, seed: int, scale: float, rng, bar) -> dict:
    """Write one source file chunk by chunk and return its manifest entry (counts measured as written)."""
    target = dest_dir / spec["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = spec["format"]
    entry = {"path": spec["path"], "source_system": spec["system"], "entity": spec["entity"], "format": fmt,
             "naming": spec["naming"], "key": spec["key"],
             "date_format": {"name": spec["date_format"], "columns": spec["date_columns"],
                             **_DATE_FORMATS[spec["date_format"]]}}
    columns, rows, nulls, injected, source_nulls = None, 0, {}, {}, {}
    duplicates, corrupt_kinds, corrupt_numbers, multiline = 0, [], [], False
    with _atomic_file(target) as partial, contextlib.ExitStack() as stack:
        writer = None
        if fmt != "parquet":
            fh = stack.enter_context(open(partial, "w", encoding="utf-8", newline=""))
        for chunk in spec["make"](world, seed, scale):
            if columns is None:
                columns = list(chunk.columns)
                nulls = dict.fromkeys(columns, 0)
                injected = dict.fromkeys(columns, 0)
                source_nulls = dict.fromkeys(columns, 0)
                if fmt == "csv":
                    fh.write(",".join(columns) + spec["line_ending"])
            for c, v in chunk.isna().sum().items():
                source_nulls[c] += int(v)
            chunk, blanked = _inject_nulls(chunk, spec["nulls"], rng)
            for c, v in blanked.items():
                injected[c] += v
            chunk, k = _with_duplicates(chunk, spec["duplicates"], rng)
            duplicates += k
            for c, v in chunk.isna().sum().items():
                nulls[c] += int(v)
            if fmt == "parquet":
                table = _arrow_table(chunk)
                if writer is None:
                    import pyarrow.parquet as pq

                    writer = pq.ParquetWriter(partial, table.schema)
                    stack.callback(writer.close)
                writer.write_table(table)
                rows += len(chunk)
            else:
                records = _records(chunk, fmt)
                bad, kinds = _corrupt_records(chunk, fmt, _count_for(spec["corrupt"], len(chunk)), rng)
                slots = np.sort(rng.integers(0, len(records) + 1, size=len(bad)))
                for offset, (slot, text) in enumerate(zip(slots.tolist(), bad)):
                    records.insert(slot + offset, text)
                    corrupt_numbers.append(rows + slot + offset + 1)
                corrupt_kinds += kinds
                multiline = multiline or any("\n" in r or "\r" in r for r in records)
                end = spec.get("line_ending", "\n")
                fh.write("".join(r + end for r in records))
                rows += len(records)
            bar.update(len(chunk))
    corrupt = len(corrupt_kinds)
    entry.update({
        "columns": columns, "line_ending": {"\r\n": "CRLF", "\n": "LF"}.get(spec.get("line_ending")),
        "multiline_values": multiline,
        "rows": rows, "valid_rows": rows - corrupt, "distinct_rows": rows - corrupt - duplicates,
        "nulls": nulls, "nulls_injected": injected, "nulls_in_source_data": source_nulls,
        "duplicates": duplicates, "corrupt_rows": corrupt,
        "corrupt": {kind: corrupt_kinds.count(kind) for kind in sorted(set(corrupt_kinds))},
        "corrupt_record_numbers": corrupt_numbers,
        "bytes": target.stat().st_size, "sha256": file_sha256(target),
    })
    return entry


def _arrow_table(frame: pd.DataFrame):
    import pyarrow as pa

    types = {"O": pa.string(), "i": pa.int64(), "u": pa.int64(), "f": pa.float64()}
    arrays, fields = [], []
    for column in frame.columns:
        values = _column_values(frame, column)
        kind = frame[column].dtype.kind
        if frame[column].dtype == "Int64":
            kind = "i"
        elif kind == "O":
            kind = "f" if any(isinstance(v, float) for v in values) else "O"
        arrays.append(pa.array(values, type=types[kind]))
        fields.append(pa.field(column, types[kind]))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def generate_messy_sources(dest_dir: str | os.PathLike, seed: int = 0, scale: float = 1.0,
                           progress: bool = True) -> dict:
    """Write the same customers, products, transactions and reviews as five deliveries from different systems.

    Why: the integration lesson is about what real multi-source ingestion looks like: different formats
    (CSV, JSON lines, Parquet), naming conventions (snake_case, camelCase, PascalCase), date formats
    (yyyy-mm-dd, dd/mm/yyyy, m/d/yyyy, epoch seconds), customer ids that differ between systems (5524 in the
    CRM, 'CUST-005524' elsewhere), missing values, exact duplicate rows, corrupt rows (wrong field count in
    CSV, a line cut off in JSON) and sizes that differ by orders of magnitude. The entities are real where the
    data exists: customers from ``customer_personality``, products from ``olist_products`` (with English
    category names from the translation), review texts and ratings from ``clothing_reviews``; orders, prices,
    dates and the links between them are synthetic.

    At scale 1: ``crm/customers.csv`` (2,240 customers), ``catalog/products.jsonl`` (32,951 products),
    ``sales/transactions.parquet`` (250,000 orders), ``reviews/reviews.csv`` (23,486 reviews, with line breaks
    inside quoted values), ``webshop/orders_delta.jsonl`` (50 orders). ``scale`` multiplies the synthetic
    sizes; the real entities can only shrink (scale < 1 takes a seeded sample of them). Every file is written
    in chunks of at most 100,000 rows, so a large scale needs no more memory than a small one.

    Returns the manifest, also written to ``<dest_dir>/_manifest.json`` (the underscore makes Spark and
    crawlers skip it). Per file: format, naming, date format, rows (all records written), valid_rows,
    distinct_rows, and the exact problems in the file: ``nulls`` per column (what a reader finds among the
    well-formed records, duplicates included), ``nulls_injected`` and ``nulls_in_source_data`` (how they
    arose), ``duplicates`` (extra exact copies), ``corrupt_rows`` and ``corrupt_record_numbers`` (1-based,
    counting data records after the header). Same seed, same bytes.
    """
    if scale <= 0:
        raise ValueError("scale must be > 0")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    world = _World(seed, scale)
    expected = (len(world.customers) + len(world.products) + max(100, round(250_000 * scale))
                + max(20, round(len(world.reviews) * scale)) + max(10, round(50 * scale)))
    files = {}
    with _progress(expected, progress, "messy sources") as bar:
        for number, spec in enumerate(_SOURCES):
            rng = np.random.default_rng([seed, 200, number])
            files[spec["path"]] = _write_source(dest, spec, world, seed, scale, rng, bar)
    manifest = {
        "generator": "gluelab.synth.generate_messy_sources", "seed": seed, "scale": scale,
        "notes": [
            ("customers: customer_id in the CRM and CustomerId in transactions are the real ID; reviews and "
             "the web shop delta use customerRef/customer_ref = 'CUST-' + the ID zero-padded to 6 digits"),
            ("products: productId / ProductId / product_id are Olist product ids; listPrice, UnitPrice and "
             "all dates are synthetic"),
            ("nulls count values a reader finds empty among well-formed records (CSV: empty field; JSON: "
             "null or missing key; Parquet: null); duplicates are extra exact copies of well-formed records"),
            "m/d/yyyy and dd/mm/yyyy are ambiguous for days 1-12: parse each file with its own format",
        ],
        "files": files,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (dest / "_manifest.json").write_text(text, encoding="utf-8")
    return manifest


# ----------------------------------------------------------------------------------------------------------
# Customer batches for the Glue job lessons
# ----------------------------------------------------------------------------------------------------------

#: The reference table's rows: country name (as customer records spell it), ISO 3166 alpha-2 code, region.
COUNTRIES = (
    ("Australia", "AU", "APAC"), ("Brazil", "BR", "LATAM"), ("Canada", "CA", "NA"), ("France", "FR", "EMEA"),
    ("Germany", "DE", "EMEA"), ("India", "IN", "APAC"), ("Ireland", "IE", "EMEA"), ("Italy", "IT", "EMEA"),
    ("Japan", "JP", "APAC"), ("Mexico", "MX", "LATAM"), ("Netherlands", "NL", "EMEA"), ("Spain", "ES", "EMEA"),
    ("United Kingdom", "GB", "EMEA"), ("United States", "US", "NA"),
)
_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca",
          "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara")
_LAST = ("Ahmed", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
         "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Weber")
_TAGS = ("newsletter", "loyalty", "b2b", "mobile_app", "returns_often", "vip")
_CHANNELS = ("web", "store", "app")


def _customer_record(rng, number: int, batch: int, amount_as_text: bool) -> dict:
    """One customer as an application export writes it, some with deliberate problems (see _problems_of)."""
    first, last = _FIRST[int(rng.integers(len(_FIRST)))], _LAST[int(rng.integers(len(_LAST)))]
    country = COUNTRIES[int(rng.integers(len(COUNTRIES)))][0]
    email = f"{first}.{last}{number}@example.com".lower()
    roll = rng.random()
    if roll < 0.05:
        email = None
    elif roll < 0.09:
        email = email.replace("@", " at ")
    orders = [{"order_id": f"O{number:05d}-{k + 1}", "amount": round(float(rng.gamma(2.0, 60.0)), 2),
               "channel": _CHANNELS[int(rng.integers(len(_CHANNELS)))]}
              for k in range(int(rng.integers(0, 4)))]
    amount = round(sum(o["amount"] for o in orders), 2)
    if rng.random() < 0.04:
        amount = None
    elif amount_as_text:
        amount = f"{amount:.2f}"
    signup = date(2023, 1, 1) + timedelta(days=int(rng.integers(0, 700)))
    record = {
        "customer_id": f"C{number:05d}", "name": f"{first} {last}", "email": email, "country": country,
        "purchase_amount": amount, "signup_date": signup.isoformat(), "batch": batch,
        "address": {"city": f"{country} City {int(rng.integers(1, 9))}", "postcode": f"{int(rng.integers(10000, 99999))}"},
        "orders": orders,
        "tags": sorted({_TAGS[int(i)] for i in rng.integers(0, len(_TAGS), size=int(rng.integers(0, 3)))}),
    }
    return record


def generate_customer_batches(dest_dir: str | os.PathLike, batches: int = 3, rows_per_batch: int = 200,
                              seed: int = 0, text_amount_batches: tuple[int, ...] = (2,)) -> dict:
    """Write customer exports as JSON lines, one file per batch, and the country reference table (CSV).

    Why: a Glue job's input rarely arrives at once or clean. Each batch is a file
    ``customers/batch_NNN.jsonl`` (a new delivery the job bookmark has not seen), with nested records (an
    ``address`` struct, an ``orders`` array of structs, a ``tags`` array of strings) and deliberate problems:
    missing and invalid emails, missing purchase amounts, exact duplicate records, and in the batches listed in
    ``text_amount_batches`` (1-based) ``purchase_amount`` written as text (``"123.40"``), so sources disagree on
    its type and a DynamicFrame carries a choice for it. ``reference/country_codes.csv`` has ``country_name``,
    ``iso_code`` and ``region`` for every country the customers name.

    Returns a manifest (also written to ``<dest_dir>/_manifest.json``): per batch file, rows written, distinct
    records, duplicates and the count of each problem; same seed, same bytes.
    """
    if batches < 1 or rows_per_batch < 1:
        raise ValueError("batches and rows_per_batch must be >= 1")
    dest = Path(dest_dir)
    (dest / "customers").mkdir(parents=True, exist_ok=True)
    (dest / "reference").mkdir(parents=True, exist_ok=True)
    files = {}
    number = 0
    for batch in range(1, batches + 1):
        rng = np.random.default_rng([seed, 500, batch])
        records, problems = [], Counter()
        for _ in range(rows_per_batch):
            number += 1
            records.append(_customer_record(rng, number, batch, batch in text_amount_batches))
        copies = [records[int(i)] for i in rng.choice(len(records), size=max(1, rows_per_batch // 50),
                                                       replace=False)]
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        for copy in copies:
            lines.insert(int(rng.integers(0, len(lines) + 1)), json.dumps(copy, ensure_ascii=False))
        for record in records + copies:
            problems.update(_problems_of(record))
        rel = f"customers/batch_{batch:03d}.jsonl"
        with _atomic_file(dest / rel) as partial:
            partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        files[rel] = {"rows": len(lines), "distinct_rows": len(records), "duplicates": len(copies),
                      "problems": dict(sorted(problems.items())), "sha256": file_sha256(dest / rel)}
    rel = "reference/country_codes.csv"
    with _atomic_file(dest / rel) as partial:
        partial.write_text("country_name,iso_code,region\n"
                           + "".join(f"{n},{c},{r}\n" for n, c, r in COUNTRIES), encoding="utf-8")
    files[rel] = {"rows": len(COUNTRIES), "sha256": file_sha256(dest / rel)}
    manifest = {"generator": "gluelab.synth.generate_customer_batches", "seed": seed, "batches": batches,
                "rows_per_batch": rows_per_batch, "text_amount_batches": list(text_amount_batches),
                "files": files}
    (dest / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _problems_of(record: dict) -> list[str]:
    """The deliberate problems a record carries (used to count the duplicated copies too)."""
    found = []
    if record["email"] is None:
        found.append("missing_email")
    elif "@" not in record["email"]:
        found.append("invalid_email")
    if record["purchase_amount"] is None:
        found.append("missing_purchase_amount")
    elif isinstance(record["purchase_amount"], str):
        found.append("purchase_amount_as_text")
    return found
