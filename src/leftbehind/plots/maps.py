"""World maps: a choropleth of one value per country, drawn from the Natural Earth boundaries snapshot.

The boundaries are Natural Earth's 1:50m admin-0 countries (241 units, small island states included), as the
world-atlas package's TopoJSON, kept in the data package as a committed snapshot (``data/snapshots/world-atlas/…``,
checked against its SHA-256 before it is read; nothing is downloaded). Units join the data package's countries
through their ISO 3166-1 numeric code (``geographies.m49``); the units without one are declared once, in
:data:`CODE_EXCEPTIONS`. The map is drawn in the Equal Earth
projection (equal-area, EPSG:8857), Antarctica left out, values in classed bins of a single-hue blue ramp
(colour-blind-safe: classes differ in lightness), countries without a value light grey and hatched ("no data"
in the legend, in one row under the map), and a source line under it. A country too small to see at the map's
size (under :data:`SMALL_AREA_KM2` in all, as Tonga, Bahrain or Singapore) gets a circle of its class's colour as
well, so that its value shows; a note under the map says so. geopandas is imported only when a map is drawn.

Examples
--------
>>> sorted(code for code, _ in CODE_EXCEPTIONS.values())
['', '', 'CYP', 'SOM', 'XKX']
"""

from __future__ import annotations

import functools
import os
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox, TransformedBbox

from .._markup import end_sentence
from ..data import geographies
from ..data.snapshots import load_snapshot
from ..data.tabular import _record_read
from ..data.units import base_unit, in_unit, scaled
from ..errors import DataError, ParameterError, choice_error
from .datafiles import attach
from .style import OKABE_ITO, add_source, use_style

__all__ = [
    "BOUNDARIES",
    "CODE_EXCEPTIONS",
    "NO_DATA",
    "SMALL_AREA_KM2",
    "boundaries",
    "small_countries",
    "class_edges",
    "class_colours",
    "legend_edges",
    "choropleth",
]

#: The boundaries snapshot (``publisher/release`` under ``data/snapshots``).
BOUNDARIES = "world-atlas/2.0.2"
#: Projection of the maps: Equal Earth (Šavrič, Patterson & Jenny 2018), equal-area, for world maps.
PROJECTION = "EPSG:8857"
#: Natural Earth units (by their ``name``) without an ISO 3166-1 numeric code: name → (the code of
#: data/geographies.csv the unit is drawn as, or "" for an area drawn without data; why). Every other unit joins
#: through its numeric code; a unit without one that is not listed here stops the map with a DataError.
CODE_EXCEPTIONS: dict[str, tuple[str, str]] = {
    "Kosovo": ("XKX", "no ISO numeric code; XKX is the World Bank's code and the data package's"),
    "Somaliland": ("SOM", "not in ISO 3166; the UN and the World Bank count it in Somalia"),
    "N. Cyprus": ("CYP", "not in ISO 3166; the UN recognises only Cyprus on the island"),
    "Indian Ocean Ter.": (
        "",
        "Australia's Christmas Island and Cocos Islands, drawn together; no publisher here gives them figures",
    ),
    "Siachen Glacier": ("", "a disputed area with no country code; drawn without data"),
}
#: Codes some sources use for a country the data package codes otherwise (for the error message).
OTHER_CODES: dict[str, str] = {"KOS": "XKX", "KSV": "XKX", "SOL": "SOM", "CYN": "CYP", "ROM": "ROU", "ZAR": "COD"}
#: How a country without a value is drawn: light grey, hatched, named "no data" in the legend.
NO_DATA: dict[str, Any] = {
    "facecolor": "#e4e4e4",
    "edgecolor": "#a8a8a8",
    "hatch": "///",
    "linewidth": 0.3,
    "label": "no data",
}
#: A country whose drawn units cover less than this (km², in the equal-area projection) gets a circle as well as
#: its outline when it has a value: at :data:`_MAP_PIXELS` across, a pixel is about 42 km wide, so Samoa (about
#: 2,700 km²) would be a pixel or two and Bahrain (about 540 km²) a fraction of one.
SMALL_AREA_KM2 = 5_000
#: The circles' radius in pixels of the map, and their outline (dark grey, so that the lightest class shows).
_CIRCLE_PIXELS = 3.0
_CIRCLE_EDGE = {"edgecolor": "#4d4d4d", "linewidth": 0.4}
#: A published 0 drawn apart from the classes (``choropleth(zero=...)``): white, dotted in the no-data grey, so it
#: reads neither as the lowest class nor as no data.
ZERO: dict[str, Any] = {"facecolor": "white", "edgecolor": "#a8a8a8", "hatch": "....", "linewidth": 0.3}
#: How a highlighted country is outlined (over its fill and its neighbours' borders): Okabe-Ito orange, the
#: colour-blind-safe contrast to the blue ramp.
_HIGHLIGHT: dict[str, Any] = {"edgecolor": OKABE_ITO["orange"], "linewidth": 1.4}
_RAMP = LinearSegmentedColormap.from_list("leftbehind_blues", ["#cfe3f3", OKABE_ITO["blue"], "#002a44"])
_BORDER = {"edgecolor": "white", "linewidth": 0.3}


