"""The report runner, end to end on a temporary plan, plus plan and parameter validation."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import REPO
from leftbehind import data, reports
from leftbehind.errors import ParameterError, PlanError, ReportError

KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}


def _notebook(path: Path, cells: list) -> None:
    nbformat.write(new_notebook(cells=cells, metadata=KERNEL), path)


def _one_step_notebook(path: Path, parameter: str, code: str) -> None:
    """A notebook with one parameter (``parameter`` is its assignment line), its description and one code cell."""
    _notebook(
        path,
        [
            new_code_cell(parameter, metadata={"tags": ["parameters"]}),
            new_markdown_cell(f"**Parameters.** `{parameter.split(':')[0]}`."),
            new_code_cell(code),
        ],
    )


def _plot_notebook(path: Path) -> None:
    _notebook(
        path,
        [
            new_code_cell(
                'label: str = "a"  # a text shown in the title\nn: int = 3  # number of points',
                metadata={"tags": ["parameters"]},
            ),
            new_markdown_cell("**Parameters.** `label`, `n`."),
            new_code_cell(
                "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot(range(n))\nax.set_title(label)"
            ),
            new_code_cell("print(f'{label}: {n} points')"),
        ],
    )


def _failing_notebook(path: Path) -> None:
    _notebook(
        path,
        [
            new_code_cell("fail: bool = True  # raise in the third cell", metadata={"tags": ["parameters"]}),
            new_code_cell("x = 1"),
            new_code_cell("if fail:\n    raise ValueError('planted failure')"),
        ],
    )


def _plan(folder: Path, entries: list[dict]) -> Path:
    import yaml

    path = folder / "reports.yaml"
    path.write_text(yaml.safe_dump({"reports": entries}, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plot_notebook(nbs / "plot.ipynb")
    _failing_notebook(nbs / "boom.ipynb")
    return nbs, tmp_path / "reports"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_end_to_end_outputs_index_and_byte_identical_rerun(project):
    nbs, out = project
    plan = _plan(
        nbs,
        [
            {"name": "plot-a", "notebook": "plot.ipynb", "title": "Plot A", "parameters": {"label": "alpha", "n": 4}},
            {
                "name": "plot-b",
                "notebook": "plot.ipynb",
                "title": "Plot <B>",
                "parameters": {"label": "<script>alert(1)</script>"},
            },
        ],
    )
    outcomes = reports.run(plan, out, log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",
        "index.html",
        "manifest.json",
        "plot-a.html",
        "plot-a.ipynb",
        "plot-b.html",
        "plot-b.ipynb",
        "thumbs",
    ]
    assert sorted(p.name for p in (out / "thumbs").iterdir()) == ["plot-a.png", "plot-b.png"]

    executed = nbformat.read(out / "plot-a.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "alpha: 4 points" in printed  # parameters were injected
    assert any("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    html = (out / "plot-a.html").read_text(encoding="utf-8")
    assert "<img" in html and "hl-ipython3" not in html  # chart shown, code hidden by default

    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="plot-a.html"' in index and 'href="plot-b.html"' in index
    assert '<img src="thumbs/plot-a.png"' in index
    # provenance: in the HTML header and in the manifest
    assert "Provenance: notebooks/plot.ipynb" in html and "Data package: sha256" in html and "git commit" in html
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    prov = manifest["provenance"]
    assert set(prov["environment"]["versions"]) == {"python", "pandas", "matplotlib", "papermill"}
    assert len(prov["data_package"]["sha256"]) == 64 and "figures" in prov["data_package"]["resources"]
    assert len(prov["environment"]["lock_sha256"]) == 64
    entry = next(e for e in manifest["reports"] if e["name"] == "plot-a")
    assert entry["notebook"] == "notebooks/plot.ipynb" and len(entry["notebook_sha256"]) == 64
    assert entry["parameters"] == {"label": "alpha", "n": 4}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>alert(1)" not in index
    assert "Plot &lt;B&gt;" in index

    # no absolute paths of this machine in anything written
    for p in out.iterdir():
        if p.is_dir() or p.suffix == ".png":
            continue
        text = p.read_text(encoding="utf-8")
        assert str(nbs.parent) not in text and str(REPO) not in text and os.path.expanduser("~") + "/" not in text, (
            p.name
        )

    first = _hashes(out)
    reports.run(plan, out, force=True, log=lambda line: None)  # re-executes everything
    assert _hashes(out) == first


def test_show_code_keeps_code_in_html(project):
    nbs, out = project
    plan = _plan(nbs, [{"name": "plot-a", "notebook": "plot.ipynb", "parameters": {}}])
    reports.run(plan, out, show_code=True, log=lambda line: None)
    html = (out / "plot-a.html").read_text(encoding="utf-8")
    assert "hl-ipython3" in html and "range" in html


def test_failure_is_isolated_and_previous_report_kept(project):
    nbs, out = project
    entries = [
        {"name": "first", "notebook": "plot.ipynb", "parameters": {}},
        {"name": "boom", "notebook": "boom.ipynb", "parameters": {"fail": False}},
        {"name": "last", "notebook": "plot.ipynb", "parameters": {"label": "z"}},
    ]
    reports.run(_plan(nbs, entries), out, log=lambda line: None)
    good_html = (out / "boom.html").read_bytes()
    good_nb = (out / "boom.ipynb").read_bytes()
    for p in ("first.html", "last.html"):
        (out / p).unlink()

    entries[1]["parameters"] = {"fail": True}
    with pytest.raises(ReportError) as info:
        reports.run(_plan(nbs, entries), out, log=lambda line: None)
    message = str(info.value)
    assert "1 of 3 report(s) failed" in message
    # the notebook's third cell (counting every cell from 1, as the notebook shows them), with its first line
    assert "boom (boom.ipynb), cell 3 ('if fail:'): ValueError: planted failure" in message
    # the other reports were still written, the failing one's last good output is untouched
    assert (out / "first.html").exists() and (out / "last.html").exists()
    assert (out / "boom.html").read_bytes() == good_html and (out / "boom.ipynb").read_bytes() == good_nb
    failed = nbformat.read(out / "_failed" / "boom.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed.cells if c.cell_type == "code" for o in c.outputs)
    manifest = {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert manifest["boom"]["status"] == "failed" and manifest["boom"]["failed_cell"] == 3
    assert manifest["first"]["status"] == "ok"
    assert 'href="_failed/boom.ipynb"' in (out / "index.html").read_text(encoding="utf-8")
    assert not list(out.rglob("*.partial"))


def test_only_runs_one_and_keeps_the_rest_of_the_index(project):
    nbs, out = project
    plan = _plan(nbs, [{"name": "a", "notebook": "plot.ipynb"}, {"name": "b", "notebook": "plot.ipynb"}])
    outcomes = reports.run(plan, out, only=["b"], log=lambda line: None)
    assert [o.report.name for o in outcomes] == ["b"]
    assert not (out / "a.html").exists()
    manifest = {e["name"]: e["status"] for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert manifest == {"a": "not run", "b": "ok"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "../escape", "notebook": "plot.ipynb"}, "is not a safe report name"),
        ({"name": "/abs", "notebook": "plot.ipynb"}, "is not a safe report name"),
        ({"name": "ok", "notebook": "../plot.ipynb"}, "must be a path inside the plan's folder"),
        (
            {"name": "ok", "notebook": "missing.ipynb"},
            "notebook missing.ipynb not found. Notebooks: boom.ipynb, plot.ipynb",
        ),
        ({"name": "ok", "notebook": "plot.ipynb", "params": {}}, "unknown key(s) params"),
    ],
)
def test_plan_structure_errors(project, entry, message):
    nbs, _ = project
    with pytest.raises(PlanError) as info:
        reports.load_plan(_plan(nbs, [entry]))
    assert message in str(info.value)


def test_duplicate_names_rejected(project):
    nbs, _ = project
    with pytest.raises(PlanError, match='entry "a": the name is used twice'):
        reports.load_plan(
            _plan(nbs, [{"name": "a", "notebook": "plot.ipynb"}, {"name": "a", "notebook": "plot.ipynb"}])
        )


def test_parameter_errors_are_collected_before_running(project, monkeypatch):
    nbs, out = project
    plan = _plan(
        nbs,
        [
            {"name": "a", "notebook": "plot.ipynb", "parameters": {"lable": "x"}},
            {"name": "b", "notebook": "plot.ipynb", "parameters": {"n": "three"}},
            {"name": "c", "notebook": "plot.ipynb", "parameters": {"n": True}},
        ],
    )
    started = []
    monkeypatch.setattr(reports.execute, "_execute", lambda *a, **k: started.append(a))
    with pytest.raises(ParameterError) as info:
        reports.run(plan, out, log=lambda line: None)
    lines = str(info.value).splitlines()
    assert lines == [
        'plan entry "a", parameter "lable": not a parameter of plot.ipynb; did you mean "label"? Parameters: label, n',
        'plan entry "b", parameter "n": \'three\' is a str, the notebook declares int',
        'plan entry "c", parameter "n": True is a bool, the notebook declares int',
    ]
    assert started == [] and not out.exists()


def test_domain_values_are_checked():
    plan = reports.load_plan(reports.default_plan_path())
    entry = dataclasses.replace(plan[0], parameters={"topic": "remitances"})
    with pytest.raises(
        ParameterError,
        match=r'parameter "topic": "remitances" is not a valid value; did you mean "remittances"\? Valid values: all, labour_migration',
    ):
        reports.check([entry])


def test_cli_only_nonexistent_lists_valid_names():
    proc = subprocess.run(
        [sys.executable, "-m", "leftbehind", "reports", "--only", "nonexistent"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2  # a usage error, as the command line's docstring says of an option's value
    assert (
        'reports: error: argument --only: no report named "nonexistent"' in proc.stderr
        and "Valid report names: 01_headline_figures, 02_labour_migration" in proc.stderr
    )
    # the country profiles are said once, not as 236 names; an ISO3 code points at its profile
    n = len(data.countries())
    assert f"05_country_profile_<ISO3> ({n} reports: 05_country_profile_" in proc.stderr
    assert "05_country_profile_NPL" not in proc.stderr
    with pytest.raises(PlanError, match=r'no report named "npl" in the plan\. Did you mean "05_country_profile_NPL"\?'):
        reports.select(reports.load_plan(reports.default_plan_path()), ["npl"])


def test_cli_check_passes_on_the_real_plan():
    proc = subprocess.run(
        [sys.executable, "-m", "leftbehind", "reports", "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    assert "plan ok" in proc.stdout


def test_list_domains_and_cross_parameter_rules_on_the_real_plan():
    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    entry = dataclasses.replace(
        plan["03_remittances"], parameters={"countries": ["NPL", "XYZ"], "start_year": 2020, "end_year": 2010}
    )
    with pytest.raises(ParameterError) as info:
        reports.check([entry])
    lines = str(info.value).splitlines()
    assert lines[0].startswith('plan entry "03_remittances", parameter "countries": "XYZ" is not a valid value')
    assert "NPL" in lines[0] and "LKA" in lines[0]
    assert (
        lines[1]
        == 'plan entry "03_remittances": start_year must not be after end_year (start_year=2020, end_year=2010)'
    )


def test_the_plan_names_outcome_domains_as_the_vocabulary_does():
    """The index listed "Evidence map, nutrition growth": the domain's id with a space, where the evidence base
    names it "nutrition and growth"."""
    from leftbehind import literature

    titled = 0
    for r in reports.load_plan(reports.default_plan_path()):
        domain = r.parameters.get("outcome_domain", "all")
        if domain != "all":
            assert literature.domain_name(domain) in r.title, (r.name, r.title)
            titled += 1
    assert titled == len(literature.domains())


def test_ilo_edition_domain_comes_from_the_data():
    plan = {r.name: r for r in reports.load_plan(reports.default_plan_path())}
    entry = dataclasses.replace(plan["02_labour_migration"], parameters={"edition": "ilo_ge_5"})
    with pytest.raises(
        ParameterError,
        match=r'"ilo_ge_5" is not a valid value; did you mean "ilo_ge_[0-9]"\? Valid values: all, latest, ilo_ge_1, ilo_ge_2, ilo_ge_3, ilo_ge_4',
    ):
        reports.check([entry])


def test_grid_expands_into_safe_deterministic_names(project):
    nbs, _ = project
    plan = _plan(
        nbs,
        [
            {
                "name": "plot",
                "notebook": "plot.ipynb",
                "title": "Plot {label}",
                "parameters": {"n": 2},
                "grid": {"label": ["North", "South East", "a/b"]},
            }
        ],
    )
    reports_ = reports.load_plan(plan)
    assert [(r.name, r.title, r.parameters) for r in reports_] == [
        ("plot_North", "Plot North", {"n": 2, "label": "North"}),
        ("plot_South-East", "Plot South East", {"n": 2, "label": "South East"}),
        ("plot_a-b", "Plot a/b", {"n": 2, "label": "a/b"}),
    ]
    with pytest.raises(PlanError, match="give the same report name twice"):
        reports.load_plan(_plan(nbs, [{"name": "p", "notebook": "plot.ipynb", "grid": {"label": ["a b", "a-b"]}}]))
    with pytest.raises(PlanError, match="grid must map exactly one parameter"):
        reports.load_plan(_plan(nbs, [{"name": "p", "notebook": "plot.ipynb", "grid": ["a"]}]))


def test_grid_over_the_data_package_countries(project, data_copy):
    """issue 14 item 3: one entry runs a notebook for every country with figures, titled with its name; a
    country added to the data package adds a report, and anything but {from: data.countries} is refused."""
    nbs, _ = project
    entry = {"name": "p", "notebook": "plot.ipynb", "title": "Profile: {label_name} ({label})"}
    plan = reports.load_plan(_plan(nbs, [{**entry, "grid": {"label": {"from": "data.countries"}}}]))
    codes = data.countries()
    assert [r.name for r in plan] == [f"p_{c}" for c in codes] and len(codes) >= 31
    assert {r.name: r.title for r in plan}["p_NPL"] == "Profile: Nepal (NPL)"
    assert all(r.parameters == {"label": c} for r, c in zip(plan, codes))
    figures = data_copy / "figures.csv"
    row = next(line for line in figures.read_text(encoding="utf-8").splitlines() if ",NPL," in line)
    assert "p_ALA" not in [r.name for r in plan]  # the Åland Islands: no figure in any file
    with figures.open("a", encoding="utf-8") as fh:
        fh.write(row.replace(",NPL,", ",ALA,") + "\n")  # the Åland Islands get a figure
    again = [r.name for r in reports.load_plan(_plan(nbs, [{**entry, "grid": {"label": {"from": "data.countries"}}}]))]
    assert "p_ALA" in again and len(again) == len(plan) + 1
    for bad, message in [
        ({"from": "data.country"}, r'not a valid grid source. Did you mean "data.countries"\? A grid takes a list'),
        ({"from": "data.countries", "where": "x"}, "with SOURCE one of: data.countries"),
        ("data.countries", "needs a non-empty list of values or {from: SOURCE}"),
        ({"from": "os.system"}, "SOURCE one of: data.countries"),
    ]:
        with pytest.raises(PlanError, match=message):
            reports.load_plan(_plan(nbs, [{**entry, "title": "x", "grid": {"label": bad}}]))
    with pytest.raises(PlanError, match="available: label, label_name, n"):
        reports.load_plan(
            _plan(
                nbs,
                [{**entry, "title": "{nom}", "parameters": {"n": 1}, "grid": {"label": {"from": "data.countries"}}}],
            )
        )


def test_index_lists_countries_compactly_sorted_with_region_and_income_group(data_copy):
    """issue 14 item 4: a group of country reports is one table sorted by country name, with region and income
    group ("–" until the classification is in the data package); other groups keep their thumbnails; the page
    is the same bytes when rendered again."""
    from leftbehind.data.derive import CLASSIFICATION_FIELDS
    from leftbehind.reports.site import render_index

    (data_copy / "derived" / "classification.csv").unlink()  # first without the World Bank classification

    def entry(name: str, group: str, parameters: dict) -> dict:
        return {
            "name": name,
            "title": name,
            "group": group,
            "parameters": parameters,
            "status": "ok",
            "error": "",
            "html": f"{name}.html",
            "ipynb": None,
            "failed_ipynb": None,
            "thumbnail": f"thumbs/{name}.png",
        }

    manifest = {
        "leftbehind_version": "0",
        "reports": [entry(f"p_{c}", "Country profiles", {"country": c}) for c in ("NPL", "KHM", "AFG")]
        + [entry("map", "Maps", {"region": "all"})],
    }
    page = render_index(manifest)
    assert page == render_index(manifest)
    rows = re.findall(
        r'<tr data-search="[^"]*" data-group="Country profiles" data-region="([^"]*)" data-income="([^"]*)">\n<td><a href="([^"]+)"',
        page,
    )
    assert rows == [
        ("Southern Asia", "–", "p_AFG.html"),
        ("South-eastern Asia", "–", "p_KHM.html"),
        ("Southern Asia", "–", "p_NPL.html"),
    ]
    assert page.count("<img ") == 1 and 'src="thumbs/map.png"' in page  # thumbnails for the other groups only
    assert 'name="income"' not in page  # no income-group filter while no income group is known
    derived = data_copy / "derived"
    derived.mkdir(exist_ok=True)
    values = {"code": "NPL", "economy": "Nepal", "region": "South Asia", "income_group": "Lower middle income"}
    (derived / "classification.csv").write_text(
        ",".join(CLASSIFICATION_FIELDS) + "\n" + ",".join(values.get(f, "x") for f in CLASSIFICATION_FIELDS) + "\n",
        encoding="utf-8",
    )
    page = render_index(manifest)
    assert 'data-income="Lower middle income"' in page and "<td>Lower middle income</td>" in page
    assert '<select name="income"><option value="">all</option><option>Lower middle income</option></select>' in page


def test_second_run_is_refused_while_one_holds_the_lock(project):
    import fcntl

    nbs, out = project
    out.mkdir()
    plan = _plan(nbs, [{"name": "a", "notebook": "plot.ipynb"}])
    with open(out / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(
            ReportError, match=r"another run is writing to reports/ \(lock file .lock\); wait .* --wait"
        ):
            reports.run(plan, out, log=lambda line: None)
    assert not (out / "a.html").exists()


def _alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie (psutil reads /proc, no `ps` needed)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_sigint_leaves_no_partial_files_and_no_kernels(tmp_path):
    import signal
    import time

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "kernel.pid"
    # The kernel itself says when it is executing and what its PID is: no process-table scraping,
    # which depends on the machine's `ps` and on how the runner nests its processes.
    _one_step_notebook(
        nbs / "slow.ipynb",
        "seconds: int = 60  # how long to sleep",
        f"import os, pathlib, time\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\ntime.sleep(seconds)",
    )
    out = tmp_path / "reports"
    plan = _plan(nbs, [{"name": "slow", "notebook": "slow.ipynb"}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while not (marker.exists() and marker.read_text().strip()):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the kernel did not start executing within 120 s"
            time.sleep(0.2)
        kernel = int(marker.read_text())
        assert _alive(kernel)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    leftovers = [p.name for p in out.rglob("*") if p.suffix in (".partial", ".tmp") or p.name.endswith(".partial")]
    assert leftovers == []
    assert not (out / "slow.html").exists()
    for _ in range(50):
        if not _alive(kernel):
            break
        time.sleep(0.2)
    assert not _alive(kernel), "the kernel process outlived the interrupted run"


@pytest.mark.skipif(os.name != "posix", reason="Unix-domain sockets are a POSIX feature")
def test_kernels_use_unix_sockets_not_tcp(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "transport.txt"
    _one_step_notebook(
        nbs / "where.ipynb",
        "x: int = 1  # unused",
        "import pathlib\nfrom ipykernel.kernelapp import IPKernelApp\n"
        "app = IPKernelApp.instance()\n"
        f"pathlib.Path({str(marker)!r}).write_text(app.transport + ' ' + app.ip)",
    )
    plan = _plan(nbs, [{"name": "where", "notebook": "where.ipynb"}])
    proc = subprocess.run(
        [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    transport, ip = marker.read_text().split(" ", 1)
    assert transport == "ipc"
    assert len(ip) < 90 and not ip.startswith(str(nbs))  # short socket path, outside the notebooks folder
    assert "without encryption" not in proc.stderr
    assert sorted(p.name for p in nbs.iterdir()) == ["reports.yaml", "where.ipynb"]  # no socket files beside it


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"contry": "NPL"},
            'plan entry "profile", parameter "contry": not a parameter of 05_country_profile.ipynb; did you mean "country"? Parameters: country',
        ),
        ({"country": "XYZ"}, 'plan entry "profile", parameter "country": "XYZ" is not a valid value'),
    ],
)
def test_country_profile_parameters_fail_before_any_kernel(tmp_path, monkeypatch, parameters, message):
    import shutil

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(REPO / "notebooks" / "05_country_profile.ipynb", nbs)
    plan = _plan(nbs, [{"name": "profile", "notebook": "05_country_profile.ipynb", "parameters": parameters}])
    monkeypatch.setattr(reports.execute, "_execute", lambda *a, **k: pytest.fail("a kernel was started"))
    proc = subprocess.run(
        [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(ParameterError):
        reports.run(plan, tmp_path / "out2", log=lambda line: None)


def test_parallel_run_writes_the_same_bytes_as_a_sequential_one(project):
    nbs, out = project
    entries = [{"name": f"p{i}", "notebook": "plot.ipynb", "parameters": {"n": i + 2}} for i in range(3)]
    entries.append({"name": "boom", "notebook": "boom.ipynb", "parameters": {"fail": True}})
    plan = _plan(nbs, entries)
    with pytest.raises(ReportError):
        reports.run(plan, out, jobs=1, log=lambda line: None)
    sequential = _hashes(out)
    import shutil

    shutil.rmtree(out)
    with pytest.raises(ReportError) as info:
        reports.run(plan, out, jobs=2, log=lambda line: None)
    assert "boom (boom.ipynb), cell 3" in str(info.value)
    assert _hashes(out) == sequential


def test_incremental_skip_and_data_dependencies(tmp_path, data_copy):
    """Change nothing: nothing re-runs. Change a data file one report read: only that report re-runs."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(
        nbs / "seeds.ipynb",
        [
            new_code_cell('topic: str = "all"  # seed topic', metadata={"tags": ["parameters"]}),
            new_code_cell("from leftbehind import data\nprint(len(data.seed_figures(topic)))"),
        ],
    )
    _notebook(
        nbs / "plain.ipynb",
        [
            new_code_cell("n: int = 2  # a number", metadata={"tags": ["parameters"]}),
            new_code_cell("print(n * 2)"),
        ],
    )
    out = tmp_path / "reports"
    plan = _plan(nbs, [{"name": "seeds", "notebook": "seeds.ipynb"}, {"name": "plain", "notebook": "plain.ipynb"}])
    reports.run(plan, out, log=lambda line: None)
    manifest = {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert set(manifest["seeds"]["inputs"]["data"]) == {"seed_figures", "datapackage.json"}
    assert set(manifest["plain"]["inputs"]["data"]) == {"datapackage.json"}
    first = _hashes(out)

    lines: list[str] = []
    outcomes = reports.run(plan, out, log=lines.append)
    assert [o.skipped for o in outcomes] == [True, True]
    assert _hashes(out) == first
    # a run with nothing to do says so once (issue 27 item 7: not "2 unchanged" and then "2 written")
    assert lines == []
    assert reports.run_summary(outcomes, Path("reports")) == (
        "reports/ (index.html): all 2 report(s) unchanged since their last run; nothing written (--force re-runs them)"
    )

    seeds = data_copy / "seed_figures.csv"
    seeds.write_text(seeds.read_text(encoding="utf-8").replace(",175,", ",176,"), encoding="utf-8")
    lines.clear()
    outcomes = reports.run(plan, out, log=lines.append)
    assert {o.report.name: o.skipped for o in outcomes} == {"seeds": False, "plain": True}
    assert lines == ["running 1 of 2 report(s); 1 unchanged since their last run", "[1/1] ok      seeds"]
    assert reports.run_summary(outcomes, Path("reports")).endswith(
        "1 report(s) written, 1 unchanged since their last run"
    )

    outcomes = reports.run(plan, out, force=True, log=lambda line: None)
    assert [o.skipped for o in outcomes] == [False, False]


def test_dask_cluster_gives_the_same_bytes_as_a_local_run(project):
    distributed = pytest.importorskip("distributed")
    import shutil

    nbs, out = project
    plan = _plan(nbs, [{"name": f"d{i}", "notebook": "plot.ipynb", "parameters": {"n": i + 2}} for i in range(2)])
    reports.run(plan, out, jobs=2, log=lambda line: None, cold=True)  # executors' workers start cold kernels
    local = _hashes(out)
    shutil.rmtree(out)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        outcomes = reports.run(plan, out, executor=client.get_executor(), log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert _hashes(out) == local


def test_the_plan_reads_the_countries_as_the_data_package_gives_them():
    """The grid source ``data.countries`` is read without pandas (a run that finds nothing changed must stay
    fast); it must give exactly what leftbehind.data gives."""
    from leftbehind import data
    from leftbehind.reports.plan import _countries_with_figures

    codes, names = _countries_with_figures()
    assert codes == data.countries()
    assert names == {code: data.country_name(code) for code in codes}
    assert len(codes) >= 30


def test_the_thumbnail_is_the_chart_of_the_tagged_cell_else_the_first():
    """The three labour-migration reports (and the two of remittances) showed one same thumbnail in the index: the
    world chart each draws first. A cell tagged "thumbnail" chooses the chart the report's parameters change."""
    import base64
    import io

    from nbformat.v4 import new_output
    from PIL import Image

    from leftbehind.reports import publish

    def png(colour: str) -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (40, 20), colour).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def cell(colour: str, tags: list[str]) -> object:
        return new_code_cell(
            "", metadata={"tags": tags}, outputs=[new_output("display_data", {"image/png": png(colour)})]
        )

    def colour_of(thumb: bytes | None) -> tuple[int, ...]:
        assert thumb is not None
        return Image.open(io.BytesIO(thumb)).convert("RGB").getpixel((0, 0))

    world, chosen, later = cell("red", []), cell("blue", [publish.THUMBNAIL_TAG]), cell("green", ["thumbnail"])
    assert colour_of(publish._check_outputs(new_notebook(cells=[world, chosen, later]))) == (0, 0, 255)
    assert colour_of(publish._check_outputs(new_notebook(cells=[world, cell("green", [])]))) == (255, 0, 0)
    empty = new_code_cell("", metadata={"tags": ["thumbnail"]})  # the tagged cell drew nothing: the first chart
    assert colour_of(publish._check_outputs(new_notebook(cells=[world, empty]))) == (255, 0, 0)
