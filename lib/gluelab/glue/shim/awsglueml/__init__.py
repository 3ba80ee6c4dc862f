"""``awsglueml`` for the local Glue runtime: re-exports :mod:`gluelab.glue` (FillMissingValues)."""
