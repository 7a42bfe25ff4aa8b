"""The report plan: reading ``notebooks/reports.yaml``, expanding grids, and checking every entry's
parameters against its notebook and the data before any kernel starts. Public names are re-exported by
:mod:`leftbehind.reports`.

Examples
--------
>>> from leftbehind.reports.plan import default_plan_path, load_plan
>>> load_plan(default_plan_path())[0].notebook_label
'01_headline_figures.ipynb'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._io import REPO_ROOT
from ..errors import ParameterError, PlanError, did_you_mean
from .domains import DOMAINS, NOTEBOOK_DOMAINS, RULES
from .guards import MAX_REPORTS, load_yaml, read_plan_text
from .inspection import _declared_parameters, _NotebookProblem

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

#: Longest report name: its longest file name, a temporary ``.<name>.ipynb.<16 hex digits>.partial``, must stay
#: within the 255 bytes file systems allow.
MAX_NAME_LENGTH = 200

#: Names no report may take (compared without case, as macOS and Windows compare file names): a report's files
#: (``<name>.html``, ``<name>.ipynb``) would take the place of a file the runner writes itself.
RESERVED_NAMES = {"index": "index.html, the index of the reports"}

#: Names Windows gives to devices, with or without an extension: no file can be called so there.
_DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def name_problem(name: Any) -> str:
    """Why ``name`` cannot be a report's name, ``""`` when it can: it must be a safe file name (letters, digits,
    ``_``, ``-``, ``.``; no ``/`` or ``..``), at most :data:`MAX_NAME_LENGTH` characters, and its files must not
    take the place of one the runner writes (:data:`RESERVED_NAMES`) or be impossible on some systems.

    Examples
    --------
    >>> name_problem("05_country_profile_NPL")
    ''
    >>> name_problem("Index")
    'is reserved: its file would take the place of index.html, the index of the reports'
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or ".." in name:
        return 'is not a safe report name (letters, digits, "_", "-", "."; no "/" or "..")'
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters, too long for the names of its files"
    folded = name.casefold()
    if folded in RESERVED_NAMES:
        return f"is reserved: its file would take the place of {RESERVED_NAMES[folded]}"
    if folded.split(".")[0] in _DEVICE_NAMES:
        return "is the name of a device on Windows, where no file can be called so"
    return ""


def _shown_name(name: Any) -> str:
    """A name as a message quotes it: cut if long."""
    text = repr(name)
    return text if len(text) <= 80 else text[:60] + f"… ({len(text)} characters)"


_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": list,
    "dict": dict,
}


@dataclasses.dataclass(frozen=True)
class Report:
    """One entry of the plan: run ``notebook`` with ``parameters`` into ``reports/<name>.*``."""

    name: str
    notebook: Path
    title: str
    parameters: dict[str, Any]
    group: str

    @property
    def notebook_label(self) -> str:
        """The notebook's file name, as shown to readers."""
        return self.notebook.name


def default_plan_path() -> Path:
    """``notebooks/reports.yaml`` of the repository this package runs from."""
    return REPO_ROOT / "notebooks" / "reports.yaml"


