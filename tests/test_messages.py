"""Messages that say what happened and where (issue 29, item 8): the folder of failed executions, bad values
given to an explorer, and meta-regression on moderators that cannot be fitted."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from leftbehind import explore, meta, reports
from leftbehind.errors import MetaAnalysisError, ReportError
from test_reports import _notebook, _plan


def test_failed_run_names_the_folder_it_kept_the_failed_notebook_in(tmp_path):
    """With --out elsewhere than reports/, the summary names that folder, where the failed notebook is."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "boom.ipynb", [new_code_cell("x: int = 1", metadata={"tags": ["parameters"]}),
                                   new_code_cell("raise ValueError('planted')")])  # fmt: skip
    out = tmp_path / "elsewhere" / "site"
    with pytest.raises(ReportError) as info:
        reports.run(_plan(nbs, [{"name": "boom", "notebook": "boom.ipynb", "parameters": {}}]), out, log=lambda _: None)
    message = str(info.value)
    assert f"failed executions are in {(out / '_failed').as_posix()}/." in message, message
    assert "reports/_failed" not in message
    assert (out / "_failed" / "boom.ipynb").is_file()


def test_the_failed_folder_is_shown_relative_to_the_current_folder_when_inside_it(tmp_path, monkeypatch):
    from leftbehind.reports.site import failed_folder

    monkeypatch.chdir(tmp_path)
    assert failed_folder(Path("site")) == "site/_failed/"
    assert failed_folder(tmp_path / "a" / "b") == "a/b/_failed/"
    assert failed_folder(Path("/")) == "/_failed/"


# --- explorers: a bad value is explained in the app, never a bare TraitError ------------------------------


def _said(app) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", app.message.value))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: explore.meta_analysis("bogus"), 'outcome "bogus" is not one of the choices. Valid: depression'),
        (lambda: explore.indicator("bogus"), 'indicator "bogus" is not one of the choices. Valid: migrant_stock'),
        (lambda: explore.indicator(year=1800), 'year "1800" is not one of the choices'),
        (lambda: explore.corridors("XXX"), 'country "XXX" is not one of the choices. Did you mean "XKX"?'),
        (lambda: explore.corridors(direction="up"), 'direction "up" is not one of the choices. Valid: emigrants'),
    ],
)
def test_an_explorer_made_with_a_bad_value_opens_with_its_default_and_says_why(make, expected):
    app = make()  # raised traitlets.TraitError before
    assert expected in _said(app), _said(app)
    assert "shown instead: the explorer's default" in _said(app)
    assert app.sections, "the default view is drawn"


def test_an_explorer_made_with_a_good_value_shows_it():
    app = explore.meta_analysis("anxiety")
    assert app.values()["outcome"] == "anxiety" and _said(app) == ""


@pytest.fixture(scope="module")
def evidence_app():
    return explore.evidence()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"from_year": "x"}, 'from_year "x" is not a whole number from 1900 to 2100'),
        ({"from_year": 1800}, 'from_year "1800" is not a whole number from 1900 to 2100'),  # was clamped to 1900
        ({"to_year": True}, 'to_year "True" is not a whole number from 1900 to 2100'),
        ({"include_undated": "yes"}, 'include_undated "yes" is not True or False'),
        ({"region": "South Asia", "from_year": 2.5}, 'from_year "2.5" is not a whole number'),  # nothing is set
    ],
)
def test_setting_a_control_to_a_value_it_cannot_hold_is_explained_and_changes_nothing(evidence_app, values, expected):
    before = evidence_app.values()
    evidence_app.set(**values)  # raised traitlets.TraitError before (or set 1900 for 1800)
    assert expected in _said(evidence_app), _said(evidence_app)
    assert evidence_app.values() == before


def test_a_good_value_after_a_bad_one_clears_the_message(evidence_app):
    evidence_app.set(from_year="x")
    evidence_app.set(from_year=evidence_app.values()["from_year"])  # the same value: no change event
    assert _said(evidence_app) == ""
    evidence_app.set(from_year=2005)
    assert evidence_app.values()["from_year"] == 2005 and _said(evidence_app) == ""


