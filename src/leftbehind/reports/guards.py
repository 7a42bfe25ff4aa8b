"""Guards on what the runner is given: a plan file is bounded before it is trusted (size, text encoding, YAML
alias expansion, number of reports), and an output folder may not be one whose files a run would overwrite
(source notebooks, the package, the data). Used by :mod:`leftbehind.reports.plan`, ``run`` and the command line.

Examples
--------
>>> load_yaml("reports: [{name: a}]", "plan.yaml")
{'reports': [{'name': 'a'}]}
>>> load_yaml("a: &x [1, 2]\\nb: *x", "plan.yaml")
{'a': [1, 2], 'b': [1, 2]}
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .._io import PACKAGE_DIR, REPO_ROOT
from ..errors import LeftbehindError, PlanError, ReportError

__all__ = [
    "MAX_PLAN_BYTES",
    "MAX_PLAN_VALUES",
    "MAX_REPORTS",
    "check_output_dir",
    "check_plan_path",
    "load_yaml",
    "read_plan_text",
]

#: Largest plan file read (1 MiB; the project's plan is about 10 KiB).
MAX_PLAN_BYTES = 1 << 20

#: Most YAML values (scalars, lists, mappings) a plan may hold once its aliases (``*name``) are expanded. An
#: alias repeats a whole value, so a few lines of nested aliases (an "alias bomb") would otherwise expand to
#: billions of values when the plan's parameters are checked, hashed or passed to a notebook.
MAX_PLAN_VALUES = 250_000

#: Most reports a plan, grids expanded, may make.
MAX_REPORTS = 10_000


def check_plan_path(path: Path) -> None:
    """Refuse, with a :class:`PlanError` naming it, a plan path that is missing, a folder or not a regular file.

    Examples
    --------
    >>> check_plan_path(Path("/"))
    Traceback (most recent call last):
    ...
    leftbehind.errors.PlanError: /: is a folder, not a plan file; give a YAML file such as notebooks/reports.yaml
    """
    path = Path(path)
    if path.is_dir():
        raise PlanError(f"{path}: is a folder, not a plan file; give a YAML file such as notebooks/reports.yaml")
    if not path.exists():
        raise PlanError(f"{path}: plan file not found")
    if not path.is_file():
        raise PlanError(f"{path}: not a regular file; a plan is a YAML file such as notebooks/reports.yaml")


def read_plan_text(path: Path) -> str:
    """The text of a plan file, refused with a :class:`PlanError` naming the file when it is missing, a folder
    or not a regular file (:func:`check_plan_path`), larger than :data:`MAX_PLAN_BYTES`, unreadable, or not
    UTF-8.

    Examples
    --------
    >>> read_plan_text(Path(__file__).parents[3] / "notebooks" / "reports.yaml").startswith("# The report plan")
    True
    """
    path = Path(path)
    check_plan_path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file ({exc.strerror or exc})") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(
            f"{path.name}: the plan file is larger than {MAX_PLAN_BYTES} bytes (1 MiB), the limit for a plan; "
            "use grids to make many reports from one entry"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlanError(
            f"{path.name}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}, at offset {exc.start}); "
            "save the plan as UTF-8"
        ) from None


def _count_values(node: yaml.Node, shown: str) -> None:
    """Count the values of a composed YAML document as its aliases expand them (an aliased node is counted each
    time it is used, a recursive alias forever), stopping at :data:`MAX_PLAN_VALUES`."""
    count = 0
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        count += 1
        if count > MAX_PLAN_VALUES:
            raise PlanError(
                f"{shown}: the plan expands to more than {MAX_PLAN_VALUES} values, the limit for a plan "
                "(YAML aliases such as *name repeat a whole value; nested aliases multiply)"
            )
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.append(key)
                stack.append(value)


def load_yaml(text: str, shown: str) -> Any:
    """Parse a plan's YAML safely (no Python objects), refusing documents whose aliases expand to more than
    :data:`MAX_PLAN_VALUES` values, and nesting too deep to parse; ``shown`` names the file in messages.

    Examples
    --------
    >>> load_yaml("a: &x [1, 1]\\nb: &y [*x, *x]\\nc: [*y, *y]", "p.yaml")["c"]
    [[[1, 1], [1, 1]], [[1, 1], [1, 1]]]
    >>> load_yaml("a: &x [*x]", "p.yaml")
    Traceback (most recent call last):
    ...
    leftbehind.errors.PlanError: p.yaml: the plan expands to more than 250000 values, ...
    """
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count_values(node, shown)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise PlanError(f"{shown}: not valid YAML ({_yaml_problem(exc)})") from None
    except RecursionError:
        raise PlanError(f"{shown}: not valid YAML (nested too deeply)") from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong with a plan's YAML and where, in one line, without quoting the file: PyYAML's own message
    shows the offending line (and quotes names and characters from it), and a plan option may name any file.

    Examples
    --------
    >>> try:
    ...     yaml.safe_load("token: hunter2\\n  bad: [")
    ... except yaml.YAMLError as exc:
    ...     _yaml_problem(exc)
    'mapping values are not allowed here, at line 2, column 6'
    """
    import re

    def clean(text: str) -> str:
        # quoted grammar (',' or ']', '<stream end>') and single characters stay; names from the file (an alias, an
        # anchor, a tag: no spaces) go
        return re.sub(r"'[^'\s]{3,}'|\"[^\"\s]{3,}\"", "…", text).replace("in this context", "here")

    problem = clean(str(getattr(exc, "problem", None) or type(exc).__name__))
    context = getattr(exc, "context", None)
    if context:
        problem += f" ({clean(str(context))})"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f", at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return problem + where


