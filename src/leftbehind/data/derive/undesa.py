"""UN DESA International Migrant Stock: the destination workbook (xlsx, Tables 1-4), the destination × origin
table (CSV layout), and IOM GDI's long copy of the destination × origin tables (``gdidata``'s
``undesa_stocks``, an R data file), which also gives the corridors.

Locations: ``Table 1!F12`` is a cell of the workbook (sheet, column letter, row number as Excel shows them);
``line 9, column 12 (2020, male)`` a cell of a CSV; ``sum geo=IND t=2024 sex=female`` the sum over the rows of the
R data frame with those keys (``from`` for origins, ``geo`` for destinations).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import numpy as np
import pandas as pd

from ...errors import DataError
from ..snapshots import Snapshot
from .common import Figure, decoded, finite, geography_codes, m49_codes, number, source_id, strict_number, whole

__all__ = [
    "WORKBOOK_TABLES",
    "OTHER_ORIGIN",
    "GDIDATA_CODES",
    "undesa_rows",
    "destination_workbook_rows",
    "gdidata_stock_rows",
    "gdidata_corridors",
    "cell_name",
]

#: Tables of the destination workbook that figures are derived from: words that open the table's title →
#: (indicator, scale of the published unit to the base unit). Other tables (rates of change, refugees) are
#: not read.
WORKBOOK_TABLES: dict[str, tuple[str, Decimal]] = {
    "International migrant stock at mid-year by sex": ("migrant_stock", Decimal(1)),
    "Total population at mid-year by sex": ("population", Decimal(1000)),  # published in thousands
    "International migrant stock as a percentage of the total population": (
        "migrant_stock_share_population",
        Decimal(1),
    ),
    "Female migrants as a percentage of the international migrant stock": ("migrant_stock_female_share", Decimal(1)),
}
#: gdidata's code for UN DESA's origin "Other" (an origin not listed, or unknown): kept in the corridors as it is.
OTHER_ORIGIN = "OOO"
#: gdidata codes that are not the data package's: the Channel Islands (M49 830) are XCX there, CHI here (and in
#: the World Bank's files).
GDIDATA_CODES: dict[str, str] = {"XCX": "CHI"}
_DEST = r"location code of destination"
_SEXES = {"females": "female", "males": "male", "both sexes": "total"}  # "females" before "males"


def cell_name(sheet: str, row: int, column: int) -> str:
    """A workbook cell as Excel names it, from 0-based row and column: ``cell_name("Table 1", 11, 5)`` is
    ``Table 1!F12``."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{sheet}!{letters}{row + 1}"


def _sex(label: str) -> str:
    text = label.lower()
    for words, sex in _SEXES.items():
        if words in text:
            return sex
    return "total"


def destination_workbook_rows(snap: Snapshot) -> list[Figure]:
    """Figures of UN DESA's destination workbook (International Migrant Stock, "Destination"): migrant stock,
    total population, migrant stock as a percentage of population (each by sex) and women's share of migrants,
    for every row whose location code is a geography of the data package (countries through their M49 code,
    the world and the UN regions the aggregates name).

    Raises
    ------
    DataError
        Naming the sheet and cell of a value that is not a number, or a table whose layout is not UN DESA's.
    """
    blob = snap.read_bytes()
    try:
        sheets = pd.read_excel(io.BytesIO(blob), sheet_name=None, header=None, engine="calamine")
    except Exception as exc:  # calamine's errors: not a workbook, or a damaged one
        raise DataError(f"{snap.path}: cannot be read as an xlsx workbook ({exc})") from None
    sid, codes, out = source_id(snap), m49_codes(), []
    found = set()
    for sheet, frame in sheets.items():
        cells = frame.astype(object).where(frame.notna(), None).values.tolist()
        title = next((str(c) for row in cells[:6] for c in row if isinstance(c, str) and c.startswith("Table")), "")
        table = next((t for t in WORKBOOK_TABLES if title.split(": ", 1)[-1].startswith(t)), None)
        if table is None:
            continue
        indicator, scale = WORKBOOK_TABLES[table]
        if scale != 1 and "(thousands)" not in title:
            raise DataError(f'{snap.path}, sheet {sheet}: the title "{title}" does not say "(thousands)"')
        found.add(table)
        out += _workbook_table(snap, str(sheet), cells, indicator, scale, sid, codes)
    missing = [t for t in WORKBOOK_TABLES if t not in found]
    if missing:
        raise DataError(f'{snap.path}: no sheet whose title starts "Table N: {missing[0]}"')
    return out


