"""Reading the data package: the descriptor, typed and validated loading of each resource, and the
record of which resources a report read, and the package's hashes. Public names are re-exported by
:mod:`leftbehind.data`.

Examples
--------
>>> from leftbehind.data import tabular
>>> "figures" in tabular.resource_names()
True
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd

from .._io import READS_LOG_ENV, data_dir, data_source, sha256_file
from ..errors import DataError, did_you_mean

_MISSING = ""
_P = ParamSpec("_P")
_R = TypeVar("_R")
_recorded: set[tuple[str, str]] = set()
#: Open :func:`reads_collected` blocks: each set receives every resource recorded while it is open.
_collecting: list[set[str]] = []


def _record_read(name: str) -> None:
    for bucket in _collecting:
        bucket.add(name)
    log = os.environ.get(READS_LOG_ENV)
    if log and (log, name) not in _recorded:
        _recorded.add((log, name))
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")


@contextlib.contextmanager
def reads_collected() -> Iterator[set[str]]:
    """The names of the resources read in the block, whether or not a report is recording them: a cache of
    something derived from the data keeps them beside its value, and records them again (:func:`record_reads`)
    each time it answers from the cache, so that a report's recorded inputs do not depend on what was cached.

    Examples
    --------
    >>> with reads_collected() as names:
    ...     _ = load("studies")
    >>> "studies" in names
    True
    """
    bucket: set[str] = set()
    _collecting.append(bucket)
    try:
        yield bucket
    finally:
        _collecting.pop()


def record_reads(names: Iterable[str]) -> None:
    """Record ``names`` as read (see :func:`reads_collected`)."""
    for name in sorted(names):
        _record_read(name)


def package_version() -> tuple[tuple[str, int, int], ...]:
    """Path, modification time and size of the descriptor and of every resource file: a cache key for what is
    derived from the whole data package (a new version of any file, or another data folder, is a new key).

    Examples
    --------
    >>> package_version() == package_version()
    True
    """
    return _files_version(absent_ok=False)


def _files_version(absent_ok: bool = True) -> tuple[tuple[str, int, int], ...]:
    """:func:`package_version`; with ``absent_ok``, ``(path, -1, -1)`` for a resource file that is absent (an
    optional derived table): a key, not an error; what the keyed function reads says what is missing."""
    version = []
    for file in _package_files(*_descriptor_key()):
        try:
            stat = os.stat(file)
        except OSError as exc:
            if not absent_ok:
                raise _missing(Path(file), exc) from None
            version.append((file, -1, -1))
            continue
        version.append((file, stat.st_mtime_ns, stat.st_size))
    return tuple(version)


@functools.lru_cache(maxsize=8)
def _package_files(descriptor_path: str, mtime_ns: int) -> tuple[str, ...]:
    """The descriptor and every resource file of one version of the descriptor, as paths: the files whose
    versions key :func:`cached_on_package` (asked for hundreds of times a report, so worked out once)."""
    folder = Path(descriptor_path).parent
    index = _resource_index(descriptor_path, mtime_ns)
    names = [r["name"] for r in _read_descriptor(descriptor_path, mtime_ns)["resources"]]
    return (str(folder / "datapackage.json"), *(str(folder / index[n]["path"]) for n in names))


def cached_on_package(maxsize: int = 8, shared: bool = False) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorator: compute what a function derives from the data package once per version of the package (its
    files' paths, modification times and sizes) and arguments, and record the resources it read again each time
    it answers from the cache (:func:`reads_collected`), so a report's recorded inputs do not depend on what was
    cached. A result with a ``copy`` method (a DataFrame, a Series, a list) is copied for each caller, unless
    ``shared`` (for the package's own intermediate tables, which their callers only read: one copy of the whole
    figures table per call would cost more than it saves); a call with an unhashable argument (a list) is
    computed, not cached.

    Examples
    --------
    >>> @cached_on_package()
    ... def studies_count(design: str = "cross-sectional") -> int:
    ...     return int((load("studies")["design"] == design).sum())
    >>> with reads_collected() as first:
    ...     n = studies_count()
    >>> with reads_collected() as again:  # from the cache: the same reads recorded
    ...     n == studies_count(design="cross-sectional")
    True
    >>> first == again and "studies" in again
    True
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.lru_cache(maxsize=maxsize)
        def compute(version: tuple[tuple[str, int, int], ...], args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Any:
            with reads_collected() as reads:
                value = function(*args, **dict(kwargs))
            return value, frozenset(reads)

        @functools.wraps(function)
        def cached(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                value, reads = compute(_files_version(), args, tuple(sorted(kwargs.items())))
            except TypeError as exc:  # an unhashable argument: nothing to key a cache on
                if "unhashable" not in str(exc):
                    raise
                return function(*args, **kwargs)
            record_reads(reads)
            return value.copy() if hasattr(value, "copy") and not shared else value

        cached.cache_clear = compute.cache_clear  # type: ignore[attr-defined]
        cached.cache_info = compute.cache_info  # type: ignore[attr-defined]
        return cached

    return decorate


def split_list(cell: object) -> list[str]:
    """The items of a semicolon-separated list cell (``"NPL; IND"``), stripped; ``[]`` for a missing cell.

    Examples
    --------
    >>> split_list("NPL; IND;"), split_list(None)
    (['NPL', 'IND'], [])
    """
    if cell is None or pd.isna(cell):
        return []
    return [p.strip() for p in str(cell).split(";") if p.strip()]


def package_info() -> dict[str, str]:
    """Which data package is in use: where it was found, its version and its hash (see :func:`package_hashes`).

    Examples
    --------
    >>> info = package_info()
    >>> info["source"] in ("LEFTBEHIND_DATA_DIR", "repository data/ folder", "installed with the package"), len(info["sha256"])
    (True, 64)
    """
    source, folder = data_source()
    return {
        "source": source,
        "path": str(folder),
        "version": str(descriptor().get("version", "")),
        "sha256": package_hashes()["sha256"],
    }


def package_hashes() -> dict[str, Any]:
    """Hashes of the data package: one per resource file, plus one over the descriptor and all of them.

    Examples
    --------
    >>> d = package_hashes()
    >>> len(d["sha256"]), "figures" in d["resources"]
    (64, True)
    """
    folder = data_dir()
    resources = {}
    for res in descriptor()["resources"]:
        resources[res["name"]] = _sha256(folder / res["path"])
    descriptor_hash = _sha256(folder / "datapackage.json")
    whole = hashlib.sha256(descriptor_hash.encode())
    for name in sorted(resources):
        whole.update(f"{name}:{resources[name]}".encode())
    return {"sha256": whole.hexdigest(), "descriptor": descriptor_hash, "resources": resources}


def _missing(path: Path, exc: OSError) -> DataError:
    """The error for a data file that cannot be read: names the file and, when it is missing, which setting to
    check."""
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{_display(path)}: file not found (in the data package from the {data_source()[0]})")
    return DataError(f"{_display(path)}: cannot be read ({exc.strerror or exc})")


def _mtime_ns(path: Path) -> int:
    """Modification time of a data file (a cache key), or :class:`DataError` naming the file."""
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise _missing(path, exc) from None


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise _missing(path, exc) from None


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
        with open(path, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except OSError as exc:
        raise _missing(Path(path), exc) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{_display(Path(path))}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{_display(Path(path))}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _descriptor_key() -> tuple[str, int]:
    """Path and modification time of the data package's ``datapackage.json``: the key of what is read from it."""
    path = data_dir() / "datapackage.json"
    return str(path), _mtime_ns(path)


