"""The published site: provenance header of each report, ``manifest.json`` and ``index.html`` (written from
what is on disk, keeping the entries of other plans run into the same folder). Used by
:mod:`leftbehind.reports.run` and ``publish``.

Examples
--------
>>> "<title>" in render_index({"leftbehind_version": "0", "reports": []})
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import read_limited, write_atomic
from ..errors import ReportError
from . import datafiles
from .inputs import _inputs, _notebook_source_hash, _relative
from .outcomes import Outcome
from .plan import Report

#: Largest ``manifest.json`` read (bytes): about 3 KB a report, for up to ten thousand reports and more.
MAX_MANIFEST_BYTES = 256 << 20


def _read_manifest(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The entries of ``manifest.json`` by name; ``{}`` when it is missing or cannot be read as a manifest (it is
    read without following a link or waiting on a FIFO, and only up to :data:`MAX_MANIFEST_BYTES`)."""
    path = out_dir / "manifest.json"
    try:
        return {e["name"]: e for e in json.loads(read_limited(path, MAX_MANIFEST_BYTES))["reports"]}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return {}


#: What a run, ``briefs``, ``screenshots`` and ``make docs`` write in an output folder besides each report's
#: ``<name>.html``, ``<name>.ipynb`` and ``<name>.data``.
SITE_ENTRIES = frozenset({"index.html", "manifest.json", "thumbs", "screenshots", "briefs", "api", "_failed"})


def check_site_files(out_dir: Path, reports: Iterable[str] = ()) -> None:
    """Refuse an output folder whose ``manifest.json`` or ``index.html`` a run would replace without their being
    a leftbehind run's: a manifest that cannot be read (truncated, or another tool's) would be thrown away with
    the provenance it records, and a page of the user's own would be overwritten. A folder without a manifest
    that holds files leftbehind does not write (``--out ~`` typed for ``--out reports``) is refused too: the run
    would scatter hundreds of files among the user's own. Hidden entries, the files of the plan's ``reports``
    (names) and :data:`SITE_ENTRIES` do not count: a first run stopped before it wrote its manifest leaves only
    those.

    Raises
    ------
    ReportError
        Naming the file, why it is not a run's, and what to do.
    """
    manifest, index = Path(out_dir) / "manifest.json", Path(out_dir) / "index.html"
    if manifest.exists():
        try:
            found = json.loads(read_limited(manifest, MAX_MANIFEST_BYTES))
            entries = found.get("reports") if isinstance(found, dict) else None
            ok = isinstance(entries, list) and "leftbehind_version" in found
            ok = ok and all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries or [])
            why = "it is not a leftbehind manifest (no leftbehind_version and list of reports)"
        except (OSError, ValueError, RecursionError, AttributeError) as exc:
            ok, why = False, f"{type(exc).__name__}: {str(exc)[:120]}"
        if not ok:
            raise ReportError(
                f"{manifest.as_posix()}: cannot be read as the manifest of a leftbehind run ({why}); a run would "
                "replace it and lose what it records. Move it away (or delete it to start the folder afresh), or "
                "give another output folder"
            )
    elif index.exists():
        raise ReportError(
            f"{index.as_posix()}: a page that leftbehind did not write (no manifest.json beside it); a run would "
            "replace it. Give an empty folder, or one that leftbehind wrote, as the output folder"
        )
    elif Path(out_dir).is_dir():
        ours = SITE_ENTRIES | {f"{name}{suffix}" for name in reports for suffix in (".html", ".ipynb", ".data")}
        foreign = sorted(
            p.name
            for p in Path(out_dir).iterdir()
            if not p.name.startswith(".") and p.name not in ours and not p.name.endswith(".partial")
        )
        if foreign:
            named = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ReportError(
                f"output folder {Path(out_dir).as_posix()}: holds files that leftbehind did not write ({named}) and "
                "no manifest.json; a run would put its reports among them. Give an empty or new folder, or one "
                "that leftbehind wrote, as the output folder"
            )