def _protected_folders(plan_path: Path) -> list[tuple[Path, str]]:
    """Folders reports must never be written into: (folder, what it is)."""
    from .._io import data_dir

    folders = [
        (plan_path.parent, "the plan's notebooks folder"),
        (REPO_ROOT / "notebooks", "the repository's notebooks/ folder"),
        (REPO_ROOT / "src", "the repository's src/ folder"),
        (REPO_ROOT / "data", "the repository's data/ folder"),
        (PACKAGE_DIR, "the installed leftbehind package"),
    ]
    with contextlib.suppress(LeftbehindError):  # no data package: nothing to protect there
        folders.append((data_dir(), "the data package in use"))
    return [(folder.resolve(), what) for folder, what in folders if folder.exists()]


def check_output_dir(out_dir: Path, plan_path: Path, notebooks: Iterable[Path]) -> None:
    """Refuse an output folder whose files a run could overwrite or that is not a folder.

    Refused: a path that exists and is not a folder; a folder that is, or is inside, the plan's notebooks
    folder, the repository's ``notebooks/``, ``src/`` or ``data/``, the installed package or the data package
    in use; and a folder that contains (at any depth) the plan file, one of its notebooks or one of those
    folders (e.g. the repository itself).

    Raises
    ------
    ReportError
        Naming the folder given and what it would overwrite.

    Examples
    --------
    >>> check_output_dir(REPO_ROOT / "src", REPO_ROOT / "notebooks" / "reports.yaml", [])
    Traceback (most recent call last):
    ...
    leftbehind.errors.ReportError: output folder .../src: is the repository's src/ folder; reports there would ...
    """
    out_dir = Path(out_dir)
    shown = out_dir.as_posix()
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"output folder {shown}: exists and is not a folder; give a folder for the reports")
    target = out_dir.resolve()
    advice = "Choose a folder of its own, e.g. reports/"
    for folder, what in _protected_folders(Path(plan_path)):
        if target == folder or folder in target.parents:
            how = "is" if target == folder else "is inside"
            raise ReportError(
                f"output folder {shown}: {how} {what}; reports there would overwrite or mix with its files. {advice}"
            )
        if target in folder.parents:
            raise ReportError(f"output folder {shown}: contains {what} ({folder.name}/). {advice}")
    for path in [Path(plan_path), *notebooks]:
        if target in path.resolve().parents:
            raise ReportError(f"output folder {shown}: contains {path.name}, a file of the plan. {advice}")