def descriptor() -> dict[str, Any]:
    """Return the parsed ``datapackage.json`` (cached until the file changes).

    Examples
    --------
    >>> descriptor()["name"]
    'leftbehind'
    """
    return _read_descriptor(*_descriptor_key())


@functools.lru_cache(maxsize=8)
def _resource_index(path: str, mtime_ns: int) -> dict[str, dict[str, Any]]:
    """The resources of one version of the descriptor by name (the first of a name, as a scan would find)."""
    index: dict[str, dict[str, Any]] = {}
    for res in _read_descriptor(path, mtime_ns)["resources"]:
        index.setdefault(res["name"], res)
    return index


def resource_names() -> list[str]:
    """Names of the resources in the data package, in descriptor order.

    Examples
    --------
    >>> resource_names()[0]
    'seed_figures'
    """
    return [r["name"] for r in descriptor()["resources"]]


def _resource(name: str) -> dict[str, Any]:
    found = _resource_index(*_descriptor_key()).get(name)
    if found is not None:
        return found
    names = resource_names()
    hint = did_you_mean(name, names)
    raise DataError(f'no resource "{name}" in data/datapackage.json.{hint} Valid resources: {", ".join(names)}')


def schema(name: str) -> dict[str, Any]:
    """The Table Schema of resource ``name`` as written in the descriptor.

    Examples
    --------
    >>> [f["name"] for f in schema("seed_figures")["fields"]][:3]
    ['figure_id', 'topic', 'label']
    """
    return _resource(name)["schema"]


