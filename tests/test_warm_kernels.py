"""Warm report kernels (issue 18): each report's kernel forked from a template that imported the heavy modules
once per run; the same bytes as cold kernels, nothing shared between reports, cold kernels where fork is
missing or asked for, and no process left behind."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from conftest import REPO
from leftbehind import reports
from leftbehind.errors import ParameterError, ReportError
from leftbehind.reports import warm
from test_reports import _alive, _hashes, _one_step_notebook, _plan

linux_only = pytest.mark.skipif(bool(warm.unavailable()), reason="warm kernels need fork and pidfd_open")

#: A sample of the real plan: a notebook that reads figures, a country profile, one that pools studies, one that
#: draws a world map (the whole plan was compared too: benchmarks/README.md).
SAMPLE = [
    "02_labour_migration",
    "05_country_profile_AFG",
    "06_meta_depression",
    "08_world_studies",
]


def _starts(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {e["name"]: e["generated_with"]["kernel"]["start"] for e in manifest["reports"] if e["generated_with"]}


def _without_starts(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["reports"]:
        if entry["generated_with"]:
            del entry["generated_with"]["kernel"]["start"]
    return manifest


@linux_only
def test_a_sample_of_the_plan_is_byte_identical_warm_and_cold(tmp_path):
    """Every report, notebook and thumbnail, and the index, identical; the manifest differs only in the start
    mode it records."""
    plan = REPO / "notebooks" / "reports.yaml"
    warm_out, cold_out = tmp_path / "warm", tmp_path / "cold"
    reports.run(plan, warm_out, only=SAMPLE, log=lambda line: None, cold=False)
    reports.run(plan, cold_out, only=SAMPLE, log=lambda line: None, cold=True)
    assert _starts(warm_out) == dict.fromkeys(SAMPLE, "warm")
    assert _starts(cold_out) == dict.fromkeys(SAMPLE, "cold")
    warm_files, cold_files = _hashes(warm_out), _hashes(cold_out)
    for files in (warm_files, cold_files):
        files.pop("manifest.json")
    assert warm_files == cold_files
    assert len(warm_files) >= 3 * len(SAMPLE)  # html, ipynb and thumbnail of each, and the index
    assert _without_starts(warm_out) == _without_starts(cold_out)


STATE = textwrap.dedent(
    """
    import importlib.util, json, os, sys, pathlib
    import matplotlib
    import pandas as pd
    import leftbehind
    seen = {
        "planted": getattr(leftbehind, "planted", None),
        "path": sys.path,
        "matplotlibrc": matplotlib.matplotlib_fname(),
        "linewidth": matplotlib.rcParams["lines.linewidth"],
        "probe": importlib.util.find_spec("runner_folder_probe") is not None,
        "profile": globals().get("FROM_THE_USER_PROFILE"),
        "environ": sorted(os.environ),
        "random": [__import__("random").random(), __import__("numpy").random.random()],
        "max_columns": pd.get_option("display.max_columns"),
        "mpl_backend": __import__("matplotlib").get_backend(),
        "env": pathlib.Path(os.environ.get("LEFTBEHIND_READS_LOG", "")).stem,
        "argv0": pathlib.Path(sys.argv[0]).name,
        "main": __name__,
        "pid": os.getpid(),
        "pgid": os.getpgid(0),
        "cwd": pathlib.Path.cwd().name,
        "history": get_ipython().history_manager.enabled,  # noqa: F821 (IPython's)
    }
    leftbehind.planted = which  # a report that changes shared module state ...
    pd.set_option("display.max_columns", 3)
    pathlib.Path(out).write_text(json.dumps(seen))
    """
)


@linux_only
def test_each_report_starts_from_the_same_clean_state(tmp_path, monkeypatch):
    """... leaves it to no other report: each kernel is a new process, forked from the template, with its own
    session, its report's environment and folder, and what a cold kernel would see: the same module path
    (not the runner's folder, where a module and a matplotlibrc wait), the same matplotlib settings,
    nothing of the user's IPython profile (whose startup file would plant a name), and no IPython history
    database (one file that every kernel of a run would write to at once)."""
    runner_folder = tmp_path / "elsewhere"
    runner_folder.mkdir()
    (runner_folder / "runner_folder_probe.py").write_text("", encoding="utf-8")
    (runner_folder / "matplotlibrc").write_text("lines.linewidth: 7\n", encoding="utf-8")
    monkeypatch.chdir(runner_folder)
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-plant.py").write_text("FROM_THE_USER_PROFILE = 1\n", encoding="utf-8")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "state.ipynb", 'which: str = "a"  # report name\nout: str = ""  # result file', STATE)
    names = ["a", "b", "c"]
    entries = [
        {"name": n, "notebook": "state.ipynb", "parameters": {"which": n, "out": str(tmp_path / f"{n}.json")}}
        for n in names
    ]
    reports.run(_plan(nbs, entries), tmp_path / "out", jobs=1, log=lambda line: None, cold=False)
    reports.run(
        _plan(
            nbs, [{**entries[0], "name": "a-cold", "parameters": {"which": "z", "out": str(tmp_path / "cold.json")}}]
        ),
        tmp_path / "out-cold",
        log=lambda line: None,
        cold=True,
    )
    assert _starts(tmp_path / "out") == dict.fromkeys(names, "warm")
    seen = {n: json.loads((tmp_path / f"{n}.json").read_text()) for n in names}
    cold = json.loads((tmp_path / "cold.json").read_text())
    for name, state in seen.items():
        assert state["planted"] is None  # nothing from the report before
        assert state["env"] == name
        assert state["pgid"] == state["pid"]  # its own process group, as jupyter_client's launcher gives
        for key in ("max_columns", "mpl_backend", "argv0", "main", "cwd", "planted", "path", "matplotlibrc", "environ"):
            assert state[key] == cold[key], key
        assert (state["linewidth"], state["probe"], state["profile"]) == (cold["linewidth"], False, None)
        assert state["history"] is cold["history"] is False  # no SQLite history shared by a run's kernels
    assert cold["linewidth"] != 7  # the runner's folder is not the kernels'; its matplotlibrc is not read
    assert len({state["pid"] for state in seen.values()}) == len(names)
    for draws in zip(*(state["random"] for state in seen.values())):  # unseeded generators: not the template's
        assert len(set(draws)) == len(names), draws


@linux_only
def test_a_kernel_the_template_cannot_stand_in_for_runs_cold(tmp_path, monkeypatch, capfd):
    """The template only forks kernels whose environment is its own (apart from the per-report variables):
    otherwise the report runs on a cold kernel, says why, and its manifest entry says cold."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    plan = _plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}])
    real = warm.Template.fork

    def changed_environment(self, argv, env, cwd):
        return real(self, argv, {**env, "LEFTBEHIND_SOMETHING_NEW": "1"}, cwd)

    monkeypatch.setattr(warm.Template, "fork", changed_environment)
    reports.run(plan, tmp_path / "out", log=lambda line: None, cold=False)
    assert _starts(tmp_path / "out") == {"plain": "cold"}
    assert (
        "environment differs from the template: LEFTBEHIND_SOMETHING_NEW; starting a cold kernel"
        in capfd.readouterr().err
    )


def test_without_fork_reports_run_cold_with_a_one_line_notice(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    monkeypatch.setattr(
        warm, "unavailable", lambda: "warm kernels need fork and pidfd_open (Linux); using cold kernels"
    )
    lines: list[str] = []
    plan = _plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}])
    reports.run(plan, tmp_path / "out", log=lines.append, cold=False)
    assert lines[0] == "warm kernels need fork and pidfd_open (Linux); using cold kernels"
    assert _starts(tmp_path / "out") == {"plain": "cold"}


