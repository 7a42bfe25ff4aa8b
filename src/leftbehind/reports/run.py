"""One run of the plan: check, take the run lock, execute reports in parallel (skipping those whose inputs did
not change), write each report's files atomically, then the manifest and the index. Signals stop it cleanly.
Public names are re-exported by :mod:`leftbehind.reports`.

Examples
--------
>>> default_output_dir().name
'reports'
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .._io import REPO_ROOT
from ..errors import ReportError
from . import processes, schedule
from .execute import _executions, _kernel_environment
from .guards import check_output_dir
from .inputs import _unchanged
from .inspection import quiet_inspection
from .outcomes import Outcome
from .plan import Report, check, default_plan_path, load_plan, select
from .publish import Publishing, publish
from .site import (
    _check_other_plans,
    _plan_id,
    _read_manifest,
    _write_manifest_and_index,
    check_site_files,
    failed_folder,
)

__all__ = ["default_output_dir", "run"]


def default_output_dir() -> Path:
    """``reports/`` of the repository this package runs from."""
    return REPO_ROOT / "reports"


def run(
    plan_path: Path | None = None,
    out_dir: Path | None = None,
    only: Iterable[str] | None = None,
    show_code: bool = False,
    timeout: int | None = 600,
    log: Callable[[str], None] | None = None,
    wait: bool = False,
    jobs: int | None = None,
    executor: concurrent.futures.Executor | None = None,
    force: bool = False,
    cold: bool | None = None,
) -> list[Outcome]:
    """Check the plan, execute the selected reports, export HTML and rewrite the index.

    Parameters
    ----------
    plan_path
        The plan YAML (default :func:`default_plan_path`).
    out_dir
        Where reports go (default :func:`default_output_dir`). Refused when it is not a folder, or is, is
        inside or contains the plan's notebooks, the repository's ``notebooks/``, ``src/`` or ``data/``
        (:func:`~leftbehind.reports.guards.check_output_dir`). Several plans may share it: each entry of
        ``manifest.json`` names its ``plan``, a run rewrites its own plan's entries and keeps the others while
        their files exist; a plan whose report names another plan already wrote there is refused.
    only
        Names of reports to run (default: all).
    show_code
        Keep code cells in the HTML (default: hidden).
    timeout
        Seconds a single cell may run; 0 or None: no limit.
    log
        Called with one line per report; default prints to standard error.
    wait
        When another run holds the output folder's lock, wait for it instead of failing at once.
    jobs
        Reports executed at once, each kernel in its own worker process (default: the number of cores; at
        least 1). The worker renders its report's files (HTML, thumbnail) once its kernel is gone, while the
        next report executes, and this process writes them, each report isolated: one that cannot be
        rendered or written fails alone.
    force
        Re-execute every selected report. Without it, a report whose inputs (notebook, parameters, title,
        ``show_code``, the data resources it read, the leftbehind source and templates, the lock file, the
        Python version: :func:`~leftbehind.reports.inputs._inputs`) are unchanged since its last good run is
        skipped and its files are kept.
    executor
        Any :class:`concurrent.futures.Executor` to run the executions on instead (e.g. a Dask client's
        executor); its workers need this package and the notebooks at the same paths.

    Returns
    -------
    list of Outcome
        One per report run, in plan order.

    Raises
    ------
    PlanError, ParameterError
        Before anything runs, when the plan or a parameter is invalid.
    ReportError
        After every selected report was tried, when at least one failed (the outcomes are in ``.outcomes``).
    """
    plan_path = Path(plan_path or default_plan_path())
    out_dir = Path(out_dir or default_output_dir())
    progress = log is None and sys.stderr.isatty()  # a bar on a terminal, one line per report otherwise (CI)
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    if jobs is not None and jobs < 1:
        raise ReportError(f"jobs must be at least 1 (reports executed at once), not {jobs}")
    from . import warm

    warm.wants_warm(cold)  # a bad LEFTBEHIND_KERNEL_START is refused before anything runs
    plan = load_plan(plan_path)
    check_output_dir(out_dir, plan_path, [r.notebook for r in plan])
    check_site_files(out_dir, [r.name for r in plan])
    chosen = select(plan, only)
    root = plan_path.parent.parent
    plan_id = _plan_id(plan_path, root)
    _check_other_plans(plan, out_dir, plan_id)
    from . import provenance  # reads versions and git state: only when a run starts

    prov = {"environment": provenance.environment(), "data_package": provenance.data_package()}
    if force or not (out_dir / "manifest.json").exists():
        to_check = chosen
    else:  # reports whose inputs are unchanged passed this check when they last ran; check the others
        previous = _read_manifest(out_dir)
        to_check = [
            r
            for r in chosen
            if r.name not in previous or not _unchanged(r, previous[r.name], out_dir, prov, show_code, root)
        ]
    with contextlib.ExitStack() as stack:
        stack.enter_context(_sigterm_as_interrupt())  # from here on, a signal stops the run and cleans up
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leftbehind-run-")))
        # nothing the run starts outlives it (what a report's keeper leaves when it is killed comes here)
        stack.enter_context(processes.keeper(one_report=False))
        if to_check and executor is None and warm.wants_warm(cold, len(to_check)):
            # started first, before this process imports pandas or jupyter_client (checking the plan, preloading
            # the workers): it preloads on the other core meanwhile, in the kernels' environment
            with _kernel_environment():
                folder = collections.Counter(r.notebook.parent.resolve() for r in to_check).most_common(1)[0][0]
                stack.enter_context(warm.template(workdir, log, cwd=folder))
        check(to_check)
        stack.enter_context(_run_lock(out_dir, wait))
        return _run_locked(
            plan,
            chosen,
            out_dir,
            root,
            show_code,
            timeout,
            log,
            jobs,
            executor,
            force,
            progress,
            prov,
            plan_id,
            workdir,
        )


@contextlib.contextmanager
def _run_lock(out_dir: Path, wait: bool) -> Iterator[None]:
    """One run at a time per output folder: a second run exits at once with a clear message, or waits."""
    import fcntl

    path = out_dir / ".lock"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()  # the folder must take new files (atomic writes make them)
        # opened as it is, never through a link (which could make or lock a file elsewhere), without waiting
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReportError(
                f"output folder {out_dir.as_posix()}: its lock file {path.name} is a link; remove it"
            ) from None
        raise ReportError(f"output folder {out_dir.as_posix()}: cannot write there ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ReportError(f"output folder {out_dir.as_posix()}: its lock file {path.name} is not a file; remove it")
    with open(fd, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ReportError(
                f"another run is writing to {out_dir.name}/ (lock file {path.name}); "
                "wait for it to finish, or pass --wait to queue behind it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C (SIGINT): the first one stops the run at once, kernels and worker processes
    are killed and temporary files removed; signals arriving during that clean-up are ignored, so it
    completes (it takes a second or two)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _run_locked(
    plan: list[Report],
    chosen: list[Report],
    out_dir: Path,
    root: Path,
    show_code: bool,
    timeout: int | None,
    log: Callable[[str], None],
    jobs: int | None,
    executor: concurrent.futures.Executor | None,
    force: bool,
    progress: bool,
    prov: dict[str, Any],
    plan_id: str,
    workdir: Path,
) -> list[Outcome]:
    how = Publishing(root, show_code, prov)
    done: dict[str, Outcome] = {}
    previous = _read_manifest(out_dir)
    to_run = []
    for report in chosen:
        old = previous.get(report.name)
        if not force and old is not None and _unchanged(report, old, out_dir, prov, show_code, root):
            done[report.name] = Outcome(report, "ok", reads=tuple(old["inputs"]["data"]), skipped=True)
        else:
            to_run.append(report)
    if done and to_run:  # a run with nothing to do says so once, in the caller's summary (run_summary)
        log(f"running {len(to_run)} of {len(chosen)} report(s); {len(done)} unchanged since their last run")
    timings: dict[str, float] = {}
    plan_key = str((root / plan_id).resolve())
    if executor is None:  # the longest first, by the last run's durations (reports are the same in any order)
        to_run = schedule.longest_first(to_run, schedule.load(plan_key))
    bar = None
    if progress and to_run:
        from tqdm import tqdm

        bar = tqdm(total=len(to_run), desc="reports", unit="report", file=sys.stderr, dynamic_ncols=True)
        log = bar.write
    try:
        with (
            quiet_inspection(),
            contextlib.closing(
                _executions(to_run, workdir, timeout or 0, jobs, executor, log, how, timings)
            ) as executions,
        ):  # executions closed (workers and kernels stopped) before run() removes its temporary folder; 0: no limit
            for i, (report, nb, outcome, rendered) in enumerate(executions, start=1):
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(report.name)
                outcome = publish(report, nb, outcome, out_dir, how, rendered)
                if outcome.status == "ok":
                    log(f"[{i}/{len(to_run)}] ok      {report.name}")
                else:
                    log(f"[{i}/{len(to_run)}] FAILED  {report.name}: {outcome.error}")
                done[report.name] = outcome
    finally:  # even when interrupted: the index and manifest describe what is on disk
        if bar is not None:
            bar.close()
        schedule.save(plan_key, timings, keep=[r.name for r in plan])
        _write_manifest_and_index(
            plan, [done[r.name] for r in chosen if r.name in done], out_dir, root, prov, plan_id, show_code
        )
    outcomes = [done[r.name] for r in chosen]
    failures = [o for o in outcomes if o.status != "ok"]
    if failures:
        lines = [f"{len(failures)} of {len(outcomes)} report(s) failed:"]
        for o in failures:
            lines.append(f"  {o.report.name} ({o.report.notebook_label}), {o.summary()}")
        kept = f"; failed executions are in {failed_folder(out_dir)}" if Path(failed_folder(out_dir)).is_dir() else ""
        lines.append(f"Earlier good reports were left in place{kept}.")
        err = ReportError("\n".join(lines))
        err.outcomes = outcomes  # type: ignore[attr-defined]
        raise err
    return outcomes
