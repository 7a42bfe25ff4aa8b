"""Snapshots: publishers' files kept exactly as read, each beside a record of where it came from.

``data/snapshots/<publisher>/<release>/`` holds one file and ``snapshot.json``, a record validated by
``data/snapshots/snapshot.schema.json`` (producer, title, edition, citation, download URL, where the copy was
read, date accessed, licence, SHA-256, format, parser, how it was trimmed). A file that comes in several parts
(a shapefile's ``.shp``, ``.shx``, ``.dbf``…) names its main file in ``file`` and the others in ``parts``, each
with its SHA-256; every part is verified. Only :mod:`leftbehind.refresh`
writes snapshots; this module lists, loads and verifies them, and the builders in :mod:`.derive` turn them
into figures.

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
    """One publisher's file and its record: ``folder`` is ``<root>/<publisher>/<release>``."""

    publisher: str
    release: str
    folder: Path
    meta: dict[str, Any]

    @property
    def key(self) -> str:
        """``publisher/release``, the name derived rows cite."""
        return f"{self.publisher}/{self.release}"

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


@cache
def _fast_validator() -> Any:
    """The schema compiled by fastjsonschema (nbformat's validator, installed with it): it says whether a record
    is valid in milliseconds, where importing jsonschema takes one and a half seconds (its format checkers
    compile grammars), once in every process that reads a snapshot, every map-drawing kernel among them. The
    schema uses only keywords both libraries implement alike (a test checks they agree)."""
    import fastjsonschema

    return fastjsonschema.compile(_schema(), use_default=False)


@cache
def _validator() -> Any:
    """jsonschema's validator of the schema: the authority, and the one whose messages name the field."""
    import jsonschema  # a dependency of frictionless; imported only when a record looks invalid

    return jsonschema.Draft202012Validator(_schema())


def _read_record(folder: Path) -> dict[str, Any]:
    where = folder / RECORD
    try:
        meta = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{where}: cannot be read as JSON ({exc})") from None
    return validate_record(meta, where)


def validate_record(meta: object, where: object) -> dict[str, Any]:
    """Return ``meta`` if it is a valid snapshot record, else raise DataError naming ``where`` and the field."""
    import fastjsonschema

    try:
        _fast_validator()(meta)
        return dict(meta)  # type: ignore[call-overload]
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema decides, and says which field
    errors = sorted(_validator().iter_errors(meta), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        field = "/".join(str(p) for p in first.absolute_path) or "(record)"
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
        out.append(Snapshot(folder.parent.name, folder.name, folder, _read_record(folder)))
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
            raise DataError(f"{path}: the file named in {snap.folder / RECORD} is missing")
        digest = hashlib.sha256(blob).hexdigest() if blob is not None and i == 0 else sha256_file(path)
        if digest != recorded:
            raise DataError(
                f"{path}: SHA-256 is {digest}, but {snap.folder / RECORD} records {recorded}; "
                "the file is not the one that was snapshotted (restore it, or refresh to record a new release)"
            )
    return str(snap.meta["sha256"])


def verify_snapshots(root: Path | None = None) -> dict[str, str]:
    """Recompute the SHA-256 of every snapshot and of each of its parts; return ``{publisher/release: sha256}``
    (the main file's digest).

    Raises
    ------
    DataError
        Naming the file and both digests on the first mismatch, or a missing file.
    """
    return {s.key: _check_digest(s) for s in list_snapshots(root)}
