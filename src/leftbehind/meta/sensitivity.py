"""Subgroups, leave-one-out, cumulative meta-analysis and Egger's test, built on :mod:`leftbehind.meta.pooling`.
Public names are re-exported by :mod:`leftbehind.meta`.

Examples
--------
>>> from leftbehind.meta.sensitivity import leave_one_out
>>> list(leave_one_out([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], ["A", "B", "C"], method="FE")["omitted"])
['A', 'B', 'C']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError
from .pooling import EggerResult, PoolResult, _pool_arrays
from .subgroup import SubgroupResult, fit_subgroups
from .validation import _check_ci, _check_level, _check_method, _positions, _validate


def _result_row(r: PoolResult) -> dict[str, Any]:
    return {
        "k": r.k,
        "estimate": r.estimate,
        "se": r.se,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "z_or_t": r.z_or_t,
        "pval": r.pval,
        "tau2": r.tau2,
        "I2": r.I2,
        "Q": r.Q,
        "Q_pval": r.Q_pval,
        "pi_low": r.pi_low,
        "pi_high": r.pi_high,
    }


def _get_columns(df: pd.DataFrame, cols: Iterable[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise MetaAnalysisError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MetaAnalysisError(f"column(s) {missing} not found in df; available columns: {list(df.columns)}")


@overload
def subgroups(
    df: PoolResult,
    by: Sequence[Any],
    yi: str = ...,
    vi: str = ...,
    method: str | None = ...,
    ci: str | None = ...,
    level: float | None = ...,
) -> SubgroupResult: ...
@overload
def subgroups(
    df: pd.DataFrame,
    by: str,
    yi: str = ...,
    vi: str = ...,
    method: str | None = ...,
    ci: str | None = ...,
    level: float | None = ...,
) -> pd.DataFrame: ...
def subgroups(
    df: pd.DataFrame | PoolResult,
    by: str | Sequence[Any],
    yi: str = "yi",
    vi: str = "vi",
    method: str | None = None,
    ci: str | None = None,
    level: float | None = None,
) -> pd.DataFrame | SubgroupResult:  # fmt: skip
    """Pool each subgroup separately and test for subgroup differences.

    Each subgroup gets its own model, with its own tau^2: the "separate
    tau^2" approach that RevMan uses and that metafor gives when each
    subgroup is fitted with ``rma(..., subset=)`` and the subgroup estimates
    are then compared with ``rma(est, sei=se, method="FE")``. The
    between-group test is a fixed-effect Q on the subgroup estimates:
    ``Q_between = sum_g w_g (est_g - est_bar)^2``, with ``w_g = 1/se_g^2``,
    ``est_bar = sum(w_g est_g) / sum(w_g)``, ``df = G - 1`` and a
    chi-square p-value. ``se_g`` is the SE that ``ci`` produces, so it is
    HKSJ-scaled when ``ci="hksj"``.

    A subgroup with a single study cannot have tau^2 estimated. It is
    pooled with the FE model (estimate = its own ``yi``), and the ``note``
    column says so.

    Parameters
    ----------
    df : pandas.DataFrame or PoolResult
        One row per study; or a fit from :func:`pool`, whose studies are split (then ``by`` is a sequence).
    by : str or sequence
        Column that defines the subgroups (NaN values are not allowed); with a fit, one subgroup value per
        study, in the fit's order.
    yi, vi : str
        Names of the effect and sampling-variance columns (see :func:`pool`); not used with a fit.
    method, ci, level
        Passed to :func:`pool` for each subgroup. Defaults: the fit's, or ``"REML"``, ``"normal"``, 0.95.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup, in sorted order of ``by``. Columns: ``by``
        (the subgroup value), ``k``, ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``z_or_t``, ``pval``, ``tau2``, ``I2`` (%), ``Q``,
        ``Q_pval``, ``pi_low``, ``pi_high``, ``method``, ``note``. The
        between-group test is in ``result.attrs``, under the keys
        ``"Q_between"``, ``"Q_between_df"`` and ``"Q_between_pval"``.
    SubgroupResult
        When ``df`` is a fit: each subgroup's fit (``.fits``), the between-groups test (``.Q_between``,
        ``.Q_between_df``, ``.Q_between_pval``), ``.to_frame(scale)`` (the table above), ``.summary()``.

    Raises
    ------
    MetaAnalysisError
        If columns are missing, ``by`` has missing values, there are fewer
        than 2 subgroups, or the data of a subgroup are invalid (see
        :func:`pool`).

    Examples
    --------
    >>> d = pd.DataFrame({"g": ["a", "a", "b", "b"], "yi": [0.1, 0.3, 0.8, 1.0],
    ...                   "vi": [0.04, 0.04, 0.04, 0.04]})
    >>> out = subgroups(d, "g", method="FE")
    >>> [round(x, 2) for x in out["estimate"]]
    [0.2, 0.9]
    >>> round(out.attrs["Q_between"], 3), out.attrs["Q_between_df"]
    (12.25, 1)
    """
    if isinstance(df, PoolResult):
        return _subgroups_of_fit(df, by, method, ci, level)
    if not isinstance(by, str):
        raise MetaAnalysisError(f"by must be a column name of df, got {type(by).__name__}")
    method = _check_method(method or "REML")
    ci = _check_ci(ci or "normal")
    level = _check_level(0.95 if level is None else level)
    _get_columns(df, [by, yi, vi])
    if df[by].isna().any():
        raise MetaAnalysisError(
            f"column {by!r} has missing values at position(s) {_positions(df[by].isna().to_numpy())}"
        )
    return fit_subgroups(df, by, yi, vi, method, ci, level).to_frame("analysis")


def _subgroups_of_fit(
    r: PoolResult, by: Any, method: str | None, ci: str | None, level: float | None
) -> SubgroupResult:
    groups = list(by) if not isinstance(by, str) else []
    if len(groups) != r.k or len(r.yi) != r.k:
        raise MetaAnalysisError(
            f"by must give one subgroup value per study of the fit: got {by!r} for k = {r.k}"
            + ("" if r.yi else " (the fit keeps no inputs: make it with meta.pool)")
        )
    if pd.isna(pd.Series(groups, dtype=object)).any():
        raise MetaAnalysisError(
            f"by has missing values at position(s) {_positions(pd.isna(pd.Series(groups, dtype=object)).to_numpy())}"
        )
    d = pd.DataFrame({"subgroup": groups, "yi": r.yi, "vi": r.vi, "label": r.study_labels()})
    m = _check_method(method or r.method)
    c = _check_ci(ci or r.ci_method)
    lv = _check_level(r.level if level is None else level)
    return fit_subgroups(d, "subgroup", "yi", "vi", m, c, lv, label="label", measure=r.measure)


def leave_one_out(
    yi: Sequence[float] | np.ndarray | PoolResult,
    vi: Sequence[float] | np.ndarray | None = None,
    labels: Sequence[Any] | None = None,
    method: str | None = None,
    ci: str | None = None,
    level: float | None = None,
) -> pd.DataFrame:
    """Re-pool the studies k times, leaving each one out in turn.

    Parameters
    ----------
    yi, vi : sequence of float
        Effects and sampling variances (see :func:`pool`); or ``yi`` is a fit from :func:`pool`, whose
        inputs, labels, method, interval and level are used (``vi`` is then omitted).
    labels : sequence
        One label per study, used in the ``omitted`` column.
    method, ci, level
        Passed to :func:`pool`. Defaults: the fit's, or ``"REML"``, ``"normal"``, 0.95.

    Returns
    -------
    pandas.DataFrame
        One row per omitted study, in input order. Columns: ``omitted``,
        ``k`` (k-1), ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``z_or_t``, ``pval``, ``tau2``, ``I2`` (%), ``Q``, ``Q_pval``,
        ``pi_low``, ``pi_high``. Values are on the ``yi`` scale.

    Raises
    ------
    MetaAnalysisError
        If the inputs are invalid (see :func:`pool`), ``labels`` has the
        wrong length, or k-1 studies are too few for the model (k >= 3 for
        random effects, k >= 2 for FE).

    Examples
    --------
    >>> out = leave_one_out([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], ["A", "B", "C"], method="FE")
    >>> [round(x, 2) for x in out["estimate"]]
    [0.75, 0.5, 0.25]
    """
    y, v, labs, method, ci, level, measure = _inputs(yi, vi, labels, method, ci, level)
    if len(labs) != y.shape[0]:
        raise MetaAnalysisError(f"labels must have one entry per study: got {len(labs)} labels for k = {y.shape[0]}")
    k = y.shape[0]
    need = 2 if (method == "FE" and ci == "normal") else 3
    if k < need:
        raise MetaAnalysisError(f"leave-one-out needs k >= {need} for method={method!r}, ci={ci!r}; got k = {k}")
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        r = _pool_arrays(y[keep], v[keep], method, ci, level)
        rows.append({"omitted": labs[i], **_result_row(r)})
    out = pd.DataFrame(rows)
    out.attrs["measure"] = measure
    return out


def _inputs(
    yi: Any, vi: Any, labels: Any, method: str | None, ci: str | None, level: float | None
) -> tuple[np.ndarray, np.ndarray, list[Any], str, str, float, str | None]:
    """Effects, variances, labels, method, interval, level and measure: from a fit, or from the arrays."""
    if isinstance(yi, PoolResult):
        r = yi
        if vi is not None:
            raise MetaAnalysisError("give a fit from meta.pool or yi and vi, not both: with a fit, its own vi are used")
        if not r.yi:
            raise MetaAnalysisError("this fit keeps no inputs (yi, vi): make it with meta.pool")
        y, v, m, c, lv = _validate(
            r.yi, r.vi, method or r.method, ci or r.ci_method, r.level if level is None else level
        )
        return y, v, list(labels) if labels is not None else r.study_labels(), m, c, lv, r.measure
    if vi is None or labels is None:
        raise MetaAnalysisError("give a fit from meta.pool, or yi, vi and labels")
    y, v, m, c, lv = _validate(yi, vi, method or "REML", ci or "normal", 0.95 if level is None else level)
    return y, v, list(labels), m, c, lv, None


def cumulative(
    df: pd.DataFrame | PoolResult,
    by: str = "year",
    yi: str = "yi",
    vi: str = "vi",
    label: str | None = None,
    method: str | None = None,
    ci: str | None = None,
    level: float | None = None,
    *,
    order: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Cumulative meta-analysis: add studies one at a time in order of ``by``.

    Rows are sorted by ``by`` with a stable sort, so ties keep their input
    order. Row j pools the first j studies. The first row has the smallest
    k the model allows: 1 for FE with normal intervals, 2 otherwise
    (random effects need k >= 2).

    Parameters
    ----------
    df : pandas.DataFrame or PoolResult
        One row per study; or a fit from :func:`pool`, whose studies are added in the order of ``order``
        (one sort key per study, e.g. publication years; default: the fit's order). The table then has
        columns ``added`` (the study labels) and ``order``.
    by : str, default "year"
        Ordering column (e.g. publication year).
    yi, vi : str
        Effect and sampling-variance columns (see :func:`pool`).
    label : str, optional
        Column used to label the study that each step adds. If omitted, the
        ``by`` value is used.
    method, ci, level
        Passed to :func:`pool`. Defaults: the fit's, or ``"REML"``, ``"normal"``, 0.95.
    order : sequence, optional
        With a fit: one sort key per study.

    Returns
    -------
    pandas.DataFrame
        Columns: ``added`` (the label of the study added at this step),
        ``by`` (its ordering value), ``k``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``z_or_t``, ``pval``, ``tau2``, ``I2`` (%),
        ``Q``, ``Q_pval``, ``pi_low``, ``pi_high``.

    Raises
    ------
    MetaAnalysisError
        If columns are missing, ``by`` has missing values, or the data are
        invalid (see :func:`pool`).

    Examples
    --------
    >>> d = pd.DataFrame({"year": [2001, 1999, 2005], "yi": [0.5, 0.0, 1.0], "vi": [0.1, 0.1, 0.1]})
    >>> out = cumulative(d, method="FE")
    >>> list(out["k"]), [round(x, 2) for x in out["estimate"]]
    ([1, 2, 3], [0.0, 0.25, 0.5])
    """
    if not isinstance(df, PoolResult) and order is not None:
        raise MetaAnalysisError(f"order is for a fit from meta.pool; a table is ordered by its column by={by!r}")
    if isinstance(df, PoolResult):
        r = df
        y, v, labs, method, ci, level, _ = _inputs(r, None, None, method, ci, level)
        keys = list(range(1, r.k + 1)) if order is None else list(order)
        if len(keys) != r.k:
            raise MetaAnalysisError(f"order must give one sort key per study: got {len(keys)} for k = {r.k}")
        df, by, yi, vi, label = (
            pd.DataFrame({"order": keys, "yi": y, "vi": v, "study": labs}),
            "order",
            "yi",
            "vi",
            "study",
        )
    method = _check_method(method or "REML")
    ci = _check_ci(ci or "normal")
    level = _check_level(0.95 if level is None else level)
    cols = [by, yi, vi] + ([label] if label is not None else [])
    _get_columns(df, cols)
    if df[by].isna().any():
        raise MetaAnalysisError(
            f"column {by!r} has missing values at position(s) {_positions(df[by].isna().to_numpy())}"
        )
    d = df.sort_values(by, kind="stable")
    y, v, method, ci, level = _validate(d[yi].to_numpy(), d[vi].to_numpy(), method, ci, level)
    labs = list(d[label]) if label is not None else list(d[by])
    start = 1 if (method == "FE" and ci == "normal") else 2
    rows = []
    for j in range(start, len(y) + 1):
        r = _pool_arrays(y[:j], v[:j], method, ci, level)
        rows.append({"added": labs[j - 1], by: d[by].iloc[j - 1], **_result_row(r)})
    return pd.DataFrame(rows)


