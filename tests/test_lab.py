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
    assert lab.zones.raw == "s3://gluelab-test--raw-123456789012-us-east-1/"
    assert lab.zones.uri("raw", "crm", "/customers") == "s3://gluelab-test--raw-123456789012-us-east-1/crm/customers"
    assert lab.zones.uri("raw", "crm/", "customers/") == "s3://gluelab-test--raw-123456789012-us-east-1/crm/customers/"
    assert lab.zones.uri("raw") == "s3://gluelab-test--raw-123456789012-us-east-1/"
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


@pytest.mark.parametrize("bad", [None, "", "ab", "A-lab", "lab_1", "-lab", "lab-", "x" * 21, "my--lab", "1lab",
                                 "aws-lab", "ssmlab"])
def test_bad_prefixes_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="prefix"):
        validate_prefix(bad)


def test_naming_and_ownership():
    n = Naming("team-a", "111122223333", "eu-west-1")
    assert n.bucket("raw") == "team-a--raw-111122223333-eu-west-1"
    assert n.database("Retail Analytics") == "team_a__retail_analytics"
    assert n.resource("Daily Sales ETL") == "team-a--daily-sales-etl"
    assert n.owns("team-a--job") and n.owns("team_a__db") and n.owns("arn:aws:states:x:1:stateMachine:team-a--sm")
    assert not n.owns("team-ab--job") and not n.owns("other-team-a--x") and not n.owns("prod_db")
    assert not n.owns("team-a-job") and not n.owns("team-a")  # made by hand, not by this lab's naming


@pytest.mark.parametrize("mine, theirs", [("team", "team-a"), ("student1", "student10"), ("lab-1", "lab-1-b")])
def test_a_prefix_never_owns_the_names_of_a_prefix_that_starts_the_same_way(mine, theirs):
    a, b = Naming(mine, "111122223333", "eu-west-1"), Naming(theirs, "111122223333", "eu-west-1")
    for made_by_b in (b.bucket("raw"), b.database("sales"), b.resource("etl"),
                      f"arn:aws:sns:eu-west-1:111122223333:{b.resource('alerts')}"):
        assert b.owns(made_by_b) and not a.owns(made_by_b), made_by_b
    for made_by_a in (a.bucket("raw"), a.database("sales"), a.resource("etl")):
        assert a.owns(made_by_a) and not b.owns(made_by_a), made_by_a


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
    return gluelab.start(backend="aws", region="us-east-1", prefix="cloudtest", endpoint_url=endpoint)


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
    assert all(t.startswith("dryrun--") for _, t in lab.planned)
    names = {b["Name"] for b in lab.client("s3").list_buckets()["Buckets"]}
    assert not any(n.startswith("dryrun--") for n in names)


def test_teardown_deletes_only_prefixed_resources(endpoint, capsys):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="teardown", endpoint_url=endpoint)
    lab.ensure_zones()
    lab.put_bytes(lab.zones.uri("raw", "a/b.csv"), b"x,y\n1,2\n")
    glue = lab.client("glue")
    glue.create_database(DatabaseInput={"Name": lab.names.database("retail")})
    glue.create_job(Name=lab.names.resource("etl"), Role=lab.ensure_glue_role(),
                    Command={"Name": "glueetl", "ScriptLocation": lab.zones.uri("scripts", "etl.py")})
    assert lab.ensure_glue_role() == "arn:aws:iam::123456789012:role/teardown--glue-role"
    # resources that are not the lab's, made behind its back with a raw client
    raw_s3 = boto3.client("s3", endpoint_url=endpoint)
    raw_glue = boto3.client("glue", endpoint_url=endpoint)
    raw_s3.create_bucket(Bucket="teardownx-keep-me")
    raw_s3.create_bucket(Bucket="keep-teardown-bucket")
    raw_glue.create_database(DatabaseInput={"Name": "keep_teardown_db"})

    deleted = lab.teardown()
    assert sorted(deleted) == sorted([f"bucket {lab.zones.bucket(z)}" for z in lab.zones]
                                     + ["database teardown__retail", "job teardown--etl",
                                        "IAM role teardown--glue-role"])
    out = capsys.readouterr().out
    assert "deleted bucket teardown--raw-123456789012-us-east-1" in out
    names = {b["Name"] for b in raw_s3.list_buckets()["Buckets"]}
    assert {"teardownx-keep-me", "keep-teardown-bucket"} <= names
    assert not any(n.startswith("teardown--") for n in names)
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


