"""The row-state record the interpretation steps pass along.

Each step of :func:`labinterp.interpret` works on whole arrays, row-aligned: the
:class:`Rows` a reading step makes (analyte, value, unit, sex, age, ...), and the
:class:`Outcome` so far (a row's status and problem; the first reason recorded wins).
Analytes and sexes travel as small integer numbers (an analyte's position in
:func:`analyte_keys`, a sex's in :data:`SEXES`), so steps compare numbers, not text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import analytes
from labinterp.errors import InvalidResultError, ReasonCode
from labinterp.perf import Coded, ColumnCodes, Soon, factorized, objects, threaded
from labinterp.vocab import Status

if TYPE_CHECKING:
    from labinterp.steps.layout import Layout

__all__ = [
    "CLASSIFIABLE",
    "CODED_COLUMNS",
    "NOTE_BIT",
    "NOTE_IDS",
    "SEXES",
    "STATUS_NUMBER",
    "LabTexts",
    "Outcome",
    "Rows",
    "analyte_keys",
    "analyte_names",
    "analyte_number",
    "apply_affine",
    "coded_column",
    "codes_of",
    "column",
    "present",
    "raise_first_invalid",
    "sex_names",
]

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Interpretation notes (``note.<id>`` texts): how a row was interpreted.
NOTE_IDS: tuple[str, ...] = (
    "range_unit_disagrees",
    "range_unreadable",
    "catalogue_critical",
    "sex_unrecognised",
    "no_egfr_censored",
    "no_egfr_context",
    "no_egfr_age",
    "change_significant",
    "change_within_variation",
    "superseded",
    "withdrawn_later",
    "preliminary",
    "status_unknown",
    "lab_flag_not_compared",
    "scheme_adults_only",
    "scheme_age_unknown",
    "scheme_sex_unknown",
    "egfr_cr_cys_preferred",
    "ckd_risk_one_time",
    "kfre_population",
    "kfre_censored",
    "kfre_egfr_missing",
    "kfre_age_missing",
    "kfre_egfr_not_below_60",
    "kfre_egfr_below_10",
    "kfre_sex_missing",
    "kfre_acr_zero",
    "aki_egfr_unreliable",
    "aki_no_time",
    "kfre_aki",
    "kfre_child",
)

#: Notes about how a row was interpreted, one bit each; texts are ``note.<id>``.
NOTE_BIT = {note: 1 << i for i, note in enumerate(NOTE_IDS)}


#: Statuses whose value and unit were read, so a classification scheme can still apply.
CLASSIFIABLE = [
    Status.OK.value,
    Status.NO_REFERENCE.value,
    Status.MISSING_CONTEXT.value,
    Status.INDETERMINATE.value,
]


#: Each status's number: its position in :class:`~labinterp.vocab.Status`.
STATUS_NUMBER: dict[str, int] = {status.value: i for i, status in enumerate(Status)}


class Outcome:
    """Row status and problem, where the first reason recorded wins.

    The status is kept as text and as its number in :class:`~labinterp.vocab.Status`
    (-1: none yet), so the output column is built from numbers.
    """

    def __init__(self, n: int) -> None:
        self.status: ObjArray = objects(n)
        self.number: IntArray = np.full(n, -1, dtype=np.int64)
        self.problem: ObjArray = objects(n)
        self._open = np.ones(n, dtype=bool)

    @classmethod
    def resume(cls, rows: Rows) -> Outcome:
        """Go on from the statuses recorded on rows: rows without one are open."""
        outcome = cls(0)
        outcome.status, outcome.number = rows.status.copy(), rows.status_number.copy()
        outcome.problem, outcome._open = rows.problem.copy(), rows.open.copy()
        return outcome

    def settle(self, mask: npt.NDArray[np.bool_], status: Status) -> None:
        """Set ``status`` on the rows in ``mask``, whatever was recorded (ok, derived)."""
        self.status[mask] = status.value
        self.number[mask] = STATUS_NUMBER[status.value]

    def open(self) -> npt.NDArray[np.bool_]:
        """Return where no status is recorded yet (a copy)."""
        return self._open.copy()

    def record(self, mask: npt.NDArray[np.bool_], code: ReasonCode, problem: Any) -> None:
        """Record ``code`` and ``problem`` (text, or an array per row) on open rows in ``mask``."""
        target = mask & self._open
        if not target.any():
            return
        self._open &= ~target
        self.status[target] = code.value
        self.number[target] = STATUS_NUMBER[code.value]
        if isinstance(problem, np.ndarray):
            self.problem[target] = problem[target]
        else:
            self.problem[target] = problem


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Return a column of ``frame``, or an all-missing one when it has none."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def coded_column(frame: pd.DataFrame, name: str, coded: ColumnCodes | None) -> Coded | pd.Series:
    """Return a column's codes when already factorized, else the column itself."""
    found = coded.get(name) if coded is not None else None
    return found if found is not None else column(frame, name)


def codes_of(frame: pd.DataFrame, name: str, coded: ColumnCodes | None) -> Coded:
    """Return a column factorized (missing is -1), using codes already made."""
    found = coded_column(frame, name, coded)
    return found if isinstance(found, Coded) else factorized(found)


