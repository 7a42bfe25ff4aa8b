"""Issue 15 item 1: fits that keep their inputs and present themselves; sensitivity functions that take the fit
alone; subgroup analysis as an object; numbers formatted for reading."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from leftbehind import meta, plots
from leftbehind.errors import MetaAnalysisError

matplotlib.use("Agg")

Y = [-0.9, -1.6, -1.4, -1.4, -0.2, -0.5, 0.0, -0.3]
V = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.56, 0.07]
LABELS = [f"S<{i}>" for i in range(8)]


@pytest.fixture
def fit() -> meta.PoolResult:
    return meta.pool(Y, V, method="REML", ci="hksj", labels=LABELS, measure="RR")


def test_fit_keeps_inputs(fit):
    assert fit.yi == tuple(Y) and fit.vi == tuple(V) and fit.labels == tuple(LABELS)
    assert (fit.measure, fit.method, fit.ci_method, fit.level) == ("RR", "REML", "hksj", 0.95)


def test_sensitivity_functions_take_the_fit_alone(fit):
    old = meta.leave_one_out(Y, V, LABELS, method="REML", ci="hksj")
    pd.testing.assert_frame_equal(meta.leave_one_out(fit), old, check_like=False)
    assert meta.egger_test(fit) == meta.egger_test(Y, V)
    years = [2001, 1999, 2005, 2003, 2002, 2000, 2004, 2006]
    cum = meta.cumulative(fit, order=years)
    d = pd.DataFrame({"year": years, "yi": Y, "vi": V, "lab": LABELS})
    old_cum = meta.cumulative(d, by="year", label="lab", method="REML", ci="hksj")
    np.testing.assert_allclose(cum["estimate"], old_cum["estimate"], rtol=1e-12)
    assert list(cum["added"]) == list(old_cum["added"])
    fig = plots.forest_plot(fit)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "S<3>" in " ".join(texts) or "S<3>" in [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_summary_shows_both_scales(fit):
    text = fit.summary()
    for piece in ["tau² = ", "I² = ", "H² = ", "Q(df = 7) = ", "prediction interval", "(log risk ratio)", "RR = "]:
        assert piece in text, piece
    assert f"t = {fit.z_or_t:.2f}" in text
    assert f"RR = {np.exp(fit.estimate):.3f}" in text


def test_to_frame_scales(fit):
    rep, ana = fit.to_frame(), fit.to_frame("analysis")
    assert rep["estimate"].iloc[0] == pytest.approx(np.exp(ana["estimate"].iloc[0]))
    assert "se_log" in rep.columns and "se" in ana.columns
    with pytest.raises(MetaAnalysisError, match="scale"):
        fit.to_frame("log")


def test_repr_html_escapes_everything():
    r = meta.pool([0.1, 0.3], [0.04, 0.05], labels=["<b>x</b>", "y&z"], measure="SMD")
    html = r._repr_html_()
    assert "<b>x</b>" not in html and "<table>" in html


def test_subgroups_of_a_fit_hold_each_fit_and_the_test(fit):
    groups = ["a", "a", "b", "b", "b", "c", "c", "c"]
    s = meta.subgroups(fit, by=groups)
    assert isinstance(s, meta.SubgroupResult)
    assert set(s.fits) == {"a", "b", "c"} and s.fits["b"].labels == ("S<2>", "S<3>", "S<4>")
    d = pd.DataFrame({"g": groups, "yi": Y, "vi": V})
    old = meta.subgroups(d, "g", method="REML", ci="hksj")
    pd.testing.assert_frame_equal(s.to_frame().rename(columns={"subgroup": "g"}), old)
    assert s.Q_between == pytest.approx(old.attrs["Q_between"])
    assert s.test_sentence().startswith("Test for subgroup differences: Q(df = 2) = ")
    with pytest.raises(MetaAnalysisError, match="one subgroup value per study"):
        meta.subgroups(fit, by=["a", "b"])


def test_tables_for_reading_have_fixed_decimals(fit):
    shown = meta.for_reading(meta.leave_one_out(fit))
    assert not shown["estimate"].str.contains("e-").any()
    assert shown["estimate"].str.fullmatch(r"-?\d+\.\d{3}").all()
    assert shown["pval"].str.fullmatch(r"p (=|<) \d\.\d{3}").all()
    assert meta.format_p(0.0312) == "p = 0.031" and meta.format_p(1e-9) == "p < 0.001"


def test_labels_length_is_checked():
    with pytest.raises(MetaAnalysisError, match="one entry per study"):
        meta.pool([0.1, 0.2], [0.1, 0.1], labels=["a"])


def test_regress_takes_a_fit_and_checks_its_moderators(fit):
    mods = pd.DataFrame({"lat": [44, 55, 42, 52, 13, 44, 19, 13], "alloc": list("rrrsaasr")})
    reg = meta.regress(fit, mods, method="REML", ci="hksj")
    assert reg.coef_names == ["intrcpt", "lat", "alloc[r]", "alloc[s]"] and reg.QM_df == 3
    assert reg.labels == tuple(LABELS) and reg.measure == "RR"
    assert "moderators: F(df1 = 3, df2 = 4)" in reg.summary()
    fig = plots.bubble_plot(reg, "lat")
    assert [c.get_gid() for c in fig.axes[0].collections] == ["studies"]
    with pytest.raises(MetaAnalysisError, match="not a continuous moderator"):
        plots.bubble_plot(reg, "alloc")
    with pytest.raises(MetaAnalysisError, match="one row per study"):
        meta.regress(fit, {"lat": [1, 2]})
    with pytest.raises(MetaAnalysisError, match="missing values"):
        meta.regress(fit, {"lat": [1, 2, 3, None, 5, 6, 7, 8]})
    with pytest.raises(MetaAnalysisError, match="collinear"):
        meta.regress(fit, {"a": list(range(8)), "b": [2 * x for x in range(8)]})


def test_notebook_06_has_no_branches_over_methods_or_measures_and_no_own_back_transformation():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "06_meta_analysis.ipynb").read_text(encoding="utf-8"))
    code = [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and "parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    text = "\n".join(code)
    branches = [line for line in text.splitlines() if re.search(r"\b(if|elif)\b.*\b(measure|method|ci)\b", line)]
    assert not branches, branches
    assert "back_transform" not in text and "exp(" not in text
    assert "literature.selection(" in text and "chosen.excluded" in text  # excluded rows, with reasons
    assert "trust_panel" in text and "plots.show_table(" in text  # tables for reading: fixed decimals, p-values


def test_report_06_and_its_trust_panel_say_the_same_of_small_study_effects():
    """The depression report printed Egger's test for 3 studies ("p = 0.829 … the test has little power") while
    its trust panel, a screen lower, said "Egger's test not run: k = 3 is below 10": one sentence now serves both,
    with the test from 10 studies (Cochrane Handbook 10.4.3.1)."""
    import json
    from pathlib import Path

    from leftbehind import literature

    few = meta.pool([0.1, 0.3, 0.2], [0.01, 0.02, 0.015])
    assert literature.small_study_effects(few).startswith("Egger's test not run: k = 3 is below 10")
    yi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.15, 0.35, 0.6, 0.25, 0.45]
    vi = [0.01, 0.02, 0.015, 0.04, 0.03, 0.012, 0.025, 0.05, 0.018, 0.035]
    many = meta.pool(yi, vi)
    e = meta.egger_test(many)
    sentence = literature.small_study_effects(many)
    assert sentence.startswith(f"Egger's test: intercept {e.intercept:.2f} (SE {e.intercept_se:.2f})")
    studies = literature.analysis_set("depression")
    fit = meta.pool(studies["yi"], studies["vi"], labels=studies["label"], measure="OR")
    panel = literature.trust_panel(fit, studies, "depression")
    assert f"**Small-study effects.** {literature.small_study_effects(fit)}" in panel
    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "06_meta_analysis.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "literature.small_study_effects(result)" in code and "egger_test" not in code


def test_the_pooled_sentence_names_the_interval_and_the_outcome_in_words():
    """The 06 report on suicidal ideation read "Pooling 3 studies (REML, hksj intervals) ... worse suicidal
    ideation": the interval method's id and the outcome's id with a space."""
    from leftbehind import literature, narrative

    result = meta.pool([0.2, 0.4, 0.3], [0.01, 0.02, 0.015], method="REML", ci="hksj")
    text = narrative.pooled_sentence(result, "OR", "suicidal_ideation")
    assert text.startswith("Pooling 3 studies (REML, HKSJ intervals): OR ")
    name = literature.outcome_name("suicidal_ideation")
    assert f"an OR above 1 means left-behind children fare worse on {name[0].lower()}{name[1:]}" in text
    assert name == "Suicidal ideation and self-harm"