def _east_of_greenwich(xy: np.ndarray) -> np.ndarray:
    """Longitudes -180..0 moved to 180..360, latitudes kept: a ring across the 180th meridian made continuous."""
    return np.where(xy[:, :1] < 0, xy + np.array([360.0, 0.0]), xy)


def _split_antimeridian(geometry: Any) -> Any:
    """``geometry`` with every polygon that runs across the 180th meridian (its ring jumps from -180 to 180, as
    parts of Russia and Fiji do in the TopoJSON) cut in two at the meridian, so that no projected ring spans the
    map."""
    from shapely import affinity, box, make_valid, transform
    from shapely.geometry import MultiPolygon, Polygon

    parts = list(getattr(geometry, "geoms", [geometry]))
    if all(p.bounds[2] - p.bounds[0] <= 180 for p in parts):
        return geometry
    out: list[Any] = []
    for part in parts:
        if part.bounds[2] - part.bounds[0] <= 180:
            out.append(part)
            continue
        shifted = make_valid(transform(part, _east_of_greenwich))
        for piece, dx in (
            (shifted.intersection(box(0, -90, 180, 90)), 0),
            (shifted.intersection(box(180, -90, 540, 90)), -360),
        ):
            pieces = [g for g in getattr(piece, "geoms", [piece]) if isinstance(g, Polygon) and not g.is_empty]
            out += [affinity.translate(g, xoff=dx) for g in pieces]
    return MultiPolygon(out)


#: The environment variables reading the boundaries set in this process (pyogrio sets GDAL's and PROJ's when it
#: is first imported), set again by :func:`_boundaries` in a process that inherited the boundaries already read.
_ENV_FROM_READING: dict[str, str] = {}


@functools.lru_cache(maxsize=2)
def _read(path: str, sha256: str, projection: str) -> Any:
    """The TopoJSON at ``path`` (already verified; ``sha256`` keys the cache) in ``projection``, its polygons cut
    at the 180th meridian."""
    before = dict(os.environ)
    try:
        return _read_projected(path, projection)
    finally:
        _ENV_FROM_READING.update({k: v for k, v in os.environ.items() if before.get(k) != v})


def prime() -> None:
    """Read the boundaries and their outlines as drawn into this process's caches, and leave its environment as
    it was: what the warm report template does once, so that no report kernel forked from it reads the map again
    (0.4 s a country profile), while each still sees the environment a fresh kernel would have once it drew a map
    (:data:`_ENV_FROM_READING`)."""
    before = dict(os.environ)
    try:
        _drawn_paths(*_boundaries()[1])
        small_countries()
    finally:
        for name in [k for k in os.environ if k not in before]:
            del os.environ[name]
        os.environ.update(before)


def _read_projected(path: str, projection: str) -> Any:
    import geopandas as gpd  # a heavy import: only when a map is drawn

    world = gpd.read_file(path, engine="pyogrio", layer="countries").set_crs("EPSG:4326", allow_override=True)
    world = world[world["name"] != "Antarctica"].copy()  # never drawn: it would fill the map's lower edge
    world["geometry"] = world.geometry.map(_split_antimeridian)
    return world.to_crs(projection)


