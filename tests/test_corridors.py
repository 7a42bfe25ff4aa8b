"""Corridors (issue 30): UN DESA's destination × origin table through data.corridors, checked against the table
read with the csv module and against every country's totals in figures(); the profile's sections, the world
corridors report's rankings, and the explorer."""

from __future__ import annotations

import csv
from collections import defaultdict

import pandas as pd
import pytest

from conftest import DATA
from leftbehind import country, data
from leftbehind.errors import ParameterError
from leftbehind.explore import views
from leftbehind.world import corridors as world_corridors


def _table() -> dict[tuple[str, str, int], tuple[int | None, int | None]]:
    """derived/corridors.csv read without leftbehind: (destination, origin, year) → (women, men)."""
    with open(DATA / "derived" / "corridors.csv", encoding="utf-8", newline="") as fh:
        return {
            (r["destination"], r["origin"], int(r["year"])): (
                int(r["female"]) if r["female"] else None,
                int(r["male"]) if r["male"] else None,
            )
            for r in csv.DictReader(fh)
        }


def _both(cell: tuple[int | None, int | None]) -> int:
    return sum(v for v in cell if v is not None)


@pytest.mark.parametrize(
    ("origin", "destination"),
    [("IND", "ARE"), ("MEX", "USA"), ("NPL", "IND"), ("PHL", "SAU"), ("SYR", "TUR")],
)
def test_a_corridor_is_the_table_s_row(origin, destination):
    table = _table()
    row = data.corridors(origin=origin, destination=destination, year=2024)
    assert len(row) == 1
    assert row["persons"].iloc[0] == _both(table[destination, origin, 2024])
    women = data.corridors(origin=origin, destination=destination, year=2024, sex="female")
    assert women["persons"].iloc[0] == table[destination, origin, 2024][0]
    emigrants = sum(_both(v) for (d, o, y), v in table.items() if o == origin and y == 2024)
    assert row["share_of_origin"].iloc[0] == pytest.approx(row["persons"].iloc[0] / emigrants * 100)


@pytest.mark.parametrize("year", [2024, 2020])
def test_the_corridors_sum_to_every_country_s_stocks(year):
    """Summed over destinations (origins), each origin's (destination's) corridors are its emigrant (immigrant)
    stock in figures(), for every country, in the 2024 revision: UN DESA's totals, reproduced."""
    frame = data.corridors(year=year)
    for indicator, side in (("emigrant_stock", "origin"), ("migrant_stock", "destination")):
        sums = frame.groupby(side)["persons"].sum()
        stocks = data.figures(indicator, year=year, edition="undesa_ims_2024").set_index("geography")["value"]
        countries = [c for c in stocks.index if c in set(data.countries())]
        assert len(countries) > 220
        assert all(sums.get(c, 0) == stocks[c] for c in countries), indicator
    world = data.figures("migrant_stock", geography="WLD", year=year, edition="undesa_ims_2024")["value"].iloc[0]
    assert frame["persons"].sum() == world


def test_other_origins_are_kept_and_choices_are_checked():
    us = data.top_origins("USA", n=5, year=2024)
    assert data.OTHER_ORIGIN in set(data.corridors(destination="USA", year=2024)["origin"])
    other = data.corridors(origin=data.OTHER_ORIGIN, destination="USA", year=2024)
    assert other["origin_name"].iloc[0].startswith("Other or unknown origin") and us["origin"].iloc[0] == "MEX"
    with pytest.raises(ParameterError, match=r"year 2023 is not a year of the corridors table. Valid: 1990"):
        data.corridors(year=2023)
    with pytest.raises(ParameterError, match=r'origin "NLP" .*Did you mean "NPL"'):
        data.corridors(origin="NLP")
    with pytest.raises(ParameterError, match=r'sex "both" is not a valid sex'):
        data.corridors(sex="both")
    with pytest.raises(ParameterError, match=r"n must be a whole number of at least 1"):
        data.top_destinations("NPL", n=0)


