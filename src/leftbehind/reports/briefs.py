"""A PDF brief per country: each country-profile report printed to A4 by headless Chromium.

``make briefs`` (``python -m leftbehind briefs``) prints every country report that ran well
(``reports/<name>.html`` with a ``country`` parameter) to ``reports/briefs/<ISO3>.pdf`` with a print stylesheet:
the country and the date of its newest data at the top of each page, page numbers at the foot, charts sized for
paper, the sources at the end. The PDF's dates and document ID are set from the data (never the clock), so
regenerating gives the same bytes; a brief whose report did not change is not printed again. The index links
each brief.

Needs the system's Chromium (Debian's ``chromium``), driven by Playwright, which never downloads a browser.

What Chromium may do (issue 29, item 7): each report is read by this module, from a path that ``manifest.json``
gives and that resolves to a regular ``.html`` file inside the reports folder, and served to Chromium at an
address of its own (``http://brief.invalid/<name>.html``) with JavaScript off; every other request the page
makes is refused, and a page at an ``http`` address cannot load ``file:`` ones (an ``<iframe
src="file:///etc/hostname">`` stays empty). Reports embed their charts (``data:`` images) and load nothing else.
Chromium and Playwright's driver run in a session of their own, so that Ctrl-C reaches only this process,
which finishes the brief it is printing, closes the browser and stops (exit code 130). Chromium's sandbox is
used where it can run; as root it cannot, and Chromium runs with ``--no-sandbox`` (the page still runs no
script and reads no file).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import logging
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import write_atomic
from ..errors import ReportError, did_you_mean

__all__ = ["PRINT_CSS", "chromium", "write_briefs"]

#: The print stylesheet added to a report before it is printed: A4, charts sized for paper, no interactive bits.
PRINT_CSS = """
@page { size: A4; }
html, body { background: white !important; }
main, body, .jp-Notebook { padding-bottom: 0 !important; margin-bottom: 0 !important; min-height: 0 !important; }
body { font-size: 8.5pt; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 11.5pt; margin: 6pt 0 2pt; break-after: avoid; }
h3 { font-size: 11pt; break-after: avoid; }
/* a heading stays with what follows it: a Markdown cell lays its text out as a table cell, which keeps a
   heading's break-after from the page breaker, so the text is laid out as a block and the cell says it */
.jp-MarkdownCell .jp-InputArea, .jp-MarkdownCell .jp-RenderedMarkdown:not(.celltag_web-only) {
  display: block !important; overflow: visible !important; }
.jp-MarkdownCell:has(.jp-RenderedMarkdown > :is(h1, h2, h3):last-child) { break-after: avoid !important; }
p, li { line-height: 1.3; }
p { margin: 0 0 3pt; }
img { max-width: 56% !important; max-height: 3.7cm !important; width: auto !important; height: auto !important;
      display: block; margin: 2pt auto; break-inside: avoid; }
table { font-size: 7.5pt !important; margin: 2pt 0 !important; }
.lb-table p { margin: 1pt 0 !important; font-size: 7pt !important; }
th, td { padding: 1pt 5pt !important; }
/* text may break across pages (JupyterLab keeps whole cells together), charts and tables not */
.jp-Cell, .jp-Cell-outputWrapper, .jp-Cell-inputWrapper, .jp-OutputArea-child, .jp-OutputArea-output {
  break-inside: auto !important; }
.jp-RenderedImage, figure, table { break-inside: avoid !important; }
.celltag_web-only { display: none !important; }
/* the links to the data behind charts and tables are for the web page: a chart's link is an output of its own */
.lb-data { display: none !important; }
.jp-OutputArea-child:has(.jp-OutputArea-output > .lb-data:only-child) { display: none !important; }
/* charts two to a row: a cell whose only output is a chart takes half the width */
.jp-Cell.jp-CodeCell:has(.jp-RenderedImage):not(:has(.jp-RenderedMarkdown)):not(:has(table)) {
  display: inline-block; width: 49.5%; vertical-align: top; }
.jp-Cell.jp-CodeCell:has(.jp-RenderedImage):not(:has(.jp-RenderedMarkdown)):not(:has(table)) img {
  max-width: 100% !important; max-height: 5.6cm !important; }