def boundaries() -> Any:
    """The country boundaries as a GeoDataFrame in the map projection: Natural Earth's ``name`` and ``id`` (ISO
    3166-1 numeric), ``iso3`` (the data package's code; "" for an area drawn without data) and ``geometry``;
    Antarctica left out.

    Raises
    ------
    DataError
        When the snapshot does not match its recorded SHA-256, or a unit's code is neither a country of
        data/geographies.csv nor declared in :data:`CODE_EXCEPTIONS`.

    Examples
    --------
    >>> world = boundaries()
    >>> world.set_index("name").loc[["France", "Kosovo", "Somaliland", "Tonga"], "iso3"].tolist()
    ['FRA', 'XKX', 'SOM', 'TON']
    """
    return _boundaries()[0]


def _boundaries() -> tuple[Any, tuple[str, str, str]]:
    """:func:`boundaries`, and the key of the snapshot it was read from (its path, SHA-256 and the projection)."""
    _record_read(BOUNDARIES)
    snap = load_snapshot(BOUNDARIES)
    snap.read_bytes()  # checks the SHA-256 at every map, before anything is drawn
    key = (str(snap.path), str(snap.meta["sha256"]), PROJECTION)
    world = _read(*key).copy()
    for name, value in _ENV_FROM_READING.items():  # read before this process began (forked): as if read here
        os.environ.setdefault(name, value)
    geo = geographies()
    countries = geo[(geo["kind"] == "country") & geo["m49"].notna()]
    by_number = dict(zip(countries["m49"].astype(str), countries["code"].astype(str)))
    numbers = world["id"].fillna("").astype(str).str.lstrip("0")
    declared = world["name"].map(lambda n: CODE_EXCEPTIONS.get(n, (None, ""))[0])
    world["iso3"] = declared.where(declared.notna(), numbers.map(by_number))
    unknown = world[world["iso3"].isna()]
    if len(unknown):
        row = unknown.iloc[0]
        raise DataError(
            f"{BOUNDARIES}: unit {row['name']!r} (ISO numeric {row['id']!r}) is no country of data/geographies.csv; "
            'declare it in leftbehind.plots.maps.CODE_EXCEPTIONS (the code it is drawn as, or "")'
        )
    world = world[world["iso3"] != "ATA"]
    return world[["name", "id", "iso3", "geometry"]].reset_index(drop=True), key


def _values(values: pd.Series | pd.DataFrame) -> tuple[pd.Series, bool]:
    """A float Series indexed by code from a Series (index = code) or a DataFrame (``geography`` or ``iso3``
    column, else its index, and a ``value`` column), and whether the values were integers (counts)."""
    if isinstance(values, pd.DataFrame):
        if "value" not in values.columns:
            raise ParameterError(f"values: a DataFrame needs a 'value' column; it has {list(values.columns)}")
        key = next((c for c in ("geography", "iso3", "code") if c in values.columns), None)
        series = values.set_index(key)["value"] if key else values["value"]
    elif isinstance(values, pd.Series):
        series = values
    else:
        raise ParameterError(f"values must be a pandas Series or DataFrame by ISO3 code, got {type(values).__name__}")
    duplicated = series.index[series.index.duplicated()]
    if len(duplicated):
        raise ParameterError(f'values: code "{duplicated[0]}" appears more than once; give one value per country')
    counts = pd.api.types.is_integer_dtype(series.dtype)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series[numbers.isna() & series.notna()]
    if len(bad):
        raise ParameterError(f'values: the value {bad.iloc[0]!r} of "{bad.index[0]}" is not a number')
    return numbers.astype(float), counts


def _check_codes(codes: Sequence[object]) -> None:
    """Every code must be a country of data/geographies.csv: aggregates are refused, unknown codes named."""
    geo = geographies().set_index("code")
    countries = sorted(geo.index[geo["kind"] == "country"])
    for code in codes:
        if code in geo.index and geo.loc[code, "kind"] != "country":
            raise ParameterError(
                f'values: "{code}" is an aggregate ({geo.loc[code, "name"]}), not a country; a map shows '
                "countries only (data.table() leaves aggregates out)"
            )
        if code not in geo.index:
            if isinstance(code, str) and code in OTHER_CODES:
                raise ParameterError(
                    f'values: "{code}" is not an ISO3 code of the data package; it codes that country '
                    f'"{OTHER_CODES[code]}"'
                )
            raise choice_error("values: code", code, countries, "an ISO3 country code of data/geographies.csv")


