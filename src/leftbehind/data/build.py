"""Derived tables of the data package that are built by code, never edited by hand.

``python -m leftbehind data build-geographies`` calls :func:`build_geographies`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .._io import data_dir, write_atomic
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
