"""Units for reading: the one rule that picks thousand or million persons, USD million or billion, from a
value's magnitude, for text, chart axes, map legends and tables alike (issue 27 item 3).

The data package stores counts in persons (or, where the publisher gives them so, in million persons) and money
in US dollars (or USD billion). A reader should see ``38.9 thousand``, not ``0.0389 million``: every place that
writes a number of persons or dollars chooses its unit with :func:`reading_unit`, so that a sentence and the chart
beside it use the same one.

Examples
--------
>>> reading_unit(38_900, "persons")
('thousand persons', 1000.0)
>>> reading_unit(0.0389, "million persons")  # the same magnitude, stored in millions
('thousand persons', 1000.0)
>>> reading_unit(8.1e9, "USD")
('USD billion', 1000000000.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..errors import ParameterError

__all__ = ["SCALES", "DECIMALS", "base_unit", "reading_unit", "in_unit", "scaled", "decimals_for", "frame_unit"]

#: Unit families whose numbers are shown in a scale chosen from their magnitude: family → (unit, factor to the
#: family's base unit), largest first. The smallest scale is used below the others' thresholds.
SCALES: dict[str, tuple[tuple[str, float], ...]] = {
    "persons": (("million persons", 1e6), ("thousand persons", 1e3), ("persons", 1.0)),
    "USD": (("USD billion", 1e9), ("USD million", 1e6), ("USD", 1.0)),
}
#: Where the thousand scale starts for persons: below 10,000 a count reads best in full ("3,741").
_THOUSANDS_FROM = 1e4
#: Decimals a table shows for a unit: whole persons and dollars, one decimal in the larger scales and for
#: percentages; 2 for anything else (an effect size, a ratio).
DECIMALS: dict[str, int] = {
    "persons": 0,
    "thousand persons": 1,
    "million persons": 1,
    "USD": 0,
    "USD million": 1,
    "USD billion": 1,
    "percent": 1,
    "studies": 0,
}
_FACTORS: dict[str, tuple[str, float]] = {unit: (family, f) for family, s in SCALES.items() for unit, f in s}


def base_unit(unit: str) -> tuple[str, float] | None:
    """The family of ``unit`` and its factor to the family's base unit, or None for a unit without scales
    (percent, studies, an effect size).

    Examples
    --------
    >>> base_unit("USD billion"), base_unit("percent")
    (('USD', 1000000000.0), None)
    """
    return _FACTORS.get(unit)


def reading_unit(magnitude: float, unit: str) -> tuple[str, float]:
    """The unit to show a number of magnitude ``magnitude`` (in ``unit``) in, and that unit's factor to the
    family's base unit: persons from 10,000 in thousands and from a million in millions; US dollars from a million
    in USD million and from a billion in USD billion. A unit without scales is returned as it is, with factor 1.

    Examples
    --------
    >>> reading_unit(12_000_000, "persons"), reading_unit(3_741, "persons")
    (('million persons', 1000000.0), ('persons', 1.0))
    >>> reading_unit(0.2, "USD billion")
    ('USD million', 1000000.0)
    >>> reading_unit(4.9, "percent")
    ('percent', 1.0)
    """
    found = base_unit(unit)
    if found is None:
        return unit, 1.0
    family, factor = found
    size = abs(float(magnitude)) * factor if math.isfinite(float(magnitude)) else 0.0
    for name, f in SCALES[family]:
        if size >= (_THOUSANDS_FROM if name == "thousand persons" else f):
            return name, f
    return SCALES[family][-1]


def in_unit(value: float, unit: str, target: str) -> float:
    """``value`` of ``unit`` expressed in ``target`` (a unit of the same family).

    Examples
    --------
    >>> in_unit(0.0389, "million persons", "thousand persons")
    38.9
    """
    source, goal = base_unit(unit), base_unit(target)
    if source is None or goal is None or source[0] != goal[0]:
        if unit == target:
            return value
        raise ValueError(f"cannot express {unit!r} in {target!r}")
    return round(value * source[1] / goal[1], 12)


def scaled(values: Iterable[float], unit: str, by: str = "largest") -> tuple[list[float], str]:
    """``values`` of ``unit`` in one unit chosen for them all, and that unit. ``by="largest"`` (a chart axis,
    which starts at 0): the largest absolute value decides; ``by="smallest"`` (a map legend's class edges, each
    written out): the smallest non-zero one, so that no edge reads "0.0389".

    Examples
    --------
    >>> scaled([0.0389, 0.0771], "million persons")
    ([38.9, 77.1], 'thousand persons')
    >>> scaled([0.0389, 12.0], "million persons")[1], scaled([0.0389, 12.0], "million persons", by="smallest")[1]
    ('million persons', 'thousand persons')
    """
    values = [float(v) for v in values]
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if by not in ("largest", "smallest"):
        raise ValueError(f'by must be "largest" or "smallest", got {by!r}')
    magnitude = (max if by == "largest" else min)(finite, default=0.0)
    target, _ = reading_unit(magnitude, unit)
    return [in_unit(v, unit, target) for v in values], target


def decimals_for(unit: str, values: Iterable[float] = ()) -> int:
    """The decimals a table shows for numbers of ``unit`` (:data:`DECIMALS`; 2 for a unit not listed), or, where
    ``values`` are given and the smallest non-zero one would read as 0, as many more as it needs (at most 3), so
    that a share of 0.004 % is not written "0.0".

    Examples
    --------
    >>> decimals_for("thousand persons"), decimals_for("persons"), decimals_for("SMD")
    (1, 0, 2)
    >>> decimals_for("percent", [38.4, 0.04]), decimals_for("percent", [38.4, 0.0])
    (2, 1)
    """
    places = DECIMALS.get(unit, 2)
    finite = [abs(float(v)) for v in values if math.isfinite(float(v)) and float(v) != 0]
    if finite and unit not in ("persons", "USD", "studies"):  # whole counts stay whole
        smallest = min(finite)
        while places < 3 and round(smallest, places) == 0:
            places += 1
    return places


def frame_unit(df: Any, unit: str | None, what: str) -> str:
    """The unit ``df``'s values are in: ``unit`` where given, which must then be the frame's own (its ``unit``
    column, where it has one); a frame that mixes units is refused (one axis, one unit).

    Examples
    --------
    >>> import pandas as pd
    >>> frame_unit(pd.DataFrame({"value": [1.0], "unit": "percent"}), None, "timeseries")
    'percent'
    >>> frame_unit(pd.DataFrame({"value": [50.0], "unit": "million persons"}), "persons", "ranking_bars")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: ranking_bars: unit "persons" is not the unit of the frame's values ("million persons"): pass "million persons", or convert the values first (data.figures(..., unit=...))
    """
    units = sorted({str(u) for u in df["unit"].dropna()}) if "unit" in df.columns else []
    if len(units) > 1:
        raise ParameterError(f"{what}: the frame mixes units ({', '.join(units)}); one axis shows one unit: select one")
    if unit is None:
        if not units:
            raise ParameterError(f"{what}: give unit= (the frame has no 'unit' column to read it from)")
        return units[0]
    if not isinstance(unit, str) or not unit:
        raise ParameterError(f'{what}: unit must be a unit such as "percent" or "persons", got {unit!r}')
    if units and units[0] != unit:
        raise ParameterError(
            f'{what}: unit "{unit}" is not the unit of the frame\'s values ("{units[0]}"): pass "{units[0]}", or '
            "convert the values first (data.figures(..., unit=...))"
        )
    return unit
