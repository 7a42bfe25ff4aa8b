"""The world at a glance (issue 14 items 4-5): parameters checked with the valid choices, the ranked frame, the
distribution by region and income group, and the 08_world plan entries."""

from __future__ import annotations

import ast
import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from leftbehind import data, literature, reports, world
from leftbehind.data import derive
from leftbehind.errors import ParameterError, years_listed

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("remitances_received_usd", 2020, "latest"),
            r'indicator "remitances_received_usd" .*Did you mean "remittances_received_usd"',
        ),
        (("migrant_workers", 2020, "latest"), r"not an indicator with values for countries.* Valid: "),
        # the years as spans ("1970–2024"), not 55 numbers
        (("remittances_received_pct_gdp", 1950, "latest"), r"year 1950: no country has a value .* Valid: \d{4}–\d{4}$"),
        (
            ("remittances_received_pct_gdp", "2020", "latest"),
            r"year must be a whole number such as 2020, got .2020. \(str\)",
        ),
        (("remittances_received_pct_gdp", 2020, "newest"), r'edition "newest" is not an edition of .* Valid: latest'),
        (("studies", 2020, "wb_mdb_12"), r'edition "wb_mdb_12" is not an edition of the evidence base'),
        ((None, 2020, "latest"), r"indicator must be a string"),
    ],
)
def test_bad_parameters_name_the_valid_choices(args, message):
    with pytest.raises(ParameterError, match=message):
        world.glance(*args)


def test_glance_is_the_ranking_with_regions():
    g = world.glance("remittances_received_pct_gdp", 2020)
    ranked = data.ranking("remittances_received_pct_gdp", 2020)
    assert g.frame["geography"].tolist() == ranked["geography"].tolist()
    assert g.frame["value"].tolist() == ranked["value"].tolist() and g.unit == "percent"
    assert g.frame["region"].tolist() == [literature.region_of(c) for c in ranked["geography"]]
    assert set(ranked["edition_id"]) == {g.edition}  # one edition for every country compared
    assert g.title.endswith(f"2020 (the {len(ranked)} countries with a value)")
    assert g.income_groups and {"wb_region", "income_group"} <= set(g.frame.columns)
    classes = data.classification_table().set_index("code")
    assert g.frame.set_index("geography").loc["NPL", "wb_region"] == classes.loc["NPL", "region"] == "South Asia"
    south_asia = g.ranked[g.ranked["region"] == "South Asia"]  # the groups compare values other than a published 0
    table = world.by_group(g)
    # computed by hand from the frame: count and median of South Asia
    assert int(table.loc["South Asia", "countries"]) == len(south_asia)
    values = sorted(south_asia["value"])
    middle = len(values) // 2
    by_hand = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    assert table.loc["South Asia", "median"] == pytest.approx(by_hand)
    assert table.loc["South Asia", "highest in"] == south_asia.sort_values("value").iloc[-1]["name"]
    low = g.ranked[g.ranked["income_group"] == "Low income"]
    by_income = world.by_group(g, "income_group")
    assert int(by_income.loc["Low income", "countries"]) == len(low)
    assert by_income.loc["Low income", "highest"] == low["value"].max()
    assert world.group_caption("wb_region").startswith("Grouped by World Bank regions")
    assert g.source.startswith("Source: Computed here from World Bank data")


def test_default_year_is_the_newest_with_broad_coverage():
    """2024 holds remittances for about half the countries (early estimates): the default is 2023, and the
    title says how many countries have a value."""
    usd = data.figures("remittances_received_usd", edition="wdi_2025_07_01")
    countries = set(data.geographies().query("kind == 'country'")["code"])
    per_year = usd[usd["geography"].isin(countries)].groupby("year")["geography"].nunique()
    assert per_year[2024] < data.BROAD_COVERAGE * per_year.max() <= per_year[2023]
    g = world.glance("remittances_received_usd", 0)
    assert (g.year, g.edition) == (2023, "wdi_2025_07_01") and len(g.frame) == per_year[2023]
    assert g.title == f"Personal remittances received, 2023 (the {per_year[2023]} countries with a value)"


def test_income_groups_when_the_classification_exists(data_copy):
    derive.build_derived(data_copy / "derived", FIXTURES)  # the fixture classification: NPL, PHL, USA
    g = world.glance("remittances_received_pct_gdp", 2020)
    assert g.income_groups
    groups = g.frame.set_index("geography")["income_group"]
    assert groups["NPL"] == "Lower middle income" and groups["IND"] == ""  # unclassified in the fixture
    table = world.by_group(g, "income_group")
    assert list(table.index) == ["Lower middle income"] and int(table["countries"].iloc[0]) == 2


def test_studies_glance_counts_the_evidence_base():
    g = world.glance("studies")
    counts = literature.studies_per_country()
    assert dict(zip(g.frame["geography"], g.frame["value"])) == counts.to_dict()
    assert g.unit == "studies" and g.bins[0] == 1 and g.bins[-1] >= counts.max()
    assert world.summary_markdown(g).startswith(f"The evidence base holds {len(literature.studies())} primary")
    assert world.sources_markdown(g).count("\n") + 1 == len(literature.studies())


