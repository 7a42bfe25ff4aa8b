"""The world at a glance: one indicator for every country with a value, ready for a map, a ranking and a
comparison across regions and income groups (the ``08_world`` notebook).

An indicator is any indicator of the data package that has values for countries, or ``"studies"``: the
number of studies of children left behind per country in the evidence base
(:func:`leftbehind.literature.studies_per_country`). Values are in the ranking's display units (persons in
millions, US dollars in billions; shares in percent), as :func:`leftbehind.data.ranking` gives them.

Every comparison uses one year and one edition for all countries (:func:`leftbehind.data.comparison_edition`),
and says how many countries have a value; the default year is the newest with broad coverage
(:func:`leftbehind.data.broad_year`), not the newest year with any value.

Examples
--------
>>> g = glance("remittances_received_pct_gdp", 2020)
>>> g.unit, g.frame.columns[:4].tolist(), g.edition
('percent', ['rank', 'geography', 'name', 'value'], 'computed_wdi_2025_07_01_wdi_2024_10_24')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import data, literature
from .._markup import escape_markdown, markdown_table
from ..data.arguments import check_year
from ..data.classification import classification_table
from ..errors import DataError, ParameterError, check_choice

__all__ = [
    "STUDIES",
    "Glance",
    "world_indicators",
    "world_editions",
    "glance",
    "by_group",
    "GROUPINGS",
    "group_caption",
    "ranking_markdown",
    "summary_markdown",
    "sources_markdown",
]

#: The special indicator: studies of children left behind per country, from the evidence base.
STUDIES = "studies"
#: Class edges of the studies map (whole numbers of studies; the last class is open-ended).
STUDY_EDGES = (1, 2, 3, 5, 10)
_STUDIES_SOURCE = "Source: leftbehind evidence base (data/literature), primary studies as published"


#: The groupings of countries a glance compares, and the caption that says which regions each uses.
GROUPINGS: dict[str, str] = {
    "region": "UN geoscheme sub-regions, grouped as in the evidence maps (leftbehind.literature.REGIONS)",
    "wb_region": "World Bank regions (the classification of the newest WDI release)",
    "income_group": "World Bank income groups (the classification of the newest WDI release)",
}


@dataclass(frozen=True)
class Glance:
    """One indicator for every country with a value in one year and one edition: ``frame`` has rank,
    geography, name, value, unit, region (see :func:`leftbehind.literature.region_of`) and, when the World Bank
    classification is in the data package, wb_region and income_group; highest value first. ``edition`` is the
    edition all values come from (``"latest"`` only for the studies)."""

    indicator: str
    year: int
    edition: str
    frame: pd.DataFrame
    title: str
    unit: str
    source: str
    bins: int | tuple[int, ...] = 5
    income_groups: bool = field(default=False)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def world_indicators() -> list[str]:
    """The valid ``indicator`` values: indicators with values for at least one country, then ``"studies"``.

    Examples
    --------
    >>> "remittances_received_usd" in world_indicators(), world_indicators()[-1]
    (True, 'studies')
    """
    with_countries = [i for i in data.indicators() if data.ranking_years(i)]
    return sorted(with_countries) + [STUDIES]


def world_editions() -> list[str]:
    """Every valid ``edition`` value over all indicators: ``"latest"`` and each edition id.

    Examples
    --------
    >>> world_editions()[0]
    'latest'
    """
    return ["latest"] + sorted(set(data.editions()["edition_id"]))


def _check(indicator: object, year: object, edition: object) -> tuple[str, int, str]:
    """Check the three parameters (ParameterError with the valid choices); return them, with ``year`` None or 0
    replaced by the indicator's newest year with broad coverage and ``edition`` by the one edition compared."""
    if not isinstance(indicator, str):
        raise ParameterError(f"indicator must be a string such as {STUDIES!r}, got {indicator!r}")
    check_choice("indicator", indicator, world_indicators(), "an indicator with values for countries")
    if not isinstance(edition, str):
        raise ParameterError(f'edition must be a string such as "latest", got {edition!r}')
    if indicator == STUDIES:
        check_choice("edition", edition, ["latest"], "an edition of the evidence base (it has one)")
        return indicator, 0 if year is None else check_year("year", year), edition
    editions = ["latest"] + list(data.editions(indicator)["edition_id"])
    check_choice("edition", edition, editions, f"an edition of {indicator}")
    year = data.broad_year(indicator, edition) if year is None or year == 0 else check_year("year", year)
    years = data.ranking_years(indicator, edition)
    if year not in years:
        raise ParameterError(
            f"year {year}: no country has a value of {indicator} in that year (edition {edition}). "
            f"Valid: {', '.join(map(str, years))}"
        )
    return indicator, year, data.comparison_edition(indicator, year, edition)