def test_an_aggregate_is_refused_not_answered_with_an_empty_table():
    """top_destinations("WLD") returned an empty table without a word: UN DESA's table has corridors between
    countries and areas only, so an aggregate code is refused with what it is and where its totals are."""
    for call in (
        lambda: data.top_destinations("WLD"),
        lambda: data.top_origins("LMY"),
        lambda: data.corridors(origin="NPL", destination="SDG_NAWA"),
    ):
        with pytest.raises(
            ParameterError,
            match=r'is not an ISO3 country code. It is the aggregate "[^"]+", whose figures are in figures\(\)',
        ):
            call()
    assert data.top_destinations("NPL", n=1, year=2024)["destination"].tolist() == ["IND"]
    # a profile's corridor sections name their own parameter, not the one they pass on
    for section in (
        country.destinations,
        country.origins,
        country.destination_map_frame,
        country.destinations_over_time,
    ):
        with pytest.raises(
            ParameterError, match=r'^iso3 "WLD" is not an ISO3 country code. It is the aggregate "World"'
        ):
            section("WLD")


def test_a_corridor_where_no_one_is_counted_is_kept_but_never_ranked():
    """Tuvalu's profile listed Bulgaria, with 0 persons, among the ten largest destinations of its emigrants (31
    profiles had such a row): UN DESA's table holds corridors of 0 persons, which are data but not destinations."""
    assert data.corridors(origin="TUV", destination="BGR", year=2024)["persons"].tolist() == [0.0]
    top = data.top_destinations("TUV", n=10, year=2024)
    assert "BGR" not in set(top["destination"]) and (top["persons"] > 0).all()
    assert (country.destinations("TUV")["persons"] > 0).all() and (data.top_origins("LBN", n=10)["persons"] > 0).all()
    origins = country.origins("TUV")  # a heading says how many rows its table has
    assert len(origins) == 6 and country.largest("origins", len(origins), 10) == "6 origins"
    assert country.largest("origins", len(country.origins("USA")), 10) == "ten largest origins"
    everywhere = data.corridors(year=2024)
    for origin in everywhere["origin"].unique()[:60]:
        assert (data.top_destinations(origin, year=2024)["persons"] > 0).all(), origin


def test_a_profile_shows_where_emigrants_live():
    top = country.destinations("NPL")
    assert len(top) == 10 and top["destination"].iloc[0] == "IND"
    table = _table()
    women, men = table["IND", "NPL", 2024]
    assert top["women_share"].iloc[0] == pytest.approx(women / (women + men) * 100)
    frame = country.destination_map_frame("NPL")
    assert set(top["destination"]) <= set(frame["geography"]) and data.OTHER_ORIGIN not in set(frame["geography"])
    shown = country.destinations_table(top).to_frame()
    assert shown.iloc[0].tolist()[:2] == ["India", f"{women + men:,}"]
    since = country.destinations_over_time("NPL", n=5)
    assert since["label"].unique().tolist() == top["name"].head(5).tolist()  # the legend in the table's order
    ghana = country.destinations_over_time("GHA", n=5)["label"].unique().tolist()
    assert ghana == country.destinations("GHA", n=5)["name"].tolist() and ghana[0] == "United States"
    assert sorted(since["year"].unique()) == data.corridor_years() and since["edition_id"].nunique() == 1
    notebook = (DATA.parent / "notebooks" / "05_country_profile.ipynb").read_text("utf-8")
    assert "profile.largest('origins', len(arrived), 10)" in notebook  # "ten largest origins", or all there are
    assert "profile.largest('destinations', since['label'].nunique(), 5)" in notebook


