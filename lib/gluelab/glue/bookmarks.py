"""Job bookmarks: which S3 objects a job has already processed, so its next run reads only new ones.

AWS Glue keeps one bookmark per job. Inside it, every source read with a ``transformation_ctx`` has its own
state; for S3 sources that state says which objects were read. The job's ``--job-bookmark-option`` decides
what a run does with it:

* ``job-bookmark-enable``: read only objects that are new since the last committed run, and remember them
  when the script calls ``job.commit()``;
* ``job-bookmark-pause``: read only objects new since the last committed run, but never advance the state;
* ``job-bookmark-disable`` (the default): read everything, remember nothing.

Nothing is saved until ``job.commit()``: a run that fails before it leaves the bookmark as it was, so the next
run reads the same objects again. An object counts as new when its key was not seen before, or when it was
re-written since (a later ``LastModified``, or the same second with different content: S3 timestamps have
one-second resolution). Reads outside a :class:`~gluelab.glue.job.Job`, or without ``transformation_ctx``,
are not bookmarked.

:data:`STORE` holds every job's bookmark for this process (the local endpoint runs in the same process, so
``get_job_bookmark`` / ``reset_job_bookmark`` answer from it). :func:`list_files` is how sources enumerate
their S3 objects (through boto3 and the endpoint in the environment).
"""
from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from ..crawler.listing import Exclusions, is_skipped
from ..uris import key_of, split_folder

ENABLE, PAUSE, DISABLE = "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"
OPTIONS = (ENABLE, PAUSE, DISABLE)


@dataclass(frozen=True)
class S3File:
    """One S3 object a source may read."""
    bucket: str
    key: str
    size: int
    last_modified: datetime
    etag: str = ""
    storage_class: str = "STANDARD"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def marker(self) -> dict:
        """What a bookmark remembers about the object."""
        return {"lastModified": self.last_modified.astimezone(UTC).isoformat(), "etag": self.etag}


