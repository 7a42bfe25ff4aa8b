"""What the data functions cache, and that a cache never answers for another version of the data: the speed of a
country profile comes from these caches (benchmarks/README.md), its correctness from these tests."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from leftbehind import _io, data, plots
from leftbehind.data import tabular
from leftbehind.errors import DataError


def _bump(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a new version, even on a coarse clock


def _drop_last_row(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    _bump(path)


def test_a_cached_derivation_is_computed_again_for_a_new_version_of_the_data(data_copy):
    calls = []

    @tabular.cached_on_package()
    def studies(design: str) -> pd.DataFrame:
        calls.append(design)
        frame = tabular.load("studies")
        return frame[frame["design"] == design]

    first = studies("cross-sectional")
    first.loc[first.index[0], "title"] = "changed by a caller"  # a caller's copy: the cache is not touched
    again = studies("cross-sectional")
    assert calls == ["cross-sectional"] and again["title"].iloc[0] != "changed by a caller"
    last_design = str(tabular.load("studies")["design"].iloc[-1])
    before = len(studies(last_design))
    _drop_last_row(data_copy / "literature" / "studies.csv")
    assert len(studies(last_design)) == before - 1  # a new version of studies.csv: computed again
    assert len(calls) == 3


def test_a_cached_derivation_records_its_reads_when_it_answers_from_the_cache(data_copy, tmp_path, monkeypatch):
    """A report's recorded inputs (what makes the runner re-run it when they change) must not depend on whether a
    function answered from its cache."""
    log = tmp_path / "reads.log"
    data.all_sources()  # cached before the report starts recording
    monkeypatch.setenv(_io.READS_LOG_ENV, str(log))
    data.all_sources()
    assert {"sources", "derived_sources"} <= set(log.read_text().split())


def test_an_unhashable_argument_is_computed_not_cached(data_copy):
    calls = []

    @tabular.cached_on_package()
    def count(codes: list[str]) -> int:
        calls.append(codes)
        return len(codes)

    assert count(["NPL", "IND"]) == 2 and count(["NPL", "IND"]) == 2
    assert len(calls) == 2


def test_a_shared_derivation_is_the_same_object_for_every_caller_and_still_follows_the_data(data_copy):
    @tabular.cached_on_package(shared=True)
    def studies() -> pd.DataFrame:
        return tabular.load("studies")

    first = studies()
    assert studies() is first  # not copied: the package's own intermediate tables, read only by their callers
    _drop_last_row(data_copy / tabular._resource("studies")["path"])
    assert len(studies()) == len(first) - 1


def test_the_figures_table_follows_a_changed_data_file_and_records_its_reads(data_copy):
    figures = importlib.import_module("leftbehind.data.figures")  # the module (leftbehind.data.figures is a function)
    before = figures._figures_table()
    _drop_last_row(data_copy / "derived" / "figures.csv")
    with tabular.reads_collected() as reads:
        after = figures._figures_table()
    assert len(after) == len(before) - 1
    assert {"figures", "editions", "derived_figures", "derived_editions", "derived_sources"} <= reads


def test_the_world_table_follows_a_changed_data_file(data_copy):
    year = data.broad_year("remittances_received_usd")
    before = data.table("remittances_received_usd", year)
    _drop_last_row(data_copy / "derived" / "figures.csv")
    after = data.table("remittances_received_usd", year)
    assert len(after) <= len(before)
    assert data.table("remittances_received_usd", year).equals(after)


def test_the_data_folder_found_is_looked_up_again_when_its_descriptor_goes(data_copy):
    assert data.data_dir() == data_copy
    (data_copy / "datapackage.json").unlink()  # the folder found first is no longer a data package
    with pytest.raises(DataError, match="no data package found in .*LEFTBEHIND_DATA_DIR names it"):
        data.data_dir()


def test_the_data_folder_follows_the_package_location(tmp_path, monkeypatch):
    """Without LEFTBEHIND_DATA_DIR, the folder found for one installation is not the answer for another."""
    monkeypatch.delenv(_io.DATA_ENV_VAR, raising=False)
    assert data.data_dir() == _io.REPO_ROOT / "data"
    monkeypatch.setattr(_io, "REPO_ROOT", tmp_path / "x")
    monkeypatch.setattr(_io, "PACKAGE_DIR", tmp_path / "x" / "y")
    with pytest.raises(DataError, match="no data package found"):
        data.data_dir()


def _draws(monkeypatch) -> list[object]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    drawn: list[object] = []
    real = FigureCanvasAgg.draw

    def counting(self):
        drawn.append(self.figure)
        return real(self)

    monkeypatch.setattr(FigureCanvasAgg, "draw", counting)
    return drawn


def _chart() -> object:
    frame = pd.DataFrame({"year": [2000, 2001], "value": [1.0, 2.0], "unit": "percent", "label": "A"})
    return plots.timeseries(frame, "A chart", "Source: test")


def test_under_the_inline_backend_a_finished_chart_is_not_drawn_twice(monkeypatch):
    """pyplot's post-cell draw_all renders stale figures; under the inline backend the figure is rendered again to
    be shown, so the chart functions leave a finished chart not stale (plots.datafiles._drawn_by_display)."""
    import matplotlib

    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    fig = _chart()
    drawn = _draws(monkeypatch)
    try:
        assert fig.stale is False
        plt.draw_all()
        assert fig not in drawn
        fig.axes[0].set_title("changed after")  # a change after the chart function: drawn as before
        assert fig.stale is True
    finally:
        plt.close(fig)


def test_under_other_backends_a_chart_keeps_matplotlibs_own_drawing(monkeypatch):
    fig = _chart()
    drawn = _draws(monkeypatch)
    try:
        assert fig.stale is True
        plt.draw_all()
        assert fig in drawn
    finally:
        plt.close(fig)
