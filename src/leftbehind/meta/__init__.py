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

All four are computed by this package (:mod:`leftbehind.meta.estimators`) on a standardised scale, with
relative stopping rules, so that results do not depend on the units of the effects: pooling ``c*yi`` with
variances ``c**2*vi`` gives ``c`` times the estimate and ``c**2`` times tau^2, for effects in SD units or
in currency alike. They agree with metafor (the tests compare with its results) and with statsmodels'
``combine_effects`` for DL and PM. The random-effects summary (estimate, SE, HKSJ scaling, I^2, H^2 and the
prediction interval) is always computed from the final tau^2 by the same code. Inputs too extreme for double
precision raise :class:`~leftbehind.errors.MetaAnalysisError` rather than give NaN.

Modules: ``validation`` (the choices, declared once, and input checks), ``estimators`` (tau^2 estimators),
``pooling`` (the summary, result objects), ``sensitivity`` (subgroups, leave-one-out,
cumulative, Egger), ``subgroup`` (the subgroup result object), ``regression`` (meta-regression), ``formatting`` (numbers for reading), ``scales`` (effect sizes from intervals, back-transformation). Nothing here reads the
data package: the engine works on any ``yi``/``vi``.

Examples
--------
>>> from leftbehind import meta
>>> round(meta.pool([0.1, 0.3], [0.04, 0.04], method="FE").estimate, 2)
0.2
"""

from __future__ import annotations

from .formatting import for_reading, format_p
from .pooling import EggerResult, PoolResult, pool
from .regression import RegressionResult, regress
from .scales import back_transform, effect_from_ci, on_reporting_scale
from .sensitivity import cumulative, egger_test, leave_one_out, subgroups
from .subgroup import SubgroupResult
from .validation import CI_METHODS, CI_NAMES, DIFFERENCE_MEASURES, METHODS, RATIO_MEASURES

__all__ = [
    "PoolResult",
    "EggerResult",
    "SubgroupResult",
    "RegressionResult",
    "regress",
    "format_p",
    "for_reading",
    "METHODS",
    "CI_METHODS",
    "CI_NAMES",
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
