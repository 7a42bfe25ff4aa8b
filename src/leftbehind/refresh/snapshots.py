"""Write a publisher's file into ``data/snapshots/<publisher>/<release>/`` with its record (``snapshot.json``).

The bytes are stored exactly as given; the record's SHA-256 is computed here, and the record is validated
against the schema before anything is written. An existing snapshot is never overwritten by different bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._io import data_dir, write_atomic
from ..data.derive import build_derived
from ..data.snapshots import RECORD, Snapshot, list_snapshots, snapshots_dir, validate_record
from ..errors import DataError

__all__ = ["write_snapshot", "write_and_derive"]


def write_snapshot(
    publisher: str,
    release: str,
    blob: bytes,
    meta: dict[str, Any],
    root: Path | None = None,
    parts: dict[str, bytes] | None = None,
) -> Snapshot:
    """Store ``blob`` as ``meta["file"]`` in ``<root>/<publisher>/<release>/`` beside its record.

    ``meta`` holds every field of the schema except ``sha256`` (and ``parts``), computed here from ``blob``
    (and from ``parts``: the other files of a file in several parts, e.g. a shapefile's ``.shx`` and ``.dbf``,
    by name).

    Raises
    ------
    DataError
        When a name is not a safe folder name, the record is not valid against the schema, or a different
        file already sits under the same publisher and release.
    """
    named = [("publisher", publisher), ("release", release)] + [("part", name) for name in sorted(parts or {})]
    for what, name in named:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise DataError(f'snapshot {what} "{name}" must be letters, digits, ".", "_" or "-"')
    root = snapshots_dir() if root is None else Path(root)
    folder = root / publisher / release
    record = dict(meta) | {"sha256": hashlib.sha256(blob).hexdigest()}
    if parts:
        record["parts"] = {name: hashlib.sha256(part).hexdigest() for name, part in sorted(parts.items())}
    if (folder / RECORD).exists():
        old = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if (old.get("sha256"), old.get("parts")) != (record["sha256"], record.get("parts")):
            raise DataError(
                f"{folder / RECORD}: a snapshot of {publisher}/{release} with other bytes exists "
                f"(sha256 {old.get('sha256')}); a new release needs a new release name"
            )
    text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    validate_record(record, folder / RECORD)  # before anything is written
    write_atomic(folder / str(record["file"]), blob)
    for name, part in sorted((parts or {}).items()):
        write_atomic(folder / name, part)
    write_atomic(folder / RECORD, text)
    return next(s for s in list_snapshots(root) if s.key == f"{publisher}/{release}")


def write_and_derive(new: list[tuple[str, str, bytes, dict[str, Any]]]) -> Callable[[], None]:
    """Write each ``(publisher, release, bytes, record)`` as a snapshot of the data package, then rebuild
    ``derived/`` from all snapshots; return a function that undoes both (for a refresh that fails later).
    """
    derived = data_dir() / "derived"
    before = {p: p.read_bytes() for p in derived.glob("*.csv")} if derived.is_dir() else {}
    created: list[Path] = []

    def undo() -> None:
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        for path in derived.glob("*.csv") if derived.is_dir() else []:
            if path not in before:
                path.unlink()
        for path, blob in before.items():
            write_atomic(path, blob)

    try:
        for publisher, release, blob, meta in new:
            folder = snapshots_dir() / publisher / release
            if not folder.exists():
                created.append(folder)
            write_snapshot(publisher, release, blob, meta)
        build_derived(derived, snapshots_dir())
    except Exception:
        undo()
        raise
    return undo
