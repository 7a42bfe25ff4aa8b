"""WDI refresh: the parser on the publisher's exact format, new editions added, nothing changed on failure."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from leftbehind import data
from leftbehind.data.derive import build_derived
from leftbehind.data.snapshots import load_snapshot, verify_snapshots
from leftbehind.errors import DataError
from leftbehind.refresh import wdi

FIXTURE = Path(__file__).parent / "fixtures" / "wdi_API_BX.TRF.PWKR.CD.DT_head.csv"
FIXTURES = Path(__file__).parent / "fixtures" / "snapshots"


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("API_BX.TRF.PWKR.CD.DT_DS2_en_csv_v2_38454.csv", text)
        z.writestr("Metadata_Indicator_API_BX.TRF.PWKR.CD.DT_DS2_en_csv_v2_38454.csv", "x")
    return buf.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a data package (what a refresh may change)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fixture_package(data_copy: Path) -> Path:
    """A data package whose snapshots are the fixtures (each with its file), its derived tables built from them:
    a refresh rebuilds the derived tables from every snapshot, which needs their files in the store."""
    root = data_copy / "snapshots"
    for folder in [p for p in root.iterdir() if p.is_dir()]:
        shutil.rmtree(folder)
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py"))
    build_derived(data_copy / "derived", root)
    return data_copy


def test_parser_reads_the_publishers_format():
    updated, rows = wdi.parse_bulk_csv(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)
    assert updated == "2025-07-01"
    aruba = rows[rows["code"] == "ABW"].set_index("year")
    # read independently: pair the header's year columns with the Aruba line's cells
    import csv

    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    header, cells = next(csv.reader([lines[4]])), next(csv.reader([lines[5]]))
    expected = {int(h): float(c) for h, c in zip(header, cells) if h.isdigit() and c}
    assert min(expected) == 1991 and expected[1991] == 2569832.325  # '"2569832.325"' is the first non-empty cell
    assert aruba["value"].to_dict() == expected
    assert set(rows["indicator_code"]) == {"BX.TRF.PWKR.CD.DT"}


def test_malformed_files_name_line_and_column():
    text = FIXTURE.read_text(encoding="utf-8").replace('"2569832.325"', '"2,569,832"')
    with pytest.raises(DataError, match=r'x.csv, line 6, column "1991": "2,569,832" is not a number'):
        wdi.parse_bulk_csv(text, "x.csv")
    with pytest.raises(DataError, match=r"x.csv, line 1: expected the WDI preamble"):
        wdi.parse_bulk_csv("Country Name,Country Code\n", "x.csv")


def test_release_already_present_is_skipped(fixture_package):
    text = FIXTURE.read_text(encoding="utf-8").replace("2025-07-01", "2099-01-01")  # the fixtures' release
    import json

    record = fixture_package / "snapshots" / "wdi" / "2099-01-01.BX.TRF.PWKR.CD.DT" / "snapshot.json"
    meta = json.loads(record.read_text(encoding="utf-8"))
    meta["source_id"] = "wdi_20990101_bx_trf_pwkr_cd_dt"  # as a refresh names it
    record.write_text(json.dumps(meta), encoding="utf-8")
    before = _snapshot(fixture_package)
    report = wdi.refresh(["BX.TRF.PWKR.CD.DT"], fetcher=lambda code: _zip(text))
    assert report == ["BX.TRF.PWKR.CD.DT: release 2099-01-01 is already in the data package; skipped"]
    assert _snapshot(fixture_package) == before


def _figure_snapshots() -> dict[str, str]:
    """The verified snapshots of figures (the map boundaries are a snapshot too)."""
    return {key: d for key, d in verify_snapshots(only_present=True).items() if not key.startswith("world-atlas/")}


def test_new_release_becomes_a_new_edition(fixture_package):
    text = FIXTURE.read_text(encoding="utf-8").replace("2025-07-01", "2026-01-15")
    import datetime

    before = _figure_snapshots()
    report = wdi.refresh(["BX.TRF.PWKR.CD.DT"], fetcher=lambda code: _zip(text), today=datetime.date(2026, 2, 1))
    assert report[0].startswith("BX.TRF.PWKR.CD.DT: release 2026-01-15, ")
    eds = data.all_editions().set_index("edition_id")
    assert eds.loc["wdi_2026_01_15", "released"] == "2026-01-15"
    src = data.all_sources().set_index("source_id").loc["wdi_20260115_bx_trf_pwkr_cd_dt"]
    assert src["accessed"].isoformat() == "2026-02-01" and src["read_at"].startswith("https://api.worldbank.org/")
    aruba = data.figures("remittances_received_usd", geography="ABW", year=1991)
    assert aruba.loc[0, "edition_id"] == "wdi_2026_01_15" and aruba.loc[0, "value"] == pytest.approx(2569832.325)
    # the downloaded file is kept as a snapshot with its checksum, and every economy derived from it
    snap = load_snapshot("worldbank-wdi/2026-01-15.BX.TRF.PWKR.CD.DT")
    assert snap.read_bytes() == text.encode("utf-8") and snap.meta["edition_id"] == "wdi_2026_01_15"
    assert _figure_snapshots() == before | {snap.key: hashlib.sha256(text.encode("utf-8")).hexdigest()}
    derived = (fixture_package / "derived" / "figures.csv").read_text(encoding="utf-8")
    assert "remittances_received_usd,ABW,1991,total,2569832.325,wdi_20260115_bx_trf_pwkr_cd_dt,L6:1991\n" in derived


def test_failed_refresh_removes_its_snapshot(fixture_package, monkeypatch):
    text = FIXTURE.read_text(encoding="utf-8").replace("2025-07-01", "2026-01-15")
    before = _snapshot(fixture_package)

    def invalid() -> dict[str, int]:
        raise DataError("planted validation failure")

    monkeypatch.setattr(wdi.data, "validate_package", invalid)
    with pytest.raises(DataError, match="planted validation failure"):
        wdi.refresh(["BX.TRF.PWKR.CD.DT"], fetcher=lambda code: _zip(text))
    assert _snapshot(fixture_package) == before


def test_offline_changes_nothing(fixture_package):
    before = _snapshot(fixture_package)

    def offline(code: str) -> bytes:
        raise DataError(
            f"cannot download {code} from {wdi.API_URL.format(code=code)} (no network); check the network connection. Nothing was changed in data/."
        )

    with pytest.raises(DataError, match="check the network connection. Nothing was changed"):
        wdi.refresh(fetcher=offline)
    assert _snapshot(fixture_package) == before


def test_real_fetch_reports_unreachable_host(monkeypatch):
    monkeypatch.setattr(wdi, "API_URL", "http://127.0.0.1:9/{code}")  # discard port: refused at once
    with pytest.raises(DataError, match=r"cannot download BX.TRF.PWKR.CD.DT from http://127.0.0.1:9/"):
        wdi.fetch("BX.TRF.PWKR.CD.DT", timeout=2)
