"""Job: init and commit of a Glue job run; a Glue-style script running unchanged on the local runtime."""
import sys
import uuid

import pytest
from gluelab.glue import bookmarks


def test_job_init_takes_options_from_argv_when_args_lack_them(spark, monkeypatch):
    from gluelab.glue import GlueContext, Job

    monkeypatch.setattr(sys, "argv", ["job.py", "--JOB_NAME", "j1", "--JOB_RUN_ID", "jr_argv",
                                      "--job-bookmark-option", "job-bookmark-pause"])
    job = Job(GlueContext(spark))
    assert not job.isInitialized()
    with pytest.raises(RuntimeError, match="init"):
        job.commit()
    job.init("j1", {})
    assert job.isInitialized()
    assert (job.run_id, job.bookmark_option) == ("jr_argv", bookmarks.PAUSE)


def test_job_defaults_and_errors(spark, monkeypatch):
    from gluelab.glue import Job

    monkeypatch.setattr(sys, "argv", ["job.py"])
    job = Job(spark)  # a SparkSession is accepted, as on Glue
    job.init("j2")
    assert job.bookmark_option == bookmarks.DISABLE and job.run_id.startswith("jr_")
    with pytest.raises(TypeError, match="GlueContext"):
        Job("not a context")
    with pytest.raises(ValueError, match="job-bookmark-enable"):
        Job(spark).init("j3", {"job_bookmark_option": "yes"})
    with pytest.raises(NotImplementedError, match="ranges"):
        Job(spark).init("j3", {"job_bookmark_option": bookmarks.PAUSE, "job_bookmark_from": "jr_1",
                               "job_bookmark_to": "jr_2"})


def test_commit_twice_counts_one_run(spark):
    from gluelab.glue import GlueContext, Job

    name = f"job-{uuid.uuid4().hex[:8]}"
    job = Job(GlueContext(spark))
    job.init(name, {"job_bookmark_option": bookmarks.ENABLE, "JOB_RUN_ID": "jr_a"})
    job.commit()
    job.commit()
    assert bookmarks.STORE.entry(name)["Run"] == 1


def test_from_catalog_bookmark_reads_only_new_partitions(lab, spark):
    from gluelab.glue import GlueContext, Job

    glue, s3 = lab.client("glue"), lab.client("s3")
    db, table, name = "gluelab_test_b_job", f"events_{uuid.uuid4().hex[:6]}", f"job-{uuid.uuid4().hex[:8]}"
    bucket, prefix = lab.zones.bucket("raw"), f"b-job/{uuid.uuid4().hex[:8]}/"
    uri = f"s3://{bucket}/{prefix}"
    try:
        glue.create_database(DatabaseInput={"Name": db})
    except glue.exceptions.AlreadyExistsException:
        pass
    sd = {"Columns": [{"Name": "id", "Type": "bigint"}], "Location": uri,
          "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                        "Parameters": {"separatorChar": ","}}}
    glue.create_table(DatabaseName=db, TableInput={
        "Name": table, "StorageDescriptor": sd, "PartitionKeys": [{"Name": "day", "Type": "date"}],
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"}})

    def add_day(day, ids):
        s3.put_object(Bucket=bucket, Key=f"{prefix}day={day}/part.csv",
                      Body=("id\n" + "".join(f"{i}\n" for i in ids)).encode())
        glue.create_partition(DatabaseName=db, TableName=table, PartitionInput={
            "Values": [day], "StorageDescriptor": {**sd, "Location": f"{uri}day={day}/"}})

    def run(run_id):
        glue_context = GlueContext(spark)
        job = Job(glue_context)
        job.init(name, {"job_bookmark_option": bookmarks.ENABLE, "JOB_RUN_ID": run_id})
        df = glue_context.create_data_frame.from_catalog(database=db, table_name=table, transformation_ctx="ev")
        rows = sorted((r["id"], str(r["day"])) for r in df.collect())
        job.commit()
        return rows

    add_day("2024-01-01", [1, 2])
    assert run("jr_1") == [(1, "2024-01-01"), (2, "2024-01-01")]
    add_day("2024-01-02", [3])
    assert run("jr_2") == [(3, "2024-01-02")]
    assert run("jr_3") == []


SCRIPT = '''
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
glueContext = GlueContext(SparkContext.getOrCreate())
logger = glueContext.get_logger()
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
frame = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [args["source"]]}, format="json",
    transformation_ctx="source")
logger.info(f"read {frame.count()} records")
if frame.count():
    glueContext.write_dynamic_frame.from_options(
        frame=frame, connection_type="s3", connection_options={"path": args["target"]}, format="parquet")
job.commit()
'''


def test_glue_script_runs_unchanged(lab, spark, monkeypatch, capsys):
    import gluelab.glue

    gluelab.glue.enable()
    bucket, prefix = lab.zones.bucket("raw"), f"b-script/{uuid.uuid4().hex[:8]}/"
    source, target = f"s3://{bucket}/{prefix}in/", f"s3://{bucket}/{prefix}out/"
    s3 = lab.client("s3")
    s3.put_object(Bucket=bucket, Key=prefix + "in/a.json", Body=b'{"id": 1}\n{"id": 2}\n')
    name = f"script-{uuid.uuid4().hex[:6]}"
    for run_id, new_file in (("jr_s1", None), ("jr_s2", "b"), ("jr_s3", None)):
        if new_file:
            s3.put_object(Bucket=bucket, Key=f"{prefix}in/{new_file}.json", Body=b'{"id": 3}\n')
        monkeypatch.setattr(sys, "argv", ["script.py", "--JOB_NAME", name, "--JOB_RUN_ID", run_id,
                                          "--job-bookmark-option", "job-bookmark-enable",
                                          "--source", source, "--target", target])
        exec(compile(SCRIPT, "script.py", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "GlueLogger" in line] == [
        "INFO GlueLogger: read 2 records", "INFO GlueLogger: read 1 records", "INFO GlueLogger: read 0 records"]
    assert sorted(r["id"] for r in spark.read.parquet(target).collect()) == [1, 2, 3]
    assert bookmarks.STORE.entry(name)["Run"] == 3
