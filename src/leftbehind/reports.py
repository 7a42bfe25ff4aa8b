"""The report runner: a plan of notebooks × parameters → executed notebooks, HTML reports and an index.

The plan is a YAML file (by default ``notebooks/reports.yaml``)::

    reports:
      - name: 01_headline_figures          # output name: reports/<name>.html and .ipynb
        notebook: 01_headline_figures.ipynb  # relative to the plan's folder
        title: Headline figures on labour migration
        parameters: {topic: all}

Running the plan (:func:`run`, or ``python -m leftbehind reports``):

1. checks every entry's parameters against the notebook's ``parameters`` cell (names and types, via
   :func:`papermill.inspect_notebook`) and against the known domains in :data:`DOMAINS`, before any kernel
   starts (:func:`check`);
2. executes each report with papermill into a temporary folder, removes run-to-run noise
   (:func:`leftbehind.notebooks.normalise`), exports HTML in this process with nbconvert (code hidden unless
   ``show_code``), and moves both files into ``reports/`` atomically;
3. keeps going when one report fails: its previous good files stay untouched, the failed execution is kept
   as ``reports/_failed/<name>.ipynb``, and the summary names the failing cell;
4. writes ``reports/manifest.json`` and ``reports/index.html`` listing every report with its parameters.

Examples
--------
>>> plan = load_plan(default_plan_path())
>>> plan[0].name
'01_headline_figures'
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import __version__

# The plan (reading, grids, parameter checks) lives in _plan; its public names are part of this API.
from ._plan import (
    DOMAINS,
    NOTEBOOK_DOMAINS,  # noqa: F401  (re-exported: per-notebook parameter domains)
    RULES,  # noqa: F401  (re-exported: cross-parameter rules)
    Report,
    check,
    default_plan_path,
    load_plan,
    select,
)
from .errors import ReportError
from .notebooks import dumps, normalise, write_atomic

__all__ = [
    "Report",
    "Outcome",
    "DOMAINS",
    "default_plan_path",
    "default_output_dir",
    "load_plan",
    "select",
    "check",
    "run",
    "render_index",
]

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


def default_output_dir() -> Path:
    """``reports/`` of the repository this package runs from."""
    return Path(__file__).resolve().parents[2] / "reports"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _notebook_source_hash(path: Path) -> str:
    """Hash of a notebook's cell types, sources and tags (outputs and metadata noise excluded)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    parts = [json.dumps([c.cell_type, c.source, sorted(c.metadata.get("tags", []))]) for c in nb.cells]
    return _sha256("\n".join(parts).encode("utf-8"))


