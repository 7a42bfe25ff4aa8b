"""World Development Indicators: the World Bank's bulk CSV (any release: with or without a byte-order mark,
CRLF or LF line ends), its ``Metadata_Country`` file (region and income group of every economy), and the WDI
extract of IOM GDI's ``gdidata`` (an R data file).

Locations: ``L57:2019`` is line 57 of the bulk CSV, the column headed 2019; ``line 12`` a line of a metadata
file; ``var=remout geo=USA t=2023`` the row of the R data frame with those keys.

Examples
--------
>>> text = ('"Data Source","World Development Indicators",\\n\\n"Last Updated Date","2025-07-01",\\n\\n'
...         '"Country Name","Country Code","Indicator Name","Indicator Code","2019","2020",\\n'
...         '"Nepal","NPL","Personal remittances, received (% of GDP)","BX.TRF.PWKR.DT.GD.ZS","24.1","",\\n')
>>> updated, rows = parse_bulk_csv(text, "example.csv")
>>> updated, rows[["code", "year", "value", "line"]].values.tolist()
('2025-07-01', [['NPL', 2019, 24.1, 6]])
>>> fiscal_year("2025-07-01"), fiscal_year("2024-10-24"), fiscal_year("2025-06-30")
('FY26', 'FY25', 'FY25')
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pandas as pd

from ...errors import DataError
from ..snapshots import Snapshot
from .common import Figure, decoded, finite, geography_codes, number, source_id, strict_number, whole

__all__ = [
    "WDI_SERIES",
    "GDIDATA_WDI",
    "CLASSIFICATION_FIELDS",
    "parse_bulk_csv",
    "fiscal_year",
    "wdi_rows",
    "metadata_country_rows",
    "gdidata_wdi_rows",
]

#: WDI series code → (indicator id, base unit): the series the bulk-CSV reader derives figures from.
WDI_SERIES: dict[str, tuple[str, str]] = {
    "BX.TRF.PWKR.CD.DT": ("remittances_received_usd", "USD"),
    "BX.TRF.PWKR.DT.GD.ZS": ("remittances_received_pct_gdp", "percent"),
    "BM.TRF.PWKR.CD.DT": ("remittances_paid_usd", "USD"),
    "NY.GDP.MKTP.CD": ("gdp_usd", "USD"),
    "SI.RMT.COST.IB.ZS": ("remittance_cost_to_country_pct", "percent"),
    "SI.RMT.COST.OB.ZS": ("remittance_cost_from_country_pct", "percent"),
}
#: Variables of gdidata's ``wdi`` data set that figures are derived from → indicator id. Only remittances paid:
#: the newest paid series at hand (to 2023); its other series are older releases of what the World Bank's own
#: files give (see the record's caveats).
GDIDATA_WDI: dict[str, str] = {"remout": "remittances_paid_usd"}
CLASSIFICATION_FIELDS = [
    "code",
    "economy",
    "region",
    "income_group",
    "lending_category",
    "fiscal_year",
    "snapshot",
    "location",
]


def parse_bulk_csv(text: str, name: str) -> tuple[str, pd.DataFrame]:
    """Parse a WDI bulk CSV; return its "Last Updated Date" and a long table (country, code, indicator_code,
    year, value, raw, line) of the non-empty cells.

    Raises
    ------
    DataError
        Naming the file and line when the preamble, the header or a value is not in the publisher's format.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    if len(rows) < 5 or not rows[0] or rows[0][0] != "Data Source":
        raise DataError(f'{name}, line 1: expected the WDI preamble "Data Source","World Development Indicators"')
    updated = next((r[1] for r in rows[:4] if r and r[0] == "Last Updated Date" and len(r) > 1), "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", updated):
        raise DataError(
            f'{name}, line 3: expected "Last Updated Date","YYYY-MM-DD", found {rows[2] if len(rows) > 2 else ""}'
        )
    header_at = next((i for i, r in enumerate(rows) if r[:2] == ["Country Name", "Country Code"]), None)
    if header_at is None:
        raise DataError(f'{name}: no header line starting "Country Name","Country Code"')
    years = {i: int(h) for i, h in enumerate(rows[header_at]) if re.fullmatch(r"\d{4}", h)}
    out = []
    for lineno, r in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not r or not any(r):
            continue
        if len(r) < 4:
            raise DataError(f"{name}, line {lineno}: {len(r)} fields, expected at least 4")
        for i, year in years.items():
            raw = r[i] if i < len(r) else ""
            if raw == "":
                continue
            value = strict_number(raw, name, f'line {lineno}, column "{year}"')
            out.append([r[0], r[1], r[3], year, float(value), raw, lineno])
    columns = ["country", "code", "indicator_code", "year", "value", "raw", "line"]
    return updated, pd.DataFrame(out, columns=columns)