ol { font-size: 5.8pt; columns: 2; column-gap: 12pt; margin-bottom: 0 !important; }
/* a map (its image's alt text starts "Map:") needs more room than a chart to be read on paper */
img[alt^="Map:"] { max-width: 82% !important; max-height: 6.8cm !important; }
/* no space below the last line: a list that ends a full page would otherwise spill it onto an empty page */
.jp-Cell { padding-bottom: 0 !important; }
ol li { margin-bottom: 0.5pt; line-height: 1.15; overflow-wrap: anywhere; }
details.leftbehind-provenance { font-size: 6.5pt; color: #555; margin: 0 0 6pt; }
a { color: #0072B2; text-decoration: none; }
"""

_MARGINS: Any = {"top": "1.4cm", "bottom": "1.3cm", "left": "1.3cm", "right": "1.3cm"}  # Playwright's PdfMargins
_SMALL = "font-family: sans-serif; font-size: 7.5pt; color: #555; width: 100%; padding: 0 1.4cm;"
_ARGS = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
#: The address each report is served at while it is printed: a reserved domain (RFC 2606) that no resolver
#: answers, requests to which never leave Playwright's route (:func:`_serve`).
_ORIGIN = "http://brief.invalid/"
_ISO3 = re.compile(r"[A-Z]{3}")


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


def _serve(name: str, body: bytes) -> Callable[[Any], None]:
    """Playwright's route for a page that is the report ``body`` at ``_ORIGIN + name``, and nothing else: every
    other request (a file, another page, the internet) is refused."""
    address = _ORIGIN + name

    def route(route: Any) -> None:
        if route.request.url == address:
            route.fulfill(status=200, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        else:
            route.abort()

    return route


def _with_print_css(page: bytes) -> bytes:
    """The report with :data:`PRINT_CSS` at the end of its head (JavaScript is off: no script can add it)."""
    style = f"<style>{PRINT_CSS}</style>".encode()
    at = page.find(b"</head>")
    return page[:at] + style + page[at:] if at >= 0 else style + page


def _entry_problem(out_dir: Path, entry: dict[str, Any]) -> str | None:
    """What is wrong with a manifest entry of a country report, or ``None``: its ``html`` must be a regular
    ``.html`` file inside ``out_dir`` (no absolute path, no ``..``, no link out of the folder), its country an
    ISO3 code, its name and title text."""
    rel, iso3 = entry.get("html"), (entry.get("parameters") or {}).get("country")
    if not isinstance(iso3, str) or not _ISO3.fullmatch(iso3):
        return f'parameter "country": {json.dumps(iso3)} is not an ISO3 code (three capital letters)'
    if not isinstance(entry.get("name"), str) or not isinstance(entry.get("title"), str):
        return 'fields "name" and "title" must be text'
    if not isinstance(rel, str) or not rel.endswith(".html") or Path(rel).is_absolute() or ".." in Path(rel).parts:
        return f'field "html": {json.dumps(rel)} is not the name of a report in this folder (<name>.html)'
    root = out_dir.resolve()
    path = (out_dir / rel).resolve()
    if path.parent != root:
        return f'field "html": {json.dumps(rel)} leads out of {out_dir.name}/ (to {path})'
    if not path.is_file():
        return f'field "html": {json.dumps(rel)} is not a file in {out_dir.name}/'
    return None


def _country_reports(out_dir: Path, only: Iterable[str] | None) -> list[dict[str, Any]]:
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{out_dir.name}/manifest.json: cannot be read ({exc}); run `make reports` first") from None
    wanted = {str(w) for w in only or []}
    chosen = []
    seen: dict[str, str] = {}  # each country report's name and ISO3 code → its status
    for i, entry in enumerate(manifest.get("reports", []), start=1):
        if not isinstance(entry, dict):
            continue
        iso3 = (entry.get("parameters") or {}).get("country")
        if iso3 is None:
            continue
        seen[str(entry.get("name"))] = seen[str(iso3)] = str(entry.get("status"))
        if entry.get("status") != "ok" or not entry.get("html"):
            continue
        if wanted and entry.get("name") not in wanted and not {str(iso3), str(iso3).lower()} & wanted:
            continue
        problem = _entry_problem(out_dir, entry)
        if problem is not None:
            raise ReportError(
                f"{out_dir.name}/manifest.json, report {i} ({json.dumps(entry.get('name'))}): {problem}; nothing "
                "was printed (run `make reports` to write the manifest again)"
            )
        chosen.append(entry)
    for w in sorted(wanted):
        status = seen.get(w, seen.get(w.upper()))
        if status is None:
            codes = sorted(k for k in seen if _ISO3.fullmatch(k))
            raise ReportError(
                f'no country report "{w}" in {out_dir.name}/manifest.json: give a report name or the ISO3 code of '
                f"a country ({len(codes)} country reports: {', '.join(codes[:3])}{' …' if len(codes) > 3 else ''})."
                f"{did_you_mean(w, list(seen))}"
            )
        if status != "ok":
            raise ReportError(
                f'the country report "{w}" did not run well (status: {status}): nothing to print; run '
                "`make reports` and see the index for its error"
            )
    return chosen


@contextlib.contextmanager
def _own_session() -> Iterator[None]:
    """Playwright's driver, and the Chromium it starts, in a session of their own (``PLAYWRIGHT_NODEJS_PATH``,
    Playwright's documented way to name the Node.js it runs, set to a small launcher that calls ``setsid``
    and then runs Node.js in its place): Ctrl-C at the terminal then reaches this process only, instead of killing the
    browser in the middle of a call. The driver still ends with this process (its pipe closes)."""
    import playwright

    node = os.environ.get("PLAYWRIGHT_NODEJS_PATH") or str(Path(playwright.__file__).parent / "driver" / "node")
    if os.name != "posix" or not Path(node).is_file():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="leftbehind-briefs-") as folder:
        launcher = Path(folder) / "node"
        code = "import os, sys\ntry:\n    os.setsid()\nexcept OSError:\n    pass\nos.execv(sys.argv[1], sys.argv[1:])"
        launcher.write_text(  # sh, not a "#!python" line: an interpreter path with spaces would break that
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -I -S -c {shlex.quote(code)} {shlex.quote(node)} "$@"\n',
            encoding="utf-8",
        )
        launcher.chmod(0o700)
        before = os.environ.get("PLAYWRIGHT_NODEJS_PATH")
        os.environ["PLAYWRIGHT_NODEJS_PATH"] = str(launcher)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("PLAYWRIGHT_NODEJS_PATH", None)
            else:
                os.environ["PLAYWRIGHT_NODEJS_PATH"] = before


@contextlib.contextmanager
def _interrupt_after_each_brief() -> Iterator[Callable[[], bool]]:
    """While briefs print, Ctrl-C (SIGINT) is noted rather than raised in the middle of a browser call; the loop
    asks after each brief and stops. A second Ctrl-C raises at once."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    asked: list[int] = []

    def note(signum: int, frame: Any) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


def _launch(pw: Any, log: Callable[[str], None]) -> Any:
    """Chromium with its sandbox where it can run (not as root), else without it, saying so once."""
    executable = chromium()
    if os.name == "posix" and os.geteuid() != 0:
        try:
            return pw.chromium.launch(executable_path=executable, args=_ARGS, handle_sigint=False)
        except Exception as exc:  # Playwright's Error: typically "No usable sandbox!"
            if "sandbox" not in str(exc).lower():
                raise
            log("Chromium's sandbox cannot run here; printing without it (JavaScript off, no file readable)")
    return pw.chromium.launch(executable_path=executable, args=[*_ARGS, "--no-sandbox"], handle_sigint=False)


def _print(context: Any, entry: dict[str, Any], page_bytes: bytes) -> bytes:
    """The PDF of one report: served as the only page Chromium may load (:func:`_serve`), printed to A4."""
    from .. import country

    iso3, name = entry["parameters"]["country"], Path(entry["html"]).name
    as_of = country.as_of(iso3)
    page = context.new_page()
    try:
        page.route("**/*", _serve(name, _with_print_css(page_bytes)))
        page.goto(_ORIGIN + name, wait_until="load")
        page.emulate_media(media="print")
        stamp = f"data as of {as_of}" if as_of else "no dated figures in the data package"
        header = f'<div style="{_SMALL}">{html.escape(str(entry["title"]))} · {html.escape(stamp)}</div>'
        footer = (
            f'<div style="{_SMALL}">leftbehind {__version__} · {html.escape(str(entry["name"]))} · page '
            '<span class="pageNumber"></span> of <span class="totalPages"></span></div>'
        )
        pdf: bytes = page.pdf(format="A4", print_background=True, display_header_footer=True,
                              header_template=header, footer_template=footer, margin=_MARGINS)  # fmt: skip
        return pdf
    finally:
        page.close()


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
        source = (out_dir / entry["html"]).resolve()  # inside out_dir: checked by _country_reports
        page_bytes = source.read_bytes()
        sha = hashlib.sha256(page_bytes).hexdigest()
        target = out_dir / "briefs" / f"{entry['parameters']['country']}.pdf"
        if not force and target.is_file() and _recorded_hash(target) == sha:
            continue
        todo.append((entry, page_bytes, sha, target))
    interrupted = False
    if todo:
        from playwright.sync_api import sync_playwright

        with _own_session(), _interrupt_after_each_brief() as asked, sync_playwright() as pw:
            browser = _launch(pw, log)
            try:
                context = browser.new_context(java_script_enabled=False, accept_downloads=False)
                for entry, page_bytes, sha, target in todo:
                    if asked():
                        interrupted = True
                        break
                    pdf = _print(context, entry, page_bytes)
                    as_of = country.as_of(entry["parameters"]["country"])
                    write_atomic(target, _fix(pdf, str(entry["title"]), as_of, sha))
                    written.append(target)
                    log(f"brief   {target.relative_to(out_dir).as_posix()}")
            finally:
                browser.close()
    if interrupted:
        log(f"interrupted: {len(written)} brief(s) written; the others are as they were")
        relink_briefs(out_dir)
        raise KeyboardInterrupt
    relink_briefs(out_dir)
    log(f"{len(written)} brief(s) written, {len(entries) - len(written)} up to date, in {out_dir.name}/briefs/")
    return written
