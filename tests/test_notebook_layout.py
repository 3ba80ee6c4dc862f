"""The notebooks' layout and shape, over the real repository.

- every .ipynb (outside hidden folders and build/) is notebooks/NN_topic.ipynb,
  solutions/NN_topic_exercises.ipynb or exercises/NN_topic_exercises.ipynb: no Untitled*.ipynb, no strays;
- solutions/ and exercises/ hold the same names, and each solution belongs to a lesson with the same stem;
- lessons, solutions and exercises start with one `parameters` cell (backend, region, prefix, scale, seed) as
  their first code cell, and the next code cell imports gluelab and calls gluelab.start(...);
- notebooks/ and solutions/ are committed executed, in order, without errors (nbval compares against them);
  exercises/ carry no outputs;
- tests/nbval_sanitize.cfg, which nbval applies to those outputs, parses and masks only what it should.
With no notebooks yet these pass vacuously; the checker itself is proven on a temporary layout below.
"""
import ast
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSON_RE = re.compile(r"^notebooks/(?P<stem>\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*)\.ipynb$")
SOLUTION_RE = re.compile(r"^solutions/(?P<stem>\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*)_exercises\.ipynb$")
EXERCISE_RE = re.compile(r"^exercises/(?P<stem>\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*)_exercises\.ipynb$")
PARAMETERS = ("backend", "region", "prefix", "scale", "seed")
START_KEYWORDS = ("backend", "region", "prefix")
ALLOWS_ERROR_TAG = "raises-exception"  # nbval's tag for a cell that is meant to fail


def find_notebooks(root: Path) -> list[str]:
    """Every .ipynb under root as a posix path relative to it, skipping hidden folders and build/."""
    found = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (rel == Path(".") and d == "build"))
        found += [(rel / f).as_posix() for f in sorted(files) if f.endswith(".ipynb")]
    return found


def name_problems(paths: list[str]) -> list[str]:
    problems = []
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        if name.lower().startswith("untitled"):
            problems.append(f"{path}: an Untitled notebook; rename it to NN_topic.ipynb in notebooks/ or "
                            "delete it")
        elif ((LESSON_RE.match(path) and not path.endswith("_exercises.ipynb"))
              or SOLUTION_RE.match(path) or EXERCISE_RE.match(path)):
            continue
        else:
            problems.append(f"{path}: a stray notebook; notebooks live only at notebooks/NN_topic.ipynb, "
                            "solutions/NN_topic_exercises.ipynb and exercises/NN_topic_exercises.ipynb")
    return problems


def pairing_problems(paths: list[str]) -> list[str]:
    lessons = {m["stem"] for p in paths if (m := LESSON_RE.match(p)) and not p.endswith("_exercises.ipynb")}
    solutions = {m["stem"] for p in paths if (m := SOLUTION_RE.match(p))}
    exercises = {m["stem"] for p in paths if (m := EXERCISE_RE.match(p))}
    problems = [f"solutions/{s}_exercises.ipynb has no exercises/{s}_exercises.ipynb: run `make exercises`"
                for s in sorted(solutions - exercises)]
    problems += [f"exercises/{s}_exercises.ipynb has no solutions/{s}_exercises.ipynb (exercises are "
                 "generated from solutions)" for s in sorted(exercises - solutions)]
    problems += [f"solutions/{s}_exercises.ipynb has no lesson notebooks/{s}.ipynb with the same stem"
                 for s in sorted(solutions - lessons)]
    numbers: dict[str, list[str]] = {}
    for stem in sorted(lessons):
        numbers.setdefault(stem[:2], []).append(stem)
    problems += [f"notebooks/: lessons share the number {n}: {', '.join(s)}" for n, s in numbers.items()
                 if len(s) > 1]
    return problems


def _assigned_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _starts_the_lab(source: str) -> bool:
    tree = ast.parse(source)
    imports = any(isinstance(n, ast.Import) and any(a.name == "gluelab" and a.asname is None for a in n.names)
                  for n in tree.body)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "start"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "gluelab"):
            given = {k.arg: k.value for k in node.keywords}
            return imports and all(isinstance(given.get(k), ast.Name) and given[k].id == k
                                   for k in START_KEYWORDS)
    return False


