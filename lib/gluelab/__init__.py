"""gluelab: a runnable AWS Glue curriculum and the small library behind it.

``lab = gluelab.start()`` is the only set-up a notebook does; see :mod:`gluelab.lab`.
"""
from . import cost, diagrams, naming, waiting
from .lab import Lab, start

__all__ = ["Lab", "start"]
__version__ = "0.1.0"
