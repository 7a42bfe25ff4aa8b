"""Issue 15 item 3: only like with like. Each effect row has a comparability key (construct + definition) and an
exposure type; an analysis set pools rows sharing both; every other row is listed with a reason."""

from __future__ import annotations

import re

import pytest

from leftbehind import data, literature
from leftbehind.errors import LeftbehindError
from leftbehind.literature.comparability import with_keys

OUTCOMES = sorted(set(literature.effects()["outcome"]))


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_pool_holds_one_construct_and_one_exposure_and_every_row_is_accounted_for(outcome):
    s = literature.analysis_set(outcome)
    x = literature.excluded_rows(outcome)
    keyed = with_keys(literature.effects(outcome=outcome)).set_index("effect_id")
    if len(s):
        assert keyed.loc[s["effect_id"], "construct"].nunique() == 1
        assert keyed.loc[s["effect_id"], "definition"].nunique() == 1
        assert set(keyed.loc[s["effect_id"], "exposure_type"]) == {"left_behind_vs_not"}
    assert sorted(set(s["effect_id"]) | set(x["effect_id"])) == sorted(keyed.index)
    assert not set(s["effect_id"]) & set(x["effect_id"])
    assert (x["reason"].str.len() > 10).all()


def test_physical_health_pools_no_unlike_constructs():
    pooled = set(literature.analysis_set("physical_health")["effect_id"])
    assert not pooled & {"pingliang_lbc_caries", "qu2020_devdelay", "ketlogetswe2008_mort"}
    x = literature.excluded_rows("physical_health").set_index("effect_id")
    assert x.loc["pingliang_lbc_caries", "reason"].startswith("a different construct (dental caries; this pool: ")


def test_rows_that_do_not_compare_left_behind_with_not_are_excluded_with_reason():
    x = literature.excluded_rows("stunting").set_index("effect_id")
    assert "compares remittance receipt" in x.loc["bhattarai2016_stunt_top", "reason"]
    assert "compares within left behind" in x.loc["ban2017_stunt_father", "reason"]
    s = literature.analysis_set("stunting", exposure="remittance_receipt", construct="stunting")
    assert "bhattarai2016_stunt_top" in set(s["effect_id"])


def test_sensitivity_options():
    adjusted = literature.analysis_set("suicidal_ideation", adjusted_only=True)
    assert (adjusted["adjusted"] == "yes").all()
    assert "ningxia_scared_anx" in set(literature.analysis_set("anxiety")["effect_id"])
    assert "ningxia_scared_anx" not in set(literature.analysis_set("anxiety", exclude_derived=True)["effect_id"])
    x = literature.excluded_rows("anxiety", exclude_derived=True).set_index("effect_id")
    assert x.loc["ningxia_scared_anx", "reason"].startswith("derived by us")
    assert not literature.analysis_set("depression", exclude_secondary=True)["secondary_source"].any()
    with pytest.raises(LeftbehindError, match="exposure"):
        literature.analysis_set("depression", exposure="neighbours")


def test_construct_rules_are_valid():
    rules = data.load("constructs")
    known = set(data.load("outcomes")["outcome"])
    assert set(rules["outcome"]) <= known
    for p in rules["pattern"]:
        re.compile(p)
    # the last rule of an outcome with several constructs may be a catch-all; none may be unreachable
    for outcome, g in rules.groupby("outcome"):
        catch_all = g.sort_values("priority")["pattern"].tolist()
        assert "." not in catch_all[:-1], outcome


def test_trust_panel_sentences_come_from_the_numbers():
    from leftbehind import meta

    s = literature.analysis_set("depression")
    fit = meta.pool(s["yi"], s["vi"], labels=s["label"], measure="SMD")
    lines = literature.trust_panel(fit, s, "depression").splitlines()
    assert len(lines) == 6 and all(line.startswith("- **") for line in lines)
    assert f"{fit.k} studies" in lines[0]
    assert f"I² = {fit.I2:.0f}%" in lines[3] and f"{fit.pi_low:.2f} to {fit.pi_high:.2f}" in lines[3]
    assert f"not run: k = {fit.k} is below 10" in lines[4] and fit.k < 10
    # k >= 10: the small-study test is run and reported
    import pandas as pd

    y = [0.1, 0.3, 0.2, 0.6, 0.4, 0.5, 0.05, 0.7, 0.35, 0.25]
    v = [0.01, 0.04, 0.02, 0.09, 0.05, 0.06, 0.01, 0.1, 0.03, 0.02]
    rows = pd.DataFrame({"adjusted": ["yes"] * 3 + ["no"] * 7, "abstract_only": [True] * 10, "total_lb": [50] * 10,
                         "total_comp": [60] * 10})  # fmt: skip
    lines = literature.trust_panel(meta.pool(y, v, measure="SMD"), rows, "depression").splitlines()
    assert "1,100 children" in lines[0] and "3 of 10 (30%)" in lines[1] and "10 of 10 (100%)" in lines[2]
    e = meta.egger_test(y, v)
    assert f"intercept {e.intercept:.2f}" in lines[4]


