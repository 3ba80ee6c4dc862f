"""Execute the lessons with papermill and write build/summary.md (what `make run` does).

Why: every lesson must run top to bottom on a clean kernel, locally and on AWS. This runs each
notebooks/NN_*.ipynb in order (and solutions/NN_*_exercises.ipynb with --solutions) in a fresh `python3`
kernel whose working directory is the notebook's own folder, saves the executed copy under build/ (the
sources are never modified), keeps going after a failure, and writes a table of status and duration.

Usage (from the project root, with the project's virtualenv):
  python tools/run_lessons.py                          every lesson
  python tools/run_lessons.py --only 01 --only 03      some lessons (a file-name start; or --only 01,03)
  python tools/run_lessons.py -p backend aws -p prefix my-lab -p region eu-west-1
                                                       parameters for every notebook (values are read as
                                                       papermill's -p reads them: True/False/None, int, float,
                                                       otherwise text)
  python tools/run_lessons.py --solutions              the lessons, then the solution notebooks
Other options: --timeout SECONDS (per cell; default none), --kernel NAME (default python3), --root DIR,
--out DIR (default build).
Output: build/notebooks/*.ipynb, build/solutions/*.ipynb (each with a .kernel.log of the kernel process's own
stderr), build/summary.md. Exit status: 0 all ran, 1 some failed, 2 nothing matched --only.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
from pathlib import Path

LESSON_GLOB = "[0-9][0-9]_*.ipynb"


def parse_value(text: str):
    """A command-line parameter value, typed the way papermill's own `-p` types it."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def select(paths: list[Path], only: list[str]) -> list[Path]:
    """The paths whose file name starts with one of `only` (all of them when `only` is empty)."""
    if not only:
        return paths
    return [p for p in paths if any(p.name.startswith(o) for o in only)]


def first_error_line(error: BaseException) -> str:
    """One line naming the error, e.g. 'NotImplementedError: write the join (In [7])'."""
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    if ename is not None:
        text = f"{ename}: {evalue}" if evalue else str(ename)
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
    if getattr(error, "exec_count", None) is not None:
        line += f" (In [{error.exec_count}])"
    return line


@contextlib.contextmanager
def stderr_to(path: Path):
    """Send this process's file descriptor 2, which the kernel inherits, to a file for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "wb") as log:
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_one(source: Path, output: Path, parameters: dict, kernel: str, timeout: float | None) -> str | None:
    """Execute one notebook; None when it ran to the end, else the first line of the error.

    The kernel process's own stderr (its start-up warnings, the JVM's messages) goes to OUTPUT.kernel.log,
    so it does not interleave with the progress lines; what cells print is in the executed notebook.
    """
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with stderr_to(output.with_suffix(".kernel.log")):
            papermill.execute_notebook(str(source), str(output), parameters=parameters, kernel_name=kernel,
                                       cwd=str(source.parent), progress_bar=False, log_output=False,
                                       execution_timeout=timeout)
    except Exception as e:  # noqa: BLE001 - a failed cell, a dead kernel, a timeout: reported, run goes on
        return first_error_line(e)
    return None


def write_summary(path: Path, rows: list[tuple[str, str, float]], parameters: dict) -> None:
    """build/summary.md: one table row per notebook."""
    failed = sum(1 for _, status, _ in rows if status != "ok")
    lines = ["# make run: summary", ""]
    shown = ", ".join(f"`{k}={v!r}`" for k, v in parameters.items()) or "the notebooks' defaults"
    total = sum(s for _, _, s in rows)
    lines += [f"Parameters: {shown}. {len(rows) - failed} ok, {failed} failed, {total:.1f} s in all.", ""]
    lines += ["| notebook | status | seconds |", "| --- | --- | ---: |"]
    for name, status, seconds in rows:
        cell = re.sub(r"\s+", " ", status).replace("|", "\\|")
        if len(cell) > 200:
            cell = cell[:197] + "..."
        lines.append(f"| {name} | {cell} | {seconds:.1f} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter for every notebook (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="NN",
                        help="run only notebooks whose name starts with this (repeatable, or a,b)")
    parser.add_argument("--solutions", action="store_true", help="also run solutions/*.ipynb")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per cell (default: none)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default: %(default)s)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="project root (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/build)")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    out = (args.out or root / "build").resolve()
    only = [o.strip() for item in args.only for o in item.split(",") if o.strip()]
    parameters = {name: parse_value(value) for name, value in args.parameter}
    folders = ["notebooks"] + (["solutions"] if args.solutions else [])
    jobs = [(folder, path) for folder in folders
            for path in select(sorted((root / folder).glob(LESSON_GLOB)), only)]
    if only and not jobs:
        print(f"no notebook in {', '.join(folders)} matches --only {','.join(only)}", file=sys.stderr)
        return 2
    # papermill's warnings (e.g. "Passed unknown parameter") go with the progress lines
    logging.basicConfig(level=logging.WARNING, format="    %(name)s: %(message)s", stream=sys.stdout)

    shown = " ".join(f"{k}={v!r}" for k, v in parameters.items()) or "the notebooks' defaults"
    print(f"running {len(jobs)} notebook{'' if len(jobs) == 1 else 's'} with {shown}", flush=True)
    rows: list[tuple[str, str, float]] = []
    for number, (folder, source) in enumerate(jobs, start=1):
        name = f"{folder}/{source.name}"
        print(f"[{number}/{len(jobs)}] {name}", flush=True)
        started = time.perf_counter()
        error = run_one(source, out / folder / source.name, parameters, args.kernel, args.timeout)
        seconds = time.perf_counter() - started
        status = "ok" if error is None else f"failed: {error}"
        print(f"    {status} ({seconds:.1f} s)", flush=True)
        rows.append((name, status, seconds))

    write_summary(out / "summary.md", rows, parameters)
    failed = [name for name, status, _ in rows if status != "ok"]
    print(f"{len(rows) - len(failed)} ok, {len(failed)} failed; executed copies and summary.md in "
          f"{out.relative_to(root) if out.is_relative_to(root) else out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
