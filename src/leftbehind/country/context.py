"""A country set against others: its role as a destination (immigrants, remittances paid), remittance figures
from the Migration and Development Briefs where the World Development Indicators have none, and its rank among
the countries of its region and income group that the data package has figures for. Each function returns
Markdown sentences with every data string escaped, and says plainly what is missing instead of failing.
Public names are re-exported by :mod:`leftbehind.country`.

Examples
--------
>>> print(destination("TON"))
- **As a destination.** No UN DESA estimate of international migrants living in Tonga, and no series of remittances paid by Tonga, in the data package.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from .. import data
from .._markup import escape_markdown as md
from ..data.arguments import check_code
from ..data.classification import classification_table
from ..errors import DataError
from .sentences import fmt_value

__all__ = [
    "destination",
    "briefs_remittances",
    "Rank",
    "rank_among",
    "region_of",
    "income_group_of",
    "comparison",
    "figures_used",
]

_WDI = "World Bank World Development Indicators"
_BRIEFS = "World Bank / KNOMAD Migration and Development Briefs"

#: What a profile compares with the country's region and income group: indicator, unit, series (None: any),
#: and how a sentence names it.
COMPARED: tuple[tuple[str, str, str | None, str], ...] = (
    ("remittances_received_pct_gdp", "percent", _WDI, "remittances received as a share of GDP (WDI)"),
    ("emigrant_stock", "million persons", None, "emigrants living abroad (UN DESA)"),
)


def _latest(df: pd.DataFrame) -> pd.Series | None:
    return None if df.empty else df.sort_values("year", kind="stable").iloc[-1]


def destination(iso3: str) -> str:
    """One Markdown line on the country as a destination: the international migrants living in it (UN DESA)
    and the remittances it pays (WDI), each with year and edition; or what the data package lacks.

    Examples
    --------
    >>> destination("NPL").startswith("- **As a destination.** UN DESA counts ")
    True
    """
    name = md(data.country_name(check_code("iso3", iso3)))
    imm = _latest(data.figures("migrant_stock", geography=iso3, unit="million persons"))
    paid = _latest(data.figures("remittances_paid_usd", geography=iso3, unit="USD billion"))
    if imm is None and paid is None:
        return (
            f"- **As a destination.** No UN DESA estimate of international migrants living in {name}, and no "
            f"series of remittances paid by {name}, in the data package."
        )
    parts = []
    if imm is not None:
        parts.append(
            f"UN DESA counts {fmt_value(imm['value'], 'million persons')} international migrants living in "
            f"{name} in {imm['year']} ({md(imm['edition'])})"
        )
    else:
        parts.append(f"no UN DESA estimate of international migrants living in {name} is in the data package")
    if paid is not None:
        parts.append(
            f"{name} paid {fmt_value(paid['value'], 'USD billion')} in remittances in {paid['year']} ({md(paid['edition'])})"
        )
    else:
        parts.append(f"no series of remittances paid by {name} is in the data package")
    text = "; ".join(parts)
    return f"- **As a destination.** {text[0].upper()}{text[1:]}."


def briefs_remittances(iso3: str) -> str:
    """One Markdown line with the latest remittance figures the World Bank's Migration and Development Briefs
    give for a country that has no World Development Indicators series of that measure; ``""`` when there is
    nothing to add.

    Examples
    --------
    >>> briefs_remittances("NPL")
    ''
    >>> print(briefs_remittances("TON"))
    - **Remittances (Migration and Development Briefs).** 38 % of GDP in 2024 (People Move blog: remittance estimates, 18 December 2024).
    """
    check_code("iso3", iso3)
    parts = []
    for indicator, unit in (("remittances_received_usd", "USD billion"), ("remittances_received_pct_gdp", "percent")):
        if len(data.figures(indicator, geography=iso3, series=_WDI)):
            continue
        row = _latest(data.figures(indicator, geography=iso3, series=_BRIEFS, unit=unit))
        if row is not None:
            shown = fmt_value(row["value"], unit) + (" of GDP" if unit == "percent" else "")
            parts.append(f"{shown} in {row['year']} ({md(row['edition'])})")
    return f"- **Remittances (Migration and Development Briefs).** {'; '.join(parts)}." if parts else ""


@dataclasses.dataclass(frozen=True)
class Rank:
    """Where a country's value stands among a group's values for the same year (1 = highest)."""

    year: int
    value: float
    rank: int
    n: int
    median: float


def _peer_values(iso3: str, peers: list[str], indicator: str, unit: str, series: str | None) -> pd.DataFrame:
    """The figures of ``peers`` (and the country) for the year of the country's latest value; empty when the
    country has none."""
    own = _latest(data.figures(indicator, geography=iso3, series=series, unit=unit))
    if own is None:
        return data.figures(indicator, geography=iso3, series=series, unit=unit)
    return data.figures(indicator, geography=sorted({*peers, iso3}), year=int(own["year"]), series=series, unit=unit)


def rank_among(iso3: str, peers: list[str], indicator: str, unit: str, series: str | None = None) -> Rank | None:
    """The country's latest value of ``indicator`` ranked among the ``peers`` (the country included) that have
    a value for the same year; ``None`` when the country has no value or no other peer has one that year.

    Examples
    --------
    >>> r = rank_among("NPL", ["NPL", "LKA", "BGD"], "remittances_received_pct_gdp", "percent", _WDI)
    >>> (r.rank, r.n) if r else None
    (1, 3)
    """
    frame = _peer_values(check_code("iso3", iso3), peers, indicator, unit, series)
    values = frame.set_index("geography")["value"]
    if len(values) < 2:
        return None
    year = int(frame["year"].iloc[0])
    rank = int((values > values[iso3]).sum()) + 1
    return Rank(year=year, value=float(values[iso3]), rank=rank, n=len(values), median=float(values.median()))


def region_of(iso3: str) -> str | None:
    """The country's UN M49 sub-region as the data package's geographies table gives it (``None`` if none).

    Examples
    --------
    >>> region_of("NPL")
    'Southern Asia'
    """
    geo = data.geographies().set_index("code")
    value = geo.loc[check_code("iso3", iso3), "un_region"]
    return None if pd.isna(value) or not str(value) else str(value)


def income_group_of(iso3: str) -> str | None:
    """The country's World Bank income group; ``""`` when the World Bank gives it none, ``None`` while the
    classification is not in the data package.

    Examples
    --------
    >>> income_group_of("NPL") in (None, "Low income", "Lower middle income")
    True
    """
    iso3 = check_code("iso3", iso3)
    try:
        table = classification_table()
    except DataError:
        return None
    row = table[table["code"] == iso3]
    return str(row["income_group"].iloc[0]) if len(row) else ""


def _position(rank: int, n: int) -> str:
    """``"the highest"``, ``"the lowest"`` or e.g. ``"the 3rd highest"`` of ``n``.

    Examples
    --------
    >>> _position(1, 5), _position(5, 5), _position(2, 5), _position(12, 20), _position(23, 30)
    ('the highest', 'the lowest', 'the 2nd highest', 'the 12th highest', 'the 23rd highest')
    """
    if rank == 1:
        return "the highest"
    if rank == n:
        return "the lowest"
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"the {rank}{suffix} highest"


def _rank_sentence(name: str, rank: Rank, what: str, unit: str, group: str) -> str:
    return (
        f"{what[0].upper()}{what[1:]}: {fmt_value(rank.value, unit)} for {name} in {rank.year}, "
        f"{_position(rank.rank, rank.n)} of the {rank.n} countries in {group} with a figure for that year in the "
        f"data package (median {fmt_value(rank.median, unit)})."
    )


def _group_line(iso3: str, label: str, group: str, peers: list[str]) -> str:
    name = md(data.country_name(iso3))
    sentences = [
        _rank_sentence(name, r, md(what), unit, md(group))
        for indicator, unit, series, what in COMPARED
        if (r := rank_among(iso3, peers, indicator, unit, series)) is not None
    ]
    if not sentences:
        whats = " or ".join(md(what) for *_, what in COMPARED)
        sentences = [
            f"The data package holds no figure of {whats} for both {name} and another country in {md(group)} in "
            f"the same year, so {name} is not compared with its {label} yet."
        ]
    return f"- **Against its {label} ({md(group)}).** " + " ".join(sentences)


def _groups(iso3: str) -> tuple[str | None, list[str], str | None, list[str]]:
    """The country's region and income group (``None`` when unknown) with the countries of each that have
    figures in the data package."""
    codes = data.countries()
    region = region_of(iso3)
    geo = data.geographies().set_index("code")["un_region"]
    in_region = [c for c in codes if region is not None and geo.get(c) == region]
    group = income_group_of(iso3)
    in_group = data.countries(income_group=group) if group else []
    return region, in_region, group, in_group


def comparison(iso3: str) -> str:
    """Markdown lines setting the country against the other countries of its region (UN M49 sub-region) and of
    its World Bank income group in the data package; one plain sentence for what cannot be compared.

    Examples
    --------
    >>> print(comparison("TON").splitlines()[1])
    - **Against its income group.** The World Bank income classification is not in the data package yet, so Tonga is not compared with the countries of its income group.
    """
    iso3 = check_code("iso3", iso3)
    name = md(data.country_name(iso3))
    region, in_region, group, in_group = _groups(iso3)
    if region is None:
        lines = [f"- **Against its region.** The data package gives no region for {name}."]
    else:
        lines = [_group_line(iso3, "region", region, in_region)]
    if group is None:
        lines.append(
            f"- **Against its income group.** The World Bank income classification is not in the data package "
            f"yet, so {name} is not compared with the countries of its income group."
        )
    elif not group:
        lines.append(f"- **Against its income group.** The World Bank gives {name} no income group.")
    else:
        lines.append(_group_line(iso3, "income group", group, in_group))
    return "\n".join(lines)


def figures_used(iso3: str) -> pd.DataFrame:
    """Every figure the sentences of this module use for a country (remittances paid, the Briefs' remittance
    figures, the region's and income group's values compared), for its list of sources.

    Examples
    --------
    >>> sorted(figures_used("NPL")["indicator"].unique())
    ['emigrant_stock', 'remittances_received_pct_gdp']
    """
    iso3 = check_code("iso3", iso3)
    frames = [data.figures("remittances_paid_usd", geography=iso3)]
    for indicator in ("remittances_received_usd", "remittances_received_pct_gdp"):
        if not len(data.figures(indicator, geography=iso3, series=_WDI)):
            frames.append(data.figures(indicator, geography=iso3, series=_BRIEFS).tail(1))
    _, in_region, _, in_group = _groups(iso3)
    for peers in (in_region, in_group):
        for indicator, unit, series, _ in COMPARED:
            frame = _peer_values(iso3, peers, indicator, unit, series)
            if len(frame) >= 2:
                frames.append(frame)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else data.figures("remittances_paid_usd", geography=iso3)
