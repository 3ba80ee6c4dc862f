"""gluelab.spark: one tuned SparkSession per process; gluelab.s3fs: building the data plane, its settings."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gluelab import s3fs
from gluelab import spark as gluelab_spark


def test_one_session_per_process(spark, endpoint):
    assert gluelab_spark.session(endpoint_url=endpoint) is spark
    assert gluelab_spark.session(endpoint_url=endpoint, region="us-east-1") is spark


def test_settings_for_small_data(spark):
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.ui.showConsoleProgress") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert spark.conf.get("spark.sql.parquet.outputTimestampType") == "TIMESTAMP_MICROS"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    log4j = spark._jvm.System.getProperty("log4j.configurationFile")
    assert log4j == gluelab_spark.LOG4J_CONFIG.as_uri() and gluelab_spark.LOG4J_CONFIG.is_file()


def test_s3_data_plane_is_wired_in(spark, endpoint):
    hadoop = spark._jsc.hadoopConfiguration()
    assert hadoop.get("fs.s3.impl") == s3fs.FS_CLASS
    assert hadoop.get("fs.s3a.impl") == s3fs.FS_CLASS
    assert hadoop.get("fs.gluelab.s3.endpoint") == endpoint
    assert hadoop.get("mapreduce.fileoutputcommitter.algorithm.version") == "1"
    assert spark._jvm.Class.forName(s3fs.FS_CLASS) is not None     # the jar is on the driver's class path


def test_hadoop_conf_for_each_backend(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = s3fs.hadoop_conf("http://127.0.0.1:5000", "eu-west-1")
    assert local["fs.gluelab.s3.endpoint"] == "http://127.0.0.1:5000"
    assert local["fs.gluelab.s3.path.style.access"] == "true"
    assert local["fs.gluelab.s3.region"] == "eu-west-1"
    assert local["fs.gluelab.s3.access.key"] == "testing"
    aws = s3fs.hadoop_conf(None, "eu-west-1")
    assert aws["fs.gluelab.s3.endpoint"] == "" and aws["fs.gluelab.s3.path.style.access"] == "false"
    assert aws["fs.gluelab.s3.credentials.process"].endswith("-m gluelab.s3fs --credentials")
    assert "fs.gluelab.s3.access.key" not in aws
    explicit = s3fs.hadoop_conf(None, "eu-west-1", ("AK", "SK", "TOKEN"))
    assert (explicit["fs.gluelab.s3.access.key"], explicit["fs.gluelab.s3.secret.key"],
            explicit["fs.gluelab.s3.session.token"]) == ("AK", "SK", "TOKEN")
    assert "fs.gluelab.s3.credentials.process" not in explicit


def test_credentials_command_prints_credential_process_json():
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    done = subprocess.run([sys.executable, "-m", "gluelab.s3fs", "--credentials"], capture_output=True,
                          text=True, env=env, timeout=60, check=True)
    import json

    assert json.loads(done.stdout) == {"Version": 1, "AccessKeyId": "testing", "SecretAccessKey": "testing"}


def test_jar_is_built_once_and_rebuilt_when_sources_change(tmp_path, monkeypatch):
    sources = tmp_path / "java"
    shutil.copytree(s3fs.SOURCES, sources)
    build = tmp_path / "_build"
    monkeypatch.setattr(s3fs, "SOURCES", sources)
    monkeypatch.setattr(s3fs, "BUILD", build)
    monkeypatch.setattr(s3fs, "JAR", build / "gluelab-s3fs.jar")
    monkeypatch.setattr(s3fs, "STAMP", build / "gluelab-s3fs.json")
    jar = Path(s3fs.jar_path())
    assert jar.is_file() and jar.parent == build
    first = jar.stat().st_mtime_ns
    assert Path(s3fs.jar_path()).stat().st_mtime_ns == first          # up to date: not rebuilt
    with open(sources / "S3Fs.java", "a") as fh:
        fh.write("// changed\n")
    assert Path(s3fs.jar_path()).stat().st_mtime_ns != first          # sources changed: rebuilt
    import zipfile

    names = zipfile.ZipFile(jar).namelist()
    assert "gluelab/s3/S3FileSystem.class" in names and "gluelab/s3/SigV4.class" in names


def test_build_errors_are_reported_clearly(tmp_path, monkeypatch):
    sources = tmp_path / "java"
    sources.mkdir()
    (sources / "Broken.java").write_text("package gluelab.s3; class Broken { int x = ; }\n")
    monkeypatch.setattr(s3fs, "SOURCES", sources)
    monkeypatch.setattr(s3fs, "BUILD", tmp_path / "_build")
    monkeypatch.setattr(s3fs, "JAR", tmp_path / "_build" / "gluelab-s3fs.jar")
    monkeypatch.setattr(s3fs, "STAMP", tmp_path / "_build" / "gluelab-s3fs.json")
    with pytest.raises(s3fs.BuildError, match="compiling gluelab's S3 data plane failed"):
        s3fs.jar_path()


def test_build_command_prints_the_jar():
    done = subprocess.run([sys.executable, "-m", "gluelab.s3fs", "--build"], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == str(s3fs.JAR) and s3fs.JAR.is_file()


def test_start_up_is_quiet(endpoint):
    """A fresh process: starting Spark and reading s3:// prints nothing but the JVM's own notice."""
    code = (f"from gluelab import spark; s = spark.session(endpoint_url={endpoint!r}); "
            f"print(s.range(3).count())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"
    noise = [line for line in done.stderr.splitlines() if "Using incubator modules" not in line]
    assert noise == [], noise


def test_later_call_repoints_the_data_plane(spark, endpoint):
    hadoop = spark._jsc.hadoopConfiguration()
    try:
        gluelab_spark.session(endpoint_url=endpoint, credentials=("other-key", "other-secret"))
        assert hadoop.get("fs.gluelab.s3.access.key") == "other-key"
        assert hadoop.get("fs.s3.impl.disable.cache") == "true"     # no stale cached file systems
    finally:
        gluelab_spark.session(endpoint_url=endpoint)
    assert hadoop.get("fs.gluelab.s3.access.key") == "testing"


def test_cds_archive_is_used_only_when_complete(tmp_path, monkeypatch):
    monkeypatch.setattr(gluelab_spark, "_cds_dir", lambda: tmp_path)
    monkeypatch.delenv("GLUELAB_CDS_DUMP", raising=False)
    monkeypatch.delenv("GLUELAB_CDS", raising=False)
    archive = gluelab_spark.cds_archive_path()
    assert archive.parent == tmp_path and archive.suffix == ".jsa"
    assert gluelab_spark._cds_options() == ""                         # not built yet
    archive.write_bytes(b"x" * 100)
    assert gluelab_spark._cds_options() == ""                         # no recorded size: not trusted
    archive.with_suffix(".size").write_text("100")
    assert f"-XX:SharedArchiveFile={archive}" in gluelab_spark._cds_options()
    archive.write_bytes(b"x" * 50)                                    # damaged since it was built
    assert gluelab_spark._cds_options() == ""
    archive.write_bytes(b"x" * 100)
    monkeypatch.setenv("GLUELAB_CDS", "0")
    assert gluelab_spark._cds_options() == ""
    monkeypatch.setenv("GLUELAB_CDS_DUMP", str(tmp_path / "new.partial"))
    assert "-XX:ArchiveClassesAtExit=" in gluelab_spark._cds_options()


def test_stale_cds_archives_are_removed_and_other_checkouts_kept(tmp_path, monkeypatch):
    import json
    import time

    from gluelab import warmup

    monkeypatch.setattr(gluelab_spark, "_cds_dir", lambda: tmp_path)
    target = gluelab_spark.cds_archive_path()
    mine = gluelab_spark.cds_installation(target)
    assert target.name.startswith("spark-") and len(mine) == 8

    def archive(name, owner=None, age_days=0.0):
        path = tmp_path / name
        for suffix in (".jsa", ".size"):
            path.with_suffix(suffix).write_text("1")
        if owner is not None:
            path.with_suffix(".owner").write_text(json.dumps(owner))
        old = time.time() - age_days * 86400
        os.utime(path, (old, old))
        return path

    live = {"pyspark": __file__, "jar": __file__}
    target.write_text("1")
    earlier_state = archive(f"spark-4.0.0-{mine}-000000000000.jsa", live)
    other_checkout = archive("spark-4.0.0-ffffffff-000000000000.jsa", live)
    gone_checkout = archive("spark-4.0.0-eeeeeeee-000000000000.jsa", {"pyspark": str(tmp_path / "gone"),
                                                                      "jar": __file__})
    being_built = archive("spark-4.0.0-dddddddd-000000000000.jsa")          # no .owner yet
    legacy_new, legacy_old = archive("spark-4.0.0-0123456789abcdef.jsa"), archive(
        "spark-4.0.0-fedcba9876543210.jsa", age_days=8)
    removed = warmup.remove_stale_archives(target)
    assert sorted(removed) == sorted([earlier_state, gone_checkout, legacy_old])
    assert not earlier_state.with_suffix(".size").exists() and not gone_checkout.with_suffix(".owner").exists()
    assert all(p.is_file() for p in (target, other_checkout, being_built, legacy_new))


def test_the_driver_jvm_has_a_process_group_of_its_own(spark):
    """So a Jupyter kernel shutting down does not wait for it (see gluelab.spark._jvm_in_its_own_process_group);
    PySpark's gateway still ends it when this process ends."""
    from pyspark import SparkContext, java_gateway
    from subprocess import Popen

    jvm = SparkContext._gateway.proc
    assert jvm.poll() is None
    assert os.getpgid(jvm.pid) == jvm.pid != os.getpgrp()
    assert java_gateway.Popen is Popen                                # the launch is patched only while it runs
