"""A PDF brief per country: each country-profile report printed to A4 by headless Chromium.

``make briefs`` (``python -m leftbehind briefs``) prints every country report that ran well
(``reports/<name>.html`` with a ``country`` parameter) to ``reports/briefs/<ISO3>.pdf`` with a print stylesheet:
the country and the date of its newest data at the top of each page, page numbers at the foot, charts sized for
paper, the sources at the end. The PDF's dates and document ID are set from the data (never the clock), so
regenerating gives the same bytes; a brief whose report did not change is not printed again. The index links
each brief.

Needs the system's Chromium (Debian's ``chromium``), driven by Playwright, which never downloads a browser.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import write_atomic
from ..errors import ReportError

__all__ = ["PRINT_CSS", "chromium", "write_briefs"]

#: The print stylesheet added to a report before it is printed: A4, charts sized for paper, no interactive bits.
PRINT_CSS = """
@page { size: A4; }
html, body { background: white !important; }
body { font-size: 8.5pt; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 11.5pt; margin: 6pt 0 2pt; break-after: avoid; }
h3 { font-size: 11pt; break-after: avoid; }
p, li { line-height: 1.3; }
img { max-width: 58% !important; max-height: 3.9cm !important; width: auto !important; height: auto !important;
      display: block; margin: 2pt auto; break-inside: avoid; }
table { font-size: 7.5pt; margin: 2pt 0 !important; }
th, td { padding: 1pt 5pt !important; }
/* text may break across pages (JupyterLab keeps whole cells together), charts and tables not */
.jp-Cell, .jp-Cell-outputWrapper, .jp-Cell-inputWrapper, .jp-OutputArea-child, .jp-OutputArea-output {
  break-inside: auto !important; }
.jp-RenderedImage, figure, table { break-inside: avoid !important; }
.celltag_web-only { display: none !important; }
/* charts two to a row: a cell whose only output is a chart takes half the width */
.jp-Cell.jp-CodeCell:has(.jp-RenderedImage):not(:has(.jp-RenderedMarkdown)):not(:has(table)) {
  display: inline-block; width: 49.5%; vertical-align: top; }
.jp-Cell.jp-CodeCell:has(.jp-RenderedImage):not(:has(.jp-RenderedMarkdown)):not(:has(table)) img {
  max-width: 100% !important; max-height: 5.6cm !important; }
