"""Numbers for reading: fixed decimals, p-values as ``p = 0.031`` / ``p < 0.001``, the text summary and HTML
table of a pooled fit (in the spirit of metafor's ``print.rma``), and results tables formatted for reports.
A leaf of :mod:`leftbehind.meta`: it works on any object with the fields of a
:class:`~leftbehind.meta.PoolResult` and imports no other module of the package.

Examples
--------
>>> format_p(0.0312), format_p(0.00002), format_p(float("nan"))
('p = 0.031', 'p < 0.001', 'p = n/a')
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError, is_number

#: Analysis-scale names of the measures, for headings.
SCALE_NAMES: dict[str, str] = {"OR": "log odds ratio", "RR": "log risk ratio", "SMD": "SMD", "MD": "mean difference"}
_RATIOS = ("OR", "RR")
#: Columns that hold effects (exponentiated for ratio measures on the reporting scale).
EFFECT_COLUMNS: tuple[str, ...] = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
_DECIMALS: dict[str, int] = {
    "estimate": 3, "se": 3, "se_log": 3, "ci_low": 3, "ci_high": 3, "pi_low": 3, "pi_high": 3,
    "z_or_t": 2, "tau2": 4, "tau": 4, "I2": 1, "H2": 2, "Q": 2,
}  # fmt: skip


def format_p(p: float) -> str:
    """A p-value for reading: ``p = 0.031``, ``p < 0.001``, or ``p = n/a`` when it is not defined.

    Parameters
    ----------
    p : float
        A p-value.

    Returns
    -------
    str
        Three decimals, or ``p < 0.001``.

    Raises
    ------
    MetaAnalysisError
        If ``p`` is not a number, or a number outside [0, 1].

    Examples
    --------
    >>> format_p(0.5), format_p(0.0009999), format_p(float("nan"))
    ('p = 0.500', 'p < 0.001', 'p = n/a')
    """
    if p is None:
        return "p = n/a"
    if not is_number(p):
        raise MetaAnalysisError(f"p must be a number, got {p!r} ({type(p).__name__})")
    if not math.isfinite(float(p)):
        return "p = n/a"
    if not 0 <= p <= 1:
        raise MetaAnalysisError(f"p = {p!r} is not a p-value (between 0 and 1)")
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt(x: Any, decimals: int = 3) -> str:
    """A number with fixed decimals (never scientific notation); ``n/a`` for NaN or None.

    Examples
    --------
    >>> fmt(6.852754e-02), fmt(float("nan")), fmt(2, 1)
    ('0.069', 'n/a', '2.0')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and decimals == 0:
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "n/a" if not math.isfinite(v) else f"{v:.{decimals}f}"


def _model_line(r: Any) -> str:
    kind = "Fixed (equal) effect model" if r.method == "FE" else f"Random-effects model (tau² estimator: {r.method})"
    test = "t (HKSJ, df = k - 1)" if r.ci_method == "hksj" else "z (normal)"
    return f"{kind}; k = {r.k}; test: {test}"


def few_studies_note(r: Any) -> str:
    """Why a Hartung-Knapp-Sidik-Jonkman interval from very few studies is wide: its t quantile with k - 1
    degrees of freedom (12.71 for 95 % at k = 2, against 1.96 for the normal); ``""`` for other fits or k > 3.

    Examples
    --------
    >>> from leftbehind.meta import pool
    >>> few_studies_note(pool([0.2, 0.4], [0.01, 0.02], method="REML", ci="hksj"))
    'with k = 2 the HKSJ interval uses a t distribution with 1 degree of freedom (t = 12.71 for 95%, against 1.96 for a normal interval), so it is very wide: read it as "too few studies to tell", not as evidence of no effect.'
    """
    if r.ci_method != "hksj" or r.k > 3:
        return ""
    from scipy import stats

    df = r.k - 1
    level = f"{100 * r.level:g}%"
    t, z = stats.t.ppf(0.5 + r.level / 2, df), stats.norm.ppf(0.5 + r.level / 2)
    return (
        f"with k = {r.k} the HKSJ interval uses a t distribution with {df} degree{'s' if df != 1 else ''} of freedom "
        f"(t = {t:.2f} for {level}, against {z:.2f} for a normal interval), so it is very wide: read it as "
        '"too few studies to tell", not as evidence of no effect.'
    )


