"""Checks of the arguments that public lookup functions take: geography codes and years, declared once.

A lookup that filters by an unknown code, or by ``"2020"`` instead of ``2020``, would otherwise answer with an
empty or partial table, which reads like "no data". Every function of :mod:`leftbehind.data`,
:mod:`leftbehind.literature` and :mod:`leftbehind.country` that takes a code or a year checks it here and raises
:class:`~leftbehind.errors.ParameterError` naming the parameter, the value and what would be valid (for a code,
the closest valid one, a different-case spelling first).

Examples
--------
>>> check_codes("geography", ["WLD", "NPL"])
['WLD', 'NPL']
>>> check_codes("geography", "wld")
Traceback (most recent call last):
...
leftbehind.errors.ParameterError: geography "wld" is not a country or aggregate code. Did you mean "WLD"? Valid: ...
>>> check_year_range("years", (2000, 2024))
(2000, 2024)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from .._io import data_dir
from ..errors import ParameterError, choice_error
from .tabular import _mtime_ns, _resource, _with_references, load, record_reads

#: Containers accepted where a list of codes is expected (a single string is one code).
_SEQUENCES = (list, tuple, set, frozenset, pd.Series, pd.Index, np.ndarray)


def _known_codes(countries_only: bool) -> tuple[list[str], frozenset[str]]:
    """The valid codes, sorted and as a set (parsed once per version of the geographies file)."""
    path = data_dir() / _resource("geographies")["path"]
    record_reads(_with_references("geographies"))  # what loading it records, whether or not it is cached
    return _codes_cached(str(path), _mtime_ns(path), countries_only)


@functools.lru_cache(maxsize=8)
def _codes_cached(path: str, mtime_ns: int, countries_only: bool) -> tuple[list[str], frozenset[str]]:
    geo = load("geographies")
    if countries_only:
        geo = geo[geo["kind"] == "country"]
    codes = sorted(geo["code"].tolist())
    return codes, frozenset(codes)


def check_codes(what: str, value: Any, countries_only: bool = False) -> list[str]:
    """The codes in ``value`` (one code, or a list of them), each checked against the geographies table.

    Parameters
    ----------
    what
        The parameter's name, for the message (``"geography"``, ``"country"``, …).
    value
        A code (``"NPL"``) or a list, tuple, set, Series or array of codes.
    countries_only
        Accept only codes of kind ``country`` (ISO3), not aggregates such as ``"WLD"`` or ``"LMY"``.

    Returns
    -------
    list of str
        The codes, in the order given (a single code gives a one-element list).

    Raises
    ------
    ParameterError
        For an unknown code (with did-you-mean and the valid codes), an empty list, or a value that is not a
        string or a list of strings.

    Examples
    --------
    >>> check_codes("country", "NPL", countries_only=True)
    ['NPL']
    >>> check_codes("geography", ["WLD", "NLP"])
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: geography "NLP" is not a country or aggregate code. Did you mean "NPL"? Valid: ...
    >>> check_codes("country", "Nepal")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: country "Nepal" is a name; give its code: "NPL"
    >>> check_codes("country", "WLD", countries_only=True)
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: country "WLD" is not an ISO3 country code. It is the aggregate "World", whose figures are in figures(). Valid: ...
    """
    if isinstance(value, str):
        codes = [value]
    elif isinstance(value, _SEQUENCES):
        codes = list(value)
        if not codes:
            raise ParameterError(f"{what}: an empty list selects nothing; give at least one code (or None for all)")
    else:
        raise ParameterError(
            f'{what} must be a code such as "NPL" or a list of codes, got {value!r} ({type(value).__name__})'
        )
    valid, known = _known_codes(countries_only)
    how = "an ISO3 country code" if countries_only else "a country or aggregate code"
    for code in codes:
        if not isinstance(code, str):
            raise ParameterError(f"{what}: each code must be a string, got {code!r} ({type(code).__name__})")
        if code not in known:
            named = _code_of_name(code, known)
            if named is not None:
                raise ParameterError(f'{what} "{code}" is a name; give its code: "{named}"')
            aggregate = countries_only and code in _known_codes(False)[1]
            hint = f'It is the aggregate "{name_of(code)}", whose figures are in figures().' if aggregate else None
            raise choice_error(what, code, valid, how, hint=hint)
    return codes


def name_of(code: str) -> str:
    """The short name of a code of the geographies table (a code checked already: see :func:`check_code`)."""
    geo = load("geographies")
    return str(geo.loc[geo["code"] == code, "name"].iloc[0])


def _code_of_name(name: str, known: frozenset[str]) -> str | None:
    """The code of the geography whose name is ``name`` (case and surrounding spaces ignored), or None."""
    geo = load("geographies")
    hit = geo[(geo["name"].str.casefold() == name.strip().casefold()) & geo["code"].isin(known)]
    return None if hit.empty else str(hit["code"].iloc[0])


def check_code(what: str, value: Any, countries_only: bool = False) -> str:
    """One code, checked as by :func:`check_codes` (a list is refused).

    Examples
    --------
    >>> check_code("iso3", "LKA")
    'LKA'
    """
    if not isinstance(value, str):
        raise ParameterError(f'{what} must be one code such as "NPL", got {value!r} ({type(value).__name__})')
    return check_codes(what, value, countries_only)[0]


def check_year(what: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a whole number of type int (Python or NumPy; not bool, str or float).

    Examples
    --------
    >>> check_year("year", 2020)
    2020
    >>> check_year("year", "2020")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: year must be a whole number such as 2020, got '2020' (str)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{what} must be a whole number such as 2020, got {value!r} ({type(value).__name__})")
    return int(value)


def check_year_range(what: str, value: Any) -> tuple[int, int]:
    """An inclusive ``(first, last)`` range of years: two whole numbers, the first not after the last.

    Examples
    --------
    >>> check_year_range("years", [2019, 2020])
    (2019, 2020)
    >>> check_year_range("years", (2020,))
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: years must be a (first, last) pair of years such as (2000, 2024), got (2020,)
    """
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ParameterError(f"{what} must be a (first, last) pair of years such as (2000, 2024), got {value!r}")
    first, last = (check_year(f"{what}[{i}]", y) for i, y in enumerate(value))
    if first > last:
        raise ParameterError(f"{what}: the first year {first} is after the last year {last}")
    return first, last