def _regions(codes: pd.Series) -> pd.Series:
    return codes.map(literature.region_of)


def _classification(codes: pd.Series) -> pd.DataFrame | None:
    """Each code's World Bank region and income group, or None when the classification is not in the data
    package."""
    try:
        table = classification_table().set_index("code")
    except DataError:
        return None
    return pd.DataFrame(
        {
            "wb_region": codes.map(table["region"]).fillna(""),
            "income_group": codes.map(table["income_group"]).fillna(""),
        }
    )


def glance(indicator: str = "remittances_received_pct_gdp", year: int | None = None, edition: str = "latest") -> Glance:
    """Every country's value of ``indicator`` in ``year`` (``edition``), highest first, with its region; all
    values from one edition: ``edition`` itself, or for ``"latest"`` the edition that gives the most countries a
    value that year. ``year`` ``None`` (or 0) is the newest year with broad coverage.

    For ``"studies"``, ``year`` is not used (the evidence base is counted as it is) and ``edition`` must be
    ``"latest"``.

    Raises
    ------
    ParameterError
        For an indicator without country values (with the valid ones), a year in which no country has a
        value (with the years that have), or an edition that is not one of the indicator's.

    Examples
    --------
    >>> glance("studies").frame.iloc[0]["geography"]
    'CHN'
    >>> glance("remitances", 2020)
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: indicator "remitances" is not an indicator with values for countries...
    """
    indicator, year, edition = _check(indicator, year, edition)
    if indicator == STUDIES:
        counts = literature.studies_per_country()
        names = data.geographies().set_index("code")["name"]
        frame = pd.DataFrame({"geography": counts.index, "value": counts.to_numpy(), "unit": "studies"})
        frame = frame.assign(name=frame["geography"].map(names)).sort_values(
            ["value", "geography"], ascending=[False, True]
        )
        frame = frame.assign(rank=frame["value"].rank(method="min", ascending=False).astype("int64"))
        rows = literature.studies()
        title, unit, source = (
            "Studies of children left behind by migrant parents, per country",
            "studies",
            _STUDIES_SOURCE,
        )
        bins: int | tuple[int, ...] = STUDY_EDGES + (max(int(counts.max()), STUDY_EDGES[-1] + 1),)
    else:
        frame = rows = data.ranking(indicator, year, edition)
        frame = frame.assign(rank=frame["rank"].astype("int64"))
        unit = str(frame["unit"].iloc[0])
        title = f"{data.indicator_label(indicator)}, {year} (the {len(frame)} countries with a value)"
        from ..plots import source_line  # here: the plan check lists indicators without loading matplotlib

        source = source_line(data.source_labels(frame))
        bins = 5
    frame = frame[["rank", "geography", "name", "value", "unit"]].reset_index(drop=True)
    frame = frame.assign(region=_regions(frame["geography"]))
    groups = _classification(frame["geography"])
    if groups is not None:
        frame = pd.concat([frame, groups], axis=1)
    return Glance(indicator, year, edition, frame, title, unit, source, bins, groups is not None, rows)


