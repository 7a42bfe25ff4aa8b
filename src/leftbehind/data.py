"""The data package: find it, read its descriptor, load resources as validated, typed DataFrames.

The schema of every resource lives in ``data/datapackage.json`` (a Frictionless Data Package); this module
reads it from there and keeps no second copy. Loading checks each value against its field's type and
constraints and raises :class:`~leftbehind.errors.DataError` naming the file, the row (data rows counted
from 1, the header excluded) and the field.

Examples
--------
>>> from leftbehind import data
>>> "seed_figures" in data.resource_names()
True
>>> seeds = data.load("seed_figures")
>>> int(seeds.loc[seeds.figure_id == "persons_working_abroad", "value"].iloc[0])
105
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import DataError

__all__ = [
    "data_dir",
    "descriptor",
    "resource_names",
    "schema",
    "load",
    "file_sha256",
    "seed_figures",
    "seed_table",
    "seed_narrative",
    "seed_sources",
    "SEED_TOPICS",
]

#: Topics of the seed figures, in display order; ``"all"`` selects every topic.
SEED_TOPICS: tuple[str, ...] = ("labour_migration", "remittances", "children_left_behind", "iom")

_ENV_VAR = "LEFTBEHIND_DATA_DIR"
_MISSING = ""


def data_dir() -> Path:
    """Return the folder holding ``datapackage.json``.

    Looked up in this order: the ``LEFTBEHIND_DATA_DIR`` environment variable; the ``data/`` folder of the
    repository this package runs from (so edits are seen at once).

    Raises
    ------
    DataError
        When no folder with a ``datapackage.json`` is found.

    Examples
    --------
    >>> (data_dir() / "datapackage.json").is_file()
    True
    """
    env = os.environ.get(_ENV_VAR)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "data")
    for folder in candidates:
        if (folder / "datapackage.json").is_file():
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(
        f"no data package found (looked for datapackage.json in: {tried}); "
        f"set {_ENV_VAR} to the folder that holds datapackage.json"
    )


def _display(path: Path) -> str:
    """A short, machine-independent name for a data file: ``data/<file>`` for the package's own folder."""
    folder = data_dir()
    try:
        return str(Path(folder.name) / path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=8)
def _read_descriptor(path: str, mtime_ns: int) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"{_display(Path(path))}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def descriptor() -> dict[str, Any]:
    """Return the parsed ``datapackage.json`` (cached until the file changes).

    Examples
    --------
    >>> descriptor()["name"]
    'leftbehind'
    """
    path = data_dir() / "datapackage.json"
    return _read_descriptor(str(path), path.stat().st_mtime_ns)


def resource_names() -> list[str]:
    """Names of the resources in the data package, in descriptor order.

    Examples
    --------
    >>> resource_names()[0]
    'seed_figures'
    """
    return [r["name"] for r in descriptor()["resources"]]


def _resource(name: str) -> dict[str, Any]:
    for res in descriptor()["resources"]:
        if res["name"] == name:
            return res
    names = resource_names()
    close = difflib.get_close_matches(name, names, n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    raise DataError(f'no resource "{name}" in data/datapackage.json.{hint} Valid resources: {", ".join(names)}')


def schema(name: str) -> dict[str, Any]:
    """The Table Schema of resource ``name`` as written in the descriptor.

    Examples
    --------
    >>> [f["name"] for f in schema("seed_figures")["fields"]][:3]
    ['figure_id', 'topic', 'label']
    """
    return _resource(name)["schema"]


# --- parsing and validation -------------------------------------------------------------------------

def _parse(raw: str, ftype: str) -> Any:
    """Convert one CSV cell to its Table Schema type; raise ValueError with a readable reason."""
    if ftype in ("string", "any"):
        return raw
    if ftype == "number":
        if "," in raw and re.fullmatch(r"-?\d+,\d+", raw):
            raise ValueError(f'"{raw}" is not a number (use a dot as decimal separator)')
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f'"{raw}" is not a number') from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f'"{raw}" is not a finite number')
        return value
    if ftype in ("integer", "year"):
        if not re.fullmatch(r"-?\d+", raw):
            raise ValueError(f'"{raw}" is not a whole number')
        return int(raw)
    if ftype == "boolean":
        if raw in ("true", "True", "TRUE", "yes", "1"):
            return True
        if raw in ("false", "False", "FALSE", "no", "0"):
            return False
        raise ValueError(f'"{raw}" is not true/false')
    if ftype == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f'"{raw}" is not a date (use YYYY-MM-DD)') from None
    raise ValueError(f'field type "{ftype}" is not supported by leftbehind.data')


