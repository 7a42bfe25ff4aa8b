"""Issue 27's acceptance over real reports: a sample of the plan (a country profile, a world map, the corridors,
two meta-analyses, an evidence map, the reuse example) is run by the report runner, and every table of their HTML
is read back: no NaN, <NA>, None or nan, no pandas index column, no text cut with "…", numbers right-aligned;
and the reports are byte-identical when regenerated."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from leftbehind import reports
from test_reports import _plan

SAMPLE = [
    ("profile_CHN", "05_country_profile.ipynb", {"country": "CHN"}),
    ("world_emigrants", "08_world.ipynb", {"indicator": "emigrant_stock", "year": 0, "edition": "latest"}),
    ("corridors", "09_corridors.ipynb", {"year": 0, "since": 2000, "n": 20, "sex": "total"}),
    (
        "meta_depression",
        "06_meta_analysis.ipynb",
        {"outcome": "depression", "measure": "OR", "method": "REML", "ci": "normal", "subgroup_by": "none"},
    ),
    (
        "meta_suicidal_ideation",
        "06_meta_analysis.ipynb",
        {
            "outcome": "suicidal_ideation",
            "measure": "OR",
            "method": "REML",
            "ci": "hksj",
            "subgroup_by": "migration_scope",
        },
    ),
    ("evidence_map", "04_evidence_map.ipynb", {"outcome_domain": "all", "migration_scope": "international"}),
    ("reuse", "07_reuse_in_your_analysis.ipynb", {"countries": ["NPL", "PHL", "MEX"]}),
]
BAD_CELLS = re.compile(r"^(nan|NaN|<NA>|None|NaT|n/a)$")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tables")
    nbs = root / "notebooks"
    nbs.mkdir()
    for notebook in {nb for _, nb, _ in SAMPLE}:
        shutil.copy(REPO / "notebooks" / notebook, nbs)
    entries = [
        {"name": name, "notebook": nb, "title": name, "group": "sample", "parameters": params}
        for name, nb, params in SAMPLE
    ]
    out = root / "reports"
    outcomes = reports.run(_plan(nbs, entries), out, log=lambda line: None)
    failed = [o.summary() for o in outcomes if o.status != "ok"]
    assert not failed, failed
    return out


def _tables(page: str) -> list[str]:
    return re.findall(r"<table\b.*?</table>", page, re.S)


def _cells(table: str, tag: str = "td") -> list[str]:
    cells = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", table, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def test_every_table_reads_like_a_publication(sample: Path):
    for name, _, _ in SAMPLE:
        page = (sample / f"{name}.html").read_text(encoding="utf-8")
        tables = _tables(page)
        assert tables, f"{name}: no table"
        for table in tables:
            where = f"{name}: {table[:300]}"
            assert 'class="dataframe"' not in table, f"a raw pandas table in {where}"
            assert not re.search(r"<tbody>\s*<tr>\s*<th", table), f"an index column in {where}"
            assert "row_heading" not in table and "index_name" not in table, f"an index column in {where}"
            cells = _cells(table) + _cells(table, "th")
            bad = [c for c in cells if BAD_CELLS.match(c) or c.endswith("…") or c.endswith("...")]
            assert not bad, f"{bad[:3]} in {where}"


def test_tables_say_why_a_value_is_missing_and_show_ids_as_words(sample: Path):
    corridors = (sample / "corridors.html").read_text(encoding="utf-8")
    assert "– Growth (%): no percentage of growth from no migrant counted in 2000." in corridors
    meta = (sample / "meta_depression.html").read_text(encoding="utf-8")
    for needle in ("Why not pooled", "Compared with ours", "No subgroup analysis in this report"):
        assert needle in meta
    ids = [c for t in _tables(meta) for c in _cells(t) if re.fullmatch(r"[a-z]+\d{4}[a-z_]*", c)]
    assert not ids, f"study ids shown instead of citations: {ids[:5]}"
    profile = (sample / "profile_CHN.html").read_text(encoding="utf-8")
    assert "Outcome" in profile and "suicidal_ideation" not in profile.split("Evidence on children left behind")[-1]


def test_reports_with_tables_are_byte_identical_when_regenerated(sample: Path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sample.glob("*.html")}
    plan = sample.parent / "notebooks" / "reports.yaml"
    reports.run(plan, sample, only=["profile_CHN", "meta_depression"], force=True, log=lambda line: None)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sample.glob("*.html")}
    assert after == before
