"""Exceptions raised by leftbehind.

Every error a researcher can meet names what went wrong and where (file, row, field, plan entry,
parameter or notebook cell) and, where it helps, what would be valid. Catch :class:`LeftbehindError` to
handle any of them.
"""

from __future__ import annotations

__all__ = [
    "LeftbehindError",
    "DataError",
    "ParameterError",
    "PlanError",
    "ReportError",
    "MetaAnalysisError",
    "did_you_mean",
]


def did_you_mean(value: object, valid: object, sentence: bool = True) -> str:
    """The closest valid choice as a hint for an error message, or ``""`` when none is close.

    ``sentence=True`` gives ``' Did you mean "x"?'`` (after a full stop); ``False`` gives ``'; did you mean "x"?'``.

    Examples
    --------
    >>> did_you_mean("remitances", ["remittances", "iom"])
    ' Did you mean "remittances"?'
    >>> did_you_mean("xyz", ["remittances"], sentence=False)
    ''
    """
    import difflib

    close = difflib.get_close_matches(str(value), [str(v) for v in valid], n=1)  # type: ignore[union-attr]
    if not close:
        return ""
    return f' Did you mean "{close[0]}"?' if sentence else f'; did you mean "{close[0]}"?'


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
