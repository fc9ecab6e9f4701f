"""Ranges: the lab's own range first, else the catalogue row for the result's sex and age.

A lab range text is read once per distinct (text, analyte, unit factor); the catalogue
choice is made once per (analyte, sex, age band, lab range used, equation, unit) group
with :func:`labinterp.steps.catalogue_row.choose_catalogue_range`, which the
single-result path calls too. Where the lab's range was used, only the catalogue's
critical limits are taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import RangeCatalogue, analytes
from labinterp.errors import UnitError
from labinterp.names import specimen_of
from labinterp.perf import factorize_rows, objects
from labinterp.precision import without_float_noise_one
from labinterp.range_text import LabRange, parse_range_text
from labinterp.steps.catalogue_row import (
    CRITICAL_CITATION,
    LAB_CITATION,
    OTHER_EQUATION,
    CatalogueChoice,
    agreed_critical_limits,
    choose_catalogue_range,
    multi_unit_analytes,
    reported_equation,
    rows_in_unit,
)
from labinterp.steps.state import (
    NOTE_BIT,
    FloatArray,
    IntArray,
    LabTexts,
    ObjArray,
    Outcome,
    Rows,
    analyte_keys,
    analyte_names,
    column,
    present,
)
from labinterp.units import conversion
from labinterp.vocab import SAID_SPECIMENS

__all__ = [
    "CATALOGUE_CRITICAL",
    "CRITICAL_CITATION",
    "LAB_CITATION",
    "OTHER_EQUATION",
    "CatalogueChoice",
    "People",
    "Ranges",
    "agreed_critical_limits",
    "catalogue_ranges",
    "choose_catalogue_range",
    "lab_range",
    "lab_ranges",
    "multi_unit_analytes",
    "reported_equation",
    "rows_in_unit",
    "specimen_codes",
]

_RANGE_UNIT_DISAGREES = NOTE_BIT["range_unit_disagrees"]
_RANGE_UNREADABLE = NOTE_BIT["range_unreadable"]
#: Set on a row whose critical limits come from the catalogue beside the lab's range.
CATALOGUE_CRITICAL = NOTE_BIT["catalogue_critical"]


@dataclass
class Ranges:
    """The range chosen per row: limits, inclusivity, critical limits and provenance."""

    low: FloatArray
    high: FloatArray
    low_inclusive: npt.NDArray[np.bool_]
    high_inclusive: npt.NDArray[np.bool_]
    critical_low: FloatArray
    critical_high: FloatArray
    critical_low_inclusive: npt.NDArray[np.bool_]  # a value at critical_low is LL
    critical_high_inclusive: npt.NDArray[np.bool_]  # a value at critical_high is HH
    citation: IntArray  # a position in ``cited`` (-1: none)
    caveats: npt.NDArray[np.int64]
    sourced: npt.NDArray[np.bool_]  # a range was found (the lab's or the catalogue's)
    lab: npt.NDArray[np.bool_]  # the lab's own range was used
    cited: dict[str, int]  # each distinct citation once, numbered
    #: The specimen each row's code or name says, which chose its catalogue range and
    #: limits schemes and rules: a position in ``SAID_SPECIMENS`` (-1: not said).
    specimen: IntArray

    def critical_inclusive_columns(self) -> dict[str, Any]:
        """Return ``critical_low_inclusive`` / ``critical_high_inclusive`` (empty: no limit)."""
        return {
            f"critical_{side}_inclusive": pd.arrays.BooleanArray(inclusive, np.isnan(limit))
            for side, inclusive, limit in (
                ("low", self.critical_low_inclusive, self.critical_low),
                ("high", self.critical_high_inclusive, self.critical_high),
            )
        }

    @classmethod
    def empty(cls, n: int) -> Ranges:
        """Return ``n`` rows without a range (open limits, no source)."""
        return cls(
            low=np.full(n, np.nan),
            high=np.full(n, np.nan),
            low_inclusive=np.ones(n, dtype=bool),
            high_inclusive=np.ones(n, dtype=bool),
            critical_low=np.full(n, np.nan),
            critical_high=np.full(n, np.nan),
            critical_low_inclusive=np.zeros(n, dtype=bool),
            critical_high_inclusive=np.zeros(n, dtype=bool),
            citation=np.full(n, -1, dtype=np.int64),
            caveats=np.zeros(n, dtype=np.int64),
            sourced=np.zeros(n, dtype=bool),
            lab=np.zeros(n, dtype=bool),
            cited={},
            specimen=np.full(n, -1, dtype=np.int64),
        )

    def cite(self, citation: str | None) -> int:
        """Return the number of a citation (-1 for none), numbering it when new."""
        if citation is None:
            return -1
        return self.cited.setdefault(citation, len(self.cited))

    def citations(self) -> pd.Categorical[Any]:
        """Return each row's citation, each distinct text held once, in order of first use."""
        used = pd.unique(self.citation[self.citation >= 0])  # numbers as the rows first use them
        table = list(self.cited)
        renumber = np.full(len(table) + 1, -1, dtype=np.int64)  # last entry: for -1
        renumber[used] = np.arange(len(used))
        return pd.Categorical.from_codes(
            renumber[self.citation], categories=pd.Index([table[i] for i in used], dtype=object)
        )

    def sources(self, catalogue: RangeCatalogue) -> pd.Categorical[Any]:
        """Return where each row's range came from: ``lab`` or ``catalogue:<name>``."""
        codes = np.where(self.lab, 0, np.where(self.sourced, 1, -1))
        return pd.Categorical.from_codes(
            codes, categories=pd.Index(["lab", f"catalogue:{catalogue.info.name}"], dtype=object)
        )


