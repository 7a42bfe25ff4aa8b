"""Pooling: the tau^2 estimators (FE, DL, PM, REML), the summary
with its heterogeneity statistics and prediction interval, and the result containers. Public names are
re-exported by :mod:`leftbehind.meta`, whose docstring describes the methods.

Examples
--------
>>> from leftbehind.meta.pooling import pool
>>> round(pool([0.1, 0.3], [0.04, 0.04], method="FE").estimate, 2)
0.2
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..errors import MetaAnalysisError
from .validation import _validate

#: Convergence tolerance (absolute change in tau^2, or absolute value of the
#: Paule-Mandel estimating equation) and the iteration cap.
TOL: float = 1e-10
MAXITER: int = 1000

__all__ = ["EggerResult", "PoolResult", "pool"]


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
    raise MetaAnalysisError(f"REML estimation of tau^2 did not converge in {MAXITER} iterations (tolerance {TOL})")


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


def _sm_combine(y: np.ndarray, v: np.ndarray, method_re: str) -> Any:
    from statsmodels.stats.meta_analysis import combine_effects  # imported when first used: it is slow to load

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
            if tau2 <= 0 and df < Q:
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
