"""The order a run starts its reports in (issue 18): the longest first, by the durations its last run kept in
the cache folder; outputs byte-identical in any order; a broken durations file means plan order, not an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leftbehind import reports
from leftbehind.reports import execute, schedule
from leftbehind.reports.plan import Report
from test_reports import _hashes, _one_step_notebook, _plan


def _file() -> Path:
    path = schedule.cache_file()
    assert path is not None
    return path


def _project(tmp_path: Path) -> tuple[Path, list[dict]]:
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "say.ipynb", "x: int = 1  # printed", "print(x)")
    entries = [{"name": f"r{i}", "notebook": "say.ipynb", "parameters": {"x": i}} for i in range(4)]
    return _plan(nbs, entries), entries


def _started_order(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record, run by run, the order in which reports are handed to worker processes."""
    orders: list[list[str]] = []
    original = execute._in_processes

    def recording(chosen, *args, **kwargs):  # type: ignore[no-untyped-def]
        orders.append([r.name for r in chosen])
        return original(chosen, *args, **kwargs)

    monkeypatch.setattr(execute, "_in_processes", recording)
    return orders


def test_a_run_keeps_its_durations_and_the_next_starts_the_longest_first(tmp_path, monkeypatch):
    plan, _ = _project(tmp_path)
    out = tmp_path / "reports"
    orders = _started_order(monkeypatch)
    reports.run(plan, out, jobs=2, force=True, log=lambda line: None)
    first = _hashes(out)
    kept = schedule.load(str(plan.resolve()))
    assert sorted(kept) == ["r0", "r1", "r2", "r3"] and all(0 < s < 120 for s in kept.values())

    # as if r2, then r0, had been the longest last time
    schedule.save(str(plan.resolve()), {"r0": 5.0, "r1": 1.0, "r2": 9.0, "r3": 2.0})
    reports.run(plan, out, jobs=2, force=True, log=lambda line: None)
    assert orders == [["r0", "r1", "r2", "r3"], ["r2", "r0", "r3", "r1"]]
    assert _hashes(out) == first  # the same files, byte for byte, in any order


def test_a_broken_durations_file_means_plan_order(tmp_path, monkeypatch):
    plan, _ = _project(tmp_path)
    _file().parent.mkdir(parents=True, exist_ok=True)
    _file().write_text("{not json", encoding="utf-8")
    orders = _started_order(monkeypatch)
    outcomes = reports.run(plan, tmp_path / "reports", jobs=2, force=True, log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok"] * 4
    assert orders == [["r0", "r1", "r2", "r3"]]
    stored = json.loads(_file().read_text(encoding="utf-8"))  # replaced by a good one
    assert stored["version"] == schedule.VERSION and sorted(stored["plans"][str(plan.resolve())]) == [
        "r0",
        "r1",
        "r2",
        "r3",
    ]


def test_reports_not_timed_yet_are_estimated_from_their_notebook_or_the_longest():
    nb_a, nb_b, nb_c = Path("a.ipynb"), Path("b.ipynb"), Path("c.ipynb")
    plan = [
        Report("a1", nb_a, "", {}, "g"),
        Report("b1", nb_b, "", {}, "g"),
        Report("a2", nb_a, "", {}, "g"),  # not timed: as long as a1 and a3 on average (2.5)
        Report("c1", nb_c, "", {}, "g"),  # not timed, nor is its notebook: as long as the longest (4.0)
        Report("a3", nb_a, "", {}, "g"),
    ]
    order = schedule.longest_first(plan, {"a1": 1.0, "b1": 4.0, "a3": 4.0, "gone": 99.0})
    assert [r.name for r in order] == ["b1", "c1", "a3", "a2", "a1"]  # ties (4.0): plan order


def test_the_file_keeps_the_most_recent_plans_only(monkeypatch):
    for i in range(schedule.KEEP_PLANS + 3):
        schedule.save(f"/plans/{i}.yaml", {"r": float(i)})
    stored = json.loads(_file().read_text(encoding="utf-8"))
    assert list(stored["plans"])[-1] == f"/plans/{schedule.KEEP_PLANS + 2}.yaml"
    assert "/plans/0.yaml" not in stored["plans"] and len(stored["plans"]) <= schedule.KEEP_PLANS
    assert schedule.load("/plans/5.yaml") == {"r": 5.0}


def test_without_any_cache_folder_a_run_keeps_nothing_and_fails_nothing(monkeypatch):
    """No ``$LEFTBEHIND_CACHE``, no ``$XDG_CACHE_HOME`` and no home folder (a bare container): plan order, quietly."""

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv(schedule.CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert schedule.cache_file() is None
    schedule.save("/plans/p.yaml", {"r": 1.0})
    assert schedule.load("/plans/p.yaml") == {}


def test_a_finished_workers_pipe_number_reused_by_the_next_is_not_taken_for_its_own(tmp_path, monkeypatch):
    """A run recorded a duration of 0.00 s (and let one more kernel start than --jobs allows): a worker's "kernel
    gone" pipe was closed when it signalled, the next report's pipe took the same descriptor number, and when the
    first worker then ended, the runner closed and timed that number again, now the next report's. With one job,
    each report sleeping a second, every report must be timed at a second or more."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _one_step_notebook(nbs / "sleep.ipynb", "x: int = 1  # printed", "import time\ntime.sleep(1)\nprint(x)")
    plan = _plan(nbs, [{"name": f"s{i}", "notebook": "sleep.ipynb", "parameters": {"x": i}} for i in range(3)])
    outcomes = reports.run(plan, tmp_path / "reports", jobs=1, force=True, log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok"] * 3
    kept = schedule.load(str(plan.resolve()))
    assert sorted(kept) == ["s0", "s1", "s2"] and all(s >= 1.0 for s in kept.values()), kept