def lab_range(
    text: Any,
    analyte: str | None,
    scale: float,
    offset: float,
    target: Callable[[str], str | None],
) -> tuple[LabRange | None, int]:
    """Read one lab range text and convert it to the analyte's reporting unit.

    Parameters
    ----------
    text
        The range as the lab wrote it (any value; only text can be a range).
    analyte
        The result's analyte (``None`` when not recognised: no range is used).
    scale, offset
        The conversion of the result's own unit to the reporting unit (NaN scale
        when the unit could not be converted), used when the text names no unit.
    target
        The profile's reporting unit per analyte.

    Returns
    -------
    (LabRange or None, int)
        The range in the reporting unit, or ``None`` when none can be used, and the
        interpretation-note bits to set (an unreadable text, a unit in the text that
        does not measure the analyte).
    """
    lab = parse_range_text(text)
    if lab is None:
        unreadable = isinstance(text, str) and bool(text.strip())
        return None, _RANGE_UNREADABLE if unreadable else 0
    if analyte is None:
        return None, 0
    if lab.unit is not None:
        # A unit written inside the range text must agree with the analyte's units.
        try:
            affine = conversion(lab.unit, target(analyte) or "", analyte)
        except UnitError:
            return None, _RANGE_UNIT_DISAGREES
        scale, offset = float(affine.scale), float(affine.offset)
    if not np.isfinite(scale):
        return None, 0

    def converted(limit: float) -> float:  # without float noise, as values are compared
        return without_float_noise_one(limit * scale + offset) if np.isfinite(limit) else limit

    return (
        LabRange(converted(lab.low), converted(lab.high), lab.low_inclusive, lab.high_inclusive),
        0,
    )


def lab_ranges(
    texts: LabTexts,
    read: Rows,
    target: Callable[[str], str | None],
    ranges: Ranges,
) -> npt.NDArray[np.bool_]:
    """Fill ranges from the lab's own range text; return where one was used.

    :func:`lab_range` runs once per distinct (text, analyte, unit factor) combination.
    """
    codes, first = factorize_rows(read.lab_text, read.number, read.unit_group)
    names = analyte_names(read.number[first])
    found = [
        lab_range(texts.text(read.lab_text[i]), name, read.scale[i], read.offset[i], target)
        for i, name in zip(first, names, strict=True)
    ]
    ok = np.array([r is not None for r, _ in found], dtype=bool)[codes]
    ranges.caveats |= np.array([notes for _, notes in found], dtype=np.int64)[codes]
    used = [r if r is not None else LabRange(np.nan, np.nan, True, True) for r, _ in found]
    into = np.flatnonzero(ok)
    of = codes[into]
    ranges.low[into] = np.array([r.low for r in used], dtype="float64")[of]
    ranges.high[into] = np.array([r.high for r in used], dtype="float64")[of]
    ranges.low_inclusive[into] = np.array([r.low_inclusive for r in used], dtype=bool)[of]
    ranges.high_inclusive[into] = np.array([r.high_inclusive for r in used], dtype=bool)[of]
    ranges.lab[into] = True
    ranges.sourced[into] = True
    ranges.citation[into] = ranges.cite(LAB_CITATION)
    return ok


