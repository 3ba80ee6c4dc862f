"""Shared fixtures: one local endpoint and one SparkSession per test process (both are per-process anyway)."""
import os
import sys

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def endpoint():
    """The local AWS endpoint's URL (moto server with gluelab's hooks)."""
    from gluelab import localaws

    return localaws.start("us-east-1")


@pytest.fixture(scope="session")
def lab(endpoint):
    """A local lab with prefix 'gluelab-test' and its zone buckets."""
    import gluelab

    lab = gluelab.start(backend="local", region="us-east-1", prefix="gluelab-test")
    lab.ensure_zones()
    return lab


def pytest_configure(config):
    """`-m notebooks` runs only the tests that execute the real notebooks; `-m "not notebooks"` skips them."""
    config.addinivalue_line("markers", "notebooks: executes the real exercise notebooks (slow: Spark starts)")


@pytest.fixture(scope="session")
def spark(endpoint):
    """The process's SparkSession; its s3:// paths live in the local endpoint's S3."""
    from gluelab import spark as gluelab_spark

    return gluelab_spark.session(endpoint_url=endpoint)


@pytest.fixture
def make_job(lab):
    """``make_job(name, source, command, python_version, **job_kwargs)``: upload the script text to the lab's
    scripts zone and create a Glue job running it; returns the job's name. The jobs are deleted afterwards."""
    glue, s3 = lab.client("glue"), lab.client("s3")
    made = []

    def make(name, source, command, python_version, **job_kwargs):
        key = f"jobs/{name}.py"
        s3.put_object(Bucket=lab.zones.bucket("scripts"), Key=key, Body=source.encode())
        job_name = lab.names.resource(name)
        glue.create_job(Name=job_name, Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": command, "ScriptLocation": lab.zones.uri("scripts", key),
                                 "PythonVersion": python_version}, **job_kwargs)
        made.append(job_name)
        return job_name

    yield make
    for name in made:
        glue.delete_job(JobName=name)
