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
]


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
