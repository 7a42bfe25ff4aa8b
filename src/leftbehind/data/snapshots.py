"""Snapshots: publishers' files kept exactly as read, each beside a record of where it came from.

``data/snapshots/<publisher>/<release>/snapshot.json`` is a record validated by
``data/snapshots/snapshot.schema.json``: for one file (producer, title, edition, citation, download URL, where
the copy was read, date accessed, licence, SHA-256, size, format, parser, how it was trimmed, caveats), or, for
a release folder that holds several files (a World Bank zip's data and metadata files, a package of data
sets), ``{"files": [one such record per file]}``. Each file is one :class:`Snapshot`. A file that comes in
several parts (a shapefile's ``.shp``, ``.shx``, ``.dbf``…) names its main file in ``file`` and the others in
``parts``, each with its SHA-256; every part is verified.

The records are committed; the files sit beside them in the *local store*, git-ignored, and
``python -m leftbehind data fetch`` fills it (:mod:`leftbehind.refresh.fetch`), except the files committed with
the package (the Natural Earth boundaries). Only :mod:`leftbehind.refresh` writes snapshots; this module lists,
loads and verifies them, and the builders in :mod:`.derive` turn them into derived tables.

Examples
--------
>>> from pathlib import Path
>>> root = Path(__file__).parents[3] / "tests" / "fixtures" / "snapshots"
>>> [s.key for s in list_snapshots(root)][:1]
['undesa/ims_fixture']
>>> len(verify_snapshots(root)) == len(list_snapshots(root))
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .._io import data_dir, sha256_file
from ..errors import DataError, choice_error

__all__ = [
    "Snapshot",
    "RECORD",
    "SCHEMA",
    "snapshots_dir",
    "list_snapshots",
    "load_snapshot",
    "verify_snapshots",
    "validate_record",
]

#: File name of a snapshot's metadata record, and of the JSON schema it is validated against.
RECORD = "snapshot.json"
SCHEMA = "snapshot.schema.json"


@dataclass(frozen=True)
class Snapshot:
    """One publisher's file and its record: ``folder`` is ``<root>/<publisher>/<release>``; ``listed`` is true
    for a file listed in a record of several files (``{"files": [...]}``)."""

    publisher: str
    release: str
    folder: Path
    meta: dict[str, Any]
    listed: bool = False

    @property
    def key(self) -> str:
        """``publisher/release`` (``publisher/release/file`` for a file of a record of several files): the name
        under which the store holds it (``<store>/<key>``, or ``<store>/<key>/<file>`` for a one-file record)."""
        base = f"{self.publisher}/{self.release}"
        return f"{base}/{self.meta['file']}" if self.listed else base

    @property
    def record(self) -> Path:
        """The ``snapshot.json`` this file is recorded in."""
        return self.folder / RECORD

    def present(self) -> bool:
        """Whether every part of the file is in the local store (not whether it is the right one: see
        :func:`verify_snapshots`)."""
        return all(path.is_file() for path in self.parts)

    @property
    def path(self) -> Path:
        """The publisher's file (the main one, for a file in several parts)."""
        return self.folder / str(self.meta["file"])

    @property
    def parts(self) -> dict[Path, str]:
        """Every stored file of the snapshot, the main one first, with its recorded SHA-256."""
        out = {self.path: str(self.meta["sha256"])}
        out.update({self.folder / name: str(digest) for name, digest in sorted(self.meta.get("parts", {}).items())})
        return out

    def read_bytes(self) -> bytes:
        """The file's bytes, after checking them against the recorded SHA-256."""
        blob = self.path.read_bytes() if self.path.is_file() else b""
        _check_digest(self, blob)
        return blob


def snapshots_dir() -> Path:
    """The data package's snapshot folder (``data/snapshots``)."""
    return data_dir() / "snapshots"


@cache
def _schema() -> dict[str, Any]:
    path = Path(__file__).parents[1] / "_data" / "snapshots" / SCHEMA
    if not path.is_file():  # a data package elsewhere (LEFTBEHIND_DATA_DIR) brings its own schema
        path = snapshots_dir() / SCHEMA
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _file_schema() -> dict[str, Any]:
    """The schema of one file's record (``$defs/file``), standing alone."""
    return {"$defs": _schema()["$defs"], "$ref": "#/$defs/file"}


#: Keys a record of several files may have besides its ``files``.
_LISTING_KEYS = {"files", "release"}


@cache
def _fast_validator() -> Any:
    """One file's schema compiled by fastjsonschema (nbformat's validator, installed with it): it says whether a
    record is valid in milliseconds, where importing jsonschema takes one and a half seconds (its format checkers
    compile grammars), once in every process that reads a snapshot, every map-drawing kernel among them. The
    schema uses only keywords both libraries implement alike (a test checks they agree)."""
    import fastjsonschema

    return fastjsonschema.compile(_file_schema(), use_default=False)


