"""Counts rebuilt from printed percentages (issue 28 item 2): many abstracts print each group's size and the
percentage with the outcome, not the count. The count is the whole number nearest to the printed percentage of
the group; every whole number whose percentage rounds to the printed one (at its printed decimals) is recorded
as the range of counts consistent with it, and a printed chi-square or p value is checked against the counts.
Public names are re-exported by :mod:`leftbehind.literature`.

Arithmetic is exact (decimal fractions of the printed strings), so a count on the boundary of a rounding range
is decided by the printed digits, not by binary floating point.

Examples
--------
>>> r = counts_from_percentage("7.2", 3359)
>>> r.nearest, (r.low, r.high)
(242, (241, 243))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ..errors import ParameterError


@dataclass(frozen=True)
class CountRange:
    """The counts of a group of ``n`` children that a printed percentage can come from.

    Attributes
    ----------
    pct : str
        The percentage exactly as printed.
    n : int
        The group's size.
    nearest : int
        The whole number nearest to ``pct`` % of ``n`` (the count used).
    low, high : int
        The smallest and largest count whose percentage of ``n`` rounds to ``pct`` at its printed decimals
        (either rounding convention at the boundary): the range of counts consistent with it.
    """

    pct: str
    n: int
    nearest: int
    low: int
    high: int

    @property
    def unique(self) -> bool:
        """Whether one count only is consistent with the printed percentage."""
        return self.low == self.high


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ParameterError(f'{what} "{text}" is not a number as printed (e.g. "7.2")') from None
    if not value.is_finite():
        raise ParameterError(f'{what} "{text}" is not a finite number')
    return value


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def counts_from_percentage(pct: str, n: int) -> CountRange:
    """The count nearest to a printed percentage of ``n`` children, and the range of counts consistent with it.

    A count ``k`` is consistent when ``100·k/n`` lies within half a unit of the last printed decimal of ``pct``
    (``|100·k/n − p| ≤ 0.5·10^−d`` for ``d`` printed decimals), i.e. when some rounding of ``100·k/n`` to ``d``
    decimals prints ``pct``.

    Parameters
    ----------
    pct : str
        The percentage as printed, e.g. ``"7.2"``, ``"51.39"``, ``"20"`` (its decimals count: ``"13.0"`` is
        rounded to one decimal, ``"13"`` to none).
    n : int
        The group's size (at least 1).

    Returns
    -------
    CountRange

    Raises
    ------
    leftbehind.errors.ParameterError
        If ``pct`` is not a number between 0 and 100, ``n`` is not a positive whole number, or no whole number of
        ``n`` children gives the printed percentage (then the printed size is not the one the percentage was
        computed on).

    Examples
    --------
    By hand: 7.2 % of 3,359 is 241.848, nearest 242; the range 7.15 % to 7.25 % of 3,359 is 240.17 to 243.53,
    so 241 to 243 (240/3359 = 7.145 % rounds to 7.1).

    >>> r = counts_from_percentage("7.2", 3359)
    >>> r.nearest, r.low, r.high
    (242, 241, 243)
    >>> counts_from_percentage("29.1", 643).unique  # 187/643 = 29.08 %; 186 and 188 give 28.9 and 29.2
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n must be a positive whole number of children, got {n!r}")
    p = _decimal(pct, "pct")
    if not 0 <= p <= 100:
        raise ParameterError(f'pct "{pct}" is not a percentage between 0 and 100')
    half = Fraction(1, 2) * Fraction(10) ** -_decimals(p)
    p_frac = Fraction(p)
    # |100 k / n - p| <= half  <=>  (p - half) n / 100 <= k <= (p + half) n / 100
    low = max(0, math.ceil((p_frac - half) * n / 100))
    high = min(n, math.floor((p_frac + half) * n / 100))
    if low > high:
        below, above = math.floor(p_frac * n / 100), math.ceil(p_frac * n / 100)
        raise ParameterError(
            f"no whole number of {n} children gives the printed {pct} %: {below}/{n} = {100 * below / n:.4f} % and "
            f"{above}/{n} = {100 * above / n:.4f} %; the percentage was computed on another number of children"
        )
    exact = p_frac * n / 100
    nearest = math.floor(exact + Fraction(1, 2))  # ties (exactly x.5) go up
    return CountRange(str(pct).strip(), n, min(max(nearest, low), high), low, high)


