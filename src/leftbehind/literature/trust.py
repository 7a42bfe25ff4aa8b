""" "How far to trust this": one plain sentence per item, generated from the numbers of a pooled analysis
(issue 15 item 5). Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> from leftbehind import literature, meta
>>> s = literature.analysis_set("depression")
>>> fit = meta.pool(s["yi"], s["vi"], labels=s["label"], measure="SMD")
>>> print(trust_panel(fit, s, "depression").splitlines()[0])
- **Size.** 2 studies, 2,103 children in the compared groups (sample sizes recorded for 2 of 2 studies).
"""

from __future__ import annotations

import math

import pandas as pd

from .._markup import escape_markdown
from ..errors import ParameterError
from ..meta import PoolResult, egger_test, format_p
from .analysis import Selection, reselect, selection
from .published import compare_with_reviews, review_estimates

#: Fewer studies than this and a small-study (Egger) test cannot tell asymmetry from chance (Cochrane Handbook
#: 10.4.3.1; Sterne et al. 2011).
MIN_K_SMALL_STUDY = 10


def _children(studies: pd.DataFrame) -> tuple[int, int]:
    """Total children in the compared groups, and the number of rows whose sample sizes are recorded."""
    cols = [("total_lb", "total_comp"), ("n_lb", "n_comp")]
    total, known = 0, 0
    for _, row in studies.iterrows():
        for a, b in cols:
            if a in row and b in row and not pd.isna(row[a]) and not pd.isna(row[b]):
                total += int(row[a]) + int(row[b])
                known += 1
                break
    return total, known


def _share(flags: pd.Series, k: int) -> str:
    n = int(flags.fillna(False).astype(bool).sum())
    return f"{n} of {k} ({100 * n / k:.0f}%)"


def _scale_text(x: float, ratio: bool) -> str:
    return f"{math.exp(x):.2f}" if ratio else f"{x:.2f}"


def trust_panel(result: PoolResult, studies: pd.DataFrame, outcome: str) -> str:
    """A Markdown list, one plain sentence per item: size (k, children), adjustment for confounders, what was
    read only in abstracts, heterogeneity (I² and the prediction interval), small-study effects (Egger's test
    only where k >= 10, else why not) and agreement with published reviews (overlapping CIs, same direction).

    Parameters
    ----------
    result : PoolResult
        The fit, made with ``measure=`` ("SMD" or "OR") so that effects are shown on the reporting scale.
    studies : pandas.DataFrame
        The rows pooled: :func:`analysis_set` (columns ``adjusted``, ``abstract_only`` and sample sizes).
    outcome : str
        The outcome, for the comparison with reviews.

    Returns
    -------
    str
        Markdown; data strings are escaped.

    Raises
    ------
    leftbehind.errors.MetaAnalysisError
        If the fit has no measure, or ``studies`` does not have one row per study of the fit.

    Examples
    --------
    >>> from leftbehind import literature, meta
    >>> s = literature.analysis_set("depression")
    >>> text = trust_panel(meta.pool(s["yi"], s["vi"], measure="SMD"), s, "depression")
    >>> "not run" in text.splitlines()[4]
    True
    """
    from ..errors import MetaAnalysisError

    if result.measure is None or len(studies) != result.k:
        raise MetaAnalysisError(
            f"trust_panel needs a fit made with measure= and the {result.k} pooled rows; got measure "
            f"{result.measure!r} and {len(studies)} rows"
        )
    k, ratio, pct = result.k, result.measure in ("OR", "RR"), f"{100 * result.level:g}%"
    children, known = _children(studies)
    lines = [
        f"**Size.** {k} studies, {children:,} children in the compared groups (sample sizes recorded for "
        f"{known} of {k} studies).",
        f"**Confounding.** {_share(studies['adjusted'] == 'yes', k)} pooled effects are adjusted for confounders; the "
        "others are crude comparisons.",
    ]
    if "abstract_only" in studies:
        lines.append(
            f"**Reading.** {_share(studies['abstract_only'], k)} pooled effects were read only in an abstract, "
            "not in the full text."
        )
    else:
        lines.append("**Reading.** Whether effects were read only in abstracts is not recorded for these rows.")
    het = f"**Heterogeneity.** I² = {result.I2:.0f}%"
    if math.isfinite(result.pi_low):
        het += (
            f"; the {pct} prediction interval, where the effect of a new comparable study may fall, runs from "
            f"{_scale_text(result.pi_low, ratio)} to {_scale_text(result.pi_high, ratio)} ({result.measure})."
        )
    else:
        het += " (fixed-effect model: no prediction interval)."
    lines.append(het)
    if k >= MIN_K_SMALL_STUDY:
        e = egger_test(result)
        lines.append(
            f"**Small-study effects.** Egger's test: intercept {e.intercept:.2f} (SE {e.intercept_se:.2f}), "
            f"{format_p(e.pval)}, {e.df} df."
        )
    else:
        lines.append(
            f"**Small-study effects.** Egger's test not run: k = {k} is below {MIN_K_SMALL_STUDY}, too few "
            "to tell funnel asymmetry from chance."
        )
    construct = str(studies["construct"].iloc[0]) if "construct" in studies and len(studies) else None
    lines.append(_agreement(result, outcome, construct))
    return "\n".join(f"- {line}" for line in lines)


