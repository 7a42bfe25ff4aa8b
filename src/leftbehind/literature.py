"""The evidence base on children left behind by migrant parents: filter studies, cite them, compute effect sizes.

Four resources of the data package hold it (``data/literature/``): ``studies`` (one row per study),
``effects`` (one row per study × outcome × comparison, numbers as the paper prints them), ``reviews``
(pooled estimates published by systematic reviews) and ``outcomes`` (the outcome vocabulary). The
bibliography ``references.bib`` is generated from ``studies`` (:func:`build_bibliography`), never edited.

Examples
--------
>>> from leftbehind import literature
>>> s = literature.studies(country="LKA")
>>> "wickramage2015" in set(s["study_id"])
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import data

# Citations and the bibliography live in _bibliography; their public names are part of this API.
from ._bibliography import bibliography_markdown, bibtex, build_bibliography, cite
from .errors import DataError, ParameterError

__all__ = [
    "REGIONS",
    "studies",
    "effects",
    "reviews",
    "outcomes",
    "domains",
    "region_of",
    "cite",
    "effect_sizes",
    "to_smd",
    "evidence_map",
    "summary",
    "bibtex",
    "build_bibliography",
    "select",
    "direction_table",
    "bibliography_markdown",
    "SCALES",
    "analysis_set",
    "compare_with_reviews",
]

#: Regions used to group studies, from the UN geoscheme sub-region of each country.
REGIONS: dict[str, tuple[str, ...]] = {
    "East and South-East Asia": ("Eastern Asia", "South-eastern Asia"),
    "South Asia": ("Southern Asia",),
    "Europe and Central Asia": ("Eastern Europe", "Northern Europe", "Southern Europe", "Western Europe",
                                "Central Asia", "Western Asia"),
    "Latin America and the Caribbean": ("Caribbean", "Central America", "South America"),
    "Africa": ("Eastern Africa", "Middle Africa", "Northern Africa", "Southern Africa", "Western Africa"),
    "Oceania": ("Australia and New Zealand", "Melanesia", "Micronesia", "Polynesia"),
}

_SCOPES = ("international", "internal", "both")
_PARENTS = ("father", "mother", "both", "either", "unspecified")


def _split(cell: object) -> list[str]:
    return [] if cell is None or (isinstance(cell, float) and math.isnan(cell)) or pd.isna(cell) else \
        [p.strip() for p in str(cell).split(";") if p.strip()]


def outcomes() -> pd.DataFrame:
    """The outcome vocabulary: ``outcome``, ``domain`` (mental health, nutrition and growth, …), name, definition.

    Examples
    --------
    >>> outcomes().set_index("outcome").loc["stunting", "domain"]
    'nutrition_growth'
    """
    return data.load("outcomes")


def domains() -> list[str]:
    """Outcome domains in vocabulary order.

    Examples
    --------
    >>> domains()
    ['mental_health', 'nutrition_growth', 'education', 'physical_health', 'health_behaviours']
    """
    return list(dict.fromkeys(outcomes()["domain"]))


def region_of(iso3: str) -> str:
    """The :data:`REGIONS` name of a country (``"Other"`` when its sub-region is not listed).

    Examples
    --------
    >>> region_of("NPL"), region_of("MDA"), region_of("GHA")
    ('South Asia', 'Europe and Central Asia', 'Africa')
    """
    sub = data.geographies().set_index("code").get("un_region", pd.Series(dtype=str)).get(iso3)
    for region, subs in REGIONS.items():
        if sub in subs:
            return region
    return "Other"


def _check_choice(name: str, value: str | None, valid: Iterable[str]) -> None:
    if value is not None and value not in (valid := [str(v) for v in valid]):
        raise data._choice_error(name, value, valid, "valid")


def studies(country: str | None = None, outcome: str | None = None, domain: str | None = None,
            design: str | None = None, scope: str | None = None, parent: str | None = None,
            region: str | None = None, from_year: int | None = None, to_year: int | None = None,
            include_reviews: bool = False) -> pd.DataFrame:
    """Studies matching every filter given (primary studies only unless ``include_reviews``).

    Parameters
    ----------
    country
        ISO3 code; a study matches when the country is among its ``countries``.
    outcome, domain
        An outcome id (see :func:`outcomes`) or an outcome domain; matched against ``outcome_domains``.
    design
        e.g. ``"cross-sectional"``, ``"cohort"``.
    scope
        ``migration_scope``: ``"international"``, ``"internal"`` or ``"both"`` (``"both"`` studies match either).
    parent
        ``migrant_parent``: ``"father"``, ``"mother"``, ``"both"``, ``"either"``, ``"unspecified"``.
    region
        A :data:`REGIONS` name; matches studies with at least one country in it.
    from_year, to_year
        Inclusive publication-year range (studies without a year are kept only when no range is given).

    Returns
    -------
    pandas.DataFrame
        Rows of the ``studies`` resource.

    Raises
    ------
    ParameterError
        For an unknown outcome, domain, design, scope, parent or region.

    Examples
    --------
    >>> len(studies(country="LKA", outcome="underweight")) >= 1
    True
    """
    df = data.load("studies")
    voc = outcomes()
    _check_choice("outcome", outcome, voc["outcome"])
    _check_choice("domain", domain, domains())
    _check_choice("scope", scope, _SCOPES)
    _check_choice("parent", parent, _PARENTS)
    _check_choice("region", region, REGIONS)
    designs = sorted(set(df["design"]))
    _check_choice("design", design, designs)
    if not include_reviews and design != "systematic-review":
        df = df[df["design"] != "systematic-review"]
    if country is not None:
        df = df[df["countries"].map(lambda c: country in _split(c))]
    if outcome is not None:
        df = df[df["outcome_domains"].map(lambda c: outcome in _split(c))]
    if domain is not None:
        in_domain = set(voc.loc[voc["domain"] == domain, "outcome"])
        df = df[df["outcome_domains"].map(lambda c: bool(in_domain & set(_split(c))))]
    if design is not None:
        df = df[df["design"] == design]
    if scope is not None:
        df = df[df["migration_scope"].isin([scope, "both"] if scope != "both" else ["both"])]
    if parent is not None:
        df = df[df["migrant_parent"] == parent]
    if region is not None:
        df = df[df["countries"].map(lambda c: any(region_of(x) == region for x in _split(c)))]
    if from_year is not None:
        df = df[df["year"].fillna(-1) >= from_year]
    if to_year is not None:
        df = df[df["year"].fillna(10_000) <= to_year]
    return df.reset_index(drop=True)


def effects(study_ids: Iterable[str] | None = None, outcome: str | None = None,
            with_numbers: bool = False) -> pd.DataFrame:
    """Effect rows, optionally for some studies and one outcome; ``with_numbers`` keeps rows that carry an
    estimate or complete raw data (2×2 counts, or means, SDs and ns of both groups).

    Examples
    --------
    >>> e = effects(["wickramage2015"], outcome="underweight", with_numbers=True)
    >>> e[["events_lb", "total_lb", "events_comp", "total_comp"]].values.tolist()
    [[27, 110, 20, 113]]
    """
    df = data.load("effects")
    _check_choice("outcome", outcome, outcomes()["outcome"])
    if study_ids is not None:
        df = df[df["study_id"].isin(list(study_ids))]
    if outcome is not None:
        df = df[df["outcome"] == outcome]
    if with_numbers:
        df = df[_has_numbers(df)]
    return df.reset_index(drop=True)


def _has_numbers(df: pd.DataFrame) -> pd.Series:
    estimate = df["estimate"].notna() & (df["measure"].fillna("") != "")
    counts = df[["events_lb", "total_lb", "events_comp", "total_comp"]].notna().all(axis=1)
    means = df[["mean_lb", "sd_lb", "n_lb", "mean_comp", "sd_comp", "n_comp"]].notna().all(axis=1)
    return estimate | counts | means


def reviews(outcome: str | None = None) -> pd.DataFrame:
    """Pooled estimates published by systematic reviews, optionally for one outcome.

    Examples
    --------
    >>> r = reviews("depression")
    >>> bool((r["review_id"] == "fellmeth2018").any())
    True
    """
    df = data.load("reviews")
    _check_choice("outcome", outcome, outcomes()["outcome"])
    if outcome is not None:
        df = df[df["outcome"] == outcome]
    return df.reset_index(drop=True)


# --- effect sizes -----------------------------------------------------------------------------------

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

    from .meta import effect_from_ci

    out = df.copy()
    yi, vi, kind, src = [], [], [], []
    for r in out.itertuples():
        y = v = math.nan
        k = s = None
        measure = r.measure if isinstance(r.measure, str) else ""
        level = r.ci_level if not pd.isna(r.ci_level) else 0.95
        if measure in ("OR", "RR", "SMD", "MD") and not pd.isna(r.estimate) and not pd.isna(r.ci_low) \
                and not pd.isna(r.ci_high):
            y, v = effect_from_ci(float(r.estimate), float(r.ci_low), float(r.ci_high), measure, level=float(level))
            k, s = {"OR": "logOR", "RR": "logRR"}.get(measure, measure), "ci"
        elif not any(pd.isna(x) for x in (r.events_lb, r.total_lb, r.events_comp, r.total_comp)):
            a, n1, c, n2 = int(r.events_lb), int(r.total_lb), int(r.events_comp), int(r.total_comp)
            if 0 < a < n1 and 0 < c < n2:
                y, v = (float(x) for x in effectsize_2proportions(a, n1, c, n2, statistic="odds-ratio"))
                k, s = "logOR", "2x2"
        elif not any(pd.isna(x) for x in (r.mean_lb, r.sd_lb, r.n_lb, r.mean_comp, r.sd_comp, r.n_comp)):
            y, v = (float(x) for x in effectsize_smd(float(r.mean_lb), float(r.sd_lb), int(r.n_lb),
                                                     float(r.mean_comp), float(r.sd_comp), int(r.n_comp)))
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
    orientation = es["higher_is_worse"].map(lambda v: 1.0 if v in (True, "yes") else -1.0 if v in (False, "no") else math.nan)
    es = es[es["es_measure"].isin(["logOR", "SMD"]) & orientation.notna()].copy()
    factor = np.where(es["es_measure"] == "logOR", math.sqrt(3) / math.pi, 1.0)
    sign = orientation[es.index].to_numpy(dtype=float)
    es["yi"] = es["yi"].to_numpy(dtype=float) * factor * sign
    es["vi"] = es["vi"].to_numpy(dtype=float) * factor ** 2
    es["es_measure"] = "SMD"
    return es


# --- maps and summaries -----------------------------------------------------------------------------

def evidence_map(df: pd.DataFrame) -> pd.DataFrame:
    """Countries × outcome domains: number of studies and the balance of their findings.

    Parameters
    ----------
    df
        Studies (e.g. from :func:`studies`).

    Returns
    -------
    pandas.DataFrame
        Long table with columns country, domain, studies (count), harm, benefit, no_difference (numbers of
        studies with at least one effect row of that direction in the domain), balance (``harm − benefit``
        over studies with a direction, −1 to 1; NaN when no direction is recorded).

    Examples
    --------
    >>> m = evidence_map(studies(country="LKA"))
    >>> int(m.loc[(m.country == "LKA") & (m.domain == "nutrition_growth"), "studies"].iloc[0]) >= 1
    True
    """
    voc = outcomes().set_index("outcome")["domain"]
    eff = data.load("effects")
    eff = eff[eff["study_id"].isin(df["study_id"])].assign(domain=lambda e: e["outcome"].map(voc))
    directions = eff.groupby(["study_id", "domain"])["direction"].agg(lambda d: set(d.dropna()))
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for s in df.itertuples():
        doms = {voc[o] for o in _split(s.outcome_domains) if o in voc.index}
        for country in _split(s.countries):
            for dom in doms:
                cell = rows.setdefault((country, dom), {"studies": 0, "harm": 0, "benefit": 0, "no_difference": 0})
                cell["studies"] += 1
                found = directions.get((s.study_id, dom), set())
                for key in ("harm", "benefit", "no_difference"):
                    cell[key] += key in found
    out = pd.DataFrame([{"country": c, "domain": d, **v} for (c, d), v in sorted(rows.items())],
                       columns=["country", "domain", "studies", "harm", "benefit", "no_difference"])
    with_direction = out[["harm", "benefit", "no_difference"]].sum(axis=1)
    out["balance"] = (out["harm"] - out["benefit"]) / with_direction.where(with_direction > 0)
    return out


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
    countries = {c for cell in primary["countries"] for c in _split(cell)}
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


def _check_vocabularies() -> None:
    """Cross-table rules of the evidence base (used by :func:`leftbehind.data.validate_package`)."""
    st = data.load("studies")
    voc = set(outcomes()["outcome"])
    iso = set(data.geographies().query("kind == 'country'")["code"])
    for i, r in enumerate(st.itertuples(), start=1):
        for o in _split(r.outcome_domains):
            if o not in voc:
                raise DataError(f'data/literature/studies.csv, row {i}, field "outcome_domains": "{o}" is not an outcome in outcomes.csv')
        for c in _split(r.countries):
            if c not in iso:
                raise DataError(f'data/literature/studies.csv, row {i}, field "countries": "{c}" is not an ISO3 country code')


def select(outcome_domain: str = "all", region: str = "all", migration_scope: str = "all",
           from_year: int | None = None, to_year: int | None = None) -> pd.DataFrame:
    """Primary studies chosen the way the evidence-map notebook's parameters choose them (``"all"`` = no filter).

    Examples
    --------
    >>> len(select(region="South Asia")) == len(studies(region="South Asia"))
    True
    """
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ParameterError(f"from_year {from_year} is after to_year {to_year}")
    return studies(domain=None if outcome_domain == "all" else outcome_domain,
                   region=None if region == "all" else region,
                   scope=None if migration_scope == "all" else migration_scope,
                   from_year=from_year, to_year=to_year)


def direction_table(study_ids: Iterable[str]) -> pd.DataFrame:
    """Per outcome, the number of effect rows of each direction (harm, no_difference, benefit, unclear) among
    the given studies, outcomes in vocabulary order.

    Examples
    --------
    >>> t = direction_table(["wickramage2015"])
    >>> t.loc["underweight"].to_dict()
    {'harm': 0, 'no_difference': 1}
    """
    eff = data.load("effects")
    eff = eff[eff["study_id"].isin(list(study_ids))]
    table = pd.crosstab(eff["outcome"], eff["direction"])
    order = [o for o in outcomes()["outcome"] if o in table.index]
    cols = [c for c in ("harm", "no_difference", "benefit", "unclear") if c in table.columns]
    return table.reindex(index=order, columns=cols).fillna(0).astype(int)


#: Scales a pooled analysis can use: standardised mean difference or odds ratio (log scale internally).
SCALES: tuple[str, ...] = ("SMD", "OR")
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
    es = es[es["yi"].notna() & es["es_measure"].isin(["logOR", "SMD"]) & (es["comparison_type"] == "left_behind_vs_not")]
    if es.empty:
        return es.assign(label=[], year=[], country=[], region=[], migration_scope=[])
    es = to_smd(es)  # oriented: positive = worse for left-behind children
    if scale == "OR":
        factor = math.pi / math.sqrt(3)
        es = es.assign(yi=es["yi"] * factor, vi=es["vi"] * factor ** 2, es_measure="logOR")
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
    first_country = es["study_id"].map(lambda s: (_split(st.loc[s, "countries"]) or [""])[0])
    names = data.geographies().set_index("code")["name"]
    es = es.assign(
        year=es["study_id"].map(st["year"]),
        country=first_country,
        region=first_country.map(lambda c: region_of(c) if c else "Other"),
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
            verdicts.append("agrees (intervals overlap, same direction)" if overlap and side == ours_side
                            else "differs (" + ("intervals do not overlap" if not overlap else "opposite direction") + ")")
        else:
            verdicts.append(("same direction" if side == ours_side else "opposite direction")
                            + f" (the review reports {r.measure}, we pool {scale}: direction only)")
    cols = ["review_id", "outcome_detail", "measure", "estimate", "ci_low", "ci_high", "n_studies", "n_children", "i2"]
    return rv[cols].assign(verdict=verdicts)
