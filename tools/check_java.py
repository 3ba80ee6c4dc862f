"""Check that Java >= 17 (with javac) is on PATH; Spark and gluelab's S3 data plane need it.

Exits non-zero with a message that says how to get Java when it is missing or too old.
"""
import re
import shutil
import subprocess
import sys

HOW = ("Install a JDK 17 or newer: `sudo apt-get install openjdk-17-jdk-headless` (Debian/Ubuntu), "
       "`brew install openjdk@17` (macOS), or `conda env create -f environment.yml` (conda), "
       "then make sure `java` and `javac` are on PATH or JAVA_HOME points at it.")


def main() -> int:
    java = shutil.which("java")
    if not java:
        print(f"Java was not found. {HOW}", file=sys.stderr)
        return 1
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m.group(2):  # "1.8" style
        major = int(m.group(2))
    if major < 17:
        print(f"Java {major or '?'} found at {java}; gluelab needs Java 17 or newer. {HOW}", file=sys.stderr)
        return 1
    if not shutil.which("javac"):
        print(f"Java {major} found, but not javac (the JDK's compiler, needed once to build the S3 data "
              f"plane). {HOW}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
