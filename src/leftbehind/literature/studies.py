"""The tables of the evidence base and the filters over them: studies, effect rows, reviews, the outcome
vocabulary, regions, the evidence map and direction-of-findings tables. Public names are re-exported by
:mod:`leftbehind.literature`.

Examples
--------
>>> "wickramage2015" in set(studies(country="LKA")["study_id"])
True
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .. import data
from .._markup import counted
from ..data.arguments import check_code, check_year
from ..data.tabular import split_list
from ..errors import ParameterError, check_choice, check_flag, check_frame, choice_error

#: Regions used to group studies, from the UN geoscheme sub-region of each country.
REGIONS: dict[str, tuple[str, ...]] = {
    "East and South-East Asia": ("Eastern Asia", "South-eastern Asia"),
    "South Asia": ("Southern Asia",),
    "Europe and Central Asia": (
        "Eastern Europe",
        "Northern Europe",
        "Southern Europe",
        "Western Europe",
        "Central Asia",
        "Western Asia",
    ),
    "Latin America and the Caribbean": ("Caribbean", "Central America", "South America"),
    "Africa": ("Eastern Africa", "Middle Africa", "Northern Africa", "Southern Africa", "Western Africa"),
    "Oceania": ("Australia and New Zealand", "Melanesia", "Micronesia", "Polynesia"),
}

#: Migration scopes of a study: international, internal (within-country) or both.
SCOPES: tuple[str, ...] = ("international", "internal", "both")
_PARENTS = ("father", "mother", "both", "either", "unspecified")


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


#: Outcome domains in words, where the id with spaces for underscores does not read well.
_DOMAIN_WORDS: dict[str, str] = {"nutrition_growth": "nutrition and growth"}


def domain_name(domain: str) -> str:
    """An outcome domain in words, for a chart, a table or a dropdown.

    Examples
    --------
    >>> domain_name("nutrition_growth"), domain_name("mental_health")
    ('nutrition and growth', 'mental health')
    """
    return _DOMAIN_WORDS.get(domain, domain.replace("_", " "))


def outcome_name(outcome: str, in_sentence: bool = False) -> str:
    """An outcome's name from the vocabulary (``outcomes.csv``), or the id with spaces when it is not in it;
    ``in_sentence`` puts its first letter in lower case, for the middle of a sentence.

    Examples
    --------
    >>> outcome_name("suicidal_ideation"), outcome_name("suicidal_ideation", in_sentence=True)
    ('Suicidal ideation and self-harm', 'suicidal ideation and self-harm')
    """
    names = dict(zip(outcomes()["outcome"], outcomes()["name"]))
    name = str(names.get(outcome, outcome.replace("_", " ")))
    return name[:1].lower() + name[1:] if in_sentence else name


def region_of(iso3: str) -> str:
    """The :data:`REGIONS` name of a country (``"Other"`` when its sub-region is not listed); an unknown code
    raises :class:`~leftbehind.errors.ParameterError`.

    Examples
    --------
    >>> region_of("NPL"), region_of("MDA"), region_of("GHA")
    ('South Asia', 'Europe and Central Asia', 'Africa')
    """
    return _regions_by_code()[check_code("iso3", iso3, countries_only=True)]


def _regions_by_code() -> dict[str, str]:
    """The :data:`REGIONS` name of every code of the geographies table (``"Other"`` when not listed)."""
    geo = data.geographies()
    by_sub = {sub: region for region, subs in REGIONS.items() for sub in subs}
    return {code: by_sub.get(sub, "Other") for code, sub in zip(geo["code"], geo["un_region"])}


def _check_choice(name: str, value: str | None, valid: Iterable[str]) -> None:
    if value is not None:
        check_choice(name, value, [str(v) for v in valid], "valid")


def _check_study_ids(study_ids: Iterable[str] | str) -> list[str]:
    """The study ids given (one id, or any iterable of them), each checked against the ``studies`` table."""
    ids = [study_ids] if isinstance(study_ids, str) else study_ids
    try:
        ids = list(ids)
    except TypeError:
        raise ParameterError(f"study_ids must be a list of study ids, got {study_ids!r}") from None
    known = data.load("studies")["study_id"]
    unknown = [i for i in ids if i not in set(known)]
    if unknown:
        raise choice_error("study_id", unknown[0], sorted(known), "a study of the evidence base")
    return ids


def studies(
    country: str | None = None,
    outcome: str | None = None,
    domain: str | None = None,
    design: str | None = None,
    scope: str | None = None,
    parent: str | None = None,
    region: str | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
    include_reviews: bool = False,
) -> pd.DataFrame:
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
        For an unknown country code, outcome, domain, design, scope, parent or region, or a year that is not a
        whole number.

    Examples
    --------
    >>> len(studies(country="LKA", outcome="underweight")) >= 1
    True
    """
    df = data.load("studies")
    voc = outcomes()
    _check_choice("outcome", outcome, voc["outcome"])
    _check_choice("domain", domain, domains())
    _check_choice("scope", scope, SCOPES)
    _check_choice("parent", parent, _PARENTS)
    _check_choice("region", region, REGIONS)
    designs = sorted(set(df["design"]))
    _check_choice("design", design, designs)
    if country is not None:
        check_code("country", country, countries_only=True)
    if from_year is not None:
        from_year = check_year("from_year", from_year)
    if to_year is not None:
        to_year = check_year("to_year", to_year)
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ParameterError(f"from_year {from_year} is after to_year {to_year}")
    if not check_flag("include_reviews", include_reviews) and design != "systematic-review":
        df = df[df["design"] != "systematic-review"]
    if country is not None:
        df = df[df["countries"].map(lambda c: country in split_list(c))]
    if outcome is not None:
        df = df[df["outcome_domains"].map(lambda c: outcome in split_list(c))]
    if domain is not None:
        in_domain = set(voc.loc[voc["domain"] == domain, "outcome"])
        df = df[df["outcome_domains"].map(lambda c: bool(in_domain & set(split_list(c))))]
    if design is not None:
        df = df[df["design"] == design]
    if scope is not None:
        df = df[df["migration_scope"].isin([scope, "both"] if scope != "both" else ["both"])]
    if parent is not None:
        df = df[df["migrant_parent"] == parent]
    if region is not None:
        regions = _regions_by_code()
        df = df[df["countries"].map(lambda c: any(regions.get(x) == region for x in split_list(c)))]
    if from_year is not None:
        df = df[df["year"].fillna(-1) >= from_year]
    if to_year is not None:
        df = df[df["year"].fillna(10_000) <= to_year]
    return df.reset_index(drop=True)


