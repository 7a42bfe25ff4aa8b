"""Univariate meta-analysis: pooling, heterogeneity, subgroups, sensitivity, bias.

This module pools study-level effect sizes that are already on an additive
scale: log odds ratios or log risk ratios (ratio measures), and standardised
or raw mean differences. Every function takes effects ``yi`` and their
sampling variances ``vi`` (the squared standard errors, on the same scale as
``yi``). Use :func:`effect_from_ci` to get ``(yi, vi)`` from a published
estimate and confidence interval, and :func:`back_transform` to turn pooled
log ratios back into ratios.

Estimators follow R's *metafor* (``rma.uni``, intercept-only models):

* ``"FE"``: fixed (equal) effect, inverse-variance weights ``1/vi``.
* ``"DL"``: DerSimonian-Laird tau^2 (truncated at 0).
* ``"PM"``: Paule-Mandel tau^2.
* ``"REML"``: restricted maximum likelihood tau^2 (Fisher scoring).

The DL and PM tau^2, and the FE summaries, come from
``statsmodels.stats.meta_analysis.combine_effects`` (``method_re="dl"`` and
``method_re="pm"``, the iterated Paule-Mandel solver). statsmodels does not
provide REML, and it does not truncate the DL estimate at 0. This module
implements those two things. The random-effects summary (estimate, SE,
HKSJ scaling, I^2, H^2 and the prediction interval) is always computed from
the final tau^2 by the same code.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from .errors import MetaAnalysisError

__all__ = [
    "PoolResult",
    "EggerResult",
    "METHODS",
    "CI_METHODS",
    "RATIO_MEASURES",
    "DIFFERENCE_MEASURES",
    "pool",
    "subgroups",
    "leave_one_out",
    "cumulative",
    "egger_test",
    "back_transform",
    "on_reporting_scale",
    "effect_from_ci",
]

METHODS: tuple[str, ...] = ("FE", "DL", "PM", "REML")
CI_METHODS: tuple[str, ...] = ("normal", "hksj")
RATIO_MEASURES: tuple[str, ...] = ("OR", "RR")
DIFFERENCE_MEASURES: tuple[str, ...] = ("SMD", "MD")

#: Convergence tolerance (absolute change in tau^2, or absolute value of the
#: Paule-Mandel estimating equation) and the iteration cap.
TOL: float = 1e-10
MAXITER: int = 1000


# --------------------------------------------------------------------------
# result containers
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolResult:
    """Result of :func:`pool`.

    All effect quantities (``estimate``, ``ci_*``, ``pi_*``, ``se``) are on the
    analysis scale of ``yi`` (e.g. log risk ratio). ``tau2`` is in squared
    ``yi`` units, ``tau`` in ``yi`` units. ``I2`` is a percentage (0-100),
    ``weights`` are percentages summing to 100, in input order.

    Attributes
    ----------
    k : int
        Number of studies.
    method : str
        ``"FE"``, ``"DL"``, ``"PM"`` or ``"REML"``.
    ci_method : str
        ``"normal"`` (z) or ``"hksj"`` (Hartung-Knapp-Sidik-Jonkman, t with k-1 df).
    estimate, se : float
        Pooled effect and its standard error (HKSJ-scaled when ``ci_method="hksj"``).
    ci_low, ci_high : float
        Confidence interval at ``level``.
    z_or_t : float
        Test statistic ``estimate / se`` (z for "normal", t for "hksj").
    pval : float
        Two-sided p-value of ``z_or_t``.
    tau2, tau : float
        Between-study variance and SD (0 for FE).
    I2 : float
        Heterogeneity, percent.
    H2 : float
        Total over sampling variability (dimensionless).
    Q, Q_df, Q_pval : float, int, float
        Cochran's Q (inverse-variance weights ``1/vi``), its df (k-1) and p-value.
    pi_low, pi_high : float
        Prediction interval (NaN for the FE model, as in metafor).
    weights : tuple of float
        Study weights in percent, input order.
    level : float
        Confidence level, e.g. 0.95.
    """

    k: int
    method: str
    ci_method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z_or_t: float
    pval: float
    tau2: float
    tau: float
    I2: float
    H2: float
    Q: float
    Q_df: int
    Q_pval: float
    pi_low: float
    pi_high: float
    weights: tuple[float, ...]
    level: float


@dataclass(frozen=True)
class EggerResult:
    """Result of :func:`egger_test` (classical Egger regression).

    Attributes
    ----------
    k : int
        Number of studies.
    intercept, intercept_se : float
        Intercept of ``yi/sei ~ 1/sei`` (the asymmetry measure, in standard
        normal deviate units) and its OLS standard error.
    t : float
        ``intercept / intercept_se``.
    df : int
        Residual degrees of freedom, ``k - 2``.
    pval : float
        Two-sided p-value from t(k-2).
    slope, slope_se : float
        Slope (an estimate of the effect, in ``yi`` units) and its SE.
    """

    k: int
    intercept: float
    intercept_se: float
    t: float
    df: int
    pval: float
    slope: float
    slope_se: float


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------
def _positions(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _as_float_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)):
        raise MetaAnalysisError(f"{name} must be a sequence of numbers, got a string")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        bad = []
        try:
            for i, v in enumerate(list(x)):
                try:
                    float(v)
                except (TypeError, ValueError):
                    bad.append(i)
        except TypeError:
            pass
        where = f" at position(s) {bad}" if bad else ""
        raise MetaAnalysisError(f"{name} must contain numbers only; non-numeric value(s){where}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise MetaAnalysisError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_method(method: str) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise MetaAnalysisError(
            f"method {method!r} is not valid; choose one of {', '.join(repr(m) for m in METHODS)}"
        )
    return method.upper()


def _check_ci(ci: str) -> str:
    if not isinstance(ci, str) or ci.lower() not in CI_METHODS:
        raise MetaAnalysisError(
            f"ci {ci!r} is not valid; choose one of {', '.join(repr(c) for c in CI_METHODS)}"
        )
    return ci.lower()


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)):
        raise MetaAnalysisError(f"level must be a number strictly between 0 and 1, got {level!r}")
    level = float(level)
    if not (0.0 < level < 1.0) or not math.isfinite(level):
        raise MetaAnalysisError(
            f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}"
        )
    return level


def _validate(yi: Any, vi: Any, method: str, ci: str, level: Any) -> tuple[np.ndarray, np.ndarray, str, str, float]:
    method = _check_method(method)
    ci = _check_ci(ci)
    level = _check_level(level)
    y = _as_float_array(yi, "yi")
    v = _as_float_array(vi, "vi")
    if y.shape[0] != v.shape[0]:
        raise MetaAnalysisError(
            f"yi and vi must have the same length, got {y.shape[0]} and {v.shape[0]}"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        raise MetaAnalysisError(f"yi has non-finite values (NaN/inf) at position(s) {_positions(bad)}")
    bad = ~np.isfinite(v)
    if bad.any():
        raise MetaAnalysisError(f"vi has non-finite values (NaN/inf) at position(s) {_positions(bad)}")
    bad = v <= 0
    if bad.any():
        raise MetaAnalysisError(f"vi must be > 0; non-positive at position(s) {_positions(bad)}")
    k = y.shape[0]
    kmin = 1 if method == "FE" else 2
    if ci == "hksj":
        kmin = max(kmin, 2)
    if k < kmin:
        what = "a fixed-effect model" if method == "FE" else f"a random-effects model (method={method!r})"
        if method == "FE" and ci == "hksj":
            what = "HKSJ intervals (t with k-1 df)"
        raise MetaAnalysisError(f"k = {k} stud{'y' if k == 1 else 'ies'} is too few for {what}; need k >= {kmin}")
    return y, v, method, ci, level


# --------------------------------------------------------------------------
# tau^2 estimators
# --------------------------------------------------------------------------
def _q_stat(y: np.ndarray, w: np.ndarray) -> float:
    m = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - m) ** 2))


def _tau2_reml(y: np.ndarray, v: np.ndarray, start: float) -> float:
    """REML tau^2 by Fisher scoring, as metafor ``rma.uni(method="REML")``.

    Update ``tau2 += (Y'PPY - tr(P)) / tr(PP)`` with
    ``P = W - w w'/sum(w)``, ``W = diag(1/(vi + tau2))``; a step that would
    go below 0 is truncated at 0 (projected scoring). Stops when the absolute
    change is below :data:`TOL`, raises after :data:`MAXITER` iterations.
    """
    tau2 = max(0.0, float(start))
    for _ in range(MAXITER):
        w = 1.0 / (v + tau2)
        sw = w.sum()
        mu = np.sum(w * y) / sw
        sw2 = np.sum(w**2)
        ypp_y = np.sum(w**2 * (y - mu) ** 2)
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2.0 * np.sum(w**3) / sw + sw2**2 / sw**2
        new = tau2 + (ypp_y - tr_p) / tr_pp
        if new < 0.0:
            new = 0.0
        change = abs(new - tau2)
        tau2 = new
        if change < TOL:
            return float(tau2)
    raise MetaAnalysisError(
        f"REML estimation of tau^2 did not converge in {MAXITER} iterations (tolerance {TOL})"
    )


def _tau2_pm_brent(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel root of ``sum w (y - mu_w)^2 = k - 1`` by Brent's method (fallback)."""
    from scipy.optimize import brentq

    k = y.shape[0]

    def f(t2: float) -> float:
        return _q_stat(y, 1.0 / (v + t2)) - (k - 1)

    if f(0.0) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(y)) * 2)
    n = 0
    while f(hi) > 0:
        hi *= 2.0
        n += 1
        if n > 200:
            raise MetaAnalysisError("Paule-Mandel estimation of tau^2 failed to bracket the root")
    return float(brentq(f, 0.0, hi, xtol=TOL, rtol=4 * np.finfo(float).eps, maxiter=MAXITER))


