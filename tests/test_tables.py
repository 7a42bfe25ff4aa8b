"""Tables for readers (issue 27 item 1) and units for reading (item 3): one helper shows every table, and one rule
chooses thousand or million persons, USD million or billion, in text, axes, legends and tables alike."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from leftbehind import country, data, literature, plots, world
from leftbehind.data.units import reading_unit, scaled
from leftbehind.plots.maps import legend_edges
from leftbehind.plots.tables import column_label, words


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)]


def test_a_table_has_no_index_labels_in_words_and_fixed_decimals():
    frame = pd.DataFrame(
        {"n_left_behind": [1234567, 12], "estimate": [0.123456, 2.0], "year": [2024, 2019]},
        index=pd.Index([7, 3]),  # an unnamed index: dropped
    )
    t = plots.table(frame, decimals={"estimate": 2})
    assert t.labels == ("Left-behind children", "Estimate", "Year")  # the descriptor's title; a computed label
    assert t.cells == (("1,234,567", "0.12", "2024"), ("12", "2.00", "2019"))  # no separator in a year
    html = t.to_html()
    assert _cells(html) == [
        "Left-behind children",
        "Estimate",
        "Year",
        "1,234,567",
        "0.12",
        "2024",
        "12",
        "2.00",
        "2019",
    ]
    assert "7" not in _cells(html) and "row_heading" not in html and "index_name" not in html
    # a named index is a column, labelled in words
    named = plots.table(pd.DataFrame({"countries": [3]}, index=pd.Index(["Africa"], name="region")))
    assert named.labels == ("Region", "Countries") and named.cells == (("Africa", "3"),)


def test_missing_values_are_a_dash_with_the_reason_in_a_note():
    frame = pd.DataFrame(
        {
            "name": ["A", None],
            "women_share": [48.71, float("nan")],
            "n": pd.array([1, None], dtype="Int64"),
            "x": [pd.NA, 1.5],
        }
    )
    t = plots.table(frame, reasons={"women_share": "no count by sex"}, decimals={"women_share": 1})
    text = str(t) + t.to_html() + t.to_markdown()
    for bad in ("NaN", "nan", "<NA>", "None"):
        assert bad not in text
    assert t.cells[1][:3] == ("–", "–", "–") and t.cells[0][1] == "48.7"
    assert t.notes == ("– Women (%): no count by sex.",)
    assert plots.table(frame.dropna(subset=["women_share"]), reasons={"women_share": "x"}).notes == ()


def test_long_text_is_whole_and_wrapped_numbers_right_aligned():
    long = "a verdict that goes on " * 12
    t = plots.table(pd.DataFrame({"verdict": [long], "k": [3]}))
    html = t.to_html()
    assert " ".join(long.split()) in html and "…" not in html and "..." not in html
    css = dict(re.findall(r"#T_\w+ +(td\.col\d) \{([^}]*)\}", html))
    assert "text-align: left" in css["td.col0"] and "white-space: normal" in css["td.col0"]
    assert "text-align: right" in css["td.col1"]


def test_long_headings_of_number_columns_may_wrap_their_numbers_never():
    """The corridors report's table of regions (nine columns headed by region names) ran off the page: each
    number column's heading was kept on one line."""
    regions = ["Middle East, North Africa, Afghanistan & Pakistan", "Latin America & Caribbean", "Sub-Saharan Africa"]
    t = plots.table(pd.DataFrame({"origin": ["South Asia"], **{r: [16.0] for r in regions}}))
    css = dict(re.findall(r"#T_\w+ +(t[dh]\.col\d) \{([^}]*)\}", t.to_html()))
    for i in range(1, 4):
        assert "white-space: nowrap" in css[f"td.col{i}"] and "text-align: right" in css[f"td.col{i}"]
        assert "white-space: normal" in css[f"th.col{i}"] and "text-align: right" in css[f"th.col{i}"]


def test_html_is_byte_identical_and_plain_text_has_no_address():
    frame = pd.DataFrame({"country": ["Nepal"], "value": [1.5]})
    first, second = plots.table(frame).to_html(), plots.table(frame.copy()).to_html()
    assert first == second
    other = plots.table(frame.assign(value=[2.5])).to_html()
    assert re.search(r'id="(T_\w+)"', first).group(1) != re.search(r'id="(T_\w+)"', other).group(1)
    t = plots.table(frame)
    assert repr(t) == str(t) == "Country  Value\nNepal     1.50" and " at 0x" not in repr(t)


def test_data_strings_are_escaped():
    t = plots.table(pd.DataFrame({"name": ["<script>x</script>"]}), caption="<b>c</b>", source="Source: <i>")
    html = t.to_html()
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;c&lt;/b&gt;" in html


