"""A corpus of bad input, generated on demand (nothing binary is committed): what learners' data looks like
when it goes wrong. Every case is deterministic: the same bytes each time.

Each :class:`Case` is one object: its key (relative to a folder), its bytes, its format, and what is known
about it: how many records a reader should account for (``records``: good + quarantined / error records)
and which lines are bad.
"""
from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: The single-line case's size: bigger than anything a classifier samples (1 MB) by far.
BIG_LINE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    key: str                 # relative to the folder the corpus is put in
    body: bytes = b""
    fmt: str = "csv"         # csv | json | parquet
    records: int = 0         # non-blank data lines (CSV: without the header): good + bad
    bad_lines: tuple = ()    # 1-based line numbers of the lines a reader must set aside
    header: bool = True
    path: Path | None = field(default=None, compare=False)  # generated on disk instead of held in memory

    def data(self) -> bytes:
        return self.path.read_bytes() if self.path is not None else self.body


def latin1() -> Case:
    text = "id,name,city\n1,José,Málaga\n2,Zoë,Köln\n3,Ann,Oslo\n"
    return Case("latin1", "latin1/people.csv", text.encode("latin-1"), records=3, bad_lines=(2, 3))


def empty() -> Case:
    return Case("empty", "empty/nothing.csv", b"", records=0)


def ragged() -> Case:
    body = b"id,name,amount\n1,a,1.5\n2,b\n3,c,3.5\n4,d,4.5,extra\n5,e,5.5\n6,f,6.5\n"
    return Case("ragged", "ragged/rows.csv", body, records=6, bad_lines=(3, 5))


def broken_json() -> Case:
    lines = [json.dumps({"id": i, "tag": f"t{i}"}) for i in range(1, 6)]
    lines[1] = '{"id": 2, "tag": '          # cut off
    lines[3] = "[4, 5]"                      # JSON, not an object
    body = ("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n").encode()  # a blank line 4
    return Case("broken_json", "broken_json/events.json", body, fmt="json", records=5, bad_lines=(2, 5))


def truncated_gzip() -> Case:
    text = b"id,name\n" + b"".join(b"%d,name-%d\n" % (i, i) for i in range(5000))
    whole = gzip.compress(text, mtime=0)
    return Case("truncated_gzip", "truncated_gzip/part-0.csv.gz", whole[:len(whole) * 2 // 3], records=5000)


def corrupt_parquet() -> Case:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(100)), "name": [f"n{i}" for i in range(100)]}), buf)
    data = bytearray(buf.getvalue())
    data[-8:-4] = b"\xff\xff\xff\x7f"  # the footer length points far outside the file
    return Case("corrupt_parquet", "corrupt_parquet/part-0.parquet", bytes(data), fmt="parquet", records=100)


def odd_keys() -> Case:
    body = "id,name,amount\n1,a,1.5\n2,b,2.5\n3,c,n/a\n".encode()  # an amount that is not a number
    return Case("odd_keys", "odd keys/ünï=cödé/file name é=1.csv", body, records=3, bad_lines=(4,))


def big_line(directory: Path) -> Case:
    """One JSON record on one 50 MB line, written to ``directory`` (not kept in memory twice)."""
    path = Path(directory) / "big_line.json"
    if not path.exists() or path.stat().st_size < BIG_LINE_BYTES:
        pad = BIG_LINE_BYTES - len('{"id": 1, "payload": ""}\n')
        path.write_bytes(b'{"id": 1, "payload": "' + b"x" * pad + b'"}\n')
    return Case("big_line", "big_line/one.json", fmt="json", records=1, header=False, path=path)


def corpus(directory: Path) -> list[Case]:
    """Every case; the big one is generated in ``directory``."""
    return [latin1(), empty(), ragged(), broken_json(), truncated_gzip(), corrupt_parquet(), odd_keys(),
            big_line(directory)]
