"""The data package: find it, read its descriptor, load resources as validated, typed DataFrames.

The schema of every resource lives in ``data/datapackage.json`` (a Frictionless Data Package); this module
reads it from there and keeps no second copy. Loading checks each value against its field's type and
constraints and raises :class:`~leftbehind.errors.DataError` naming the file, the row (data rows counted
from 1, the header excluded) and the field.

Examples
--------
>>> from leftbehind import data
>>> "seed_figures" in data.resource_names()
True
>>> seeds = data.load("seed_figures")
>>> int(seeds.loc[seeds.figure_id == "persons_working_abroad", "value"].iloc[0])
105
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import pandas as pd

# Reading and validating the package lives in _tabular, the IOM seed figures in _seeds; their public
# names are part of this module's API.
from ._paths import data_dir
from ._seeds import SEED_TOPICS, seed_figures, seed_narrative, seed_sources, seed_table
from ._tabular import (
    _display,
    _resource,
    descriptor,
    file_sha256,
    load,
    package_info,
    resource_names,
    schema,
)
from .errors import DataError, ParameterError, did_you_mean

__all__ = [
    "data_dir",
    "descriptor",
    "resource_names",
    "schema",
    "load",
    "file_sha256",
    "package_info",
    "indicators",
    "figures",
    "editions",
    "cite",
    "geographies",
    "countries",
    "country_name",
    "validate_package",
    "build_geographies",
    "BREAKDOWNS",
    "breakdown",
    "sources_markdown",
    "source_labels",
    "REMITTANCE_MEASURES",
    "remittances",
    "lmy_remittance_flows",
    "seed_figures",
    "seed_table",
    "seed_narrative",
    "seed_sources",
    "SEED_TOPICS",
]

# --- figures, editions, citations ------------------------------------------------------------------

_UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "persons": ("persons", 1.0), "million persons": ("persons", 1e6),
    "USD": ("USD", 1.0), "USD million": ("USD", 1e6), "USD billion": ("USD", 1e9),
    "percent": ("percent", 1.0), "count": ("count", 1.0),
}


def _choice_error(what: str, value: object, valid: list[str], how: str) -> ParameterError:
    hint = did_you_mean(value, valid)
    shown = ", ".join(valid) if len(valid) <= 40 else ", ".join(valid[:40]) + f", … ({len(valid)} in all)"
    return ParameterError(f'{what} "{value}" is not {how}.{hint} Valid: {shown}')


def indicators() -> list[str]:
    """Indicator ids of the figures table (the controlled vocabulary, see the ``indicators`` resource).

    Examples
    --------
    >>> "migrant_stock" in indicators()
    True
    """
    return load("indicators")["indicator"].tolist()


def _figures_table() -> pd.DataFrame:
    path = data_dir() / _resource("figures")["path"]
    return _cached_figures(str(path), path.stat().st_mtime_ns, (data_dir() / "editions.csv").stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _cached_figures(path: str, mtime: int, ed_mtime: int) -> pd.DataFrame:
    figs = load("figures")
    eds = load("editions")[["edition_id", "series", "edition", "released"]]
    return figs.merge(eds, on="edition_id", how="left", validate="many_to_one")


def _convert(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    if unit not in _UNIT_FACTORS:
        raise _choice_error("unit", unit, list(_UNIT_FACTORS), "a known unit")
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
        ``"USD billion"``); default: as published.

    Returns
    -------
    pandas.DataFrame
        Columns indicator, geography, year, sex, value, unit, source_id, edition_id, series, edition, released,
        note, quote; sorted by geography, year, sex and release.

    Raises
    ------
    ParameterError
        For an unknown indicator, edition, series or unit (with the valid choices).

    Examples
    --------
    >>> latest = figures("migrant_stock", geography="WLD", year=2020)
    >>> latest[["value", "unit", "edition_id"]].to_dict("records")
    [{'value': 275.0, 'unit': 'million persons', 'edition_id': 'undesa_ims_2024'}]
    >>> figures("migrant_stock", geography="WLD", year=2020, edition="all")["edition_id"].tolist()
    ['undesa_ims_2020', 'undesa_ims_2024']
    """
    valid = indicators()
    if indicator not in valid:
        raise _choice_error("indicator", indicator, valid, "an indicator of the data package")
    df = _figures_table()
    df = df[df["indicator"] == indicator]
    if geography is not None:
        wanted = [geography] if isinstance(geography, str) else list(geography)
        df = df[df["geography"].isin(wanted)]
    if year is not None:
        df = df[df["year"] == year]
    if years is not None:
        first, last = years
        if first > last:
            raise ParameterError(f"years: the first year {first} is after the last year {last}")
        df = df[(df["year"] >= first) & (df["year"] <= last)]
    if sex is not None:
        if sex not in ("total", "female", "male"):
            raise _choice_error("sex", sex, ["total", "female", "male"], "a valid sex")
        df = df[df["sex"] == sex]
    if series is not None:
        all_series = sorted(_figures_table()["series"].unique())
        if series not in all_series:
            raise _choice_error("series", series, all_series, "a series of the data package")
        df = df[df["series"] == series]
    df = df.sort_values(["geography", "year", "sex", "released", "edition_id"], kind="stable")
    if edition == "latest":
        df = df.drop_duplicates(["indicator", "geography", "year", "sex"], keep="last")
    elif edition != "all":
        eds = sorted(_figures_table().loc[lambda t: t["indicator"] == indicator, "edition_id"].unique())
        if edition not in eds:
            raise _choice_error("edition", edition, ["latest", "all"] + eds, f"an edition with {indicator} figures")
        df = df[df["edition_id"] == edition]
    if unit is not None:
        df = _convert(df, unit)
    columns = ["indicator", "geography", "year", "sex", "value", "unit", "source_id", "edition_id", "series",
               "edition", "released", "note", "quote"]
    return df[columns].reset_index(drop=True)


