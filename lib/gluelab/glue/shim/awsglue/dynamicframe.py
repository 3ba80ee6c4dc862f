"""``awsglue.dynamicframe``: :mod:`gluelab.glue.dynamicframe`."""
from gluelab.glue.dynamicframe import *
from gluelab.glue.dynamicframe import DynamicFrame, DynamicFrameCollection  # noqa: F401
