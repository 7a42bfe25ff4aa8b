"""What every reader of a publisher's format shares: the row of a derived figure, numbers written in their
shortest exact form, cells parsed strictly, text decoded with the file named, and the geographies a row may
name.

Examples
--------
>>> number("1234.50"), number("7"), number("1e3")
('1234.5', '7', '1000')
>>> strict_number(" 7 ", "f.csv", "line 3, 1990")
Traceback (most recent call last):
...
leftbehind.errors.DataError: f.csv, line 3, 1990: " 7 " is not a number as the publisher writes them (digits, one dot, an optional exponent)
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from ...errors import DataError
from ..snapshots import Snapshot
from ..tabular import load

__all__ = [
    "FIGURE_FIELDS",
    "Figure",
    "NON_NEGATIVE",
    "AT_MOST_100",
    "number",
    "strict_number",
    "value_problem",
    "whole",
    "decoded",
    "geography_codes",
    "m49_codes",
    "source_id",
]

#: Columns of ``derived/figures.csv``: the value, the source it was read in (``derived/sources.csv``) and its
#: location in that file. The edition comes from the source, the unit from the indicator (its base unit).
FIGURE_FIELDS = ["indicator", "geography", "year", "sex", "value", "source_id", "location"]
#: Indicators whose values cannot be negative: a negative cell is refused, naming it.
NON_NEGATIVE = frozenset(
    {
        "remittances_received_usd",
        "remittances_paid_usd",
        "remittances_received_pct_gdp",
        "gdp_usd",
        "migrant_stock",
        "emigrant_stock",
        "population",
        "migrant_stock_share_population",
        "migrant_stock_female_share",
        "emigrant_stock_share_population",
        "remittance_cost_to_country_pct",
        "remittance_cost_from_country_pct",
    }
)
#: Indicators in percent of a whole they are part of: at most 100 (migrants are part of the population, women part
#: of the migrants, the cost of sending part of the amount sent). Not remittances as a share of GDP, nor emigrants as
#: a share of the population of their country: both exceed 100 for a few small economies (Montserrat's emigrants:
#: 491 % of its population in 2020).
AT_MOST_100 = frozenset(
    {
        "migrant_stock_share_population",
        "migrant_stock_female_share",
        "remittance_cost_to_country_pct",
        "remittance_cost_from_country_pct",
    }
)
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
#: The largest magnitude any derived figure may have (world GDP is about 1e14 US$): a cell beyond it is a
#: broken cell, not a figure.
MAX_MAGNITUDE = Decimal("1e16")


class Figure(NamedTuple):
    """One derived figure: ``value`` already in its shortest exact form (see :func:`number`)."""

    indicator: str
    geography: str
    year: int
    sex: str
    value: str
    source_id: str
    location: str


def number(raw: str | Decimal | float | int) -> str:
    """A number in its shortest exact decimal form, the same text for the same value whatever its source
    (``"66237847600"``, ``"24.12"``): what makes two builds byte-identical."""
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw))
        raw = repr(raw)
    value = Decimal(str(raw)).normalize()
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def strict_number(raw: str, name: str, where: str, indicator: str | None = None) -> Decimal:
    """Parse one cell as the publishers write numbers (``123``, ``-1.5``, ``2.1e-05``): anything else (``nan``,
    ``inf``, ``1_000``, ``" 7 "``, ``1,5``) and numbers beyond any figure's magnitude are refused, as is a
    negative value of an indicator that cannot be negative.

    Raises
    ------
    DataError
        Naming the file, the place in it and the cell.
    """
    if not _NUMBER.fullmatch(raw):
        raise DataError(
            f'{name}, {where}: "{raw}" is not a number as the publisher writes them '
            "(digits, one dot, an optional exponent)"
        )
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise DataError(f'{name}, {where}: "{raw}" is not a number') from None
    if not value.is_finite() or abs(value) > MAX_MAGNITUDE:
        raise DataError(f'{name}, {where}: "{raw}" is beyond any figure\'s magnitude (at most {MAX_MAGNITUDE:.0e})')
    problem = value_problem(indicator, value) if indicator is not None else None
    if problem is not None:
        raise DataError(f'{name}, {where}: "{raw}" {problem}')
    return value


def value_problem(indicator: str, value: Decimal, unit: str | None = None) -> str | None:
    """Why ``value`` cannot be a figure of ``indicator``, or ``None``: negative where the indicator cannot be
    (:data:`NON_NEGATIVE`), above 100 for a share of a whole (:data:`AT_MOST_100`), not whole for a count of
    persons (``unit``, the indicator's base unit in ``indicators.csv``, is ``persons``).

    Examples
    --------
    >>> value_problem("migrant_stock_female_share", Decimal("100.5"))
    'is above 100, which migrant_stock_female_share (in percent of a whole it is part of) cannot be'
    >>> value_problem("emigrant_stock", Decimal("12.5"), "persons")
    'is not a whole number, which emigrant_stock, a count of persons, must be'
    >>> value_problem("emigrant_stock_share_population", Decimal(491), "percent")  # Montserrat, 2020
    """
    if indicator in NON_NEGATIVE and value < 0:
        return f"is negative, which {indicator} cannot be"
    if indicator in AT_MOST_100 and value > 100:
        return f"is above 100, which {indicator} (in percent of a whole it is part of) cannot be"
    if unit == "persons" and value != value.to_integral_value():
        return f"is not a whole number, which {indicator}, a count of persons, must be"
    return None


def finite(value: float, name: str, where: str, indicator: str | None = None) -> Decimal:
    """A value read as a float (a spreadsheet or R cell) checked like :func:`strict_number`."""
    if not math.isfinite(value):
        raise DataError(f'{name}, {where}: "{value}" is not a finite number')
    return strict_number(number(value), name, where, indicator)


def whole(value: object, name: str, where: str) -> int:
    """A year or a count read as a number (an R or spreadsheet cell), which must be a whole number: ``2020.0``
    is 2020; ``2020.5``, ``nan``, ``inf`` or text are refused rather than cut to a whole number or raised as
    a bare ``ValueError``.

    Examples
    --------
    >>> whole(2020.0, "f.rda", "row 3, t")
    2020
    >>> whole(2020.5, "f.rda", "row 3, t")
    Traceback (most recent call last):
    ...
    leftbehind.errors.DataError: f.rda, row 3, t: "2020.5" is not a whole number
    """
    try:
        number_ = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number_ = math.nan
    if isinstance(value, bool) or not math.isfinite(number_) or not number_.is_integer():
        raise DataError(f'{name}, {where}: "{value}" is not a whole number')
    return int(number_)


def decoded(snap: Snapshot, blob: bytes) -> str:
    """The text of a CSV snapshot (UTF-8, a byte-order mark dropped); an undecodable file is named."""
    try:
        return blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{snap.path}: not UTF-8 text (byte {exc.start}); is it a {snap.meta['format']} file at all? "
            f"(record {snap.record} says format {snap.meta['format']}, parser {snap.meta['parser']})"
        ) from None


def geography_codes() -> frozenset[str]:
    """Every code of ``geographies.csv``: a derived row names one of them or is left out."""
    return frozenset(load("geographies")["code"])


def m49_codes() -> dict[str, str]:
    """UN M49 code → the data package's geography code (``geographies.m49``)."""
    geo = load("geographies").dropna(subset=["m49"])
    return dict(zip(geo["m49"].astype(str), geo["code"].astype(str)))


def source_id(snap: Snapshot) -> str:
    """The id under which figures derived from ``snap`` cite it (its record's ``source_id``).

    Raises
    ------
    DataError
        When a record that figures are derived from has no ``source_id``, ``edition_id``, ``series`` or
        ``released`` (each needed to cite it and to order its edition).
    """
    missing = [k for k in ("source_id", "edition_id", "series", "released") if not snap.meta.get(k)]
    if missing:
        raise DataError(
            f"{snap.record}, file {snap.meta['file']}: field {missing[0]} is required for a file figures are "
            f"derived from (parser {snap.meta['parser']}; see snapshot.schema.json)"
        )
    return str(snap.meta["source_id"])
