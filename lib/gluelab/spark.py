"""The process's SparkSession, tuned for lesson-sized data and wired to the lab's S3.

One session per process: the first :func:`session` call starts it, later calls return the same one. The
default master is ``local[2]`` with settings measured to start fast and behave deterministically on small data
(see PLATFORM.md): 2 shuffle partitions, no UI or progress bars, errors-only logging, UTC, Arrow on, Parquet
timestamps as INT64 microseconds. ``s3://`` (and ``s3a://``) paths go through gluelab's S3 data plane
(:mod:`gluelab.s3fs`), so ``spark.read.parquet("s3://...")`` reads the lab's S3: moto locally, S3 on AWS.

Java: a local Spark starts ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else java on PATH
(:func:`check_java` says clearly when it is missing).

``master=`` or the environment variable ``SPARK_MASTER`` selects a real cluster (``spark://``, ``yarn``, ...)
or a Spark Connect server (``sc://host:15002``).

Faster start-up: ``python -m gluelab.warmup --build-cds`` (run by ``make``) records the classes the JVM loads while
Spark runs a small workload into an AppCDS archive (``~/.cache/gluelab/cds/``, keyed on the Java runtime,
PySpark and the data plane's jar). Local sessions then map it instead of loading and verifying those classes
one by one. An archive that no longer matches is ignored by the JVM (and by its key), never an error;
``GLUELAB_CDS=0`` switches it off.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from . import s3fs

DEFAULT_MASTER = "local[2]"
LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2.properties"

#: SQL settings that suit small data and make output reproducible (they also apply over Spark Connect).
SQL_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}

_lock = threading.Lock()
_session = None
_plane: dict | None = None  # the Hadoop settings the running session's data plane was given


def session(*, endpoint_url: str | None = None, region: str = "us-east-1", master: str | None = None,
            credentials: tuple | None = None, writable: str | None = None):
    """The process's SparkSession, started on first call; later calls return the same session.

    ``endpoint_url``: the S3 endpoint for ``s3://`` paths (the local lab's moto server, or any S3-compatible
    server); ``None`` means AWS itself in ``region``. ``credentials``: ``(access_key, secret_key[, token])``;
    without it, see :func:`gluelab.s3fs.hadoop_conf`. ``master``: overrides ``SPARK_MASTER`` and the default
    ``local[2]``. ``writable``: a bucket-name prefix outside of which Spark may not write or delete (see
    :func:`gluelab.s3fs.hadoop_conf`). A later call with another endpoint, region, credentials or ``writable``
    re-points the data plane of the running session; a different master needs a new process (or
    ``session().stop()`` first).
    """
    global _session
    with _lock:
        if _session is not None and _alive(_session):
            _repoint(_session, endpoint_url, region, credentials, writable)
            return _session
        master = master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER
        if master.startswith("sc://"):
            _session = _connect(master, endpoint_url, region, credentials, writable)
        else:
            _session = _classic(master, endpoint_url, region, credentials, writable)
        return _session


def _alive(spark) -> bool:
    sc = getattr(spark, "_sc", None)
    if sc is not None:
        return sc._jsc is not None
    return not getattr(spark, "is_stopped", False)


def _wants_plane(master: str, endpoint_url: str | None) -> bool:
    """Local Spark always uses gluelab's data plane; a cluster only when pointed at a lab endpoint (otherwise
    its own S3 support, e.g. EMRFS or S3A, is left alone)."""
    return master.startswith("local") or bool(endpoint_url)


def check_java() -> Path:
    """The java a local Spark starts: ``$JAVA_HOME/bin/java`` when JAVA_HOME is set (Spark's launcher uses it,
    whatever PATH says), else java on PATH. Raises RuntimeError saying what to do when it is not there."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            raise RuntimeError(f"JAVA_HOME is set to {home}, but {java} does not exist: Spark starts the java of "
                               "JAVA_HOME. Point JAVA_HOME at a Java 17+ installation (the folder holding bin/java) "
                               "or unset it to use java on PATH.")
        return java
    found = shutil.which("java")
    if not found:
        raise RuntimeError("java was not found: Spark needs Java 17 or newer. Install a JDK (e.g. `apt-get install "
                           "openjdk-17-jdk-headless`) and put its bin/ on PATH, or set JAVA_HOME to it.")
    return Path(found)


