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

#: Areas that UN DESA and the World Bank both publish figures for but ISO 3166-1 does not list (country_converter
#: marks them obsolete): code → classification. Their name, region and M49 code come from country_converter.
EXTRA_AREAS: dict[str, str] = {"CHI": "UN M49 area and World Bank economy (not in ISO 3166-1)"}
#: M49 codes country_converter lacks, keyed by ISO3 (UN DESA's tables print the code beside the name: Table 1 of
#: International Migrant Stock 2020 has "China, Taiwan Province of China" as 158; a test checks the name).
M49_MISSING: dict[str, str] = {"TWN": "158"}


def _blank(value: object) -> str:
    """A missing cell as an empty string (pandas' missing value would be written as "<NA>")."""
    return "" if value is None or pd.isna(value) else str(value)


def build_geographies() -> Path:
    """Regenerate ``geographies.csv`` from country_converter's country table and ``aggregates.csv``.

    Derived data: never edit the output by hand. Needs the ``country_converter`` package (dev dependency);
    its table is read directly (its API does not yet run under pandas 3).
    """
    import country_converter

    table = Path(country_converter.__file__).parent / "country_data.tsv"
    coco = pd.read_csv(table, sep="\t", keep_default_na=False, dtype=str)
    coco = coco[(coco["ISO3"].str.fullmatch(r"[A-Z]{3}")) & ((coco["obsolete"] == "") | coco["ISO3"].isin(EXTRA_AREAS))]
    rows = [
        [
            r.ISO3,
            r.name_short,
            "country",
            EXTRA_AREAS.get(r.ISO3, "ISO 3166-1"),
            r.UNregion,
            r.continent,
            M49_MISSING.get(r.ISO3, r.UNcode.lstrip("0")),
        ]
        for r in coco.sort_values("ISO3").itertuples()
    ]
    agg = load("aggregates")
    rows += [[r.code, r.name, r.kind, _blank(r.classification), "", "", _blank(r.m49)] for r in agg.itertuples()]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = [f["name"] for f in schema("geographies")["fields"]]
    writer.writerow(header)
    writer.writerows(rows)
    out = data_dir() / _resource("geographies")["path"]
    _check_before_writing("geographies", header, rows, out)
    write_atomic(out, buf.getvalue())
    return out


def _check_before_writing(name: str, header: list[str], rows: list[list[str]], out: Path) -> None:
    """The rows of resource ``name`` checked as ``data validate`` will check them (schema, plain text) before
    ``out`` is replaced: a country_converter release with a broken row leaves the table as it was."""
    from .checks import text_problem
    from .tabular import check_rows

    shown = f"{out.name} (as built, not written)"
    check_rows(name, header, rows, shown)
    text = {f["name"] for f in schema(name)["fields"] if f.get("type", "string") in ("string", "any")}
    for i, row in enumerate(rows, start=1):
        for field, value in zip(header, row):
            problem = text_problem(field, value) if field in text and value else None
            if problem is not None:
                raise DataError(f'{shown}, row {i}, field "{field}": {problem}')


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
