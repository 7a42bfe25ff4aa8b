"""PDF briefs: a country report printed to A4 by headless Chromium, checked through the PDF's own text.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with a clear reason where it is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest
from pypdf import PdfReader

from conftest import REPO
from leftbehind import country, reports
from leftbehind.errors import ReportError
from leftbehind.reports.briefs import write_briefs
from test_browser import CHROMIUM
from test_reports import _plan

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no system Chromium found (install Debian's chromium; .ci/run does)"
)


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    root = tmp_path_factory.mktemp("briefs")
    nbs = root / "notebooks"
    nbs.mkdir()
    shutil.copy(REPO / "notebooks" / "05_country_profile.ipynb", nbs)
    entries = [
        {"name": f"profile_{c}", "notebook": "05_country_profile.ipynb", "title": f"Country profile: {c}",
         "parameters": {"country": c}}
        for c in ("LKA", "TON")
    ]  # fmt: skip
    out = root / "reports"
    reports.run(_plan(nbs, entries), out, log=lambda line: None)
    return out


def _text(path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_a_brief_per_country_report_with_its_figures_and_sources(profiles):
    written = write_briefs(profiles, log=lambda line: None)
    assert sorted(p.name for p in written) == ["LKA.pdf", "TON.pdf"]
    pdf = profiles / "briefs" / "LKA.pdf"
    reader = PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 4
    text = _text(pdf)
    assert "Sri Lanka" in text and "Sources" in text
    # the headline figure, as the HTML report states it (generated from the data by country.narrative)
    headline = re.search(r"counts ([\d.,]+ million) people", country.narrative("LKA")).group(1)
    assert headline in (profiles / "profile_LKA.html").read_text(encoding="utf-8")
    assert headline in text
    assert f"data as of {country.as_of('LKA')}" in text and "page 1 of" in text
    assert reader.metadata["/CreationDate"] == "D:" + country.as_of("LKA").replace("-", "") + "000000Z"
    assert 1 <= len(PdfReader(profiles / "briefs" / "TON.pdf").pages) <= 4
    # issue 27 item 4: the first page is for readers: the country's name, its key numbers, no code identifiers
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Sri Lanka: labour migration" in first and headline in first
    assert not [word for word in ("leftbehind.", "grid:", "data.countries", "Parameters.") if word in first]
    studies = len(country.evidence("LKA")[0])
    assert f"The {studies} studies from Sri Lanka are listed in the web version of this report." in text  # print only
    html = (profiles / "profile_LKA.html").read_text(encoding="utf-8")
    assert "Parameters.</strong>" not in html and 'class="lb-print-only"' in html  # shown in print only
    # the links to the CSVs behind charts and tables are for the web page, not for paper
    assert html.count('class="lb-data"') >= 5 and "Data: CSV" not in text
    index = (profiles / "index.html").read_text(encoding="utf-8")
    assert 'href="briefs/LKA.pdf"' in index and 'href="briefs/TON.pdf"' in index


def test_briefs_are_byte_identical_when_printed_again(profiles):
    write_briefs(profiles, log=lambda line: None)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (profiles / "briefs").iterdir()}
    assert write_briefs(profiles, log=lambda line: None) == []  # up to date: nothing printed
    write_briefs(profiles, force=True, log=lambda line: None)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (profiles / "briefs").iterdir()}
    assert after == before


# --- what Chromium may do while it prints (issue 29, item 7) ---------------------------------------------


@pytest.fixture
def reports_copy(profiles, tmp_path):
    """A copy of the printed reports folder, to tamper with."""
    out = tmp_path / "reports"
    shutil.copytree(profiles, out, ignore=shutil.ignore_patterns("briefs"))
    return out


def _entries(out):
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _set_entries(out, manifest):
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_brief_shows_no_file_and_runs_no_script_the_report_points_at(reports_copy, tmp_path):
    """A report with frames and an object pointing at files outside the reports folder, and a script: the
    brief shows none of the files and the script does not run (before: both files and "SCRIPT-RAN" printed)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-BESIDE-THE-REPORTS", encoding="utf-8")
    page = reports_copy / "profile_LKA.html"
    html = page.read_text(encoding="utf-8")
    body = html.index(">", html.index("<body")) + 1
    planted = (
        f'<iframe src="{secret.as_uri()}" width="600" height="60"></iframe>'
        '<iframe src="../secret.txt" width="600" height="60"></iframe>'
        f'<object data="{secret.as_uri()}" width="600" height="60"></object>'
        '<p id="js">SCRIPT-DID-NOT-RUN</p><script>document.getElementById("js").textContent = "SCRIPT-RAN";</script>'
    )
    page.write_text(html[:body] + planted + html[body:], encoding="utf-8")
    write_briefs(reports_copy, only=["LKA"], log=lambda line: None)
    text = _text(reports_copy / "briefs" / "LKA.pdf")
    assert "Sri Lanka" in text and "SCRIPT-DID-NOT-RUN" in text
    assert "SECRET" not in text and "SCRIPT-RAN" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"html": "/etc/passwd"}, r'field "html": "/etc/passwd" is not the name of a report in this folder'),
        ({"html": "../elsewhere/profile_LKA.html"}, r'field "html": "../elsewhere/profile_LKA.html" is not the name'),
        ({"html": "linked.html"}, r'field "html": "linked.html" leads out of reports/'),
        ({"html": "missing.html"}, r'field "html": "missing.html" is not a file in reports/'),
        ({"parameters": {"country": "../../../tmp/x"}}, r'parameter "country": "../../../tmp/x" is not an ISO3 code'),
    ],
)
def test_a_tampered_manifest_entry_prints_nothing(reports_copy, tmp_path, change, message):
    """The manifest's paths must lead to a report inside the reports folder (before: "/etc/passwd" was printed
    into a brief), and the country name the PDF is written under must be an ISO3 code."""
    (tmp_path / "outside.html").write_text("<p>OUTSIDE</p>", encoding="utf-8")
    (reports_copy / "linked.html").symlink_to(tmp_path / "outside.html")
    manifest = _entries(reports_copy)
    entry = next(e for e in manifest["reports"] if (e.get("parameters") or {}).get("country") == "LKA")
    entry.update(change)
    _set_entries(reports_copy, manifest)
    with pytest.raises(ReportError, match=r"reports/manifest.json, report \d+ \(\"profile_LKA\"\): " + message):
        write_briefs(reports_copy, log=lambda line: None)
    assert not (reports_copy / "briefs").exists() and not (tmp_path / "x.pdf").exists()


