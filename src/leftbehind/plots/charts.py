"""Chart functions for the notebooks: headline bars, time series, revisions, grouped bars, the evidence map and
count charts. Each takes a DataFrame from :mod:`leftbehind.data` or :mod:`leftbehind.literature` and returns
a figure in the house style with a source line. Public names are re-exported by :mod:`leftbehind.plots`.

Examples
--------
>>> import pandas as pd
>>> from leftbehind.plots import source_text
>>> fig = count_bars(pd.Series({"A": 2, "B": 1}), "Studies by design", "Source: test", "design")
>>> source_text(fig)
'Source: test'
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..data.units import base_unit, frame_unit, scaled
from ..errors import ParameterError, check_frame
from ..literature.studies import domain_name, outcome_name
from .datafiles import attach
from .style import OKABE_ITO, PALETTE, add_source, source_line, use_style


def for_reading(values: pd.Series, unit: str) -> tuple[pd.Series, str]:
    """``values`` of ``unit`` in the unit an axis shows them in (thousand or million persons, USD million or
    billion, chosen from the largest: :func:`leftbehind.data.units.scaled`), and that unit; other units as they
    are.

    Examples
    --------
    >>> values, unit = for_reading(pd.Series([2_500_000.0, 12_000_000.0]), "persons")
    >>> values.tolist(), unit
    ([2.5, 12.0], 'million persons')
    """
    if base_unit(unit) is None:
        return values, unit
    shown, target = scaled(values.astype(float), unit, by="largest")
    return pd.Series(shown, index=values.index), target


def _bar_value(value: float) -> str:
    """A number beside a bar: three significant digits, never in scientific notation."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def headline_bars(df: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of headline figures, one panel per unit, ranges drawn from low to high.

    Parameters
    ----------
    df
        Rows of the ``seed_figures`` resource (columns ``label``, ``value``, ``value_high``, ``unit``,
        ``year``, ``page_title``, ``publisher``).
    title
        Chart title: what the reader should see.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from leftbehind import data
    >>> fig = headline_bars(data.seed_figures("labour_migration"), "Labour migration")
    >>> fig.axes[0].get_xlabel()
    'million persons'
    >>> plt.close(fig)
    """
    check_frame(
        "headline_bars",
        df,
        ["label", "value", "value_high", "unit", "year", "qualifier", "page_title", "publisher", "url"],
        "a data.seed_figures() result",
    )
    use_style()
    units = list(dict.fromkeys(df["unit"]))
    heights = [max(1, int((df["unit"] == u).sum())) for u in units]
    fig, axes = plt.subplots(
        len(units),
        1,
        figsize=(8.0, 1.3 + 0.55 * sum(heights) + 0.6 * len(units)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, unit, colour in zip(axes[:, 0], units, PALETTE):
        part = df[df["unit"] == unit].iloc[::-1]
        labels = [_label(r) for r in part.itertuples()]
        lows = part["value"].astype(float).to_numpy()
        highs = part["value_high"].astype(float).fillna(part["value"].astype(float)).to_numpy()
        ax.barh(labels, lows, color=colour, height=0.6)
        ranged = highs > lows
        if ranged.any():
            ax.barh(
                [lab for lab, r in zip(labels, ranged) if r],
                (highs - lows)[ranged],
                left=lows[ranged],
                color=colour,
                alpha=0.35,
                height=0.6,
                hatch="//",
                edgecolor=colour,
            )
        quals = ["" if pd.isna(q) or q in ("range", "estimate") else f"{q} " for q in part["qualifier"]]
        for y, (lo, hi, q) in enumerate(zip(lows, highs, quals)):
            text = f"{lo:,.0f}–{hi:,.0f}" if hi > lo else f"{q}{lo:,.0f}"
            ax.text(hi, y, "  " + text, va="center", fontsize=9)
        ax.set_xlabel(unit)
        ax.set_xlim(0, max(highs) * 1.3)
        ax.grid(axis="y", visible=False)
    axes[0, 0].set_title(title)
    fig.tight_layout()
    pages = [f"{r.publisher}, “{r.page_title}” ({r.url})" for r in df.itertuples()]
    add_source(fig, source_line(pages))
    return attach(fig, df, title)


def _label(row: Any) -> str:
    label = str(row.label)
    year = row.year
    if year is not None and not pd.isna(year):
        label += f" ({int(year)})"
    return "\n".join(textwrap.wrap(label, 38))


def _finish(
    fig: Figure, ax, title: str, unit: str, source: str, xlabel: str | None = None, values_on: str = "y"
) -> Figure:
    """Title, the unit on the value axis (``values_on``: "y", or "x" for horizontal bars), its grid, the source."""
    ax.set_title(title)
    if values_on == "y":
        ax.set_ylabel(unit)
        if xlabel:
            ax.set_xlabel(xlabel)
    else:
        ax.set_xlabel(unit)
    ax.grid(axis=values_on, visible=True)
    ax.grid(axis="x" if values_on == "y" else "y", visible=False)
    fig.tight_layout()
    add_source(fig, source)
    return fig


def timeseries(
    df: pd.DataFrame, title: str, source: str, by: str = "label", unit: str | None = None, dashed: Iterable[str] = ()
) -> Figure:
    """One line per group over the years.

    Parameters
    ----------
    df
        Columns ``year``, ``value``, ``unit`` and the grouping column ``by`` (e.g. a country name).
    title
        What the reader should see.
    source
        The source line (see :func:`source_line`); required, every chart carries one.
    by
        Column holding the line labels.
    unit
        Y-axis label; default: the frame's unit.
    dashed
        Labels drawn with a dashed line (e.g. a comparison average).

    A line whose values come from more than one edition (a ``edition_id`` column that changes along the years,
    as the Migration and Development Briefs' series of estimates does) is never a silent splice: each year where
    the edition changes is marked with a dotted vertical line, and a note under the chart says so.

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2000, 2001, 2000, 2001], "value": [1.0, 2.0, 2.0, 3.0],
    ...                       "unit": "percent", "label": ["A", "A", "B", "B"]})
    >>> fig = timeseries(frame, "Two series", "Source: test")
    >>> [line.get_label() for line in fig.axes[0].get_lines()], fig.axes[0].get_ylabel()
    (['A', 'B'], 'percent')
    >>> plt.close(fig)
    >>> fig = timeseries(frame.assign(value=frame["value"] * 1e6, unit="persons"), "Persons", "Source: test")
    >>> fig.axes[0].get_ylabel()  # persons in the unit their magnitude calls for
    'million persons'
    >>> plt.close(fig)
    >>> joined = frame.assign(edition_id=["e1", "e2", "e1", "e1"])
    >>> fig = timeseries(joined, "Two series", "Source: test")
    >>> [round(m.get_xdata()[0]) for m in fig.axes[0].get_lines() if m.get_gid() == "edition-change"]
    [2001]
    >>> plt.close(fig)
    """
    check_frame("timeseries", df, ["year", "value", by], "a data.figures() result with a column of line labels")
    use_style()
    values, unit = for_reading(df["value"], frame_unit(df, unit, "timeseries"))
    df = df.assign(value=values, unit=unit)  # the data behind the chart says the unit it is drawn in
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    dashed = set(dashed)
    for i, (label, part) in enumerate(df.groupby(by, sort=False)):
        part = part.sort_values("year")
        # beyond eight lines the colours repeat, so the repeats are dashed; gaps in the years stay visible
        style = "--" if label in dashed or i >= len(PALETTE) else "-"
        years = part["year"].astype(int).tolist()
        gaps = any(b - a > 1 for a, b in zip(years, years[1:]))
        ax.plot(
            part["year"],
            part["value"],
            label=str(label),
            color=PALETTE[i % len(PALETTE)],
            linewidth=2,
            linestyle=style,
            marker="o" if gaps or len(part) < 12 else None,
            markersize=4,
        )
    if df[by].nunique() > 1:
        ax.legend(loc="upper left", fontsize=8, ncol=2 if df[by].nunique() > 5 else 1)
    ax.set_ylim(bottom=0)
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)
    changes = edition_changes(df, by)
    for year in changes:
        ax.axvline(year, color="#888888", linestyle=":", linewidth=1, gid="edition-change")
    if changes:
        source += f"\nDotted lines: the series moves to another edition in {', '.join(map(str, changes))} (editions named above)."
    return attach(_finish(fig, ax, title, unit, source, xlabel="year"), df, title)


def edition_changes(df: pd.DataFrame, by: str = "label") -> list[int]:
    """The years at which a line of ``df`` (one per ``by``) moves to another edition (``edition_id``), sorted.

    Examples
    --------
    >>> edition_changes(pd.DataFrame({"year": [1, 2, 3], "label": "A", "edition_id": ["a", "a", "b"]}))
    [3]
    """
    if "edition_id" not in df.columns:
        return []
    years: set[int] = set()
    for _, part in df.groupby(by, sort=False):
        part = part.sort_values("year")
        moved = part["edition_id"].ne(part["edition_id"].shift()) & part["edition_id"].shift().notna()
        years.update(int(y) for y in part.loc[moved, "year"])
    return sorted(years)


def revisions(df: pd.DataFrame, title: str, source: str, unit: str | None = None) -> Figure:
    """Values of one series as published by successive editions: one marker style per edition.

    A reference year published by more than one edition shows several markers, so revisions are visible.

    Parameters
    ----------
    df
        Columns ``year``, ``value``, ``unit``, ``edition`` (a :func:`leftbehind.data.figures` result with
        ``edition="all"``).

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2013, 2013, 2017], "value": [150.3, 150.0, 164.0], "unit": "million persons",
    ...                       "edition": ["1st edition", "2nd edition", "2nd edition"]})
    >>> fig = revisions(frame, "Revisions", "Source: test")
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['1st edition', '2nd edition']
    >>> plt.close(fig)
    """
    check_frame("revisions", df, ["year", "value", "edition"], 'a data.figures(..., edition="all") result')
    if "geography" in df.columns and df["geography"].nunique() > 1:
        raise ParameterError(
            f"revisions: the frame holds {df['geography'].nunique()} geographies "
            f"({', '.join(map(str, df['geography'].unique()[:5]))}); one chart shows one series: select one"
        )
    unit = frame_unit(df, unit, "revisions")
    use_style()
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    markers = ["o", "s", "D", "^", "v", "P", "X", "*"]
    for (edition, part), colour, marker in zip(df.groupby("edition", sort=False), PALETTE * 3, markers * 3):
        part = part.sort_values("year")
        ax.plot(
            part["year"], part["value"], label=str(edition), color=colour, marker=marker, markersize=7, linewidth=1.2
        )
    revised = df.groupby("year")["value"].nunique()
    for year in revised[revised > 1].index:
        top = df.loc[df["year"] == year, "value"].max()
        ax.annotate(
            "revised", (year, top), xytext=(0, 10), textcoords="offset points", ha="center", fontsize=8, color="#555555"
        )
    ax.legend(title="edition", fontsize=8, title_fontsize=8, loc="lower right")
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)
    ax.set_ylim(bottom=0, top=df["value"].max() * 1.15)
    return attach(_finish(fig, ax, title, unit, source, xlabel="reference year"), df, title)


def grouped_bars(
    df: pd.DataFrame, title: str, source: str, group: str = "group", series: str = "edition", unit: str | None = None
) -> Figure:
    """Bars of ``value`` for each ``group`` (x), one bar per ``series`` (e.g. edition) side by side.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["women", "men", "women", "men"], "value": [1.0, 2.0, 1.5, 2.5],
    ...                       "unit": "million persons", "edition": ["1st", "1st", "2nd", "2nd"]})
    >>> fig = grouped_bars(frame, "Bars", "Source: test")
    >>> len(fig.axes[0].patches), fig.axes[0].get_ylabel()
    (4, 'million persons')
    >>> plt.close(fig)
    """
    check_frame(
        "grouped_bars", df, [group, series, "value"], f"a table with a {group!r}, a {series!r} and a 'value' column"
    )
    unit = frame_unit(df, unit, "grouped_bars")
    use_style()
    groups = list(dict.fromkeys(df[group]))
    serieses = list(dict.fromkeys(df[series]))
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    width = 0.8 / max(1, len(serieses))
    for i, (name, colour) in enumerate(zip(serieses, PALETTE * 3)):
        part = df[df[series] == name].set_index(group)["value"]
        xs = [g + (i - (len(serieses) - 1) / 2) * width for g in range(len(groups))]
        heights = [part.get(gname, float("nan")) for gname in groups]
        bars = ax.bar(xs, heights, width=width * 0.95, color=colour, label=str(name))
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(groups)), ["\n".join(textwrap.wrap(str(g), 16)) for g in groups])
    if len(serieses) > 1:  # beside the bars: inside the axes it hid the tallest bars and their values
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return attach(_finish(fig, ax, title, unit, source), df, title)


#: Rows (countries) from which an evidence-gap map names its columns at its top as well as under it.
TALL_MAP_ROWS = 12


def evidence_heatmap(cells: pd.DataFrame, title: str, source: str, row_labels: dict[str, str] | None = None) -> Figure:
    """Evidence-gap map: rows = countries, columns = outcome domains, number = studies, colour = balance of
    findings (orange: mostly harm, blue: mostly benefit, grey: mixed or no difference, white: no study).

    Parameters
    ----------
    cells
        :func:`leftbehind.literature.evidence_map` output (country, domain, studies, balance).

    Examples
    --------
    >>> cells = pd.DataFrame({"country": ["A", "A", "B"], "domain": ["x", "y", "x"], "studies": [3, 1, 2],
    ...                       "balance": [1.0, -1.0, float("nan")]})
    >>> fig = evidence_heatmap(cells, "Map", "Source: test")
    >>> sorted(t.get_text() for t in fig.axes[0].texts if not t.get_text().startswith("Source"))
    ['1', '2', '3']
    >>> fig.axes[0].xaxis.get_major_ticks()[0].label2.get_visible()  # two rows: column names under the map only
    False
    >>> plt.close(fig)
    """
    from matplotlib.colors import LinearSegmentedColormap

    check_frame("evidence_heatmap", cells, ["country", "domain", "studies"], "a literature.evidence_map() result")
    use_style()
    countries = sorted(cells["country"].unique(), key=lambda c: (-cells.loc[cells.country == c, "studies"].sum(), c))
    domains = list(dict.fromkeys(cells["domain"]))
    grid = cells.pivot(index="country", columns="domain", values="balance").reindex(index=countries, columns=domains)
    counts = cells.pivot(index="country", columns="domain", values="studies").reindex(index=countries, columns=domains)
    cmap = LinearSegmentedColormap.from_list("balance", [OKABE_ITO["sky_blue"], "#dddddd", OKABE_ITO["orange"]])
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.32 * len(countries)))
    shown = grid.fillna(0.0).where(counts.notna())
    ax.imshow(shown.to_numpy(dtype=float), cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    for i in range(len(countries)):
        for j in range(len(domains)):
            n = counts.iat[i, j]
            if not pd.isna(n):
                ax.text(j, i, f"{int(n)}", ha="center", va="center", fontsize=8)
    labels = row_labels or {}
    ax.set_yticks(range(len(countries)), [labels.get(c, c) for c in countries], fontsize=8)
    ax.set_xticks(range(len(domains)), ["\n".join(textwrap.wrap(domain_name(d), 12)) for d in domains], fontsize=8)
    if len(countries) > TALL_MAP_ROWS:  # a tall map names its columns above it too, where a reader starts
        ax.tick_params(axis="x", top=True, labeltop=True)
    ax.grid(False)
    ax.set_xlabel("number = studies; colour = balance of findings: orange harm, blue benefit, grey mixed or none")
    ax.set_title(title)
    fig.tight_layout()
    add_source(fig, source)
    return attach(fig, cells, title)


def count_bars(counts: pd.Series, title: str, source: str, xlabel: str, unit: str = "number of studies") -> Figure:
    """Vertical bars of counts per category (e.g. studies per year or per design).

    Examples
    --------
    >>> fig = count_bars(pd.Series({"2019": 3, "2020": 5}), "Studies per year", "Source: test", "year")
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [3.0, 5.0]
    >>> plt.close(fig)
    """
    values = pd.to_numeric(counts, errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(values) & (values >= 0) & (values == np.round(values))).all():
        raise ParameterError(f"count_bars: counts must be whole numbers of at least 0, got {counts.tolist()!r}")
    use_style()
    fig, ax = plt.subplots(figsize=(8.0, 3.8))
    bars = ax.bar([str(i) for i in counts.index], values, color=PALETTE[0])
    ax.bar_label(bars, fmt="%d", fontsize=7, padding=2)
    if len(counts) > 12:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return attach(
        _finish(fig, ax, title, unit, source, xlabel=xlabel),
        counts.rename("value").rename_axis(xlabel).reset_index(),
        title,
    )


def ranking_bars(df: pd.DataFrame, title: str, unit: str, source: str) -> Figure:
    """Horizontal bars of countries ranked by a value (a :func:`leftbehind.data.ranking` slice), highest on top.

    Examples
    --------
    >>> frame = pd.DataFrame({"name": ["Tonga", "Nepal"], "value": [38.5, 24.1]})
    >>> fig = ranking_bars(frame, "Remittances, share of GDP", "percent", "Source: test")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Nepal', 'Tonga']
    >>> plt.close(fig)
    """
    check_frame("ranking_bars", df, ["name", "value"], "a data.ranking() slice")
    use_style()
    values, unit = for_reading(df["value"], frame_unit(df, unit, "ranking_bars"))
    fig, ax = plt.subplots(figsize=(8.0, 0.8 + 0.3 * max(len(df), 1)))
    ordered = df.assign(value=values).iloc[::-1]
    bars = ax.barh([str(n) for n in ordered["name"]], ordered["value"].to_numpy(dtype=float), color=PALETTE[0])
    ax.bar_label(bars, fmt=_bar_value, fontsize=7, padding=2)
    ax.tick_params(axis="y", labelsize=8)
    return attach(_finish(fig, ax, title, unit, source, values_on="x"), df, title)


def direction_bars(table: pd.DataFrame, title: str, source: str) -> Figure:
    """Horizontal stacked bars: per outcome, the number of effect rows finding harm, no difference, benefit
    or an unclear direction.

    Parameters
    ----------
    table
        Index = outcome, columns among ``harm``, ``no_difference``, ``benefit``, ``unclear`` (counts).

    Examples
    --------
    >>> t = pd.DataFrame({"harm": [3, 1], "no_difference": [1, 0], "benefit": [0, 2]}, index=["a", "b"])
    >>> fig = direction_bars(t, "Findings", "Source: test")
    >>> fig.axes[0].get_xlabel()
    'number of effect rows'
    >>> all(float(t).is_integer() for t in fig.axes[0].get_xticks())  # counts get whole-number ticks
    True
    >>> plt.close(fig)
    """
    use_style()
    colours = {
        "harm": OKABE_ITO["vermillion"],
        "no_difference": "#999999",
        "benefit": OKABE_ITO["blue"],
        "unclear": "#dddddd",
    }
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.35 * len(table)))
    left = pd.Series(0.0, index=table.index)
    for col in [c for c in colours if c in table.columns]:
        ax.barh(
            [outcome_name(str(i)) for i in table.index],
            table[col],
            left=left,
            color=colours[col],
            label=col.replace("_", " "),
        )
        left = left + table[col]
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.2 of an effect row
    # Beside the bars, not over them: a legend inside the axes hid the bar it explained.
    ax.legend(
        fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="finding", title_fontsize=8
    )
    ax.set_title(title)
    ax.set_xlabel("number of effect rows")
    fig.tight_layout()
    add_source(fig, source)
    return attach(fig, table.rename_axis("outcome").reset_index(), title)
