"""The whole plan, warm, with one hostile report added: do the other reports keep their bytes? (issue 29)

Runs ``python -m leftbehind reports --force`` (warm kernels, ``--jobs 2`` unless told otherwise) three times on a
copy of ``notebooks/`` into three folders: the plan as it is (the baseline), then the plan with one hostile report
in its middle, in each of two modes:

``keeper``
    the hostile report starts children that leave its kernel's environment (``env={}``, a daemon that runs
    ``execve`` with a new environment, a new session), has a process of its own hold a half-sent request on the
    template's socket, then stops the process that started its kernel (``SIGSTOP`` to its parent, the report's
    keeper). Expected: it fails, saying its keeper was stopped; every other report is as in the baseline, warm.
``template``
    the same children and half-sent request, then it kills the kernel template (``SIGKILL``). Expected: no report
    fails or is blamed; the reports after it start cold kernels; every report is as in the baseline, byte for byte
    (warm and cold kernels give the same bytes).

For each run it prints the seconds it took, the reports that failed (with their error), how many started warm and
cold, the files that differ from the baseline (the index and manifest list the hostile report, so they are left
out; the hostile report's own files too), and the processes the hostile report started that are still alive
after the run. Exit status 1 if any report but the hostile one differs or a started process survived.

Usage: ``.venv/bin/python benchmarks/hostile_run.py [--jobs J] [--limit N]`` (``--limit``: the first N reports
of the plan only, for a quick look). Takes three runs of the plan: about 10 to 15 minutes on two cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]

HOSTILE = """\
import os, pathlib, signal, subprocess, sys, time
import psutil

started = []
started.append(subprocess.Popen(["sleep", "900"], env={}).pid)  # item 2: no environment at all
started.append(subprocess.Popen(["sleep", "901"], env={"LEFTBEHIND_REPORT_KERNEL": "x/other"}, start_new_session=True).pid)
read, write = os.pipe()
if os.fork() == 0:  # a daemon that replaces itself with a program and a new environment
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        os.execve("/bin/sleep", ["sleep", "902"], {"PATH": "/bin"})
    os._exit(0)
started.append(int(os.read(read, 20).decode()))
sock = pathlib.Path(os.environ["LEFTBEHIND_READS_LOG"]).parent / "warm.sock"
hold = (  # item 1: a half-sent request on the template's socket, held by a process that leaves the kernel's session
    "import socket, sys, time\\n"
    "s = socket.socket(socket.AF_UNIX)\\n"
    "s.connect(sys.argv[1])\\n"
    "try:\\n    s.sendall(b'{\\"argv\\": [')\\nexcept OSError:\\n    pass\\n"
    "time.sleep(900)\\n"
)
if sock.exists():
    started.append(subprocess.Popen([sys.executable, "-c", hold, str(sock)], env={}, start_new_session=True).pid)
pathlib.Path(marker).write_text(" ".join(map(str, started)))
time.sleep(1)
if mode == "template":  # item 1: the template killed (the topmost ancestor running the template's program)
    found, process = None, psutil.Process().parent()
    while process is not None:
        if "leftbehind.reports._template" in " ".join(process.cmdline()):
            found = process.pid
        process = process.parent()
    if found is not None:
        os.kill(found, signal.SIGKILL)
else:  # item 1: the process that started this kernel stopped
    os.kill(os.getppid(), signal.SIGSTOP)
time.sleep(2)
print("done")
"""


def _hostile_notebook(path: Path) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell(
                'mode: str = "keeper"  # keeper or template\nmarker: str = ""  # where the PIDs started go',
                metadata={"tags": ["parameters"]},
            ),
            new_markdown_cell("**Parameters.** `mode`, `marker`."),
            new_code_cell(HOSTILE),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, path)


def _hashes(folder: Path, skip: set[str]) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in skip and not p.name.startswith(".")
    }


def _run(plan: Path, out: Path, jobs: int, env: dict[str, str]) -> tuple[float, int, str]:
    began = time.monotonic()
    with open(out.parent / f"{out.name}.log", "w") as log:
        proc = subprocess.run(
            [sys.executable, "-m", "leftbehind", "reports", "--plan", str(plan), "--out", str(out), "--force"]
            + ["--jobs", str(jobs)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=3600,
        )
    return time.monotonic() - began, proc.returncode, (out.parent / f"{out.name}.log").read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="the first N reports of the plan only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leftbehind-hostile-"))
    nbs = work / "notebooks"
    shutil.copytree(REPO / "notebooks", nbs)
    _hostile_notebook(nbs / "hostile.ipynb")
    entries = yaml.safe_load((nbs / "reports.yaml").read_text(encoding="utf-8"))["reports"]
    env = {**os.environ, "LEFTBEHIND_KERNEL_START": "warm", "LEFTBEHIND_CACHE": str(work / "cache")}
    plans = {"baseline": list(entries)}
    for mode in ("keeper", "template"):
        hostile = {
            "name": "zz_hostile",
            "notebook": "hostile.ipynb",
            "title": "A hostile report",
            "parameters": {"mode": mode, "marker": str(work / f"{mode}.pids")},
        }
        plans[mode] = entries[: len(entries) // 2] + [hostile] + entries[len(entries) // 2 :]
    status = 0
    baseline: dict[str, str] = {}
    skip = {"manifest.json", "index.html", "zz_hostile.html", "zz_hostile.ipynb", "thumbs/zz_hostile.png"}
    skip |= {"_failed/zz_hostile.ipynb"}
    for name, plan_entries in plans.items():
        if args.limit:
            keep = {e["name"] for e in entries[: args.limit]} | {"zz_hostile"}
            plan_entries = [e for e in plan_entries if e["name"] in keep]
        plan = nbs / "reports.yaml"
        plan.write_text(yaml.safe_dump({"reports": plan_entries}, sort_keys=False), encoding="utf-8")
        out = work / name
        seconds, code, log = _run(plan, out, args.jobs, env)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
        failed = {e["name"]: e["error"] for e in manifest if e["status"] != "ok"}
        starts = [((e.get("generated_with") or {}).get("kernel") or {}).get("start") for e in manifest]
        hashes = _hashes(out, skip)
        if name == "baseline":
            baseline = hashes
        differ = sorted(k for k in set(hashes) | set(baseline) if hashes.get(k) != baseline.get(k))
        pids_file = work / f"{name}.pids"
        started = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []
        alive = [p for p in started if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        notices = [line for line in log.splitlines() if line.startswith("leftbehind: ") or "template" in line]
        print(
            f"{name}: {seconds:.1f} s, exit {code}, {len(manifest)} reports, {starts.count('warm')} warm, "
            f"{starts.count('cold')} cold"
        )
        print(f"  failed: {failed or 'none'}")
        print(f"  files differing from the baseline (of {len(hashes)}): {differ or 'none'}")
        print(f"  processes the hostile report started: {started or '-'}; alive after the run: {alive or 'none'}")
        for line in sorted(set(notices))[:5]:
            print(f"  said: {line}")
        if differ or alive or set(failed) - {"zz_hostile"}:
            status = 1
    print(f"(runs kept in {work})")
    return status


if __name__ == "__main__":
    sys.exit(main())
