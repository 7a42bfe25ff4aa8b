"""Issue 28: one measure where it can (the combined pool labelled, never silent), complete records only in pooled
analyses, secondary rows flagged and shown without, and bad effect rows named by file, row and field."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from conftest import replace_cell
from leftbehind import data, literature, meta
from leftbehind.errors import DataError

OUTCOMES = sorted(set(literature.effects()["outcome"]))


def test_record_gaps_by_hand():
    frame = pd.DataFrame(
        {
            "study_id": ["full", "none", "placeholder"],
            "authors": ["Wang Y, Li H", None, "Tang W"],
            "year": [2011, None, 2018],
            "title": ["A title", None, "[title not read] a description"],
            "journal": ["A journal", None, ""],
        }
    )
    gaps = literature.record_gaps(frame)
    assert gaps.to_dict() == {"full": "", "none": "authors, year, title, journal", "placeholder": "title, journal"}


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("scale", literature.SCALES)
def test_incomplete_records_leave_every_pool_with_the_reason(outcome, scale):
    gaps = literature.record_gaps()
    chosen = literature.selection(outcome, scale)
    for frame in (chosen.pooled, chosen.other, chosen.combined):
        assert (frame["study_id"].map(gaps) == "").all(), outcome
    excluded = chosen.excluded.assign(gaps=chosen.excluded["study_id"].map(gaps))
    incomplete = excluded[excluded["gaps"] != ""]
    for r in incomplete.itertuples():
        # the first reason that applies is given: a row that would otherwise be pooled names the gaps
        if r.reason.startswith("the study's record is incomplete"):
            assert f"({r.gaps} not read in a source)" in r.reason


def test_no_placeholder_in_any_label_or_bibliography():
    every = literature.studies(include_reviews=True)["study_id"]
    text = literature.bibliography_markdown(every)
    for placeholder in ("not verified", "[title not", "[authors", "(n.d.)"):
        assert placeholder not in text, placeholder
    # an incomplete record names what is missing instead
    gaps = literature.record_gaps()
    some = gaps[gaps != ""].index[0]
    assert f"Record incomplete: {gaps[some]} not read in a source" in literature.cite(some, "full")
    for outcome in OUTCOMES:
        for scale in literature.SCALES:
            labels = literature.analysis_set(outcome, scale)["label"].astype(str)
            assert not labels.str.contains(r"\[|n\.d\.|not verified", regex=True).any(), (outcome, scale)


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("scale", literature.SCALES)
def test_one_measure_where_it_can_and_the_combined_pool_says_so(outcome, scale):
    chosen = literature.selection(outcome, scale)
    if chosen.pooled.empty:
        return
    native = {"SMD": "SMD", "OR": "logOR"}[scale]
    read = chosen.pooled["es_measure_read"]
    if chosen.measure == scale:
        assert len(chosen.pooled) >= literature.MIN_NATIVE and (read == native).all()
        others = chosen.excluded[chosen.excluded["reason"].str.contains("pooled on its own scale")]
        assert set(others["effect_id"]) <= set(chosen.keyed.loc[chosen.keyed["es_measure"] != native, "effect_id"])
    else:
        assert chosen.measure == literature.COMBINED
        assert (chosen.combined["es_measure_read"] == native).sum() < literature.MIN_NATIVE
        assert chosen.pooled.equals(chosen.combined)
    # the other measure's own pool is on its own scale: no converted value in it
    other_native = {"SMD": "logOR", "OR": "SMD"}[scale]
    if len(chosen.other):
        assert (chosen.other["es_measure_read"] == other_native).all()


def test_native_log_odds_ratios_are_pooled_exactly_as_computed():
    # on its own scale an OR keeps its value: ln OR, oriented (no round trip through the SMD scale)
    chosen = literature.selection("suicidal_ideation", "OR")
    keyed = chosen.keyed.set_index("effect_id")
    for r in chosen.pooled.itertuples():
        if r.es_measure_read == "logOR":
            sign = 1.0 if keyed.loc[r.effect_id, "higher_is_worse"] == "yes" else -1.0
            assert r.yi == sign * keyed.loc[r.effect_id, "yi"]


@pytest.mark.parametrize("outcome", ["depression", "anxiety", "suicidal_ideation"])
def test_sensitivity_table_has_every_analysis_and_the_combined_pool_is_labelled(outcome):
    chosen = literature.selection(outcome, "OR")
    t = literature.sensitivity_table(outcome, "OR", main=chosen).set_index("analysis")
    assert list(t.index) == list(literature.SENSITIVITY)
    combined = next(name for name in t.index if "combined" in name)
    assert "ln OR × √3/π" in combined and t.loc[combined, "k"] == len(chosen.combined)
    assert t.loc["without secondary sources", "k"] == len(
        literature.analysis_set(outcome, "OR", exclude_secondary=True)
    )


def test_a_percentage_above_100_is_named(data_copy):
    rows = literature.effects()
    i = int(rows.index[rows["effect_id"] == "ningxia_scared_anx"][0]) + 1
    replace_cell(data_copy / "literature" / "effects.csv", i, "pct_lb", "129.1")
    with pytest.raises(DataError, match=rf'effects.csv, row {i}, field "pct_lb": "129.1" is above 100'):
        data.validate_package()


def test_a_percentage_without_its_group_size_is_named(data_copy):
    rows = literature.effects()
    i = int(rows.index[rows["effect_id"] == "albuja2009_cdi"][0]) + 1
    replace_cell(data_copy / "literature" / "effects.csv", i, "total_comp", "")
    replace_cell(data_copy / "literature" / "effects.csv", i, "pct_comp", "12.5")
    with pytest.raises(DataError, match=rf'effects.csv, row {i}, field "total_comp": empty, but pct_comp is "12.5"'):
        data.validate_package()


def test_a_review_named_on_a_primary_row_is_refused(data_copy):
    rows = literature.effects()
    i = int(rows.index[rows["effect_id"] == "wang2011_cdi"][0]) + 1
    path = data_copy / "literature" / "effects.csv"
    replace_cell(path, i, "read_in_review", "fellmeth2018")
    with pytest.raises(DataError, match=rf'row {i}, field "read_in": "primary", but read_in_review names'):
        data.validate_package()
    replace_cell(path, i, "read_in", "secondary")
    replace_cell(path, i, "read_in_review", "wang2011")
    with pytest.raises(DataError, match=rf'row {i}, field "read_in_review": "wang2011" is a study of design'):
        data.validate_package()


def test_trust_panel_reports_secondary_rows_and_rounding_ends():
    rows = pd.DataFrame(
        {
            "adjusted": ["no"] * 3,
            "abstract_only": [True] * 3,
            "total_lb": [100, 200, 300],
            "total_comp": [100, 200, 300],
            "secondary_source": [True, False, False],
            "yi": [0.2, 0.3, 0.4],
            "vi": [0.04, 0.02, 0.01],
        }
    )
    fit = meta.pool(rows["yi"], rows["vi"], measure="SMD")
    reading = literature.trust_panel(fit, rows, "depression").splitlines()[2]
    without = meta.pool([0.3, 0.4], [0.02, 0.01], measure="SMD").to_frame().iloc[0]
    assert "1 of 3 (33%) were read in a secondary source" in reading
    assert f"without them 2 studies give {without['estimate']:.2f}" in reading
    assert len(literature.trust_panel(fit, rows, "depression").splitlines()) == 6


def test_rounded_to_range_end_moves_only_rebuilt_rows_and_orients_them():
    rows = pd.DataFrame(
        {
            "es_source": ["percentages", "means"],
            "yi": [-0.29, 0.5],
            "vi": [0.016, 0.01],
            "yi_low": [0.2801, math.nan],
            "yi_high": [0.3005, math.nan],
            "events_lb_range": ["241-243", None],
            "events_comp_range": ["91-92", None],
            "total_lb": [3359, 50],
            "total_comp": [1667, 50],
            "higher_is_worse": ["no", "yes"],
        }
    )
    low = literature.rounded_to_range_end(rows, "OR", "low")
    # higher is better here: the smallest oriented effect is -0.3005, from the highest raw log OR (243 vs 91);
    # its variance 1/243 + 1/3116 + 1/91 + 1/1576 = 0.004115 + 0.000321 + 0.010989 + 0.000635 = 0.016060
    assert low["yi"].tolist() == [-0.3005, 0.5]
    assert low["vi"].iloc[0] == pytest.approx(0.016060, abs=1e-6)
    assert re.fullmatch(r"\d+-\d+", rows["events_lb_range"].iloc[0])