def editions(indicator: str | None = None) -> pd.DataFrame:
    """The editions (releases) in the data package, oldest first; only those with ``indicator`` if given.

    Examples
    --------
    >>> editions("migrant_workers")["edition_id"].tolist()
    ['ilo_ge_1', 'ilo_ge_2', 'ilo_ge_3', 'ilo_ge_4']
    """
    eds = load("editions")
    if indicator is not None:
        used = set(figures(indicator, sex=None, edition="all")["edition_id"])
        eds = eds[eds["edition_id"].isin(used)]
    return eds.sort_values(["released", "edition_id"]).reset_index(drop=True)


def cite(source_id: str) -> str:
    """A citation for one source: publisher (year), title, edition, where in it, address and date read.

    Examples
    --------
    >>> cite("wdi_bx_trf_pwkr_cd_dt_20250701").split(". ")[0]
    'World Bank (2025)'
    """
    src = load("sources")
    row = src[src["source_id"] == source_id]
    if row.empty:
        raise _choice_error("source_id", source_id, src["source_id"].tolist(), "a source of the data package")
    r = row.iloc[0]
    eds = load("editions").set_index("edition_id")
    edition = eds.loc[r["edition_id"], "edition"]
    read = "" if r["read_at"] == r["url"] else f"; read at {r['read_at']}"
    return (f"{r['publisher']} ({r['year_published']}). {r['title']}. {edition}. {r['table_or_page']}. "
            f"{r['url']} (accessed {r['accessed'].isoformat()}{read}; {r['verification']} source)")


def geographies() -> pd.DataFrame:
    """Countries and aggregates (code, name, kind, classification, un_region, continent).

    Examples
    --------
    >>> g = geographies().set_index("code")
    >>> g.loc["LKA", "name"], g.loc["LMY", "kind"]
    ('Sri Lanka', 'income_group')
    """
    return load("geographies")


def countries(with_figures: bool = True) -> list[str]:
    """ISO3 codes of countries: those with at least one figure (default), or every country known.

    Examples
    --------
    >>> {"LKA", "NPL", "KGZ"} <= set(countries())
    True
    """
    geo = load("geographies")
    codes = geo.loc[geo["kind"] == "country", "code"]
    if with_figures:
        codes = codes[codes.isin(set(_figures_table()["geography"]))]
    return sorted(codes.tolist())


def country_name(code: str) -> str:
    """Short name of a country or aggregate code.

    Examples
    --------
    >>> country_name("KGZ")
    'Kyrgyzstan'
    """
    geo = load("geographies").set_index("code")
    if code not in geo.index:
        raise _choice_error("geography", code, sorted(geo.index), "a country or aggregate code")
    return str(geo.loc[code, "name"])


def validate_package() -> dict[str, int]:
    """Load every resource (types, constraints, keys, foreign keys) and check cross-table rules.

    Cross-table rules: each figure's ``edition_id`` is its source's edition; where a value has several
    editions, their release dates can be ordered (neither is a prefix of the other, so "latest" is defined).

    Returns the number of rows per resource.

    Examples
    --------
    >>> validate_package()["figures"] > 250
    True
    """
    counts = {name: len(load(name)) for name in resource_names()}
    figs = load("figures")
    src = load("sources").set_index("source_id")["edition_id"]
    shown = _display(data_dir() / _resource("figures")["path"])
    mismatch = figs["edition_id"] != figs["source_id"].map(src)
    if mismatch.any():
        i = int(mismatch.to_numpy().nonzero()[0][0])
        raise DataError(f'{shown}, row {i + 1}, field "edition_id": "{figs.loc[i, "edition_id"]}" is not the edition of '
                        f'source "{figs.loc[i, "source_id"]}" ("{src[figs.loc[i, "source_id"]]}" in sources.csv)')
    if "studies" in counts:
        from .literature import _check_vocabularies

        _check_vocabularies()
    released = load("editions").set_index("edition_id")["released"]
    figs = figs.assign(released=figs["edition_id"].map(released))
    for key, group in figs.groupby(["indicator", "geography", "year", "sex"]):
        dates = sorted(set(group["released"]))
        for a, b in zip(dates, dates[1:]):
            if b.startswith(a):
                raise DataError(f"data/editions.csv: releases {a} and {b} both publish {'/'.join(map(str, key))}; "
                                f"give the earlier one a month so that the latest edition is defined")
    return counts


