"""Effect-size scales: from a published estimate and interval to the analysis scale (:func:`effect_from_ci`),
and back to the reporting scale (:func:`back_transform`, :func:`on_reporting_scale`). Public names are
re-exported by :mod:`leftbehind.meta`.

Examples
--------
>>> round(back_transform(0.0, "OR"), 2)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError, is_number
from .validation import RATIO_MEASURES, _check_level, _check_measure


def back_transform(x: float | Sequence[float] | np.ndarray, measure: str) -> float | np.ndarray:
    """Return effects to their reporting scale.

    Parameters
    ----------
    x : float or array-like
        Values on the analysis scale (e.g. a pooled estimate and CI bounds).
    measure : {"OR", "RR", "SMD", "MD"}
        ``"OR"``/``"RR"``: ``x`` is a log ratio, and ``exp(x)`` is returned
        (a ratio, dimensionless). ``"SMD"`` (SD units) and ``"MD"`` (outcome
        units) are returned unchanged. Case-insensitive.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar input, otherwise an array of the same shape.

    Raises
    ------
    MetaAnalysisError
        If ``measure`` is not one of the above, or ``x`` is not numeric.

    Examples
    --------
    >>> round(back_transform(-0.7145, "RR"), 4)
    0.4894
    >>> back_transform(0.3, "SMD")
    0.3
    """
    m = _check_measure(measure)
    scalar = np.ndim(x) == 0
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MetaAnalysisError(f"x must be numeric, got {x!r}") from exc
    out = np.exp(arr) if m in RATIO_MEASURES else arr.copy()
    return float(out) if scalar else out


#: Columns of the :func:`subgroups`, :func:`leave_one_out` and :func:`cumulative` tables that hold
#: effects on the analysis scale (log ratio for OR/RR) and are exponentiated for display.
_EFFECT_COLUMNS: tuple[str, ...] = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def on_reporting_scale(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Return a copy of a results table with its effects on the reporting scale.

    :func:`subgroups`, :func:`leave_one_out` and :func:`cumulative` work on the
    analysis scale, where an odds or risk ratio is a log ratio. A reader expects
    ratios. This exponentiates the effect columns (``estimate``, ``ci_low``,
    ``ci_high``, ``pi_low``, ``pi_high``) for ``"OR"``/``"RR"`` and renames
    ``se`` to ``se_log`` (the standard error stays on the log scale, where it is
    defined). For ``"SMD"``/``"MD"`` the table is returned unchanged (a copy).
    Columns that are absent are skipped, and ``attrs`` (e.g. the between-group
    Q of :func:`subgroups`) are kept; ``attrs["scale"]`` says which scale the
    effects are on.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`subgroups`, :func:`leave_one_out` or :func:`cumulative`.
    measure : {"OR", "RR", "SMD", "MD"}
        The measure of ``yi`` the table was computed from. Case-insensitive.

    Returns
    -------
    pandas.DataFrame
        A new table; the input is not modified.

    Raises
    ------
    MetaAnalysisError
        If ``table`` is not a DataFrame or ``measure`` is not one of the above.

    Examples
    --------
    >>> from leftbehind.meta import leave_one_out
    >>> out = leave_one_out([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], ["A", "B", "C"], method="FE")
    >>> shown = on_reporting_scale(out, "OR")
    >>> [round(x, 3) for x in shown["estimate"]]  # exp(0.75), exp(0.5), exp(0.25)
    [2.117, 1.649, 1.284]
    >>> "se_log" in shown.columns, shown.attrs["scale"]
    (True, 'ratio')
    """
    if not isinstance(table, pd.DataFrame):
        raise MetaAnalysisError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    m = _check_measure(measure)
    out = table.copy()
    out.attrs = dict(table.attrs)
    if m in RATIO_MEASURES:
        for col in _EFFECT_COLUMNS:
            if col in out.columns:
                out[col] = back_transform(out[col].to_numpy(dtype=float), m)
        out = out.rename(columns={"se": "se_log"})
        out.attrs["scale"] = "ratio"
    else:
        out.attrs["scale"] = "difference"
    return out


def effect_from_ci(
    estimate: float,
    ci_low: float,
    ci_high: float,
    measure: str,
    level: float = 0.95,
) -> tuple[float, float]:
    """Recover ``(yi, vi)`` from a reported estimate and confidence interval.

    For ratio measures (``"OR"``, ``"RR"``) the reported ratio and bounds
    are moved to the log scale: ``yi = log(estimate)`` and
    ``se = (log(ci_high) - log(ci_low)) / (2 z)``. For differences
    (``"SMD"``, ``"MD"``) the raw scale is used: ``yi = estimate`` and
    ``se = (ci_high - ci_low) / (2 z)``. In both cases
    ``z = Phi^-1(1 - (1 - level)/2)`` and ``vi = se^2``. This assumes a
    symmetric Wald interval on the analysis scale.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        Reported point estimate and interval bounds, on the reporting scale
        (ratios for OR/RR).
    measure : {"OR", "RR", "SMD", "MD"}
        Effect measure, case-insensitive.
    level : float, default 0.95
        Confidence level of the reported interval.

    Returns
    -------
    tuple of float
        ``(yi, vi)``: effect on the analysis scale and its sampling variance.

    Raises
    ------
    MetaAnalysisError
        If values are not finite, ratio values are not > 0, the bounds do
        not satisfy ``ci_low < ci_high`` with the estimate between them,
        or ``measure`` or ``level`` is invalid.

    Examples
    --------
    >>> yi, vi = effect_from_ci(0.5, 0.25, 1.0, "OR")
    >>> round(yi, 4), round(vi, 4)
    (-0.6931, 0.1251)
    >>> yi, vi = effect_from_ci(1.0, 0.0, 2.0, "MD")
    >>> round(yi, 2), round(vi, 4)
    (1.0, 0.2603)
    """
    from scipy import stats

    m = _check_measure(measure)
    level = _check_level(level)
    vals = {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high}
    for name, val in vals.items():
        if not is_number(val) or not math.isfinite(float(val)):
            raise MetaAnalysisError(f"{name} must be a finite number, got {val!r}")
    est, lo, hi = float(estimate), float(ci_low), float(ci_high)
    if m in RATIO_MEASURES:
        bad = [n for n, val in (("estimate", est), ("ci_low", lo), ("ci_high", hi)) if val <= 0]
        if bad:
            raise MetaAnalysisError(f"{m} is a ratio measure: {', '.join(bad)} must be > 0")
        est, lo, hi = math.log(est), math.log(lo), math.log(hi)
    if not lo < hi:
        raise MetaAnalysisError(f"ci_low must be < ci_high, got {ci_low!r} and {ci_high!r}")
    if not (lo <= est <= hi):
        raise MetaAnalysisError(f"estimate {estimate!r} is outside its interval [{ci_low!r}, {ci_high!r}]")
    z = float(stats.norm.isf((1.0 - level) / 2.0))
    se = (hi - lo) / (2.0 * z)
    return float(est), float(se**2)
