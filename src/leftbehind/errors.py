"""Exceptions raised by leftbehind.

Every error a researcher can meet names what went wrong and where (file, row, field, plan entry,
parameter or notebook cell) and, where it helps, what would be valid. Catch :class:`LeftbehindError` to
handle any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = [
    "LeftbehindError",
    "DataError",
    "ParameterError",
    "PlanError",
    "ReportError",
    "MetaAnalysisError",
    "did_you_mean",
    "choice_error",
    "check_choice",
    "check_flag",
    "check_frame",
    "is_number",
    "years_listed",
]


def _same_first_word(text: str, choices: list[str]) -> list[str]:
    """For a one-word value, the choices (up to four) whose first word (before ``_``) is the one closest in spelling:
    ``"remitances"`` → the ``remittances_*`` indicators, not ``remittance_cost_pct``."""
    import difflib

    words = {c.casefold().split("_")[0] for c in choices if "_" in c}
    if "_" in text or text in words:  # the closest spelling of the whole value decides ("migrant_stok")
        return []
    nearest = difflib.get_close_matches(text, sorted(words), n=1, cutoff=0.8)
    return [c for c in choices if "_" in c and c.casefold().split("_")[0] == nearest[0]][:4] if nearest else []


def did_you_mean(value: object, valid: Iterable[object], sentence: bool = True) -> str:
    """The closest valid choice as a hint for an error message, or ``""`` when none is close.

    A choice that differs only in case comes first (``"wld"`` → ``"WLD"``), then one with the same letters in
    another order (``"NLP"`` → ``"NPL"``), then the choices that begin with the value (``"remittances"`` → the
    ``remittances_*`` indicators, up to four), then those whose first word is spelled closest (``"remitances"`` →
    the ``remittances_*`` indicators), then the closest spelling.
    ``sentence=True`` gives ``' Did you mean "x"?'`` (after a full stop); ``False`` gives ``'; did you mean "x"?'``.

    Examples
    --------
    >>> did_you_mean("remitances", ["remittances", "iom"])
    ' Did you mean "remittances"?'
    >>> did_you_mean("wld", ["WBG", "WLD"]), did_you_mean("NLP", ["NZL", "NPL"])
    (' Did you mean "WLD"?', ' Did you mean "NPL"?')
    >>> did_you_mean("remittances", ["migrant_stock", "remittances_paid_usd", "remittances_received_usd"])
    ' Did you mean "remittances_paid_usd" or "remittances_received_usd"?'
    >>> did_you_mean("remitances", ["remittance_cost_pct", "remittances_paid_usd", "remittances_received_usd"])
    ' Did you mean "remittances_paid_usd" or "remittances_received_usd"?'
    >>> did_you_mean("xyz", ["remittances"], sentence=False)
    ''
    """
    import difflib

    choices = [str(v) for v in valid]
    text = str(value).casefold()
    same_case = [c for c in choices if c.casefold() == text]
    same_letters = [c for c in choices if sorted(c.casefold()) == sorted(text)]
    close = same_case[:1] or difflib.get_close_matches(str(value), same_letters, n=1, cutoff=0)
    close = close or ([c for c in choices if c.casefold().startswith(text)][:4] if len(text) >= 3 else [])
    close = close or _same_first_word(text, choices)
    close = close or difflib.get_close_matches(str(value), choices, n=1)
    if not close:
        return ""
    named = " or ".join(f'"{c}"' for c in close)
    return f" Did you mean {named}?" if sentence else f"; did you mean {named}?"


def choice_error(
    what: str,
    value: object,
    valid: Iterable[object],
    how: str = "a valid value",
    error: type[LeftbehindError] | None = None,
    hint: str | None = None,
) -> LeftbehindError:
    """The error for a value that is not one of ``valid``: names the value, says what it should be, suggests the
    closest choice (or says ``hint`` instead, where the caller knows better) and lists the valid ones (the first 40
    of a long list).

    ``error`` is the exception class (default :class:`ParameterError`).

    Examples
    --------
    >>> print(choice_error("method", "REM", ["FE", "REML"], "a pooling method"))
    method "REM" is not a pooling method. Did you mean "REML"? Valid: FE, REML
    >>> print(choice_error("method", "DL", ["FE", "REML"], "a pooling method", hint="DL is not offered here."))
    method "DL" is not a pooling method. DL is not offered here. Valid: FE, REML
    """
    choices = [str(v) for v in valid]
    hint = did_you_mean(value, choices) if hint is None else f" {hint}"
    shown = ", ".join(choices) if len(choices) <= 40 else ", ".join(choices[:40]) + f", … ({len(choices)} in all)"
    return (error or ParameterError)(f'{what} "{value}" is not {how}.{hint} Valid: {shown}')


def check_choice(
    what: str,
    value: object,
    valid: Iterable[str],
    how: str = "a valid value",
    error: type[LeftbehindError] | None = None,
    fold: Callable[[str], str] | None = None,
) -> str:
    """Return ``value`` if it is one of ``valid`` (after ``fold``, e.g. ``str.upper``), else raise
    :func:`choice_error`. Every list of valid values is declared once, next to its owner, and checked here.

    Examples
    --------
    >>> check_choice("ci", "HKSJ", ("normal", "hksj"), "a CI method", fold=str.lower)
    'hksj'
    >>> check_choice("sex", "both", ("total", "female", "male"))
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: sex "both" is not a valid value. Valid: total, female, male
    """
    choices = list(valid)
    if isinstance(value, str):
        folded = fold(value) if fold is not None else value
        if folded in choices:
            return folded
    elif isinstance(value, (list, tuple, set, frozenset)):  # one value is asked for: not "['x']" with a did-you-mean
        shown = ", ".join(map(str, choices[:40])) + (f", … ({len(choices)} in all)" if len(choices) > 40 else "")
        raise (error or ParameterError)(
            f"{what} must be one value, got a {type(value).__name__} ({value!r}); {how}: {shown}"
        )
    raise choice_error(what, value, choices, how, error)


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number (Python's or NumPy's) and not True or False, which Python counts as 1
    and 0: what an estimate, a bound, a p value or a count must be before it is checked any further.

    Examples
    --------
    >>> is_number(0.5), is_number(3), is_number(True), is_number("0.5")
    (True, True, False, False)
    """
    import numbers

    import numpy as np

    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_flag(what: str, value: object) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (NumPy's too), else raise :class:`ParameterError`: a string
    such as ``"no"`` is true to Python, and would switch on the filter it was meant to switch off.

    Examples
    --------
    >>> check_flag("adjusted_only", False)
    False
    >>> check_flag("adjusted_only", "no")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: adjusted_only must be True or False, got 'no' (str)
    """
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ParameterError(f"{what} must be True or False, got {value!r} ({type(value).__name__})")


def check_frame(what: str, frame: object, columns: Iterable[str], give: str) -> None:
    """Raise :class:`ParameterError` unless ``frame`` is a pandas DataFrame with each of ``columns``; ``give`` says
    what table would do (e.g. ``"a data.ranking() result"``). A helper given the wrong table then says so, instead
    of failing deep inside with a ``KeyError`` on a column name.

    Examples
    --------
    >>> import pandas as pd
    >>> check_frame("ranking_table", pd.DataFrame({"name": ["A"]}), ["name", "value"], "a data.ranking() result")
    Traceback (most recent call last):
    ...
    leftbehind.errors.ParameterError: ranking_table: the frame has no 'value' column (give a data.ranking() result)
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{what}: expected a table (pandas DataFrame), got {type(frame).__name__} (give {give})")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise ParameterError(f"{what}: the frame has no {names} column{'s' if len(missing) > 1 else ''} (give {give})")


class LeftbehindError(Exception):
    """Base class of every error raised on purpose by leftbehind."""


class DataError(LeftbehindError, ValueError):
    """A data file or the data package is malformed, or a request names data that does not exist.

    The message names the file, the row (counting data rows from 1, header excluded) and the field.
    """


class ParameterError(LeftbehindError, ValueError):
    """A notebook parameter (in the report plan or a function call) is unknown, of the wrong type or out of range."""


class PlanError(LeftbehindError, ValueError):
    """The report plan (notebooks/reports.yaml) is malformed or names something that does not exist."""


class ReportError(LeftbehindError, RuntimeError):
    """One or more reports failed to execute or export."""


class MetaAnalysisError(LeftbehindError, ValueError):
    """Input to a meta-analysis function is invalid (lengths, variances, too few studies, unknown method)."""


def years_listed(years: Iterable[int]) -> str:
    """Years for a message, each run of consecutive years as one span: ``"1970–2024"`` instead of 55 numbers.

    Examples
    --------
    >>> years_listed(range(1970, 2025)), years_listed([1990, 1995, 2000, 2001, 2002, 2024])
    ('1970–2024', '1990, 1995, 2000–2002, 2024')
    >>> years_listed([])
    'none'
    """
    runs: list[list[int]] = []
    for y in sorted({int(y) for y in years}):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs) or "none"
