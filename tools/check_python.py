"""Check that the Python ``make`` uses (``$(PYTHON)``, default python3) is 3.11, the version gluelab pins.

Written to run on any Python, old ones too, so the message (not a traceback) is what a learner sees.
"""
import sys

REQUIRED = (3, 11)


def main(version=None, executable=None):
    version = tuple(version or sys.version_info[:3])
    if version[:2] == REQUIRED:
        return 0
    sys.stderr.write(
        "gluelab needs Python {want}, but {exe} is Python {found}.\n"
        "Choose a Python {want} for make, e.g.: make PYTHON=python3.11 venv (or run, test, lab, ...)\n"
        "No Python {want}? Install it (`sudo apt-get install python3.11 python3.11-venv`, `brew install "
        "python@3.11`, pyenv or uv), or use conda: `conda env create -f environment.yml`.\n".format(
            want=".".join(map(str, REQUIRED)), found=".".join(map(str, version)),
            exe=executable or sys.executable))
    return 1


if __name__ == "__main__":
    sys.exit(main())
