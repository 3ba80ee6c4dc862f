# lambda_api_ingestion.py
import json
import boto3
import requests
from datetime import datetime, timedelta
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)

s3_client = boto3.client('s3')
ssm_client = boto3.client('ssm')

def lambda_handler(event, context):
    """Ingest data from external APIs"""
    try:
        # Get API credentials from SSM Parameter Store
        api_key = get_parameter('/etl/api-key')
        api_url = get_parameter('/etl/api-url')

        # Ingest data from multiple endpoints
        endpoints = [
            'customers',
            'products',
            'orders'
        ]

        for endpoint in endpoints:
            data = fetch_api_data(f"{api_url}/{endpoint}", api_key)
            if data:
                save_to_s3(data, endpoint)

        return {
            'statusCode': 200,
            'body': json.dumps('API ingestion completed')
        }

    except Exception as e:
        logger.error(f"API ingestion failed: {str(e)}")
        raise

def get_parameter(parameter_name):
    """Get parameter from SSM"""
    try:
        response = ssm_client.get_parameter(
            Name=parameter_name,
            WithDecryption=True
        )
        return response['Parameter']['Value']
    except Exception as e:
        logger.error(f"Failed to get parameter {parameter_name}: {str(e)}")
        raise

def fetch_api_data(url, api_key, params=None):
    """Fetch data from API"""
    headers = {
        'Authorization': f'Bearer {api_key}',
        'Content-Type': 'application/json'
    }

    try:
        response = requests.get(url, headers=headers, params=params)
        response.raise_for_status()

        data = response.json()

        # Add metadata
        if isinstance(data, list):
            for item in data:
                item['_ingested_at'] = datetime.now().isoformat()
        else:
            data['_ingested_at'] = datetime.now().isoformat()

        logger.info(f"Fetched {len(data) if isinstance(data, list) else 1} records from {url}")
        return data

    except requests.exceptions.RequestException as e:
        logger.error(f"API request failed for {url}: {str(e)}")
        return None

def save_to_s3(data, endpoint):
    """Save data to S3"""
    try:
        timestamp = datetime.now().strftime('%Y%m%d_%H%M%S')
        key = f"raw-api-data/{endpoint}/{endpoint}_{timestamp}.json"

        s3_client.put_object(
            Bucket='my-etl-bucket',
            Key=key,
            Body=json.dumps(data, indent=2),
            ContentType='application/json'
        )

        logger.info(f"Saved {len(data) if isinstance(data, list) else 1} records to s3://my-etl-bucket/{key}")

    except Exception as e:
        logger.error(f"Failed to save data to S3: {str(e)}")
        raise