class People:
    """Sex, age and (for a derived eGFR) equation per row, to match catalogue rows by."""

    def __init__(
        self,
        sex: ObjArray,
        sex_number: IntArray,
        age: FloatArray,
        *,
        equation: IntArray | None = None,
        equations: tuple[str, ...] = (),
        reported: str = "",
        unit: IntArray | None = None,
        unit_names: tuple[str, ...] = (),
    ) -> None:
        self.sex = sex  # "female", "male" or ""
        self.sex_number = sex_number  # position in SEXES
        self.age = age
        # The equation a derived row was computed with: a position in ``equations``
        # (-1: an input row, whose equation is not known).
        self.equation = np.full(len(age), -1, dtype=np.int64) if equation is None else equation
        self.equations = equations
        self.reported = reported  # the equation the profile's laboratories report with
        # The unit each result was reported in: a position in ``unit_names`` (-1: none).
        self.unit = np.full(len(age), -1, dtype=np.int64) if unit is None else unit
        self.unit_names = unit_names
        # The specimen a result's code or name says: a position in SAID_SPECIMENS (-1: none).
        self.specimen = np.full(len(age), -1, dtype=np.int64)

    def unit_of(self, row: int) -> str:
        """Return the unit a row was reported in (``""``: none)."""
        code = int(self.unit[row])
        return self.unit_names[code] if code >= 0 else ""

    def specimen_of(self, row: int) -> str:
        """Return the specimen a row's code or name says (``""``: not said)."""
        code = int(self.specimen[row])
        return SAID_SPECIMENS[code] if code >= 0 else ""

    def equation_of(self, row: int, analyte: str = "egfr") -> str:
        """Return the equation of a row: derived with, else the profile's reported one.

        The laboratories' own equation is known for an eGFR only (``""`` otherwise).
        """
        code = int(self.equation[row])
        if code >= 0:
            return self.equations[code]
        return self.reported if analyte == "egfr" else ""


def _age_bands(cat: RangeCatalogue, number: IntArray, age: FloatArray) -> npt.NDArray[np.int64]:
    """Return age-band numbers between the catalogue's age limits, per analyte (-1: no age).

    Two ages in the same band meet the same catalogue rows, so the choice is made once
    per band.
    """
    band = np.full(len(number), -1, dtype=np.int64)
    finite = np.isfinite(age)
    keys = analyte_keys()
    for code in present(number):
        name = keys[code]
        limits = sorted(
            {
                x
                for spec in cat.for_analyte(name)
                for x in (spec.age_min, spec.age_max)
                if x is not None
            }
        )
        rows = (number == code) & finite
        band[rows] = np.searchsorted(np.asarray(limits, dtype="float64"), age[rows], "right")
    return band


def specimen_codes(frame: pd.DataFrame, number: IntArray, source: IntArray) -> IntArray:
    """Return per row the specimen its code or name says (a position in SAID_SPECIMENS; -1).

    Only analytes whose serum and plasma intervals differ are looked at
    (:func:`labinterp.names.specimen_of`), once per distinct (analyte, code, name).
    ``source`` maps each row to its position in ``frame`` (derived rows: their source's).
    """
    out = np.full(len(number), -1, dtype=np.int64)
    keys = analyte_keys()
    listed = [keys.index(k) for k, spec in analytes().items() if spec.specimens and k in keys]
    rows = np.flatnonzero(np.isin(number, listed)) if listed else np.zeros(0, dtype=np.int64)
    if not len(rows):
        return out
    texts = [column(frame, c).to_numpy(dtype=object)[source[rows]] for c in _SAID_BY]
    codes, first = factorize_rows(number[rows], *texts)
    said = [specimen_of(keys[number[rows[i]]], *(t[i] for t in texts)) for i in first]
    table = np.array([SAID_SPECIMENS.index(s) if s else -1 for s in said], dtype=np.int64)
    out[rows] = table[codes]
    return out


