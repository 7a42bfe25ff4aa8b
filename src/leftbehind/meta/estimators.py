"""The tau^2 estimators (DerSimonian-Laird, Paule-Mandel, REML) and the fixed-effect sums, computed so that the
answer does not depend on the units of the effects.

Effects in currency (order 1e3-1e4) and effects in SD units must get the same treatment: pooling ``c*yi`` with
variances ``c**2*vi`` gives ``c`` times the estimate and ``c**2`` times tau^2 for any ``c``. Three things make it so:

* :func:`standardise` centres the effects on their median and divides them by a power of two near the typical
  standard error (so the rescaling itself is exact in binary floating point);
* every stopping rule is relative (:data:`TOL` times ``tau2 + typical vi``, or the dimensionless
  Paule-Mandel estimating equation);
* sums over weights are taken on normalised weights, and ``1 - a_i`` as the sum of the other weights, so that one
  study with a weight many orders of magnitude above the others neither overflows nor cancels to zero.

A number that cannot be represented (an estimating equation that overflows) raises ``FloatingPointError``, which
:func:`leftbehind.meta.pool` turns into a :class:`~leftbehind.errors.MetaAnalysisError` naming the inputs.

Examples
--------
>>> import numpy as np
>>> y, v = np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.1, 0.1])
>>> round(tau2_dl(y, v), 6), round(tau2_pm(y, v), 6)
(0.15, 0.15)
>>> round(tau2_dl(1e4 * y, 1e8 * v) / 1e8, 6)
0.15
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import MetaAnalysisError

#: Convergence tolerance, relative: REML stops when a step changes tau^2 by less than ``TOL * (tau2 + median
#: vi)``; Paule-Mandel when its (dimensionless) estimating equation is within ``TOL`` of 0.
TOL: float = 1e-10
MAXITER: int = 1000
#: Newton steps of the Paule-Mandel solver before it hands over to Brent's method.
NEWTON_STEPS: int = 100

__all__ = [
    "MAXITER",
    "NEWTON_STEPS",
    "TOL",
    "WeightSums",
    "standardise",
    "tau2_dl",
    "tau2_pm",
    "tau2_pm_brent",
    "tau2_reml",
]


def standardise(y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """``((y - centre) / 2**e, v / 4**e, centre, e)``: effects centred on their median and scaled by the power of
    two ``2**e`` nearest the square root of the median variance, so that the typical variance is of order 1.

    Multiplying by a power of two is exact, so results map back exactly (``estimate = centre + 2**e * est``).

    Examples
    --------
    >>> ys, vs, centre, e = standardise(np.array([1000.0, 3000.0, 2000.0]), np.array([4e4, 9e4, 1e4]))
    >>> ys.tolist(), vs.tolist(), centre, e
    ([-3.90625, 3.90625, 0.0], [0.6103515625, 1.373291015625, 0.152587890625], 2000.0, 8)
    """
    centre = float(np.median(y))
    _, exponent = math.frexp(float(np.median(v)))
    e = exponent // 2
    return np.ldexp(y - centre, -e), np.ldexp(v, -2 * e), centre, e


def _others(x: np.ndarray) -> np.ndarray:
    """For each i, the sum of ``x[j]`` over ``j != i`` (``x >= 0``), without the cancellation of ``sum(x) - x[i]``."""
    csum = np.cumsum(x)
    before = np.concatenate(([0.0], csum[:-1]))
    after = np.concatenate((np.cumsum(x[::-1])[::-1][1:], [0.0]))
    return before + after


class WeightSums:
    """Weighted sums for weights ``w`` and effects ``y``, taken on normalised weights ``a = w / sum(w)``.

    Attributes: ``sw`` (sum of weights), ``a``, ``others`` (``1 - a_i``, as the sum of the other ``a_j``), ``mu``
    (weighted mean), ``resid`` (``y - mu``), ``Q`` (``sum w resid^2``), ``c`` (``sum w - sum w^2 / sum w``, the
    DerSimonian-Laird denominator, ``(k - 1) / c`` being metafor's typical within-study variance).
    """

    def __init__(self, y: np.ndarray, w: np.ndarray) -> None:
        self.sw = float(w.sum())
        self.a = w / self.sw
        self.others = _others(self.a)
        self.mu = float(np.sum(self.a * y))
        self.resid = y - self.mu
        self.Q = float(np.sum(w * self.resid**2))
        self.c = self.sw * float(np.sum(self.a * self.others))


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird tau^2, truncated at 0."""
    s = WeightSums(y, 1.0 / v)
    return max(0.0, (s.Q - (y.shape[0] - 1)) / s.c)


def tau2_reml(y: np.ndarray, v: np.ndarray, start: float) -> float:
    """REML tau^2 by Fisher scoring, as metafor ``rma.uni(method="REML")``.

    Update ``tau2 += (Y'PPY - tr(P)) / tr(PP)`` with ``P = W - w w'/sum(w)``, ``W = diag(1/(vi + tau2))``; a step
    that would go below 0 is truncated at 0 (projected scoring). Each term is written with normalised weights
    ``a``: ``Y'PPY = sw^2 sum(a^2 r^2)``, ``tr(P) = sw sum(a (1 - a))``, ``tr(PP) = sw^2 (sum a^2 (1 - a)^2 +
    sum_{i != j} a_i^2 a_j^2)``. Stops when a step changes tau^2 by less than ``TOL * (tau2 + median(vi))``;
    raises after :data:`MAXITER` steps.
    """
    typical = float(np.median(v))
    tau2 = max(0.0, float(start))
    for _ in range(MAXITER):
        s = WeightSums(y, 1.0 / (v + tau2))
        a2 = s.a**2
        ypp_y = float(np.sum(a2 * s.resid**2))
        tr_p = float(np.sum(s.a * s.others)) / s.sw
        tr_pp = float(np.sum(a2 * s.others**2) + np.sum(a2 * _others(a2)))
        new = max(0.0, tau2 + (ypp_y - tr_p) / tr_pp)
        if not math.isfinite(new):
            raise FloatingPointError("REML step is not finite")
        change = abs(new - tau2)
        tau2 = new
        if change <= TOL * (tau2 + typical):
            return tau2
    raise MetaAnalysisError(
        f"REML estimation of tau^2 did not converge in {MAXITER} iterations (relative tolerance {TOL})"
    )


def tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel tau^2: the root of ``Q(tau2) = sum w (y - mu_w)^2 = k - 1``, or 0 when ``Q(0) <= k - 1``.

    Newton steps from 0 (``tau2 += (Q - (k - 1)) / sum(w^2 r^2)``, DerSimonian and Kacker 2007, as statsmodels'
    ``combine_effects(method_re="pm")``) until ``|Q - (k - 1)| <= TOL``; a step past the root (rounding near it)
    hands over to Brent's method within the bracket found, and so does a root not reached in
    :data:`NEWTON_STEPS` steps.
    """
    df = y.shape[0] - 1
    tau2 = 0.0
    for _ in range(NEWTON_STEPS):
        s = WeightSums(y, 1.0 / (v + tau2))
        ee = s.Q - df
        if not math.isfinite(ee):
            raise FloatingPointError("Paule-Mandel estimating equation is not finite")
        if ee < 0.0:
            return 0.0 if tau2 == 0.0 else tau2_pm_brent(y, v, hi=tau2)
        if abs(ee) <= TOL:
            return tau2
        tau2 += ee / s.sw / (s.sw * float(np.sum(s.a**2 * s.resid**2)))  # sum(w^2 r^2) without under/overflow
    return tau2_pm_brent(y, v)  # Newton from 0 is slow when tau^2 is many orders above the variances


def tau2_pm_brent(y: np.ndarray, v: np.ndarray, hi: float | None = None) -> float:
    """Paule-Mandel root by Brent's method, bracketed in ``[0, hi]`` (``hi`` found by doubling when not given);
    the bracket width stops at ``TOL`` relative to ``tau2 + median(vi)`` (about machine precision)."""
    from scipy.optimize import brentq

    k = y.shape[0]

    def f(t2: float) -> float:
        return WeightSums(y, 1.0 / (v + t2)).Q - (k - 1)

    if f(0.0) <= 0:
        return 0.0
    typical = float(np.median(v))
    if hi is None:
        hi = max(typical, float(np.var(y)) * 2)
        n = 0
        while f(hi) > 0:
            hi *= 2.0
            n += 1
            if n > 2100 or not math.isfinite(hi):
                raise FloatingPointError("Paule-Mandel estimation of tau^2 failed to bracket the root")
    xtol = max(TOL * typical * 1e-3, 5e-324)
    return float(brentq(f, 0.0, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=MAXITER))
