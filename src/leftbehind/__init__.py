"""leftbehind: cited data, evidence and report tools on labour migration and children left behind.

Modules
-------
leftbehind.data     the data package: load validated resources, look up figures and their sources
leftbehind.plots    the house chart style and chart functions (every chart carries a source line)
leftbehind.reports  the report runner: notebooks × parameters → executed notebooks, HTML and an index
leftbehind.errors   the exceptions raised on bad input

Examples
--------
>>> import leftbehind
>>> leftbehind.__version__
'0.1.0'
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
