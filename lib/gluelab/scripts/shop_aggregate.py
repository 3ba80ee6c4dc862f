# shop_aggregate.py: the shop pipeline's aggregation (a Glue Python shell job, lesson 11; step 6 of the guide's
# event-driven flow). It starts when both parallel jobs have succeeded (a fan-in trigger) and combines their
# outputs: revenue per month and country, cancelled revenue, and the net revenue (their sum: cancelled revenue is
# negative, as the quantities are).
import io
import sys

import boto3
import pandas as pd
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "processed_uri"])
glue, s3 = boto3.client("glue"), boto3.client("s3")
run = {"Name": args["WORKFLOW_NAME"], "RunId": args["WORKFLOW_RUN_ID"]}
batch = glue.get_workflow_run_properties(**run)["RunProperties"]["batch"]
bucket, _, base = args["processed_uri"][len("s3://"):].rstrip("/").partition("/")


def revenue(kind):
    body = s3.get_object(Bucket=bucket, Key=f"{base}/{kind}/batch={batch}/{kind}.csv")["Body"].read()
    rows = pd.read_csv(io.BytesIO(body), dtype={"Month": str, "Country": str})
    return rows.groupby(["Month", "Country"])["Revenue"].sum().rename(kind)


net = pd.concat([revenue("sales"), revenue("cancellations")], axis=1).fillna(0.0)
net["net_revenue"] = net["sales"] + net["cancellations"]
net = net.round(2).reset_index().rename(columns={"Month": "month", "Country": "country", "sales": "sales_revenue",
                                                 "cancellations": "cancelled_revenue"})
net = net.sort_values(["month", "country"])
s3.put_object(Bucket=bucket, Key=f"{base}/net_revenue/batch={batch}/net_revenue.csv",
              Body=net.to_csv(index=False).encode("utf-8"))
glue.put_workflow_run_properties(**run, RunProperties={
    "net_revenue_rows": str(len(net)), "net_revenue": f"{net['net_revenue'].sum():.2f}"})
print(f"net revenue: {len(net)} month-country rows, total {net['net_revenue'].sum():,.2f}")
