"""Executing one report: a kernel per report (the runner's own interpreter, see :mod:`.kernel`), its
environment, what went wrong said plainly (the cell named). Several reports run at once, each in its own
worker process, which also renders the report's files (:func:`.publish.render`) and which an interrupt stops
at once. Used by :mod:`leftbehind.reports.run`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import re
import signal
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from . import processes
from .outcomes import Outcome, _source_cell_number
from .plan import Report


@contextlib.contextmanager
def _kernel_environment(reads_log: Path | None = None, report: str | None = None) -> Iterator[None]:
    """Environment for report kernels: matplotlib's inline backend (a caller's MPLBACKEND=Agg would hide
    every chart), a fixed hash seed, so that nothing in a report depends on the calling shell, the file
    where leftbehind.data records the resources the notebook loads, and the report's name, under which the data
    behind its charts and tables is shown (:mod:`leftbehind.plots.datafiles`). Relative PYTHONPATH and
    LEFTBEHIND_DATA_DIR entries are made absolute: the kernel starts in the notebook's folder, and must import
    what the runner imports."""
    from .._io import DATA_ENV_VAR, READS_LOG_ENV, REPORT_ENV

    keys = ("MPLBACKEND", "PYTHONHASHSEED", READS_LOG_ENV, "PYTHONPATH", DATA_ENV_VAR, REPORT_ENV)
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.pop("MPLBACKEND", None)
    os.environ["PYTHONHASHSEED"] = "0"
    if reads_log is not None:
        os.environ[READS_LOG_ENV] = str(reads_log)
    if report is not None:
        os.environ[REPORT_ENV] = report
    else:
        os.environ.pop(REPORT_ENV, None)
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


#: Run by every report kernel before the notebook: name cells as IPython does (``<ipython-input-N-hash>``, from the
#: execution count and the code) instead of ipykernel's ``/tmp/ipykernel_<pid>/<hash>.py``, a temporary path that
#: differs in every kernel and would reach a report through any warning a cell raises. Tracebacks are unchanged
#: ("Cell In[N], line L"); only ipykernel's debugger, which reports never use, needs the temporary files.
CELL_NAMES = (
    "get_ipython().compile = __import__('IPython.core.compilerop', fromlist=['CachingCompiler']).CachingCompiler()"
)


def _kernel_options(workdir: Path, name: str) -> dict[str, Any]:
    """Extra nbclient options: on POSIX, talk to the kernel over Unix-domain sockets in the run's private
    temporary folder instead of loopback TCP ports. No port is opened for other local users, and
    ipykernel no longer warns, once per report, that it is "running over TCP without encryption".
    The socket path is kept short (Unix sockets allow about 100 characters). The connection file is
    written there too, so an interrupted run leaves nothing in Jupyter's runtime folder.

    The kernel's IPython folder is the run's own (empty) one too: a report must not depend on whoever runs
    it, and the user's IPython profile (``~/.ipython`` or ``IPYTHONDIR``) would otherwise run its startup
    files and apply its ``ipython_kernel_config.py`` in every report kernel. IPython's history database is
    off: every kernel of a run would otherwise write each cell to the same SQLite file in that folder, from a
    thread of its own, for nothing a report reads (the current session's ``In``/``Out`` stay in memory). Cells are
    named without temporary paths (:data:`CELL_NAMES`)."""
    from traitlets.config import Config

    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    options: dict[str, Any] = {"connection_file": str(workdir / f"k{tag}.json")}
    if os.name == "posix":
        options.update({"transport": "ipc", "ip": str(workdir / f"k{tag}")})
    ipython = workdir / "ipython"
    (ipython / "profile_default").mkdir(parents=True, exist_ok=True)  # IPython creates a profile, not its folder
    return {
        "config": Config({"KernelManager": options}),
        "extra_arguments": [
            f"--ipython-dir={ipython}",
            "--HistoryManager.enabled=False",
            f"--IPKernelApp.exec_lines={CELL_NAMES}",
        ],
    }


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
    status = state.get("exit_reason") or processes.exit_status(state.get("exit"))
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


def _execute(
    report: Report, workdir: Path, timeout: int, kernel_gone: Callable[[], None] | None = None
) -> tuple[Any, Outcome]:
    """Execute ``report`` in a fresh kernel; ``kernel_gone()``, if given, is called as soon as that kernel is shut
    down (before the executed notebook is written and the report's processes are swept), possibly twice.

    This process keeps the report's processes (:func:`.processes.keeper`): every process the kernel started is
    killed before this returns, found by ancestry (a warm kernel's own keeper kills those below it, and says so)."""
    with processes.keeper():
        return _execute_kept(report, workdir, timeout, kernel_gone)


def _execute_kept(
    report: Report, workdir: Path, timeout: int, kernel_gone: Callable[[], None] | None = None
) -> tuple[Any, Outcome]:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .._io import read_limited
    from . import kernel

    out_path = workdir / f"{report.name}.ipynb"
    reads_log = workdir / f"{report.name}.reads"
    state: dict[str, Any] = {} if kernel_gone is None else {"kernel_gone": kernel_gone}
    try:
        with _kernel_environment(reads_log, report.name):
            nb = papermill.execute_notebook(
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
                **_kernel_options(workdir, report.name),
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
    finally:  # the kernel is gone; so is every process it started, once its keeper says so (item 2 of issue 29)
        forked = state.get("forked")
        if forked is not None:
            forked.finish()
    if forked is not None and forked.reason:  # a report that stops or kills its keeper fails, as it would cold
        number, source = _cell(nb, state.get("cell"))
        after = f" (during or after cell {number})" if number is not None else ""
        return nb, Outcome(report, "failed", error=forked.reason + after, cell_index=number, cell_source=source)
    answers = state.get("answers", {})
    wrong = kernel.mismatch(answers, kernel.runner_answers())
    if wrong:
        return nb, Outcome(report, "failed", error=wrong)
    try:  # written by the kernel, in a folder the report can reach: read as a side file (a FIFO must not hang)
        reads = sorted(set(read_limited(reads_log, 1 << 20).decode("utf-8").split())) if reads_log.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return nb, Outcome(report, "failed", error=f"the list of data files the report read could not be read ({why})")
    record = {**kernel.record(answers), "start": state.get("start", "cold")}
    return nb, Outcome(report, "ok", reads=tuple(reads), kernel=record)


#: What one execution yields: the report, its executed notebook (``None`` once rendered, or if there is none),
#: its outcome, and its rendered files when the worker rendered them (:class:`.publish.Rendered`).
Execution = tuple[Report, Any, Outcome, Any]


def _execute_job(
    report: Report, workdir: str, timeout: int, how: Any = None, executed: Any = None
) -> tuple[str | None, Outcome, Any]:
    """Run one report on a worker (a process of this run or an executor's) and, given ``how`` (a
    :class:`.publish.Publishing`), render its files there too; the notebook travels back as JSON text only
    when the runner still needs it (not rendered, or failed). ``executed()``, if given, is called once the
    report's kernel is gone (as soon as it is shut down, and again before rendering: it must bear that)."""
    import nbformat

    nb, outcome = _execute(report, Path(workdir), timeout, executed)
    if executed is not None:  # again, in case the kernel never started or its shutdown failed
        executed()
    rendered = None
    if how is not None:
        from .publish import render

        rendered, outcome = render(report, nb, outcome, how)
    text = nbformat.writes(nb) if nb is not None and rendered is None else None
    return text, outcome, rendered


def _worker(report: Report, workdir: Path, timeout: int, how: Any, executed_fd: int | None = None) -> None:
    """Body of a worker process: execute and render one report, leave the result in the run folder, exit quietly.
    Once the report's kernel is gone it closes ``executed_fd``, which tells the runner that it may start the
    next execution while this worker renders.

    Ctrl-C reaches every process of the terminal's group: a worker leaves it to the runner, which stops
    workers and kernels at once. SIGTERM sent to the worker alone stops its kernel and exits."""
    import pickle
    import sys

    from .._io import write_atomic

    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})

    told = executed_fd is None

    def executed() -> None:  # once only: the descriptor's number may belong to another file afterwards
        nonlocal told
        if not told:
            told = True
            os.close(executed_fd)  # type: ignore[arg-type]

    try:
        result = _execute_job(report, str(workdir), timeout, how, executed)
        write_atomic(workdir / f"{report.name}.result", pickle.dumps(result))
    except BaseException:  # interrupted: the runner reports it
        sys.exit(1)


def _worker_result(report: Report, workdir: Path, exitcode: int | None, why: str = "") -> Execution:
    """What a finished worker left; if it died first, a failure saying so (``why``, when the runner ended it: what
    it saw), naming the cell that was running."""
    import pickle

    import nbformat

    from .._io import read_limited
    from . import kernel

    result = workdir / f"{report.name}.result"
    if result.exists() and not why:
        text, outcome, rendered = pickle.loads(read_limited(result, MAX_RESULT_BYTES))
        result.unlink()
        return report, (nbformat.reads(text, as_version=4) if text is not None else None), outcome, rendered
    partial = workdir / f"{report.name}.ipynb"
    try:
        nb = nbformat.reads(read_limited(partial, MAX_RESULT_BYTES).decode("utf-8"), as_version=4)
    except Exception:  # none yet, or not a notebook: the failure is said without it
        nb = None
    number, source = _cell(nb, kernel.running_cell(partial))
    during = f" during cell {number}" if number is not None else ""
    if why:
        error = f"the worker process running this report {why}{during}, and was ended"
    else:
        error = (
            f"the worker process running this report died{during} ({processes.exit_status(exitcode) or 'no result'})"
        )
    return report, nb, Outcome(report, "failed", error=error, cell_index=number, cell_source=source), None


#: Largest result or executed notebook a worker may leave in the run's folder (bytes).
MAX_RESULT_BYTES = 1 << 30


def _preload_executor(show_code: bool = False) -> None:
    """Import what a worker needs to execute and render a report (papermill, nbclient, jupyter_client,
    this package's kernel module, nbconvert with its templates compiled and a sample rendered, Pillow: about a
    second) in the runner itself: each worker is forked from it per report, and would otherwise do it again
    for every report. ``show_code``: the HTML exporter the run uses (one of two, each compiled when first used)."""
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    from . import kernel
    from .publish import preload

    kernel.runner_kernel_spec()  # imports ipykernel's kernelspec module
    preload(show_code)


def _in_processes(
    chosen: list[Report],
    workdir: Path,
    timeout: int,
    jobs: int,
    how: Any,
    timings: dict[str, float] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Execution]:
    """Each report in a fresh worker process (forked from this one, which has imported what they need:
    :func:`_preload_executor`), ``jobs`` executing at a time. A worker whose report's kernel is gone renders
    the report's files while the next report's execution starts in a new worker (at most ``jobs`` more at
    once), and a finished worker's result is handed on only after the places it left are taken, so that
    writing its files overlaps the next executions. Given ``timings``, it records there the seconds each
    report's execution took (from its worker's start to its kernel's end); ``notice`` is told in one line what the
    runner gives up and why (default: standard error).

    Nothing one report does stalls the others: the runner looks at its workers and the kernel template every
    :data:`LOOK` seconds. A worker that dies fails its own report only, and what its kernel started (which this
    process, a subreaper during a run, receives) is killed; a worker stopped by a signal (a process of its report
    can send one) is ended, failing its report with that said; a template that ended, was stopped or would no longer
    start kernels as a fresh interpreter does is given up (:func:`.warm.check`). Interrupted (or closed early), it
    kills the workers and every process below this one that it did not have before."""
    import multiprocessing
    import time
    from multiprocessing.connection import wait

    from . import warm

    context = multiprocessing.get_context("fork")
    me = os.getpid()
    before = set(processes.children(me))  # the template and whatever the caller had started: not this run's reports
    waiting = list(chosen)
    running: dict[Any, tuple[Report, Any, int]] = {}  # process sentinel -> (report, worker, its "executed" pipe)
    # the "executed" pipes (read ends) of workers whose kernel may still run -> (their report, when it started)
    executing: dict[int, tuple[str, float]] = {}
    watches: dict[Any, processes.StopWatch] = {}  # process sentinel -> its worker, watched for being stopped
    ended: dict[Any, str] = {}  # process sentinel -> why this process ended that worker

    def top_up() -> None:
        while waiting and len(executing) < jobs and len(running) < 2 * jobs:
            report = waiting.pop(0)
            executed_r, executed_w = os.pipe()  # closed by the worker once its kernel is gone (or it is)
            process = context.Process(
                target=_worker, args=(report, workdir, timeout, how, executed_w), name=f"report {report.name}"
            )
            # no signal may reach the worker before it has set its own handlers
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                process.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(executed_w)
            running[process.sentinel] = (report, process, executed_r)
            executing[executed_r] = (report.name, time.monotonic())
            watches[process.sentinel] = processes.StopWatch(process.pid or 0)

    def executed(fd: int, report: str) -> None:
        # only if ``fd`` is still that report's: a pipe closed when its worker said "kernel gone" gives its number
        # to the next report's pipe, and the worker itself ends later
        if fd in executing and executing[fd][0] == report:
            name, start = executing.pop(fd)
            os.close(fd)
            if timings is not None:
                timings[name] = time.monotonic() - start

    def look() -> None:
        warm.check(notice or _notice)
        for sentinel, watch in watches.items():
            if sentinel not in ended and watch.stopped():
                ended[sentinel] = "was stopped by a signal such as SIGSTOP"
                running[sentinel][1].kill()

    def orphans() -> None:
        """Kill what dead workers left (their children came to this process), sparing the live workers, what this
        process had before, and the keepers of a template that ended (they finish their reports)."""
        live = {process.pid for _, process, _ in running.values()}
        processes.sweep(spare=before | live, keepers=True)

    try:
        top_up()
        while running:
            finished = []
            ready_now = wait(list(running) + list(executing), timeout=LOOK)
            look()
            for ready in ready_now:
                if ready in executing:  # that worker's kernel is gone: it renders, the next execution may start
                    executed(ready, executing[ready][0])
                    continue
                if ready not in running:  # the pipe of a worker whose end was seen first in this round
                    continue
                report, process, pipe = running.pop(ready)
                watches.pop(ready)
                executed(pipe, report.name)
                process.join()
                finished.append(_worker_result(report, workdir, process.exitcode, ended.pop(ready, "")))
                if process.exitcode != 0:
                    orphans()
            top_up()
            yield from finished
    finally:
        for fd in list(executing):  # unfinished: not timed
            del executing[fd]
            os.close(fd)
        for _, process, _ in running.values():
            process.kill()
        for _, process, _ in running.values():
            process.join()
        if running:
            processes.sweep(spare=before)


#: Seconds between two looks at the workers and the template while reports run (:func:`_in_processes`).
LOOK = 1.0


def _notice(line: str) -> None:
    """Say one line on standard error (what the runner gives up, and why)."""
    import sys

    print(f"leftbehind: {line}", file=sys.stderr, flush=True)


def _executions(
    chosen: list[Report],
    workdir: Path,
    timeout: int,
    jobs: int | None,
    executor: concurrent.futures.Executor | None,
    notice: Any = None,
    how: Any = None,
    timings: dict[str, float] | None = None,
) -> Generator[Execution, None, None]:
    """Execute the reports, in this process (one job), in worker processes (one kernel per report, each in
    its own worker process), or on a given executor, yielding each as it finishes. Kernels are forked from
    the run's warm template when it started one (:func:`.warm.template`; never on an executor, whose workers
    may be other machines), once it is ready; ``notice`` is told in one line if it did not start. Given
    ``how`` (a :class:`.publish.Publishing`), workers and executors render each report's files where it ran.
    Given ``timings``, worker processes record there how long each execution took (:func:`_in_processes`)."""
    if not chosen:
        return
    from . import warm

    if executor is None:
        # once here, not in every worker forked from this process; the template preloads too
        _preload_executor(how.show_code if how is not None else False)
        warm.ready(notice)
    yield from _started(chosen, workdir, timeout, jobs, executor, how, timings, notice)


def _started(
    chosen: list[Report],
    workdir: Path,
    timeout: int,
    jobs: int | None,
    executor: concurrent.futures.Executor | None,
    how: Any = None,
    timings: dict[str, float] | None = None,
    notice: Any = None,
) -> Generator[Execution, None, None]:
    import nbformat

    jobs = jobs or os.cpu_count() or 1
    if executor is None:  # never in this process: a report's kernel could stop or kill the process that started it
        yield from _in_processes(chosen, workdir, timeout, min(jobs, len(chosen)), how, timings, notice)
        return
    futures = {executor.submit(_execute_job, r, str(workdir), timeout, how): r for r in chosen}
    try:
        for future in concurrent.futures.as_completed(futures):
            report = futures[future]
            try:
                text, outcome, rendered = future.result()
            except Exception as exc:  # a worker died: isolate this report
                text, outcome, rendered = None, Outcome(report, "failed", error=f"{type(exc).__name__}: {exc}"), None
            yield report, (nbformat.reads(text, as_version=4) if text is not None else None), outcome, rendered
    finally:
        for future in futures:
            future.cancel()