def class_edges(values: pd.Series, bins: int | Sequence[float] = 5, counts: bool = False) -> list[float]:
    """Class edges: ``bins`` classes with about as many countries each (quantiles), or the edges given.

    Counts (``counts=True``) get whole-number quantile edges. Classes include their lower edge; the last also
    its upper edge.

    Raises
    ------
    ParameterError
        For fewer than two edges, edges not increasing, or a value outside the given edges.

    Examples
    --------
    >>> class_edges(pd.Series([1.5, 2.0, 3.0, 4.5]), 2)
    [1.5, 2.5, 4.5]
    >>> class_edges(pd.Series([1, 2, 3, 4, 10]), 2, counts=True)
    [1.0, 3.0, 10.0]
    >>> class_edges(pd.Series([0.5, 7.0]), [0, 5, 10])
    [0.0, 5.0, 10.0]
    """
    present = values.dropna()
    if isinstance(bins, bool) or not isinstance(bins, int | Sequence) or isinstance(bins, str):
        raise ParameterError(f"bins must be a number of classes or a list of class edges, got {bins!r}")
    if isinstance(bins, int):
        if bins < 1:
            raise ParameterError(f"bins: {bins} classes; give at least 1, or a list of class edges")
        if present.empty:
            return []
        edges = np.quantile(present.to_numpy(), np.linspace(0, 1, bins + 1))
        if counts:
            edges = np.round(edges)
        return [float(e) for e in np.unique(edges)]
    try:
        edges = np.asarray([float(e) for e in bins])
    except (TypeError, ValueError):
        raise ParameterError(f"bins: class edges must be numbers, got {list(bins)}") from None
    if len(edges) < 2 or (np.diff(edges) <= 0).any():
        raise ParameterError(f"bins: class edges must be at least two increasing numbers, got {list(bins)}")
    outside = present[(present < edges[0]) | (present > edges[-1])]
    if len(outside):
        raise ParameterError(
            f'bins: the value {outside.iloc[0]:g} of "{outside.index[0]}" is outside the class edges {list(bins)}'
        )
    return [float(e) for e in edges]


def class_colours(n: int) -> list[str]:
    """``n`` colours of the sequential ramp, light to dark (hex).

    Examples
    --------
    >>> class_colours(1), len(class_colours(5))
    (['#0072b2'], 5)
    """
    if n == 1:
        return [to_hex(OKABE_ITO["blue"])]
    return [to_hex(_RAMP(x)) for x in np.linspace(0.0, 1.0, n)]


def legend_edges(edges: list[float], unit: str) -> tuple[list[float], str]:
    """Class edges of ``unit`` in the unit a legend writes them in: persons and US dollars in thousands or
    millions, millions or billions, chosen from the smallest non-zero edge between two classes (the rule text
    follows too, :func:`leftbehind.data.units.reading_unit`), so that no edge reads "0.0389 million persons".
    The lowest edge, the smallest value itself, does not choose: Nauru's USD 880,606 of remittances would write
    every edge of the world's map in US dollars ("4,545,372,558 to 119,526,055,008").

    Examples
    --------
    >>> legend_edges([0.0389, 0.0771, 12.0], "million persons")
    ([38.9, 77.1, 12000.0], 'thousand persons')
    >>> legend_edges([880606.0, 130833860.0, 119526055008.0], "USD")
    ([0.880606, 130.83386, 119526.055008], 'USD million')
    >>> legend_edges([0.5, 7.0], "percent of GDP")
    ([0.5, 7.0], 'percent of GDP')
    """
    if base_unit(unit) is None or not edges:
        return list(edges), unit
    _, target = scaled(edges[1:] if len(edges) > 2 else edges, unit, by="smallest")
    return [in_unit(float(e), unit, target) for e in edges], target


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _labels(edges: list[float], whole: bool) -> list[str]:
    if len(edges) == 1:
        return [_fmt(edges[0])]
    out = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        if whole:
            top = hi if last else hi - 1
            out.append(_fmt(lo) if top <= lo else f"{_fmt(lo)}–{_fmt(top)}")
        else:
            out.append(f"{_fmt(lo)} to {_fmt(hi)}" if last else f"{_fmt(lo)} to under {_fmt(hi)}")
    return out


