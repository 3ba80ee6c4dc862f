"""Lesson pictures: the workflow graph figure."""
import pytest

from gluelab import diagrams


def graph():
    return {"Nodes": [
        {"Type": "TRIGGER", "Name": "lab-start", "UniqueId": "t1",
         "TriggerDetails": {"Trigger": {"Type": "ON_DEMAND"}}},
        {"Type": "CRAWLER", "Name": "lab-crawl", "UniqueId": "c1",
         "CrawlerDetails": {"Crawls": [{"State": "FAILED"}, {"State": "SUCCEEDED"}]}},
        {"Type": "TRIGGER", "Name": "lab-after", "UniqueId": "t2",
         "TriggerDetails": {"Trigger": {"Type": "CONDITIONAL", "Predicate": {"Logical": "ANY"}}}},
        {"Type": "JOB", "Name": "lab-etl", "UniqueId": "j1", "JobDetails": {"JobRuns": [{"JobRunState": "FAILED"}]}},
        {"Type": "JOB", "Name": "lab-notify", "UniqueId": "j2", "JobDetails": {}},
    ], "Edges": [{"SourceId": "t1", "DestinationId": "c1"}, {"SourceId": "c1", "DestinationId": "t2"},
                 {"SourceId": "t2", "DestinationId": "j1"}, {"SourceId": "j1", "DestinationId": "j2"}]}


def test_node_state_is_the_last_run_or_crawl():
    states = {n["Name"]: diagrams.node_state(n) for n in graph()["Nodes"]}
    assert states == {"lab-start": None, "lab-crawl": "SUCCEEDED", "lab-after": None, "lab-etl": "FAILED",
                      "lab-notify": None}


def test_the_figure_places_nodes_left_to_right_along_the_edges():
    fig = diagrams.workflow_graph(graph(), title="pipeline", strip="lab-")
    ax = fig.axes[0]
    texts = {t.get_text().split("\n")[1] if t.get_text().count("\n") == 2 else t.get_text().split("\n")[0]:
             t.get_position() for t in ax.texts}
    assert texts["start"][0] < texts["crawl"][0] < texts["after"][0] < texts["etl"][0] < texts["notify"][0]
    assert [p.get_label() for p in ax.get_legend().get_patches()] == ["FAILED", "SUCCEEDED", "not run"]


def test_a_graph_without_nodes_or_with_a_cycle_is_refused():
    with pytest.raises(ValueError, match="IncludeGraph=True"):
        diagrams.workflow_graph({"Nodes": [], "Edges": []})
    looped = graph()
    looped["Edges"].append({"SourceId": "j2", "DestinationId": "t1"})
    with pytest.raises(ValueError, match="cycle"):
        diagrams.workflow_graph(looped)


def test_a_figure_shows_as_a_picture_in_a_notebook():
    """IPython draws a bare Figure only with pyplot's inline backend loaded; ours draw themselves."""
    for fig in (diagrams.workflow_graph(graph()), diagrams.architecture()):
        assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
