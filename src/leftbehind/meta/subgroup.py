"""Subgroup analysis as a result object: each subgroup's own fit and the test for subgroup differences.
:func:`leftbehind.meta.subgroups` builds it.

Examples
--------
>>> from leftbehind.meta import pool, subgroups
>>> fit = pool([0.1, 0.3, 0.8, 1.0], [0.04] * 4, method="FE", labels=list("ABCD"), measure="SMD")
>>> s = subgroups(fit, by=["a", "a", "b", "b"])
>>> round(s.Q_between, 3), s.Q_between_df, s.test_sentence()
(12.25, 1, 'Test for subgroup differences: Q(df = 1) = 12.25, p < 0.001.')
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetaAnalysisError, check_choice
from .formatting import for_reading, format_p
from .pooling import PoolResult, pool

__all__ = ["SubgroupResult", "fit_subgroups"]


@dataclass(frozen=True)
class SubgroupResult:
    """Each subgroup's fit (its own tau², as RevMan and metafor's ``subset=`` fits) and the between-groups test.

    Attributes
    ----------
    by : str
        What defines the subgroups (a column name, or ``"subgroup"``).
    fits : dict
        Subgroup value -> :class:`~leftbehind.meta.PoolResult`, in sorted order of the values.
    notes : dict
        Subgroup value -> note (e.g. a single study pooled with FE), ``""`` when none.
    Q_between, Q_between_df, Q_between_pval : float, int, float
        Fixed-effect Q on the subgroup estimates (weights 1/SE²), its df (G - 1) and chi-square p-value.
    measure : str or None
        Measure of the effects, for the reporting scale.
    """

    by: str
    fits: dict[Any, PoolResult]
    notes: dict[Any, str]
    Q_between: float
    Q_between_df: int
    Q_between_pval: float
    measure: str | None = None

    def to_frame(self, scale: str = "analysis") -> pd.DataFrame:
        """One row per subgroup (the table :func:`subgroups` returned for a DataFrame), with the between-groups
        test in ``attrs`` (``Q_between``, ``Q_between_df``, ``Q_between_pval``). ``scale="reporting"`` gives
        ratios for OR/RR (SE on the log scale as ``se_log``)."""
        check_choice("scale", scale, ("reporting", "analysis"), "a table scale", MetaAnalysisError)
        rows = []
        for g, r in self.fits.items():
            row = r.to_frame(scale).drop(columns=["measure", "ci_method", "tau", "H2", "Q_df", "level"])
            rows.append(row.assign(**{self.by: [g], "note": [self.notes.get(g, "")]}))
        out = pd.concat(rows, ignore_index=True)
        out = out[[self.by] + [c for c in out.columns if c not in (self.by, "method", "note")] + ["method", "note"]]
        out.attrs.update(Q_between=self.Q_between, Q_between_df=self.Q_between_df, Q_between_pval=self.Q_between_pval)
        return out

    def test_sentence(self) -> str:
        """The test for subgroup differences, for reading."""
        return (
            f"Test for subgroup differences: Q(df = {self.Q_between_df}) = {self.Q_between:.2f}, "
            f"{format_p(self.Q_between_pval)}."
        )

    def summary(self) -> str:
        """Each subgroup's fit summary under a heading, then the test for subgroup differences."""
        parts = [f"Subgroup {self.by} = {g}\n{r.summary()}" for g, r in self.fits.items()]
        return "\n\n".join(parts + [self.test_sentence()])

    def _repr_html_(self) -> str:
        shown = for_reading(self.to_frame("reporting"))
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in shown.itertuples(index=False)
        )
        return f"<div><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{html.escape(self.test_sentence())}</p></div>"


def fit_subgroups(
    df: pd.DataFrame, by: str, yi: str, vi: str, method: str, ci: str, level: float,
    label: str | None = None, measure: str | None = None,
) -> SubgroupResult:  # fmt: skip
    """Fit each subgroup of ``df[by]`` (checked by the caller) and test the differences."""
    from scipy import stats

    groups = sorted(df[by].unique(), key=lambda x: (str(type(x)), x))
    if len(groups) < 2:
        raise MetaAnalysisError(f"need at least 2 subgroups in column {by!r}, found {len(groups)}")
    fits: dict[Any, PoolResult] = {}
    notes: dict[Any, str] = {}
    for g in groups:
        sub = df.loc[df[by] == g]
        m, c, note = method, ci, ""
        if len(sub) == 1 and method != "FE":
            m, note = "FE", "one study: a fixed-effect estimate (τ² cannot be estimated from one study)"
        if len(sub) == 1 and ci == "hksj":
            c, note = (
                "normal",
                (
                    "one study: a fixed-effect estimate with a normal interval (τ² and the HKSJ interval cannot be "
                    "estimated from one study)"
                ),
            )
        labels = list(sub[label]) if label is not None else None
        try:
            fits[g] = pool(sub[yi].to_numpy(), sub[vi].to_numpy(), m, c, level, labels=labels, measure=measure)
        except MetaAnalysisError as exc:
            raise MetaAnalysisError(f"subgroup {by}={g!r}: {exc}") from exc
        notes[g] = note
    est = np.array([r.estimate for r in fits.values()])
    wg = 1.0 / np.array([r.se for r in fits.values()]) ** 2
    est_bar = float(np.sum(wg * est) / np.sum(wg))
    qb = float(np.sum(wg * (est - est_bar) ** 2))
    dfb = len(groups) - 1
    return SubgroupResult(by, fits, notes, qb, dfb, float(stats.chi2.sf(qb, dfb)), measure)
