"""One country's profile: its emigrants and immigrants, remittances against the low- and middle-income
average, the evidence on its children left behind, and the sources. Missing data gives a shorter, honest
profile, never an error. Public names are re-exported by :mod:`leftbehind.country`.

Examples
--------
>>> emigrants("LKA")["geography"].unique().tolist()
['LKA']
"""

from __future__ import annotations

import pandas as pd

from .. import data, literature, meta
from .._markup import end_sentence, minus_sign
from .._markup import escape_markdown as md
from ..data.arguments import check_code
from ..errors import DataError, ParameterError, check_flag, years_listed
from ..literature.studies import count_studies
from .context import figures_used
from .latest import headline, headline_value
from .sentences import fmt_value

#: The labour-sending countries the collection follows closely (ISO3): the WDI refresh fetches their series and
#: tests check their coverage. The report plan profiles every country with figures (``data.countries()``).
PROFILE_COUNTRIES: tuple[str, ...] = (
    "ARM",
    "BGD",
    "EGY",
    "SLV",
    "GTM",
    "HND",
    "IND",
    "IDN",
    "KGZ",
    "MEX",
    "MDA",
    "NPL",
    "PAK",
    "PHL",
    "LKA",
    "TJK",
    "VNM",
    "KHM",
)


def _check(iso3: str) -> str:
    # ParameterError with did-you-mean and the valid codes for an unknown code or an aggregate
    return check_code("iso3", iso3, countries_only=True)


def emigrants(iso3: str) -> pd.DataFrame:
    """Emigrant stock of a country (persons from it living abroad, UN DESA), from the newest revision that gives
    the country's series (one revision: a line never splices two), in million persons; empty when the package
    has none.

    Examples
    --------
    >>> emigrants("LKA")["unit"].unique().tolist()
    ['million persons']
    """
    df = data.single_edition(
        data.figures("emigrant_stock", geography=_check(iso3), edition="all", unit="million persons")
    )
    return df.assign(label=data.country_name(iso3)).reset_index(drop=True)


def immigrants(iso3: str) -> pd.DataFrame:
    """International migrants living in the country (UN DESA), from the newest revision that gives the country's
    series, million persons.

    Examples
    --------
    >>> len(immigrants("NPL")) > 0
    True
    """
    df = data.single_edition(
        data.figures("migrant_stock", geography=_check(iso3), edition="all", unit="million persons")
    )
    return df.assign(label=data.country_name(iso3)).reset_index(drop=True)


def remittance_comparison(iso3: str, measure: str = "pct_gdp", years: tuple[int, int] = (2000, 2024)) -> pd.DataFrame:
    """Remittances received by the country and, for comparison, by low- and middle-income countries as a
    whole (World Development Indicators, latest release); ``label`` names each line.

    Examples
    --------
    >>> sorted(remittance_comparison("NPL", "pct_gdp", (2019, 2020))["label"].unique())
    ['Low- and middle-income countries', 'Nepal']
    """
    own = data.remittances([_check(iso3)], measure, years)
    lmy = data.remittances(["LMY"], measure, years)
    return pd.concat([own, lmy], ignore_index=True)


