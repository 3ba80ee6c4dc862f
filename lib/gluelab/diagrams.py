"""Pictures for the lessons, drawn with matplotlib so they live in code, not in image files.

Kept out of the notebooks so the narrative shows one call (``gluelab.diagrams.architecture()``), not the plotting.
"""
from __future__ import annotations

import io


def _figure(**kwargs):
    """A matplotlib Figure that a notebook shows as a picture when it is a cell's value.

    Not registered with pyplot (so it is shown once, not again at the end of the cell), and with its own
    ``_repr_png_``: IPython only knows how to draw a bare Figure once pyplot's inline backend is loaded, and
    otherwise shows the text ``<Figure size ...>``.
    """
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
            return buffer.getvalue()

    return NotebookFigure(**kwargs)


def _box(ax, x, y, w, h, text, color, fontsize=9):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="#333333",
                                lw=1))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, wrap=True)


def _arrow(ax, x1, y1, x2, y2, label=""):
    ax.annotate("", xy=(x2, y2), xytext=(x1, y1), arrowprops=dict(arrowstyle="->", color="#333333", lw=1.2))
    if label:
        ax.text((x1 + x2) / 2 + 0.05, (y1 + y2) / 2, label, fontsize=8, color="#555555", va="center")


def architecture():
    """The workbook's architecture: one notebook, one ``gluelab.start()``, two interchangeable backends.

    Returns a matplotlib Figure that is not registered with pyplot: a notebook shows it once, as the cell's value.
    """
    fig = _figure(figsize=(10, 5.2))
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 5.6)
    ax.axis("off")
    _box(ax, 3.2, 4.6, 3.6, 0.8, "Your notebook\nboto3 calls · Glue job scripts · Spark", "#fde9c9", 10)
    _box(ax, 3.2, 3.4, 3.6, 0.7, "lab = gluelab.start(backend=...)\nclients · spark · zones · prepare · teardown",
         "#e8e8e8")
    _arrow(ax, 5, 4.6, 5, 4.1)
    # local
    _box(ax, 0.2, 0.2, 4.5, 2.6, "", "#eef6ee")
    ax.text(0.35, 2.6, 'backend="local" (offline, free)', fontsize=9, weight="bold")
    _box(ax, 0.4, 1.35, 2.0, 0.95, "AWS endpoint (moto)\non 127.0.0.1\nS3 · Glue · Logs · ...", "#ffffff", 8)
    _box(ax, 2.55, 1.35, 2.0, 0.95, "execution hooks\nstart_job_run runs\nthe script", "#ffffff", 8)
    _box(ax, 0.4, 0.35, 4.15, 0.8, "local Spark + S3 data plane: spark.read/write('s3://...')\nreads and writes "
         "the endpoint's buckets", "#ffffff", 8)
    # aws
    _box(ax, 5.3, 0.2, 4.5, 2.6, "", "#e9f0fb")
    ax.text(5.45, 2.6, 'backend="aws" (your account)', fontsize=9, weight="bold")
    _box(ax, 5.5, 1.35, 4.1, 0.95, "AWS Glue · S3 · CloudWatch · Step Functions\nonly resources named with your "
         "prefix", "#ffffff", 8)
    _box(ax, 5.5, 0.35, 4.1, 0.8, "guards: explicit prefix · dry run · cost estimate\nbefore billable work · "
         "teardown()", "#ffffff", 8)
    _arrow(ax, 4.2, 3.4, 2.6, 2.8, "default")
    _arrow(ax, 5.8, 3.4, 7.4, 2.8, "one papermill parameter")
    ax.set_title("One notebook, two backends", fontsize=12)
    fig.tight_layout()
    return fig


#: Box colours by a node's last state (a job run's JobRunState, a crawl's State); grey = not run.
STATE_COLORS = {"SUCCEEDED": "#b7e1b0", "FAILED": "#f4a6a0", "ERROR": "#f4a6a0", "TIMEOUT": "#f7c98b",
                "STOPPED": "#d9d2e9", "CANCELLED": "#d9d2e9", "RUNNING": "#a9c8f0", "STARTING": "#a9c8f0",
                "STOPPING": "#a9c8f0", "WAITING": "#a9c8f0"}
