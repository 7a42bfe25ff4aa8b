"""Issue 27's acceptance over real reports: a sample of the plan (a country profile, a world map, the corridors,
two meta-analyses, an evidence map, the reuse example) is run by the report runner, and every table of their HTML
is read back: no NaN, <NA>, None or nan, no pandas index column, no text cut with "…", numbers right-aligned;
and the reports are byte-identical when regenerated."""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
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
    files = ("*.html", "*.data/*.csv")  # the manifest records how each kernel started (warm or cold): not compared
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for f in files for p in sample.glob(f)}
    plan = sample.parent / "notebooks" / "reports.yaml"
    reports.run(plan, sample, only=["profile_CHN", "meta_depression"], force=True, log=lambda line: None)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for f in files for p in sample.glob(f)}
    assert after == before


# --- the data behind every chart and table (issue 27 item 5) ---------------------------------------------------


def _csv(sample: Path, name: str, contains: str) -> pd.DataFrame:
    """The one CSV of report ``name`` whose file name contains ``contains``."""
    found = sorted((sample / f"{name}.data").glob(f"*{contains}*.csv"))
    assert len(found) == 1, f"{name}: {[p.name for p in found]} for {contains!r}"
    return pd.read_csv(found[0], keep_default_na=False, na_values=[""])


def test_every_chart_and_table_links_its_csv_listed_in_the_manifest(sample: Path):
    manifest = {e["name"]: e for e in json.loads((sample / "manifest.json").read_text(encoding="utf-8"))["reports"]}
    total = 0
    for name, _, _ in SAMPLE:
        page = (sample / f"{name}.html").read_text(encoding="utf-8")
        charts = len(re.findall(r"<img\b[^>]*src=\"data:image/png", page))
        links = re.findall(r'Data: <a href="([^"]+)">CSV</a>', page)
        assert len(links) == charts + len(_tables(page)), f"{name}: {len(links)} CSV links, {charts} charts"
        assert len(set(links)) == len(links)
        on_disk = sorted(p.name for p in (sample / f"{name}.data").iterdir())
        assert sorted(Path(link).name for link in links) == on_disk
        assert all(link.startswith(f"{name}.data/") for link in links)
        listed = manifest[name]["data"]
        assert [d["file"] for d in listed] == [f"{name}.data/{f}" for f in on_disk]
        assert [d["bytes"] for d in listed] == [(sample / d["file"]).stat().st_size for d in listed]
        total += len(listed)
        for published in (page, (sample / f"{name}.ipynb").read_text(encoding="utf-8")):
            assert "vnd.leftbehind.data" not in published, f"{name}: the CSV itself is left in a published file"
    index = (sample / "index.html").read_text(encoding="utf-8")
    assert f"The data behind the reports' charts and tables: {total:,} CSV files" in index


def test_the_profile_csvs_give_the_figures_and_corridors_of_the_data_package(sample: Path):
    from leftbehind import data
    from leftbehind.data.units import in_unit

    line = _csv(sample, "profile_CHN", "emigrants-from-china-living-abroad")
    assert {"indicator", "unit", "year", "edition_id", "source_id"} <= set(line.columns)
    published = data.figures("emigrant_stock", "CHN", edition="all")
    for row in line.itertuples():
        match = published[(published["year"] == row.year) & (published["edition_id"] == row.edition_id)]
        assert len(match) == 1, (row.year, row.edition_id)
        expected = in_unit(float(match["value"].iloc[0]), str(match["unit"].iloc[0]), row.unit)
        assert row.value == pytest.approx(expected, rel=1e-12)
    top = _csv(sample, "profile_CHN", "largest-destinations")
    corridors = data.corridors(origin="CHN", year=2024).set_index("destination_name")
    assert len(top) == 10 and set(top["destination"]) <= set(corridors["destination"])
    for row in top.itertuples():
        assert row.persons == corridors.loc[row.name, "persons"]
        assert row.share == pytest.approx(corridors.loc[row.name, "share_of_origin"], rel=1e-12)


def test_the_world_map_csv_gives_every_country_of_the_ranking(sample: Path):
    from leftbehind import data

    shown = _csv(sample, "world_emigrants", "01-emigrant-stock")
    assert shown["year"].nunique() == 1  # year=0: the year most countries have
    year = int(shown["year"].iloc[0])
    ranking = data.ranking("emigrant_stock", year, "latest").set_index("geography")
    assert {"indicator", "unit", "year", "edition_id", "source_id"} <= set(shown.columns)
    assert set(shown["geography"]) == set(ranking.index) and len(shown) == len(ranking)
    for row in shown.itertuples():
        assert row.value == ranking.loc[row.geography, "value"]
        assert (
            row.unit == ranking.loc[row.geography, "unit"]
            and row.edition_id == ranking.loc[row.geography, "edition_id"]
        )


def test_the_forest_plot_csv_gives_the_studies_and_the_pooled_estimate(sample: Path):
    from leftbehind import literature, meta

    forest = _csv(sample, "meta_depression", "forest-plot")
    studies = literature.selection("depression", "OR").pooled
    rows = forest[forest["study"] != "pooled"].set_index("study")
    assert sorted(rows.index) == sorted(studies["label"])
    z = 1.959963984540054
    for s in studies.itertuples():
        assert rows.loc[s.label, "estimate"] == pytest.approx(math.exp(s.yi), rel=1e-12)
        assert rows.loc[s.label, "ci_low"] == pytest.approx(math.exp(s.yi - z * math.sqrt(s.vi)), rel=1e-9)
    fit = meta.pool(studies["yi"], studies["vi"], method="REML", measure="OR").to_frame().iloc[0]
    pooled = forest[forest["study"] == "pooled"].iloc[0]
    assert pooled["estimate"] == pytest.approx(float(fit["estimate"]), rel=1e-12)
    assert pooled["ci_high"] == pytest.approx(float(fit["ci_high"]), rel=1e-12)
