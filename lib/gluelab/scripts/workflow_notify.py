# workflow_notify.py: the customer workflow's notice to the data team (a Glue Python shell job, lesson 09)
# Two triggers start it: the failure branch (--outcome failed) and the end of the pipeline (--outcome published).
# It publishes the outcome to the team's SNS topic, with the workflow run's properties as evidence.
import json
import sys

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "topic_arn", "outcome"])
glue, sns = boto3.client("glue"), boto3.client("sns")

properties = glue.get_workflow_run_properties(Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"])[
    "RunProperties"]
message = {"workflow": args["WORKFLOW_NAME"], "outcome": args["outcome"], "properties": properties}
sns.publish(TopicArn=args["topic_arn"], Subject=f"{args['WORKFLOW_NAME']}: {args['outcome']}",
            Message=json.dumps(message, sort_keys=True))
print("notified:", args["outcome"])
