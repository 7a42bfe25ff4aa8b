"""Country profiles: narrative numbers equal the data package's figures; missing data is stated, not an error."""

from __future__ import annotations

import csv
import re

from conftest import DATA
from leftbehind import country, data, literature
from leftbehind.country.sentences import fmt_value


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _figures() -> list[dict[str, str]]:
    """Every figure, read with the csv module: the hand-verified rows, and the derived rows with their source's
    edition (a derived row replaces the hand row of its indicator, geography, year, sex and edition)."""
    edition_of = {r["source_id"]: r["edition_id"] for r in _csv("derived/sources.csv")}
    derived = [dict(r, edition_id=edition_of[r["source_id"]]) for r in _csv("derived/figures.csv")]
    key = lambda r: (r["indicator"], r["geography"], r["year"], r["sex"], r["edition_id"])  # noqa: E731
    shadowed = {key(r) for r in derived}
    return [r for r in _csv("figures.csv") if key(r) not in shadowed] + derived


def _released() -> dict[str, str]:
    return {r["edition_id"]: r["released"] for r in _csv("editions.csv") + _csv("derived/editions.csv")}


def _newest(rows, indicator, geo):
    """The newest year's value of the edition released last for that year, computed without leftbehind."""
    rel = _released()
    rows = [r for r in rows if r["indicator"] == indicator and r["geography"] == geo and r["sex"] == "total"]
    year = max(int(r["year"]) for r in rows)
    row = max((r for r in rows if int(r["year"]) == year), key=lambda r: (rel[r["edition_id"]], r["edition_id"]))
    return year, float(row["value"])


def test_narrative_numbers_match_the_figures():
    """The headline is the newest value the package holds, whatever edition gives it (Tajikistan: 2024)."""
    rows = _figures()
    for iso in ("NPL", "PHL", "TJK"):
        text = country.narrative(iso)
        year, persons = _newest(rows, "emigrant_stock", iso)
        shown = fmt_value(persons / 1e6, "million persons")
        assert f"UN DESA counts {shown} people from {data.country_name(iso)} living abroad in {year}" in text
        year, pct = _newest(rows, "remittances_received_pct_gdp", iso)
        assert f"{fmt_value(pct, 'percent')} of GDP in {year}" in text, text
        year, usd = _newest(rows, "remittances_received_usd", iso)
        assert f"received {fmt_value(usd / 1e9, 'USD billion')} in {year}" in text, text
    assert "of GDP in 2024" in country.narrative("TJK")  # the newest year any edition gives


def test_profiles_say_what_is_missing():
    egypt = country.narrative("EGY")
    assert "The evidence base holds no study of children left behind in Egypt." in egypt
    kosovo = country.narrative("XKX")  # UN DESA counts Kosovo's people in Serbia's
    assert "No UN DESA estimate of emigrants from Kosovo in the data package." in kosovo
    taiwan = country.narrative("TWN")  # the World Bank publishes no series for Taiwan
    assert "No series of remittances received by Taiwan in the data package." in taiwan
    assert "too thin to pool" in country.narrative("TON")


def test_an_evidence_section_is_never_an_empty_heading():
    """Tajikistan's profile had four studies and, under "Evidence on children left behind", nothing at all: none
    of the studies has an effect row, so there was no chart, and no sentence said why. Every country with a
    study now gets either the chart (a direction table) or the sentence, never both."""
    with_studies = literature.studies_per_country().index
    charted = silent = 0
    for iso3 in with_studies:
        _, table = country.evidence(iso3)
        note = country.findings_note(iso3)
        assert bool(len(table)) != bool(note), iso3
        charted += bool(len(table))
        silent += bool(note)
    eff = data.load("effects")
    st = literature.studies(country="TJK")
    assert len(st) == 4 and not eff["study_id"].isin(st["study_id"]).any()  # worked out from the CSVs
    assert country.findings_note("TJK").startswith("The 4 studies from Tajikistan in the evidence base have no")
    assert country.findings_note("EGY") == ""  # no study: the section says so itself
    assert charted > silent > 0


def test_print_note_agrees_with_one_study():
    """The printed brief said "The 1 study from Jamaica are listed in the web version"."""
    assert len(literature.studies(country="JAM")) == 1
    note = country.studies_in_print_note("JAM")
    assert ">The study from Jamaica is listed in the web version of this report.<" in note
    assert "The 4 studies from Tajikistan are listed" in country.studies_in_print_note("TJK")


