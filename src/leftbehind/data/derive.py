"""Figures derived by code from snapshots (``python -m leftbehind data build``), never edited by hand.

Each snapshot's record names its ``parser``; the parser reads the publisher's format and returns rows in the
base unit of each indicator, every row naming its snapshot (``publisher/release``) and its location in the
file (series code and year, or line and column). :func:`build_derived` writes

- ``derived/figures.csv``: indicator, geography, year, sex, value, unit, edition_id, snapshot, location;
- ``derived/classification.csv``: the World Bank classification of each economy (income group, region,
  lending category, fiscal year).

Rows are sorted and numbers written in their shortest exact form, so that building twice gives the same bytes.

Examples
--------
>>> text = ('"Data Source","World Development Indicators",\\n\\n"Last Updated Date","2025-07-01",\\n\\n'
...         '"Country Name","Country Code","Indicator Name","Indicator Code","2019","2020",\\n'
...         '"Nepal","NPL","Personal remittances, received (% of GDP)","BX.TRF.PWKR.DT.GD.ZS","24.1","",\\n')
>>> updated, rows = parse_bulk_csv(text, "example.csv")
>>> updated, rows[["code", "year", "value"]].values.tolist()
('2025-07-01', [['NPL', 2019, 24.1]])
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import data_dir, write_atomic
from ..errors import DataError
from .snapshots import Snapshot, list_snapshots, snapshots_dir, verify_snapshots

__all__ = [
    "WDI_SERIES",
    "FIGURE_FIELDS",
    "CLASSIFICATION_FIELDS",
    "parse_bulk_csv",
    "wdi_rows",
    "undesa_rows",
    "classification_rows",
    "build_derived",
    "build_data",
]

#: WDI series code → (indicator id, base unit).
WDI_SERIES: dict[str, tuple[str, str]] = {
    "BX.TRF.PWKR.CD.DT": ("remittances_received_usd", "USD"),
    "BX.TRF.PWKR.DT.GD.ZS": ("remittances_received_pct_gdp", "percent"),
    "BM.TRF.PWKR.CD.DT": ("remittances_paid_usd", "USD"),
}
FIGURE_FIELDS = ["indicator", "geography", "year", "sex", "value", "unit", "edition_id", "snapshot", "location"]
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
#: Parsers of snapshots from which no figures are derived (country boundaries, read by leftbehind.plots.maps).
NOT_DERIVED = frozenset({"naturalearth_admin0"})
#: UN M49 codes of aggregates the collection keys by its own codes (countries map through their ISO3 code).
M49_AGGREGATES = {"900": "WLD"}
_DEST = r"location code of destination"


def parse_bulk_csv(text: str, name: str) -> tuple[str, pd.DataFrame]:
    """Parse a WDI bulk CSV; return its "Last Updated Date" and a long table (country, code, indicator_code,
    year, value, raw) of the non-empty cells.

    Raises
    ------
    DataError
        Naming the file and line when the preamble, the header or a value is not in the publisher's format.
    """
    rows = list(csv.reader(text.lstrip("\ufeff").splitlines()))
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
            try:
                value = float(raw)
            except ValueError:
                raise DataError(f'{name}, line {lineno}, column "{year}": "{raw}" is not a number') from None
            out.append(
                {"country": r[0], "code": r[1], "indicator_code": r[3], "year": year, "value": value, "raw": raw}
            )
    return updated, pd.DataFrame(out, columns=["country", "code", "indicator_code", "year", "value", "raw"])


def _text(snap: Snapshot) -> str:
    blob = snap.read_bytes()
    if snap.meta["format"] != "csv":
        raise DataError(f"{snap.path}: format {snap.meta['format']} cannot be read yet by parser {snap.meta['parser']}")
    return blob.decode("utf-8-sig")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def wdi_rows(snap: Snapshot) -> list[dict[str, str]]:
    """Figure rows of one WDI bulk CSV (every economy and aggregate, every year with a value)."""
    _, table = parse_bulk_csv(_text(snap), snap.meta["file"])
    out = []
    for r in table.itertuples():
        if r.indicator_code not in WDI_SERIES:
            continue
        indicator, unit = WDI_SERIES[r.indicator_code]
        loc = f"series {r.indicator_code}, country {r.code}, column {r.year}"
        out.append(_figure(indicator, r.code, r.year, "total", r.value, unit, snap, loc))
    return out


def _figure(
    indicator: str, geo: str, year: int, sex: str, value: float, unit: str, snap: Snapshot, location: str
) -> dict[str, str]:
    values = [indicator, geo, str(year), sex, _number(value), unit, snap.meta.get("edition_id", ""), snap.key, location]
    return dict(zip(FIGURE_FIELDS, values))


def _m49_to_iso3() -> dict[str, str]:
    import country_converter  # the same table geographies.csv is built from

    table = Path(country_converter.__file__).parent / "country_data.tsv"
    coco = pd.read_csv(table, sep="\t", keep_default_na=False, dtype=str)
    coco = coco[(coco["ISO3"].str.fullmatch(r"[A-Z]{3}")) & (coco["obsolete"] == "") & (coco["UNcode"] != "")]
    return {str(int(c)): iso for c, iso in zip(coco["UNcode"], coco["ISO3"])} | M49_AGGREGATES


def _sexes(group_row: list[str], header: list[str]) -> dict[int, str]:
    """Year column → sex, from the group labels above the years (both sexes / males / females)."""
    out, current = {}, ""
    for i, cell in enumerate(header):
        label = group_row[i].lower() if i < len(group_row) else ""
        if label:
            current = "female" if "female" in label else "male" if "male" in label else "total"
        if re.fullmatch(r"\d{4}", cell.strip()):
            out[i] = current or "total"
    return out


def undesa_rows(snap: Snapshot) -> list[dict[str, str]]:
    """Figure rows of a UN DESA International Migrant Stock destination × origin table (CSV layout).

    A row whose origin is WORLD (M49 900) gives the destination's immigrant stock (``migrant_stock``); a row
    whose destination is WORLD gives the origin's emigrant stock (``emigrant_stock``); both by sex.
    """
    name = snap.meta["file"]
    rows = list(csv.reader(_text(snap).splitlines()))
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
    sexes = _sexes(rows[at - 1], header)
    iso = _m49_to_iso3()
    out = []
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
            try:
                value = float(raw)
            except ValueError:
                raise DataError(f'{name}, line {lineno}, column "{header[i]}": "{r[i]}" is not a number') from None
            loc = f"line {lineno}, column {i + 1} ({header[i]}, {sex}); destination {d}, origin {o}"
            out.append(_figure(indicator, geo, int(header[i]), sex, value, "persons", snap, loc))
    return out


def classification_rows(snap: Snapshot) -> list[dict[str, str]]:
    """The World Bank's classification (CLASS file: Economy, Code, Region, Income group, Lending category)."""
    name = snap.meta["file"]
    table = pd.read_csv(io.StringIO(_text(snap)), dtype=str, keep_default_na=False)
    missing = [c for c in ("Economy", "Code", "Region", "Income group", "Lending category") if c not in table.columns]
    if missing:
        raise DataError(f"{name}: columns {', '.join(missing)} are missing; found {', '.join(table.columns)}")
    fiscal = re.search(r"FY\d{2,4}", snap.meta["edition"])
    out = []
    for lineno, r in enumerate(table.itertuples(index=False), start=2):
        row = dict(zip(table.columns, r))
        if not re.fullmatch(r"[A-Z]{3}", row["Code"]) or not (row["Region"] or row["Income group"]):
            continue  # aggregates (World, Low income, …) have neither a region nor an income group
        values = [row["Code"], row["Economy"], row["Region"], row["Income group"], row["Lending category"]]
        values += [fiscal.group(0) if fiscal else snap.meta["edition"], snap.key, f"line {lineno}"]
        out.append(dict(zip(CLASSIFICATION_FIELDS, values)))
    return out


