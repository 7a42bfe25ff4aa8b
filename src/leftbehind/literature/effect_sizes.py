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
    2×2 counts → log odds ratio and variance (Woolf), via ``statsmodels``; group sizes with the percentage of
    each group with the outcome (``pct_lb``, ``pct_comp``) and no printed counts → counts rebuilt from the
    percentages (:func:`~leftbehind.literature.percentages.rebuild_counts`), then the same log odds ratio;
    means, SDs and ns of both groups → Hedges' g and its variance, via ``statsmodels``. Rows where none applies
    get NaN, and ``es_problem`` says why when the printed numbers contradict each other.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``yi``, ``vi``, ``es_measure`` (``logOR``, ``logRR``, ``SMD`` or ``MD``), ``es_source``
        (``ci``, ``2x2``, ``percentages`` or ``means``) and, for counts rebuilt from percentages, the counts used
        (``rebuilt_events_lb``, ``rebuilt_events_comp``), the ranges consistent with the percentages
        (``events_lb_range``, ``events_comp_range``, e.g. "241-243"), the log odds ratios at the two ends of those
        ranges (``yi_low``, ``yi_high``), the check against a printed statistic (``counts_check``) and
        ``es_problem`` (empty when the row's numbers agree). Signs follow the row's comparison (left-behind vs
        comparison).

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
    rebuilt: list[dict[str, object]] = []
    for r in out.itertuples():
        y = v = math.nan
        k = s = None
        extra: dict[str, object] = {}
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
        elif _percentages_printed(r):
            extra = _from_percentages(r)
            y, v = float(extra.pop("yi")), float(extra.pop("vi"))  # type: ignore[arg-type]
            if not math.isnan(y):
                k, s = "logOR", "percentages"
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
        rebuilt.append(extra)
    extras = pd.DataFrame(rebuilt, index=out.index, columns=list(_REBUILT_COLUMNS)).astype(_REBUILT_COLUMNS)
    extras["es_problem"] = extras["es_problem"].fillna("")
    return out.assign(yi=yi, vi=vi, es_measure=kind, es_source=src).join(extras)


#: Columns :func:`effect_sizes` adds for counts rebuilt from printed percentages, with their types.
_REBUILT_COLUMNS: dict[str, str] = {
    "rebuilt_events_lb": "Int64",
    "rebuilt_events_comp": "Int64",
    "events_lb_range": "object",
    "events_comp_range": "object",
    "yi_low": "float64",
    "yi_high": "float64",
    "counts_check": "object",
    "es_problem": "object",
}


def _percentages_printed(r: object) -> bool:
    """Whether a row prints both groups' sizes and percentages but not both counts."""
    values = [getattr(r, name, None) for name in ("pct_lb", "total_lb", "pct_comp", "total_comp")]
    counts = [getattr(r, name, None) for name in ("events_lb", "events_comp")]
    return not any(pd.isna(x) for x in values) and any(pd.isna(x) for x in counts)


def _from_percentages(r: object) -> dict[str, object]:
    """The log odds ratio of a row whose counts are rebuilt from its printed percentages (NaN, with the reason in
    ``es_problem``, when the percentages cannot come from the printed group sizes or do not reproduce a printed
    statistic), with the rebuilt counts, their ranges and the effects at the ends of the ranges."""
    from ..errors import ParameterError
    from .percentages import log_odds_ratio, rebuild_counts, rounding_range_of_effect

    def text(name: str) -> str | None:
        value = getattr(r, name, None)
        return None if value is None or pd.isna(value) else str(value)

    n1, n2 = int(getattr(r, "total_lb")), int(getattr(r, "total_comp"))  # noqa: B009
    pct_lb, pct_comp = str(text("pct_lb")), str(text("pct_comp"))
    try:
        counts = rebuild_counts(pct_lb, n1, pct_comp, n2, chi2=text("chi2"), p_value=text("p_value"))
    except ParameterError as exc:
        return {
            "yi": math.nan,
            "vi": math.nan,
            "es_problem": f"the printed percentages do not fit the printed group sizes ({exc})",
        }
    found: dict[str, object] = {
        "rebuilt_events_lb": counts.events_lb,
        "rebuilt_events_comp": counts.events_comp,
        "events_lb_range": f"{counts.lb.low}-{counts.lb.high}",
        "events_comp_range": f"{counts.comp.low}-{counts.comp.high}",
        "counts_check": counts.check,
        "es_problem": "",
    }
    if counts.check == "not reproduced":
        statistic = f"chi-square {text('chi2')}" if text("chi2") else f"p {text('p_value')}"
        found["es_problem"] = (
            f"the counts rebuilt from the printed percentages do not reproduce the printed {statistic}: "
            "the group sizes printed are not those analysed"
        )
        return {"yi": math.nan, "vi": math.nan, **found}
    try:
        y, v = log_odds_ratio(counts.events_lb, n1, counts.events_comp, n2)
        low, high = rounding_range_of_effect(counts)
    except ParameterError as exc:
        return {"yi": math.nan, "vi": math.nan, **found, "es_problem": str(exc)}
    return {"yi": y, "vi": v, "yi_low": low, "yi_high": high, **found}


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
