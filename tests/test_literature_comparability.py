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
    assert x.loc["pingliang_lbc_caries", "reason"].startswith("a different construct (dental_caries")


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
