"""Forest and contour-enhanced funnel plots for :mod:`leftbehind.meta` results (exposed as ``leftbehind.plots.forest_plot`` / ``funnel_plot``).

The colours are from the Okabe-Ito palette, which is safe for colour-blind
readers. Both functions return a matplotlib ``Figure`` and never call
``plt.show()``. Effects are passed on the analysis scale (log OR/RR, SMD,
MD). Ratio measures are drawn on a log x-axis, with tick labels as ratios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from ..errors import MetaAnalysisError
from ..meta.pooling import PoolResult
from ..meta.validation import RATIO_MEASURES, _check_measure, _validate
from .datafiles import attach
from .style import OKABE_ITO, add_source

__all__ = ["forest_plot", "funnel_plot", "MEASURE_LABELS"]

MEASURE_LABELS: dict[str, str] = {
    "OR": "Odds ratio (log scale)",
    "RR": "Risk ratio (log scale)",
    "SMD": "Standardised mean difference",
    "MD": "Mean difference",
}

_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _fmt_ratio(x: float, _pos: Any = None) -> str:
    return f"{x:g}"


def _ratio_axis(ax: Axes, lo: float, hi: float) -> None:
    """Log x-axis from ``lo`` to ``hi`` (ratios), with plain ratio labels."""
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in _RATIO_TICKS if lo <= t <= hi]
    if len(ticks) < 3:
        ticks = list(np.round(np.geomspace(lo, hi, 5), 2))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(_fmt_ratio))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _add_source(fig: Figure, source: str | None) -> None:
    if source:
        add_source(fig, source if source.startswith("Source") else f"Source: {source}")


def _new_ax(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    else:
        root = ax.get_figure(root=True)
        assert isinstance(root, Figure)
        fig = root
    return fig, ax


def forest_plot(
    result: PoolResult,
    yi: Sequence[float] | np.ndarray | None = None,
    vi: Sequence[float] | np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    measure: str | None = None,
    ax: Axes | None = None,
    source: str | None = None,
) -> Figure:
    """Draw a forest plot of the studies and the pooled result.

    Each study is a square marker whose area is proportional to its weight
    in ``result``, with a whisker for its Wald CI at ``result.level``. The
    weight (%) and the back-transformed estimate [CI] are printed in text
    columns on the right. Below the studies are the pooled diamond (CI
    width) and, for random-effects models, the prediction-interval bar.
    A vertical line marks no effect (1 for OR/RR, 0 for SMD/MD).

    Parameters
    ----------
    result : PoolResult
        Output of :func:`leftbehind.meta.pool`. Alone, it is enough: the fit keeps its ``yi``, ``vi``,
        labels and measure (``pool(..., labels=..., measure=...)``).
    yi, vi : sequence of float, optional
        Study effects on the analysis scale (log OR/RR, SMD, MD) and their
        sampling variances; default: the fit's.
    labels : sequence of str, optional
        One row label per study, built by the caller (e.g. ``"Aronson 1948
        (USA)"``); default: the fit's (``Study 1`` ... when it has none).
    measure : {"OR", "RR", "SMD", "MD"}, optional
        Effect measure, default the fit's (required when the fit has none). OR and RR are drawn as ratios
        on a log axis.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. If omitted, a new figure is created, sized to k.
    source : str, optional
        If given, a "Source: ..." line is printed under the chart.

    Returns
    -------
    matplotlib.figure.Figure
        The figure. The study markers are a single ``PathCollection`` with
        gid ``"study_markers"``, the diamond is a ``Polygon`` with gid
        ``"pooled_diamond"``, and the prediction-interval bar is a line with
        gid ``"prediction_interval"``.

    Raises
    ------
    MetaAnalysisError
        If the inputs are invalid, if ``labels`` or ``result.k`` does not
        match the number of studies, or if ``measure`` is unknown.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from leftbehind.meta import pool
    >>> y, v = [-0.5, -0.2, 0.1], [0.04, 0.02, 0.05]
    >>> fig = forest_plot(pool(y, v, "DL"), y, v, ["A (UK)", "B (FR)", "C (DE)"], "RR")
    >>> marks = [c for c in fig.axes[0].collections if c.get_gid() == "study_markers"]
    >>> len(marks[0].get_offsets())
    3
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")  # doctests share one process: close what they open
    >>> fig = forest_plot(pool(y, v, "DL", labels=["A", "B", "C"], measure="RR"))  # the fit alone
    """
    from scipy import stats

    if not isinstance(result, PoolResult):
        raise MetaAnalysisError(f"result must be a PoolResult, got {type(result).__name__}")
    if yi is None and vi is None:
        if not result.yi:
            raise MetaAnalysisError("this fit keeps no inputs (yi, vi): pass them, or make the fit with meta.pool")
        yi, vi = result.yi, result.vi
    if yi is None or vi is None:
        raise MetaAnalysisError("give both yi and vi, or neither (the fit's are used)")
    if labels is None:
        labels = result.study_labels() if result.labels else [f"Study {i + 1}" for i in range(len(yi))]
    if measure is None and result.measure is None:
        raise MetaAnalysisError("measure is needed: pass measure=, or make the fit with meta.pool(..., measure=)")
    if measure is not None and result.measure is not None and _check_measure(measure) != result.measure:
        raise MetaAnalysisError(
            f'measure "{measure}" is not the fit\'s: it was pooled as {result.measure}; pass measure="{result.measure}"'
            " or leave it out"
        )
    m = _check_measure(measure if measure is not None else result.measure or "")
    y, v, _, _, _ = _validate(yi, vi, "FE", "normal", result.level)
    k = y.shape[0]
    labs = [str(s) for s in labels]
    if len(labs) != k:
        raise MetaAnalysisError(f"labels must have one entry per study: got {len(labs)} labels for k = {k}")
    if result.k != k:
        raise MetaAnalysisError(f"result was pooled from k = {result.k} studies but yi has {k}")
    if result.yi and not (
        np.allclose(y, result.yi, rtol=1e-9, atol=0) and np.allclose(v, result.vi, rtol=1e-9, atol=0)
    ):
        raise MetaAnalysisError(
            "yi and vi are not the studies this fit pooled (its weights and diamond would not be theirs): "
            "leave them out to draw the fit's own, or pool these"
        )

    ratio = m in RATIO_MEASURES
    tf = np.exp if ratio else (lambda a: a)
    z = float(stats.norm.isf((1.0 - result.level) / 2.0))
    se = np.sqrt(v)
    lo, hi = y - z * se, y + z * se
    w = np.asarray(result.weights, dtype=float)
    has_pi = math.isfinite(result.pi_low) and math.isfinite(result.pi_high)

    fig, ax = _new_ax(ax, (8.0, 1.4 + 0.32 * (k + 3)))
    ypos = np.arange(k, 0, -1, dtype=float)  # first study on top
    y_pool = -0.5
    y_pi = -1.5

    col_study = OKABE_ITO["blue"]
    col_pool = OKABE_ITO["vermillion"]
    col_pi = OKABE_ITO["orange"]

    ax.hlines(ypos, tf(lo), tf(hi), color=OKABE_ITO["black"], linewidth=1.0, gid="study_ci")
    sizes = 20.0 + 280.0 * w / max(w.max(), 1e-12)
    ax.scatter(
        tf(y),
        ypos,
        s=sizes,
        marker="s",
        color=col_study,
        edgecolor=OKABE_ITO["black"],
        linewidth=0.5,
        zorder=3,
        gid="study_markers",
    )

    est, cl, ch = result.estimate, result.ci_low, result.ci_high
    h = 0.3
    diamond = Polygon(
        [(tf(cl), y_pool), (tf(est), y_pool + h), (tf(ch), y_pool), (tf(est), y_pool - h)],
        closed=True,
        facecolor=col_pool,
        edgecolor=OKABE_ITO["black"],
        linewidth=0.6,
        zorder=3,
        gid="pooled_diamond",
    )
    ax.add_patch(diamond)
    if has_pi:
        ax.plot(
            [tf(result.pi_low), tf(result.pi_high)],
            [y_pi, y_pi],
            color=col_pi,
            linewidth=3.0,
            solid_capstyle="butt",
            gid="prediction_interval",
        )

    null = 1.0 if ratio else 0.0
    ax.axvline(null, color=OKABE_ITO["black"], linewidth=0.8, linestyle="-", zorder=1, gid="null_line")
    ax.axvline(tf(est), color=col_pool, linewidth=0.8, linestyle=":", zorder=1)

    # x-range covering everything drawn
    pts = np.concatenate([lo, hi, [cl, ch, null if not ratio else 0.0]])
    if has_pi:
        pts = np.concatenate([pts, [result.pi_low, result.pi_high]])
    xmin, xmax = float(pts.min()), float(pts.max())
    pad = 0.05 * (xmax - xmin if xmax > xmin else 1.0)
    if ratio:
        _ratio_axis(ax, float(np.exp(xmin - pad)), float(np.exp(xmax + pad)))
    else:
        ax.set_xlim(xmin - pad, xmax + pad)

    model = "Fixed-effect model" if result.method == "FE" else f"Random-effects model ({result.method})"
    if result.ci_method == "hksj":
        model += ", HKSJ"
    ylabels = labs + [model] + (["Prediction interval"] if has_pi else [])
    yticks = list(ypos) + [y_pool] + ([y_pi] if has_pi else [])
    ax.set_yticks(yticks)
    ax.set_yticklabels(ylabels, fontsize=8.5)
    ax.set_ylim((y_pi if has_pi else y_pool) - 0.8, k + 0.8)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(MEASURE_LABELS[m])

    # text columns (axes-fraction x, data y)
    trans = ax.get_yaxis_transform()
    pct = int(round(100 * result.level))
    ax.text(1.03, k + 0.6, "Weight", transform=trans, fontsize=8.5, fontweight="bold", ha="left", va="bottom")
    ax.text(
        1.24, k + 0.6, f"Estimate [{pct}% CI]", transform=trans, fontsize=8.5, fontweight="bold", ha="left", va="bottom"
    )
    for yy, wi, e, a, b in zip(ypos, w, y, lo, hi):
        ax.text(1.03, yy, f"{wi:.1f}%", transform=trans, fontsize=8.5, va="center", gid="weight_text")
        ax.text(1.24, yy, f"{tf(e):.2f} [{tf(a):.2f}, {tf(b):.2f}]", transform=trans, fontsize=8.5, va="center")
    ax.text(1.03, y_pool, "100%", transform=trans, fontsize=8.5, va="center", fontweight="bold")
    ax.text(
        1.24,
        y_pool,
        f"{tf(est):.2f} [{tf(cl):.2f}, {tf(ch):.2f}]",
        transform=trans,
        fontsize=8.5,
        va="center",
        fontweight="bold",
    )
    if has_pi:
        ax.text(
            1.24,
            y_pi,
            f"[{tf(result.pi_low):.2f}, {tf(result.pi_high):.2f}]",
            transform=trans,
            fontsize=8.5,
            va="center",
        )
    if result.method != "FE":
        het = (
            f"Heterogeneity: tau\u00b2 = {result.tau2:.3f}, I\u00b2 = {result.I2:.1f}%, "
            f"Q({result.Q_df}) = {result.Q:.2f}, p = {result.Q_pval:.3g}"
        )
    else:
        het = f"Heterogeneity: I\u00b2 = {result.I2:.1f}%, Q({result.Q_df}) = {result.Q:.2f}"
    ax.set_title(het, fontsize=8, loc="left", color=OKABE_ITO["black"])

    fig.subplots_adjust(left=0.30, right=0.60, bottom=0.16 if source else 0.12, top=0.92)
    _add_source(fig, source)
    rows = pd.DataFrame(
        {
            "study": labs,
            "measure": m,
            "estimate": tf(y),
            "ci_low": tf(lo),
            "ci_high": tf(hi),
            "weight_pct": 100 * w / w.sum(),
        }
    )
    pooled = {"study": "pooled", "measure": m, "estimate": tf(est), "ci_low": tf(cl), "ci_high": tf(ch)}
    alt = f"Forest plot: each study's {m} with its {pct}% confidence interval and weight, and the pooled {m}"
    return attach(fig, pd.concat([rows, pd.DataFrame([pooled])], ignore_index=True), f"forest plot {m}", alt)


def funnel_plot(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    measure: str,
    ax: Axes | None = None,
    source: str | None = None,
) -> Figure:
    """Draw a contour-enhanced funnel plot (Peters et al., 2008).

    Studies are plotted as effect (x) against standard error (y, with the
    axis inverted so that precise studies are at the top). Shaded regions
    around the null effect (0, or 1 for ratios) show where a study's
    two-sided Wald p-value would be in 0.05-0.10, 0.01-0.05 or < 0.01.
    A dashed line marks the fixed-effect pooled estimate.

    Parameters
    ----------
    yi, vi : sequence of float
        Effects on the analysis scale and their sampling variances.
    measure : {"OR", "RR", "SMD", "MD"}
        Effect measure. For OR and RR the x-axis is logarithmic, with ratio
        tick labels. The SE axis is in log-ratio units.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on, otherwise a new figure is created.
    source : str, optional
        If given, a "Source: ..." line is printed under the chart.

    Returns
    -------
    matplotlib.figure.Figure
        The study points are a ``PathCollection`` with gid ``"study_points"``.

    Raises
    ------
    MetaAnalysisError
        If the inputs are invalid (see :func:`leftbehind.meta.pool`) or
        ``measure`` is unknown.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = funnel_plot([-0.5, -0.2, 0.1], [0.04, 0.02, 0.05], "OR")
    >>> bool(fig.axes[0].yaxis_inverted())
    True
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from scipy import stats

    m = _check_measure(measure)
    y, v, _, _, _ = _validate(yi, vi, "FE", "normal", 0.95)
    ratio = m in RATIO_MEASURES
    tf = np.exp if ratio else (lambda a: a)
    se = np.sqrt(v)
    fig, ax = _new_ax(ax, (7.5, 4.8))

    se_max = float(se.max()) * 1.08
    s = np.linspace(0.0, se_max, 200)
    z10, z05, z01 = (float(stats.norm.isf(a / 2)) for a in (0.10, 0.05, 0.01))
    reach = max(float(np.abs(y).max()), z01 * se_max) * 1.08
    col = {
        "p < 0.01": "#BFBFBF",
        "0.01 \u2264 p < 0.05": "#D9D9D9",
        "0.05 \u2264 p < 0.10": "#F0F0F0",
    }
    # outer (p < 0.01): beyond z01*s on each side
    for sign in (-1, 1):
        ax.fill_betweenx(
            s, tf(sign * z01 * s), tf(sign * np.full_like(s, reach)), color=col["p < 0.01"], linewidth=0, zorder=0
        )
        ax.fill_betweenx(
            s, tf(sign * z05 * s), tf(sign * z01 * s), color=col["0.01 \u2264 p < 0.05"], linewidth=0, zorder=0
        )
        ax.fill_betweenx(
            s, tf(sign * z10 * s), tf(sign * z05 * s), color=col["0.05 \u2264 p < 0.10"], linewidth=0, zorder=0
        )
    null = 1.0 if ratio else 0.0
    ax.axvline(null, color=OKABE_ITO["black"], linewidth=0.8, zorder=1)
    w = 1.0 / v
    fe = float(np.sum(w * y) / np.sum(w))
    ax.axvline(
        tf(fe), color=OKABE_ITO["vermillion"], linewidth=1.0, linestyle="--", zorder=1, label="Fixed-effect estimate"
    )
    ax.scatter(
        tf(y),
        se,
        s=28,
        color=OKABE_ITO["blue"],
        edgecolor=OKABE_ITO["black"],
        linewidth=0.5,
        zorder=3,
        gid="study_points",
        label="Studies",
    )

    ax.set_ylim(se_max, 0.0)  # inverted: SE 0 at the top
    if ratio:
        _ratio_axis(ax, float(np.exp(-reach)), float(np.exp(reach)))
    else:
        ax.set_xlim(-reach, reach)
    ax.set_ylabel("Standard error" + (" (log scale units)" if ratio else ""))
    ax.set_xlabel(MEASURE_LABELS[m])
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(facecolor=c, edgecolor="none", label=lab) for lab, c in col.items()]
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(right=0.70, bottom=0.17 if source else 0.12)
    _add_source(fig, source)
    frame = pd.DataFrame(
        {"measure": m, "effect_analysis_scale": np.asarray(yi, dtype=float), "se": np.sqrt(np.asarray(vi, dtype=float))}
    )
    alt = f"Funnel plot: each study's {m} against its standard error, with the fixed-effect {m}"
    return attach(fig, frame, f"funnel plot {m}", alt)
