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
from .._markup import escape_markdown as md
from ..data.arguments import check_code
from ..errors import ParameterError
from .context import figures_used
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
    return check_code("iso3", iso3)  # ParameterError with did-you-mean and the valid codes for an unknown code


def emigrants(iso3: str) -> pd.DataFrame:
    """Emigrant stock of a country (persons from it living abroad, UN DESA), latest edition per year, in
    million persons; empty when the package has none.

    Examples
    --------
    >>> emigrants("LKA")["unit"].unique().tolist()
    ['million persons']
    """
    df = data.figures("emigrant_stock", geography=_check(iso3), unit="million persons")
    return df.assign(label=data.country_name(iso3))


def immigrants(iso3: str) -> pd.DataFrame:
    """International migrants living in the country (UN DESA), latest edition per year, million persons.

    Examples
    --------
    >>> len(immigrants("NPL")) > 0
    True
    """
    df = data.figures("migrant_stock", geography=_check(iso3), unit="million persons")
    return df.assign(label=data.country_name(iso3))


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
    ``min_studies`` exist; empty otherwise.

    Examples
    --------
    >>> pooled_by_outcome("LKA").columns.tolist()
    ['outcome', 'k', 'smd', 'ci_low', 'ci_high', 'i2']
    """
    _check(iso3)
    if isinstance(min_studies, bool) or not isinstance(min_studies, int):
        raise ParameterError(f"min_studies must be a whole number such as 2, got {min_studies!r}")
    rows = []
    for outcome in literature.outcomes()["outcome"]:
        s = literature.analysis_set(outcome, "SMD")
        s = s[s["country"] == iso3]
        if len(s) >= max(2, min_studies):
            r = meta.pool(s["yi"], s["vi"], method="REML")
            rows.append(
                {"outcome": outcome, "k": r.k, "smd": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "i2": r.I2}
            )
    return pd.DataFrame(rows, columns=["outcome", "k", "smd", "ci_low", "ci_high", "i2"])


def narrative(iso3: str) -> str:
    """A short Markdown profile generated from the numbers; each sentence names the figure and its edition.
    The data's strings (names, editions, outcomes) are escaped: no markup in the data reaches a report as HTML.

    Examples
    --------
    >>> print(narrative("LKA").splitlines()[0][:44])
    - **Emigrants.** UN DESA counts 1.78 million
    """
    name = md(data.country_name(_check(iso3)))
    lines = []
    em = emigrants(iso3)
    if em.empty:
        lines.append(f"- **Emigrants.** No UN DESA estimate of emigrants from {name} in the data package.")
    else:
        last, first = em.iloc[-1], em.iloc[0]
        change = "" if len(em) < 2 else (f", against {fmt_value(first['value'], 'million persons')} in {first['year']}")
        lines.append(
            f"- **Emigrants.** UN DESA counts {fmt_value(last['value'], 'million persons')} people from "
            f"{name} living abroad in {last['year']}{change} ({md(last['edition'])})."
        )
    usd = data.remittances([iso3], "usd")
    pct = data.remittances([iso3], "pct_gdp")
    if usd.empty and pct.empty:
        lines.append(f"- **Remittances.** No World Development Indicators series for {name} in the data package.")
    else:
        parts = []
        if not usd.empty:
            u = usd.iloc[-1]
            parts.append(f"{fmt_value(u['value'], 'USD billion')} in {u['year']}")
        if not pct.empty:
            p = pct.iloc[-1]
            lmy = data.remittances(["LMY"], "pct_gdp", (int(p["year"]), int(p["year"])))
            avg = (
                ""
                if lmy.empty
                else (
                    f", against {fmt_value(lmy.iloc[0]['value'], 'percent')} for low- and "
                    f"middle-income countries as a whole"
                )
            )
            parts.append(f"{fmt_value(p['value'], 'percent')} of GDP in {p['year']}{avg}")
        lines.append(f"- **Remittances.** {name} received {'; '.join(parts)} (World Development Indicators).")
    st, table = evidence(iso3)
    if st.empty:
        lines.append(f"- **Children left behind.** The evidence base holds no study of children left behind in {name}.")
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
            f"- **Children left behind.** {len(st)} stud{'y' if len(st) == 1 else 'ies'} from {name}{span}, on "
            f"{', '.join(md(o.replace('_', ' ')) for o in outcomes) or 'unspecified outcomes'}"
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
                    f"- **Pooled evidence, {md(r.outcome.replace('_', ' '))}.** {r.k} studies, SMD {r.smd:.2f} "
                    f"(95% CI {r.ci_low:.2f} to {r.ci_high:.2f}; positive = worse for left-behind children)."
                )
    return "\n".join(lines)


def as_of(iso3: str) -> str:
    """The release date of the newest edition among the figures of a country's profile (``YYYY-MM`` or
    ``YYYY-MM-DD`` as the editions table gives it): the date a brief says its data are "as of".

    Examples
    --------
    >>> as_of("NPL") >= "2025"
    True
    """
    frames = [emigrants(iso3), immigrants(iso3), data.remittances([iso3], "usd"), data.remittances([iso3], "pct_gdp")]
    released = [str(r) for f in frames if len(f) for r in f["released"].dropna()]
    return max(released) if released else ""


def sources(iso3: str) -> str:
    """Markdown list of every source behind the profile: the data package's sources, then the studies.

    Examples
    --------
    >>> "World Development Indicators" in sources("NPL")
    True
    """
    frames = [
        emigrants(iso3),
        immigrants(iso3),
        data.remittances([iso3], "usd"),
        data.remittances([iso3], "pct_gdp"),
        data.remittances(["LMY"], "pct_gdp"),
        figures_used(iso3),
    ]
    frames = [f for f in frames if len(f)]
    text = data.sources_markdown(pd.concat(frames)) if frames else "No figures for this country in the data package."
    st, _ = evidence(iso3)
    if len(st):
        text += "\n\n**Studies**\n\n" + literature.bibliography_markdown(st["study_id"])
    return text
