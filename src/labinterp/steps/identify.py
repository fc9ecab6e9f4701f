"""Identify: which catalogue analyte each result is, from its key, code or name.

An explicit ``analyte`` key wins; otherwise the code and then the name are looked up,
and a code and a name that point to different analytes are refused. The lookup runs
once per distinct (analyte, code, name) combination.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from labinterp.catalogue import analytes, lookup_code, lookup_name
from labinterp.errors import ReasonCode
from labinterp.perf import ColumnCodes, factorize_rows, objects
from labinterp.steps.state import IntArray, Outcome, analyte_keys, coded_column

__all__ = ["identify", "is_missing", "resolve_analyte"]

_UNKNOWN_KEY = "The analyte key is not in the catalogue; use a key listed by labinterp.analytes()."


_CODE_NAME_CONFLICT = (
    "The code and the name point to different analytes; give the analyte explicitly."
)


_UNRECOGNISED = (
    "The analyte is not recognised from its code or name; pass an analyte column or "
    "add the name to the catalogue's aliases."
)


def resolve_analyte(key: Any, code: Any, name: Any) -> tuple[str | None, str | None]:
    """Return the catalogue key of one result and, when there is none, the problem.

    An explicit ``analyte`` key wins; otherwise the code and then the name are looked
    up, and a code and a name that point to different analytes are refused.
    """
    key = None if is_missing(key) else key
    given = key if isinstance(key, str) and key in analytes() else ("?" if key else None)
    coded = lookup_code(code) if isinstance(code, str) else None
    named = lookup_name(name) if isinstance(name, str) else None
    if given == "?":
        return None, _UNKNOWN_KEY
    if given is not None:
        return given, None
    if coded and named and coded != named:
        return None, _CODE_NAME_CONFLICT
    if coded or named:
        return coded or named, None
    return None, _UNRECOGNISED


def is_missing(value: Any) -> bool:
    """Whether a cell is missing (``None``, ``pd.NA`` or NaN)."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def identify(frame: pd.DataFrame, outcome: Outcome, coded: ColumnCodes | None) -> IntArray:
    """Resolve analytes once per distinct (analyte, code, name) combination.

    Returns each row's analyte number in :func:`analyte_keys` (-1: none).
    """
    names = ("analyte", "source_code", "source_name")
    codes, first = factorize_rows(
        *(coded_column(frame, c, coded) for c in names if c in frame.columns)
    )
    values = [
        frame[c].take(first).to_numpy(dtype=object) if c in frame.columns else objects(len(first))
        for c in names
    ]
    resolved = [resolve_analyte(*combination) for combination in zip(*values, strict=True)]
    keys = analyte_keys()
    numbers = np.array([keys.index(a) if a else -1 for a, _ in resolved], dtype=np.int64)
    number = numbers[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    unknown = number < 0
    if unknown.any():
        problem = objects(len(number))
        problem[unknown] = np.array([p for _, p in resolved], dtype=object)[codes[unknown]]
        outcome.record(unknown, ReasonCode.UNKNOWN_ANALYTE, problem)
    return number
