"""Shared fixtures: a private copy of the data package, and the repository's paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Runs keep their reports' durations (a scheduling hint) in a folder of the test session, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEFTBEHIND_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def _not_committed(folder: str, names: list[str]) -> set[str]:
    """The publishers' files of the local snapshot store (git-ignored: a fresh clone has none), so that a copy
    of data/ is the same with or without a filled store."""
    import json

    record = Path(folder) / "snapshot.json"
    if Path(folder).parent.parent.name != "snapshots" or not record.is_file():
        return set()
    meta = json.loads(record.read_text(encoding="utf-8"))
    if meta.get("committed"):
        return set()
    return {n for n in names if n != "snapshot.json"}


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ (without the git-ignored publishers' files, as in a fresh clone) that leftbehind.data
    reads instead of the real one (via LEFTBEHIND_DATA_DIR)."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy, ignore=_not_committed)
    monkeypatch.setenv("LEFTBEHIND_DATA_DIR", str(copy))
    return copy


def replace_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (data rows counted from 1) — used to plant a malformed value."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index(column)
    rows[row][col] = value
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
