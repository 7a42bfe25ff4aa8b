"""Result containers that need nothing of the pooling code: :class:`EggerResult`. Re-exported by
:mod:`leftbehind.meta` (and, for earlier callers, by :mod:`leftbehind.meta.pooling`).

Examples
--------
>>> EggerResult(k=3, intercept=1.0, intercept_se=0.5, t=2.0, df=1, pval=0.3, slope=0.1, slope_se=0.05).t
2.0
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EggerResult"]


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