def shape_problems(path: str, nb) -> list[str]:
    """The parameters cell and the start cell (lessons, solutions and exercises alike)."""
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    tagged = [i for i, c in code if "parameters" in c.metadata.get("tags", [])]
    problems = []
    if any("injected-parameters" in c.metadata.get("tags", []) for _, c in code):
        problems.append(f"{path}: holds papermill's injected-parameters cell; commit a run made without -p")
    if len(tagged) != 1:
        return [*problems, (f"{path}: {len(tagged)} cells tagged 'parameters' (cells {tagged}); exactly one "
                            "is needed, the first code cell")]
    if tagged[0] != code[0][0]:
        problems.append(f"{path}: the 'parameters' cell (cell {tagged[0]}) must be the first code cell")
    try:
        missing = [p for p in PARAMETERS if p not in _assigned_names(nb.cells[tagged[0]].source)]
    except SyntaxError as e:
        missing = list(PARAMETERS)
        problems.append(f"{path}: the parameters cell is not valid Python: {e}")
    if missing:
        problems.append(f"{path}: the parameters cell does not define {', '.join(missing)}")
    following = [(i, c) for i, c in code if i > tagged[0]]
    start = "import gluelab\nlab = gluelab.start(backend=backend, region=region, prefix=prefix)"
    try:
        ok = bool(following) and _starts_the_lab(following[0][1].source)
    except SyntaxError:
        ok = False
    if not ok:
        where = f"cell {following[0][0]}" if following else "nothing"
        problems.append(f"{path}: the code cell after the parameters cell ({where}) must be:\n{start}")
    return problems


def execution_problems(path: str, nb, executed: bool) -> list[str]:
    """Committed executed in order without errors (executed=True), or with no outputs at all (False)."""
    problems = []
    last = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        count = cell.get("execution_count")
        if not executed:
            if count is not None or cell.get("outputs"):
                problems.append(f"{path}: cell {i} has outputs or an execution count; exercises are "
                                "generated without them: run `make exercises`")
            continue
        if not cell.source.strip():
            continue
        if count is None:
            problems.append(f"{path}: cell {i} was not executed; commit the notebook run top to bottom")
            continue
        if count <= last:
            problems.append(f"{path}: cell {i} ran out of order (In [{count}] after In [{last}]); restart "
                            "the kernel and run all")
        last = count
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and ALLOWS_ERROR_TAG not in cell.metadata.get("tags", []):
            problems.append(f"{path}: cell {i} has an error output ({errors[0].get('ename')}); fix it, or "
                            f"tag the cell '{ALLOWS_ERROR_TAG}' if the error is the lesson")
    return problems


def layout_problems(root: Path) -> list[str]:
    """Every problem with the notebooks under root, as messages naming the file."""
    paths = find_notebooks(root)
    problems = name_problems(paths) + pairing_problems(paths)
    for path in paths:
        executed = bool(LESSON_RE.match(path) or SOLUTION_RE.match(path))
        if not (executed or EXERCISE_RE.match(path)):
            continue
        nb = nbformat.read(root / path, as_version=4)
        problems += shape_problems(path, nb) + execution_problems(path, nb, executed)
    return problems


# ---- the real repository -----------------------------------------------------------------------------------

REAL = find_notebooks(ROOT)
CHECKED = [p for p in REAL if LESSON_RE.match(p) or SOLUTION_RE.match(p) or EXERCISE_RE.match(p)]


def test_every_notebook_is_named_and_placed_by_the_convention():
    assert name_problems(REAL) == []


def test_solutions_exercises_and_lessons_pair_up():
    assert pairing_problems(REAL) == []


@pytest.mark.parametrize("path", CHECKED)
def test_parameters_cell_then_start_cell(path):
    assert shape_problems(path, nbformat.read(ROOT / path, as_version=4)) == []


@pytest.mark.parametrize("path", CHECKED)
def test_lessons_and_solutions_are_committed_executed_exercises_are_clean(path):
    executed = not path.startswith("exercises/")
    assert execution_problems(path, nbformat.read(ROOT / path, as_version=4), executed) == []


# ---- the checker itself, on a temporary layout -------------------------------------------------------------


def _notebook(executed: bool, *extra_cells, parameters="backend = 'local'\nregion = 'us-east-1'\n"
              "prefix = 'gluelab'\nscale = 1.0\nseed = 42"):
    cells = [nbformat.v4.new_markdown_cell("# A lesson"),
             nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("import gluelab\nlab = gluelab.start(backend=backend, region=region, "
                                       "prefix=prefix)"),
             *extra_cells]
    if executed:
        for n, cell in enumerate([c for c in cells if c.cell_type == "code"], start=1):
            cell.execution_count = n
    return nbformat.v4.new_notebook(cells=cells)