def _classes(values: pd.Series, edges: list[float]) -> pd.Series:
    """The class (0-based) of each value; NaN stays NaN."""
    if len(edges) == 1:
        return values.where(values.isna(), 0.0)
    found = np.searchsorted(np.asarray(edges), values.to_numpy(), side="right") - 1
    found = np.clip(found, 0, len(edges) - 2).astype(float)
    return pd.Series(np.where(values.isna(), np.nan, found), index=values.index)


#: Width in pixels of the house world map's drawing area (a 9-inch figure at 100 dpi, less its margins): outlines
#: are drawn simplified to half a pixel of it (:func:`_drawn_paths`).
_MAP_PIXELS = 800


@functools.lru_cache(maxsize=2)
def _drawn_paths(path: str, sha256: str, projection: str) -> dict[tuple[str, str], MplPath]:
    """Each unit's outline as drawn, by (Natural Earth ``name``, ``id``), once per snapshot: simplified with a
    tolerance of half a pixel of the map (Douglas-Peucker, topology kept; no outline strays by a whole pixel), an
    eighth of the 1:50m vertices (94,633 to 12,548 in world-atlas 2.0.2), the same picture for a fraction of the
    drawing time. :func:`boundaries` keeps the full detail for anyone who measures with it."""
    world = _read(path, sha256, projection)
    xmin, _, xmax, _ = world.total_bounds
    simple = world.geometry.simplify((xmax - xmin) / _MAP_PIXELS / 2, preserve_topology=True)
    return {(str(n), str(i)): _path(g) for n, i, g in zip(world["name"], world["id"], simple)}


def small_countries() -> dict[str, tuple[float, float]]:
    """The countries drawn with a circle when they have a value: each whose units together cover less than
    :data:`SMALL_AREA_KM2` in the map's equal-area projection, by ISO3 code, with the point inside its largest
    polygon where its circle goes (projected metres). Areas drawn without data (``iso3`` "") have none.

    Examples
    --------
    >>> small = small_countries()
    >>> sorted(c for c in ("TON", "BHR", "SGP", "MLT", "NPL", "FJI") if c in small)
    ['BHR', 'MLT', 'SGP', 'TON']
    """
    return _small_countries(*_boundaries()[1])


@functools.lru_cache(maxsize=2)
def _small_countries(path: str, sha256: str, projection: str) -> dict[str, tuple[float, float]]:
    """:func:`small_countries`, once per snapshot (its key, as :func:`_drawn_paths` takes it, keys the cache)."""
    world = _boundaries()[0]
    world = world[world["iso3"] != ""]
    area = world.geometry.area.groupby(world["iso3"]).sum() / 1e6
    points = {}
    for code in sorted(area[area < SMALL_AREA_KM2].index):
        parts = [p for g in world.loc[world["iso3"] == code, "geometry"] for p in getattr(g, "geoms", [g])]
        point = max(parts, key=lambda p: p.area).representative_point()
        points[str(code)] = (float(point.x), float(point.y))
    return points


def _path(geometry: Any) -> MplPath:
    rings = [ring for part in getattr(geometry, "geoms", [geometry]) for ring in [part.exterior, *part.interiors]]
    return MplPath.make_compound_path(*[MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in rings])


