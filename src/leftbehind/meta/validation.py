"""The choices a meta-analysis takes, declared once (methods, interval methods, measures), and the checks of its
inputs (effects, variances, level). Used by every function of :mod:`leftbehind.meta` and by the plan's
parameter domains.

Examples
--------
>>> METHODS, CI_METHODS
(('FE', 'DL', 'PM', 'REML'), ('normal', 'hksj'))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError, check_choice

#: tau^2 estimators: fixed (equal) effect, DerSimonian-Laird, Paule-Mandel, restricted maximum likelihood.
METHODS: tuple[str, ...] = ("FE", "DL", "PM", "REML")
#: Confidence-interval methods: normal (Wald) or Hartung-Knapp-Sidik-Jonkman (t with k - 1 df).
CI_METHODS: tuple[str, ...] = ("normal", "hksj")
#: Each interval method as a sentence or caption names it.
CI_NAMES: dict[str, str] = {"normal": "normal", "hksj": "HKSJ"}
#: Measures pooled on the log scale (odds ratio, risk ratio) and on the raw scale (SMD, mean difference).
RATIO_MEASURES: tuple[str, ...] = ("OR", "RR")
DIFFERENCE_MEASURES: tuple[str, ...] = ("SMD", "MD")


def _positions(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _as_float_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)):
        raise MetaAnalysisError(f"{name} must be a sequence of numbers, got a string")
    if x is None:
        raise MetaAnalysisError(f"{name} must be a sequence of numbers, got None")
    try:
        items = list(x) if not isinstance(x, np.ndarray) else []
    except TypeError:
        items = []
    odd = [i for i, v in enumerate(items) if isinstance(v, (bool, np.bool_, str, bytes))]
    if odd:
        raise MetaAnalysisError(
            f"{name} must contain numbers only; True/False or text at position(s) {odd} (a number as text is not "
            "read as one)"
        )
    if isinstance(x, np.ndarray) and x.dtype.kind in "bUSO" and x.dtype.kind != "O":
        raise MetaAnalysisError(f"{name} must contain numbers only, got an array of {x.dtype}")
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
    return check_choice("method", method, METHODS, "a pooling method (tau^2 estimator)", MetaAnalysisError, str.upper)


def _check_ci(ci: str) -> str:
    return check_choice("ci", ci, CI_METHODS, "a confidence-interval method", MetaAnalysisError, str.lower)


def _check_measure(measure: str) -> str:
    return check_choice(
        "measure", measure, RATIO_MEASURES + DIFFERENCE_MEASURES, "an effect measure", MetaAnalysisError, str.upper
    )


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)):
        raise MetaAnalysisError(f"level must be a number strictly between 0 and 1, got {level!r}")
    level = float(level)
    if not (0.0 < level < 1.0) or not math.isfinite(level):
        raise MetaAnalysisError(f"level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return level


def _validate(yi: Any, vi: Any, method: str, ci: str, level: Any) -> tuple[np.ndarray, np.ndarray, str, str, float]:
    method = _check_method(method)
    ci = _check_ci(ci)
    level = _check_level(level)
    y = _as_float_array(yi, "yi")
    v = _as_float_array(vi, "vi")
    if isinstance(yi, pd.Series) and isinstance(vi, pd.Series) and not yi.index.equals(vi.index):
        raise MetaAnalysisError(
            "yi and vi are Series with different indexes: they would be paired by position, not by label "
            "(align them first, e.g. vi.reindex(yi.index), or pass arrays)"
        )
    if y.shape[0] != v.shape[0]:
        raise MetaAnalysisError(f"yi and vi must have the same length, got {y.shape[0]} and {v.shape[0]}")
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
