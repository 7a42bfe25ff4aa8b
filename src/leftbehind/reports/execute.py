"""Executing one report: a kernel per report, its environment, the failing cell named, HTML exported in this
process. Used by :mod:`leftbehind.reports.run`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import os
from collections.abc import Iterator
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
def _kernel_environment(reads_log: Path | None = None) -> Iterator[None]:
    """Environment for report kernels: matplotlib's inline backend (a caller's MPLBACKEND=Agg would hide
    every chart), a fixed hash seed, so that nothing in a report depends on the calling shell, and the file
    where leftbehind.data records the resources the notebook loads."""
    from ..data.tabular import READS_LOG_ENV

    saved = {k: os.environ.get(k) for k in ("MPLBACKEND", "PYTHONHASHSEED", READS_LOG_ENV)}
    os.environ.pop("MPLBACKEND", None)
    os.environ["PYTHONHASHSEED"] = "0"
    if reads_log is not None:
        os.environ[READS_LOG_ENV] = str(reads_log)
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
    The socket path is kept short (Unix sockets allow about 100 characters)."""
    if os.name != "posix":
        return {}
    from traitlets.config import Config

    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return {"config": Config({"KernelManager": {"transport": "ipc", "ip": str(workdir / f"k{tag}")}})}


def _execute(report: Report, workdir: Path, timeout: int) -> tuple[Any, Outcome]:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_path = workdir / f"{report.name}.ipynb"
    reads_log = workdir / f"{report.name}.reads"
    try:
        with _kernel_environment(reads_log):
            papermill.execute_notebook(
                str(report.notebook),
                str(out_path),
                parameters=report.parameters,
                kernel_name="python3",
                language="python",  # a notebook need not say (VS Code writes none): the runner runs Python
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
    except Exception as exc:  # kernel died, timeout, bad notebook: still isolate this report
        nb = nbformat.read(out_path, as_version=4) if out_path.exists() else None
        return nb, Outcome(report, "failed", error=f"{type(exc).__name__}: {exc}")
    reads = sorted(set(reads_log.read_text(encoding="utf-8").split())) if reads_log.exists() else []
    return nbformat.read(out_path, as_version=4), Outcome(report, "ok", reads=tuple(reads))


def _execute_job(report: Report, workdir: str, timeout: int) -> tuple[str | None, Outcome]:
    """Run one report in a worker process; the notebook travels back as JSON text."""
    import nbformat

    nb, outcome = _execute(report, Path(workdir), timeout)
    return (nbformat.writes(nb) if nb is not None else None), outcome


def _executions(
    chosen: list[Report], workdir: Path, timeout: int, jobs: int | None, executor: concurrent.futures.Executor | None
) -> Iterator[tuple[Report, Any, Outcome]]:
    """Execute the reports, in this process (one job) or on an executor (one kernel per report, each in its
    own worker process), yielding each as it finishes."""
    import nbformat

    if not chosen:
        return
    jobs = jobs or os.cpu_count() or 1
    if executor is None and (jobs == 1 or len(chosen) == 1):
        for report in chosen:
            nb, outcome = _execute(report, workdir, timeout)
            yield report, nb, outcome
        return
    own = executor is None
    if own:
        import multiprocessing

        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(jobs, len(chosen)), mp_context=multiprocessing.get_context("fork")
        )
    assert executor is not None
    try:
        futures = {executor.submit(_execute_job, r, str(workdir), timeout): r for r in chosen}
        for future in concurrent.futures.as_completed(futures):
            report = futures[future]
            try:
                text, outcome = future.result()
            except Exception as exc:  # a worker died: isolate this report
                text, outcome = None, Outcome(report, "failed", error=f"{type(exc).__name__}: {exc}")
            yield report, (nbformat.reads(text, as_version=4) if text is not None else None), outcome
    except BaseException:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        if own:
            executor.shutdown(wait=True)