def load_plan(path: Path) -> list[Report]:
    """Read and check the structure of a report plan.

    Raises
    ------
    PlanError
        When the file is missing, a folder, larger than 1 MiB or not UTF-8, not YAML or expanding (through
        YAML aliases) to more than :data:`~leftbehind.reports.guards.MAX_PLAN_VALUES` values, when the plan
        makes more than :data:`~leftbehind.reports.guards.MAX_REPORTS` reports, an entry lacks ``name`` or
        ``notebook``, a name is not a safe file name (no ``/``, ``..`` or absolute paths), a name repeats, or
        a notebook does not exist.

    Examples
    --------
    >>> [r.name for r in load_plan(default_plan_path())][:1]
    ['01_headline_figures']
    """
    path = Path(path)
    shown = path.name
    doc = load_yaml(read_plan_text(path), shown)
    if not isinstance(doc, dict) or not isinstance(doc.get("reports"), list):
        raise PlanError(f'{shown}: expected a mapping with a list under "reports"')
    reports: list[Report] = []
    seen: dict[str, str] = {}  # casefolded -> as given
    for i, entry in enumerate(doc["reports"], start=1):
        where = f"{shown}, entry {i}"
        if not isinstance(entry, dict):
            raise PlanError(f"{where}: expected a mapping with name, notebook, parameters")
        unknown = set(entry) - {"name", "notebook", "title", "parameters", "group", "grid"}
        if unknown:
            raise PlanError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: name, notebook, title, parameters, group, grid"
            )
        name = entry.get("name")
        problem = name_problem(name)
        if problem or not isinstance(name, str):
            raise PlanError(f"{where}: name {_shown_name(name)} {problem}")
        where = f'{shown}, entry "{name}"'
        if name.casefold() in seen:
            raise PlanError(
                f"{where}: the name is used twice; report names must be unique (without regard to case, as on "
                "macOS and Windows)"
            )
        seen[name.casefold()] = name
        nb = entry.get("notebook")
        if not isinstance(nb, str) or Path(nb).is_absolute() or ".." in Path(nb).parts:
            raise PlanError(f"{where}: notebook {nb!r} must be a path inside the plan's folder")
        nb_path = path.parent / nb
        if not nb_path.is_file():
            choices = sorted(p.name for p in path.parent.glob("*.ipynb"))
            raise PlanError(f"{where}: notebook {nb} not found. Notebooks: {', '.join(choices)}")
        params = entry.get("parameters") or {}
        if not isinstance(params, dict):
            raise PlanError(f"{where}: parameters must be a mapping of name: value")
        _check_plain(where, "parameters", params)
        expanded = _expand_grid(where, name, params, entry.get("grid"), room=MAX_REPORTS - len(reports))
        for rname, rparams, labels in expanded:
            if rname.casefold() in seen and rname != name:
                raise PlanError(
                    f'{where}: the grid makes report name "{rname}", which is already used'
                    + (f' (as "{seen[rname.casefold()]}")' if seen[rname.casefold()] != rname else "")
                )
            seen[rname.casefold()] = rname
            title = _title(where, str(entry.get("title") or name), {**rparams, **labels})
            reports.append(
                Report(
                    name=rname,
                    notebook=nb_path,
                    title=title,
                    parameters=rparams,
                    group=str(entry.get("group") or nb_path.stem),
                )
            )
    return reports


