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
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError, check_choice
from .estimators import MAXITER as MAXITER
from .estimators import TOL as TOL
from .estimators import WeightSums, standardise, tau2_dl, tau2_pm, tau2_pm_brent, tau2_reml
from .formatting import EFFECT_COLUMNS
from .results import EggerResult as EggerResult
from .validation import RATIO_MEASURES, _check_measure, _validate

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
    yi: tuple[float, ...] = ()
    vi: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    measure: str | None = None

    def summary(self) -> str:
        """A text block in the spirit of metafor's ``print.rma``: the model, heterogeneity (tau², tau, I², H²,
        Q with df and p), the pooled effect with SE, z or t, p, CI and prediction interval on the analysis
        scale, and for a ratio measure (OR, RR) the same on the ratio scale.

        Examples
        --------
        >>> r = pool([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], method="DL", measure="OR")
        >>> print(r.summary())
        Random-effects model (tau² estimator: DL); k = 3; test: z (normal)
        <BLANKLINE>
        Heterogeneity
          tau² = 0.1500, tau = 0.3873, I² = 60.0%, H² = 2.50
          Q(df = 2) = 5.00, p = 0.082
        <BLANKLINE>
        Pooled effect (log odds ratio)
          estimate = 0.5000, SE = 0.2887, z = 1.73, p = 0.083
          95% CI [-0.0658, 1.0658]
          95% prediction interval [-0.4468, 1.4468]
        <BLANKLINE>
        Pooled effect (ratio scale: OR)
          OR = 1.649, 95% CI [0.936, 2.903]
          95% prediction interval [0.640, 4.249]
        """
        from .formatting import summary_text

        return summary_text(self)

    def to_frame(self, scale: str = "reporting") -> pd.DataFrame:
        """The fit as a one-row table. ``scale="analysis"``: effects on the scale of ``yi`` (log ratios for
        OR/RR). ``scale="reporting"`` (default): ratios for OR/RR, with the SE on the log scale as ``se_log``;
        differences are the same on both scales.

        Examples
        --------
        >>> r = pool([0.0, 0.5, 1.0], [0.1, 0.1, 0.1], method="DL", measure="OR")
        >>> [round(float(r.to_frame(s)["estimate"].iloc[0]), 4) for s in ("reporting", "analysis")]
        [1.6487, 0.5]
        """
        check_choice("scale", scale, ("reporting", "analysis"), "a table scale", MetaAnalysisError)
        row: dict[str, object] = {"measure": self.measure or "", "method": self.method, "ci_method": self.ci_method}
        row.update({f: getattr(self, f) for f in _FRAME_FIELDS})
        out = pd.DataFrame([row])
        if scale == "reporting" and self.measure in RATIO_MEASURES:
            for col in EFFECT_COLUMNS:
                out[col] = np.exp(out[col].to_numpy(dtype=float))
            out = out.rename(columns={"se": "se_log"})
        return out

    def _repr_html_(self) -> str:
        """An HTML table for JupyterLab; every string is escaped.

        Examples
        --------
        >>> r = pool([0.1, 0.3], [0.04, 0.04], method="FE", measure="SMD")
        >>> html = r._repr_html_()
        >>> html.startswith("<div><p><b>Fixed (equal) effect model; k = 2"), "<td>0.200</td>" in html
        (True, True)
        """
        from .formatting import html_table

        return html_table(self, self.to_frame())

    def study_labels(self) -> list[str]:
        """The studies' labels, or ``Study 1`` ... ``Study k`` when the fit was made without labels."""
        return list(self.labels) if self.labels else [f"Study {i + 1}" for i in range(len(self.yi))]


_FRAME_FIELDS = (
    "k", "estimate", "se", "ci_low", "ci_high", "z_or_t", "pval", "tau2", "tau", "I2", "H2", "Q", "Q_df", "Q_pval",
    "pi_low", "pi_high", "level",
)  # fmt: skip


# --------------------------------------------------------------------------
# core
# --------------------------------------------------------------------------
#: Private names kept for callers and tests of earlier versions.
_tau2_reml = tau2_reml
_tau2_pm_brent = tau2_pm_brent


def _fit(y: np.ndarray, v: np.ndarray, method: str) -> tuple[float, float, float, float, float, float, np.ndarray]:
    """``(tau2, estimate, se, se_hksj, Q, s2, weights)`` on the scale of ``y`` (see :func:`standardise`)."""
    k = y.shape[0]
    df = k - 1
    fe = WeightSums(y, 1.0 / v)
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = tau2_dl(y, v)
    elif method == "PM":
        tau2 = tau2_pm(y, v)
    else:  # REML, started from the DL estimate
        tau2 = tau2_reml(y, v, start=tau2_dl(y, v))
    s = fe if tau2 == 0.0 else WeightSums(y, 1.0 / (v + tau2))
    se = math.sqrt(1.0 / s.sw)
    se_hk = math.sqrt(float(np.sum(s.a * s.resid**2)) / df) if df > 0 else float("nan")
    s2 = df / fe.c if df > 0 else float("nan")
    return tau2, s.mu, se, se_hk, fe.Q if k >= 2 else 0.0, s2, s.a