def _export_html(nb: Any, title: str, show_code: bool) -> str:
    from nbconvert import HTMLExporter

    templates = Path(__file__).parent / "templates" / "nbconvert"
    exporter = HTMLExporter(template_name="leftbehind", extra_template_basedirs=[str(templates)],
                            exclude_input=not show_code, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


@contextlib.contextmanager
def _kernel_environment(reads_log: Path | None = None) -> Iterator[None]:
    """Environment for report kernels: matplotlib's inline backend (a caller's MPLBACKEND=Agg would hide
    every chart), a fixed hash seed, so that nothing in a report depends on the calling shell, and the file
    where leftbehind.data records the resources the notebook loads."""
    from ._tabular import READS_LOG_ENV

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
                str(report.notebook), str(out_path), parameters=report.parameters, kernel_name="python3",
                cwd=str(report.notebook.parent), progress_bar=False, log_output=False,
                execution_timeout=timeout, start_timeout=120,
                shutdown_kernel="immediate",  # outputs are collected by then; a graceful shutdown only waits
                **_kernel_transport(workdir, report.name),
            )
    except PapermillExecutionError as exc:
        nb = nbformat.read(out_path, as_version=4)
        first_line = next((ln for ln in exc.source.splitlines() if ln.strip()), "")
        return nb, Outcome(report, "failed", error=f"{exc.ename}: {exc.evalue}",
                           cell_index=_source_cell_number(nb, exc.cell_index), cell_source=first_line)
    except Exception as exc:  # kernel died, timeout, bad notebook: still isolate this report
        nb = nbformat.read(out_path, as_version=4) if out_path.exists() else None
        return nb, Outcome(report, "failed", error=f"{type(exc).__name__}: {exc}")
    reads = sorted(set(reads_log.read_text(encoding="utf-8").split())) if reads_log.exists() else []
    return nbformat.read(out_path, as_version=4), Outcome(report, "ok", reads=tuple(reads))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def run(plan_path: Path | None = None, out_dir: Path | None = None, only: Iterable[str] | None = None,
        show_code: bool = False, timeout: int = 600, log: Callable[[str], None] | None = None,
        wait: bool = False, jobs: int | None = None,
        executor: concurrent.futures.Executor | None = None, force: bool = False) -> list[Outcome]:
    """Check the plan, execute the selected reports, export HTML and rewrite the index.

    Parameters
    ----------
    plan_path
        The plan YAML (default :func:`default_plan_path`).
    out_dir
        Where reports go (default :func:`default_output_dir`).
    only
        Names of reports to run (default: all).
    show_code
        Keep code cells in the HTML (default: hidden).
    timeout
        Seconds a single cell may run.
    log
        Called with one line per report; default prints to standard error.
    wait
        When another run holds the output folder's lock, wait for it instead of failing at once.
    jobs
        Reports executed at once, each kernel in its own worker process (default: the number of cores).
        HTML export and every write happen in this process.
    force
        Re-execute every selected report. Without it, a report whose inputs (notebook source, parameters,
        the data resources it read, the leftbehind source, the lock file) are unchanged since its last good
        run is skipped and its files are kept.
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
    plan = load_plan(plan_path)
    chosen = select(plan, only)
    from . import provenance

    prov = {"environment": provenance.environment(), "data_package": provenance.data_package()}
    if force or not (out_dir / "manifest.json").exists():
        check(chosen)
    else:  # reports whose inputs are unchanged passed this check when they last ran; check the others
        previous = _read_manifest(out_dir)
        check([r for r in chosen if r.name not in previous or not _unchanged(r, previous[r.name], out_dir, prov)])
    root = plan_path.parent.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    with _run_lock(out_dir, wait), _sigterm_as_interrupt():
        return _run_locked(plan, chosen, out_dir, root, show_code, timeout, log, jobs, executor, force, progress,
                           prov)


@contextlib.contextmanager
def _run_lock(out_dir: Path, wait: bool) -> Iterator[None]:
    """One run at a time per output folder: a second run exits at once with a clear message, or waits."""
    import fcntl

    path = out_dir / ".lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ReportError(f"another run is writing to {out_dir.name}/ (lock file {path.name}); "
                              "wait for it to finish, or pass --wait to queue behind it") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so kernels are shut down and temporary files removed on either."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _execute_job(report: Report, workdir: str, timeout: int) -> tuple[str | None, Outcome]:
    """Run one report in a worker process; the notebook travels back as JSON text."""
    import nbformat

    nb, outcome = _execute(report, Path(workdir), timeout)
    return (nbformat.writes(nb) if nb is not None else None), outcome


def _executions(chosen: list[Report], workdir: Path, timeout: int, jobs: int | None,
                executor: concurrent.futures.Executor | None) -> Iterator[tuple[Report, Any, Outcome]]:
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

        executor = concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(chosen)),
                                                          mp_context=multiprocessing.get_context("fork"))
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


def _read_manifest(out_dir: Path) -> dict[str, dict[str, Any]]:
    path = out_dir / "manifest.json"
    try:
        return {e["name"]: e for e in json.loads(path.read_text(encoding="utf-8"))["reports"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


@functools.lru_cache(maxsize=1)
def _code_sha256() -> str:
    """Hash of the leftbehind package's source (modules and templates): a change re-runs every report."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    files = (p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".json")
             and "_data" not in p.relative_to(root).parts)  # the data package is tracked per resource
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _inputs(report: Report, reads: Iterable[str], prov: dict[str, Any]) -> dict[str, Any]:
    """Everything a report's output depends on: notebook source, parameters, the data it read, code, lock."""
    resources = prov["data_package"]["resources"]
    deps = {name: resources.get(name, "") for name in sorted(set(reads))}
    deps["datapackage.json"] = prov["data_package"]["descriptor"]
    return {"notebook": _notebook_source_hash(report.notebook), "parameters": report.parameters,
            "code": _code_sha256(), "lock": prov["environment"]["lock_sha256"], "data": deps}


