"""Executing one report: a kernel per report (the runner's own interpreter, see :mod:`.kernel`), its
environment, what went wrong said plainly (the cell named), HTML exported in this process. Several reports
run at once each in its own worker process, which an interrupt stops at once. Used by
:mod:`leftbehind.reports.run`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import os
import re
import signal
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from .plan import Report


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happened to one report in a run."""

    report: Report
    status: str  # "ok" or "failed"
    error: str = ""
    cell_index: int | None = None  # 1-based number of the failing cell in the source notebook
    cell_source: str = ""
    reads: tuple[str, ...] = ()  # data-package resources the notebook loaded
    skipped: bool = False  # nothing it depends on changed since its last good run
    kernel: dict[str, Any] = dataclasses.field(default_factory=dict)  # what the kernel ran (kernel.record)

    def summary(self) -> str:
        """What went wrong and where, for the run's summary: ``cell 3 ('if fail:'): ValueError: …`` for an
        exception in a cell; ``cell 3 ('time.sleep(60)') timed out after 45 s``, ``kernel died during cell 3
        ('os._exit(1)') (exit code 1)``, ``output of cell 3 (…) could not be rendered: …`` otherwise."""
        if self.cell_index is None:
            return self.error
        named = re.compile(rf"\bcell {self.cell_index}\b")
        where = f"cell {self.cell_index} ({self.cell_source!r})"
        if named.search(self.error):
            return named.sub(lambda m: where, self.error, count=1)
        return f"{where}: {self.error}"