def test_ctrl_c_during_briefs_ends_cleanly(reports_copy):
    """Ctrl-C at the terminal (SIGINT to the whole process group) while briefs print: exit code 130, one line
    saying so, no TargetClosedError or "Future exception was never retrieved", no browser left running, no
    partial file (before: the browser died mid-call and both errors were printed, exit code 1)."""
    manifest = _entries(reports_copy)
    lka = next(e for e in manifest["reports"] if (e.get("parameters") or {}).get("country") == "LKA")
    codes = ["NPL", "IND", "BGD", "PAK", "PHL", "IDN", "VNM", "MEX", "GTM", "HND", "SLV", "NIC", "KGZ", "TJK"]
    manifest["reports"] += [lka | {"name": f"copy_{c}", "parameters": {"country": c}} for c in codes]
    _set_entries(reports_copy, manifest)
    proc = subprocess.Popen(
        [sys.executable, "-m", "leftbehind", "briefs", "--out", str(reports_copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's process group of its own: Ctrl-C reaches every process in it
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.startswith("brief "), first
        family = psutil.Process(proc.pid).children(recursive=True)
        assert any("chrom" in p.name() for p in family), [p.name() for p in family]
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (out, err)
    assert err.strip() == "interrupted", err
    assert "interrupted: " in out and "brief(s) written" in out
    deadline = time.monotonic() + 10
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not list(reports_copy.rglob("*.partial")) and not list(reports_copy.rglob("*.tmp"))


def test_screenshots_of_the_index_a_profile_and_its_brief_are_made_again_to_the_byte(profiles):
    """README's screenshots (make screenshots): the project's own code makes them, byte for byte the same when
    made again from the same reports."""
    import dataclasses

    from PIL import Image

    from leftbehind.reports.screenshots import SHOTS, write_screenshots

    shots = tuple(dataclasses.replace(s, page=s.page.replace("05_country_profile_NPL", "profile_LKA")) for s in SHOTS)
    first = write_screenshots(profiles, log=lambda line: None, shots=shots)
    assert [p.name for p in first] == ["index.png", "profile.png", "brief.png"]
    sizes = [Image.open(p).size for p in first]
    assert sizes == [(s.width, s.height) for s in shots]
    before = [p.read_bytes() for p in first]
    assert write_screenshots(profiles, log=lambda line: None, shots=shots) == first
    assert [p.read_bytes() for p in first] == before
    with pytest.raises(ReportError, match="profile_XXX.html: not found; run `make reports` first"):
        write_screenshots(
            profiles, log=lambda line: None, shots=(dataclasses.replace(shots[1], page="profile_XXX.html"),)
        )


def test_a_heading_is_not_left_alone_at_the_foot_of_a_page(reports_copy):
    """27 of 236 briefs ended a page with a section's heading and began the next with its chart ("Evidence on
    children left behind" at the foot of Nepal's page 3). A page whose heading lands 2.5 cm above the foot, with
    a chart after it that needs more: the heading now starts the next page, with its chart (and a cell for the web
    page stays out, as the rule that lays Markdown cells out as blocks could have shown it)."""
    page = reports_copy / "profile_LKA.html"
    html = page.read_text(encoding="utf-8")
    img = re.search(r'<img [^>]*src="data:image/png;base64,[^"]+"[^>]*>', html).group(0)
    cells = (
        '<div style="height: 24.5cm">Filler</div>'
        '<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell"><div class="jp-Cell-inputWrapper">'
        '<div class="jp-InputArea jp-Cell-inputArea"><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown '
        'jp-MarkdownOutput celltag_web-only"><p>On the web only</p></div></div></div></div>'
        '<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell"><div class="jp-Cell-inputWrapper">'
        '<div class="jp-InputArea jp-Cell-inputArea"><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown '
        'jp-MarkdownOutput"><h2 id="x">Heading before a chart</h2></div></div></div></div>'
        '<div class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noInput"><div class="jp-Cell-outputWrapper">'
        '<div class="jp-OutputArea jp-Cell-outputArea"><div class="jp-OutputArea-child"><div class="jp-RenderedImage '
        f'jp-OutputArea-output">{img}</div></div></div></div></div>'
    )
    start, end = html.index(">", html.index("<main")) + 1, html.index("</main>")
    page.write_text(html[:start] + cells + html[end:], encoding="utf-8")
    write_briefs(reports_copy, only=["LKA"], log=lambda line: None)
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(reports_copy / "briefs" / "LKA.pdf").pages]
    assert len(pages) == 2 and "Filler" in pages[0] and "On the web only" not in " ".join(pages)
    assert "Heading before a chart" not in pages[0] and "Heading before a chart" in pages[1]


def test_the_map_is_printed_large_enough_to_read(profiles):
    """A brief printed the map of where a country's people live 6.2 cm wide, as small as a chart beside text;
    its image (alt text "Map: ...") is now printed at least 10.5 cm wide, wider than any chart."""
    write_briefs(profiles, only=["LKA"], log=lambda line: None)
    widths = []

    def placed(op, args, cm, tm):  # an image is drawn ("Do") at the current transformation: its width is cm[0]
        if op == b"Do":
            widths.append(cm[0] / 72 * 2.54)

    for page in PdfReader(profiles / "briefs" / "LKA.pdf").pages:
        page.extract_text(visitor_operand_before=placed)
    widths.sort(reverse=True)
    assert 'alt="Map: Where people from Sri Lanka live' in (profiles / "profile_LKA.html").read_text(encoding="utf-8")
    assert len(widths) >= 5 and widths[0] >= 10.5 and widths[1] < 9.5, widths


def test_asking_for_a_brief_that_is_not_there_says_so(reports_copy):
    """'briefs --only LAK' answered "no country report to print (run `make reports` first)" with every report
    in place; it now names the code, suggests the nearest, takes a code in lower case, and says when the report
    is there but did not run well."""
    with pytest.raises(
        ReportError, match=r'no country report "LAK" in reports/manifest\.json: .*: LKA, TON\)\. Did you mean "LKA"\?'
    ):
        write_briefs(reports_copy, only=["LAK"], log=lambda line: None)
    assert [p.name for p in write_briefs(reports_copy, only=["lka"], log=lambda line: None)] == ["LKA.pdf"]
    manifest = _entries(reports_copy)
    for entry in manifest["reports"]:
        if entry["name"] == "profile_TON":
            entry["status"] = "error"
    _set_entries(reports_copy, manifest)
    with pytest.raises(ReportError, match=r'the country report "TON" did not run well \(status: error\)'):
        write_briefs(reports_copy, only=["TON"], log=lambda line: None)
