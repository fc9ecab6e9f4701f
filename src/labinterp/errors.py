"""Exceptions, warnings and reason codes.

Every exception raised by labinterp derives from :class:`LabinterpError` and also
from the matching builtin (``ValueError``, ``KeyError``, ``TypeError``,
``LookupError``), so callers may catch either. Messages name the row and field
involved and say what to do next; they never contain patient identifiers or
result values.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ReasonCode(StrEnum):
    """Why a result could not be interpreted normally (the ``status`` column)."""

    UNPARSED_VALUE = "unparsed_value"
    AMBIGUOUS_VALUE = "ambiguous_value"
    UNKNOWN_ANALYTE = "unknown_analyte"
    UNKNOWN_UNIT = "unknown_unit"
    INCOMPATIBLE_UNIT = "incompatible_unit"
    IMPLAUSIBLE_VALUE = "implausible_value"
    NO_REFERENCE = "no_reference"
    MISSING_CONTEXT = "missing_context"
    INDETERMINATE = "indeterminate"
    CONFLICTING_ANALYTE = "conflicting_analyte"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    LIKELY_UNIT_ERROR = "likely_unit_error"
    RACE_ADJUSTED = "race_adjusted"
    NOT_LABORATORY = "not_laboratory"


class LabinterpError(Exception):
    """Root of all labinterp exceptions.

    Parameters
    ----------
    message
        What went wrong and what to do next. Must not contain patient data.
    row
        Position of the offending input (``source_row``), when there is one.
    field
        Name of the offending column or field, when there is one.
    reason
        A :class:`ReasonCode` when the error corresponds to a row status.
    """

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        reason: ReasonCode | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.row, self.field, self.reason))


def _rebuild(
    cls: type[LabinterpError],
    message: str,
    row: int | None,
    field: str | None,
    reason: ReasonCode | None,
) -> LabinterpError:
    return cls(message, row=row, field=field, reason=reason)


class ReadError(LabinterpError, ValueError):
    """An input file or buffer cannot be read at all (encoding, structure, missing columns)."""


class UnitError(LabinterpError, ValueError):
    """A unit string is not recognised, or two units cannot be converted."""


class UnknownUnitError(UnitError):
    """A unit string is not recognised."""


class IncompatibleUnitError(UnitError):
    """Two recognised units measure different quantities for the analyte."""


class UnitsRequiredError(LabinterpError, TypeError):
    """A bare number was given where a lab value with a unit is required."""


class UnknownAnalyteError(LabinterpError, KeyError):
    """An analyte key, code or name is not in the catalogue."""


class CatalogueError(LabinterpError, ValueError):
    """A data file (analytes, ranges, sources, profiles, text) is invalid."""


class InvalidResultError(LabinterpError, ValueError):
    """A result row could not be interpreted and ``on_invalid="raise"`` was requested."""


class LabinterpWarning(UserWarning):
    """Warnings issued by labinterp (never containing patient data)."""


class MissingColumnError(LabinterpError, KeyError):
    """A results frame lacks a column that interpretation needs."""
