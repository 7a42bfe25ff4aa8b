"""The leaf every other module may use: where things are, how files are written and hashed.

Imports nothing of leftbehind's but :mod:`leftbehind.errors`, and nothing heavy (no pandas), so quick
commands stay quick. The repository root, the data folder, atomic writes and SHA-256 hashing are worked out
here and nowhere else.

Examples
--------
>>> (data_dir() / "datapackage.json").is_file()
True
>>> REPO_ROOT.joinpath("src", "leftbehind", "_io.py").is_file()
True
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import DataError

__all__ = [
    "DATA_ENV_VAR",
    "PACKAGE_DIR",
    "READS_LOG_ENV",
    "REPORT_ENV",
    "REPO_ROOT",
    "data_dir",
    "data_package_hashes",
    "data_source",
    "sha256_file",
    "write_atomic",
]

#: Environment variable naming a folder that holds ``datapackage.json`` (overrides the defaults).
DATA_ENV_VAR = "LEFTBEHIND_DATA_DIR"

#: Environment variable the report runner sets for each report's kernel: a file where
#: :mod:`leftbehind.data.tabular` records each resource the notebook loads, so that the runner knows which data
#: files a report depends on (incremental builds). Declared here, not beside its reader, so that the runner
#: can set it without importing pandas.
READS_LOG_ENV = "LEFTBEHIND_READS_LOG"

#: Environment variable the report runner sets for each report's kernel: the report's name, under which the CSV
#: files behind its charts and tables are published (``<name>.data/``; see :mod:`leftbehind.plots.datafiles`).
REPORT_ENV = "LEFTBEHIND_REPORT"

#: The installed ``leftbehind`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent

#: The repository this package runs from when installed in development mode (``src/leftbehind`` → two up);
#: in an installed wheel this is a folder of the environment, where no ``data/`` or ``notebooks/`` exist.
REPO_ROOT = PACKAGE_DIR.parents[1]


def _candidates() -> list[tuple[str, Path]]:
    env = os.environ.get(DATA_ENV_VAR)
    found = [("LEFTBEHIND_DATA_DIR", Path(env))] if env else []
    found.append(("repository data/ folder", REPO_ROOT / "data"))
    found.append(("installed with the package", PACKAGE_DIR / "_data"))
    return found


def data_source() -> tuple[str, Path]:
    """Which data package is in use and where: ``(how it was found, folder)``.

    Looked up in this order: the ``LEFTBEHIND_DATA_DIR`` environment variable; the ``data/`` folder of the
    repository this package runs from (so edits are seen at once); the copy installed with the package
    (``leftbehind/_data``, in a wheel).

    Raises
    ------
    DataError
        When no folder with a ``datapackage.json`` is found, or ``LEFTBEHIND_DATA_DIR`` is set to a folder
        without one (it is an explicit choice: another package is never used in its place).

    Examples
    --------
    >>> data_source()[0] in ("LEFTBEHIND_DATA_DIR", "repository data/ folder", "installed with the package")
    True
    """
    candidates = _candidates()
    env = os.environ.get(DATA_ENV_VAR)
    if env and not (Path(env) / "datapackage.json").is_file():  # never fall back silently from an explicit choice
        raise DataError(
            f"no data package found in {env}: {DATA_ENV_VAR} names it, but it holds no datapackage.json; set "
            f"{DATA_ENV_VAR} to the folder that holds datapackage.json, or unset it to use the default"
        )
    for how, folder in candidates:
        if (folder / "datapackage.json").is_file():
            return how, folder
    tried = ", ".join(str(c) for _, c in candidates)
    raise DataError(
        f"no data package found (looked for datapackage.json in: {tried}); "
        f"set {DATA_ENV_VAR} to the folder that holds datapackage.json"
    )


def data_dir() -> Path:
    """Return the folder holding ``datapackage.json`` (see :func:`data_source` for the search order).

    Examples
    --------
    >>> (data_dir() / "datapackage.json").is_file()
    True
    """
    return data_source()[1]


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes.

    Examples
    --------
    >>> len(sha256_file(Path(__file__)))
    64
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_package_hashes(folder: Path | None = None) -> dict[str, Any]:
    """Hashes of the data package: one per resource file, plus one over the descriptor and all of them.

    Pure hashing (no pandas), so that a report run whose reports are all up to date stays quick.

    Examples
    --------
    >>> d = data_package_hashes()
    >>> len(d["sha256"]), "figures" in d["resources"]
    (64, True)
    """
    folder = folder or data_dir()
    descriptor_path = folder / "datapackage.json"
    try:
        resources_declared = json.loads(descriptor_path.read_text(encoding="utf-8-sig"))["resources"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{folder.name}/datapackage.json: cannot be read as a data package ({exc})") from None
    resources = {}
    for res in resources_declared:
        try:
            resources[res["name"]] = sha256_file(folder / res["path"])
        except OSError as exc:
            raise DataError(f"{folder.name}/{res['path']}: {exc.strerror or exc}") from None
    descriptor_hash = sha256_file(descriptor_path)
    whole = hashlib.sha256(descriptor_hash.encode())
    for name in sorted(resources):
        whole.update(f"{name}:{resources[name]}".encode())
    return {"sha256": whole.hexdigest(), "descriptor": descriptor_hash, "resources": resources}


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder, then rename it into place.

    A reader never sees a half-written file, and an interrupted write leaves the old file untouched.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "hello")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['a.txt'])
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