def _check_constraints(value: Any, raw: str, constraints: dict[str, Any]) -> None:
    enum = constraints.get("enum")
    if enum is not None and raw not in [str(e) for e in enum]:
        close = difflib.get_close_matches(raw, [str(e) for e in enum], n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise ValueError(f'"{raw}" is not one of the allowed values{hint} Allowed: {", ".join(map(str, enum))}')
    if "minimum" in constraints and value < constraints["minimum"]:
        raise ValueError(f"{raw} is below the minimum {constraints['minimum']}")
    if "maximum" in constraints and value > constraints["maximum"]:
        raise ValueError(f"{raw} is above the maximum {constraints['maximum']}")
    pattern = constraints.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, raw):
        raise ValueError(f'"{raw}" does not match the pattern {pattern}')


_DTYPES = {"string": "string", "any": "string", "number": "float64", "integer": "Int64", "year": "Int64", "boolean": "boolean"}


def _read_rows(path: Path, shown: str) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise DataError(f"{shown}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{shown}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    if not rows:
        raise DataError(f"{shown}: the file is empty (expected a header row)")
    return rows[0], rows[1:]


def load(name: str, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load resource ``name`` as a typed DataFrame, checked against its schema in the descriptor.

    Parameters
    ----------
    name
        A resource name from :func:`resource_names`.
    path
        Read this CSV file instead of the resource's own file (same schema); used to check a copy.

    Returns
    -------
    pandas.DataFrame
        One column per schema field, in schema order. ``string`` fields have pandas' string dtype,
        ``number`` float64, ``integer``/``year`` nullable Int64, ``date`` Python dates; empty cells are missing.

    Raises
    ------
    DataError
        Naming file, row (data rows from 1) and field, when a header is wrong, a value has the wrong type or
        breaks a constraint (required, enum, minimum, maximum, pattern, unique) or the primary key repeats.

    Examples
    --------
    >>> df = load("seed_figures")
    >>> df["value"].dtype
    dtype('float64')
    """
    res = _resource(name)
    file = Path(path) if path is not None else data_dir() / res["path"]
    shown = _display(file)
    fields = res["schema"]["fields"]
    names = [f["name"] for f in fields]
    header, rows = _read_rows(file, shown)
    if header != names:
        missing = [n for n in names if n not in header]
        extra = [h for h in header if h not in names]
        detail = "; ".join(
            part for part in (
                f"missing column(s): {', '.join(missing)}" if missing else "",
                f"unexpected column(s): {', '.join(extra)}" if extra else "",
                "columns out of order" if not missing and not extra else "",
            ) if part
        )
        raise DataError(f"{shown}, header: {detail}. Expected: {','.join(names)}")

    columns: dict[str, list[Any]] = {n: [] for n in names}
    for i, row in enumerate(rows, start=1):
        if len(row) != len(names):
            raise DataError(f"{shown}, row {i}: {len(row)} values where the header has {len(names)} columns")
        for field, raw in zip(fields, row):
            fname = field["name"]
            constraints = field.get("constraints", {})
            if raw == _MISSING:
                if constraints.get("required"):
                    raise DataError(f'{shown}, row {i}, field "{fname}": a value is required but the cell is empty')
                columns[fname].append(None)
                continue
            try:
                value = _parse(raw, field.get("type", "string"))
                _check_constraints(value, raw, constraints)
            except ValueError as exc:
                raise DataError(f'{shown}, row {i}, field "{fname}": {exc}') from None
            columns[fname].append(value)

    for field in fields:
        if field.get("constraints", {}).get("unique"):
            _check_unique(shown, [field["name"]], columns)
    pkey = res["schema"].get("primaryKey")
    if pkey:
        _check_unique(shown, [pkey] if isinstance(pkey, str) else list(pkey), columns)

    frame = pd.DataFrame({
        f["name"]: pd.Series(columns[f["name"]], dtype=_DTYPES.get(f.get("type", "string"), "object"))
        for f in fields
    })
    return frame


def _check_unique(shown: str, key: list[str], columns: dict[str, list[Any]]) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for i, values in enumerate(zip(*(columns[k] for k in key)), start=1):
        if any(v is None for v in values):
            continue
        if values in seen:
            label = ", ".join(f"{k}={v}" for k, v in zip(key, values))
            raise DataError(
                f'{shown}, row {i}, field "{"+".join(key)}": duplicate key ({label}); first seen in row {seen[values]}'
            )
        seen[values] = i


def file_sha256(name: str) -> str:
    """SHA-256 (hex) of resource ``name``'s file, for provenance."""
    return hashlib.sha256((data_dir() / _resource(name)["path"]).read_bytes()).hexdigest()


def seed_figures(topic: str = "all") -> pd.DataFrame:
    """The IOM headline figures, optionally restricted to one topic.

    Parameters
    ----------
    topic
        ``"all"`` or one of :data:`SEED_TOPICS`.

    Returns
    -------
    pandas.DataFrame
        The ``seed_figures`` resource rows for that topic, in file order.

    Raises
    ------
    ParameterError
        When ``topic`` is not ``"all"`` or a known topic.

    Examples
    --------
    >>> seed_figures("remittances")["figure_id"].tolist()
    ['migrant_worker_earnings', 'remittances_to_developing_countries']
    """
    from .errors import ParameterError

    valid = ("all",) + SEED_TOPICS
    if topic not in valid:
        close = difflib.get_close_matches(str(topic), valid, n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise ParameterError(f'topic "{topic}" is not a seed-figure topic.{hint} Valid topics: {", ".join(valid)}')
    df = load("seed_figures")
    if topic != "all":
        df = df[df["topic"] == topic].reset_index(drop=True)
    return df


def _value_text(value: float, high: float | None) -> str:
    def fmt(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"

    if high is not None and not pd.isna(high) and high != value:
        return f"{fmt(value)}–{fmt(high)}"
    return fmt(value)


def seed_table(figures: pd.DataFrame) -> str:
    """A plain-text table of seed figures (label, value, unit, year) for printing in a notebook.

    Examples
    --------
    >>> print(seed_table(seed_figures("remittances")))
    figure                                                                  value  unit         year
    Total earnings of migrant workers                                         440  USD billion  2011
    Remittances sent to developing countries (World Bank estimate)  more than 350  USD billion  2011
    """
    rows = [("figure", "value", "unit", "year")]
    for r in figures.itertuples():
        qual = "" if pd.isna(r.qualifier) or r.qualifier in ("range", "estimate") else f"{r.qualifier} "
        year = "" if pd.isna(r.year) else str(int(r.year))
        rows.append((str(r.label), qual + _value_text(r.value, r.value_high), str(r.unit), year))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def seed_narrative(figures: pd.DataFrame) -> str:
    """Markdown sentences stating each seed figure with its qualifier and page, generated from the values.

    Examples
    --------
    >>> print(seed_narrative(seed_figures("labour_migration")))
    IOM's pages give 1 headline figure on this topic:
    <BLANKLINE>
    - **105 million persons** (estimate): Persons working in a country other than their country of birth — IOM, *Labour migration*.
    """
    n = len(figures)
    lines = [f"IOM's pages give {n} headline figure{'s' if n != 1 else ''} on this topic:", ""]
    for r in figures.itertuples():
        value = _value_text(r.value, r.value_high)
        unit = "%" if r.unit == "percent" else f" {r.unit}" if r.unit != "count" else ""
        qual = f" ({r.qualifier})" if not pd.isna(r.qualifier) and r.qualifier != "range" else ""
        year = f" in {int(r.year)}" if not pd.isna(r.year) else ""
        lines.append(f"- **{value}{unit}**{qual}: {r.label}{year} — IOM, *{r.page_title}*.")
    return "\n".join(lines)


def seed_sources(figures: pd.DataFrame) -> str:
    """A Markdown list of the pages the seed figures come from, with the figures each page supports.

    Examples
    --------
    >>> print(seed_sources(seed_figures("iom")).splitlines()[0])
    1. International Organization for Migration (IOM), “Health of families left behind”, <https://www.iom.int/health-families-left-behind> (read 2026-11-25). Figures: iom_member_states, iom_country_presence.
    """
    lines = []
    pages = list(dict.fromkeys(zip(figures["publisher"], figures["page_title"], figures["url"])))
    for i, (publisher, title, url) in enumerate(pages, start=1):
        part = figures[(figures["url"] == url) & (figures["page_title"] == title)]
        accessed = part["accessed"].iloc[0].isoformat()
        ids = ", ".join(part["figure_id"])
        lines.append(f"{i}. {publisher}, “{title}”, <{url}> (read {accessed}). Figures: {ids}.")
        for quote in dict.fromkeys(part["quote"]):
            lines.append(f"    > “{quote}”")
    return "\n".join(lines)
