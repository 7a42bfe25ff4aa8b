"""What a report costs beyond its own cells (issue 18): a kernel that is ready without a fixed wait and leaves no
stale message behind, the executed notebook written at start and end instead of around every cell, the
parameter domains read once per check, and a template that preloads while the plan is checked and is gone
when the check fails."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from queue import Empty

import psutil
import pytest

from leftbehind import reports
from leftbehind.errors import ParameterError
from leftbehind.reports import domains, execute, kernel, warm
from leftbehind.reports import plan as plan_module
from test_reports import _one_step_notebook, _plan

linux_only = pytest.mark.skipif(bool(warm.unavailable()), reason="warm kernels need fork and pidfd_open")


def test_a_new_kernel_is_ready_with_nothing_stale_on_its_channels(tmp_path):
    """jupyter_client waits for 0.2 s of quiet on IOPub; ours stops at the idle status of its last kernel_info
    request. Nothing may be left for the first cell to mistake for its own output."""

    async def start() -> tuple[list[str], list[str], dict]:
        options = execute._kernel_options(tmp_path, "ready")
        km = kernel.ReportKernelManager(kernel_name="python3", config=options["config"])
        await km.start_kernel(cwd=str(tmp_path), extra_arguments=options["extra_arguments"])
        kc = km.client()
        kc.start_channels()
        try:
            assert isinstance(kc, kernel.ReportKernelClient)
            await kc.wait_for_ready(timeout=60)
            left = {}
            for channel in ("shell", "iopub"):
                left[channel] = []
                while True:
                    try:
                        msg = await getattr(kc, f"{channel}_channel").get_msg(timeout=0.3)
                    except Empty:
                        break
                    left[channel].append(msg["msg_type"])
            msg_id = kc.execute("print(6 * 7)")
            outputs = []
            while True:
                msg = await kc.iopub_channel.get_msg(timeout=30)
                if msg["parent_header"].get("msg_id") != msg_id:
                    outputs.append(f"other: {msg['msg_type']}")
                elif msg["msg_type"] == "stream":
                    outputs.append(msg["content"]["text"])
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            reply = await kc.shell_channel.get_msg(timeout=30)
            return (
                left["shell"],
                left["iopub"],
                {"outputs": outputs, "reply": reply["parent_header"]["msg_id"] == msg_id},
            )
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    shell, iopub, first = asyncio.run(start())
    assert shell == [] and iopub == []
    assert first == {"outputs": ["42\n"], "reply": True}


def test_the_executed_notebook_is_written_at_start_and_end_not_around_every_cell(tmp_path, monkeypatch):
    """papermill writes the whole notebook before and after every cell, at the end, and once more when its
    engine is done; the report manager writes it when execution starts and papermill once at the end, and the
    running cell is named in a small file beside it."""
    import nbformat
    import papermill
    import papermill.engines as engines
    import papermill.execute as papermill_execute

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    source = nbs / "cells.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"x{i} = {i}\nprint(x{i})") for i in range(8)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, source)
    writes: list[str] = []
    original = engines.write_ipynb

    def counted(nb: object, path: str) -> None:
        writes.append(path)
        original(nb, path)

    monkeypatch.setattr(engines, "write_ipynb", counted)  # the manager's writes
    monkeypatch.setattr(papermill_execute, "write_ipynb", counted)  # papermill's own, once the engine is done
    out = tmp_path / "out.ipynb"
    with execute._kernel_environment():
        papermill.execute_notebook(
            str(source),
            str(out),
            engine_name=kernel.ENGINE,
            kernel_name="python3",
            progress_bar=False,
            state={},
            shutdown_kernel="immediate",
            **execute._kernel_options(tmp_path, "cells"),
        )
    assert len(writes) == 2  # start and end; papermill's manager: 19 (start, 8 × 2 around cells, end, then papermill)
    executed = nbformat.read(out, as_version=4)
    assert [c.outputs[0]["text"] for c in executed.cells] == [f"{i}\n" for i in range(8)]
    assert kernel.running_cell(out) == 7  # the last cell started
    assert kernel.running_cell(tmp_path / "never.ipynb") is None


def test_each_parameter_domain_is_read_once_per_check(tmp_path, monkeypatch):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "pick.ipynb", 'topic: str = "all"  # a seed topic', "print(topic)")
    calls = []

    def topics() -> tuple[str, ...]:
        calls.append(1)
        return ("all", "health")

    monkeypatch.setitem(domains.DOMAINS, "topic", topics)
    entries = [{"name": f"t{i}", "notebook": "pick.ipynb", "parameters": {"topic": "health"}} for i in range(6)]
    plan = plan_module.load_plan(_plan(nbs, entries))
    plan_module.check(plan)
    assert len(calls) == 1
    bad = plan_module.load_plan(
        _plan(nbs, [*entries, {"name": "x", "notebook": "pick.ipynb", "parameters": {"topic": "wealth"}}])
    )
    with pytest.raises(ParameterError, match=r'plan entry "x", parameter "topic": "wealth" is not a valid value'):
        plan_module.check(bad)


@linux_only
def test_a_plan_that_fails_its_check_leaves_no_template_behind(tmp_path, monkeypatch):
    """The template starts preloading while the plan is checked: a plan refused by the check stops it."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    entries = [{"name": f"p{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)]
    entries.append({"name": "bad", "notebook": "plain.ipynb", "parameters": {"x": "one"}})
    started: list[int] = []
    real = warm.Template.__init__

    def recorded(self: warm.Template, folder: Path, cwd: Path | None = None) -> None:
        real(self, folder, cwd)
        started.append(self.process.pid)

    monkeypatch.setattr(warm.Template, "__init__", recorded)
    with pytest.raises(ParameterError, match=r'plan entry "bad", parameter "x": \'one\' is a str'):
        reports.run(_plan(nbs, entries), tmp_path / "out", log=lambda line: None, cold=False)
    assert len(started) == 1  # it did start before the check
    assert not psutil.pid_exists(started[0]) or psutil.Process(started[0]).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert warm.current() is None


