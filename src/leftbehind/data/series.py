"""Ready-made views of the figures that notebooks and explorers ask for: breakdowns of the ILO estimates,
remittance series, and countries ranked by an indicator.

Examples
--------
>>> list(BREAKDOWNS)
['sex', 'income_group', 'region']
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParameterError, check_choice, check_frame
from .arguments import check_codes, check_year, check_year_range
from .figures import _UNIT_FACTORS, _convert, editions, figures, geographies
from .tabular import cached_on_package, load

#: Unit → its family (persons, USD, percent, count), from the conversion table of :func:`figures`.
_UNIT_FAMILIES: dict[str, str] = {unit: family for unit, (family, _) in _UNIT_FACTORS.items()}

#: Breakdowns of the ILO migrant-worker estimates: the geographies (or sexes) each one compares.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male"),
    "income_group": ("HIC", "UMC", "LMC", "LIC"),
    "region": ("ILO_AFRICA", "ILO_AMERICAS", "ILO_ARAB_STATES", "ILO_ASIA_PACIFIC", "ILO_EUROPE_CENTRAL_ASIA"),
}


def breakdown(indicator: str, by: str, edition: str = "all") -> pd.DataFrame:
    """Values of ``indicator`` split by sex, income group or region (see :data:`BREAKDOWNS`).

    Parameters
    ----------
    indicator
        e.g. ``"migrant_workers"`` (million persons) or ``"migrant_workers_share_of_world"`` (percent).
    by
        ``"sex"`` (world, women and men), ``"income_group"`` or ``"region"`` (destination geographies).
    edition
        ``"all"`` (default), ``"latest"`` or an edition id.

    Returns
    -------
    pandas.DataFrame
        The :func:`figures` columns plus ``group`` (the sex or the geography's name).

    Examples
    --------
    >>> b = breakdown("migrant_workers", "sex", edition="ilo_ge_4")
    >>> b[["group", "value"]].to_dict("records")
    [{'group': 'female', 'value': 64.9}, {'group': 'male', 'value': 102.7}]
    """
    check_choice("breakdown", by, list(BREAKDOWNS), "a breakdown")
    groups = BREAKDOWNS[by]
    if by == "sex":
        df = figures(indicator, geography="WLD", sex=None, edition=edition)
        df = df[df["sex"].isin(groups)].assign(group=lambda d: d["sex"])
    else:
        df = figures(indicator, geography=list(groups), edition=edition)
        names = geographies().set_index("code")["name"]
        df = df.assign(group=df["geography"].map(names))
    order = {g: i for i, g in enumerate(groups)}
    key = df["sex"] if by == "sex" else df["geography"]
    return (
        df.assign(_o=key.map(order)).sort_values(["year", "released", "_o"]).drop(columns="_o").reset_index(drop=True)
    )


#: Measures of remittances received: parameter value → (indicator, unit shown).
REMITTANCE_MEASURES: dict[str, tuple[str, str]] = {
    "usd": ("remittances_received_usd", "USD billion"),
    "pct_gdp": ("remittances_received_pct_gdp", "percent"),
}
_WDI = "World Bank World Development Indicators"
_BRIEFS = "World Bank / KNOMAD Migration and Development Briefs"


def single_edition(frame: pd.DataFrame) -> pd.DataFrame:
    """For each geography (and sex), the rows of one edition only: the newest release among those that give it
    values. A line drawn from the result never splices two revisions.

    Examples
    --------
    >>> rows = figures("emigrant_stock", geography="CHN", edition="all")
    >>> single_edition(rows)["edition_id"].unique().tolist()
    ['undesa_ims_2024']
    """
    if frame.empty:
        return frame
    newest = (
        frame.sort_values(["released", "edition_id"], kind="stable").groupby(["geography", "sex"])["edition_id"].last()
    )
    keep = frame.set_index(["geography", "sex"]).index.map(newest) == frame["edition_id"].to_numpy()
    return frame[keep]


#: The series remittances received may come from: the World Bank's WDI releases and series computed here from
#: them (received ÷ GDP).
WDI_SERIES_NAMES: tuple[str, ...] = (_WDI, f"{_WDI} (computed here)")


def remittances(countries: list[str], measure: str = "usd", years: tuple[int, int] = (2000, 2024)) -> pd.DataFrame:
    """Remittances received by each country from the World Development Indicators: for each country the newest
    release that gives its series (for % of GDP, the series computed here from the newest remittances and GDP
    releases, where it exists), one edition per country, so that no line splices two releases.

    Parameters
    ----------
    countries
        ISO3 codes (or aggregate codes such as ``"LMY"``); a single code is accepted too.
    measure
        ``"usd"`` (USD billion, current) or ``"pct_gdp"`` (percent of GDP); see :data:`REMITTANCE_MEASURES`.
    years
        Inclusive range of reference years.

    Returns
    -------
    pandas.DataFrame
        :func:`figures` columns plus ``label`` (the country's name).

    Examples
    --------
    >>> r = remittances(["NPL"], "pct_gdp", (2019, 2020))
    >>> r[["label", "year", "edition_id"]].values.tolist()[0]
    ['Nepal', 2019, 'computed_wdi_2025_07_01_wdi_2024_10_24']
    """
    check_choice("measure", measure, list(REMITTANCE_MEASURES), "a remittance measure")
    countries = check_codes("countries", countries)
    years = check_year_range("years", years)
    indicator, unit = REMITTANCE_MEASURES[measure]
    df = figures(
        indicator, geography=list(countries), years=years, edition="all", unit=unit if measure == "usd" else None
    )
    df = single_edition(df[df["series"].isin(WDI_SERIES_NAMES)])
    names = geographies().set_index("code")["name"]
    order = {c: i for i, c in enumerate(countries)}
    df = df.assign(label=df["geography"].map(names), _o=df["geography"].map(order))
    return df.sort_values(["_o", "year"]).drop(columns="_o").reset_index(drop=True)


def lmy_remittance_flows(years: tuple[int, int] = (2000, 2024)) -> pd.DataFrame:
    """Remittance flows to low- and middle-income countries (USD billion), each year as last published by the
    World Bank / KNOMAD briefs (estimates and projections flagged in ``note``).

    Examples
    --------
    >>> flows = lmy_remittance_flows((2019, 2019))
    >>> flows[["year", "value", "unit", "edition_id"]].values.tolist()
    [[2019, 536.0, 'USD billion', 'wb_blog_2024_12']]
    """
    years = check_year_range("years", years)
    df = figures("remittances_received_usd", geography="LMY", years=years, series=_BRIEFS, unit="USD billion")
    return df.assign(label="Low- and middle-income countries")


#: Indicators whose publisher writes 0 where a flow may not have been reported: the World Bank's release of
#: 2025-07-01 gives Iran USD 0 of remittances received in every year from 2005 to 2023, where its release of
#: 2022-02-15 gave Iran 0.22 % to 0.65 % of GDP in 2007-2020 (tests/test_world.py reads both from the data
#: package). Such a 0 is kept as published and shown apart from the values: never ranked, never the lowest of a
#: group, a class of its own on a map (:func:`published_zeros`).
ZERO_MAY_BE_UNREPORTED: frozenset[str] = frozenset(
    {"remittances_received_usd", "remittances_paid_usd", "remittances_received_pct_gdp"}
)
#: What a report says of such a 0, once, wherever it shows one.
ZERO_NOTE = "a 0 in the World Bank's remittance series may stand for flows that were not reported, not for none"


def published_zeros(frame: pd.DataFrame) -> pd.Series:
    """True for each row of a :func:`figures`, :func:`table` or :func:`ranking` result whose value is a published
    0 of an indicator of :data:`ZERO_MAY_BE_UNREPORTED` (a column ``indicator`` and ``value``).

    Examples
    --------
    >>> frame = pd.DataFrame({"indicator": ["remittances_received_usd", "emigrant_stock"], "value": [0.0, 0.0]})
    >>> published_zeros(frame).tolist()
    [True, False]
    """
    check_frame("published_zeros", frame, ["indicator", "value"], "a figures(), table() or ranking() result")
    return frame["indicator"].isin(ZERO_MAY_BE_UNREPORTED) & (frame["value"] == 0)


def without_published_zeros(frame: pd.DataFrame) -> pd.DataFrame:
    """A :func:`ranking` (or a frame with its ``indicator`` and ``value``) without its :func:`published_zeros`,
    ``rank`` worked out again for the rows kept (1 = highest; ties share a rank), as :func:`ranking` does.

    Examples
    --------
    >>> frame = pd.DataFrame({"indicator": "remittances_received_usd", "value": [5.0, 2.0, 0.0], "rank": [1, 2, 3]})
    >>> without_published_zeros(frame)["rank"].tolist()
    [1, 2]
    """
    kept = frame[~published_zeros(frame)]
    return kept.assign(rank=_ranks(kept["value"]))


def _ranks(values: pd.Series) -> pd.Series:
    return values.rank(method="min", ascending=False).astype("Int64")


#: The unit a ranking shows, by unit family: large counts and amounts in millions/billions, shares as published.
_RANKING_UNITS: dict[str, str] = {"persons": "million persons", "USD": "USD billion"}


def indicator_label(indicator: str) -> str:
    """The indicator's readable name from the ``indicators`` resource.

    Examples
    --------
    >>> indicator_label("migrant_workers")
    'International migrant workers'
    """
    table = load("indicators").set_index("indicator")
    check_choice("indicator", indicator, list(table.index), "an indicator of the data package")
    return str(table.loc[indicator, "name"])


def _country_figures(indicator: str, edition: str) -> pd.DataFrame:
    if edition == "all":  # a comparison of countries takes one edition per year: "latest" chooses it
        raise ParameterError(
            f'edition "all": countries are compared within one edition; give "latest" (each year\'s best-covered '
            f"edition) or one edition of {indicator} (data.editions({indicator!r}))"
        )
    df = figures(indicator, edition="all" if edition == "latest" else edition)
    countries = set(geographies().query("kind == 'country'")["code"])
    return df[df["geography"].isin(countries)]


def ranking_years(indicator: str, edition: str = "latest") -> list[int]:
    """Years in which at least one country has a value of ``indicator`` (aggregates excluded), ascending.

    Examples
    --------
    >>> 2020 in ranking_years("remittances_received_pct_gdp")
    True
    """
    return sorted(int(y) for y in _country_figures(indicator, edition)["year"].unique())


#: A year has broad coverage when its comparison edition gives values for at least this share of the countries
#: of the indicator's best-covered year: the default year of a world map or ranking.
BROAD_COVERAGE = 0.9


@cached_on_package(64)
def _coverage(indicator: str, edition: str) -> pd.DataFrame:
    """Countries with a value per year and edition (``edition``: one, or ``"latest"`` for all)."""
    rows = _country_figures(indicator, edition)
    counts = rows.groupby(["year", "edition_id", "released"])["geography"].nunique().rename("countries")
    return counts.reset_index()


@cached_on_package(64)
def comparison_edition(indicator: str, year: int, edition: str = "latest") -> str:
    """The one edition a comparison of countries in ``year`` uses: ``edition`` itself, or for ``"latest"`` the
    edition that gives the most countries a value that year (the newest release on a tie).

    Examples
    --------
    >>> comparison_edition("remittances_received_pct_gdp", 2020)
    'computed_wdi_2025_07_01_wdi_2024_10_24'
    >>> comparison_edition("remittances_received_pct_gdp", 2020, "wdi_2022_02_15")
    'wdi_2022_02_15'
    """
    year = check_year("year", year)
    if edition != "latest":  # one of the indicator's own: another's would compare nothing
        check_choice("edition", edition, ["latest", *editions(indicator)["edition_id"]], f"an edition of {indicator}")
        return edition
    cov = _coverage(indicator, "latest")
    cov = cov[cov["year"] == year].sort_values(["countries", "released", "edition_id"])
    return str(cov["edition_id"].iloc[-1]) if len(cov) else "latest"


@cached_on_package(64)
def broad_year(indicator: str, edition: str = "latest") -> int:
    """The newest year in which the comparison edition gives values for at least :data:`BROAD_COVERAGE` of the
    countries of the indicator's best-covered year: the default year of a world map or ranking (the newest
    year with any value may hold a handful of early estimates).

    Raises
    ------
    ParameterError
        When no country has a value of ``indicator``.

    Examples
    --------
    >>> broad_year("remittances_received_usd")  # 2024 holds values for about half the countries
    2023
    """
    cov = _coverage(indicator, edition)
    if cov.empty:
        from ..errors import ParameterError

        raise ParameterError(f"no country has a value of {indicator} (edition {edition})")
    best = cov.groupby("year")["countries"].max()
    return int(best[best >= BROAD_COVERAGE * best.max()].index.max())


@cached_on_package(64)
def table(indicator: str, year: int, edition: str = "latest") -> pd.DataFrame:
    """One row per country (aggregates excluded) with its value of ``indicator`` in ``year``, in the
    indicator's base unit, sorted by ISO3 code: the wide view for maps and rankings. All values come from one
    edition (:func:`comparison_edition`), so that countries are compared like with like.

    Returns
    -------
    pandas.DataFrame
        The :func:`figures` columns plus ``name``.

    Examples
    --------
    >>> t = table("remittances_received_pct_gdp", 2020)
    >>> t["geography"].is_unique and t["geography"].is_monotonic_increasing and set(t["unit"]) == {"percent"}
    True
    >>> t["edition_id"].nunique()
    1
    """
    year = check_year("year", year)
    df = _country_figures(indicator, edition)
    df = df[(df["year"] == year) & (df["edition_id"] == comparison_edition(indicator, year, edition))]
    df = df.sort_values("geography")
    if df.empty:
        return df.assign(name=pd.Series(dtype="string")).reset_index(drop=True)
    names = geographies().set_index("code")["name"]
    return df.assign(name=df["geography"].map(names)).reset_index(drop=True)


def ranking(indicator: str, year: int, edition: str = "latest") -> pd.DataFrame:
    """Countries (aggregates excluded) ranked by ``indicator`` in ``year``, highest first, in one unit.

    Counts of persons are shown in million persons and amounts of money in USD billion (display units); shares
    stay in percent. The values are those of :func:`table`.

    Returns
    -------
    pandas.DataFrame
        The :func:`figures` columns plus ``rank`` (1 = highest; ties share a rank) and ``name``.

    Examples
    --------
    >>> top = ranking("remittances_received_pct_gdp", 2020).head(1)
    >>> top[["rank", "geography"]].values.tolist()[0][0]
    1
    """
    df = table(indicator, year, edition)
    if df.empty:
        return df.assign(rank=pd.Series(dtype="Int64"))
    family = _UNIT_FAMILIES.get(str(df["unit"].iloc[0]), "")
    if family in _RANKING_UNITS:
        df = _convert(df, _RANKING_UNITS[family])
    df = df.sort_values(["value", "geography"], ascending=[False, True])
    df = df.assign(rank=_ranks(df["value"]))
    return df.reset_index(drop=True)


def edition_differences(indicator: str, edition: str, other: str) -> pd.DataFrame:
    """The values of ``indicator`` that both editions give (every geography and year, sex total), side by side:
    columns geography, year, ``edition``, ``other``, difference (``other`` − ``edition``), in the base unit.
    How a series computed here compares with the publisher's (``data/VERIFICATION.md`` quotes its spread).

    Examples
    --------
    >>> d = edition_differences("remittances_received_pct_gdp", "wdi_2022_02_15", "computed_wdi_2025_07_01_wdi_2024_10_24")
    >>> bool(len(d) > 6000 and abs(d["difference"]).median() < 0.001)
    True
    """
    rows = figures(indicator, edition="all")
    eds = list(rows["edition_id"].unique())
    for name, value in (("edition", edition), ("other", other)):
        check_choice(name, value, eds, f"an edition of {indicator}")
    if edition == other:
        raise ParameterError(
            f'edition and other are both "{edition}": give two editions to compare. Valid: {", ".join(eds)}'
        )
    a = rows[rows["edition_id"] == edition].set_index(["geography", "year"])["value"].rename(edition)
    b = rows[rows["edition_id"] == other].set_index(["geography", "year"])["value"].rename(other)
    both = pd.concat([a, b], axis=1, join="inner").reset_index()
    return both.assign(difference=both[other] - both[edition])