def _sm_combine(y: np.ndarray, v: np.ndarray, method_re: str):
    kw: dict[str, Any] = {}
    if method_re == "pm":
        kw = {"atol": TOL, "maxiter": MAXITER}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return combine_effects(y, v, method_re=method_re, **kw)


# --------------------------------------------------------------------------
# core
# --------------------------------------------------------------------------
def _typical_v(w: np.ndarray) -> float:
    k = w.shape[0]
    sw = w.sum()
    return float((k - 1) * sw / (sw**2 - np.sum(w**2)))


def _pool_arrays(y: np.ndarray, v: np.ndarray, method: str, ci: str, level: float) -> PoolResult:
    k = y.shape[0]
    w_fe = 1.0 / v
    df = k - 1
    if k >= 2:
        sm_fe = _sm_combine(y, v, "dl")  # FE fields do not depend on method_re
        Q = float(sm_fe.q)
    else:
        sm_fe = None
        Q = 0.0
    Q_pval = float(stats.chi2.sf(Q, df)) if df > 0 else float("nan")

    if method == "FE":
        tau2 = 0.0
        if sm_fe is not None:
            est = float(sm_fe.mean_effect_fe)
            se_norm = float(sm_fe.sd_eff_w_fe)
            se_hk = float(sm_fe.sd_eff_w_fe_hksj)
        else:
            est, se_norm, se_hk = float(y[0]), float(math.sqrt(v[0])), float("nan")
        weights = w_fe
        if df > 0 and Q > 0:
            I2 = max(0.0, 100.0 * (Q - df) / Q)
        else:
            I2 = 0.0 if df > 0 else float("nan")
        H2 = Q / df if df > 0 else float("nan")
    else:
        if method == "DL":
            sm = sm_fe
            tau2 = float(sm.tau2)
        elif method == "PM":
            sm = _sm_combine(y, v, "pm")
            tau2 = float(sm.tau2)
            if tau2 <= 0 and Q > df:
                # statsmodels' solver returns 0 whenever an iterate makes the
                # estimating equation negative; if Q(0) > k-1 the root is > 0,
                # so solve it directly instead (Brent's method).
                sm = None
                tau2 = _tau2_pm_brent(y, v)
            elif tau2 > 0:
                # statsmodels does not report convergence through combine_effects
                ee = _q_stat(y, 1.0 / (v + tau2)) - df
                if abs(ee) > 1e-6 * max(1.0, df):
                    raise MetaAnalysisError(
                        f"Paule-Mandel estimation of tau^2 did not converge in {MAXITER} iterations"
                    )
        else:  # REML
            sm = None
            dl = float(sm_fe.tau2)
            tau2 = _tau2_reml(y, v, start=max(0.0, dl))
        if sm is not None and tau2 > 0:
            est = float(sm.mean_effect_re)
            se_norm = float(sm.sd_eff_w_re)
            se_hk = float(sm.sd_eff_w_re_hksj)
        else:
            tau2 = max(0.0, tau2)  # statsmodels' DL is not truncated at 0
            w = 1.0 / (v + tau2)
            est = float(np.sum(w * y) / w.sum())
            se_norm = float(math.sqrt(1.0 / w.sum()))
            se_hk = float(math.sqrt(np.sum(w * (y - est) ** 2) / df / w.sum()))
        weights = 1.0 / (v + tau2)
        s2 = _typical_v(w_fe)
        I2 = 100.0 * tau2 / (tau2 + s2)
        H2 = (tau2 + s2) / s2

    alpha = 1.0 - level
    if ci == "hksj":
        se = se_hk
        crit = float(stats.t.isf(alpha / 2.0, df))
        stat = est / se if se > 0 else float("nan")
        pval = float(2.0 * stats.t.sf(abs(stat), df)) if se > 0 else float("nan")
    else:
        se = se_norm
        crit = float(stats.norm.isf(alpha / 2.0))
        stat = est / se
        pval = float(2.0 * stats.norm.sf(abs(stat)))
    ci_low, ci_high = est - crit * se, est + crit * se
    if method == "FE":
        pi_low = pi_high = float("nan")
    else:
        half = crit * math.sqrt(se**2 + tau2)
        pi_low, pi_high = est - half, est + half

    wpct = tuple(float(x) for x in 100.0 * weights / weights.sum())
    return PoolResult(
        k=k,
        method=method,
        ci_method=ci,
        estimate=float(est),
        se=float(se),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        z_or_t=float(stat),
        pval=pval,
        tau2=float(tau2),
        tau=float(math.sqrt(tau2)),
        I2=float(I2),
        H2=float(H2),
        Q=Q,
        Q_df=int(df),
        Q_pval=Q_pval,
        pi_low=float(pi_low),
        pi_high=float(pi_high),
        weights=wpct,
        level=level,
    )