def _export_html(nb: Any, title: str, show_code: bool) -> str:
    from nbconvert import HTMLExporter

    templates = Path(__file__).parent / "templates" / "nbconvert"
    exporter = HTMLExporter(
        template_name="leftbehind",
        extra_template_basedirs=[str(templates)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


@contextlib.contextmanager
def _kernel_environment(reads_log: Path | None = None, tag: str = "") -> Iterator[None]:
    """Environment for report kernels: matplotlib's inline backend (a caller's MPLBACKEND=Agg would hide
    every chart), a fixed hash seed, so that nothing in a report depends on the calling shell, the file
    where leftbehind.data records the resources the notebook loads, and the tag that finds the kernel's
    processes (:data:`.kernel.KERNEL_ENV`). Relative PYTHONPATH and LEFTBEHIND_DATA_DIR entries are made
    absolute: the kernel starts in the notebook's folder, and must import what the runner imports."""
    from .._io import DATA_ENV_VAR
    from ..data.tabular import READS_LOG_ENV
    from .kernel import KERNEL_ENV

    keys = ("MPLBACKEND", "PYTHONHASHSEED", READS_LOG_ENV, KERNEL_ENV, "PYTHONPATH", DATA_ENV_VAR)
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.pop("MPLBACKEND", None)
    os.environ["PYTHONHASHSEED"] = "0"
    if reads_log is not None:
        os.environ[READS_LOG_ENV] = str(reads_log)
    if tag:
        os.environ[KERNEL_ENV] = tag
    python_path, data = saved["PYTHONPATH"], saved[DATA_ENV_VAR]
    if python_path:
        os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in python_path.split(os.pathsep))
    if data:
        os.environ[DATA_ENV_VAR] = os.path.abspath(data)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _source_cell_number(executed: Any, index: int) -> int:
    """1-based number, in the source notebook, of executed cell ``index`` (papermill's injected-parameters
    cell is not in the source, so cells after it shift by one)."""
    injected = [i for i, c in enumerate(executed.cells) if "injected-parameters" in c.metadata.get("tags", [])]
    return index + 1 - (1 if injected and injected[0] < index else 0)


def _kernel_transport(workdir: Path, name: str) -> dict[str, Any]:
    """Extra nbclient options: on POSIX, talk to the kernel over Unix-domain sockets in the run's private
    temporary folder instead of loopback TCP ports. No port is opened for other local users, and
    ipykernel no longer warns, once per report, that it is "running over TCP without encryption".
    The socket path is kept short (Unix sockets allow about 100 characters). The connection file is
    written there too, so an interrupted run leaves nothing in Jupyter's runtime folder."""
    from traitlets.config import Config

    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    options: dict[str, Any] = {"connection_file": str(workdir / f"k{tag}.json")}
    if os.name == "posix":
        options.update({"transport": "ipc", "ip": str(workdir / f"k{tag}")})
    return {"config": Config({"KernelManager": options})}


def _exit_status(code: int | None) -> str:
    """``exit code 1``, ``killed by SIGKILL``; ``""`` when unknown."""
    if code is None:
        return ""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _cell(nb: Any, index: int | None) -> tuple[int | None, str]:
    """Source number and first line of executed cell ``index``, when known."""
    if nb is None or index is None or not 0 <= index < len(nb.cells):
        return None, ""
    first_line = next((ln for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
    return _source_cell_number(nb, index), first_line


def _failure(report: Report, exc: BaseException, nb: Any, state: dict[str, Any], timeout: int) -> Outcome:
    """Say what happened: which cell timed out, during which cell the kernel died, whose output is invalid."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    number, source = _cell(nb, state.get("cell"))
    status = _exit_status(state.get("exit"))
    if isinstance(exc, CellTimeoutError) and number is not None:
        seconds = re.search(r"after (\d+) seconds", str(exc))
        error = f"cell {number} timed out after {seconds.group(1) if seconds else timeout} s"
    elif isinstance(exc, DeadKernelError | RuntimeError) and "died" in str(exc):
        during = f"during cell {number}" if number is not None else "before any cell ran"
        error = f"kernel died {during}" + (f" ({status})" if status else "")
    elif isinstance(exc, nbformat.ValidationError) and number is not None:
        where = "".join(f"[{p!r}]" for p in getattr(exc, "relative_path", ()))
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        error = f"output of cell {number} could not be rendered: {detail}" + (f" (at {where})" if where else "")
    else:
        where = f"cell {number} stopped" if number is not None else "before any cell ran"
        error = f"{where}: {type(exc).__name__}: {exc}"
    return Outcome(report, "failed", error=error, cell_index=number, cell_source=source)


def _execute(report: Report, workdir: Path, timeout: int) -> tuple[Any, Outcome]:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import kernel

    out_path = workdir / f"{report.name}.ipynb"
    reads_log = workdir / f"{report.name}.reads"
    tag = f"{workdir.name}/{report.name}"
    state: dict[str, Any] = {}
    try:
        with _kernel_environment(reads_log, tag):
            papermill.execute_notebook(
                str(report.notebook),
                str(out_path),
                parameters=report.parameters,
                engine_name=kernel.ENGINE,  # the runner's own interpreter, whatever kernelspecs say
                kernel_name="python3",
                language="python",  # a notebook need not say (VS Code writes none): the runner runs Python
                state=state,
                cwd=str(report.notebook.parent),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                start_timeout=120,
                shutdown_kernel="immediate",  # outputs are collected by then; a graceful shutdown only waits
                **_kernel_transport(workdir, report.name),
            )
    except PapermillExecutionError as exc:
        nb = nbformat.read(out_path, as_version=4)
        first_line = next((ln for ln in exc.source.splitlines() if ln.strip()), "")
        return nb, Outcome(
            report,
            "failed",
            error=f"{exc.ename}: {exc.evalue}",
            cell_index=_source_cell_number(nb, exc.cell_index),
            cell_source=first_line,
        )
    except Exception as exc:  # kernel died, timeout, invalid output, bad notebook: still isolate this report
        nb = nbformat.read(out_path, as_version=4) if out_path.exists() else None
        return nb, _failure(report, exc, nb, state, timeout)
    finally:  # the kernel is gone, and so is every process it started (item 4 of issue 17)
        kernel.stop_processes(tag, pgids=(state["pgid"],) if state.get("pgid") else ())
    nb = nbformat.read(out_path, as_version=4)
    answers = state.get("answers", {})
    wrong = kernel.mismatch(answers, kernel.runner_answers())
    if wrong:
        return nb, Outcome(report, "failed", error=wrong)
    reads = sorted(set(reads_log.read_text(encoding="utf-8").split())) if reads_log.exists() else []
    record = {**kernel.record(answers), "start": state.get("start", "cold")}
    return nb, Outcome(report, "ok", reads=tuple(reads), kernel=record)


def _execute_job(report: Report, workdir: str, timeout: int) -> tuple[str | None, Outcome]:
    """Run one report on an executor's worker; the notebook travels back as JSON text."""
    import nbformat

    nb, outcome = _execute(report, Path(workdir), timeout)
    return (nbformat.writes(nb) if nb is not None else None), outcome


def _worker(report: Report, workdir: Path, timeout: int) -> None:
    """Body of a worker process: execute one report, leave the result in the run folder, exit quietly.

    Ctrl-C reaches every process of the terminal's group: a worker leaves it to the runner, which stops
    workers and kernels at once. SIGTERM sent to the worker alone stops its kernel and exits."""
    import pickle
    import sys

    from .._io import write_atomic

    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        text, outcome = _execute_job(report, str(workdir), timeout)
        write_atomic(workdir / f"{report.name}.result", pickle.dumps((text, outcome)))
    except BaseException:  # interrupted: the runner reports it
        sys.exit(1)


def _worker_result(report: Report, workdir: Path, exitcode: int | None) -> tuple[Any, Outcome]:
    """What a finished worker left; if it died first, a failure saying so (and its kernel is stopped)."""
    import pickle

    import nbformat

    from . import kernel

    result = workdir / f"{report.name}.result"
    if result.exists():
        text, outcome = pickle.loads(result.read_bytes())
        result.unlink()
        return (nbformat.reads(text, as_version=4) if text is not None else None), outcome
    kernel.stop_processes(f"{workdir.name}/{report.name}")
    partial = workdir / f"{report.name}.ipynb"
    nb = nbformat.read(partial, as_version=4) if partial.exists() else None
    cells = nb.cells if nb is not None else []
    running = [i for i, c in enumerate(cells) if c.metadata.get("papermill", {}).get("status") == "running"]
    number, source = _cell(nb, running[-1] if running else None)
    during = f" during cell {number}" if number is not None else ""
    error = f"the worker process running this report died{during} ({_exit_status(exitcode) or 'no result'})"
    return nb, Outcome(report, "failed", error=error, cell_index=number, cell_source=source)


def _preload_executor() -> None:
    """Import what a worker needs to execute a report (papermill, nbclient, jupyter_client and this package's
    kernel module, about half a second) in the runner itself: each worker is forked from it per report, and
    would otherwise import them again for every report."""
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    from . import kernel  # noqa: F401


def _in_processes(
    chosen: list[Report], workdir: Path, timeout: int, jobs: int
) -> Iterator[tuple[Report, Any, Outcome]]:
    """Each report in a fresh worker process, ``jobs`` at a time. A worker that dies fails its own report
    only. Interrupted (or closed early), it kills the workers and every kernel of the run at once."""
    import multiprocessing
    from multiprocessing.connection import wait

    from . import kernel

    _preload_executor()  # once here, not in every worker forked from this process
    context = multiprocessing.get_context("fork")
    waiting = list(chosen)
    running: dict[Any, tuple[Report, Any]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                report = waiting.pop(0)
                process = context.Process(target=_worker, args=(report, workdir, timeout), name=f"report {report.name}")
                # no signal may reach the worker before it has set its own handlers
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                try:
                    process.start()
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                running[process.sentinel] = (report, process)
            for sentinel in wait(list(running)):
                report, process = running.pop(sentinel)
                process.join()
                nb, outcome = _worker_result(report, workdir, process.exitcode)
                yield report, nb, outcome
    finally:
        for _, process in running.values():
            process.kill()
        for _, process in running.values():
            process.join()
        if running:
            kernel.stop_processes(f"{workdir.name}/", prefix=True)


def _executions(
    chosen: list[Report],
    workdir: Path,
    timeout: int,
    jobs: int | None,
    executor: concurrent.futures.Executor | None,
    cold: bool | None = None,
    notice: Any = None,
) -> Generator[tuple[Report, Any, Outcome], None, None]:
    """Execute the reports, in this process (one job), in worker processes (one kernel per report, each in
    its own worker process), or on a given executor, yielding each as it finishes. Unless ``cold`` (or
    on an executor, whose workers may be other machines), each kernel is forked from a warm template
    (:mod:`.warm`); ``notice`` is told in one line when that cannot be done."""
    if not chosen:
        return
    from . import warm

    if executor is not None or not warm.wants_warm(cold, len(chosen)):
        yield from _started(chosen, workdir, timeout, jobs, executor)
        return
    with contextlib.ExitStack() as running:
        with _kernel_environment():  # the template starts with the environment report kernels get
            running.enter_context(warm.template(workdir, f"{workdir.name}/~template", notice))
        yield from _started(chosen, workdir, timeout, jobs, executor)


def _started(
    chosen: list[Report], workdir: Path, timeout: int, jobs: int | None, executor: concurrent.futures.Executor | None
) -> Generator[tuple[Report, Any, Outcome], None, None]:
    import nbformat

    jobs = jobs or os.cpu_count() or 1
    if executor is None and (jobs == 1 or len(chosen) == 1):
        for report in chosen:
            nb, outcome = _execute(report, workdir, timeout)
            yield report, nb, outcome
        return
    if executor is None:
        yield from _in_processes(chosen, workdir, timeout, min(jobs, len(chosen)))
        return
    futures = {executor.submit(_execute_job, r, str(workdir), timeout): r for r in chosen}
    try:
        for future in concurrent.futures.as_completed(futures):
            report = futures[future]
            try:
                text, outcome = future.result()
            except Exception as exc:  # a worker died: isolate this report
                text, outcome = None, Outcome(report, "failed", error=f"{type(exc).__name__}: {exc}")
            yield report, (nbformat.reads(text, as_version=4) if text is not None else None), outcome
    finally:
        for future in futures:
            future.cancel()
