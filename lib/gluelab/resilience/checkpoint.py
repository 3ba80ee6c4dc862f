"""Checkpoint and resume: a rerun after a failure skips the steps that already completed.

When step 4 of 5 fails, rerunning the whole pipeline repeats hours of finished work. A :class:`Checkpoint`
records each completed step (and its small JSON result) in one JSON document in a store, by default an S3
object, so the rerun resumes after the last completed step. Marking a step twice changes nothing, so resuming
is idempotent; :meth:`Checkpoint.reset` clears the document once the whole run is done.

The document is ``{"completed": [step names, in order], "results": {name: result}, "updated_at": time}``.
A store is anything with ``get(key) -> str | None`` and ``put(key, text)`` (``delete(key)`` optional):
:class:`S3Store` over a boto3 S3 client, or :class:`MemoryStore`.
"""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ._common import as_clock


class MemoryStore:
    """A store in a dict (for tests and quick demos; it lives as long as the process)."""

    def __init__(self):
        self.objects: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.objects.get(key)

    def put(self, key: str, text: str) -> None:
        self.objects[key] = text

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


class S3Store:
    """A store of S3 objects in ``bucket`` through a boto3 S3 client."""

    def __init__(self, s3, bucket: str):
        self.s3, self.bucket = s3, bucket

    def get(self, key: str) -> str | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def put(self, key: str, text: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode("utf-8"),
                           ContentType="application/json")

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)


class Checkpoint:
    """The completed steps of one pipeline run, kept under ``key`` in ``store``. ``ran`` and ``skipped`` list
    what :meth:`run` did in this process."""

    def __init__(self, store, key: str, *, clock=None):
        missing = [m for m in ("get", "put") if not callable(getattr(store, m, None))]
        if missing:
            raise TypeError(f"a checkpoint store needs get(key) and put(key, text); {store!r} lacks "
                            f"{', '.join(missing)}")
        if not isinstance(key, str) or not key:
            raise ValueError(f"a checkpoint needs a non-empty key, got {key!r}")
        self.store, self.key, self.clock = store, key, as_clock(clock)
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def _load(self) -> dict:
        text = self.store.get(self.key)
        if text is None:
            return {"completed": [], "results": {}}
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"checkpoint {self.key!r} is not JSON: {exc}") from exc
        if not (isinstance(document, dict) and isinstance(document.get("completed"), list)
                and isinstance(document.get("results", {}), dict)):
            raise ValueError(f"checkpoint {self.key!r} is not a checkpoint document "
                             f"({{'completed': [...], 'results': {{...}}}}): {text[:200]!r}")
        document.setdefault("results", {})
        return document

    @property
    def completed(self) -> list[str]:
        """The completed step names, in the order they completed."""
        return list(self._load()["completed"])

    def is_done(self, name: str) -> bool:
        return name in self._load()["completed"]

    def result(self, name: str) -> Any:
        """The result recorded for a completed step (KeyError if it has not completed)."""
        document = self._load()
        if name not in document["completed"]:
            raise KeyError(f"step {name!r} has not completed (completed: {document['completed']})")
        return document["results"].get(name)

    def mark(self, name: str, result: Any = None) -> None:
        """Record ``name`` as completed with ``result`` (JSON data); marking it again changes nothing."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a step needs a non-empty name, got {name!r}")
        document = self._load()
        if name in document["completed"]:
            return
        document["completed"].append(name)
        document["results"][name] = result
        document["updated_at"] = self.clock.now().isoformat()
        try:
            text = json.dumps(document, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"step {name!r} completed but its result is not JSON data, so it was not "
                            f"checkpointed (a rerun will repeat it); return JSON data or None: {exc}"
                            ) from exc
        self.store.put(self.key, text)

    def run(self, name: str, fn, /, *args, **kwargs) -> Any:
        """``fn(*args, **kwargs)`` unless ``name`` completed before: then the recorded result, without
        calling ``fn``. A step that raises is not recorded, so the rerun tries it again."""
        if not callable(fn):
            raise TypeError(f"step {name!r}: Checkpoint.run needs a function, got {fn!r}")
        if self.is_done(name):
            self.skipped.append(name)
            return self.result(name)
        result = fn(*args, **kwargs)
        self.mark(name, result)
        self.ran.append(name)
        return result

    def reset(self) -> None:
        """Forget every completed step (the next run starts from the beginning)."""
        if callable(getattr(self.store, "delete", None)):
            self.store.delete(self.key)
        else:
            self.store.put(self.key, json.dumps({"completed": [], "results": {}}))