def _good_layout(root: Path) -> None:
    for folder in ("notebooks", "solutions", "exercises"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    nbformat.write(_notebook(True), root / "notebooks" / "98_checker.ipynb")
    nbformat.write(_notebook(True), root / "solutions" / "98_checker_exercises.ipynb")
    nbformat.write(_notebook(False), root / "exercises" / "98_checker_exercises.ipynb")


@pytest.fixture
def layout(tmp_path):
    """A copy of the repository's notebooks plus one good lesson/solution/exercise set, and its baseline."""
    for folder in ("notebooks", "solutions", "exercises"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, tmp_path / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    _good_layout(tmp_path)
    return tmp_path, set(layout_problems(tmp_path))


def _new_problems(layout):
    root, baseline = layout
    return sorted(set(layout_problems(root)) - baseline)


def test_checker_accepts_a_good_layout(tmp_path):
    _good_layout(tmp_path)
    (tmp_path / ".venv" / "x").mkdir(parents=True)
    nbformat.write(_notebook(False), tmp_path / ".venv" / "x" / "Untitled.ipynb")  # ignored: hidden folder
    (tmp_path / "build" / "notebooks").mkdir(parents=True)
    nbformat.write(_notebook(False), tmp_path / "build" / "notebooks" / "98_checker.ipynb")  # ignored: build/
    assert layout_problems(tmp_path) == []


def test_checker_rejects_untitled_and_misnamed_notebooks(layout):
    root, _ = layout
    nbformat.write(_notebook(True), root / "notebooks" / "Untitled.ipynb")
    nbformat.write(_notebook(True), root / "notebooks" / "Untitled1.ipynb")
    nbformat.write(_notebook(True), root / "notebooks" / "9_checker.ipynb")
    nbformat.write(_notebook(True), root / "solutions" / "98_checker.ipynb")
    (root / "lib").mkdir(exist_ok=True)
    nbformat.write(_notebook(True), root / "lib" / "scratch.ipynb")
    new = _new_problems(layout)
    assert len(new) == 5, new
    assert [p.split(":")[0] for p in new if "Untitled notebook" in p] == ["notebooks/Untitled.ipynb",
                                                                           "notebooks/Untitled1.ipynb"]
    assert {p.split(":")[0] for p in new if "stray notebook" in p} == {
        "notebooks/9_checker.ipynb", "solutions/98_checker.ipynb", "lib/scratch.ipynb"}


def test_checker_rejects_unpaired_notebooks(layout):
    root, _ = layout
    nbformat.write(_notebook(True), root / "solutions" / "97_orphan_exercises.ipynb")
    nbformat.write(_notebook(False), root / "exercises" / "96_alone_exercises.ipynb")
    nbformat.write(_notebook(True), root / "notebooks" / "98_other.ipynb")
    new = "\n".join(_new_problems(layout))
    assert "solutions/97_orphan_exercises.ipynb has no exercises/97_orphan_exercises.ipynb" in new
    assert "solutions/97_orphan_exercises.ipynb has no lesson notebooks/97_orphan.ipynb" in new
    assert "exercises/96_alone_exercises.ipynb has no solutions/96_alone_exercises.ipynb" in new
    assert "lessons share the number 98" in new


def test_checker_rejects_a_bad_start(layout):
    root, _ = layout
    no_seed = _notebook(True, parameters="backend = 'local'\nregion = 'us-east-1'\nprefix = 'p'\nscale = 1")
    nbformat.write(no_seed, root / "notebooks" / "98_checker.ipynb")
    wrong_start = _notebook(True)
    wrong_start.cells[2].source = "import gluelab\nlab = gluelab.start()"
    nbformat.write(wrong_start, root / "solutions" / "98_checker_exercises.ipynb")
    untagged = _notebook(False)
    untagged.cells[1].metadata = {}
    nbformat.write(untagged, root / "exercises" / "98_checker_exercises.ipynb")
    new = "\n".join(_new_problems(layout))
    assert "notebooks/98_checker.ipynb: the parameters cell does not define seed" in new
    assert ("solutions/98_checker_exercises.ipynb: the code cell after the parameters cell (cell 2) must be"
            in new)
    assert "exercises/98_checker_exercises.ipynb: 0 cells tagged 'parameters'" in new


def test_checker_rejects_unexecuted_failed_and_dirty_notebooks(layout):
    root, _ = layout
    unrun = _notebook(True, nbformat.v4.new_code_cell("x = 1"))
    unrun.cells[3].execution_count = None
    nbformat.write(unrun, root / "notebooks" / "98_checker.ipynb")
    failed = _notebook(True, nbformat.v4.new_code_cell("1 / 0", execution_count=3, outputs=[
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]))
    failed.cells[2].execution_count = 5  # and out of order
    nbformat.write(failed, root / "solutions" / "98_checker_exercises.ipynb")
    dirty = _notebook(False)
    dirty.cells[2].execution_count = 1
    nbformat.write(dirty, root / "exercises" / "98_checker_exercises.ipynb")
    new = "\n".join(_new_problems(layout))
    assert "notebooks/98_checker.ipynb: cell 3 was not executed" in new
    assert "solutions/98_checker_exercises.ipynb: cell 3 ran out of order (In [3] after In [5])" in new
    assert "solutions/98_checker_exercises.ipynb: cell 3 has an error output (ZeroDivisionError)" in new
    assert "exercises/98_checker_exercises.ipynb: cell 2 has outputs or an execution count" in new

    error = nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="by zero", traceback=[])
    allowed = _notebook(True, nbformat.v4.new_code_cell("1 / 0", execution_count=3, outputs=[error],
                                                        metadata={"tags": [ALLOWS_ERROR_TAG]}))
    assert execution_problems("notebooks/98_checker.ipynb", allowed, executed=True) == []


# ---- the nbval sanitize file these notebooks are compared with ---------------------------------------------


def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns  # the parser nbval itself uses

    patterns = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text(encoding="utf-8"))
    assert len(patterns) >= 15, "nbval found fewer regex/replace pairs than the file holds"
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("volatile, masked", [
    ("'LastModified': datetime.datetime(2026, 11, 22, 3, 50, 39, tzinfo=tzlocal())",
     "'LastModified': datetime.datetime(DATETIME)"),
    ("started 2026-11-22T03:50:39.123456+00:00", "started TIMESTAMP"),
    ("'date': 'Sun, 22 Nov 2026 03:50:39 GMT'", "'date': 'HTTP-DATE'"),
    ("crawl took 12 s, Spark ready (4.71 s), done in 0.5s", "crawl took N s, Spark ready (N s), done in N s"),
    ("elapsed 0:00:01.234567", "elapsed H:MM:SS.ffffff"),
    ("wrote /tmp/pytest-1/lake/raw/a.csv and file:/tmp/x", "wrote TMP-PATH and TMP-PATH"),
    ("<Thing object at 0x7f3a2c1b9d50>", "<Thing object at 0xADDRESS>"),
    ("app local-1732245039123, app-20261122035039-0000", "app local-APP-ID, app-APP-ID"),
    ("at http://127.0.0.1:50123/ ui http://myhost:4041", "at http://127.0.0.1:PORT/ ui SPARK-UI-URL"),
    ("{'RequestId': 'KVPdqYH2KrfUIKYgpbeA8h2o8J3L4jFghfz6tyty7XjrVXYx5u4i'}", "{'RequestId': 'REQUEST-ID'}"),
    ("JobRunId jr_" + "0a" * 32, "JobRunId jr_RUN-ID"),
    ("execution 3f1c2b9a-7d4e-4a5b-9c8d-1e2f3a4b5c6d", "execution UUID"),
    ("a\nWARNING: Using incubator modules: jdk.incubator.vector\nb\n", "a\nb\n"),
    ("26/11/22 03:50:39 WARN NativeCodeLoader: no native library\nrow\n", "row\n"),
])
def test_sanitize_masks_volatile_output(volatile, masked):
    assert _sanitize(volatile) == masked


@pytest.mark.parametrize("stable", [
    "2024-03-01 10:00:00.123456",        # a naive timestamp is data: compared
    "s3://lab-bucket/tmp/part-0.parquet",  # an S3 key, not a temp path
    "0xFF and version 4.3.0 and 3 s3 buckets",
    "|WARN |2|",                         # a WARN value in a table
    "customer 123e4567-e89b-12d3-a456-426614174000",  # not a version-4 UUID
])
def test_sanitize_leaves_stable_output_alone(stable):
    assert _sanitize(stable) == stable
