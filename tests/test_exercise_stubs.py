"""Each exercise notebook, run top to bottom, stops at its first stub with the stub's hint.

That proves two things a learner relies on: every cell before the first exercise runs as given (generation
did not break the set-up), and the first thing that fails is the exercise, with its hint as the message.
The real notebooks run with the kernel's working directory set to exercises/ (as in JupyterLab); they are
never modified, the executed copy goes to a temporary folder. They start Spark, so they are marked
`notebooks`: `pytest -m notebooks tests/test_exercise_stubs.py` runs only them; `-m "not notebooks"` skips
them.
"""
import importlib.util
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
mx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mx)

CELL_TIMEOUT = 900  # seconds; a cell that needs longer is a problem of its own


def first_stub_problem(path: Path, cwd: Path, save_to: Path | None = None) -> str | None:
    """Run the notebook; None if it stops at its first stub with the stub's message, else what went wrong."""
    nb = nbformat.read(path, as_version=4)
    stubs = mx.find_stubs(nb)
    if not stubs:
        return f"{path.name}: no `raise NotImplementedError(...)` stub: is it generated from a solution?"
    stub_cell, message = stubs[0]
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except CellExecutionError:
        pass
    finally:
        if save_to:
            nbformat.write(nb, save_to)
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    failed = errors[0] if errors else None
    if failed is None:
        return f"{path.name}: ran to the end, but the stub in cell {stub_cell} should have raised"
    cell, error = failed
    found = f"{error.ename}: {error.evalue}"
    if cell != stub_cell:
        if cell < stub_cell:
            return (f"{path.name}: cell {cell} failed before the first stub (cell {stub_cell}) was reached: "
                    f"{found}")
        return f"{path.name}: cell {cell} failed, not the first stub's cell {stub_cell}: {found}"
    if error.ename != "NotImplementedError" or error.evalue != message:
        return f"{path.name}: cell {cell} raised {found!r}, expected NotImplementedError: {message}"
    return None


EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.notebooks
@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_stops_at_its_first_stub(path, tmp_path):
    assert first_stub_problem(path, cwd=path.parent, save_to=tmp_path / path.name) is None


# ---- the mechanism, proven on a tiny generated exercise (no gluelab, no Spark) -----------------------------


def _write_exercise(folder: Path, *cells) -> Path:
    solution = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("backend = 'local'\nseed = 42", metadata={"tags": ["parameters"]}),
        *cells])
    solution.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    exercise = mx.make_exercise(solution, "solutions/99_tiny_exercises.ipynb")
    folder.mkdir(exist_ok=True)
    path = folder / "99_tiny_exercises.ipynb"
    path.write_bytes(mx.render(exercise))
    return path


def test_a_generated_exercise_stops_at_its_first_stub(tmp_path):
    folder = tmp_path / "exercises"
    path = _write_exercise(
        folder,
        nbformat.v4.new_code_cell(f"import os\nassert os.getcwd() == {str(folder)!r}, os.getcwd()\n"
                                  "prices = [3.5, 1.25, 2.0]"),
        nbformat.v4.new_markdown_cell("**Exercise 1.** Sum the prices."),
        nbformat.v4.new_code_cell("def total(values):\n    ### BEGIN SOLUTION\n    ### HINT: use sum()\n"
                                  "    return sum(values)\n    ### END SOLUTION\n\nresult = total(prices)"),
        nbformat.v4.new_code_cell("assert result == 6.75"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nsecond = 1\n### END SOLUTION"))
    executed = tmp_path / "executed.ipynb"
    assert first_stub_problem(path, cwd=folder, save_to=executed) is None
    outputs = nbformat.read(executed, as_version=4).cells
    assert outputs[2].execution_count == 2 and outputs[4].outputs[0].evalue == "use sum()"
    assert os.listdir(folder) == ["99_tiny_exercises.ipynb"], "the source notebook is run, never rewritten"


def test_the_check_reports_a_cell_failing_before_the_stub(tmp_path):
    path = _write_exercise(
        tmp_path / "exercises",
        nbformat.v4.new_code_cell("data = load_missing()"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    problem = first_stub_problem(path, cwd=path.parent)
    assert problem == ("99_tiny_exercises.ipynb: cell 2 failed before the first stub (cell 3) was reached: "
                       "NameError: name 'load_missing' is not defined")


def test_the_check_reports_an_exercise_without_a_stub(tmp_path):
    path = _write_exercise(tmp_path / "exercises", nbformat.v4.new_code_cell("x = 1"))
    assert "no `raise NotImplementedError(...)` stub" in first_stub_problem(path, cwd=path.parent)
