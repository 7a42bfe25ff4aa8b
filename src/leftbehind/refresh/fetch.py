"""Fill the local snapshot store: bring each recorded publisher's file beside its record, checked byte for byte.

``python -m leftbehind data fetch [--from DIR]`` reads every record in ``data/snapshots/*/*/snapshot.json``
and, for each file that is not already in the store with the recorded SHA-256, takes its bytes

- from a **mirror** folder laid out ``<publisher>/<release>/<file>`` (``--from``, or ``make build-data
  SNAPSHOT_MIRROR=DIR``), or
- without a mirror, from the **publisher's address** in the record (``url``; when it serves a zip, the file is
  its ``member``), and where the publisher now serves other bytes (the World Bank's API serves only its newest
  release), from the public copy the record names (``read_at``: a repository and commit).

Every file's size and SHA-256 are checked against the record before anything is written; a mismatch is refused
with both hashes named. Files are written to temporary names and renamed only once every file has been
fetched and checked, so that a failure (offline, a wrong file in the mirror) leaves the store as it was.

Examples
--------
>>> raw_address({"repository": "iom/gdidata", "commit": "c9e4cc69cebd91d6cfca5f4107e2406e4de2c6ff",
...              "path": "data/wdi.rda"})
'https://raw.githubusercontent.com/iom/gdidata/c9e4cc69cebd91d6cfca5f4107e2406e4de2c6ff/data/wdi.rda'
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import sha256_file
from ..data.snapshots import Snapshot, list_snapshots, snapshots_dir
from ..errors import DataError

__all__ = ["MIRROR_ENV", "FetchResult", "fetch_snapshots", "raw_address"]

#: Environment variable naming a mirror folder (``<publisher>/<release>/<file>``); ``.ci/run`` sets it to
#: ``../shared/snapshots`` when that folder exists, for the test that rebuilds the derived tables.
MIRROR_ENV = "LEFTBEHIND_SNAPSHOT_MIRROR"
#: A file larger than this is refused from any source (the store's largest file is well under 1 MB).
MAX_BYTES = 200_000_000
_TIMEOUT = 60.0


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_snapshots` did with one file: ``status`` is ``present`` (already in the store with the
    recorded SHA-256) or ``fetched``; ``origin`` says where the bytes came from."""

    key: str
    status: str
    origin: str

    def __str__(self) -> str:
        return f"{self.key}: {self.status}" + (f" from {self.origin}" if self.origin else "")


def raw_address(read_at: dict[str, Any]) -> str:
    """The address of the exact bytes of a file a record says was read in a GitHub repository at a commit."""
    return f"https://raw.githubusercontent.com/{read_at['repository']}/{read_at['commit']}/{read_at['path']}"


def _check(snap: Snapshot, blob: bytes, origin: str) -> None:
    """Refuse ``blob`` unless it has the recorded size and SHA-256 of ``snap``'s file."""
    meta = snap.meta
    size = meta.get("size")
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta["sha256"] or (size is not None and len(blob) != size):
        raise DataError(
            f"{snap.key}: the file from {origin} has SHA-256 {digest} ({len(blob):,} bytes), but "
            f"{snap.record} records {meta['sha256']} ({size if size is not None else '?'} bytes); refused, "
            "nothing written"
        )


def _read_mirror(snap: Snapshot, mirror: Path) -> tuple[bytes, str]:
    path = mirror / snap.publisher / snap.release / str(snap.meta["file"])
    if not path.is_file():
        where = path if path.exists() else path.parent
        raise DataError(
            f"{snap.key}: not in the mirror {mirror} (expected {path}{'' if where == path else ', missing'}); "
            "a mirror is laid out <publisher>/<release>/<file>"
        )
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path}: larger than {MAX_BYTES:,} bytes; refused")
    return path.read_bytes(), str(path)


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "leftbehind (python -m leftbehind data fetch)"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            blob = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise DataError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"{url}: cannot be reached ({reason}); offline? Fetch from a mirror with --from DIR") from None
    if len(blob) > MAX_BYTES:
        raise DataError(f"{url}: larger than {MAX_BYTES:,} bytes; refused")
    return blob


