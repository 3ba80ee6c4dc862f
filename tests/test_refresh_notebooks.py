"""tools/refresh_notebooks.py: what it stores does not depend on how the kernel happened to flush output."""
import importlib.util
from pathlib import Path

from nbformat.v4 import new_output

TOOL = Path(__file__).resolve().parent.parent / "tools" / "refresh_notebooks.py"
_spec = importlib.util.spec_from_file_location("refresh_notebooks", TOOL)
rn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rn)


def test_adjacent_streams_of_the_same_name_are_joined_and_order_is_kept():
    outputs = [new_output("stream", name="stdout", text="a\n"), new_output("stream", name="stdout", text="b\n"),
               new_output("stream", name="stderr", text="warn\n"), new_output("stream", name="stdout", text="c\n"),
               new_output("display_data", data={"text/plain": "table"}),
               new_output("stream", name="stdout", text="d\n"), new_output("stream", name="stdout", text="e\n")]
    merged = rn.merge_adjacent_streams(outputs)
    assert [(o["output_type"], o.get("name"), o.get("text", o.get("data", {}).get("text/plain"))) for o in merged] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "warn\n"), ("stream", "stdout", "c\n"),
        ("display_data", None, "table"), ("stream", "stdout", "d\ne\n")]


def test_one_stream_split_two_ways_is_stored_the_same():
    one = [new_output("stream", name="stdout", text="x\ny\nz\n")]
    split = [new_output("stream", name="stdout", text="x\n"), new_output("stream", name="stdout", text="y\nz\n")]
    assert rn.merge_adjacent_streams(split) == rn.merge_adjacent_streams(one)