def pearson_chi2(a: int, n1: int, c: int, n2: int, *, correction: bool = False) -> float:
    """Pearson's chi-square of the 2×2 table (a, n1 − a; c, n2 − c), with Yates' continuity correction if asked.

    By hand (no correction): χ² = N (a·d − b·c)² / (n1 · n2 · (a + c) · (b + d)).

    Examples
    --------
    >>> round(pearson_chi2(187, 643, 136, 812), 3)  # ningxia_scared_anx, printed 31.606
    31.606
    """
    b, d = n1 - a, n2 - c
    total = n1 + n2
    events, non_events = a + c, b + d
    if min(a, b, c, d) < 0 or n1 < 1 or n2 < 1:
        raise ParameterError(f"counts must lie within their groups: {a}/{n1} and {c}/{n2}")
    if events == 0 or non_events == 0:
        return 0.0
    diff = float(abs(a * d - b * c))
    if correction:
        diff = max(0.0, diff - total / 2)
    return total * diff**2 / (n1 * n2 * events * non_events)


def _chi2_p(chi2: float) -> float:
    """Two-sided p of a chi-square with 1 degree of freedom: P(|Z| > √χ²) = erfc(√(χ²/2))."""
    return math.erfc(math.sqrt(chi2 / 2))


def matches_chi2(printed: str, a: int, n1: int, c: int, n2: int) -> bool:
    """Whether the counts reproduce a printed chi-square at its printed decimals (Pearson, with or without
    Yates' correction: papers use both).

    Examples
    --------
    >>> matches_chi2("31.606", 187, 643, 136, 812), matches_chi2("31.606", 188, 643, 136, 812)
    (True, False)
    """
    value = _decimal(printed, "chi2")
    half = Fraction(1, 2) * Fraction(10) ** -_decimals(value)
    for correction in (False, True):
        got = Fraction(pearson_chi2(a, n1, c, n2, correction=correction))
        if abs(got - Fraction(value)) <= half:
            return True
    return False


def matches_p(printed: str, a: int, n1: int, c: int, n2: int) -> bool:
    """Whether the counts give the printed p value: ``"<0.001"`` means below 0.001; ``"0.028"`` means a p that
    rounds to 0.028; a chi-square test with 1 degree of freedom, with or without Yates' correction.

    Examples
    --------
    >>> matches_p("<0.001", 187, 643, 136, 812), matches_p("0.5", 187, 643, 136, 812)
    (True, False)
    """
    text = str(printed).strip()
    bound = text[0] if text[0] in "<>=" else ""
    value = _decimal(text.lstrip("<>="), "p_value")
    ps = [_chi2_p(pearson_chi2(a, n1, c, n2, correction=corr)) for corr in (False, True)]
    if bound == "<":
        return any(p < value for p in ps)
    if bound == ">":
        return any(p > value for p in ps)
    half = Fraction(1, 2) * Fraction(10) ** -_decimals(value)
    return any(abs(Fraction(p) - Fraction(value)) <= half for p in ps)


@dataclass(frozen=True)
class RebuiltCounts:
    """Counts of both groups rebuilt from printed percentages, checked against a printed statistic.

    Attributes
    ----------
    lb, comp : CountRange
        The left-behind and the comparison group.
    events_lb, events_comp : int
        The counts used: the nearest ones, unless only other counts in the ranges reproduce the printed statistic.
    check : str
        ``"chi2 reproduced"``, ``"p reproduced"``, ``"no statistic printed"`` or ``"not reproduced"`` (no counts in
        the ranges give the printed chi-square or p: the group sizes printed are probably not those analysed).
    """

    lb: CountRange
    comp: CountRange
    events_lb: int
    events_comp: int
    check: str


