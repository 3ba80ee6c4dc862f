"""Job bookmarks: the store's entries and rewinds, and runs that read only new S3 objects."""
import json
from datetime import UTC, datetime, timedelta

import pytest
from gluelab.glue import bookmarks
from gluelab.glue.bookmarks import BookmarkRun, BookmarkStore, S3File

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _files(*names, at=T0, etag="e1"):
    return [S3File("b", f"in/{n}", 10, at, etag) for n in names]


def _run(store, option=bookmarks.ENABLE, run_id="jr_1", job="j"):
    return BookmarkRun(job, run_id, option, store)


def _committed(store, files, ctx="src", **run_kw):
    """A run that reads ``files`` for ``ctx`` and commits; returns the run."""
    run = _run(store, **run_kw)
    run.select(ctx, files)
    run.commit()
    return run


def test_enable_reads_only_new_files_and_commit_saves_them():
    store = BookmarkStore()
    run1 = _run(store)
    assert [f.key for f in run1.select("src", _files("a", "b"))] == ["in/a", "in/b"]
    assert not store.has("j")
    run1.commit()
    entry = store.entry("j")
    assert (entry["Version"], entry["Run"], entry["RunId"], entry["PreviousRunId"]) == (1, 1, "jr_1", "")
    assert set(json.loads(entry["JobBookmark"])["src"]["files"]) == {"s3://b/in/a", "s3://b/in/b"}
    run2 = _run(store, run_id="jr_2")
    assert [f.key for f in run2.select("src", _files("a", "b", "c"))] == ["in/c"]
    run2.commit()
    entry = store.entry("j")
    assert (entry["Version"], entry["Run"], entry["RunId"], entry["PreviousRunId"]) == (2, 2, "jr_2", "jr_1")


def test_rewritten_object_is_new_again():
    store = BookmarkStore()
    _committed(store, _files("a", "b"))
    later = _files("a", at=T0 + timedelta(seconds=5))
    same_second_new_bytes = [S3File("b", "in/b", 10, T0, "e2")]
    assert [f.key for f in _run(store, run_id="jr_2").select("src", later + same_second_new_bytes)] == [
        "in/a", "in/b"]


def test_run_without_commit_changes_nothing():
    store = BookmarkStore()
    _committed(store, _files("a"))
    failed = _run(store, run_id="jr_2")
    assert [f.key for f in failed.select("src", _files("a", "b"))] == ["in/b"]  # never committed
    assert [f.key for f in _run(store, run_id="jr_3").select("src", _files("a", "b"))] == ["in/b"]
    assert store.entry("j")["Run"] == 1


def test_pause_reads_new_files_without_advancing_and_disable_reads_all():
    store = BookmarkStore()
    _committed(store, _files("a"))
    paused = _run(store, bookmarks.PAUSE, "jr_2")
    assert [f.key for f in paused.select("src", _files("a", "b"))] == ["in/b"]
    paused.commit()
    assert store.entry("j")["Version"] == 1
    assert [f.key for f in _run(store, run_id="jr_3").select("src", _files("a", "b"))] == ["in/b"]
    off = _run(store, bookmarks.DISABLE, "jr_4")
    assert [f.key for f in off.select("src", _files("a", "b"))] == ["in/a", "in/b"]
    off.commit()
    assert store.entry("j")["Run"] == 1


def test_sources_are_tracked_per_transformation_ctx_and_need_one():
    store = BookmarkStore()
    _committed(store, _files("a"), ctx="orders")
    again = _run(store, run_id="jr_2")
    assert [f.key for f in again.select("customers", _files("a"))] == ["in/a"]
    assert [f.key for f in again.select("", _files("a"))] == ["in/a"]  # no ctx: no bookmark
    assert again.pending() == {"customers": ["s3://b/in/a"]}


def test_reset_and_rewind():
    store = BookmarkStore()
    for i, names in enumerate((("a",), ("a", "b"), ("a", "b", "c")), start=1):
        _committed(store, _files(*names), run_id=f"jr_{i}")
    rewound = store.reset("j", "jr_1")
    assert rewound["Version"] == 4
    assert [f.key for f in _run(store, run_id="jr_9").select("src", _files("a", "b", "c"))] == ["in/b", "in/c"]
    store.reset("j")
    assert json.loads(store.entry("j")["JobBookmark"]) == {}
    assert len(_run(store, run_id="jr_10").select("src", _files("a", "b", "c"))) == 3
    with pytest.raises(KeyError, match="jr_nope"):
        store.reset("j", "jr_nope")