def field_label(name: str) -> str | None:
    """The ``title`` the descriptor gives the field ``name`` (the first resource that titles a field of that name,
    in descriptor order; ``data validate`` checks that every resource titles it alike), or None.

    Examples
    --------
    >>> field_label("n_left_behind"), field_label("no_such_field")
    ('Left-behind children', None)
    """
    for res in descriptor()["resources"]:
        for f in res.get("schema", {}).get("fields", []):
            if f["name"] == name and "title" in f:
                return str(f["title"])
    return None


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
        hint = did_you_mean(raw, enum, sentence=False)
        raise ValueError(f'"{raw}" is not one of the allowed values{hint} Allowed: {", ".join(map(str, enum))}')
    if "minimum" in constraints and value < constraints["minimum"]:
        raise ValueError(f"{raw} is below the minimum {constraints['minimum']}")
    if "maximum" in constraints and value > constraints["maximum"]:
        raise ValueError(f"{raw} is above the maximum {constraints['maximum']}")
    pattern = constraints.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, raw):
        raise ValueError(f'"{raw}" does not match the pattern {pattern}')


_DTYPES = {
    "string": "string",
    "any": "string",
    "number": "float64",
    "integer": "Int64",
    "year": "Int64",
    "boolean": "boolean",
}


def _read_rows(path: Path, shown: str) -> tuple[list[str], list[list[str]]]:
    try:  # utf-8-sig: a byte-order mark (as some spreadsheet programs write) is dropped, not read as a column name
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise DataError(f"{shown}: file not found") from None
    except OSError as exc:
        raise DataError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
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
    reads = _with_references(name)
    if path is None:
        record_reads(reads)
    try:
        stat = file.stat()
    except OSError as exc:
        raise _missing(file, exc) from None
    descriptor_file = data_dir() / "datapackage.json"
    # the resources its foreign keys are checked against: a new version of one of them means a new check
    referenced = tuple((ref, _mtime_ns(data_dir() / _resource(ref)["path"])) for ref in reads if ref != name)
    # Parsed and validated once per version of the file (of the descriptor, of what it refers to); callers get
    # a copy.
    frame = _load_cached(
        name,
        str(file.resolve()),
        stat.st_mtime_ns,
        stat.st_size,
        str(descriptor_file),
        _mtime_ns(descriptor_file),
        referenced,
    )
    return frame.copy()


def _with_references(name: str) -> list[str]:
    """``name`` and every resource its foreign keys refer to, transitively: what loading it reads. The first
    load in a process checks the keys against those resources; later ones (and kernels forked from a process
    that already loaded it) reuse the check, and must still record the same reads.

    Examples
    --------
    >>> _with_references("figures")[:1], "sources" in _with_references("figures")
    (['figures'], True)
    """
    return list(_references(name, *_descriptor_key()))


@functools.lru_cache(maxsize=256)
def _references(name: str, path: str, mtime_ns: int) -> tuple[str, ...]:
    found = [name]
    for current in found:  # grows while it is read: a breadth-first walk
        for fk in _resource(current)["schema"].get("foreignKeys", []):
            ref = fk["reference"].get("resource") or current
            if ref not in found:
                found.append(ref)
    return tuple(found)


@functools.lru_cache(maxsize=64)
def _load_cached(
    name: str,
    path: str,
    mtime_ns: int,
    size: int,
    descriptor_path: str,
    descriptor_mtime_ns: int,
    referenced: tuple[tuple[str, int], ...] = (),
) -> pd.DataFrame:
    res = _resource(name)
    file = Path(path)
    shown = _display(file)
    fields = res["schema"]["fields"]
    header, rows = _read_rows(file, shown)
    columns = check_rows(name, header, rows, shown)
    frame = pd.DataFrame(
        {f["name"]: pd.Series(columns[f["name"]], dtype=_DTYPES.get(f.get("type", "string"), "object")) for f in fields}
    )
    return frame


