"""Provenance: what produced a report — code, data, environment — stated so a reader can reproduce it.

Nothing here reads the clock: every value is a property of the inputs, so regenerating with nothing changed
gives the same provenance, byte for byte.

Examples
--------
>>> p = environment()
>>> sorted(p["versions"])
['matplotlib', 'pandas', 'papermill', 'python']
"""

from __future__ import annotations

import functools
import platform
import subprocess
from typing import Any

from .. import __version__
from .._io import REPO_ROOT, data_package_hashes, sha256_file

__all__ = ["data_package", "environment", "git_commit", "sha256_file"]


def data_package() -> dict[str, Any]:
    """Hashes of the data package: one per resource file, plus one over the descriptor and all of them (see
    :func:`leftbehind._io.data_package_hashes`; no pandas needed).

    Examples
    --------
    >>> d = data_package()
    >>> len(d["sha256"]), "figures" in d["resources"]
    (64, True)
    """
    return data_package_hashes()


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The git commit of the repository, with " + uncommitted changes" when tracked files differ from it
    (generated reports excluded); ``"unknown"`` outside a git checkout.

    Examples
    --------
    >>> isinstance(git_commit(), str)
    True
    """
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!reports"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = head.stdout.strip()
    return commit + (" + uncommitted changes" if status.stdout.strip() else "")


def environment() -> dict[str, Any]:
    """leftbehind's version and git commit, the lock file's hash and the versions that shape the outputs.

    Examples
    --------
    >>> environment()["leftbehind"] == __version__
    True
    """
    from importlib.metadata import version  # read versions without importing the (slow) packages

    lock = REPO_ROOT / "requirements" / "lock.txt"
    return {
        "leftbehind": __version__,
        "git_commit": git_commit(),
        "lock_sha256": sha256_file(lock) if lock.exists() else "unknown",
        "versions": {
            "python": platform.python_version(),
            "pandas": version("pandas"),
            "matplotlib": version("matplotlib"),
            "papermill": version("papermill"),
        },
    }
