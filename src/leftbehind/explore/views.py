"""What each explorer shows, as plain data: a list of :class:`Section` (Markdown, a figure or a table) built from
the package's own functions. The widgets in :mod:`leftbehind.explore.apps` only lay these out, so every view is
tested here without a browser or a kernel.

Examples
--------
>>> [s.label for s in country_view("LKA")][:2]
['heading', 'narrative']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from .. import country as profile
from .. import data, literature, meta, plots
from .._markup import counted, end_sentence, escape_markdown
from ..country import sentences
from ..data.tabular import split_list
from ..data.units import decimals_for, scaled
from ..errors import ParameterError, check_choice

__all__ = [
    "Section",
    "SORT_KEYS",
    "country_view",
    "indicator_view",
    "indicator_years",
    "evidence_view",
    "meta_view",
    "DIRECTIONS",
    "corridors_view",
]

EVIDENCE_SOURCE = "Source: leftbehind evidence base (data/literature), studies as published"
META_SOURCE = "Source: leftbehind evidence base (data/literature); effects as published, converted to one scale"

#: Decimals of a subgroup table: effects and intervals 2, tau² 3, I² 0.
SUBGROUP_DECIMALS: dict[str, int] = {"estimate": 2, "ci_low": 2, "ci_high": 2, "se": 3, "tau2": 3, "I2": 0, "Q": 2}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


#: Columns the evidence explorer's study table can be sorted by.
SORT_KEYS: tuple[str, ...] = ("year", "country", "design", "n_left_behind")


@dataclass(frozen=True)
class Section:
    """One piece of an explorer's output.

    ``kind`` is ``"markdown"`` (``content`` a Markdown string), ``"figure"`` (a matplotlib figure) or ``"table"``
    (``content`` the DataFrame, ``shown`` the :class:`leftbehind.plots.Table` a reader sees: labels in words,
    fixed decimals, no index); ``label`` names the piece (tests and the app find pieces by it).
    """

    kind: str
    label: str
    content: Any = field(repr=False)
    shown: Any = field(default=None, repr=False)


def _md(label: str, text: str) -> Section:
    return Section("markdown", label, text)


def _fig(label: str, figure: Any) -> Section:
    return Section("figure", label, figure)


def _table(label: str, frame: pd.DataFrame, **options: Any) -> Section:
    """A table section: the frame, and the table a reader sees (:func:`leftbehind.plots.table`)."""
    return Section("table", label, frame, plots.table(frame, **options))


# --- country -------------------------------------------------------------------------------------------


def country_view(iso3: str) -> list[Section]:
    """A country's profile: heading, generated narrative, emigrants, remittances (USD and share of GDP against
    the low- and middle-income average), the evidence on children left behind, sources.

    Raises :class:`~leftbehind.errors.ParameterError` (with did-you-mean) for an unknown code.

    Examples
    --------
    >>> view = country_view("NPL")
    >>> view[0].content
    '## Nepal'
    """
    name = data.country_name(iso3)
    out = [_md("heading", f"## {name}"), _md("narrative", profile.narrative(iso3))]
    em = profile.emigrants(iso3)
    if len(em):
        out.append(
            _fig(
                "emigrants",
                plots.timeseries(
                    em, title=f"Emigrants from {name} living abroad", source=plots.source_line(data.source_labels(em))
                ),
            )
        )
    usd = data.remittances([iso3], "usd")
    if len(usd):
        title = f"Remittances received by {name}"
        out.append(
            _fig(
                "remittances_usd", plots.timeseries(usd, title=title, source=plots.source_line(data.source_labels(usd)))
            )
        )
    share = profile.remittance_comparison(iso3, "pct_gdp")
    if len(share[share["geography"] == iso3]):
        title = f"Remittances received, share of GDP: {name} and low- and middle-income countries"
        src = plots.source_line(data.source_labels(share))
        out.append(
            _fig(
                "remittances_share",
                plots.timeseries(share, title=title, source=src, dashed=["Low- and middle-income countries"]),
            )
        )
    studies, table = profile.evidence(iso3)
    if studies.empty:
        out.append(_md("evidence", end_sentence(f"The evidence base holds no study of children left behind in {name}")))
    else:
        held = counted(len(studies), "study", "studies", bold=True)
        out.append(_md("evidence", end_sentence(f"The evidence base holds {held} of children left behind in {name}")))
        if len(table):
            title = f"What studies from {name} found, per outcome"
            out.append(
                _fig(
                    "directions", plots.direction_bars(table, title, EVIDENCE_SOURCE + "; studies listed under Sources")
                )
            )
        else:
            out.append(_md("directions", profile.findings_note(iso3)))
    out.append(_md("sources", "### Sources\n\n" + profile.sources(iso3)))
    return out


# --- indicator -----------------------------------------------------------------------------------------


def indicator_years(indicator: str, edition: str = "latest") -> list[int]:
    """Years in which ``indicator`` has a value for at least one country (for the explorer's year slider).

    Examples
    --------
    >>> 2020 in indicator_years("remittances_received_pct_gdp")
    True
    """
    return data.ranking_years(indicator, edition)


def indicator_view(indicator: str, year: int, edition: str = "latest", top: int = 15) -> list[Section]:
    """Countries ranked by ``indicator`` in ``year``: a sentence on coverage, a world map of every country with a
    value (the house map: classes, "no data", small countries circled), a bar chart of the ``top`` highest and
    the full ranking table (rank, country, value, unit, source).

    Examples
    --------
    >>> view = indicator_view("remittances_received_pct_gdp", 2020)
    >>> [s.label for s in view]
    ['summary', 'map', 'chart', 'table']
    """
    ranked = data.ranking(indicator, year, edition=edition)
    what = data.indicator_label(indicator)
    if ranked.empty:
        return [_md("summary", f"No country has a value of *{what}* for {year} in the data package.")]
    unit = str(ranked["unit"].iloc[0])
    has = "has" if len(ranked) == 1 else "have"
    summary = _md(
        "summary", f"{counted(len(ranked), 'country', 'countries', bold=True)} {has} a value of *{what}* for {year}."
    )
    source = plots.source_line(data.source_labels(ranked))  # of every country: the map's and the table's
    zeros = data.published_zeros(ranked)  # a published 0 that may be a flow not reported: drawn apart, not ranked
    if zeros.any():
        names = escape_markdown(", ".join(sorted(str(n) for n in ranked.loc[zeros, "name"])))
        summary = _md(
            "summary",
            f"{summary.content} {int(zeros.sum())} of them "
            f"{'has' if zeros.sum() == 1 else 'have'} 0 as published ({names}): {data.ZERO_NOTE}. The map draws "
            "them apart; the chart and the table leave them out.",
        )
    world_map = plots.choropleth(
        ranked[["geography", "value"]],
        f"{what}, {year}: the {len(ranked)} countries with a value",
        unit,
        source,
        zero="0 as published" if zeros.any() else None,
    )
    ranked = data.without_published_zeros(ranked)
    head = ranked.head(top)
    chart = plots.ranking_bars(
        head,
        title=f"{what}, {year}: the {len(head)} highest",
        unit=unit,
        source=plots.source_line(data.source_labels(head)),
    )
    table = ranked[["rank", "name", "geography", "value", "unit", "edition"]].rename(
        columns={"name": "country", "geography": "code"}
    )
    values, shown_unit = scaled(table["value"], unit, by="smallest")
    shown = _table(
        "table",
        table.assign(value=values),
        columns={
            "rank": "Rank",
            "country": "Country",
            "code": "ISO3",
            "value": _capital(shown_unit),
            "edition": "Edition",
        },
        decimals={"value": decimals_for(shown_unit)},
        source=source,
    )
    return [summary, _fig("map", world_map), _fig("chart", chart), Section("table", "table", table, shown.shown)]


# --- corridors -----------------------------------------------------------------------------------------

#: What the corridors explorer shows for a country: where its people live, or where its immigrants come from.
DIRECTIONS: dict[str, str] = {
    "emigrants": "where its people live (destinations)",
    "immigrants": "where its immigrants come from (origins)",
}


def corridors_view(
    country: str, direction: str = "emigrants", year: int = 0, sex: str = "total", top: int = 10
) -> list[Section]:
    """A country's corridors in ``year`` (0: the newest): a sentence, a bar chart and a table of its ``top``
    destinations (``direction="emigrants"``) or origins (``"immigrants"``), each with its share and the share
    of women.

    Raises
    ------
    ParameterError
        For an unknown code, direction, year or sex (with the valid choices).

    Examples
    --------
    >>> [s.label for s in corridors_view("NPL")]
    ['summary', 'chart', 'table']
    """
    check_choice("direction", direction, list(DIRECTIONS), "a direction of the corridors")
    from ..world.corridors import corridor_year

    year = corridor_year(year)
    side, other = ("origin", "destination") if direction == "emigrants" else ("destination", "origin")
    rows = data.corridors(**{side: country}, year=year, sex=sex)
    name = data.country_name(country)
    if rows.empty:
        return [
            _md(
                "summary",
                f"UN DESA's table gives no corridor {'from' if side == 'origin' else 'to'} {sentences.escape_markdown(name)} in {year}.",
            )
        ]
    rows = rows[rows["persons"] > 0]  # a corridor where UN DESA counts no one is not a destination or origin
    head = rows.head(top)
    total = rows["persons"].sum()
    what = "people from" if side == "origin" else "international migrants living in"
    named = rows[rows[other] != data.OTHER_ORIGIN]
    unknown = rows.loc[rows[other] == data.OTHER_ORIGIN, "persons"].sum()
    if unknown > 0 and len(named):
        where = f"from {counted(len(named), 'origin')} and {sentences.fmt_value(unknown, 'persons')} of other or unknown origin"
    elif unknown > 0:
        where = "all of other or unknown origin (UN DESA does not give their countries of origin)"
    else:
        where = f"in {counted(len(named), 'destination' if side == 'origin' else 'origin')}"
    whom = f"{what} {sentences.escape_markdown(name)} ({data.SEX_WORDS.get(sex, sex)})"
    summary = _md(
        "summary",
        f"In {year}, UN DESA counts **{sentences.fmt_value(total, 'persons')}** {whom}, {where}."
        if total > 0
        else f"In {year}, UN DESA counts no {whom}.",
    )
    if rows.empty:
        return [summary]
    chart = plots.ranking_bars(
        head.assign(name=head[f"{other}_name"], value=head["persons"] / 1e6),
        title=f"{name}: {DIRECTIONS[direction]}, {year}"
        + ("" if sex == "total" else f", {data.SEX_WORDS.get(sex, sex)}"),
        unit="million persons",
        source=plots.source_line(data.source_labels(head)),
    )
    share = "share_of_origin" if side == "origin" else "share_of_destination"
    table = head[[f"{other}_name", "persons", share]].rename(columns={f"{other}_name": other, share: "share"})
    shown = _table(
        "table",
        table.reset_index(drop=True),
        columns={other: other.capitalize(), "persons": "Persons", "share": "Share (%)"},
        decimals={"persons": 0, "share": 1},
        source=plots.source_line(data.source_labels(head)),
        ids=True,  # the names are already words
    )
    return [summary, _fig("chart", chart), shown]


# --- evidence ------------------------------------------------------------------------------------------


def evidence_view(
    outcome_domain: str = "all",
    region: str = "all",
    migration_scope: str = "all",
    design: str = "all",
    from_year: int | None = None,
    to_year: int | None = None,
    include_undated: bool = True,
    sort_by: str = "year",
) -> list[Section]:
    """The evidence base filtered like the evidence-map notebook (plus study design): counts, the evidence map
    (countries × outcome domains) and the study table with citations, sorted by ``sort_by``. Studies whose
    publication year is not known are kept unless ``include_undated`` is false.

    Examples
    --------
    >>> view = evidence_view(region="South Asia")
    >>> view[0].label, view[-1].label
    ('summary', 'studies')
    """
    check_choice("sort_by", sort_by, SORT_KEYS, "a column of the study table")
    chosen = literature.select(outcome_domain, region, migration_scope)
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ParameterError(f"from_year {from_year} is after to_year {to_year}")
    year = chosen["year"]
    undated = year.isna() & include_undated
    dated = year.notna() & (year >= (from_year or 0)) & (year <= (to_year or 9999))
    chosen = chosen[(undated | dated).to_numpy(dtype=bool)]
    designs = sorted(literature.studies()["design"].dropna().unique())
    if design != "all":
        check_choice("design", design, ["all", *designs], "a study design in the evidence base")
        chosen = chosen[chosen["design"] == design]
    cells = literature.evidence_map(chosen)
    if outcome_domain != "all":
        cells = cells[cells["domain"] == outcome_domain]
    n_countries = cells["country"].nunique() if len(cells) else 0
    match = "matches" if len(chosen) == 1 else "match"
    out = [
        _md(
            "summary",
            f"{counted(len(chosen), 'study', 'studies', bold=True)} from "
            f"{counted(n_countries, 'country', 'countries', bold=True)} {match} these filters.",
        )
    ]
    if len(cells):
        names = {c: data.country_name(c) for c in cells["country"].unique()}
        out.append(
            _fig(
                "map",
                plots.evidence_heatmap(
                    cells, "Studies by country and outcome domain", EVIDENCE_SOURCE, row_labels=names
                ),
            )
        )
    table = chosen.assign(
        citation=[literature.cite(s) for s in chosen["study_id"]],
        country=[_listed(c, data.country_name) for c in chosen["countries"]],  # names, as the map beside it
        outcome_domains=[_listed(d, literature.outcome_name) for d in chosen["outcome_domains"]],
    )
    columns = ["citation", "year", "country", "design", "n_left_behind", "outcome_domains"]
    newest_first = sort_by in ("year", "n_left_behind")  # numbers: the newest or largest first; words: A to Z
    table = table[columns].sort_values(
        [sort_by, "citation"], ascending=[not newest_first, True], na_position="last", kind="stable"
    )
    table = table.reset_index(drop=True)
    out.append(
        _table(
            "studies",
            table,
            columns={
                "citation": "Study",
                "year": "Year",
                "country": "Countries",
                "design": "Design",
                "n_left_behind": "Left-behind children",
                "outcome_domains": "Outcomes",
            },
            reasons={
                "year": "publication year not known",
                "n_left_behind": "the number of left-behind children was not read in the source",
            },
            max_rows=300,
        )
    )
    return out


def _listed(value: object, name: Callable[[str], str]) -> str:
    """A ``;``-separated list of ids from the data ("GHA;NGA") as names for a reader ("Ghana; Nigeria")."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return "; ".join(name(part) for part in split_list(str(value)))


# --- meta-analysis -------------------------------------------------------------------------------------


def meta_view(
    outcome: str = "depression",
    measure: str = "SMD",
    method: str = "REML",
    ci: str = "normal",
    subgroup_by: str = "none",
) -> list[Section]:
    """A pooled estimate for one outcome, as notebook 06 computes it: the number of comparable studies, the
    forest plot, the pooled sentence with heterogeneity, and a subgroup table when asked for.

    Examples
    --------
    >>> view = meta_view("depression")
    >>> [s.label for s in view]
    ['summary', 'forest', 'pooled']
    """
    check_choice("subgroup_by", subgroup_by, ("none", *literature.SUBGROUP_COLUMNS), "a subgroup column")
    studies = literature.analysis_set(outcome, measure)
    what = literature.outcome_name(outcome, in_sentence=True)
    has = "has" if len(studies) == 1 else "have"
    out = [
        _md(
            "summary", f"{counted(len(studies), 'study', 'studies', bold=True)} {has} a comparable effect for *{what}*."
        )
    ]
    if len(studies) < 2:
        out.append(_md("pooled", f"Fewer than 2 comparable studies: no pooled estimate for {what}."))
        return out
    result = meta.pool(studies["yi"], studies["vi"], method=method, ci=ci)
    out.append(
        _fig(
            "forest",
            plots.forest_plot(
                result, studies["yi"], studies["vi"], labels=studies["label"], measure=measure, source=META_SOURCE
            ),
        )
    )
    out.append(_md("pooled", sentences.pooled_sentence(result, measure, outcome)))
    if subgroup_by != "none":
        if studies[subgroup_by].nunique() >= 2:
            groups = pd.DataFrame(
                meta.on_reporting_scale(meta.subgroups(studies, by=subgroup_by, method=method, ci=ci), measure)
            )
            out.append(
                _table(
                    "subgroups",
                    groups,
                    columns={
                        subgroup_by: _capital(subgroup_by.replace("_", " ")),
                        "k": "Studies (k)",
                        "estimate": measure,
                        "ci_low": "CI low",
                        "ci_high": "CI high",
                        "I2": "I² (%)",
                        "pval": "p",
                        "note": "Note",
                    },
                    formats={"pval": meta.format_p},
                    decimals=SUBGROUP_DECIMALS,
                    reasons={"I2": "not defined for a single study"},
                )
            )
        else:
            out.append(
                _md(
                    "subgroups",
                    f"Not enough studies in at least two groups of {subgroup_by.replace('_', ' ')} for a subgroup "
                    "analysis.",
                )
            )
    return out


def close_figures(view: list[Section]) -> None:
    """Close the matplotlib figures of a view (after they were rendered)."""
    for s in view:
        if s.kind == "figure":
            plt.close(s.content)