def rebuild_counts(
    pct_lb: str, total_lb: int, pct_comp: str, total_comp: int, chi2: str | None = None, p_value: str | None = None
) -> RebuiltCounts:
    """Both groups' counts from their printed percentages, checked against the printed chi-square (else p value).

    The nearest counts are used when they reproduce the printed statistic (or when none is printed); otherwise the
    pair nearest to them among the consistent pairs that do reproduce it; when no consistent pair reproduces it,
    the nearest counts are kept and ``check`` says ``"not reproduced"``.

    Examples
    --------
    >>> r = rebuild_counts("29.1", 643, "16.7", 812, chi2="31.606")
    >>> r.events_lb, r.events_comp, r.check
    (187, 136, 'chi2 reproduced')
    """
    lb, comp = counts_from_percentage(pct_lb, total_lb), counts_from_percentage(pct_comp, total_comp)
    if chi2 and _decimal(chi2, "chi2") < 0:  # else "not reproduced": read as evidence against the counts
        raise ParameterError(f'chi2 "{chi2}": a chi-square is not negative')
    if p_value and not 0 <= _decimal(str(p_value).strip().lstrip("<>="), "p_value") <= 1:
        raise ParameterError(f'p_value "{p_value}": a p value is between 0 and 1')
    if chi2:
        test, printed, label = matches_chi2, chi2, "chi2"
    elif p_value:
        test, printed, label = matches_p, p_value, "p"
    else:
        return RebuiltCounts(lb, comp, lb.nearest, comp.nearest, "no statistic printed")
    if test(printed, lb.nearest, total_lb, comp.nearest, total_comp):
        return RebuiltCounts(lb, comp, lb.nearest, comp.nearest, f"{label} reproduced")
    pairs = [
        (abs(a - lb.nearest) + abs(c - comp.nearest), a, c)
        for a in range(lb.low, lb.high + 1)
        for c in range(comp.low, comp.high + 1)
        if test(printed, a, total_lb, c, total_comp)
    ]
    if pairs:
        _, a, c = min(pairs)
        return RebuiltCounts(lb, comp, a, c, f"{label} reproduced")
    return RebuiltCounts(lb, comp, lb.nearest, comp.nearest, "not reproduced")


def log_odds_ratio(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    """Log odds ratio of a/n1 against c/n2 and its (Woolf) variance, 1/a + 1/b + 1/c + 1/d.

    Examples
    --------
    >>> y, v = log_odds_ratio(27, 110, 20, 113)  # by hand: ln(27·93 / (83·20)) = 0.41386
    >>> round(y, 5), round(v, 6)
    (0.41386, 0.109838)
    """
    b, d = n1 - a, n2 - c
    if min(a, b, c, d) <= 0:
        raise ParameterError(f"a log odds ratio needs events and non-events in both groups: {a}/{n1} and {c}/{n2}")
    return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def rounding_range_of_effect(rebuilt: RebuiltCounts) -> tuple[float, float]:
    """The smallest and largest log odds ratio the counts consistent with the printed percentages can give: the
    fewest events among left-behind and the most among comparison children, and the other way round.

    Examples
    --------
    By hand: 7.2 % of 3,359 fits 241 to 243 and 5.5 % of 1,667 fits 91 to 92, so the range runs from
    ln(241·1575 / (3118·92)) = ln 1.32322 = 0.28007 to ln(243·1576 / (3116·91)) = ln 1.35059 = 0.30054.

    >>> lo, hi = rounding_range_of_effect(rebuild_counts("7.2", 3359, "5.5", 1667))
    >>> round(lo, 4), round(hi, 4)
    (0.2801, 0.3005)
    """
    lb, comp = rebuilt.lb, rebuilt.comp
    low = log_odds_ratio(lb.low, lb.n, comp.high, comp.n)[0]
    high = log_odds_ratio(lb.high, lb.n, comp.low, comp.n)[0]
    return low, high
