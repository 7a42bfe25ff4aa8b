"""World Development Indicators: parse the World Bank's bulk CSV and add a new release to the data package.

The stable import path of :mod:`leftbehind.refresh.wdi`, where the code lives.

Examples
--------
>>> INDICATORS["BX.TRF.PWKR.DT.GD.ZS"]
('remittances_received_pct_gdp', 'percent')
"""

from __future__ import annotations

from .refresh.wdi import API_URL, INDICATORS, LABOUR_SENDING, fetch, parse_bulk_csv, refresh

__all__ = ["INDICATORS", "LABOUR_SENDING", "API_URL", "parse_bulk_csv", "fetch", "refresh"]
