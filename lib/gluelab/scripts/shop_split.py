# shop_split.py: one of the shop pipeline's parallel jobs (a Glue Python shell job, lesson 11; step 5 of the
# guide's event-driven flow). Two jobs run this script at once, one per kind of row in the new transaction file:
# --kind sales (completed orders) and --kind cancellations (TransactionNo starting with "C", negative quantities).
# Each writes its rows, with the revenue of each row, to the processed zone and records its counts in the
# workflow run's properties. A row of its kind that cannot be read (a quantity or price that is not a number, no
# date) goes to a quarantine file with the reason: rows in = sales + cancellations + quarantined.
import io
import sys

import boto3
import pandas as pd
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "kind", "processed_uri"])
glue, s3 = boto3.client("glue"), boto3.client("s3")
run = {"Name": args["WORKFLOW_NAME"], "RunId": args["WORKFLOW_RUN_ID"]}
properties = glue.get_workflow_run_properties(**run)["RunProperties"]
kind, batch = args["kind"], properties["batch"]


def split_uri(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def put_csv(frame, uri):
    bucket, key = split_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=frame.to_csv(index=False).encode("utf-8"))


bucket, key = split_uri(properties["source_uri"])
body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
rows = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
cancelled = rows["TransactionNo"].str.startswith("C")
mine = rows[cancelled if kind == "cancellations" else ~cancelled].copy()

quantity = pd.to_numeric(mine["Quantity"], errors="coerce")
price = pd.to_numeric(mine["Price"], errors="coerce")
month = pd.to_datetime(mine["Date"], format="%m/%d/%Y", errors="coerce").dt.strftime("%Y-%m")
reason = pd.Series("", index=mine.index)
reason[month.isna()] = "Date is not a m/d/yyyy date"
reason[price.isna()] = "Price is not a number"
reason[quantity.isna()] = "Quantity is not a number"
bad = reason != ""

good = mine[~bad].assign(Month=month[~bad], Revenue=(quantity * price)[~bad].round(2))
quarantined = mine[bad].assign(reason=reason[bad])
base = args["processed_uri"].rstrip("/")
put_csv(good, f"{base}/{kind}/batch={batch}/{kind}.csv")
if len(quarantined):
    put_csv(quarantined, f"{base}/quarantine/batch={batch}/{kind}.csv")
glue.put_workflow_run_properties(**run, RunProperties={
    "source_rows": str(len(rows)), f"{kind}_rows": str(len(good)), f"{kind}_quarantined": str(len(quarantined))})
print(f"{kind}: {len(good)} of {len(rows)} rows, {len(quarantined)} quarantined")
