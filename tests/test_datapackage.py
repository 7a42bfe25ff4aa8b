"""The cited data package: Frictionless validity, sources that resolve, editions kept, clear errors on bad rows."""

from __future__ import annotations

import csv
import re

import frictionless
import pytest

from conftest import DATA
from leftbehind import data
from leftbehind.country import PROFILE_COUNTRIES
from leftbehind.errors import DataError, ParameterError

LABOUR_SENDING = PROFILE_COUNTRIES  # the labour-sending countries the collection profiles


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_frictionless_validates_the_package():
    report = frictionless.validate(str(DATA / "datapackage.json"))
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:10]


def test_leftbehind_validation_agrees():
    counts = data.validate_package()
    assert counts["figures"] == len(_rows("figures.csv"))


def test_every_figure_resolves_to_a_citable_source():
    sources = {r["source_id"]: r for r in _rows("sources.csv")}
    editions = {r["edition_id"] for r in _rows("editions.csv")}
    for i, f in enumerate(_rows("figures.csv"), start=1):
        s = sources.get(f["source_id"])
        assert s is not None, f"row {i}: unknown source {f['source_id']}"
        assert s["url"].startswith("http") or s["doi"], f"row {i}: source without URL or DOI"
        assert s["table_or_page"].strip(), f"row {i}: source without table/page"
        assert s["edition_id"] == f["edition_id"] and s["edition_id"] in editions
        assert f["quote"].strip(), f"row {i}: no quote"


def test_coverage_required_by_the_collection():
    figs = _rows("figures.csv")
    assert len(figs) >= 250
    # every ILO edition's world total and sex split
    for n in "1234":
        ed = f"ilo_ge_{n}"
        sexes = {
            f["sex"]
            for f in figs
            if f["indicator"] == "migrant_workers" and f["geography"] == "WLD" and f["edition_id"] == ed
        }
        assert sexes == {"total", "female", "male"}, ed
    # UN DESA world totals 1990-2020 every five years (some revision)
    years = {
        int(f["year"])
        for f in figs
        if f["indicator"] == "migrant_stock" and f["geography"] == "WLD" and f["sex"] == "total"
    }
    assert set(range(1990, 2021, 5)) <= years
    # low- and middle-income remittance totals for at least eight years
    lmy = {f["year"] for f in figs if f["indicator"] == "remittances_received_usd" and f["geography"] == "LMY"}
    assert len(lmy) >= 8
    # every labour-sending country: at least three years of remittances in USD and in % of GDP
    for code in LABOUR_SENDING:
        for ind in ("remittances_received_usd", "remittances_received_pct_gdp"):
            n = len({f["year"] for f in figs if f["indicator"] == ind and f["geography"] == code})
            assert n >= 3, (code, ind, n)


def _published(f: dict[str, str]) -> str:
    """The value as its quote prints it: in ``published_unit`` when the row is stored in another base unit."""
    from decimal import Decimal

    if not f["published_unit"]:
        return f["value"]
    from leftbehind.data.figures import _UNIT_FACTORS

    factor = Decimal(repr(_UNIT_FACTORS[f["published_unit"]][1])) / Decimal(repr(_UNIT_FACTORS[f["unit"]][1]))
    return format((Decimal(f["value"]) / factor).normalize(), "f")


def test_quotes_contain_the_published_numbers():
    """Each value must be findable in its quote (as printed: with or without thousands separators), in the unit
    the quote uses (published_unit) when it is stored in the indicator's base unit."""
    missing = []
    for i, f in enumerate(_rows("figures.csv"), start=1):
        value = _published(f)
        digits = re.sub(r"[,\s\u202f\u00a0]", "", f["quote"])
        candidates = {value, value.rstrip("0").rstrip(".") if "." in value else value}
        if not any(c in digits or c in f["quote"] for c in candidates):
            missing.append((i, f["source_id"], value))
    assert not missing, missing[:10]


