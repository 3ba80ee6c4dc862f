"""Check that Java >= 17 is there for Spark, and javac too unless gluelab's S3 data plane jar is already built.

The java checked is the one Spark will start: ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else java on PATH
(javac likewise, falling back to PATH as ``gluelab.s3fs`` does). Exits non-zero with a message that says how to
get Java when it is missing or too old. Only building the jar (``lib/gluelab/_build/gluelab-s3fs.jar``, made by
``python -m gluelab.s3fs --build``) needs javac: with the jar built, java alone is enough.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

JAR = Path(__file__).resolve().parents[1] / "lib" / "gluelab" / "_build" / "gluelab-s3fs.jar"
HOW = ("Install a JDK 17 or newer: `sudo apt-get install openjdk-17-jdk-headless` (Debian/Ubuntu), "
       "`brew install openjdk@17` (macOS), or `conda env create -f environment.yml` (conda), "
       "then make sure `java` and `javac` are on PATH or JAVA_HOME points at it.")


def tool(name: str) -> tuple:
    """``(path or None, where it was looked for)``: ``$JAVA_HOME/bin/<name>`` first when JAVA_HOME is set."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / name
        if os.access(candidate, os.X_OK):
            return str(candidate), f"JAVA_HOME ({home})"
        if name == "java":  # Spark starts JAVA_HOME's java, never one on PATH
            return None, f"JAVA_HOME ({home})"
    return shutil.which(name), "PATH"


def main() -> int:
    java, where = tool("java")
    if not java:
        if os.environ.get("JAVA_HOME"):
            print(f"JAVA_HOME is set to {os.environ['JAVA_HOME']}, but it has no bin/java, and Spark starts the "
                  f"java of JAVA_HOME. Point JAVA_HOME at a Java 17+ installation (the folder holding bin/java), "
                  f"or unset it to use java on PATH. {HOW}", file=sys.stderr)
        else:
            print(f"Java was not found. {HOW}", file=sys.stderr)
        return 1
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m.group(2):  # "1.8" style
        major = int(m.group(2))
    if major < 17:
        print(f"Java {major or '?'} found at {java} (from {where}); gluelab needs Java 17 or newer. {HOW}",
              file=sys.stderr)
        return 1
    if not tool("javac")[0]:
        if JAR.is_file():
            print(f"Java {major}: no javac, using the S3 data plane jar already built ({JAR}); only "
                  "rebuilding it needs javac.")
            return 0
        print(f"Java {major} found at {java}, but not javac (the JDK's compiler), and the S3 data plane jar is "
              f"not built yet ({JAR}): only building it needs javac, once. {HOW} Or copy a jar built by "
              f"`python -m gluelab.s3fs --build` (same PySpark) to that path.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
