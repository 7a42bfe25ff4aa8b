"""Bad input to the public helpers and the explorers: a clear error naming what to give, or a sentence saying
what is there, never a silently wrong result (a red-team pass of about 1,200 calls, stop 39).

Each case below was found answering wrongly: an SMD drawn as an odds ratio, US dollars labelled as percent,
"no" read as True, a typo'd construct giving an empty pool, a sentence about India's emigrants built from
Pakistan's table, "0 studys", "&amp;" spelled out in the explorers, a zero-person corridor counted as a
destination.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from leftbehind import country, data, errors, literature, meta, narrative, plots, world
from leftbehind.errors import DataError, MetaAnalysisError, ParameterError

_FIT = meta.pool([0.1, 0.3, 0.5], [0.01, 0.02, 0.03], labels=["a", "b", "c"], measure="SMD")


# --- a result shown on another measure or unit ---------------------------------------------------------------
def test_a_fit_is_never_shown_on_another_measure():
    with pytest.raises(MetaAnalysisError, match='measure "OR" is not the fit\'s: it was pooled as SMD'):
        narrative.pooled_sentence(_FIT, "OR", "depression")
    with pytest.raises(ParameterError, match='measure "nope"'):
        narrative.pooled_sentence(_FIT, "nope", "depression")
    with pytest.raises(MetaAnalysisError, match="pooled as SMD"):
        plots.forest_plot(_FIT, measure="OR")
    with pytest.raises(MetaAnalysisError, match="not the studies this fit pooled"):
        plots.forest_plot(_FIT, yi=[1.0, 2.0, 3.0], vi=[0.1, 0.1, 0.1])
    fig = plots.forest_plot(_FIT, measure="SMD")  # its own measure, said again: fine
    plt.close(fig)
    one = meta.pool([0.2], [0.01], method="FE")
    assert narrative.pooled_sentence(one, "SMD", "depression").startswith("One study (FE")


def test_rank_among_converts_or_refuses_and_checks_its_peers():
    with pytest.raises(ParameterError, match='cannot convert "USD" to "percent"'):
        country.rank_among("IND", ["IND", "PAK"], "remittances_received_usd", "percent")
    for peers, match in [
        (["IND", "XXX"], 'peers "XXX"'),
        (["IND", "pak"], 'Did you mean "PAK"'),
        (["IND", "WLD"], 'aggregate "World"'),
        ("PAK", "peers must be a list"),
        ([], "peers is empty"),
        (None, "peers must be a list"),
    ]:
        with pytest.raises(ParameterError, match=match):
            country.rank_among("IND", peers, "remittances_received_usd", "USD billion")


def test_a_unit_that_is_not_the_frames_is_refused_not_relabelled():
    top = data.ranking("migrant_stock", 2020).head(2)
    assert set(top["unit"]) == {"million persons"}
    with pytest.raises(
        ParameterError, match=r'unit "persons" is not the unit of the frame\'s values \("million persons"\)'
    ):
        world.ranking_markdown(top, "persons")
    with pytest.raises(ParameterError, match='unit "percent"'):
        plots.ranking_bars(top, "t", "percent", "Source: test")
    series = data.figures("migrant_stock", "WLD").assign(label="World")
    with pytest.raises(ParameterError, match="unit"):
        plots.timeseries(series, "t", "Source: test", unit="percent")
    mixed = series.assign(unit=["persons"] + ["million persons"] * (len(series) - 1))
    with pytest.raises(ParameterError, match="mixes units"):
        plots.timeseries(mixed, "t", "Source: test")
    both = data.figures("migrant_stock", ["WLD", "IND"], edition="all")
    with pytest.raises(ParameterError, match="2 geographies"):
        plots.revisions(both, "t", "Source: test")
    with pytest.raises(ParameterError, match="2 geography values"):
        narrative.edition_sentences(both, "migrants")
    assert "| 50.5 |" in world.ranking_markdown(top, "million persons")  # its own unit: the table as before


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.2, 0.3, 0.1), "the bounds are swapped"),
        ((float("nan"), 0.1, 0.3), "finite number"),
        ((0.2, 0.25, 0.3), "not inside its interval"),
        (("0.2", 0.1, 0.3), "must be a number"),
    ],
)
def test_an_impossible_interval_gets_no_verdict(args, match):
    with pytest.raises(MetaAnalysisError, match=match):
        literature.compare_with_reviews(*args, "depression", "SMD")


def test_an_odds_ratio_below_zero_is_taken_for_a_log():
    with pytest.raises(MetaAnalysisError, match="give the OR, not its log"):
        literature.compare_with_reviews(-0.5, -1.0, 2.0, "depression", "OR")


# --- switches and choices that selected something else ----------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: literature.analysis_set("depression", adjusted_only="no"),
        lambda: literature.effects(outcome="depression", with_numbers="no"),
        lambda: literature.studies(include_reviews="yes"),
        lambda: data.countries(with_figures="no"),
        lambda: country.sources("IND", studies=None),
        lambda: literature.reselect(literature.selection("depression"), adjusted_only="x"),
    ],
)
def test_a_yes_no_switch_takes_only_true_or_false(call):
    with pytest.raises(ParameterError, match="must be True or False"):
        call()


def test_a_construct_that_is_not_the_outcomes_is_refused_not_pooled_empty():
    valid = sorted(set(literature.selection("depression").keyed["construct"]))
    for call in (
        lambda: literature.analysis_set("depression", construct="nope"),
        lambda: literature.selection("depression", construct=""),
        lambda: literature.excluded_rows("depression", construct="nope"),
        lambda: literature.review_estimates("depression", "nope"),
    ):
        with pytest.raises(ParameterError, match=f"Valid: .*{valid[0]}"):
            call()
    with pytest.raises(ParameterError, match='scale "None"'):
        literature.analysis_set("depression", None)


def test_a_sentence_is_only_built_from_its_own_countrys_table():
    with pytest.raises(ParameterError, match="emigrants from PAK, not from IND"):
        country.destinations_sentence("IND", country.destinations("PAK"))
    with pytest.raises(ParameterError, match="no 'destination' column"):
        country.destinations_sentence("IND", country.origins("IND"))
    with pytest.raises(ParameterError, match="2 geography values"):
        narrative.latest_sentence(data.figures("migrant_stock", ["WLD", "IND"]), "World", "migrants")
    assert "people from India" in country.destinations_sentence("IND", country.destinations("IND", n=3))


def test_corridors_refuse_what_selects_nothing_or_everything():
    with pytest.raises(ParameterError, match='origin and destination are both "IND"'):
        data.corridors("IND", "IND")
    with pytest.raises(ParameterError, match="got None"):
        data.top_destinations(None)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="an origin only"):
        data.corridors(destination=data.OTHER_ORIGIN)
    with pytest.raises(DataError, match="no corridor from XKX"):
        data.top_destinations("XKX")
    assert country.destinations("XKX").empty  # the profile says it in a sentence


def test_years_that_cannot_both_hold_are_refused():
    with pytest.raises(ParameterError, match="give year or years, not both"):
        data.figures("migrant_stock", "IND", year=2020, years=(2000, 2010))
    with pytest.raises(ParameterError, match="from_year 2020 is after to_year 2000"):
        literature.studies(from_year=2020, to_year=2000)
    with pytest.raises(ParameterError, match="not by year"):
        world.glance("studies", 2030)
    assert world.glance("studies").year == world.glance("studies", 0).year == 0
    with pytest.raises(ParameterError, match='edition "all": countries are compared within one edition'):
        data.ranking("migrant_stock", 2020, edition="all")
    with pytest.raises(ParameterError, match='edition and other are both "undesa_ims_2020"'):
        data.edition_differences("migrant_stock", "undesa_ims_2020", "undesa_ims_2020")


def test_one_value_given_as_a_list_is_said_so():
    with pytest.raises(ParameterError, match=r"indicator must be one value, got a list \(\['migrant_stock'\]\)"):
        data.figures(["migrant_stock"])  # type: ignore[arg-type]


def test_one_id_given_as_a_string_is_one_id_not_its_letters():
    with pytest.raises(ParameterError, match='study_id "nope"'):
        literature.bibtex(["nope"])
    with pytest.raises(ParameterError, match='study_id "abc"'):
        literature.bibliography_markdown("abc")
    assert literature.bibtex("wickramage2015").startswith("@article{wickramage2015,")
    assert plots.source_line("IOM, a page") == "Source: IOM, a page"


def test_country_helpers_refuse_aggregates_and_name_their_parameter():
    for name in ("comparison", "destination", "headline", "as_of", "immigrants", "evidence", "findings_note"):
        with pytest.raises(ParameterError, match='iso3 "WLD" is not an ISO3 country code'):
            getattr(country, name)("WLD")
    with pytest.raises(ParameterError, match='code "WLD" is not an ISO3 country code. It is the aggregate'):
        data.classification("WLD")


def test_an_income_groups_code_is_pointed_to_its_name():
    with pytest.raises(ParameterError, match='"HIC" is the code of the aggregate .*give income_group="High income"'):
        data.countries(income_group="HIC")


# --- numbers the meta-analysis functions took on trust ------------------------------------------------------
def test_meta_inputs_that_would_be_misread_are_refused():
    with pytest.raises(MetaAnalysisError, match="too nearly equal"):
        meta.egger_test([0.1, 0.3, 0.2], [0.01, 0.01, 0.0100000001])
    with pytest.raises(MetaAnalysisError, match="not both"):
        meta.egger_test(_FIT, [0.1, 0.2, 0.3])
    with pytest.raises(MetaAnalysisError, match="not both"):
        meta.leave_one_out(_FIT, [0.1, 0.2, 0.3])
    table = pd.DataFrame({"year": [2001, 1999, 2005], "yi": [0.5, 0.0, 1.0], "vi": [0.1, 0.1, 0.1]})
    with pytest.raises(MetaAnalysisError, match="order is for a fit"):
        meta.cumulative(table, order=[3, 2, 1])
    with pytest.raises(MetaAnalysisError, match="different indexes"):
        meta.pool(pd.Series([0.1, 0.3], index=[5, 7]), pd.Series([0.01, 0.02], index=[7, 5]))
    with pytest.raises(MetaAnalysisError, match="True/False or text"):
        meta.pool([True, False, True], [0.1, 0.1, 0.1])
    with pytest.raises(MetaAnalysisError, match="True/False or text"):
        meta.pool(["0.1", "0.3"], [0.1, 0.1])
    aligned = meta.pool(pd.Series([0.1, 0.3], index=[5, 7]), pd.Series([0.01, 0.02], index=[5, 7]))
    assert aligned.estimate == meta.pool([0.1, 0.3], [0.01, 0.02]).estimate  # the same index: paired by label


def test_a_p_value_is_a_number_between_0_and_1():
    assert meta.format_p(0.0312) == "p = 0.031"
    assert meta.format_p(float("nan")) == "p = n/a"
    for bad in (-0.1, 1.5, "0.03"):
        with pytest.raises(MetaAnalysisError):
            meta.format_p(bad)  # type: ignore[arg-type]


# --- words -----------------------------------------------------------------------------------------------
def test_counts_take_the_plural_english_takes():
    assert narrative.counted(0, "study") == "0 studies"
    assert narrative.counted(2, "box") == "2 boxes"
    assert narrative.counted(3, "day") == "3 days"
    assert narrative.counted(1, "study") == "1 study"
    assert narrative.counted(2, "child", "children") == "2 children"
    for bad in (2.5, "3", None, -1, True):
        with pytest.raises(ParameterError, match="whole number of at least 0"):
            narrative.counted(bad, "study")  # type: ignore[arg-type]


def test_a_missing_value_is_never_written_as_nan():
    with pytest.raises(ParameterError, match="not a finite number"):
        narrative.fmt_value(float("nan"), "persons")
    with pytest.raises(ParameterError, match="must be a number"):
        narrative.fmt_value(None, "persons")  # type: ignore[arg-type]


def test_the_year_filter_sentence_without_a_range_reads_as_one():
    text = literature.year_filter_sentence()
    assert "no year range is chosen" in text and "any year" not in text and "today" not in text
    assert "published before 2020" in literature.year_filter_sentence(from_year=2020)
    assert "published outside 2000–2010" in literature.year_filter_sentence(from_year=2000, to_year=2010)


def test_an_institutional_author_is_cited_by_its_name():
    row = data.load("studies").set_index("study_id").loc["ippmd_armenia2017"]
    assert str(row["authors"]).startswith("OECD; ")
    assert literature.cite("ippmd_armenia2017") == "OECD et al. 2017"


def test_check_frame_names_the_missing_column_and_what_to_give():
    with pytest.raises(ParameterError, match=r"f: the frame has no 'b', 'c' columns \(give g\)"):
        errors.check_frame("f", pd.DataFrame({"a": [1]}), ["a", "b", "c"], "g")
    with pytest.raises(ParameterError, match="expected a table"):
        errors.check_frame("f", None, ["a"], "g")
    assert errors.check_flag("x", np.bool_(True)) is True


def test_a_subgroup_of_one_study_says_why_in_words():
    frame = pd.DataFrame({"g": ["a", "a", "b"], "yi": [0.1, 0.3, 0.5], "vi": [0.01, 0.02, 0.03]})
    table = meta.subgroups(frame, "g", method="REML", ci="hksj")
    note = table.loc[table["g"] == "b", "note"].item()
    assert note.startswith("one study: a fixed-effect estimate with a normal interval")
    assert "tau2" not in note and "not estimable" not in note
    assert table.loc[table["g"] == "b", "estimate"].item() == pytest.approx(0.5)  # its own yi


def test_a_pooled_sentence_writes_a_minus_sign_and_no_negative_zero():
    # fixed effect, equal variances: the estimate is the mean, (-0.004 + 0.002) / 2 = -0.001, shown as 0.00
    near_zero = narrative.pooled_sentence(meta.pool([-0.004, 0.002], [0.01, 0.01], method="FE"), "SMD", "depression")
    assert "SMD 0.00 (95% CI −" in near_zero and "-0.00" not in near_zero
    # the mean of -0.3 and -0.1 is -0.2
    below = narrative.pooled_sentence(meta.pool([-0.3, -0.1], [0.01, 0.01], method="FE"), "SMD", "depression")
    assert "SMD −0.20 (95% CI −" in below and "-" not in below.split("SMD", 1)[1].split(";")[0]


def test_more_arguments_that_meant_nothing_are_refused():
    """A second batch of the red-team pass: each was accepted and read as something else."""
    rows = literature.analysis_set("depression")
    fit = meta.pool(rows["yi"], rows["vi"], measure="SMD")
    with pytest.raises(MetaAnalysisError, match="the rows pooled are of depression, not of anxiety"):
        literature.trust_panel(fit, rows, "anxiety")  # depression's pool beside anxiety's reviews
    with pytest.raises(MetaAnalysisError, match='method "nope"'):
        literature.measure_note(literature.selection("depression"), method="nope")
    # a negative chi-square or a p above 1 read as "not reproduced", i.e. as evidence against the counts
    with pytest.raises(ParameterError, match="a chi-square is not negative"):
        literature.rebuild_counts("29.1", 643, "16.7", 812, chi2="-1")
    with pytest.raises(ParameterError, match="a p value is between 0 and 1"):
        literature.rebuild_counts("29.1", 643, "16.7", 812, p_value="2")
    assert literature.rebuild_counts("29.1", 643, "16.7", 812, p_value="<0.001").check == "p reproduced"
    with pytest.raises(ParameterError, match='edition "wb_mdb_38" is not an edition of migrant_stock'):
        data.comparison_edition("migrant_stock", 2020, edition="wb_mdb_38")
    with pytest.raises(ParameterError, match="min_studies must be a whole number of at least 2"):
        country.pooled_by_outcome("CHN", min_studies=0)
    with pytest.raises(ParameterError, match="max_rows must be a whole number of at least 1"):
        plots.table(pd.DataFrame({"a": [1.0]}), max_rows=-1)
    for counts in (pd.Series([1, -2]), pd.Series([1.0, float("nan")]), pd.Series([1.5])):
        with pytest.raises(ParameterError, match="counts must be whole numbers of at least 0"):
            plots.count_bars(counts, "t", "Source: test", "year")
