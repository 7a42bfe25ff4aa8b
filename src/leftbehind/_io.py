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

import errno
import hashlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from .errors import DataError

__all__ = [
    "DATA_ENV_VAR",
    "PACKAGE_DIR",
    "READS_LOG_ENV",
    "REPORT_ENV",
    "DATA_MIME",
    "REPO_ROOT",
    "data_dir",
    "data_package_hashes",
    "data_source",
    "read_limited",
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

#: The MIME type under which a report kernel shows the CSV behind a chart or table (its display metadata gives the
#: file name); the runner writes it to ``<name>.data/<file>`` and removes it from the published notebook and HTML.
DATA_MIME = "application/vnd.leftbehind.data+csv"

#: The installed ``leftbehind`` package folder.
PACKAGE_DIR = Path(__file__).resolve().parent

#: The repository this package runs from when installed in development mode (``src/leftbehind`` → two up);
#: in an installed wheel this is a folder of the environment, where no ``data/`` or ``notebooks/`` exist.
REPO_ROOT = PACKAGE_DIR.parents[1]


#: The first-choice data package found for each value of ``LEFTBEHIND_DATA_DIR`` (None: unset) and package location:
#: how, folder and its descriptor's path. Valid while that descriptor exists: no other candidate comes before it.
_first_found: dict[tuple[str | None, str, str], tuple[str, Path, str]] = {}


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
    env = os.environ.get(DATA_ENV_VAR)
    key = (env, str(REPO_ROOT), str(PACKAGE_DIR))
    known = _first_found.get(key)
    if known is not None and os.path.isfile(known[2]):  # one stat, not a walk: data functions ask thousands of times
        return known[0], known[1]
    candidates = _candidates()
    if env and not (Path(env) / "datapackage.json").is_file():  # never fall back silently from an explicit choice
        raise DataError(
            f"no data package found in {env}: {DATA_ENV_VAR} names it, but it holds no datapackage.json; set "
            f"{DATA_ENV_VAR} to the folder that holds datapackage.json, or unset it to use the default"
        )
    for i, (how, folder) in enumerate(candidates):
        if (folder / "datapackage.json").is_file():
            if i == 0:  # the first choice stays the answer while its descriptor exists; a later one is looked up again
                _first_found[key] = (how, folder, str(folder / "datapackage.json"))
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


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, opened without following a symbolic link at ``path`` and without
    waiting: :class:`OSError` (naming the file) when it is a link, a FIFO, a device or a folder, or holds more
    than ``limit`` bytes, instead of reading whatever the link points at, waiting for a writer that never comes,
    or filling memory. For the files the report runner keeps beside its reports, which anyone who can write there
    could replace.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.json").write_text("{}")
    >>> read_limited(folder / "a.json", 10)
    b'{}'
    >>> (folder / "b.json").symlink_to("/dev/zero")
    >>> read_limited(folder / "b.json", 10)
    Traceback (most recent call last):
    ...
    OSError: [Errno 40] Too many levels of symbolic links: '.../b.json'
    >>> read_limited(folder / "a.json", 1)
    Traceback (most recent call last):
    ...
    OSError: [Errno 27] larger than 1 bytes: '.../a.json'
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):  # it may grow while being read
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder, then rename it into place.

    A reader never sees a half-written file, and an interrupted write leaves the old file untouched. The
    temporary file has a name no one can guess (``.<name>.<random>.partial``) and is created anew, never opened
    through a link or an existing file: a link planted where it will be does not send the bytes elsewhere. The
    rename replaces a link at ``path`` itself, not what it points at.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "hello")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['a.txt'])
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
        try:
            fd = os.open(tmp, flags, 0o666)  # the usual permissions of a new file (umask applies)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
