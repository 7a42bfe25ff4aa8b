"""Benchmark the report runner against the plain way and against the compute floor, on the same plan, in one run.

    python benchmarks/bench_reports.py [--limit N] [--jobs J] [--no-plain]      (or: make bench)

Measures, on the first N reports of notebooks/reports.yaml (default: the whole plan; with a limit, one
report per notebook first, then more country profiles):

(a) the plain way: `papermill` CLI, then `jupyter nbconvert --to html` CLI, per report, one after another
    (skipped with --no-plain, and with it the floor (d)); on a plan of hundreds of reports this loop takes most
    of an hour, so it runs on a sample (``--plain-sample N``, default 20: one report per notebook first, then
    country profiles, as ``--limit`` picks them) and is scaled by the number of reports: per report, the
    sample's time divided by its size, against the runner's time divided by the plan's size; ``0`` runs it on
    the whole plan;
(b) this runner with cold kernels: `python -m leftbehind reports --force --cold` (a fresh interpreter per
    report, the runner before issue 18);
(w) this runner as it runs by default: `--force`, each kernel forked from a warm template, the longest reports
    started first by the durations the run before it (b) kept (in --pairs, the first warm run has none yet and
    starts them in plan order; see leftbehind.reports.schedule);
(c) this runner with nothing changed (every report skipped);
(d) the floor: per report, a fresh process importing pandas and matplotlib, plus the notebook's own cell
    execution time as the kernel recorded it (papermill's per-cell durations from run (a)), summed over the
    plan and divided by the number of cores (the work the machine cannot avoid, spread over its cores; with
    the default --jobs this is the same as dividing by the number of jobs);
(e) the compute floor: the notebooks' own cell time in an already-warm process (one kernel that has imported
    what the template imports and filled the caches it fills; each report's parameterised cells executed there one
    after another, including rendering figures), summed over the plan and divided by the jobs. No runner can
    go below it without making the notebooks themselves faster;
(e2) the same cells measured while every core is busy, as they are in a run: ``jobs`` such kernels at once,
    each executing every ``jobs``-th report, their cell times summed and divided by the jobs. On a machine
    whose cores slow each other down (shared caches, memory bandwidth, a host's other guests), (e), measured
    with the other cores idle, is below what even a runner with no overhead at all could reach; (e2) is the
    floor such a runner would meet;
(f) the runner as it was when issue 18 was filed (commit AS_FILED, the last before warm kernels: its own
    package, data and runner, extracted with `git archive`), against this runner (warm), both on the reports
    whose notebooks are byte-identical in both trees (`--as-filed ''` skips it; so does a clone without that
    commit). `--cold` in (b) is not that runner: it has every per-report fix made since but the warm start.

With ``--pairs N`` it measures only (w) and (e), one after the other, N times, and prints each pair's ratio and
their median: this machine's speed drifts by a third within minutes (in one run of the bench, (e) took 58.0 s
and, minutes later, (e2), which a steady machine never runs faster than (e), 41.6 s), so a ratio of two
measurements taken far apart in time says more of the machine than of the runner.

It prints the times, the ratios, and the peak memory of runs (b) and (w): the largest sum over the runner and
all its descendants (kernels, workers, template), sampled every 0.1 s, of resident memory (RSS, which counts
pages that forked kernels share once per process) and of proportional memory (PSS, which splits shared pages
between the processes sharing them: the memory the run really takes). Sampling reads /proc many times a
second and takes CPU from the run it watches, so memory is measured in a second run of (b) and (w), not in
the timed one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: The last commit before warm kernels: the runner issue 18's "today's runner time" refers to.
AS_FILED = "e1a89c0"


def _field_kib(path: str, field: str) -> int:
    with open(path) as fh:
        return next((int(line.split()[1]) for line in fh if line.startswith(field)), 0)


def _tree_memory_kib(root: int) -> tuple[int, int]:
    """Resident (RSS) and proportional (PSS) memory, KiB, of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            rss += _field_kib(f"/proc/{pid}/status", "VmRSS:")
            pss += _field_kib(f"/proc/{pid}/smaps_rollup", "Pss:")
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return rss, pss


def _timed(cmd: list[str], sample: bool = False, **kw) -> tuple[float, tuple[int, int]]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    peak = (0, 0)
    if sample:
        while proc.poll() is None:
            now = _tree_memory_kib(proc.pid)
            peak = (max(peak[0], now[0]), max(peak[1], now[1]))
            time.sleep(0.1)
    if proc.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, peak