def _agreement(result: PoolResult, outcome: str, construct: str | None) -> str:
    f = result.to_frame().iloc[0]
    est, lo, hi = (float(f[c]) for c in ("estimate", "ci_low", "ci_high"))
    table = compare_with_reviews(est, lo, hi, outcome, str(result.measure), construct=construct)
    # a review of another construct (e.g. dental caries beside self-rated health) is not compared
    n_other = len(review_estimates(outcome)) - len(table)
    other = (
        f" {n_other} published estimate{'s' if n_other > 1 else ''} of other constructs not compared."
        if n_other
        else ""
    )
    if table.empty:
        what = escape_markdown(outcome.replace("_", " "))
        return f"**Published reviews.** No published pooled estimate of the same construct for {what}.{other}"
    v = table["verdict"]
    same_scale = v.str.startswith(("agrees", "differs"))
    agree, differ = int(v.str.startswith("agrees").sum()), int(v.str.startswith("differs").sum())
    direction = v[~same_scale & v.str.contains("direction only")]
    same_dir = int(direction.str.startswith("same direction").sum())
    n = int(same_scale.sum())
    text = (
        f"**Published reviews.** Of {n} published pooled estimates on our scale, {agree} agree "
        f"(intervals overlap, same direction) and {differ} differ"
        if n
        else "**Published reviews.** No published pooled estimate is on our scale"
    )
    if len(direction):
        text += f"; of {len(direction)} on another scale, {same_dir} point the same way"
    return text + "." + other


#: The sensitivity analyses a reader expects, as options of :func:`analysis_set`.
SENSITIVITY: dict[str, dict[str, bool]] = {
    "all comparable rows": {},
    "adjusted estimates only": {"adjusted_only": True},
    "without effects derived by us": {"exclude_derived": True},
    "without secondary sources": {"exclude_secondary": True},
}


def sensitivity_table(
    outcome: str, scale: str = "SMD", method: str = "REML", ci: str = "normal", *, main: Selection | None = None
) -> pd.DataFrame:
    """The pooled estimate of ``outcome`` under each sensitivity analysis of :data:`SENSITIVITY`, for the
    construct that the main analysis pools, on the reporting scale (ratios for OR).

    Parameters
    ----------
    outcome : str
        An outcome id.
    scale : {"SMD", "OR"}
        Scale of the pooled effect.
    method, ci : str
        Passed to :func:`leftbehind.meta.pool`.
    main : Selection, optional
        The main analysis, :func:`~leftbehind.literature.selection` of ``outcome`` and ``scale`` without
        sensitivity options, when the caller has it already (it is then not computed again).

    Returns
    -------
    pandas.DataFrame
        One row per analysis: ``analysis``, ``k``, ``estimate``, ``ci_low``, ``ci_high``, ``I2``, ``note``
        (why an analysis is not pooled: fewer than 2 studies).

    Raises
    ------
    leftbehind.errors.LeftbehindError
        If an argument is not valid, or ``main`` is not the main selection of ``outcome`` on ``scale``.

    Examples
    --------
    >>> t = sensitivity_table("depression")
    >>> t["analysis"].tolist()[:2], int(t["k"].iloc[0])
    (['all comparable rows', 'adjusted estimates only'], 2)
    """
    from ..meta import pool

    if main is None:
        main = selection(outcome, scale)
    elif (main.outcome, main.scale) != (outcome, scale) or any(main.options.values()):
        raise ParameterError(
            f"sensitivity_table: main must be the selection of outcome {outcome!r} on scale {scale!r} without "
            f"sensitivity options; got outcome {main.outcome!r}, scale {main.scale!r}, options {main.options}"
        )
    rows = []
    for name, options in SENSITIVITY.items():
        s = reselect(main, **options).pooled if options else main.pooled
        row: dict[str, object] = {"analysis": name, "k": len(s)}
        if len(s) >= 2:
            f = pool(s["yi"], s["vi"], method=method, ci=ci, measure=scale).to_frame().iloc[0]
            row.update({c: float(f[c]) for c in ("estimate", "ci_low", "ci_high", "I2")}, note="")
        else:
            row.update({c: float("nan") for c in ("estimate", "ci_low", "ci_high", "I2")})
            row["note"] = f"not pooled: {len(s)} {'study' if len(s) == 1 else 'studies'}"
        rows.append(row)
    return pd.DataFrame(rows)
