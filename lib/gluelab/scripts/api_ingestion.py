# api_ingestion.py: the guide's API ingestion function (lambda_api_ingestion.py), fixed (a Lambda function,
# lesson 11). What changed, and why:
# - settings come from the environment (the parameters' names, the bucket), not from names written into the code;
# - every page is fetched (the API answers a page at a time, with the URL of the next one);
# - a 429 Too Many Requests waits as long as the API's Retry-After says, then asks again, while the function has
#   time left;
# - any other failure raises: the invocation fails, Lambda's retries and alarms see it, nothing is skipped silently;
# - each endpoint's records are saved as JSON lines (one record per line: what crawlers and Spark read), each with
#   the time it was ingested.
import json
import os
import time
from datetime import datetime, timezone

import boto3
import requests

s3_client = boto3.client("s3")
ssm_client = boto3.client("ssm")
ENDPOINTS = ("customers", "products", "orders")
PAGE_SIZE = 100


def lambda_handler(event, context):
    api_key = get_parameter(os.environ["API_KEY_PARAMETER"])
    api_url = get_parameter(os.environ["API_URL_PARAMETER"])
    ingested_at = datetime.now(timezone.utc).isoformat()
    counts = {}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api_key}"
        for endpoint in ENDPOINTS:
            records = fetch_all(session, api_url, endpoint, context)
            for record in records:
                record["_ingested_at"] = ingested_at
            save_to_s3(records, endpoint, context.aws_request_id)
            counts[endpoint] = len(records)
    print(f"ingested {counts}")
    return {"statusCode": 200, "body": json.dumps(counts)}


def get_parameter(name):
    return ssm_client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def fetch_all(session, api_url, endpoint, context):
    """Every record of a paged endpoint: follow "next" until there is none."""
    url, records, pages = f"{api_url}/{endpoint}?per_page={PAGE_SIZE}", [], 0
    while url:
        response = session.get(url, timeout=10)
        if response.status_code == 429:
            wait = float(response.headers.get("Retry-After", "1"))
            if wait * 1000 > context.get_remaining_time_in_millis() - 1000:
                raise RuntimeError(f"rate limited on /{endpoint}: waiting as Retry-After says would outlast the function")
            print(f"429 on /{endpoint}: waiting {wait:g} s as Retry-After says")
            time.sleep(wait)
            continue
        response.raise_for_status()  # any other error fails the invocation
        page = response.json()
        records += page["data"]
        pages += 1
        url = page["next"]
    print(f"/{endpoint}: {len(records)} records in {pages} pages")
    return records


def save_to_s3(records, endpoint, request_id):
    key = f"{os.environ['OUTPUT_PREFIX']}{endpoint}/{request_id}.json"
    body = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    s3_client.put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key=key, Body=body.encode("utf-8"),
                         ContentType="application/x-ndjson")
