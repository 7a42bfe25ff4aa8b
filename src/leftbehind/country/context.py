"""A country set against others: its role as a destination (immigrants, remittances paid), remittance figures
from the Migration and Development Briefs where the World Development Indicators have none, and its rank among
the countries of its region and income group that the data package has figures for. Each function returns
Markdown sentences with every data string escaped, and says plainly what is missing instead of failing.
Public names are re-exported by :mod:`leftbehind.country`.

Examples
--------
>>> print(destination("TON")[:78])
- **As a destination.** UN DESA counts 3,581 international migrants living in
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from .. import data
from .._markup import escape_markdown as md
from ..data.arguments import _SEQUENCES, check_code, check_codes
from ..data.classification import classification_table
from ..errors import DataError, ParameterError
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

#: What a profile compares with the countries of its World Bank region and income group: indicator, unit shown,
#: and how a sentence names it. Each comparison uses one year and one edition for every country
#: (:func:`leftbehind.data.broad_year`, :func:`leftbehind.data.comparison_edition`).
COMPARED: tuple[tuple[str, str, str], ...] = (
    ("remittances_received_pct_gdp", "percent", "remittances received as a share of GDP"),
    ("emigrant_stock", "million persons", "emigrants living abroad"),
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
    name = md(data.country_name(check_code("iso3", iso3, countries_only=True)))
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
    if paid is not None and paid["value"] == 0:  # a published 0 may be a flow not reported (data.ZERO_NOTE)
        parts.append(
            f"the World Bank gives 0 for the remittances {name} paid in {paid['year']} ({md(paid['edition'])}), as "
            f"published: {data.ZERO_NOTE}"
        )
    elif paid is not None:
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
    >>> briefs_remittances("NPL"), briefs_remittances("TON")  # the WDI files give every economy's series now
    ('', '')
    """
    check_code("iso3", iso3, countries_only=True)
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
    """Where a country's value stands among a group's values for one year and edition (1 = highest)."""

    year: int
    value: float
    rank: int
    n: int
    median: float
    edition: str = ""


def _peer_values(peers: list[str], indicator: str, unit: str) -> pd.DataFrame:
    """The values of ``peers`` in the indicator's comparison year (:func:`leftbehind.data.broad_year`), all from
    that year's comparison edition, in ``unit``."""
    year = data.broad_year(indicator)
    frame = data.table(indicator, year)
    frame = frame[frame["geography"].isin(peers)]
    if len(frame) and unit != str(frame["unit"].iloc[0]):
        frame = data.figures(
            indicator,
            geography=list(frame["geography"]),
            year=year,
            edition=str(frame["edition_id"].iloc[0]),
            unit=unit,
        )
    return frame


def rank_among(iso3: str, peers: list[str], indicator: str, unit: str) -> Rank | None:
    """The country's value of ``indicator`` ranked among the ``peers`` (the country included) that have a value in
    the indicator's comparison year and edition; ``None`` when the country has none or no other peer has one.

    Examples
    --------
    >>> r = rank_among("NPL", ["NPL", "LKA", "BGD"], "remittances_received_pct_gdp", "percent")
    >>> (r.rank, r.n) if r else None
    (1, 3)
    >>> rank_among("NPL", "LKA", "remittances_received_pct_gdp", "percent")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: peers must be a list of ISO3 codes such as ["LKA", "BGD"], got 'LKA' (str)
    """
    if isinstance(peers, str) or not isinstance(peers, _SEQUENCES):
        raise ParameterError(
            f'peers must be a list of ISO3 codes such as ["LKA", "BGD"], got {peers!r} ({type(peers).__name__})'
        )
    if not len(peers):
        raise ParameterError("peers is empty: give the countries to rank among (the country's own code may be one)")
    checked = check_codes("peers", list(peers), countries_only=True)
    frame = _peer_values(sorted({*checked, check_code("iso3", iso3, countries_only=True)}), indicator, unit)
    frame = frame[~data.published_zeros(frame)]  # a 0 that may be a flow not reported is neither ranked nor ranks
    values = frame.set_index("geography")["value"]
    if iso3 not in values.index or len(values) < 2:
        return None
    year, edition = int(frame["year"].iloc[0]), str(frame["edition"].iloc[0])
    rank = int((values > values[iso3]).sum()) + 1
    return Rank(year, float(values[iso3]), rank, len(values), float(values.median()), edition)