_NOT_RUN = "#eeeeee"


def node_state(node: dict) -> str | None:
    """The last state of a workflow graph node (``get_workflow_run(..., IncludeGraph=True)``): its last job
    run's JobRunState, its last crawl's State, or None (a trigger, or a node this run has not reached)."""
    if node.get("Type") == "JOB":
        runs = (node.get("JobDetails") or {}).get("JobRuns") or []
        return runs[-1].get("JobRunState") if runs else None
    if node.get("Type") == "CRAWLER":
        crawls = (node.get("CrawlerDetails") or {}).get("Crawls") or []
        return crawls[-1].get("State") if crawls else None
    return None


def _depths(nodes: list[dict], edges: list[dict]) -> dict[str, int]:
    """Column of each node: the length of the longest path reaching it (the graph is acyclic, as Glue's is)."""
    incoming: dict[str, list[str]] = {n["UniqueId"]: [] for n in nodes}
    for e in edges:
        incoming.setdefault(e["DestinationId"], []).append(e["SourceId"])
    depth: dict[str, int] = {}

    def visit(uid: str, seen: tuple = ()) -> int:
        if uid not in depth:
            if uid in seen:
                raise ValueError(f"the workflow graph has a cycle through {uid}")
            depth[uid] = 1 + max((visit(s, seen + (uid,)) for s in incoming.get(uid, [])), default=-1)
        return depth[uid]

    for uid in incoming:
        visit(uid)
    return depth


