"""What happened to one report in a run (:class:`Outcome`), and where a failing cell is in its source notebook.
The lowest module of the runner: execution, publishing and the site all speak of outcomes.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from .plan import Report

__all__ = ["Outcome", "run_summary"]


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
    kernel: dict[str, Any] = dataclasses.field(default_factory=dict)  # what the kernel ran (kernel.record)

    def summary(self) -> str:
        """What went wrong and where, for the run's summary: ``cell 3 ('if fail:'): ValueError: …`` for an
        exception in a cell; ``cell 3 ('time.sleep(60)') timed out after 45 s``, ``kernel died during cell 3
        ('os._exit(1)') (exit code 1)``, ``output of cell 3 (…) could not be rendered: …`` otherwise."""
        if self.cell_index is None:
            return self.error
        named = re.compile(rf"\bcell {self.cell_index}\b")
        where = f"cell {self.cell_index} ({self.cell_source!r})"
        if named.search(self.error):
            return named.sub(lambda m: where, self.error, count=1)
        return f"{where}: {self.error}"


def _source_cell_number(executed: Any, index: int) -> int:
    """1-based number, in the source notebook, of executed cell ``index`` (papermill's injected-parameters
    cell is not in the source, so cells after it shift by one)."""
    injected = [i for i, c in enumerate(executed.cells) if "injected-parameters" in c.metadata.get("tags", [])]
    return index + 1 - (1 if injected and injected[0] < index else 0)


def run_summary(outcomes: list[Outcome], out_dir: Path) -> str:
    """The one line a successful run ends with: how many reports ran and how many were already up to date.

    A run with nothing to do says that, once, rather than counting the same reports as unchanged and as written.

    Examples
    --------
    >>> from leftbehind.reports.plan import Report
    >>> r = Report(name="a", notebook=Path("nb.ipynb"), title="A", parameters={}, group="countries")
    >>> print(run_summary([Outcome(r, "ok", skipped=True)] * 3, Path("reports")))
    reports/ (index.html): all 3 report(s) unchanged since their last run; nothing written (--force re-runs them)
    >>> print(run_summary([Outcome(r, "ok"), Outcome(r, "ok", skipped=True)], Path("reports")))
    reports/ (index.html): 1 report(s) written, 1 unchanged since their last run
    """
    written = sum(not o.skipped for o in outcomes)
    where = f"{out_dir.as_posix()}/ (index.html)"
    if not written:
        return (
            f"{where}: all {len(outcomes)} report(s) unchanged since their last run; nothing written "
            "(--force re-runs them)"
        )
    if written == len(outcomes):
        return f"{where}: {written} report(s) written"
    return f"{where}: {written} report(s) written, {len(outcomes) - written} unchanged since their last run"
