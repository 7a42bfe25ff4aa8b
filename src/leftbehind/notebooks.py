"""Keep notebooks clean and reproducible: normalise executed notebooks, refresh the stored ones.

The stable import path of :mod:`leftbehind.reports.notebooks`, where the code lives (``write_atomic`` lives in
the leaf module ``leftbehind._io``).

Examples
--------
>>> CHECK_TAG
'nbval-check-output'
"""

from __future__ import annotations

from .reports.notebooks import CHECK_TAG, dumps, normalise, refresh, strip_for_storage, write_atomic

__all__ = ["CHECK_TAG", "normalise", "strip_for_storage", "dumps", "write_atomic", "refresh"]
