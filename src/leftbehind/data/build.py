"""Derived tables of the data package that are built by code, never edited by hand.

``python -m leftbehind data build-geographies`` calls :func:`build_geographies`; :func:`rebase_figures`
stores every figure in its indicator's base unit (issue 13 item 4; run once, tested to be a no-op since).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .._io import data_dir, write_atomic
from ..errors import DataError
from .tabular import _resource, load, schema


def build_geographies() -> Path:
    """Regenerate ``geographies.csv`` from country_converter's country table and ``aggregates.csv``.

    Derived data: never edit the output by hand. Needs the ``country_converter`` package (dev dependency);
    its table is read directly (its API does not yet run under pandas 3).
    """
    import country_converter

    table = Path(country_converter.__file__).parent / "country_data.tsv"
    coco = pd.read_csv(table, sep="\t", keep_default_na=False, dtype=str)
    coco = coco[(coco["ISO3"].str.fullmatch(r"[A-Z]{3}")) & (coco["obsolete"] == "")]
    rows = [
        [r.ISO3, r.name_short, "country", "ISO 3166-1", r.UNregion, r.continent]
        for r in coco.sort_values("ISO3").itertuples()
    ]
    agg = load("aggregates")
    # a missing classification is an empty cell (pandas' missing value would be written as "<NA>")
    rows += [
        [r.code, r.name, r.kind, "" if pd.isna(r.classification) else r.classification, "", ""]
        for r in agg.itertuples()
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([f["name"] for f in schema("geographies")["fields"]])
    writer.writerows(rows)
    out = data_dir() / _resource("geographies")["path"]
    write_atomic(out, buf.getvalue())
    return out


def _scaled(value: str, factor: Decimal) -> str:
    scaled = (Decimal(value) * factor).normalize()
    return format(scaled, "f")


def rebase_figures() -> Path:
    """Store every value of ``figures.csv`` in its indicator's base unit (``indicators.base_unit``).

    A row published in another unit of the same family (``million persons``, ``USD billion``…) gets its value
    multiplied exactly (decimal arithmetic) and keeps that unit in ``published_unit``, so that its quote, kept
    verbatim, still shows the published number. Rows already in the base unit are left byte for byte;
    running it again changes nothing.

    Raises
    ------
    DataError
        Naming the row when a unit cannot be converted to its indicator's base unit.
    """
    from .figures import _UNIT_FACTORS

    base = dict(zip(load("indicators")["indicator"], load("indicators")["base_unit"]))
    out = data_dir() / _resource("figures")["path"]
    fields = [f["name"] for f in schema("figures")["fields"]]
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows, start=1):
        row.setdefault("published_unit", "")
        target = base[row["indicator"]]
        if row["unit"] == target:
            continue
        (family, factor), (to_family, to_factor) = _UNIT_FACTORS[row["unit"]], _UNIT_FACTORS[target]
        if family != to_family:
            raise DataError(f'{out.name}, row {i}: unit "{row["unit"]}" cannot be converted to "{target}"')
        ratio = Decimal(repr(factor)) / Decimal(repr(to_factor))
        row["published_unit"], row["unit"] = row["unit"], target
        row["value"] = _scaled(row["value"], ratio)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([[r.get(f, "") for f in fields] for r in rows])
    write_atomic(out, buf.getvalue())
    return out
