"""Files the runner keeps beside its reports (issue 29 item 6): the durations cache read without following
links, without waiting and within a bound, and pruned; atomic writes that a planted ``.partial`` link cannot
redirect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from leftbehind._io import write_atomic
from leftbehind.reports import schedule, warm

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