def test_the_evidence_line_names_outcomes_as_the_vocabulary_does():
    """Ghana's profile read "on education, emotional behavioural difficulties, physical health": the outcome's id
    with spaces, where outcomes.csv names it "Emotional and behavioural difficulties"."""
    with open(DATA / "literature" / "outcomes.csv", encoding="utf-8", newline="") as fh:
        name = {r["outcome"]: r["name"] for r in csv.DictReader(fh)}["emotional_behavioural_difficulties"]
    line = next(li for li in country.narrative("GHA").splitlines() if "Children left behind" in li)
    assert f"{name[0].lower()}{name[1:]}, physical health;" in line and "emotional behavioural" not in line


def test_pooled_lines_name_the_outcome_and_say_which_odds_ratios_were_converted():
    """China's profile read "Pooled evidence, emotional behavioural difficulties. 2 studies, SMD 0.32 (95% CI -0.12
    to 0.76 …)", and called every pool an SMD although most of its studies print shares above a cut-off, not
    scores: odds ratios converted to SMDs, which the line now counts."""
    lines = [li for li in country.narrative("CHN").splitlines() if li.startswith("- **Pooled evidence, ")]
    pooled = literature.analysis_set("depression", "SMD")
    pooled = set(pooled.loc[pooled["country"] == "CHN", "study_id"])
    scored = {  # studies that print a depression score's means and SDs for both groups: pooled as SMDs as read
        r["study_id"]
        for r in _csv("literature/effects.csv")
        if r["outcome"] == "depression" and all(r[c] for c in ("mean_lb", "sd_lb", "mean_comp", "sd_comp"))
    }
    converted = len(pooled - scored)
    assert converted >= 1 and pooled & scored  # today: guo2015 and sichuan_lbc2018 converted, wang2011 scored
    depression = next(li for li in lines if li.startswith("- **Pooled evidence, depression.**"))
    assert f"{len(pooled)} studies, SMD " in depression
    assert f"; {converted} odds ratio{'s' if converted > 1 else ''} converted to SMD, positive = worse" in depression
    emotional = next(li for li in lines if "difficulties" in li)
    assert emotional.startswith("- **Pooled evidence, emotional and behavioural difficulties.**")
    assert not [li for li in lines if re.search(r"-\d", li)]  # a minus sign, as the table under them prints it


def test_each_emigrant_figure_cites_its_edition_right_after_it():
    """The line ended "(computed here from International Migrant Stock 2020 (2020 revision)) (International
    Migrant Stock 2024 (2024 revision))": two editions side by side, the second for figures a clause earlier."""
    rows = {r["edition_id"]: r["edition"] for r in _csv("derived/editions.csv") + _csv("editions.csv")}
    line = next(li for li in country.narrative("NPL").splitlines() if "**Emigrants.**" in li)
    assert f"in 1990 (same revision: {rows['undesa_ims_2024']}); in 2020 its emigrants were" in line
    assert ")) (" not in line


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
    """The parts of the profile run for every country of data.countries() (the whole notebook runs for each in
    `make reports`), and each profile says something about its World Bank region and income group."""
    for iso in data.countries():
        assert country.destination(iso).startswith("- **As a destination.** "), iso
        lines = country.comparison(iso).splitlines()
        assert len(lines) == 2 and lines[0].startswith("- **Against its World Bank region"), iso
        assert lines[1].startswith("- **Against its income group"), iso


def test_country_without_series_or_studies_says_what_is_missing():
    kosovo = country.narrative("XKX") + "\n" + country.destination("XKX")
    assert "No UN DESA estimate of emigrants from Kosovo in the data package." in kosovo
    assert "The evidence base holds no study of children left behind in Kosovo." in kosovo
    assert "No UN DESA estimate of international migrants living in Kosovo" in kosovo
    # what the package does hold for it is shown: the newest value of any edition (WDI, release 2025-07-01)
    year, usd = _newest(_figures(), "remittances_received_usd", "XKX")
    assert f"Kosovo received {fmt_value(usd / 1e9, 'USD billion')} in {year}" in kosovo
    assert country.briefs_remittances("NPL") == ""  # WDI has both measures: nothing to add


