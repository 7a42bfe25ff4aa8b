"""``python -m leftbehind data build``: every snapshot read by its parser, into the derived tables.

``derived/`` gets, sorted and with numbers in their shortest exact form, so that building twice gives the
same bytes:

- ``figures.csv``: indicator, geography, year, sex, value, source_id, location;
- ``sources.csv``: one row per file figures are derived from, and per computed series: the publisher's
  release cited as ``data/sources.csv`` cites a document (the copy the bytes were read in is only in the
  record), plus the snapshot's key and SHA-256;
- ``editions.csv``: the editions those sources belong to (edition, publisher, series, release);
- ``classification.csv``: the World Bank's income group and region of each economy, by fiscal year;
- ``corridors.csv``: destination × origin × year, women and men, from the newest origin × destination table.

Two files of one edition may give the same figure (UN DESA's destination workbook and its destination × origin
table both give each destination's stock): then they must agree, and the publisher's own file is kept;
otherwise the build stops naming both places.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..._io import data_dir, write_atomic
from ...errors import DataError
from ..snapshots import Snapshot, list_snapshots, snapshots_dir, verify_snapshots
from .common import FIGURE_FIELDS, Figure, source_id
from .computed import computed_rows
from .undesa import destination_workbook_rows, gdidata_corridors, gdidata_stock_rows, undesa_rows
from .wdi import CLASSIFICATION_FIELDS, gdidata_wdi_rows, metadata_country_rows, wdi_rows

__all__ = [
    "PARSERS",
    "NOT_DERIVED",
    "SOURCE_FIELDS",
    "EDITION_FIELDS",
    "CORRIDOR_FIELDS",
    "TABLES",
    "classification_rows",
    "check_tables",
    "build_derived",
    "build_data",
]

#: Parser (a record's ``parser``) → the function that reads its figures. Earlier parsers are the publishers'
#: own formats: where two files of one edition give the same figure, the earlier parser's row is kept.
PARSERS: dict[str, Callable[[Snapshot], list[Figure]]] = {
    "wdi_bulk_csv": wdi_rows,
    "undesa_ims_destination_xlsx": destination_workbook_rows,
    "undesa_ims": undesa_rows,
    "gdidata_undesa_stocks": gdidata_stock_rows,
    "gdidata_wdi": gdidata_wdi_rows,
}
#: Parsers of files from which no figures are derived: boundaries (read by the maps) and indicator metadata.
NOT_DERIVED = frozenset({"naturalearth_admin0", "world_atlas_countries", "wdi_metadata_indicator"})
SOURCE_FIELDS = [
    "source_id",
    "edition_id",
    "publisher",
    "title",
    "year_published",
    "table_or_page",
    "url",
    "doi",
    "read_at",
    "verification",
    "accessed",
    "snapshot",
    "sha256",
]
EDITION_FIELDS = ["edition_id", "series", "publisher", "edition", "released"]
CORRIDOR_FIELDS = ["destination", "origin", "year", "female", "male"]
#: The files ``build_derived`` writes, in this order.
TABLES = ("figures.csv", "sources.csv", "editions.csv", "classification.csv", "corridors.csv")


def classification_rows(snap: Snapshot) -> list[dict[str, str]]:
    """The World Bank's classification file (CLASS: Economy, Code, Region, Income group, Lending category)."""
    import re

    from .common import decoded

    name = snap.meta["file"]
    table = pd.read_csv(io.StringIO(decoded(snap, snap.read_bytes())), dtype=str, keep_default_na=False)
    missing = [c for c in ("Economy", "Code", "Region", "Income group", "Lending category") if c not in table.columns]
    if missing:
        raise DataError(f"{name}: columns {', '.join(missing)} are missing; found {', '.join(table.columns)}")
    fiscal = re.search(r"FY\d{2,4}", snap.meta["edition"])
    out: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for lineno, r in enumerate(table.itertuples(index=False), start=2):
        row = dict(zip(table.columns, r))
        if not re.fullmatch(r"[A-Z]{3}", row["Code"]) or not (row["Region"] or row["Income group"]):
            continue  # aggregates (World, Low income, …) have neither a region nor an income group
        if row["Code"] in seen:
            raise DataError(
                f'{name}, line {lineno}: "{row["Code"]}" is listed again (first on line {seen[row["Code"]]})'
            )
        seen[row["Code"]] = lineno
        values = [row["Code"], row["Economy"], row["Region"], row["Income group"], row["Lending category"]]
        values += [fiscal.group(0) if fiscal else snap.meta["edition"], snap.key, f"line {lineno}"]
        out.append(dict(zip(CLASSIFICATION_FIELDS, values)))
    return out


