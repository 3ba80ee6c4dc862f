# glue_etl_job.py: the guide's script, its bugs fixed (each change marked FIX)
import sys
from datetime import datetime                       # FIX 2: datetime was used but never imported
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame       # FIX 1: needed to come back from a DataFrame
from awsglue.job import Job

## @params: [JOB_NAME, customer_db, reference_db, output_path]
# FIX 6: names come from job parameters, not from the code
args = getResolvedOptions(sys.argv, ['JOB_NAME', 'customer_db', 'reference_db', 'output_path'])

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Read data from Glue Catalog
datasource0 = glueContext.create_dynamic_frame.from_catalog(
    database=args['customer_db'],
    table_name="customers_raw",
    transformation_ctx="datasource0"
)

# FIX 7: with bookmarks, a run without new files reads an empty frame (no fields at all)
if datasource0.count() == 0:
    print("No new customer files since the last committed run: nothing to write")
else:
    # FIX 3: purchase_amount is a choice (number in some files, text in others): make it a double
    resolved = datasource0.resolveChoice(specs=[("purchase_amount", "cast:double")])

    # Apply transformations
    # 1. Drop duplicates (FIX 1: dropDuplicates is a DataFrame method)
    deduplicated = DynamicFrame.fromDF(resolved.toDF().dropDuplicates(), glueContext, "deduplicated")

    # 2. Filter invalid records
    filtered = deduplicated.filter(
        lambda row: row["email"] is not None and "@" in row["email"]
    )

    # 3. Add derived columns (FIX 3: a missing amount counts as 0 instead of raising TypeError)
    transformed = filtered.map(
        lambda row: {
            **row,
            "customer_segment": "High" if (row["purchase_amount"] or 0) > 500
                            else "Medium" if (row["purchase_amount"] or 0) > 100
                            else "Low",
            "processed_date": datetime.now().isoformat()
        }
    )

    # 4. Join with reference data
    # FIX 5: no transformation_ctx here: a bookmarked reference table is empty from the second run on
    reference_datasource = glueContext.create_dynamic_frame.from_catalog(
        database=args['reference_db'],
        table_name="country_codes"
    )

    # FIX 4: join(paths1, paths2, frame2), an inner equality join
    joined = transformed.join(
        ["country"],
        ["country_name"],
        reference_datasource
    )

    # Write to S3 in Parquet format
    output_path = args['output_path']

    glueContext.write_dynamic_frame.from_options(
        frame=joined,
        connection_type="s3",
        connection_options={
            "path": output_path,
            "partitionKeys": ["country", "customer_segment"]
        },
        format="parquet",
        transformation_ctx="output"
    )

job.commit()