def region_of(iso3: str) -> str | None:
    """The country's UN M49 sub-region as the data package's geographies table gives it (``None`` if none).

    Examples
    --------
    >>> region_of("NPL")
    'Southern Asia'
    """
    geo = data.geographies().set_index("code")
    value = geo.loc[check_code("iso3", iso3, countries_only=True), "un_region"]
    return None if pd.isna(value) or not str(value) else str(value)


def income_group_of(iso3: str) -> str | None:
    """The country's World Bank income group; ``""`` when the World Bank gives it none, ``None`` while the
    classification is not in the data package.

    Examples
    --------
    >>> income_group_of("NPL") in (None, "Low income", "Lower middle income")
    True
    """
    iso3 = check_code("iso3", iso3, countries_only=True)
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
    """One comparison sentence; a country alone in its group with a value is said to be alone, not ranked.

    Examples
    --------
    >>> _rank_sentence("Bermuda", Rank(2023, 1.5, 1, 1, 1.5, "WDI"), "remittances", "% of GDP", "North America")
    'Remittances: 1.5 % of GDP for Bermuda in 2023, the only country of North America with a value that year (WDI).'
    """
    if rank.n == 1:
        return (
            f"{what[0].upper()}{what[1:]}: {fmt_value(rank.value, unit)} for {name} in {rank.year}, the only country "
            f"of {group} with a value that year ({md(rank.edition)})."
        )
    return (
        f"{what[0].upper()}{what[1:]}: {fmt_value(rank.value, unit)} for {name} in {rank.year}, "
        f"{_position(rank.rank, rank.n)} of the {rank.n} countries of {group} with a value that year "
        f"(median {fmt_value(rank.median, unit)}; {md(rank.edition)})."
    )


def _group_line(iso3: str, label: str, group: str, peers: list[str]) -> str:
    name = md(data.country_name(iso3))
    sentences = [
        _rank_sentence(name, r, md(what), unit, md(group))
        for indicator, unit, what in COMPARED
        if (r := rank_among(iso3, peers, indicator, unit)) is not None
    ]
    if not sentences:
        whats = " or ".join(md(what) for *_, what in COMPARED)
        sentences = [f"No other country of {md(group)} has a value of {whats} in the year compared."]
    return f"- **Against its {label} ({md(group)}).** " + " ".join(sentences)


def _groups(iso3: str) -> tuple[str | None, list[str], str | None, list[str]]:
    """The country's World Bank region and income group (``None`` when the World Bank gives none) with the
    economies of each."""
    try:
        table = classification_table()
    except DataError:
        return None, [], None, []
    row = table[table["code"] == iso3]
    if row.empty:
        return None, [], None, []
    region, group = str(row["region"].iloc[0]) or None, str(row["income_group"].iloc[0]) or None
    in_region = table.loc[table["region"] == region, "code"].tolist() if region else []
    in_group = table.loc[table["income_group"] == group, "code"].tolist() if group else []
    return region, in_region, group, in_group


def comparison(iso3: str) -> str:
    """Markdown lines setting the country against the other economies of its World Bank region and income
    group, each indicator in one year and one edition for every country; one plain sentence for what cannot be
    compared.

    Examples
    --------
    >>> print(comparison("NPL").splitlines()[0][:61])
    - **Against its World Bank region (South Asia).** Remittances
    """
    iso3 = check_code("iso3", iso3, countries_only=True)
    name = md(data.country_name(iso3))
    region, in_region, group, in_group = _groups(iso3)
    lines = []
    if region is None:
        lines.append(f"- **Against its World Bank region.** The World Bank gives {name} no region.")
    else:
        lines.append(_group_line(iso3, "World Bank region", region, in_region))
    if group is None:
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
    ['emigrant_stock', 'remittances_paid_usd', 'remittances_received_pct_gdp']
    """
    iso3 = check_code("iso3", iso3, countries_only=True)
    frames = [data.figures("remittances_paid_usd", geography=iso3)]
    for indicator in ("remittances_received_usd", "remittances_received_pct_gdp"):
        if not len(data.figures(indicator, geography=iso3, series=_WDI)):
            frames.append(data.figures(indicator, geography=iso3, series=_BRIEFS).tail(1))
    _, in_region, _, in_group = _groups(iso3)
    for peers in (in_region, in_group):
        for indicator, unit, _ in COMPARED:
            frame = _peer_values(sorted({*peers, iso3}), indicator, unit)
            if len(frame) >= 2:
                frames.append(frame)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else data.figures("remittances_paid_usd", geography=iso3)
