"""Effect sizes from the numbers papers print: log odds/risk ratios, (standardised) mean differences, and their
conversion to one scale. Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> es = pd.DataFrame({"yi": [0.0], "vi": [0.04], "es_measure": ["SMD"], "higher_is_worse": [True]})
>>> to_smd(es)["yi"].tolist()
[0.0]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..meta import effect_from_ci


def effect_sizes(df: pd.DataFrame) -> pd.DataFrame:
    """Analysis-ready effect sizes for effect rows, on the log scale for ratios.

    Per row, in order of preference: a printed OR/RR with its CI → log ratio and variance from the CI
    (:func:`leftbehind.meta.effect_from_ci`); a printed SMD or MD with CI → the same on the raw scale;
    2×2 counts → log odds ratio and variance (Woolf), via ``statsmodels``; means, SDs and ns of both
    groups → Hedges' g and its variance, via ``statsmodels``. Rows where none applies get NaN.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``yi``, ``vi``, ``es_measure`` (``logOR``, ``logRR``, ``SMD`` or ``MD``) and ``es_source``
        (``ci``, ``2x2`` or ``means``). Signs follow the row's comparison (left-behind vs comparison).

    Examples
    --------
    >>> rows = pd.DataFrame({"measure": [None], "estimate": [None], "ci_low": [None], "ci_high": [None],
    ...     "ci_level": [None], "events_lb": [27], "total_lb": [110], "events_comp": [20], "total_comp": [113],
    ...     "mean_lb": [None], "sd_lb": [None], "n_lb": [None], "mean_comp": [None], "sd_comp": [None], "n_comp": [None]})
    >>> r = effect_sizes(rows).iloc[0]
    >>> round(float(r.yi), 4), round(float(r.vi), 4), r.es_measure
    (0.4139, 0.1098, 'logOR')
    """
    from statsmodels.stats.meta_analysis import effectsize_2proportions, effectsize_smd

    out = df.copy()
    yi, vi, kind, src = [], [], [], []
    for r in out.itertuples():
        y = v = math.nan
        k = s = None
        measure = r.measure if isinstance(r.measure, str) else ""
        level = r.ci_level if not pd.isna(r.ci_level) else 0.95
        if (
            measure in ("OR", "RR", "SMD", "MD")
            and not pd.isna(r.estimate)
            and not pd.isna(r.ci_low)
            and not pd.isna(r.ci_high)
        ):
            y, v = effect_from_ci(float(r.estimate), float(r.ci_low), float(r.ci_high), measure, level=float(level))
            k, s = {"OR": "logOR", "RR": "logRR"}.get(measure, measure), "ci"
        elif not any(pd.isna(x) for x in (r.events_lb, r.total_lb, r.events_comp, r.total_comp)):
            a, n1, c, n2 = int(r.events_lb), int(r.total_lb), int(r.events_comp), int(r.total_comp)
            if 0 < a < n1 and 0 < c < n2:
                y, v = (float(x) for x in effectsize_2proportions(a, n1, c, n2, statistic="odds-ratio"))
                k, s = "logOR", "2x2"
        elif not any(pd.isna(x) for x in (r.mean_lb, r.sd_lb, r.n_lb, r.mean_comp, r.sd_comp, r.n_comp)):
            y, v = (
                float(x)
                for x in effectsize_smd(
                    float(r.mean_lb), float(r.sd_lb), int(r.n_lb), float(r.mean_comp), float(r.sd_comp), int(r.n_comp)
                )
            )
            k, s = "SMD", "means"
        yi.append(y)
        vi.append(v)
        kind.append(k)
        src.append(s)
    return out.assign(yi=yi, vi=vi, es_measure=kind, es_source=src)


def to_smd(es: pd.DataFrame) -> pd.DataFrame:
    """Put log odds ratios on the SMD scale (Chinn 2000: d = ln(OR)·√3/π, var × 3/π²) and orient every
    effect so that a positive value means worse for left-behind children (using ``higher_is_worse``).

    Rows whose ``es_measure`` is logRR or MD are dropped (no standard conversion), and so are rows whose
    ``higher_is_worse`` is unknown (their orientation cannot be set).

    Examples
    --------
    >>> es = pd.DataFrame({"yi": [math.log(2.0), 0.3], "vi": [0.04, 0.01], "es_measure": ["logOR", "SMD"],
    ...                    "higher_is_worse": [True, False]})
    >>> [round(x, 4) for x in to_smd(es)["yi"]]
    [0.3822, -0.3]
    """
    orientation = es["higher_is_worse"].map(
        lambda v: 1.0 if v in (True, "yes") else -1.0 if v in (False, "no") else math.nan
    )
    es = es[es["es_measure"].isin(["logOR", "SMD"]) & orientation.notna()].copy()
    factor = np.where(es["es_measure"] == "logOR", math.sqrt(3) / math.pi, 1.0)
    sign = orientation[es.index].to_numpy(dtype=float)
    es["yi"] = es["yi"].to_numpy(dtype=float) * factor * sign
    es["vi"] = es["vi"].to_numpy(dtype=float) * factor**2
    es["es_measure"] = "SMD"
    return es
