"""The data behind every chart and table of a report, as a CSV beside the report (issue 27 item 5; STYLE.md
"The data behind a chart").

A chart or table function calls :func:`attach` with the frame it draws. In a report kernel (the runner sets
:data:`leftbehind._io.REPORT_ENV` to the report's name), once the cell has run and its figures are shown, a
display follows each of them: a Markdown link "Data: CSV" to ``<report>.data/<n>-<slug>.csv`` and, under the
MIME type :data:`MIME`, the CSV itself, which the runner writes to that file and removes from the published
notebook (:mod:`leftbehind.reports.datafiles`). Outside a report (JupyterLab, scripts, tests) nothing is shown:
the frame stays on the figure (:func:`attached`), for anyone who wants it.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"geography": ["NPL"], "year": [2023], "value": [25.4], "unit": ["percent"],
...                       "note": ["derived by code: L1:2023"], "quote": [None]})
>>> print(to_csv(frame), end="")
geography,year,value,unit
NPL,2023,25.4,percent
>>> slug("Remittances received, share of GDP: Nepal")
'remittances-received-share-of-gdp-nepal'
"""

from __future__ import annotations

import os
import re
from typing import Any

import pandas as pd

from .._io import REPORT_ENV

__all__ = ["MIME", "attach", "attached", "to_csv", "slug", "install"]

#: The MIME type of a CSV behind a chart or table, in a report kernel's display outputs.
MIME = "application/vnd.leftbehind.data+csv"
#: Columns left out of a CSV: long texts that are not drawn (the quote of a hand-read figure, a note).
_NOT_DRAWN = ("note", "quote")
_pending: list[tuple[str, pd.DataFrame]] = []
_count = {"n": 0}
_installed = {"shell": None}


def slug(title: str, length: int = 48) -> str:
    """A file-name part from a title: lower case letters, digits and hyphens."""
    text = re.sub(r"[^a-z0-9]+", "-", str(title).casefold()).strip("-")
    return text[:length].rstrip("-") or "data"


def to_csv(frame: pd.DataFrame) -> str:
    """The CSV of a frame as drawn: its columns but the long texts (:data:`_NOT_DRAWN`), no index, LF line ends,
    numbers in pandas' shortest form; the same bytes for the same frame."""
    keep = [c for c in frame.columns if c not in _NOT_DRAWN]
    return frame[keep].to_csv(index=False, lineterminator="\n")


def attach(fig: Any, frame: pd.DataFrame, title: str | None = None) -> Any:
    """Keep ``frame`` (what ``fig`` draws) on the figure and, in a report kernel, queue its CSV to be shown under
    the figure once the cell has run. Returns ``fig``."""
    fig._leftbehind_data = frame
    if os.environ.get(REPORT_ENV):
        install()
        name = title or (fig.axes[0].get_title() if getattr(fig, "axes", None) else "") or "chart"
        _pending.append((name, frame))
    return fig


def attached(fig: Any) -> pd.DataFrame | None:
    """The frame a chart function attached to ``fig``, or ``None``."""
    return getattr(fig, "_leftbehind_data", None)


def _show_pending(*_: Any) -> None:
    """After a cell (IPython's post_run_cell, which runs after the inline backend has shown the figures): a link
    and the CSV under each chart the cell drew."""
    from IPython.display import display

    report = os.environ.get(REPORT_ENV, "")
    while _pending:
        name, frame = _pending.pop(0)
        _count["n"] += 1
        file = f"{_count['n']:02d}-{slug(name)}.csv"
        bundle = {"text/markdown": f"Data: [CSV]({report}.data/{file})", MIME: to_csv(frame)}
        display(bundle, raw=True, metadata={MIME: {"file": file}})


def install() -> None:
    """Register :func:`_show_pending` with the running IPython shell, once per kernel (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the kernel
        return
    shell = get_ipython()
    if shell is None or _installed["shell"] is shell:
        return
    shell.events.register("post_run_cell", _show_pending)
    _installed["shell"] = shell