#: The bibliographic fields every study of an analysis set has read in a source (issue 28 item 4).
RECORD_FIELDS: tuple[str, ...] = ("authors", "year", "title", "journal")


def record_gaps(df: pd.DataFrame | None = None) -> pd.Series:
    """For each study, the bibliographic fields of :data:`RECORD_FIELDS` that were not read in a source: empty, or
    a placeholder such as "[title not read] …" (a description standing in for the title). A study with gaps stays
    in the evidence base (maps, counts, bibliography) but leaves every pooled analysis, with the gaps as the reason.

    Parameters
    ----------
    df
        Rows of the ``studies`` resource; default: all of them (systematic reviews included).

    Returns
    -------
    pandas.Series
        Indexed by ``study_id``: the missing fields, comma-separated ("" for a complete record).

    Examples
    --------
    >>> gaps = record_gaps()
    >>> gaps["wickramage2015"], gaps["ugadiss_moldova"]
    ('', 'authors, year, title')
    """
    df = data.load("studies") if df is None else df
    missing = []
    for _, row in df.iterrows():
        gone = [
            name
            for name in RECORD_FIELDS
            if pd.isna(row[name]) or not str(row[name]).strip() or str(row[name]).lstrip().startswith("[")
        ]
        missing.append(", ".join(gone))
    return pd.Series(missing, index=pd.Index(df["study_id"], name="study_id"), name="record_gaps", dtype=object)


def effects(
    study_ids: Iterable[str] | None = None, outcome: str | None = None, with_numbers: bool = False
) -> pd.DataFrame:
    """Effect rows, optionally for some studies and one outcome; ``with_numbers`` keeps rows that carry an
    estimate or complete raw data (2×2 counts, both groups' sizes and printed percentages, or means, SDs and ns
    of both groups).

    Examples
    --------
    >>> e = effects(["wickramage2015"], outcome="underweight", with_numbers=True)
    >>> e[["events_lb", "total_lb", "events_comp", "total_comp"]].values.tolist()
    [[27, 110, 20, 113]]
    """
    df = data.load("effects")
    _check_choice("outcome", outcome, outcomes()["outcome"])
    if study_ids is not None:
        df = df[df["study_id"].isin(_check_study_ids(study_ids))]
    if outcome is not None:
        df = df[df["outcome"] == outcome]
    if check_flag("with_numbers", with_numbers):
        df = df[_has_numbers(df)]
    return df.reset_index(drop=True)


