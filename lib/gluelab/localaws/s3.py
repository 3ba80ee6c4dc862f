"""Amazon S3: moto's S3 as it is (the lake's buckets; Spark reaches it through gluelab's S3 data plane), plus
fault injection for tests and lessons on resilience.

What this module adds: :func:`faults` makes the local endpoint answer a seeded share of S3 requests with an
error (503 SlowDown by default), and :func:`hold` keeps matching requests waiting until released, so a test can
stop a job at an exact point (e.g. during its output commit). Both are off by default and act only inside
their ``with`` block; they sit in front of moto's S3 request handling (``S3Response.bucket_response`` and
``key_response``), so every client that uses the endpoint sees them (Spark's data plane, boto3), and nothing
that reads moto's backend directly (a job's script fetch, log shipping).

Teardown deletes the lab's buckets with every object version and delete marker in them.
"""
from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import unquote, urlparse

from moto.s3.responses import S3Response

from .hooks import hook
from .service import Owned, Service, tag_list


def _buckets(s3) -> list[str]:
    return [b["Name"] for b in s3.list_buckets().get("Buckets", [])]


def _delete_bucket(s3, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for i in range(0, len(objs), 1000):
            s3.delete_objects(Bucket=name, Delete={"Objects": objs[i:i + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=name)


def _bucket_tags(s3, name: str, _account_id: str) -> dict:
    try:
        return tag_list(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise


def _tag_bucket(s3, params: dict, tags: dict) -> None:
    """CreateBucket takes no tags: the lab tags a bucket it made right after creating it."""
    s3.put_bucket_tagging(Bucket=params["Bucket"],
                          Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


SERVICE = Service(
    "s3", guarded=("Bucket",),
    operations=("CreateBucket", "DeleteBucket", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
                "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
                "AbortMultipartUpload", "PutBucketTagging", "DeleteBucketTagging", "PutObjectTagging",
                "DeleteObjectTagging", "PutBucketVersioning",
                "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle", "PutPublicAccessBlock",
                "PutBucketEncryption"),
    owned=(Owned("bucket", _buckets, _delete_bucket, tags=_bucket_tags),),
    tag_after={"CreateBucket": _tag_bucket})


# --- fault injection -----------------------------------------------------------------------------------------

#: S3's messages for the 5xx errors it answers under load.
ERROR_MESSAGES = {"SlowDown": (503, "Please reduce your request rate."),
                  "ServiceUnavailable": (503, "Service is unable to handle request."),
                  "InternalError": (500, "We encountered an internal error. Please try again.")}

# Parts of a key that differ from run to run (Spark's file UUIDs, task attempt ids, Glue job run ids), so the
# same request of two runs gets the same decision.
_VOLATILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|attempt_[0-9_a-z]+|"
                       r"job_[0-9_]+|task_[0-9_a-z]+|jr_[0-9a-f]{64}")


@dataclass(frozen=True)
class Request:
    """One S3 request as the fault hooks see it."""
    method: str
    bucket: str
    key: str
    query: str
    copy: bool

    @property
    def kind(self) -> str:
        """``GET``, ``HEAD``, ``PUT``, ``DELETE``, ``POST``, ``LIST`` or ``COPY``."""
        if self.copy:
            return "COPY"
        if self.method == "GET" and not self.key:
            return "LIST"
        return self.method


@dataclass
class Faults:
    """Answers a share ``rate`` of the matching requests with ``code`` (see :func:`faults`). ``injected``
    lists the requests that got an error, ``seen`` counts the matching requests."""
    rate: float
    seed: int = 0
    code: str = "SlowDown"
    buckets: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    injected: list[Request] = field(default_factory=list)
    seen: int = 0
    _counts: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def matches(self, request: Request) -> bool:
        return ((self.buckets is None or request.bucket in self.buckets)
                and (self.kinds is None or request.kind in self.kinds))

    def decide(self, request: Request) -> bool:
        """Whether this request fails: a hash of the seed, the request (its volatile parts masked) and how
        many times this same request was sent before, so a retry gets a fresh draw and the decisions do not
        depend on the order in which concurrent requests arrive."""
        exact = (request.kind, request.bucket, request.key, request.query)
        with self._lock:
            n = self._counts.get(exact, 0)
            self._counts[exact] = n + 1
            self.seen += 1
        stable = f"{self.seed}|{request.kind}|{request.bucket}|{_VOLATILE.sub('*', request.key)}|" \
                 f"{_VOLATILE.sub('*', request.query)}|{n}"
        draw = int.from_bytes(hashlib.sha256(stable.encode()).digest()[:8], "big") / 2 ** 64
        if draw < self.rate:
            with self._lock:
                self.injected.append(request)
            return True
        return False


class Gate:
    """Holds the requests that match until :meth:`release` (see :func:`hold`). ``reached`` is set when the
    first one arrives; ``held`` lists them."""

    def __init__(self, match: Callable[[Request], bool], timeout: float):
        self.match = match
        self.timeout = timeout
        self.reached = threading.Event()
        self.held: list[Request] = []
        self._open = threading.Event()

    def release(self) -> None:
        self._open.set()

    def wait(self, request: Request) -> None:
        self.held.append(request)
        self.reached.set()
        self._open.wait(self.timeout)


_faults: list[Faults] = []
_gates: list[Gate] = []


@contextlib.contextmanager
def faults(rate: float, *, seed: int = 0, code: str = "SlowDown", buckets=None, kinds=None) -> Iterator[Faults]:
    """Inside the block, the local endpoint answers about ``rate`` (0..1) of the S3 requests to ``buckets``
    (default: all) of the given ``kinds`` (``GET``, ``HEAD``, ``PUT``, ``DELETE``, ``POST``, ``LIST``,
    ``COPY``; default: all) with S3's ``code`` error (``SlowDown``/``ServiceUnavailable``: 503,
    ``InternalError``: 500). Seeded: the same requests get the same answers in every run."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    if code not in ERROR_MESSAGES:
        raise ValueError(f"code must be one of {', '.join(ERROR_MESSAGES)}, got {code!r}")
    injector = Faults(rate, seed, code, tuple(buckets) if buckets else None, tuple(kinds) if kinds else None)
    _faults.append(injector)
    try:
        yield injector
    finally:
        _faults.remove(injector)


@contextlib.contextmanager
def hold(match: Callable[[Request], bool], *, timeout: float = 120.0) -> Iterator[Gate]:
    """Inside the block, S3 requests for which ``match(request)`` is true wait until ``gate.release()`` (or
    ``timeout`` seconds, or the end of the block)."""
    gate = Gate(match, timeout)
    _gates.append(gate)
    try:
        yield gate
    finally:
        _gates.remove(gate)
        gate.release()


def _request(request, full_url: str) -> Request:
    url = urlparse(full_url)
    bucket, _, key = unquote(url.path).lstrip("/").partition("/")
    query = "&".join(sorted(p for p in url.query.split("&") if p and not p.startswith("X-Amz-")))
    copy = "x-amz-copy-source" in {k.lower() for k in request.headers.keys()}
    return Request(request.method, bucket, key, query, copy)


def _error(req: Request, code: str):
    status, message = ERROR_MESSAGES[code]
    resource = f"/{req.bucket}/{req.key}" if req.key else f"/{req.bucket}"
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<Resource>{resource}</Resource><RequestId>gluelab-fault</RequestId></Error>")
    return status, {"content-type": "application/xml"}, body.encode()


def _intercept(original, response, request, full_url, headers, *args, **kwargs):
    if _faults or _gates:
        req = _request(request, full_url)
        for gate in list(_gates):
            if gate.match(req):
                gate.wait(req)
        for injector in list(_faults):
            if injector.matches(req) and injector.decide(req):
                return _error(req, injector.code)
    return original(response, request, full_url, headers, *args, **kwargs)


@hook(S3Response, "bucket_response", ("request", "full_url", "headers"))
def _bucket_response(original, response, request, full_url, headers, *args, **kwargs):
    return _intercept(original, response, request, full_url, headers, *args, **kwargs)


@hook(S3Response, "key_response", ("request", "full_url", "headers"))
def _key_response(original, response, request, full_url, headers, *args, **kwargs):
    return _intercept(original, response, request, full_url, headers, *args, **kwargs)
