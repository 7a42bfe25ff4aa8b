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
    analysis._selection_cached.cache_clear()  # what the notebook computes itself, in a fresh process
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


def test_a_cached_selection_records_what_computing_it_read_and_is_a_copy(tmp_path, monkeypatch):
    """Selections are cached per version of the data package (a country profile asks for each twice; a warm
    report kernel finds them computed). From the cache, a selection records the same data reads as computed
    (a report's recorded inputs must not depend on what was cached) and is a copy its caller may change."""
    from leftbehind.data import tabular

    analysis._selection_cached.cache_clear()
    reads = {}
    for name in ("computed", "cached"):
        log = tmp_path / name
        monkeypatch.setenv(tabular.READS_LOG_ENV, str(log))
        chosen = literature.selection("depression")
        reads[name] = sorted(log.read_text(encoding="utf-8").split())
        if name == "computed":
            chosen.pooled["yi"] = 0.0  # changes this copy only
    assert analysis._selection_cached.cache_info().hits == 1
    assert reads["computed"] == reads["cached"]
    assert {"effects", "studies", "constructs"} <= set(reads["computed"])
    assert (chosen.pooled["yi"] != 0).any()


def test_a_new_version_of_the_data_is_selected_again(monkeypatch):
    from leftbehind.data import tabular

    analysis._selection_cached.cache_clear()
    literature.selection("anxiety")
    version = tabular._files_version()
    changed = (*version[:-1], (version[-1][0], version[-1][1] + 1, version[-1][2]))  # one file touched
    monkeypatch.setattr(tabular, "_files_version", lambda: changed)
    literature.selection("anxiety")
    assert analysis._selection_cached.cache_info().misses == 2


def test_a_selection_needs_no_table_it_does_not_read(data_copy):
    """The evidence does not depend on the World Bank classification: without that derived table (a data package
    built without its snapshot), a selection is still made, not refused because some file of the package is
    absent (its cache key used to stat every resource file and fail on a missing one)."""
    analysis._selection_cached.cache_clear()
    (data_copy / "derived" / "classification.csv").unlink()
    assert len(literature.selection("depression").pooled) >= 3