@linux_only
def test_the_template_is_started_before_the_runner_imports_the_heavy_modules(tmp_path):
    """The template preloads on one core while the runner imports the execution machinery and checks the plan on
    the other: it must be started before the runner has imported pandas, nbformat or jupyter_client (about
    three seconds of imports that once came first). Seen in a fresh interpreter."""
    import subprocess
    import sys

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    plan = _plan(nbs, [{"name": f"p{i}", "notebook": "plain.ipynb", "parameters": {"x": i}} for i in range(4)])
    code = f"""
import sys
from pathlib import Path
from leftbehind import reports
from leftbehind.reports import warm

class Seen(Exception):
    pass

def started(self, folder, tag, cwd=None):
    raise Seen(sorted(m for m in ("pandas", "nbformat", "jupyter_client", "papermill") if m in sys.modules))

warm.Template.__init__ = started
try:
    reports.run(Path({str(plan)!r}), Path({str(tmp_path / "out")!r}), log=lambda line: None, cold=False)
except Seen as exc:
    print("loaded when the template started:", exc.args[0])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "loaded when the template started: []", done.stdout + done.stderr


def test_a_notebooks_hashes_read_it_as_nbformat_does(tmp_path):
    """The incremental-build key hashes a notebook file, and the provenance header each cell's type, source and
    tags. Read as plain JSON (no nbformat import on a run with nothing to do), both must be what they were read
    through nbformat: for every notebook of the project and a written one with multi-line sources, tags and a
    raw cell."""
    import nbformat

    from conftest import REPO
    from leftbehind.reports import inputs

    def by_nbformat(path: Path) -> list[list[object]]:
        nb = nbformat.read(path, as_version=4)
        return [[c.cell_type, c.source, sorted(c.metadata.get("tags", []))] for c in nb.cells]

    def file_hash_by_nbformat(path: Path) -> str:  # the incremental key's notebook hash, as it was computed
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        return hashlib.sha256(json.dumps(nb, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

    written = tmp_path / "written.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell("a = 1\nb = 2\n", metadata={"tags": ["parameters", "b-tag"]}),
                nbformat.v4.new_markdown_cell("# Title\n\ntext"),
                nbformat.v4.new_raw_cell("raw"),
            ]
        ),
        written,
    )
    paths = sorted((REPO / "notebooks").glob("*.ipynb")) + [written]
    assert len(paths) > 5
    for path in paths:
        assert inputs._cell_parts(str(path)) == by_nbformat(path), path.name
        assert inputs._file_hash(str(path), 0, 0) == file_hash_by_nbformat(path), path.name
    assert inputs._cell_parts(str(written))[0] == ["code", "a = 1\nb = 2\n", ["b-tag", "parameters"]]


def test_a_worker_renders_a_report_without_importing_or_compiling_anything_new(tmp_path):
    """Each report's worker is forked from the runner after :func:`execute._preload_executor`: what rendering and
    cleaning up after a report need must be imported and initialised by then (Beautiful Soup's entity table,
    Pillow's PNG plugin, psutil, ipykernel's kernelspec), or every report pays for it again (about 0.1 s of
    CPU each). Seen in a fresh interpreter, on a real executed report notebook with figures, tables and prose."""
    import subprocess
    import sys

    code = """
