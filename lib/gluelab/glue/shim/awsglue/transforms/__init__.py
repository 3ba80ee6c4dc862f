"""``awsglue.transforms``: the transforms of :mod:`gluelab.glue.transforms`."""
from gluelab.glue.transforms import *
from gluelab.glue.transforms import __all__  # noqa: F401
