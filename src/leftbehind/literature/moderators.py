"""Meta-regression of a pooled analysis set on one declared moderator, shown only where enough studies support
it (issue 15 item 2); otherwise one plain sentence says why not. Public names are re-exported by
:mod:`leftbehind.literature`.

The rule, declared once (:data:`MIN_STUDIES_PER_COEFFICIENT`, :data:`MIN_STUDIES_PER_LEVEL`): at least ten
studies per moderator coefficient, following the Cochrane Handbook (version 5.1, section 9.6.5.1: "at least ten
observations (i.e. ten studies in a meta-analysis) should be available for each characteristic modelled"; here
each coefficient counts, so a categorical moderator with L levels needs 10 (L - 1) studies), and, the project's
own choice, at least three studies in every level of a categorical moderator. Studies whose moderator is not
recorded are left out of the regression, and the rule counts only the studies that remain.

Examples
--------
>>> from leftbehind import literature, meta
>>> s = literature.analysis_set("anxiety")
>>> fit = meta.pool(s["yi"], s["vi"], labels=s["label"], measure="SMD")
>>> print(meta_regression(fit, s, "migrant_parent").text())
No meta-regression on migrant parent: 4 studies are pooled, and this report asks for at least 10 studies per moderator coefficient (here 2 coefficients, so 20 studies).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .._markup import escape_markdown
from ..errors import MetaAnalysisError, check_choice
from ..meta import PoolResult, RegressionResult, for_reading, format_p, pool, regress
from ..meta.formatting import SCALE_NAMES, fmt

#: Moderators a pooled analysis set can be regressed on: ``none`` or a column of
#: :func:`~leftbehind.literature.analysis_set`. ``year`` (publication year) is continuous; the others are
#: categorical, dummy-coded with the first level (sorted) as reference. Mean age is not recorded in the
#: evidence base (only the age range), so it is not offered.
MODERATORS: tuple[str, ...] = ("none", "year", "migrant_parent", "migration_scope", "region")
#: The continuous moderators among :data:`MODERATORS`.
CONTINUOUS_MODERATORS: tuple[str, ...] = ("year",)
#: Studies needed per moderator coefficient (Cochrane Handbook 5.1, 9.6.5.1: ten per characteristic modelled).
MIN_STUDIES_PER_COEFFICIENT = 10
#: Studies needed in every level of a categorical moderator (the project's own choice).
MIN_STUDIES_PER_LEVEL = 3
_NAMES = {
    "year": "publication year", "migrant_parent": "migrant parent", "migration_scope": "migration scope",
    "region": "region",
}  # fmt: skip


@dataclass(frozen=True)
class ModeratorAnalysis:
    """A meta-regression on one moderator, or the reason why none is shown.

    Attributes
    ----------
    moderator : str
        One of :data:`MODERATORS`.
    result : RegressionResult or None
        The fit (:func:`leftbehind.meta.regress`), or None when the rule refuses it.
    reason : str
        Empty when fitted; else one sentence saying why no meta-regression is shown.
    continuous : bool
        True when fitted on a continuous moderator (a bubble plot can show it).
    """

    moderator: str
    result: RegressionResult | None
    reason: str
    continuous: bool

    def text(self) -> str:
        """One Markdown sentence: the moderator test, residual heterogeneity and R², or the reason."""
        if self.result is None:
            return self.reason
        r = self.result
        scale = SCALE_NAMES.get(r.measure or "", "analysis scale")
        test = f"F({r.QM_df}, {r.k - len(r.coef)})" if r.ci_method == "hksj" else f"QM(df = {r.QM_df})"
        model = "fixed effects" if r.method == "FE" else f"mixed effects, tau² estimator {r.method}"
        return escape_markdown(
            f"Meta-regression on {_NAMES[self.moderator]} (k = {r.k}, {model}; coefficients on the {scale} "
            f"scale): moderator test {test} = {fmt(r.QM, 2)}, {format_p(r.QM_pval)}; residual heterogeneity "
            f"QE(df = {r.QE_df}) = {fmt(r.QE, 2)}, {format_p(r.QE_pval)}; R² = {fmt(r.R2, 1)}% of tau² explained."
        )

    def table(self) -> pd.DataFrame:
        """The coefficients for reading (fixed decimals, p-values as ``p = 0.031``); empty when not fitted."""
        cols = ["term", "estimate", "se", "ci_low", "ci_high", "z_or_t", "pval"]
        return pd.DataFrame(columns=cols) if self.result is None else for_reading(self.result.to_frame())


def _refuse(moderator: str, why: str) -> ModeratorAnalysis:
    return ModeratorAnalysis(
        moderator, None, escape_markdown(f"No meta-regression on {_NAMES[moderator]}: {why}."), False
    )


def meta_regression(result: PoolResult | None, studies: pd.DataFrame, moderator: str) -> ModeratorAnalysis:
    """Meta-regression of the pooled effects on ``moderator`` where the rule of this module allows it.

    Parameters
    ----------
    result : PoolResult or None
        The pooled fit of ``studies`` (its method, CI method, level and measure are used); None when the set
        is not pooled.
    studies : pandas.DataFrame
        The pooled rows, in the order of the fit: :func:`~leftbehind.literature.analysis_set`.
    moderator : str
        One of :data:`MODERATORS`.

    Returns
    -------
    ModeratorAnalysis
        The fit, or the one-sentence reason why no meta-regression is shown.

    Raises
    ------
    leftbehind.errors.ParameterError
        If ``moderator`` is not one of :data:`MODERATORS`.
    leftbehind.errors.MetaAnalysisError
        If ``studies`` does not have one row per study of ``result``.

    Examples
    --------
    >>> meta_regression(None, pd.DataFrame(), "region").text()
    'No meta-regression on region: the effects are not pooled.'
    """
    check_choice("moderator", moderator, MODERATORS)
    if moderator == "none":
        return ModeratorAnalysis(moderator, None, "No meta-regression requested (`moderator` is none).", False)
    if result is None:
        return _refuse(moderator, "the effects are not pooled")
    if len(studies) != result.k or moderator not in studies:
        raise MetaAnalysisError(
            f"meta_regression needs the {result.k} pooled rows with a column {moderator!r}; got {len(studies)} rows "
            f"and columns {list(studies.columns)}"
        )
    values = studies[moderator].reset_index(drop=True)
    known = values.notna().to_numpy()
    k, missing = int(known.sum()), int((~known).sum())
    continuous = moderator in CONTINUOUS_MODERATORS
    values = values[known].astype(float) if continuous else values[known].astype(str)
    counts = values.value_counts()
    n_coef = 1 if continuous else max(1, len(counts) - 1)
    need = MIN_STUDIES_PER_COEFFICIENT * n_coef
    name = _NAMES[moderator]
    total = len(values) + missing
    have = f"{k} of the {total} pooled studies {'has' if k == 1 else 'have'} a recorded {name}"
    counted = have if missing else f"{k} studies are pooled"
    if k < need:
        return _refuse(
            moderator,
            f"{counted}, and this report asks for at least {MIN_STUDIES_PER_COEFFICIENT} studies per moderator "
            f"coefficient (here {n_coef} coefficient{'s' if n_coef > 1 else ''}, so {need} studies)",
        )
    if len(counts) < 2:
        return _refuse(
            moderator, f"the {k} studies share one {name} ({counts.index[0]}), so there is nothing to compare"
        )
    thin = counts[counts < MIN_STUDIES_PER_LEVEL].sort_index()
    if not continuous and len(thin):
        levels = ", ".join(f"{lv} ({n})" for lv, n in thin.items())
        verb = "falls" if len(thin) == 1 else "fall"
        why = f"this report asks for at least {MIN_STUDIES_PER_LEVEL} studies in every level, and {levels} {verb} short"
        return _refuse(moderator, why)
    fit = result
    if missing:
        keep = [i for i, ok in enumerate(known) if ok]
        fit = pool(
            [result.yi[i] for i in keep], [result.vi[i] for i in keep], method=result.method, ci=result.ci_method,
            level=result.level, labels=[result.labels[i] for i in keep] if result.labels else None,
            measure=result.measure,
        )  # fmt: skip
    reg = regress(fit, {moderator: values.to_list()}, method=result.method, ci=result.ci_method, level=result.level)
    return ModeratorAnalysis(moderator, reg, "", continuous)
