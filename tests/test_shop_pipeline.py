"""Lesson 11's shop pipeline pieces on the local backend: the router function (S3 notifications and EventBridge
events, duplicates, poison messages) and the split job (every row of the file accounted for)."""
import io
import json
import uuid

import pandas as pd
import pytest

from gluelab import functions, jobs, waiting, workflows


@pytest.fixture
def pipeline(lab):
    """A workflow whose start trigger runs the two split jobs; the router deployed to start it."""
    lab.ensure_zones()
    tag = uuid.uuid4().hex[:6]
    processed = lab.zones.uri("processed", f"shop-test-{tag}/")
    split = {kind: lab.names.resource(f"t-split-{kind}-{tag}") for kind in ("sales", "cancellations")}
    for kind, job in split.items():
        jobs.deploy(lab, job, jobs.script("shop_split.py"), f"tests/shop_split_{tag}.py", python_shell=True,
                    **{"--kind": kind, "--processed_uri": processed})
    name = lab.names.resource(f"t-shop-{tag}")
    workflows.rebuild(lab, name, [{"Name": lab.names.resource(f"t-shop-start-{tag}"), "Type": "ON_DEMAND",
                                   "Actions": [{"JobName": job} for job in split.values()]}])
    router = lab.names.resource(f"t-router-{tag}")
    functions.deploy(lab, router, {"shop_router.py": jobs.script("shop_router.py")},
                     handler="shop_router.lambda_handler", timeout=10, environment={
                         "ROUTES": json.dumps({"shop/transactions/": name}),
                         "MARKERS_BUCKET": lab.zones.bucket("processed"), "MARKERS_PREFIX": f"markers-{tag}/"})
    yield {"workflow": name, "router": router, "processed": processed}
    glue = lab.client("glue")
    for trigger in glue.get_workflow(Name=name)["Workflow"].get("Graph", {}).get("Nodes", []):
        if trigger["Type"] == "TRIGGER":
            glue.delete_trigger(Name=trigger["Name"])
    glue.delete_workflow(Name=name)
    for job in split.values():
        glue.delete_job(JobName=job)
    lab.client("lambda").delete_function(FunctionName=router)


def sqs_event(*bodies):
    return {"Records": [{"messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body)}
                        for i, body in enumerate(bodies)]}


def s3_notification(bucket, encoded_key, etag):
    return {"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": bucket}, "object": {"key": encoded_key, "eTag": etag, "size": 10}}}]}


def test_the_router_starts_one_run_per_object_version_and_reports_only_what_failed(lab, pipeline):
    s3 = lab.client("s3")
    bucket = lab.zones.bucket("raw")
    key = "shop/transactions/day=2024-05-01/batch one.csv"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b"TransactionNo\n1\n")["ETag"].strip('"')
    encoded = "shop/transactions/day%3D2024-05-01/batch+one.csv"
    event = sqs_event({"Service": "Amazon S3", "Event": "s3:TestEvent"}, s3_notification(bucket, encoded, etag),
                      "not an event", s3_notification(bucket, encoded, etag))
    answer = functions.invoke(lab, pipeline["router"], event)
    assert answer.ok, answer
    assert answer.result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    runs = workflows.run_ids(lab, pipeline["workflow"])
    assert len(runs) == 1  # the second copy of the event is a duplicate
    glue = lab.client("glue")
    properties = glue.get_workflow_run_properties(Name=pipeline["workflow"], RunId=runs[0])["RunProperties"]
    assert properties["source_uri"] == f"s3://{bucket}/{key}"
    assert (properties["source_etag"], properties["batch"]) == (etag, "batch one")
    assert any(line.startswith("duplicate: ") for line in functions.handler_lines(
        functions.invocations(lab, pipeline["router"])[-1]))

    # the same object announced by EventBridge (keys not encoded) is the same version: nothing new starts
    bridge = {"detail-type": "Object Created", "source": "aws.s3",
              "detail": {"bucket": {"name": bucket}, "object": {"key": key, "etag": etag}}}
    assert functions.invoke(lab, pipeline["router"], sqs_event(bridge)).result == {"batchItemFailures": []}
    assert len(workflows.run_ids(lab, pipeline["workflow"])) == 1
    # a key no route knows is a failure of that message only
    unrouted = {"detail-type": "Object Created", "detail": {"bucket": {"name": bucket},
                                                            "object": {"key": "other/x.csv", "etag": "e"}}}
    assert functions.invoke(lab, pipeline["router"], sqs_event(unrouted, bridge)).result == {
        "batchItemFailures": [{"itemIdentifier": "m0"}]}
    waiting.workflow_run(glue, pipeline["workflow"], runs[0])


def test_the_split_jobs_account_for_every_row_and_quarantine_unreadable_ones_with_a_reason(lab, pipeline):
    s3, glue = lab.client("s3"), lab.client("glue")
    bucket = lab.zones.bucket("raw")
    header = "TransactionNo,Date,ProductNo,ProductName,Price,Quantity,CustomerNo,Country"
    rows = ["581482,12/9/2019,22485,Crates,21.47,12,17490,United Kingdom",
            "581483,12/9/2019,22486,Tins,abc,3,17490,France",             # price not a number
            "C581484,12/9/2019,22487,Mugs,2.10,-4,17491,France",
            "C581485,not a date,22488,Cups,1.00,-1,17492,France",          # date not m/d/yyyy
            "581486,11/30/2019,22489,Bowls,3.50,,17493,Germany",           # no quantity
            "581487,11/30/2019,22490,Plates,4.00,2,,Germany"]
    key = f"shop/transactions/{uuid.uuid4().hex[:6]}.csv"
    etag = s3.put_object(Bucket=bucket, Key=key, Body="\r\n".join([header] + rows).encode())["ETag"].strip('"')
    run_id = glue.start_workflow_run(Name=pipeline["workflow"], RunProperties={
        "source_uri": f"s3://{bucket}/{key}", "source_etag": etag, "batch": "b1"})["RunId"]
    run = waiting.workflow_run(glue, pipeline["workflow"], run_id)
    assert run["Statistics"]["SucceededActions"] == 2, run["Statistics"]
    p = glue.get_workflow_run_properties(Name=pipeline["workflow"], RunId=run_id)["RunProperties"]
    assert (p["sales_rows"], p["sales_quarantined"], p["cancellations_rows"], p["cancellations_quarantined"]) == (
        "2", "2", "1", "1")
    assert int(p["source_rows"]) == len(rows) == sum(int(p[k]) for k in (
        "sales_rows", "sales_quarantined", "cancellations_rows", "cancellations_quarantined"))

    def read(path):
        b, _, k = (pipeline["processed"] + path)[len("s3://"):].partition("/")
        return pd.read_csv(io.BytesIO(s3.get_object(Bucket=b, Key=k)["Body"].read()), dtype=str)

    quarantined = pd.concat([read("quarantine/batch=b1/sales.csv"), read("quarantine/batch=b1/cancellations.csv")])
    assert sorted(zip(quarantined["TransactionNo"], quarantined["reason"])) == [
        ("581483", "Price is not a number"), ("581486", "Quantity is not a number"),
        ("C581485", "Date is not a m/d/yyyy date")]
    sales = read("sales/batch=b1/sales.csv")
    assert sorted(zip(sales["TransactionNo"], sales["Month"], sales["Revenue"])) == [
        ("581482", "2019-12", "257.64"), ("581487", "2019-11", "8.0")]