def workflow_graph(graph: dict, *, title: str = "", strip: str = ""):
    """A picture of a Glue workflow's graph, top to bottom along the edges: triggers (small, with their type)
    and jobs and crawlers (boxes coloured by their last state in the run).

    ``graph`` is the ``Graph`` of ``get_workflow(..., IncludeGraph=True)["Workflow"]`` or of
    ``get_workflow_run(..., IncludeGraph=True)["Run"]``; ``strip`` is removed from the front of names (e.g. the
    lab's ``prefix + "--"``). Returns a matplotlib Figure not registered with pyplot (shown once as a cell's value).
    """
    from matplotlib.patches import Patch

    nodes, edges = graph.get("Nodes") or [], graph.get("Edges") or []
    if not nodes:
        raise ValueError("the graph has no nodes: ask for it with IncludeGraph=True")
    depth = _depths(nodes, edges)
    levels: dict[int, list[dict]] = {}
    for n in sorted(nodes, key=lambda n: (n.get("Type") != "TRIGGER", n["Name"])):
        levels.setdefault(depth[n["UniqueId"]], []).append(n)
    rows, widest = max(levels) + 1, max(len(members) for members in levels.values())
    step_x, step_y = 2.7, 1.0
    fig = _figure(figsize=(max(6.0, step_x * widest + 0.6), step_y * rows + 1.0))
    ax = fig.subplots()
    ax.set_xlim(-step_x * widest / 2, step_x * widest / 2)
    ax.set_ylim(-step_y * (rows - 0.4), step_y * 0.5)
    ax.axis("off")
    where, half_height = {}, {}
    for level, members in levels.items():
        for i, n in enumerate(members):
            where[n["UniqueId"]] = ((i - (len(members) - 1) / 2) * step_x, -level * step_y)
            half_height[n["UniqueId"]] = 0.2 if n.get("Type") == "TRIGGER" else 0.3
    for e in edges:
        (x1, y1), (x2, y2) = where[e["SourceId"]], where[e["DestinationId"]]
        ax.annotate("", xy=(x2, y2 + half_height[e["DestinationId"]]), xytext=(x1, y1 - half_height[e["SourceId"]]),
                    arrowprops=dict(arrowstyle="->", color="#555555", lw=1.1))
    for n in nodes:
        x, y = where[n["UniqueId"]]
        name = n["Name"][len(strip):] if strip and n["Name"].startswith(strip) else n["Name"]
        if n.get("Type") == "TRIGGER":
            trigger = (n.get("TriggerDetails") or {}).get("Trigger") or {}
            kind = trigger.get("Type", "")
            logical = ((trigger.get("Predicate") or {}).get("Logical") or "") if kind == "CONDITIONAL" else ""
            _box(ax, x - 1.2, y - 0.2, 2.4, 0.4, f"{name}: {kind} {logical}".strip(), "#fff7d6", 7.5)
        else:
            state = node_state(n)
            _box(ax, x - 1.15, y - 0.3, 2.3, 0.6, f"{n.get('Type', '').lower()} {name}\n{state or 'not run'}",
                 STATE_COLORS.get(state, _NOT_RUN), 9)
    shown = sorted({node_state(n) or "not run" for n in nodes if n.get("Type") != "TRIGGER"})
    ax.legend(handles=[Patch(fc=STATE_COLORS.get(s, _NOT_RUN), ec="#333333", label=s) for s in shown],
              loc="upper right", fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


#: Colours of an execution's steps by outcome (the first word of ``Step.outcome``).
OUTCOME_COLORS = {"succeeded": "#9fd39f", "caught": "#f5c36b", "failed": "#ee8b8b", "aborted": "#c9c9c9",
                  "timed": "#ee8b8b", "running": "#9cc3e6"}


def execution(order: list[str], steps: list, *, title: str = "", strip: str = ""):
    """A Step Functions execution as a timeline: one row per state of the definition (``order``, e.g.
    :func:`gluelab.asl.state_order`), a bar from when the execution entered the state to when it left, coloured
    by how it ended (``steps``: :func:`gluelab.asl.steps`), arrows along the path taken, and the states it
    never entered greyed out. Time is seconds since the execution started (waits pass on lab time, so a
    ``Wait`` of an hour shows as an hour). Returns a Figure not registered with pyplot."""
    from matplotlib.patches import Patch

    if not order:
        raise ValueError("the definition has no states")
    rows = {name: i for i, name in enumerate(order)}
    start = steps[0].entered if steps else None
    ends = [(s.exited or s.entered) for s in steps]
    span = max(((e - start).total_seconds() for e in ends), default=0.0) if start else 0.0
    span = span or 1.0
    fig = _figure(figsize=(9, max(2.8, 0.45 * len(order) + 1.5)))
    ax = fig.subplots()
    ax.set_ylim(len(order) - 0.4, -0.6)
    ax.set_xlim(-0.02 * span, span * 1.02)
    ax.set_yticks(range(len(order)))
    labels = [n[len(strip):] if strip and n.startswith(strip) else n for n in order]
    ax.set_yticklabels(labels, fontsize=9)
    entered = {s.name for s in steps}
    for name, i in rows.items():
        if name not in entered:
            ax.get_yticklabels()[i].set_color("#999999")
            ax.text(0, i, "  not entered", va="center", fontsize=8, color="#999999")
    previous = None
    for step in steps:
        i = rows.get(step.name)
        if i is None:
            continue
        x0 = (step.entered - start).total_seconds()
        width = max(((step.exited or step.entered) - step.entered).total_seconds(), span * 0.006)
        ax.barh(i, width, left=x0, height=0.55, color=OUTCOME_COLORS.get(step.outcome.split()[0], "#dddddd"),
                edgecolor="#333333", lw=0.8)
        note = step.outcome + (f": {step.error}" if step.error else "")
        ax.text(x0 + width + span * 0.01, i, note, va="center", fontsize=7.5, color="#333333")
        if previous is not None:
            ax.annotate("", xy=(x0, i - 0.28), xytext=(previous[0], previous[1] + 0.28),
                        arrowprops=dict(arrowstyle="->", color="#777777", lw=0.8))
        previous = (x0 + width, i)
    ax.set_xlabel("seconds since the execution started (lab time)", fontsize=9)
    shown = sorted({s.outcome.split()[0] for s in steps})
    ax.legend(handles=[Patch(fc=OUTCOME_COLORS.get(o, "#dddddd"), ec="#333333", label=o) for o in shown],
              loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(order) > 4 else -0.35), ncol=len(shown) or 1,
              fontsize=8, frameon=False)
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
