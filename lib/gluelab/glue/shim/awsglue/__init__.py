"""``awsglue`` for the local Glue runtime: every module here re-exports :mod:`gluelab.glue`.

``DynamicFrame`` is imported on first use, so a Python shell job's ``from awsglue.utils import
getResolvedOptions`` does not import Spark (a Python shell job has no Spark on AWS either).
"""

__all__ = ["DynamicFrame"]


def __getattr__(name):
    if name == "DynamicFrame":
        from gluelab.glue.dynamicframe import DynamicFrame

        return DynamicFrame
    raise AttributeError(f"module 'awsglue' has no attribute {name!r}")