def choropleth(
    values: pd.Series | pd.DataFrame,
    title: str,
    unit: str,
    source: str,
    bins: int | Sequence[float] = 5,
    missing: str = "no data",
    highlight: tuple[str, str] | None = None,
    zero: str | None = None,
) -> Figure:
    """A world map of one value per country, in classed bins.

    Parameters
    ----------
    values
        Values by ISO3 code: a Series (index = code) or a DataFrame with ``value`` and ``geography`` (as from
        :func:`leftbehind.data.table`) or ``iso3``. Missing values (NaN) and countries not given are "no data".
        Integer values are counts: whole-number classes, labelled "3–4".
    title
        What the reader should see.
    unit
        The unit of the values, written as the legend's title (e.g. "percent of GDP").
    source
        The source line (see :func:`leftbehind.plots.source_line`); every chart carries one.
    bins
        Number of classes with about as many countries each (quantiles), or the class edges.
    missing
        What the legend calls the countries without a value: "no data", or what their absence means where it is
        known (a country's destination map: "none listed", for the destinations UN DESA lists none of its
        emigrants in).
    highlight
        A country to outline in orange, and its name in the legend: ``("NPL", "Nepal (origin)")`` on the map
        of where Nepal's emigrants live.
    zero
        Where a value of exactly 0 is not a measurement like the others (a flow the publisher may have written
        as 0 because it was not reported: :data:`leftbehind.data.ZERO_MAY_BE_UNREPORTED`), its name in the
        legend, e.g. "0 as published": those countries are drawn apart (:data:`ZERO`) and the classes are made
        of the other values. ``None``: a 0 is a value like any other.

    Returns
    -------
    matplotlib.figure.Figure
        One patch per Natural Earth unit, its ``gid`` the ISO3 code it is drawn as.

    Raises
    ------
    ParameterError
        For a code that is not a country of the data package (naming it, with the closest valid code), an
        aggregate (``WLD``, ``LMY``…), a value that is not a number, or bad ``bins``.

    Examples
    --------
    >>> fig = choropleth(pd.Series({"NPL": 20.0, "PHL": 9.0, "MEX": 4.0}), "Remittances", "percent of GDP",
    ...                  "Source: test", bins=[0, 10, 25])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['0 to under 10', '10 to 25', 'no data']
    >>> choropleth(pd.Series({"NLP": 1.0}), "x", "y", "Source: test")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: values: code "NLP" is not an ISO3 country code of data/geographies.csv. Did you mean "NPL"? ...
    >>> plt.close("all")
    """
    if not isinstance(missing, str) or not missing.strip():
        raise ParameterError(
            f'missing: the legend\'s name for countries without a value, e.g. "no data"; got {missing!r}'
        )
    series, counts = _values(values)
    _check_codes(list(series.index))
    if zero is not None and (not isinstance(zero, str) or not zero.strip()):
        raise ParameterError(
            f'zero: the legend\'s name for countries whose value is 0, e.g. "0 as published"; got {zero!r}'
        )
    given = series
    zeros = set(series.index[series == 0]) if zero is not None else set()
    series = series[~series.index.isin(zeros)]  # the classes are made of the other values
    if highlight is not None:
        if not (isinstance(highlight, tuple) and len(highlight) == 2 and all(isinstance(h, str) for h in highlight)):
            raise ParameterError(
                f'highlight: a country\'s code and its label, e.g. ("NPL", "Nepal (origin)"); got {highlight!r}'
            )
        _check_codes([highlight[0]])
    edges = class_edges(series, bins, counts)
    whole = counts and all(float(e).is_integer() for e in edges)
    colours = class_colours(max(len(edges) - 1, 1)) if edges else []
    world, key = _boundaries()
    outlines = _drawn_paths(*key)
    classes = _classes(series, edges) if edges else series * np.nan
    use_style()
    fig, ax = plt.subplots(figsize=(9.0, 5.4))
    # what set_clip_path(ax.patch) gives each patch (the axes' box), made once: one per patch was a tenth of
    # building the map (each registers with the axes' transform)
    clip = TransformedBbox(Bbox.unit(), ax.patch.get_transform())
    for row in world.itertuples():
        cls = classes.get(row.iso3, np.nan)
        if row.iso3 in zeros:
            style = dict(ZERO)
        else:
            style = dict(NO_DATA) if pd.isna(cls) else {"facecolor": colours[int(cls)], **_BORDER}
        style.pop("label", None)
        outline = outlines[(str(row.name), str(row.id))]
        patch = PathPatch(outline, gid=row.iso3, transform=ax.transData, **style)
        patch.set_clip_box(clip)
        ax.add_artist(patch)  # not add_patch: the limits are set below, and updating them per patch is slow
    xmin, ymin, xmax, ymax = world.total_bounds
    radius = (xmax - xmin) / _MAP_PIXELS * _CIRCLE_PIXELS
    small = _small_countries(*key)  # not small_countries(): it would check the snapshot's SHA-256 a second time
    circled = []
    for code, (x, y) in small.items():
        cls = classes.get(code, np.nan)
        if code in zeros:  # Bahrain's 0 would be a dot too small to see
            circle = Circle((x, y), radius, gid=f"{code}-circle", zorder=3, **{**ZERO, **_CIRCLE_EDGE})
        elif pd.isna(cls):
            continue  # a small country without a value keeps its hatched outline only: no circle to read
        else:
            circle = Circle((x, y), radius, facecolor=colours[int(cls)], gid=f"{code}-circle", zorder=3, **_CIRCLE_EDGE)
        circle.set_clip_box(clip)
        ax.add_artist(circle)
        circled.append(code)
    if highlight is not None:
        _outline(ax, highlight[0], world, outlines, small.get(highlight[0]), radius, clip)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_axis_off()
    shown, legend_unit = legend_edges(edges, unit)
    whole = whole and legend_unit == unit
    handles = [Patch(facecolor=c, edgecolor="none", label=lab) for c, lab in zip(colours, _labels(shown, whole))]
    if zeros:
        handles.append(Patch(**{**ZERO, "label": zero}))
    handles.append(Patch(**{**NO_DATA, "label": missing}))
    if highlight is not None:
        handles.append(Patch(facecolor="none", label=highlight[1], **_HIGHLIGHT))
    # in one row under the map: inside it, the legend would hide the small island states of the South Pacific
    legend = ax.legend(
        handles=handles,
        title=legend_unit,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.0),
        ncols=len(handles),
        fontsize=8,
        title_fontsize=8,
        alignment="left",
        handlelength=1.6,
        columnspacing=1.2,
        borderaxespad=0.2,
    )
    ax.set_title(title)
    last = _note_small(ax, legend, given, world, circled)
    fig.tight_layout()
    add_source(fig, source, under=last)
    frame = (
        values.copy()
        if isinstance(values, pd.DataFrame)
        else given.rename("value").rename_axis("geography").reset_index()
    )
    return attach(fig, frame, title, alt="Map: " + " ".join(title.split()))