#: Input columns factorized at the start of a run (in threads for large frames), in the
#: order they are needed.
CODED_COLUMNS = (
    "lab_reference_text",
    "analyte",
    "source_code",
    "source_name",
    "raw_value",
    "raw_unit",
    "sex",
    "patient_id",
)


@lru_cache(maxsize=1)
def analyte_keys() -> tuple[str, ...]:
    """Every catalogue analyte key; a row's analyte number is its position here."""
    return tuple(analytes())


def present(number: IntArray) -> IntArray:
    """Return the analyte numbers that occur (counted, not sorted)."""
    return np.flatnonzero(np.bincount(number + 1, minlength=1)[1:])


def analyte_number(name: str) -> int:
    """Return an analyte key's number (its position in :func:`analyte_keys`)."""
    return analyte_keys().index(name)


def analyte_names(number: IntArray) -> ObjArray:
    """Return the analyte key for each analyte number (``None`` for -1)."""
    return np.array([*analyte_keys(), None], dtype=object)[number]


@dataclass(frozen=True)
class LabTexts:
    """The distinct lab range texts of the input; rows hold codes into them (-1: none)."""

    distinct: ObjArray

    @classmethod
    def of(cls, frame: pd.DataFrame, coded: ColumnCodes) -> tuple[LabTexts, IntArray]:
        """Return the distinct texts of a frame and each row's code into them."""
        found = coded.get("lab_reference_text")
        if found is None:
            return cls(np.empty(0, dtype=object)), np.full(len(frame), -1, dtype=np.int64)
        return cls(np.asarray(found.uniques, dtype=object)), found.codes

    def text(self, code: int) -> Any:
        """Return the text of a code (``None`` for -1)."""
        return self.distinct[code] if code >= 0 else None


#: Sexes as numbered in ``Rows.sex_number`` (0: missing or not recognised).
SEXES = ("", "female", "male")


def sex_names(sex_number: IntArray) -> ObjArray:
    """Return ``"female"``, ``"male"`` or ``""`` for each sex number."""
    return np.array(SEXES, dtype=object)[sex_number]


@dataclass(frozen=True)
class Rows:
    """What reading a row tells, before any range is chosen; enough to derive from it."""

    number: IntArray  # the analyte's position in analyte_keys(), -1: not recognised
    comparator: ObjArray
    censored: npt.NDArray[np.bool_]  # the comparator is not ""
    value: FloatArray
    unit_display: ObjArray
    unit_code: IntArray  # the displayed unit's position in unit_names (-1: none)
    scale: FloatArray
    offset: FloatArray
    unit_group: IntArray  # rows with the same scale and offset share it (-1: none)
    value_canonical: FloatArray
    sex_number: IntArray  # position in SEXES
    sex_unrecognised: npt.NDArray[np.bool_]
    age: FloatArray
    lab_text: IntArray  # code into LabTexts
    status: ObjArray  # None while the row can still be interpreted
    status_number: IntArray  # its number in Status (-1: none)
    problem: ObjArray
    open: npt.NDArray[np.bool_]  # no status yet
    unit_names: tuple[str, ...]  # each displayed unit once

    def analyte(self) -> ObjArray:
        """Return the analyte key per row (``None`` where not recognised)."""
        return analyte_names(self.number)

    def sex(self) -> ObjArray:
        """Return ``"female"``, ``"male"`` or ``""`` (missing or not recognised) per row."""
        return sex_names(self.sex_number)

    def stacked(self, other: Rows, layout: Layout) -> Rows:
        """Return both row sets together (input rows, then derived rows) in output order."""
        after = int(self.unit_group.max(initial=-1)) + 1  # the other's groups come after
        names = [*self.unit_names, *(n for n in other.unit_names if n not in self.unit_names)]
        renumber = np.array([*(names.index(n) for n in other.unit_names), -1], dtype=np.int64)
        theirs = replace(
            other,
            unit_group=np.where(other.unit_group >= 0, other.unit_group + after, -1),
            unit_code=renumber[other.unit_code],
        )
        in_background = threaded(len(layout.order))
        placed = {
            f.name: Soon(
                in_background, layout.place, getattr(self, f.name), getattr(theirs, f.name)
            )
            for f in fields(self)
            if f.name != "unit_names"
        }
        return Rows(
            **{name: soon.result() for name, soon in placed.items()}, unit_names=tuple(names)
        )


def apply_affine(scale: FloatArray, offset: FloatArray, values: FloatArray) -> FloatArray:
    """Return ``values * scale + offset``, leaving non-finite values as they are."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values), values * scale + offset, values)


def raise_first_invalid(outcome: Outcome, source_row: pd.Series, source: IntArray) -> None:
    """Raise for the first input row that could not be interpreted.

    ``source`` maps each output row to its input row; ``source_row`` numbers the input
    rows as the user knows them. The message names the row, its status and its problem
    sentence, never a value.
    """
    status, problem = outcome.status, outcome.problem
    bad = ~np.isin(status, [Status.OK.value, Status.DERIVED.value])
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    row = source_row.iloc[int(source[first])]
    raise InvalidResultError(
        f"Row {row} could not be interpreted ({status[first]}): {problem[first]}",
        row=int(row) if isinstance(row, (int, np.integer)) else None,
        reason=ReasonCode(status[first]),
    )
