"""The house style: one colour-blind-safe palette, matplotlib settings, and the source line under every chart.

A leaf of :mod:`leftbehind.plots`: it imports nothing of leftbehind's, so every chart module can use it.

Examples
--------
>>> from leftbehind import plots
>>> plots.PALETTE[0]
'#0072B2'
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from typing import Any

import matplotlib
from cycler import cycler
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

#: Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable with any colour vision.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "vermillion": "#D55E00",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: The house colour cycle: the Okabe-Ito colours, most distinguishable first.
PALETTE: tuple[str, ...] = tuple(OKABE_ITO.values())


_STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (8.0, 4.5),
    "legend.frameon": False,
    "svg.hashsalt": "leftbehind",
}


def use_style() -> None:
    """Apply the house style to matplotlib globally (idempotent).

    Examples
    --------
    >>> use_style()
    >>> import matplotlib
    >>> matplotlib.rcParams["axes.spines.top"]
    False
    """
    matplotlib.rcParams.update(_STYLE)  # type: ignore[arg-type]  # the stubs type rcParams keys as literals


def source_line(sources: Iterable[str]) -> str:
    """Join source descriptions into one ``Source: …`` line, without duplicates, in first-seen order.

    Examples
    --------
    >>> source_line(["IOM, Labour migration", "IOM, Labour migration", "ILO (2021)"])
    'Source: IOM, Labour migration; ILO (2021)'
    """
    seen: list[str] = []
    for s in [sources] if isinstance(sources, str) else sources:  # one source given as a string is one source
        if s and s not in seen:
            seen.append(s)
    return "Source: " + "; ".join(seen)


def add_source(fig: Figure, text: str, width: int = 110, under: Artist | None = None) -> None:
    """Write ``text`` as a small source line under the figure's plot area, or just under the artist ``under``
    (a map's legend and notes, drawn under its plot area).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> add_source(fig, "Source: IOM")
    >>> fig.texts[-1].get_text()
    'Source: IOM'
    >>> fig, ax = plt.subplots()
    >>> add_source(fig, "Source: ILO")
    >>> ax.texts[-1].get_text()
    'Source: ILO'
    >>> plt.close(fig)
    """
    wrapped = "\n".join(line for paragraph in text.split("\n") for line in textwrap.wrap(paragraph, width=width))
    if not fig.axes:
        fig.text(0.01, 0.01, wrapped, ha="left", va="bottom", fontsize=7.5, color="#555555")
        return
    # Anchor under the lowest axes, below its x-axis label, so a tight bounding box keeps it close.
    bottom = min(fig.axes, key=lambda a: a.get_position().y0)
    label = bottom.xaxis.label
    # just under the x-axis label, wherever rotated tick labels pushed it; without a label, just under the tick
    # labels, however many lines they take (a fixed distance under the axes ran into tick labels of two lines)
    anchor: Artist | Callable[[Any], Bbox] = label
    if under is not None:
        anchor = under
    elif not label.get_text():
        anchor = _under_ticks(bottom)
    bottom.annotate(
        wrapped,
        xy=(0.01, 0.0),
        xycoords=("figure fraction", anchor),
        xytext=(0, -6),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7.5,
        color="#555555",
        annotation_clip=False,
    )


def _under_ticks(ax: Axes) -> Callable[[Any], Bbox]:
    """The box of the x axis with its tick labels at draw time (the axes' own box when the axis is hidden)."""

    def box(renderer: Any) -> Bbox:
        found = ax.xaxis.get_tightbbox(renderer) if ax.xaxis.get_visible() else None
        return found if found is not None else ax.get_window_extent(renderer)

    return box


def source_text(fig: Figure) -> str | None:
    """The source line written on ``fig`` by :func:`add_source` (line breaks removed), or None.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> add_source(fig, "Source: UN DESA (2020)")
    >>> source_text(fig)
    'Source: UN DESA (2020)'
    >>> plt.close(fig)
    """
    texts = list(fig.texts) + [t for ax in fig.axes for t in ax.texts]
    found = [t.get_text().replace("\n", " ") for t in texts if t.get_text().startswith("Source")]
    return found[-1] if found else None
