"""The S3 data plane: how Spark's own ``spark.read``/``df.write`` reach ``s3://`` paths in the lab's S3.

PySpark ships Hadoop's client but not its S3 connector (hadoop-aws), so gluelab carries a small Hadoop
``FileSystem`` for the ``s3`` scheme (``java/*.java``, package ``gluelab.s3``) that speaks S3's REST API over
plain HTTP(S) with SigV4 signatures: to moto's server on the local backend, to ``s3.<region>.amazonaws.com``
on the aws backend. Data written by Spark lives in the lab's S3, so boto3, the AWS CLI, the crawler and S3
event notifications all see it.

The Java sources are compiled with the JDK's ``javac`` against the jars PySpark ships, once, into
``lib/gluelab/_build/`` (rebuilt when the sources, PySpark or the JDK change), under a file lock so parallel
processes do not race. ``python -m gluelab.s3fs --build`` does it ahead of time (``make venv`` runs it). Only
building needs javac: where there is none, a jar already built for these sources and this PySpark is used.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "java"
BUILD = HERE / "_build"
JAR = BUILD / "gluelab-s3fs.jar"
STAMP = BUILD / "gluelab-s3fs.json"

#: The Hadoop FileSystem class and the FileContext adapter, as Hadoop's configuration names them.
FS_CLASS = "gluelab.s3.S3FileSystem"
AFS_CLASS = "gluelab.s3.S3Fs"
#: The output committer Spark's file writes use: FileOutputCommitter v1 whose job commit is all or nothing
#: (the files it moved are deleted again when the commit fails or the job run is stopped).
COMMITTER_CLASS = "gluelab.s3.RollbackCommitter"
#: Tracks stopped job runs for the committer (``RunControl.cancel(run_id)``, ``RunControl.committing(run_id)``).
RUN_CONTROL_CLASS = "gluelab.s3.RunControl"
#: Prefix of the file system's own Hadoop configuration keys.
CONF_PREFIX = "fs.gluelab.s3."


class BuildError(RuntimeError):
    """The data plane's Java sources could not be compiled."""


def _pyspark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "jars"


def _find_javac() -> str | None:
    """The JDK's compiler: ``$JAVA_HOME/bin/javac`` when JAVA_HOME is set and has one, else javac on PATH."""
    home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(home) / "bin" / "javac")] if home else []
    candidates.append(shutil.which("javac") or "")
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _javac() -> str:
    javac = _find_javac()
    if javac is None:
        missing = "" if JAR.is_file() else " and no built jar is there"
        raise BuildError(f"building gluelab's S3 data plane ({JAR}) needs javac (the JDK's compiler), which was "
                         f"not found{missing}. Only building needs javac: install a JDK 17+ (e.g. `apt-get install "
                         "openjdk-17-jdk-headless`) or set JAVA_HOME to one, then run `python -m gluelab.s3fs "
                         "--build`; or copy a jar that command built for the same PySpark into "
                         f"{BUILD}.")
    return javac


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for src in sorted(SOURCES.glob("*.java")):
        digest.update(src.name.encode() + b"\0" + src.read_bytes())
    return digest.hexdigest()


def _fingerprint(javac: str) -> dict:
    """What the jar depends on: the Java sources, PySpark's version and the compiler (no subprocess)."""
    import pyspark

    compiler = Path(javac).resolve()  # a JDK upgrade changes the real path or its time stamp
    return {"sources": _sources_digest(), "pyspark": pyspark.__version__,
            "javac": f"{compiler}@{int(compiler.stat().st_mtime)}"}


def _built_jar_without_javac() -> str:
    """The jar when javac is missing: used if it was built from these sources for this PySpark (or carries no
    record of what it was built from); BuildError saying what to do otherwise."""
    import pyspark

    if not JAR.is_file():
        _javac()  # raises: neither a jar nor javac
    try:
        built = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return str(JAR)
    if built.get("sources") == _sources_digest() and built.get("pyspark") == pyspark.__version__:
        return str(JAR)
    raise BuildError(f"{JAR} was built from other Java sources or for another PySpark ({built.get('pyspark')}; "
                     f"this is {pyspark.__version__}), and rebuilding it needs javac (the JDK's compiler), which "
                     "was not found: install a JDK 17+ (e.g. `apt-get install openjdk-17-jdk-headless`) or set "
                     "JAVA_HOME to one, then run `python -m gluelab.s3fs --build`.")


def _up_to_date(fingerprint: dict) -> bool:
    try:
        return JAR.is_file() and json.loads(STAMP.read_text()) == fingerprint
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock held on ``path`` while the block runs (POSIX flock; a no-op where fcntl is missing),
    so parallel processes (papermill, pytest-xdist) do not build the same file at once."""
    with open(path, "w") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _locked():
    """An exclusive lock on _build/."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with file_lock(BUILD / ".lock"):
        yield


def jar_path(rebuild: bool = False) -> str:
    """The data plane's jar, compiled first if it is missing or out of date. Returns its absolute path.

    Only building needs javac: without it a jar already built (here, or copied from a machine with the same
    PySpark) is used as it is."""
    javac = _find_javac()
    if javac is None and not rebuild:
        return _built_jar_without_javac()
    javac = javac or _javac()
    fingerprint = _fingerprint(javac)
    if not rebuild and _up_to_date(fingerprint):
        return str(JAR)
    with _locked():
        if rebuild or not _up_to_date(fingerprint):   # another process may have built it meanwhile
            _compile(fingerprint, javac)
    return str(JAR)