import sys
from pathlib import Path
import nbformat
import os
from leftbehind.reports import execute, kernel, processes, publish
from leftbehind.reports.plan import default_plan_path, load_plan
from leftbehind.reports.outcomes import Outcome
from leftbehind._io import REPO_ROOT

execute._preload_executor()
report = next(r for r in load_plan(default_plan_path()) if r.name.startswith("05_"))
nb = nbformat.read(report.notebook, as_version=4)
import base64, io
from PIL import Image
png = io.BytesIO()
Image.new("RGB", (640, 480), "white").save(png, format="PNG")
figure = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png.getvalue()).decode()})
table = nbformat.v4.new_output("execute_result", data={"text/html": "<table><tr><td>&lt;1 &amp; 2</td></tr></table>"},
    execution_count=1)
for cell in nb.cells:  # a figure and a table, as an executed profile has
    if cell.cell_type == "code":
        cell.outputs = [figure, table]
how = publish.Publishing(REPO_ROOT, False, {"environment": {"versions": {}, "leftbehind": "x", "git_commit": "x",
    "lock_sha256": "x"}, "data_package": {"sha256": "x"}})
before = set(sys.modules)
rendered, outcome = publish.render(report, nb, Outcome(report, "ok"), how)
processes.sweep(spare=processes.children(os.getpid()))
from bs4.dammit import EntitySubstitution
print(outcome.status, rendered is not None, sorted(set(sys.modules) - before), EntitySubstitution._CLASS_VARIABLES_POPULATED)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok True [] True", done.stdout + done.stderr


def test_a_report_renders_while_the_next_one_executes_and_no_more_execute_than_jobs(tmp_path, monkeypatch):
    """A worker tells the runner when its report's kernel is gone; the next report's execution starts then, not
    once the worker has also rendered the report's files. Executions never overlap beyond ``jobs`` (here 1), and
    every report still arrives with its rendered files."""
    import time

    from leftbehind.reports import publish
    from leftbehind.reports.plan import Report

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "plain.ipynb", "x: int = 1  # printed", "print(x)")
    chosen = [Report(f"r{i}", nbs / "plain.ipynb", f"R{i}", {"x": i}, "g") for i in range(3)]
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    execute_original, render_original = execute._execute, publish.render

    def timed_execute(report, workdir, timeout, kernel_gone=None):  # type: ignore[no-untyped-def]
        start, gone = time.monotonic(), []

        def told() -> None:  # an execution lasts until its kernel is gone
            gone.append(time.monotonic())
            if kernel_gone is not None:
                kernel_gone()

        result = execute_original(report, workdir, timeout, told)
        (stamps / f"{report.name}.execute").write_text(f"{start} {gone[0]}")
        return result

    def slow_render(report, nb, outcome, how):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        time.sleep(3)
        result = render_original(report, nb, outcome, how)
        (stamps / f"{report.name}.render").write_text(f"{start} {time.monotonic()}")
        return result

    monkeypatch.setattr(execute, "_execute", timed_execute)
    monkeypatch.setattr(publish, "render", slow_render)  # workers are forked from this process: they see both
    how = publish.Publishing(tmp_path, False, {})
    monkeypatch.setattr(publish, "_with_provenance", lambda html, *args: html)
    work = tmp_path / "work"
    work.mkdir()
    with execute._kernel_environment():
        done = list(execute._in_processes(chosen, work, 60, 1, how))
    assert [(r.name, o.status, rendered is not None) for r, _, o, rendered in done] == [
        ("r0", "ok", True),
        ("r1", "ok", True),
        ("r2", "ok", True),
    ]

    def read(name: str, step: str) -> tuple[float, float]:
        start, end = (stamps / f"{name}.{step}").read_text().split()
        return float(start), float(end)

    for before, after in (("r0", "r1"), ("r1", "r2")):
        assert read(after, "execute")[0] >= read(before, "execute")[1]  # one execution at a time (jobs=1)
        assert read(after, "execute")[0] < read(before, "render")[1]  # the next one started during the render