def summary_markdown(g: Glance) -> str:
    """Sentences on what the map shows: how many countries have a value and, for an indicator, how many of
    them have at least one study of children left behind.

    Examples
    --------
    >>> summary_markdown(glance("studies")).startswith("The evidence base holds")
    True
    """
    n = len(g.frame)
    if g.indicator == STUDIES:
        return (
            f"The evidence base holds {len(g.rows)} primary studies of children left behind by migrant parents, "
            f"from {n} countries; a study of several countries counts for each of them."
        )
    with_studies = int(g.frame["geography"].isin(literature.studies_per_country().index).sum())
    what = escape_markdown(data.indicator_label(g.indicator))
    edition = escape_markdown(str(data.all_editions().set_index("edition_id").loc[g.edition, "edition"]))
    return (
        f"{n} countries have a value of *{what}* in {g.year} in the data package, all from one edition ({edition}); "
        f"every other country is drawn as no data. {with_studies} of these {n} countries have at least one "
        "study of children left behind in the evidence base."
    )


def group_caption(column: str) -> str:
    """Which grouping of countries a table by ``column`` uses (see :data:`GROUPINGS`).

    Examples
    --------
    >>> group_caption("wb_region")
    'Grouped by World Bank regions (the classification of the newest WDI release).'
    """
    check_choice("column", column, list(GROUPINGS), "a grouping of countries")
    return f"Grouped by {GROUPINGS[column]}."


def sources_markdown(g: Glance) -> str:
    """The numbered sources of ``g``: the data package's citations, or the bibliography of the studies counted.

    Examples
    --------
    >>> sources_markdown(glance("remittances_received_pct_gdp", 2020)).startswith("1. ")
    True
    """
    if g.indicator == STUDIES:
        return literature.bibliography_markdown(g.rows["study_id"])
    return data.sources_markdown(g.rows)


def by_group(g: Glance, column: str = "region") -> pd.DataFrame:
    """The distribution of ``g``'s values within each group (``"region"``, ``"wb_region"`` or ``"income_group"``,
    see :data:`GROUPINGS`): number of countries with a value, lowest, median and highest value, and the country
    with the highest.

    Raises
    ------
    ParameterError
        For another column, or a World Bank grouping when the classification is not in the data package.

    Examples
    --------
    >>> t = by_group(glance("studies"))
    >>> int(t.loc["East and South-East Asia", "countries"]) >= 5
    True
    """
    check_choice("column", column, list(GROUPINGS), "a grouping of countries")
    if column not in g.frame.columns:
        raise ParameterError(
            f'column "{column}": the World Bank classification is not in the data package yet (see '
            "leftbehind.data.classification), so countries cannot be grouped by it"
        )
    frame = g.frame[g.frame[column] != ""]
    grouped = frame.groupby(column, sort=True)["value"]
    top = frame.sort_values(["value", "geography"], ascending=[False, True]).drop_duplicates(column)
    table = pd.DataFrame(
        {
            "countries": grouped.size(),
            "lowest": grouped.min(),
            "median": grouped.median(),
            "highest": grouped.max(),
            "highest in": top.set_index(column)["name"],
        }
    )
    return table.sort_values(["median", "countries"], ascending=False)


def _number(value: float, unit: str) -> str:
    if unit == "studies":
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def ranking_markdown(frame: pd.DataFrame, unit: str) -> str:
    """A Markdown table of ranked countries (rank, country, value with ``unit``); names escaped.

    Examples
    --------
    >>> print(ranking_markdown(pd.DataFrame({"rank": [1], "name": ["A & B"], "value": [2.5]}), "percent"))
    | rank | country | percent |
    |---:|---|---:|
    | 1 | A &amp; B | 2.50 |
    """
    rows = [(int(row.rank), row.name, _number(float(row.value), unit)) for row in frame.itertuples()]
    return markdown_table(["rank", "country", unit], rows, "rlr")