def _classic(master: str, endpoint_url, region, credentials, writable=None):
    local = master.startswith("local")
    if local:
        check_java()
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need this venv's pyarrow and pandas
    java_opts = "-Duser.timezone=UTC"
    if LOG4J_CONFIG.is_file():  # shipped with the package; without it Spark logs WARN and above
        java_opts += f" -Dlog4j.configurationFile={LOG4J_CONFIG.as_uri()}"
    if local:
        java_opts += _cds_options()
    conf = {
        "spark.app.name": "gluelab",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": java_opts,
        "spark.executor.extraJavaOptions": java_opts,
        # managed tables (rare here: catalog tables are external, in S3) go to a scratch folder, never the cwd
        "spark.sql.warehouse.dir": tempfile.mkdtemp(prefix="gluelab-warehouse-"),
        **SQL_CONF,
    }
    if _wants_plane(master, endpoint_url):
        plane = s3fs.spark_conf(endpoint_url, region, credentials, writable)
        if not local:
            plane["spark.jars"] = s3fs.jar_path()  # shipped to the executors
        conf.update(plane)
    try:
        spark = _build(master, conf)
    except Exception:
        if "SharedArchiveFile" not in java_opts:
            raise
        # A damaged class-data archive can stop the JVM from starting: drop it and start without.
        _discard_cds_archive()
        plain = java_opts[:java_opts.index(" -XX:SharedArchiveFile")]
        spark = _build(master, {**conf, "spark.driver.extraJavaOptions": plain,
                                "spark.executor.extraJavaOptions": plain})
    if _wants_plane(master, endpoint_url):
        _remember(endpoint_url, region, credentials, writable)
        _check_plane(spark)
    return spark


def _check_plane(spark) -> None:
    """Make sure the data plane is configured even when a SparkSession existed before (then the static
    settings above were ignored), and say so when its classes are not on the JVM's class path."""
    hadoop = spark._jsc.hadoopConfiguration()
    for key, value in _plane.items():
        hadoop.set(key, value)
    if hadoop.getClassByNameOrNull(s3fs.FS_CLASS) is None:
        warnings.warn("this SparkSession was started before gluelab.spark.session() and without gluelab's S3 "
                      f"data plane on its class path: s3:// paths will not work. Restart the Python process "
                      f"(kernel), or start Spark with --driver-class-path {s3fs.jar_path()}", stacklevel=3)


def jvm_log_path() -> Path:
    """Where the local JVM's own stderr goes (its start-up notices and anything log4j prints)."""

    return Path(tempfile.gettempdir()) / f"gluelab-spark-{os.getpid()}.log"


