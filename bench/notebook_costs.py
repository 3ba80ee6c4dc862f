"""Where a notebook's time goes: kernel start, ``import gluelab``, ``gluelab.start``, Spark's start,
``lab.prepare(stage)``, the notebook's own cells (the costliest named) and the kernel's shutdown.

Why: ``make test`` and ``make run`` execute every lesson and solution; knowing which part of each costs what
says what to make cheaper (start-up paid once per kernel, set-up repeated by each notebook, or a lesson's own
heavy cells).

How: the notebook runs top to bottom in a fresh ``python3`` kernel (working directory = its folder), as
``make run`` and nbval run it. Before its first cell, one extra cell (not part of the notebook) imports gluelab
and wraps ``gluelab.start``, ``gluelab.spark.session`` (only the call that starts the session counts) and
``gluelab.stages.prepare`` with timers that record when each call began and ended; after the last cell the
record is read back. A cell's own time is its wall time minus the wrapped calls inside it (nested calls are
counted once, in the innermost). The notebook file is never modified.

CPU: the CPU seconds the kernel and its descendants (the JVM, Python workers) used, read from /proc just
before the kernel is shut down (Linux only; reaped workers are counted through their parent). CPU seconds over
wall seconds says how much a second notebook run at the same time could use the other core.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

#: The parts a notebook's wall time is split into, in the order they happen.
PARTS = ("kernel start", "import gluelab", "gluelab.start", "Spark start", "prepare", "own cells", "kernel stop")

_INSTRUMENT = r'''
def __gluelab_bench_install():
    import functools, time
    started = time.time()
    import gluelab, gluelab.spark, gluelab.stages
    events = [("import gluelab", started, time.time())]
    stack = []

    def timed(kind, fn, counts=lambda *a, **k: True):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not counts(*args, **kwargs):
                return fn(*args, **kwargs)
            begin = time.time()
            stack.append(kind)
            try:
                return fn(*args, **kwargs)
            finally:
                stack.pop()
                events.append((kind, begin, time.time()))
        return wrapper

    def starts_spark(*args, **kwargs):
        current = gluelab.spark._session
        return current is None or not gluelab.spark._alive(current)

    gluelab.start = gluelab.lab.start = timed("gluelab.start", gluelab.start)
    gluelab.spark.session = timed("Spark start", gluelab.spark.session, starts_spark)
    gluelab.stages.prepare = timed("prepare", gluelab.stages.prepare)
    return events

__gluelab_bench_events = __gluelab_bench_install()
del __gluelab_bench_install
'''

_REPORT = "import json as __j; print(__j.dumps(__gluelab_bench_events))"


@dataclass
class CellCost:
    index: int          # the cell's position in the notebook (0-based, markdown cells counted)
    source: str         # its first non-empty line
    seconds: float      # wall time minus the wrapped calls inside it


@dataclass
class NotebookCost:
    path: Path
    parts: dict[str, float] = field(default_factory=dict)
    cells: list[CellCost] = field(default_factory=list)
    error: str | None = None
    cpu: float | None = None        # CPU seconds of the kernel's process tree (None where /proc is missing)

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    def top(self, n: int = 3) -> list[CellCost]:
        return sorted(self.cells, key=lambda c: c.seconds, reverse=True)[:n]


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants, with the children they
    have already reaped; None without Linux's /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based from state
            stats[int(entry)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    if pid not in stats:
        return None
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (ppid, _) in stats.items() if ppid == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[p][1] for p in tree) / ticks


def _first_line(source: str) -> str:
    """The first line that says what a cell does: not a comment, an import or a solution marker."""
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    doing = [ln for ln in lines if not ln.startswith(("import ", "from "))]
    text = (doing or lines or [source.strip()])[0]
    return text if len(text) <= 60 else text[:57] + "..."


def _exclusive(events: list[tuple]) -> list[tuple[str, float, float, float]]:
    """(kind, begin, end, seconds) per event, seconds without the calls nested directly inside it."""
    def within(inner, outer):
        return inner[1] >= outer[1] and inner[2] <= outer[2]

    out = []
    for i, event in enumerate(events):
        children = [c for j, c in enumerate(events) if j != i and within(c, event)]
        direct = [c for c in children if not any(o is not c and within(c, o) for o in children)]
        out.append((*event, (event[2] - event[1]) - sum(c[2] - c[1] for c in direct)))
    return out


def measure(path: Path, *, parameters: dict | None = None, stop_at_error: bool = True,
            timeout: int = 1200) -> NotebookCost:
    """Run the notebook at path once in a fresh kernel and split its wall time into :data:`PARTS`.

    ``parameters`` (e.g. ``{"scale": 0.1}``) are set after the notebook's own ``parameters`` cell, as
    papermill does. A cell that raises ends the run (``stop_at_error``: an exercise stops at its first stub);
    the error is recorded and the parts measured so far are kept.
    """
    path = Path(path).resolve()
    source = nbformat.read(path, as_version=4)
    cells = [nbformat.v4.new_code_cell(_INSTRUMENT, metadata={"bench": "instrument"})]
    for index, cell in enumerate(source.cells):
        cell.metadata["bench_index"] = index
        cells.append(cell)
        if parameters and "parameters" in cell.metadata.get("tags", []):
            assignments = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
            cells.append(nbformat.v4.new_code_cell(assignments, metadata={"bench": "parameters"}))
    report = nbformat.v4.new_code_cell(_REPORT, metadata={"bench": "report"})
    nb = nbformat.v4.new_notebook(cells=cells + [report], metadata=source.metadata)
    cost = NotebookCost(path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    cell_windows: list[tuple[int, str, float, float]] = []
    started = time.perf_counter()
    with client.setup_kernel():
        cost.parts["kernel start"] = time.perf_counter() - started
        for position, cell in enumerate(nb.cells[:-1]):
            if cell.cell_type != "code":
                continue
            begin = time.time()
            client.execute_cell(cell, position, store_history="bench" not in cell.metadata)
            if "bench" not in cell.metadata:
                cell_windows.append((cell.metadata["bench_index"], cell.source, begin, time.time()))
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if errors:
                where = f"cell {cell.metadata.get('bench_index', cell.metadata.get('bench'))}"
                cost.error = f"{where}: {errors[0].ename}: {errors[0].evalue}"[:200]
                if stop_at_error:
                    break
        client.execute_cell(report, len(nb.cells) - 1, store_history=False)
        cost.cpu = process_tree_cpu(client.km.provisioner.process.pid)
        stopping = time.perf_counter()
    cost.parts["kernel stop"] = time.perf_counter() - stopping
    text = "".join(o.get("text", "") for o in report.outputs if o.get("output_type") == "stream")
    if not text.strip():
        raise RuntimeError(f"{path.name}: the timings could not be read back from the kernel: {report.outputs}")
    events = [tuple(e) for e in json.loads(text.strip().splitlines()[-1])]
    cost.parts["import gluelab"] = sum(e - b for k, b, e in events if k == "import gluelab")
    calls = _exclusive([e for e in events if e[0] != "import gluelab"])
    for kind in ("gluelab.start", "Spark start", "prepare"):
        cost.parts[kind] = sum(s for k, _, _, s in calls if k == kind)
    for index, cell_source, begin, end in cell_windows:
        inside = sum(s for _, b, e, s in calls if b >= begin and e <= end)
        cost.cells.append(CellCost(index, _first_line(cell_source), max(0.0, (end - begin) - inside)))
    cost.parts["own cells"] = sum(c.seconds for c in cost.cells)
    cost.parts = {p: cost.parts.get(p, 0.0) for p in PARTS}
    return cost
