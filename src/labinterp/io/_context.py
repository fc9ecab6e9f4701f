"""Kept until the engine imports :mod:`labinterp.dates` (where this moved)."""

# kept until the engine imports labinterp.dates
from labinterp.dates import DATE_FORMATS, complete_context, parse_dates

__all__ = ["DATE_FORMATS", "complete_context", "parse_dates"]