def test_one_unit_per_indicator_from_the_descriptor(data_copy):
    """issue 13 item 4: every figure in its indicator's base unit; a row in another unit is named."""
    base = {r["indicator"]: r["base_unit"] for r in _rows("indicators.csv")}
    for i, f in enumerate(_rows("figures.csv"), start=1):
        assert f["unit"] == base[f["indicator"]], (i, f["indicator"], f["unit"])
        assert f["published_unit"] != f["unit"]
    # the conversion is reproducible: rebasing the committed file changes nothing
    from leftbehind.data.build import rebase_figures

    before = (data_copy / "figures.csv").read_bytes()
    rebase_figures()
    assert (data_copy / "figures.csv").read_bytes() == before
    # a row published in USD billion is stored in USD, exactly, with its published unit kept
    text = before.decode("utf-8").replace(",534000000000,USD,USD billion,", ",534.1,USD billion,,", 1)
    (data_copy / "figures.csv").write_text(text, encoding="utf-8")
    with pytest.raises(
        DataError, match=r'row 169, field "unit": "USD billion" is not the base unit of fdi_inflows_usd'
    ):
        data.validate_package()
    rebase_figures()
    assert ",534100000000,USD,USD billion," in (data_copy / "figures.csv").read_text(encoding="utf-8")
    assert data.figures("fdi_inflows_usd", geography="LMY", year=2019)["value"].tolist() == [534.1e9]


def _world_2020() -> list[dict[str, str]]:
    """Every row of migrant_stock, WLD, 2020, both sexes, read from the CSVs: the hand-verified rows and the
    derived ones (with their source's edition); a derived row replaces a hand row of its edition."""
    hand = [
        f
        for f in _rows("figures.csv")
        if f["indicator"] == "migrant_stock" and f["geography"] == "WLD" and f["year"] == "2020" and f["sex"] == "total"
    ]
    editions = {r["source_id"]: r["edition_id"] for r in _rows("derived/sources.csv")}
    derived = [
        dict(f, edition_id=editions[f["source_id"]])
        for f in _rows("derived/figures.csv")
        if f["indicator"] == "migrant_stock" and f["geography"] == "WLD" and f["year"] == "2020" and f["sex"] == "total"
    ]
    shadowed = {f["edition_id"] for f in derived}
    return [f for f in hand if f["edition_id"] not in shadowed] + derived


def test_latest_and_all_editions():
    latest = data.figures("migrant_stock", geography="WLD", year=2020)
    assert len(latest) == 1
    every = data.figures("migrant_stock", geography="WLD", year=2020, edition="all")
    assert len(every) >= 2
    # computed independently from the CSVs: the edition with the latest release among those publishing the value
    released = {r["edition_id"]: r["released"] for r in _rows("editions.csv") + _rows("derived/editions.csv")}
    rows = _world_2020()
    newest = max(rows, key=lambda f: released[f["edition_id"]])
    assert latest.loc[0, "edition_id"] == newest["edition_id"]
    assert latest.loc[0, "value"] == float(newest["value"])
    assert sorted(every["edition_id"]) == sorted(f["edition_id"] for f in rows)
    one = data.figures("migrant_stock", geography="WLD", year=2020, edition=rows[0]["edition_id"])
    assert one["value"].tolist() == [float(rows[0]["value"])]


def test_unit_conversion():
    usd = data.figures(
        "remittances_received_usd", geography="NPL", year=2020, series="World Bank World Development Indicators"
    )
    billions = data.figures(
        "remittances_received_usd",
        geography="NPL",
        year=2020,
        series="World Bank World Development Indicators",
        unit="USD billion",
    )
    assert billions.loc[0, "value"] == pytest.approx(usd.loc[0, "value"] / 1e9)
    with pytest.raises(ParameterError, match='cannot convert "USD" to "percent"'):
        data.figures("remittances_received_usd", geography="NPL", year=2020, unit="percent")


def test_unknown_choices_are_parameter_errors():
    with pytest.raises(ParameterError, match=r'indicator "migrant_stocks" is not .*Did you mean "migrant_stock"\?'):
        data.figures("migrant_stocks")
    with pytest.raises(ParameterError, match=r'edition "ilo_ge_9" .*Valid: latest, all, ilo_ge_1'):
        data.figures("migrant_workers", edition="ilo_ge_9")
    with pytest.raises(ParameterError, match="first year 2020 is after the last year 2010"):
        data.figures("migrant_stock", years=(2020, 2010))


def _write_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerows(rows)


def _read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_corrupt_value_unknown_source_and_duplicate_key(data_copy):
    path = data_copy / "figures.csv"
    original = _read(path)
    header = original[0]

    rows = [r[:] for r in original]
    rows[10][header.index("value")] = "n/a"
    _write_rows(path, rows)
    with pytest.raises(DataError, match=r'^data/figures.csv, row 10, field "value": "n/a" is not a number$'):
        data.load("figures")

    rows = [r[:] for r in original]
    rows[20][header.index("source_id")] = "wdi_not_a_source"
    _write_rows(path, rows)
    with pytest.raises(
        DataError,
        match=r'^data/figures.csv, row 20, field "source_id": "wdi_not_a_source" is not a source_id in sources.csv',
    ):
        data.load("figures")

    rows = [r[:] for r in original]
    rows.insert(31, rows[30][:])  # the same key and edition twice
    _write_rows(path, rows)
    with pytest.raises(
        DataError,
        match=r'^data/figures.csv, row 31, field "indicator\+geography\+year\+sex\+edition_id": duplicate key .* first seen in row 30',
    ):
        data.load("figures")


