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


@pytest.fixture(scope="module")
def served_reports(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("browser")
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
    _large_index(out)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _large_index(out: Path, n: int = 248) -> None:
    """``big.html``: the index of this run's two reports plus ``n`` country profiles (copies of a real report,
    so that every link resolves and every page shows an image), rendered by the runner's own template."""
    import json
    import shutil

    from leftbehind import data
    from leftbehind.reports.site import render_index

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for code in data.countries(with_figures=False)[:n]:
        name = f"05_country_profile_{code}"
        shutil.copy(out / "plot-a.html", out / f"{name}.html")
        manifest["reports"].append(
            {
                "name": name,
                "title": f"Country profile: {data.country_name(code)}",
                "group": "Country profiles",
                "parameters": {"country": code},
                "status": "ok",
                "error": "",
                "html": f"{name}.html",
                "ipynb": "plot-a.ipynb",
                "failed_ipynb": None,
                "thumbnail": None,
            }
        )
    (out / "big.html").write_text(render_index(manifest), encoding="utf-8")


def _visible(page, selector: str) -> int:
    return page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent !== null).length")


def test_large_index_search_and_filters(served_reports):
    """issue 14 item 4: ~250 reports, country profiles in one table; typing in the search box and choosing a
    region or group narrows the list; with JavaScript off, everything is listed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            assert page.goto(f"{served_reports}/big.html").status == 200
            rows = page.locator("tr[data-search]").count()
            assert rows == 250 and _visible(page, "tr[data-search]") == 250
            assert page.locator("table.countries tr[data-search]").count() == 248  # compact: one table
            assert page.locator("img").count() == 2  # thumbnails for the two other reports only
            nepal, mexico = (
                "tr:has(a[href='05_country_profile_NPL.html'])",
                "tr:has(a[href='05_country_profile_MEX.html'])",
            )
            page.fill("#q", "Nepal")
            assert page.is_visible(nepal) and not page.is_visible(mexico)
            assert _visible(page, "tr[data-search]") == 1 and page.inner_text("#count") == "1 of 250 reports"
            assert not page.is_visible("section[data-group='plot']")  # a group with no match is hidden
            page.fill("#q", "npl")  # ISO3, any case
            assert page.is_visible(nepal) and _visible(page, "tr[data-search]") == 1
            page.fill("#q", "")
            page.select_option("select[name=region]", "Southern Asia")
            shown = page.eval_on_selector_all(
                "tr[data-search]", "els => els.filter(e => !e.hidden).map(e => e.dataset.region)"
            )
            assert page.is_visible(nepal) and not page.is_visible(mexico) and set(shown) == {"Southern Asia"}
            page.select_option("select[name=region]", "")
            page.select_option("select[name=group]", "plot")
            assert _visible(page, "tr[data-search]") == 2 and not page.is_visible(nepal)
            assert page.locator("text=<script>x</script>").count() == 1  # still escaped, shown as text
            hrefs = sorted(set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")))
            assert len(hrefs) >= 250
            for href in hrefs:
                assert page.request.get(f"{served_reports}/{href}").status == 200, href
            for href in ("05_country_profile_NPL.html", hrefs[0]):
                page.goto(f"{served_reports}/{href}")
                page.wait_for_load_state("load")
                assert page.eval_on_selector_all("img", "els => els.filter(e => e.naturalWidth > 0).length") >= 1
            assert errors == []
            off = browser.new_page(java_script_enabled=False)
            off.goto(f"{served_reports}/big.html")
            assert _visible(off, "tr[data-search]") == 250 and not off.is_visible("#filters")
        finally:
            browser.close()


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
