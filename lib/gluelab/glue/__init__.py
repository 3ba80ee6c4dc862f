"""The local Glue runtime: AWS Glue's ``awsglue`` Python API on local PySpark.

A Glue ETL script (``from awsglue.context import GlueContext`` ...) runs unchanged on the lab's SparkSession:

* :class:`~gluelab.glue.context.GlueContext` reads and writes S3 (``s3://`` through the lab's endpoint) and
  the Data Catalog (boto3 ``glue``), as DynamicFrames or DataFrames; it writes catalog tables and partitions
  with ``enableUpdateCatalog`` and purges S3 paths;
* :class:`~gluelab.glue.dynamicframe.DynamicFrame` and the transforms (:mod:`gluelab.glue.transforms`) are
  Glue's self-describing records on Spark DataFrames, with choice types and error records;
* :class:`~gluelab.glue.job.Job` and :mod:`gluelab.glue.bookmarks` give job bookmarks (only new S3 objects per
  run, saved on ``job.commit()``); :func:`~gluelab.glue.utils.getResolvedOptions` parses job arguments;
* :func:`gluelab.glue.sqlcatalog.sync` registers the catalog's tables in Spark SQL
  (``--enable-glue-datacatalog``).

:func:`enable` makes ``import awsglue`` (and ``awsglueml``) resolve to thin modules under ``shim/`` that
re-export these classes, so ``awsglue.context.GlueContext is gluelab.glue.GlueContext``.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

#: The folder holding the ``awsglue`` and ``awsglueml`` packages that re-export gluelab.glue.
SHIM = Path(__file__).resolve().parent / "shim"

__all__ = ["DynamicFrame", "DynamicFrameCollection", "GlueContext", "Job", "enable", "getResolvedOptions"]


def enable() -> str:
    """Make ``import awsglue`` work in this process; return where ``awsglue`` is imported from.

    Puts :data:`SHIM` first on ``sys.path``, unless a real ``awsglue`` is importable already (as on a Glue
    worker or in AWS's Docker image): then it is left alone, a one-line notice is printed and its location is
    returned. Calling it again is harmless.
    """
    shim = str(SHIM)
    if shim not in sys.path:
        spec = importlib.util.find_spec("awsglue")
        if spec is not None:
            where = str(Path(spec.origin).parent) if spec.origin else next(iter(spec.submodule_search_locations))
            if not where.startswith(shim):
                print(f"gluelab.glue.enable(): a real awsglue is installed at {where}; using it")
                return where
        sys.path.insert(0, shim)
        importlib.invalidate_caches()
    return str(SHIM / "awsglue")


def __getattr__(name: str):
    """The main classes, imported on first use (keeps ``import gluelab.glue`` light and free of cycles)."""
    if name == "GlueContext":
        from .context import GlueContext
        return GlueContext
    if name in ("DynamicFrame", "DynamicFrameCollection"):
        from . import dynamicframe
        return getattr(dynamicframe, name)
    if name == "Job":
        from .job import Job
        return Job
    if name == "getResolvedOptions":
        from .utils import getResolvedOptions
        return getResolvedOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