def pool(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
) -> PoolResult:
    """Pool effect sizes with a fixed- or random-effects model.

    Parameters
    ----------
    yi : sequence of float
        Study effect sizes on an additive scale (log OR, log RR, SMD or MD).
    vi : sequence of float
        Sampling variances of ``yi`` (squared standard errors, squared ``yi``
        units). Must be > 0.
    method : {"REML", "DL", "PM", "FE"}, default "REML"
        Estimator of tau^2: restricted maximum likelihood (Fisher scoring,
        tolerance 1e-10, truncated at 0), DerSimonian-Laird (truncated at 0),
        Paule-Mandel, or the fixed (equal) effect model (tau^2 = 0).
        Case-insensitive.
    ci : {"normal", "hksj"}, default "normal"
        ``"normal"``: Wald z tests and intervals. ``"hksj"``: the
        Hartung-Knapp-Sidik-Jonkman method, as metafor ``test="knha"``. The
        SE is multiplied by ``sqrt(q)``,
        ``q = sum(w_i (y_i - est)^2) / (k - 1)``, with no truncation of q at 1,
        and tests and intervals use t with k-1 df.
    level : float, default 0.95
        Confidence (and prediction) level, strictly between 0 and 1.

    Returns
    -------
    PoolResult
        Frozen dataclass. I^2 and H^2 follow metafor. For random-effects
        models ``I2 = 100 tau2 / (tau2 + s2)`` and ``H2 = (tau2 + s2)/s2``,
        where ``s2 = (k-1) sum(w) / ((sum w)^2 - sum(w^2))`` and ``w = 1/vi``.
        For FE, ``I2 = max(0, 100 (Q - df)/Q)`` and ``H2 = Q/df``.
        The prediction interval follows metafor ``predict.rma``:
        ``estimate +/- crit * sqrt(se^2 + tau2)``. ``crit`` is the normal
        quantile, or with ``ci="hksj"`` the t quantile with k-p = k-1 df
        (metafor's documented choice, which is not Riley et al.'s k-2; see the
        Note section of metafor's ``predict.rma`` help page, ``man/predict.rma.Rd``).
        ``se`` is the HKSJ-scaled SE under ``"hksj"``. For ``method="FE"``
        the prediction interval is NaN, because metafor gives none for
        equal-effects models.

    Raises
    ------
    MetaAnalysisError
        If the lengths differ, any value is non-numeric or non-finite, any
        ``vi <= 0`` (the message gives the 0-based positions), ``method``,
        ``ci`` or ``level`` is invalid, or k is too small: k >= 2 for
        random effects or HKSJ, k >= 1 for FE. Also raised if an iterative
        tau^2 estimator does not converge.

    Examples
    --------
    >>> r = pool([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], method="DL")
    >>> round(r.estimate, 4), round(r.tau2, 4), round(r.I2, 1)
    (0.5, 0.15, 60.0)
    >>> round(r.se, 4), [round(w, 1) for w in r.weights]
    (0.2887, [33.3, 33.3, 33.3])
    >>> round(pool([0.1, 0.3], [0.01, 0.04], method="FE").estimate, 4)
    0.14
    """
    y, v, method, ci, level = _validate(yi, vi, method, ci, level)
    return _pool_arrays(y, v, method, ci, level)


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
        raise MetaAnalysisError(
            f"column(s) {missing} not found in df; available columns: {list(df.columns)}"
        )


