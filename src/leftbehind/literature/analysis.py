"""Analysis sets for pooling (one comparable effect per study; the pooled and excluded rows of one selection),
and the evidence base in numbers. Public names are re-exported by :mod:`leftbehind.literature`.

Examples
--------
>>> summary()["studies"] > 100
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from .. import data
from ..data import tabular
from ..data.tabular import split_list
from ..errors import ParameterError, check_choice, check_flag, choice_error
from .bibliography import cite
from .comparability import EXPOSURES, with_keys
from .effect_sizes import effect_sizes, to_smd
from .studies import _has_numbers, _regions_by_code, effects, record_gaps


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


def analysis_set(
    outcome: str,
    scale: str = "SMD",
    *,
    construct: str | None = None,
    exposure: str = "left_behind_vs_not",
    adjusted_only: bool = False,
    exclude_derived: bool = False,
    exclude_secondary: bool = False,
) -> pd.DataFrame:
    """One analysable effect per study for ``outcome``, on one scale, oriented so that a positive SMD (or an
    OR above 1) means worse for left-behind children; only like with like.

    Selection: rows whose comparability key (``construct`` + ``definition``, from the ``constructs`` rules)
    and exposure type (:func:`~leftbehind.literature.comparability.exposure_type`) are the same, whose effect
    size can be computed (:func:`effect_sizes`) as a log OR or SMD, and whose study's record is complete
    (authors, year, title and journal read in a source: :func:`~leftbehind.literature.studies.record_gaps`);
    then per study the overall comparison (migrant_parent ``either``/``unspecified``, not a
    rural/urban/age/sex subset), then adjusted estimates, then the largest sample, then an effect measured on
    ``scale`` itself; and one study per ``shared_sample`` group (studies of the same children).

    One measure where it can: when at least :data:`MIN_NATIVE` studies report the construct on ``scale`` itself
    (SMDs of scores, or odds ratios of the share above a cut-off), only those are pooled, and the rows of the
    other measure are listed in :func:`excluded_rows` and pooled on their own scale in
    :attr:`Selection.other`. Otherwise, when some study reports the other measure, both measures are pooled
    together on ``scale``, log ORs and SMDs converted with Chinn's (2000) factor √3/π (SMD = ln OR × √3/π),
    :attr:`Selection.measure` says so ("SMD and OR combined") and each converted study's label says so; the combined pool is always in :attr:`Selection.combined` for a sensitivity
    analysis. Log RRs and MDs are left out (no standard conversion). :func:`excluded_rows` lists every other row
    of the outcome with its reason.

    Parameters
    ----------
    outcome : str
        An outcome id.
    scale : {"SMD", "OR"}
        Scale of the pooled effect.
    construct : str, optional
        The construct to pool; default: the one with the most studies among the eligible rows (ties: the
        construct named like the outcome, then the one with the most rows, then the first by name).
    exposure : str, default "left_behind_vs_not"
        The exposure type to pool (one of ``comparability.EXPOSURES``).
    adjusted_only, exclude_derived, exclude_secondary : bool
        Sensitivity analyses: only estimates adjusted for confounders; no effects derived by us (e.g. counts
        reconstructed from percentages); no effects read in secondary sources.

    Returns
    -------
    pandas.DataFrame
        Columns effect_id, study_id, label ("Author et al. Year (country)"), year, country, region,
        migrant_parent, migration_scope, yi, vi (on the log scale for OR), construct, definition,
        exposure_type, derived_by_us, secondary_source, abstract_only, plus the effect row's fields.

    Examples
    --------
    >>> s = analysis_set("depression", "SMD")
    >>> bool(s["study_id"].is_unique), bool((s["vi"] > 0).all()), s["construct"].nunique()
    (True, True, 1)
    """
    found = _checked(outcome, scale, construct, exposure, adjusted_only, exclude_derived, exclude_secondary)
    return found.pooled.copy()  # only the pooled rows copied, not the whole selection


def excluded_rows(
    outcome: str,
    scale: str = "SMD",
    *,
    construct: str | None = None,
    exposure: str = "left_behind_vs_not",
    adjusted_only: bool = False,
    exclude_derived: bool = False,
    exclude_secondary: bool = False,
) -> pd.DataFrame:
    """Every effect row of ``outcome`` that :func:`analysis_set` (same arguments) does not pool, with the reason.

    Returns
    -------
    pandas.DataFrame
        Columns effect_id, study_id, outcome_detail, comparison, construct, exposure_type, reason.

    Examples
    --------
    >>> x = excluded_rows("physical_health")
    >>> x.loc[x.effect_id == "pingliang_lbc_diarrhoea", "reason"].item()
    'a different construct (diarrhoea; this pool: self-rated or self-reported general health)'
    """
    return selection(
        outcome, scale, construct=construct, exposure=exposure, adjusted_only=adjusted_only,
        exclude_derived=exclude_derived, exclude_secondary=exclude_secondary,
    ).excluded  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """One selection of an outcome's effect rows, computed once: what :func:`analysis_set` pools and what
    :func:`excluded_rows` leaves out (same arguments), with the arguments and the construct chosen.

    Attributes
    ----------
    outcome, scale, exposure : str
        The arguments.
    construct : str or None
        The construct pooled: the one asked for, else the default choice; None when no row is eligible.
    options : dict
        The sensitivity options (``adjusted_only``, ``exclude_derived``, ``exclude_secondary``).
    pooled, excluded : pandas.DataFrame
        The rows of :func:`analysis_set` and of :func:`excluded_rows`.
    keyed : pandas.DataFrame
        Every effect row of the outcome with its effect size and comparability keys, for further selections of
        the same outcome (:func:`~leftbehind.literature.sensitivity_table`) without computing them again.
    measure : str
        What ``pooled`` holds: ``scale`` itself ("SMD" or "OR": one measure, like with like) or
        "SMD and OR combined" (fewer than :data:`MIN_NATIVE` studies report ``scale`` itself, so both measures are
        pooled on ``scale`` with Chinn's conversion).
    other : pandas.DataFrame
        One effect per study of the same construct measured the other way (ORs when ``scale`` is SMD and the
        other way round), on its own scale: what a report shows beside the pool.
    combined : pandas.DataFrame
        One effect per study of both measures on ``scale`` (Chinn's conversion, SMD = ln OR × √3/π): the
        combined sensitivity pool, labelled as such wherever it is shown.
    """

    outcome: str
    scale: str
    exposure: str
    construct: str | None
    options: dict[str, bool]
    pooled: pd.DataFrame
    excluded: pd.DataFrame
    keyed: pd.DataFrame = field(repr=False)
    measure: str = ""
    other: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    combined: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def copy(self) -> Selection:
        """A copy its holder may change without changing this one (its options and frames copied)."""
        return replace(
            self,
            options=dict(self.options),
            pooled=self.pooled.copy(),
            excluded=self.excluded.copy(),
            keyed=self.keyed.copy(),
            other=self.other.copy(),
            combined=self.combined.copy(),
        )


def selection(
    outcome: str,
    scale: str = "SMD",
    *,
    construct: str | None = None,
    exposure: str = "left_behind_vs_not",
    adjusted_only: bool = False,
    exclude_derived: bool = False,
    exclude_secondary: bool = False,
) -> Selection:
    """The pooled rows and the excluded rows of ``outcome`` from one computation (the arguments are those of
    :func:`analysis_set`): a notebook that shows both computes the selection once and passes it on.

    Examples
    --------
    >>> s = selection("physical_health")
    >>> s.construct, len(s.pooled) + len(s.excluded) == len(s.keyed)
    ('self_rated_health', True)
    """
    return _checked(outcome, scale, construct, exposure, adjusted_only, exclude_derived, exclude_secondary).copy()


def _checked(outcome: str, scale: str, construct: str | None, exposure: str, *options: bool) -> Selection:
    """The cached selection (not a copy: its callers copy what they hand out), once its arguments are checked: a
    construct that is not one of the outcome's would give an empty pool that reads like "no studies"."""
    check_choice("scale", scale, SCALES, "a scale of the analysis")
    check_choice("exposure", exposure, EXPOSURES, "an exposure of the effect rows")
    for name, value in zip(("adjusted_only", "exclude_derived", "exclude_secondary"), options, strict=True):
        check_flag(name, value)
    found = _selection_cached(outcome, scale, construct, exposure, *(bool(o) for o in options))
    if construct is not None and construct not in set(found.keyed["construct"]):
        known = sorted(set(found.keyed["construct"]))
        raise choice_error(
            "construct",
            construct,
            known,
            f"a construct of {outcome}'s effect rows",
            hint=None if known else f"{outcome} has no effect rows to pool.",
        )
    return found


@tabular.cached_on_package(128, shared=True)
def _selection_cached(
    outcome: str,
    scale: str,
    construct: str | None,
    exposure: str,
    adjusted_only: bool,
    exclude_derived: bool,
    exclude_secondary: bool,
) -> Selection:
    """A selection, once per version of the data package: a country profile asks for every outcome's selection
    twice, and a report kernel forked from the warm template finds them computed
    (:mod:`leftbehind.reports._template` computes the default ones). From the cache it records the resources
    computing it read; :func:`selection` and :func:`analysis_set` give their callers copies (the whole
    :meth:`Selection.copy`, or only the pooled rows)."""
    keyed = with_keys(effect_sizes(effects(outcome=outcome)))
    options = {
        "adjusted_only": adjusted_only,
        "exclude_derived": exclude_derived,
        "exclude_secondary": exclude_secondary,
    }
    return _select(keyed, outcome, scale, construct, exposure, options)


def reselect(base: Selection, **options: bool) -> Selection:
    """The selection of ``base``'s outcome, scale, exposure and construct with other sensitivity ``options``,
    from ``base``'s keyed rows (nothing is computed again).

    Examples
    --------
    >>> base = selection("anxiety")
    >>> reselect(base, exclude_derived=True).pooled.equals(analysis_set("anxiety", exclude_derived=True))
    True
    """
    unknown = sorted(set(options) - set(base.options))
    if unknown:
        raise ParameterError(f"reselect: unknown option(s) {unknown}; valid: {sorted(base.options)}")
    merged = {**dict.fromkeys(base.options, False), **{k: check_flag(k, v) for k, v in options.items()}}
    return _select(base.keyed, base.outcome, base.scale, base.construct, base.exposure, merged)


#: The fewest studies reporting the asked scale itself for a pool of one measure; with fewer, both measures are
#: pooled together on the asked scale (Chinn's conversion), and the selection says so.
MIN_NATIVE = 2
#: The effect measure that is native to each scale.
_NATIVE = {"SMD": "SMD", "OR": "logOR"}
_OTHER_SCALE = {"SMD": "OR", "OR": "SMD"}
COMBINED = "SMD and OR combined"


def _select(
    es: pd.DataFrame, outcome: str, scale: str, construct: str | None, exposure: str, options: dict[str, bool]
) -> Selection:
    adjusted_only, exclude_derived, exclude_secondary = (
        options["adjusted_only"], options["exclude_derived"], options["exclude_secondary"],
    )  # fmt: skip
    reason = pd.Series("", index=es.index, dtype=object)

    def drop(mask: pd.Series, why: pd.Series | str) -> None:
        new = mask & (reason == "")
        reason[new] = why[new] if isinstance(why, pd.Series) else why

    problem = es["es_problem"].fillna("") if "es_problem" in es else pd.Series("", index=es.index)
    drop(es["yi"].isna() & (problem != ""), "no effect size: " + problem)
    drop(es["yi"].isna(), "no effect size can be computed from the printed numbers")
    drop(
        ~es["es_measure"].isin(["logOR", "SMD"]),
        "a " + es["es_measure"].fillna("") + " has no standard conversion to SMD/OR",
    )
    drop(
        es["exposure_type"] != exposure,
        "compares " + es["exposure_type"].str.replace("_", " ") + ", not " + exposure.replace("_", " "),
    )
    if adjusted_only:
        drop(es["adjusted"] != "yes", "not adjusted for confounders (adjusted-only analysis)")
    if exclude_derived:
        drop(es["derived_by_us"], "derived by us, not printed (analysis without derived effects)")
    if exclude_secondary:
        drop(es["secondary_source"], "read in a secondary source (analysis without secondary sources)")
    # a study whose record is incomplete leaves every pool; it does not count towards the default construct
    gaps = es["study_id"].map(record_gaps()).fillna("")
    eligible = es[(reason == "") & (gaps == "")]
    if construct is None and not eligible.empty:
        counts = eligible.groupby("construct").agg(studies=("study_id", "nunique"), rows=("effect_id", "size"))
        counts = counts.assign(named=counts.index == outcome)  # ties: the construct the outcome is named for
        construct = str(counts.sort_values(["studies", "named", "rows"], ascending=False, kind="stable").index[0])
    if construct is not None:
        pooled_as = es.loc[es["construct"] == construct, "definition"]
        this_pool = f"; this pool: {pooled_as.iloc[0]}" if len(pooled_as) else ""
        drop(es["construct"] != construct, "a different construct (" + es["definition"] + this_pool + ")")
    drop(
        gaps != "",
        "the study's record is incomplete (" + gaps + " not read in a source): kept in the evidence base, "
        "left out of pooled analyses",
    )
    es_ok = es[reason == ""]

    def done(chosen: pd.DataFrame, measure: str, other: pd.DataFrame, combined: pd.DataFrame) -> Selection:
        return Selection(
            outcome, scale, exposure, construct, dict(options), chosen, _excluded(es, reason), es,
            measure, other, combined,
        )  # fmt: skip

    if es_ok.empty:
        empty = es_ok.assign(label=[], year=[], country=[], region=[], migration_scope=[])
        return done(empty, scale, empty, empty)
    other_scale = _OTHER_SCALE[scale]
    combined = _one_per_study(_on_scale(es_ok, scale), scale)
    native = es_ok["es_measure"] == _NATIVE[scale]
    own = _one_per_study(_on_scale(es_ok[native], scale), scale) if native.any() else combined.iloc[0:0]
    if (~native).any():
        other = _one_per_study(_on_scale(es_ok[~native], other_scale), other_scale)
    else:
        other = combined.iloc[0:0]
    # a converted effect says so in its label, wherever the combined pool is shown
    converted = combined["es_measure_read"] != _NATIVE[scale]
    combined = combined.assign(
        label=combined["label"].where(~converted, combined["label"] + f", {other_scale} converted to {scale}")
    )
    if len(own) >= MIN_NATIVE or not converted.any():  # one measure (or nothing to convert)
        chosen, measure = own, scale
    else:
        chosen, measure = combined, COMBINED
    chosen_ids = set(chosen["effect_id"])
    pooled_of_study: dict[str, str] = {}  # the comparison of the study's first pooled effect
    for study_id, comparison in zip(chosen["study_id"], chosen["comparison"].fillna("")):
        pooled_of_study.setdefault(study_id, str(comparison))
    native_ids = set(es_ok.index[es_ok["es_measure"] == _NATIVE[scale]])
    other_name = {"SMD": "an SMD (a score)", "OR": "an odds ratio (a share above a cut-off)"}[other_scale]
    for index, effect_id, study_id, comparison in zip(
        es_ok.index, es_ok["effect_id"], es_ok["study_id"], es_ok["comparison"].fillna("")
    ):
        if effect_id in chosen_ids:
            continue
        mine = pooled_of_study.get(study_id)
        if mine is not None:
            reason[index] = (
                "another effect of the same comparison is pooled (one effect per sample)"
                if mine == comparison or not mine
                else f"another effect of the same study is pooled, comparing {mine}"
            )
        elif measure == scale and index not in native_ids:
            reason[index] = (
                f"{other_name}: pooled on its own scale ({other_scale}) beside this pool of {scale}s, and with it in "
                "the combined sensitivity analysis"
            )
        else:
            reason[index] = "same children as another pooled study (shared sample)"
    return done(chosen, measure, other, combined)


def _excluded(es: pd.DataFrame, reason: pd.Series) -> pd.DataFrame:
    cols = ["effect_id", "study_id", "outcome_detail", "comparison", "construct", "exposure_type"]
    return es.loc[reason != "", cols].assign(reason=reason[reason != ""]).reset_index(drop=True)


def _on_scale(es: pd.DataFrame, scale: str) -> pd.DataFrame:
    """Log ORs and SMDs oriented so that a positive value means worse for left-behind children (as
    :func:`to_smd`) and on ``scale``: an effect measured on ``scale`` keeps its value, the other measure is
    converted with Chinn's factor (SMD = ln OR × √3/π); ``es_measure_read`` keeps the measure as computed from the
    printed numbers."""
    oriented = to_smd(es.assign(es_measure_read=es["es_measure"]))  # on the SMD scale
    if scale == "OR":
        factor = math.pi / math.sqrt(3)
        was_or = oriented["es_measure_read"] == "logOR"
        # ln OR back exactly as computed (orientation only), SMDs converted
        sign = oriented["higher_is_worse"].map(lambda v: 1.0 if v in (True, "yes") else -1.0).astype(float)
        yi = es.loc[oriented.index, "yi"].astype(float) * sign
        vi = es.loc[oriented.index, "vi"].astype(float)
        oriented = oriented.assign(
            yi=yi.where(was_or, oriented["yi"] * factor),
            vi=vi.where(was_or, oriented["vi"] * factor**2),
            es_measure="logOR",
        )
    else:
        was_smd = oriented["es_measure_read"] == "SMD"
        sign = oriented["higher_is_worse"].map(lambda v: 1.0 if v in (True, "yes") else -1.0).astype(float)
        yi = es.loc[oriented.index, "yi"].astype(float) * sign
        oriented = oriented.assign(yi=yi.where(was_smd, oriented["yi"]))
    return oriented


def _one_per_study(es: pd.DataFrame, scale: str) -> pd.DataFrame:
    """One effect per study, then one study per shared sample, of rows already on ``scale`` (:func:`_on_scale`),
    with the label, year, country, region and migration scope of each study."""
    detail = es["outcome_detail"].fillna("").str.lower() + " " + es["effect_id"].str.lower()
    subset = detail.map(lambda t: any(h in t for h in _SUBSET_HINTS))
    overall = es["migrant_parent"].fillna("unspecified").isin(["either", "unspecified"])
    n = es[["total_lb", "n_lb"]].astype("Float64").max(axis=1).fillna(0)
    foreign = es["es_measure_read"] != _NATIVE[scale] if "es_measure_read" in es else False
    es = es.assign(
        _rank_overall=~overall,
        _rank_subset=subset,
        _rank_adj=es["adjusted"] != "yes",
        _rank_n=-n,
        _rank_foreign=foreign,
    )
    es = es.sort_values(
        ["study_id", "_rank_overall", "_rank_subset", "_rank_adj", "_rank_n", "_rank_foreign", "effect_id"]
    )
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
