"""Identify: which catalogue analyte each result is, from its analyte, code and name.

A row may identify its analyte in three columns: ``analyte`` (a catalogue key, a code
or a name), ``source_code`` (a code) and ``source_name`` (a name, or a key or code
written where a name is expected). Each value is resolved as whichever it is. When two
of them point to different analytes, the row is ``conflicting_analyte``: nothing is
picked. An ``analyte`` value that is neither key, code nor name is ``unknown_analyte``,
whatever the other columns say; an unrecognised name beside a known code is not (lab
names vary, codes are the lab's identification). A code or name the catalogue lists as
``race_adjusted`` (an eGFR with a race coefficient) keeps its analyte and is
``race_adjusted``: not flagged, staged or used by other results. A code that names no
laboratory result (a vital sign, a questionnaire score, social history, an imaging
measurement: ``data/not_laboratory.csv``) is ``not_laboratory``, not an unknown analyte.
The lookup runs once per distinct (analyte, code, name) combination.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from labinterp.catalogue import analytes, lookup_code, lookup_name, name_key
from labinterp.errors import ReasonCode
from labinterp.perf import ColumnCodes, factorize_rows, objects
from labinterp.steps.state import IntArray, Outcome, analyte_keys, coded_column

__all__ = [
    "Identified",
    "identify",
    "is_missing",
    "lookup_analyte",
    "not_laboratory_kind",
    "resolve_analyte",
]

#: Problem of an ``analyte`` value that is no key, code or name (``problem.analyte_not_known``).
ANALYTE_NOT_KNOWN = (
    "The test in the analyte column is not one labinterp knows (no analyte key, code or "
    "name in its catalogue), so the result was not interpreted; correct the value, or map "
    "the lab's own codes with code_map=."
)

#: Problem of identifiers that disagree (``problem.conflicting_analyte``).
CONFLICTING_ANALYTE = (
    "The columns that identify this result (analyte, code, name) point to different "
    "analytes, so it was not interpreted; correct the one that is wrong."
)

#: Problem of an eGFR with a race coefficient (``problem.race_adjusted``); labinterp uses
#: no race in eGFR (Inker2021, Delgado2021).
RACE_ADJUSTED = (
    "This eGFR was calculated with an adjustment for race, which current recommendations "
    "no longer use, so it was not marked as high or low or given a stage. Use an eGFR "
    "calculated without race (CKD-EPI 2021); labinterp derives one from the creatinine "
    "when age and sex are known."
)

#: Problem of a code that names no laboratory result (``problem.not_laboratory``): a vital
#: sign, a questionnaire score, social history or an imaging measurement.
NOT_LABORATORY = (
    "This is not a laboratory result (a vital sign such as blood pressure, pulse or weight, "
    "a questionnaire score, or a measurement from imaging), so it was kept as it came and "
    "not interpreted."
)

_UNRECOGNISED = (
    "The analyte is not recognised from its code or name; pass an analyte column or "
    "add the name to the catalogue's aliases."
)


class Identified(NamedTuple):
    """The analyte of one result, or why there is none."""

    analyte: str | None
    reason: ReasonCode | None = None
    problem: str | None = None


def not_laboratory_kind(code: str) -> str | None:
    """Return what a code names where it is not a laboratory result (``None``: it may be).

    ``data/not_laboratory.csv`` lists vital signs (the FHIR vital-signs value set),
    survey scores, social history and imaging measurements by their codes: ``"vital_sign"``,
    ``"survey"``, ``"social_history"`` or ``"imaging"``.
    """
    return _not_laboratory().get(code.strip().casefold())


@lru_cache(maxsize=1)
def _not_laboratory() -> dict[str, str]:
    with (resources.files("labinterp") / "data" / "not_laboratory.csv").open(
        encoding="utf-8"
    ) as handle:
        return {row["code"].strip().casefold(): row["kind"] for row in csv.DictReader(handle)}


def lookup_analyte(text: str) -> str | None:
    """Return the analyte a key, a code or a name stands for (``None``: none).

    Examples
    --------
    >>> [lookup_analyte(t) for t in ("magnesium", "NPU02647", "S-Magnesium", "Unobtainium")]
    ['magnesium', 'magnesium', 'magnesium', None]
    """
    if text in analytes():
        return text
    return lookup_code(text) or lookup_name(text)


def resolve_analyte(key: Any, code: Any, name: Any) -> Identified:
    """Return the catalogue key of one result and, when there is none, the reason and problem.

    Parameters
    ----------
    key
        The ``analyte`` column's value: a catalogue key, a code or a name.
    code
        The ``source_code`` column's value: a code.
    name
        The ``source_name`` column's value: a name, or a key or code.

    Returns
    -------
    Identified
        The analyte; or ``unknown_analyte`` (nothing recognised, or an ``analyte``
        value that is no key, code or name) or ``conflicting_analyte`` (two columns
        point to different analytes), each with its problem sentence; a race-adjusted
        eGFR keeps its analyte with ``race_adjusted`` and its problem sentence; a code
        the catalogue lists as no laboratory result (a vital sign, a survey score:
        :func:`not_laboratory_kind`) is ``not_laboratory``.
    """
    blank = is_missing(key) or (isinstance(key, str) and not key.strip())
    given = None if blank or not isinstance(key, str) else lookup_analyte(key.strip())
    if not blank and given is None:
        return Identified(None, ReasonCode.UNKNOWN_ANALYTE, ANALYTE_NOT_KNOWN)
    coded = lookup_code(code) if isinstance(code, str) else None
    named = lookup_analyte(name.strip()) if isinstance(name, str) else None
    found = {a for a in (given, coded, named) if a is not None}
    if len(found) > 1:
        return Identified(None, ReasonCode.CONFLICTING_ANALYTE, CONFLICTING_ANALYTE)
    if found:
        if any(_race_adjusted(v) for v in (key, code, name)):
            return Identified(found.pop(), ReasonCode.RACE_ADJUSTED, RACE_ADJUSTED)
        return Identified(found.pop())
    if blank and isinstance(code, str) and not_laboratory_kind(code) is not None:
        return Identified(None, ReasonCode.NOT_LABORATORY, NOT_LABORATORY)
    return Identified(None, ReasonCode.UNKNOWN_ANALYTE, _UNRECOGNISED)


@lru_cache(maxsize=1)
def _race_adjusted_index() -> tuple[frozenset[str], frozenset[str]]:
    """Return the race-adjusted codes (as compared) and names (as :func:`name_key` reads)."""
    listed = [entry for spec in analytes().values() for entry in spec.race_adjusted]
    codes = {c for spec in analytes().values() for c in spec.codes}
    return (
        frozenset(e.strip().casefold() for e in listed if e in codes),
        frozenset(name_key(e) for e in listed if e not in codes),
    )


def _race_adjusted(value: Any) -> bool:
    """Whether a key, code or name is one the catalogue lists as race-adjusted."""
    if not isinstance(value, str):
        return False
    codes, names = _race_adjusted_index()
    return value.strip().casefold() in codes or name_key(value) in names


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
    numbers = np.array([keys.index(r.analyte) if r.analyte else -1 for r in resolved], np.int64)
    number = numbers[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    reasons = np.array([r.reason for r in resolved], dtype=object)
    problems = np.array([r.problem for r in resolved], dtype=object)
    for reason in (
        ReasonCode.CONFLICTING_ANALYTE,
        ReasonCode.UNKNOWN_ANALYTE,
        ReasonCode.RACE_ADJUSTED,
        ReasonCode.NOT_LABORATORY,
    ):
        hit = (reasons == reason)[codes]  # compared once per distinct combination
        if hit.any():
            outcome.record(hit, reason, problems[codes])
    return number
