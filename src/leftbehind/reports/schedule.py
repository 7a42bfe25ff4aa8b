"""The order a run starts its reports in: the longest first, by how long each took in the plan's last run.

With ``--jobs`` reports executing at once, a run ends when its last report does. Started in plan order, the
longest reports (the world and evidence maps) came last and one core finished alone for a second or two;
started longest first (Graham's LPT rule), the cores finish together. Each run that executes reports in worker
processes keeps how long each execution took (from its start to its kernel's end) in a small JSON file in the
user's cache folder, ``$LEFTBEHIND_CACHE``, else ``$XDG_CACHE_HOME/leftbehind``, else ``~/.cache/leftbehind``,
keyed by plan file: a scheduling hint, never an input. Nothing a run writes depends on the order its reports
ran in, so reports are byte-identical whatever it is; a missing, unreadable or foreign file means plan order.
The file is read without following a link and without waiting (a FIFO or device there is ignored), and only up
to :data:`MAX_BYTES`; each save keeps, of the plan just run, only the reports it has now (a report removed or
renamed is forgotten), and only the :data:`KEEP_PLANS` plans run last, so the file stays small whatever it was.

Examples
--------
>>> from pathlib import Path
>>> from leftbehind.reports.plan import Report
>>> a, b, c = (Report(n, Path(f"{n[0]}.ipynb"), n, {}, "g") for n in ("map", "meta", "mapx"))
>>> [r.name for r in longest_first([a, b, c], {"map": 2.0, "meta": 0.5})]  # mapx: as long as map, its notebook's
['map', 'mapx', 'meta']
>>> [r.name for r in longest_first([a, b, c], {})]  # nothing known: plan order
['map', 'meta', 'mapx']
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path

from .plan import Report

__all__ = ["CACHE_ENV", "cache_file", "load", "longest_first", "save"]

#: Environment variable naming the folder where runs keep their reports' durations (see the module docstring).
CACHE_ENV = "LEFTBEHIND_CACHE"

#: Version of the durations file's layout; a file of another version is ignored (and replaced).
VERSION = 1

#: Plans whose durations the file keeps: the most recently run (test suites run many short-lived plans).
KEEP_PLANS = 20

#: Largest durations file read (bytes); a larger one is ignored, and replaced at the next save. The project's
#: plan (about 260 reports) takes about 12 KB.
MAX_BYTES = 1 << 20


def cache_file() -> Path | None:
    """The file where runs keep their reports' durations (it may not exist); ``None`` where there is no cache
    folder (no ``$LEFTBEHIND_CACHE`` nor ``$XDG_CACHE_HOME``, and no home folder)."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME")
        if not base:
            try:
                base = str(Path.home() / ".cache")
            except RuntimeError:  # no home folder to be found (HOME unset, user not in the password database)
                return None
        folder = str(Path(base) / "leftbehind")
    return Path(folder) / "report-durations.json"


def _read() -> dict[str, dict[str, float]]:
    from .._io import read_limited

    path = cache_file()
    try:
        stored = json.loads(read_limited(path, MAX_BYTES)) if path is not None else None
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or stored.get("version") != VERSION or not isinstance(stored.get("plans"), dict):
        return {}
    plans: dict[str, dict[str, float]] = {}
    for plan, durations in stored["plans"].items():
        if isinstance(durations, dict):
            plans[str(plan)] = {
                str(k): float(v) for k, v in durations.items() if isinstance(v, int | float) and 0 <= v < 1e6
            }
    return plans


def load(plan: str) -> dict[str, float]:
    """Seconds each report of ``plan`` (a plan file's resolved path) took when it last ran; ``{}`` if unknown."""
    return _read().get(plan, {})


def save(plan: str, durations: Mapping[str, float], keep: Collection[str] | None = None) -> None:
    """Record ``durations`` (report name → seconds) for ``plan``, keeping what is known of its other reports (those
    named in ``keep``, the plan's reports now, when given) and of the :data:`KEEP_PLANS` plans run most recently,
    within :data:`MAX_BYTES`. Quietly does nothing where the cache folder cannot be written: a hint is not worth an
    error."""
    if not durations:
        return
    from .._io import write_atomic

    plans = _read()
    known = plans.pop(plan, {})
    now = {**known, **{k: round(float(v), 2) for k, v in durations.items()}}
    kept = None if keep is None else set(keep)
    plans[plan] = {k: v for k, v in now.items() if kept is None or k in kept}  # now the most recent
    plans = dict(list(plans.items())[-KEEP_PLANS:])
    text = json.dumps({"version": VERSION, "plans": plans}, indent=1) + "\n"
    while len(text.encode("utf-8")) > MAX_BYTES and len(plans) > 1:  # the oldest plans go first
        plans.pop(next(iter(plans)))
        text = json.dumps({"version": VERSION, "plans": plans}, indent=1) + "\n"
    if len(text.encode("utf-8")) > MAX_BYTES:
        return
    path = cache_file()
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))


def longest_first(reports: list[Report], durations: Mapping[str, float]) -> list[Report]:
    """``reports`` in the order to start them: longest first by ``durations`` (report name → seconds); a report
    not timed yet is taken to last as long as the timed reports of its notebook on average, or as long as the
    longest timed report if its notebook has none; ties keep plan order. With no durations, plan order."""
    known = {r.name: durations[r.name] for r in reports if r.name in durations}
    if not known:
        return list(reports)
    by_notebook: dict[Path, list[float]] = {}
    for r in reports:
        if r.name in known:
            by_notebook.setdefault(r.notebook, []).append(known[r.name])
    longest = max(known.values())

    def estimate(r: Report) -> float:
        if r.name in known:
            return known[r.name]
        same = by_notebook.get(r.notebook)
        return sum(same) / len(same) if same else longest

    order = sorted(range(len(reports)), key=lambda i: (-estimate(reports[i]), i))
    return [reports[i] for i in order]
