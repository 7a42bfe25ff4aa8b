"""Where the data package lives: found without importing pandas, so quick commands stay quick."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError

__all__ = ["ENV_VAR", "data_dir"]

#: Environment variable naming a folder that holds ``datapackage.json`` (overrides the defaults).
ENV_VAR = "LEFTBEHIND_DATA_DIR"


def data_dir() -> Path:
    """Return the folder holding ``datapackage.json``.

    Looked up in this order: the ``LEFTBEHIND_DATA_DIR`` environment variable; the ``data/`` folder of the
    repository this package runs from (so edits are seen at once); the copy installed with the package
    (``leftbehind/_data``, in a wheel).

    Raises
    ------
    DataError
        When no folder with a ``datapackage.json`` is found.

    Examples
    --------
    >>> (data_dir() / "datapackage.json").is_file()
    True
    """
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates.append(here.parents[1] / "data")
    candidates.append(here / "_data")
    for folder in candidates:
        if (folder / "datapackage.json").is_file():
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(
        f"no data package found (looked for datapackage.json in: {tried}); "
        f"set {ENV_VAR} to the folder that holds datapackage.json"
    )