def _unchanged(report: Report, old: dict[str, Any], out_dir: Path, prov: dict[str, Any]) -> bool:
    if old.get("status") != "ok" or not isinstance(old.get("inputs"), dict):
        return False
    if not ((out_dir / f"{report.name}.html").exists() and (out_dir / f"{report.name}.ipynb").exists()):
        return False
    reads = [r for r in old["inputs"].get("data", {}) if r != "datapackage.json"]
    return _inputs(report, reads, prov) == old["inputs"]


def _run_locked(plan: list[Report], chosen: list[Report], out_dir: Path, root: Path, show_code: bool,
                timeout: int, log: Callable[[str], None], jobs: int | None = None,
                executor: concurrent.futures.Executor | None = None, force: bool = False,
                progress: bool = False, prov: dict[str, Any] | None = None) -> list[Outcome]:
    from . import provenance

    prov = prov or {"environment": provenance.environment(), "data_package": provenance.data_package()}
    done: dict[str, Outcome] = {}
    previous = _read_manifest(out_dir)
    to_run = []
    for report in chosen:
        old = previous.get(report.name)
        if not force and old is not None and _unchanged(report, old, out_dir, prov):
            done[report.name] = Outcome(report, "ok", reads=tuple(old["inputs"]["data"]), skipped=True)
        else:
            to_run.append(report)
    if len(done):
        log(f"{len(done)} of {len(chosen)} report(s) unchanged since their last run (use --force to re-run them)")
    bar = None
    if progress and to_run:
        from tqdm import tqdm

        bar = tqdm(total=len(to_run), desc="reports", unit="report", file=sys.stderr, dynamic_ncols=True)
        log = bar.write
    with tempfile.TemporaryDirectory(prefix="leftbehind-run-") as tmp:
        for i, (report, nb, outcome) in enumerate(_executions(to_run, Path(tmp), timeout, jobs, executor), start=1):
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(report.name)
            rel_in = _relative(report.notebook, root)
            if outcome.status == "ok":
                normalise(nb, input_path=rel_in, output_path=f"reports/{report.name}.ipynb")
                html = _with_provenance(_export_html(nb, report.title, show_code), report, rel_in, prov)
                write_atomic(out_dir / f"{report.name}.ipynb", dumps(nb))
                write_atomic(out_dir / f"{report.name}.html", html)
                _write_thumbnail(nb, out_dir / "thumbs" / f"{report.name}.png")
                failed = out_dir / "_failed" / f"{report.name}.ipynb"
                if failed.exists():
                    failed.unlink()
                log(f"[{i}/{len(to_run)}] ok      {report.name}")
            else:
                if nb is not None:
                    normalise(nb, input_path=rel_in, output_path=f"reports/_failed/{report.name}.ipynb")
                    write_atomic(out_dir / "_failed" / f"{report.name}.ipynb", dumps(nb))
                log(f"[{i}/{len(to_run)}] FAILED  {report.name}: {outcome.error}")
            done[report.name] = outcome
    if bar is not None:
        bar.close()
    outcomes = [done[r.name] for r in chosen]
    _write_manifest_and_index(plan, outcomes, out_dir, root, prov)
    failures = [o for o in outcomes if o.status != "ok"]
    if failures:
        lines = [f"{len(failures)} of {len(outcomes)} report(s) failed:"]
        for o in failures:
            cell = f"cell {o.cell_index} ({o.cell_source!r})" if o.cell_index is not None else "before any cell ran"
            lines.append(f"  {o.report.name} ({o.report.notebook_label}), {cell}: {o.error}")
        lines.append("Earlier good reports were left in place; failed executions are in reports/_failed/.")
        err = ReportError("\n".join(lines))
        err.outcomes = outcomes  # type: ignore[attr-defined]
        raise err
    return outcomes


def _with_provenance(html: str, report: Report, rel_in: str, prov: dict[str, Any]) -> str:
    """Insert a provenance header (escaped) at the top of a report's HTML body."""
    from html import escape

    env, dp = prov["environment"], prov["data_package"]
    params = ", ".join(f"{k} = {v!r}" for k, v in sorted(report.parameters.items())) or "defaults"
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    block = (
        '<details class="leftbehind-provenance" style="font:12px system-ui,sans-serif;margin:8px 16px;color:#444">'
        f"<summary>Provenance: {escape(rel_in)} · {escape(params)}</summary><ul>"
        f"<li>Notebook: {escape(rel_in)} (sha256 {_notebook_source_hash(report.notebook)})</li>"
        f"<li>Parameters: {escape(params)}</li>"
        f"<li>Data package: sha256 {dp['sha256']} (per-resource hashes in manifest.json)</li>"
        f"<li>leftbehind {escape(env['leftbehind'])}, git commit {escape(env['git_commit'])}</li>"
        f"<li>Lock file: sha256 {env['lock_sha256']}; {escape(versions)}</li>"
        "</ul></details>"
    )
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + block, html, count=1)


