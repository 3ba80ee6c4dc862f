"""Amazon S3: moto's S3 as it is (the lake's buckets; Spark reaches it through gluelab's S3 data plane).

Teardown deletes the lab's buckets with every object version and delete marker in them.
"""
from __future__ import annotations

from .service import Owned, Service, tag_list


def _buckets(s3) -> list[str]:
    return [b["Name"] for b in s3.list_buckets().get("Buckets", [])]


def _delete_bucket(s3, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for i in range(0, len(objs), 1000):
            s3.delete_objects(Bucket=name, Delete={"Objects": objs[i:i + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=name)


def _bucket_tags(s3, name: str, _account_id: str) -> dict:
    try:
        return tag_list(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise


def _tag_bucket(s3, params: dict, tags: dict) -> None:
    """CreateBucket takes no tags: the lab tags a bucket it made right after creating it."""
    s3.put_bucket_tagging(Bucket=params["Bucket"],
                          Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


SERVICE = Service(
    "s3", guarded=("Bucket",),
    operations=("CreateBucket", "DeleteBucket", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
                "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
                "AbortMultipartUpload", "PutBucketTagging", "DeleteBucketTagging", "PutObjectTagging",
                "DeleteObjectTagging", "PutBucketNotificationConfiguration", "PutBucketVersioning",
                "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle", "PutPublicAccessBlock",
                "PutBucketEncryption"),
    owned=(Owned("bucket", _buckets, _delete_bucket, tags=_bucket_tags),),
    tag_after={"CreateBucket": _tag_bucket})