def test_ids_are_shown_as_words():
    frame = pd.DataFrame(
        {"outcome": ["suicidal_ideation"], "study_id": ["wickramage2015"], "countries": ["NPL;LKA"]},
    )
    t = plots.table(frame)
    assert t.cells == (("Suicidal ideation and self-harm", "Wickramage et al. 2015", "Nepal; Sri Lanka"),)
    assert plots.table(frame, ids=True).cells[0][0] == "suicidal_ideation"
    names = literature.outcomes().set_index("outcome")["name"]
    assert words("outcome", pd.Series(list(names.index))).tolist() == names.tolist()
    assert column_label("no_such_column") == "No such column"


def test_every_study_label_is_words():
    """A short citation is an author and a year, or the short title where no author was read: never the record's
    id, a placeholder in brackets or a title cut with an ellipsis."""
    for sid in data.load("studies")["study_id"]:
        label = literature.cite(sid)
        assert sid not in label and "[" not in label and "…" not in label and "not verified" not in label, label


def test_one_unit_rule_for_text_axes_legends_and_tables():
    # 38,900 persons: thousand persons everywhere
    assert reading_unit(38_900, "persons") == ("thousand persons", 1e3)
    assert country.sentences.fmt_value(0.0389, "million persons") == "38.9 thousand"
    edges, unit = legend_edges([0.0389, 0.0771, 12.0], "million persons")
    assert unit == "thousand persons" and edges[:2] == [38.9, 77.1]
    fig = plots.choropleth(
        pd.Series({"NPL": 0.0389, "IND": 0.0771, "MEX": 12.0}), "t", "million persons", "Source: t", bins=2
    )
    legend = fig.axes[0].get_legend()
    assert legend.get_title().get_text() == "thousand persons"
    assert [x.get_text() for x in legend.get_texts()][0].startswith("38.9 to under")
    plt.close(fig)
    fig = plots.timeseries(
        pd.DataFrame({"year": [2020, 2021], "value": [8.1e9, 9.0e9], "unit": "USD", "label": "A"}), "t", "Source: t"
    )
    assert fig.axes[0].get_ylabel() == "USD billion" and max(fig.axes[0].get_lines()[0].get_ydata()) == 9.0
    plt.close(fig)
    assert scaled([0.2, 25.3], "USD billion")[1] == "USD billion"
    assert country.sentences.fmt_value(0.2, "USD billion") == "USD 200 million"


def test_world_tables_read_in_the_unit_of_their_values():
    g = world.glance("emigrant_stock")
    bottom = world.ranking_table(g.frame.tail(10), g.unit)
    smallest = g.frame.tail(10)["value"].min() * 1e6
    assert bottom.labels[2] in ("Persons", "Thousand persons") and "0.0" not in "".join(c[2] for c in bottom.cells)
    assert f"{smallest:,.0f}" in [c[2] for c in bottom.cells] or bottom.labels[2] == "Thousand persons"
    groups = world.group_table(g, "region")
    assert groups.labels[0] == "UN region" and groups.notes == (world.group_caption("region"),)


def test_profile_and_corridor_tables():
    t = country.destinations_table(country.destinations("MEX", n=3))
    assert t.labels == ("Country", "Persons", "Share (%)", "Women (%)") and t.cells[0][0] == "United States"
    from leftbehind.world import corridors as corr

    grown = corr.corridors_table(corr.fastest_growing(2000, 2024, n=20), growth=True)
    missing = [row for row in grown.cells if row[-1] == "–"]
    assert missing and any("no percentage of growth" in n for n in grown.notes)


def test_every_notebook_shows_its_tables_through_the_helper():
    """No notebook displays a DataFrame raw, prints one as text or builds a Markdown table: every table goes
    through plots.show_table / plots.table (or a package function returning a Table)."""
    import json
    from pathlib import Path

    raw = re.compile(r"display\(\s*[A-Za-z_][\w.]*\s*[)\[]|\.to_string\(|for_reading\(|\.to_html\(")
    markdown_tables = re.compile(r"(ranking|corridors|region_pairs)_markdown\(|Markdown\([^)]*_table\(")
    for path in sorted((Path(__file__).parent.parent / "notebooks").glob("0*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert not raw.search(source), f"{path.name}: a table shown without plots.table:\n{source}"
                assert not markdown_tables.search(source), f"{path.name}: a Markdown table:\n{source}"


def test_a_field_name_has_one_title_in_every_resource(data_copy):
    import json

    from leftbehind.data.checks import check_field_titles
    from leftbehind.errors import DataError

    check_field_titles()
    path = data_copy / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    reviews = next(r for r in descriptor["resources"] if r["name"] == "reviews")
    next(f for f in reviews["schema"]["fields"] if f["name"] == "year")["title"] = "Publication year"
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r'resource "reviews", field "year": title "Publication year" differs from "Year"'
    ):
        check_field_titles()