def _pool_arrays(y: np.ndarray, v: np.ndarray, method: str, ci: str, level: float) -> PoolResult:
    from scipy import stats

    k = y.shape[0]
    df = k - 1
    ys, vs, centre, e = standardise(y, v)
    try:
        with np.errstate(all="ignore"):
            tau2_s, est_s, se_norm_s, se_hk_s, Q, s2, weights = _fit(ys, vs, method)
    except ArithmeticError:  # ZeroDivisionError, OverflowError, FloatingPointError
        raise _out_of_range("intermediate sums overflow or vanish", y, v) from None
    Q_pval = float(stats.chi2.sf(Q, df)) if df > 0 else float("nan")
    if method == "FE":
        if df > 0 and Q > 0:
            I2 = max(0.0, 100.0 * (Q - df) / Q)
        else:
            I2 = 0.0 if df > 0 else float("nan")
        H2 = Q / df if df > 0 else float("nan")
    else:
        I2 = 100.0 * tau2_s / (tau2_s + s2)
        H2 = (tau2_s + s2) / s2

    alpha = 1.0 - level
    if ci == "hksj":
        se_s = se_hk_s
        crit = float(stats.t.isf(alpha / 2.0, df))
    else:
        se_s = se_norm_s
        crit = float(stats.norm.isf(alpha / 2.0))
    est = centre + math.ldexp(est_s, e)
    se = math.ldexp(se_s, e)
    tau2 = math.ldexp(tau2_s, 2 * e)
    if ci == "hksj":
        stat = est / se if se > 0 else float("nan")
        pval = float(2.0 * stats.t.sf(abs(stat), df)) if se > 0 else float("nan")
    else:
        stat = est / se
        pval = float(2.0 * stats.norm.sf(abs(stat)))
    ci_low, ci_high = est - crit * se, est + crit * se
    if method == "FE":
        pi_low = pi_high = float("nan")
    else:
        half = math.ldexp(crit * math.sqrt(se_s**2 + tau2_s), e)
        pi_low, pi_high = est - half, est + half

    wpct = tuple(float(x) for x in 100.0 * weights)
    result = PoolResult(
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
    _check_finite(result, y, v)
    return result


def _check_finite(r: PoolResult, y: np.ndarray, v: np.ndarray) -> None:
    """Raise when a number that valid inputs always give is NaN or infinite: the inputs are beyond what double
    precision can pool (e.g. effects that differ by more than about 1e154 standard errors), and a result with a
    NaN or a silently wrong tau^2 would be worse than an error."""
    fields = ["estimate", "se", "ci_low", "ci_high", "tau2", "Q"]
    if r.Q_df > 0:
        fields += ["I2", "H2", "Q_pval"]
    if r.method != "FE":
        fields += ["pi_low", "pi_high"]
    if r.se > 0:
        fields += ["z_or_t", "pval"]
    bad = [f for f in fields if not math.isfinite(getattr(r, f))]
    if not all(math.isfinite(w) for w in r.weights):
        bad.append("weights")
    if bad:
        raise _out_of_range(f"{', '.join(bad)} would not be finite", y, v)


def _out_of_range(what: str, y: np.ndarray, v: np.ndarray) -> MetaAnalysisError:
    return MetaAnalysisError(
        f"cannot pool these inputs in double precision: {what} (effects from {float(y.min()):.3g} to "
        f"{float(y.max()):.3g}, variances from {float(v.min()):.3g} to {float(v.max()):.3g}); effects or "
        "variances this extreme, or this far apart, are out of range"
    )


def pool(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
    *,
    labels: Sequence[object] | None = None,
    measure: str | None = None,
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
        relative tolerance 1e-10, truncated at 0), DerSimonian-Laird
        (truncated at 0), Paule-Mandel, or the fixed (equal) effect model
        (tau^2 = 0). Case-insensitive. Results do not depend on the units of
        ``yi``: pooling ``c*yi``, ``c**2*vi`` gives ``c`` times the estimate,
        SE and interval limits, ``c**2`` times tau^2 and the same I^2 and Q
        (see :mod:`leftbehind.meta.estimators`).
    ci : {"normal", "hksj"}, default "normal"
        ``"normal"``: Wald z tests and intervals. ``"hksj"``: the
        Hartung-Knapp-Sidik-Jonkman method, as metafor ``test="knha"``. The
        SE is multiplied by ``sqrt(q)``,
        ``q = sum(w_i (y_i - est)^2) / (k - 1)``, with no truncation of q at 1,
        and tests and intervals use t with k-1 df.
    level : float, default 0.95
        Confidence (and prediction) level, strictly between 0 and 1.
    labels : sequence, optional
        One label per study, kept in the result for forest plots and leave-one-out tables.
    measure : {"OR", "RR", "SMD", "MD"}, optional
        The measure of ``yi``, kept in the result so that it presents itself on the reporting scale
        (ratios for OR/RR).

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
        tau^2 estimator does not converge, or if the inputs are too extreme
        to pool in double precision (a result would be NaN or infinite, e.g.
        effects that differ by more than about 1e154 standard errors).

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
    return with_inputs(_pool_arrays(y, v, method, ci, level), y, v, labels, measure)


def with_inputs(
    r: PoolResult, y: np.ndarray, v: np.ndarray, labels: Sequence[object] | None, measure: str | None
) -> PoolResult:
    """``r`` keeping its inputs: effects, variances, labels (checked: one per study) and measure (checked)."""
    labs: tuple[str, ...] = ()
    if labels is not None:
        labs = tuple(str(x) for x in labels)
        if len(labs) != y.shape[0]:
            raise MetaAnalysisError(
                f"labels must have one entry per study: got {len(labs)} labels for k = {y.shape[0]}"
            )
    m = _check_measure(measure) if measure is not None else None
    return replace(r, yi=tuple(float(x) for x in y), vi=tuple(float(x) for x in v), labels=labs, measure=m)
