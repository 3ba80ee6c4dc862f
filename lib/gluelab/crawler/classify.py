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
* gzip-compressed CSV or JSON is decompressed on the fly (``compressionType`` ``gzip``). AWS: "If the file
  that is crawled is compressed, the crawler must download it to process it": the whole object is read and
  decompressed (only its first megabyte is kept), so a truncated or corrupt gzip stream is found.
* Anything else (another format, an empty object, text that is not UTF-8) is UNKNOWN: reported, not guessed.

Bad input, as gluelab reports it (the wording is gluelab's; AWS documents no per-object messages):

* an object that cannot be read (a read error, a truncated or corrupt gzip stream, a corrupt Parquet footer)
  is *unreadable* (``FileSchema.unreadable``, with the reason): the crawl keeps what the catalog says about it;
* JSON Lines with some lines that are not JSON objects stay JSON; the bad lines are listed in
  ``FileSchema.problems`` (``line N: reason``) and are not counted as records;
* CSV whose rows have different numbers of fields is UNKNOWN, as the built-in classifier needs consistent
  rows; the message names the first row that differs (its line) when most rows agree with the first.
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
#: Compressed objects are read and decompressed in pieces of this size.
READ_CHUNK = 8 * 1024 * 1024
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
    #: True when the object could not be read (read error, corrupt content); ``message`` says why.
    unreadable: bool = False
    #: Records of a classified object that were left out, as ``"line N: reason"`` (line numbers from 1).
    problems: list = field(default_factory=list)

    @property
    def signature(self) -> tuple:
        """What must match for files to share a table: format, compression and CSV delimiter and header."""
        return (self.classification, self.compression, self.delimiter, self.header)

    @property
    def average_record_size(self) -> int:
        return round(self.record_bytes / self.records) if self.records else 0


def unknown(message: str) -> FileSchema:
    return FileSchema(None, message=message)


def unreadable(message: str) -> FileSchema:
    return FileSchema(None, message=message, unreadable=True)


class _Corrupt(ValueError):
    """The object was read but its content is broken (truncated or corrupt compressed stream)."""


def classify(storage, obj, csv_classifier: dict | None = None, sample_bytes: int = SAMPLE_BYTES) -> FileSchema:
    """Classify one object (an :class:`~gluelab.crawler.listing.S3Object`). Never raises: an object that
    cannot be read comes back ``unreadable`` with the reason, one no classifier recognises as UNKNOWN."""
    where = f"s3://{obj.bucket}/{obj.key}"
    try:
        return _classify(storage, obj, csv_classifier, sample_bytes)
    except _Corrupt as exc:
        return unreadable(f"could not read {where}: {exc}")
    except Exception as exc:  # a read error must not end the crawl, nor pass for missing data
        return unreadable(f"could not read {where}: {type(exc).__name__}: {exc}")


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
        text_bytes, total, lines = _gunzip(storage, obj, head, sample_bytes)
        truncated = total > len(text_bytes)
        estimated_size = total
    else:
        text_bytes, estimated_size, lines = head, obj.size, None
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(text_bytes) - 4 or not truncated:  # not just a character cut by the sample's end
            line = text_bytes.count(b"\n", 0, exc.start) + 1
            return unknown(f"{where} is not UTF-8 text (byte 0x{text_bytes[exc.start]:02x} on line {line}, "
                           f"offset {exc.start}) nor a known binary format: classification UNKNOWN")
        text = text_bytes[:exc.start].decode("utf-8")
    if truncated and "\n" not in text.rstrip("\n"):
        return unknown(f"{where}: its first line is longer than the {sample_bytes} bytes a classifier reads, "
                       f"so no whole record was seen: classification UNKNOWN")
    if truncated:
        text = text[:text.rfind("\n") + 1]  # drop the record cut off by the sample's end
    result = _json(text) or _csv(text, csv_classifier)
    if result is None:
        return unknown(f"{where}: no built-in classifier recognised the format: classification UNKNOWN")
    if isinstance(result, str):
        return unknown(f"{where}: {result}")
    result.compression = compression
    if truncated and lines is not None and result.classification in ("csv", "json") and result.records > 1:
        result.records = max(0, lines - int(result.header) - len(result.problems))  # read whole: counted
        result.record_bytes = estimated_size
    elif truncated and result.records:
        per_record = result.record_bytes / result.records
        result.records = round(estimated_size / per_record)
        result.record_bytes = round(estimated_size)
    return result


def _gunzip(storage, obj, head: bytes, sample_bytes: int) -> tuple[bytes, int, int]:
    """Read and decompress the whole gzip object (every member of a multi-member file): ``(the first
    sample_bytes of the text, the text's total size, its lines)``. Raises _Corrupt for a truncated or corrupt
    stream."""
    kept, total, lines, offset, data = bytearray(), 0, 0, len(head), head
    last = b"\n"
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    while True:
        while data:
            try:
                piece = decompressor.decompress(data, READ_CHUNK)
            except zlib.error as exc:
                where = offset - len(data)
                raise _Corrupt(f"not a valid gzip stream (zlib: {exc}) at compressed byte {where}") from None
            total += len(piece)
            lines += piece.count(b"\n")
            last = piece[-1:] or last
            if len(kept) < sample_bytes:
                kept += piece[:sample_bytes - len(kept)]
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                rest = decompressor.unused_data + data
                if rest.strip(b"\x00") and rest[:2] != _GZIP_MAGIC:
                    raise _Corrupt(f"{len(rest)} bytes after the end of the gzip stream are not gzip")
                data = rest.strip(b"\x00") and rest
                if data:
                    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if offset >= obj.size:
            break
        data = storage.read(obj.bucket, obj.key, offset, min(READ_CHUNK, obj.size - offset))
        if not data:
            raise _Corrupt(f"the object ended at byte {offset} of the {obj.size} listed")
        offset += len(data)
    if not decompressor.eof:
        raise _Corrupt(f"truncated gzip: the compressed stream ends before its end ({obj.size} bytes, "
                       f"{total} decompressed)")
    return bytes(kept), total, lines + (last != b"\n")


def _parquet(storage, obj, where) -> FileSchema:
    import pyarrow.parquet as pq

    try:
        with storage.open(obj.bucket, obj.key, obj.size) as fh:
            meta = pq.ParquetFile(fh).metadata
            schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # a footer that does not parse: the object is corrupt (or not Parquet)
        raise _Corrupt(f"no readable Parquet footer ({type(exc).__name__}: {exc})") from None
    columns = tuple((f.name.lower(), infer.arrow_type(f.type)) for f in schema)
    return FileSchema("parquet", columns, records=meta.num_rows, record_bytes=obj.size)


def _json(text: str) -> FileSchema | None:
    """JSON Lines (one object a line), one document, or a top-level array of objects. JSON Lines whose first
    line is an object stay JSON when other lines are not: those lines go to ``problems``."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return None
    lines = [(n, ln) for n, ln in enumerate(text.split("\n"), 1) if ln.strip()]
    docs, sizes, problems = [], [], []
    for n, line in lines:
        try:
            doc = json.loads(line)
        except ValueError as exc:
            problems.append(f"line {n}: not valid JSON ({getattr(exc, 'msg', exc)}, column "
                            f"{getattr(exc, 'colno', '?')})")
            continue
        if len(lines) > 1 and not isinstance(doc, dict):
            problems.append(f"line {n}: not a JSON object (a JSON {type(doc).__name__})")
            continue
        docs.append(doc)
        sizes.append(len(line.encode()) + 1)
    if problems:
        try:  # one document spread over several lines
            docs, sizes, problems = [json.loads(text)], [len(text.encode())], []
        except ValueError:
            if not docs or not lines or problems[0].startswith(f"line {lines[0][0]}:"):
                return None  # JSON Lines start with an object: this is something else
    if len(docs) == 1 and isinstance(docs[0], list):  # a top-level array of records
        docs = docs[0]
        sizes = [sizes[0] / max(1, len(docs))] * len(docs)
    fields, records, size = (), 0, 0
    for doc, n in zip(docs, sizes):
        if not isinstance(doc, dict):
            return None
        t = infer.json_type(doc)
        fields = infer.merge_fields(fields, t[1])
        records += 1
        size += n
    if not records:
        return None
    return FileSchema("json", fields, records=records, record_bytes=round(size), problems=problems)


def _split_rows(text: str, delimiter: str, quote: str) -> tuple[list[list[str]], list[int]]:
    """The non-empty rows of the sample and the line each starts on (counted from 1)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, skipinitialspace=False)
    rows, starts, line = [], [], 1
    for row in reader:
        if row:
            rows.append(row)
            starts.append(line)
        line = reader.line_num + 1
        if len(rows) > SAMPLE_RECORDS:
            break
    return rows, starts


