"""Sentences generated from figures, so that a notebook's text never carries a typed number.

Every function takes a :func:`leftbehind.data.figures` result (or a slice of it) and returns Markdown whose
numbers are the frame's values, formatted, with the edition they come from.

Examples
--------
>>> import pandas as pd
>>> fmt_value(1234.5, "million persons")
'1,234.5 million'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["fmt_value", "edition_sentences", "latest_sentence"]


def fmt_value(value: float, unit: str) -> str:
    """Format a value with its unit the way the reports write it.

    Examples
    --------
    >>> fmt_value(169.0, "million persons"), fmt_value(4.9, "percent"), fmt_value(8.1e9, "USD"), fmt_value(25.3, "USD billion")
    ('169 million', '4.9 %', 'USD 8.1 billion', 'USD 25.3 billion')
    """
    def num(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}" if abs(x) >= 10 else f"{x:,.2f}".rstrip("0").rstrip(".")

    if unit == "million persons":
        return f"{num(value)} million"
    if unit == "persons":
        return f"{num(value / 1e6)} million" if value >= 1e6 else f"{value:,.0f}"
    if unit == "percent":
        return f"{num(value)} %"
    if unit == "USD":
        return f"USD {num(value / 1e9)} billion" if value >= 1e9 else f"USD {num(value / 1e6)} million"
    if unit in ("USD billion", "USD million"):
        return f"USD {num(value)} {unit.split()[1]}"
    return f"{num(value)} {unit}"


def edition_sentences(df: pd.DataFrame, subject: str) -> str:
    """One sentence per edition and reference year, then one per revision of an earlier year's value.

    Parameters
    ----------
    df
        ``figures(..., edition="all")`` rows for one indicator and geography (sex total).
    subject
        What the values count, e.g. "international migrant workers".

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2013, 2013, 2017], "value": [150.3, 150.0, 164.0],
    ...     "unit": "million persons", "edition": ["1st edition", "2nd edition", "2nd edition"],
    ...     "released": ["2015-12", "2018-12", "2018-12"]})
    >>> print(edition_sentences(frame, "migrant workers"))
    - 1st edition (2015-12): 150.3 million migrant workers in 2013.
    - 2nd edition (2018-12): 164 million migrant workers in 2017.
    - Revision: for 2013, the 2nd edition gives 150 million (the 1st edition gave 150.3 million).
    """
    lines = []
    df = df.sort_values(["released", "year"], kind="stable")
    first_year = df.groupby("edition", sort=False)["year"].max()
    for edition, year in first_year.items():
        row = df[(df["edition"] == edition) & (df["year"] == year)].iloc[0]
        lines.append(f"- {edition} ({row['released']}): {fmt_value(row['value'], row['unit'])} {subject} in {year}.")
    for year, part in df.groupby("year"):
        part = part.sort_values("released")
        for prev, cur in zip(part.iloc[:-1].itertuples(), part.iloc[1:].itertuples()):
            if cur.value != prev.value:
                lines.append(f"- Revision: for {year}, the {cur.edition} gives {fmt_value(cur.value, cur.unit)} "
                             f"(the {prev.edition} gave {fmt_value(prev.value, prev.unit)}).")
    return "\n".join(lines)


def latest_sentence(df: pd.DataFrame, name: str, what: str) -> str:
    """A sentence stating the most recent value of a series, with its year and edition.

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2019, 2020], "value": [8.2, 8.1], "unit": "percent", "edition": ["e1", "e1"]})
    >>> latest_sentence(frame, "Nepal", "remittances received as a share of GDP")
    'Nepal: remittances received as a share of GDP were 8.1 % in 2020 (e1).'
    """
    if df.empty:
        return f"{name}: no {what} in the data package for the years chosen."
    row = df.sort_values("year").iloc[-1]
    return f"{name}: {what} were {fmt_value(row['value'], row['unit'])} in {row['year']} ({row['edition']})."
