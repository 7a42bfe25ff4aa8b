"""leftbehind.plots: the house style and the headline chart carry units and a source line."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb

from leftbehind import data, plots

# Okabe & Ito (2008), "Color Universal Design", https://jfly.uni-koeln.de/color/ — the eight colours in RGB:
# orange (230,159,0), sky blue (86,180,233), bluish green (0,158,115), yellow (240,228,66), blue (0,114,178),
# vermillion (213,94,0), reddish purple (204,121,167), black (0,0,0).
OKABE_ITO_RGB = {
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (0, 0, 0),
}


def test_style_uses_the_palette():
    plots.use_style()
    cycle = [c.lower() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.lower() for c in plots.PALETTE]
    rgb = {tuple(round(255 * c) for c in to_rgb(h)) for h in plots.PALETTE}
    assert rgb == OKABE_ITO_RGB


def test_headline_chart_has_unit_labels_and_sources():
    figures = data.seed_figures("all")
    fig = plots.headline_bars(figures, "All figures")
    try:
        units = list(dict.fromkeys(figures["unit"]))
        assert [ax.get_xlabel() for ax in fig.axes] == units
        texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
        assert sum(t.startswith("Source:") for t in texts) == 1
        flat = plots.source_text(fig)
        for url in figures["url"].unique():
            assert url in flat
        # one bar per figure, plus one range bar for each figure with an upper bound
        bars = sum(len(ax.patches) for ax in fig.axes)
        assert bars == len(figures) + int(figures["value_high"].notna().sum())
        # value labels show IOM's qualifiers
        labels = [t.strip() for t in texts]
        assert "more than 350" in labels and "about 193" in labels and "52–100" in labels
    finally:
        plt.close(fig)


def test_source_line_deduplicates_in_order():
    assert plots.source_line(["B", "A", "B"]) == "Source: B; A"


def test_a_tall_evidence_map_names_its_columns_above_it_and_years_without_a_study_are_on_the_axis():
    """The evidence map of 40 countries named its outcome domains only under its last row, a screen below its
    first; the chart of studies per year went from 2006 straight to 2008 (no study was published in 2007)."""
    import json
    from pathlib import Path

    import pandas as pd

    from leftbehind import literature

    rows = [{"country": f"C{i:02d}", "domain": "mental_health", "studies": 1, "balance": 0.0} for i in range(13)]
    fig = plots.evidence_heatmap(pd.DataFrame(rows), "Map", "Source: test")
    tick = fig.axes[0].xaxis.get_major_ticks()[0]
    assert tick.label1.get_visible() and tick.label2.get_visible() and tick.label2.get_text() == "mental\nhealth"
    plt.close(fig)
    frame = pd.DataFrame({"study_id": ["a", "b", "c"], "year": [2006, 2008, None]})
    assert literature.studies_per_year(frame).to_dict() == {2006: 1, 2007: 0, 2008: 1}
    nb = (Path(__file__).parents[1] / "notebooks" / "04_evidence_map.ipynb").read_text(encoding="utf-8")
    assert "literature.studies_per_year(chosen)" in json.dumps(json.loads(nb))


def test_grouped_bars_keep_their_legend_and_source_line_clear_of_the_bars_and_tick_labels():
    """In the ILO reports by region and income group the legend hid the tallest bars and their values, and the
    source line (placed a fixed distance under the axes) ran into tick labels of two lines."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "group": ["Asia and the Pacific", "Europe and Central Asia"] * 2,
            "value": [25.8, 63.8, 27.2, 57.8],
            "unit": "million persons",
            "edition": ["3rd edition", "3rd edition", "4th edition", "4th edition"],
        }
    )
    fig = plots.grouped_bars(frame, "By region", "Source: International Labour Organization (ILO)")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # beside the axes, so over no bar
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert any("\n" in t.get_text() for t in ax.get_xticklabels())  # a label of two lines
    (source,) = [t for t in ax.texts if t.get_text().startswith("Source")]
    assert source.get_window_extent(renderer).y1 <= min(box.y0 for box in ticks)  # under them, not across
    plt.close(fig)
