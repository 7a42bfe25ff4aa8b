"""Analysis sets for pooling (one comparable effect per study), the comparison with published reviews, and the
evidence base in numbers. Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> summary()["studies"] > 100
True
"""

from __future__ import annotations

import math

import pandas as pd

from .. import data
from ..data.tabular import split_list
from .bibliography import cite
from .effect_sizes import effect_sizes, to_smd
from .studies import _check_choice, _has_numbers, _regions_by_code, effects, reviews


def summary() -> dict[str, int]:
    """Counts of the evidence base: studies, reviews, effect rows (all / with numbers), countries, outcomes.

    Examples
    --------
    >>> s = summary()
    >>> s["studies"] >= 60 and s["reviews"] >= 5
    True
    """
    st = data.load("studies")
    primary = st[st["design"] != "systematic-review"]
    eff = data.load("effects")
    countries = {c for cell in primary["countries"] for c in split_list(cell)}
    return {
        "studies": len(primary),
        "reviews": int((st["design"] == "systematic-review").sum()),
        "review_estimates": len(data.load("reviews")),
        "effect_rows": len(eff),
        "effect_rows_with_numbers": int(_has_numbers(eff).sum()),
        "effect_rows_analysable": int(effect_sizes(eff)["yi"].notna().sum()),
        "countries": len(countries),
        "outcomes_covered": eff["outcome"].nunique(),
    }


#: Scales a pooled analysis can use: standardised mean difference or odds ratio (log scale internally).
SCALES: tuple[str, ...] = ("SMD", "OR")
#: Columns of :func:`analysis_set` by which a pooled analysis can be split into subgroups.
SUBGROUP_COLUMNS: tuple[str, ...] = ("migrant_parent", "migration_scope", "region")
_SUBSET_HINTS = ("rural", "urban", "age", "girls", "boys", "subgroup", "subset")


def analysis_set(outcome: str, scale: str = "SMD") -> pd.DataFrame:
    """One analysable effect per study for ``outcome``, on one scale, oriented so that a positive SMD (or an
    OR above 1) means worse for left-behind children.

    Selection, per study: rows comparing left-behind children with children of non-migrants
    (``comparison_type``) whose effect size can be computed (:func:`effect_sizes`), preferring the
    overall comparison (migrant_parent ``either``/``unspecified``, not a rural/urban/age/sex subset), then
    adjusted estimates, then the largest sample; and one study per ``shared_sample`` group (studies of the
    same children). Log ORs and SMDs are converted to the chosen scale with
    Chinn's (2000) factor √3/π; log RRs and MDs are left out (no standard conversion).

    Returns
    -------
    pandas.DataFrame
        Columns effect_id, study_id, label ("Author et al. Year (country)"), year, country, region,
        migrant_parent, migration_scope, yi, vi (on the log scale for OR), plus the effect row's fields.

    Examples
    --------
    >>> s = analysis_set("depression", "SMD")
    >>> bool(s["study_id"].is_unique), bool((s["vi"] > 0).all())
    (True, True)
    """
    _check_choice("scale", scale, SCALES)
    es = effect_sizes(effects(outcome=outcome))
    es = es[
        es["yi"].notna() & es["es_measure"].isin(["logOR", "SMD"]) & (es["comparison_type"] == "left_behind_vs_not")
    ]
    if es.empty:
        return es.assign(label=[], year=[], country=[], region=[], migration_scope=[])
    es = to_smd(es)  # oriented: positive = worse for left-behind children
    if scale == "OR":
        factor = math.pi / math.sqrt(3)
        es = es.assign(yi=es["yi"] * factor, vi=es["vi"] * factor**2, es_measure="logOR")
    detail = es["outcome_detail"].fillna("").str.lower() + " " + es["effect_id"].str.lower()
    subset = detail.map(lambda t: any(h in t for h in _SUBSET_HINTS))
    overall = es["migrant_parent"].fillna("unspecified").isin(["either", "unspecified"])
    n = es[["total_lb", "n_lb"]].astype("Float64").max(axis=1).fillna(0)
    es = es.assign(_rank_overall=~overall, _rank_subset=subset, _rank_adj=es["adjusted"] != "yes", _rank_n=-n)
    es = es.sort_values(["study_id", "_rank_overall", "_rank_subset", "_rank_adj", "_rank_n", "effect_id"])
    es = es.drop_duplicates("study_id").drop(columns=[c for c in es.columns if c.startswith("_rank")])
    st = data.load("studies").set_index("study_id")
    # one study per shared sample: the one whose chosen effect has the largest n, else the first by id
    sample = es["study_id"].map(st["shared_sample"]).fillna("")
    es = es.assign(_sample=sample.where(sample != "", es["study_id"]), _n=-n.reindex(es.index).fillna(0))
    es = es.sort_values(["_sample", "_n", "study_id"]).drop_duplicates("_sample").drop(columns=["_sample", "_n"])
    first_country = es["study_id"].map(lambda s: (split_list(st.loc[s, "countries"]) or [""])[0])
    names = data.geographies().set_index("code")["name"]
    regions = _regions_by_code()
    es = es.assign(
        year=es["study_id"].map(st["year"]),
        country=first_country,
        region=first_country.map(lambda c: regions.get(c, "Other")),
        migration_scope=es["study_id"].map(st["migration_scope"]),
        migrant_parent=es["migrant_parent"].fillna("unspecified"),
        label=[f"{cite(s)} ({names.get(c, c)})" for s, c in zip(es["study_id"], first_country)],
    )
    return es.sort_values(["year", "study_id"], na_position="last").reset_index(drop=True)


def compare_with_reviews(estimate: float, ci_low: float, ci_high: float, outcome: str, scale: str) -> pd.DataFrame:
    """Published pooled estimates for ``outcome`` next to ours, with a plain verdict per review row.

    ``estimate``/``ci_*`` are ours on the display scale (an SMD, or an OR — not its log). A review row on the
    same scale "agrees" when both intervals overlap and point the same way, else "differs"; a row on another
    scale (e.g. RR against our OR) is compared by direction only; prevalence rows are listed without a verdict.

    Examples
    --------
    >>> t = compare_with_reviews(0.2, 0.1, 0.3, "depression", "SMD")
    >>> t.loc[(t.review_id == "fellmeth2018") & (t.measure == "SMD"), "verdict"].iloc[0]
    'agrees (intervals overlap, same direction)'
    """
    rv = reviews(outcome)
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
