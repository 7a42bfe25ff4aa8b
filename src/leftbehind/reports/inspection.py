"""Reading what a notebook declares, for the plan check: the parameters of its cell tagged ``parameters``
(via papermill's Python translator), whether it is a readable Python notebook, and papermill's warnings about
that cell re-emitted with the notebook named. Used by :mod:`leftbehind.reports.plan` and ``run``.

Examples
--------
>>> from leftbehind._io import REPO_ROOT
>>> list(_declared_parameters(REPO_ROOT / "notebooks" / "01_headline_figures.ipynb"))
['topic']
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _Collect(logging.Handler):
    """A logging handler that keeps the records it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _NotebookProblem(Exception):
    """A notebook that cannot be inspected (not JSON, not a notebook, not Python)."""


def _declared_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its first cell tagged ``parameters`` (empty when it has none).

    The notebook is read here rather than by :func:`papermill.inspect_notebook`, which needs a kernel name in
    the notebook's metadata: the runner chooses the kernel itself (a Python kernel), so a notebook without a
    ``kernelspec`` (as VS Code writes them) is inspected as Python. papermill's warnings about lines of the
    parameters cell it cannot parse are re-emitted (logger ``leftbehind.reports``) with the notebook named.

    Raises
    ------
    _NotebookProblem
        When the file is not a readable notebook, declares a language other than Python, or has a parameters
        cell that is not valid Python.
    """
    from papermill.translators import PythonTranslator

    nb = _read_notebook(notebook)
    meta = nb.get("metadata", {})
    language = meta.get("kernelspec", {}).get("language") or meta.get("language_info", {}).get("name") or "python"
    if str(language).lower() != "python":
        raise _NotebookProblem(
            f"{notebook.name} declares the language {language!r}; the runner runs Python kernels only"
        )
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return {}
    try:
        compile(str(cell.source), f"{notebook.name}, parameters cell", "exec")
    except SyntaxError as exc:  # else papermill skips the lines it cannot read, and the plan's names look wrong
        raise _NotebookProblem(
            f"{notebook.name}, parameters cell: a syntax error at line {exc.lineno} ({exc.msg}); its parameters "
            "cannot be read until it is fixed"
        ) from None
    handler = _Collect()
    source = logging.getLogger("papermill.translators")
    source.addHandler(handler)
    propagate, source.propagate = source.propagate, False
    try:
        declared = {p.name: p._asdict() for p in PythonTranslator.inspect(cell)}
    finally:
        source.removeHandler(handler)
        source.propagate = propagate
    for record in handler.records:
        logging.getLogger("leftbehind.reports").warning(
            "%s, parameters cell: %s", notebook.name, record.getMessage().rstrip(".")
        )
    return declared


#: Largest notebook the plan check reads (bytes); the project's are well under 1 MiB without outputs.
MAX_NOTEBOOK_BYTES = 256 << 20


def _read_notebook(notebook: Path) -> Any:
    """The notebook at ``notebook`` (nbformat 4), or :class:`_NotebookProblem` saying what is wrong with the file
    (not readable, too large, not UTF-8, not JSON, not in the notebook format) and where, never quoting what it
    holds: a plan can name any file, and an error message is no place for its contents.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "secret.ipynb"
    >>> _ = path.write_text("TOKEN=hunter2\\n")
    >>> _read_notebook(path)
    Traceback (most recent call last):
    ...
    leftbehind.reports.inspection._NotebookProblem: secret.ipynb is not a valid notebook (not JSON: Expecting value at line 1, column 1)
    """
    import json

    import nbformat

    name = notebook.name
    try:
        with open(notebook, "rb") as fh:
            raw = fh.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise _NotebookProblem(f"{name} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise _NotebookProblem(f"{name} is larger than {MAX_NOTEBOOK_BYTES} bytes, the limit for a notebook")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotebookProblem(f"{name} is not a valid notebook (not UTF-8 text, at byte {exc.start})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise _NotebookProblem(
            f"{name} is not a valid notebook (not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise _NotebookProblem(f"{name} is not a valid notebook (JSON nested too deeply)") from None
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # NBFormatError, ValidationError, what a malformed structure makes nbformat raise
        path = list(getattr(exc, "relative_path", None) or [])
        where = (
            f", at cell {path[1] + 1}" if path[:1] == ["cells"] and len(path) > 1 and isinstance(path[1], int) else ""
        )
        raise _NotebookProblem(f"{name} is not a valid notebook (not in the Jupyter notebook format{where})") from None


@contextlib.contextmanager
def quiet_inspection() -> Iterator[None]:
    """Silence papermill's warnings about parameters cells while reports execute: :func:`check` has already
    shown them, with the notebook named, and papermill repeats them without saying which notebook."""
    source = logging.getLogger("papermill.translators")
    level = source.level
    source.setLevel(logging.ERROR)
    try:
        yield
    finally:
        source.setLevel(level)