def list_files(s3, path: str, *, recurse: bool = True, exclusions: list[str] | None = None,
               include_hidden: bool = False) -> list[S3File]:
    """The objects under ``path`` (``s3://bucket/prefix``, a folder or a single object), sorted by key.

    ``recurse=False`` keeps only the objects directly in the folder. Folder markers (keys ending in ``/``),
    and files or folders named ``_*`` or ``.*`` (``_SUCCESS``, ``_temporary/``) are skipped, as Glue and Spark
    skip them, unless ``include_hidden``. ``exclusions`` are Glue's Unix-style globs, matched against the key
    relative to ``path`` (``"**.txt"``) or the full ``s3://`` URI.
    """
    bucket, folder = split_folder(path)
    exact = key_of(path)
    excluded = Exclusions(exclusions)
    out = []
    paginator = s3.get_paginator("list_objects_v2")
    list_prefix = exact if exact and not exact.endswith("/") else folder
    for page in paginator.paginate(Bucket=bucket, Prefix=list_prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key == exact and not key.endswith("/"):  # the path names one object
                relative = key.rpartition("/")[2]
            elif key.startswith(folder):
                relative = key[len(folder):]
            else:  # "data2/x" when asked for "data"
                continue
            if not relative or relative.endswith("/"):
                continue
            if not include_hidden and is_skipped(relative):
                continue
            if not recurse and "/" in relative:
                continue
            if excluded and (excluded.excludes(relative) or excluded.excludes(f"s3://{bucket}/{key}")):
                continue
            out.append(S3File(bucket, key, obj.get("Size", 0), obj["LastModified"],
                              obj.get("ETag", "").strip('"'), obj.get("StorageClass", "STANDARD")))
    out.sort(key=lambda f: f.key)
    return out


def _is_new(f: S3File, seen: dict | None) -> bool:
    if seen is None:
        return True
    before = datetime.fromisoformat(seen["lastModified"])
    if f.last_modified > before:
        return True
    return f.last_modified == before and bool(f.etag) and f.etag != seen.get("etag")


class _JobState:
    def __init__(self):
        self.version = 0
        self.run = 0
        self.attempt = 0
        self.run_id = ""
        self.previous_run_id = ""
        self.sources: dict[str, dict[str, dict]] = {}  # transformation_ctx -> uri -> marker
        self.history: dict[str, dict] = {}  # run id -> sources as that run committed them


class BookmarkStore:
    """Every job's bookmark in this process; thread-safe. Use the process-wide :data:`STORE`."""

    def __init__(self):
        self._lock = threading.RLock()
        self._jobs: dict[str, _JobState] = {}

    def has(self, job_name: str) -> bool:
        """True once the job committed a bookmarked run (or its bookmark was reset)."""
        with self._lock:
            return job_name in self._jobs

    def committed(self, job_name: str) -> dict[str, dict[str, dict]]:
        """A copy of the committed state: ``{transformation_ctx: {s3 uri: marker}}``."""
        with self._lock:
            state = self._jobs.get(job_name)
            return copy.deepcopy(state.sources) if state else {}

    def entry(self, job_name: str) -> dict:
        """The job's bookmark shaped like Glue's ``JobBookmarkEntry`` (all zero for a job without one)."""
        with self._lock:
            return self._entry(job_name, self._jobs.get(job_name) or _JobState())

    def commit(self, job_name: str, run_id: str, read: dict[str, dict[str, dict]]) -> dict:
        """Record a successful run that read ``read`` (``{ctx: {uri: marker}}``); returns the new entry."""
        with self._lock:
            state = self._jobs.setdefault(job_name, _JobState())
            for ctx, files in read.items():
                state.sources.setdefault(ctx, {}).update(copy.deepcopy(files))
            state.version += 1
            state.run += 1
            state.previous_run_id, state.run_id = state.run_id, run_id
            state.history[run_id] = copy.deepcopy(state.sources)
            return self._entry(job_name, state)

    def reset(self, job_name: str, run_id: str | None = None) -> dict:
        """Forget what the job read, so its next run processes everything; returns the entry.

        With ``run_id`` (a committed run of this job) the bookmark is rewound instead to the state that run
        committed: the next run processes what arrived after it. An unknown ``run_id`` raises ``KeyError``.
        """
        with self._lock:
            state = self._jobs.get(job_name)
            if run_id:
                if state is None or run_id not in state.history:
                    raise KeyError(f"job {job_name!r} has no committed run {run_id!r} to rewind its bookmark to")
                state.sources = copy.deepcopy(state.history[run_id])
            else:
                if state is None:
                    return self._entry(job_name, _JobState())
                state.sources = {}
            state.version += 1
            return self._entry(job_name, state)

    def forget(self, job_name: str) -> None:
        """Drop the job's bookmark entirely (as when the job is deleted)."""
        with self._lock:
            self._jobs.pop(job_name, None)

    @staticmethod
    def _entry(job_name: str, state: _JobState) -> dict:
        bookmark = {}
        for ctx, files in sorted(state.sources.items()):
            latest = max((m["lastModified"] for m in files.values()), default="")
            bookmark[ctx] = {"jsonClass": "HadoopDataSourceJobBookmarkState",
                             "timestamps": {"RUN": str(state.run), "CURR_LATEST_TIMESTAMP": latest},
                             "files": dict(sorted(files.items()))}
        return {"JobName": job_name, "Version": state.version, "Run": state.run, "Attempt": state.attempt,
                "PreviousRunId": state.previous_run_id, "RunId": state.run_id,
                "JobBookmark": json.dumps(bookmark)}


#: The process-wide bookmark store.
STORE = BookmarkStore()


def new_run_id() -> str:
    """A job run id shaped like Glue's: ``jr_`` and 64 hex digits."""
    return "jr_" + uuid.uuid4().hex + uuid.uuid4().hex


def bounded(files: list[S3File], *, max_files: int | None = None, max_bytes: int | None = None) -> list[S3File]:
    """Glue's bounded execution (``boundedFiles`` / ``boundedSize``): the oldest files first (by LastModified,
    then key), at most ``max_files`` of them and no more than ``max_bytes`` in all, but always at least one, so
    a backlog is worked off over several bookmarked runs. Without bounds: ``files`` in their order."""
    if max_files is None and max_bytes is None:
        return list(files)
    for name, value in (("boundedFiles", max_files), ("boundedSize", max_bytes)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value}")
    chosen, total = [], 0
    for f in sorted(files, key=lambda f: (f.last_modified, f.key)):
        if max_files is not None and len(chosen) >= max_files:
            break
        if max_bytes is not None and chosen and total + f.size > max_bytes:
            break
        chosen.append(f)
        total += f.size
    return sorted(chosen, key=lambda f: f.uri)


class BookmarkRun:
    """One job run's view of its bookmark: filters what sources list, collects what they read, commits."""

    def __init__(self, job_name: str, run_id: str, option: str = DISABLE, store: BookmarkStore | None = None):
        if option not in OPTIONS:
            raise ValueError(f"--job-bookmark-option must be one of {', '.join(OPTIONS)}; got {option!r}")
        self.job_name = job_name
        self.run_id = run_id
        self.option = option
        self.store = store if store is not None else STORE
        self._baseline = self.store.committed(job_name) if option != DISABLE else {}
        self._read: dict[str, dict[str, dict]] = {}
        self.committed = False

    @property
    def enabled(self) -> bool:
        return self.option != DISABLE

    def select(self, transformation_ctx: str, files: list[S3File], *, max_files: int | None = None,
               max_bytes: int | None = None) -> list[S3File]:
        """The files this run should read for the source ``transformation_ctx``: the new ones when bookmarks
        are enabled or paused, all of them otherwise (or without a ``transformation_ctx``); then at most
        ``max_files`` / ``max_bytes`` of them (:func:`bounded`), and only those are remembered."""
        if not transformation_ctx or self.option == DISABLE:
            return bounded(files, max_files=max_files, max_bytes=max_bytes)
        seen = self._baseline.get(transformation_ctx, {})
        chosen = bounded([f for f in files if _is_new(f, seen.get(f.uri))], max_files=max_files,
                         max_bytes=max_bytes)
        if self.option == ENABLE:
            self._read.setdefault(transformation_ctx, {}).update({f.uri: f.marker() for f in chosen})
        return chosen

    def pending(self) -> dict[str, list[str]]:
        """What a commit would add to the bookmark: ``{transformation_ctx: [uri, ...]}``."""
        return {ctx: sorted(files) for ctx, files in self._read.items()}

    def commit(self) -> dict | None:
        """Save what this run read (only with ``job-bookmark-enable``; once). Returns the entry or None."""
        if self.committed:
            return None
        self.committed = True
        if self.option != ENABLE:
            return None
        return self.store.commit(self.job_name, self.run_id, self._read)
