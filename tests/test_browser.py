"""The report index in a real browser: headless Chromium, served on a loopback port.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with a clear reason where it is missing.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from leftbehind import reports
from test_reports import _plan, _plot_notebook

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium found (install Debian's chromium; .ci/run does)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def served_reports(tmp_path: Path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _plot_notebook(nbs / "plot.ipynb")
    out = tmp_path / "reports"
    plan = _plan(
        nbs,
        [
            {"name": "plot-a", "notebook": "plot.ipynb", "title": "Plot A", "parameters": {"label": "alpha"}},
            {
                "name": "plot-b",
                "notebook": "plot.ipynb",
                "title": "Plot <b>",
                "parameters": {"label": "<script>x</script>"},
            },
        ],
    )
    reports.run(plan, out, log=lambda line: None)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_index_links_resolve_and_reports_show_images(served_reports):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            response = page.goto(f"{served_reports}/index.html")
            assert response is not None and response.status == 200
            assert page.locator("text=<script>x</script>").count() == 1  # escaped, shown as text
            hrefs = sorted(set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")))
            assert {"plot-a.html", "plot-b.html", "manifest.json"} <= set(hrefs)
            for href in hrefs:
                assert page.request.get(f"{served_reports}/{href}").status == 200, href
            thumbs = page.eval_on_selector_all("img", "els => els.filter(e => e.complete && e.naturalWidth > 0).length")
            assert thumbs == 2
            for href in (h for h in hrefs if h.endswith(".html")):
                page.goto(f"{served_reports}/{href}")
                page.wait_for_load_state("load")
                shown = page.eval_on_selector_all(
                    "img", "els => els.filter(e => e.complete && e.naturalWidth > 0).length"
                )
                assert shown >= 1, href
            assert errors == []
        finally:
            browser.close()
