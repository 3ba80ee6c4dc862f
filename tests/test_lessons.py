"""Lessons as a learner runs them: twice in a row in the same lab, and on the aws backend's code path.

The aws runs use a local endpoint standing in for AWS (``GLUELAB_AWS_ENDPOINT_URL``): the lesson goes through
the aws backend's credential chain, prefix guard and naming, so a lesson cell that touched a resource outside
its prefix would fail here. Both execute real lessons (Spark starts), so they are marked ``notebooks``.
"""
import re
from pathlib import Path

import boto3
import nbformat
import pytest
from nbclient import NotebookClient

import gluelab

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def sanitizers():
    text = SANITIZE.read_text()
    pairs = re.findall(r"^regex:\s*(.*)\nreplace:\s*(.*)$", text, re.M)
    return [(re.compile(rx), rep) for rx, rep in pairs]


def text_outputs(nb) -> list[str]:
    """Per code cell, its stream text and text/plain results (joined: how a stream is split into messages
    varies), sanitized as nbval sanitizes them."""
    subs = sanitizers()
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                texts.append(f"ERROR {out.ename}: {out.evalue}")
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            for rx, rep in subs:
                text = rx.sub(rep, text)
            texts.append(text)
        cells.append("".join(texts))
    return cells


@pytest.mark.notebooks
def test_lesson_01_twice_in_the_same_lab_gives_identical_output():
    nb = nbformat.read(ROOT / "notebooks" / "01_environment_setup.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    cell.outputs = []
                    client.execute_cell(cell, index)
            runs.append(text_outputs(nb))
    assert runs[0] == runs[1]
    committed = text_outputs(nbformat.read(ROOT / "notebooks" / "01_environment_setup.ipynb", as_version=4))
    assert runs[1] == committed


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_lesson_runs_on_the_aws_backend_inside_its_prefix(lesson, endpoint, monkeypatch, tmp_path):
    import papermill

    monkeypatch.setenv("GLUELAB_AWS_ENDPOINT_URL", endpoint)
    prefix = f"cloud-{lesson[:2]}"
    s3 = boto3.client("s3", endpoint_url=endpoint)
    before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    papermill.execute_notebook(str(ROOT / "notebooks" / f"{lesson}.ipynb"), str(tmp_path / "out.ipynb"),
                               parameters={"backend": "aws", "prefix": prefix, "region": "us-east-1"},
                               cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
    created = {b["Name"] for b in s3.list_buckets()["Buckets"]} - before
    assert created and all(name.startswith(prefix + "--") for name in created), created
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert "AWS backend: account 123456789012" in "".join(
        o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))

    lab = gluelab.start(backend="aws", region="us-east-1", prefix=prefix, endpoint_url=endpoint)
    deleted = lab.teardown()
    assert {d.split(" ", 1)[1] for d in deleted if d.startswith("bucket ")} == created
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == before