def _member(blob: bytes, member: str, url: str) -> bytes:
    """The file ``member`` of the zip ``blob`` (the World Bank's bulk download), or ``blob`` if it is no zip."""
    if not zipfile.is_zipfile(io.BytesIO(blob)):
        return blob
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = archive.namelist()
        if member not in names:
            raise DataError(f"{url}: the zip holds {', '.join(names) or 'nothing'}, not {member}")
        info = archive.getinfo(member)
        if info.file_size > MAX_BYTES:
            raise DataError(f"{url}: {member} is larger than {MAX_BYTES:,} bytes; refused")
        return archive.read(member)


def _from_publisher(snap: Snapshot) -> tuple[bytes, str]:
    """The file from the publisher's address, else from the recorded copy; the first with the right bytes."""
    meta = snap.meta
    tried: list[str] = []
    sources = [(str(meta["url"]), str(meta.get("member") or meta["file"]))]
    read_at = meta.get("read_at")
    if isinstance(read_at, dict) and {"repository", "commit", "path"} <= set(read_at):
        sources.append((raw_address(read_at), str(meta["file"])))
    for url, member in sources:
        try:
            blob = _member(_download(url), member, url)
            _check(snap, blob, url)
            return blob, url
        except DataError as exc:
            tried.append(str(exc))
    raise DataError(f"{snap.key}: no source gave the recorded file:\n  " + "\n  ".join(tried))


def fetch_snapshots(mirror: Path | str | None = None, root: Path | None = None) -> list[FetchResult]:
    """Bring every recorded file into the local store under ``root`` (default ``data/snapshots``), from
    ``mirror`` if given, else from the publishers' addresses; return one :class:`FetchResult` per file.

    Files already present with the recorded SHA-256 are left alone; a present file with other bytes is
    replaced by the recorded one (and reported). All or nothing: nothing is written unless every file could
    be fetched and checked.

    Raises
    ------
    DataError
        Naming the file, where it was looked for, and (for wrong bytes) both SHA-256 digests.
    """
    root = snapshots_dir() if root is None else Path(root)
    if mirror is not None:
        mirror = Path(mirror)
        if not mirror.is_dir():
            raise DataError(f"{mirror}: no such mirror folder (expected <publisher>/<release>/<file> inside)")
    results: list[FetchResult] = []
    pending: list[tuple[Snapshot, bytes]] = []
    for snap in list_snapshots(root):
        if snap.meta.get("committed"):  # committed with the package (the map boundaries), never fetched
            continue
        target = snap.path
        if target.is_file() and sha256_file(target) == snap.meta["sha256"]:
            results.append(FetchResult(snap.key, "present", ""))
            continue
        status = "replaced (the store held other bytes)" if target.exists() else "fetched"
        blob, origin = _read_mirror(snap, mirror) if mirror is not None else _from_publisher(snap)
        _check(snap, blob, origin)
        pending.append((snap, blob))
        results.append(FetchResult(snap.key, status, origin))
    _write_all(pending)
    return results


def _write_all(pending: list[tuple[Snapshot, bytes]]) -> None:
    """Write each file to a temporary name beside its target, then rename them all; on any error remove the
    temporaries, so that the store is as it was."""
    temporaries: list[tuple[Path, Path]] = []
    try:
        for snap, blob in pending:
            target = snap.path
            temp = target.with_name(f".{target.name}.{os.getpid()}.partial")
            if temp.is_symlink() or temp.exists():
                temp.unlink()
            with open(temp, "xb") as fh:  # exclusive: never follows a planted link
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            temporaries.append((temp, target))
        for temp, target in temporaries:
            os.replace(temp, target)
    except OSError as exc:
        for temp, _ in temporaries:
            temp.unlink(missing_ok=True)
        raise DataError(f"the local store could not be written ({exc}); nothing changed") from None
