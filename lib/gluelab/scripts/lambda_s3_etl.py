# lambda_s3_etl.py
import json
import boto3
import pandas as pd
from io import StringIO, BytesIO
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)

s3_client = boto3.client('s3')
glue_client = boto3.client('glue')

def lambda_handler(event, context):
    """Process S3 file upload events"""
    try:
        for record in event['Records']:
            bucket = record['s3']['bucket']['name']
            key = record['s3']['object']['key']

            logger.info(f"Processing file: s3://{bucket}/{key}")

            # Process the file
            process_file(bucket, key)

        return {
            'statusCode': 200,
            'body': json.dumps('ETL processing completed')
        }

    except Exception as e:
        logger.error(f"Error processing ETL: {str(e)}")
        raise

def process_file(bucket, key):
    """Process individual file"""
    try:
        # Read file from S3
        response = s3_client.get_object(Bucket=bucket, Key=key)
        content = response['Body'].read().decode('utf-8')

        # Determine file type and process accordingly
        if key.endswith('.csv'):
            df = pd.read_csv(StringIO(content))
            processed_df = transform_csv_data(df)
        elif key.endswith('.json'):
            data = json.loads(content)
            df = pd.json_normalize(data)
            processed_df = transform_json_data(df)
        else:
            logger.warning(f"Unsupported file type: {key}")
            return

        # Write processed data back to S3
        output_key = key.replace('raw-data', 'processed-data').replace(
            '.csv', '.parquet'
        ).replace('.json', '.parquet')

        # Convert to Parquet
        buffer = BytesIO()
        processed_df.to_parquet(buffer, index=False)
        buffer.seek(0)

        s3_client.put_object(
            Bucket=bucket,
            Key=output_key,
            Body=buffer.getvalue()
        )

        # Update Glue catalog (optional)
        update_glue_catalog(bucket, output_key, processed_df)

        logger.info(f"Processed and saved: s3://{bucket}/{output_key}")

    except Exception as e:
        logger.error(f"Error processing file {key}: {str(e)}")
        raise

def transform_csv_data(df):
    """Transform CSV data"""
    # Remove duplicates
    df = df.drop_duplicates()

    # Handle missing values
    df = df.fillna({
        'name': 'Unknown',
        'email': 'unknown@example.com',
        'amount': 0
    })

    # Add processing timestamp
    df['processed_at'] = pd.Timestamp.now()

    # Data validation
    df = df[df['amount'] >= 0]  # Remove negative amounts

    return df

def transform_json_data(df):
    """Transform JSON data"""
    # Similar transformations for JSON data
    df = df.drop_duplicates()
    df['processed_at'] = pd.Timestamp.now()

    return df

def update_glue_catalog(bucket, key, df):
    """Update Glue catalog with new table metadata"""
    try:
        # This is a simplified example
        # In production, you'd create proper table definitions
        table_name = key.split('/')[-1].replace('.parquet', '')

        # Trigger Glue crawler or manually update catalog
        glue_client.start_crawler(Name='processed-data-crawler')

    except Exception as e:
        logger.warning(f"Failed to update Glue catalog: {str(e)}")
