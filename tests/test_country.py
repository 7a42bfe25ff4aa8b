"""Country profiles: narrative numbers equal the data package's figures; missing data is stated, not an error."""

from __future__ import annotations

import csv
import re

from conftest import DATA
from leftbehind import country, data


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
