"""The data behind a report's charts and tables, on the runner's side (issue 27 item 5): each CSV a kernel shows
is written to ``<name>.data/``, taken out of the published notebook and HTML, listed in the manifest; files of
an earlier run that the report no longer shows are removed; what a report's code shows under the data MIME type
is checked like any output (a name that is not ``NN-slug.csv``, a name given twice, a CSV past its bound)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from leftbehind import reports
from leftbehind.errors import ReportError
from test_reports import _notebook, _plan

CHART = """\
import matplotlib.pyplot as plt
import pandas as pd
from leftbehind import plots
frame = pd.DataFrame({"geography": ["NPL", "IND"], "year": [2024, 2024], "value": [1.5, 2.25],
                      "unit": ["percent", "percent"]})
fig, ax = plt.subplots()
ax.bar(frame["geography"], frame["value"])
ax.set_title("Two bars")
plots.datafiles.attach(fig, frame)
"""
TABLE = 'plots.show_table(frame, columns={"geography": "Country", "value": "%"}, source="Source: a test")'


def _project(tmp_path: Path, cells: list[str]) -> tuple[Path, Path]:
    nbs = tmp_path / "notebooks"
    nbs.mkdir(exist_ok=True)
    _notebook(
        nbs / "nb.ipynb",
        [new_code_cell("n: int = 1  # a number", metadata={"tags": ["parameters"]})]
        + [new_code_cell(c) for c in cells],
    )
    return _plan(nbs, [{"name": "r", "notebook": "nb.ipynb"}]), tmp_path / "reports"


def test_a_chart_and_a_table_give_two_csvs_linked_and_listed(tmp_path):
    plan, out = _project(tmp_path, [CHART, TABLE])
    reports.run(plan, out, log=lambda line: None)
    files = sorted(p.name for p in (out / "r.data").iterdir())
    assert files == ["01-two-bars.csv", "02-table-country.csv"]
    assert (out / "r.data" / "01-two-bars.csv").read_text(encoding="utf-8") == (
        "geography,year,value,unit\nNPL,2024,1.5,percent\nIND,2024,2.25,percent\n"
    )
    # the table's CSV: the columns shown, unformatted, then the context it has (unit, year) and its source line
    assert (out / "r.data" / "02-table-country.csv").read_text(encoding="utf-8") == (
        "geography,value,unit,year,source\nNPL,1.5,percent,2024,Source: a test\nIND,2.25,percent,2024,Source: a test\n"
    )
    page = (out / "r.html").read_text(encoding="utf-8")
    assert 'Data: <a href="r.data/01-two-bars.csv">CSV</a>' in page
    assert 'Data: <a href="r.data/02-table-country.csv">CSV</a>' in page
    for published in (page, (out / "r.ipynb").read_text(encoding="utf-8")):
        assert "vnd.leftbehind.data" not in published and "NPL,2024,1.5" not in published
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"][0]
    assert entry["data"] == [{"file": f"r.data/{f}", "bytes": (out / "r.data" / f).stat().st_size} for f in files]


def test_a_chart_image_says_what_it_shows(tmp_path):
    """Every chart of every report read "No description has been provided for this image" to a screen reader
    (nbconvert's words for an image without alt text); a chart's image now carries its title, escaped."""
    chart = CHART.replace('ax.set_title("Two bars")', 'ax.set_title("Two <bars> &  more")')
    plan, out = _project(tmp_path, [chart])
    reports.run(plan, out, log=lambda line: None)
    page = (out / "r.html").read_text(encoding="utf-8")
    assert 'alt="Chart: Two &lt;bars&gt; &amp; more"' in page
    assert "No description has been provided" not in page


def test_files_a_report_no_longer_shows_are_removed_and_others_kept(tmp_path):
    plan, out = _project(tmp_path, [CHART, TABLE])
    reports.run(plan, out, log=lambda line: None)
    (out / "r.data" / "notes.txt").write_text("a reader's own file", encoding="utf-8")
    _project(tmp_path, [CHART])
    reports.run(plan, out, log=lambda line: None)
    assert sorted(p.name for p in (out / "r.data").iterdir()) == ["01-two-bars.csv", "notes.txt"]
    (out / "r.data" / "notes.txt").unlink()
    _project(tmp_path, ["print(1)"])
    reports.run(plan, out, log=lambda line: None)
    assert not (out / "r.data").exists()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"][0]["data"] == []


@pytest.mark.parametrize(
    "shown, message",
    [
        ('{"file": "../../escape.csv"}', "is not NN-slug.csv"),
        ('{"file": "01-a.csv"}; show(); show()', "both called 01-a.csv"),
        ('{"file": "01-a.csv"}; big = True', "past 8,388,608"),
    ],
)
def test_a_data_output_the_runner_cannot_publish_fails_its_report_with_the_cell_named(tmp_path, shown, message):
    meta, _, extra = shown.partition("; ")
    code = (
        "from IPython.display import display\n"
        "big = False\n"
        f"{extra if 'big' in extra else ''}\n"
        "def show():\n"
        "    text = 'x' * (9 << 20) if big else 'a\\n1\\n'\n"
        f"    display({{'text/plain': 'data', 'application/vnd.leftbehind.data+csv': text}}, raw=True,\n"
        f"            metadata={{'application/vnd.leftbehind.data+csv': {meta}}})\n"
        f"{extra if 'show()' in extra else 'show()'}\n"
    )
    plan, out = _project(tmp_path, [code])
    with pytest.raises(ReportError) as info:
        reports.run(plan, out, log=lambda line: None)
    assert "output of cell 2" in str(info.value) and message in str(info.value)
    assert not (out / "r.data").exists() and not (tmp_path / "escape.csv").exists()
    assert not (out / "r.html").exists()


def test_the_index_footer_counts_the_csv_files_and_their_size_for_readers():
    from leftbehind.reports.site import render_index

    entry = {"name": "a", "title": "A", "group": "g", "parameters": {}, "status": "ok", "error": "", "html": "a.html",
             "ipynb": None, "failed_ipynb": None, "notebook": "n",
             "data": [{"file": f"a.data/{i:04d}-x.csv", "bytes": 2048} for i in range(1234)]}  # fmt: skip
    page = render_index({"leftbehind_version": "0", "reports": [entry]})
    assert "The data behind the reports' charts and tables: 1,234 CSV files, 2.4 MiB," in page
    assert "data: 1234 CSV" in page  # the report's own line
    assert "CSV files" not in render_index({"leftbehind_version": "0", "reports": [{**entry, "data": []}]})