def _compute_floor(entries: list[dict], nbs: Path, env: dict[str, str]) -> float:
    """Seconds the reports' own cells take in one warm kernel (see (e) in the module docstring)."""
    from jupyter_client.manager import start_new_kernel
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from leftbehind.reports._template import PRELOAD

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(nbs), env=env)

    def run(code: str) -> float:
        start = time.perf_counter()
        msg_id = kc.execute(code, store_history=False)
        while True:
            msg = kc.get_iopub_msg(timeout=600)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "error":
                raise SystemExit(f"compute floor: a cell failed: {msg['content']['ename']}: {msg['content']['evalue']}")
            if msg["parent_header"].get("msg_id") == msg_id and msg["content"].get("execution_state") == "idle":
                return time.perf_counter() - start

    try:
        run(  # the template's warm state: its modules, then its caches (tables parsed, selections computed)
            "import " + ", ".join(PRELOAD) + "\nfrom leftbehind.reports._template import prime_caches\nprime_caches()"
        )
        total = 0.0
        for e in entries:
            nb = parameterize_notebook(load_notebook_node(str(nbs / e["notebook"])), e.get("parameters") or {})
            run("%reset -f")
            total += sum(run(cell.source) for cell in nb.cells if cell.cell_type == "code")
        return total
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _compute_floor_busy(entries: list[dict], nbs: Path, env: dict[str, str], jobs: int) -> float:
    """Seconds the reports' own cells take in ``jobs`` warm kernels working at once, each on every ``jobs``-th
    report (see (e2) in the module docstring)."""
    import concurrent.futures
    import multiprocessing

    groups = [entries[i::jobs] for i in range(jobs)]
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return sum(pool.map(_compute_floor, groups, [nbs] * jobs, [env] * jobs))


def _plan_subset(limit: int) -> list[dict]:
    from leftbehind import reports

    plan = reports.load_plan(REPO / "notebooks" / "reports.yaml")  # grids expanded: one entry per report
    entries = [
        {"name": r.name, "notebook": r.notebook.name, "title": r.title, "group": r.group, "parameters": r.parameters}
        for r in plan
    ]
    if limit <= 0:
        return entries
    first_per_notebook = list({e["notebook"]: e for e in reversed(entries)}.values())[::-1]
    rest = [e for e in entries if e not in first_per_notebook]
    return (first_per_notebook + rest)[:limit]


def _as_filed_tree(commit: str, work: Path, entries: list[dict]) -> tuple[Path, list[dict]] | None:
    """Extract ``commit``'s tree into ``work`` and keep the entries whose notebook is byte-identical there;
    ``None`` when the commit is not in this clone."""
    import io
    import tarfile

    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True)
    if archive.returncode != 0:
        return None
    tree = work / f"as-filed-{commit}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    same = [
        e
        for e in entries
        if (tree / "notebooks" / e["notebook"]).is_file()
        and (tree / "notebooks" / e["notebook"]).read_bytes() == (REPO / "notebooks" / e["notebook"]).read_bytes()
    ]
    return tree, same