def test_unknown_job_entry_and_bad_option():
    store = BookmarkStore()
    assert store.entry("x")["Version"] == 0 and not store.has("x")
    assert store.reset("x")["Run"] == 0 and not store.has("x")
    with pytest.raises(ValueError, match="job-bookmark-enable"):
        BookmarkRun("x", "jr", "on", store)
    assert bookmarks.new_run_id().startswith("jr_") and len(bookmarks.new_run_id()) == 67


def test_bounded_runs_work_off_a_backlog_oldest_first_and_remember_only_what_they_read():
    store = BookmarkStore()
    backlog = [S3File("b", f"in/{n}", 10, T0 + timedelta(minutes=m), "e") for n, m in
               [("c", 0), ("a", 1), ("b", 2), ("d", 3), ("e", 4)]]
    done = []
    for i in range(3):
        run = _run(store, run_id=f"jr_{i}")
        chosen = run.select("src", backlog, max_files=2)
        run.commit()
        done.append([f.key for f in chosen])
    assert done == [["in/a", "in/c"], ["in/b", "in/d"], ["in/e"]]
    assert bookmarks.bounded(backlog, max_bytes=25) == sorted(backlog[:2], key=lambda f: f.uri)
    assert [f.key for f in bookmarks.bounded(backlog, max_bytes=5)] == ["in/c"]  # at least one file
    assert bookmarks.bounded(backlog) == backlog
    with pytest.raises(ValueError, match="boundedFiles must be a positive"):
        bookmarks.bounded(backlog, max_files=0)


# ---- job runs reading S3 through a GlueContext ------------------------------------------------------------

@pytest.fixture
def source(lab):
    """A fresh folder of CSV files, a writer for more, and a job name."""
    import uuid

    bucket, prefix = lab.zones.bucket("raw"), f"b-bookmarks/{uuid.uuid4().hex[:8]}/"
    s3 = lab.client("s3")

    def add(*names):
        for n in names:
            s3.put_object(Bucket=bucket, Key=f"{prefix}{n}.csv", Body=f"id,file\n1,{n}\n2,{n}\n".encode())

    return f"s3://{bucket}/{prefix}", add, f"job-{uuid.uuid4().hex[:8]}"


def _job_run(spark, path, job_name, option, run_id, commit=True, **connection_options):
    """One run of a tiny bookmarked job; returns the files it processed (from the data itself)."""
    from gluelab.glue import GlueContext, Job

    glue_context = GlueContext(spark.sparkContext)
    job = Job(glue_context)
    job.init(job_name, {"JOB_NAME": job_name, "job_bookmark_option": option, "JOB_RUN_ID": run_id})
    frame = glue_context.create_dynamic_frame.from_options(
        "s3", {"paths": [path], **connection_options}, format="csv", format_options={"withHeader": True},
        transformation_ctx="src")
    files = sorted({r["file"] for r in frame.toDF().collect()}) if frame.toDF().columns else []
    if commit:
        job.commit()
    return files


def test_bookmarked_runs_process_each_file_once(spark, source):
    path, add, job = source
    add("a", "b", "c")
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_1") == ["a", "b", "c"]
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_2") == []  # nothing new
    add("d", "e")
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_3", commit=False) == ["d", "e"]  # fails before commit
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_4") == ["d", "e"]  # so the retry sees them again
    entry = bookmarks.STORE.entry(job)
    assert (entry["Run"], entry["RunId"], entry["PreviousRunId"]) == (3, "jr_4", "jr_2")
    add("f")
    assert _job_run(spark, path, job, bookmarks.PAUSE, "jr_5") == ["f"]
    assert _job_run(spark, path, job, bookmarks.PAUSE, "jr_6") == ["f"]  # paused: not advanced
    assert _job_run(spark, path, job, bookmarks.DISABLE, "jr_7") == ["a", "b", "c", "d", "e", "f"]
    assert bookmarks.STORE.entry(job)["Run"] == 3
    bookmarks.STORE.reset(job)
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_8") == ["a", "b", "c", "d", "e", "f"]
    assert _job_run(spark, path, job, bookmarks.ENABLE, "jr_9") == []


def test_bounded_files_option_caps_each_bookmarked_run(spark, source):
    path, add, job = source
    add("a", "b", "c")
    runs = [_job_run(spark, path, job, bookmarks.ENABLE, f"jr_{i}", boundedFiles="2") for i in range(3)]
    assert runs == [["a", "b"], ["c"], []]  # two files, then the third, then none


def test_reads_outside_a_job_are_not_bookmarked(spark, source):
    from gluelab.glue import GlueContext

    path, add, _ = source
    add("a")
    glue_context = GlueContext(spark)
    for _ in range(2):
        frame = glue_context.create_dynamic_frame.from_options(
            "s3", {"paths": [path]}, format="csv", format_options={"withHeader": True}, transformation_ctx="src")
        assert frame.count() == 2