def test_ranking_markdown_escapes_names():
    frame = pd.DataFrame({"rank": [1, 2], "name": ["<b>A</b>", "[x](javascript:y)"], "value": [3.0, 1.0]})
    text = world.ranking_markdown(frame, "percent")
    assert "&lt;b&gt;A&lt;/b&gt;" in text and "\\[x\\](javascript:y)" in text and "<b>" not in text


def test_world_plan_entries_and_domains():
    plan = [r for r in reports.load_plan(reports.default_plan_path()) if r.notebook.stem == "08_world"]
    assert {r.parameters["indicator"] for r in plan} == {
        "remittances_received_pct_gdp",
        "remittances_received_usd",
        "remittances_paid_usd",
        "remittance_cost_to_country_pct",
        "emigrant_stock",
        "migrant_stock",
        "studies",
    }
    assert {r.group for r in plan} == {"The world at a glance"}
    reports.check(plan)
    bad = [dataclasses.replace(plan[0], parameters={"indicator": "remitances", "edition": "newest"})]
    with pytest.raises(ParameterError, match=r'parameter "indicator": "remitances" is not a valid value'):
        reports.check(bad)


def test_notebook_defaults_are_valid(tmp_path):
    import papermill

    nb = Path(__file__).parents[1] / "notebooks" / "08_world.ipynb"
    shutil.copy(nb, tmp_path)
    declared = papermill.inspect_notebook(str(tmp_path / nb.name))
    defaults = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    assert defaults == {"indicator": "remittances_received_pct_gdp", "year": 0, "edition": "latest"}
    assert len(world.glance(**defaults).frame) > 0


