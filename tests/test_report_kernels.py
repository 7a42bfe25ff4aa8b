"""Report kernels (issue 17 items 2, 4, 10, 11): the runner's own interpreter whatever kernelspecs say, no
process outliving its report, interrupts that stop a parallel run at once, and failures that say what
happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO
from leftbehind import reports
from leftbehind.errors import ReportError
from leftbehind.reports import kernel
from test_reports import _alive, _hashes, _notebook, _one_step_notebook, _plan

posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups and signals as on POSIX")


def _cli(plan: Path, out: Path, *args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(out), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def _wait_for(paths: list[Path], proc: subprocess.Popen | None = None, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not all(p.exists() and p.read_text().strip() for p in paths):
        assert proc is None or proc.poll() is None, proc.stderr.read() if proc and proc.stderr else ""
        assert time.monotonic() < deadline, f"not written within {seconds} s: {paths}"
        time.sleep(0.2)


def _decoy_kernelspec(folder: Path) -> Path:
    """A ``python3`` kernelspec whose interpreter is not the runner's (a symlink outside any environment, so
    another sys.executable and sys.prefix) and whose path starts with a fake ``leftbehind``."""
    decoy = folder / "decoy"
    (decoy / "pkgs" / "leftbehind").mkdir(parents=True)
    (decoy / "pkgs" / "leftbehind" / "__init__.py").write_text('__version__ = "decoy"\n', encoding="utf-8")
    (decoy / "bin").mkdir()
    (decoy / "bin" / "python3").symlink_to(sys.executable)
    import ipykernel

    site = str(Path(ipykernel.__file__).parents[1])  # so that the decoy can still run ipykernel
    spec_dir = folder / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(decoy / "bin" / "python3"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Decoy",
        "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join([str(decoy / "pkgs"), site])},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder / "jupyter"


@posix_only
def test_reports_run_with_the_runners_interpreter_not_a_python3_kernelspec(tmp_path):
    """A user's (or a moved environment's) ``python3`` kernelspec pointing at another interpreter and another
    leftbehind is ignored: the kernel is the runner's interpreter, and the manifest says what it ran."""
    jupyter = _decoy_kernelspec(tmp_path)
    env = {**os.environ, "JUPYTER_PATH": str(jupyter), "JUPYTER_DATA_DIR": str(jupyter)}
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert str(jupyter) in json.loads(listed.stdout)["kernelspecs"]["python3"]["resource_dir"]  # the decoy wins
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "kernel.json"
    _one_step_notebook(
        nbs / "where.ipynb",
        "x: int = 1  # unused",
        f"import json, pathlib, sys, leftbehind\npathlib.Path({str(marker)!r}).write_text("
        "json.dumps([sys.executable, sys.prefix, leftbehind.__file__]))",
    )
    out = tmp_path / "reports"
    proc = _cli(_plan(nbs, [{"name": "where", "notebook": "where.ipynb"}]), out, env=env)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    executable, prefix, package = json.loads(marker.read_text())
    assert (executable, prefix) == (sys.executable, sys.prefix)
    assert Path(package).resolve() == Path(kernel.__file__).resolve().parents[1] / "__init__.py"
    entry = json.loads((out / "manifest.json").read_text())["reports"][0]
    import platform

    assert entry["generated_with"]["kernel"] == {
        "python": platform.python_version(),
        "same_interpreter_as_runner": True,
        "leftbehind": kernel.record(kernel.runner_answers())["leftbehind"],
        "data": kernel.record(kernel.runner_answers())["data"],
        "start": "warm" if os.environ.get("LEFTBEHIND_KERNEL_START") == "warm" else "cold",  # one report: cold
    }
    assert not entry["generated_with"]["kernel"]["leftbehind"].startswith("/")