ol { font-size: 6.5pt; columns: 2; column-gap: 14pt; }
ol li { margin-bottom: 1pt; line-height: 1.25; overflow-wrap: anywhere; }
details.leftbehind-provenance { font-size: 6.5pt; color: #555; margin: 0 0 6pt; }
a { color: #0072B2; text-decoration: none; }
"""

_MARGINS: Any = {"top": "1.4cm", "bottom": "1.3cm", "left": "1.3cm", "right": "1.3cm"}  # Playwright's PdfMargins
_SMALL = "font-family: sans-serif; font-size: 7.5pt; color: #555; width: 100%; padding: 0 1.4cm;"
_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def chromium() -> str:
    """Path of the system's Chromium.

    Raises
    ------
    ReportError
        When none is installed, saying how to install it.
    """
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        raise ReportError("PDF briefs need Chromium: install Debian's package (apt-get install chromium) and run again")
    return found


def _pdf_date(as_of: str) -> str:
    digits = "".join(ch for ch in as_of if ch.isdigit())[:8].ljust(8, "0") if as_of else "20000101"
    digits = (
        digits[:4] + (digits[4:6] if digits[4:6] != "00" else "01") + (digits[6:8] if digits[6:8] != "00" else "01")
    )
    return f"D:{digits}000000Z"


def _fix(pdf: bytes, title: str, as_of: str, html_sha256: str) -> bytes:
    """The PDF with its dates and document ID set from the data, and the report's hash recorded."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # Chromium's xref sizes draw harmless warnings
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    date = _pdf_date(as_of)
    writer.metadata = {
        "/Title": title,
        "/Author": "leftbehind",
        "/Creator": f"leftbehind {__version__} (python -m leftbehind briefs)",
        "/Producer": "Chromium (headless) and pypdf",
        "/CreationDate": date,
        "/ModDate": date,
        "/LeftbehindReportSha256": html_sha256,
    }
    digest = hashlib.md5(f"{title}\0{html_sha256}".encode(), usedforsecurity=False).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _recorded_hash(path: Path) -> str | None:
    from pypdf import PdfReader

    try:
        metadata = PdfReader(path).metadata
        return str(metadata.get("/LeftbehindReportSha256", "")) or None if metadata is not None else None
    except Exception:  # an unreadable PDF is simply printed again
        return None


def _offline(route: Any) -> None:
    """Reports load nothing from the internet; a brief must not either."""
    if route.request.url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort()


def _country_reports(out_dir: Path, only: Iterable[str] | None) -> list[dict[str, Any]]:
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{out_dir.name}/manifest.json: cannot be read ({exc}); run `make reports` first") from None
    wanted = set(only or [])
    chosen = []
    for entry in manifest.get("reports", []):
        iso3 = (entry.get("parameters") or {}).get("country")
        if not isinstance(iso3, str) or entry.get("status") != "ok" or not entry.get("html"):
            continue
        if wanted and entry["name"] not in wanted and iso3 not in wanted:
            continue
        chosen.append(entry)
    return chosen


def write_briefs(
    out_dir: Path | None = None,
    only: Iterable[str] | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Print each country report in ``out_dir`` to ``briefs/<ISO3>.pdf`` and link the briefs from the index.

    Parameters
    ----------
    out_dir
        The reports folder (default ``reports/``).
    only
        Report names or ISO3 codes to print (default: every country report that ran well).
    force
        Print again even when a brief already matches its report.

    Returns the briefs written (those skipped because up to date are not listed).
    """
    from .. import country
    from .run import default_output_dir
    from .site import relink_briefs

    out_dir = Path(out_dir or default_output_dir())
    entries = _country_reports(out_dir, only)
    if not entries:
        log("no country report to print (run `make reports` first)")
        return []
    written: list[Path] = []
    todo = []
    for entry in entries:
        source = out_dir / entry["html"]
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        target = out_dir / "briefs" / f"{entry['parameters']['country']}.pdf"
        if not force and target.is_file() and _recorded_hash(target) == sha:
            continue
        todo.append((entry, source, sha, target))
    if todo:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=_ARGS)
            try:
                for entry, source, sha, target in todo:
                    as_of = country.as_of(entry["parameters"]["country"])
                    title = str(entry["title"])
                    page = browser.new_page()
                    try:
                        page.route("**/*", _offline)
                        page.goto(source.as_uri(), wait_until="load")
                        page.add_style_tag(content=PRINT_CSS)
                        page.emulate_media(media="print")
                        stamp = f"data as of {as_of}" if as_of else "no dated figures in the data package"
                        header = f'<div style="{_SMALL}">{html.escape(title)} · {html.escape(stamp)}</div>'
                        footer = (
                            f'<div style="{_SMALL}">leftbehind {__version__} · {html.escape(entry["name"])} · page '
                            '<span class="pageNumber"></span> of <span class="totalPages"></span></div>'
                        )
                        pdf = page.pdf(format="A4", print_background=True, display_header_footer=True,
                                       header_template=header, footer_template=footer, margin=_MARGINS)  # fmt: skip
                    finally:
                        page.close()
                    write_atomic(target, _fix(pdf, title, as_of, sha))
                    written.append(target)
                    log(f"brief   {target.relative_to(out_dir).as_posix()}")
            finally:
                browser.close()
    relink_briefs(out_dir)
    log(f"{len(written)} brief(s) written, {len(entries) - len(written)} up to date, in {out_dir.name}/briefs/")
    return written