@contextlib.contextmanager
def _jvm_stderr_to_log():
    """Start the JVM with its stderr in :func:`jvm_log_path` instead of this process's stderr.

    The JVM writes notices such as "WARNING: Using incubator modules" straight to file descriptor 2, which a
    Jupyter kernel turns into cell output that appears in some runs and not others. The child process inherits
    the descriptor while it is pointed at the log file; Python's own stderr is restored right after.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): leave it alone
        yield
        return
    log = os.open(jvm_log_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


@contextlib.contextmanager
def _jvm_in_its_own_process_group():
    """Start the driver JVM (PySpark's gateway) in a process group of its own.

    Why: a Jupyter kernel asked to shut down first signals every process in its own process group and waits
    until none is left. The JVM is one of them and, once it has exited, stays listed (a child the kernel never
    waits for) until the kernel's schedule of waits runs out: ~30 s, so Jupyter kills the kernel after its
    own grace period instead (2.5 s for nbclient, papermill and nbval, per notebook). In a group of its own the
    JVM is not waited for; it still ends with the Python process, as PySpark's JVM always does when its stdin
    closes. It already ignores Ctrl-C (SIGINT), so nothing a learner does reaches it differently.
    """
    from pyspark import java_gateway

    original = java_gateway.Popen
    java_gateway.Popen = functools.partial(original, process_group=0)
    try:
        yield
    finally:
        java_gateway.Popen = original


def _build(master: str, conf: dict):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    with _jvm_stderr_to_log() if master.startswith("local") else contextlib.nullcontext(), \
            _jvm_in_its_own_process_group():
        return builder.getOrCreate()


def _connect(url: str, endpoint_url, region, credentials, writable=None):
    try:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.remote(url)
    except ImportError as e:  # grpc and friends are optional
        raise ImportError(f"Spark Connect ({url}) needs PySpark's connect extra: pip install "
                          f"'pyspark[connect]' ({e})") from None
    spark = builder.getOrCreate()
    for key, value in SQL_CONF.items():
        spark.conf.set(key, value)
    if endpoint_url:
        # A Connect session copies its SQL settings into the Hadoop configuration its file reads use.
        for key, value in s3fs.hadoop_conf(endpoint_url, region, credentials, writable=writable).items():
            spark.conf.set(key, value)
        warnings.warn(
            f"Spark Connect: s3:// paths are routed to {endpoint_url} through gluelab's S3 data plane, which "
            f"runs on the Connect server: its jar must be on the server's class path (start the server with "
            f"--jars {s3fs.JAR} after `python -m gluelab.s3fs --build`), and the server must reach the "
            f"endpoint.", stacklevel=3)
        _remember(endpoint_url, region, credentials, writable)
    return spark


def _remember(endpoint_url, region, credentials, writable) -> None:
    global _plane
    _plane = s3fs.hadoop_conf(endpoint_url, region, credentials, writable=writable)


def _repoint(spark, endpoint_url, region, credentials, writable=None) -> None:
    """Re-points the running session's data plane when a later call asks for another endpoint/region/keys."""
    global _plane
    if _plane is None:
        return
    wanted = s3fs.hadoop_conf(endpoint_url, region, credentials, writable=writable)
    if wanted == _plane:
        return
    if getattr(spark, "_sc", None) is None:  # Spark Connect
        for key, value in wanted.items():
            spark.conf.set(key, value)
    else:
        hconf = spark._jsc.hadoopConfiguration()
        for key in _plane:
            if key not in wanted:
                hconf.unset(key)
        for key, value in wanted.items():
            hconf.set(key, value)
        # Cached FileSystem instances hold the old settings: stop caching them from now on.
        for key in wanted:
            if key.startswith("fs.") and key.endswith(".impl") and "AbstractFileSystem" not in key:
                hconf.set(key + ".disable.cache", "true")
    _plane = wanted


# ---- AppCDS: a class-data archive for faster JVM start-up ---------------------------------------------

_CDS_QUIET = " -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"


def _cds_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gluelab" / "cds"


def _java_binary() -> Path | None:
    """The java PySpark will launch (:func:`check_java`), resolved; None when there is none."""
    try:
        return check_java().resolve()
    except RuntimeError:
        return None


def cds_archive_path() -> Path | None:
    """Where the archive for this Java runtime, PySpark and data-plane jar lives (it may not exist yet).

    The name is ``spark-<pyspark version>-<installation>-<state>.jsa``: ``installation`` names this PySpark
    and data-plane jar by their paths (two checkouts on one machine each keep their own archive), ``state``
    changes whenever Java, PySpark's files or the jar change (a stale archive is never picked up).
    """
    import pyspark

    java = _java_binary()
    if java is None:
        return None
    jar = Path(s3fs.jar_path())
    installation = "|".join([pyspark.__file__, str(jar)])
    state = "|".join([str(java), str(java.stat().st_mtime_ns), pyspark.__version__,
                      str(jar.stat().st_mtime_ns), sys.version.split()[0]])
    return _cds_dir() / (f"spark-{pyspark.__version__}-{_short_hash(installation, 8)}-"
                         f"{_short_hash(state, 12)}.jsa")


def cds_installation(archive: Path) -> str | None:
    """The installation part of an archive's name (see :func:`cds_archive_path`); None for other names."""
    parts = archive.stem.split("-")
    return parts[2] if len(parts) == 4 and parts[0] == "spark" else None


def _short_hash(text: str, digits: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:digits]


def _cds_options() -> str:
    """JVM options for the archive: record it (while building) or use it (when present and not disabled)."""
    dump = os.environ.get("GLUELAB_CDS_DUMP")
    if dump:
        return f" -XX:ArchiveClassesAtExit={dump}" + _CDS_QUIET
    if os.environ.get("GLUELAB_CDS", "1") == "0":
        return ""
    try:
        archive = cds_archive_path()
    except OSError:
        return ""
    if archive is None or not archive.is_file() or " " in str(archive):
        return ""
    try:  # a partly overwritten archive crashes the JVM: only use it at the size it was built with
        if int(archive.with_suffix(".size").read_text()) != archive.stat().st_size:
            return ""
    except (OSError, ValueError):
        return ""
    return f" -XX:SharedArchiveFile={archive}" + _CDS_QUIET


def _discard_cds_archive() -> None:
    with contextlib.suppress(OSError, RuntimeError):
        archive = cds_archive_path()
        if archive is not None:
            for suffix in (".jsa", ".size", ".owner"):
                archive.with_suffix(suffix).unlink(missing_ok=True)
