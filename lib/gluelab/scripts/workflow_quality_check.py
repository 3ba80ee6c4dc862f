# workflow_quality_check.py: the customer workflow's quality gate (a Glue Python shell job, lesson 09)
# Reads the raw customer exports the crawler catalogued, measures how many records have a valid email, writes
# what it found to the workflow run's properties and fails the run when completeness is below the gate.
import json
import sys

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "customer_db",
                                     "min_email_completeness"])
glue, s3 = boto3.client("glue"), boto3.client("s3")

table = glue.get_table(DatabaseName=args["customer_db"], Name="customers_raw")["Table"]
bucket, _, prefix = table["StorageDescriptor"]["Location"][len("s3://"):].partition("/")
records = valid = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for obj in page.get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
        for line in body.splitlines():
            if line.strip():
                email = json.loads(line).get("email") or ""
                records += 1
                valid += "@" in email

completeness = valid / records if records else 0.0
gate = float(args["min_email_completeness"])
print(f"{records} records, {valid} with a valid email: completeness {completeness:.1%} (gate {gate:.0%})")
glue.put_workflow_run_properties(Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"], RunProperties={
    "raw_records": str(records), "email_completeness": f"{completeness:.4f}"})
if completeness < gate:
    raise ValueError(f"email completeness {completeness:.1%} is below the gate of {gate:.0%}")
