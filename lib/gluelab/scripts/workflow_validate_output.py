# workflow_validate_output.py: the customer workflow's check after the ETL (a Glue Python shell job, lesson 09)
# Lists what the ETL wrote, compares it with what the quality gate counted (the workflow run's properties) and
# fails the run when the output is missing; records the figures for the steps that follow.
import sys

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "output_path"])
glue, s3 = boto3.client("glue"), boto3.client("s3")

properties = glue.get_workflow_run_properties(Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"])[
    "RunProperties"]
bucket, _, prefix = args["output_path"][len("s3://"):].partition("/")
files = [obj for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
         for obj in page.get("Contents", []) if obj["Key"].endswith(".parquet")]
partitions = sorted({obj["Key"][len(prefix):].rsplit("/", 1)[0] for obj in files})
print(f"quality gate counted {properties.get('raw_records', '?')} raw records; "
      f"the ETL wrote {len(files)} Parquet files in {len(partitions)} partitions")
if not files:
    raise RuntimeError(f"the ETL wrote nothing to {args['output_path']}")
glue.put_workflow_run_properties(Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"], RunProperties={
    "output_files": str(len(files)), "output_partitions": str(len(partitions))})
