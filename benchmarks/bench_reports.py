"""Benchmark the report runner against the plain way, on the same plan, in one run.

    python benchmarks/bench_reports.py [--limit N] [--jobs J]      (or: make bench)

Measures, on the first N reports of notebooks/reports.yaml (default: one report per notebook, then more
country profiles, 10 in all):

(a) the plain way: `papermill` CLI, then `jupyter nbconvert --to html` CLI, per report, one after another;
(b) this runner, cold: `python -m leftbehind reports --force` (default jobs);
(c) this runner with nothing changed (every report skipped);
(d) the floor: per report, a fresh process importing pandas and matplotlib, plus the notebook's own cell
    execution time as the kernel recorded it (papermill's per-cell durations from run (a)), summed over the
    plan and divided by the number of cores (the work the machine cannot avoid, spread over its cores; with
    the default --jobs this is the same as dividing by the number of jobs).

It prints the times, the ratios a/b and b/d, c in seconds, and the peak memory of run (b): the largest sum of
resident memory over the runner and all its descendants (kernels, workers), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as fh:
                kib = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except (OSError, StopIteration, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kib
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _timed(cmd: list[str], sample: bool = False, **kw) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    peak = 0
    if sample:
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.1)
    if proc.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, peak


def _plan_subset(limit: int) -> list[dict]:
    from leftbehind import reports

    plan = reports.load_plan(REPO / "notebooks" / "reports.yaml")  # grids expanded: one entry per report
    entries = [
        {"name": r.name, "notebook": r.notebook.name, "title": r.title, "group": r.group, "parameters": r.parameters}
        for r in plan
    ]
    first_per_notebook = list({e["notebook"]: e for e in reversed(entries)}.values())[::-1]
    rest = [e for e in entries if e not in first_per_notebook]
    return (first_per_notebook + rest)[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=10, help="number of reports (default 10)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    entries = _plan_subset(args.limit)
    work = Path(tempfile.mkdtemp(prefix="leftbehind-bench-"))
    nbs = work / "notebooks"
    shutil.copytree(REPO / "notebooks", nbs)
    (nbs / "reports.yaml").write_text(yaml.safe_dump({"reports": entries}, sort_keys=False), encoding="utf-8")
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)

    # (a) the plain way
    plain_dir = work / "plain"
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
    plain = time.perf_counter() - start

    # (b) cold and (c) no-op runs of this runner
    runner = [
        sys.executable,
        "-m",
        "leftbehind",
        "reports",
        "--plan",
        str(nbs / "reports.yaml"),
        "--out",
        str(work / "out"),
        "--jobs",
        str(args.jobs),
    ]
    cold, peak_kib = _timed(runner + ["--force"], sample=True, cwd=REPO, env=env)
    noop, _ = _timed(runner, cwd=REPO, env=env)

    # (d) the floor
    imports, _ = _timed([sys.executable, "-c", "import pandas, matplotlib.pyplot"], env=env)
    cells = 0.0
    for e in entries:
        nb = json.loads((plain_dir / f"{e['name']}.ipynb").read_text(encoding="utf-8"))
        cells += sum(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0 for c in nb["cells"])
    floor = (imports * len(entries) + cells) / (os.cpu_count() or 1)

    result = {
        "reports": len(entries),
        "jobs": args.jobs,
        "plain_s": round(plain, 2),
        "cold_s": round(cold, 2),
        "noop_s": round(noop, 2),
        "floor_s": round(floor, 2),
        "plain_over_cold": round(plain / cold, 2),
        "cold_over_floor": round(cold / floor, 2),
        "peak_memory_mib": round(peak_kib / 1024),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    for key, value in result.items():
        print(f"{key:>16}: {value}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