def subgroups(
    df: pd.DataFrame,
    by: str,
    yi: str = "yi",
    vi: str = "vi",
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
) -> pd.DataFrame:
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
    df : pandas.DataFrame
        One row per study.
    by : str
        Column that defines the subgroups (NaN values are not allowed).
    yi, vi : str
        Names of the effect and sampling-variance columns (see :func:`pool`).
    method, ci, level
        Passed to :func:`pool` for each subgroup.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup, in sorted order of ``by``. Columns: ``by``
        (the subgroup value), ``k``, ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``z_or_t``, ``pval``, ``tau2``, ``I2`` (%), ``Q``,
        ``Q_pval``, ``pi_low``, ``pi_high``, ``method``, ``note``. The
        between-group test is in ``result.attrs``, under the keys
        ``"Q_between"``, ``"Q_between_df"`` and ``"Q_between_pval"``.

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
    method = _check_method(method)
    ci = _check_ci(ci)
    level = _check_level(level)
    _get_columns(df, [by, yi, vi])
    if df[by].isna().any():
        raise MetaAnalysisError(
            f"column {by!r} has missing values at position(s) {_positions(df[by].isna().to_numpy())}"
        )
    groups = sorted(df[by].unique(), key=lambda x: (str(type(x)), x))
    if len(groups) < 2:
        raise MetaAnalysisError(f"need at least 2 subgroups in column {by!r}, found {len(groups)}")
    rows = []
    for g in groups:
        sub = df.loc[df[by] == g]
        m, note = method, ""
        if len(sub) == 1 and method != "FE":
            m, note = "FE", "single study: FE (tau2 not estimable)"
        c = ci
        if len(sub) == 1 and ci == "hksj":
            c, note = "normal", "single study: FE with normal CI (tau2 and HKSJ not estimable)"
        try:
            r = pool(sub[yi].to_numpy(), sub[vi].to_numpy(), method=m, ci=c, level=level)
        except MetaAnalysisError as exc:
            raise MetaAnalysisError(f"subgroup {by}={g!r}: {exc}") from exc
        row = {by: g, **_result_row(r), "method": m, "note": note}
        rows.append(row)
    out = pd.DataFrame(rows)
    est = out["estimate"].to_numpy(dtype=float)
    wg = 1.0 / out["se"].to_numpy(dtype=float) ** 2
    est_bar = float(np.sum(wg * est) / np.sum(wg))
    qb = float(np.sum(wg * (est - est_bar) ** 2))
    dfb = len(groups) - 1
    out.attrs["Q_between"] = qb
    out.attrs["Q_between_df"] = dfb
    out.attrs["Q_between_pval"] = float(stats.chi2.sf(qb, dfb))
    return out


