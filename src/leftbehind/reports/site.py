"""The published site: provenance header of each report, thumbnails, ``manifest.json`` and ``index.html``.
Used by :mod:`leftbehind.reports.run`.

Examples
--------
>>> "<title>" in render_index({"leftbehind_version": "0", "reports": []})
True
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import write_atomic
from .execute import Outcome
from .inputs import _inputs, _notebook_source_hash, _relative
from .plan import Report


def _read_manifest(out_dir: Path) -> dict[str, dict[str, Any]]:
    path = out_dir / "manifest.json"
    try:
        return {e["name"]: e for e in json.loads(path.read_text(encoding="utf-8"))["reports"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


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


def _write_thumbnail(nb: Any, path: Path) -> None:
    """Save a small copy of the report's first figure (for the index); remove a stale one if there is none."""
    import base64

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                from PIL import Image

                image = Image.open(io.BytesIO(base64.b64decode("".join(png) if isinstance(png, list) else png)))
                image.thumbnail((320, 320))
                small = io.BytesIO()
                image.convert("RGB").save(small, format="PNG")
                write_atomic(path, small.getvalue())
                return
    if path.exists():
        path.unlink()


def _write_manifest_and_index(
    plan: list[Report], outcomes: list[Outcome], out_dir: Path, root: Path, prov: dict[str, Any]
) -> None:
    manifest_path = out_dir / "manifest.json"
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
        html = out_dir / f"{r.name}.html"
        entry: dict[str, Any] = {
            "name": r.name,
            "title": r.title,
            "group": r.group,
            "notebook": _relative(r.notebook, root),
            "notebook_sha256": _notebook_source_hash(r.notebook),
            "parameters": r.parameters,
            "html": f"{r.name}.html" if html.exists() else None,
            "ipynb": f"{r.name}.ipynb" if (out_dir / f"{r.name}.ipynb").exists() else None,
        }
        o = by_name.get(r.name)
        old = previous.get(r.name, {})
        if o is not None and o.skipped:
            entry.update({k: old.get(k) for k in ("status", "error", "failed_cell", "inputs", "generated_with")})
        elif o is not None:
            entry["status"] = o.status
            entry["error"] = o.error
            entry["failed_cell"] = o.cell_index
            if o.status == "ok":
                entry["inputs"] = _inputs(r, o.reads, prov)
                entry["generated_with"] = {**generated, "kernel": o.kernel} if o.kernel else generated
            else:
                entry["inputs"] = old.get("inputs")
                entry["generated_with"] = old.get("generated_with")
        else:
            entry["status"] = old.get("status", "ok" if html.exists() else "not run")
            entry["error"] = old.get("error", "")
            entry["failed_cell"] = old.get("failed_cell")
            entry["inputs"] = old.get("inputs")
            entry["generated_with"] = old.get("generated_with")
        entry["failed_ipynb"] = f"_failed/{r.name}.ipynb" if entry["status"] == "failed" else None
        entry["thumbnail"] = f"thumbs/{r.name}.png" if (out_dir / "thumbs" / f"{r.name}.png").exists() else None
        entries.append(entry)
    manifest = {"leftbehind_version": __version__, "provenance": prov, "reports": entries}
    write_atomic(manifest_path, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    write_atomic(
        out_dir / "index.html", render_index({**manifest, "has_api": (out_dir / "api" / "leftbehind.html").exists()})
    )


def render_index(manifest: dict[str, Any]) -> str:
    """Render ``reports/index.html`` from a manifest (Jinja2, HTML-escaped).

    Examples
    --------
    >>> html = render_index({"leftbehind_version": "0", "reports": [{"name": "a", "title": "<b>A</b>",
    ...     "group": "g", "parameters": {"x": "<script>"}, "status": "ok", "error": "", "html": "a.html",
    ...     "ipynb": "a.ipynb", "failed_ipynb": None, "notebook": "notebooks/a.ipynb"}]})
    >>> "&lt;script&gt;" in html and "<script>" not in html
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
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["reports"]:
        groups.setdefault(entry["group"], []).append(entry)
    return env.get_template("index.html.j2").render(groups=groups, manifest=manifest)
