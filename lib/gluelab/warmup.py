"""Faster lessons: build the AppCDS class-data archive that halves Spark's start-up in every kernel.

``python -m gluelab.warmup --build-cds`` (``make`` runs it once per installation) records the classes the JVM
loads while a small lesson-like workload runs (local and ``s3://`` reads and writes on the local endpoint), and
:mod:`gluelab.spark` starts every later JVM with the archive. Rebuilt when Java, PySpark or the data-plane jar
change (the archive's name is keyed by them); a missing or stale archive only costs start-up time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import s3fs
from . import spark as gluelab_spark


def build_cds_archive(force: bool = False) -> Path:
    """Build the AppCDS archive for this installation (~30-60 s, once) and return its path.

    Runs a small Spark workload (local and s3:// reads and writes) in a fresh process whose JVM writes the
    archive at exit; the file is renamed into place only when complete. Stale archives in the cache
    directory are removed (:func:`remove_stale_archives`).
    """
    target = gluelab_spark.cds_archive_path()
    if target is None:
        raise RuntimeError("java was not found: set JAVA_HOME or put java on PATH")
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with s3fs.file_lock(target.parent / ".lock"):
        if target.is_file() and not force:
            return target
        partial = target.with_name(f"{target.stem}.{os.getpid()}.partial")
        env = {**os.environ, "GLUELAB_CDS_DUMP": str(partial), "SPARK_LOCAL_IP": "127.0.0.1"}
        done = subprocess.run([sys.executable, "-m", "gluelab.warmup", "--cds-workload"], env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"building the AppCDS archive failed:\n{done.stderr[-3000:]}")
        target.with_suffix(".size").write_text(str(partial.stat().st_size))
        target.with_suffix(".owner").write_text(json.dumps(_owner()))
        os.replace(partial, target)
        remove_stale_archives(target)
    return target


def _owner() -> dict:
    """The files an archive was built for: when they are gone, so is the installation."""
    import pyspark

    return {"pyspark": pyspark.__file__, "jar": str(s3fs.jar_path())}


def remove_stale_archives(target: Path, *, legacy_days: float = 7.0) -> list[Path]:
    """Delete the archives next to ``target`` that no installation will map again; return what was deleted.

    Stale: the same installation's archives for an earlier state (Java, PySpark or the jar changed), and any
    archive whose installation is gone (its ``.owner`` file names files that no longer exist). Another live
    checkout's archive on the same machine is kept. Archives named before installations were told apart (no
    installation in the name) are removed once ``legacy_days`` old.
    """
    mine = gluelab_spark.cds_installation(target)
    removed = []
    for archive in target.parent.glob("spark-*.jsa"):
        if archive == target:
            continue
        installation = gluelab_spark.cds_installation(archive)
        if installation is None:
            try:
                stale = time.time() - archive.stat().st_mtime > legacy_days * 86400
            except OSError:
                continue
        elif installation == mine:
            stale = True
        else:
            try:
                owner = json.loads(archive.with_suffix(".owner").read_text())
                stale = not (os.path.exists(owner["pyspark"]) and os.path.exists(owner["jar"]))
            except (OSError, ValueError, KeyError, TypeError):
                stale = False  # being written by another build, or unreadable: leave it
        if stale:
            for suffix in (".jsa", ".size", ".owner"):
                archive.with_suffix(suffix).unlink(missing_ok=True)
            removed.append(archive)
    return removed


def _cds_workload() -> None:
    """What the archive is recorded from: the classes a typical lesson loads. Runs in its own process."""

    import boto3
    from pyspark import SparkContext

    from . import localaws

    url = localaws.start()
    spark = gluelab_spark.session(endpoint_url=url)
    boto3.client("s3").create_bucket(Bucket="gluelab-cds")
    df = spark.range(2000).selectExpr(
        "id", "cast(id % 3 as int) as month", "cast(id as string) as name",
        "date_add(date'2024-01-01', cast(id % 30 as int)) as day", "cast(id as double) / 7 as amount",
        "timestamp'2024-01-01 00:00:00' as ts")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("parquet", "csv", "json"):
            for where in (f"s3://gluelab-cds/{fmt}", f"{tmp}/{fmt}"):
                writer = df.write.mode("overwrite").partitionBy("month").option("header", "true")
                writer.format(fmt).save(where)
                back = spark.read.format(fmt).option("header", "true").load(where)
                back.where("month = 1").groupBy("name").count().orderBy("name").collect()
        df.createOrReplaceTempView("t")
        spark.sql("select month, sum(amount) from t group by month order by month").toPandas()
        df.join(df.select("id", "name"), "id").limit(5).collect()
    spark.stop()
    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    if proc is not None:  # the JVM writes the archive while exiting: wait for it
        proc.stdin.close()
        proc.wait(timeout=600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gluelab.warmup",
                                     description="Build gluelab's AppCDS archive for faster Spark start-up.")
    parser.add_argument("--build-cds", action="store_true",
                        help="build the archive if missing, print its path")
    parser.add_argument("--rebuild-cds", action="store_true", help="build the archive even if present")
    parser.add_argument("--cds-workload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cds_workload:
        _cds_workload()
        return 0
    if args.build_cds or args.rebuild_cds:
        started = time.perf_counter()
        path = build_cds_archive(force=args.rebuild_cds)
        print(f"{path} ({path.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - started:.0f} s)")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