def _has_numbers(df: pd.DataFrame) -> pd.Series:
    estimate = df["estimate"].notna() & (df["measure"].fillna("") != "")
    counts = df[["events_lb", "total_lb", "events_comp", "total_comp"]].notna().all(axis=1)
    means = df[["mean_lb", "sd_lb", "n_lb", "mean_comp", "sd_comp", "n_comp"]].notna().all(axis=1)
    percentages = ["pct_lb", "total_lb", "pct_comp", "total_comp"]
    printed = df[percentages].notna().all(axis=1) if set(percentages) <= set(df.columns) else False
    return estimate | counts | means | printed


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
        doms = {voc[o] for o in split_list(s.outcome_domains) if o in voc.index}
        for country in split_list(s.countries):
            for dom in doms:
                cell = rows.setdefault((country, dom), {"studies": 0, "harm": 0, "benefit": 0, "no_difference": 0})
                cell["studies"] += 1
                found = directions.get((s.study_id, dom), set())
                for key in ("harm", "benefit", "no_difference"):
                    cell[key] += key in found
    out = pd.DataFrame(
        [{"country": c, "domain": d, **v} for (c, d), v in sorted(rows.items())],
        columns=["country", "domain", "studies", "harm", "benefit", "no_difference"],
    )
    with_direction = out[["harm", "benefit", "no_difference"]].sum(axis=1)
    out["balance"] = (out["harm"] - out["benefit"]) / with_direction.where(with_direction > 0)
    return out


