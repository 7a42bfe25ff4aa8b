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
from typing import TYPE_CHECKING

import pandas as pd

from .. import data, literature
from .._markup import counted, escape_markdown
from ..data.arguments import check_year
from ..data.classification import classification_table
from ..data.units import decimals_for, frame_unit, scaled
from ..errors import DataError, ParameterError, check_choice, check_frame, years_listed

if TYPE_CHECKING:
    from ..plots.tables import Table

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
    "ranking_table",
    "group_table",
    "summary_markdown",
    "sources_markdown",
    "overlap_note",
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

    @property
    def zeros(self) -> pd.DataFrame:
        """The countries of :attr:`frame` whose value is a published 0 that may stand for a flow not reported
        (:func:`leftbehind.data.published_zeros`): kept on the map as their own class, never ranked."""
        if self.indicator == STUDIES:
            return self.frame.iloc[0:0]
        return self.frame[data.published_zeros(self.frame)]

    @property
    def ranked(self) -> pd.DataFrame:
        """:attr:`frame` without :attr:`zeros`, ranked again (1 = highest): what the lists of the highest and
        lowest and the tables by group compare."""
        if self.indicator == STUDIES:
            return self.frame
        return data.without_published_zeros(self.frame).astype({"rank": "int64"})

    @property
    def zero_label(self) -> str | None:
        """The map legend's name for :attr:`zeros` (``None`` when there are none)."""
        return "0 as published" if len(self.zeros) else None


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
        if year is not None and check_year("year", year) != 0:
            raise ParameterError(
                f"year {year}: the evidence base is counted as it is, not by year; leave year out (or 0) for "
                f"{STUDIES!r} (literature.studies(from_year=..., to_year=...) chooses studies by year)"
            )
        return indicator, 0, edition
    editions = ["latest"] + list(data.editions(indicator)["edition_id"])
    check_choice("edition", edition, editions, f"an edition of {indicator}")
    year = data.broad_year(indicator, edition) if year is None or year == 0 else check_year("year", year)
    years = data.ranking_years(indicator, edition)
    if year not in years:
        raise ParameterError(
            f"year {year}: no country has a value of {indicator} in that year (edition {edition}). "
            f"Valid: {years_listed(years)}"
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
    cite = [c for c in ("indicator", "year", "edition", "edition_id", "source_id") if c in frame.columns]
    frame = frame[["rank", "geography", "name", "value", "unit", *cite]].reset_index(drop=True)  # cite: for its CSV
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
    frame = g.ranked[g.ranked[column] != ""]  # a published 0 that may be a flow not reported is no lowest value
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


def _in_reading_unit(values: pd.Series, unit: str) -> tuple[pd.Series, str]:
    """``values`` of ``unit`` in the unit in which the smallest of them reads as a number of at least 1 (thousand
    or million persons, USD million or billion: :func:`leftbehind.data.units.scaled`), and that unit."""
    shown, target = scaled(values.astype(float), unit, by="smallest")
    return pd.Series(shown, index=values.index), target


def overlap_note(g: Glance, n: int = 10) -> str:
    """The sentence under the lists of the ``n`` highest and ``n`` lowest where they share countries (fewer than
    ``2 * n`` countries have a value), else ``""``: a note that only holds sometimes is not printed always.

    Examples
    --------
    >>> overlap_note(glance("remittances_received_usd"))
    ''
    """
    count = len(g.ranked)
    if count >= 2 * n:
        return ""
    return f"Only {count} countries have a value, so the {n} highest and the {n} lowest overlap."


def zeros_note(g: Glance) -> str:
    """The sentence that names the countries whose value is a published 0 that may stand for a flow not
    reported (:attr:`Glance.zeros`), drawn apart on the map and left out of the lists and of the tables by
    group; ``""`` when there are none.

    Examples
    --------
    >>> zeros_note(glance("remittances_received_usd", 2023)).startswith("12 countries have a value of 0 in 2023 as")
    True
    """
    zeros = g.zeros
    if zeros.empty:
        return ""
    names = sorted(str(n) for n in zeros["name"])
    return (
        f"{counted(len(names), 'country', 'countries')} {'has' if len(names) == 1 else 'have'} a value of 0 in "
        f"{g.year} as published ({escape_markdown(', '.join(names))}): {data.ZERO_NOTE}. The map draws "
        "them apart, and the lists of the highest and lowest and the tables by group leave them out."
    )


def ranking_table(frame: pd.DataFrame, unit: str, source: str = "") -> Table:
    """A table of ranked countries: rank, country and value, in the unit the values read in (thousand or
    million persons, USD million or billion; the unit in the column's label), fixed decimals per unit.

    Examples
    --------
    >>> print(ranking_table(pd.DataFrame({"rank": [1, 2], "name": ["A", "B"], "value": [0.0389, 0.0771]}),
    ...                     "million persons"))
    Rank  Country  Thousand persons
       1  A                    38.9
       2  B                    77.1
    """
    from ..plots.tables import table  # here: the plan check lists indicators without loading matplotlib

    check_frame("ranking_table", frame, ["rank", "name", "value"], "a data.ranking() result")
    unit = frame_unit(frame, unit, "ranking_table")
    values, shown_unit = _in_reading_unit(frame["value"], unit)
    shown = pd.DataFrame({"rank": frame["rank"].astype("int64"), "name": frame["name"], "value": values})
    return table(
        shown,
        columns={"rank": "Rank", "name": "Country", "value": shown_unit[:1].upper() + shown_unit[1:]},
        decimals={"value": decimals_for(shown_unit, values)},
        source=source,
        data=frame.assign(unit=unit).drop(columns=["note", "quote"], errors="ignore"),
    )


def ranking_markdown(frame: pd.DataFrame, unit: str) -> str:
    """:func:`ranking_table` in Markdown (names escaped).

    Examples
    --------
    >>> print(ranking_markdown(pd.DataFrame({"rank": [1], "name": ["A & B"], "value": [2.5]}), "percent"))
    | Rank | Country | Percent |
    |---:|---|---:|
    | 1 | A &amp; B | 2.5 |
    """
    return ranking_table(frame, unit).to_markdown()


def group_table(g: Glance, column: str = "region") -> Table:
    """:func:`by_group` as a table for readers: the group, the number of countries with a value, the lowest,
    median and highest value (in the unit they read in) and the country with the highest; the grouping named in
    a note (:func:`group_caption`).

    Examples
    --------
    >>> t = group_table(glance("studies"))
    >>> t.labels[:3]
    ('UN region', 'Countries', 'Lowest (studies)')
    """
    from ..plots.tables import table

    frame = by_group(g, column)
    data = frame.reset_index(names="group").assign(unit=g.unit)
    group = {"region": "UN region", "wb_region": "World Bank region", "income_group": "Income group"}[column]
    labels, decimals = {"group": group, "countries": "Countries"}, {}
    for name in ("lowest", "median", "highest"):  # each column in the unit its values read in
        values, unit = _in_reading_unit(frame[name], g.unit)
        frame = frame.assign(**{name: values})
        labels[name] = f"{name.capitalize()} ({unit})"
        decimals[name] = decimals_for(unit, values)
    if g.unit == STUDIES:  # whole studies; a median between two counts has a half
        decimals["median"] = 1 if (frame["median"] % 1 != 0).any() else 0
    labels["highest in"] = "Highest in"
    return table(
        frame.reset_index(names="group"),
        columns=labels,
        decimals=decimals,
        notes=[group_caption(column)],
        data=data,
    )
