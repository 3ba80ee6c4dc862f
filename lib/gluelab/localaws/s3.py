"""Amazon S3: moto's S3 as it is (the lake's buckets; Spark reaches it through gluelab's S3 data plane).

Teardown deletes the lab's buckets with every object version and delete marker in them.
"""
from __future__ import annotations

from .service import Owned, Service


def _buckets(s3) -> list[str]:
    return [b["Name"] for b in s3.list_buckets().get("Buckets", [])]


def _delete_bucket(s3, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for i in range(0, len(objs), 1000):
            s3.delete_objects(Bucket=name, Delete={"Objects": objs[i:i + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=name)


SERVICE = Service("s3", guarded=("Bucket",), owned=(Owned("bucket", _buckets, _delete_bucket),))
