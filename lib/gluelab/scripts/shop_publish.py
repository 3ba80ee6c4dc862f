# shop_publish.py: the shop pipeline's publication (a Glue Python shell job, lesson 11; step 8 of the guide's
# event-driven flow). It copies the checked net revenue to the curated zone as one partition (batch=<batch>) of
# the catalog table net_revenue, which it creates on first use, so analysts query it with Athena or Spark.
import sys

import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "processed_uri",
                                     "curated_uri", "database"])
glue, s3 = boto3.client("glue"), boto3.client("s3")
run = {"Name": args["WORKFLOW_NAME"], "RunId": args["WORKFLOW_RUN_ID"]}
batch = glue.get_workflow_run_properties(**run)["RunProperties"]["batch"]
source_bucket, _, source_base = args["processed_uri"][len("s3://"):].rstrip("/").partition("/")
table_uri = args["curated_uri"].rstrip("/") + "/net_revenue/"
bucket, _, base = table_uri[len("s3://"):].partition("/")
s3.copy_object(Bucket=bucket, Key=f"{base}batch={batch}/net_revenue.csv",
               CopySource={"Bucket": source_bucket, "Key": f"{source_base}/net_revenue/batch={batch}/net_revenue.csv"})

columns = [{"Name": "month", "Type": "string"}, {"Name": "country", "Type": "string"},
           {"Name": "sales_revenue", "Type": "double"}, {"Name": "cancelled_revenue", "Type": "double"},
           {"Name": "net_revenue", "Type": "double"}]
csv = {"InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
       "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
       "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                     "Parameters": {"field.delim": ","}}}
try:
    glue.create_table(DatabaseName=args["database"], TableInput={
        "Name": "net_revenue", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "PartitionKeys": [{"Name": "batch", "Type": "string"}],
        "StorageDescriptor": {"Columns": columns, "Location": table_uri, **csv}})
except glue.exceptions.AlreadyExistsException:
    pass
partition = {"Values": [batch], "StorageDescriptor": {"Columns": columns, "Location": f"{table_uri}batch={batch}/",
                                                       **csv}}
try:
    glue.create_partition(DatabaseName=args["database"], TableName="net_revenue", PartitionInput=partition)
except glue.exceptions.AlreadyExistsException:
    glue.update_partition(DatabaseName=args["database"], TableName="net_revenue", PartitionValueList=[batch],
                          PartitionInput=partition)
glue.put_workflow_run_properties(**run, RunProperties={"published": f"{table_uri}batch={batch}/"})
print(f"published batch {batch} to {table_uri}")