def _with_provenance(html: str, report: Report, rel_in: str, prov: dict[str, Any]) -> str:
    """Insert a provenance header (escaped) at the top of a report's HTML body."""
    from html import escape

    env, dp = prov["environment"], prov["data_package"]
    params = ", ".join(f"{k} = {v!r}" for k, v in sorted(report.parameters.items())) or "defaults"
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    block = (
        '<details class="leftbehind-provenance" style="font:12px system-ui,sans-serif;margin:8px 16px;color:#444">'
        f"<summary>Provenance: {escape(rel_in)} · {escape(params)}</summary><ul>"
        f"<li>Notebook: {escape(rel_in)} (sha256 {_notebook_source_hash(report.notebook)})</li>"
        f"<li>Parameters: {escape(params)}</li>"
        f"<li>Data package: sha256 {dp['sha256']} (per-resource hashes in manifest.json)</li>"
        f"<li>leftbehind {escape(env['leftbehind'])}, git commit {escape(env['git_commit'])}</li>"
        f"<li>Lock file: sha256 {env['lock_sha256']}; {escape(versions)}</li>"
        "</ul></details>"
    )
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + block, html, count=1)


def _plan_id(plan_path: Path, root: Path) -> str:
    """How the manifest names a plan: its path relative to the project (e.g. ``notebooks/reports.yaml``)."""
    return _relative(plan_path, root)


def _check_other_plans(plan: list[Report], out_dir: Path, plan_id: str) -> None:
    """Refuse a plan whose report names are already in ``out_dir`` from another plan (its files would be
    overwritten and its manifest entry replaced).

    Raises
    ------
    ReportError
        Naming the reports, both plans and what to do instead.
    """
    previous = _read_manifest(out_dir)
    clashes = [
        (r.name, previous[r.name]["plan"])
        for r in plan
        if r.name in previous and previous[r.name].get("plan") not in (None, plan_id)
    ]
    if clashes:
        shown = ", ".join(f'"{name}" (from {other})' for name, other in clashes[:10])
        raise ReportError(
            f"{plan_id}: report name(s) {shown} already in {out_dir.name}/ from another plan; running would "
            "overwrite them. Rename the reports, or write this plan's reports to another folder (--out)"
        )


def _notebook_hash_or(path: Path, fallback: Any) -> Any:
    """The notebook's source hash, or ``fallback`` when the notebook cannot be read (a corrupt notebook of a
    report that did not run must not stop the manifest from being written)."""
    try:
        return _notebook_source_hash(path)
    except Exception:
        return fallback


def failed_folder(out_dir: Path) -> str:
    """Where a run into ``out_dir`` keeps its failed executions, as its user finds it: relative to the current
    folder when inside it (``reports/_failed/``), else the absolute path (``--out`` elsewhere).

    Examples
    --------
    >>> failed_folder(Path("reports")), failed_folder(Path("/srv/site"))
    ('reports/_failed/', '/srv/site/_failed/')
    """
    folder = Path(out_dir).absolute() / "_failed"
    try:
        return folder.relative_to(Path.cwd()).as_posix() + "/"
    except ValueError:
        return folder.as_posix() + "/"


def _files(out_dir: Path, name: str) -> dict[str, str | None]:
    """Links of a report to the files that are on disk now (None for each that is not)."""
    paths = {
        "html": f"{name}.html",
        "ipynb": f"{name}.ipynb",
        "failed_ipynb": f"_failed/{name}.ipynb",
        "thumbnail": f"thumbs/{name}.png",
    }
    return {key: rel if (out_dir / rel).is_file() else None for key, rel in paths.items()}