def _write_thumbnail(nb: Any, path: Path) -> None:
    """Save a small copy of the report's first figure (for the index); remove a stale one if there is none."""
    import base64

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                from PIL import Image

                image = Image.open(io.BytesIO(base64.b64decode("".join(png) if isinstance(png, list) else png)))
                image.thumbnail((320, 320))
                small = io.BytesIO()
                image.convert("RGB").save(small, format="PNG")
                write_atomic(path, small.getvalue())
                return
    if path.exists():
        path.unlink()


def _write_manifest_and_index(plan: list[Report], outcomes: list[Outcome], out_dir: Path, root: Path,
                              prov: dict[str, Any]) -> None:
    manifest_path = out_dir / "manifest.json"
    previous = _read_manifest(out_dir)
    by_name = {o.report.name: o for o in outcomes}
    env = prov["environment"]
    generated = {"git_commit": env["git_commit"], "leftbehind": env["leftbehind"], "lock_sha256": env["lock_sha256"],
                 "data_package_sha256": prov["data_package"]["sha256"]}
    entries = []
    for r in plan:
        html = out_dir / f"{r.name}.html"
        entry = {
            "name": r.name, "title": r.title, "group": r.group, "notebook": _relative(r.notebook, root),
            "notebook_sha256": _notebook_source_hash(r.notebook), "parameters": r.parameters,
            "html": f"{r.name}.html" if html.exists() else None,
            "ipynb": f"{r.name}.ipynb" if (out_dir / f"{r.name}.ipynb").exists() else None,
        }
        o = by_name.get(r.name)
        old = previous.get(r.name, {})
        if o is not None and o.skipped:
            entry.update({k: old.get(k) for k in ("status", "error", "failed_cell", "inputs", "generated_with")})
        elif o is not None:
            entry["status"] = o.status
            entry["error"] = o.error
            entry["failed_cell"] = o.cell_index
            if o.status == "ok":
                entry["inputs"] = _inputs(r, o.reads, prov)
                entry["generated_with"] = generated
            else:
                entry["inputs"] = old.get("inputs")
                entry["generated_with"] = old.get("generated_with")
        else:
            entry["status"] = old.get("status", "ok" if html.exists() else "not run")
            entry["error"] = old.get("error", "")
            entry["failed_cell"] = old.get("failed_cell")
            entry["inputs"] = old.get("inputs")
            entry["generated_with"] = old.get("generated_with")
        entry["failed_ipynb"] = f"_failed/{r.name}.ipynb" if entry["status"] == "failed" else None
        entry["thumbnail"] = f"thumbs/{r.name}.png" if (out_dir / "thumbs" / f"{r.name}.png").exists() else None
        entries.append(entry)
    manifest = {"leftbehind_version": __version__, "provenance": prov, "reports": entries}
    write_atomic(manifest_path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    write_atomic(out_dir / "index.html", render_index({**manifest, "has_api": (out_dir / "api" / "leftbehind.html").exists()}))


def render_index(manifest: dict[str, Any]) -> str:
    """Render ``reports/index.html`` from a manifest (Jinja2, HTML-escaped).

    Examples
    --------
    >>> html = render_index({"leftbehind_version": "0", "reports": [{"name": "a", "title": "<b>A</b>",
    ...     "group": "g", "parameters": {"x": "<script>"}, "status": "ok", "error": "", "html": "a.html",
    ...     "ipynb": "a.ipynb", "failed_ipynb": None, "notebook": "notebooks/a.ipynb"}]})
    >>> "&lt;script&gt;" in html and "<script>" not in html
    True
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("leftbehind", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["reports"]:
        groups.setdefault(entry["group"], []).append(entry)
    return env.get_template("index.html.j2").render(groups=groups, manifest=manifest)