def test_a_small_run_starts_cold_unless_asked_and_the_environment_can_choose(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    plan = _plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}])
    monkeypatch.delenv(warm.START_ENV, raising=False)
    reports.run(plan, tmp_path / "out", log=lambda line: None)
    assert _starts(tmp_path / "out") == {"plain": "cold"}  # one report: a template would cost more than it saves
    if not warm.unavailable():
        monkeypatch.setenv(warm.START_ENV, "warm")
        reports.run(plan, tmp_path / "out", log=lambda line: None, force=True)
        assert _starts(tmp_path / "out") == {"plain": "warm"}
    monkeypatch.setenv(warm.START_ENV, "cold")
    four = _plan(nbs, [{"name": f"p{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)])
    reports.run(four, tmp_path / "out4", log=lambda line: None)
    assert set(_starts(tmp_path / "out4").values()) == {"cold"}
    monkeypatch.setenv(warm.START_ENV, "tepid")
    with pytest.raises(
        ParameterError, match=r'LEFTBEHIND_KERNEL_START "tepid" is not a kernel start\. Valid: warm, cold'
    ):
        reports.run(plan, tmp_path / "out2", log=lambda line: None)
    assert not (tmp_path / "out2" / "manifest.json").exists()


@linux_only
def test_the_template_and_its_kernels_end_with_the_run(tmp_path, monkeypatch):
    """After a run (good, or with a report whose kernel dies), no template and no kernel of it is left: the
    processes this run started, recorded as it starts them (other runs on the machine are not looked at)."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    pids = tmp_path / "kernels"
    pids.mkdir()
    record = f"import os, pathlib\npathlib.Path({str(pids)!r}, str(os.getpid())).touch()\n"
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", record + "print(x)")
    _one_step_notebook(nbs / "dies.ipynb", "code: int = 3  # exit code", record + "import os\nos._exit(code)")
    plan = _plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}, {"name": "dies", "notebook": "dies.ipynb"}])
    templates: list[int] = []
    real = warm.Template.__init__

    def recorded(self: warm.Template, folder: Path, cwd: Path | None = None) -> None:
        real(self, folder, cwd)
        templates.append(self.process.pid)

    monkeypatch.setattr(warm.Template, "__init__", recorded)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(ReportError, match=r"dies .*kernel died during cell 3 \('import os, pathlib'\) \(exit code 3\)"):
        reports.run(plan, tmp_path / "out", log=lambda line: None, cold=False)
    started = templates + [int(p.name) for p in pids.iterdir()]
    assert len(started) == 3
    assert [pid for pid in started if _alive(pid)] == []
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before  # nothing the run started is left


@linux_only
def test_a_template_that_cannot_start_leaves_the_run_cold(tmp_path, monkeypatch):
    """Here: one that takes longer than allowed to import. The run says so in one line and every report still
    runs, cold."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    monkeypatch.setattr(warm, "START_TIMEOUT", 0.01)
    lines: list[str] = []
    reports.run(
        _plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}]), tmp_path / "out", log=lines.append, cold=False
    )
    assert lines[0] == "the kernel template did not start; using cold kernels"
    assert _starts(tmp_path / "out") == {"plain": "cold"}