def _write_manifest_and_index(
    plan: list[Report],
    outcomes: list[Outcome],
    out_dir: Path,
    root: Path,
    prov: dict[str, Any],
    plan_id: str,
    show_code: bool,
) -> None:
    """Write ``manifest.json`` and ``index.html`` from what is on disk now.

    Every link (HTML, notebook, failed run, thumbnail) is set only when its file exists. Entries: one per
    report of this plan (its outcome in this run, else its last recorded state), then the entries of other
    plans run into the same folder (marked by ``plan``) while any of their files exist, so that running a
    second plan never drops the first one's reports or their incremental-build records.
    """
    previous = _read_manifest(out_dir)
    by_name = {o.report.name: o for o in outcomes}
    env = prov["environment"]
    generated = {
        "git_commit": env["git_commit"],
        "leftbehind": env["leftbehind"],
        "lock_sha256": env["lock_sha256"],
        "data_package_sha256": prov["data_package"]["sha256"],
    }
    entries = []
    for r in plan:
        old = previous.get(r.name, {})
        files = _files(out_dir, r.name)
        entry: dict[str, Any] = {
            "name": r.name,
            "title": r.title,
            "group": r.group,
            "plan": plan_id,
            "notebook": _relative(r.notebook, root),
            "notebook_sha256": _notebook_hash_or(r.notebook, old.get("notebook_sha256")),
            "parameters": r.parameters,
            "html": files["html"],
            "ipynb": files["ipynb"],
        }
        o = by_name.get(r.name)
        if o is None and old:  # not run this time (e.g. interrupted): its files are its last run's, and so is its entry
            entry = {**old, "plan": old.get("plan", plan_id), "html": files["html"], "ipynb": files["ipynb"]}
        elif o is not None and o.skipped:
            entry.update({k: old.get(k) for k in ("status", "error", "failed_cell", "inputs", "generated_with")})
        elif o is not None:
            entry["status"] = o.status
            entry["error"] = o.error
            entry["failed_cell"] = o.cell_index
            if o.status == "ok":
                entry["inputs"] = _inputs(r, o.reads, prov, show_code, root)
                entry["generated_with"] = {**generated, "kernel": o.kernel} if o.kernel else generated
            else:
                entry["inputs"] = old.get("inputs")
                entry["generated_with"] = old.get("generated_with")
        elif o is None:  # never run into this folder
            entry.update(status="ok" if files["html"] else "not run", error="", failed_cell=None)
            entry.update(inputs=None, generated_with=None)
        if entry["status"] == "ok" and not files["html"]:
            entry["status"] = "not run"  # its files were removed since
        entry["failed_ipynb"] = files["failed_ipynb"] if entry["status"] == "failed" else None
        entry["thumbnail"] = files["thumbnail"]
        entry["data"] = datafiles.listed(out_dir, r.name)
        entry["brief"] = _brief(out_dir, entry)
        entries.append(entry)
    names = {r.name for r in plan}
    for name, old in previous.items():
        if name in names or old.get("plan") == plan_id:
            continue  # this plan's entries are above; one removed from the plan goes
        files = _files(out_dir, name)
        if not (files["html"] or files["ipynb"] or files["failed_ipynb"]):
            continue  # nothing of it is left on disk
        kept = {**old, "html": files["html"], "ipynb": files["ipynb"], "thumbnail": files["thumbnail"]}
        kept["failed_ipynb"] = files["failed_ipynb"] if old.get("status") == "failed" else None
        kept["data"] = datafiles.listed(out_dir, name)
        kept["brief"] = _brief(out_dir, kept)
        entries.append(kept)
    entries.sort(key=lambda e: str(e.get("plan") or ""))  # stable: plan by plan, each in its own order
    manifest = {"leftbehind_version": __version__, "plan": plan_id, "provenance": prov, "reports": entries}
    _write_site(out_dir, manifest)


def _brief(out_dir: Path, entry: dict[str, Any]) -> str | None:
    """Link to the PDF brief of a country report (``briefs/<ISO3>.pdf``, made by ``make briefs``), if on disk."""
    iso3 = (entry.get("parameters") or {}).get("country")
    rel = f"briefs/{iso3}.pdf"
    return rel if isinstance(iso3, str) and entry.get("html") and (out_dir / rel).is_file() else None


def relink_briefs(out_dir: Path) -> None:
    """Rewrite ``manifest.json`` and ``index.html`` with each report's link to its PDF brief as on disk now."""
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["reports"]:
        entry["brief"] = _brief(out_dir, entry)
    _write_site(out_dir, manifest)


