"""The newest figures a profile headlines: for each indicator, the newest year the data package holds for the
country, from the edition released last for that year, with both named (Tajikistan's remittances are headlined
for 2024, the newest year any edition gives, not for the last year of one release).

Examples
--------
>>> h = headline("TJK").set_index("indicator")
>>> int(h.loc["remittances_received_pct_gdp", "year"]) >= 2023
True
"""

from __future__ import annotations

import pandas as pd

from .. import data
from ..data.arguments import check_code

__all__ = ["HEADLINE", "headline", "headline_value"]

#: The indicators a profile headlines, each with the unit it is shown in.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("remittances_received_usd", "USD billion"),
    ("remittances_received_pct_gdp", "percent"),
    ("remittance_cost_to_country_pct", "percent"),
    ("emigrant_stock", "million persons"),
    ("emigrant_stock_share_population", "percent"),
    ("migrant_stock", "million persons"),
    ("migrant_stock_share_population", "percent"),
    ("remittances_paid_usd", "USD billion"),
    ("remittance_cost_from_country_pct", "percent"),
)
_UNITS = dict(HEADLINE)


def headline(iso3: str) -> pd.DataFrame:
    """One row per :data:`HEADLINE` indicator the country has a value of: the newest year's value (the edition
    released last for that year), in the unit shown, with the year, edition and source.

    Returns
    -------
    pandas.DataFrame
        The :func:`leftbehind.data.figures` columns; indicators without a value are absent.

    Examples
    --------
    >>> row = headline("NPL").set_index("indicator").loc["emigrant_stock"]
    >>> int(row["year"]), row["edition_id"]
    (2024, 'undesa_ims_2024')
    """
    iso3 = check_code("iso3", iso3, countries_only=True)
    rows = []
    for indicator, unit in HEADLINE:
        frame = data.figures(indicator, geography=iso3, unit=unit if unit != "percent" else None)
        if len(frame):
            rows.append(frame.sort_values(["year", "released"], kind="stable").tail(1))
    if not rows:
        return data.figures(HEADLINE[0][0], geography=iso3).head(0)
    return pd.concat(rows, ignore_index=True)


def headline_value(frame: pd.DataFrame, indicator: str) -> pd.Series | None:
    """The row of ``indicator`` in a :func:`headline` frame, or ``None``."""
    rows = frame[frame["indicator"] == indicator]
    return None if rows.empty else rows.iloc[0]