# --- meta.regress: moderators it cannot fit are named; no k x k matrix ------------------------------------

_Y = [0.1, 0.3, 0.5, 0.9, 0.2, 0.45, 0.6, 0.15]
_V = [0.02, 0.03, 0.02, 0.04, 0.03, 0.05, 0.02, 0.03]
_DOSE = [1.0, 2.0, 3.0, 4.0, 2.5, 3.5, 1.5, 0.5]


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "FE"])
def test_nearly_collinear_moderators_are_named_not_a_linalg_error(method):
    nearly = np.asarray(_DOSE) + 1e-10 * np.array([1, -1, 1, -1, 1, -1, 1, -1])
    with pytest.raises(MetaAnalysisError, match=r"the moderators \['dose', 'dose2'\] are collinear or nearly so"):
        meta.regress((_Y, _V), {"dose": _DOSE, "dose2": nearly}, method=method)  # LinAlgError before (REML, PM)


def test_an_infinite_moderator_is_called_infinite_not_collinear():
    dose = [*_DOSE[:3], float("inf"), *_DOSE[4:]]
    with pytest.raises(MetaAnalysisError, match=r"moderator 'dose' has values that are not finite numbers at "
                       r"position\(s\) \[3\] \(inf\)"):  # fmt: skip
        meta.regress((_Y, _V), {"dose": dose})


@pytest.mark.parametrize(
    ("moderators", "twice"),
    [
        ({"intrcpt": _DOSE}, "['intrcpt']"),
        ({"g": list("aabbaabb"), "g[b]": _DOSE}, "['g[b]']"),  # a dummy's name and a moderator's
    ],
)
def test_a_moderator_that_repeats_a_coefficient_name_is_refused(moderators, twice):
    with pytest.raises(MetaAnalysisError, match=re.escape(f"the coefficient name(s) {twice} would be given twice")):
        meta.regress((_Y, _V), moderators)


def test_a_moderator_in_huge_units_gives_the_same_tests():
    """Scaling a moderator by 1e200 scales its coefficient and SE by 1e-200 and leaves every test unchanged
    (LinAlgError before: X'WX underflowed)."""
    plain = meta.regress((_Y, _V), {"dose": _DOSE}, ci="hksj")
    huge = meta.regress((_Y, _V), {"dose": np.asarray(_DOSE) * 1e200}, ci="hksj")
    assert huge.coef[1] * 1e200 == pytest.approx(plain.coef[1], rel=1e-9)
    assert huge.se[1] * 1e200 == pytest.approx(plain.se[1], rel=1e-9)
    assert huge.z_or_t == pytest.approx(plain.z_or_t, rel=1e-9)
    huge_qm, plain_qm = huge.QM, plain.QM
    assert huge_qm == pytest.approx(plain_qm, rel=1e-9)


def test_meta_regression_needs_no_k_by_k_matrix():
    """k = 4,000 studies: one k x k matrix of floats is 128 MB; the fit's peak allocation stays under 16 MB. The
    coefficients are the weighted least-squares ones (FE: weights 1/vi), computed here by numpy's lstsq."""
    import tracemalloc

    rng = np.random.default_rng(29)
    k = 4000
    y, v = rng.normal(size=k), rng.uniform(0.01, 0.1, size=k)
    x, g = rng.normal(size=k), rng.choice(["a", "b", "c"], size=k)
    meta.regress((y[:10], v[:10]), {"x": x[:10]}, method="REML")  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        fits = {m: meta.regress((y, v), {"x": x, "g": g}, method=m, ci="hksj") for m in ("FE", "DL", "REML")}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    X = np.column_stack([np.ones(k), x, g == "b", g == "c"]).astype(float)
    sw = 1 / np.sqrt(v)
    expected = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    assert fits["FE"].coef == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert fits["REML"].tau2 > 0.5 and fits["REML"].coef_names == ["intrcpt", "x", "g[b]", "g[c]"]
