"""``awsglue.context``: :class:`gluelab.glue.context.GlueContext`."""
from gluelab.glue.context import DataSink, DataSource, GlueContext, GlueLogger

__all__ = ["DataSink", "DataSource", "GlueContext", "GlueLogger"]
