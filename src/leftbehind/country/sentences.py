"""Sentences generated from figures, so that a notebook's text never carries a typed number.

Every function takes a :func:`leftbehind.data.figures` result (or a slice of it) and returns Markdown whose
numbers are the frame's values, formatted, with the edition they come from. Every string put into that
Markdown (from the data or from the caller) is escaped, so that no markup in it reaches a report as HTML.

Examples
--------
>>> import pandas as pd
>>> fmt_value(1234.5, "million persons")
'1,234.5 million'
"""

from __future__ import annotations

import math

import pandas as pd

from .._markup import counted, end_sentence, escape_markdown, markdown_link, minus_sign
from ..data.units import base_unit, in_unit, reading_unit
from ..errors import MetaAnalysisError, ParameterError, check_choice, check_frame, is_number
from ..literature import outcome_name
from ..meta import CI_NAMES, PoolResult

__all__ = [
    "fmt_value",
    "edition_sentences",
    "latest_sentence",
    "pooled_sentence",
    "escape_markdown",
    "markdown_link",
    "end_sentence",
    "counted",
]

_md = escape_markdown  # short name for the f-strings below
_POOLED_MEASURES = ("SMD", "OR")  # the scales :func:`pooled_sentence` can state (the evidence base's two)


def fmt_value(value: float, unit: str) -> str:
    """Format a value with its unit the way the reports write it: persons and US dollars in the scale their
    magnitude calls for (:func:`leftbehind.data.units.reading_unit`, the rule charts and map legends follow
    too): thousand persons from 10,000, million persons from a million; USD million from a million, USD billion
    from a billion.

    Examples
    --------
    >>> import pandas as pd
    >>> fmt_value(169.0, "million persons"), fmt_value(4.9, "percent"), fmt_value(8.1e9, "USD"), fmt_value(25.3, "USD billion")
    ('169 million', '4.9 %', 'USD 8.1 billion', 'USD 25.3 billion')
    >>> fmt_value(0.66, "million persons"), fmt_value(0.003741, "million persons"), fmt_value(0.0452, "USD billion")
    ('660 thousand', '3,741', 'USD 45.2 million')
    >>> fmt_value(1234.5, "million persons"), fmt_value(0.6599, "million persons")
    ('1,234.5 million', '660 thousand')
    """

    if not is_number(value):
        raise ParameterError(f"fmt_value: value must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ParameterError(f"fmt_value: value {value!r} is not a finite number (a missing value is not written)")

    def num(x: float) -> str:
        if float(x).is_integer():
            return f"{x:,.0f}"
        return f"{x:,.1f}" if abs(x) >= 10 else f"{x:,.2f}".rstrip("0").rstrip(".")

    found = base_unit(unit)
    if found is not None:
        target, _ = reading_unit(value, unit)
        shown = in_unit(value, unit, target)
        words = {"million persons": "million", "thousand persons": "thousand"}
        if target == "thousand persons" and abs(shown) >= 100:
            return f"{shown:,.0f} thousand"  # 659.9 thousand reads as 660 thousand
        if target in words:
            return f"{num(shown)} {words[target]}"
        if target == "persons":
            return f"{shown:,.0f}"
        if target == "USD":
            return f"USD {shown:,.0f}"
        return f"USD {num(shown)} {target.split()[1]}"
    if unit == "percent":
        return f"{num(value)} %"
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
    check_frame(
        "edition_sentences",
        df,
        ["year", "value", "unit", "edition", "released"],
        'a figures(..., edition="all") result',
    )
    _one_series(df, "edition_sentences")
    lines = []
    df = df.sort_values(["released", "year"], kind="stable")
    first_year = df.groupby("edition", sort=False)["year"].max()
    for edition, year in first_year.items():
        row = df[(df["edition"] == edition) & (df["year"] == year)].iloc[0]
        value = fmt_value(row["value"], row["unit"])
        lines.append(f"- {_md(edition)} ({_md(row['released'])}): {_md(value)} {_md(subject)} in {_md(year)}.")
    for year, part in df.groupby("year"):
        part = part.sort_values("released")
        for prev, cur in zip(part.iloc[:-1].itertuples(), part.iloc[1:].itertuples()):
            if cur.value != prev.value:
                lines.append(
                    f"- Revision: for {_md(year)}, the {_md(cur.edition)} gives {_md(fmt_value(cur.value, cur.unit))} "
                    f"(the {_md(prev.edition)} gave {_md(fmt_value(prev.value, prev.unit))})."
                )
    return "\n".join(lines)


def _one_series(df: pd.DataFrame, what: str) -> None:
    """Refuse a frame of several geographies or indicators: one sentence speaks of one series."""
    for column in ("geography", "indicator"):
        if column in df.columns and df[column].nunique() > 1:
            shown = ", ".join(map(str, df[column].unique()[:5]))
            raise ParameterError(
                f"{what}: the frame holds {df[column].nunique()} {column} values ({shown}); select one"
            )


def latest_sentence(df: pd.DataFrame, name: str, what: str) -> str:
    """A sentence stating the most recent value of a series, with its year and edition.

    Examples
    --------
    >>> frame = pd.DataFrame({"year": [2019, 2020], "value": [8.2, 8.1], "unit": "percent", "edition": ["e1", "e1"]})
    >>> latest_sentence(frame, "Nepal", "remittances received as a share of GDP")
    'Nepal: remittances received as a share of GDP were 8.1 % in 2020 (e1).'
    """
    check_frame("latest_sentence", df, ["year", "value", "unit", "edition"], "a figures() result")
    _one_series(df, "latest_sentence")
    if df.empty:
        return f"{_md(name)}: no {_md(what)} in the data package for the years chosen."
    row = df.sort_values("year").iloc[-1]
    value = fmt_value(row["value"], row["unit"])
    return f"{_md(name)}: {_md(what)} were {_md(value)} in {_md(row['year'])} ({_md(row['edition'])})."


def pooled_sentence(result: PoolResult, measure: str, outcome: str) -> str:
    """Plain-language statement of a pooled estimate with its interval, heterogeneity and prediction interval.

    ``measure`` is the display scale: ``"SMD"`` (result on the SMD scale) or ``"OR"`` (result on the log-odds
    scale, shown as an odds ratio). A fit made with ``pool(..., measure=)`` must be shown on its own measure
    (an SMD is never shown as an odds ratio); a fit of one study is described as one study, not as a pool.

    Examples
    --------
    >>> from leftbehind.meta import pool
    >>> # weights 100, 50, 66.7: estimate 60/216.7 = 0.277, SE 1/sqrt(216.7) = 0.068; Q = 1.38 < 2, so tau² = 0
    >>> r = pool([0.2, 0.4, 0.3], [0.01, 0.02, 0.015], method="DL")
    >>> print(pooled_sentence(r, "SMD", "depression"))
    Pooling 3 studies (DL, normal intervals): SMD 0.28 (95% CI 0.14 to 0.41); a positive SMD means left-behind children fare worse on depression. Heterogeneity: I² = 0%, τ² = 0; 95% prediction interval 0.14 to 0.41.
    """

    measure = check_choice("measure", measure, _POOLED_MEASURES, "a measure of a pooled sentence")
    if not isinstance(result, PoolResult):
        raise MetaAnalysisError(f"result must be a PoolResult (meta.pool), got {type(result).__name__}")
    if result.measure is not None and result.measure != measure:
        raise MetaAnalysisError(
            f'measure "{measure}" is not the fit\'s: it was pooled as {result.measure} (pool(..., measure=...)); '
            f'pass measure="{result.measure}"'
        )

    def show(x: float) -> str:
        return f"{math.exp(x):.2f}" if measure == "OR" else minus_sign(f"{x:.2f}")  # "−0.12", never "-0.00"

    pct = round(result.level * 100)
    meaning = (
        "an OR above 1 means" if measure == "OR" else "a positive SMD means"
    ) + f" left-behind children fare worse on {_md(outcome_name(outcome, in_sentence=True))}"
    lead = "One study" if result.k == 1 else f"Pooling {result.k} studies"
    text = (
        f"{lead} ({_md(result.method)}, {_md(CI_NAMES.get(result.ci_method, result.ci_method))} "
        f"intervals): {_md(measure)} "
        f"{show(result.estimate)} ({pct}% CI {show(result.ci_low)} to {show(result.ci_high)}); {meaning}."
    )
    if result.method != "FE":
        text += f" Heterogeneity: I² = {result.I2:.0f}%, τ² = {result.tau2:.3g}"
        if not math.isnan(result.pi_low):
            text += f"; {pct}% prediction interval {show(result.pi_low)} to {show(result.pi_high)}"
        text += "."
    return text