def test_trust_panel_compares_only_reviews_of_the_same_construct():
    from leftbehind import meta

    s = literature.analysis_set("physical_health")
    last = literature.trust_panel(meta.pool(s["yi"], s["vi"], measure="SMD"), s, "physical_health").splitlines()[-1]
    assert "No published pooled estimate of the same construct" in last and "other constructs are not compared." in last


def test_sensitivity_table_pools_each_option_of_the_same_construct():
    t = literature.sensitivity_table("anxiety")
    assert t["analysis"].tolist() == list(literature.trust.SENSITIVITY)
    main = literature.analysis_set("anxiety")
    assert int(t["k"].iloc[0]) == len(main)
    derived = t.set_index("analysis").loc["without effects derived by us"]
    assert derived["k"] == len(literature.analysis_set("anxiety", exclude_derived=True)) == 1
    assert derived["note"] == "not pooled: 1 study"
    adjusted = t.set_index("analysis").loc["adjusted estimates only"]  # "not pooled: 0 studies" read oddly
    assert adjusted["k"] == 0 and adjusted["note"] == "not pooled: no study"


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_reviews_are_compared_only_with_a_pool_of_the_same_construct(outcome):
    s = literature.analysis_set(outcome)
    if s.empty:
        return
    construct = s["construct"].iloc[0]
    t = literature.compare_with_reviews(0.2, 0.1, 0.3, outcome, "SMD")
    keyed = literature.review_estimates(outcome)
    assert set(t["review_id"]) <= set(keyed.loc[keyed["construct"] == construct, "review_id"])
    assert len(t) == int((keyed["construct"] == construct).sum())


def test_reviews_of_other_constructs_are_left_out_of_the_comparison():
    # suicidal ideation: qu2021's two suicide-attempt estimates are not set beside a pool of ideation
    t = literature.compare_with_reviews(1.5, 1.1, 2.0, "suicidal_ideation", "OR")
    assert not t["outcome_detail"].str.contains("attempt", case=False).any()
    assert len(t) == len(literature.reviews("suicidal_ideation")) - 2
    # physical health pools self-rated health: no review of dental caries, illness or injury beside it
    assert literature.compare_with_reviews(0.2, 0.1, 0.3, "physical_health", "SMD").empty
    caries = literature.compare_with_reviews(0.2, 0.1, 0.3, "physical_health", "SMD", construct="dental_caries")
    # issue 28 item 5: chen2020's physical-health estimate is child safety ("accidental injuries" once matched
    # "dental" inside "accidental"); only liu2023b pools dental caries
    assert sorted(set(caries["review_id"])) == ["liu2023b"]
    assert set(literature.review_estimates("physical_health", "dental_caries")["construct"]) == {"dental_caries"}


@pytest.mark.parametrize("outcome, shown", [("physical_health", 0), ("suicidal_ideation", 5), ("depression", 6)])
def test_notebook_06_lists_only_reviews_of_the_pooled_construct(outcome, shown):
    from types import SimpleNamespace

    import nbformat

    from conftest import NOTEBOOKS
    from leftbehind import meta

    nb = nbformat.read(NOTEBOOKS / "06_meta_analysis.ipynb", as_version=4)
    (source,) = [c.source for c in nb.cells if c.cell_type == "code" and "compare_with_reviews(" in c.source]
    chosen = literature.selection(outcome, "SMD")
    s = chosen.pooled
    out: list[object] = []
    for result in (meta.pool(s["yi"], s["vi"], measure="SMD"), None):  # pooled, and not pooled
        shown_by = SimpleNamespace(show_table=lambda frame, **options: out.append(frame))  # plots.show_table
        ns = {"literature": literature, "Markdown": str, "display": out.append, "result": result, "studies": s,
              "chosen": chosen, "outcome": outcome, "measure": "SMD", "plots": shown_by}  # fmt: skip
        exec(source, ns)
        assert len(ns["table"]) == shown
    tables = [o for o in out if not isinstance(o, str)]
    assert len(tables) == (2 if shown else 0)


def test_reasons_name_what_is_pooled_in_words_not_by_id():
    """The 06 reports' table of rows not pooled read "another effect of the same study is pooled
    (deng2014_si_both)": an id of effects.csv, which the table does not show. The reason now says which
    comparison is pooled instead, and no reason of any outcome carries an effect's id."""
    ids = set(literature.effects()["effect_id"])
    for outcome in literature.outcomes()["outcome"]:
        for reason in literature.excluded_rows(outcome)["reason"]:
            assert not [i for i in ids if f"({i})" in reason or reason.endswith(i)], (outcome, reason)
    x = literature.excluded_rows("suicidal_ideation").set_index("effect_id")
    pooled = literature.analysis_set("suicidal_ideation").set_index("effect_id")
    assert "deng2014_si_both" in pooled.index
    expected = "another effect of the same study is pooled, comparing " + pooled.loc["deng2014_si_both", "comparison"]
    assert x.loc["deng2014_si_father", "reason"] == expected
    assert literature.excluded_rows("depression").set_index("effect_id").loc["wang2011_depprev", "reason"] == (
        "another effect of the same comparison is pooled (one effect per sample)"
    )
