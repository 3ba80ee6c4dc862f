# check_source_data.py
import boto3
import json
from datetime import datetime, timedelta

s3_client = boto3.client('s3')

def lambda_handler(event, context):
    """Check if new data is available for processing"""
    bucket = 'my-etl-bucket'
    prefix = 'raw-data/'

    # Check for files modified in last hour
    cutoff_time = datetime.now() - timedelta(hours=1)

    try:
        response = s3_client.list_objects_v2(
            Bucket=bucket,
            Prefix=prefix
        )

        if 'Contents' in response:
            recent_files = [
                obj for obj in response['Contents']
                if obj['LastModified'] > cutoff_time
            ]

            return {
                'dataAvailable': len(recent_files) > 0,
                'fileCount': len(recent_files),
                'files': [obj['Key'] for obj in recent_files]
            }

        return {
            'dataAvailable': False,
            'fileCount': 0,
            'files': []
        }

    except Exception as e:
        print(f"Error checking source data: {str(e)}")
        raise