PARSERS: dict[str, Callable[[Snapshot], list[dict[str, str]]]] = {"wdi_bulk_csv": wdi_rows, "undesa_ims": undesa_rows}


def _csv(fields: list[str], rows: list[dict[str, str]], key: Callable[[dict[str, str]], Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([[r[f] for f in fields] for r in sorted(rows, key=key)])
    return buf.getvalue()


def build_derived(out: Path, root: Path | None = None) -> list[Path]:
    """Derive figures and the classification from every snapshot under ``root`` into ``out``; return the paths
    written. With no snapshot of a kind, its file is removed: derived data exists only with its snapshots.
    """
    figures: list[dict[str, str]] = []
    classes: list[dict[str, str]] = []
    for snap in list_snapshots(root):
        parser = snap.meta["parser"]
        if parser == "wb_class":
            classes += classification_rows(snap)
        elif parser in NOT_DERIVED:
            continue
        else:
            figures += PARSERS[parser](snap)
    written = []
    if figures:
        fig_key = lambda r: (r["indicator"], r["geography"], int(r["year"]), r["sex"], r["snapshot"])  # noqa: E731
        written.append(out / "figures.csv")
        write_atomic(written[-1], _csv(FIGURE_FIELDS, figures, fig_key))
    if classes:
        written.append(out / "classification.csv")
        write_atomic(written[-1], _csv(CLASSIFICATION_FIELDS, classes, lambda r: (r["code"], r["snapshot"])))
    for stale in (out / "figures.csv", out / "classification.csv"):
        if stale not in written and stale.exists():
            stale.unlink()
    return written


def build_data() -> list[str]:
    """``python -m leftbehind data build``: verify every snapshot in ``data/snapshots`` and derive
    ``data/derived/`` from them; return one line per snapshot and per file written.
    """
    hashes = verify_snapshots()
    lines = [f"{key}: sha256 {digest} ok" for key, digest in hashes.items()]
    written = build_derived(data_dir() / "derived", snapshots_dir())
    if not hashes:
        return [f"no snapshots in {snapshots_dir()} yet: nothing to derive"]
    return lines + [f"wrote {p}" for p in written]
