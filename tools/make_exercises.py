"""Generate exercises/NN_topic_exercises.ipynb from solutions/NN_topic_exercises.ipynb.

Why: the solution notebook is the single source of an exercise. It is complete, runs top to bottom and is
tested like a lesson; the learner's copy is derived from it, so the two never drift apart.

Markers (the nbgrader conventions, each on a line of its own):

  code cells      ### BEGIN SOLUTION / ### END SOLUTION
                      the lines between become one stub, indented like the BEGIN line:
                      raise NotImplementedError("<hint>")
                  ### HINT: text
                      optional, only inside a solution region: the stub's message (several HINT lines are
                      joined with spaces); default "Exercise: replace this line with your code"
                  ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS
                      the region (markers included) is removed; a cell that held only hidden tests is left out
  markdown cells  <!-- BEGIN SOLUTION --> / <!-- END SOLUTION -->
                      the region (markers included) becomes "*Your answer here.*"

Malformed markers are errors, reported as "solutions/F.ipynb: cell C, line L: what is wrong" where C counts
the notebook's cells from 0 (all cell types) and L the cell's lines from 1: a region never closed, a region
inside another, an END without its BEGIN, a marker in the wrong cell type, an unknown `### BEGIN WORD`, a HINT
outside a solution region, or a line that looks like a marker but is not exactly one (`## BEGIN SOLUTION`).

The exercise copy has outputs and execution counts cleared, only `tags` kept in cell metadata, only the
kernelspec and the language name kept in notebook metadata, a first markdown cell saying it is generated, and
cell ids derived from each cell's type and source. It is written as nbformat 4.5 JSON (sorted keys), so
regenerating from an unchanged solution gives a byte-identical file.

Usage (from the project root, with the project's virtualenv; `make exercises` runs the first form):
  python tools/make_exercises.py           write exercises/ from solutions/ (and remove generated orphans)
  python tools/make_exercises.py --check   change nothing; list exercises that are missing, stale or
                                           orphaned (no solution) and exit 1 if there are any
  --root DIR                               the project root (default: the folder above tools/)
Exit status: 0 all good, 1 out of date (or an orphan that was not generated), 2 marker or naming errors.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

SOLUTIONS, EXERCISES = "solutions", "exercises"
NAME_RE = re.compile(r"^\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*_exercises\.ipynb$")
DEFAULT_HINT = "Exercise: replace this line with your code"
MARKDOWN_ANSWER = "*Your answer here.*"
BANNER = ("Generated from {source} by tools/make_exercises.py: do not edit; edit the solution and run "
          "`make exercises`")
BANNER_TAG = "generated-banner"

CODE_REGIONS = ("SOLUTION", "HIDDEN TESTS")
MARKDOWN_REGIONS = ("SOLUTION",)
# Exact marker lines.
CODE_MARKER_RE = re.compile(r"^(?P<indent>\s*)### (?P<kind>BEGIN|END) (?P<what>[A-Z][A-Z ]*?)\s*$")
HINT_RE = re.compile(r"^\s*### HINT:\s?(?P<text>.*?)\s*$")
MARKDOWN_MARKER_RE = re.compile(r"^\s*<!-- (?P<kind>BEGIN|END) (?P<what>[A-Z][A-Z ]*?) -->\s*$")
# Near misses (wrong number of '#', lower case, missing spaces) and markers of the other cell type. A line
# matching one of these that is not an exact marker for its cell is an error, not text silently left in the
# learner's copy.
CODE_LIKE_RE = re.compile(r"^\s*#+\s*(BEGIN|END)\s*(SOLUTION|HIDDEN\s*TESTS?)\b", re.IGNORECASE)
HINT_LIKE_RE = re.compile(r"^\s*#{3,}\s*HINT\b", re.IGNORECASE)
MARKDOWN_LIKE_RE = re.compile(r"^\s*<!--\s*(BEGIN|END)\s*(SOLUTION|HIDDEN\s*TESTS?)\b", re.IGNORECASE)
EXACT = ("markers are exactly '### BEGIN SOLUTION', '### END SOLUTION', '### BEGIN HIDDEN TESTS', "
         "'### END HIDDEN TESTS' and '### HINT: ...' in code cells, '<!-- BEGIN SOLUTION -->' and "
         "'<!-- END SOLUTION -->' in markdown cells")
# The line written in place of a solution region; tests use it to find where an exercise must stop.
STUB_RE = re.compile(r'^(?P<indent>\s*)raise NotImplementedError\((?P<message>".*")\)\s*$')


class MarkerError(Exception):
    """Malformed markers in one notebook; `problems` holds one message per marker, str() all of them."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def stub_line(indent: str, hint: str) -> str:
    """The line that replaces a solution region: `raise NotImplementedError("hint")`, a valid literal."""
    return f"{indent}raise NotImplementedError({json.dumps(hint, ensure_ascii=False)})"


