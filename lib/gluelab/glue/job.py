"""``Job``: the start and the commit of a Glue job run, which is where job bookmarks begin and are saved.

A Glue script does::

    args = getResolvedOptions(sys.argv, ["JOB_NAME"])
    glueContext = GlueContext(SparkContext.getOrCreate())
    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)
    ...  # reads with transformation_ctx=... are bookmarked
    job.commit()

``init`` takes the bookmark option and the run id from ``args`` (what ``getResolvedOptions`` returned), else
from ``sys.argv``; without either, bookmarks are disabled and the run gets a fresh ``jr_...`` id. ``commit``
saves the bookmark (see :mod:`gluelab.glue.bookmarks`); a run that never commits changes nothing.
"""
from __future__ import annotations

import sys

from . import bookmarks
from .utils import parse_arguments


class Job:
    """A Glue job run inside a script. Create it with the script's GlueContext (or a SparkSession)."""

    @classmethod
    def continuation_options(cls):
        return ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]

    @classmethod
    def job_bookmark_options(cls):
        return ["--job-bookmark-option", bookmarks.ENABLE, bookmarks.PAUSE, bookmarks.DISABLE]

    @classmethod
    def job_bookmark_range_options(cls):
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls):
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls):
        return ["--encryption-type", "sse-s3"]

    @classmethod
    def data_lineage_options(cls):
        return ["--enable-data-lineage"]

    def __init__(self, glue_context_or_spark_session):
        from pyspark.sql import SparkSession

        from .context import GlueContext

        if isinstance(glue_context_or_spark_session, GlueContext):
            self._glue_context = glue_context_or_spark_session
            self._spark_session = glue_context_or_spark_session.spark_session
        elif isinstance(glue_context_or_spark_session, SparkSession):
            self._glue_context = None
            self._spark_session = glue_context_or_spark_session
        else:
            raise TypeError(f"Job() needs a GlueContext or a SparkSession, got "
                            f"{type(glue_context_or_spark_session).__name__}")
        self._run: bookmarks.BookmarkRun | None = None
        self.name: str | None = None

    def init(self, job_name: str, args: dict | None = {}) -> None:  # noqa: B006 (Glue's default, not mutated)
        """Start the run: load the job's bookmark according to ``--job-bookmark-option``."""
        if not job_name:
            raise ValueError("Job.init needs the job's name, e.g. job.init(args['JOB_NAME'], args)")
        argv = parse_arguments(sys.argv[1:])
        option = _first(args, "job_bookmark_option", "job-bookmark-option", "--job-bookmark-option")
        option = option or argv.get("job-bookmark-option") or bookmarks.DISABLE
        if _first(args, "job_bookmark_from", "job_bookmark_to") or "job-bookmark-from" in argv:
            raise NotImplementedError("bookmark ranges (--job-bookmark-from/--job-bookmark-to) are not "
                                      "supported by the local Glue runtime; use job-bookmark-pause alone")
        run_id = _first(args, "JOB_RUN_ID", "--JOB_RUN_ID") or argv.get("JOB_RUN_ID") or bookmarks.new_run_id()
        self._run = bookmarks.BookmarkRun(job_name, run_id, option)
        self.name = job_name
        if self._glue_context is not None:
            self._glue_context._bookmark_run = self._run

    def isInitialized(self) -> bool:
        return self._run is not None

    @property
    def run_id(self) -> str | None:
        """This run's id (``--JOB_RUN_ID``, or a generated one)."""
        return self._run.run_id if self._run else None

    @property
    def bookmark_option(self) -> str | None:
        return self._run.option if self._run else None

    def commit(self) -> None:
        """End the run successfully: save the bookmark (with ``job-bookmark-enable``). A second commit of the
        same run changes nothing."""
        if self._run is None:
            raise RuntimeError("Job.commit() before Job.init(job_name, args)")
        self._run.commit()


def _first(args: dict | None, *keys: str):
    for key in keys:
        if args and args.get(key):
            return args[key]
    return None