def _workbook_table(
    snap: Snapshot,
    sheet: str,
    cells: list[list[object]],
    indicator: str,
    scale: Decimal,
    sid: str,
    codes: dict[str, str],
) -> list[Figure]:
    at = next((i for i, row in enumerate(cells) if "Location code" in row), None)
    if at is None:
        raise DataError(f'{snap.path}, sheet {sheet}: no header row with a column "Location code"')
    header = cells[at]
    code_col = header.index("Location code")
    labels: dict[int, str] = {}
    current = ""
    for j in range(len(header)):  # group labels (both sexes / males / females) sit a few rows above the years
        above = next((str(cells[i][j]) for i in range(max(0, at - 4), at) if isinstance(cells[i][j], str)), "")
        current = above or current
        labels[j] = current
    years = {}
    for j, cell in enumerate(header):
        if isinstance(cell, (int, float)) and float(cell).is_integer() and 1900 < float(cell) < 2100:
            years[j] = int(cell)
    out = []
    for i in range(at + 1, len(cells)):
        raw_code = cells[i][code_col]
        if raw_code is None:
            continue
        if isinstance(raw_code, str):
            m49 = raw_code.strip()
        elif isinstance(raw_code, (int, float)):
            m49 = number(finite(float(raw_code), str(snap.path), cell_name(sheet, i, code_col)))
        else:
            raise DataError(f'{snap.path}, {cell_name(sheet, i, code_col)}: "{raw_code}" is not a location code')
        geo = codes.get(m49)
        if geo is None:
            continue
        for j, year in years.items():
            raw = cells[i][j]
            if raw is None or (isinstance(raw, str) and raw.strip() in ("", "..", "-", "…")):
                continue
            where = cell_name(sheet, i, j)
            if isinstance(raw, str):
                value = strict_number(raw.strip().replace(" ", ""), str(snap.path), where, indicator)
            elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
                value = finite(float(raw), str(snap.path), where, indicator)
            else:
                raise DataError(f'{snap.path}, {where}: "{raw}" is not a number')
            out.append(Figure(indicator, geo, year, _sex(labels[j]), number(value * scale), sid, where))
    return out


def undesa_rows(snap: Snapshot) -> list[Figure]:
    """Figures of a UN DESA destination × origin table in its CSV layout: a row whose origin is WORLD (M49 900)
    gives the destination's immigrant stock (``migrant_stock``), a row whose destination is WORLD the origin's
    emigrant stock (``emigrant_stock``); both by sex."""
    name = str(snap.meta["file"])
    rows = list(csv.reader(io.StringIO(decoded(snap, snap.read_bytes()), newline="")))
    at = next((i for i, r in enumerate(rows) if any(re.search(_DEST, c, re.I) for c in r)), None)
    if at is None or at == 0:
        raise DataError(f'{name}: no header row with a column "Location code of destination"')
    header = rows[at]

    def col(pattern: str) -> int:
        hit = [i for i, c in enumerate(header) if re.search(pattern, c, re.I)]
        if not hit:
            raise DataError(f'{name}, line {at + 1}: no column matching "{pattern}" in the header')
        return hit[0]

    dest, orig = col(_DEST), col(r"location code of origin")
    sexes, current = {}, ""
    for i, cell in enumerate(header):
        label = rows[at - 1][i] if i < len(rows[at - 1]) else ""
        current = _sex(label) if label else current
        if re.fullmatch(r"\d{4}", cell.strip()):
            sexes[i] = current or "total"
    iso, sid, out = m49_codes(), source_id(snap), []
    for lineno, r in enumerate(rows[at + 1 :], start=at + 2):
        if len(r) <= max(dest, orig) or not r[dest].strip():
            continue
        d, o = r[dest].strip(), r[orig].strip()
        if o == "900" and d in iso:
            indicator, geo = "migrant_stock", iso[d]
        elif d == "900" and o in iso and o != "900":
            indicator, geo = "emigrant_stock", iso[o]
        else:
            continue
        for i, sex in sexes.items():
            raw = r[i].replace(",", "").replace(" ", "") if i < len(r) else ""
            if raw in ("", "..", "-"):
                continue
            where = f'line {lineno}, column "{header[i]}"'
            value = strict_number(raw, name, where, indicator)
            loc = f"line {lineno}, column {i + 1} ({header[i]}, {sex}); destination {d}, origin {o}"
            out.append(Figure(indicator, geo, int(header[i]), sex, number(value), sid, loc))
    return out


