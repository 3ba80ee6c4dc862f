# busy_source.py: a Lambda function standing in for a source system that is busy exporting: it refuses its
# first two calls with SourceBusy, then answers. It counts its calls in an S3 object (COUNTER, an s3:// URI), so
# the count survives from one execution environment to the next, as it would on AWS.
import os

import boto3


class SourceBusy(Exception):
    """The source is still exporting; call again later."""


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    bucket, key = os.environ["COUNTER"][len("s3://"):].split("/", 1)
    try:
        calls = int(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) + 1
    except s3.exceptions.NoSuchKey:
        calls = 1
    s3.put_object(Bucket=bucket, Key=key, Body=str(calls).encode())
    if calls < 3:
        raise SourceBusy(f"call {calls}: the export is still running")
    return {"calls": calls, "files": 3}
