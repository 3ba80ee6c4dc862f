"""S3 URIs split one way everywhere: ``s3://bucket/key`` -> ``("bucket", "key")``.

Why a module of its own: every layer (the facade's uploads, the crawler's include paths, the Glue runtime's
reads and bookmarks, the rules kept in S3, the job runner fetching a script) splits S3 URIs, and five
hand-written variants had drifted apart. It imports nothing from gluelab, so any module may use it.
"""
from __future__ import annotations

SCHEME = "s3://"


def split_uri(uri: str) -> tuple[str, str]:
    """``"s3://bucket/a/b.csv"`` -> ``("bucket", "a/b.csv")``; anything but an ``s3://`` URI is a ValueError."""
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise ValueError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[len(SCHEME):].partition("/")
    if not bucket:
        raise ValueError(f"an S3 URI needs a bucket, got {uri!r}")
    return bucket, key


def split_folder(path: str) -> tuple[str, str]:
    """``"s3://bucket/a/b"`` -> ``("bucket", "a/b/")``: a folder as a bucket and a key prefix ending in ``/``
    (``""`` for the whole bucket). The scheme may be left out, as Glue's console shows include paths
    (``bucket/folder``)."""
    text = path[len(SCHEME):] if path.startswith(SCHEME) else path
    bucket, _, prefix = text.partition("/")
    if not bucket:
        raise ValueError(f"an S3 path needs a bucket, got {path!r}")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/" if prefix else "")


def key_of(path: str) -> str:
    """The key part of ``s3://bucket/key`` (or of ``bucket/key``)."""
    text = path[len(SCHEME):] if path.startswith(SCHEME) else path
    return text.partition("/")[2]


def uri(bucket: str, key: str = "") -> str:
    """``("bucket", "a/b")`` -> ``"s3://bucket/a/b"``."""
    return f"{SCHEME}{bucket}/{key.lstrip('/')}"
