"""What a report's output depends on, for incremental builds: the notebook, its parameters, title and code
visibility, the data files it read, the leftbehind code and templates, the lock file and the interpreter (see
:func:`_inputs`). Used by :mod:`leftbehind.reports.run` and ``site``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._io import PACKAGE_DIR
from .plan import Report


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _notebook_source_hash(path: Path) -> str:
    """Hash of a notebook's cell types, sources and tags (outputs and metadata noise excluded)."""
    stat = Path(path).stat()
    return _source_hash(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _source_hash(path: str, mtime_ns: int, size: int) -> str:  # read once per version of the file
    return _sha256("\n".join(json.dumps(part) for part in _cell_parts(path)).encode("utf-8"))


def _cell_parts(path: str) -> list[list[Any]]:
    """Each cell's type, source and sorted tags, as nbformat reads them (:func:`_read_v4`)."""
    return [
        [cell.get("cell_type"), cell.get("source", ""), sorted((cell.get("metadata") or {}).get("tags", []))]
        for cell in _read_v4(path)["cells"]
    ]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


@functools.lru_cache(maxsize=1)
def _code_sha256() -> str:
    """Hash of the leftbehind package's source (modules and templates): a change re-runs every report."""
    root = PACKAGE_DIR
    digest = hashlib.sha256()
    files = (
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".py", ".j2", ".json") and "_data" not in p.relative_to(root).parts
    )  # the data package is tracked per resource
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _notebook_file_hash(path: Path) -> str:
    """Hash of everything in a notebook file that can reach an executed copy: cells (outputs and execution
    counts excluded, the run replaces them), cell and notebook metadata, format version."""
    stat = Path(path).stat()
    return _file_hash(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:  # read once per version of the file
    nb = _read_v4(path)
    for cell in nb["cells"]:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    return _sha256(json.dumps(nb, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _read_v4(path: str) -> Any:
    """A notebook as a plain dict, its cell sources joined as nbformat joins them. A version-4 notebook is read
    as JSON: a run with nothing to do need not import nbformat, which takes from a fifth of a second to a second
    and a half (jsonschema's format checkers); older versions are converted by nbformat."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    if not isinstance(raw, dict) or raw.get("nbformat") != 4 or not isinstance(raw.get("cells"), list):
        import nbformat

        raw = json.loads(nbformat.writes(nbformat.read(path, as_version=4)))
    for cell in raw["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return raw


def _read_digest(name: str, resources: dict[str, str]) -> str:
    """The digest of something a report read: a data package resource's, or a snapshot's (``publisher/release``,
    e.g. the map boundaries: the SHA-256 its record gives, which loading it checks against the file), so that a
    corrected snapshot runs its reports again instead of leaving them drawn from the old file."""
    return str(resources[name]) if name in resources else _snapshot_digest(name)


@functools.lru_cache(maxsize=64)
def _snapshot_digest(name: str) -> str:
    """The recorded digests of snapshot ``name``'s files, read once per process (a run asks once per report)."""
    from ..data.snapshots import load_snapshot
    from ..errors import DataError

    try:
        snap = load_snapshot(name)
    except DataError:
        return ""  # neither a resource nor a snapshot: nothing the package can hash (no such read is recorded)
    return "snapshot:" + ";".join(str(v) for v in snap.parts.values())


def _inputs(report: Report, reads: Iterable[str], prov: dict[str, Any], show_code: bool, root: Path) -> dict[str, Any]:
    """Everything a report's bytes depend on, as the incremental-build key: the notebook (source, metadata and
    path as shown in the provenance header), parameters, title (the HTML ``<title>``), whether code is shown,
    the data it read, the leftbehind code and templates, the lock file and the interpreter's version.

    Not in the key: the group (shown in the index only, which every run rewrites) and the timeout (it decides
    whether a report finishes, not what it contains).
    """
    resources = prov["data_package"]["resources"]
    deps = {name: _read_digest(name, resources) for name in sorted(set(reads))}
    deps["datapackage.json"] = prov["data_package"]["descriptor"]
    return {
        "notebook": _notebook_source_hash(report.notebook),
        "notebook_file": _notebook_file_hash(report.notebook),
        "notebook_path": _relative(report.notebook, root),
        "parameters": report.parameters,
        "title": report.title,
        "show_code": show_code,
        "code": _code_sha256(),
        "lock": prov["environment"]["lock_sha256"],
        "python": prov["environment"].get("versions", {}).get("python", ""),
        "data": deps,
    }


def _unchanged(
    report: Report, old: dict[str, Any], out_dir: Path, prov: dict[str, Any], show_code: bool, root: Path
) -> bool:
    """True when report's last good files are on disk and nothing in its :func:`_inputs` changed since (a
    notebook that cannot be read counts as changed: the check then says what is wrong with it)."""
    if old.get("status") != "ok" or not isinstance(old.get("inputs"), dict):
        return False
    if not ((out_dir / f"{report.name}.html").exists() and (out_dir / f"{report.name}.ipynb").exists()):
        return False
    reads = [r for r in old["inputs"].get("data", {}) if r != "datapackage.json"]
    try:
        return _inputs(report, reads, prov, show_code, root) == old["inputs"]
    except Exception:  # an unreadable notebook: not unchanged
        return False
