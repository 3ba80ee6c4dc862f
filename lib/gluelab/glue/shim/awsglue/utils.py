"""``awsglue.utils``: :func:`gluelab.glue.utils.getResolvedOptions`."""
from gluelab.glue.utils import GlueArgumentError, getResolvedOptions

__all__ = ["GlueArgumentError", "getResolvedOptions"]
