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
        assert (read == native).all()
        # one measure: enough studies report it, or no study reports the other measure
        assert len(chosen.pooled) >= literature.MIN_NATIVE or (chosen.combined["es_measure_read"] == native).all()
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


def test_fellmeth_2018_holds_all_nine_pooled_estimates_of_its_abstract():
    """Issue 28 item 5: the abstract's Findings sentence prints nine pooled estimates; each row's numbers are
    in its quote (with the paper's middle dots), on the outcome the sentence names."""
    rows = literature.reviews()
    fel = rows[rows["review_id"] == "fellmeth2018"]
    got = {(r.outcome, r.measure, r.estimate, r.ci_low, r.ci_high) for r in fel.itertuples()}
    assert got == {
        ("depression", "RR", 1.52, 1.27, 1.82),
        ("depression", "SMD", 0.16, 0.10, 0.21),
        ("anxiety", "RR", 1.85, 1.36, 2.53),
        ("anxiety", "SMD", 0.18, 0.11, 0.26),
        ("suicidal_ideation", "RR", 1.70, 1.28, 2.26),
        ("conduct_problems", "SMD", 0.16, 0.04, 0.28),
        ("substance_use", "RR", 1.24, 1.00, 1.52),
        ("wasting", "RR", 1.13, 1.02, 1.24),
        ("stunting", "RR", 1.12, 1.00, 1.26),
    }
    for r in fel.itertuples():
        quote = r.quote.replace("·", ".").replace("–", "-")
        lo_hi = f"{r.ci_low:.2f}-{r.ci_high:.2f}"
        assert f"{r.estimate:.2f} [" in quote and lo_hi in quote, (r.outcome, r.measure, r.quote)
    new = fel[fel["outcome"].isin(["conduct_problems", "substance_use"])]
    assert len(new) == 2 and new["read_at"].str.startswith("https://research-information.bris.ac.uk/").all()
    assert new["location"].str.contains("checked in the full record by the maintainers").all()


def test_review_constructs_follow_the_papers_words():
    """Issue 28 item 5: chen2020's physical-health estimate is child safety (victimisation and accidental
    injuries), not dental caries ("accidental" once matched the pattern "dental"); reviews that pool nothing are
    never set beside a pool; an unintentional-injury meta-analysis is an injury construct."""
    keyed = literature.review_estimates("physical_health").set_index("review_id")["construct"]
    assert keyed["chen2020"] == "child_safety" and keyed["liu2023b"] == "dental_caries"
    assert set(keyed[["racaite2021", "dominguez2022"]]) == {"no_pooled_estimate"}
    assert set(keyed[["injury_mainland_meta"]]) == {"injury"}
    ebd = literature.review_estimates("emotional_behavioural_difficulties").set_index("review_id")["construct"]
    assert ebd["antia2020"] == "no_pooled_estimate" and ebd["chen2020"] == "total_difficulties"
    # the effect rows keep their constructs: every caries row is still dental caries, no row became a narrative one
    keyed_rows = literature.selection("physical_health").keyed
    caries = keyed_rows[keyed_rows["outcome_detail"].str.contains("caries", case=False)]
    assert set(caries["construct"]) == {"dental_caries"}
    assert not (keyed_rows["construct"] == "no_pooled_estimate").any()


def _in_quote(value: object, quote: str) -> bool:
    """Whether a number as printed is in the quote (thousands may be printed as 3,359 or 3 359; spaces around
    comparison signs vary: "p < 0.01", "P<0.01")."""
    text = re.sub(r"(?<=\d)[ ,](?=\d{3}\b)", "", quote).replace(" ", "")
    return str(value).replace(" ", "") in text