def _plain_way(entries: list[dict], nbs: Path, plain_dir: Path, env: dict[str, str]) -> float:
    plain_dir.mkdir()
    start = time.perf_counter()
    for e in entries:
        out = plain_dir / f"{e['name']}.ipynb"
        params = yaml.safe_dump(e.get("parameters") or {})
        subprocess.run(
            [str(BIN / "papermill"), str(nbs / e["notebook"]), str(out), "-y", params, "--cwd", str(nbs)],
            check=True,
            capture_output=True,
            env=env,
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(out)], check=True, capture_output=True, env=env
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="number of reports (default 0: the whole plan)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-plain", action="store_true", help="skip the plain way (a) and the floor (d)")
    parser.add_argument(
        "--plain-sample",
        type=int,
        default=20,
        metavar="N",
        help="run the plain way (a) on N reports (one per notebook first) and scale per report; 0: the whole plan",
    )
    parser.add_argument("--as-filed", default=AS_FILED, metavar="COMMIT", help="the runner of (f); '' skips (f)")
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        metavar="N",
        help="only (w) then (e), alternately, N times: each pair's ratio and the median (see the module docstring)",
    )
    args = parser.parse_args()
    entries = _plan_subset(args.limit)
    work = Path(tempfile.mkdtemp(prefix="leftbehind-bench-"))
    nbs = work / "notebooks"
    shutil.copytree(REPO / "notebooks", nbs)
    (nbs / "reports.yaml").write_text(yaml.safe_dump({"reports": entries}, sort_keys=False), encoding="utf-8")
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env.pop("LEFTBEHIND_KERNEL_START", None)
    env["PYTHONHASHSEED"] = "0"  # as in report kernels
    env["LEFTBEHIND_CACHE"] = str(work / "cache")  # the runs' durations: this benchmark's, not the user's

    def show(**values: object) -> None:  # as soon as measured: a long run that stops later loses nothing
        for key, value in values.items():
            print(f"{key:>24}: {value}", flush=True)

    show(reports=len(entries), jobs=args.jobs)

    # (b) cold, (w) warm and (c) no-op runs of this runner
    runner = [sys.executable, "-m", "leftbehind", "reports", "--plan", str(nbs / "reports.yaml")]
    runner += ["--out", str(work / "out"), "--jobs", str(args.jobs)]
    if args.pairs:
        ratios = []
        for i in range(1, args.pairs + 1):
            warm, _ = _timed(runner + ["--force"], cwd=REPO, env=env)
            compute_floor = _compute_floor(entries, nbs, env) / args.jobs
            ratios.append(warm / compute_floor)
            show(**{f"pair_{i}": f"warm {warm:.2f} s, compute floor {compute_floor:.2f} s, ratio {ratios[-1]:.2f}"})
        show(median_warm_over_compute_floor=round(statistics.median(ratios), 2))
        shutil.rmtree(work, ignore_errors=True)
        return
    cold, _ = _timed(runner + ["--force", "--cold"], cwd=REPO, env=env)
    show(cold_s=round(cold, 2))
    warm, _ = _timed(runner + ["--force"], cwd=REPO, env=env)
    show(warm_s=round(warm, 2))
    noop, _ = _timed(runner, cwd=REPO, env=env)
    show(noop_s=round(noop, 2))
    compute_floor = _compute_floor(entries, nbs, env) / args.jobs
    show(
        compute_floor_s=round(compute_floor, 2),
        warm_over_compute_floor=round(warm / compute_floor, 2),
        warm_over_cold=round(warm / cold, 2),
    )
    if args.jobs > 1:
        busy_floor = _compute_floor_busy(entries, nbs, env, args.jobs) / args.jobs
        show(compute_floor_busy_s=round(busy_floor, 2), warm_over_compute_floor_busy=round(warm / busy_floor, 2))
    tree = _as_filed_tree(args.as_filed, work, entries) if args.as_filed else None
    if tree is not None:  # (f): the same reports, its runner then the current one, one after the other
        old_tree, same = tree
        subset = {"reports": same}
        (old_tree / "notebooks" / "bench.yaml").write_text(yaml.safe_dump(subset, sort_keys=False), encoding="utf-8")
        (nbs / "bench-subset.yaml").write_text(yaml.safe_dump(subset, sort_keys=False), encoding="utf-8")
        old_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(old_tree / "src"), env.get("PYTHONPATH")]))}
        as_filed, _ = _timed(
            [sys.executable, "-m", "leftbehind", "reports", "--plan", str(old_tree / "notebooks" / "bench.yaml")]
            + ["--out", str(work / "out-as-filed"), "--jobs", str(args.jobs), "--force"],
            cwd=old_tree,
            env=old_env,
        )
        now = [sys.executable, "-m", "leftbehind", "reports", "--plan", str(nbs / "bench-subset.yaml")]
        warm_same, _ = _timed(
            now + ["--out", str(work / "out-subset"), "--jobs", str(args.jobs), "--force"], cwd=REPO, env=env
        )
        show(
            as_filed_commit=args.as_filed,
            as_filed_reports=len(same),
            as_filed_s=round(as_filed, 2),
            warm_same_reports_s=round(warm_same, 2),
            warm_over_as_filed=round(warm_same / as_filed, 2),
        )
    for start, flags in (("cold", ["--force", "--cold"]), ("warm", ["--force"])):  # memory, in runs of their own
        _, peak = _timed(runner + flags, sample=True, cwd=REPO, env=env)
        show(**{f"{start}_peak_rss_mib": round(peak[0] / 1024), f"{start}_peak_pss_mib": round(peak[1] / 1024)})
    if not args.no_plain:  # (a) the plain way and (d) the floor, on a sample scaled to the plan
        plain_dir = work / "plain"
        sample = _plan_subset(args.plain_sample) if 0 < args.plain_sample < len(entries) else entries
        plain = _plain_way(sample, nbs, plain_dir, env)
        imports, _ = _timed([sys.executable, "-c", "import pandas, matplotlib.pyplot"], env=env)
        cells = 0.0
        for e in sample:
            nb = json.loads((plain_dir / f"{e['name']}.ipynb").read_text(encoding="utf-8"))
            cells += sum(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0 for c in nb["cells"])
        scale = len(entries) / len(sample)  # the sample's time per report, times the plan's reports
        floor = (imports * len(sample) + cells) * scale / (os.cpu_count() or 1)
        plain_per_report, warm_per_report = plain / len(sample), warm / len(entries)
        show(
            plain_sample_reports=len(sample),
            plain_sample_s=round(plain, 2),
            plain_per_report_s=round(plain_per_report, 3),
            warm_per_report_s=round(warm_per_report, 3),
            plain_over_warm_per_report=round(plain_per_report / warm_per_report, 1),
            plain_scaled_s=round(plain * scale, 2),
            floor_s=round(floor, 2),
            plain_over_cold=round(plain * scale / cold, 2),
            cold_over_floor=round(cold / floor, 2),
            warm_over_floor=round(warm / floor, 2),
        )
    show(machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