def leave_one_out(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    labels: Sequence[Any],
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
) -> pd.DataFrame:
    """Re-pool the studies k times, leaving each one out in turn.

    Parameters
    ----------
    yi, vi : sequence of float
        Effects and sampling variances (see :func:`pool`).
    labels : sequence
        One label per study, used in the ``omitted`` column.
    method, ci, level
        Passed to :func:`pool`.

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
    y, v, method, ci, level = _validate(yi, vi, method, ci, level)
    labs = list(labels)
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
    return pd.DataFrame(rows)


def cumulative(
    df: pd.DataFrame,
    by: str = "year",
    yi: str = "yi",
    vi: str = "vi",
    label: str | None = None,
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
) -> pd.DataFrame:
    """Cumulative meta-analysis: add studies one at a time in order of ``by``.

    Rows are sorted by ``by`` with a stable sort, so ties keep their input
    order. Row j pools the first j studies. The first row has the smallest
    k the model allows: 1 for FE with normal intervals, 2 otherwise
    (random effects need k >= 2).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per study.
    by : str, default "year"
        Ordering column (e.g. publication year).
    yi, vi : str
        Effect and sampling-variance columns (see :func:`pool`).
    label : str, optional
        Column used to label the study that each step adds. If omitted, the
        ``by`` value is used.
    method, ci, level
        Passed to :func:`pool`.

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
    method = _check_method(method)
    ci = _check_ci(ci)
    level = _check_level(level)
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


