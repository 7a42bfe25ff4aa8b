"""leftbehind.data: loading resources with their schema from the descriptor, and clear errors on bad rows."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import DATA, replace_cell
from leftbehind import data
from leftbehind.errors import DataError, ParameterError


def _csv_rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_seed_figures_load_typed_and_complete():
    df = data.load("seed_figures")
    raw = _csv_rows(DATA / "seed_figures.csv")
    assert len(df) == len(raw) == 10
    assert df["value"].dtype == "float64"
    assert str(df["year"].dtype) == "Int64"
    # values read independently with the csv module agree with the typed frame
    assert [float(r["value"]) for r in raw] == df["value"].tolist()


def test_every_seed_figure_is_sourced():
    df = data.load("seed_figures")
    assert df["url"].str.match(r"^https?://").all()
    for column in ("publisher", "page_title", "section", "quote"):
        assert df[column].str.len().gt(0).all(), column
    # the quote contains the number it supports (lower bound for ranges)
    for r in df.itertuples():
        number = f"{r.value:,.0f}" if r.value >= 1000 else f"{r.value:.0f}"
        if r.figure_id == "domestic_workers_women_share":  # IOM writes this one out in words
            assert "Eighty-Three percent" in r.quote
        else:
            assert number in r.quote, (r.figure_id, r.quote)


@pytest.mark.parametrize(
    ("row", "column", "value", "expected"),
    [
        (
            3,
            "value",
            "12,5",
            'data/seed_figures.csv, row 3, field "value": "12,5" is not a number (use a dot as decimal separator)',
        ),
        (2, "value", "many", 'data/seed_figures.csv, row 2, field "value": "many" is not a number'),
        (
            5,
            "topic",
            "remitances",
            'data/seed_figures.csv, row 5, field "topic": "remitances" is not one of the allowed values; did you mean "remittances"?',
        ),
        (1, "label", "", 'data/seed_figures.csv, row 1, field "label": a value is required'),
        (4, "year", "20l1", 'data/seed_figures.csv, row 4, field "year": "20l1" is not a whole number'),
        (6, "value", "-3", 'data/seed_figures.csv, row 6, field "value": -3 is below the minimum 0'),
        (
            7,
            "accessed",
            "25/11/2026",
            'data/seed_figures.csv, row 7, field "accessed": "25/11/2026" is not a date (use YYYY-MM-DD)',
        ),
        (
            8,
            "figure_id",
            "iom_member_states",
            'data/seed_figures.csv, row 8, field "figure_id": duplicate key (figure_id=iom_member_states); first seen in row 7',
        ),
    ],
)
def test_malformed_row_names_file_row_and_field(data_copy, row, column, value, expected):
    replace_cell(data_copy / "seed_figures.csv", row, column, value)
    with pytest.raises(DataError) as info:
        data.load("seed_figures")
    assert str(info.value).startswith(expected), str(info.value)


def test_wrong_header_is_reported(data_copy):
    path = data_copy / "seed_figures.csv"
    text = path.read_text(encoding="utf-8").replace("value_high", "high", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        DataError, match=r"data/seed_figures.csv, header: missing column\(s\): value_high; unexpected column\(s\): high"
    ):
        data.load("seed_figures")


def test_short_row_is_reported(data_copy):
    path = data_copy / "seed_figures.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "broken,row"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"data/seed_figures.csv, row 2: 2 values where the header has 15 columns"):
        data.load("seed_figures")


def test_schema_comes_from_the_descriptor(data_copy):
    """Tighten a constraint in datapackage.json only: loading must enforce it (no second schema in code)."""
    desc_path = data_copy / "datapackage.json"
    desc = json.loads(desc_path.read_text(encoding="utf-8"))
    fields = desc["resources"][0]["schema"]["fields"]
    next(f for f in fields if f["name"] == "value")["constraints"]["maximum"] = 400
    desc_path.write_text(json.dumps(desc), encoding="utf-8")
    with pytest.raises(
        DataError, match=r'row 5, field "value": 440.0? is above the maximum 400|row 5, field "value": 440 is above'
    ):
        data.load("seed_figures")


def test_unknown_resource_suggests_names():
    with pytest.raises(DataError, match=r'no resource "seed_figure" .*Did you mean "seed_figures"\?'):
        data.load("seed_figure")


def test_seed_topic_filter_counts():
    raw = _csv_rows(DATA / "seed_figures.csv")
    for topic in data.SEED_TOPICS:
        assert len(data.seed_figures(topic)) == sum(r["topic"] == topic for r in raw)
    assert len(data.seed_figures("all")) == len(raw)


def test_unknown_topic_is_a_parameter_error():
    with pytest.raises(
        ParameterError,
        match=r'topic "labor_migration" .*Did you mean "labour_migration"\?.*Valid: all, labour_migration',
    ):
        data.seed_figures("labor_migration")


def test_missing_data_dir_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("LEFTBEHIND_DATA_DIR", str(tmp_path))
    from leftbehind import _io

    monkeypatch.setattr(_io, "REPO_ROOT", tmp_path / "x")
    monkeypatch.setattr(_io, "PACKAGE_DIR", tmp_path / "x" / "y")
    with pytest.raises(DataError, match="no data package found"):
        data.data_dir()


def test_a_changed_referenced_table_checks_the_foreign_keys_again(data_copy):
    """A process that loaded figures, then sees sources.csv lose a source that figures cite, must not reuse its
    earlier check of figures' foreign keys (an analyst's long-lived session; report kernels are new each time)."""
    import csv
    import os

    figures = data.load("figures")
    cited = str(figures["source_id"].iloc[0])
    path = data_copy / "sources.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r[0] != cited]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a new version, even on a coarse clock
    with pytest.raises(DataError, match=rf'data/figures.csv, row \d+, field "source_id": "{cited}" is not a source_id'):
        data.load("figures")
