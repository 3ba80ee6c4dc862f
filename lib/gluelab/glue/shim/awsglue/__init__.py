"""``awsglue`` for the local Glue runtime: every module here re-exports :mod:`gluelab.glue`."""
from gluelab.glue.dynamicframe import DynamicFrame

__all__ = ["DynamicFrame"]
