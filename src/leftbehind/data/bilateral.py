"""Corridors: how many people from one country live in another, by sex and year (UN DESA International Migrant
Stock, destination × origin), from ``derived/corridors.csv``: the newest revision's table, derived from its
snapshot by ``python -m leftbehind data build``. UN DESA's "Other" origin (not listed, or unknown) is kept as
:data:`OTHER_ORIGIN`, never dropped: its people count in every destination's total.

Examples
--------
>>> top = top_destinations("NPL", n=3, year=2024)
>>> top["destination"].tolist()[0], bool(top["share_of_origin"].sum() <= 100)
('IND', True)
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .._io import data_dir
from ..errors import DataError, ParameterError, check_choice
from .arguments import check_code, check_year
from .figures import SEXES, all_editions, all_sources, geographies
from .tabular import _mtime_ns, _resource, _with_references, cached_on_package, load, record_reads

__all__ = [
    "OTHER_ORIGIN",
    "CORRIDOR_EDITIONS",
    "corridors",
    "top_destinations",
    "top_origins",
    "corridor_years",
    "corridor_source",
]

#: UN DESA's "Other" origin (an origin not listed, or unknown), as the corridors table codes it.
OTHER_ORIGIN = "OOO"
#: The label of :data:`OTHER_ORIGIN` in tables and charts.
OTHER_LABEL = "Other or unknown origin (UN DESA)"
#: Editions the corridors table may hold: ``"latest"`` names the one it holds (the newest revision derived).
CORRIDOR_EDITIONS = ("latest",)
_COLUMNS = [
    "origin",
    "destination",
    "origin_name",
    "destination_name",
    "year",
    "sex",
    "persons",
    "share_of_origin",
    "share_of_destination",
    "edition_id",
    "source_id",
]


@cached_on_package()
def corridor_source() -> pd.Series:
    """The source row (``derived_sources``) of the corridors table: the origin × destination file of the newest
    UN DESA revision that the build derived figures from.

    Raises
    ------
    DataError
        When the corridors table is not in the data package (no origin × destination snapshot yet).
    """
    path = data_dir() / _resource("corridors")["path"]
    if not path.is_file():
        raise DataError(
            f"the corridors are not in the data package yet ({data_dir().name}/{_resource('corridors')['path']} is "
            "missing): add UN DESA's destination x origin table as a snapshot and run `python -m leftbehind data build`"
        )
    sources = all_sources()
    table = sources[sources["title"].str.contains("destination and origin", case=False, na=False)]
    released = all_editions().set_index("edition_id")["released"]
    table = table.assign(released=table["edition_id"].map(released)).sort_values(["released", "source_id"])
    if table.empty:
        raise DataError("the corridors table has no destination x origin source in data/derived/sources.csv")
    return table.iloc[-1]


@functools.lru_cache(maxsize=2)
def _cached(version: int) -> pd.DataFrame:
    frame = load("corridors")
    frame["female"] = frame["female"].astype("Int64")
    frame["male"] = frame["male"].astype("Int64")
    total = frame["female"].fillna(0) + frame["male"].fillna(0)
    both_missing = frame["female"].isna() & frame["male"].isna()
    return frame.assign(total=total.mask(both_missing))


def _table() -> pd.DataFrame:
    path = data_dir() / _resource("corridors")["path"]
    corridor_source()  # a clear error when the table is absent
    record_reads(_with_references("corridors"))
    return _cached(_mtime_ns(path))


def corridor_years() -> list[int]:
    """The years the corridors table covers, ascending.

    Examples
    --------
    >>> corridor_years()[0], corridor_years()[-1]
    (1990, 2024)
    """
    return sorted(int(y) for y in _table()["year"].unique())


def _names() -> pd.Series:
    names = geographies().set_index("code")["name"].astype(str)
    return pd.concat([names, pd.Series({OTHER_ORIGIN: OTHER_LABEL})])


def corridors(
    origin: str | None = None,
    destination: str | None = None,
    year: int | None = None,
    sex: str = "total",
    edition: str = "latest",
) -> pd.DataFrame:
    """One row per corridor (origin, destination, year): persons of ``sex``, their share of the origin's
    emigrants and of the destination's immigrants that year (percent), largest first.

    Parameters
    ----------
    origin, destination
        ISO3 codes of countries and areas (either, both, or neither); ``origin`` may also be :data:`OTHER_ORIGIN`.
        An aggregate such as ``"WLD"`` is refused: UN DESA's table has no corridor from or to one (its totals are
        in :func:`figures`).
    year
        One year of :func:`corridor_years`; ``None`` for all.
    sex
        ``"total"`` (women and men), ``"female"`` or ``"male"``. A corridor with no count for a sex (UN DESA had
        too little data) has none, not zero.
    edition
        ``"latest"``: the newest revision's table, the only one the data package keeps by corridor.

    Returns
    -------
    pandas.DataFrame
        Columns origin, destination, origin_name, destination_name, year, sex, persons, share_of_origin,
        share_of_destination, edition_id, source_id. The shares divide by the origin's emigrants and the
        destination's immigrants summed over the whole table (UN DESA's totals: a test checks them against
        ``figures()``).

    Raises
    ------
    ParameterError
        For an unknown or aggregate code, year, sex or edition (with the valid choices).

    Examples
    --------
    >>> c = corridors(origin="MEX", destination="USA", year=2024)
    >>> c[["origin", "destination", "year"]].values.tolist()
    [['MEX', 'USA', 2024]]
    """
    check_choice("edition", edition, CORRIDOR_EDITIONS, "an edition of the corridors")
    check_choice("sex", sex, SEXES, "a valid sex")
    if year is not None:
        year = check_year("year", year)
        years = corridor_years()
        if year not in years:
            raise ParameterError(
                f"year {year} is not a year of the corridors table. Valid: {', '.join(map(str, years))}"
            )
    if origin is not None:  # corridors run between countries and areas: an aggregate would select nothing
        origin = origin if origin == OTHER_ORIGIN else check_code("origin", origin, countries_only=True)
    if destination is not None:
        if destination == OTHER_ORIGIN:
            raise ParameterError(
                f'destination "{OTHER_ORIGIN}" is UN DESA\'s other or unknown origin (data.OTHER_ORIGIN), an origin '
                "only; a destination is the ISO3 code of a country or area"
            )
        destination = check_code("destination", destination, countries_only=True)
    if origin is not None and origin == destination:
        raise ParameterError(
            f'origin and destination are both "{origin}": UN DESA\'s table has no corridor from a country or area '
            "to itself"
        )
    frame = _with_shares(year, sex)
    keep = np.ones(len(frame), dtype=bool)
    if origin is not None:
        keep &= frame["origin"].to_numpy() == origin
    if destination is not None:
        keep &= frame["destination"].to_numpy() == destination
    return frame[keep].reset_index(drop=True)  # a copy: the cached frame is never handed out


@cached_on_package(16, shared=True)
def _with_shares(year: int | None, sex: str) -> pd.DataFrame:
    """Every corridor of ``year`` (``None``: all years) with a count for ``sex``, its shares, names and source,
    in :func:`corridors`' order: worked out once per version of the data package, year and sex, since the shares
    divide by totals over the whole table (each profile asks for its country's corridors several times)."""
    frame = _table()
    column = "total" if sex == "total" else sex
    if year is not None:
        frame = frame[frame["year"] == year]
    value = frame[column]
    frame = frame.assign(persons=value)[frame[column].notna()]
    out_of = frame.groupby(["origin", "year"])["persons"].transform("sum")
    into = frame.groupby(["destination", "year"])["persons"].transform("sum")
    frame = frame.assign(
        share_of_origin=frame["persons"] / out_of * 100, share_of_destination=frame["persons"] / into * 100
    )
    names = _names()
    src = corridor_source()
    frame = frame.assign(
        origin_name=frame["origin"].map(names),
        destination_name=frame["destination"].map(names),
        sex=sex,
        edition_id=src["edition_id"],
        source_id=src["source_id"],
        persons=frame["persons"].astype("float64"),
    )
    frame = frame.sort_values(["year", "persons", "origin", "destination"], ascending=[True, False, True, True])
    return frame[_COLUMNS].reset_index(drop=True)


def _top(code: str, n: int, year: int | None, side: str, sex: str) -> pd.DataFrame:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a whole number of at least 1, got {n!r}")
    if not isinstance(code, str):  # None would select every corridor: a world table that reads as a country's
        raise ParameterError(f'code must be one code such as "NPL", got {code!r} ({type(code).__name__})')
    year = corridor_years()[-1] if year is None else year
    frame = corridors(**{side: code}, year=year, sex=sex)
    if frame.empty and not (_table()[side] == code).any():
        raise DataError(
            f"UN DESA's origin × destination table has no corridor {'from' if side == 'origin' else 'to'} {code} "
            f"({_names().get(code, code)}) in any year: it gives this country or area no "
            f"{'emigrants' if side == 'origin' else 'immigrants'} of its own"
        )
    return frame[frame["persons"] > 0].head(n).reset_index(drop=True)  # no one counted: not a destination


def top_destinations(code: str, n: int = 10, year: int | None = None, sex: str = "total") -> pd.DataFrame:
    """The ``n`` countries where most people from ``code`` live in ``year`` (default: the newest), largest
    first (see :func:`corridors` for the columns); a corridor where UN DESA counts no one is not among them
    (:func:`corridors` keeps it).

    Examples
    --------
    >>> top_destinations("MEX", n=1)["destination"].tolist()
    ['USA']
    """
    return _top(code, n, year, "origin", sex)


def top_origins(code: str, n: int = 10, year: int | None = None, sex: str = "total") -> pd.DataFrame:
    """The ``n`` origins of most international migrants living in ``code`` in ``year`` (default: the newest),
    largest first; UN DESA's "Other" origin is ranked like the others, under its own label; an origin with no
    one counted is not among them.

    Examples
    --------
    >>> top_origins("USA", n=1)["origin"].tolist()
    ['MEX']
    """
    return _top(code, n, year, "destination", sex)
