"""Strings from the data or from parameters never become live HTML (issue 17, item 1).

Three lines: the escaping helpers (every Markdown a report shows is built with them), validation (markup and
non-web addresses are refused by ``data validate``), and reports rendered end to end over a poisoned copy of
the data package that never went through validation.
"""

from __future__ import annotations

import csv
import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from conftest import REPO, replace_cell
from leftbehind import data, literature
from leftbehind._markup import escape_markdown, find_markup, markdown_link, web_address
from leftbehind.errors import DataError

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "<a href='javascript:alert(4)'>click</a>",
    "[click](javascript:alert(5))",
    "![x](javascript:alert(6))",
    "<javascript:alert(7)>",
    "\\[click](javascript:alert(8))",  # a backslash that would undo the escape of "["
    "`<b>code</b>`",
    "&lt;script&gt;alert(9)&lt;/script&gt;",
    "x\n\n[ref]: javascript:alert(10)\n\n[ref]",  # a reference-style link over several lines
    "<!-- comment --><style>body{display:none}</style>",
    "$\\href{javascript:alert(11)}{x}$",
]


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def _assert_no_live_markup(page: str) -> None:
    """No script element, no event-handler attribute, no javascript:/vbscript:/data: address in any tag (but the
    report template's own: charts as ``<img src="data:image/png;base64,…">`` and an empty favicon ``data:,``)."""
    for tag, attrs in _parse(page).tags:
        assert tag not in ("script", "iframe", "object", "embed"), f"live <{tag}> in the page"
        for name, value in attrs.items():
            shown = f"<{tag} {name}={value[:80]!r}>"
            assert not name.startswith("on"), f"event handler: {shown}"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                address = re.sub(r"[\s\x00-\x1f]", "", html.unescape(value)).lower()
                assert not address.startswith(("javascript:", "vbscript:")), shown
                chart = tag == "img" and name == "src" and address.startswith("data:image/png;base64,")
                favicon = tag == "link" and value == "data:,"
                assert not address.startswith("data:") or chart or favicon, shown


# --- the helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_text_renders_as_the_same_characters_and_never_as_markup(payload):
    page = markdown2html_mistune(f"1. Title: {escape_markdown(payload)}. {markdown_link(payload)}")
    _assert_no_live_markup(page)
    tags = {tag for tag, _ in _parse(page).tags}
    assert tags <= {"ol", "li", "p"}, page  # no link, image, code, emphasis or anything else from the payload
    flat = re.sub(r"\s+", " ", payload)
    assert "".join(_parse(page).text).strip() == f"Title: {flat}. {flat}", page


@pytest.mark.parametrize(
    "text",
    [
        "Parental migration & the psychosocial health of children",
        "children <5 years, p < 0.05, a > b",
        "[title not read] Propensity-score-matched comparison",
        "remittances on track to reach $551 billion in 2019 and $597 billion by 2021",
        "API_BX.TRF.PWKR.CD.DT_DS2_en_csv_v2_38454.csv",
        "'Left behind' but not left alone: \"quoted\"",
        "*Social Science & Medicine* 132:252-260",
    ],
)
def test_ordinary_text_renders_exactly_as_before(text):
    assert markdown2html_mistune(escape_markdown(text)) == markdown2html_mistune(text)


def test_links_only_for_http_urls_and_dois():
    assert markdown_link("https://www.iom.int/a?b=1&c=2") == "<https://www.iom.int/a?b=1&c=2>"
    assert markdown_link("10.1016/j.socscimed.2014.08.040") == "<https://doi.org/10.1016/j.socscimed.2014.08.040>"
    # a DOI's unsafe characters are percent-encoded, not a way out of the link
    assert markdown_link('10.1234/"><img/src=x/onerror=alert(1)>') == (
        "<https://doi.org/10.1234/%22%3E%3Cimg/src=x/onerror=alert(1)%3E>"
    )
    for bad in ("javascript:alert(6)", "JavaScript:alert(6)", "data:text/html,<script>", "vbscript:x", "//evil.org"):
        assert web_address(bad) is None
        assert "<" not in markdown_link(bad).replace("&lt;", "")  # escaped text, no autolink
    page = markdown2html_mistune(markdown_link('https://x.org/"onmouseover=alert(1)'))
    _assert_no_live_markup(page)
    page = markdown2html_mistune(markdown_link("10.1000/x"))
    assert '<a href="https://doi.org/10.1000/x">' in page