def test_edition_of_figure_must_match_its_source(data_copy):
    path = data_copy / "figures.csv"
    rows = _read(path)
    col = rows[0].index("edition_id")
    other = next(e for e in ("ilo_ge_1", "ilo_ge_2") if e != rows[5][col])
    rows[5][col] = other
    _write_rows(path, rows)
    with pytest.raises(
        DataError, match=r'data/figures.csv, row 5, field "edition_id": .* is not the edition of source'
    ):
        data.validate_package()


def test_geographies_are_derived_not_hand_edited(data_copy):
    before = (data_copy / "geographies.csv").read_text(encoding="utf-8")
    data.build_geographies()
    assert (data_copy / "geographies.csv").read_text(encoding="utf-8") == before


def test_citation_names_publisher_edition_and_address():
    text = data.cite("wdi_bx_trf_pwkr_cd_dt_20250701")
    assert text.startswith("World Bank (2025). ") and "https://data.worldbank.org/indicator/BX.TRF.PWKR.CD.DT" in text
    assert "World Development Indicators, release of 2025-07-01" in text


def test_audit_findings_are_documented():
    """issue 13 item 5: editorial marks in quotes are the documented ones; news-report values are not the default."""
    note = (DATA / "VERIFICATION.md").read_text(encoding="utf-8")
    marks = {m for f in _rows("figures.csv") for m in re.findall(r"\[[a-z ]+\]", f["quote"])}
    assert marks <= {"[next line]"}, marks
    assert all(f"`{m}`" in note for m in marks)
    for source in ("wbmdb_mdb34_it", "wbmdb_mdb38_iasbook"):
        assert f"`{source}`" in note
    # where the World Bank's own figure is in the package, the default (latest edition) is that one, derived
    # from the World Bank's file
    phl = data.figures("remittances_received_usd", geography="PHL", year=2020)
    assert phl["source_id"].tolist() == ["wdi_20250701_bx_trf_pwkr_cd_dt"]
    # China too, now that the WDI file covers every economy; the note gives the WDI values it shows by default
    chn = data.figures("remittances_received_usd", geography="CHN").query("year in (2019, 2020)")
    assert chn["source_id"].tolist() == ["wdi_20250701_bx_trf_pwkr_cd_dt"] * 2
    assert all(f"{value:,.0f} USD for {year}" in note for year, value in zip(chn["year"], chn["value"]))


def test_verification_says_which_2024_aggregates_were_read_in_reports():
    """The 2024 revision's regional stocks are not derived from the store: the note counts those read in reports."""
    note = (DATA / "VERIFICATION.md").read_text(encoding="utf-8")
    stock = data.figures("migrant_stock", year=2024)
    regional = stock[~stock["geography"].isin(set(data.countries()) | {"WLD"})]
    assert len(regional) and not regional["note"].fillna("").str.startswith("derived by code").any()
    assert f"figures in the package ({len(regional)} of them) were read in reports" in note
    world = stock[stock["geography"] == "WLD"]
    assert world["note"].iloc[0].startswith("derived by code")


def test_verification_states_the_odd_corridors_kept_as_published():
    """VERIFICATION.md names corridors of UN DESA's 2024 table that look odd but are the publisher's: the values
    it gives are the package's (a new release that changes them makes this fail, and the note is read again)."""
    note = " ".join((DATA / "VERIFICATION.md").read_text(encoding="utf-8").split())
    guinea = data.corridors(destination="GIN", year=2024).set_index("origin")["persons"]
    assert f"lists in Guinea {guinea['TON']:,.0f} persons born in Tonga in 2024" in note
    tonga_2020 = data.corridors(origin="TON", destination="GIN", year=2020)["persons"].iloc[0]
    assert f"({tonga_2020:,.0f} in 2020, same revision)" in note
    assert (
        f"{guinea['ATG']:,.0f} born in Antigua and Barbuda and {guinea['GNQ']:,.0f} born in Equatorial Guinea" in note
    )
    usa = data.corridors(destination="USA", year=2024)
    other = usa.loc[usa["origin"] == "OOO", "persons"].iloc[0]
    assert "TON" not in set(usa["origin"])
    assert f'its {len(usa) - 1} listed origins leave {other:,.0f} persons under "Other or unknown"' in note
