"""Where a crawl reads objects and writes tables: a small storage and catalog interface, two implementations.

Over boto3 (:class:`Boto3Storage`, :class:`Boto3Catalog`) the engine runs against any endpoint, including AWS;
inside the local endpoint it works on moto's backends directly (``gluelab.localaws.crawler_storage``), with no
HTTP round trips.
Every catalog write goes through the calls AWS's crawler makes (create_table, update_table, delete_table,
batch_create_partition in batches of at most 100, ...), so moto keeps table versions as AWS does.
"""
from __future__ import annotations

import io
from typing import Iterator



class Storage:
    """Read-only access to S3 objects."""

    def list(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        """Every ``(key, size)`` under ``prefix``."""
        raise NotImplementedError

    def list_folder(self, bucket: str, prefix: str) -> tuple[list[tuple[str, int]], list[str]]:
        """One level under ``prefix``: ``(objects, sub-folder prefixes)`` (a delimiter listing)."""
        raise NotImplementedError

    def read(self, bucket: str, key: str, start: int = 0, length: int | None = None) -> bytes:
        """Bytes ``[start, start + length)`` of an object (to its end when length is None)."""
        raise NotImplementedError

    def walk(self, bucket: str, prefix: str, skip_folder) -> Iterator[tuple[str, int]]:
        """Like :meth:`list`, but never lists below a folder for which ``skip_folder(folder_prefix)`` is True
        (incremental crawls: folders seen before are neither listed nor read)."""
        objects, folders = self.list_folder(bucket, prefix)
        yield from objects
        for folder in folders:
            if not skip_folder(folder):
                yield from self.walk(bucket, folder, skip_folder)

    def open(self, bucket: str, key: str, size: int) -> "RangeFile":
        """A seekable read-only file over the object that fetches only the ranges read (Parquet footers)."""
        return RangeFile(lambda start, length: self.read(bucket, key, start, length), size)


class RangeFile(io.RawIOBase):
    """A read-only, seekable file whose reads are ranged reads of an object."""

    def __init__(self, fetch, size: int):
        self._fetch, self._size, self._pos = fetch, size, 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        n = max(0, min(n, self._size - self._pos))
        if n == 0:
            return b""
        data = self._fetch(self._pos, n)
        self._pos += len(data)
        self.bytes_read += len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


class Catalog:
    """The Data Catalog operations a crawler uses. Tables are AWS ``Table`` dicts; inputs ``TableInput``."""

    def database_exists(self, database: str) -> bool:
        raise NotImplementedError

    def tables(self, database: str) -> list[dict]:
        raise NotImplementedError

    def create_table(self, database: str, table_input: dict) -> None:
        raise NotImplementedError

    def update_table(self, database: str, table_input: dict) -> None:
        raise NotImplementedError

    def delete_table(self, database: str, name: str) -> None:
        raise NotImplementedError

    def partitions(self, database: str, table: str) -> list[dict]:
        raise NotImplementedError

    def batch_create_partition(self, database: str, table: str, inputs: list[dict]) -> None:
        raise NotImplementedError

    def batch_update_partition(self, database: str, table: str, entries: list[dict]) -> None:
        raise NotImplementedError

    def batch_delete_partition(self, database: str, table: str, values: list[list[str]]) -> None:
        raise NotImplementedError


# --- boto3, any endpoint -------------------------------------------------------------------------------------

class Boto3Storage(Storage):
    """Objects through an S3 client (the local endpoint or AWS)."""

    def __init__(self, s3_client):
        self.s3 = s3_client

    def list(self, bucket, prefix):
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"], obj["Size"]

    def list_folder(self, bucket, prefix):
        objects, folders = [], []
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            objects += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
            folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return objects, folders

    def read(self, bucket, key, start=0, length=None):
        if length == 0:
            return b""
        rng = f"bytes={start}-" + ("" if length is None else str(start + length - 1))
        return self.s3.get_object(Bucket=bucket, Key=key, Range=rng)["Body"].read()


#: Read-only fields of a Table that are not part of a TableInput.
class Boto3Catalog(Catalog):
    """Tables and partitions through a Glue client."""

    def __init__(self, glue_client):
        self.glue = glue_client

    def database_exists(self, database):
        try:
            self.glue.get_database(Name=database)
            return True
        except self.glue.exceptions.EntityNotFoundException:
            return False

    def tables(self, database):
        return [t for page in self.glue.get_paginator("get_tables").paginate(DatabaseName=database)
                for t in page["TableList"]]

    def create_table(self, database, table_input):
        self.glue.create_table(DatabaseName=database, TableInput=table_input)

    def update_table(self, database, table_input):
        self.glue.update_table(DatabaseName=database, TableInput=table_input)

    def delete_table(self, database, name):
        self.glue.delete_table(DatabaseName=database, Name=name)

    def partitions(self, database, table):
        return [p for page in self.glue.get_paginator("get_partitions").paginate(DatabaseName=database,
                                                                                TableName=table)
                for p in page["Partitions"]]

    def batch_create_partition(self, database, table, inputs):
        self.glue.batch_create_partition(DatabaseName=database, TableName=table, PartitionInputList=inputs)

    def batch_update_partition(self, database, table, entries):
        self.glue.batch_update_partition(DatabaseName=database, TableName=table, Entries=entries)

    def batch_delete_partition(self, database, table, values):
        self.glue.batch_delete_partition(DatabaseName=database, TableName=table,
                                         PartitionsToDelete=[{"Values": v} for v in values])