_CLASSIFIERS: dict[str, Callable[[Snapshot], list[dict[str, str]]]] = {
    "wb_class": classification_rows,
    "wdi_metadata_country": metadata_country_rows,
}


def _csv(fields: list[str], rows: Iterable[Iterable[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows(rows)
    return buf.getvalue()


def _source_row(snap: Snapshot) -> dict[str, str]:
    meta = snap.meta
    return {
        "source_id": source_id(snap),
        "edition_id": str(meta["edition_id"]),
        "publisher": str(meta["producer"]),
        "title": str(meta["title"]),
        "year_published": str(meta["released"])[:4],
        "table_or_page": str(meta.get("read_in") or f"file {meta['file']}"),
        "url": str(meta["url"]),
        "doi": "",
        "read_at": str(meta["url"]),
        "verification": str(meta.get("verification", "primary")),
        "accessed": str(meta["accessed"]),
        "snapshot": snap.key,
        "sha256": str(meta["sha256"]),
    }


def _edition_row(snap: Snapshot) -> dict[str, str]:
    meta = snap.meta
    return {
        "edition_id": str(meta["edition_id"]),
        "series": str(meta["series"]),
        "publisher": str(meta["producer"]),
        "edition": str(meta["edition"]),
        "released": str(meta["released"]),
    }


def _dedupe(figures: list[Figure], edition_of: dict[str, str], rank: dict[str, int]) -> list[Figure]:
    """One row per indicator, geography, year, sex and edition. A figure given twice (by two files of one edition,
    or twice in one file: UN DESA's workbook prints Australia and New Zealand as an SDG region and again under
    Oceania) must have one value; the first place is kept, the publisher's own file first (:data:`PARSERS`
    order)."""
    kept: dict[tuple[str, str, int, str, str], Figure] = {}
    for fig in sorted(figures, key=lambda f: (rank[f.source_id], f.source_id)):
        key = (fig.indicator, fig.geography, fig.year, fig.sex, edition_of[fig.source_id])
        first = kept.get(key)
        if first is None:
            kept[key] = fig
        elif first.value != fig.value:
            raise DataError(
                f"{fig.indicator} of {fig.geography}, {fig.year}, {fig.sex}, edition {key[-1]}: {first.source_id} "
                f"({first.location}) gives {first.value}, {fig.source_id} ({fig.location}) gives {fig.value}"
            )
    return list(kept.values())


def build_derived(out: Path, root: Path | None = None) -> list[Path]:
    """Derive every table from the snapshots under ``root`` into ``out``; return the paths written. A table
    with no rows is not written (and removed if it was there): derived data exists only with its snapshots.

    Raises
    ------
    DataError
        When a file is missing from the local store or is not the recorded one, a record lacks what a derived
        figure needs to cite it, a value is not a number, or two files of one edition disagree.
    """
    figures: list[Figure] = []
    classes: list[dict[str, str]] = []
    sources: dict[str, dict[str, str]] = {}
    editions: dict[str, dict[str, str]] = {}
    od_tables: list[Snapshot] = []
    rank: dict[str, int] = {}
    order = list(PARSERS)
    for snap in list_snapshots(root):
        parser = snap.meta["parser"]
        if parser in NOT_DERIVED:
            continue
        if parser in _CLASSIFIERS:
            classes += _CLASSIFIERS[parser](snap)
            continue
        if parser not in PARSERS:
            raise DataError(f"{snap.record}: parser {parser} derives nothing yet; valid: {', '.join(PARSERS)}")
        sid = source_id(snap)
        if sid in sources:
            raise DataError(f"{snap.record}: source_id {sid} is also the source_id of {sources[sid]['snapshot']}")
        sources[sid] = _source_row(snap)
        edition = _edition_row(snap)
        if editions.setdefault(edition["edition_id"], edition) != edition:
            raise DataError(
                f"{snap.record}, file {snap.meta['file']}: edition {edition['edition_id']} is described otherwise "
                f"by another record ({editions[edition['edition_id']]})"
            )
        rank[sid] = order.index(parser)
        figures += PARSERS[parser](snap)
        if parser == "gdidata_undesa_stocks":
            od_tables.append(snap)
    edition_of = {sid: row["edition_id"] for sid, row in sources.items()}
    released = {eid: row["released"] for eid, row in editions.items()}
    figures = _dedupe(figures, edition_of, rank)
    for spec, num, den, rows in computed_rows(figures, edition_of, released):
        if not rows:
            continue
        sid = rows[0].source_id
        if sid in sources or sid in editions:  # never silently take the place of a record's source or edition
            taken = sources.get(sid, {}).get("snapshot") or editions.get(sid, {}).get("edition")
            raise DataError(f"the computed series {spec.indicator} is cited as {sid}, which {taken} already is")
        n, d = sources[num], sources[den]
        top, bottom = editions[n["edition_id"]]["edition"], editions[d["edition_id"]]["edition"]
        named = (
            f"computed here from {top}"
            if top == bottom
            else f"{spec.numerator_label}: {top}; {spec.denominator_label}: {bottom}"
        )
        publishers = list(dict.fromkeys([n["publisher"], d["publisher"]]))
        publisher = f"Computed here from {' and '.join(publishers)} data"
        when = max(released[n["edition_id"]], released[d["edition_id"]])
        series = f"{editions[n['edition_id']]['series']} (computed here)"
        editions[sid] = dict(zip(EDITION_FIELDS, [sid, series, publisher, named, when]))
        row = [
            sid,
            sid,
            publisher,
            spec.title,
            when[:4],
            f"{spec.numerator_label} from “{n['title']}”; {spec.denominator_label} from “{d['title']}”",
            n["url"],
            "",
            n["url"],
            "computed",
            max(n["accessed"], d["accessed"]),
            "",
            "",
        ]
        sources[sid] = dict(zip(SOURCE_FIELDS, row))
        figures += rows
    figures.sort(key=lambda f: (f.indicator, f.geography, f.year, f.sex, f.source_id))
    classes.sort(key=lambda r: (r["code"], r["snapshot"]))
    tables: dict[str, list[list[Any]]] = {
        "figures.csv": [list(f) for f in figures],
        "sources.csv": [[r[f] for f in SOURCE_FIELDS] for _, r in sorted(sources.items())],
        "editions.csv": [[r[f] for f in EDITION_FIELDS] for _, r in sorted(editions.items())],
        "classification.csv": [[r[f] for f in CLASSIFICATION_FIELDS] for r in classes],
        "corridors.csv": _corridor_rows(od_tables, edition_of, released),
    }
    fields = {
        "figures.csv": FIGURE_FIELDS,
        "sources.csv": SOURCE_FIELDS,
        "editions.csv": EDITION_FIELDS,
        "classification.csv": CLASSIFICATION_FIELDS,
        "corridors.csv": CORRIDOR_FIELDS,
    }
    texts = {name: _csv(fields[name], rows) for name, rows in tables.items() if rows}
    check_tables(texts, out)
    written = []
    for name in TABLES:  # only once every table passed: a build that fails leaves the tables as they were
        path = out / name
        if name in texts:
            write_atomic(path, texts[name])
            written.append(path)
        elif path.exists():
            path.unlink()
    return written


#: The derived tables in the order they are checked: a table after those its foreign keys refer to.
_CHECK_ORDER = ("editions.csv", "sources.csv", "figures.csv", "classification.csv", "corridors.csv")


def check_tables(texts: dict[str, str], out: Path) -> None:
    """Check the derived tables before any is written, as ``data validate`` and frictionless check them once
    they are: each against its schema in ``datapackage.json`` (types, required cells, patterns, bounds, unique
    keys, foreign keys: every geography a code of ``geographies.csv``, every source and edition one of the
    tables built with it), every text cell plain text (:func:`leftbehind.data.checks.text_problem`), every
    figure in range for its indicator (:func:`.common.value_problem`: not negative, a share at most 100, persons
    whole), and every corridor's origin a geography or UN DESA's "Other" (:data:`.undesa.OTHER_ORIGIN`).

    Raises
    ------
    DataError
        Naming the table, the row and field, and the publisher's file and place the row was read in.
    """
    from ..checks import text_problem
    from ..tabular import _resource, check_rows, load, resource_names, schema
    from .common import geography_codes, value_problem
    from .undesa import OTHER_ORIGIN

    resource_of = {_resource(r)["path"]: r for r in resource_names()}
    checked: dict[str, dict[str, list[Any]]] = {}
    for name in _CHECK_ORDER:
        if name not in texts:
            continue
        resource = resource_of[f"derived/{name}"]
        header, *rows = list(csv.reader(io.StringIO(texts[name], newline="")))
        shown = f"{out.name}/{name} (as built, not written)"

        def context(i: int, header: list[str] = header, rows: list[list[str]] = rows) -> str:
            row = dict(zip(header, rows[i - 1]))
            place = [row[k] for k in ("snapshot", "source_id", "location") if row.get(k)]
            return f" ({', '.join(place)})" if place else ""

        columns = check_rows(resource, header, rows, shown, references=checked, context=context)
        checked[resource] = columns
        text_fields = {f["name"] for f in schema(resource)["fields"] if f.get("type", "string") in ("string", "any")}
        plain: set[tuple[str, str]] = set()  # (field, value) found plain text already
        for i, cells in enumerate(rows, start=1):
            for field, value in zip(header, cells):
                if field not in text_fields or not value or (field, value) in plain:
                    continue
                problem = text_problem(field, value)
                if problem is not None:
                    raise DataError(f'{shown}, row {i}{context(i)}, field "{field}": {problem}')
                plain.add((field, value))
    if "figures.csv" in texts:
        units = dict(zip(load("indicators")["indicator"], load("indicators")["base_unit"]))
        for fig in _figures(texts["figures.csv"]):
            problem = value_problem(fig.indicator, Decimal(fig.value), units.get(fig.indicator))
            if problem is not None:
                raise DataError(
                    f"{fig.source_id} ({fig.location}): {fig.indicator} of {fig.geography}, {fig.year}, {fig.sex}: "
                    f'"{fig.value}" {problem}'
                )
    if "corridors.csv" in texts:
        known = geography_codes() | {OTHER_ORIGIN}
        for i, origin in enumerate(checked[resource_of["derived/corridors.csv"]]["origin"], start=1):
            if origin not in known:
                raise DataError(
                    f'{out.name}/corridors.csv (as built, not written), row {i}, field "origin": "{origin}" is '
                    f'neither a code of geographies.csv nor UN DESA\'s "Other" origin ({OTHER_ORIGIN})'
                )


def _figures(text: str) -> list[Figure]:
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    return [Figure(r[0], r[1], int(r[2]), r[3], r[4], r[5], r[6]) for r in reader]


def _corridor_rows(tables: list[Snapshot], edition_of: dict[str, str], released: dict[str, str]) -> list[list[Any]]:
    """The rows of ``corridors.csv``: the origin × destination table of the newest edition."""
    if not tables:
        return []
    newest = max(tables, key=lambda s: (released[edition_of[source_id(s)]], s.key))
    frame = gdidata_corridors(newest)
    return [["" if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def build_data() -> list[str]:
    """``python -m leftbehind data build``: verify every snapshot in ``data/snapshots`` and derive
    ``data/derived/`` from them; return one line per snapshot and per file written.

    Raises
    ------
    DataError
        Naming the first file that is not in the local store (``python -m leftbehind data fetch`` brings it) or
        is not the recorded one.
    """
    hashes = verify_snapshots()
    if not hashes:
        return [f"no snapshots in {snapshots_dir()} yet: nothing to derive"]
    lines = [f"{key}: sha256 {digest} ok" for key, digest in hashes.items()]
    written = build_derived(data_dir() / "derived", snapshots_dir())
    return lines + [f"wrote {p}" for p in written]