def build_geographies() -> Path:
    """Regenerate ``geographies.csv`` from country_converter's country table and ``aggregates.csv``.

    Derived data: never edit the output by hand. Needs the ``country_converter`` package (dev dependency);
    its table is read directly (its API does not yet run under pandas 3).
    """
    import country_converter

    from .notebooks import write_atomic

    table = Path(country_converter.__file__).parent / "country_data.tsv"
    coco = pd.read_csv(table, sep="\t", keep_default_na=False, dtype=str)
    coco = coco[(coco["ISO3"].str.fullmatch(r"[A-Z]{3}")) & (coco["obsolete"] == "")]
    rows = [[r.ISO3, r.name_short, "country", "ISO 3166-1", r.UNregion, r.continent]
            for r in coco.sort_values("ISO3").itertuples()]
    agg = load("aggregates")
    rows += [[r.code, r.name, r.kind, r.classification, "", ""] for r in agg.itertuples()]
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([f["name"] for f in schema("geographies")["fields"]])
    writer.writerows(rows)
    out = data_dir() / _resource("geographies")["path"]
    write_atomic(out, buf.getvalue())
    return out


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
    if by not in BREAKDOWNS:
        raise _choice_error("breakdown", by, list(BREAKDOWNS), "a breakdown")
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
    return df.assign(_o=key.map(order)).sort_values(["year", "released", "_o"]).drop(columns="_o").reset_index(drop=True)


def sources_markdown(frame: pd.DataFrame) -> str:
    """A numbered Markdown list citing every source used in ``frame`` (a :func:`figures` result).

    Examples
    --------
    >>> text = sources_markdown(figures("migrant_stock", geography="WLD", year=2020))
    >>> text.startswith("1. ") and "International Migrant Stock 2024" in text
    True
    """
    ids = list(dict.fromkeys(frame["source_id"]))
    return "\n".join(f"{i}. {cite(s)}" for i, s in enumerate(ids, start=1))


def source_labels(frame: pd.DataFrame) -> list[str]:
    """Short ``publisher, edition`` labels of the sources in ``frame``, for a chart's source line.

    Examples
    --------
    >>> source_labels(figures("migrant_workers", geography="WLD", year=2022))
    ['International Labour Organization (ILO), 4th edition']
    >>> source_labels(lmy_remittance_flows((2012, 2013)))
    ['World Bank / KNOMAD, Migration and Development Briefs 20, 22']
    """
    eds = load("editions").set_index("edition_id")
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
        parts = [f"{stem}s {', '.join(nums)}" if len(nums) > 1 else f"{stem} {nums[0]}" for stem, nums in numbered.items()]
        labels.append(f"{publisher}, {'; '.join(parts + others)}")
    return labels


#: Measures of remittances received: parameter value → (indicator, unit shown).
REMITTANCE_MEASURES: dict[str, tuple[str, str]] = {
    "usd": ("remittances_received_usd", "USD billion"),
    "pct_gdp": ("remittances_received_pct_gdp", "percent"),
}
_WDI = "World Bank World Development Indicators"
_BRIEFS = "World Bank / KNOMAD Migration and Development Briefs"


def remittances(countries: list[str], measure: str = "usd", years: tuple[int, int] = (2000, 2024)) -> pd.DataFrame:
    """Remittances received by each country from the World Development Indicators (latest WDI release).

    Parameters
    ----------
    countries
        ISO3 codes.
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
    >>> r[["label", "year"]].values.tolist()
    [['Nepal', 2019], ['Nepal', 2020]]
    """
    if measure not in REMITTANCE_MEASURES:
        raise _choice_error("measure", measure, list(REMITTANCE_MEASURES), "a remittance measure")
    unknown = [c for c in countries if c not in set(countries_list := geographies()["code"])]
    if unknown:
        raise _choice_error("country", unknown[0], sorted(countries_list), "a country code")
    indicator, unit = REMITTANCE_MEASURES[measure]
    df = figures(indicator, geography=list(countries), years=years, series=_WDI,
                 unit=unit if measure == "usd" else None)
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
    df = figures("remittances_received_usd", geography="LMY", years=years, series=_BRIEFS, unit="USD billion")
    return df.assign(label="Low- and middle-income countries")