def egger_test(yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray) -> EggerResult:
    """Classical Egger regression test for funnel-plot asymmetry.

    Fits the OLS regression ``yi/sei = b0 + b1 * (1/sei)``, with
    ``sei = sqrt(vi)`` (Egger et al., 1997). The intercept ``b0`` measures
    asymmetry. It is tested with t = b0/SE(b0) on k-2 degrees of freedom.

    Parameters
    ----------
    yi : sequence of float
        Effects (e.g. log OR).
    vi : sequence of float
        Sampling variances of ``yi``, > 0.

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
    y, v, _, _, _ = _validate(yi, vi, "FE", "normal", 0.95)
    k = y.shape[0]
    if k < 3:
        raise MetaAnalysisError(f"egger_test needs k >= 3 studies (df = k-2), got k = {k}")
    sei = np.sqrt(v)
    if np.ptp(sei) == 0:
        raise MetaAnalysisError("egger_test: all vi are equal, so the regression on 1/sei is not identified")
    X = np.column_stack([np.ones(k), 1.0 / sei])
    z = y / sei
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ beta
    dfr = k - 2
    s2 = float(resid @ resid) / dfr
    cov = s2 * np.linalg.inv(X.T @ X)
    b0, b1 = float(beta[0]), float(beta[1])
    se0, se1 = float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1]))
    t = b0 / se0 if se0 > 0 else float("inf") * np.sign(b0)
    p = float(2.0 * stats.t.sf(abs(t), dfr))
    return EggerResult(k=k, intercept=b0, intercept_se=se0, t=float(t), df=dfr, pval=p, slope=b1, slope_se=se1)


def _check_measure(measure: Any) -> str:
    allowed = RATIO_MEASURES + DIFFERENCE_MEASURES
    if not isinstance(measure, str) or measure.upper() not in allowed:
        raise MetaAnalysisError(
            f"measure {measure!r} is not valid; choose one of {', '.join(repr(m) for m in allowed)}"
        )
    return measure.upper()


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
                out[col] = np.exp(out[col].astype(float))
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
    m = _check_measure(measure)
    level = _check_level(level)
    vals = {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high}
    for name, val in vals.items():
        if isinstance(val, bool) or not isinstance(val, (int, float, np.integer, np.floating)) or not math.isfinite(float(val)):
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
