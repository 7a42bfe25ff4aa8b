"""Messages that say what happened and where (issue 29, item 8): the folder of failed executions, bad values
given to an explorer, and meta-regression on moderators that cannot be fitted."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from leftbehind import explore, reports
from leftbehind.errors import ReportError
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
        (lambda: explore.indicator("bogus"), 'indicator "bogus" is not one of the choices. Valid: migrant_workers'),
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
