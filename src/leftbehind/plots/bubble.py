"""Bubble plot of a meta-regression on one continuous moderator (exposed as ``leftbehind.plots.bubble_plot``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from leftbehind import meta
>>> reg = meta.regress(([0.1, 0.3, 0.5, 0.9], [0.02, 0.03, 0.02, 0.04]), {"dose": [1, 2, 3, 4]}, method="FE")
>>> fig = bubble_plot(reg, "dose")
>>> [line.get_gid() for line in fig.axes[0].lines]
['regression_line', 'no_effect']
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import MetaAnalysisError
from ..meta.regression import RegressionResult
from .datafiles import attach
from .style import OKABE_ITO, add_source

__all__ = ["bubble_plot"]


def bubble_plot(reg: RegressionResult, moderator: str, source: str | None = None) -> Figure:
    """Effects against one continuous moderator, each study a circle whose area is proportional to its weight
    in the model (``1/(vi + tau²)``), with the fitted line (other moderators held at their means; dummies at
    the reference level's share) on the analysis scale.

    Parameters
    ----------
    reg : RegressionResult
        Output of :func:`leftbehind.meta.regress`.
    moderator : str
        A continuous moderator of ``reg``.
    source : str, optional
        A "Source: ..." line under the chart.

    Returns
    -------
    matplotlib.figure.Figure
        Study circles: a ``PathCollection`` with gid ``"studies"``; the fitted line: gid ``"regression_line"``.

    Raises
    ------
    MetaAnalysisError
        If ``moderator`` is not a continuous moderator of ``reg``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from leftbehind import meta
    >>> reg = meta.regress(([0.1, 0.3, 0.5], [0.02, 0.03, 0.02]), {"age": [9.0, 11.0, 14.0]}, method="FE")
    >>> len(bubble_plot(reg, "age").axes[0].collections[0].get_offsets())
    3
    """
    if not isinstance(reg, RegressionResult):
        raise MetaAnalysisError(f"reg must be a RegressionResult, got {type(reg).__name__}")
    if moderator not in reg.coef_names[1:]:
        cont = [n for n in reg.coef_names[1:] if n in reg.moderators.columns]
        raise MetaAnalysisError(
            f"moderator {moderator!r} is not a continuous moderator of this model; choose one of {cont}"
        )
    x = reg.moderators[moderator].to_numpy(dtype=float)
    y, v = np.asarray(reg.yi), np.asarray(reg.vi)
    w = 1.0 / (v + reg.tau2)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.scatter(x, y, s=600 * w / w.max(), alpha=0.6, color=OKABE_ITO["blue"], edgecolor="black", gid="studies")
    grid = np.linspace(x.min(), x.max(), 50)
    others = {n: c for n, c in zip(reg.coef_names, reg.coef) if n not in ("intrcpt", moderator)}
    base = reg.coef[0] + sum(c * _mean_of(reg, n) for n, c in others.items())
    slope = reg.coef[reg.coef_names.index(moderator)]
    ax.plot(grid, base + slope * grid, color=OKABE_ITO["vermillion"], gid="regression_line")
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":", gid="no_effect")
    ax.set_xlabel(moderator)
    ax.set_ylabel(f"Effect ({reg.measure or 'analysis scale'}{', log scale' if reg.measure in ('OR', 'RR') else ''})")
    if source:
        add_source(fig, source if source.startswith("Source") else f"Source: {source}")
    frame = pd.DataFrame({moderator: x, "effect": y, "variance": v, "weight_pct": 100 * w / w.sum()})
    alt = f"Bubble plot: each study's effect against {moderator}, sized by its weight, with the meta-regression line"
    return attach(fig, frame, f"meta-regression on {moderator}", alt)


def _mean_of(reg: RegressionResult, name: str) -> float:
    """The mean of a moderator column, or of a dummy ``column[level]`` (the level's share)."""
    if name in reg.moderators.columns:
        return float(reg.moderators[name].astype(float).mean())
    col, level = name.split("[", 1)
    return float((reg.moderators[col].astype(str) == level[:-1]).mean())