def test_destination_shows_immigrants_and_remittances_paid(data_copy):
    text = country.destination("TWN")
    imm = country.immigrants("TWN").iloc[-1]
    assert (
        f"UN DESA counts {fmt_value(imm['value'], 'million persons')} international migrants living in Taiwan in {imm['year']}"
        in text
    )
    assert "no series of remittances paid by Taiwan is in the data package" in text
    figures = data_copy / "figures.csv"
    with figures.open("a", encoding="utf-8") as fh:  # a WDI figure of remittances paid
        fh.write(
            "remittances_paid_usd,TWN,2022,total,1234000000,USD,,wdi_bx_trf_pwkr_cd_dt_20250701,wdi_2025_07_01,,a quote\n"
        )
    text = country.destination("TWN")
    assert "Taiwan paid USD 1.23 billion in remittances in 2022" in text and "no series" not in text


def test_region_comparison_ranks_one_year_and_one_edition_of_the_world_bank_region():
    from leftbehind.country.context import COMPARED, rank_among

    classes = [r for r in _csv("derived/classification.csv") if r["fiscal_year"] == "FY26"]
    south_asia = sorted(r["code"] for r in classes if r["region"] == "South Asia")
    indicator, unit, _ = COMPARED[0]
    r = rank_among("NPL", south_asia, indicator, unit)
    assert r is not None and r.year == data.broad_year(indicator)
    # computed from the CSVs: the peers' values in that year from the one edition that covers most countries
    edition = data.comparison_edition(indicator, r.year)
    values = {
        f["geography"]: float(f["value"])
        for f in _figures()
        if f["indicator"] == indicator
        and f["year"] == str(r.year)
        and f["edition_id"] == edition
        and f["sex"] == "total"
        and f["geography"] in south_asia
    }
    assert r.n == len(values) >= 3 and r.rank == 1 + sum(v > values["NPL"] for v in values.values())
    line = country.comparison("NPL").splitlines()[0]
    assert line.startswith("- **Against its World Bank region (South Asia).** Remittances received as a share of GDP: ")
    assert f"of the {r.n} countries of South Asia with a value that year" in line
    assert rank_among("TWN", ["TWN", "KOR"], indicator, unit) is None  # no WDI series for Taiwan


def test_income_group_comparison_from_the_classification():
    classes = {r["code"]: r for r in _csv("derived/classification.csv") if r["fiscal_year"] == "FY26"}
    assert classes["NPL"]["income_group"] == "Lower middle income"
    line = country.comparison("NPL").splitlines()[1]
    assert line.startswith("- **Against its income group (Lower middle income).** Remittances received as a share")
    assert classes["ETH"]["income_group"] == ""  # unclassified in FY26
    assert "The World Bank gives Ethiopia no income group." in country.comparison("ETH")


def test_a_sentence_ending_with_a_name_that_ends_with_a_full_stop_has_one():
    """Micronesia's profile read "… children left behind in Micronesia, Fed. Sts..": the World Bank's name ends
    with a full stop, and the sentence added another."""
    name = data.country_name("FSM")
    assert name.endswith(".")
    text = country.narrative("FSM")
    assert f"left behind in {name}" in text and ".." not in text
    notebook = (DATA.parent / "notebooks" / "05_country_profile.ipynb").read_text("utf-8")
    assert '{shown}.\\"' not in notebook  # every sentence that ends with the name goes through end_sentence


def test_a_profile_lists_no_source_for_a_chart_it_does_not_draw():
    """Anguilla has no series of remittances as a share of GDP, so its profile draws no chart of it beside the
    low- and middle-income countries' line; its sources listed that line's source all the same."""
    assert data.remittances(["AIA"], "pct_gdp").empty
    from leftbehind.country.context import figures_used

    assert "remittances_received_pct_gdp" not in set(figures_used("AIA")["indicator"])
    lmy = data.source_labels(data.remittances(["LMY"], "pct_gdp"))[0]
    assert lmy.startswith("Computed here from World Bank data")
    listed = country.sources("AIA", studies=False)
    assert "Personal remittances received (% of GDP), computed here" not in listed
    assert "Personal remittances received (% of GDP), computed here" in country.sources("NPL", studies=False)