def egger_test(
    yi: Sequence[float] | np.ndarray | PoolResult, vi: Sequence[float] | np.ndarray | None = None
) -> EggerResult:
    """Classical Egger regression test for funnel-plot asymmetry.

    Fits the OLS regression ``yi/sei = b0 + b1 * (1/sei)``, with
    ``sei = sqrt(vi)`` (Egger et al., 1997). The intercept ``b0`` measures
    asymmetry. It is tested with t = b0/SE(b0) on k-2 degrees of freedom.

    Parameters
    ----------
    yi : sequence of float or PoolResult
        Effects (e.g. log OR); or a fit from :func:`pool`, whose effects and variances are used.
    vi : sequence of float
        Sampling variances of ``yi``, > 0 (omitted with a fit).

    Returns
    -------
    EggerResult
        Intercept (standard normal deviate units), its SE, t, df = k-2,
        two-sided p-value, slope (``yi`` units) and slope SE.

    Raises
    ------
    MetaAnalysisError
        If the inputs are invalid (see :func:`pool`), if k < 3, or if all
        ``vi`` are equal (the regression is then not identified).

    Examples
    --------
    >>> e = egger_test([0.1, 0.3, 0.2, 0.6], [0.01, 0.04, 0.02, 0.09])
    >>> e.df, round(e.intercept, 3), round(e.pval, 3)
    (2, 2.349, 0.007)
    """
    from scipy import stats

    if isinstance(yi, PoolResult):
        y, v, *_ = _inputs(yi, vi, [], "FE", "normal", 0.95)
    else:
        y, v, *_ = _validate(yi, vi, "FE", "normal", 0.95)
    k = y.shape[0]
    if k < 3:
        raise MetaAnalysisError(f"egger_test needs k >= 3 studies (df = k-2), got k = {k}")
    sei = np.sqrt(v)
    if np.ptp(sei) <= 1e-9 * float(np.max(sei)):
        raise MetaAnalysisError("egger_test: all vi are equal, so the regression on 1/sei is not identified")
    X = np.column_stack([np.ones(k), 1.0 / sei])
    z = y / sei
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ beta
    dfr = k - 2
    s2 = float(resid @ resid) / dfr
    cov = s2 * np.linalg.inv(X.T @ X)
    if not (np.isfinite(cov).all() and cov[0, 0] >= 0 and cov[1, 1] >= 0):
        raise MetaAnalysisError(
            "egger_test: the vi are too nearly equal for the regression on 1/sei to be identified (precision lost)"
        )
    b0, b1 = float(beta[0]), float(beta[1])
    se0, se1 = float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1]))
    t = b0 / se0 if se0 > 0 else float("inf") * np.sign(b0)
    p = float(2.0 * stats.t.sf(abs(t), dfr))
    return EggerResult(k=k, intercept=b0, intercept_se=se0, t=float(t), df=dfr, pval=p, slope=b1, slope_se=se1)
