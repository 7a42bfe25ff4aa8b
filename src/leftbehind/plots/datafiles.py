"""The data behind every chart and table of a report, as a CSV beside the report (issue 27 item 5; STYLE.md
"The data behind a chart").

A chart or table function calls :func:`attach` with the frame it draws. In a report kernel (the runner sets
:data:`leftbehind._io.REPORT_ENV` to the report's name), once the cell has run and its figures are shown, a
display follows each of them: a link "Data: CSV" (:data:`LINK`) to ``<report>.data/<n>-<slug>.csv`` and, under the
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

import html
import os
import re
from typing import Any

import matplotlib
import pandas as pd

from .._io import DATA_MIME, REPORT_ENV

__all__ = ["MIME", "CONTEXT", "attach", "attached", "for_table", "in_report", "next_file", "to_csv", "slug", "install"]

#: The MIME type of a CSV behind a chart or table, in a report kernel's display outputs.
MIME = DATA_MIME
#: Columns left out of a CSV: long texts that are not drawn (the quote of a hand-read figure, a note).
_NOT_DRAWN = ("note", "quote")
#: Columns a table's CSV keeps even when the table does not show them: what a reader of the CSV needs to cite a
#: number (which indicator, in which unit and year, from which edition and source).
CONTEXT = (
    "geography",
    "origin",
    "destination",
    "indicator",
    "sex",
    "unit",
    "year",
    "edition",
    "edition_id",
    "source_id",
    "source",
)
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


class _Described:
    """A figure's ``_repr_mimebundle_``: no representation of its own (IPython's formatters draw the image as
    before), and the image's alt text as its PNG's metadata, which a report's page writes as the ``alt`` of the
    image (where nbconvert would write "No description has been provided for this image")."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        return {}, {"image/png": {"alt": self.text}}


def alt_text(fig: Any, title: str | None = None) -> str:
    """What a chart shows, for readers who cannot see it: the title it carries (its figure's, else its first
    axes'), else ``title``, on one line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Remittances received by Nepal,   2000-2024")
    >>> alt_text(fig, "remittances-npl")
    'Chart: Remittances received by Nepal, 2000-2024'
    >>> plt.close(fig)
    """
    return "Chart: " + " ".join(str(_shown_title(fig) or title or "untitled").split())


def _shown_title(fig: Any) -> str:
    """The title a figure shows: its own (``suptitle``), else its first axes' ("" for none); the house style sets
    titles on the left, where ``ax.get_title()`` (the centre one) does not look."""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return str(suptitle.get_text())
    titles = (ax.get_title(loc) for ax in getattr(fig, "axes", []) for loc in ("left", "center", "right"))
    return next((t for t in titles if t), "")


def attach(fig: Any, frame: pd.DataFrame, title: str | None = None, alt: str | None = None) -> Any:
    """Keep ``frame`` (what ``fig`` draws) on the figure, give its image an alt text (``alt``, else
    :func:`alt_text`) and, in a report kernel, queue its CSV to be shown under the figure once the cell has run
    (``title`` names its file). Returns ``fig``."""
    fig._leftbehind_data = frame
    fig._repr_mimebundle_ = _Described(" ".join(alt.split()) if alt else alt_text(fig, title))
    _drawn_by_display(fig)
    if os.environ.get(REPORT_ENV):
        install()
        name = title or _shown_title(fig) or "chart"
        _pending.append((name, frame))
    return fig


def _drawn_by_display(fig: Any) -> None:
    """Under matplotlib's inline backend (JupyterLab, a report kernel), mark a finished chart as not stale.

    After a cell, pyplot draws every stale figure (``plt.draw_all``, a post-execute hook), then the inline backend
    renders each figure again to show it as a PNG: the first rendering is never seen, and it was a sixth of a
    country profile's time. A figure changed after this call is stale again and drawn as before; other backends
    (a widget canvas, a GUI window) draw what they show, and keep matplotlib's own behaviour.
    """
    if "inline" in str(matplotlib.get_backend()) and hasattr(fig, "stale"):
        fig.stale = False


def attached(fig: Any) -> pd.DataFrame | None:
    """The frame a chart function attached to ``fig``, or ``None``."""
    return getattr(fig, "_leftbehind_data", None)


def for_table(frame: pd.DataFrame, columns: Any = None, source: str = "", max_rows: int | None = None) -> pd.DataFrame:
    """What a table shows, as data: its rows (the first ``max_rows``), the ``columns`` it shows under their own
    names, with full precision, then the :data:`CONTEXT` columns the frame has and the table does not show, and a
    ``source`` column with the table's source line when the frame names no source.

    Examples
    --------
    >>> f = pd.DataFrame({"geography": ["NPL", "IND"], "value": [25.4, 3.3], "unit": ["percent"] * 2})
    >>> for_table(f, {"geography": "Country"}, source="Source: World Bank").to_dict("records")[0]
    {'geography': 'NPL', 'unit': 'percent', 'source': 'Source: World Bank'}
    """
    if frame.index.names != [None]:
        frame = frame.reset_index()
    frame = frame.reset_index(drop=True).rename(columns=str)
    if max_rows is not None:
        frame = frame.head(max_rows)
    chosen = list(frame.columns) if columns is None else [str(c) for c in columns]
    extra = [c for c in CONTEXT if c in frame.columns and c not in chosen]
    out = frame[[c for c in chosen if c in frame.columns] + extra]
    if source and not {"source", "source_id"} & set(out.columns):
        out = out.assign(source=source)
    return out


def in_report() -> bool:
    """Whether this is a report kernel (the runner set :data:`~leftbehind._io.REPORT_ENV`)."""
    return bool(os.environ.get(REPORT_ENV))


def next_file(title: str, frame: pd.DataFrame) -> tuple[str, str, str]:
    """The next CSV of this report: its file name (``NN-slug.csv``, numbered in the order shown), the link to it
    from the report's page, and its text.

    Examples
    --------
    >>> import os
    >>> os.environ[REPORT_ENV] = "profile_NPL"
    >>> _count["n"] = 0
    >>> next_file("Where people from Nepal live", pd.DataFrame({"value": [1]}))
    ('01-where-people-from-nepal-live.csv', 'profile_NPL.data/01-where-people-from-nepal-live.csv', 'value\\n1\\n')
    >>> del os.environ[REPORT_ENV]
    """
    _count["n"] += 1
    file = f"{_count['n']:02d}-{slug(title)}.csv"
    return file, f"{os.environ.get(REPORT_ENV, '')}.data/{file}", to_csv(frame)


#: The paragraph "Data: CSV" under a chart or table (class ``lb-data``: a printed brief leaves it out).
LINK = '<p class="lb-data" style="font-size: 0.85em; color: #555555; margin: 0.1em 0;">Data: <a href="{}">CSV</a></p>\n'


def _show(name: str, frame: pd.DataFrame) -> None:
    from IPython.display import display

    file, link, csv = next_file(name, frame)
    bundle = {"text/html": LINK.format(html.escape(link)), "text/plain": f"Data: CSV ({link})", MIME: csv}
    display(bundle, raw=True, metadata={MIME: {"file": file}})


def _show_pending(*_: Any) -> None:
    """After a cell (IPython's post_run_cell, which runs after the inline backend has shown the figures): a link
    and the CSV under each chart the cell drew."""
    while _pending:
        name, frame = _pending.pop(0)
        _show(name, frame)


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