def _write_site(out_dir: Path, manifest: dict[str, Any]) -> None:
    manifest_path = out_dir / "manifest.json"
    index = render_index({**manifest, "has_api": (out_dir / "api" / "leftbehind.html").exists()})
    for path, text in (
        (manifest_path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"),
        (out_dir / "index.html", index),
    ):
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise ReportError(
                f"could not write {path.as_posix()}: {exc.strerror or exc} (it keeps its previous state, and each "
                "report's files are written whole or not at all; run again once the problem is solved)"
            ) from None


def _places(entries: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """For each ISO3 code a report of ``entries`` takes as its ``country`` parameter: the country's name, UN M49
    region and World Bank income group (``"–"`` while the classification is not in the data package or gives
    none); codes the data package does not know are left out (their reports are listed like any other)."""
    import pandas as pd

    from .. import data
    from ..data.classification import classification_table
    from ..errors import DataError

    geo = data.geographies().set_index("code")
    try:
        income = dict(zip(*classification_table()[["code", "income_group"]].T.values))
    except DataError:
        income = {}
    codes = {(e.get("parameters") or {}).get("country") for e in entries}
    out = {}
    for code in sorted(c for c in codes if isinstance(c, str) and c in geo.index):
        region = geo.loc[code, "un_region"]
        out[code] = {
            "name": str(geo.loc[code, "name"]),
            "region": "" if pd.isna(region) else str(region),
            "income_group": str(income.get(code) or "–"),
        }
    return out


def _layout(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the index shows: groups in manifest order, each either a table of countries (every entry of the
    group has a ``country`` the data package knows; rows sorted by country name) or a list with thumbnails;
    and the sorted choices of the filters (group, region, income group)."""
    places = _places(manifest["reports"])
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["reports"]:
        code = (entry.get("parameters") or {}).get("country")
        place = places.get(code) if isinstance(code, str) else None
        row = {**entry, "place": place, "iso3": code if place else ""}
        row["search"] = " ".join(
            str(x)
            for x in (entry["title"], entry["name"], row["iso3"], *(place.values() if place else ()))
            if x and x != "–"
        ).casefold()
        groups.setdefault(entry["group"], []).append(row)
    sections: list[dict[str, Any]] = []
    for group, rows in groups.items():
        countries = all(r["place"] for r in rows)
        if countries:
            rows = sorted(rows, key=lambda r: (r["place"]["name"], r["name"]))
        sections.append({"group": group, "countries": countries, "entries": rows})
    places_shown = [r["place"] for rows in groups.values() for r in rows if r["place"]]
    data = [f for e in manifest["reports"] for f in e.get("data") or ()]
    return {
        "data_files": len(data),
        "data_size": _size(sum(int(f.get("bytes") or 0) for f in data)),
        "sections": sections,
        "groups": list(groups),
        "regions": sorted({p["region"] for p in places_shown if p["region"]}),
        "income_groups": sorted({p["income_group"] for p in places_shown if p["income_group"] != "–"}),
    }


def _size(n: int) -> str:
    """A size in bytes for readers.

    >>> _size(0), _size(2_500), _size(3_400_000)
    ('0 kB', '2.4 kB', '3.2 MiB')
    """
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.1f} kB" if n else "0 kB"


def render_index(manifest: dict[str, Any]) -> str:
    """Render ``reports/index.html`` from a manifest (Jinja2, HTML-escaped).

    Country reports (a group whose every report has a ``country`` parameter) are listed in one compact table
    (name, ISO3, region, income group, link); other groups with their thumbnails. A search box and filters (a
    few lines of inline JavaScript, no external file) narrow the list; without JavaScript everything is listed.

    Examples
    --------
    >>> html = render_index({"leftbehind_version": "0", "reports": [{"name": "a", "title": "<b>A</b>",
    ...     "group": "g", "parameters": {"x": "<script>"}, "status": "ok", "error": "", "html": "a.html",
    ...     "ipynb": "a.ipynb", "failed_ipynb": None, "notebook": "notebooks/a.ipynb"}]})
    >>> "&lt;script&gt;" in html and html.count("<script>") == 1  # the page's own script only
    True
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("leftbehind.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("index.html.j2").render(manifest=manifest, **_layout(manifest))
