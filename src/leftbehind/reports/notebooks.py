"""Keep notebooks clean and reproducible: normalise executed notebooks, refresh the stored ones.

Two kinds of notebook files exist in this project:

* **Source notebooks** in ``notebooks/`` are stored in git without outputs, except the cells tagged
  ``nbval-check-output``: their outputs are the published key results that ``pytest --nbval-lax``
  compares against a fresh run, so a change that moves a published number fails the tests until the
  notebook is deliberately refreshed (``make refresh-notebooks``).
* **Executed notebooks** in ``reports/`` are written by the runner; :func:`normalise` removes everything
  that changes from run to run (timestamps, durations, absolute paths) so that regenerating with nothing
  changed gives identical bytes.

Examples
--------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook()
>>> nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00", "duration": 1.5, "parameters": {}}
>>> normalise(nb).metadata["papermill"]
{'parameters': {}}
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from .._io import write_atomic

__all__ = ["CHECK_TAG", "normalise", "strip_for_storage", "dumps", "write_atomic", "refresh"]

#: Cells with this tag keep their outputs in git and are compared by nbval (``--nbval-lax``).
CHECK_TAG = "nbval-check-output"

_VOLATILE_NB_KEYS = ("start_time", "end_time", "duration", "exception")
_VOLATILE_CELL_KEYS = ("execution", "papermill", "collapsed", "scrolled", "jupyter")


def normalise(nb: Any, input_path: str | None = None, output_path: str | None = None) -> Any:
    """Remove run-to-run noise from an executed notebook (in place; also returned).

    Drops papermill's start/end times and durations (notebook and cell level), Jupyter's per-cell execution
    timestamps, and replaces papermill's absolute input/output paths by the project-relative paths given.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    >>> nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    >>> "execution" in normalise(nb).cells[0].metadata
    False
    """
    pm = nb.metadata.get("papermill")
    if pm is not None:
        for key in _VOLATILE_NB_KEYS:
            pm.pop(key, None)
        if "input_path" in pm:
            pm["input_path"] = input_path
        if "output_path" in pm:
            pm["output_path"] = output_path
        pm.pop("environment_variables", None)
    errors = 0
    for cell in nb.cells:
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)
        tags = cell.metadata.get("tags", [])
        if "id" in cell and "injected-parameters" in tags:
            cell["id"] = "injected-parameters"  # papermill gives its own cells a random id on every run
        elif "id" in cell and "papermill-error-cell-tag" in tags:
            errors += 1
            cell["id"] = f"papermill-error-cell-{errors}"
    return nb


def strip_for_storage(nb: Any) -> Any:
    """Return a copy fit for git: outputs only in cells tagged :data:`CHECK_TAG`, no execution noise.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\\n")]),
    ...     nbformat.v4.new_code_cell("print(2)", metadata={"tags": [CHECK_TAG]},
    ...                               outputs=[nbformat.v4.new_output("stream", text="2\\n")])])
    >>> [len(c.outputs) for c in strip_for_storage(nb).cells]
    [0, 1]
    """
    out = copy.deepcopy(nb)
    normalise(out)
    out.metadata.pop("papermill", None)
    out.metadata.pop("widgets", None)
    for cell in out.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if CHECK_TAG in cell.metadata.get("tags", []):
            pass  # nbval treats a cell without execution_count as never run: keep it (deterministic anyway)
        else:
            cell.outputs = []
            cell.execution_count = None
    return out


def dumps(nb: Any) -> str:
    """Serialise a notebook the same way every time (nbformat 4, sorted keys, trailing newline)."""
    import nbformat  # imported when first needed: its import takes a second and a half (jsonschema's formats)

    return nbformat.writes(nb, version=4) + "\n"


def refresh(paths: list[Path], timeout: int = 600) -> list[Path]:
    """Re-execute source notebooks with their default parameters and store them stripped.

    Use after a deliberate change of data or code that moves a published number: the key-result cells
    (tagged :data:`CHECK_TAG`) take the new outputs, which nbval then checks from the next test run on.

    Returns the paths rewritten (those whose stored content changed).
    """
    import nbformat
    from nbclient import NotebookClient

    from .kernel import ReportKernelManager  # this interpreter, not whatever a "python3" kernelspec names

    changed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            kernel_manager_class=ReportKernelManager,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        text = dumps(strip_for_storage(nb))
        if path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            changed.append(path)
    return changed