def test_world_corridors_rankings_worked_out_from_the_table():
    table = _table()
    both = {(o, d): _both(v) for (d, o, y), v in table.items() if y == 2024 and o != data.OTHER_ORIGIN}
    expected = sorted(both, key=lambda k: -both[k])[:3]
    top = world_corridors.largest_corridors(2024, n=3)
    assert list(zip(top["origin"], top["destination"])) == expected
    before = {(o, d): _both(v) for (d, o, y), v in table.items() if y == 2000}
    growth = {k: v - before.get(k, 0) for k, v in both.items() if v >= 50_000}
    grown = world_corridors.fastest_growing(2000, 2024, n=3)
    assert list(zip(grown["origin"], grown["destination"])) == sorted(growth, key=lambda k: -growth[k])[:3]
    pairs = world_corridors.region_pairs(2024)
    by_origin = defaultdict(int)
    for (_d, o, y), v in table.items():
        if y == 2024:
            by_origin[o] += _both(v)
    assert pairs.to_numpy().sum() == sum(by_origin.values())
    assert pairs.loc["Other or unknown origin (UN DESA)"].sum() == by_origin[data.OTHER_ORIGIN]
    with pytest.raises(ParameterError, match=r"since \(2024\) must be a year before year \(2024\)"):
        world_corridors.fastest_growing(2024, 2024)


def test_the_explorer_view():
    sections = views.corridors_view("MEX", "emigrants", 2024)
    assert [s.label for s in sections] == ["summary", "chart", "table"]
    assert sections[2].content["destination"].iloc[0] == "United States"
    assert views.corridors_view("USA", "immigrants", 0)[2].content["origin"].iloc[0] == "Mexico"
    with pytest.raises(ParameterError, match=r'direction "out" is not a direction of the corridors'):
        views.corridors_view("MEX", "out")
    views.close_figures(sections)
    # the sentence says the sex in words (it read "(female)"); the Holy See's one origin is UN DESA's "other or
    # unknown", which the sentence says instead of "in 1 origin"
    holy_see = data.corridors(destination="VAT", year=2024, sex="female")
    assert holy_see["origin"].tolist() == [data.OTHER_ORIGIN]  # worked out from the table
    one = views.corridors_view("VAT", "immigrants", 2024, sex="female")
    assert one[0].content.endswith(
        " international migrants living in Vatican (women), all of other or unknown origin (UN DESA does not give "
        "their countries of origin)."
    )
    views.close_figures(one)


def test_the_world_corridors_report_is_in_the_plan():
    from leftbehind import reports

    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    assert plan["09_corridors"].parameters == {"year": 0, "since": 2000, "n": 20, "sex": "total"}
    reports.check([plan["09_corridors"]])
    assert isinstance(world_corridors.region_pairs(0), pd.DataFrame)


def test_the_report_opens_with_the_world_total_and_the_sex_in_words():
    """The report read "304.0 million international migrants (total)": the parameter's id."""
    women = data.corridors(year=2024, sex="female")
    expected = (
        f"**{women['persons'].sum() / 1e6:,.1f} million** international migrants (women) in {len(women):,} corridors."
    )
    assert world_corridors.total_sentence(2024, "female") == "UN DESA's table of 2024 counts " + expected
    assert "(women and men)" in world_corridors.total_sentence(0)
    with pytest.raises(ParameterError, match="sex"):
        world_corridors.total_sentence(2024, "both")


def test_the_table_of_region_pairs_sums_its_rows_and_columns_to_the_world_total():
    """The corridors report said its table sums to the world's total without showing a sum; its last column and
    row now do, and where they meet stands UN DESA's world total (304.0 million in 2024)."""
    pairs = world_corridors.region_pairs(2024)
    t = world_corridors.region_pairs_table(pairs)
    assert t.labels[-1] == "All destinations" and t.cells[-1][0] == "All origins"
    world_total = data.figures("migrant_stock", geography="WLD", year=2024)["value"].iloc[0]
    assert t.cells[-1][-1] == f"{world_total / 1e6:.1f}" == "304.0"
    rows = dict(zip([c[0] for c in t.cells], [c[-1] for c in t.cells]))
    assert rows["South Asia"] == f"{pairs.loc['South Asia'].sum() / 1e6:.1f}"  # the region's emigrants
    column = t.labels.index("Europe & Central Asia")
    assert t.cells[-1][column] == f"{pairs['Europe & Central Asia'].sum() / 1e6:.1f}"  # the migrants living there