def _check_plain(where: str, what: str, value: Any, depth: int = 0) -> None:
    """Refuse a value that is not plain data: text, a whole or finite number, true/false, null, and lists and
    mappings (with text keys) of them. YAML can also give dates, binary data, sets, infinities and numbers as keys,
    which a notebook might take but the manifest cannot record: the check refuses them before anything runs rather
    than the run failing to write its manifest at the end."""
    import math

    if depth > 100:
        raise PlanError(f"{where}: {what}: nested too deeply")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PlanError(f"{where}: {what}: {value!r} is not a finite number")
        return
    if isinstance(value, list):
        for item in value:
            _check_plain(where, what, item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PlanError(f"{where}: {what}: the key {key!r} is not text (quote it)")
            _check_plain(where, what, item, depth + 1)
        return
    raise PlanError(
        f"{where}: {what}: a {type(value).__name__} is not a plain value (text, number, true/false, null, list or "
        "mapping); quote it to pass it as text"
    )


def _title(where: str, template: str, parameters: dict[str, Any]) -> str:
    """A report's title: ``template`` with each ``{parameter}`` replaced by the parameter's value. Only plain
    names are allowed between braces (no format specification such as ``{x:>999999999}``, no attributes)."""
    import string

    out = []
    try:
        for text, field, spec, conversion in string.Formatter().parse(template):
            out.append(text)
            if field is None:
                continue
            if spec or conversion or field not in parameters:
                raise ValueError(field)
            out.append(str(parameters[field]))
    except ValueError:
        raise PlanError(
            f"{where}: title {template!r} must name parameters the entry sets, as {{name}} (no format "
            f"specification); available: {', '.join(sorted(parameters)) or 'none'}"
        ) from None
    return "".join(out)


def _slug(value: Any) -> str:
    """A safe, deterministic file-name part for a parameter value."""
    text = re.sub(r"[^A-Za-z0-9]+", "-", str(value)).strip("-")
    return text or hashlib.sha256(str(value).encode()).hexdigest()[:8]


#: What a grid may take its values from instead of a list: ``grid: {country: {from: data.countries}}`` runs
#: one report per country with figures in the data package (:func:`leftbehind.data.countries`, ISO3 order).
GRID_SOURCES: tuple[str, ...] = ("data.countries",)


def _countries_with_figures() -> tuple[list[str], dict[str, str]]:
    """ISO3 codes and names of the countries with figures, as :func:`leftbehind.data.countries` and
    :func:`leftbehind.data.country_name` give them (a test checks they agree), read with the csv module:
    deciding that nothing changed must not cost a run the import of pandas."""
    import csv

    from .._io import data_dir

    folder = data_dir()
    paths = {
        r["name"]: folder / r["path"] for r in json.loads((folder / "datapackage.json").read_text("utf-8"))["resources"]
    }
    with_figures: set[str] = set()
    for name in ("figures", "derived_figures"):  # hand-verified and derived figures (absent: none derived)
        if name not in paths or not paths[name].is_file():
            continue
        with open(paths[name], encoding="utf-8-sig", newline="") as fh:
            rows = csv.reader(fh)
            column = next(rows).index("geography")
            with_figures.update(row[column] for row in rows)
    with open(paths["geographies"], encoding="utf-8-sig", newline="") as fh:
        names = {row["code"]: row["name"] for row in csv.DictReader(fh) if row["kind"] == "country"}
    codes = sorted(code for code in names if code in with_figures)
    return codes, {code: names[code] for code in codes}


def _grid_values(where: str, pname: str, values: Any) -> tuple[list[Any], dict[Any, str]]:
    """The values of one grid parameter and, for values from :data:`GRID_SOURCES`, their names (shown in a
    title as ``{<parameter>_name}``). ``values`` is a list, or ``{from: <source>}``.

    Raises
    ------
    PlanError
        For an empty list, or a mapping that is not exactly ``{from: <one of GRID_SOURCES>}``.

    Examples
    --------
    >>> values, names = _grid_values("plan", "country", {"from": "data.countries"})
    >>> "NPL" in values, names["NPL"]
    (True, 'Nepal')
    """
    if isinstance(values, dict):
        source = values.get("from")
        if set(values) != {"from"} or source not in GRID_SOURCES:
            hint = did_you_mean(source, GRID_SOURCES) if isinstance(source, str) else ""
            raise PlanError(
                f'{where}: grid parameter "{pname}": {values!r} is not a valid grid source.{hint} A grid takes a '
                f"list of values or {{from: SOURCE}} with SOURCE one of: {', '.join(GRID_SOURCES)}"
            )
        return _countries_with_figures()
    if not isinstance(values, list) or not values:
        raise PlanError(
            f'{where}: grid parameter "{pname}" needs a non-empty list of values or {{from: SOURCE}} with SOURCE '
            f"one of: {', '.join(GRID_SOURCES)}"
        )
    return values, {}


def _expand_grid(
    where: str, name: str, params: dict[str, Any], grid: Any, room: int = MAX_REPORTS
) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """One (name, parameters, title labels) per value of a ``grid: {parameter: [values]}`` (or ``{parameter:
    {from: SOURCE}}``) entry; the entry itself otherwise. Title labels are ``{"<parameter>_name": name}`` for a
    value from a source that names its values (:func:`_grid_values`), empty otherwise. ``room`` is how many
    more reports the plan may make (:data:`~leftbehind.reports.guards.MAX_REPORTS` in all)."""
    too_many = f"{where}: the plan makes more than {MAX_REPORTS} reports, the limit for a plan"
    if grid is None:
        if room < 1:
            raise PlanError(too_many)
        return [(name, dict(params), {})]
    if not isinstance(grid, dict) or len(grid) != 1:
        raise PlanError(
            f"{where}: grid must map exactly one parameter to a list of values, e.g. grid: {{country: [NPL, LKA]}}"
            f" or grid: {{country: {{from: {GRID_SOURCES[0]}}}}}"
        )
    ((pname, given),) = grid.items()
    values, names = _grid_values(where, str(pname), given)
    if len(values) > room:
        raise PlanError(f'{too_many} (grid parameter "{pname}" has {len(values)} values)')
    out = []
    for value in values:
        rname = f"{name}_{_slug(value)}"
        problem = name_problem(rname)
        if problem:
            raise PlanError(
                f"{where}: grid value {_shown_name(value)} makes the report name {_shown_name(rname)}, which {problem}"
            )
        _check_plain(where, f'grid parameter "{pname}"', value)
        labels = {f"{pname}_name": names[value]} if value in names else {}
        out.append((rname, {**params, pname: value}, labels))
    rnames = [n for n, _, _ in out]
    if len({n.casefold() for n in rnames}) != len(rnames):
        raise PlanError(f'{where}: grid values of "{pname}" give the same report name twice: {", ".join(rnames)}')
    return out


def select(reports: list[Report], only: Iterable[str] | None) -> list[Report]:
    """The reports named in ``only`` (all when ``only`` is empty), in plan order.

    Raises
    ------
    PlanError
        When a name is not in the plan; the message lists the valid names.

    Examples
    --------
    >>> [r.name for r in select(load_plan(default_plan_path()), ["01_headline_figures"])]
    ['01_headline_figures']
    >>> select(load_plan(default_plan_path()), ["nonexistent"])
    Traceback (most recent call last):
    ...
    leftbehind.errors.PlanError: no report named "nonexistent" in the plan. Valid report names: 01_headline_figures, ...
    """
    wanted = [only] if isinstance(only, str) else list(only or [])  # one name given as a string is one name
    if not wanted:
        return list(reports)
    names = [r.name for r in reports]
    for w in wanted:
        if w not in names:
            by_code = [n for n in names if n.endswith(f"_{w.upper()}")] if re.fullmatch(r"[A-Za-z]{3}", w) else []
            hint = (
                " Did you mean " + " or ".join(f'"{n}"' for n in by_code[:2]) + "?"
                if by_code
                else did_you_mean(w, names)
            )
            raise PlanError(f'no report named "{w}" in the plan.{hint} Valid report names: {_names_listed(names)}')
    return [r for r in reports if r.name in wanted]


def _names_listed(names: list[str]) -> str:
    """Report names for an error message, the reports of one grid over countries (names ending in an ISO3 code)
    said once, with how many there are, instead of 236 names.

    Examples
    --------
    >>> _names_listed(["01_a", "05_p_ABW", "05_p_AFG", "05_p_ZWE", "07_b"])
    '01_a, 05_p_<ISO3> (3 reports: 05_p_ABW … 05_p_ZWE), 07_b'
    >>> _names_listed(["01_a", "05_p_ABW"])
    '01_a, 05_p_ABW'
    """
    groups: dict[str, list[str]] = {}  # in plan order: a grid's prefix ("05_p_"), or a name standing alone
    for name in names:
        m = re.fullmatch(r"(.+_)[A-Z]{3}", name)
        groups.setdefault(m.group(1) if m else name, []).append(name)
    return ", ".join(
        f"{key}<ISO3> ({len(members)} reports: {members[0]} … {members[-1]})"
        if len(members) >= 3
        else ", ".join(members)
        for key, members in groups.items()
    )


def check(reports: list[Report]) -> None:
    """Check every report's parameters before anything runs.

    A notebook must be a readable Python notebook (its metadata need not name a kernel: the runner runs a
    Python kernel). A parameter must be declared in the notebook's ``parameters`` cell, have the declared
    type, and, when its name is in :data:`DOMAINS`, one of the valid values (a list of such values must not
    be empty). A notebook without a ``parameters`` cell is accepted when its entry gives no parameters. All
    problems are collected into one error.

    Raises
    ------
    ParameterError
        Naming the plan entry, the parameter, the bad value and the valid choices.

    Examples
    --------
    >>> r = load_plan(default_plan_path())[0]
    >>> check([dataclasses.replace(r, parameters={"topik": "all"})])
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: plan entry "01_headline_figures", parameter "topik": not a parameter of 01_headline_figures.ipynb; did you mean "topic"? Parameters: topic
    """
    problems: list[str] = []
    cache: dict[Path, dict[str, dict[str, Any]] | str] = {}
    choices: dict[Any, list[str]] = {}  # each domain read once per check, however many entries use it
    for r in reports:
        if r.notebook not in cache:
            try:
                cache[r.notebook] = _declared_parameters(r.notebook)
            except _NotebookProblem as exc:
                cache[r.notebook] = str(exc)
        declared = cache[r.notebook]
        if isinstance(declared, str):
            problems.append(f'plan entry "{r.name}": {declared}')
            continue
        if not declared:
            if r.parameters:
                problems.append(
                    f'plan entry "{r.name}": {r.notebook.name} has no cell tagged "parameters" (or declares none '
                    f"in it), so parameters cannot be given: {', '.join(r.parameters)}"
                )
            continue
        for pname, value in r.parameters.items():
            where = f'plan entry "{r.name}", parameter "{pname}"'
            if pname not in declared:
                hint = did_you_mean(pname, list(declared), sentence=False)
                problems.append(
                    f"{where}: not a parameter of {r.notebook.name}{hint or '.'} Parameters: {', '.join(declared)}"
                )
                continue
            tname = declared[pname].get("inferred_type_name", "None")
            expected = _TYPES.get(tname)
            if expected is not None and (
                not isinstance(value, expected) or (tname != "bool" and isinstance(value, bool))
            ):
                problems.append(f"{where}: {value!r} is a {type(value).__name__}, the notebook declares {tname}")
                continue
            domain = NOTEBOOK_DOMAINS.get(r.notebook.stem, {}).get(pname) or DOMAINS.get(pname)
            if domain is not None:
                if domain not in choices:
                    choices[domain] = [str(v) for v in domain()]
                valid = choices[domain]
                values = value if isinstance(value, list) else [value]
                if not values:
                    problems.append(
                        f"{where}: an empty list selects nothing; give at least one value. Valid values: "
                        f"{', '.join(valid)}"
                    )
                repeated = sorted({str(v) for v in values if values.count(v) > 1})
                if repeated:
                    problems.append(
                        f"{where}: {', '.join(repeated)} given more than once; each value once (a report would say "
                        "the same twice)"
                    )
                for v in values:
                    if str(v) not in valid:
                        hint = did_you_mean(v, valid, sentence=False)
                        problems.append(f'{where}: "{v}" is not a valid value{hint} Valid values: {", ".join(valid)}')
        merged = {name: _default(info) for name, info in declared.items()}
        merged.update(r.parameters)
        for description, rule in RULES:
            try:
                ok = rule(merged)
            except TypeError:
                ok = True  # a type problem is reported above
            if not ok:
                shown = ", ".join(f"{k}={merged[k]!r}" for k in merged if k in description)
                problems.append(f'plan entry "{r.name}": {description} ({shown})')
    if problems:
        raise ParameterError("\n".join(problems))


def _default(info: dict[str, Any]) -> Any:
    """The default value of a declared parameter (papermill gives its source text)."""
    import ast

    try:
        return ast.literal_eval(str(info.get("default")))
    except (ValueError, SyntaxError):
        return None
