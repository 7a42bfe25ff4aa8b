"""Write a publisher's file into ``data/snapshots/<publisher>/<release>/`` with its record (``snapshot.json``).

The bytes are stored exactly as given; the record's SHA-256 is computed here, and the record is validated
against the schema before anything is written. An existing snapshot is never overwritten by different bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from .._io import write_atomic
from ..data.snapshots import RECORD, Snapshot, list_snapshots, snapshots_dir, validate_record
from ..errors import DataError

__all__ = ["write_snapshot"]


def write_snapshot(
    publisher: str, release: str, blob: bytes, meta: dict[str, Any], root: Path | None = None
) -> Snapshot:
    """Store ``blob`` as ``meta["file"]`` in ``<root>/<publisher>/<release>/`` beside its record.

    ``meta`` holds every field of the schema except ``sha256``, which is computed from ``blob``.

    Raises
    ------
    DataError
        When a name is not a safe folder name, the record is not valid against the schema, or a different
        file already sits under the same publisher and release.
    """
    for what, name in (("publisher", publisher), ("release", release)):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise DataError(f'snapshot {what} "{name}" must be letters, digits, ".", "_" or "-"')
    root = snapshots_dir() if root is None else Path(root)
    folder = root / publisher / release
    record = dict(meta) | {"sha256": hashlib.sha256(blob).hexdigest()}
    if (folder / RECORD).exists():
        old = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if old.get("sha256") != record["sha256"]:
            raise DataError(
                f"{folder / RECORD}: a snapshot of {publisher}/{release} with other bytes exists "
                f"(sha256 {old.get('sha256')}); a new release needs a new release name"
            )
    text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    validate_record(record, folder / RECORD)  # before anything is written
    write_atomic(folder / str(record["file"]), blob)
    write_atomic(folder / RECORD, text)
    return next(s for s in list_snapshots(root) if s.key == f"{publisher}/{release}")
