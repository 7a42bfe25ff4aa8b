"""The world's migration corridors (the ``09_corridors`` notebook): the largest corridors of a year, the fastest
growing since an earlier year, and the corridors between regions, from UN DESA's destination × origin table
(:func:`leftbehind.data.corridors`). UN DESA's "Other" origin is left out of rankings of corridors (it is no
country) and kept, under its own label, in the regional totals.

Examples
--------
>>> largest_corridors(2024, n=1)[["origin", "destination"]].values.tolist()
[['MEX', 'USA']]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .. import data
from ..data.bilateral import OTHER_ORIGIN
from ..data.classification import classification_table
from ..errors import DataError, ParameterError, check_choice

if TYPE_CHECKING:
    from ..plots.tables import Table

__all__ = [
    "REGION_GROUPINGS",
    "corridor_year",
    "total_sentence",
    "largest_corridors",
    "fastest_growing",
    "region_pairs",
    "label",
    "corridors_markdown",
    "corridors_table",
    "region_pairs_markdown",
    "region_pairs_table",
]

#: How corridors can be grouped by region: grouping → what a caption says.
REGION_GROUPINGS: dict[str, str] = {
    "wb_region": "World Bank regions (the classification of the newest WDI release)",
    "un_region": "UN geoscheme sub-regions",
}
_OTHER_REGION = "Other or unknown origin (UN DESA)"


def corridor_year(year: int | None = None) -> int:
    """``year``, checked against the corridors table, or its newest year for ``None`` or 0.

    Examples
    --------
    >>> corridor_year(0)
    2024
    """
    years = data.corridor_years()
    if year is None or year == 0:
        return years[-1]
    if isinstance(year, bool) or not isinstance(year, int) or year not in years:
        raise ParameterError(
            f"year {year!r} is not a year of the corridors table. Valid: 0 (the newest), {', '.join(map(str, years))}"
        )
    return year


def total_sentence(year: int | None = None, sex: str = "total") -> str:
    """How many international migrants UN DESA's table counts in ``year`` and in how many corridors, for the
    opening of the corridors report.

    Examples
    --------
    >>> total_sentence(2024, "female")  # doctest: +ELLIPSIS
    "UN DESA's table of 2024 counts **... million** international migrants (women) in ... corridors."
    """
    year = corridor_year(year)
    frame = data.corridors(year=year, sex=sex)
    return (
        f"UN DESA's table of {year} counts **{frame['persons'].sum() / 1e6:,.1f} million** international migrants "
        f"({data.SEX_WORDS[sex]}) in {len(frame):,} corridors."
    )


def _n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a whole number of at least 1, got {n!r}")
    return n


def label(frame: pd.DataFrame) -> pd.Series:
    """``origin → destination`` names, for charts and tables.

    Examples
    --------
    >>> label(pd.DataFrame({"origin_name": ["Mexico"], "destination_name": ["United States"]})).tolist()
    ['Mexico → United States']
    """
    return frame["origin_name"].astype(str) + " → " + frame["destination_name"].astype(str)


def largest_corridors(year: int | None = None, n: int = 20, sex: str = "total") -> pd.DataFrame:
    """The ``n`` largest corridors (origin → destination) in ``year``, largest first, with their share of the
    origin's emigrants and of the destination's immigrants (see :func:`leftbehind.data.corridors`), and a
    ``label``. UN DESA's "Other" origin is not ranked.

    Examples
    --------
    >>> top = largest_corridors(2024, n=3)
    >>> bool(top["persons"].is_monotonic_decreasing)
    True
    """
    frame = data.corridors(year=corridor_year(year), sex=sex)
    frame = frame[frame["origin"] != OTHER_ORIGIN].head(_n(n)).reset_index(drop=True)
    return frame.assign(label=label(frame))


def fastest_growing(
    since: int = 2000, year: int | None = None, n: int = 20, min_persons: int = 50_000, sex: str = "total"
) -> pd.DataFrame:
    """The ``n`` corridors that grew most between ``since`` and ``year`` (persons added), among those with at least
    ``min_persons`` in ``year``; with the persons in both years, the growth and the growth in percent (empty where
    the corridor had no count in ``since``). One revision's table: the two years are comparable.

    Raises
    ------
    ParameterError
        For a year not in the table, ``since`` not before ``year``, or a bad ``n`` / ``min_persons``.

    Examples
    --------
    >>> g = fastest_growing(2000, 2024, n=2)
    >>> g.columns.tolist()[:4]
    ['origin', 'destination', 'origin_name', 'destination_name']
    """
    year, since = corridor_year(year), corridor_year(since)
    if since >= year:
        raise ParameterError(f"since ({since}) must be a year before year ({year})")
    if isinstance(min_persons, bool) or not isinstance(min_persons, int) or min_persons < 0:
        raise ParameterError(f"min_persons must be a whole number of at least 0, got {min_persons!r}")
    now = data.corridors(year=year, sex=sex)
    then = data.corridors(year=since, sex=sex).set_index(["origin", "destination"])["persons"]
    now = now[(now["origin"] != OTHER_ORIGIN) & (now["persons"] >= min_persons)]
    before = pd.Series(list(zip(now["origin"], now["destination"]))).map(then).to_numpy()
    frame = now.assign(before=before, since=since)
    frame = frame.assign(growth=frame["persons"] - frame["before"].fillna(0))
    frame = frame.assign(growth_pct=(frame["growth"] / frame["before"] * 100).where(frame["before"] > 0))
    frame = frame.sort_values(["growth", "origin", "destination"], ascending=[False, True, True]).head(_n(n))
    return frame.assign(label=label(frame)).reset_index(drop=True)


def _regions(grouping: str) -> pd.Series:
    if grouping == "un_region":
        geo = data.geographies()
        return geo.set_index("code")["un_region"].dropna().astype(str)
    try:
        return classification_table().set_index("code")["region"].astype(str)
    except DataError as exc:
        raise ParameterError(f"grouping wb_region: {exc}") from None


def region_pairs(year: int | None = None, grouping: str = "wb_region", sex: str = "total") -> pd.DataFrame:
    """Persons by region of origin (rows) and region of destination (columns) in ``year``: the corridors summed
    within each pair of regions; the "Other" origin and areas without a region in the grouping keep their own
    row or column, so that the table sums to the world's migrant stock.

    Examples
    --------
    >>> t = region_pairs(2024)
    >>> "Sub-Saharan Africa" in t.index
    True
    >>> list(t.index[-2:]), t.columns[-1]
    (['Not in the grouping', 'Other or unknown origin (UN DESA)'], 'Not in the grouping')
    """
    check_choice("grouping", grouping, list(REGION_GROUPINGS), "a grouping of countries")
    frame = data.corridors(year=corridor_year(year), sex=sex)
    regions = _regions(grouping)
    unknown = "Not in the grouping"
    origin = frame["origin"].map(regions).fillna(unknown).mask(frame["origin"] == OTHER_ORIGIN, _OTHER_REGION)
    destination = frame["destination"].map(regions).fillna(unknown)
    table = frame.assign(origin_region=origin, destination_region=destination).pivot_table(
        index="origin_region", columns="destination_region", values="persons", aggfunc="sum", fill_value=0
    )
    # the regions in alphabetical order, then what no region of the grouping holds: the areas it leaves out,
    # and (as origin) UN DESA's "Other", so that the two rows a reader reads apart are last
    last = [unknown, _OTHER_REGION]
    rows = sorted(r for r in table.index if r not in last) + [r for r in last if r in table.index]
    columns = sorted(c for c in table.columns if c not in last) + [c for c in last if c in table.columns]
    table = table.loc[rows, columns]
    table.index.name, table.columns.name = "from (region of origin)", "to (region of destination)"
    return table


def corridors_table(frame: pd.DataFrame, growth: bool = False, source: str = "") -> Table:
    """A table of ranked corridors: rank, corridor (origin → destination), persons and the share of the origin's
    emigrants (%); with ``growth``, the persons in the earlier year, the persons added and the growth (%), "–"
    with the reason where UN DESA gave no count for the earlier year.

    Examples
    --------
    >>> print(corridors_table(largest_corridors(2024, n=1)))
    Rank  Corridor                Persons  Share of the origin's emigrants (%)
       1  Mexico → United States  11,279,561                                 97.3
    """
    from ..plots.tables import table

    shown = frame.assign(rank=range(1, len(frame) + 1), corridor=label(frame))
    if growth:
        since = int(frame["since"].iloc[0]) if len(frame) else 0
        return table(
            shown,
            columns={
                "rank": "Rank",
                "corridor": "Corridor",
                "before": f"Persons in {since}",
                "persons": "Persons",
                "growth": "Persons added",
                "growth_pct": "Growth (%)",
            },
            decimals={"before": 0, "persons": 0, "growth": 0, "growth_pct": 0},
            reasons={
                "before": f"UN DESA gives no count for this corridor in {since}",
                "growth_pct": f"no percentage of growth from no migrant counted in {since}",
            },
            source=source,
        )
    return table(
        shown,
        columns={
            "rank": "Rank",
            "corridor": "Corridor",
            "persons": "Persons",
            "share_of_origin": "Share of the origin's emigrants (%)",
        },
        decimals={"persons": 0, "share_of_origin": 1},
        source=source,
    )


def corridors_markdown(frame: pd.DataFrame, growth: bool = False) -> str:
    """:func:`corridors_table` in Markdown (names escaped, numbers right-aligned).

    Examples
    --------
    >>> print(corridors_markdown(largest_corridors(2024, n=1)))  # doctest: +ELLIPSIS
    | Rank | Corridor | Persons | Share of the origin's emigrants (%) |
    |---:|---|---:|---:|
    | 1 | Mexico → United States | 11,279,561 | 97.3 |
    """
    return corridors_table(frame, growth).to_markdown()


def region_pairs_table(pairs: pd.DataFrame, source: str = "") -> Table:
    """A :func:`region_pairs` table for readers: one row per region of origin, one column per region of
    destination, in million persons (one decimal); "–" where no corridor joins the two. A last column sums each
    row (the region's emigrants, wherever they live) and a last row each column (the migrants living in the
    region, wherever they come from); where they meet, the world's total.

    Examples
    --------
    >>> t = region_pairs_table(region_pairs(2024))
    >>> t.labels[0], t.labels[-1], t.notes[0]
    ('Origin ↓, destination → (million persons)', 'All destinations', '– : no migrant from that region lives in that region.')
    """
    from ..plots.tables import table

    totals = pairs.assign(**{_ALL_DESTINATIONS: pairs.sum(axis=1)})
    totals.loc[_ALL_ORIGINS] = totals.sum(axis=0)
    millions = (totals / 1e6).where(totals != 0)
    shown = millions.reset_index(names="origin_region")
    columns = {"origin_region": "Origin ↓, destination → (million persons)"}
    columns.update({str(c): str(c) for c in totals.columns})
    shown.columns = ["origin_region", *[str(c) for c in totals.columns]]
    return table(
        shown,
        columns=columns,
        decimals=1,
        notes=[
            "– : no migrant from that region lives in that region.",
            f"{_ALL_DESTINATIONS}: the region's emigrants; {_ALL_ORIGINS}: the migrants living in the region; where "
            "they meet, the world's total.",
        ],
        source=source,
        ids=True,
    )


_ALL_DESTINATIONS, _ALL_ORIGINS = "All destinations", "All origins"


def region_pairs_markdown(table: pd.DataFrame) -> str:
    """A :func:`region_pairs` table in Markdown (:func:`region_pairs_table`), in millions of persons.

    Examples
    --------
    >>> region_pairs_markdown(region_pairs(2024)).splitlines()[0].startswith("| Origin ↓, destination →")
    True
    """
    return region_pairs_table(table).to_markdown()
