"""``awsglue.gluetypes``: the type classes of :mod:`gluelab.glue.types`."""
from gluelab.glue.types import *