def _stocks(snap: Snapshot) -> pd.DataFrame:
    """gdidata's long destination × origin table, codes as the data package's, checked: keys unique, counts
    whole and not negative."""
    from .rdata import read_rda

    frame = read_rda(snap, ["geo", "t", "from", "sex", "n"]).copy()
    for column in ("geo", "from"):
        frame[column] = frame[column].astype(str).replace(GDIDATA_CODES)
    bad = frame[~frame["sex"].isin(["female", "male"])]
    if len(bad):
        raise DataError(f'{snap.path}: sex "{bad["sex"].iloc[0]}" in row {bad.index[0] + 1}; expected female or male')
    for column in ("t", "n"):  # whole numbers: never cut (2020.5 → 2020) or raised as a bare ValueError
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        broken = ~np.isfinite(values) | (values != np.round(values))
        if broken.any():
            at = int(np.flatnonzero(broken)[0])
            whole(frame[column].iloc[at], str(snap.path), f"row {at + 1}, column {column}")  # raises, naming it
        frame[column] = values.astype("int64")
    if (frame["n"] < 0).any():
        row = int(frame.index[frame["n"] < 0][0]) + 1
        raise DataError(f"{snap.path}: a negative count in row {row}")
    twice = frame.duplicated(["geo", "t", "from", "sex"])
    if twice.any():
        r = frame[twice].iloc[0]
        raise DataError(f"{snap.path}: geo={r['geo']} t={r['t']} from={r['from']} sex={r['sex']} appears twice")
    return frame


def gdidata_stock_rows(snap: Snapshot) -> list[Figure]:
    """Immigrant stock of each destination (summed over origins) and emigrant stock of each origin (summed over
    destinations), by sex and both sexes, and the world's migrant stock, from gdidata's destination × origin
    table. Codes outside the data package's geographies (UN DESA's "Other" origin) count in the destinations'
    totals and the world's, and give no emigrant row of their own."""
    frame = _stocks(snap)
    sid, codes, out = source_id(snap), geography_codes(), []
    for indicator, key in (("migrant_stock", "geo"), ("emigrant_stock", "from")):
        by_sex = frame.groupby([key, "t", "sex"], sort=True)["n"].sum()
        both = frame.groupby([key, "t"], sort=True)["n"].sum()
        for (geo, year, sex), value in by_sex.items():
            if geo in codes:
                out.append(
                    Figure(indicator, geo, int(year), sex, str(int(value)), sid, f"sum {key}={geo} t={year} sex={sex}")
                )
        for (geo, year), value in both.items():
            if geo in codes:
                out.append(
                    Figure(indicator, geo, int(year), "total", str(int(value)), sid, f"sum {key}={geo} t={year}")
                )
    for year, value in frame.groupby("t", sort=True)["n"].sum().items():
        out.append(Figure("migrant_stock", "WLD", int(year), "total", str(int(value)), sid, f"sum t={year}"))
    for (year, sex), value in frame.groupby(["t", "sex"], sort=True)["n"].sum().items():
        out.append(Figure("migrant_stock", "WLD", int(year), sex, str(int(value)), sid, f"sum t={year} sex={sex}"))
    return out


def gdidata_corridors(snap: Snapshot) -> pd.DataFrame:
    """The corridors: one row per destination, origin and year, with the women and men UN DESA counts (empty
    where it gives no count for that sex: insufficient data, not zero). Each value's location in the data frame
    is its keys (``geo``, ``t``, ``from``, ``sex``). UN DESA's "Other" origin stays as :data:`OTHER_ORIGIN`."""
    frame = _stocks(snap)
    wide = frame.pivot(index=["geo", "from", "t"], columns="sex", values="n").reset_index()
    wide.columns.name = None
    wide = wide.rename(columns={"geo": "destination", "from": "origin", "t": "year"})
    for sex in ("female", "male"):
        if sex not in wide:
            wide[sex] = pd.NA
        wide[sex] = wide[sex].astype("Int64")
    return wide[["destination", "origin", "year", "female", "male"]].sort_values(["destination", "origin", "year"])