def select(
    outcome_domain: str = "all",
    region: str = "all",
    migration_scope: str = "all",
    from_year: int | None = None,
    to_year: int | None = None,
    include_undated: bool = True,
) -> pd.DataFrame:
    """Primary studies chosen the way the evidence-map notebook's parameters choose them (``"all"`` = no filter).

    A study whose publication year is not known cannot be placed in a year range: it is kept unless
    ``include_undated`` is false, so that the map with its default years counts the same studies as
    :func:`~leftbehind.literature.summary` (:func:`year_filter_sentence` says how many are kept or left out).

    Examples
    --------
    >>> len(select(region="South Asia")) == len(studies(region="South Asia"))
    True
    >>> from leftbehind.literature import summary
    >>> len(select(from_year=1990, to_year=2026)) == summary()["studies"]
    True
    """
    from_year = None if from_year is None else check_year("from_year", from_year)
    to_year = None if to_year is None else check_year("to_year", to_year)
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ParameterError(f"from_year {from_year} is after to_year {to_year}")
    check_flag("include_undated", include_undated)
    chosen = studies(
        domain=None if outcome_domain == "all" else outcome_domain,
        region=None if region == "all" else region,
        scope=None if migration_scope == "all" else migration_scope,
    )
    year = chosen["year"]
    dated = year.notna()
    in_range = (
        dated
        & (year >= (from_year if from_year is not None else -(10**6)))
        & (year <= (to_year if to_year is not None else 10**6))
    )
    keep = in_range | (~dated & include_undated)
    return chosen[keep.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def count_studies(n: int, first: bool = False) -> str:
    """A number of studies in words for a sentence: "no study" ("No study" at its start), "1 study", "14 studies".

    Examples
    --------
    >>> count_studies(0), count_studies(0, first=True), count_studies(1), count_studies(14)
    ('no study', 'No study', '1 study', '14 studies')
    """
    if n == 0:
        return "No study" if first else "no study"
    return counted(n, "study", "studies")


def year_filter_sentence(
    outcome_domain: str = "all",
    region: str = "all",
    migration_scope: str = "all",
    from_year: int | None = None,
    to_year: int | None = None,
    include_undated: bool = True,
) -> str:
    """One sentence on what a year range does to :func:`select` (same arguments): how many studies it keeps, how
    many dated studies fall outside it, and how many studies without a known year it keeps or leaves out.

    Examples
    --------
    >>> print(year_filter_sentence(from_year=2030, to_year=2040, include_undated=False))  # doctest: +ELLIPSIS
    No study shown: ... studies published outside 2030–2040 and ... studies without a known publication year are left out.
    >>> print(year_filter_sentence().partition(" shown: ")[2])  # doctest: +ELLIPSIS
    no year range is chosen; ... without a known publication year are among them (include_undated).
    """
    everything = select(outcome_domain, region, migration_scope)
    shown = select(outcome_domain, region, migration_scope, from_year, to_year, include_undated)
    undated = int(everything["year"].isna().sum())
    outside = len(everything) - undated - int(shown["year"].notna().sum())

    def are(n: int) -> str:
        return "is" if n <= 1 else "are"

    lead = f"{count_studies(len(shown), True)} shown"
    if from_year is None and to_year is None:
        if include_undated:
            return (
                f"{lead}: no year range is chosen; {count_studies(undated)} without a known publication year "
                f"{are(undated)} among them (include_undated)."
            )
        return f"{lead}: {count_studies(undated)} without a known publication year {are(undated)} left out."
    if from_year is not None and to_year is not None:
        span = f"outside {from_year}–{to_year}"
    else:
        span = f"before {from_year}" if from_year is not None else f"after {to_year}"
    if include_undated:
        what = f"{count_studies(undated)} without a known publication year {are(undated)} shown (include_undated)"
        return f"{lead}: {count_studies(outside)} published {span} {are(outside)} left out; {what}."
    if outside == 0 and undated == 0:
        return f"{lead}: none published {span} or without a known publication year."
    return (
        f"{lead}: {count_studies(outside)} published {span} and {count_studies(undated)} without "
        f"a known publication year {are(outside + undated)} left out."
    )


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
    eff = eff[eff["study_id"].isin(_check_study_ids(study_ids))]
    table = pd.crosstab(eff["outcome"], eff["direction"])
    order = [o for o in outcomes()["outcome"] if o in table.index]
    cols = [c for c in ("harm", "no_difference", "benefit", "unclear") if c in table.columns]
    return table.reindex(index=order, columns=cols).fillna(0).astype(int)


def studies_per_year(df: pd.DataFrame | None = None) -> pd.Series:
    """Number of studies per publication year, every year from the first to the last, a year without a study
    counted 0 (a chart of them is a time axis: 2006 is not next to 2008); studies without a known year are not
    counted (:func:`year_filter_sentence` says how many).

    Examples
    --------
    >>> per_year = studies_per_year()
    >>> list(per_year.index) == list(range(per_year.index.min(), per_year.index.max() + 1))
    True
    >>> int(per_year.sum()) == int(studies()["year"].notna().sum())
    True
    """
    df = studies() if df is None else df
    check_frame("studies_per_year", df, ["year"], "a studies() selection")
    years = df["year"].dropna().astype(int)
    counts = years.value_counts().sort_index()
    if len(counts):
        counts = counts.reindex(range(int(counts.index.min()), int(counts.index.max()) + 1), fill_value=0)
    counts = counts.astype("int64").rename("studies")
    counts.index.name = "year"
    return counts


def studies_per_country(df: pd.DataFrame | None = None) -> pd.Series:
    """Number of distinct studies per country: a study of several countries counts once for each of them.

    Parameters
    ----------
    df
        Rows of the ``studies`` resource (a :func:`studies` selection); default: every primary study
        (``studies()``: systematic reviews left out).

    Returns
    -------
    pandas.Series
        Integer counts indexed by ISO3 code (named ``iso3``), sorted by code; countries without a study are
        absent.

    Examples
    --------
    >>> counts = studies_per_country()
    >>> int(counts["AGO"])  # cebotari2016 (Ghana, Nigeria, Angola) and mazzucato2015 (the same three)
    2
    >>> nepal = studies(country="NPL")  # any selection can be counted
    >>> int(studies_per_country(nepal)["NPL"]) == len(nepal)
    True
    """
    df = studies() if df is None else df
    check_frame("studies_per_country", df, ["study_id", "countries"], "a studies() selection")
    pairs = {(code, sid) for sid, cell in zip(df["study_id"], df["countries"]) for code in split_list(cell)}
    counts = pd.Series([code for code, _ in sorted(pairs)], dtype="object").value_counts(sort=False)
    counts = counts.sort_index().astype("int64").rename("studies")
    counts.index.name = "iso3"
    return counts
