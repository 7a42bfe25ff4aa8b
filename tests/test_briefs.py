"""PDF briefs: a country report printed to A4 by headless Chromium, checked through the PDF's own text.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with a clear reason where it is missing.
"""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest
from pypdf import PdfReader

from conftest import REPO
from leftbehind import country, reports
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
    index = (profiles / "index.html").read_text(encoding="utf-8")
    assert 'href="briefs/LKA.pdf"' in index and 'href="briefs/TON.pdf"' in index


def test_briefs_are_byte_identical_when_printed_again(profiles):
    write_briefs(profiles, log=lambda line: None)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (profiles / "briefs").iterdir()}
    assert write_briefs(profiles, log=lambda line: None) == []  # up to date: nothing printed
    write_briefs(profiles, force=True, log=lambda line: None)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (profiles / "briefs").iterdir()}
    assert after == before
