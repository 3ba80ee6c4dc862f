"""Profiling sources before integrating them: naming conventions, date formats, missing values, duplicates, size.

Lesson 01 uses these to make the integration challenges of a multi-source lake visible; later lessons use them to
check what a transformation fixed. They work on Spark DataFrames (counts are computed in one pass per frame).
"""
from __future__ import annotations

import re
from datetime import datetime

#: Date formats seen across the sources, as (name, strptime pattern, regex the text must match first).
DATE_FORMATS = (
    ("yyyy-mm-dd", "%Y-%m-%d", r"^\d{4}-\d{2}-\d{2}$"),
    ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    ("dd/mm/yyyy", "%d/%m/%Y", r"^\d{2}/\d{2}/\d{4}$"),
    ("m/d/yyyy", "%m/%d/%Y", r"^\d{1,2}/\d{1,2}/\d{4}$"),
    ("dd-mm-yyyy", "%d-%m-%Y", r"^\d{2}-\d{2}-\d{4}$"),
)


def naming_convention(name: str) -> str:
    """Classify a column name: ``snake_case``, ``camelCase``, ``PascalCase``, ``lowercase``, ``Title Case`` (with
    spaces) or ``mixed``."""
    if re.fullmatch(r"[a-z0-9]+", name):
        return "lowercase"
    if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", name):
        return "snake_case"
    if re.fullmatch(r"[a-z]+[a-z0-9]*([A-Z][a-z0-9]*)+", name):
        return "camelCase"
    if re.fullmatch(r"([A-Z][a-z0-9]*)+", name):
        return "PascalCase"
    if re.fullmatch(r"[A-Z][A-Za-z0-9]*( [A-Za-z0-9-]+)+", name):
        return "Title Case"
    return "mixed"


def date_format(values) -> str | None:
    """The one format in :data:`DATE_FORMATS` that parses every non-empty value, or None.

    Ambiguous samples (``01/02/2024`` fits dd/mm/yyyy and m/d/yyyy) resolve to the first format that parses all
    values; a sample with a day above 12 settles it.
    """
    sample = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not sample:
        return None
    for name, pattern, shape in DATE_FORMATS:
        if all(re.match(shape, v) for v in sample):
            try:
                for v in sample:
                    datetime.strptime(v, pattern)
            except ValueError:
                continue
            return name
    return None


def profile(df, source: str, date_columns: tuple[str, ...] = (), size_bytes: int | None = None) -> dict:
    """One row of a source profile: rows, columns, naming conventions, missing cells, duplicate rows, date
    formats of ``date_columns`` (from a sample of 200 values) and size."""
    from pyspark.sql import functions as F

    missing_exprs = [F.sum(F.when(F.col(f"`{c}`").isNull() | (F.trim(F.col(f"`{c}`").cast("string")) == ""), 1)
                           .otherwise(0)).alias(c) for c in df.columns]
    counts = df.agg(F.count(F.lit(1)).alias("__rows"), *missing_exprs).first().asDict()
    rows = counts.pop("__rows")
    distinct = df.distinct().count()
    conventions = {naming_convention(c) for c in df.columns}
    if len(conventions) > 1:  # one-word lower-case names fit snake_case and camelCase alike
        conventions.discard("lowercase")
    conventions = sorted(conventions)
    dates = {}
    for c in date_columns:
        values = [r[0] for r in df.select(F.col(f"`{c}`").cast("string")).where(F.col(f"`{c}`").isNotNull())
                  .limit(200).collect()]
        dates[c] = date_format(values)
    return {
        "source": source,
        "rows": rows,
        "columns": len(df.columns),
        "naming": ", ".join(conventions),
        "missing_cells": sum(v or 0 for v in counts.values()),
        "missing_by_column": {k: v for k, v in counts.items() if v},
        "duplicate_rows": rows - distinct,
        "date_formats": dates,
        "size_bytes": size_bytes,
    }
