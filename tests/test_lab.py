"""The facade: local and aws backends, naming, the prefix guard, dry runs and teardown.

The aws backend is tested against the local endpoint standing in for AWS (``endpoint_url=``), since there is no
network here: the code path (credential chain, guard, naming, teardown) is the one real AWS gets.
"""
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import gluelab
from gluelab.guard import OutsidePrefixError
from gluelab.naming import Naming, validate_prefix

AWS_CLI = str(Path(sys.executable).with_name("aws"))


def test_local_lab_exposes_its_endpoint_to_other_processes(lab):
    assert lab.endpoint_url.startswith("http://127.0.0.1:")
    lab.client("s3").put_object(Bucket=lab.zones.bucket("raw"), Key="cli/check.txt", Body=b"hello")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    buckets = subprocess.run([AWS_CLI, "s3", "ls", "--endpoint-url", lab.endpoint_url], capture_output=True,
                             text=True, env=env, check=True).stdout
    assert all(lab.zones.bucket(z) in buckets for z in lab.zones)
    objects = subprocess.run([AWS_CLI, "s3", "ls", "--recursive", lab.zones.raw, "--endpoint-url",
                              lab.endpoint_url], capture_output=True, text=True, env=env, check=True).stdout
    assert "cli/check.txt" in objects


def test_plain_boto3_clients_reach_the_local_lab(lab):
    names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert lab.zones.bucket("curated") in names


def test_zones_are_named_by_the_lab_and_created_idempotently(lab):
    assert lab.zones.raw == "s3://gluelab-test-raw-123456789012-us-east-1/"
    assert lab.zones.uri("raw", "crm", "/customers") == "s3://gluelab-test-raw-123456789012-us-east-1/crm/customers"
    assert lab.zones.uri("raw", "crm/", "customers/") == "s3://gluelab-test-raw-123456789012-us-east-1/crm/customers/"
    assert lab.zones.uri("raw") == "s3://gluelab-test-raw-123456789012-us-east-1/"
    before = lab.client("s3").list_buckets()["Buckets"]
    lab.ensure_zones()
    assert lab.client("s3").list_buckets()["Buckets"] == before


def test_put_bytes_skips_identical_content(lab):
    uri = lab.zones.uri("temp", "idempotent/a.txt")
    lab.put_bytes(uri, b"same")
    first = lab.client("s3").head_object(Bucket=lab.zones.bucket("temp"), Key="idempotent/a.txt")["LastModified"]
    lab.put_bytes(uri, b"same")
    again = lab.client("s3").head_object(Bucket=lab.zones.bucket("temp"), Key="idempotent/a.txt")["LastModified"]
    assert first == again
    lab.put_bytes(uri, b"changed")
    body = lab.client("s3").get_object(Bucket=lab.zones.bucket("temp"), Key="idempotent/a.txt")["Body"].read()
    assert body == b"changed"


@pytest.mark.parametrize("bad", [None, "", "ab", "A-lab", "lab_1", "-lab", "lab-", "x" * 21, "my--lab", "1lab"])
def test_bad_prefixes_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="prefix"):
        validate_prefix(bad)


def test_naming_and_ownership():
    n = Naming("team-a", "111122223333", "eu-west-1")
    assert n.bucket("raw") == "team-a-raw-111122223333-eu-west-1"
    assert n.database("Retail Analytics") == "team_a_retail_analytics"
    assert n.resource("Daily Sales ETL") == "team-a-daily-sales-etl"
    assert n.owns("team-a-job") and n.owns("team_a_db") and n.owns("arn:aws:states:x:1:stateMachine:team-a-sm")
    assert not n.owns("team-ab-job") and not n.owns("other-team-a") and not n.owns("prod_db")


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        gluelab.start(backend="azure")


def test_aws_backend_needs_an_explicit_prefix_and_region(endpoint):
    with pytest.raises(ValueError, match="prefix"):
        gluelab.start(backend="aws", region="us-east-1", endpoint_url=endpoint)
    with pytest.raises(ValueError, match="region"):
        gluelab.start(backend="aws", region=None, prefix="team-a", endpoint_url=endpoint)


@pytest.fixture
def aws_lab(endpoint):
    """The aws backend against the local endpoint standing in for AWS."""
    return gluelab.start(backend="aws", region="us-east-1", prefix="awstest", endpoint_url=endpoint)


def test_aws_backend_refuses_changes_outside_its_prefix(aws_lab):
    s3, glue = aws_lab.client("s3"), aws_lab.client("glue")
    with pytest.raises(OutsidePrefixError, match="refused"):
        s3.create_bucket(Bucket="someone-elses-bucket")
    with pytest.raises(OutsidePrefixError):
        glue.create_database(DatabaseInput={"Name": "prod_sales"})
    with pytest.raises(OutsidePrefixError):
        glue.delete_job(JobName="nightly-billing")
    with pytest.raises(OutsidePrefixError):
        s3.put_object(Bucket="someone-elses-bucket", Key="x", Body=b"")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}  # reads are allowed
    assert "someone-elses-bucket" not in names
    glue.create_database(DatabaseInput={"Name": aws_lab.names.database("sales")})
    # a table lives in a database: the lab owns the tables of its databases, whatever their names
    glue.create_table(DatabaseName=aws_lab.names.database("sales"), TableInput={"Name": "orders"})
    glue.delete_table(DatabaseName=aws_lab.names.database("sales"), Name="orders")
    with pytest.raises(OutsidePrefixError, match="prod_sales"):
        glue.delete_table(DatabaseName="prod_sales", Name="orders")
    glue.delete_database(Name=aws_lab.names.database("sales"))


