"""The set-up files agree with each other: one set of pins, a self-documenting Makefile, CI calls make test; and
the set-up checks say what to do: which Python (``make PYTHON=python3.11``), which Java (JAVA_HOME first), javac
only to build the S3 data plane's jar."""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.-]+(?:\[[^\]]*\])?)==(\S+)\s*$")


def pins(text: str) -> dict:
    return {m.group(1).lower(): m.group(2) for line in text.splitlines() if (m := PIN.match(line))}


def test_environment_yml_pins_exactly_what_the_makefile_installs():
    req = pins((ROOT / "requirements.txt").read_text())
    env_text = (ROOT / "environment.yml").read_text()
    env = pins(env_text.split("- pip:", 1)[1])
    assert req and env == req
    assert "python=3.11" in env_text and "openjdk=17" in env_text


def test_every_requirement_is_pinned_and_moto_exactly():
    lines = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert all(PIN.match(ln) for ln in lines), [ln for ln in lines if not PIN.match(ln)]
    assert pins("\n".join(lines))["moto[server]"] == "5.2.5"


def test_makefile_help_lists_the_documented_targets():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for target in ("run", "test", "lab", "bench", "exercises", "clean"):
        assert re.search(rf"make {target}\s+\S", out), f"`make help` does not describe {target}:\n{out}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


# ---- set-up messages: which Python, which Java, javac only to build -----------------------------------------

REAL_JAVA = Path(shutil.which("java") or "/nonexistent").resolve()


def fake_jdk(folder: Path, version: str, javac: bool = True, log: Path | None = None) -> Path:
    """A folder shaped like a JDK whose bin/java reports ``version`` (or, with ``log``, records its arguments
    there and runs the real java)."""
    (folder / "bin").mkdir(parents=True)
    if log:
        body = f'echo "$@" >> {log}\nexec {REAL_JAVA} "$@"\n'
    else:
        body = f'echo \'openjdk version "{version}" 2024-01-16\' >&2\n'
    tools = ["java", "javac"] if javac else ["java"]
    for name in tools:
        (folder / "bin" / name).write_text("#!/bin/sh\n" + body)
        (folder / "bin" / name).chmod(0o755)
    return folder


def run_make_java(env_updates: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env.update(env_updates)
    return subprocess.run(["make", "-s", "java", f"PYTHON={sys.executable}"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_make_checks_the_java_of_java_home_not_the_one_on_path(tmp_path):
    old = fake_jdk(tmp_path / "jdk11", "11.0.2")
    new = fake_jdk(tmp_path / "jdk17", "17.0.9")
    path = f"{new / 'bin'}:{os.environ['PATH']}"          # a good java on PATH...
    done = run_make_java({"JAVA_HOME": str(old), "PATH": path})
    assert done.returncode != 0                            # ...but JAVA_HOME names an old one: refused
    assert f"Java 11 found at {old / 'bin' / 'java'} (from JAVA_HOME" in done.stderr
    path = f"{old / 'bin'}:{os.environ['PATH']}"
    assert run_make_java({"JAVA_HOME": str(new), "PATH": path}).returncode == 0
    empty = tmp_path / "not-a-jdk"
    empty.mkdir()
    done = run_make_java({"JAVA_HOME": str(empty)})
    assert done.returncode != 0 and f"JAVA_HOME is set to {empty}, but it has no bin/java" in done.stderr


@pytest.mark.parametrize("built", [True, False])
def test_without_javac_an_already_built_jar_is_enough(tmp_path, built):
    checkout = tmp_path / "checkout"
    (checkout / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "check_java.py", checkout / "tools")
    jar = checkout / "lib" / "gluelab" / "_build" / "gluelab-s3fs.jar"
    if built:
        jar.parent.mkdir(parents=True)
        jar.write_bytes(b"PK")
    jre = fake_jdk(tmp_path / "jre17", "17.0.9", javac=False)
    env = {"JAVA_HOME": str(jre), "PATH": str(tmp_path / "nothing-else")}
    done = subprocess.run([sys.executable, str(checkout / "tools" / "check_java.py")], env=env,
                          capture_output=True, text=True, timeout=60)
    if built:
        assert done.returncode == 0 and "only rebuilding it needs javac" in done.stdout
    else:
        assert done.returncode == 1
        assert "not javac" in done.stderr and "only building it needs javac" in done.stderr


def test_the_data_plane_uses_a_built_jar_when_javac_is_missing(tmp_path, monkeypatch):
    import json

    import pyspark

    from gluelab import s3fs

    build = tmp_path / "_build"
    monkeypatch.setattr(s3fs, "BUILD", build)
    monkeypatch.setattr(s3fs, "JAR", build / "gluelab-s3fs.jar")
    monkeypatch.setattr(s3fs, "STAMP", build / "gluelab-s3fs.json")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "no-jdk"))
    with pytest.raises(s3fs.BuildError, match="Only building needs javac") as err:
        s3fs.jar_path()
    assert "no built jar is there" in str(err.value)
    build.mkdir()
    s3fs.JAR.write_bytes(b"PK")
    assert s3fs.jar_path() == str(s3fs.JAR)                      # a jar with no record of its build: used
    stamp = {"sources": s3fs._sources_digest(), "pyspark": pyspark.__version__, "javac": "/elsewhere/javac@1"}
    s3fs.STAMP.write_text(json.dumps(stamp))
    assert s3fs.jar_path() == str(s3fs.JAR)                      # built elsewhere from the same sources: used
    s3fs.STAMP.write_text(json.dumps({**stamp, "pyspark": "3.0.0"}))
    with pytest.raises(s3fs.BuildError, match="for another PySpark .*rebuilding it needs javac"):
        s3fs.jar_path()


def test_spark_starts_the_java_of_java_home(tmp_path, monkeypatch):
    from gluelab import spark

    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "gone"))
    with pytest.raises(RuntimeError, match="JAVA_HOME is set to .*gone.*bin/java does not exist"):
        spark.check_java()
    log = tmp_path / "java-calls.log"
    jdk = fake_jdk(tmp_path / "jdk", "", javac=False, log=log)     # javac: the one on PATH
    monkeypatch.setenv("JAVA_HOME", str(jdk))
    assert spark.check_java() == jdk / "bin" / "java"
    env = {**os.environ, "GLUELAB_CDS": "0", "SPARK_LOCAL_IP": "127.0.0.1"}
    code = "from gluelab import spark; print(spark.session().range(3).count())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().endswith("3"), done.stderr[-2000:]
    assert "org.apache.spark" in log.read_text()                 # Spark was started by JAVA_HOME's java


def load_check_python():
    spec = importlib.util.spec_from_file_location("check_python", ROOT / "tools" / "check_python.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_python_check_says_how_to_choose_python_3_11(capsys):
    check = load_check_python()
    assert check.main() == 0                                     # the tests run on 3.11
    assert check.main(version=(3, 12, 1), executable="/usr/bin/python3") == 1
    err = capsys.readouterr().err
    assert "gluelab needs Python 3.11, but /usr/bin/python3 is Python 3.12.1" in err
    assert "make PYTHON=python3.11 venv" in err and "Traceback" not in err
    done = subprocess.run(["make", "-s", "java", "PYTHON=no-such-python3"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "make PYTHON=python3.11" in done.stderr