def _compile(fingerprint: dict, javac: str) -> None:
    sources = sorted(str(p) for p in SOURCES.glob("*.java"))
    if not sources:
        raise BuildError(f"no Java sources in {SOURCES}")
    with tempfile.TemporaryDirectory(prefix="gluelab-javac-", dir=BUILD) as tmp:
        classes = Path(tmp) / "classes"
        cmd = [javac, "--release", "17", "-nowarn", "-encoding", "UTF-8",
               "-cp", str(_pyspark_jars() / "*"), "-d", str(classes), *sources]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError("compiling gluelab's S3 data plane failed:\n" + done.stdout + done.stderr)
        staged = Path(tmp) / JAR.name
        with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: gluelab\n\n")
            for cls in sorted(classes.rglob("*.class")):
                jar.write(cls, cls.relative_to(classes).as_posix())
        os.replace(staged, JAR)  # atomic: a running JVM keeps reading the old file
    STAMP.write_text(json.dumps(fingerprint, indent=1) + "\n")


def default_schemes() -> tuple[str, ...]:
    """``s3`` always; ``s3a`` too unless PySpark's jars include hadoop-aws (then S3A keeps ``s3a://``)."""
    return ("s3",) if any(_pyspark_jars().glob("hadoop-aws-*.jar")) else ("s3", "s3a")


def hadoop_conf(endpoint_url: str | None = None, region: str = "us-east-1",
                credentials: tuple | None = None, *, schemes: tuple[str, ...] | None = None,
                writable: str | None = None) -> dict:
    """Hadoop configuration keys (without Spark's ``spark.hadoop.`` prefix) that route ``schemes`` to
    gluelab's file system.

    ``endpoint_url`` is the lab's S3 (moto) or any S3-compatible server, addressed path-style; ``None`` means
    AWS itself (``https://s3.<region>.amazonaws.com``, virtual-hosted addressing). ``credentials`` is
    ``(access_key, secret_key)`` or ``(access_key, secret_key, session_token)``. Without it: the local
    endpoint uses the environment's keys or moto's fake ones; AWS uses boto3's credential chain through a
    credential process (``python -m gluelab.s3fs --credentials``), re-read before temporary keys expire.
    ``writable``: a bucket-name prefix; when given, Spark creates, renames and deletes files only in buckets
    whose names start with it (the aws backend passes the lab's ``<prefix>--``).
    """
    conf = {
        CONF_PREFIX + "endpoint": endpoint_url or "",
        CONF_PREFIX + "region": region,
        CONF_PREFIX + "path.style.access": "true" if endpoint_url else "false",
        # v1: task output is moved into the destination only at job commit, so failures leave nothing behind.
        "mapreduce.fileoutputcommitter.algorithm.version": "1",
        # ... and a commit that fails half-way (or whose job run is stopped) takes back what it had moved
        "spark.sql.sources.outputCommitterClass": COMMITTER_CLASS,
        "spark.sql.parquet.output.committer.class": COMMITTER_CLASS,
    }
    if writable:
        conf[CONF_PREFIX + "write.bucket.prefix"] = writable
    for scheme in schemes or default_schemes():
        conf[f"fs.{scheme}.impl"] = FS_CLASS
        conf[f"fs.AbstractFileSystem.{scheme}.impl"] = AFS_CLASS
    if credentials:
        access, secret, *rest = credentials
        conf[CONF_PREFIX + "access.key"] = access
        conf[CONF_PREFIX + "secret.key"] = secret
        if rest and rest[0]:
            conf[CONF_PREFIX + "session.token"] = rest[0]
    elif endpoint_url:
        conf[CONF_PREFIX + "access.key"] = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
        conf[CONF_PREFIX + "secret.key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    else:
        conf[CONF_PREFIX + "credentials.process"] = f"{sys.executable} -m gluelab.s3fs --credentials"
    return conf


def spark_conf(endpoint_url: str | None = None, region: str = "us-east-1",
               credentials: tuple | None = None, writable: str | None = None) -> dict:
    """Spark configuration for the data plane: the jar on the driver's and executors' class path and
    :func:`hadoop_conf` as ``spark.hadoop.*`` keys."""
    jar = jar_path()
    conf = {"spark.driver.extraClassPath": jar, "spark.executor.extraClassPath": jar}
    conf.update({"spark.hadoop." + k: v for k, v in hadoop_conf(endpoint_url, region, credentials,
                                                                       writable=writable).items()})
    return conf


def _print_credentials() -> int:
    """Prints boto3's current credentials in the AWS CLI's credential_process format (for the Java side)."""
    import boto3

    creds = boto3.Session().get_credentials()
    if creds is None:
        print("no AWS credentials found (configure them as for the AWS CLI)", file=sys.stderr)
        return 1
    frozen = creds.get_frozen_credentials()
    out = {"Version": 1, "AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key}
    if frozen.token:
        out["SessionToken"] = frozen.token
    expiry = getattr(creds, "_expiry_time", None)
    if expiry is not None:
        out["Expiration"] = expiry.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps(out))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gluelab.s3fs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="compile the jar if needed and print its path")
    parser.add_argument("--rebuild", action="store_true", help="compile the jar even if it is up to date")
    parser.add_argument("--credentials", action="store_true",
                        help="print boto3's credentials as credential_process JSON (used by the Java side)")
    args = parser.parse_args(argv)
    if args.credentials:
        return _print_credentials()
    if args.build or args.rebuild:
        try:
            print(jar_path(rebuild=args.rebuild))
        except BuildError as e:
            print(e, file=sys.stderr)
            return 1
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
