"""``awsglueml.transforms``: :class:`gluelab.glue.transforms.FillMissingValues`."""
from gluelab.glue.transforms import FillMissingValues

__all__ = ["FillMissingValues"]