def test_aws_dry_run_lists_and_creates_nothing(endpoint, capsys):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="dryrun", endpoint_url=endpoint, dry_run=True)
    lab.ensure_zones()
    out = capsys.readouterr().out
    assert "DRY RUN" in out
    assert [a for a, _ in lab.planned] == ["create bucket"] * 5
    assert all(t.startswith("dryrun-") for _, t in lab.planned)
    names = {b["Name"] for b in lab.client("s3").list_buckets()["Buckets"]}
    assert not any(n.startswith("dryrun-") for n in names)


def test_teardown_deletes_only_prefixed_resources(endpoint, capsys):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="teardown", endpoint_url=endpoint)
    lab.ensure_zones()
    lab.put_bytes(lab.zones.uri("raw", "a/b.csv"), b"x,y\n1,2\n")
    glue = lab.client("glue")
    glue.create_database(DatabaseInput={"Name": lab.names.database("retail")})
    glue.create_job(Name=lab.names.resource("etl"), Role=lab.ensure_glue_role(),
                    Command={"Name": "glueetl", "ScriptLocation": "s3://b/k"})
    assert lab.ensure_glue_role() == "arn:aws:iam::123456789012:role/teardown-glue-role"
    # resources that are not the lab's, made behind its back with a raw client
    raw_s3 = boto3.client("s3", endpoint_url=endpoint)
    raw_glue = boto3.client("glue", endpoint_url=endpoint)
    raw_s3.create_bucket(Bucket="teardownx-keep-me")
    raw_s3.create_bucket(Bucket="keep-teardown-bucket")
    raw_glue.create_database(DatabaseInput={"Name": "keep_teardown_db"})

    deleted = lab.teardown()
    assert sorted(deleted) == sorted([f"bucket {lab.zones.bucket(z)}" for z in lab.zones]
                                     + ["database teardown_retail", "job teardown-etl",
                                        "IAM role teardown-glue-role"])
    out = capsys.readouterr().out
    assert "deleted bucket teardown-raw-123456789012-us-east-1" in out
    names = {b["Name"] for b in raw_s3.list_buckets()["Buckets"]}
    assert {"teardownx-keep-me", "keep-teardown-bucket"} <= names
    assert not any(n.startswith("teardown-") for n in names)
    assert "keep_teardown_db" in {d["Name"] for d in raw_glue.get_databases()["DatabaseList"]}
    assert lab.teardown() == []


def test_aws_guard_owns_schemas_through_their_registry_and_teardown_deletes_registries(endpoint):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="regtest", endpoint_url=endpoint)
    glue = lab.client("glue")
    registry = lab.names.resource("schemas")
    glue.create_registry(RegistryName=registry)
    definition = '{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}]}'
    glue.create_schema(RegistryId={"RegistryName": registry}, SchemaName="customer", DataFormat="AVRO",
                       Compatibility="BACKWARD", SchemaDefinition=definition)
    sid = {"RegistryName": registry, "SchemaName": "customer"}   # a schema in the lab's registry is the lab's
    assert glue.register_schema_version(SchemaId=sid, SchemaDefinition=definition)["VersionNumber"] == 1
    arn = glue.get_schema(SchemaId=sid)["SchemaArn"]
    glue.put_schema_version_metadata(SchemaId={"SchemaArn": arn}, SchemaVersionNumber={"VersionNumber": 1},
                                     MetadataKeyValue={"MetadataKey": "owner", "MetadataValue": "crm"})
    raw_glue = boto3.client("glue", endpoint_url=endpoint)
    raw_glue.create_registry(RegistryName="someone-elses")
    raw_glue.create_schema(RegistryId={"RegistryName": "someone-elses"}, SchemaName="regtest-looks-mine",
                           DataFormat="AVRO", Compatibility="NONE", SchemaDefinition=definition)
    for other in ({"RegistryName": "someone-elses", "SchemaName": "regtest-looks-mine"},
                  {"SchemaArn": arn.replace(f"/{registry}/customer", "/someone-elses/regtest-looks-mine")},
                  {"SchemaName": "regtest-in-the-default-registry"}):
        with pytest.raises(OutsidePrefixError):
            glue.register_schema_version(SchemaId=other, SchemaDefinition=definition)
    deleted = lab.teardown()
    assert f"schema registry {registry}" in deleted
    left = {r["RegistryName"] for r in raw_glue.list_registries()["Registries"]}
    assert registry not in left and "someone-elses" in left
    raw_glue.delete_registry(RegistryId={"RegistryName": "someone-elses"})


def test_delete_prefix_empties_only_that_folder_of_a_lab_bucket(lab):
    for key in ("out/a.parquet", "out/sub/b.parquet", "outside/c.txt"):
        lab.put_bytes(lab.zones.uri("temp", key), b"x")
    assert lab.delete_prefix(lab.zones.uri("temp", "out/")) == 2
    keys = {o["Key"] for o in lab.client("s3").list_objects_v2(Bucket=lab.zones.bucket("temp"))
            .get("Contents", [])}
    assert "outside/c.txt" in keys and not any(k.startswith("out/") for k in keys)
    assert lab.delete_prefix(lab.zones.uri("temp", "out/")) == 0
    with pytest.raises(ValueError, match="not in one of this lab's buckets"):
        lab.delete_prefix("s3://someone-elses-bucket/data/")
    with pytest.raises(ValueError, match="ending in '/'"):
        lab.delete_prefix(lab.zones.uri("temp", "outside/c.txt"))


def test_an_aws_lab_starts_with_its_clock_wired(endpoint):
    """The aws backend's lab (against the local stand-in) fires the lab's own schedules on lab time."""
    import gluelab

    lab = gluelab.start(backend="aws", region="us-east-1", prefix="clockcheck", endpoint_url=endpoint)
    assert lab.clock.run_due() == []