def _csv(text: str, settings: dict | None) -> FileSchema | str | None:
    settings = settings or {}
    quote = settings.get("QuoteSymbol") or '"'
    single = bool(settings.get("AllowSingleColumn"))
    candidates = (settings["Delimiter"],) if settings.get("Delimiter") else DELIMITERS
    best, ragged = None, None
    for delim in candidates:
        try:
            rows, starts = _split_rows(text, delim, quote)
        except csv.Error:
            continue
        if len(rows) < 2:
            continue
        width = len(rows[0])
        fitting = sum(1 for r in rows if len(r) == width)
        if fitting < 2 or (width < 2 and not single):
            continue
        if fitting < len(rows):  # most rows agree with the first: worth saying which one does not
            if fitting * 2 > len(rows) and (ragged is None or width > ragged[1]):
                ragged = (delim, width, rows, starts)
            continue
        if best is None or width > best[1]:
            best = (delim, width, rows)
    if best is None:
        if ragged is None:
            return None
        delim, width, rows, starts = ragged
        odd = [(line, len(r)) for r, line in zip(rows, starts) if len(r) != width]
        more = f" and {len(odd) - 1} more row(s)" if len(odd) > 1 else ""
        return (f"CSV rows with different numbers of fields (line {odd[0][0]} has {odd[0][1]} where the first "
                f"row has {width}{more}): classification UNKNOWN")
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