def test_find_markup_accepts_plain_text_with_angle_brackets():
    for plain in ("<5 years", "p < 0.05", "a > b", "Migration & health", "[title not read] (see notes)", "data: DHS"):
        assert find_markup(plain) is None, plain
    for markup, what in [
        ("<img src=x>", "an HTML tag"),
        ("</b>", "an HTML tag"),
        ("<!-- x -->", "an HTML tag"),
        ("x onerror = alert(1)", "an event-handler attribute"),
        ("javascript:alert(1)", "a script URL"),
        ("VBScript:msgbox", "a script URL"),
        ("data:text/html;base64,PHN", "a data: URL"),
        ("&#60;script", "an HTML character reference"),
        ("[x](https://evil.org)", "a Markdown link"),
    ]:
        assert (find_markup(markup) or "").startswith(what), markup


def test_package_markdown_escapes_data_strings(data_copy):
    studies = data_copy / "literature" / "studies.csv"
    row = _row(studies, "study_id", "wickramage2015")
    replace_cell(studies, row, "title", "<img src=x onerror=alert(1)>")
    replace_cell(studies, row, "authors", "Wickramage K, <script>alert(2)</script>")
    replace_cell(studies, row, "doi", "")
    replace_cell(studies, row, "url", "javascript:alert(6)")
    sources = data_copy / "derived" / "sources.csv"  # the WDI file the remittance figures are derived from
    replace_cell(sources, _row(sources, "source_id", "wdi_20250701_bx_trf_pwkr_cd_dt"), "title", "<b onclick=x>T</b>")
    bib = literature.bibliography_markdown(["wickramage2015"])
    assert "<img" not in bib and "<script" not in bib and "<javascript" not in bib
    assert "&lt;img src=x onerror=alert(1)&gt;" in bib and bib.endswith(" javascript:alert(6)")
    src = data.sources_markdown(data.remittances(["LKA"], "usd"))
    assert "<b" not in src and "&lt;b onclick=x&gt;T&lt;/b&gt;" in src
    # the plain-text citations stay plain text (chart labels, printed tables)
    assert literature.cite("wickramage2015", "full").startswith("Wickramage K, <script>alert(2)</script> (2015)")


# --- validation ----------------------------------------------------------------------------------------


