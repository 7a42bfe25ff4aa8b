"""Files the runner keeps beside its reports, and what a kernel reads from its folder (issue 29 item 6): the
durations cache read without following links, without waiting and within a bound, and pruned; atomic writes
that a planted ``.partial`` link cannot redirect; a ``matplotlibrc`` a report writes into the notebooks folder
seen by warm and cold kernels alike; warnings without temporary paths, so that two runs give the same bytes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from leftbehind import reports
from leftbehind._io import write_atomic
from leftbehind.reports import schedule, warm
from test_reports import _hashes, _one_step_notebook, _plan

linux_only = pytest.mark.skipif(bool(warm.unavailable()), reason="warm kernels need fork and pidfd_open")

#: Reads the durations cache in a fresh interpreter with at most 512 MiB of memory: what a run does first.
LOAD = textwrap.dedent(
    """\
    import resource, time
    resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
    from leftbehind.reports import schedule
    start = time.monotonic()
    durations = schedule.load("plan")
    print(len(durations), round(time.monotonic() - start, 1))
    """
)


def _load_elsewhere(cache: Path) -> str:
    """What :data:`LOAD` prints with ``cache`` as the cache folder; a hang (a FIFO) fails after 60 s."""
    env = {**os.environ, schedule.CACHE_ENV: str(cache)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", LOAD], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading the durations cache did not end within 60 s")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_durations_cache_that_is_a_fifo_a_link_to_dev_zero_or_huge_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache / "report-durations.json"
    os.mkfifo(path)  # no writer will ever come
    assert _load_elsewhere(cache).split()[0] == "0"
    path.unlink()
    path.symlink_to("/dev/zero")  # endless
    assert _load_elsewhere(cache).split()[0] == "0"
    path.unlink()
    big = {"version": schedule.VERSION, "plans": {"plan": {f"report_{i:07d}": 1.0 for i in range(200_000)}}}
    path.write_text(json.dumps(big), encoding="utf-8")  # valid, but about 5 MB
    assert path.stat().st_size > schedule.MAX_BYTES
    count, seconds = _load_elsewhere(cache).split()
    assert count == "0" and float(seconds) < 1.0


def test_the_durations_cache_forgets_reports_no_longer_in_the_plan_and_stays_small(tmp_path, monkeypatch):
    monkeypatch.setenv(schedule.CACHE_ENV, str(tmp_path))
    schedule.save("plan", {"old": 5.0, "kept": 2.0})
    schedule.save("plan", {"new": 1.0}, keep=["kept", "new"])
    assert schedule.load("plan") == {"kept": 2.0, "new": 1.0}
    many = {f"report_{i:06d}": 1.0 for i in range(30_000)}
    for plan in range(5):  # each plan about 0.9 MB of names: together more than the file may hold
        schedule.save(f"plan{plan}", many, keep=list(many))
    path = schedule.cache_file()
    assert path is not None and path.stat().st_size <= schedule.MAX_BYTES
    assert schedule.load("plan4") == many  # the last plan run is kept; older ones went first


def test_atomic_writes_do_not_follow_a_planted_partial_link(tmp_path):
    """A link planted where the temporary file of the next write would be (``.<name>.<pid>.partial`` was
    predictable) must not carry the bytes to the file it points at."""
    folder = tmp_path / "reports"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched", encoding="utf-8")
    for name in (f".a.html.{os.getpid()}.partial", ".a.html.partial"):
        (folder / name).symlink_to(victim)
    write_atomic(folder / "a.html", "report")
    assert victim.read_text(encoding="utf-8") == "untouched"
    assert (folder / "a.html").read_text(encoding="utf-8") == "report"
    assert not (folder / "a.html").is_symlink()
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial") and not p.is_symlink()]


@linux_only
def test_a_matplotlibrc_written_by_a_report_is_seen_alike_by_warm_and_cold_kernels(tmp_path, capfd):
    """A report writes ``matplotlibrc`` into the notebooks folder (the kernels' working folder); a fresh kernel
    started after it reads it, so a kernel forked from a template that read that folder before must not stand in
    for one: warm and cold runs give the later report the same bytes, and the run says why it started cold."""
    rc = "lines.linewidth: 7\n"
    source = tmp_path / "source"
    source.mkdir()
    _one_step_notebook(
        source / "writer.ipynb",
        "x: int = 1  # unused",
        f"import pathlib\npathlib.Path('matplotlibrc').write_text({rc!r})",
    )
    _one_step_notebook(
        source / "reader.ipynb",
        "x: int = 1  # unused",
        "import matplotlib\nprint(matplotlib.rcParams['lines.linewidth'])",
    )
    outs, lines = {}, []
    for start in ("warm", "cold"):  # each run from a copy of the notebooks folder as it was
        nbs = tmp_path / start / "notebooks"
        shutil.copytree(source, nbs)
        entries = [{"name": "writer", "notebook": "writer.ipynb"}, {"name": "reader", "notebook": "reader.ipynb"}]
        outs[start] = tmp_path / start / "out"
        reports.run(_plan(nbs, entries), outs[start], jobs=1, log=lines.append, cold=start == "cold")
    err = capfd.readouterr().err
    warm_files, cold_files = _hashes(outs["warm"]), _hashes(outs["cold"])
    for files in (warm_files, cold_files):
        files.pop("manifest.json")
    assert warm_files == cold_files
    reader = json.loads((outs["warm"] / "reader.ipynb").read_text(encoding="utf-8"))
    assert "".join(reader["cells"][-1]["outputs"][0]["text"]) == "7.0\n"
    manifest = json.loads((outs["warm"] / "manifest.json").read_text(encoding="utf-8"))
    assert {e["name"]: e["generated_with"]["kernel"]["start"] for e in manifest["reports"]} == {
        "writer": "warm",
        "reader": "cold",
    }
    said = "\n".join(lines) + err  # by the run, or by the worker that asked the template first
    assert "matplotlibrc in the kernels' folder changed during the run" in said, said


def test_a_warning_puts_no_temporary_path_in_a_report_and_two_runs_agree(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(
        nbs / "warns.ipynb",
        "x: int = 1  # unused",
        "import warnings\ndef check():\n    warnings.warn('careful', stacklevel=2)\ncheck()\nprint('done')",
    )
    plan = _plan(nbs, [{"name": "warns", "notebook": "warns.ipynb"}])
    out = tmp_path / "out"
    reports.run(plan, out, log=lambda line: None)
    first = _hashes(out)
    nb = json.loads((out / "warns.ipynb").read_text(encoding="utf-8"))
    shown = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "UserWarning: careful" in shown
    assert "ipykernel_" not in shown and "/tmp" not in shown and os.path.sep + "ipykernel" not in shown, shown
    reports.run(plan, out, log=lambda line: None, force=True)
    assert _hashes(out) == first


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_report_that_replaces_its_record_of_reads_with_a_fifo_fails_alone(tmp_path):
    """The kernel records the data files it reads in a file the runner then reads: a report that puts a FIFO there
    fails with that said, instead of the runner waiting for a writer that never comes."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(
        nbs / "fifo.ipynb",
        "x: int = 1  # unused",
        "import os\nlog = os.environ['LEFTBEHIND_READS_LOG']\nif os.path.exists(log):\n    os.unlink(log)\n"
        "os.mkfifo(log)",
    )
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    plan = _plan(nbs, [{"name": "fifo", "notebook": "fifo.ipynb"}, {"name": "plain", "notebook": "plain.ipynb"}])
    with open(tmp_path / "stderr", "w") as stderr:  # a file: a process left waiting would hold a pipe open
        proc = subprocess.Popen(
            [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(tmp_path / "out")],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("the run did not end within 180 s")
    assert proc.returncode == 1, (tmp_path / "stderr").read_text()
    entries = {e["name"]: e for e in json.loads((tmp_path / "out" / "manifest.json").read_text())["reports"]}
    assert entries["plain"]["status"] == "ok"
    assert entries["fifo"]["error"] == "the list of data files the report read could not be read (not a regular file)"
