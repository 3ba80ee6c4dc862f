"""tools/make_exercises.py on small notebooks built here: stubs, hidden tests, markdown answers, clean and
deterministic output, every malformed marker, and --check's report (run as a subprocess on a temp project)."""
import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_exercises.py"
_spec = importlib.util.spec_from_file_location("make_exercises", TOOL)
mx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mx)

SOURCE = "solutions/01_demo_exercises.ipynb"


def code(source, **kw):
    return nbformat.v4.new_code_cell(source, **kw)


def md(source, **kw):
    return nbformat.v4.new_markdown_cell(source, **kw)


def notebook(*cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "version": "3.11.9", "mimetype": "text/x-python"},
        "papermill": {"duration": 12.5, "start_time": "2026-11-22T03:50:39"},
    })
    return nb


def exercise_of(*cells):
    return mx.make_exercise(notebook(*cells), SOURCE)


def run_tool(root, *args):
    """The tool as `make` runs it: a separate process."""
    return subprocess.run([sys.executable, str(TOOL), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def run_main(capsys, root, *args):
    """The same command line, in this process (importing nbformat costs ~1.5 s per process here)."""
    returncode = mx.main(["--root", str(root), *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, returncode, out, err)


def test_stub_keeps_indentation_and_carries_the_hint():
    ex = exercise_of(code(
        "def total(rows):\n"
        "    result = 0\n"
        "    for row in rows:\n"
        "        ### BEGIN SOLUTION\n"
        "        ### HINT: add row['amount'] to result, \"in cents\"\n"
        "        result += row['amount']\n"
        "        ### END SOLUTION\n"
        "    return result"))
    assert ex.cells[1].source == (
        "def total(rows):\n"
        "    result = 0\n"
        "    for row in rows:\n"
        "        raise NotImplementedError(\"add row['amount'] to result, \\\"in cents\\\"\")\n"
        "    return result")
    ast.parse(ex.cells[1].source)
    assert mx.find_stubs(ex) == [(1, "add row['amount'] to result, \"in cents\"")]


def test_default_hint_and_several_hint_lines():
    ex = exercise_of(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                     code("### BEGIN SOLUTION\n### HINT: first part,\n### HINT: second part\ny = 2\n"
                          "### END SOLUTION\nprint(y)"))
    assert ex.cells[1].source == f'raise NotImplementedError("{mx.DEFAULT_HINT}")'
    assert ex.cells[2].source == 'raise NotImplementedError("first part, second part")\nprint(y)'


def test_hidden_tests_are_removed_and_a_cell_of_only_hidden_tests_is_left_out():
    ex = exercise_of(code("assert f(2) == 4\n### BEGIN HIDDEN TESTS\nassert f(3) == 6\n### END HIDDEN TESTS\n"
                          "print('ok')"),
                     code("### BEGIN HIDDEN TESTS\nassert f(5) == 10\n### END HIDDEN TESTS"),
                     md("the end"))
    assert [c.source for c in ex.cells[1:]] == ["assert f(2) == 4\nprint('ok')", "the end"]


def test_markdown_solution_region_is_replaced():
    ex = exercise_of(md("Why does the join duplicate rows?\n\n<!-- BEGIN SOLUTION -->\n"
                        "Because the key repeats.\n<!-- END SOLUTION -->\n\nNext question."))
    assert ex.cells[1].source == "Why does the join duplicate rows?\n\n*Your answer here.*\n\nNext question."


def test_outputs_counts_and_volatile_metadata_are_cleared_tags_kept():
    out = nbformat.v4.new_output("execute_result", data={"text/plain": "4"}, execution_count=7)
    volatile = {"tags": ["parameters"], "execution": {"iopub.status.busy": "2026-11-22T03:50:39.1Z"}}
    solution = notebook(code("backend = 'local'", metadata=volatile),
                        code("2 + 2", execution_count=7, outputs=[out],
                             metadata={"collapsed": False, "scrolled": True, "ExecuteTime": {"a": 1}}))
    ex = mx.make_exercise(solution, SOURCE)
    assert [c.get("outputs") for c in ex.cells if c.cell_type == "code"] == [[], []]
    assert [c.get("execution_count") for c in ex.cells if c.cell_type == "code"] == [None, None]
    assert ex.cells[1].metadata == {"tags": ["parameters"]}
    assert ex.cells[2].metadata == {}
    assert dict(ex.metadata) == {"kernelspec": solution.metadata.kernelspec,
                                 "language_info": {"name": "python"}}
    assert solution.cells[1].outputs == [out], "the solution itself must not be modified"


def test_banner_is_the_first_cell():
    ex = exercise_of(code("x = 1"))
    first = ex.cells[0]
    assert first.cell_type == "markdown"
    assert first.source == (f"Generated from {SOURCE} by tools/make_exercises.py: do not edit; edit the "
                            "solution and run `make exercises`")


def test_cell_ids_come_from_the_source_and_stay_unique():
    a = exercise_of(code("x = 1"), code("x = 1"), md("x = 1"))
    ids = [c.id for c in a.cells]
    assert len(set(ids)) == len(ids)
    b = exercise_of(code("x = 1"), code("x = 1"), md("x = 1"))  # the new cells got new random ids
    assert [c.id for c in b.cells] == ids
    assert mx.render(a) == mx.render(b)


def test_regeneration_is_byte_identical(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), md("é ✔ unicode")),
                   tmp_path / SOURCE)
    assert run_main(capsys, tmp_path).returncode == 0
    target = tmp_path / "exercises" / "01_demo_exercises.ipynb"
    first = target.read_bytes()
    nbformat.validate(nbformat.reads(first.decode(), as_version=4))
    # re-save the solution with fresh outputs, counts and ids: the exercise must not change
    nb = nbformat.read(tmp_path / SOURCE, as_version=4)
    nb.cells[0].execution_count = 3
    nb.cells[0].id = "something-else"
    nbformat.write(nb, tmp_path / SOURCE)
    again = run_main(capsys, tmp_path)
    assert again.returncode == 0 and "wrote" not in again.stdout
    assert target.read_bytes() == first
    assert first.endswith(b"\n") and b'"execution_count": null' in first


MALFORMED = [
    # (cells, cell index, line, words the message must contain)
    ([code("x = 1\n### BEGIN SOLUTION\ny = 2")], 0, 2, "never closed"),
    ([code("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")], 0, 2, "cannot be nested"),
    ([code("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION")], 0, 2,
     "cannot be nested"),
    ([md("intro"), code("y = 2\n### END SOLUTION")], 1, 2, "without a '### BEGIN SOLUTION'"),
    ([code("### BEGIN SOLUTION\nx = 1\n### END HIDDEN TESTS")], 0, 3, "cannot close"),
    ([code("### BEGIN ANSWER\nx = 1\n### END ANSWER")], 0, 1, "unknown marker"),
    ([code("x = 1\n### HINT: use a join")], 0, 2, "outside"),
    ([code("## BEGIN SOLUTION\nx = 1\n## END SOLUTION")], 0, 1, "looks like a marker"),
    ([code("### begin solution\nx = 1")], 0, 1, "looks like a marker"),
    ([code("x = 1\n<!-- BEGIN SOLUTION -->")], 0, 2, "markdown marker"),
    ([md("text\n### BEGIN SOLUTION\nanswer\n### END SOLUTION")], 0, 2, "code marker"),
    ([md("text\n<!-- BEGIN SOLUTION -->\nanswer")], 0, 2, "never closed"),
    ([md("<!-- BEGIN SOLUTION -->\n<!-- BEGIN SOLUTION -->\n<!-- END SOLUTION -->")], 0, 2,
     "cannot be nested"),
    ([md("answer\n<!-- END SOLUTION -->")], 0, 2, "without a '<!-- BEGIN SOLUTION -->'"),
    ([md("<!-- BEGIN HIDDEN TESTS -->\nx\n<!-- END HIDDEN TESTS -->")], 0, 1, "unknown marker"),
    ([md("<!--BEGIN SOLUTION-->\nx")], 0, 1, "looks like a marker"),
    ([md("a"), md("b"), nbformat.v4.new_raw_cell("### BEGIN SOLUTION")], 2, 1, "raw cell"),
]


@pytest.mark.parametrize("cells, cell, line, words", MALFORMED, ids=[m[3] + f"-{i}" for i, m in
                                                                     enumerate(MALFORMED)])
def test_malformed_markers_are_errors_naming_file_cell_and_line(cells, cell, line, words):
    with pytest.raises(mx.MarkerError) as caught:
        mx.make_exercise(notebook(*cells), SOURCE)
    assert any(p.startswith(f"{SOURCE}: cell {cell}, line {line}: ") and words in p
               for p in caught.value.problems), caught.value.problems


def test_malformed_markers_exit_2_from_the_command_line_and_write_nothing(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook(md("intro"), code("x = 1\n### BEGIN SOLUTION\ny = 2")), tmp_path / SOURCE)
    result = run_tool(tmp_path)
    assert result.returncode == 2
    assert f"{SOURCE}: cell 1, line 2: '### BEGIN SOLUTION' is never closed" in result.stderr
    assert not (tmp_path / "exercises" / "01_demo_exercises.ipynb").exists()
    assert run_tool(tmp_path, "--check").returncode == 2


def test_a_misnamed_solution_is_an_error(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook(code("x = 1")), tmp_path / "solutions" / "1_demo.ipynb")
    result = run_main(capsys, tmp_path, "--check")
    assert result.returncode == 2
    assert "solutions/1_demo.ipynb: not named NN_topic_exercises.ipynb" in result.stderr


def test_check_reports_missing_stale_and_orphaned(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    for name in ("01_a_exercises.ipynb", "02_b_exercises.ipynb"):
        nbformat.write(notebook(code(f"# {name}\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")),
                       tmp_path / "solutions" / name)
    assert run_main(capsys, tmp_path, "--check").returncode == 1  # nothing generated yet
    assert run_main(capsys, tmp_path).returncode == 0
    ok = run_main(capsys, tmp_path, "--check")
    assert ok.returncode == 0 and "up to date (2 notebooks)" in ok.stdout

    (tmp_path / "exercises" / "01_a_exercises.ipynb").unlink()                      # missing
    nb = nbformat.read(tmp_path / "solutions" / "02_b_exercises.ipynb", as_version=4)
    nb.cells[0].source += "\nprint(x)"                                             # stale
    nbformat.write(nb, tmp_path / "solutions" / "02_b_exercises.ipynb")
    nbformat.write(notebook(code("x")), tmp_path / "exercises" / "03_c_exercises.ipynb")  # orphaned
    result = run_tool(tmp_path, "--check")
    assert result.returncode == 1
    assert "missing: exercises/01_a_exercises.ipynb" in result.stderr
    assert "stale: exercises/02_b_exercises.ipynb" in result.stderr
    assert "orphaned: exercises/03_c_exercises.ipynb" in result.stderr
    assert "make exercises" in result.stderr


def test_generation_removes_generated_orphans_but_not_hand_made_files(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    solution = tmp_path / "solutions" / "01_a_exercises.ipynb"
    nbformat.write(notebook(code("x = 1")), solution)
    assert run_main(capsys, tmp_path).returncode == 0
    solution.unlink()
    hand_made = tmp_path / "exercises" / "02_b_exercises.ipynb"
    nbformat.write(notebook(code("y = 1")), hand_made)
    result = run_main(capsys, tmp_path)
    assert not (tmp_path / "exercises" / "01_a_exercises.ipynb").exists()
    assert hand_made.exists() and result.returncode == 1
    assert "orphaned: exercises/02_b_exercises.ipynb" in result.stderr