def test_the_next_execution_may_start_once_the_kernel_is_shut_down_before_the_notebook_is_written(tmp_path):
    """``kernel_gone`` is called when the report's kernel has been shut down, before papermill writes the executed
    notebook and before the report's processes are swept: that writing and sweeping overlap the next report's
    start instead of delaying it. By then no process of the report is left."""
    import nbformat

    from leftbehind.reports.plan import Report

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    marker = tmp_path / "kernel.pid"
    _one_step_notebook(
        nbs / "plain.ipynb",
        "x: int = 1  # printed",
        f"import os, pathlib\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\nprint(x)",
    )
    report = Report("gone", nbs / "plain.ipynb", "Gone", {"x": 7}, "g")
    seen: list[tuple[int, bool]] = []

    def kernel_gone() -> None:
        on_disk = nbformat.read(tmp_path / "gone.ipynb", as_version=4)  # as written when execution started
        alive = psutil.pid_exists(int(marker.read_text())) and psutil.Process(int(marker.read_text())).status() != (
            psutil.STATUS_ZOMBIE
        )
        seen.append((sum(len(c.get("outputs", [])) for c in on_disk.cells), alive))

    nb, outcome = execute._execute(report, tmp_path, 60, kernel_gone)
    assert outcome.status == "ok", outcome.error
    assert seen and seen[0] == (0, False)  # called once the kernel was gone, before the final write
    assert [o["text"] for c in nb.cells for o in c.get("outputs", [])] == ["7\n"]
    assert nbformat.read(tmp_path / "gone.ipynb", as_version=4) == nb  # then written


def test_the_running_cell_is_marked_in_place_never_truncated(tmp_path):
    """The running cell's index is written over the start of a fixed-size file: rewriting a truncated file makes
    ext4 wait for the disk on close (1 to 3 ms on every cell of every report, with the kernel idle meanwhile)."""
    import nbformat

    out = tmp_path / "marks.ipynb"
    manager = kernel.ReportExecutionManager(nbformat.v4.new_notebook(), output_path=str(out), progress_bar=False)
    inodes, sizes = set(), set()
    try:
        for index in (0, 123456, 7):
            manager._mark(index)
            mark = Path(f"{out}.cell")
            inodes.add(mark.stat().st_ino)
            sizes.add(mark.stat().st_size)
            assert kernel.running_cell(out) == index
    finally:
        manager.close_marks()
    assert len(inodes) == 1 and sizes == {kernel.CELL_MARK_WIDTH}
    assert kernel.running_cell(out) == 7


def test_checking_the_plan_loads_neither_scipy_nor_matplotlib():
    """The runner checks the whole plan while the template preloads on the other core: listing the valid
    outcomes, pooling methods and world indicators must not import SciPy's statistics or matplotlib (about 1.5 s
    of a run's start, on the runner's core, which once made the runner, not the template, the last to be ready).
    Seen in a fresh interpreter, on the project's own plan."""
    import subprocess
    import sys

    code = """
import sys
from leftbehind.reports import plan
plan.check(plan.load_plan(plan.default_plan_path()))
print(sorted(m for m in ("scipy.stats", "scipy.optimize", "matplotlib", "matplotlib.pyplot") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