@cache
def _validator() -> Any:
    """jsonschema's validator of one file's schema: the authority, and the one whose messages name the field."""
    import jsonschema  # a dependency of frictionless; imported only when a record looks invalid

    return jsonschema.Draft202012Validator(_file_schema())


#: A record larger than this is refused unread (a record is a few kilobytes; see :func:`_read_record`).
MAX_RECORD_BYTES = 1_000_000


def _read_record(folder: Path) -> tuple[list[dict[str, Any]], bool]:
    """The file records of ``folder/snapshot.json`` and whether it lists several (``{"files": [...]}``)."""
    where = folder / RECORD
    try:
        if not where.is_file():  # a FIFO or a device would block or never end
            raise OSError("not a regular file")
        if where.stat().st_size > MAX_RECORD_BYTES:
            raise OSError(f"larger than {MAX_RECORD_BYTES:,} bytes")
        meta = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{where}: cannot be read as JSON ({exc})") from None
    if isinstance(meta, dict) and "files" in meta:
        extra = sorted(set(meta) - _LISTING_KEYS)
        if extra:
            raise DataError(
                f"{where}, field {extra[0]}: not allowed beside files (allowed: files, release; see {SCHEMA})"
            )
        files = meta["files"]
        if not isinstance(files, list) or not files:
            raise DataError(f"{where}, field files: a list of one record per file is required (see {SCHEMA})")
        records = [validate_record(entry, where, f"files/{i}/") for i, entry in enumerate(files)]
        names = [r["file"] for r in records]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise DataError(f"{where}, field files: {twice[0]} is listed twice")
        return records, True
    return [validate_record(meta, where)], False


def validate_record(meta: object, where: object, prefix: str = "") -> dict[str, Any]:
    """Return ``meta`` if it is a valid record of one file, else raise DataError naming ``where`` and the field
    (after ``prefix``, e.g. ``files/2/`` for the third file of a record of several)."""
    import fastjsonschema

    try:
        _fast_validator()(meta)
        return dict(meta)  # type: ignore[call-overload]
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema decides, and says which field
    errors = sorted(_validator().iter_errors(meta), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        field = prefix + "/".join(str(p) for p in first.absolute_path) or "(record)"
        raise DataError(f"{where}, field {field}: {first.message} (see {SCHEMA})")
    return dict(meta)  # type: ignore[call-overload]


def list_snapshots(root: Path | None = None) -> list[Snapshot]:
    """Every snapshot under ``root`` (default :func:`snapshots_dir`), sorted by publisher and release.

    Raises
    ------
    DataError
        Naming the record when a ``snapshot.json`` is not valid against the schema.
    """
    root = snapshots_dir() if root is None else Path(root)
    if not root.is_dir():
        return []
    out = []
    for record in sorted(root.glob(f"*/*/{RECORD}")):
        folder = record.parent
        metas, listed = _read_record(folder)
        out += [Snapshot(folder.parent.name, folder.name, folder, meta, listed) for meta in metas]
    return out


def load_snapshot(key: str, root: Path | None = None) -> Snapshot:
    """The snapshot named ``publisher/release``.

    Raises
    ------
    DataError
        When there is no such snapshot (with the ones that exist).
    """
    found = {s.key: s for s in list_snapshots(root)}
    if key not in found:
        raise choice_error("snapshot", key, sorted(found) or ["(none in the data package yet)"], error=DataError)
    return found[key]


def _check_digest(snap: Snapshot, blob: bytes | None = None) -> str:
    """Check every part of ``snap`` (``blob``: the main file's bytes, if already read); return the main digest."""
    import hashlib

    for i, (path, recorded) in enumerate(snap.parts.items()):
        if not path.is_file():
            if snap.meta.get("committed"):
                raise DataError(
                    f"{path}: the file named in {snap.folder / RECORD} is missing; it is committed with the "
                    "package (restore it with `git checkout -- data/snapshots`)"
                )
            raise DataError(
                f"{path}: the file named in {snap.folder / RECORD} is not in the local store; fetch it with "
                "`python -m leftbehind data fetch` (from the publisher) or `… data fetch --from <mirror folder>`"
            )
        digest = hashlib.sha256(blob).hexdigest() if blob is not None and i == 0 else sha256_file(path)
        if digest != recorded:
            raise DataError(
                f"{path}: SHA-256 is {digest}, but {snap.folder / RECORD} records {recorded}; "
                "the file is not the one that was snapshotted (restore it, or refresh to record a new release)"
            )
    return str(snap.meta["sha256"])


def verify_snapshots(root: Path | None = None, only_present: bool = False) -> dict[str, str]:
    """Recompute the SHA-256 of every snapshot and of each of its parts; return ``{key: sha256}`` (the main
    file's digest). With ``only_present``, files not in the local store are left out instead of refused.

    Raises
    ------
    DataError
        Naming the file and both digests on the first mismatch, or a missing file.
    """
    return {s.key: _check_digest(s) for s in list_snapshots(root) if not only_present or s.present()}
