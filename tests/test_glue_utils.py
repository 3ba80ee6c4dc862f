"""getResolvedOptions: job arguments as Glue passes them to a script."""
import pytest
from gluelab.glue.utils import GlueArgumentError, getResolvedOptions, parse_arguments

ARGV = ["job.py", "--JOB_NAME", "orders", "--JOB_RUN_ID", "jr_abc", "--job-bookmark-option",
        "job-bookmark-enable", "--TempDir", "s3://tmp/x/", "--enable-metrics", "--conf", "spark.a=1",
        "--day", "2024-05-01", "--source-path", "s3://raw/orders/"]


def test_asked_for_options_are_returned_with_reserved_ones():
    args = getResolvedOptions(ARGV, ["JOB_NAME", "day", "source-path"])
    assert args["JOB_NAME"] == "orders"
    assert args["day"] == "2024-05-01"
    assert args["source_path"] == "s3://raw/orders/"  # dashes become underscores, as argparse does
    assert args["job_bookmark_option"] == "job-bookmark-enable"
    assert args["JOB_RUN_ID"] == "jr_abc"
    assert args["TempDir"] == args["RedshiftTempDir"] == "s3://tmp/x/"
    assert args["JOB_ID"] is None and args["SECURITY_CONFIGURATION"] is None
    assert "conf" not in args and "enable_metrics" not in args  # not asked for: ignored


def test_missing_required_arguments_raise_naming_all_of_them():
    with pytest.raises(GlueArgumentError) as e:
        getResolvedOptions(ARGV, ["JOB_NAME", "region", "limit"])
    assert "--region" in str(e.value) and "--limit" in str(e.value)
    assert "--JOB_NAME" not in str(e.value)


def test_missing_argument_is_not_system_exit():
    try:
        getResolvedOptions(["job.py"], ["JOB_NAME"])
    except SystemExit:  # pragma: no cover - the point of the test
        pytest.fail("getResolvedOptions exited the interpreter")
    except GlueArgumentError:
        pass


def test_reserved_arguments_can_be_asked_for():
    args = getResolvedOptions(ARGV, ["JOB_RUN_ID", "TempDir", "job-bookmark-option"])
    assert (args["JOB_RUN_ID"], args["TempDir"], args["job_bookmark_option"]) == (
        "jr_abc", "s3://tmp/x/", "job-bookmark-enable")


def test_bookmark_option_defaults_to_disable_and_continuation_is_translated():
    assert getResolvedOptions(["job.py"], [])["job_bookmark_option"] == "job-bookmark-disable"
    old = getResolvedOptions(["job.py", "--continuation-option", "continuation-readonly"], [])
    assert old["job_bookmark_option"] == "job-bookmark-pause"


def test_bad_bookmark_option_and_ranges_raise():
    with pytest.raises(GlueArgumentError, match="invalid choice"):
        getResolvedOptions(["job.py", "--job-bookmark-option", "on"], [])
    with pytest.raises(GlueArgumentError, match="job-bookmark-to"):
        getResolvedOptions(["job.py", "--job-bookmark-option", "job-bookmark-pause", "--job-bookmark-from",
                            "jr_1"], [])
    with pytest.raises(GlueArgumentError, match="only valid with"):
        getResolvedOptions(["job.py", "--job-bookmark-from", "jr_1", "--job-bookmark-to", "jr_2"], [])


def test_parse_arguments_forms():
    assert parse_arguments(["--a", "1", "--b=2", "--flag", "--c", "x y", "stray", "--a", "3"]) == {
        "a": "3", "b": "2", "flag": "", "c": "x y"}