def test_printed_percentages_and_their_group_sizes_are_in_the_quote():
    """Rule of issue 28: a row whose counts are rebuilt from printed percentages holds numbers read in its source;
    each of them (percentages, group sizes, chi-square, p) is found in the row's verbatim quote."""
    rows = literature.effects()
    rebuilt = rows[rows["pct_lb"].notna() | rows["pct_comp"].notna()]
    assert len(rebuilt) >= 10
    subtracted = 0
    for r in rebuilt.itertuples():
        # a group size the paper does not print may be the difference of two it prints, when the comparison says so
        # ("n=293 = 761 - 468"), both are in the quote, and the difference holds
        differences = {
            int(n): (int(a), int(b))
            for n, a, b in re.findall(r"n=(\d+) = (\d+) - (\d+)", str(r.comparison))
            if int(n) == int(a) - int(b) and _in_quote(a, r.quote) and _in_quote(b, r.quote)
        }
        for field in ("pct_lb", "pct_comp", "total_lb", "total_comp", "chi2", "p_value"):
            value = getattr(r, field)
            if pd.isna(value):
                continue
            if field.startswith("total") and int(value) in differences:
                subtracted += 1
                continue
            assert _in_quote(value, r.quote), (r.effect_id, field, value)
    assert subtracted >= 2  # hou2021's two rows


def test_secondary_rows_name_the_review_they_were_read_in():
    rows = literature.effects()
    secondary = rows[rows["read_in"] == "secondary"]
    read_in_review = secondary[secondary["read_in_review"].notna()]
    assert len(read_in_review) >= 5
    assert set(read_in_review["read_in_review"]) <= set(literature.studies(design="systematic-review")["study_id"])
    assert read_in_review["location"].str.contains("secondary").all()
    # flagged for the sensitivity analyses
    keyed = literature.selection("health_behaviours").keyed.set_index("effect_id")
    assert keyed.loc[list(set(read_in_review["effect_id"]) & set(keyed.index)), "secondary_source"].all()


def test_numbers_verified_says_whether_a_study_has_numbers():
    """A primary study is numbers_verified = yes exactly when one of its effect rows carries numbers (an estimate,
    2x2 counts, means with SDs and ns, or group sizes with printed percentages)."""
    from leftbehind.literature.studies import _has_numbers

    eff = literature.effects()
    with_numbers = set(eff.loc[_has_numbers(eff), "study_id"])
    for s in literature.studies().itertuples():
        assert (s.numbers_verified == "yes") == (s.study_id in with_numbers), s.study_id


def test_one_count_everywhere():
    """Issue 28 item 6: the start page, `literature summary`, the evidence map with its default years and the
    README count the same studies; a year filter says how many undated studies it keeps or leaves out."""
    import nbformat

    from conftest import NOTEBOOKS, REPO

    count = literature.summary()["studies"]
    assert count == len(literature.studies())
    nb = nbformat.read(NOTEBOOKS / "04_evidence_map.ipynb", as_version=4)
    (params,) = [c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    ns: dict[str, object] = {}
    exec(params, ns)
    defaults = {
        k: ns[k] for k in ("outcome_domain", "region", "migration_scope", "from_year", "to_year", "include_undated")
    }
    assert len(literature.select(**defaults)) == count
    undated = int(literature.studies()["year"].isna().sum())
    sentence = literature.year_filter_sentence(**defaults)
    assert f"{undated} studies without a known publication year are shown" in sentence
    assert "no study published outside" in sentence and "0 studies" not in sentence  # the 04 report's default
    left_out = literature.year_filter_sentence(**{**defaults, "include_undated": False})
    assert f"and {undated} studies without a known publication year are left out" in left_out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"\*\*{count}\*\* primary studies", readme), "README: the count of studies is not summary()'s"
    start = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    assert any("counts['studies']" in c.source for c in start.cells if c.cell_type == "code")


def test_citations_end_a_question_with_its_question_mark_and_plain_text_has_no_markdown():
    """Eight bibliographies read "... in South-East Asia?. *Asian and Pacific Migration Journal*": a full stop
    after the title's own question mark; and cite(..., "full"), plain text, wrapped journals in Markdown's *...*."""
    import re

    studies = literature.studies()
    asking = studies[studies["title"].fillna("").str.endswith("?")]["study_id"].tolist()
    assert len(asking) >= 8  # worked out from studies.csv
    md = literature.bibliography_markdown(studies["study_id"])
    assert not re.search(r"[?!.]\*?\.(?!\d)", md)
    graham = literature.cite("graham2013", "full")
    assert "Who Stay Behind in South-East Asia? Asian and Pacific Migration Journal 22(3):315-348. https://" in graham
    assert not [s for s in studies["study_id"] if "*" in literature.cite(s, "full")]
    assert "South-East Asia? *Asian and Pacific Migration Journal 22(3):315-348*." in md
