"""Issue 15 item 2 in notebook 06: a meta-regression of a pooled set on one declared moderator, fitted only where
the rule allows it (10 studies per moderator coefficient, 3 per level of a categorical moderator), else one
sentence saying why not."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from leftbehind import literature, meta
from leftbehind.errors import MetaAnalysisError, ParameterError

# twelve studies: effects that grow with the year, two regions of six
Y = [0.10, 0.32, 0.18, 0.41, 0.25, 0.52, 0.30, 0.61, 0.45, 0.70, 0.38, 0.80]
V = [0.010, 0.020, 0.015, 0.030, 0.012, 0.025, 0.018, 0.040, 0.022, 0.035, 0.016, 0.028]
YEARS = [2005, 2007, 2008, 2010, 2011, 2012, 2014, 2015, 2016, 2018, 2019, 2021]
REGIONS = ["South Asia", "East Asia"] * 6


def _studies(k: int = 12, **columns: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame({"yi": Y[:k], "vi": V[:k], "label": [f"S{i}" for i in range(k)], "year": YEARS[:k],
                          "region": REGIONS[:k]})  # fmt: skip
    return frame.assign(**{name: values[:k] for name, values in columns.items()})


def _fit(s: pd.DataFrame, **kw: str) -> meta.PoolResult:
    return meta.pool(s["yi"], s["vi"], labels=s["label"], measure="SMD", **kw)


@pytest.mark.parametrize("moderator", ["year", "region"])
@pytest.mark.parametrize("method, ci", [("REML", "normal"), ("DL", "hksj")])
def test_the_fit_is_meta_regress_on_the_declared_moderator(moderator, method, ci):
    s = _studies()
    got = literature.meta_regression(_fit(s, method=method, ci=ci), s, moderator)
    want = meta.regress((Y, V), {moderator: s[moderator].tolist()}, method=method, ci=ci)
    assert got.reason == "" and got.result is not None
    assert got.result.coef_names == want.coef_names
    for a, b in zip(got.result.coef + got.result.se + (got.result.QM, got.result.QE, got.result.R2),
                    want.coef + want.se + (want.QM, want.QE, want.R2)):  # fmt: skip
        assert math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    assert got.continuous is (moderator == "year")
    table = got.table()
    assert table["term"].tolist() == want.coef_names
    assert table["estimate"].tolist() == [f"{b:.3f}" for b in want.coef]
    assert all(p.startswith("p ") for p in table["pval"])
    text = got.text()
    assert "k = 12" in text and f"QE(df = 10) = {want.QE:.2f}" in text and f"R² = {want.R2:.1f}%" in text
    assert ("F(1, 10)" if ci == "hksj" else "QM(df = 1)") in text


def test_year_slope_is_the_one_a_hand_computation_gives():
    # fixed effects: the weighted least-squares slope of y on year with weights 1/v
    s = _studies()
    got = literature.meta_regression(_fit(s, method="FE"), s, "year").result
    w = [1 / v for v in V]
    xm = sum(wi * x for wi, x in zip(w, YEARS)) / sum(w)
    ym = sum(wi * y for wi, y in zip(w, Y)) / sum(w)
    slope = sum(wi * (x - xm) * (y - ym) for wi, x, y in zip(w, YEARS, Y)) / sum(
        wi * (x - xm) ** 2 for wi, x in zip(w, YEARS)
    )
    assert got is not None and math.isclose(got.coef[1], slope, rel_tol=1e-10)


def test_studies_without_the_moderator_are_left_out_and_the_rule_counts_the_rest():
    years: list[object] = [*YEARS[:11], None]
    s = _studies(year=years)
    got = literature.meta_regression(_fit(s), s, "year")
    want = meta.regress((Y[:11], V[:11]), {"year": YEARS[:11]})
    assert got.result is not None and got.result.k == 11
    assert math.isclose(got.result.coef[1], want.coef[1], rel_tol=1e-10)
    years = [*YEARS[:9], None, None, None]
    s = _studies(year=years)
    assert literature.meta_regression(_fit(s), s, "year").text() == (
        "No meta-regression on publication year: 9 of the 12 pooled studies have a recorded publication year, and "
        "this report asks for at least 10 studies per moderator coefficient (here 1 coefficient, so 10 studies)."
    )


def test_too_few_studies_gives_one_sentence_instead_of_a_fit():
    s = _studies(9)
    got = literature.meta_regression(_fit(s), s, "year")
    assert got.result is None and not got.continuous and got.table().empty
    assert got.text() == (
        "No meta-regression on publication year: 9 studies are pooled, and this report asks for at least 10 studies "
        "per moderator coefficient (here 1 coefficient, so 10 studies)."
    )
    # three regions: two coefficients, so 20 studies
    s = _studies(region=["A", "B", "C"] * 4)
    assert "here 2 coefficients, so 20 studies" in literature.meta_regression(_fit(s), s, "region").text()
    # two regions but one with 2 studies
    s = _studies(region=["A"] * 10 + ["B"] * 2)
    assert literature.meta_regression(_fit(s), s, "region").text() == (
        "No meta-regression on region: this report asks for at least 3 studies in every level, and B (2) falls short."
    )
    s = _studies(region=["A"] * 12)
    assert "share one region (A)" in literature.meta_regression(_fit(s), s, "region").text()
    assert (
        literature.meta_regression(None, s, "region").text()
        == "No meta-regression on region: the effects are not pooled."
    )
    assert literature.meta_regression(_fit(s), s, "none").result is None


def test_the_real_analysis_sets_are_too_small_and_say_so():
    for outcome in ("depression", "anxiety", "suicidal_ideation"):
        s = literature.analysis_set(outcome)
        got = literature.meta_regression(_fit(s), s, "migration_scope")
        assert got.result is None and "this report asks for at least 10 studies" in got.text(), outcome


def test_bad_arguments_are_named():
    s = _studies()
    with pytest.raises(ParameterError, match='moderator "age" .*Valid: none, year, migrant_parent'):
        literature.meta_regression(_fit(s), s, "age")
    with pytest.raises(MetaAnalysisError, match="needs the 12 pooled rows"):
        literature.meta_regression(_fit(s), s.iloc[:5], "year")


@pytest.mark.parametrize("moderator, shown", [("year", 2), ("region", 2), ("migration_scope", 1)])
def test_notebook_06_shows_the_table_and_for_year_the_bubble_plot_when_the_rule_allows(moderator, shown):
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    from conftest import NOTEBOOKS
    from leftbehind import plots

    nb = nbformat.read(NOTEBOOKS / "06_meta_analysis.ipynb", as_version=4)
    (source,) = [c.source for c in nb.cells if c.cell_type == "code" and "meta_regression(" in c.source]
    s = _studies(migration_scope=["internal"] * 12)
    out: list[object] = []
    shown_by = SimpleNamespace(show_table=lambda frame, **options: out.append(frame), bubble_plot=plots.bubble_plot)
    ns = {"literature": literature, "plots": shown_by, "Markdown": str, "display": out.append, "result": _fit(s),
          "studies": s, "moderator": moderator, "SOURCE": "Source: test"}  # fmt: skip
    exec(source, ns)
    assert len(out) == shown and str(out[0]).startswith("Meta-regression on" if shown == 2 else "No meta-regression")
    if moderator == "year":
        assert [c.get_gid() for c in ns["fig"].axes[0].collections] == ["studies"]
        plt.close(ns["fig"])
    else:
        assert "fig" not in ns


def test_the_plan_check_knows_the_moderators():
    import dataclasses

    from leftbehind import reports

    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    entry = plan["06_meta_depression"]
    reports.check([dataclasses.replace(entry, parameters={**entry.parameters, "moderator": "region"})])
    with pytest.raises(ParameterError, match=r'parameter "moderator": "mean_age" is not a valid value.*none, year'):
        reports.check([dataclasses.replace(entry, parameters={**entry.parameters, "moderator": "mean_age"})])