def _outline(
    ax: Any,
    code: str,
    world: Any,
    outlines: dict[tuple[str, str], MplPath],
    point: tuple[float, float] | None,
    radius: float,
    clip: Any,
) -> None:
    """Draw ``code``'s outlines (and a ring round its circle at ``point``, when it is small) in the highlight
    style, above every fill."""
    for row in world[world["iso3"] == code].itertuples():
        edge = PathPatch(
            outlines[(str(row.name), str(row.id))],
            facecolor="none",
            gid=f"{code}-highlight",
            zorder=4,
            transform=ax.transData,
            **_HIGHLIGHT,
        )
        edge.set_clip_box(clip)
        ax.add_artist(edge)
    if point is not None:
        ring = Circle(point, radius * 1.4, facecolor="none", gid=f"{code}-highlight", zorder=4, **_HIGHLIGHT)
        ring.set_clip_box(clip)
        ax.add_artist(ring)


def _note_small(ax: Any, legend: Any, series: pd.Series, world: Any, circled: Sequence[str] = ()) -> Any:
    """Under the legend, say that small countries are circled (when any is), and name the countries with a
    value that the boundaries do not draw (Tuvalu at 1:50m); the last artist under the map, for the source line
    to go under."""
    notes = []
    if circled:
        notes.append(f"Countries under {SMALL_AREA_KM2:,} km² are circled in their colour ({len(circled)} here).")
    unseen = sorted(set(series.dropna().index) - set(world["iso3"]))
    if unseen:
        names = geographies().set_index("code")["name"]
        listed = [str(names[c]) for c in unseen]
        shown = ", ".join(listed[:12]) + (f" and {len(listed) - 12} more" if len(listed) > 12 else "")
        notes.append(end_sentence(f"Not drawn at 1:50m (values in the table): {shown}"))
    last = legend
    for line in notes:  # one text each, one under the other, each found by how it begins
        last = ax.annotate(
            "\n".join(textwrap.wrap(line, 150)),
            xy=(0.0, 0.0),
            xycoords=("axes fraction", last),
            xytext=(0, -3),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=7,
            color="#555555",
            annotation_clip=False,
        )
    return last
