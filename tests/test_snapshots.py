"""Snapshots of publishers' files (issue 13 items 1-2): records valid against the schema, every checksum
recomputed, and figures derived from them deterministically, each row naming its snapshot and location."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, REPO
from leftbehind import data
from leftbehind.data import derive
from leftbehind.data.snapshots import list_snapshots, load_snapshot, verify_snapshots
from leftbehind.errors import DataError, ParameterError
from leftbehind.refresh.snapshots import write_snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"
FIXTURE_KEYS = [
    "undesa/ims_fixture",
    "wb_class/FY2099",
    "wdi/2099-01-01.BM.TRF.PWKR.CD.DT",
    "wdi/2099-01-01.BX.TRF.PWKR.CD.DT",
    "wdi/2099-01-01.BX.TRF.PWKR.DT.GD.ZS",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_committed_snapshot_verifies():
    """The fixtures, and every real file that is in the local store (the committed boundaries always are; the
    publishers' files only once fetched: a fresh clone has none, and test_derived.py fetches them from a mirror)."""
    assert sorted(verify_snapshots(FIXTURES)) == FIXTURE_KEYS
    present = verify_snapshots(DATA / "snapshots", only_present=True)
    assert "world-atlas/2.0.2" in present
    for snap in list_snapshots(DATA / "snapshots"):
        if snap.present():
            assert snap.meta["sha256"] == present[snap.key]
            assert snap.path.stat().st_size < 10_000_000 or snap.meta["trimmed"], f"{snap.key}: large and untrimmed"
        else:
            assert not snap.meta.get("committed"), f"{snap.key}: a committed file is missing"


def test_a_changed_file_is_named_with_both_digests(tmp_path):
    root = tmp_path / "snapshots"
    shutil.copytree(FIXTURES, root)
    snap = load_snapshot("wb_class/FY2099", root)
    snap.path.write_bytes(snap.path.read_bytes().replace(b"IDA", b"IBRD"))
    with pytest.raises(DataError, match=r"CLASS\.csv: SHA-256 is [0-9a-f]{64}, but .*snapshot\.json records 340c698d"):
        verify_snapshots(root)
    snap.path.unlink()
    with pytest.raises(DataError, match=r"CLASS\.csv: the file named in .* is not in the local store; fetch it"):
        verify_snapshots(root)
    assert "wb_class/FY2099" not in verify_snapshots(root, only_present=True)


def test_a_record_is_checked_against_the_schema(tmp_path):
    root = tmp_path / "snapshots"
    shutil.copytree(FIXTURES, root)
    record = root / "wdi" / "2099-01-01.BM.TRF.PWKR.CD.DT" / "snapshot.json"
    meta = json.loads(record.read_text(encoding="utf-8"))
    del meta["licence"]
    record.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(DataError, match=r"snapshot\.json, field \(record\): 'licence' is a required property"):
        list_snapshots(root)
    meta["licence"], meta["sha256"] = {"name": "x", "url": "https://x"}, "abc"
    record.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(DataError, match=r"field sha256: 'abc' does not match"):
        list_snapshots(root)
    with pytest.raises(DataError, match=r'snapshot "wdi/none" is not .*Valid: undesa/ims_fixture'):
        load_snapshot("wdi/none", FIXTURES)


def test_write_snapshot_records_the_digest_and_never_overwrites(tmp_path):
    meta = json.loads((FIXTURES / "wb_class" / "FY2099" / "snapshot.json").read_text(encoding="utf-8"))
    del meta["sha256"]
    snap = write_snapshot("wb_class", "FY2099", b"Economy,Code,Region,Income group,Lending category\n", meta, tmp_path)
    assert snap.read_bytes().startswith(b"Economy,Code") and len(snap.meta["sha256"]) == 64
    with pytest.raises(DataError, match=r"a snapshot of wb_class/FY2099 with other bytes exists"):
        write_snapshot("wb_class", "FY2099", b"other", meta, tmp_path)
    with pytest.raises(DataError, match=r"field url: 'ftp://x' does not match"):
        write_snapshot("wb_class", "FY2100", b"x", meta | {"url": "ftp://x"}, tmp_path)
    assert not (tmp_path / "wb_class" / "FY2100").exists()  # nothing written for an invalid record
    with pytest.raises(DataError, match=r'snapshot release "\.\./x" must be'):
        write_snapshot("wb_class", "../x", b"x", meta, tmp_path)


def test_build_is_deterministic_and_rows_name_their_location(tmp_path):
    first = derive.build_derived(tmp_path / "a", FIXTURES)
    second = derive.build_derived(tmp_path / "b", FIXTURES)
    assert [p.name for p in first] == ["figures.csv", "sources.csv", "editions.csv", "classification.csv"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    rows = _rows(first[0])
    sources = {r["source_id"]: r for r in _rows(first[1])}
    assert {sources[r["source_id"]]["snapshot"] for r in rows} == set(FIXTURE_KEYS) - {"wb_class/FY2099"}
    # read independently from the fixture: the USA row with origin WORLD, 2020 column of the males group
    table = list(csv.reader((FIXTURES / "undesa/ims_fixture/undesa_ims_destination_origin_fixture.csv").open()))
    usa = next(r for r in table if r[:1] == ["3"])
    assert usa[11] == "24 000 000"
    got = {(r["indicator"], r["geography"], r["year"], r["sex"]): r for r in rows}
    assert got["migrant_stock", "USA", "2020", "male"]["value"] == "24000000"
    assert got["migrant_stock", "USA", "2020", "male"]["location"].startswith("line 9, column 12 (2020, male)")
    assert got["emigrant_stock", "NPL", "2024", "female"]["value"] == "700000"
    assert ("emigrant_stock", "WLD", "1990", "total") not in got  # WORLD × WORLD is the destination total
    assert sources[got["remittances_paid_usd", "NPL", "2023", "total"]["source_id"]]["edition_id"] == "wdi_fixture"
    assert got["remittances_received_usd", "PHL", "2023", "total"]["value"] == "36000000000.25"
    # line 6 of the fixture CSV (four preamble lines, the header, then NPL), the column headed 2021
    assert got["remittances_received_pct_gdp", "NPL", "2021", "total"]["location"] == "L6:2021"
    indicators = {r["indicator"] for r in _rows(DATA / "indicators.csv")}
    assert {r["indicator"] for r in rows} <= indicators
    classes = {r["code"]: r for r in _rows(first[3])}
    assert sorted(classes) == ["NPL", "PHL", "USA"]  # the aggregates WLD and LIC are not economies
    assert classes["NPL"]["income_group"] == "Lower middle income" and classes["NPL"]["fiscal_year"] == "FY2099"
    editions = {r["edition_id"]: r for r in _rows(first[2])}
    assert editions["wdi_fixture"]["released"] == "2099-01-01" and sorted(editions) == [
        "undesa_ims_fixture",
        "wdi_fixture",
    ]


def test_malformed_migrant_stock_cell_names_line_and_column(tmp_path):
    root = tmp_path / "snapshots"
    shutil.copytree(FIXTURES, root)
    snap = load_snapshot("undesa/ims_fixture", root)
    blob = snap.read_bytes().replace(b"50 600 000", b"50.6 m")
    meta = {k: v for k, v in snap.meta.items() if k != "sha256"}
    shutil.rmtree(snap.folder)
    write_snapshot("undesa", "ims_fixture", blob, meta, root)
    with pytest.raises(DataError, match=r'line 9, column "2020": "50.6m" is not a number'):
        derive.build_derived(tmp_path / "out", root)


def test_data_build_command_writes_and_rebuilds_the_same_bytes(data_copy):
    """The command on a data package whose only snapshots are the fixtures: writes, then rebuilds the same bytes.
    (The real package's derived tables are rebuilt from the publishers' files in test_derived.py.)"""
    shutil.rmtree(data_copy / "snapshots")
    shutil.copytree(FIXTURES, data_copy / "snapshots", ignore=shutil.ignore_patterns("*.py"))
    shutil.copy(DATA / "snapshots" / "snapshot.schema.json", data_copy / "snapshots")
    env = {"PYTHONPATH": str(REPO / "src"), "LEFTBEHIND_DATA_DIR": str(data_copy), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "leftbehind", "data", "build"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert "wdi/2099-01-01.BX.TRF.PWKR.CD.DT: sha256 8eda54ce" in out and "wrote" in out
    built = {p.name: p.read_bytes() for p in (data_copy / "derived").glob("*.csv")}
    assert sorted(built) == ["classification.csv", "editions.csv", "figures.csv", "sources.csv"]
    assert not (data_copy / "derived" / "corridors.csv").exists()  # no origin × destination table: removed
    subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert {p.name: p.read_bytes() for p in (data_copy / "derived").glob("*.csv")} == built


def test_classification_absent_says_so(data_copy):
    """issue 13 item 7: without the World Bank's file the API says what is missing and how to add it."""
    (data_copy / "derived" / "classification.csv").unlink()
    with pytest.raises(DataError, match=r"World Bank classification is not in the data package yet"):
        data.classification("NPL")
    with pytest.raises(DataError, match=r"wb_class snapshot, or .* wdi_metadata_country snapshot .* data build"):
        data.countries(income_group="Low income")
    assert "NPL" in data.countries()  # without the filters, as before


def test_classification_and_filtered_countries(data_copy):
    derive.build_derived(data_copy / "derived", FIXTURES)
    assert data.classification("NPL") == {
        "code": "NPL",
        "economy": "Nepal",
        "region": "South Asia",
        "income_group": "Lower middle income",
        "lending_category": "IDA",
        "fiscal_year": "FY2099",
        "snapshot": "wb_class/FY2099",
        "location": "line 2",
    }
    everyone = data.countries(with_figures=False)
    assert data.countries(with_figures=False, income_group="Lower middle income") == ["NPL", "PHL"]
    assert data.countries(with_figures=False, region="North America", income_group="High income") == ["USA"]
    assert "USA" in everyone and len(everyone) > 200
    with pytest.raises(ParameterError, match=r'income_group "Lower-middle" is not an income group\. Did you mean'):
        data.countries(income_group="Lower-middle")
    with pytest.raises(DataError, match=r'"AFG" is not an economy in the World Bank classification'):
        data.classification("AFG")
    with pytest.raises(ParameterError, match=r"XXX"):
        data.classification("XXX")


def test_table_is_one_row_per_country_and_ranking_reuses_it():
    wide = data.table("remittances_received_usd", 2020)
    assert wide["geography"].is_unique and list(wide["geography"]) == sorted(wide["geography"])
    assert set(wide["unit"]) == {"USD"} and "LMY" not in set(wide["geography"]) and "WLD" not in set(wide["geography"])
    # computed independently from the long table: the latest edition's value for Nepal in 2020
    npl = data.figures("remittances_received_usd", geography="NPL", year=2020)
    assert wide.set_index("geography").loc["NPL", "value"] == npl["value"].iloc[0]
    ranked = data.ranking("remittances_received_usd", 2020)
    assert sorted(ranked["geography"]) == list(wide["geography"])
    assert set(ranked["unit"]) == {"USD billion"}
    assert data.table("remittances_received_usd", 1950).empty


BOUNDARIES = "world-atlas/2.0.2"


def test_boundaries_snapshot_is_committed_and_verified(tmp_path):
    """The map boundaries are committed (never fetched) and checked against their record before a map is drawn."""
    snap = load_snapshot(BOUNDARIES, DATA / "snapshots")
    assert snap.meta["committed"] and snap.meta["format"] == "topojson"
    assert snap.meta["licence"]["name"].startswith("Public domain")
    assert snap.meta["read_at"]["path"] == "package/countries-50m.json"
    blob = snap.path.read_bytes()
    assert hashlib.sha256(blob).hexdigest() == snap.meta["sha256"] and len(blob) == snap.meta["size"]  # recomputed
    root = tmp_path / "snapshots"
    shutil.copytree(DATA / "snapshots" / "world-atlas", root / "world-atlas")
    topo = root / BOUNDARIES / "countries-50m.json"
    topo.write_bytes(topo.read_bytes().replace(b"Kosovo", b"Kosova"))
    with pytest.raises(DataError, match=r"countries-50m\.json: SHA-256 is [0-9a-f]{64}, but .* records 04342cdc"):
        verify_snapshots(root)
    topo.unlink()
    with pytest.raises(
        DataError, match=r"countries-50m\.json: the file named in .* is missing; it is committed with the package"
    ):
        load_snapshot(BOUNDARIES, root).read_bytes()


def test_write_snapshot_with_parts(tmp_path):
    """A file in several parts (a shapefile's .shp, .dbf…): every part recorded with its SHA-256, and checked."""
    meta = json.loads((FIXTURES / "wb_class" / "FY2099" / "snapshot.json").read_text(encoding="utf-8"))
    del meta["sha256"]
    meta |= {"file": "a.shp", "format": "shapefile", "parser": "naturalearth_admin0"}
    snap = write_snapshot("ne", "x", b"shp", meta, tmp_path, parts={"a.dbf": b"dbf"})
    assert snap.meta["parts"] == {"a.dbf": hashlib.sha256(b"dbf").hexdigest()}
    assert (tmp_path / "ne" / "x" / "a.dbf").read_bytes() == b"dbf" and verify_snapshots(tmp_path)
    (tmp_path / "ne" / "x" / "a.dbf").write_bytes(b"changed")
    with pytest.raises(DataError, match=r"a\.dbf: SHA-256 is [0-9a-f]{64}, but .* records"):
        verify_snapshots(tmp_path)
    with pytest.raises(DataError, match=r"a snapshot of ne/x with other bytes exists"):
        write_snapshot("ne", "x", b"shp", meta, tmp_path, parts={"a.dbf": b"other"})
    with pytest.raises(DataError, match=r'snapshot part "\.\." must be'):
        write_snapshot("ne", "y", b"shp", meta, tmp_path, parts={"..": b"x"})


def test_boundaries_give_no_figures(tmp_path):
    """The boundary snapshot is read by the maps; deriving figures skips it (no derived file from it alone)."""
    root = tmp_path / "snapshots"
    shutil.copytree(DATA / "snapshots" / "world-atlas", root / "world-atlas")
    assert derive.build_derived(tmp_path / "out", root) == []


def test_the_fast_check_and_jsonschema_agree_on_valid_and_broken_records():
    """Records are checked by fastjsonschema first (jsonschema's import alone takes 1.5 s) and by jsonschema when
    that fails: both must agree on what is valid. Every fixture and real record, and for each field of each:
    removed, emptied, of another type, null; plus an unknown field and a lowercase-only hex digest broken."""
    import fastjsonschema

    from leftbehind.data import snapshots

    fast, slow = snapshots._fast_validator(), snapshots._validator()

    def fast_ok(record: object) -> bool:
        try:
            fast(copy.deepcopy(record))
            return True
        except fastjsonschema.JsonSchemaException:
            return False

    records = [s.meta for s in list_snapshots(FIXTURES) + list_snapshots(DATA / "snapshots")]
    assert records
    variants = []
    for meta in records:
        variants.append(meta)
        variants.append({**meta, "unknown_field": 1})
        variants.append({**meta, "sha256": meta["sha256"].upper()})
        for key, value in meta.items():
            variants.append({k: v for k, v in meta.items() if k != key})
            variants.append({**meta, key: None})
            variants.append({**meta, key: "" if not isinstance(value, str) else 7})
            if isinstance(value, str):
                variants.append({**meta, key: ""})
                variants.append({**meta, key: value + " trailing"})
            if isinstance(value, dict):
                variants.append({**meta, key: {**value, "extra": "x"}})
                variants.extend({**meta, key: {k: v for k, v in value.items() if k != inner}} for inner in value)
    verdicts = [(fast_ok(v), slow.is_valid(v)) for v in variants]
    assert [i for i, (a, b) in enumerate(verdicts) if a != b] == []
    assert sum(1 for a, _ in verdicts if a) >= len(records) and sum(1 for a, _ in verdicts if not a) > 50
