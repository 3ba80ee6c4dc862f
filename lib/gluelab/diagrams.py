"""Pictures for the lessons, drawn with matplotlib so they live in code, not in image files.

Kept out of the notebooks so the narrative shows one call (``gluelab.diagrams.architecture()``), not the plotting.
"""
from __future__ import annotations


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
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.2))
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
