"""R data files (``.rda``, as R packages ship their data sets), read with pyreadr after the file's SHA-256 is
checked: one data frame per file, with the columns its reader expects."""

from __future__ import annotations

import pandas as pd

from ...errors import DataError
from ..snapshots import Snapshot

__all__ = ["read_rda"]


def read_rda(snap: Snapshot, columns: list[str]) -> pd.DataFrame:
    """The one data frame of ``snap``'s ``.rda`` file, its ``columns`` in that order.

    Raises
    ------
    DataError
        When the file is not the recorded one, cannot be read as R data, holds no single data frame, or lacks a
        column.
    """
    import pyreadr  # only while building

    snap.read_bytes()  # checks the SHA-256 first
    try:
        frames = pyreadr.read_r(str(snap.path))
    except Exception as exc:  # pyreadr raises its own errors, and LibrdataError from the C library
        raise DataError(f"{snap.path}: cannot be read as R data ({exc})") from None
    if len(frames) != 1:
        raise DataError(f"{snap.path}: holds {len(frames)} objects ({', '.join(frames)}); expected one data frame")
    (name, frame), *_ = frames.items()
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{snap.path}, data set {name}: columns {', '.join(missing)} are missing")
    return frame[columns]