def test_the_template_refuses_other_interpreters_and_environments():
    from leftbehind.reports import _template

    env = {"PATH": "/bin", "PYTHONHASHSEED": "0"}
    good = {"argv": [sys.executable, *_template.LAUNCHER, "-f", "k.json"], "env": dict(env), "cwd": "."}
    assert _template.refusal(good, env) == ""
    per_report = {**good, "env": {**env, "LEFTBEHIND_READS_LOG": "x", "JPY_PARENT_PID": "9"}}
    assert _template.refusal(per_report, env) == ""
    other = shutil.which("python3") or "/usr/bin/python3"
    assert _template.refusal({**good, "argv": [other + "-not", "-m", "ipykernel_launcher"]}, env).startswith(
        "not a kernel of this interpreter"
    )
    assert _template.refusal({**good, "env": {**env, "PYTHONHASHSEED": "1"}}, env) == (
        "environment differs from the template: PYTHONHASHSEED"
    )
    assert os.environ.get("PATH") is not None  # the test changed nothing of this process


def test_the_per_report_variables_are_those_the_runner_sets():
    from leftbehind._io import REPORT_ENV
    from leftbehind.data.tabular import READS_LOG_ENV
    from leftbehind.reports import _template

    assert _template.PER_REPORT == (READS_LOG_ENV, REPORT_ENV)  # the data reads' file, the report's name (its CSVs)


@linux_only
def test_a_kernel_that_kills_its_parent_fails_alone_and_the_run_goes_on_warm(tmp_path):
    """A warm kernel's parent is its report's keeper, forked by the template: a notebook can kill it. Its own report
    fails, saying its kernel died; the template is untouched, so the reports after it still start warm; nothing is
    left running. (A report that kills the template itself: tests/test_report_containment.py.)"""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "kernel.pid"
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    _one_step_notebook(
        nbs / "parricide.ipynb",
        "runner: int = 0  # PID that must not be killed",
        f"import os, pathlib, signal, time\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
        "assert os.getppid() not in (runner, 1)\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(30)",
    )
    entries = [{"name": "parricide", "notebook": "parricide.ipynb", "parameters": {"runner": os.getpid()}}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(2)]
    out = tmp_path / "out"
    with pytest.raises(ReportError) as info:
        reports.run(_plan(nbs, entries), out, jobs=1, log=lambda line: None, cold=False)
    outcomes = {o.report.name: o for o in info.value.outcomes}
    assert {n: o.status for n, o in outcomes.items()} == {"parricide": "failed", "plain0": "ok", "plain1": "ok"}
    assert outcomes["parricide"].error.startswith("kernel died during cell 3")
    assert _starts(out) == {"plain0": "warm", "plain1": "warm"}
    assert not _alive(int(marker.read_text()))
