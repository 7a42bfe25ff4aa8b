"""The data behind a report's charts and tables, published beside it as ``<name>.data/<NN>-<slug>.csv`` (issue 27
item 5; the kernel side is :mod:`leftbehind.plots.datafiles`).

In a report kernel, each chart and table is followed by a display whose bundle holds a link "Data: CSV"
and, under :data:`~leftbehind._io.DATA_MIME`, the CSV itself, its file name in the display's metadata. The
worker that renders the report takes those CSVs out of the executed notebook (:func:`take`), so that neither the
published ``.ipynb`` nor the HTML carries them twice, and the runner writes them (:func:`write`): atomically,
stale files of an earlier run removed, each within :data:`MAX_FILE_BYTES`. The manifest lists them with their
sizes (:func:`listed`), and the index says how much the published data weighs.

A report's kernel is the report's code: what it shows under that MIME type is checked like any output, and a file
name that is not ``NN-slug.csv``, a name given twice or a CSV past the bounds fails the report, the cell named.

Examples
--------
>>> import nbformat
>>> shown = nbformat.v4.new_output("display_data", data={"text/markdown": "Data: [CSV](r.data/01-a.csv)",
...     DATA_MIME: "x,y\\n1,2\\n"}, metadata={DATA_MIME: {"file": "01-a.csv"}})
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot()", outputs=[shown])])
>>> take(nb)
[('01-a.csv', b'x,y\\n1,2\\n')]
>>> nb.cells[0].outputs[0]["data"], nb.cells[0].outputs[0]["metadata"]
({'text/markdown': 'Data: [CSV](r.data/01-a.csv)'}, {})
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path
from typing import Any

from .._io import DATA_MIME, write_atomic

__all__ = ["DataOutputError", "FILE_NAME", "MAX_FILE_BYTES", "MAX_REPORT_BYTES", "folder", "listed", "take", "write"]

#: A CSV file name a report may give: a number of two to four digits, a slug of lower-case letters, digits and
#: hyphens, ``.csv`` (:func:`leftbehind.plots.datafiles.slug`).
FILE_NAME = re.compile(r"^[0-9]{2,4}-[a-z0-9][a-z0-9-]{0,63}\.csv$")
#: Largest CSV behind one chart or table, and largest total for one report (bytes): a world map's frame is tens of
#: kilobytes; a report that shows more is not showing a chart.
MAX_FILE_BYTES = 8 << 20
MAX_REPORT_BYTES = 32 << 20


class DataOutputError(Exception):
    """A data output that cannot be published: (index of the cell in the executed notebook, what is wrong)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(index, reason)
        self.index = index
        self.reason = reason


def folder(name: str) -> str:
    """The folder, relative to the reports folder, of report ``name``'s CSV files.

    >>> folder("05_country_profile_NPL")
    '05_country_profile_NPL.data'
    """
    return f"{name}.data"


def take(nb: Any) -> list[tuple[str, bytes]]:
    """Remove every CSV shown under :data:`DATA_MIME` from ``nb`` (in place) and return them as (file name, bytes),
    in the order shown.

    Raises
    ------
    DataOutputError
        For the first such output whose file name is missing, not a :data:`FILE_NAME`, or given before, whose
        content is not text, or which passes :data:`MAX_FILE_BYTES` or, with those before it,
        :data:`MAX_REPORT_BYTES`.
    """
    files: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    total = 0
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data, meta = output.get("data"), output.get("metadata")
            if not isinstance(data, dict) or DATA_MIME not in data:
                if isinstance(meta, dict):
                    meta.pop(DATA_MIME, None)
                continue
            text = data.pop(DATA_MIME)
            about = meta.pop(DATA_MIME, None) if isinstance(meta, dict) else None
            file = about.get("file") if isinstance(about, dict) else None
            if isinstance(text, list):  # nbformat may store text as a list of lines
                text = "".join(str(t) for t in text)
            if not isinstance(file, str) or not FILE_NAME.match(file):
                shown = repr(file)[:80]
                raise DataOutputError(index, f"a data output's file name {shown} is not NN-slug.csv")
            if file in seen:
                raise DataOutputError(index, f"two data outputs are both called {file}")
            if not isinstance(text, str):
                raise DataOutputError(index, f"the data output {file} is not text")
            body = text.encode("utf-8")
            total += len(body)
            if len(body) > MAX_FILE_BYTES:
                raise DataOutputError(index, f"the data output {file} has {len(body):,} bytes, past {MAX_FILE_BYTES:,}")
            if total > MAX_REPORT_BYTES:
                raise DataOutputError(index, f"the report's data outputs pass {MAX_REPORT_BYTES:,} bytes at {file}")
            seen.add(file)
            files.append((file, body))
    return files


def _ours(out_dir: Path, name: str) -> list[os.DirEntry[str]]:
    """The regular files of report ``name``'s data folder that this module may have written (none if the folder
    is missing or is not a folder; links are not followed)."""
    path = out_dir / folder(name)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return []
        with os.scandir(path) as entries:
            return sorted(
                (e for e in entries if FILE_NAME.match(e.name) and e.is_file(follow_symlinks=False)),
                key=lambda e: e.name,
            )
    except OSError:
        return []


def write(out_dir: Path, name: str, files: list[tuple[str, bytes]]) -> None:
    """Write report ``name``'s CSV files into its data folder, each atomically, and remove the files of an
    earlier run that this run did not show (and the folder, once empty). Raises ``OSError`` on failure."""
    path = out_dir / folder(name)
    if files:
        if os.path.lexists(path) and not stat.S_ISDIR(os.lstat(path).st_mode):
            raise OSError(f"{folder(name)} is in the way of the report's data folder (not a folder)")
        path.mkdir(exist_ok=True)
        for file, body in files:
            write_atomic(path / file, body)
    keep = {file for file, _ in files}
    for entry in _ours(out_dir, name):
        if entry.name not in keep:
            os.unlink(entry.path)
    if not files and os.path.lexists(path) and stat.S_ISDIR(os.lstat(path).st_mode):
        with contextlib.suppress(OSError):  # something else is in it: not ours to remove
            path.rmdir()


def listed(out_dir: Path, name: str) -> list[dict[str, Any]]:
    """The CSV files of report ``name`` on disk now, for its manifest entry: ``{"file": <path in the reports
    folder>, "bytes": <size>}``, in order."""
    listing = []
    for entry in _ours(out_dir, name):
        try:
            size = entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        listing.append({"file": f"{folder(name)}/{entry.name}", "bytes": size})
    return listing
