"""Figures and their editions, geographies, and citations of sources: the questions a report asks of the data
package. Public names are re-exported by :mod:`leftbehind.data`.

Examples
--------
>>> figures("migrant_stock", geography="WLD", year=2020)["value"].tolist()  # UN DESA 2024 revision, summed
[275284032.0]
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from .._io import data_dir
from .._markup import escape_markdown, markdown_link
from ..errors import ParameterError, check_choice, check_flag, choice_error
from .arguments import check_code, check_codes, check_year, check_year_range, name_of
from .classification import filter_codes
from .tabular import _resource, _with_references, cached_on_package, load, record_reads

# --- figures, editions, citations ------------------------------------------------------------------

#: Values of the ``sex`` field of the figures table.
SEXES: tuple[str, ...] = ("total", "female", "male")
#: Each value of ``sex`` as a sentence, a caption or a dropdown says it.
SEX_WORDS: dict[str, str] = {"total": "women and men", "female": "women", "male": "men"}

_UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "persons": ("persons", 1.0),
    "million persons": ("persons", 1e6),
    "USD": ("USD", 1.0),
    "USD million": ("USD", 1e6),
    "USD billion": ("USD", 1e9),
    "percent": ("percent", 1.0),
    "count": ("count", 1.0),
}


@cached_on_package()
def indicators() -> list[str]:
    """Indicator ids of the figures table (the controlled vocabulary, see the ``indicators`` resource).

    Examples
    --------
    >>> "migrant_stock" in indicators()
    True
    """
    return load("indicators")["indicator"].tolist()


def _optional(name: str) -> pd.DataFrame:
    """Resource ``name``, or an empty frame with its columns when its file is absent (a data package without
    derived tables, e.g. one built before any snapshot); read either way (a report that found it absent is
    rerun when it appears)."""
    if not (data_dir() / _resource(name)["path"]).is_file():
        record_reads(_with_references(name))
        return pd.DataFrame({f["name"]: pd.Series(dtype="string") for f in _resource(name)["schema"]["fields"]})
    return load(name)


@cached_on_package()
def all_editions() -> pd.DataFrame:
    """Every edition: the hand-kept ``editions`` and those of the derived figures (``derived_editions``; an
    edition in both is described identically, which ``data validate`` checks)."""
    eds = pd.concat([load("editions"), _optional("derived_editions")], ignore_index=True)
    return eds.drop_duplicates("edition_id", keep="first").reset_index(drop=True)


@cached_on_package()
def all_sources() -> pd.DataFrame:
    """Every source: the hand-kept ``sources`` (documents and pages read) and those of the derived figures
    (``derived_sources``: the publishers' files, and the series computed here)."""
    derived = _optional("derived_sources")
    return pd.concat(
        [load("sources"), derived[[c for c in derived.columns if c in load("sources").columns]]], ignore_index=True
    )


@cached_on_package(2, shared=True)
def _figures_table() -> pd.DataFrame:
    """Hand-kept and derived figures in one table. A derived figure and a hand-kept one of the same indicator,
    geography, year, sex and edition agree (a test checks it); the derived one is shown, citing the
    publisher's file, and the hand-kept row stays in ``figures.csv`` with its quote."""
    hand = load("figures")
    derived = _optional("derived_figures")
    if len(derived):
        sources = _optional("derived_sources")[["source_id", "edition_id"]]
        base = load("indicators").set_index("indicator")["base_unit"]
        derived = derived.merge(sources, on="source_id", how="left", validate="many_to_one")
        derived = derived.assign(
            unit=derived["indicator"].map(base).astype("string"),
            published_unit=pd.NA,
            note=("derived by code: " + derived["location"]).astype("string"),
            quote=pd.NA,
        )
        key = ["indicator", "geography", "year", "sex", "edition_id"]
        shadowed = hand.merge(derived[key].drop_duplicates(), on=key, how="left", indicator=True)["_merge"] == "both"
        hand = hand[~shadowed.to_numpy()]
        derived = derived[hand.columns]
    figs = pd.concat([hand, derived], ignore_index=True) if len(derived) else hand
    eds = all_editions()[["edition_id", "series", "edition", "released"]]
    return figs.merge(eds, on="edition_id", how="left", validate="many_to_one")


@cached_on_package(2)
def _series_names() -> list[str]:
    return sorted(_figures_table()["series"].dropna().unique())


@cached_on_package(2, shared=True)
def _by_indicator() -> dict[str, pd.DataFrame]:
    """The figures table split by indicator, each part sorted as :func:`figures` returns it (geography, year,
    sex, release): a report asks for one indicator dozens of times, and a part is a small table."""
    table = _figures_table().sort_values(
        ["indicator", "geography", "year", "sex", "released", "edition_id"], kind="stable"
    )
    return {str(k): part.reset_index(drop=True) for k, part in table.groupby("indicator", sort=True)}


@cached_on_package(2, shared=True)
def _indicator_index() -> dict[str, tuple[dict[str, np.ndarray], list[str]]]:
    """Per indicator: the positions of each geography's rows in its part of :func:`_by_indicator`, and its
    editions (sorted): what :func:`figures` would otherwise scan the part for on every call."""
    index = {}
    for indicator, part in _by_indicator().items():
        rows = {str(geo): np.asarray(pos) for geo, pos in part.groupby("geography", sort=False).indices.items()}
        index[indicator] = (rows, sorted(part["edition_id"].unique()))
    return index


def _convert(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    check_choice("unit", unit, list(_UNIT_FACTORS), "a known unit")
    family, factor = _UNIT_FACTORS[unit]
    frame = frame.copy()
    for from_unit in frame["unit"].unique():
        from_family, from_factor = _UNIT_FACTORS[from_unit]
        if from_family != family:
            raise ParameterError(f'cannot convert "{from_unit}" to "{unit}"')
        rows = frame["unit"] == from_unit
        frame.loc[rows, "value"] = frame.loc[rows, "value"] * (from_factor / factor)
    frame["unit"] = unit
    return frame


@cached_on_package(512)
def figures(
    indicator: str,
    geography: str | list[str] | None = None,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    sex: str | None = "total",
    edition: str = "latest",
    series: str | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """Published values of one indicator, one per geography/year/sex (latest edition) or every edition.

    Parameters
    ----------
    indicator
        An id from :func:`indicators`, e.g. ``"migrant_stock"``, ``"remittances_received_usd"``.
    geography
        An ISO3 code or aggregate code (``"WLD"``, ``"LMY"``, …), or a list of them; ``None`` for all.
    year, years
        One reference year, or an inclusive ``(first, last)`` range.
    sex
        ``"total"`` (default), ``"female"``, ``"male"``, or ``None`` for all three.
    edition
        ``"latest"`` (default): for each value, the edition released last; ``"all"``: every edition, so that
        revisions can be compared; or an ``edition_id`` from :func:`editions` to get that edition only.
    series
        Restrict to one statistical series (e.g. ``"World Bank World Development Indicators"``).
    unit
        Convert values to this unit (``"persons"``/``"million persons"``; ``"USD"``/``"USD million"``/
        ``"USD billion"``); default: the indicator's base unit (``indicators.base_unit``), in which every
        value is stored (the unit a quote prints is in ``published_unit`` of ``figures.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns indicator, geography, year, sex, value, unit, source_id, edition_id, series, edition, released,
        note, quote; sorted by geography, year, sex and release.

    Raises
    ------
    ParameterError
        For an unknown indicator, geography, edition, series or unit (with the valid choices), a year that is not
        a whole number, or ``years`` that is not a ``(first, last)`` pair.

    Examples
    --------
    >>> latest = figures("migrant_stock", geography="WLD", year=2020)
    >>> latest[["value", "unit", "edition_id"]].to_dict("records")
    [{'value': 275284032.0, 'unit': 'persons', 'edition_id': 'undesa_ims_2024'}]
    >>> figures("migrant_stock", geography="WLD", year=2020, unit="million persons")["value"].round(1).tolist()
    [275.3]
    >>> figures("migrant_stock", geography="WLD", year=2020, edition="all")["edition_id"].tolist()
    ['undesa_ims_2020', 'undesa_ims_2024']
    """
    check_choice("indicator", indicator, indicators(), "an indicator of the data package")
    part = _by_indicator().get(indicator)
    df = part if part is not None else _figures_table().head(0)
    rows, eds = _indicator_index()[indicator] if part is not None else ({}, [])
    if geography is not None:
        found = [rows[c] for c in check_codes("geography", geography) if c in rows]
        df = df.take(np.unique(np.concatenate(found)) if found else np.array([], dtype=np.intp))  # part's order
    if year is not None and years is not None:
        raise ParameterError(f"give year or years, not both (got year={year!r} and years={years!r})")
    if year is not None:
        df = df[df["year"] == check_year("year", year)]
    if years is not None:
        first, last = check_year_range("years", years)
        df = df[(df["year"] >= first) & (df["year"] <= last)]
    if sex is not None:
        check_choice("sex", sex, SEXES, "a valid sex")
        df = df[df["sex"] == sex]
    if series is not None:
        check_choice("series", series, _series_names(), "a series of the data package")
        df = df[df["series"] == series]
    edition = check_choice("edition", edition, ["latest", "all"] + eds, f"an edition with {indicator} figures")
    if edition == "latest":
        df = df.drop_duplicates(["indicator", "geography", "year", "sex"], keep="last")
    elif edition != "all":
        df = df[df["edition_id"] == edition]
    if unit is not None:
        df = _convert(df, unit)
    columns = [
        "indicator",
        "geography",
        "year",
        "sex",
        "value",
        "unit",
        "source_id",
        "edition_id",
        "series",
        "edition",
        "released",
        "note",
        "quote",
    ]
    return df[columns].reset_index(drop=True)


def editions(indicator: str | None = None) -> pd.DataFrame:
    """The editions (releases) in the data package, oldest first; only those with ``indicator`` if given.

    Examples
    --------
    >>> editions("migrant_workers")["edition_id"].tolist()
    ['ilo_ge_1', 'ilo_ge_2', 'ilo_ge_3', 'ilo_ge_4']
    """
    eds = all_editions()
    if indicator is not None:
        check_choice("indicator", indicator, indicators(), "an indicator of the data package")
        used = set(figures(indicator, sex=None, edition="all")["edition_id"])
        eds = eds[eds["edition_id"].isin(used)]
    return eds.sort_values(["released", "edition_id"]).reset_index(drop=True)


def _source_citation(source_id: str, text: Callable[[object], str], link: Callable[[object], str]) -> str:
    """The citation of one source, each data string passed through ``text`` and each address through ``link``."""
    src = all_sources()
    row = src[src["source_id"] == source_id]
    if row.empty:
        raise choice_error("source_id", source_id, src["source_id"].tolist(), "a source of the data package")
    r = row.iloc[0]
    eds = all_editions().set_index("edition_id")
    edition = eds.loc[r["edition_id"], "edition"]
    read = "" if r["read_at"] == r["url"] else f"; read at {link(r['read_at'])}"
    return (
        f"{text(r['publisher'])} ({r['year_published']}). {text(r['title'])}. {text(edition)}. "
        f"{text(r['table_or_page'])}. {link(r['url'])} (accessed {r['accessed'].isoformat()}{read}; "
        f"{text(r['verification'])} source)"
    )


def cite(source_id: str) -> str:
    """A citation for one source, as plain text: publisher (year), title, edition, where in it, address and
    date read. For Markdown, use :func:`sources_markdown` (it escapes the data's strings).

    Examples
    --------
    >>> cite("wdi_bx_trf_pwkr_cd_dt_20250701").split(". ")[0]
    'World Bank (2025)'
    """
    return _source_citation(source_id, str, str)


def geographies() -> pd.DataFrame:
    """Countries and aggregates (code, name, kind, classification, un_region, continent).

    Examples
    --------
    >>> g = geographies().set_index("code")
    >>> g.loc["LKA", "name"], g.loc["LMY", "kind"]
    ('Sri Lanka', 'income_group')
    """
    return load("geographies")


def countries(with_figures: bool = True, income_group: str | None = None, region: str | None = None) -> list[str]:
    """ISO3 codes of countries: those with at least one figure (default), or every country known; optionally
    only those of a World Bank income group and/or region (from :func:`classification`).

    Raises
    ------
    DataError
        When ``income_group`` or ``region`` is given and the World Bank classification is not in the data
        package yet.

    Examples
    --------
    >>> {"LKA", "NPL", "KGZ"} <= set(countries())
    True
    """
    geo = load("geographies")
    codes = geo.loc[geo["kind"] == "country", "code"]
    if check_flag("with_figures", with_figures):
        codes = codes[codes.isin(set(_figures_table()["geography"]))]
    return filter_codes(sorted(codes.tolist()), income_group, region)


def country_name(code: str) -> str:
    """Short name of a country or aggregate code.

    Examples
    --------
    >>> country_name("KGZ")
    'Kyrgyzstan'
    """
    return name_of(check_code("code", code))


def sources_markdown(frame: pd.DataFrame) -> str:
    """A numbered Markdown list citing every source used in ``frame`` (a :func:`figures` result).

    The data's strings are escaped and only http(s) addresses are linked, so that no markup in the data
    package reaches a report as live HTML.

    Examples
    --------
    >>> text = sources_markdown(figures("migrant_stock", geography="WLD", year=2020))
    >>> text.startswith("1. ") and "International Migrant Stock 2024" in text
    True
    """
    ids = list(dict.fromkeys(frame["source_id"]))
    return "\n".join(f"{i}. {_source_citation(s, escape_markdown, markdown_link)}" for i, s in enumerate(ids, start=1))


def source_labels(frame: pd.DataFrame) -> list[str]:
    """Short ``publisher, edition`` labels of the sources in ``frame``, for a chart's source line.

    Examples
    --------
    >>> source_labels(figures("migrant_workers", geography="WLD", year=2022))
    ['International Labour Organization (ILO), 4th edition']
    >>> from leftbehind.data import lmy_remittance_flows
    >>> source_labels(lmy_remittance_flows((2012, 2013)))
    ['World Bank / KNOMAD, Migration and Development Briefs 20, 22']
    """
    eds = all_editions().set_index("edition_id")
    by_publisher: dict[str, list[str]] = {}
    for e in dict.fromkeys(frame["edition_id"]):
        by_publisher.setdefault(str(eds.loc[e, "publisher"]), []).append(str(eds.loc[e, "edition"]))
    labels = []
    for publisher, names in by_publisher.items():
        numbered: dict[str, list[str]] = {}
        others = []
        for name in names:  # "Migration and Development Brief 33" + "… 35" → "Migration and Development Briefs 33, 35"
            m = re.fullmatch(r"(.*\D) (\d+)", name)
            if m:
                numbered.setdefault(m.group(1), []).append(m.group(2))
            else:
                others.append(name)
        parts = [
            f"{stem}s {', '.join(nums)}" if len(nums) > 1 else f"{stem} {nums[0]}" for stem, nums in numbered.items()
        ]
        labels.append(f"{publisher}, {'; '.join(parts + others)}")
    return labels
