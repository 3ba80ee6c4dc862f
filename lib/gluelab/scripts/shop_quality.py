# shop_quality.py: the shop pipeline's quality gate (a Glue Python shell job, lesson 11; step 7 of the guide's
# event-driven flow). It checks what the earlier steps recorded and wrote, and fails the run (so nothing is
# published) when a check fails:
# - every row of the file is accounted for: source rows = sales rows + cancellation rows + quarantined rows;
# - no more than --max_quarantined_share of the rows were quarantined;
# - the net revenue adds up: its total = sales revenue + cancelled revenue;
# - a business rule: cancelled revenue in a month and country never exceeds what was sold there.
import io
import sys

import boto3
import pandas as pd
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "processed_uri",
                                     "max_quarantined_share"])
glue, s3 = boto3.client("glue"), boto3.client("s3")
run = {"Name": args["WORKFLOW_NAME"], "RunId": args["WORKFLOW_RUN_ID"]}
p = glue.get_workflow_run_properties(**run)["RunProperties"]
bucket, _, base = args["processed_uri"][len("s3://"):].rstrip("/").partition("/")
body = s3.get_object(Bucket=bucket, Key=f"{base}/net_revenue/batch={p['batch']}/net_revenue.csv")["Body"].read()
net = pd.read_csv(io.BytesIO(body), dtype={"month": str, "country": str})

source = int(p["source_rows"])
accounted = sum(int(p[f"{kind}_{what}"]) for kind in ("sales", "cancellations") for what in ("rows", "quarantined"))
quarantined = int(p["sales_quarantined"]) + int(p["cancellations_quarantined"])
over = net[net["cancelled_revenue"].abs() > net["sales_revenue"] + 0.005]
checks = {
    "every row accounted for": (accounted == source, f"{accounted} of {source} rows"),
    "quarantined share": (quarantined <= float(args["max_quarantined_share"]) * source,
                          f"{quarantined} of {source} rows"),
    "net revenue adds up": (abs(net["net_revenue"].sum() - net["sales_revenue"].sum()
                                - net["cancelled_revenue"].sum()) < 0.01, f"{net['net_revenue'].sum():.2f}"),
    "cancellations within sales": (over.empty, "; ".join(f"{r.month} {r.country}: {r.cancelled_revenue:.2f} "
                                                          f"cancelled, {r.sales_revenue:.2f} sold"
                                                          for r in over.head(3).itertuples()) or "none over"),
}
for name, (passed, evidence) in checks.items():
    print(f"{'PASS' if passed else 'FAIL'} {name}: {evidence}")
failed = [name for name, (passed, _) in checks.items() if not passed]
glue.put_workflow_run_properties(**run, RunProperties={"quality": "passed" if not failed else
                                                       "failed: " + ", ".join(failed)})
if failed:
    raise SystemExit(f"quality gate failed: {', '.join(failed)}")