def find_stubs(nb) -> list[tuple[int, str]]:
    """(cell index, message) of every generated stub in an exercise notebook, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                m = STUB_RE.match(line)
                if m:
                    found.append((index, json.loads(m.group("message"))))
    return found


def _transform_code(lines: list[str], at, problems: list[str]) -> list[str]:
    out: list[str] = []
    region = None  # (what, line number, indent) of the open region
    hints: list[str] = []
    for number, line in enumerate(lines, start=1):
        marker, hint = CODE_MARKER_RE.match(line), HINT_RE.match(line)
        if marker:
            kind, what = marker.group("kind"), marker.group("what")
            if what not in CODE_REGIONS:
                known = ", ".join(f"'### {kind} {w}'" for w in CODE_REGIONS)
                problems.append(at(number, f"unknown marker {line.strip()!r}; known: {known}"))
            elif kind == "BEGIN" and region:
                problems.append(at(number, f"'### BEGIN {what}' inside the '### BEGIN {region[0]}' opened on "
                                           f"line {region[1]}; regions cannot be nested"))
            elif kind == "BEGIN":
                region, hints = (what, number, marker.group("indent")), []
            elif not region:
                problems.append(at(number, f"'### END {what}' without a '### BEGIN {what}' before it"))
            elif what != region[0]:
                problems.append(at(number, f"'### END {what}' cannot close the '### BEGIN {region[0]}' "
                                           f"opened on line {region[1]}"))
                region = None
            else:
                if what == "SOLUTION":
                    out.append(stub_line(region[2], " ".join(hints) or DEFAULT_HINT))
                region = None
        elif hint:
            if region and region[0] == "SOLUTION":
                hints.append(hint.group("text"))
            else:
                problems.append(at(number, "'### HINT:' outside a '### BEGIN SOLUTION' region"))
        elif MARKDOWN_LIKE_RE.match(line):
            problems.append(at(number, f"markdown marker {line.strip()!r} in a code cell; {EXACT}"))
        elif CODE_LIKE_RE.match(line) or HINT_LIKE_RE.match(line):
            problems.append(at(number, f"{line.strip()!r} looks like a marker but is not one; {EXACT}"))
        elif region is None:
            out.append(line)
    if region:
        problems.append(at(region[1], f"'### BEGIN {region[0]}' is never closed "
                                      f"(no '### END {region[0]}' before the end of the cell)"))
    return out


def _transform_markdown(lines: list[str], at, problems: list[str]) -> list[str]:
    out: list[str] = []
    opened = None  # line number of the open BEGIN
    for number, line in enumerate(lines, start=1):
        marker = MARKDOWN_MARKER_RE.match(line)
        if marker:
            kind, what = marker.group("kind"), marker.group("what")
            if what not in MARKDOWN_REGIONS:
                problems.append(at(number, f"unknown marker {line.strip()!r}; markdown cells know only "
                                           f"'<!-- {kind} SOLUTION -->'"))
            elif kind == "BEGIN" and opened:
                problems.append(at(number, f"'<!-- BEGIN SOLUTION -->' inside the one opened on line "
                                           f"{opened}; regions cannot be nested"))
            elif kind == "BEGIN":
                opened = number
            elif not opened:
                problems.append(at(number, "'<!-- END SOLUTION -->' without a '<!-- BEGIN SOLUTION -->' "
                                           "before it"))
            else:
                out.append(MARKDOWN_ANSWER)
                opened = None
        elif CODE_LIKE_RE.match(line):
            problems.append(at(number, f"code marker {line.strip()!r} in a markdown cell; {EXACT}"))
        elif MARKDOWN_LIKE_RE.match(line):
            problems.append(at(number, f"{line.strip()!r} looks like a marker but is not one; {EXACT}"))
        elif opened is None:
            out.append(line)
    if opened:
        problems.append(at(opened, "'<!-- BEGIN SOLUTION -->' is never closed "
                                   "(no '<!-- END SOLUTION -->' before the end of the cell)"))
    return out


def _check_raw(lines: list[str], at, problems: list[str]) -> list[str]:
    for number, line in enumerate(lines, start=1):
        if CODE_LIKE_RE.match(line) or MARKDOWN_LIKE_RE.match(line) or HINT_RE.match(line):
            problems.append(at(number, f"marker {line.strip()!r} in a raw cell; markers work only in code "
                                       "and markdown cells"))
    return lines


def _set_cell_ids(cells) -> None:
    """Ids from a hash of type and source; a repeated cell gets -2, -3, ... so ids stay unique."""
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha256(f"{cell.cell_type}\0{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def make_exercise(solution, source_name: str):
    """Return the exercise notebook for a solution notebook (left unchanged). Raises MarkerError.

    `source_name` is how the solution is named in the banner and in errors, e.g.
    "solutions/02_catalog_exercises.ipynb".
    """
    problems: list[str] = []
    transforms = {"code": _transform_code, "markdown": _transform_markdown, "raw": _check_raw}
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
    banner = BANNER.format(source=source_name)
    cells = [nbformat.v4.new_markdown_cell(banner, metadata={"tags": [BANNER_TAG]})]
    for index, cell in enumerate(solution.cells):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)

        def at(line, message, index=index):
            return f"{source_name}: cell {index}, line {line}: {message}"

        text = "\n".join(transforms[cell.cell_type](source.split("\n"), at, problems))
        if source.strip() and not text.strip():
            continue  # the cell held only hidden tests
        tags = cell.get("metadata", {}).get("tags")
        cells.append(makers[cell.cell_type](text, metadata={"tags": list(tags)} if tags else {}))
    if problems:
        raise MarkerError(problems)
    exercise = nbformat.v4.new_notebook(cells=cells)
    metadata = {}
    if "kernelspec" in solution.metadata:
        metadata["kernelspec"] = dict(solution.metadata["kernelspec"])
    if "name" in solution.metadata.get("language_info", {}):
        metadata["language_info"] = {"name": solution.metadata["language_info"]["name"]}
    exercise.metadata = nbformat.from_dict(metadata)
    exercise.nbformat, exercise.nbformat_minor = 4, 5
    _set_cell_ids(exercise.cells)
    nbformat.validate(exercise)
    return exercise


def render(nb) -> bytes:
    """The notebook as nbformat writes it (sorted keys, one-space indent), ending in a newline."""
    text = nbformat.writes(nb, version=4)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def plan(root: Path) -> tuple[dict[Path, bytes], list[Path], list[str]]:
    """What exercises/ should hold ({path: bytes}), the orphaned exercises, and the problems found."""
    wanted: dict[Path, bytes] = {}
    problems: list[str] = []
    for solution in sorted((root / SOLUTIONS).glob("*.ipynb")):
        name = f"{SOLUTIONS}/{solution.name}"
        if not NAME_RE.match(solution.name):
            problems.append(f"{name}: not named NN_topic_exercises.ipynb (two digits, lower-case words "
                            "joined by '_', ending in '_exercises'); rename it")
            continue
        try:
            nb = nbformat.read(solution, as_version=4)
            wanted[root / EXERCISES / solution.name] = render(make_exercise(nb, name))
        except MarkerError as e:
            problems.extend(e.problems)
        except (nbformat.reader.NotJSONError, nbformat.ValidationError, ValueError) as e:
            problems.append(f"{name}: not a valid notebook: {str(e).splitlines()[0]}")
    orphans = [p for p in sorted((root / EXERCISES).glob("*.ipynb"))
               if not (root / SOLUTIONS / p.name).exists()]
    return wanted, orphans, problems


def _is_generated(path: Path) -> bool:
    try:
        return BANNER.split("{source}")[1] in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if exercises/ differs from what solutions/ generates")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="project root holding solutions/ and exercises/ (default: %(default)s)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    wanted, orphans, problems = plan(root)
    for problem in problems:
        print(problem, file=sys.stderr)

    if args.check:
        missing = [p for p in wanted if not p.exists()]
        stale = [p for p, data in wanted.items() if p.exists() and p.read_bytes() != data]
        for label, paths in (("missing", missing), ("stale", stale), ("orphaned", orphans)):
            for p in paths:
                print(f"{label}: {p.relative_to(root)}", file=sys.stderr)
        if missing or stale or orphans:
            print("exercises/ is out of date with solutions/: run `make exercises`", file=sys.stderr)
        if problems:
            return 2
        if missing or stale or orphans:
            return 1
        print(f"exercises/ is up to date ({len(wanted)} notebook{'' if len(wanted) == 1 else 's'})")
        return 0

    (root / EXERCISES).mkdir(exist_ok=True)
    for path, data in wanted.items():
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(root)}")
    kept = []
    for path in orphans:
        if _is_generated(path):
            path.unlink()
            print(f"removed {path.relative_to(root)} (its solution is gone)")
        else:
            kept.append(path)
            print(f"orphaned: {path.relative_to(root)} has no solution and was not generated; move it to "
                  "solutions/ or delete it", file=sys.stderr)
    print(f"exercises/: {len(wanted)} generated from solutions/")
    if problems:
        return 2
    return 1 if kept else 0


if __name__ == "__main__":
    sys.exit(main())