def test_world_report_over_poisoned_data_shows_no_live_markup(tmp_path, data_copy):
    """A country name and a study title carrying markup, and a country name carrying table cells, reach the
    08_world report (ranking tables, the region table, the bibliography) only as text."""
    import csv

    from conftest import REPO, replace_cell
    from test_reports import _plan
    from test_security import _assert_no_live_markup

    def row(path: Path, key_field: str, key: str) -> int:
        with open(path, encoding="utf-8", newline="") as fh:
            return next(i for i, r in enumerate(csv.DictReader(fh), start=1) if r[key_field] == key)

    geo = data_copy / "geographies.csv"
    replace_cell(geo, row(geo, "code", "CHN"), "name", "China<img src=x onerror=alert(1)>")
    replace_cell(geo, row(geo, "code", "MEX"), "name", "Mexico | 1.23 | ")  # issue 29 item 3: 16 studies, rank 2
    studies = data_copy / "literature" / "studies.csv"
    replace_cell(studies, row(studies, "study_id", "wickramage2015"), "title", "<script>alert(2)</script>")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(REPO / "notebooks" / "08_world.ipynb", nbs)
    plan = _plan(nbs, [{"name": "world", "notebook": "08_world.ipynb", "parameters": {"indicator": "studies"}}])
    out = tmp_path / "reports"
    outcomes = reports.run(plan, out, jobs=1, log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok"], [o.error for o in outcomes]
    page = (out / "world.html").read_text(encoding="utf-8")
    _assert_no_live_markup(page)
    assert "China&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    # the pipe stays in its cell of the "Highest" table: Mexico's row shows its own count, not an injected 1.23
    from test_security import _Cells

    cells = _Cells()
    cells.feed(page)
    mexico = [r for r in cells.rows if any(c.startswith("Mexico") for c in r)]
    assert mexico[0] == ["2", "Mexico | 1.23 |", "16"], mexico
    assert all("Mexico | 1.23 |" in r for r in mexico), mexico  # the tables by region too: one cell


def test_the_overlap_note_is_printed_only_where_the_two_lists_overlap():
    """The world reports said "With fewer than twenty countries the two lists overlap." under every ranking,
    233 countries or not: the note is now the package's, and empty where the lists do not overlap."""
    g = world.glance("emigrant_stock")
    assert len(g.frame) >= 20 and world.overlap_note(g) == ""
    few = dataclasses.replace(g, frame=g.frame.head(12))
    assert world.overlap_note(few) == "Only 12 countries have a value, so the 10 highest and the 10 lowest overlap."
    notebook = (Path(__file__).parents[1] / "notebooks" / "08_world.ipynb").read_text(encoding="utf-8")
    assert "world.overlap_note(g)" in notebook and "With fewer than twenty countries" not in notebook


def test_the_valid_years_of_a_message_are_the_ranking_years():
    years = data.ranking_years("remittances_received_pct_gdp")
    with pytest.raises(ParameterError) as info:
        world.glance("remittances_received_pct_gdp", 1950)
    assert str(info.value).endswith(f"Valid: {years_listed(years)}")
    assert years_listed(years).count("–") >= 1 and len(years) > 20


# --- a published 0 that may be a flow not reported ----------------------------------------------------------


def _published_zeros_2023() -> set[str]:
    """The countries whose remittances received in 2023 are "0" in the derived table, read from the CSV itself."""
    import csv

    countries = set(data.geographies().query("kind == 'country'")["code"])
    with open(Path(data.data_dir()) / "derived" / "figures.csv", encoding="utf-8", newline="") as fh:
        return {
            r["geography"]
            for r in csv.DictReader(fh)
            if r["indicator"] == "remittances_received_usd"
            and r["source_id"] == "wdi_20250701_bx_trf_pwkr_cd_dt"
            and r["year"] == "2023"
            and float(r["value"]) == 0
            and r["geography"] in countries
        }


def test_why_a_published_zero_is_not_read_as_none():
    """The claim next to data.ZERO_MAY_BE_UNREPORTED, from the data package: the release of 2025-07-01 gives Iran
    USD 0 in every year from 2005 to 2023, its release of 2022-02-15 0.22 % to 0.65 % of GDP in 2007-2020."""
    usd = data.figures("remittances_received_usd", geography="IRN", edition="wdi_2025_07_01")
    assert set(usd.loc[usd["value"] == 0, "year"]) == set(range(2005, 2024)) and usd["value"].max() > 0
    pct = data.figures("remittances_received_pct_gdp", geography="IRN", edition="wdi_2022_02_15")
    share = pct[pct["year"].between(2007, 2020)]["value"]
    assert len(share) == 14 and round(share.min(), 2) == 0.22 and round(share.max(), 2) == 0.65
    assert data.published_zeros(usd).sum() == 19
    singapore = data.figures("remittances_received_usd", geography="SGP", edition="wdi_2025_07_01")
    assert (singapore["value"] == 0).all() and set(singapore["year"]) == set(range(2005, 2024))
    syria = data.figures("remittances_received_usd", geography="SYR", edition="wdi_2025_07_01")
    assert set(syria.loc[syria["value"] == 0, "year"]) == set(range(2011, 2024))
    share = world.glance("remittances_received_pct_gdp", 2023)  # data/VERIFICATION.md: 9 of the 12, in % of GDP
    assert len(share.zeros) == 9 and set(share.zeros["geography"]) <= _published_zeros_2023()
    assert not data.published_zeros(data.figures("migrant_stock", geography="SSD", year=1990)).any()


def test_a_published_zero_is_mapped_apart_and_never_ranked():
    """The world report ranked twelve countries at 0.00 as "the ten lowest" (Iran, Singapore, Syria…), and coloured
    them as the lowest class on the map."""
    zeros = _published_zeros_2023()
    assert {"IRN", "SGP", "SYR"} <= zeros and len(zeros) == 12
    g = world.glance("remittances_received_usd", 2023)
    assert set(g.zeros["geography"]) == zeros and g.zero_label == "0 as published"
    assert len(g.frame) == len(g.ranked) + len(zeros)  # the map and its CSV keep them
    assert (g.ranked["value"] > 0).all() and g.ranked["rank"].tolist() == list(range(1, len(g.ranked) + 1))
    assert (world.by_group(g, "wb_region")["lowest"] > 0).all()
    note = world.zeros_note(g)
    assert note.startswith("12 countries have a value of 0 in 2023 as published (Bahrain, ") and data.ZERO_NOTE in note
    assert world.zeros_note(world.glance("emigrant_stock")) == ""
    import matplotlib.pyplot as plt

    from leftbehind import plots

    fig = plots.choropleth(g.frame, g.title, g.unit, g.source, bins=g.bins, zero=g.zero_label)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-2:] == ["0 as published", "no data"] and not labels[0].startswith("0 ")
    iran = [a for a in ax.get_children() if a.get_gid() == "IRN"]
    assert iran and all(a.get_hatch() == "...." and tuple(a.get_facecolor()[:3]) == (1.0, 1.0, 1.0) for a in iran)
    plt.close(fig)


def test_a_country_published_as_zero_is_said_so_and_not_ranked(data_copy):
    from leftbehind import country
    from leftbehind.country import context

    iran = country.narrative("IRN")
    assert "Iran received USD 0" not in iran
    assert "The World Bank gives 0 for the remittances Iran received: USD 0 in 2023" in iran and data.ZERO_NOTE in iran
    peers = ["NPL", "IRN", "SGP", "PHL"]
    rank = context.rank_among("NPL", peers, "remittances_received_pct_gdp", "percent")
    assert rank is not None and rank.n == 2  # Nepal and the Philippines: Iran's and Singapore's 0 are not ranked
    assert context.rank_among("IRN", peers, "remittances_received_pct_gdp", "percent") is None
    # a country whose newest remittances paid are a published 0 (none is, today): planted in a copy
    path = data_copy / "derived" / "figures.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = frame[(frame["indicator"] == "remittances_paid_usd") & (frame["geography"] == "GHA")]
    newest = row.loc[row["year"].astype(int).idxmax()]
    frame.loc[newest.name, "value"] = "0"
    frame.to_csv(path, index=False, lineterminator="\n")
    said = context.destination("GHA")
    assert "Ghana paid USD" not in said and "the World Bank gives 0 for the remittances Ghana paid in" in said
