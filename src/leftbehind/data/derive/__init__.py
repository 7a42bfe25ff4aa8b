"""Tables derived by code from snapshots (``python -m leftbehind data build``), never edited by hand.

Each snapshot's record names its ``parser``; a reader per publisher's format turns the file into derived
figures (each naming its source and its location in the file), the World Bank classification, or the
corridors; :mod:`.build` writes ``data/derived/`` deterministically.

Modules: ``common`` (the derived figure, numbers, strict parsing), ``wdi`` (World Development Indicators: bulk
CSV, country metadata, gdidata's extract), ``undesa`` (International Migrant Stock: destination workbook,
destination × origin tables, corridors), ``rdata`` (R data files), ``computed`` (series computed from two
others), ``build`` (the tables written).

Examples
--------
>>> sorted(PARSERS)[:2]
['gdidata_undesa_stocks', 'gdidata_wdi']
"""

from __future__ import annotations

from .build import (
    CORRIDOR_FIELDS,
    EDITION_FIELDS,
    NOT_DERIVED,
    PARSERS,
    SOURCE_FIELDS,
    TABLES,
    build_data,
    build_derived,
    check_tables,
    classification_rows,
)
from .common import FIGURE_FIELDS, Figure
from .computed import COMPUTED
from .undesa import OTHER_ORIGIN, destination_workbook_rows, gdidata_corridors, gdidata_stock_rows, undesa_rows
from .wdi import CLASSIFICATION_FIELDS, WDI_SERIES, fiscal_year, metadata_country_rows, parse_bulk_csv, wdi_rows

__all__ = [
    "PARSERS",
    "NOT_DERIVED",
    "FIGURE_FIELDS",
    "SOURCE_FIELDS",
    "EDITION_FIELDS",
    "CORRIDOR_FIELDS",
    "CLASSIFICATION_FIELDS",
    "TABLES",
    "COMPUTED",
    "OTHER_ORIGIN",
    "WDI_SERIES",
    "Figure",
    "parse_bulk_csv",
    "fiscal_year",
    "wdi_rows",
    "metadata_country_rows",
    "undesa_rows",
    "destination_workbook_rows",
    "gdidata_stock_rows",
    "gdidata_corridors",
    "classification_rows",
    "check_tables",
    "build_derived",
    "build_data",
]