def fiscal_year(released: str) -> str:
    """The World Bank fiscal year whose income classification a release carries: the fiscal year starts on
    1 July (FY26 runs from July 2025), and the classification changes on that day."""
    day = date.fromisoformat(released)
    return f"FY{(day.year + (1 if (day.month, day.day) >= (7, 1) else 0)) % 100:02d}"


def _economy_code(code: str, name: str, where: str, codes: frozenset[str]) -> bool:
    """Whether ``code`` is one of ``codes`` (the data package's geographies); a code that is not three capitals
    or digits (markup, a stray cell) is refused."""
    if not re.fullmatch(r"[A-Z0-9]{3}", code):
        raise DataError(f'{name}, {where}: "{code}" is not a country or aggregate code (three capitals)')
    return code in codes


def wdi_rows(snap: Snapshot) -> list[Figure]:
    """Figures of one WDI bulk CSV: every economy and aggregate of the data package's geographies, every year
    with a value, for the series in :data:`WDI_SERIES` (other series are ignored).

    Raises
    ------
    DataError
        When the file's "Last Updated Date" is not the release its record names, a cell is not a number, a
        series that cannot be negative has a negative value, or a code is malformed.
    """
    name = str(snap.meta["file"])
    updated, table = parse_bulk_csv(decoded(snap, snap.read_bytes()), name)
    released = snap.meta.get("released")
    if released and updated != released:
        raise DataError(f'{name}: "Last Updated Date" is {updated}, but {snap.record} records release {released}')
    sid, codes = source_id(snap), geography_codes()
    out = []
    for r in table.itertuples():
        if r.indicator_code not in WDI_SERIES:
            continue
        if not _economy_code(r.code, name, f"line {r.line}", codes):
            continue
        indicator = WDI_SERIES[r.indicator_code][0]
        value = strict_number(r.raw, name, f'line {r.line}, column "{r.year}"', indicator)
        out.append(Figure(indicator, r.code, int(r.year), "total", number(value), sid, f"L{r.line}:{r.year}"))
    return out


def metadata_country_rows(snap: Snapshot) -> list[dict[str, str]]:
    """The classification in a WDI ``Metadata_Country`` file: every economy (a row with a region) with its
    World Bank region and income group, and the fiscal year of the classification, from the release's date.
    Aggregates (no region) are left out; the file has no lending category.

    Raises
    ------
    DataError
        When the columns are not the World Bank's, or a code repeats.
    """
    name = str(snap.meta["file"])
    text = decoded(snap, snap.read_bytes())
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    needed = ["Country Code", "Region", "IncomeGroup", "TableName"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"{name}: columns {', '.join(missing)} are missing; found {', '.join(table.columns)}")
    released = snap.meta.get("released")
    if not released or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(released)):
        raise DataError(f"{snap.record}, file {name}: field released (YYYY-MM-DD) is needed for the fiscal year")
    fy, codes = fiscal_year(str(released)), geography_codes()
    out: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for lineno, (code, region, income, economy) in enumerate(table[needed].itertuples(index=False), start=2):
        if not region:
            continue  # aggregates (World, Low income, …) have no region
        if code in seen:
            raise DataError(f'{name}, line {lineno}: "{code}" is listed again (first on line {seen[code]})')
        seen[code] = lineno
        if not _economy_code(code, name, f"line {lineno}", codes):
            raise DataError(f'{name}, line {lineno}: "{code}" is not a geography of the data package')
        values = [code, economy, region, income, "", fy, snap.key, f"line {lineno}"]
        out.append(dict(zip(CLASSIFICATION_FIELDS, values)))
    return out


def gdidata_wdi_rows(snap: Snapshot) -> list[Figure]:
    """Figures from the WDI extract of IOM GDI's ``gdidata`` (data set ``wdi``: geo, var, t, v), for the
    variables in :data:`GDIDATA_WDI`; codes outside the data package's geographies are left out."""
    from .rdata import read_rda

    name = str(snap.meta["file"])
    frame = read_rda(snap, ["geo", "var", "t", "v"])
    sid = source_id(snap)
    codes = geography_codes()
    out = []
    for geo, var, year, value in frame[frame["var"].isin(list(GDIDATA_WDI))].itertuples(index=False):
        if geo not in codes:
            continue
        indicator = GDIDATA_WDI[var]
        where = f"var={var} geo={geo} t={year}"
        t = whole(year, name, f"{where}, column t")
        out.append(Figure(indicator, geo, t, "total", number(finite(value, name, where, indicator)), sid, where))
    return out
