"""The Glue cost model: DPU-hours at the list price, per-second billing with a minimum."""
import pytest

from gluelab.cost import billed_seconds, job_cost


def test_seed_examples():
    # seed 000: "0.44 per hour x 2 workers x 0.17 hours = 0.15" (Standard workers, ~10 minutes)
    assert round(job_cost(0.17 * 3600, "Standard", 2).usd, 2) == 0.15
    # "$0.44 per hour x 30 workers x 1 hour = $13.20" (G.1X)
    assert job_cost(3600, "G.1X", 30).usd == pytest.approx(13.20)


def test_per_second_billing_with_a_one_minute_minimum():
    assert billed_seconds(12.2) == 60
    assert billed_seconds(61.01) == 62
    short, minute = job_cost(5, "G.1X", 2), job_cost(60, "G.1X", 2)
    assert short.usd == minute.usd == pytest.approx(2 * 60 / 3600 * 0.44)
    assert job_cost(90, "G.1X", 2).usd > minute.usd


def test_worker_types_scale_dpus_and_old_glue_versions_bill_ten_minutes():
    assert job_cost(600, "G.2X", 10).dpus == 20
    assert job_cost(600, "G.2X", 10).usd == pytest.approx(2 * job_cost(600, "G.1X", 10).usd)
    assert job_cost(30, "G.1X", 2, glue_version="1.0").billed_seconds == 600


def test_python_shell_flex_and_bad_input():
    assert job_cost(120, job_type="pythonshell").dpus == 0.0625
    assert job_cost(3600, "G.1X", 10, flex=True).usd == pytest.approx(10 * 0.29)
    with pytest.raises(ValueError, match="worker type"):
        job_cost(60, "G.3X", 2)
    with pytest.raises(ValueError, match="at least 2 workers"):
        job_cost(60, "G.1X", 1)
    with pytest.raises(ValueError, match="0.0625 or 1"):
        job_cost(60, job_type="pythonshell", max_capacity=0.5)
    with pytest.raises(ValueError, match="negative"):
        billed_seconds(-1)
    assert "DPU-hours" in str(job_cost(60))


def test_a_job_estimate_runs_from_the_billing_minimum_to_the_timeout():
    from gluelab.cost import crawler_estimate, job_estimate, total

    spark = job_estimate({"Name": "etl", "Command": {"Name": "glueetl"}, "GlueVersion": "4.0",
                          "WorkerType": "G.1X", "NumberOfWorkers": 2, "Timeout": 10})
    assert spark.low.usd == pytest.approx(2 * 60 / 3600 * 0.44)            # the 1-minute minimum
    assert spark.high.usd == pytest.approx(2 * 600 / 3600 * 0.44)          # its 10-minute timeout
    assert str(spark).startswith("job etl: at least $0.0147") and "10-minute timeout" in str(spark)
    shell = job_estimate({"Name": "s", "Command": {"Name": "pythonshell"}, "MaxCapacity": 0.0625})
    assert shell.low.dpus == 0.0625 and shell.high.run_seconds == 2880 * 60   # AWS's default timeout
    crawl = crawler_estimate("c")
    assert crawl.low.billed_seconds == 600 and crawl.low.usd == pytest.approx(2 * 600 / 3600 * 0.44)
    assert crawl.high is None and "more if it runs longer" in str(crawl)
    assert total([spark, spark]) == "at least $0.0293, at most $0.2933"
    assert total([spark, crawl]).startswith("at least $0.1613, more when a crawl")