def _everything(endpoint) -> dict:
    """What the stand-in account holds: buckets with their objects, databases, jobs, crawlers, roles."""
    s3, glue, iam = (boto3.client(n, endpoint_url=endpoint) for n in ("s3", "glue", "iam"))
    buckets = {b["Name"]: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []))
               for b in s3.list_buckets()["Buckets"]}
    return {"buckets": buckets,
            "databases": sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]),
            "jobs": sorted(j["Name"] for j in glue.get_jobs()["Jobs"]),
            "crawlers": sorted(c["Name"] for c in glue.get_crawlers()["Crawlers"]),
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"])}


def _build(lab) -> None:
    lab.ensure_zones()
    lab.put_bytes(lab.zones.uri("raw", "sales/part-0.csv"), b"id,amount\n1,2\n")
    glue = lab.client("glue")
    role = lab.ensure_glue_role()
    glue.create_database(DatabaseInput={"Name": lab.names.database("sales")})
    glue.create_job(Name=lab.names.resource("etl"), Role=role,
                    Command={"Name": "glueetl", "ScriptLocation": lab.zones.uri("scripts", "etl.py")})
    glue.create_crawler(Name=lab.names.resource("raw"), Role=role, DatabaseName=lab.names.database("sales"),
                        Targets={"S3Targets": [{"Path": lab.zones.uri("raw", "sales/")}]})


@pytest.mark.parametrize("first, second", [("team", "team-a"), ("student1", "student10")])
def test_two_labs_whose_prefixes_start_the_same_way_tear_down_only_their_own(endpoint, first, second, capsys):
    """A workshop: every learner on one account. Each teardown leaves the other lab's resources, objects
    included, as they were."""
    one = gluelab.start(backend="aws", region="us-east-1", prefix=first, endpoint_url=endpoint)
    two = gluelab.start(backend="aws", region="us-east-1", prefix=second, endpoint_url=endpoint)
    before = _everything(endpoint)
    _build(one)
    _build(two)
    with_both = _everything(endpoint)
    assert len(with_both["buckets"]) == len(before["buckets"]) + 10

    deleted = one.teardown()
    assert len(deleted) == 5 + 4 and all(first + "--" in d or first + "__" in d for d in deleted), deleted
    after_one = _everything(endpoint)
    for kind, items in with_both.items():
        theirs = {i for i in (items if isinstance(items, list) else items) if two.names.owns(i)}
        assert theirs and theirs <= set(after_one[kind]), kind
    assert {b: after_one["buckets"][b] for b in after_one["buckets"] if two.names.owns(b)} == \
        {b: with_both["buckets"][b] for b in with_both["buckets"] if two.names.owns(b)}  # objects too
    assert not any(one.names.owns(i) for items in after_one.values() for i in items)

    assert len(two.teardown()) == 9
    assert _everything(endpoint) == before


def test_teardown_keeps_what_is_named_like_the_labs_but_was_not_made_by_it(endpoint, capsys):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="tagcheck", endpoint_url=endpoint)
    raw_glue = boto3.client("glue", endpoint_url=endpoint)
    by_hand = lab.names.database("by_hand")
    raw_glue.create_database(DatabaseInput={"Name": by_hand})  # the lab's name, no gluelab:lab tag
    raw_glue.create_database(DatabaseInput={"Name": lab.names.database("other")}, Tags={"gluelab:lab": "other"})
    lab.client("glue").create_database(DatabaseInput={"Name": lab.names.database("mine")})
    assert raw_glue.get_tags(ResourceArn=f"arn:aws:glue:us-east-1:123456789012:database/{lab.names.database('mine')}"
                             )["Tags"] == {"gluelab:lab": "tagcheck"}
    report = lab.teardown()
    assert list(report) == [f"database {lab.names.database('mine')}"]
    assert [what for what, _ in report.kept] == [f"database {by_hand}", f"database {lab.names.database('other')}"]
    out = capsys.readouterr().out
    assert f"kept database {by_hand}: it has no gluelab:lab tag" in out
    left = {d["Name"] for d in raw_glue.get_databases()["DatabaseList"]}
    assert {by_hand, lab.names.database("other")} <= left
    for name in (by_hand, lab.names.database("other")):
        raw_glue.delete_database(Name=name)


