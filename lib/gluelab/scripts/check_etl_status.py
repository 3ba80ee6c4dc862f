# check_etl_status.py
import boto3
import json
import time

glue_client = boto3.client('glue')

def lambda_handler(event, context):
    """Check status of Glue ETL job"""
    job_name = 'customer-etl-job'

    try:
        # Get the latest job run
        response = glue_client.get_job_runs(
            JobName=job_name,
            MaxResults=1
        )

        if response['JobRuns']:
            job_run = response['JobRuns'][0]
            status = job_run['JobRunState']

            return {
                'etlStatus': status,
                'jobRunId': job_run['Id'],
                'startTime': job_run.get('StartedOn', '').isoformat() if job_run.get('StartedOn') else None,
                'endTime': job_run.get('CompletedOn', '').isoformat() if job_run.get('CompletedOn') else None,
                'errorMessage': job_run.get('ErrorMessage', '')
            }

        return {
            'etlStatus': 'NOT_FOUND',
            'errorMessage': 'No job runs found'
        }

    except Exception as e:
        print(f"Error checking ETL status: {str(e)}")
        raise
