"""The house chart style and chart functions.

Every chart made here uses one colour-blind-safe palette (Okabe & Ito), labels its axes with units and
carries a source line under the plot area. Functions return the :class:`matplotlib.figure.Figure` so a
notebook shows it and a script can save it.

Modules: ``style`` (palette, settings, source line: a leaf), ``charts`` (the notebooks' charts),
``metaplots`` (forest and funnel plots of a meta-analysis), ``bubble`` (bubble plot of a meta-regression),
``maps`` (world choropleths from the Natural Earth boundaries snapshot; geopandas is imported only to draw one),
``tables`` (every table a reader sees: :func:`show_table` in notebooks, :func:`table` for explorers and briefs).

Examples
--------
>>> from leftbehind import plots
>>> plots.PALETTE[0]
'#0072B2'
"""

from __future__ import annotations

from .bubble import bubble_plot
from .charts import (
    count_bars,
    direction_bars,
    evidence_heatmap,
    grouped_bars,
    headline_bars,
    ranking_bars,
    revisions,
    timeseries,
)
from .maps import choropleth
from .metaplots import forest_plot, funnel_plot
from .style import OKABE_ITO, PALETTE, add_source, source_line, source_text, use_style
from .tables import Table, show_table, table

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "use_style",
    "add_source",
    "source_text",
    "headline_bars",
    "source_line",
    "timeseries",
    "revisions",
    "grouped_bars",
    "evidence_heatmap",
    "count_bars",
    "direction_bars",
    "forest_plot",
    "funnel_plot",
    "bubble_plot",
    "ranking_bars",
    "choropleth",
    "Table",
    "table",
    "show_table",
]
