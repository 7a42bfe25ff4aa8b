"""Issue 15, notebook 06: the analysis selection (rows pooled, rows left out) is computed once and passed on,
not recomputed by each table; the results are those of analysis_set/excluded_rows/sensitivity_table."""

from __future__ import annotations

import pytest

from leftbehind import literature
from leftbehind.errors import ParameterError
from leftbehind.literature import analysis


@pytest.mark.parametrize(
    "params",
    [{}, {"outcome": "physical_health", "subgroup_by": "migration_scope"}, {"outcome": "suicidal_ideation",
     "measure": "OR", "ci": "hksj"}, {"outcome": "emotional_behavioural_difficulties"}],
)  # fmt: skip
def test_notebook_06_computes_the_selection_once(monkeypatch, params):
    import IPython.display
    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from conftest import NOTEBOOKS

    calls = {"keys": 0, "select": 0}
    with_keys, select = analysis.with_keys, getattr(analysis, "_select", None)

    def counted_keys(*a, **k):
        calls["keys"] += 1
        return with_keys(*a, **k)

    def counted_select(*a, **k):
        calls["select"] += 1
        return select(*a, **k)

    monkeypatch.setattr(analysis, "with_keys", counted_keys)
    monkeypatch.setattr(analysis, "_select", counted_select, raising=False)
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    nb = nbformat.read(NOTEBOOKS / "06_meta_analysis.ipynb", as_version=4)
    ns: dict[str, object] = {}
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        exec(cell.source, ns)
        if i == 0:
            ns.update(params)  # as papermill injects parameters after the parameters cell
    plt.close("all")
    # one keyed table of the outcome's rows; the main selection, plus the three sensitivity analyses if pooled
    assert calls == {"keys": 1, "select": 1 if ns["result"] is None else 4}


@pytest.mark.parametrize(
    "outcome", ["anxiety", "depression", "suicidal_ideation", "physical_health", "emotional_behavioural_difficulties"]
)
def test_one_selection_gives_what_the_separate_functions_give(outcome):
    chosen = literature.selection(outcome)
    assert chosen.pooled.equals(literature.analysis_set(outcome))
    assert chosen.excluded.equals(literature.excluded_rows(outcome))
    assert sorted([*chosen.pooled["effect_id"], *chosen.excluded["effect_id"]]) == sorted(chosen.keyed["effect_id"])
    for options in ({"adjusted_only": True}, {"exclude_derived": True}, {"exclude_secondary": True}):
        again = literature.reselect(chosen, **options)
        fresh = literature.analysis_set(outcome, construct=chosen.construct, **options)
        assert again.pooled.equals(fresh), (outcome, options)
    assert literature.sensitivity_table(outcome, main=chosen).equals(literature.sensitivity_table(outcome))


def test_a_selection_passed_on_must_be_the_main_one():
    main = literature.selection("anxiety")
    with pytest.raises(ParameterError, match="main must be the selection of outcome 'depression'"):
        literature.sensitivity_table("depression", main=main)
    with pytest.raises(ParameterError, match="options"):
        literature.sensitivity_table("anxiety", main=literature.reselect(main, adjusted_only=True))
    with pytest.raises(ParameterError, match=r"unknown option\(s\) \['adjusted'\]"):
        literature.reselect(main, adjusted=True)
