"""The only code that writes new figures into ``data/``: each module refreshes one publisher's series as a new
edition, keeping the earlier ones (``python -m leftbehind data refresh``).

Modules: ``wdi`` (World Development Indicators; also importable as :mod:`leftbehind.wdi`), ``snapshots``
(publishers' files kept as downloaded, and the figures derived from them).

Examples
--------
>>> from leftbehind.refresh import wdi
>>> sorted(wdi.INDICATORS)
['BM.TRF.PWKR.CD.DT', 'BX.TRF.PWKR.CD.DT', 'BX.TRF.PWKR.DT.GD.ZS', 'NY.GDP.MKTP.CD', 'SI.RMT.COST.IB.ZS', 'SI.RMT.COST.OB.ZS']
"""

from __future__ import annotations

from . import wdi as wdi

__all__: list[str] = []  # the public surface is the submodules (wdi), each documented on its own
