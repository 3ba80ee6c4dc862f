"""Re-execute lessons and solutions in place, so their committed outputs are the regression baseline.

Why: nbval compares a fresh run with the outputs stored in each notebook, so after a library change the
notebooks that use it must be re-executed and committed. This runs each notebook top to bottom in a fresh
``python3`` kernel (working directory = the notebook's folder), stores the outputs without timing metadata,
and stops at the first failing notebook. Run ``make exercises`` afterwards if a solution changed.

Usage (from the project root, with the project's virtualenv):
  python tools/refresh_notebooks.py                      every notebooks/NN_*.ipynb and solutions/NN_*.ipynb
  python tools/refresh_notebooks.py notebooks/01_environment_setup.ipynb ...
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def merge_adjacent_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same name (stdout, stderr) into one.

    How a cell's printing is cut into stream messages depends on timing (the kernel flushes stdout every few
    hundred milliseconds), so without this a second run can store the same text in a different number of
    outputs. Only neighbours are joined, so the order of text and displays is kept.
    """
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def refresh(path: Path, timeout: int = 1200) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            for key in ("execution", "papermill"):
                cell.metadata.pop(key, None)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_adjacent_streams(cell.outputs)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
        (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        refresh(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
