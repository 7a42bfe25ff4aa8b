"""Published pooled estimates beside ours, only like with like: each review row gets the construct that the
``constructs`` rules give it, and only rows of the pooled construct are compared (issue 15 item 3). Public names
are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> t = compare_with_reviews(1.5, 1.1, 2.0, "suicidal_ideation", "OR")
>>> bool(t["outcome_detail"].str.contains("attempt").any())
False
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import MetaAnalysisError, ParameterError, check_choice, is_number
from .analysis import analysis_set
from .comparability import possible_constructs, review_keys
from .studies import reviews


def review_estimates(outcome: str, construct: str | None = None) -> pd.DataFrame:
    """The published pooled estimates for ``outcome`` (the ``reviews`` table), each with the ``construct`` that
    the ``constructs`` rules give it (a column after ``outcome``); only those of ``construct`` when it is given.

    Examples
    --------
    >>> r = review_estimates("physical_health", "dental_caries")
    >>> sorted(set(r["review_id"])), sorted(set(r["construct"])), list(r.columns[6:9])
    (['liu2023b'], ['dental_caries'], ['outcome', 'construct', 'outcome_detail'])
    """
    rv = reviews(outcome)
    rv.insert(rv.columns.get_loc("outcome") + 1, "construct", review_keys(rv)["construct"])
    if construct is not None:
        known = sorted(set(rv["construct"].dropna()) | set(possible_constructs(outcome)))
        check_choice("construct", construct, known, f"a construct of {outcome}")
        rv = rv[rv["construct"] == construct]
    return rv.reset_index(drop=True)


def _check_interval(estimate: float, ci_low: float, ci_high: float, scale: str) -> None:
    """An estimate and its interval as a pool gives them: finite numbers, ratios above 0, the estimate inside."""
    values = {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high}
    for name, value in values.items():
        if not is_number(value):
            raise MetaAnalysisError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
        if not math.isfinite(float(value)):
            raise MetaAnalysisError(f"{name} must be a finite number, got {value!r}")
        if scale == "OR" and value <= 0:
            raise MetaAnalysisError(f"{name} {value!r}: an odds ratio is above 0 (give the OR, not its log)")
    if ci_low > ci_high:
        raise MetaAnalysisError(f"ci_low {ci_low!r} is above ci_high {ci_high!r}: the bounds are swapped")
    if not ci_low <= estimate <= ci_high:
        raise MetaAnalysisError(f"the estimate {estimate!r} is not inside its interval [{ci_low!r}, {ci_high!r}]")


def compare_with_reviews(
    estimate: float, ci_low: float, ci_high: float, outcome: str, scale: str, construct: str | None = None
) -> pd.DataFrame:
    """Published pooled estimates of the same construct as ours, next to ours, with a plain verdict per review row.

    ``estimate``/``ci_*`` are ours on the display scale (an SMD, or an OR — not its log). Only review rows of
    ``construct`` are compared (:func:`review_estimates`): a review of dental caries is not set beside a pool of
    self-rated health. A review row on the same scale "agrees" when both intervals overlap and point the same
    way, else "differs"; a row on another scale (e.g. RR against our OR) is compared by direction only;
    prevalence rows are listed without a verdict.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        Our pooled estimate and interval, on the display scale.
    outcome : str
        An outcome id.
    scale : {"SMD", "OR"}
        Our scale.
    construct : str, optional
        The construct we pooled; default: the one :func:`analysis_set` pools for ``outcome`` by default.

    Returns
    -------
    pandas.DataFrame
        Columns review_id, outcome_detail, measure, estimate, ci_low, ci_high, n_studies, n_children, i2,
        verdict; no row for a review of another construct.

    Raises
    ------
    leftbehind.errors.ParameterError
        If ``outcome`` is not valid, or ``construct`` is not given and ``outcome`` has no
        comparable effect rows to take it from.

    Examples
    --------
    >>> t = compare_with_reviews(0.2, 0.1, 0.3, "depression", "SMD")
    >>> t.loc[(t.review_id == "fellmeth2018") & (t.measure == "SMD"), "verdict"].iloc[0]
    'agrees (intervals overlap, same direction)'
    >>> compare_with_reviews(0.2, 0.1, 0.3, "physical_health", "SMD", construct="self_rated_health").empty
    True
    """
    scale = check_choice("scale", scale, ("SMD", "OR"), "a scale of the analysis")
    _check_interval(estimate, ci_low, ci_high, scale)
    if construct is None:
        pooled = analysis_set(outcome, scale)
        if pooled.empty:
            raise ParameterError(
                f"compare_with_reviews: outcome {outcome!r} has no comparable effect rows to take a construct from; "
                "pass construct="
            )
        construct = str(pooled["construct"].iloc[0])
    rv = review_estimates(outcome, construct)
    null = 0.0 if scale == "SMD" else 1.0
    ours_side = (estimate > null) - (estimate < null)
    verdicts = []
    for r in rv.itertuples():
        if pd.isna(r.estimate) or r.measure in ("prevalence",) or pd.isna(r.measure):
            verdicts.append("not comparable (no pooled effect on a comparison scale)")
            continue
        r_null = 0.0 if r.measure in ("SMD", "MD") else 1.0
        side = (r.estimate > r_null) - (r.estimate < r_null)
        same_scale = (r.measure == scale) or (scale == "OR" and r.measure == "OR")
        if same_scale and not pd.isna(r.ci_low) and not pd.isna(r.ci_high):
            overlap = not (ci_high < r.ci_low or r.ci_high < ci_low)
            verdicts.append(
                "agrees (intervals overlap, same direction)"
                if overlap and side == ours_side
                else "differs (" + ("intervals do not overlap" if not overlap else "opposite direction") + ")"
            )
        else:
            verdicts.append(
                ("same direction" if side == ours_side else "opposite direction")
                + f" (the review reports {r.measure}, we pool {scale}: direction only)"
            )
    cols = ["review_id", "outcome_detail", "measure", "estimate", "ci_low", "ci_high", "n_studies", "n_children", "i2"]
    return rv[cols].assign(verdict=verdicts)
