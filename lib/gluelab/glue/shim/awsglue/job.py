"""``awsglue.job``: :class:`gluelab.glue.job.Job`."""
from gluelab.glue.job import Job

__all__ = ["Job"]