@posix_only
def test_notebooks_refresh_uses_this_interpreter_too(tmp_path, monkeypatch):
    from leftbehind import notebooks

    jupyter = _decoy_kernelspec(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter))
    path = tmp_path / "where.ipynb"
    marker = tmp_path / "executable.txt"
    _notebook(path, [new_code_cell(f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text(sys.executable)")])
    notebooks.refresh([path])
    assert marker.read_text() == sys.executable


def test_a_kernel_that_is_not_the_runners_fails_its_report(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # unused", "print(x)")
    runner = kernel.runner_answers()
    elsewhere = {**runner, "leftbehind": "/elsewhere/leftbehind/__init__.py"}
    monkeypatch.setattr(kernel, "runner_answers", lambda: elsewhere)
    out = tmp_path / "reports"
    with pytest.raises(ReportError) as info:
        reports.run(_plan(nbs, [{"name": "plain", "notebook": "plain.ipynb"}]), out, log=lambda line: None)
    message = str(info.value)
    assert "plain (plain.ipynb), the kernel did not run the runner's interpreter" in message
    assert f"leftbehind {runner['leftbehind']} (the runner's: /elsewhere/leftbehind/__init__.py)" in message
    assert "interpreter " + sys.executable not in message  # only what differs is named
    assert not (out / "plain.html").exists() and (out / "_failed" / "plain.ipynb").exists()


@posix_only
def test_no_process_started_by_a_notebook_outlives_its_report(tmp_path):
    """A child, a child in a new session and a double-forked daemon are all gone when the report ends."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    pids = tmp_path / "pids"
    code = textwrap.dedent(
        f"""\
        import os, pathlib, subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        detached = subprocess.Popen(["sleep", "301"], start_new_session=True)
        read, write = os.pipe()
        if os.fork() == 0:  # a daemon: fork, new session, fork again; the middle process exits
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                time.sleep(302)
            os._exit(0)
        daemon = os.read(read, 20).decode()
        pathlib.Path({str(pids)!r}).write_text(f"{{child.pid}} {{detached.pid}} {{daemon}}")
        """
    )
    _one_step_notebook(nbs / "spawn.ipynb", "x: int = 1  # unused", code)
    reports.run(_plan(nbs, [{"name": "spawn", "notebook": "spawn.ipynb"}]), tmp_path / "out", log=lambda line: None)
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 3
    assert [pid for pid in started if _alive(pid)] == []


def _sleeping_project(tmp_path: Path, names: list[str]) -> tuple[Path, Path, dict[str, Path]]:
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    markers = {name: tmp_path / f"{name}.pid" for name in names}
    _one_step_notebook(
        nbs / "sleepy.ipynb",
        'marker: str = ""  # where the kernel writes its PID\nseconds: int = 0  # how long to sleep',
        "import os, pathlib, time\nif marker:\n    pathlib.Path(marker).write_text(str(os.getpid()))\n"
        "time.sleep(seconds)",
    )
    return nbs, tmp_path / "reports", markers


@posix_only
@pytest.mark.parametrize(
    ("how", "sleeping"),
    [
        ("SIGTERM to the runner", ["one", "two"]),
        ("SIGINT to the process group", ["one", "two"]),
        ("SIGINT to the process group", ["one"]),  # the other worker has finished its report and is idle
    ],
    ids=["SIGTERM", "SIGINT-group", "SIGINT-group-idle-worker"],
)
def test_interrupting_a_parallel_run_stops_it_at_once_and_cleans_up(tmp_path, how, sleeping):
    names = ["one", "two"]
    nbs, out, markers = _sleeping_project(tmp_path, names)
    plan = _plan(nbs, [{"name": n, "notebook": "sleepy.ipynb"} for n in names])
    assert reports.run(plan, out, log=lambda line: None)  # a first, good run: it must survive the interrupt
    before = _hashes(out)
    seconds = {n: 60 if n in sleeping else 0 for n in names}
    plan = _plan(
        nbs,
        [
            {"name": n, "notebook": "sleepy.ipynb", "parameters": {"marker": str(markers[n]), "seconds": seconds[n]}}
            for n in names
        ],
    )
    scratch = tmp_path / "tmp"
    runtime = tmp_path / "runtime"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "JUPYTER_RUNTIME_DIR": str(runtime)}
    proc = _cli(plan, out, "--jobs", "2", "--timeout", "45", env=env, start_new_session=True)
    try:
        _wait_for(list(markers.values()), proc)
        kernels = [int(markers[n].read_text()) for n in sleeping]
        assert all(_alive(pid) for pid in kernels)
        if len(sleeping) < len(names):
            time.sleep(3)  # let the quick report finish and its worker go idle
        started = time.monotonic()
        if how == "SIGTERM to the runner":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert elapsed < 5, f"the run took {elapsed:.1f} s to stop"
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "interrupted: the reports that had finished are published and in the index" in stderr, stderr
    assert [pid for pid in kernels if _alive(pid)] == []
    assert list(scratch.iterdir()) == []  # the run's temporary folder is gone
    assert not runtime.exists() or list(runtime.iterdir()) == []  # no kernel connection files left behind
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]
    finished = set(names) - set(sleeping)  # a report that finished before the signal was written, as it should

    def kept(hashes: dict[str, str]) -> dict[str, str]:
        rewritten = {"manifest", "index"} if finished else set()  # they must then describe the finished report
        return {k: v for k, v in hashes.items() if Path(k).stem not in finished | rewritten}

    assert kept(_hashes(out)) == kept(before)  # earlier reports untouched (and manifest and index, if none finished)
    entries = {e["name"]: e for e in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]}
    for name in names:  # the manifest describes what is on disk: the new run of a finished report, else the old one
        assert entries[name]["parameters"] == ({"marker": str(markers[name]), "seconds": 0} if name in finished else {})


@posix_only
def test_a_worker_process_that_dies_fails_only_its_own_report(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "kernel.pid"
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # unused", "print(x)")
    # the kernel kills the worker process that started it (never the test's own process); the worker is the
    # kernel's parent when it starts cold, the process jupyter_client names in JPY_PARENT_PID in both starts
    _one_step_notebook(
        nbs / "killer.ipynb",
        "runner: int = 0  # PID that must not be killed",
        f"import os, pathlib, signal, time\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
        "worker = int(os.environ['JPY_PARENT_PID'])\n"
        "assert worker not in (runner, 1)\nos.kill(worker, signal.SIGKILL)\ntime.sleep(30)",
    )
    entries = [{"name": "killer", "notebook": "killer.ipynb", "parameters": {"runner": os.getpid()}}]
    entries += [{"name": f"plain{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(3)]
    out = tmp_path / "reports"
    with pytest.raises(ReportError) as info:
        reports.run(_plan(nbs, entries), out, jobs=2, log=lambda line: None)
    outcomes = {o.report.name: o for o in info.value.outcomes}
    assert {n: o.status for n, o in outcomes.items()} == {
        "killer": "failed",
        "plain0": "ok",
        "plain1": "ok",
        "plain2": "ok",
    }
    assert outcomes["killer"].error == "the worker process running this report died during cell 3 (killed by SIGKILL)"
    assert "killer (killer.ipynb), the worker process running this report died during cell 3 ('import os" in str(
        info.value
    )
    assert not _alive(int(marker.read_text()))  # its kernel did not outlive it


def test_failures_say_what_happened(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    param = "x: int = 1  # unused"
    _one_step_notebook(nbs / "dies.ipynb", param, "import os\nos._exit(1)")
    _one_step_notebook(nbs / "slow.ipynb", param, "import time\ntime.sleep(30)")
    _one_step_notebook(
        nbs / "invalid.ipynb", param, "from IPython.display import display\ndisplay({'image/png': 123}, raw=True)"
    )
    _notebook(nbs / "fine.ipynb", [new_code_cell(param, metadata={"tags": ["parameters"]}), new_code_cell("x")])
    names = ["dies", "slow", "invalid", "fine"]
    out = tmp_path / "reports"
    with pytest.raises(ReportError) as info:
        reports.run(
            _plan(nbs, [{"name": n, "notebook": f"{n}.ipynb"} for n in names]),
            out,
            timeout=3,
            jobs=2,
            log=lambda line: None,
        )
    message = str(info.value)
    assert "dies (dies.ipynb), kernel died during cell 3 ('import os') (exit code 1)" in message
    assert "slow (slow.ipynb), cell 3 ('import time') timed out after 3 s" in message
    assert (
        "invalid (invalid.ipynb), output of cell 3 ('from IPython.display import display') could not be rendered: "
        "123 is not valid" in message
    )
    assert "before any cell ran" not in message
    manifest = {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["reports"]}
    assert manifest["dies"]["error"] == "kernel died during cell 3 (exit code 1)"
    assert manifest["slow"]["error"] == "cell 3 timed out after 3 s"
    assert manifest["invalid"]["error"].startswith("output of cell 3 could not be rendered: ")
    assert {manifest[n]["failed_cell"] for n in ("dies", "slow", "invalid")} == {3}
    assert manifest["fine"]["status"] == "ok"