def _row(path: Path, key_field: str, key: str) -> int:
    """Data-row number (from 1) of the row whose ``key_field`` is ``key``."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return next(i for i, r in enumerate(rows, start=1) if r[key_field] == key)


@pytest.mark.parametrize(
    ("file", "field", "value", "message"),
    [
        ("literature/studies.csv", "title", "<img src=x onerror=alert(1)>", 'an HTML tag ("<i")'),
        ("literature/studies.csv", "authors", "Smith J, <script>alert(1)</script>", 'an HTML tag ("<s")'),
        ("literature/studies.csv", "journal", "Journal onmouseover=alert(1)", "an event-handler attribute"),
        ("literature/studies.csv", "title", "[click](javascript:alert(1))", "a script URL"),
        ("literature/studies.csv", "notes", "Social Science &amp; Medicine", "an HTML character reference"),
        ("literature/studies.csv", "url", "javascript:alert(6)", "a script URL"),
        ("literature/studies.csv", "url", "www.example.org/a", "is not an http:// or https:// URL"),
        ("literature/studies.csv", "url", "https://x.org/a b", "is not an http:// or https:// URL"),
        ("literature/reviews.csv", "doi", "doi.org/10.1000/x", "is not a DOI"),
        ("literature/effects.csv", "read_at", "data:text/html,hello", "a data: URL"),
        ("literature/effects.csv", "read_at", "ftp://x.org/a", "is not an http:// or https:// URL or a github:"),
        ("sources.csv", "title", "<a href=x>Title</a>", 'an HTML tag ("<a")'),
        ("sources.csv", "read_at", "vbscript:msgbox(1)", "a script URL"),
        ("seed_figures.csv", "url", "file:///etc/passwd", "is not an http:// or https:// URL"),
        ("geographies.csv", "name", "Nepal<svg onload=alert(1)>", 'an HTML tag ("<s")'),
        ("geographies.csv", "name", "Kyrgyzstan | 1.23 | ", 'contains a pipe ("|"), which would end a table cell'),
        ("literature/studies.csv", "journal", "A | B", "contains a pipe"),
    ],
)
def test_validate_rejects_markup_and_non_web_addresses(data_copy, file, field, value, message):
    replace_cell(data_copy / file, 3, field, value)
    with pytest.raises(DataError) as info:
        data.validate_package()
    text = str(info.value)
    assert text.startswith(f'data/{file}, row 3, field "{field}": "{value}"'), text
    assert message in text, text


def test_validate_accepts_the_real_data_package():
    counts = data.validate_package()
    assert counts["studies"] > 200 and counts["sources"] > 100


# --- end to end: reports over a poisoned data package ---------------------------------------------------


def test_reports_over_poisoned_data_show_no_live_markup(tmp_path, data_copy):
    """Plant payloads in the evidence base, the sources and a country name, without validation (a renderer
    must be safe for data that never went through ``data validate``), and render the real evidence-map and
    country-profile notebooks."""
    from leftbehind import reports
    from test_reports import _plan

    studies = data_copy / "literature" / "studies.csv"
    row = _row(studies, "study_id", "wickramage2015")  # a Sri Lankan study, 2015: in both reports
    replace_cell(studies, row, "title", "<img src=x onerror=alert(1)>")
    replace_cell(studies, row, "authors", "Wickramage K, <script>alert(2)</script>")
    replace_cell(studies, row, "doi", "")
    replace_cell(studies, row, "url", "javascript:alert(6)")
    row = _row(studies, "study_id", "knipe2019")
    replace_cell(studies, row, "doi", '10.1234/"><img/src=x/onerror=alert(3)>')  # passes the schema pattern
    replace_cell(studies, row, "journal", "[click](javascript:alert(4))")
    sources = data_copy / "derived" / "sources.csv"
    row = _row(sources, "source_id", "wdi_20250701_bx_trf_pwkr_cd_dt")  # cited by the Sri Lanka profile
    replace_cell(sources, row, "title", "<script>alert(5)</script>")
    replace_cell(sources, row, "url", 'https://x.org/"><svg/onload=alert(8)>')  # passes the schema pattern
    replace_cell(sources, row, "read_at", "javascript:alert(9)")
    geo = data_copy / "geographies.csv"
    replace_cell(geo, _row(geo, "code", "LKA"), "name", "Sri Lanka<img src=x onerror=alert(10)>")

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for name in ("04_evidence_map.ipynb", "05_country_profile.ipynb"):
        shutil.copy(REPO / "notebooks" / name, nbs)
    plan = _plan(
        nbs,
        [
            {"name": "map", "notebook": "04_evidence_map.ipynb", "parameters": {"region": "all"}},
            {"name": "profile", "notebook": "05_country_profile.ipynb", "parameters": {"country": "LKA"}},
        ],
    )
    out = tmp_path / "reports"
    outcomes = reports.run(plan, out, jobs=1, log=lambda line: None)
    assert [o.status for o in outcomes] == ["ok", "ok"], [o.error for o in outcomes]
    for name in ("map", "profile"):
        page = (out / f"{name}.html").read_text(encoding="utf-8")
        _assert_no_live_markup(page)
        # the payloads are there, as text a reader sees
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
        assert "javascript:alert(6)" in page
    profile = (out / "profile.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in profile
    assert "Sri Lanka&lt;img src=x onerror=alert(10)&gt;" in profile
    assert 'href="https://doi.org/10.1234/%22%3E%3Cimg/src=x/onerror=alert(3)%3E"' in profile


def test_index_shows_poisoned_titles_groups_and_country_names_as_text(data_copy):
    """issue 14 item 4: the index (its search data attributes, filter options and country table included) has
    one script, its own, and every payload in a title, group, parameter or country name is text."""
    from leftbehind.reports.site import render_index

    geo = data_copy / "geographies.csv"
    replace_cell(geo, _row(geo, "code", "NPL"), "name", PAYLOADS[1])
    replace_cell(geo, _row(geo, "code", "NPL"), "un_region", PAYLOADS[2])
    entries = [
        {"name": f"r{i}", "title": p, "group": p, "parameters": {"x": p}, "status": "failed", "error": p}
        for i, p in enumerate(PAYLOADS)
    ]
    entries += [
        {"name": "c", "title": PAYLOADS[0], "group": "Country profiles", "parameters": {"country": "NPL"}},
        {"name": "d", "title": "t", "group": "Country profiles", "parameters": {"country": "LKA"}},
    ]
    for e in entries:
        e.update({"html": f"{e['name']}.html", "ipynb": None, "failed_ipynb": None, "error": e.get("error", "")})
        e.setdefault("status", "ok")
    page = render_index({"leftbehind_version": "0", "reports": entries})
    tags = _parse(page).tags
    assert [t for t, _ in tags].count("script") == 1 and page.count("<script>") == 1
    _assert_no_live_markup(page.replace(page[page.index("<script>") : page.index("</script>") + 9], ""))
    text = "".join(_parse(page).text)
    for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[2]):
        assert payload in text  # shown as the characters themselves
    searchable = " ".join(a.get("data-search", "") for _, a in tags)
    assert PAYLOADS[1].casefold() in searchable  # the attribute holds the text, escaped in the HTML


# --- table cells (issue 29, item 3) ----------------------------------------------------------------------

#: Strings that would add, end or split a cell or a row of a Markdown table if put into it unescaped.
CELL_PAYLOADS = [
    "Kyrgyzstan | 1.23 | ",  # the red team's: injects 1.23 as the value of its row
    "a \\| b",  # a backslash that would undo the escape of the pipe
    "ends in a backslash\\",  # ... or escape the cell's closing pipe
    "|---|---|",
    "Nepal\n| 9 | injected | 9.99 |",  # a line break that would start a row of its own
]


class _Cells(HTMLParser):
    """The text of each cell of each row (``th`` and ``td``) of the tables of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _table_rows(markdown: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(markdown2html_mistune(markdown))
    return parser.rows


@pytest.mark.parametrize("payload", CELL_PAYLOADS)
def test_a_data_string_stays_in_its_table_cell_in_every_table_the_package_builds(payload):
    """Each builder of a Markdown table, given a name holding the payload: the rendered table has as many cells
    in each row as in its header, the name's cell shows the name (line breaks as a space) and the numbers stay
    in their own cells."""
    from leftbehind.country.abroad import destinations_table
    from leftbehind.world import corridors, ranking_markdown

    inner = re.sub(r"\s*\n\s*", " ", payload)  # line breaks as a space; a cell's own spaces are not shown
    shown = inner.strip()
    tables = {
        "ranking": (
            ranking_markdown(pd.DataFrame({"rank": [1, 2], "name": [payload, "B"], "value": [5.0, 4.0]}), "percent"),
            [["Rank", "Country", "Percent"], ["1", shown, "5.0"], ["2", "B", "4.0"]],
        ),
        "destinations": (
            destinations_table(
                pd.DataFrame({"name": [payload], "persons": [1200.0], "share": [60.0], "women_share": [float("nan")]})
            ).to_markdown(),
            [["Country", "Persons", "Share (%)", "Women (%)"], [shown, "1,200", "60.0", "–"]],
        ),
        "corridors": (
            corridors.corridors_markdown(
                pd.DataFrame(
                    {"origin_name": [payload], "destination_name": ["C"], "persons": [10.0], "share_of_origin": [2.5]}
                )
            ),
            [
                ["Rank", "Corridor", "Persons", "Share of the origin's emigrants (%)"],
                ["1", f"{shown} → C", "10", "2.5"],
            ],
        ),
        "corridors grown": (
            corridors.corridors_markdown(
                pd.DataFrame(
                    {
                        "origin_name": ["C"],
                        "destination_name": [payload],
                        "persons": [30.0],
                        "since": [1990],
                        "before": [10.0],
                        "growth": [20.0],
                        "growth_pct": [200.0],
                    }
                ),
                growth=True,
            ),
            [
                ["Rank", "Corridor", "Persons in 1990", "Persons", "Persons added", "Growth (%)"],
                ["1", f"C → {shown}", "10", "30", "20", "200"],
            ],
        ),
        "region pairs": (
            corridors.region_pairs_markdown(
                pd.DataFrame([[2.0e6, 0.0]], index=pd.Index([payload]), columns=pd.Index(["Asia", payload]))
            ),
            [
                ["Origin ↓, destination → (million persons)", "Asia", shown, "All destinations"],
                [shown, "2.0", "–", "2.0"],
                ["All origins", "2.0", "–", "2.0"],
            ],
        ),
    }
    for name, (markdown, expected) in tables.items():
        assert _table_rows(markdown) == expected, f"{name}:\n{markdown}"


def test_validate_rejects_a_line_break_in_a_name(data_copy):
    replace_cell(data_copy / "geographies.csv", 3, "name", "Nepal\n| 1 | 2 |")
    with pytest.raises(
        DataError, match=r'data/geographies.csv, row 3, field "name": "Nepal\\n\| 1 \| 2 \|" contains a line break'
    ):
        data.validate_package()


def test_validate_accepts_a_pipe_in_a_quote_of_a_publishers_table():
    """The prose fields quote tables (``"Region | 2017 ... 2023e"``); the real package holds such quotes."""
    from leftbehind.data.checks import check_plain_text

    quotes = data.load("figures")["quote"].dropna()
    assert quotes.str.contains("|", regex=False).any()
    check_plain_text()