def test_teardown_stops_a_running_crawler_reports_failures_and_can_run_again(endpoint, capsys, monkeypatch):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="faulty", endpoint_url=endpoint)
    _build(lab)
    glue = lab.client("glue")
    for i in range(40):
        lab.put_bytes(lab.zones.uri("raw", f"sales/part-{i + 1}.csv"), b"id,amount\n1,2\n")
    glue.start_crawler(Name=lab.names.resource("raw"))
    # one kind fails to delete: reported, and the other kinds are still deleted
    from gluelab.localaws import glue_jobs

    owned = glue_jobs.SERVICE.owned[0]
    def refuse(client, name):
        raise RuntimeError("AccessDenied while deleting")
    monkeypatch.setattr(type(owned), "delete", property(lambda self: refuse if self.kind == "job" else
                                                        self.__dict__["delete"]), raising=False)
    report = lab.teardown()
    assert report.failed == [(f"job {lab.names.resource('etl')}", "RuntimeError: AccessDenied while deleting")]
    assert f"crawler {lab.names.resource('raw')}" in report and len(report) == 8
    assert "could not delete job faulty--etl: RuntimeError: AccessDenied while deleting" in capsys.readouterr().out
    monkeypatch.undo()
    assert list(lab.teardown()) == [f"job {lab.names.resource('etl')}"]
    assert list(lab.teardown()) == []


def test_aws_lab_spark_writes_only_into_the_labs_own_buckets(endpoint):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="sparkw", endpoint_url=endpoint)
    lab.ensure_zones()
    raw_s3 = boto3.client("s3", endpoint_url=endpoint)
    raw_s3.create_bucket(Bucket="sparkw-a--raw-other")  # another lab whose prefix starts the same way
    raw_s3.put_object(Bucket="sparkw-a--raw-other", Key="keep/part-0.csv", Body=b"a\n1\n")
    frame = lab.spark.createDataFrame([(1, "x"), (2, "y")], "id int, v string")
    frame.write.mode("overwrite").parquet(lab.zones.uri("processed", "mine/"))
    assert lab.spark.read.parquet(lab.zones.uri("processed", "mine/")).count() == 2
    for target in ("s3://sparkw-a--raw-other/out/", "s3://sparkw-a--raw-other/keep/"):
        with pytest.raises(Exception, match="refused by gluelab's prefix guard"):
            frame.write.mode("overwrite").parquet(target)
    keys = [o["Key"] for o in raw_s3.list_objects_v2(Bucket="sparkw-a--raw-other")["Contents"]]
    assert keys == ["keep/part-0.csv"]
    assert lab.spark.read.csv("s3://sparkw-a--raw-other/keep/", header=True).count() == 1  # reads are not limited
    lab.teardown()
    raw_s3.delete_object(Bucket="sparkw-a--raw-other", Key="keep/part-0.csv")
    raw_s3.delete_bucket(Bucket="sparkw-a--raw-other")


def test_a_parameter_is_tagged_when_created_and_can_be_overwritten(endpoint):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="params", endpoint_url=endpoint)
    ssm = lab.client("ssm")
    name = lab.names.resource("api-key")
    ssm.put_parameter(Name=name, Value="first", Type="SecureString")
    ssm.put_parameter(Name=name, Value="second", Type="SecureString", Overwrite=True)  # AWS refuses tags here
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "second"
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [
        {"Key": "gluelab:lab", "Value": "params"}]
    assert list(lab.teardown()) == [f"SSM parameter {name}"]
    assert name not in {p["Name"] for p in ssm.describe_parameters()["Parameters"]}


def test_service_roles_trust_only_their_service_and_reach_only_the_labs_resources(endpoint):
    lab = gluelab.start(backend="aws", region="us-east-1", prefix="roles", endpoint_url=endpoint)
    iam = lab.client("iam")
    for service in ("glue", "lambda", "states", "events"):
        arn = lab.ensure_role(service)
        assert arn == f"arn:aws:iam::123456789012:role/roles--{service}-role" == lab.ensure_role(service)
        role = iam.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
        assert [s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [
            f"{service}.amazonaws.com"]
        policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="roles--lab-access")["PolicyDocument"]
        resources = [r for s in policy["Statement"] for r in s["Resource"]]
        assert resources and all("roles--" in r for r in resources)
    with pytest.raises(ValueError, match="no lab role for 'ec2'"):
        lab.ensure_role("ec2")
    assert sorted(lab.teardown()) == [f"IAM role roles--{s}-role" for s in ("events", "glue", "lambda", "states")]