def summary_text(r: Any) -> str:
    """The text of :meth:`PoolResult.summary` (see there)."""
    pct = f"{100 * r.level:g}%"
    stat = "t" if r.ci_method == "hksj" else "z"
    measure = r.measure or "effect"
    scale = SCALE_NAMES.get(r.measure or "", "analysis scale")
    lines = [
        _model_line(r),
        "",
        "Heterogeneity",
        f"  tau² = {fmt(r.tau2, 4)}, tau = {fmt(r.tau, 4)}, I² = {fmt(r.I2, 1)}%, H² = {fmt(r.H2, 2)}",
        f"  Q(df = {r.Q_df}) = {fmt(r.Q, 2)}, {format_p(r.Q_pval)}",
        "",
        f"Pooled effect ({scale})",
        f"  estimate = {fmt(r.estimate, 4)}, SE = {fmt(r.se, 4)}, {stat} = {fmt(r.z_or_t, 2)}, {format_p(r.pval)}",
        f"  {pct} CI [{fmt(r.ci_low, 4)}, {fmt(r.ci_high, 4)}]",
    ]
    if r.method != "FE":
        lines.append(f"  {pct} prediction interval [{fmt(r.pi_low, 4)}, {fmt(r.pi_high, 4)}]")
    note = few_studies_note(r)
    if note:
        lines.append(f"  Note: {note}")
    if r.measure in _RATIOS:
        e = {c: math.exp(getattr(r, c)) if math.isfinite(getattr(r, c)) else float("nan") for c in EFFECT_COLUMNS}
        lines += ["", f"Pooled effect (ratio scale: {measure})"]
        lines.append(f"  {measure} = {fmt(e['estimate'], 3)}, {pct} CI [{fmt(e['ci_low'], 3)}, {fmt(e['ci_high'], 3)}]")
        if r.method != "FE":
            lines.append(f"  {pct} prediction interval [{fmt(e['pi_low'], 3)}, {fmt(e['pi_high'], 3)}]")
    return "\n".join(lines)


def for_reading(table: pd.DataFrame, decimals: dict[str, int] | None = None) -> pd.DataFrame:
    """A copy of a results table as text for reading: fixed decimals per column, p-values as ``p = 0.031`` /
    ``p < 0.001``, ``n/a`` for missing numbers. Other columns are kept as they are.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`leave_one_out`, :func:`cumulative`, :func:`subgroups` or ``PoolResult.to_frame``.
    decimals : dict, optional
        Column -> decimals, overriding the defaults (3 for effects and SEs, 4 for tau², 1 for I², 2 for Q).

    Returns
    -------
    pandas.DataFrame
        A new table of strings in the numeric columns; ``attrs`` are kept.

    Raises
    ------
    AttributeError
        If ``table`` is not a DataFrame.

    Examples
    --------
    >>> t = pd.DataFrame({"omitted": ["A"], "estimate": [6.852754e-02], "pval": [0.0002], "k": [2]})
    >>> [str(x) for x in for_reading(t).iloc[0]]
    ['A', '0.069', 'p < 0.001', '2']
    """
    dec = {**_DECIMALS, **(decimals or {})}
    out = table.copy()
    out.attrs = dict(table.attrs)
    for col in out.columns:
        if col in ("pval", "Q_pval", "p") or str(col).endswith("_pval"):
            out[col] = [format_p(x) for x in out[col]]
        elif col in dec:
            out[col] = [fmt(x, dec[col]) for x in out[col]]
    return out


def html_table(r: Any, frame: pd.DataFrame) -> str:
    """The HTML of :meth:`PoolResult._repr_html_`: a heading and the one-row table of ``frame``, escaped."""
    head = html.escape(_model_line(r))
    shown = for_reading(frame.drop(columns=["measure", "method", "ci_method"], errors="ignore"))
    cells = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    return f"<div><p><b>{head}</b></p><table><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table></div>"
