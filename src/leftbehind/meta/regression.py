"""Meta-regression: a mixed-effects model ``yi = X b + u_i + e_i`` with categorical (dummy-coded, first level
as reference) and continuous moderators, as R metafor's ``rma(yi, vi, mods = ~ ...)``. Public names are
re-exported by :mod:`leftbehind.meta`.

tau² is estimated on the residuals (FE: 0; DL: the generalised DerSimonian-Laird estimator; PM: the root of
``QE(tau²) = k - p``; REML: the root of the restricted score), each root found by Brent's method to machine
precision. The tests compare every number with metafor run at tight convergence
(``tests/reference/metafor_reference.json``).

Examples
--------
>>> from leftbehind import meta
>>> reg = meta.regress(([0.1, 0.3, 0.5, 0.9], [0.02, 0.03, 0.02, 0.04]), {"dose": [1, 2, 3, 4]}, method="FE")
>>> reg.coef_names, [round(b, 4) for b in reg.coef]
(['intrcpt', 'dose'], [-0.1743, 0.2457])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError
from .formatting import fmt, for_reading, format_p
from .pooling import PoolResult, pool
from .validation import _check_ci, _check_level, _check_method, _validate

__all__ = ["RegressionResult", "regress"]


@dataclass(frozen=True)
class RegressionResult:
    """Result of :func:`regress`. Coefficients are on the analysis scale of ``yi``.

    Attributes
    ----------
    coef_names : list of str
        ``"intrcpt"``, then one name per continuous moderator and ``"column[level]"`` per dummy.
    coef, se, ci_low, ci_high, z_or_t, pval : tuple of float
        Coefficients, SEs (Knapp-Hartung scaled for ``ci="hksj"``), intervals, test statistics (z, or t with
        k - p df) and two-sided p-values.
    QM, QM_df, QM_pval : float, int, float
        Omnibus test of the moderators (all coefficients but the intercept): chi-square with ``QM_df`` df, or
        with ``ci="hksj"`` an F statistic with (``QM_df``, k - p) df.
    QE, QE_df, QE_pval : float, int, float
        Test for residual heterogeneity (weights 1/vi), df k - p.
    tau2, I2, H2 : float
        Residual tau², I² (%) and H², as metafor defines them for models with moderators.
    R2 : float
        Percentage of tau² explained: ``max(0, 100 (tau²_RE - tau²) / tau²_RE)``; NaN for FE or when
        tau²_RE = 0.
    k, method, ci_method, level
        Number of studies and the model's options.
    moderators : pandas.DataFrame
        The moderators as given (for :func:`leftbehind.plots.bubble_plot`).
    yi, vi, labels, measure
        The inputs.
    """

    coef_names: list[str]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    z_or_t: tuple[float, ...]
    pval: tuple[float, ...]
    QM: float
    QM_df: int
    QM_pval: float
    QE: float
    QE_df: int
    QE_pval: float
    tau2: float
    I2: float
    H2: float
    R2: float
    k: int
    method: str
    ci_method: str
    level: float
    moderators: pd.DataFrame
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    labels: tuple[str, ...]
    measure: str | None

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: ``term``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``z_or_t``, ``pval``."""
        return pd.DataFrame(
            {
                "term": self.coef_names, "estimate": self.coef, "se": self.se, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "z_or_t": self.z_or_t, "pval": self.pval,
            }
        )  # fmt: skip

    def summary(self) -> str:
        """The model, residual heterogeneity, the moderator test and the coefficients, for reading."""
        test = "F" if self.ci_method == "hksj" else "QM"
        dfm = (
            f"df1 = {self.QM_df}, df2 = {self.k - len(self.coef)}" if self.ci_method == "hksj" else f"df = {self.QM_df}"
        )
        lines = [
            f"Meta-regression ({'fixed effects' if self.method == 'FE' else 'mixed effects, tau² estimator: ' + self.method}); k = {self.k}",
            f"  residual tau² = {fmt(self.tau2, 4)}, I² = {fmt(self.I2, 1)}%, H² = {fmt(self.H2, 2)}, R² = {fmt(self.R2, 1)}%",
            f"  residual heterogeneity: QE(df = {self.QE_df}) = {fmt(self.QE, 2)}, {format_p(self.QE_pval)}",
            f"  moderators: {test}({dfm}) = {fmt(self.QM, 2)}, {format_p(self.QM_pval)}",
            "",
            for_reading(self.to_frame()).to_string(index=False),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        head = "".join(html.escape(line) + "<br>" for line in self.summary().splitlines()[:4])
        return f"<div><p>{head}</p>{for_reading(self.to_frame()).to_html(index=False)}</div>"


#: Moderators whose columns, each scaled to unit length, leave a singular value below this fraction of the
#: largest are collinear or nearly so: the tolerance of R's ``qr()``, which ``lm`` and metafor use to find
#: redundant predictors (metafor drops them with a warning; here the model is refused, naming them).
_COLLINEAR_TOL = 1e-7


def design_matrix(moderators: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Intercept, continuous columns as they are, categorical columns as dummies (first level = reference;
    levels in category order for a pandas Categorical, else sorted).

    Raises
    ------
    MetaAnalysisError
        A moderator with missing or infinite values (their positions named), a single level, a name that gives
        a coefficient name twice (``intrcpt`` is the intercept's), or moderators that are collinear or nearly
        so (:data:`_COLLINEAR_TOL`).
    """
    cols: list[np.ndarray] = [np.ones(len(moderators))]
    names = ["intrcpt"]
    for name in moderators.columns:
        s = moderators[name]
        if isinstance(s, pd.DataFrame):
            raise MetaAnalysisError(f"moderator {name!r} is given {s.shape[1]} times: give each moderator once")
        if s.isna().any():
            raise MetaAnalysisError(
                f"moderator {name!r} has missing values at position(s) {[int(i) for i in np.flatnonzero(s.isna())]}"
            )
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            values = s.to_numpy(dtype=float)
            infinite = np.flatnonzero(~np.isfinite(values))
            if len(infinite):
                raise MetaAnalysisError(
                    f"moderator {name!r} has values that are not finite numbers at position(s) {[int(i) for i in infinite]} "
                    f"({', '.join(str(values[i]) for i in infinite[:5])}): give finite numbers"
                )
            cols.append(values)
            names.append(str(name))
            continue
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.unique(), key=str)
        if len(levels) < 2:
            raise MetaAnalysisError(f"moderator {name!r} has a single level ({levels!r}): it cannot moderate")
        for lv in levels[1:]:
            cols.append((s == lv).to_numpy(dtype=float))
            names.append(f"{name}[{lv}]")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        why = "the intercept's name" if "intrcpt" in twice else "also the name of another moderator's coefficient"
        raise MetaAnalysisError(
            f"the coefficient name(s) {twice} would be given twice ({why}): rename the moderator(s) "
            f"{[str(c) for c in moderators.columns]}"
        )
    X = np.column_stack(cols)
    weak = _collinear(X)
    if weak is not None:
        raise MetaAnalysisError(
            f"the moderators {names[1:]} are collinear or nearly so (the design matrix's columns, scaled to unit "
            f"length, have a singular value of {weak:.1e}, below {_COLLINEAR_TOL:g}): their effects cannot be told "
            "apart; drop or combine moderators"
        )
    return X, names


def _collinear(X: np.ndarray) -> float | None:
    """The smallest singular value of ``X`` with its columns scaled to unit length, relative to the largest, when
    it is below :data:`_COLLINEAR_TOL` (or a column is all zero), else ``None``."""
    norms = _norms(X)
    if not norms.all():
        return 0.0
    sv = np.linalg.svd(X / norms, compute_uv=False)
    ratio = float(sv[-1] / sv[0])
    return ratio if ratio < _COLLINEAR_TOL else None


def _norms(X: np.ndarray) -> np.ndarray:
    """The Euclidean length of each column, without overflow for values whose squares exceed the float range."""
    top = np.abs(X).max(axis=0)
    safe = np.where(top > 0, top, 1.0)
    return top * np.linalg.norm(X / safe, axis=0)


@dataclass(frozen=True)
class _Wls:
    """Weighted least squares of ``y`` on ``X`` with weights ``w``, in O(k p²) time and O(k p) memory: from the
    thin SVD of ``sqrt(w) X`` with its columns scaled to unit length, never the k × k matrix
    ``P = W - W X (X'WX)⁻¹ X'W`` of the formulas. With ``e = sqrt(w) (y - X b)`` and the leverages ``h``
    (the diagonal of the hat matrix): ``y'Py = e'e``, ``Py = sqrt(w) e`` and ``tr(P) = Σ w (1 - h)``.

    The coefficients and their covariance ``(X'WX)⁻¹`` are kept for the scaled columns too (``b_s``,
    ``cov_s``; ``b = b_s / scale``), so that standard errors and tests stay in range for moderators measured in
    very large or very small units."""

    b_s: np.ndarray
    cov_s: np.ndarray
    scale: np.ndarray
    e: np.ndarray
    h: np.ndarray
    w: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, w: np.ndarray, y: np.ndarray) -> _Wls:
        sw = np.sqrt(w)
        A = X * sw[:, None]
        scale = _norms(A)
        if not scale.all():
            raise MetaAnalysisError("a moderator is zero for every study with a weight: drop it")
        U, sv, Vt = np.linalg.svd(A / scale, full_matrices=False)
        if sv[-1] <= sv[0] * max(A.shape) * np.finfo(float).eps:
            raise MetaAnalysisError(
                "the weighted design matrix is singular at these weights (moderators collinear once weighted by "
                "the studies' precision): drop or combine moderators"
            )
        z = sw * y
        Uz = U.T @ z
        V = Vt.T
        return cls(b_s=V @ (Uz / sv), cov_s=(V / sv**2) @ V.T, scale=scale, e=z - U @ Uz,
                   h=np.einsum("ij,ij->i", U, U), w=w)  # fmt: skip

    @property
    def b(self) -> np.ndarray:
        return self.b_s / self.scale

    def yPy(self) -> float:
        return float(self.e @ self.e)

    def trace_p(self) -> float:
        return float(self.w @ (1.0 - self.h))

    def Py(self) -> np.ndarray:
        return np.sqrt(self.w) * self.e


def _root(f: Any) -> float:
    """The root of a decreasing ``f`` on [0, inf), or 0 when ``f(0) <= 0``."""
    from scipy import optimize

    if f(0.0) <= 0:
        return 0.0
    hi = 1.0
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e300:
            raise MetaAnalysisError("tau² estimator did not converge (no root below 1e300)")
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=10000))


def _tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str) -> float:
    k, p = X.shape
    if method == "FE":
        return 0.0
    if method == "DL":
        fit = _Wls.fit(X, 1.0 / v, y)
        return max(0.0, (fit.yPy() - (k - p)) / fit.trace_p())
    if method == "PM":
        return _root(lambda t: _Wls.fit(X, 1.0 / (v + t), y).yPy() - (k - p))

    def score(t: float) -> float:
        fit = _Wls.fit(X, 1.0 / (v + t), y)
        Py = fit.Py()
        return float(Py @ Py) - fit.trace_p()

    return _root(score)


def _as_inputs(data: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str | None]:
    if isinstance(data, PoolResult):
        if not data.yi:
            raise MetaAnalysisError("this fit keeps no inputs (yi, vi): make it with meta.pool")
        return np.asarray(data.yi), np.asarray(data.vi), data.labels, data.measure
    if not isinstance(data, tuple) or len(data) != 2:
        raise MetaAnalysisError("give a fit from meta.pool, or a pair (yi, vi)")
    y, v, *_ = _validate(data[0], data[1], "FE", "normal", 0.95)
    return y, v, (), None


def regress(
    data: PoolResult | tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray],
    moderators: pd.DataFrame | Mapping[str, Sequence[Any]],
    method: str = "REML",
    ci: str = "normal",
    level: float = 0.95,
) -> RegressionResult:
    """Meta-regression of the effects on moderators, as metafor's ``rma(yi, vi, mods = ~ ...)``.

    Parameters
    ----------
    data : PoolResult or (yi, vi)
        A fit from :func:`pool` (its effects, variances, labels and measure are used), or effects and
        sampling variances.
    moderators : pandas.DataFrame or mapping
        One column per moderator, one row per study, in the order of the effects. Numeric columns are
        continuous; other columns (strings, booleans, categoricals) are dummy-coded with the first level
        (category order, else sorted) as reference.
    method : {"REML", "DL", "PM", "FE"}, default "REML"
        Estimator of the residual tau².
    ci : {"normal", "hksj"}, default "normal"
        ``"hksj"``: Knapp-Hartung (metafor ``test="knha"``): SEs scaled by ``sqrt(QE(tau²)/(k - p))``, t tests
        with k - p df, and an F test for the moderators.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    RegressionResult
        Coefficients with SE/CI/p, QM, QE, residual tau², I², H² and R²; ``summary()``, ``to_frame()``.

    Raises
    ------
    MetaAnalysisError
        If the inputs are invalid, a moderator has missing or infinite values or the wrong length, a moderator's
        name repeats a coefficient name (``intrcpt``), the design is collinear or nearly so, or k - p < 1.

    Notes
    -----
    Computed from the thin SVD of the weighted design (O(k p²) time, O(k p) memory), never a k × k matrix:
    k = 100,000 studies fit in a few tens of MB.

    Examples
    --------
    >>> reg = regress(([0.1, 0.3, 0.5, 0.9, 0.4], [0.02, 0.03, 0.02, 0.04, 0.05]),
    ...               {"scope": ["in", "in", "out", "out", "out"]}, method="DL")
    >>> reg.coef_names, reg.QM_df
    (['intrcpt', 'scope[out]'], 1)
    """
    from scipy import stats

    method, ci, level = _check_method(method), _check_ci(ci), _check_level(level)
    y, v, labels, measure = _as_inputs(data)
    mods = pd.DataFrame(moderators).reset_index(drop=True)
    if len(mods) != y.shape[0]:
        raise MetaAnalysisError(f"moderators must have one row per study: got {len(mods)} rows for k = {y.shape[0]}")
    X, names = design_matrix(mods)
    k, p = X.shape
    if k - p < 1:
        raise MetaAnalysisError(f"too few studies for {p} coefficients: k = {k}, need k > p")
    tau2 = _tau2(y, v, X, method)
    fit = _Wls.fit(X, 1.0 / (v + tau2), y)
    b = fit.b
    fe = _Wls.fit(X, 1.0 / v, y)
    QE = fe.yPy()
    vb_s = fit.cov_s  # of the scaled coefficients fit.b_s: the tests below do not depend on the scale
    if ci == "hksj":
        vb_s = vb_s * fit.yPy() / (k - p)
    se = np.sqrt(np.diag(vb_s)) / fit.scale
    stat = fit.b_s / np.sqrt(np.diag(vb_s))
    m = p - 1
    QM = float(fit.b_s[1:] @ np.linalg.solve(vb_s[1:, 1:], fit.b_s[1:])) if m else float("nan")
    if ci == "hksj":
        crit = float(stats.t.isf((1 - level) / 2, k - p))
        pv = 2 * stats.t.sf(np.abs(stat), k - p)
        QM = QM / m if m else QM
        QMp = float(stats.f.sf(QM, m, k - p)) if m else float("nan")
    else:
        crit = float(stats.norm.isf((1 - level) / 2))
        pv = 2 * stats.norm.sf(np.abs(stat))
        QMp = float(stats.chi2.sf(QM, m)) if m else float("nan")
    if method == "FE":
        I2 = max(0.0, 100 * (QE - (k - p)) / QE) if QE > 0 else 0.0
        H2, R2 = QE / (k - p), float("nan")
    else:
        vt = (k - p) / fe.trace_p()
        I2, H2 = 100 * tau2 / (vt + tau2), tau2 / vt + 1
        tau2_re = pool(y, v, method=method).tau2
        R2 = max(0.0, 100 * (tau2_re - tau2) / tau2_re) if tau2_re > 0 else float("nan")
    t = tuple(float(x) for x in b)
    return RegressionResult(
        names, t, tuple(float(x) for x in se), tuple(float(x) for x in b - crit * se),
        tuple(float(x) for x in b + crit * se), tuple(float(x) for x in stat), tuple(float(x) for x in pv),
        QM, m, QMp, QE, k - p, float(stats.chi2.sf(QE, k - p)), float(tau2), float(I2), float(H2), float(R2),
        k, method, ci, level, mods, tuple(float(x) for x in y), tuple(float(x) for x in v), labels, measure,
    )  # fmt: skip
