"""World maps (issue 14 items 1-2): the choropleth colours each country by its class, draws missing values as
"no data", refuses unknown codes and aggregates, joins the units whose codes differ between sources, and reads
only verified boundaries."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from leftbehind import data, literature, plots
from leftbehind.errors import DataError, ParameterError
from leftbehind.plots import maps


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _outlines(fig) -> list:
    """The countries' outlines, without the circles of small countries and a highlighted country's outline."""
    return [p for p in fig.axes[0].patches if not str(p.get_gid()).endswith(("-circle", "-highlight"))]


def _circles(fig) -> dict:
    return {p.get_gid().removesuffix("-circle"): p for p in fig.axes[0].patches if p.get_gid().endswith("-circle")}


def _patches(fig, code: str) -> list:
    found = [p for p in _outlines(fig) if p.get_gid() == code]
    assert found, f"no patch drawn for {code}"
    return found


def _fill(fig, code: str) -> str:
    return to_hex(_patches(fig, code)[0].get_facecolor())


def _legend(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_a_country_is_filled_with_the_colour_of_its_bin():
    values = pd.Series({"NPL": 20.0, "PHL": 9.0, "MEX": 4.0, "IND": 24.9, "BGD": 0.0})
    fig = plots.choropleth(values, "t", "percent of GDP", "Source: test", bins=[0, 5, 10, 25])
    blues = maps.class_colours(3)
    assert len(set(blues)) == 3
    # by hand: [0, 5) → 0, [5, 10) → 1, [10, 25] → 2
    expected = {"NPL": 2, "PHL": 1, "MEX": 0, "IND": 2, "BGD": 0}
    for code, cls in expected.items():
        assert _fill(fig, code) == blues[cls], code
        assert not _patches(fig, code)[0].get_hatch()
    assert _legend(fig) == ["0 to under 5", "5 to under 10", "10 to 25", "no data"]
    assert fig.axes[0].get_legend().get_title().get_text() == "percent of GDP"


def test_the_legend_names_what_a_missing_value_means_when_it_is_known():
    fig = plots.choropleth(pd.Series({"NPL": 1}), "t", "persons", "Source: test", missing="none listed")
    assert _legend(fig)[-1] == "none listed" and _patches(fig, "IND")[0].get_hatch() == "///"
    for bad in ("", "  ", None):
        with pytest.raises(ParameterError, match=r"missing: the legend's name for countries without a value"):
            plots.choropleth(pd.Series({"NPL": 1}), "t", "persons", "Source: test", missing=bad)


def test_a_map_says_it_is_a_map_to_readers_who_cannot_see_it():
    """A choropleth's image was described as "Chart: ..."; it is "Map: ...", which a screen reader says and the
    print stylesheet of the briefs sizes maps by (larger than charts, to be read on paper)."""
    fig = plots.choropleth(pd.Series({"NPL": 1}), "Where people  from Nepal live", "persons", "Source: test")
    assert fig._repr_mimebundle_() == ({}, {"image/png": {"alt": "Map: Where people from Nepal live"}})
    plt.close(fig)


def test_a_highlighted_country_is_outlined_and_named_in_the_legend():
    fig = plots.choropleth(pd.Series({"IND": 5}), "t", "persons", "Source: test", highlight=("NPL", "Nepal (origin)"))
    edges = [p for p in fig.axes[0].patches if p.get_gid() == "NPL-highlight"]
    assert len(edges) == 1 and edges[0].get_facecolor()[3] == 0 and edges[0].get_linewidth() > 1
    assert np.array_equal(edges[0].get_path().vertices, _patches(fig, "NPL")[0].get_path().vertices)
    assert _legend(fig)[-2:] == ["no data", "Nepal (origin)"]
    fig = plots.choropleth(pd.Series({"IND": 5}), "t", "persons", "Source: test", highlight=("TON", "Tonga"))
    assert len([p for p in fig.axes[0].patches if p.get_gid() == "TON-highlight"]) == 2  # its outline and a ring
    with pytest.raises(ParameterError, match=r'code "NLP" is not an ISO3 country code.*Did you mean "NPL"'):
        plots.choropleth(pd.Series({"IND": 5}), "t", "persons", "Source: test", highlight=("NLP", "Nepal"))
    with pytest.raises(ParameterError, match=r"highlight: a country's code and its label"):
        plots.choropleth(pd.Series({"IND": 5}), "t", "persons", "Source: test", highlight="NPL")


def test_quantile_classes_and_counts():
    values = pd.Series({"NPL": 1, "PHL": 2, "MEX": 3, "IND": 4, "BGD": 10, "PAK": 12})
    fig = plots.choropleth(values, "t", "studies", "Source: test", bins=3)
    edges = np.unique(np.round(np.quantile(values.to_numpy(dtype=float), [0, 1 / 3, 2 / 3, 1])))
    assert maps.class_edges(values.astype(float), 3, counts=True) == list(edges)
    blues = maps.class_colours(len(edges) - 1)
    for code, value in values.items():
        cls = min(int(np.searchsorted(edges, value, side="right")) - 1, len(edges) - 2)
        assert _fill(fig, code) == blues[cls], code
    assert _legend(fig)[0] == "1–2" and _legend(fig)[-2].endswith("–12")  # whole-number classes for counts


def test_missing_values_are_drawn_as_no_data_and_named_in_the_legend():
    values = pd.Series({"NPL": 20.0, "IND": float("nan"), "PHL": 3.0})
    fig = plots.choropleth(values, "t", "percent", "Source: test", bins=2)
    for code in ("IND", "BRA"):  # a NaN, and a country not given at all
        patch = _patches(fig, code)[0]
        assert to_hex(patch.get_facecolor()) == maps.NO_DATA["facecolor"] and patch.get_hatch() == maps.NO_DATA["hatch"]
    assert _legend(fig)[-1] == "no data"
    handle = fig.axes[0].get_legend().legend_handles[-1]
    assert handle.get_hatch() == maps.NO_DATA["hatch"] and to_hex(handle.get_facecolor()) == maps.NO_DATA["facecolor"]
    assert plots.source_text(fig) == "Source: test"
    assert "ATA" not in {p.get_gid() for p in fig.axes[0].patches}  # Antarctica is left out


def test_unknown_codes_and_aggregates_are_refused_by_name():
    with pytest.raises(ParameterError, match=r'values: code "XYZ" is not an ISO3 country code'):
        plots.choropleth(pd.Series({"NPL": 1.0, "XYZ": 2.0}), "t", "u", "Source: test")
    with pytest.raises(ParameterError, match=r'"NLP" is not .*Did you mean "NPL"\?'):
        plots.choropleth(pd.Series({"NLP": 1.0}), "t", "u", "Source: test")
    with pytest.raises(ParameterError, match=r'"KOS" is not an ISO3 code of the data package; .* "XKX"'):
        plots.choropleth(pd.Series({"KOS": 1.0}), "t", "u", "Source: test")
    for aggregate in ("WLD", "LMY"):
        with pytest.raises(ParameterError, match=rf'"{aggregate}" is an aggregate .*not a country'):
            plots.choropleth(pd.Series({aggregate: 1.0}), "t", "u", "Source: test")
    with pytest.raises(ParameterError, match=r'code "NPL" appears more than once'):
        plots.choropleth(pd.DataFrame({"geography": ["NPL", "NPL"], "value": [1.0, 2.0]}), "t", "u", "Source: x")
    with pytest.raises(ParameterError, match=r'value 30 of "NPL" is outside the class edges'):
        plots.choropleth(pd.Series({"NPL": 30.0}), "t", "u", "Source: test", bins=[0, 10])
    with pytest.raises(ParameterError, match=r'values: the value \'n/a\' of "PHL" is not a number'):
        plots.choropleth(pd.Series({"NPL": 1.0, "PHL": "n/a"}), "t", "u", "Source: test")
    for bad in (True, "5", [3, 1], ["a", "b"]):
        with pytest.raises(ParameterError, match=r"bins"):
            plots.choropleth(pd.Series({"NPL": 1.0}), "t", "u", "Source: test", bins=bad)


def test_units_whose_codes_differ_join_through_the_declared_table():
    world = maps.boundaries()
    by_name = world.set_index("name")["iso3"]
    assert by_name["Kosovo"] == "XKX" and by_name["France"] == "FRA" and by_name["Norway"] == "NOR"
    assert pd.isna(world.set_index("name").loc["Kosovo", "id"])  # no ISO numeric code: joined by name
    assert world.set_index("name").loc["Nepal", "id"] == "524"  # the others through their numeric code
    assert set(maps.CODE_EXCEPTIONS) <= set(world["name"])  # no stale entry in the table
    countries = set(data.countries(with_figures=False))
    assert set(world["iso3"]) - {""} <= countries  # every unit joins a country of data/geographies.csv
    values = pd.Series({"XKX": 5.0, "FRA": 1.0, "NOR": 2.0, "SOM": 9.0, "ESH": float("nan")})
    fig = plots.choropleth(values, "t", "u", "Source: test", bins=[0, 3, 10])
    blues = maps.class_colours(2)
    assert [_fill(fig, c) for c in ("XKX", "FRA", "NOR")] == [blues[1], blues[0], blues[0]]
    assert [to_hex(p.get_facecolor()) for p in _patches(fig, "SOM")] == [blues[1], blues[1]]  # and Somaliland
    assert _patches(fig, "ESH")[0].get_hatch() == maps.NO_DATA["hatch"]


def test_an_undeclared_unit_without_code_stops_the_map(monkeypatch):
    monkeypatch.delitem(maps.CODE_EXCEPTIONS, "Kosovo")
    with pytest.raises(
        DataError,
        match=r"unit 'Kosovo' \(ISO numeric nan\) is no country of data/geographies\.csv; declare it in .*CODE_EXCEPTIONS",
    ):
        maps.boundaries()


def test_boundaries_are_verified_before_they_are_drawn(data_copy):
    folder = data_copy / "snapshots" / maps.BOUNDARIES
    topo = folder / "countries-50m.json"
    topo.write_bytes(topo.read_bytes().replace(b'"Nepal"', b'"Nepol"'))
    with pytest.raises(DataError, match=r"countries-50m\.json: SHA-256 is [0-9a-f]{64}, but .* records 04342cdc"):
        plots.choropleth(pd.Series({"NPL": 1.0}), "t", "u", "Source: test")


def test_real_table_is_drawn_and_png_bytes_are_identical():
    table = data.table("remittances_received_pct_gdp", 2020)
    pngs = []
    for _ in range(2):
        fig = plots.choropleth(table, "Remittances", "percent of GDP", "Source: World Bank")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        pngs.append(buf.getvalue())
        plt.close(fig)
    assert pngs[0] == pngs[1]
    coloured = {p.get_gid() for p in _outlines(fig) if not p.get_hatch()}
    drawn = set(maps.boundaries()["iso3"])
    assert set(_circles(fig)) == coloured & set(maps.small_countries())  # each small country with a value
    assert coloured == set(table["geography"]) & drawn  # every country with a value that is drawn, and only those
    assert len(coloured) >= 190 and set(table["geography"]) - drawn <= {"TUV"}


def test_too_small_to_draw_is_said():
    fig = plots.choropleth(pd.Series({"TUV": 40.0, "TON": 38.0, "NPL": 20.0}), "t", "u", "Source: test")
    notes = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("Not drawn")]
    assert notes == ["Not drawn at 1:50m (values in the table): Tuvalu."]  # Tonga is drawn at 1:50m
    assert _patches(fig, "TON")


def test_a_small_country_with_a_value_is_circled_in_its_colour():
    """Tonga (about 430 km² drawn) and Bahrain (about 540) would be a pixel or less: each gets a circle of its
    class's colour, inside its own outline's bounds; Nepal (about 147,000 km²) and a small country without a value
    (Malta here) get none; a note under the legend says how many are circled, and the source line is under it."""
    values = pd.Series({"TON": 38.0, "BHR": 1.0, "NPL": 20.0, "TUV": 5.0})
    fig = plots.choropleth(values, "t", "percent of GDP", "Source: test", bins=[0, 10, 40])
    circles = _circles(fig)
    assert set(circles) == {"TON", "BHR"}
    blues = maps.class_colours(2)
    assert to_hex(circles["TON"].get_facecolor()) == blues[1] and to_hex(circles["BHR"].get_facecolor()) == blues[0]
    world = maps.boundaries().set_index("iso3")
    for code, circle in circles.items():
        xmin, ymin, xmax, ymax = world.loc[[code]].total_bounds
        x, y = circle.center
        assert xmin <= x <= xmax and ymin <= y <= ymax, code
    area = world.loc[["TON"]].geometry.area.sum() / 1e6
    assert 100 < area < maps.SMALL_AREA_KM2 and world.loc[["NPL"]].geometry.area.sum() / 1e6 > 100_000
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Countries under 5,000 km² are circled in their colour (2 here)." in texts
    fig.canvas.draw()
    legend = fig.axes[0].get_legend().get_window_extent()
    note = next(t for t in fig.axes[0].texts if t.get_text().startswith("Countries under")).get_window_extent()
    source = next(t for t in fig.axes[0].texts if t.get_text() == "Source: test").get_window_extent()
    map_box = fig.axes[0].get_window_extent()
    assert legend.y1 <= map_box.y0 and note.y1 <= legend.y0 and source.y1 <= note.y0  # one under the other
    fig = plots.choropleth(pd.Series({"NPL": 1.0}), "t", "u", "Source: test")
    assert not _circles(fig) and not [t for t in fig.axes[0].texts if t.get_text().startswith("Countries")]


def test_studies_per_country_against_a_hand_count():
    """issue 14 item 3: distinct studies per ISO3 code, a multi-country study counted for each country."""
    counts = literature.studies_per_country()
    # hand count from data/literature/studies.csv (systematic reviews left out):
    # AGO: cebotari2016, mazzucato2015; ETH: nguyen2016, tesfaw2023; PER: nguyen2016, prpr_peru_lamp;
    # GEO: antia2023, cebotari2018, gassmann2018
    assert {c: int(counts[c]) for c in ("AGO", "ETH", "PER", "GEO")} == {"AGO": 2, "ETH": 2, "PER": 2, "GEO": 3}
    assert counts.index.is_monotonic_increasing and counts.name == "studies" and counts.dtype == "int64"
    synthetic = pd.DataFrame(
        {"study_id": ["a", "a", "b", "c"], "countries": ["NPL; IND", "NPL; IND", "NPL", None]}
    )  # the same study twice, a multi-country study, a study without a country
    assert literature.studies_per_country(synthetic).to_dict() == {"IND": 1, "NPL": 2}
    with pytest.raises(ParameterError, match=r"no 'countries' column"):
        literature.studies_per_country(pd.DataFrame({"study_id": ["a"]}))
    fig = plots.choropleth(counts, "Studies", "studies", "Source: test", bins=[1, 2, 5, 10, 100])
    assert _legend(fig)[:2] == ["1", "2–4"] and _fill(fig, "CHN") == maps.class_colours(4)[3]


def test_every_country_at_once():
    """The all-country data of issue 13, simulated: a value for every country of data/geographies.csv."""
    countries = data.countries(with_figures=False)
    values = pd.Series(np.arange(len(countries), dtype=float), index=countries)
    fig = plots.choropleth(values, "t", "u", "Source: test", bins=7)
    patches = _outlines(fig)
    assert len(patches) == len(maps.boundaries())
    assert set(_circles(fig)) == set(maps.small_countries())
    assert {p.get_gid() for p in patches if p.get_hatch()} == {""}  # only the areas drawn without data
    assert len(_legend(fig)) == 8  # seven classes and "no data"
    drawn = set(maps.boundaries()["iso3"])
    note = next(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("Not drawn"))
    missing = sorted(data.country_name(c) for c in set(countries) - drawn)
    assert len(missing) > 12 and note.replace("\n", " ").endswith(f"and {len(missing) - 12} more.")


# --------------------------------------------------------------------------------------------------------------
# Drawing speed (benchmarks/README.md): outlines simplified to half a pixel, the boundaries read once in the template
# --------------------------------------------------------------------------------------------------------------
def test_outlines_are_drawn_within_a_pixel_of_the_boundaries():
    from shapely import hausdorff_distance

    world, key = maps._boundaries()
    outlines = maps._drawn_paths(*key)
    xmin, _, xmax, _ = world.total_bounds
    half_pixel = (xmax - xmin) / maps._MAP_PIXELS / 2
    full = sum(len(maps._path(g).vertices) for g in world.geometry)
    drawn = sum(len(outlines[(str(n), str(i))].vertices) for n, i in zip(world["name"], world["id"]))
    assert drawn < full / 4  # 94,633 -> 12,548 vertices in world-atlas 2.0.2
    simple = world.geometry.simplify(half_pixel, preserve_topology=True)
    far = max(hausdorff_distance(a, b) for a, b in zip(world.geometry, simple))
    assert far <= 2 * half_pixel  # a tolerance of half a pixel; no outline strays a whole pixel (0.82 px today)
    assert not simple.is_empty.any() and simple.is_valid.all()
    fig = maps.choropleth(pd.Series({"NPL": 1.0}), "x", "y", "Source: test")
    assert {p.get_gid() for p in fig.axes[0].patches} >= {"NPL", "IND", "FJI"}


def test_priming_the_boundaries_leaves_the_environment_as_it_was(monkeypatch):
    """The warm template reads the map once (maps.prime) but must not pass the reader's environment variables to
    every kernel; a kernel gets them when it draws a map, as a fresh one would (reports/_template.py)."""
    import os

    real = maps._read_projected

    def reading_sets_a_variable(path, projection):
        os.environ["LEFTBEHIND_TEST_GDAL"] = "set by the reader"
        return real(path, projection)

    monkeypatch.setattr(maps, "_read_projected", reading_sets_a_variable)
    monkeypatch.setattr(maps, "_ENV_FROM_READING", {})
    monkeypatch.delenv("LEFTBEHIND_TEST_GDAL", raising=False)
    maps._read.cache_clear()
    maps._drawn_paths.cache_clear()
    try:
        maps.prime()
        assert "LEFTBEHIND_TEST_GDAL" not in os.environ
        assert maps._ENV_FROM_READING["LEFTBEHIND_TEST_GDAL"] == "set by the reader"
        maps.boundaries()  # from the cache, as in a forked kernel: the variable as if read here
        assert os.environ["LEFTBEHIND_TEST_GDAL"] == "set by the reader"
    finally:
        monkeypatch.delenv("LEFTBEHIND_TEST_GDAL", raising=False)
        maps._read.cache_clear()
        maps._drawn_paths.cache_clear()
