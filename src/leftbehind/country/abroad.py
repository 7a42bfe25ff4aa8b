"""Where a country's emigrants live and where its immigrants come from (UN DESA's destination × origin table,
:mod:`leftbehind.data.corridors`): the tables and sentences of a profile.

Examples
--------
>>> t = destinations("NPL", n=3)
>>> t.columns.tolist()
['destination', 'name', 'persons', 'share', 'women_share', 'year', 'edition_id', 'source_id']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .. import data
from .._markup import end_sentence
from .._markup import escape_markdown as md
from ..data import bilateral as od
from ..data.arguments import check_code
from ..errors import DataError, ParameterError, check_frame
from .sentences import fmt_value

if TYPE_CHECKING:
    from ..plots.tables import Table

__all__ = [
    "destinations",
    "origins",
    "destinations_sentence",
    "destinations_table",
    "destination_map_frame",
    "destinations_over_time",
    "largest",
]

_COLUMNS = ["name", "persons", "share", "women_share", "year", "edition_id", "source_id"]


def _with_women(frame: pd.DataFrame, side: str, iso3: str, year: int) -> pd.DataFrame:
    women = od.corridors(**{side: iso3}, year=year, sex="female")
    other = "destination" if side == "origin" else "origin"
    share = women.set_index(other)["persons"] / frame.set_index(other)["persons"] * 100
    return frame.assign(women_share=frame[other].map(share))


def destinations(iso3: str, n: int = 10, year: int | None = None) -> pd.DataFrame:
    """The ``n`` countries where most people from ``iso3`` live (newest year by default): persons, their share of
    all the country's emigrants (percent) and the share of women among them (percent; empty where UN DESA gives
    no count by sex). Empty when the corridors table has none.

    Examples
    --------
    >>> destinations("MEX", n=1)[["destination", "name"]].values.tolist()
    [['USA', 'United States']]
    """
    iso3 = check_code("iso3", iso3, countries_only=True)  # corridors run between countries and areas
    try:
        top = od.top_destinations(iso3, n=n, year=year)
    except DataError:
        top = pd.DataFrame(columns=["destination", "destination_name", "persons", "share_of_origin", "year"])
    if top.empty:
        return pd.DataFrame(columns=["destination", *_COLUMNS])
    top = _with_women(top, "origin", iso3, int(top["year"].iloc[0]))
    top = top.rename(columns={"destination_name": "name", "share_of_origin": "share"})
    top = top[["destination", *_COLUMNS]]
    top.attrs["origin"] = iso3  # whose emigrants these are: destinations_sentence checks it
    return top


def origins(iso3: str, n: int = 10, year: int | None = None) -> pd.DataFrame:
    """The ``n`` largest origins of the international migrants living in ``iso3`` (UN DESA's "Other" origin
    ranked under its own label), with their share of all immigrants and the share of women among them.

    Examples
    --------
    >>> origins("USA", n=1)["origin"].tolist()
    ['MEX']
    """
    iso3 = check_code("iso3", iso3, countries_only=True)  # corridors run between countries and areas
    try:
        top = od.top_origins(iso3, n=n, year=year)
    except DataError:
        top = pd.DataFrame(columns=["origin", "origin_name", "persons", "share_of_destination", "year"])
    if top.empty:
        return pd.DataFrame(columns=["origin", *_COLUMNS])
    top = _with_women(top, "destination", iso3, int(top["year"].iloc[0]))
    top = top.rename(columns={"origin_name": "name", "share_of_destination": "share"})
    return top[["origin", *_COLUMNS]]


def destinations_sentence(iso3: str, table: pd.DataFrame) -> str:
    """One Markdown sentence on where the country's emigrants live, from a :func:`destinations` table.

    Examples
    --------
    >>> print(destinations_sentence("NPL", destinations("NPL", n=3)))  # doctest: +ELLIPSIS
    In 2024, the largest numbers of people from Nepal lived in India (664 thousand, 25.2 % of Nepal's emigrants), ...
    """
    check_frame("destinations_sentence", table, ["destination", *_COLUMNS], f'a destinations("{iso3}") result')
    if table.attrs.get("origin", iso3) != iso3:
        raise ParameterError(
            f"destinations_sentence: the table is of emigrants from {table.attrs['origin']}, not from {iso3}: "
            f'give destinations("{iso3}")'
        )
    name = md(data.country_name(iso3))
    if table.empty:
        return end_sentence(f"UN DESA's destination × origin table gives no destination of emigrants from {name}")
    rows = [
        f"{md(r.name)} ({fmt_value(r.persons / 1e6, 'million persons')}, {fmt_value(r.share, 'percent')} of {name}'s "
        f"emigrants)"
        for r in table.head(3).itertuples()
    ]
    listed = ", ".join(rows[:-1]) + (f" and {rows[-1]}" if len(rows) > 1 else rows[0])
    first = table.iloc[0]
    edition = data.all_editions().set_index("edition_id").loc[first["edition_id"], "edition"]
    return f"In {int(first['year'])}, the largest numbers of people from {name} lived in {listed} ({md(edition)})."


_NUMBER_WORDS = {3: "three", 5: "five", 10: "ten"}


def largest(noun: str, found: int, n: int) -> str:
    """How a heading names the rows of a top-``n`` list that has ``found`` rows: "ten largest origins", or,
    where there are fewer than ``n``, all there are ("6 origins", "one origin"), so that a heading never promises
    rows that are not there.

    Examples
    --------
    >>> largest("origins", 10, 10), largest("destinations", 3, 5), largest("destinations", 1, 5)
    ('ten largest origins', '3 destinations', 'one destination')
    """
    if found >= n:
        return f"{_NUMBER_WORDS.get(n, str(n))} largest {noun}"
    return f"one {noun.removesuffix('s')}" if found == 1 else f"{found} {noun}"


def destination_map_frame(iso3: str, year: int | None = None) -> pd.DataFrame:
    """Every destination of the country's emigrants in ``year`` (newest by default), in the shape a choropleth
    takes (geography, name, value in persons, unit); UN DESA's "Other" has no place on a map and is left out."""
    iso3 = check_code("iso3", iso3, countries_only=True)  # corridors run between countries and areas
    try:
        year = od.corridor_years()[-1] if year is None else year
        frame = od.corridors(origin=iso3, year=year)
    except DataError:
        return pd.DataFrame(columns=["geography", "name", "value", "unit"])
    frame = frame[frame["destination"] != od.OTHER_ORIGIN]
    return pd.DataFrame(
        {
            "geography": frame["destination"],
            "name": frame["destination_name"],
            "value": frame["persons"].round().astype("int64"),  # counts: whole-number classes on the map
            "unit": "persons",
        }
    ).reset_index(drop=True)


def destinations_table(frame: pd.DataFrame, source: str = "") -> Table:
    """A table of a :func:`destinations` or :func:`origins` frame: country, persons, share (%) and women (%),
    numbers right-aligned, "–" with the reason where UN DESA gives no count by sex.

    Examples
    --------
    >>> print(destinations_table(destinations("MEX", n=1)))
    Country        Persons     Share (%)  Women (%)
    United States  11,279,561       97.3       48.7
    """
    from ..plots.tables import table

    check_frame(
        "destinations_table", frame, ["name", "persons", "share", "women_share"], "a destinations() or origins() result"
    )
    return table(
        frame,
        columns={"name": "Country", "persons": "Persons", "share": "Share (%)", "women_share": "Women (%)"},
        decimals={"persons": 0, "share": 1, "women_share": 1},
        reasons={"women_share": "UN DESA gives no count by sex for this corridor"},
        source=source,
        name="largest origins" if "origin" in frame.columns else "largest destinations",
    )


def destinations_over_time(iso3: str, n: int = 5) -> pd.DataFrame:
    """The people from ``iso3`` living in each of its ``n`` largest destinations of the newest year, in every year
    of the corridors table (one revision, 1990 onwards), in million persons: a frame for
    :func:`leftbehind.plots.timeseries` (``label`` the destination, ``edition_id`` the revision, so that a change
    of revision would be marked), the largest destination first, as in :func:`destinations`. Empty when the
    corridors table has none.

    Examples
    --------
    >>> t = destinations_over_time("NPL", n=2)
    >>> t["label"].unique().tolist(), int(t["year"].min())
    (['India', 'Malaysia'], 1990)
    """
    top = destinations(iso3, n=n)
    if top.empty:
        return pd.DataFrame(columns=["year", "value", "unit", "label", "edition_id", "source_id"])
    frame = od.corridors(origin=iso3)
    rank = {code: i for i, code in enumerate(top["destination"])}  # lines and legend in the table's order
    frame = frame[frame["destination"].isin(rank)]
    frame = frame.iloc[frame["destination"].map(rank).argsort(kind="stable")]
    return pd.DataFrame(
        {
            "year": frame["year"],
            "value": frame["persons"] / 1e6,
            "unit": "million persons",
            "label": frame["destination_name"],
            "edition_id": frame["edition_id"],
            "source_id": frame["source_id"],
        }
    ).reset_index(drop=True)
