"""Country profiles: narrative numbers equal the data package's figures; missing data is stated, not an error."""

from __future__ import annotations

import csv
import re

from conftest import DATA
from leftbehind import country, data
from leftbehind.country.sentences import fmt_value


def _figures() -> list[dict[str, str]]:
    with open(DATA / "figures.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _released() -> dict[str, str]:
    with open(DATA / "editions.csv", encoding="utf-8", newline="") as fh:
        return {r["edition_id"]: r["released"] for r in csv.DictReader(fh)}


def _latest(rows, indicator, geo, series_prefix=""):
    """Most recent year's value of the latest edition, computed from the CSV without leftbehind."""
    rel = _released()
    rows = [
        r
        for r in rows
        if r["indicator"] == indicator
        and r["geography"] == geo
        and r["sex"] == "total"
        and r["edition_id"].startswith(series_prefix)
    ]
    by_year = {}
    for r in rows:
        y = int(r["year"])
        if y not in by_year or rel[r["edition_id"]] > rel[by_year[y]["edition_id"]]:
            by_year[y] = r
    year = max(by_year)
    return year, float(by_year[year]["value"])


def test_narrative_numbers_match_the_figures():
    rows = _figures()
    for iso in ("NPL", "PHL"):
        text = country.narrative(iso)
        year, persons = _latest(rows, "emigrant_stock", iso, "undesa")
        millions = persons / 1e6 if persons > 1000 else persons
        shown = f"{millions:,.2f}".rstrip("0").rstrip(".") if millions < 10 else f"{millions:,.1f}"
        assert f"UN DESA counts {shown} million people from {data.country_name(iso)} living abroad in {year}" in text
        year, pct = _latest(rows, "remittances_received_pct_gdp", iso, "wdi")
        shown = f"{pct:.1f}" if pct >= 10 else f"{pct:.2f}".rstrip("0").rstrip(".")
        assert f"{shown} % of GDP in {year}" in text, text


def test_profiles_say_what_is_missing():
    egypt = country.narrative("EGY")
    assert "The evidence base holds no study of children left behind in Egypt." in egypt
    tonga = country.narrative("TON")
    assert "No UN DESA estimate of emigrants from Tonga in the data package." in tonga
    assert "No World Development Indicators series for Tonga in the data package." in tonga
    assert "too thin to pool" in tonga


def test_every_planned_profile_has_figures_and_sources():
    from leftbehind import reports

    plan = [r for r in reports.load_plan(reports.default_plan_path()) if r.notebook.stem == "05_country_profile"]
    planned = {r.parameters["country"] for r in plan}
    assert planned == set(data.countries()) and set(country.PROFILE_COUNTRIES) <= planned  # issue 14 item 3
    assert {r.group for r in plan} == {"Country profiles"}
    names = {r.name: r.title for r in plan}
    assert names["05_country_profile_NPL"] == "Country profile: Nepal"  # names and titles of the 18 stay
    assert names["05_country_profile_SLV"] == "Country profile: El Salvador"
    for iso in country.PROFILE_COUNTRIES:
        text = country.sources(iso)
        assert re.search(r"^1\. ", text, re.M), iso
        # at least two charts' worth of data: emigrants and remittances
        assert len(country.emigrants(iso)) and len(data.remittances([iso], "pct_gdp")), iso


# --- issue 14 item 3: every country, as a destination, against its region and income group ---------------------


def test_every_country_with_figures_gets_a_profile_without_error():
    """The new parts of the profile run for every country of data.countries() (the whole notebook runs for
    each in `make reports`), and each profile says something about its region and income group, one line each."""
    for iso in data.countries():
        assert country.destination(iso).startswith("- **As a destination.** "), iso
        lines = country.comparison(iso).splitlines()
        assert len(lines) == 2 and lines[0].startswith("- **Against its region"), iso
        assert lines[1].startswith("- **Against its income group"), iso


def test_country_without_series_or_studies_says_what_is_missing():
    kosovo = country.narrative("XKX") + "\n" + country.destination("XKX")
    assert "No UN DESA estimate of emigrants from Kosovo in the data package." in kosovo
    assert "No World Development Indicators series for Kosovo in the data package." in kosovo
    assert "The evidence base holds no study of children left behind in Kosovo." in kosovo
    assert "No UN DESA estimate of international migrants living in Kosovo" in kosovo
    # what the package does hold for it is shown: the Briefs' figure
    assert country.briefs_remittances("XKX") == (
        "- **Remittances (Migration and Development Briefs).** 17 % of GDP in 2010 (Migration and Development Brief 17)."
    )
    assert country.briefs_remittances("NPL") == ""  # WDI has both measures: nothing to add


def test_destination_shows_immigrants_and_remittances_paid(data_copy):
    text = country.destination("NPL")
    imm = country.immigrants("NPL").iloc[-1]
    assert (
        f"UN DESA counts {fmt_value(imm['value'], 'million persons')} international migrants living in Nepal in {imm['year']}"
        in text
    )
    assert "no series of remittances paid by Nepal is in the data package" in text
    figures = data_copy / "figures.csv"
    with figures.open("a", encoding="utf-8") as fh:  # a WDI figure of remittances paid
        fh.write(
            "remittances_paid_usd,NPL,2022,total,1234000000,USD,,wdi_bx_trf_pwkr_cd_dt_20250701,wdi_2025_07_01,,a quote\n"
        )
    text = country.destination("NPL")
    assert "Nepal paid USD 1.23 billion in remittances in 2022" in text and "no series" not in text


def test_region_comparison_ranks_against_the_region_with_the_same_year():
    from leftbehind.country.context import COMPARED, rank_among

    south_asia = [
        c for c in data.countries() if data.geographies().set_index("code").loc[c, "un_region"] == "Southern Asia"
    ]
    indicator, unit, series, _ = COMPARED[0]
    r = rank_among("NPL", south_asia, indicator, unit, series)
    assert r is not None
    same_year = data.figures(indicator, geography=south_asia, year=r.year, series=series)["value"]
    assert r.n == len(same_year) >= 3 and r.rank == 1 + int((same_year > r.value).sum())
    assert r.median == same_year.median()
    line = country.comparison("NPL").splitlines()[0]
    assert line.startswith("- **Against its region (Southern Asia).** Remittances received as a share of GDP (WDI): ")
    assert f"of the {r.n} countries in Southern Asia with a figure for that year in the data package" in line
    assert rank_among("TON", ["TON", "WSM"], indicator, unit, series) is None  # no WDI series for Tonga
    assert "so Tonga is not compared with its region yet" in country.comparison("TON")


def test_income_group_comparison_when_the_classification_is_there(data_copy):
    from leftbehind.data.derive import CLASSIFICATION_FIELDS

    assert "is not in the data package yet, so Nepal is not compared" in country.comparison("NPL")
    derived = data_copy / "derived"
    derived.mkdir(exist_ok=True)
    rows = [
        ("NPL", "Nepal", "South Asia", "Lower middle income"),
        ("BGD", "Bangladesh", "South Asia", "Lower middle income"),
        ("PHL", "Philippines", "East Asia & Pacific", "Lower middle income"),
        ("MEX", "Mexico", "Latin America & Caribbean", "Upper middle income"),
        ("XKX", "Kosovo", "Europe & Central Asia", ""),
    ]
    with (derived / "classification.csv").open("w", encoding="utf-8") as fh:
        fh.write(",".join(CLASSIFICATION_FIELDS) + "\n")
        for code, economy, region, group in rows:
            values = {"code": code, "economy": economy, "region": region, "income_group": group, "fiscal_year": "FY26"}
            fh.write(",".join(values.get(f, "x") for f in CLASSIFICATION_FIELDS) + "\n")
    line = country.comparison("NPL").splitlines()[1]
    assert line.startswith("- **Against its income group (Lower middle income).** Remittances received as a share")
    assert "of the 3 countries in Lower middle income with a figure for that year" in line
    assert "The World Bank gives Kosovo no income group." in country.comparison("XKX")