def evidence(iso3: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Primary studies from the country and their direction-of-findings table (see
    :func:`leftbehind.literature.direction_table`).

    Examples
    --------
    >>> st, table = evidence("LKA")
    >>> "wickramage2015" in set(st["study_id"])
    True
    """
    st = literature.studies(country=_check(iso3))
    return st, literature.direction_table(st["study_id"])


def pooled_by_outcome(iso3: str, min_studies: int = 2) -> pd.DataFrame:
    """Random-effects (REML) pooled SMD per outcome, from the country's comparable studies, where at least
    ``min_studies`` exist; empty otherwise. ``converted`` counts the studies whose odds ratio was converted to an
    SMD to be pooled with the others (:func:`leftbehind.literature.analysis_set`: SMD = ln OR × √3/π), which a
    sentence or table about the pool must say.

    Examples
    --------
    >>> pooled_by_outcome("LKA").columns.tolist()
    ['outcome', 'k', 'converted', 'smd', 'ci_low', 'ci_high', 'i2']
    >>> china = pooled_by_outcome("CHN").set_index("outcome")  # Wang 2011 prints scores; Guo 2015, Tang 2018 shares
    >>> int(china.loc["depression", "k"]), int(china.loc["depression", "converted"])
    (3, 2)
    """
    _check(iso3)
    if isinstance(min_studies, bool) or not isinstance(min_studies, int) or min_studies < 2:
        raise ParameterError(f"min_studies must be a whole number of at least 2 (a pool), got {min_studies!r}")
    rows = []
    for outcome in literature.outcomes()["outcome"]:
        s = literature.analysis_set(outcome, "SMD")
        s = s[s["country"] == iso3]
        if len(s) >= max(2, min_studies):
            r = meta.pool(s["yi"], s["vi"], method="REML")
            converted = int((s["es_measure_read"] != "SMD").sum())
            rows.append(
                {"outcome": outcome, "k": r.k, "converted": converted, "smd": r.estimate, "ci_low": r.ci_low,
                 "ci_high": r.ci_high, "i2": r.I2}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["outcome", "k", "converted", "smd", "ci_low", "ci_high", "i2"])


def zeros_note(frame: pd.DataFrame, name: str) -> str:
    """The sentence under a chart of ``frame`` (a :func:`leftbehind.data.figures` result) that draws a published 0
    of the World Bank's remittance series (:func:`leftbehind.data.published_zeros`): for ``name``, the years and
    the edition, and what such a 0 may stand for; ``""`` when the chart draws none.

    Examples
    --------
    >>> print(zeros_note(data.remittances(["IRN"], "usd"), "Iran"))
    The chart draws the World Bank's 0 for Iran in 2005–2023 (World Development Indicators, release of 2025-07-01) as published: a 0 in the World Bank's remittance series may stand for flows that were not reported, not for none.
    >>> zeros_note(data.remittances(["NPL"], "usd"), "Nepal")
    ''
    """
    zeros = frame[data.published_zeros(frame)]
    if zeros.empty:
        return ""
    spans = "; ".join(
        f"{years_listed(part['year'])} ({md(str(edition))})" for edition, part in zeros.groupby("edition", sort=False)
    )
    return f"The chart draws the World Bank's 0 for {md(name)} in {spans} as published: {data.ZERO_NOTE}."


def _edition(row: pd.Series) -> str:
    return md(str(row["edition"]))


def _emigrant_line(name: str, iso3: str, latest: pd.DataFrame) -> str:
    row = headline_value(latest, "emigrant_stock")
    if row is None:
        return f"- **Emigrants.** No UN DESA estimate of emigrants from {name} in the data package."
    year, edition_id = int(row["year"]), str(row["edition_id"])
    series = data.figures("emigrant_stock", geography=iso3, edition=edition_id, sex=None, unit="million persons")
    women = series[(series["year"] == year) & (series["sex"] == "female")]
    first = series[series["sex"] == "total"].sort_values("year").iloc[0]
    text = f"- **Emigrants.** UN DESA counts {fmt_value(row['value'], 'million persons')} people from {name} living abroad in {year}"
    if len(women) and row["value"]:
        text += f", {fmt_value(women['value'].iloc[0] / row['value'] * 100, 'percent')} of them women"
    if int(first["year"]) < year:  # each figure's edition right after it, not one after the other at the end
        text += f", against {fmt_value(first['value'], 'million persons')} in {int(first['year'])}"
        text += f" (same revision: {_edition(row)})"
    else:
        text += f" ({_edition(row)})"
    share = headline_value(latest, "emigrant_stock_share_population")
    if share is not None:
        text += (
            f"; in {int(share['year'])} its emigrants were {fmt_value(share['value'], 'percent')} of its population "
            f"({_edition(share)})"
        )
    return text + "."


def _remittance_line(name: str, latest: pd.DataFrame) -> str:
    parts = []
    usd = headline_value(latest, "remittances_received_usd")
    pct = headline_value(latest, "remittances_received_pct_gdp")
    zeros = [row for row in (usd, pct) if row is not None and row["value"] == 0]
    zeros_said = ""
    if zeros:  # a published 0 may be a flow not reported: said as the World Bank's, with the caveat
        said = " and ".join(
            f"{'USD 0' if row['indicator'] == 'remittances_received_usd' else '0 % of GDP'} in {int(row['year'])} "
            f"({_edition(row)})"
            for row in zeros
        )
        usd, pct = (None if row is not None and row["value"] == 0 else row for row in (usd, pct))
        zeros_said = (
            f"The World Bank gives 0 for the remittances {name} received: {said}, as published; {data.ZERO_NOTE}"
        )
    if usd is not None:
        parts.append(f"{fmt_value(usd['value'], 'USD billion')} in {int(usd['year'])} ({_edition(usd)})")
    if pct is not None:
        year = int(pct["year"])
        lmy = data.figures("remittances_received_pct_gdp", geography="LMY", year=year, edition=str(pct["edition_id"]))
        avg = (
            ""
            if lmy.empty
            else f", against {fmt_value(lmy['value'].iloc[0], 'percent')} for low- and middle-income countries as a whole"
        )
        parts.append(f"{fmt_value(pct['value'], 'percent')} of GDP in {year}{avg} ({_edition(pct)})")
    if not parts and not zeros_said:
        return f"- **Remittances.** No series of remittances received by {name} in the data package."
    said_parts = f"{name} received {'; '.join(parts)}" if parts else ""
    text = "- **Remittances.** " + ". ".join(t for t in (said_parts, zeros_said) if t)
    cost = headline_value(latest, "remittance_cost_to_country_pct")
    if cost is not None:
        text += (
            f". Sending USD 200 to {name} cost {fmt_value(cost['value'], 'percent')} of the amount on average in "
            f"{int(cost['year'])} ({_edition(cost)})"
        )
    return text + "."


def _class_line(name: str, iso3: str) -> str:
    try:
        row = data.classification(iso3)
    except DataError:
        return end_sentence(f"- **Income group and region.** The World Bank does not classify {name}")
    group = md(row["income_group"]) if row["income_group"] else "no income group"
    return (
        f"- **Income group and region.** The World Bank classifies {name} as {group}, in its "
        f"{md(row['region'])} region ({md(row['fiscal_year'])} classification)."
    )


def narrative(iso3: str) -> str:
    """A short Markdown profile generated from the numbers: the newest value the data package holds for each
    figure (:func:`leftbehind.country.latest.headline`), each with its year and edition. The data's strings
    (names, editions, outcomes) are escaped: no markup in the data reaches a report as HTML.

    Examples
    --------
    >>> print(narrative("LKA").splitlines()[0][:44])
    - **Emigrants.** UN DESA counts 1.49 million
    """
    name = md(data.country_name(_check(iso3)))
    latest = headline(iso3)
    lines = [_emigrant_line(name, iso3, latest), _remittance_line(name, latest), _class_line(name, iso3)]
    st, table = evidence(iso3)
    if st.empty:
        lines.append(
            end_sentence(
                f"- **Children left behind.** The evidence base holds no study of children left behind in {name}"
            )
        )
    else:
        years = st["year"].dropna()
        span = (
            ""
            if not len(years)
            else (
                f", published {int(years.min())}"
                if years.min() == years.max()
                else f", published {int(years.min())}–{int(years.max())}"
            )
        )
        outcomes = sorted({o for cell in st["outcome_domains"] for o in str(cell).split(";") if o and cell == cell})
        totals = table.sum() if len(table) else pd.Series(dtype=int)
        directions = ", ".join(
            f"{int(totals.get(k, 0))} {k.replace('_', ' ')}"
            for k in ("harm", "no_difference", "benefit")
            if k in totals.index
        )
        lines.append(
            f"- **Children left behind.** {count_studies(len(st))} from {name}{span}, on "
            f"{', '.join(md(literature.outcome_name(o, in_sentence=True)) for o in outcomes) or 'unspecified outcomes'}"
            + (f"; their effect rows found {directions}." if directions else ".")
        )
        pooled = pooled_by_outcome(iso3)
        if pooled.empty:
            lines.append(
                f"- **Pooled evidence.** No outcome has two comparable studies from {name}: the evidence is "
                "too thin to pool."
            )
        else:
            for r in pooled.itertuples():
                lines.append(
                    f"- **Pooled evidence, {md(literature.outcome_name(r.outcome, in_sentence=True))}.** "
                    f"{count_studies(r.k)}, SMD {_two(r.smd)} (95% CI {_two(r.ci_low)} to {_two(r.ci_high)}; "
                    f"{_converted(r.converted, r.k)}positive = worse for left-behind children)."
                )
    return "\n".join(lines)


def _two(value: float) -> str:
    """A pooled SMD or its limit in a sentence: two decimals and a minus sign, as the profile's table prints them.

    Examples
    --------
    >>> _two(-0.1234), _two(0.5), _two(-0.001)
    ('−0.12', '0.50', '0.00')
    """
    return minus_sign(f"{value:.2f}")


def _converted(converted: int, k: int) -> str:
    """What a pooled SMD's sentence says of the odds ratios converted into it ("" for none).

    Examples
    --------
    >>> _converted(3, 3), _converted(1, 4), _converted(0, 2)
    ('all odds ratios converted to SMD, ', '1 odds ratio converted to SMD, ', '')
    """
    if not converted:
        return ""
    if converted == k:
        return "all odds ratios converted to SMD, "
    return f"{converted} odds ratio{'' if converted == 1 else 's'} converted to SMD, "


def as_of(iso3: str) -> str:
    """The release date of the newest edition among the figures of a country's profile (``YYYY-MM`` or
    ``YYYY-MM-DD`` as the editions table gives it): the date a brief says its data are "as of".

    Examples
    --------
    >>> as_of("NPL") >= "2025"
    True
    """
    frames = [emigrants(iso3), immigrants(iso3), headline(iso3)]
    released = [str(r) for f in frames if len(f) for r in f["released"].dropna()]
    return max(released) if released else ""


def sources(iso3: str, studies: bool = True) -> str:
    """Markdown list of every source behind the profile: the data package's sources, then (``studies``) the
    studies (see :func:`study_sources`).

    Examples
    --------
    >>> "World Development Indicators" in sources("NPL")
    True
    >>> "**Studies**" in sources("NPL", studies=False)
    False
    """
    check_flag("studies", studies)
    share = data.remittances([iso3], "pct_gdp")
    frames = [
        emigrants(iso3),
        immigrants(iso3),
        data.remittances([iso3], "usd"),
        share,
        # the comparison line of low- and middle-income countries is drawn only beside the country's own
        data.remittances(["LMY"], "pct_gdp") if len(share) else share,
        headline(iso3),
        figures_used(iso3),
    ]
    frames = [f for f in frames if len(f)]
    text = data.sources_markdown(pd.concat(frames)) if frames else "No figures for this country in the data package."
    return text + ("\n\n" + study_sources(iso3) if studies and study_sources(iso3) else "")


#: The class of text shown only when a report is printed (its brief): the report template hides it on screen.
PRINT_ONLY = "lb-print-only"


def studies_in_print_note(iso3: str) -> str:
    """A paragraph for the printed brief, which leaves the bibliography of studies out (it would double its
    length): how many studies the web report lists. ``""`` when the country has none.

    Examples
    --------
    >>> studies_in_print_note("LKA")  # doctest: +ELLIPSIS
    '\\n\\n<p class="lb-print-only">The ... studies from Sri Lanka are listed in the web version of this report.</p>'
    """
    st, _ = evidence(iso3)
    if st.empty:
        return ""
    name = md(data.country_name(iso3))
    which = "The study" if len(st) == 1 else f"The {count_studies(len(st))}"
    verb = "is" if len(st) == 1 else "are"
    return f'\n\n<p class="{PRINT_ONLY}">{which} from {name} {verb} listed in the web version of this report.</p>'


def findings_note(iso3: str) -> str:
    """The sentence the evidence section shows in place of its chart when the country has studies but none of
    their findings is entered as an effect row (so no direction of findings can be drawn); ``""`` when there is
    a chart to draw, or no study (the section says so itself).

    Examples
    --------
    >>> findings_note("LKA")
    ''
    >>> findings_note("TJK")  # four studies, no effect row entered
    'The 4 studies from Tajikistan in the evidence base have no finding entered as an effect row yet (an outcome, its direction and where it was read), so there is no chart of their findings; the studies are listed under Sources.'
    >>> findings_note("JAM")[:63]
    'The study from Jamaica in the evidence base has no finding ente'
    """
    st, table = evidence(iso3)
    if st.empty or len(table):
        return ""
    name = md(data.country_name(iso3))
    one = len(st) == 1
    which, verb = ("The study", "has") if one else (f"The {count_studies(len(st))}", "have")
    return (
        f"{which} from {name} in the evidence base {verb} no finding entered as an effect row yet (an outcome, its "
        f"direction and where it was read), so there is no chart of {'its' if one else 'their'} findings; "
        f"{'it is' if one else 'the studies are'} listed under Sources."
    )


def study_sources(iso3: str) -> str:
    """The studies from the country, as a Markdown bibliography under a "Studies" heading; ``""`` for none.

    Examples
    --------
    >>> study_sources("LKA").startswith("**Studies**")
    True
    """
    st, _ = evidence(iso3)
    return "**Studies**\n\n" + literature.bibliography_markdown(st["study_id"]) if len(st) else ""
