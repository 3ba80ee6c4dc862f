"""Glue's built-in classifiers for files in S3: what format each object is, and its schema.

What AWS documents (Developer Guide, "Defining and managing classifiers", "Built-in CSV classifier"), and
what this module does:

* Parquet: the schema is read from the footer at the end of the file (two ranged reads, never the data).
* JSON: the beginning of the file (the first 1 MB) is read; one record per line (JSON Lines), nested
  objects become ``struct<...>``, lists ``array<...>``.
* CSV: the first 1 MB (at most 1,000 records) is read. Delimiters tried: comma, pipe, tab, semicolon and
  Ctrl-A. It takes at least two columns and two rows. The first row is a header when every value in it is a
  string (and a valid column name under 150 characters) and at least one data column is not a string;
  otherwise columns are named ``col0``, ``col1``, ... A custom ``CsvClassifier`` (Delimiter, QuoteSymbol,
  ContainsHeader, Header, AllowSingleColumn) overrides detection. Cell types: boolean, bigint, double, string.
* gzip-compressed CSV or JSON is decompressed on the fly (``compressionType`` ``gzip``).
* Anything else (another format, an empty object, a corrupt Parquet footer) is UNKNOWN: reported, not guessed.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zlib
from dataclasses import dataclass, field

from . import infer

#: How much of the start of a CSV or JSON object the classifiers read (AWS: the first megabyte).
SAMPLE_BYTES = 1024 * 1024
#: At most this many CSV records are sampled (AWS: the first 1,000 records or 1 MB, whichever comes first).
SAMPLE_RECORDS = 1000
#: The built-in CSV classifier's delimiters, in AWS's order.
DELIMITERS = (",", "|", "\t", ";", "\x01")
_COLUMN_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,149}\Z")
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"


@dataclass
class FileSchema:
    """What one object was classified as. ``classification`` is None for UNKNOWN (see ``message``)."""
    classification: str | None
    columns: tuple = ()
    compression: str = "none"
    records: int = 0
    record_bytes: int = 0
    delimiter: str | None = None
    header: bool = False
    quoted: bool = False
    message: str = ""
    serde: dict = field(default_factory=dict)

    @property
    def signature(self) -> tuple:
        """What must match for files to share a table: format, compression and CSV delimiter and header."""
        return (self.classification, self.compression, self.delimiter, self.header)

    @property
    def average_record_size(self) -> int:
        return round(self.record_bytes / self.records) if self.records else 0


def unknown(message: str) -> FileSchema:
    return FileSchema(None, message=message)


def classify(storage, obj, csv_classifier: dict | None = None, sample_bytes: int = SAMPLE_BYTES) -> FileSchema:
    """Classify one object (an :class:`~gluelab.crawler.listing.S3Object`). Never raises for bad data."""
    try:
        return _classify(storage, obj, csv_classifier, sample_bytes)
    except Exception as exc:  # an unreadable object must not end the crawl
        return unknown(f"could not read s3://{obj.bucket}/{obj.key}: {type(exc).__name__}: {exc}")


def _classify(storage, obj, csv_classifier, sample_bytes) -> FileSchema:
    where = f"s3://{obj.bucket}/{obj.key}"
    if obj.size == 0:
        return unknown(f"{where} is empty: classification UNKNOWN")
    head = storage.read(obj.bucket, obj.key, 0, min(obj.size, sample_bytes))
    if head[:4] == _PARQUET_MAGIC or obj.key.endswith(".parquet"):
        return _parquet(storage, obj, where)
    compression = "none"
    truncated = obj.size > len(head)
    if head[:2] == _GZIP_MAGIC:
        compression = "gzip"
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text_bytes = decompressor.decompress(head, sample_bytes)
        except zlib.error as exc:
            return unknown(f"{where} is not valid gzip ({exc}): classification UNKNOWN")
        truncated = truncated or bool(decompressor.unconsumed_tail) or not decompressor.eof
        ratio = len(text_bytes) / max(1, len(head) - len(decompressor.unconsumed_tail))
    else:
        text_bytes, ratio = head, 1.0
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(text_bytes) - 4:  # not just a character cut by the sample's end
            return unknown(f"{where} is not UTF-8 text or a known binary format: classification UNKNOWN")
        text = text_bytes[:exc.start].decode("utf-8")
    if truncated and "\n" in text:
        text = text[:text.rfind("\n") + 1]  # drop the record cut off by the sample's end
    estimated_size = obj.size * ratio  # uncompressed bytes, for the record count estimate
    result = _json(text) or _csv(text, csv_classifier)
    if result is None:
        return unknown(f"{where}: no built-in classifier recognised the format: classification UNKNOWN")
    if isinstance(result, str):
        return unknown(f"{where}: {result}")
    result.compression = compression
    if truncated and result.records:
        per_record = result.record_bytes / result.records
        result.records = round(estimated_size / per_record)
        result.record_bytes = round(estimated_size)
    return result


def _parquet(storage, obj, where) -> FileSchema:
    import pyarrow.parquet as pq

    try:
        with storage.open(obj.bucket, obj.key, obj.size) as fh:
            meta = pq.ParquetFile(fh).metadata
            schema = meta.schema.to_arrow_schema()
    except Exception as exc:
        return unknown(f"{where} has no readable Parquet footer ({type(exc).__name__}): classification UNKNOWN")
    columns = tuple((f.name.lower(), infer.arrow_type(f.type)) for f in schema)
    return FileSchema("parquet", columns, records=meta.num_rows, record_bytes=obj.size)


def _json(text: str) -> FileSchema | None:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return None
    fields, records, size = (), 0, 0
    lines = [ln for ln in text.splitlines() if ln.strip()]
    try:
        docs = [json.loads(ln) for ln in lines]
        sizes = [len(ln.encode()) + 1 for ln in lines]
    except ValueError:
        try:  # one document spread over several lines
            docs, sizes = [json.loads(text)], [len(text.encode())]
        except ValueError:
            return None
    if len(docs) == 1 and isinstance(docs[0], list):  # a top-level array of records
        docs = docs[0]
        sizes = [sizes[0] / max(1, len(docs))] * len(docs)
    for doc, n in zip(docs, sizes):
        if not isinstance(doc, dict):
            return None
        t = infer.json_type(doc)
        fields = infer.merge_fields(fields, t[1])
        records += 1
        size += n
    if not records:
        return None
    return FileSchema("json", fields, records=records, record_bytes=round(size))


def _split_rows(text: str, delimiter: str, quote: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, skipinitialspace=False)
    rows = []
    for row in reader:
        if row:
            rows.append(row)
        if len(rows) > SAMPLE_RECORDS:
            break
    return rows


def _csv(text: str, settings: dict | None) -> FileSchema | str | None:
    settings = settings or {}
    quote = settings.get("QuoteSymbol") or '"'
    single = bool(settings.get("AllowSingleColumn"))
    candidates = (settings["Delimiter"],) if settings.get("Delimiter") else DELIMITERS
    best = None
    for delim in candidates:
        try:
            rows = _split_rows(text, delim, quote)
        except csv.Error:
            continue
        widths = {len(r) for r in rows}
        if len(rows) < 2 or len(widths) != 1:
            continue
        width = widths.pop()
        if width < 2 and not single:
            continue
        if best is None or width > best[1]:
            best = (delim, width, rows)
    if best is None:
        return None
    delim, width, rows = best
    rows = rows[:SAMPLE_RECORDS + 1]
    quoted = _has_quotes(text, delim, quote)
    header = _decide_header(rows, settings.get("ContainsHeader") or "UNKNOWN")
    data = rows[1:] if header else rows
    types = [None] * width
    for row in data:
        for i, cell in enumerate(row):
            types[i] = infer.merge(types[i], infer.csv_type(cell))
    if settings.get("Header"):
        names = [h.strip().lower() for h in settings["Header"]][:width]
        names += [f"col{i}" for i in range(len(names), width)]
    elif header:
        names = _unique([c.strip().lower() for c in rows[0]])
    else:
        names = [f"col{i}" for i in range(width)]
    columns = tuple((n, t or "string") for n, t in zip(names, types))
    size = sum(len(delim.join(r).encode()) + 1 for r in data)
    return FileSchema("csv", columns, records=len(data), record_bytes=size, delimiter=delim,
                      header=header, quoted=quoted)


def _decide_header(rows: list[list[str]], contains_header: str) -> bool:
    if contains_header == "PRESENT":
        return True
    if contains_header == "ABSENT":
        return False
    first = rows[0]
    if not all(infer.csv_type(c) == "string" and _COLUMN_NAME.match(c.strip()) for c in first[:-1]):
        return False
    if first[-1].strip() and infer.csv_type(first[-1]) != "string":
        return False
    for i in range(len(first)):
        column = None
        for row in rows[1:]:
            column = infer.merge(column, infer.csv_type(row[i]))
        if column not in (None, "string"):
            return True
    return False


def _has_quotes(text: str, delimiter: str, quote: str) -> bool:
    pattern = re.compile(rf"(^|{re.escape(delimiter)}){re.escape(quote)}", re.M)
    return bool(pattern.search(text[:SAMPLE_BYTES]))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"col{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out