#: The columns that may say a result's specimen.
_SAID_BY = ("analyte", "source_code", "source_name")


def _unit_keys(cat: RangeCatalogue, number: IntArray, people: People) -> IntArray:
    """Return each row's reported unit code where it chooses the row (-1 elsewhere).

    The reported unit matters only for analytes whose catalogue rows are written in
    several units (:func:`rows_in_unit`); elsewhere it would only split groups.
    """
    keys = analyte_keys()
    several = [keys.index(name) for name in multi_unit_analytes(cat) if name in keys]
    if not several:
        return np.full(len(number), -1, dtype=np.int64)
    return np.where(np.isin(number, several), people.unit, -1)


def catalogue_ranges(
    cat: RangeCatalogue,
    number: IntArray,
    people: People,
    *,
    pending: npt.NDArray[np.bool_],
    target: Callable[[str], str | None],
    ranges: Ranges,
    outcome: Outcome,
) -> None:
    """Fill ranges from the catalogue for rows without a usable lab range.

    The choice is made once per (analyte, sex, age band, lab range used, equation,
    unit) group with :func:`choose_catalogue_range`. Where the lab's own range was used, only the
    catalogue's critical limits are taken.
    """
    known = number >= 0
    if not known.any():
        return
    # Rows with the same analyte, sex, age, lab range use, equation and (where it
    # matters) unit meet the same catalogue rows; the few distinct ages of those groups
    # are then put into age bands, and the choice is made once per such group.
    unit, keys = _unit_keys(cat, number, people), analyte_keys()
    # The unit and the specimen split groups only where some row has one that matters.
    extra = [c for c in (unit, people.specimen) if (c >= 0).any()]
    by_value, firsts = factorize_rows(
        number, people.sex_number, people.age, pending, people.equation, *extra
    )
    band = _age_bands(cat, number[firsts], people.age[firsts])
    each = (people.sex_number, pending, people.equation, *extra)
    grouped, first = factorize_rows(number[firsts], band, *(x[firsts] for x in each))
    codes = grouped[by_value]
    choices = [
        choose_catalogue_range(
            cat,
            keys[number[row]],
            target(keys[number[row]]) or "",
            sex=people.sex[row],
            age=people.age[row],
            lab_used=not pending[row],
            equation=people.equation_of(row, keys[number[row]]),
            unit=people.unit_of(row) if unit[row] >= 0 else "",
            specimen=people.specimen_of(row),
        )
        if number[row] >= 0
        else CatalogueChoice()  # no analyte: never applied
        for row in firsts[first]
    ]

    def table(field: str, dtype: Any) -> Any:
        return np.array([getattr(c, field) for c in choices], dtype=dtype)

    full = pending & known
    critical = table("critical_note", bool)[codes] & known
    # Each row subset is selected once for all the fields it receives.
    into = np.flatnonzero(full)
    of = codes[into]
    for field, target_array in (
        ("low", ranges.low),
        ("high", ranges.high),
        ("low_inclusive", ranges.low_inclusive),
        ("high_inclusive", ranges.high_inclusive),
    ):
        target_array[into] = table(field, target_array.dtype)[of]
    ranges.sourced[into] = np.array([c.source is not None for c in choices], dtype=bool)[of]
    into = np.flatnonzero(full | critical)
    of = codes[into]
    for field, target_array in (
        ("critical_low", ranges.critical_low),
        ("critical_high", ranges.critical_high),
        ("critical_low_inclusive", ranges.critical_low_inclusive),
        ("critical_high_inclusive", ranges.critical_high_inclusive),
    ):
        target_array[into] = table(field, target_array.dtype)[of]
    cited = np.array([ranges.cite(c.citation) for c in choices], dtype=np.int64)
    ranges.citation[into] = cited[of]
    ranges.caveats[critical] |= CATALOGUE_CRITICAL
    # The groups without a range record why, one reason at a time.
    reason_of = [c.problem[0] if c.problem else None for c in choices]
    texts = np.array([c.problem[1] if c.problem else None for c in choices], dtype=object)
    for reason in {r for r in reason_of if r is not None}:
        in_group = np.array([r is reason for r in reason_of], dtype=bool)[codes] & known
        problem = objects(len(number))
        problem[in_group] = texts[codes[in_group]]
        outcome.record(in_group, reason, problem)
