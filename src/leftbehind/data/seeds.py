"""The IOM seed figures (the collection's headline figures) and their plain-text and Markdown rendering.
Public names are re-exported by :mod:`leftbehind.data`.

Examples
--------
>>> from leftbehind.data.seeds import seed_figures
>>> len(seed_figures("remittances"))
2
"""

from __future__ import annotations

import pandas as pd

from .._markup import escape_markdown as md
from .._markup import markdown_link
from ..errors import check_choice
from .tabular import load

#: Topics of the seed figures, in display order; ``"all"`` selects every topic.
SEED_TOPICS: tuple[str, ...] = ("labour_migration", "remittances", "children_left_behind", "iom")


def seed_figures(topic: str = "all") -> pd.DataFrame:
    """The IOM headline figures, optionally restricted to one topic.

    Parameters
    ----------
    topic
        ``"all"`` or one of :data:`SEED_TOPICS`.

    Returns
    -------
    pandas.DataFrame
        The ``seed_figures`` resource rows for that topic, in file order.

    Raises
    ------
    ParameterError
        When ``topic`` is not ``"all"`` or a known topic.

    Examples
    --------
    >>> seed_figures("remittances")["figure_id"].tolist()
    ['migrant_worker_earnings', 'remittances_to_developing_countries']
    """
    check_choice("topic", topic, ("all",) + SEED_TOPICS, "a seed-figure topic")
    df = load("seed_figures")
    if topic != "all":
        df = df[df["topic"] == topic].reset_index(drop=True)
    return df


def _value_text(value: float, high: float | None) -> str:
    def fmt(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"

    if high is not None and not pd.isna(high) and high != value:
        return f"{fmt(value)}–{fmt(high)}"
    return fmt(value)


def seed_rows(figures: pd.DataFrame) -> pd.DataFrame:
    """The seed figures as a reader sees them: figure, value (with its qualifier and range, as text), unit and
    year (empty where IOM gives none).

    Examples
    --------
    >>> seed_rows(seed_figures("remittances"))["value"].tolist()
    ['440', 'more than 350']
    """
    values = [
        ("" if pd.isna(r.qualifier) or r.qualifier in ("range", "estimate") else f"{r.qualifier} ")
        + _value_text(r.value, r.value_high)
        for r in figures.itertuples()
    ]
    return pd.DataFrame(
        {
            "figure": figures["label"].astype(str).to_numpy(),
            "value": values,
            "unit": figures["unit"].astype(str).to_numpy(),
            "year": figures["year"].astype("Int64").to_numpy(),
        }
    )


def seed_table(figures: pd.DataFrame) -> str:
    """A plain-text table of seed figures (label, value, unit, year) for printing in a notebook.

    Examples
    --------
    >>> print(seed_table(seed_figures("remittances")))
    figure                                                                  value  unit         year
    Total earnings of migrant workers                                         440  USD billion  2011
    Remittances sent to developing countries (World Bank estimate)  more than 350  USD billion  2011
    """
    rows = [("figure", "value", "unit", "year")]
    for r in seed_rows(figures).itertuples():
        rows.append((r.figure, r.value, r.unit, "" if pd.isna(r.year) else str(int(r.year))))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def seed_narrative(figures: pd.DataFrame) -> str:
    """Markdown sentences stating each seed figure with its qualifier and page, generated from the values
    (the data's strings escaped: no markup in the data reaches a report as HTML).

    Examples
    --------
    >>> print(seed_narrative(seed_figures("labour_migration")))
    IOM's pages give 1 headline figure on this topic:
    <BLANKLINE>
    - **105 million persons** (estimate): Persons working in a country other than their country of birth — IOM, *Labour migration*.
    """
    n = len(figures)
    lines = [f"IOM's pages give {n} headline figure{'s' if n != 1 else ''} on this topic:", ""]
    for r in figures.itertuples():
        value = _value_text(r.value, r.value_high)
        unit = "%" if r.unit == "percent" else f" {md(r.unit)}" if r.unit != "count" else ""
        qual = f" ({md(r.qualifier)})" if not pd.isna(r.qualifier) and r.qualifier != "range" else ""
        year = f" in {int(r.year)}" if not pd.isna(r.year) else ""
        lines.append(f"- **{value}{unit}**{qual}: {md(r.label)}{year} — IOM, *{md(r.page_title)}*.")
    return "\n".join(lines)


def seed_sources(figures: pd.DataFrame) -> str:
    """A Markdown list of the pages the seed figures come from, with the figures each page supports, named as in
    the figures' table (the data's strings escaped; only http(s) addresses linked).

    Examples
    --------
    >>> print(seed_sources(seed_figures("iom")).splitlines()[0])
    1. International Organization for Migration (IOM), “Health of families left behind”, <https://www.iom.int/health-families-left-behind> (read 2026-11-25). Figures: IOM member states; Countries with an IOM presence.
    """
    lines = []
    pages = list(dict.fromkeys(zip(figures["publisher"], figures["page_title"], figures["url"])))
    for i, (publisher, title, url) in enumerate(pages, start=1):
        part = figures[(figures["url"] == url) & (figures["page_title"] == title)]
        accessed = part["accessed"].iloc[0].isoformat()
        named = "; ".join(md(label) for label in part["label"])
        lines.append(f"{i}. {md(publisher)}, “{md(title)}”, {markdown_link(url)} (read {accessed}). Figures: {named}.")
        for quote in dict.fromkeys(part["quote"]):
            lines.append(f"    > “{md(quote)}”")
    return "\n".join(lines)