def check_rows(
    name: str,
    header: list[str],
    rows: list[list[str]],
    shown: str,
    references: Mapping[str, Mapping[str, list[Any]]] | None = None,
    context: Callable[[int], str] | None = None,
) -> dict[str, list[Any]]:
    """The rows of a CSV file of resource ``name`` checked against its schema (header, types, constraints,
    unique fields, primary key, foreign keys), as parsed columns: what :func:`load` reads a file with, and what
    ``data build`` checks the tables it derives with before it writes any.

    ``references`` gives the columns of resources that are checked with this one and not yet on disk (a foreign
    key to one of them is checked against these); ``context`` a few words on data row ``i`` for the message
    (where the row came from).

    Raises
    ------
    DataError
        Naming ``shown``, the row (data rows from 1) and the field.
    """
    res = _resource(name)
    fields = res["schema"]["fields"]
    names = [f["name"] for f in fields]
    if header != names:
        missing = [n for n in names if n not in header]
        extra = [h for h in header if h not in names]
        detail = "; ".join(
            part
            for part in (
                f"missing column(s): {', '.join(missing)}" if missing else "",
                f"unexpected column(s): {', '.join(extra)}" if extra else "",
                "columns out of order" if not missing and not extra else "",
            )
            if part
        )
        raise DataError(f"{shown}, header: {detail}. Expected: {','.join(names)}")

    def row(i: int) -> str:
        return f"{shown}, row {i}{context(i) if context is not None else ''}"

    columns: dict[str, list[Any]] = {n: [] for n in names}
    # a value seen before in a field is that field's value again: codes, years and ids repeat down a column
    parsed: list[dict[str, Any]] = [{} for _ in fields]
    for i, cells in enumerate(rows, start=1):
        if len(cells) != len(names):
            raise DataError(f"{row(i)}: {len(cells)} values where the header has {len(names)} columns")
        for field, raw, known in zip(fields, cells, parsed):
            fname = field["name"]
            if raw in known:
                columns[fname].append(known[raw])
                continue
            constraints = field.get("constraints", {})
            if raw == _MISSING:
                if constraints.get("required"):
                    raise DataError(f'{row(i)}, field "{fname}": a value is required but the cell is empty')
                columns[fname].append(None)
                continue
            try:
                value = _parse(raw, field.get("type", "string"))
                _check_constraints(value, raw, constraints)
            except ValueError as exc:
                raise DataError(f'{row(i)}, field "{fname}": {exc}') from None
            known[raw] = value
            columns[fname].append(value)

    for field in fields:
        if field.get("constraints", {}).get("unique"):
            _check_unique(shown, [field["name"]], columns, row)
    pkey = res["schema"].get("primaryKey")
    if pkey:
        _check_unique(shown, [pkey] if isinstance(pkey, str) else list(pkey), columns, row)

    for fk in res["schema"].get("foreignKeys", []):
        _check_foreign_key(name, fk, columns, references or {}, row)
    return columns


def _key_values(name: str, field: str) -> set[Any]:
    """Values of ``field`` in resource ``name`` (the resource is parsed once per version of its file)."""
    return set(load(name)[field].dropna().tolist())


def _check_foreign_key(
    name: str,
    fk: dict[str, Any],
    columns: dict[str, list[Any]],
    references: Mapping[str, Mapping[str, list[Any]]],
    row: Callable[[int], str],
) -> None:
    field = fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0]
    ref = fk["reference"]
    ref_res = ref.get("resource") or name
    ref_field = ref["fields"] if isinstance(ref["fields"], str) else ref["fields"][0]
    if ref_res == name:
        valid = set(columns[ref_field])
    elif ref_res in references:
        valid = set(references[ref_res][ref_field])
    else:
        valid = _key_values(ref_res, ref_field)
    ref_file = _resource(ref_res)["path"]
    for i, value in enumerate(columns[field], start=1):
        if value is not None and value not in valid:
            hint = did_you_mean(value, sorted(map(str, valid)), sentence=False)
            raise DataError(f'{row(i)}, field "{field}": "{value}" is not a {ref_field} in {ref_file}{hint}')


def _check_unique(shown: str, key: list[str], columns: dict[str, list[Any]], row: Callable[[int], str]) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for i, values in enumerate(zip(*(columns[k] for k in key)), start=1):
        if any(v is None for v in values):
            continue
        if values in seen:
            label = ", ".join(f"{k}={v}" for k, v in zip(key, values))
            raise DataError(
                f'{row(i)}, field "{"+".join(key)}": duplicate key ({label}); first seen in row {seen[values]}'
            )
        seen[values] = i


def file_sha256(name: str) -> str:
    """SHA-256 (hex) of resource ``name``'s file, for provenance."""
    return _sha256(data_dir() / _resource(name)["path"])
