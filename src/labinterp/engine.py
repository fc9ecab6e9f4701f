"""The orchestrator: results frame in, interpreted frame out.

``interpret`` runs, vectorised over the whole frame: analyte recognition, value
parsing, unit normalisation and conversion to the profile's reporting units,
plausibility checks, reference-range choice (lab range first, then the
catalogue by sex and age), flags, and explanations. Every input row appears in
the output exactly once, with a ``status`` and, when it is not ``ok``, a
``problem`` a person can act on. ``interpret_one`` runs the same rules on one
result for clinic software.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import catalogue
from labinterp.steps.schemes import SchemeInputs, apply_schemes, inflamed_sample_sets
from labinterp.catalogue import RangeCatalogue, load_range_catalogue
from labinterp.steps.flags import FLAG_ORDER, flags
from labinterp.steps.derive import EQUATION_NAMES, derive_egfr, derive_egfr_cr_cys, hba1c_columns
from labinterp.errors import (
    InvalidResultError,
    MissingColumnError,
    ReasonCode,
    UnitError,
)
from labinterp.explain import NOTE_IDS, Text, explanation_table, rule_caveats
from labinterp.io._context import complete_context
from labinterp.models import Finding, Profile
from labinterp.perf import (
    Coded,
    ColumnCodes,
    Soon,
    factorize_rows,
    factorized,
    objects,
    threaded,
)
from labinterp.range_text import LabRange, parse_range_text
from labinterp.samples import sample_sets
from labinterp.units import Affine, conversion, normalise_unit
from labinterp.values import Decimal, parse_column
from labinterp.vocab import Flag, Sex, Status

__all__ = [
    "GLOSSARY_COLUMNS",
    "CatalogueChoice",
    "choose_catalogue_range",
    "failures",
    "findings",
    "interpret",
    "interpret_one",
    "lab_range",
    "resolve_analyte",
]

#: Columns of the interpreted frame, in order (DESIGN §3 plus the range details).
GLOSSARY_COLUMNS: tuple[str, ...] = (
    "source_row",
    "patient_id",
    "sex",
    "age_years",
    "birth_date",
    "collected_at",
    "source_code",
    "source_code_system",
    "source_name",
    "analyte",
    "raw_value",
    "raw_unit",
    "comparator",
    "value",
    "unit",
    "value_canonical",
    "unit_canonical",
    "lab_reference_text",
    "lab_flag",
    "reference_low",
    "reference_high",
    "reference_low_inclusive",
    "reference_high_inclusive",
    "critical_low",
    "critical_high",
    "reference_source",
    "reference_citation",
    "flag",
    "scheme",
    "category",
    "explanation",
    "explanation_sources",
    "caveats",
    "status",
    "problem",
    "derived_from",
)

#: Context columns that are parsed (dates) or derived (age) before interpretation.
_CONTEXT_COLUMNS = frozenset({"collected_at", "birth_date", "age_years"})

#: Statuses whose value and unit were read, so a classification scheme can still apply.
_CLASSIFIABLE = [
    Status.OK.value,
    Status.NO_REFERENCE.value,
    Status.MISSING_CONTEXT.value,
    Status.INDETERMINATE.value,
]

#: Separates several caveats within one ``caveats`` cell.
CAVEAT_SEPARATOR = " | "

#: Notes about how a row was interpreted, one bit each; texts are ``note.<id>``.
_NOTE_BIT = {note: 1 << i for i, note in enumerate(NOTE_IDS)}
_RANGE_UNIT_DISAGREES = _NOTE_BIT["range_unit_disagrees"]
_RANGE_UNREADABLE = _NOTE_BIT["range_unreadable"]
_CATALOGUE_CRITICAL = _NOTE_BIT["catalogue_critical"]
_SEX_UNRECOGNISED = _NOTE_BIT["sex_unrecognised"]

OnInvalid = Literal["record", "raise"]
ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class _Outcome:
    """Row status and problem, where the first reason recorded wins."""

    def __init__(self, n: int) -> None:
        self.status: ObjArray = objects(n)
        self.problem: ObjArray = objects(n)
        self._open = np.ones(n, dtype=bool)

    @classmethod
    def resume(
        cls, status: ObjArray, problem: ObjArray, still_open: npt.NDArray[np.bool_]
    ) -> _Outcome:
        """Go on from recorded statuses: rows without one (``still_open``) are open."""
        outcome = cls(0)
        outcome.status, outcome.problem, outcome._open = status, problem, still_open.copy()
        return outcome

    def open(self) -> npt.NDArray[np.bool_]:
        return self._open.copy()

    def record(self, mask: npt.NDArray[np.bool_], code: ReasonCode, problem: Any) -> None:
        target = mask & self._open
        if not target.any():
            return
        self._open &= ~target
        self.status[target] = code.value
        if isinstance(problem, np.ndarray):
            self.problem[target] = problem[target]
        else:
            self.problem[target] = problem


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def _coded(frame: pd.DataFrame, name: str, coded: ColumnCodes | None) -> Coded | pd.Series:
    """Return a column's codes when already factorized, else the column itself."""
    found = coded.get(name) if coded is not None else None
    return found if found is not None else _column(frame, name)


def _codes_of(frame: pd.DataFrame, name: str, coded: ColumnCodes | None) -> Coded:
    """Return a column factorized (missing is -1), using codes already made."""
    found = _coded(frame, name, coded)
    return found if isinstance(found, Coded) else factorized(found)


#: Input columns factorized at the start of a run (in threads for large frames), in the
#: order they are needed.
_CODED_COLUMNS = (
    "lab_reference_text",
    "analyte",
    "source_code",
    "source_name",
    "raw_value",
    "raw_unit",
    "sex",
    "patient_id",
)


# -- analytes -----------------------------------------------------------------

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
    key = None if _is_na(key) else key
    given = key if isinstance(key, str) and key in catalogue.analytes() else ("?" if key else None)
    coded = catalogue.lookup_code(code) if isinstance(code, str) else None
    named = catalogue.lookup_name(name) if isinstance(name, str) else None
    if given == "?":
        return None, _UNKNOWN_KEY
    if given is not None:
        return given, None
    if coded and named and coded != named:
        return None, _CODE_NAME_CONFLICT
    if coded or named:
        return coded or named, None
    return None, _UNRECOGNISED


def _is_na(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


@lru_cache(maxsize=1)
def _analyte_keys() -> tuple[str, ...]:
    """Every catalogue analyte key; a row's analyte number is its position here."""
    return tuple(catalogue.analytes())


def _present(number: IntArray) -> IntArray:
    """Return the analyte numbers that occur (counted, not sorted)."""
    return np.flatnonzero(np.bincount(number + 1, minlength=1)[1:])


def _analyte_number(name: str) -> int:
    return _analyte_keys().index(name)


def _analyte_names(number: IntArray) -> ObjArray:
    """Return the analyte key for each analyte number (``None`` for -1)."""
    return np.array([*_analyte_keys(), None], dtype=object)[number]


def _resolve_analytes(
    frame: pd.DataFrame, outcome: _Outcome, coded: ColumnCodes | None
) -> IntArray:
    """Resolve analytes once per distinct (analyte, code, name) combination.

    Returns each row's analyte number in :func:`_analyte_keys` (-1: none).
    """
    names = ("analyte", "source_code", "source_name")
    codes, first = factorize_rows(*(_coded(frame, c, coded) for c in names if c in frame.columns))
    values = [
        frame[c].take(first).to_numpy(dtype=object) if c in frame.columns else objects(len(first))
        for c in names
    ]
    resolved = [resolve_analyte(*combination) for combination in zip(*values, strict=True)]
    keys = _analyte_keys()
    numbers = np.array([keys.index(a) if a else -1 for a, _ in resolved], dtype=np.int64)
    number = numbers[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    unknown = number < 0
    if unknown.any():
        problem = objects(len(number))
        problem[unknown] = np.array([p for _, p in resolved], dtype=object)[codes[unknown]]
        outcome.record(unknown, ReasonCode.UNKNOWN_ANALYTE, problem)
    return number


# -- units --------------------------------------------------------------------


@dataclass(frozen=True)
class _UnitInfo:
    pint: str | None
    display: str | None
    problem: str | None


def _unit_info(item: Any) -> _UnitInfo:
    try:
        unit = normalise_unit(item if isinstance(item, str) else "")
    except UnitError as exc:
        return _UnitInfo(None, None, exc.message)
    return _UnitInfo(unit.pint, unit.display, None)


def _group_conversion(
    name: str, unit: str, target: Callable[[str], str | None]
) -> tuple[float, float, str | None]:
    """Scale and offset from ``unit`` to the reporting unit of ``name``, or a problem."""
    to_unit = target(name)
    if to_unit is None:
        return np.nan, 0.0, "The profile has no reporting unit for this analyte."
    try:
        affine = conversion(unit, to_unit, name)
    except UnitError:
        return (
            np.nan,
            0.0,
            f"The unit does not measure {name} in a way labinterp can convert to "
            f"{normalise_unit(to_unit).display}; check the unit column.",
        )
    return float(affine.scale), float(affine.offset), None


def _convert_groups(
    number: IntArray,
    unit_pint: ObjArray,
    unit_code: IntArray,
    target: Callable[[str], str | None],
    outcome: _Outcome,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Return per-row scale and offset to the reporting unit, one factor per unit group.

    ``number`` and ``unit_code`` number the analytes and units (-1: none; ``unit_pint``
    holds each unit code's pint expression), so groups are found without comparing
    strings. The third array returned numbers each row's (analyte, unit) group (-1: no
    analyte or unit).
    """
    keys = _analyte_keys()
    codes, first = factorize_rows(number, unit_code)
    group_scale = np.full(len(first), np.nan)
    group_offset = np.zeros(len(first))
    group_problem: list[str | None] = [None] * len(first)
    usable_group = np.zeros(len(first), dtype=bool)
    for i, row in enumerate(first):
        code, unit = int(number[row]), int(unit_code[row])
        if code < 0 or unit < 0:
            continue  # no analyte or no unit: recorded already
        usable_group[i] = True
        group_scale[i], group_offset[i], group_problem[i] = _group_conversion(
            keys[code], unit_pint[unit], target
        )
    scale = group_scale[codes]
    offset = group_offset[codes]
    group = np.where(usable_group[codes], codes, -1)
    failing = np.array([p is not None for p in group_problem], dtype=bool)
    if failing.any():
        row_problem = np.array(group_problem, dtype=object)[codes]
        outcome.record(failing[codes], ReasonCode.INCOMPATIBLE_UNIT, row_problem)
    return scale, offset, group


# -- rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Texts:
    """The distinct lab range texts of the input; rows hold codes into them (-1: none)."""

    distinct: ObjArray

    @classmethod
    def of(cls, frame: pd.DataFrame, coded: ColumnCodes) -> tuple[_Texts, IntArray]:
        found = coded.get("lab_reference_text")
        if found is None:
            return cls(np.empty(0, dtype=object)), np.full(len(frame), -1, dtype=np.int64)
        return cls(np.asarray(found.uniques, dtype=object)), found.codes

    def text(self, code: int) -> Any:
        return self.distinct[code] if code >= 0 else None


#: Sexes as numbered in ``_Read.sex_number`` (0: missing or not recognised).
_SEXES = ("", "female", "male")


def _sex_names(sex_number: IntArray) -> ObjArray:
    """Return ``"female"``, ``"male"`` or ``""`` for each sex number."""
    return np.array(_SEXES, dtype=object)[sex_number]


@dataclass(frozen=True)
class _Read:
    """What reading a row tells, before any range is chosen; enough to derive from it."""

    number: IntArray  # the analyte's position in _analyte_keys(), -1: not recognised
    comparator: ObjArray
    censored: npt.NDArray[np.bool_]  # the comparator is not ""
    value: FloatArray
    unit_display: ObjArray
    scale: FloatArray
    offset: FloatArray
    unit_group: IntArray  # rows with the same scale and offset share it (-1: none)
    value_canonical: FloatArray
    sex_number: IntArray  # position in _SEXES
    sex_unrecognised: npt.NDArray[np.bool_]
    age: FloatArray
    lab_text: IntArray  # code into _Texts
    status: ObjArray  # None while the row can still be interpreted
    problem: ObjArray
    open: npt.NDArray[np.bool_]  # no status yet

    def analyte(self) -> ObjArray:
        """Return the analyte key per row (``None`` where not recognised)."""
        return _analyte_names(self.number)

    def sex(self) -> ObjArray:
        """Return ``"female"``, ``"male"`` or ``""`` (missing or not recognised) per row."""
        return _sex_names(self.sex_number)

    def stacked(self, other: _Read, layout: _Layout) -> _Read:
        """Return both row sets together (input rows, then derived rows) in output order."""
        after = int(self.unit_group.max(initial=-1)) + 1  # the other's groups come after
        theirs = replace(
            other, unit_group=np.where(other.unit_group >= 0, other.unit_group + after, -1)
        )
        in_background = threaded(len(layout.order))
        placed = {
            f.name: Soon(
                in_background, layout.place, getattr(self, f.name), getattr(theirs, f.name)
            )
            for f in fields(self)
        }
        return _Read(**{name: soon.result() for name, soon in placed.items()})


def _reporting_units(target: Callable[[str], str | None]) -> ObjArray:
    """Return the displayed reporting unit per analyte number (last entry, for -1: None)."""
    units = [target(name) for name in _analyte_keys()]
    shown = [normalise_unit(u).display if u else None for u in units]
    return np.array([*shown, None], dtype=object)


def _read(
    frame: pd.DataFrame,
    decimal: Decimal | None,
    target: Callable[[str], str | None],
    lab_text: IntArray,
    coded: ColumnCodes | None = None,
) -> _Read:
    """Recognise analytes, parse values and units, convert, and check plausibility.

    ``coded`` holds columns of ``frame`` already factorized.
    """
    outcome = _Outcome(len(frame))
    number = _resolve_analytes(frame, outcome, coded)

    parsed = parse_column(
        _column(frame, "raw_value"),
        decimal,
        codes=coded.get("raw_value") if coded is not None else None,
    )
    entry = parsed.rows
    comparator = parsed.comparator[entry]
    censored = (parsed.comparator != "")[entry]  # compared once per distinct value
    value = parsed.value[entry]
    for code in (ReasonCode.UNPARSED_VALUE, ReasonCode.AMBIGUOUS_VALUE):
        hit = (parsed.status == code.value)[entry]  # compared once per distinct value
        if hit.any():
            outcome.record(hit, code, parsed.problem[entry])

    units = _codes_of(frame, "raw_unit", coded)
    unit_codes, unit_texts = units.codes, units.uniques
    infos = [_unit_info(u) for u in unit_texts] + [_unit_info(None)]
    taken = np.where(unit_codes < 0, len(unit_texts), unit_codes)
    unit_display = np.array([u.display for u in infos], dtype=object)[taken]
    has_problem = np.array([u.problem is not None for u in infos], dtype=bool)[taken]
    if has_problem.any():
        unit_problem = objects(len(taken))
        unit_problem[has_problem] = np.array([u.problem for u in infos], dtype=object)[
            taken[has_problem]
        ]
        outcome.record(has_problem, ReasonCode.UNKNOWN_UNIT, unit_problem)
    converts = np.array([u.pint is not None for u in infos], dtype=bool)[taken]
    unit_code = np.where(converts, taken, -1)  # a position in ``infos``

    unit_pint = np.array([u.pint for u in infos], dtype=object)
    scale, offset, unit_group = _convert_groups(number, unit_pint, unit_code, target, outcome)
    value_canonical = _apply(scale, offset, value)
    _check_plausible(number, value, value_canonical, unit_display, censored, target, outcome)

    sexes_coded = _codes_of(frame, "sex", coded)
    sex_codes, sex_texts = sexes_coded.codes, sexes_coded.uniques
    sexes = [getattr(Sex.parse(t), "value", "") for t in sex_texts] + [""]
    sex_taken = np.where(sex_codes < 0, len(sex_texts), sex_codes)
    sex_number = np.array([_SEXES.index(x) for x in sexes], dtype=np.int64)[sex_taken]
    return _Read(
        number=number,
        comparator=comparator,
        censored=censored,
        value=value,
        unit_display=unit_display,
        scale=scale,
        offset=offset,
        unit_group=unit_group,
        value_canonical=value_canonical,
        sex_number=sex_number,
        sex_unrecognised=(sex_codes >= 0) & (sex_number == 0),
        age=pd.to_numeric(_column(frame, "age_years"), errors="coerce").to_numpy(dtype="float64"),
        lab_text=lab_text,
        status=outcome.status,
        problem=outcome.problem,
        open=outcome.open(),
    )


# -- ranges -------------------------------------------------------------------


@dataclass
class _Ranges:
    low: FloatArray
    high: FloatArray
    low_inclusive: npt.NDArray[np.bool_]
    high_inclusive: npt.NDArray[np.bool_]
    critical_low: FloatArray
    critical_high: FloatArray
    source: ObjArray
    citation: ObjArray
    caveats: npt.NDArray[np.int64]
    sourced: npt.NDArray[np.bool_]  # a source is set

    @classmethod
    def empty(cls, n: int) -> _Ranges:
        return cls(
            low=np.full(n, np.nan),
            high=np.full(n, np.nan),
            low_inclusive=np.ones(n, dtype=bool),
            high_inclusive=np.ones(n, dtype=bool),
            critical_low=np.full(n, np.nan),
            critical_high=np.full(n, np.nan),
            source=objects(n),
            citation=objects(n),
            caveats=np.zeros(n, dtype=np.int64),
            sourced=np.zeros(n, dtype=bool),
        )


def _apply(scale: FloatArray, offset: FloatArray, values: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values), values * scale + offset, values)


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

    def converted(limit: float) -> float:
        return limit * scale + offset if np.isfinite(limit) else limit

    return (
        LabRange(converted(lab.low), converted(lab.high), lab.low_inclusive, lab.high_inclusive),
        0,
    )


def _lab_ranges(
    texts: _Texts,
    read: _Read,
    target: Callable[[str], str | None],
    ranges: _Ranges,
) -> npt.NDArray[np.bool_]:
    """Fill ranges from the lab's own range text; return where one was used.

    :func:`lab_range` runs once per distinct (text, analyte, unit factor) combination.
    """
    codes, first = factorize_rows(read.lab_text, read.number, read.unit_group)
    names = _analyte_names(read.number[first])
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
    ranges.source[into] = "lab"
    ranges.sourced[into] = True
    ranges.citation[into] = _LAB_CITATION
    return ok


class _People:
    """Sex and age per row, prepared once for matching catalogue rows."""

    def __init__(self, sex: ObjArray, sex_number: IntArray, age: FloatArray) -> None:
        self.sex = sex  # "female", "male" or ""
        self.sex_number = sex_number  # position in _SEXES
        self.age = age


_NEEDS_SEX = (
    "The reference range depends on sex, and the sex is missing or not recognised; "
    "add a sex column (female/male) or the lab's own range."
)
_NEEDS_AGE = (
    "The reference range depends on age, and the age is missing; add age_years "
    "(or birth and collection dates) or the lab's own range."
)
_NO_REFERENCE = (
    "No reference range was supplied by the lab and the catalogue has none for this "
    "analyte, sex and age."
)
_LAB_CITATION = "reference range supplied by the laboratory"


@dataclass(frozen=True)
class CatalogueChoice:
    """What the catalogue gives one result (see :func:`choose_catalogue_range`).

    ``low`` to ``high_inclusive`` and ``source`` are set only for a result without a
    lab range; after a lab range only the critical limits, the ``citation`` and the
    ``critical_note`` flag are set. ``problem`` says why no range was found.
    """

    low: float = np.nan
    high: float = np.nan
    low_inclusive: bool = True
    high_inclusive: bool = True
    critical_low: float = np.nan
    critical_high: float = np.nan
    source: str | None = None
    citation: str | None = None
    critical_note: bool = False
    problem: tuple[ReasonCode, str] | None = None


def choose_catalogue_range(
    cat: RangeCatalogue, name: str, to_unit: str, sex: str, age: float, lab_used: bool
) -> CatalogueChoice:
    """Choose the catalogue row for one result: the first that covers its sex and age.

    Unknown sex or age never match a row partitioned by them. Where the lab's own
    range was used, only the first covering row with critical limits counts, for its
    critical limits (the lab's range text carries none).

    Parameters
    ----------
    cat
        The range catalogue.
    name, to_unit
        The analyte and its reporting unit (limits are converted to it).
    sex
        ``"female"``, ``"male"`` or ``""`` (unknown).
    age
        Age in years, NaN when unknown.
    lab_used
        Whether the lab's own range was used.

    Returns
    -------
    CatalogueChoice
    """
    has_sex, has_age = sex != "", not np.isnan(age)
    missing_sex = missing_age = False
    for spec in cat.for_analyte(name):
        try:
            affine = conversion(spec.unit, to_unit, name)
        except UnitError:
            continue
        needs_age = spec.age_min is not None or spec.age_max is not None
        if not lab_used and ((spec.sex != "any" and not has_sex) or (needs_age and not has_age)):
            missing_sex |= spec.sex != "any" and not has_sex
            missing_age |= not missing_sex
        covered = (
            (spec.sex == "any" or sex == spec.sex)
            and (spec.age_min is None or (has_age and age >= spec.age_min))
            and (spec.age_max is None or (has_age and age < spec.age_max))
        )
        if not covered:
            continue
        critical_low = _affine_or_nan(affine, spec.critical_low)
        critical_high = _affine_or_nan(affine, spec.critical_high)
        if lab_used:
            if spec.critical_low is None and spec.critical_high is None:
                continue
            return CatalogueChoice(
                critical_low=critical_low,
                critical_high=critical_high,
                citation=f"{_LAB_CITATION}; critical limits: {spec.source}, {spec.locator}",
                critical_note=True,
            )
        return CatalogueChoice(
            low=_affine_or_nan(affine, spec.low),
            high=_affine_or_nan(affine, spec.high),
            low_inclusive=spec.low_inclusive,
            high_inclusive=spec.high_inclusive,
            critical_low=critical_low,
            critical_high=critical_high,
            source=f"catalogue:{cat.info.name}",
            citation=f"{spec.source}, {spec.locator}",
        )
    if lab_used:
        return CatalogueChoice()
    if missing_sex:
        return CatalogueChoice(problem=(ReasonCode.MISSING_CONTEXT, _NEEDS_SEX))
    if missing_age:
        return CatalogueChoice(problem=(ReasonCode.MISSING_CONTEXT, _NEEDS_AGE))
    return CatalogueChoice(problem=(ReasonCode.NO_REFERENCE, _NO_REFERENCE))


def _age_bands(cat: RangeCatalogue, number: IntArray, age: FloatArray) -> npt.NDArray[np.int64]:
    """Return age-band numbers between the catalogue's age limits, per analyte (-1: no age).

    Two ages in the same band meet the same catalogue rows, so the choice is made once
    per band.
    """
    band = np.full(len(number), -1, dtype=np.int64)
    finite = np.isfinite(age)
    keys = _analyte_keys()
    for code in _present(number):
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


def _catalogue_ranges(
    cat: RangeCatalogue,
    number: IntArray,
    people: _People,
    pending: npt.NDArray[np.bool_],
    target: Callable[[str], str | None],
    ranges: _Ranges,
    outcome: _Outcome,
) -> None:
    """Fill ranges from the catalogue for rows without a usable lab range.

    The choice is made once per (analyte, sex, age band, lab range used) group with
    :func:`choose_catalogue_range`. Where the lab's own range was used, only the
    catalogue's critical limits are taken.
    """
    known = number >= 0
    if not known.any():
        return
    # Rows with the same analyte, sex, age and lab range use meet the same catalogue
    # rows; the few distinct ages of those groups are then put into age bands, and the
    # choice is made once per (analyte, sex, age band, lab range use).
    by_value, firsts = factorize_rows(number, people.sex_number, people.age, pending)
    band = _age_bands(cat, number[firsts], people.age[firsts])
    grouped, first = factorize_rows(
        number[firsts], people.sex_number[firsts], band, pending[firsts]
    )
    codes = grouped[by_value]
    keys = _analyte_keys()
    choices = [
        choose_catalogue_range(
            cat,
            keys[number[row]],
            target(keys[number[row]]) or "",
            people.sex[row],
            people.age[row],
            not pending[row],
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
        ("source", ranges.source),
    ):
        target_array[into] = table(field, target_array.dtype)[of]
    ranges.sourced[into] = np.array([c.source is not None for c in choices], dtype=bool)[of]
    into = np.flatnonzero(full | critical)
    of = codes[into]
    for field, target_array in (
        ("critical_low", ranges.critical_low),
        ("critical_high", ranges.critical_high),
        ("citation", ranges.citation),
    ):
        target_array[into] = table(field, target_array.dtype)[of]
    ranges.caveats[critical] |= _CATALOGUE_CRITICAL
    # The groups without a range record why, one reason at a time.
    reason_of = [c.problem[0] if c.problem else None for c in choices]
    texts = np.array([c.problem[1] if c.problem else None for c in choices], dtype=object)
    for reason in {r for r in reason_of if r is not None}:
        in_group = np.array([r is reason for r in reason_of], dtype=bool)[codes] & known
        problem = objects(len(number))
        problem[in_group] = texts[codes[in_group]]
        outcome.record(in_group, reason, problem)


def _affine_or_nan(affine: Affine, value: float | None) -> float:
    return float(affine(value)) if value is not None else np.nan


# -- explanations -------------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    """Explanations and rule caveats per row, before the interpretation notes are added."""

    text: Text
    explained: IntArray  # per row, its explanation's number
    explanation: ObjArray  # per number, the text
    cited: ObjArray  # per number, the "; "-joined source keys
    rule_texts: ObjArray  # per rule-caveat combination, tuples of caveat texts,
    rule_sources: ObjArray  # their sources
    rule_ids: ObjArray  # and the rule ids
    rule_codes: IntArray  # per row, its rule-caveat combination


def _render(
    analyte: pd.Categorical[Any] | ObjArray,
    flag: pd.Categorical[Any],
    scheme: pd.Categorical[Any] | ObjArray,
    category: pd.Categorical[Any] | ObjArray,
    rows: Mapping[str, Any],
    profile: Profile,
    cat: RangeCatalogue,
    text: Text,
) -> _Rendered:
    """Compose explanations and evaluate the context rules, once per distinct combination.

    ``rows`` holds the row-aligned arrays the rules need besides the analyte and flag:
    ``value_canonical``, ``age_years``, ``collected_at``, ``sample_set``,
    ``reference_source``, ``derived`` and ``equation``.
    """
    explained, explanation, cited = explanation_table(analyte, flag, scheme, category, text)
    # Placeholder values as categoricals: factorized by their codes, not their text.
    equation_codes, equations_used = pd.factorize(rows["equation"], use_na_sentinel=True)
    equation = pd.Categorical.from_codes(
        equation_codes,
        categories=pd.Index([EQUATION_NAMES.get(e, e) for e in equations_used], dtype=object),
    )
    source = rows["reference_source"]
    catalogue_title = pd.Categorical.from_codes(
        np.where(pd.isna(source), -1, 0), categories=pd.Index([cat.info.title], dtype=object)
    )
    rule_texts, rule_sources, rule_ids, rule_codes = rule_caveats(
        {
            "analyte": analyte,
            "flag": flag,
            "value_canonical": rows["value_canonical"],
            "age_years": rows["age_years"],
            "collected_at": rows["collected_at"],
            "sample_set": rows["sample_set"],
            "reference_source": source,
            "derived": rows["derived"],
        },
        profile.name,
        text,
        {"equation": equation, "catalogue": catalogue_title},
    )
    return _Rendered(
        text, explained, explanation, cited, rule_texts, rule_sources, rule_ids, rule_codes
    )


def _finalise_text(out: pd.DataFrame, rendered: _Rendered) -> pd.DataFrame:
    """Attach explanations and caveats (rule caveats, then interpretation notes)."""
    text, explained, cited_table = rendered.text, rendered.explained, rendered.cited
    notes = out["_notes"].fillna(0).to_numpy(dtype=np.int64)
    # Join once per distinct (rules, notes, explanation sources) combination.
    codes, first = factorize_rows(rendered.rule_codes, notes, explained)
    caveats = np.empty(len(first), dtype=object)
    sources = np.empty(len(first), dtype=object)
    applied = np.empty(len(first), dtype=object)
    for u, i in enumerate(first):
        cited = cited_table[explained[i]]
        rules = rendered.rule_codes[i]
        parts, keys = _caveat_parts(
            rendered.rule_texts[rules], rendered.rule_sources[rules], cited, int(notes[i]), text
        )
        caveats[u] = CAVEAT_SEPARATOR.join(parts) if parts else None
        sources[u] = "; ".join(keys) if keys else None
        applied[u] = "; ".join(rendered.rule_ids[rules]) if rendered.rule_ids[rules] else None
    # Text columns are categoricals: each distinct text is held (and written) once.
    out["explanation"] = _categorical(explained, rendered.explanation, out.index)
    out["explanation_sources"] = _categorical(codes, sources, out.index)
    out["caveats"] = _categorical(codes, caveats, out.index)
    out["caveat_rules"] = _categorical(codes, applied, out.index)
    return out.drop(columns="_notes")


def _categorical(codes: npt.NDArray[np.int64], table: ObjArray, index: pd.Index) -> pd.Series:
    """Build a categorical column from row codes into a small table of texts (None: missing)."""
    table_codes, categories = pd.factorize(table, use_na_sentinel=True)
    row_codes = np.asarray(table_codes, dtype=np.int64)[codes]
    values = pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype=object))
    return pd.Series(values, index=index)


def _caveat_parts(
    rule_texts: Sequence[str],
    rule_sources: Sequence[str],
    cited: str | None,
    notes: int,
    text: Text,
) -> tuple[list[str], list[str]]:
    """Return a row's caveats (rule caveats, then notes) and all its source keys."""
    parts = list(rule_texts)
    keys = [*(cited.split("; ") if isinstance(cited, str) else ()), *rule_sources]
    for note, bit in _NOTE_BIT.items():
        entry = text.get(f"note.{note}") if notes & bit else None
        if entry is not None:
            parts.append(entry.text)
            keys.extend(entry.sources)
    return parts, list(dict.fromkeys(keys))


# -- main ---------------------------------------------------------------------


def _resolve_profile(profile: str | Profile) -> Profile:
    return catalogue.get_profile(profile)


def interpret(
    frame: pd.DataFrame,
    *,
    profile: str | Profile = "no",
    catalogue: str | Path | RangeCatalogue | None = None,
    lang: str = "en",
    on_invalid: OnInvalid = "record",
    decimal: Decimal | None = None,
    schemes: Sequence[str] | None = None,
    inflammation: bool | None = None,
    derive: bool = True,
    egfr_equation: str | None = None,
    audience: str = "patient",
    history: bool = False,
) -> pd.DataFrame:
    """Interpret a results frame.

    Parameters
    ----------
    frame
        A results frame (DESIGN §3): one row per result with at least
        ``raw_value`` and ``raw_unit``, and ``analyte``, ``source_code`` or
        ``source_name`` to identify the analyte. Optional context: ``sex``,
        ``age_years``, ``lab_reference_text``, ``patient_id``, ``collected_at``.
    profile
        Country profile: ``"no"`` (default), ``"se"``, ``"dk"`` or ``"us"``. It
        chooses the reporting units and the range catalogue.
    catalogue
        A range catalogue to use instead of the profile's: a packaged name
        (``"nordic"``, ``"us"``), a directory with ``catalogue.toml`` and
        ``ranges.csv``, or a loaded :class:`~labinterp.catalogue.RangeCatalogue`.
    lang
        Language of the explanations and caveats: ``"en"``, ``"nb"`` or ``"sv"``.
    on_invalid
        ``"record"`` (default) keeps every row and records its ``status`` and
        ``problem``; ``"raise"`` raises :class:`~labinterp.errors.InvalidResultError`
        for the first row that could not be interpreted.
    decimal
        Decimal separator of ``raw_value`` (``","`` or ``"."``); ``None`` infers it
        from the column's unambiguous values.
    schemes
        Classification schemes to apply (names in ``schemes.toml``, first match per
        analyte wins); ``None`` uses the profile's.
    inflammation
        Whether inflammation is present, for schemes that depend on it (ferritin);
        ``None`` takes it from a raised CRP in the same sample set (same patient and
        collection time).
    derive
        Add derived rows (status ``derived``): eGFR for every creatinine result with
        age and sex, and eGFR from creatinine and cystatin C of the same sample set.
    egfr_equation
        The adult eGFR equation instead of the profile's (``"ckd_epi_2021_cr"``,
        ``"ekfc_cr"``, ``"lund_malmo_revised"``, ...).
    audience
        ``"patient"`` (plain words) or ``"clinician"`` (terse, with caveats).
    history
        Add the serial-change columns of :func:`labinterp.history` (previous value,
        change, reference change value, ``significant_change``) and a caveat saying
        whether a change is significant.

    Returns
    -------
    pandas.DataFrame
        The interpreted frame: every input row exactly once, in input order, each
        derived row right after the row it was derived from (``derived_from`` names
        the source rows; derived rows get index labels of their own), with the glossary
        columns, HbA1c on both scales with eAG, and any other input columns.

    Raises
    ------
    MissingColumnError
        When the frame has no ``raw_value`` column or nothing to identify analytes.
    InvalidResultError
        With ``on_invalid="raise"``, for the first row that is not ``ok``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("interpret() takes a pandas DataFrame; use labinterp.read_csv() first.")
    if "raw_value" not in frame.columns:
        raise MissingColumnError(
            "The frame has no raw_value column; name the result column raw_value "
            "(or read the file with labinterp.read_csv).",
            field="raw_value",
        )
    if not {"analyte", "source_code", "source_name"} & set(frame.columns):
        raise MissingColumnError(
            "The frame has no analyte, source_code or source_name column to identify analytes.",
            field="analyte",
        )
    if on_invalid not in ("record", "raise"):
        raise ValueError("on_invalid must be 'record' or 'raise'.")
    chosen = _resolve_profile(profile)
    text = Text(lang, audience)  # fails early on an unknown language or audience
    cat = load_range_catalogue(catalogue if catalogue is not None else chosen.catalogue)
    n = len(frame)
    out = complete_context(frame) if _CONTEXT_COLUMNS & set(frame.columns) else frame.copy()
    if "source_row" not in out.columns:
        out["source_row"] = np.arange(n, dtype="int64")

    def target(name: str) -> str | None:
        return chosen.units.get(name)

    # Read every input row; derive rows from the readable ones; then choose ranges,
    # flag, classify and explain input and derived rows together, in output order.
    coded = ColumnCodes(out, _CODED_COLUMNS)
    texts, lab_text = _Texts.of(out, coded)
    read = _read(out, decimal, target, lab_text, coded)
    number_in = read.number
    notes = np.zeros(n, dtype=np.int64)
    sets_in = sample_sets(_coded(out, "patient_id", coded), _column(out, "collected_at"))
    layout = _Layout.of(n, np.zeros(0, dtype=np.int64))
    derived_from = equation = objects(0)
    if derive:
        found = _derive(out, read, sets_in, chosen, egfr_equation, target, notes)
        if found is not None:
            rows, positions, derived_from, equation = found
            layout = _Layout.of(n, positions)
            blank = np.full(len(rows), -1, dtype=np.int64)
            read = read.stacked(_read(rows, None, target, blank), layout)
    notes = layout.place(notes, np.zeros(len(derived_from), dtype=np.int64))
    passing = _Passing(out, layout)  # input columns into output order, meanwhile
    total = len(layout.order)
    analyte = read.analyte()
    sex = read.sex()
    canonical_display = _reporting_units(target)[read.number]
    analyte_coded = pd.Categorical.from_codes(read.number, categories=pd.Index(_analyte_keys()))

    outcome = _Outcome.resume(read.status.copy(), read.problem.copy(), read.open)
    # Rows read without a problem stay usable for schemes: what is recorded from here on
    # (no range, missing context, indeterminate) leaves the value and unit readable.
    usable = outcome.open()
    ranges = _Ranges.empty(total)
    ranges.caveats |= notes
    lab_used = _lab_ranges(texts, read, target, ranges)
    pending = ~lab_used & (read.number >= 0)
    people = _People(sex=sex, sex_number=read.sex_number, age=read.age)
    _catalogue_ranges(cat, read.number, people, pending, target, ranges, outcome)
    ranges.caveats[read.sex_unrecognised] |= _SEX_UNRECOGNISED

    open_rows = outcome.open()
    compared = _at_reporting_resolution(
        chosen, read.number, read.value_canonical, read.scale, read.offset
    )
    result = flags(
        np.where(open_rows, compared, np.nan),
        read.comparator,
        ranges.low,
        ranges.high,
        ranges.low_inclusive,
        ranges.high_inclusive,
        ranges.critical_low,
        ranges.critical_high,
        censored=read.censored,
    )
    flag = result.flag
    flag_coded = pd.Categorical.from_codes(result.code, categories=pd.Index([*FLAG_ORDER, ""]))
    undecided = result.indeterminate & open_rows
    partial = undecided & (result.code != len(FLAG_ORDER))  # with a flag
    outcome.record(partial, ReasonCode.INDETERMINATE, _CRITICAL_UNDECIDED)
    outcome.record(undecided, ReasonCode.INDETERMINATE, _FLAG_UNDECIDED)
    ok = outcome.open()
    outcome.status[ok] = Status.OK.value
    status = outcome.status
    status[layout.derived] = Status.DERIVED.value  # the reason a range is missing stays
    if on_invalid == "raise":
        _raise_first_invalid(status, outcome.problem, out["source_row"], layout)

    sets = sets_in[layout.source]  # a derived row belongs to its source row's sample set
    inflamed = (
        np.full(total, bool(inflammation))
        if inflammation is not None
        else inflamed_sample_sets(analyte_coded, flag_coded, sets)
    )
    classified = apply_schemes(
        list(schemes) if schemes is not None else list(chosen.schemes),
        SchemeInputs(
            analyte_coded,
            read.value,
            read.comparator,
            read.censored,
            read.scale,
            read.offset,
            flag_coded,
            usable,
            read.age,
            inflamed,
        ),
        target,
    )

    sex_out = sex.copy()
    sex_out[read.sex_number == 0] = None
    columns: dict[str, Any] = {
        "analyte": analyte,
        "comparator": read.comparator,
        "value": read.value,
        "unit": read.unit_display,
        "value_canonical": read.value_canonical,
        "unit_canonical": canonical_display,
        "sex": sex_out,
        "reference_low": ranges.low,
        "reference_high": ranges.high,
        "reference_low_inclusive": ranges.low_inclusive,
        "reference_high_inclusive": ranges.high_inclusive,
        "critical_low": ranges.critical_low,
        "critical_high": ranges.critical_high,
        "reference_source": ranges.source,
        "reference_citation": ranges.citation,
        "flag": flag,
        "scheme": classified.scheme,
        "category": classified.category,
        "_notes": ranges.caveats,
        "status": status,
        "problem": outcome.problem,
        "derived_from": layout.derived_only(derived_from),
        **hba1c_columns(analyte_coded, read.value_canonical, canonical_display, usable),
        "equation": layout.derived_only(equation),
    }
    if "sex" in out.columns:
        columns["raw_sex"] = out["sex"]  # its place among the columns; in output order later
    for name in GLOSSARY_COLUMNS:
        if name not in out.columns and name not in columns:
            columns[name] = objects(total)
    if "corrected" in out.columns:
        superseded = _superseded(out, number_in)[layout.source]
        columns["superseded"] = superseded
        columns["_notes"][superseded] |= _NOTE_BIT["superseded"]
    equation_codes, equation_names = pd.factorize(equation)  # of the derived rows
    rendered = _render(
        analyte_coded,
        flag_coded,
        classified.scheme_coded,
        classified.category_coded,
        {
            "value_canonical": read.value_canonical,
            "age_years": read.age,
            "collected_at": (
                passing.columns["collected_at"].result()
                if "collected_at" in passing.columns
                else layout.context(_column(out, "collected_at"))
            ),
            "sample_set": sets,
            "reference_source": pd.Categorical.from_codes(
                np.where(lab_used, 0, np.where(ranges.sourced, 1, -1)),
                categories=pd.Index(["lab", f"catalogue:{cat.info.name}"]),
            ),
            "derived": layout.derived,
            "equation": pd.Categorical.from_codes(
                layout.place(np.full(n, -1, dtype=np.int64), equation_codes),
                categories=pd.Index(equation_names),
            ),
        },
        chosen,
        cat,
        text,
    )
    out = _assemble(
        columns, layout, out.index, _derived_labels(out.index, layout.positions), passing
    )
    if history:
        out = _with_history(out)
    return _finalise_text(out, rendered)


_CRITICAL_UNDECIDED = (
    "The censored value lies outside the reference range, but whether it passes the "
    "critical limit cannot be decided."
)
_FLAG_UNDECIDED = (
    "The censored value (with < or >) spans a reference limit, so no flag can be decided."
)


def _at_reporting_resolution(
    profile: Profile,
    number: IntArray,
    value_canonical: FloatArray,
    scale: FloatArray,
    offset: FloatArray,
) -> FloatArray:
    """Round converted values to the profile's reporting resolution before comparing.

    A value converted from another unit or scale carries digits the lab never
    reported (6.5 % is 47.53 mmol/mol); labs report 48, and the classification
    follows the reported number. Values already in the reporting unit are
    compared as given.
    """
    if not profile.resolution:
        return value_canonical
    converted = (scale != 1.0) | (offset != 0.0)
    out = value_canonical.copy()
    for name, step in profile.resolution.items():
        rows = converted & (number == _analyte_number(name)) & np.isfinite(value_canonical)
        out[rows] = np.round(value_canonical[rows] / step) * step
    return out


@dataclass(frozen=True)
class _Layout:
    """Where each output row comes from: an input row, or a row derived from one.

    Derived rows follow the row they were derived from, in the order they were made.
    """

    order: IntArray  # positions into the input rows followed by the derived rows
    where: IntArray  # the inverse: the output row of each input row, then of each derived row
    derived: npt.NDArray[np.bool_]
    source: IntArray  # the input row each output row is, or was derived from
    positions: IntArray  # per derived row, its source input row

    @classmethod
    def of(cls, n: int, positions: IntArray) -> _Layout:
        if not len(positions):  # no derived rows: every row stays where it is
            rows = np.arange(n, dtype=np.int64)
            return cls(rows, rows, np.zeros(n, dtype=bool), rows, positions)
        keys = np.concatenate([np.arange(n, dtype="float64"), positions + 0.5])
        order = np.asarray(np.argsort(keys, kind="stable"), dtype=np.int64)
        where = np.empty_like(order)
        where[order] = np.arange(len(order))
        derived = order >= n
        made = np.where(derived, order - n, 0)
        source = np.where(derived, positions[made], order)
        return cls(order, where, derived, source, positions)

    @property
    def identity(self) -> bool:
        return len(self.positions) == 0

    def place(self, inputs: Any, made: Any) -> Any:
        """Return input-row and derived-row values together, in output order."""
        if self.identity:
            return inputs
        # Each value is written once, straight to its output row.
        out = np.empty(len(self.order), dtype=np.result_type(inputs, made))
        n = len(self.order) - len(self.positions)
        out[self.where[:n]] = inputs
        out[self.where[n:]] = made
        return out

    def derived_only(self, made: ObjArray) -> ObjArray:
        """Return ``made`` on the derived rows, in output order, and ``None`` elsewhere."""
        out = objects(len(self.order))
        out[self.where[len(self.order) - len(self.positions) :]] = made
        return out

    def context(self, series: pd.Series) -> pd.Series:
        """Return a context column in output order; derived rows copy their source's."""
        if self.identity:
            return series
        return pd.Series(series.array.take(self.source), dtype=series.dtype, copy=False)

    def input_only(self, series: pd.Series) -> pd.Series:
        """Return an input column in output order, missing on derived rows."""
        if self.identity:
            return series
        values: Any = series.array
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
            if series.dtype.kind in "iu":
                values = pd.array(series.to_numpy(), dtype="Int64")
            else:
                values = pd.arrays.NumpyExtensionArray(series.to_numpy(dtype=object))
        rows = np.where(self.derived, -1, self.order)
        taken: pd.Series = pd.Series(
            values.take(rows, allow_fill=True), dtype=values.dtype, copy=False
        )
        return taken


#: Input columns a derived row copies from the row it was derived from.
_COPIED_CONTEXT = frozenset(
    {"patient_id", "age_years", "birth_date", "collected_at", "height_cm", "raw_sex"}
)


class _Passing:
    """The input columns in output order (see :class:`_Layout`).

    For large frames they are taken in background threads, while the ranges, flags and
    text are worked out, and collected when the frame is assembled.
    """

    def __init__(self, out: pd.DataFrame, layout: _Layout) -> None:
        soon = threaded(len(layout.order)) and not layout.identity
        # ``sex`` is written by the interpretation itself; the input's passes as ``raw_sex``.
        self.columns = {
            name: Soon(
                soon, layout.context if name in _COPIED_CONTEXT else layout.input_only, out[name]
            )
            for name in out.columns
            if name != "sex"
        }
        # The sex as written, copied to derived rows.
        self.raw_sex = Soon(soon, layout.context, out["sex"]) if "sex" in out.columns else None


def _assemble(
    columns: dict[str, Any],
    layout: _Layout,
    input_index: pd.Index,
    derived_index: pd.Index,
    passing: _Passing,
) -> pd.DataFrame:
    """Build the interpreted frame once: glossary columns first, each column built once."""
    passed = {
        name: taken.result() for name, taken in passing.columns.items() if name not in columns
    }
    if passing.raw_sex is not None:
        columns["raw_sex"] = passing.raw_sex.result()
    index = input_index if layout.identity else input_index.append(derived_index).take(layout.order)
    frame: dict[str, Any] = {}
    for name, values in {**passed, **columns}.items():
        if not isinstance(values, pd.Series):  # object arrays stay object (no str inference)
            values = pd.Series(values, dtype=values.dtype, copy=False)
        series = values
        series.index = index
        frame[name] = series
    ordered = [*GLOSSARY_COLUMNS, *(c for c in frame if c not in GLOSSARY_COLUMNS)]
    return pd.DataFrame({name: frame[name] for name in ordered}, index=index, copy=False)


def _raise_first_invalid(
    status: ObjArray, problem: ObjArray, source_row: pd.Series, layout: _Layout
) -> None:
    """Raise for the first input row that could not be interpreted."""
    bad = ~np.isin(status, [Status.OK.value, Status.DERIVED.value])
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    row = source_row.iloc[int(layout.source[first])]
    raise InvalidResultError(
        f"Row {row} could not be interpreted ({status[first]}): {problem[first]}",
        row=int(row) if isinstance(row, (int, np.integer)) else None,
        reason=ReasonCode(status[first]),
    )


def _derive(
    out: pd.DataFrame,
    read: _Read,
    sets: IntArray,
    chosen: Profile,
    egfr_equation: str | None,
    target: Callable[[str], str | None],
    notes: IntArray,
) -> tuple[pd.DataFrame, IntArray, ObjArray, ObjArray] | None:
    """Make the derived eGFR rows; set the notes of creatinine rows that get none.

    Returns
    -------
    tuple or None
        The derived rows as a results frame to read, each one's source input row,
        ``derived_from`` and equation; ``None`` when nothing was derived.
    """
    # Only creatinine and cystatin C rows can give an eGFR: work on those rows alone.
    sources = np.flatnonzero(
        (read.number == _analyte_number("creatinine"))
        | (read.number == _analyte_number("cystatin_c"))
    )
    if not len(sources):
        return None
    numbers = read.number[sources]
    basis = pd.DataFrame(
        {
            "analyte": pd.Series(_analyte_names(numbers), dtype=object),
            "comparator": pd.Series(read.comparator[sources], dtype=object),
            "sex": pd.Series(_sex_names(read.sex_number[sources]), dtype=object),
            "age_years": read.age[sources],
            "unit_canonical": pd.Series(_reporting_units(target)[numbers], dtype=object),
            "value_canonical": read.value_canonical[sources],
            **{
                c: out[c].take(sources).reset_index(drop=True)
                for c in ("source_row", "patient_id", "collected_at", "birth_date", "height_cm")
                if c in out.columns
            },
        },
        copy=False,
    )
    usable = read.open[sources]
    derived = derive_egfr(basis, usable, chosen, egfr_equation)
    note_codes, note_ids = pd.factorize(derived.notes, use_na_sentinel=True)
    if len(note_ids):
        bits = np.array([_NOTE_BIT[note] for note in note_ids], dtype=np.int64)
        noted = note_codes >= 0
        notes[sources[noted]] |= bits[note_codes[noted]]
    parts = [derived.rows]
    if chosen.egfr_cr_cys_equation:
        parts.append(derive_egfr_cr_cys(basis, usable, chosen.egfr_cr_cys_equation, sets[sources]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return None
    rows = pd.concat(parts, ignore_index=True)
    positions = sources[rows.pop("_source_position").to_numpy(dtype="int64")]
    derived_from = rows.pop("derived_from").to_numpy(dtype=object)
    equation = rows.pop("equation").to_numpy(dtype=object)
    return rows, positions, derived_from, equation


def _derived_labels(index: pd.Index, positions: npt.NDArray[np.int64]) -> pd.Index:
    """Index labels for derived rows that never collide with the input's labels.

    An integer index continues after its largest label; any other index gets
    ``"derived:<source label>"`` labels.
    """
    if pd.api.types.is_integer_dtype(index.dtype) or len(index) == 0:
        start = int(index.max()) + 1 if len(index) else 0
        return pd.RangeIndex(start, start + len(positions))
    return pd.Index([f"derived:{index[p]}" for p in positions], dtype=object)


def _with_history(out: pd.DataFrame) -> pd.DataFrame:
    """Add the serial-change columns and a note on each compared result."""
    from labinterp.steps.history import history as serial

    changes = serial(out)
    for column in changes.columns:
        out[column] = changes[column].to_numpy()
    notes = out["_notes"].fillna(0).to_numpy(dtype=np.int64).copy()
    significant = changes["significant_change"]
    notes[(significant == True).fillna(False).to_numpy(dtype=bool)] |= _NOTE_BIT[  # noqa: E712
        "change_significant"
    ]
    notes[(significant == False).fillna(False).to_numpy(dtype=bool)] |= _NOTE_BIT[  # noqa: E712
        "change_within_variation"
    ]
    out["_notes"] = notes
    return out


def _superseded(out: pd.DataFrame, number: IntArray) -> npt.NDArray[np.bool_]:
    """Mark results replaced by a later corrected result of the same test and sample.

    A corrected result (HL7 OBX-11 ``C``, FHIR status ``corrected``) supersedes the
    earlier results with the same patient, analyte (or code) and collection time in the
    same input. Both rows stay; the earlier one gets ``superseded = True`` and a note,
    and history leaves it out (as does a result derived from it).
    """
    corrected = out["corrected"].fillna(False).to_numpy(dtype=bool)
    if not corrected.any():
        return np.zeros(len(out), dtype=bool)
    # The same test: the same analyte, or the same code where the analyte is not known.
    code = np.where(number < 0, pd.factorize(_column(out, "source_code"))[0], -1)
    keys, _ = factorize_rows(_column(out, "patient_id"), number, code, _column(out, "collected_at"))
    position = np.arange(len(out))
    last_correction = pd.Series(np.where(corrected, position, -1)).groupby(keys).transform("max")
    return np.asarray(position < last_correction.to_numpy(), dtype=bool)


def _check_plausible(
    number: IntArray,
    value: FloatArray,
    value_canonical: FloatArray,
    unit_display: ObjArray,
    censored: npt.NDArray[np.bool_],
    target: Callable[[str], str | None],
    outcome: _Outcome,
) -> None:
    """Mark values outside the cited plausibility limits, naming a unit they would fit."""
    keys = _analyte_keys()
    for code in _present(number):
        name = keys[code]
        to_unit = target(name)
        limits = _plausible_limits(name, to_unit) if to_unit is not None else None
        if limits is None:
            continue
        low, high = limits
        rows = (number == code) & np.isfinite(value_canonical) & ~censored
        with np.errstate(invalid="ignore"):
            outside = rows & ((value_canonical < low) | (value_canonical > high))
        if not outside.any():
            continue
        idx = np.flatnonzero(outside)
        codes, first = factorize_rows(value[idx], unit_display[idx], value_canonical[idx] < low)
        problems = np.array(
            [
                _implausible(name, value[i], unit_display[i], value_canonical[i], to_unit)
                for i in idx[first]
            ],
            dtype=object,
        )
        problem = objects(len(value))
        problem[idx] = problems[codes]
        outcome.record(outside, ReasonCode.IMPLAUSIBLE_VALUE, problem)


@lru_cache(maxsize=256)
def _plausible_limits(name: str, to_unit: str) -> tuple[float, float] | None:
    """Return the plausibility limits in ``to_unit`` (NaN for an open side), or ``None``."""
    spec = catalogue.get_analyte(name)
    if spec.plausible_low is None and spec.plausible_high is None:
        return None
    affine = conversion(spec.unit, to_unit, name)
    return _affine_or_nan(affine, spec.plausible_low), _affine_or_nan(affine, spec.plausible_high)


def _implausible(
    name: str, value: float, unit_display: Any, value_canonical: float, to_unit: str | None
) -> str | None:
    """Return the problem text for a value outside the plausibility limits, else ``None``."""
    limits = _plausible_limits(name, to_unit) if to_unit is not None else None
    if limits is None or not np.isfinite(value_canonical):
        return None
    low, high = limits
    if value_canonical < low:
        side, source = "below", catalogue.get_analyte(name).plausible_low_source
    elif value_canonical > high:
        side, source = "above", catalogue.get_analyte(name).plausible_high_source
    else:
        return None
    base = (
        f"The value is {side} what is plausible for {name} in this unit ({source}), "
        "which usually means a unit mix-up"
    )
    unit = _likely_unit(name, value, unit_display, to_unit or "", low, high)
    if unit:
        return f"{base}; it would be plausible in {unit}: check the unit at the source."
    return f"{base}; check the unit and the value at the source."


def _likely_unit(
    name: str, value: float, unit_display: Any, to_unit: str, low: float, high: float
) -> str | None:
    """Return the first common unit in which an implausible number would be plausible.

    Candidates are the analyte's reporting units in every profile, then its catalogue
    unit. Nothing is changed: the unit is only named in the problem.
    """
    candidates = dict.fromkeys(
        [p.units[name] for p in catalogue.profiles().values() if name in p.units]
        + [catalogue.get_analyte(name).unit]
    )
    for candidate in candidates:
        display = normalise_unit(candidate).display
        if display == unit_display:
            continue
        try:
            converted = float(conversion(candidate, to_unit, name)(value))
        except UnitError:
            continue
        if (
            np.isfinite(converted)
            and (np.isnan(low) or converted >= low)
            and (np.isnan(high) or converted <= high)
        ):
            return display
    return None


def failures(interpreted: pd.DataFrame) -> pd.DataFrame:
    """Return the rows that could not be interpreted, with their row, field and reason.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`interpret`.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_row``, ``analyte``, ``status``, ``problem``.
    """
    bad = ~interpreted["status"].isin([Status.OK.value, Status.DERIVED.value])
    return interpreted.loc[bad, ["source_row", "analyte", "status", "problem"]].reset_index(
        drop=True
    )


def _none_if_nan(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def interpret_one(
    analyte: str,
    value: str | float,
    unit: str,
    *,
    sex: Sex | str | None = None,
    age_years: float | None = None,
    reference_text: str | None = None,
    profile: str | Profile = "no",
    lang: str = "en",
    scheme: str | None = None,
    audience: str = "patient",
) -> Finding:
    """Interpret one result (for clinic software).

    Runs the rules of :func:`interpret` on plain values, without building a frame
    (see :func:`labinterp.interpret_panel` for several results of one sample).

    Parameters
    ----------
    analyte
        Catalogue key (``"magnesium"``), code (``"NPU02647"``, ``"2601-3"``) or
        name as written in exports (``"S-Magnesium"``).
    value
        The value as written (``"0,82"``, ``"<5"``) or a number.
    unit
        The unit as written (``"mmol/L"``).
    sex, age_years
        Patient context, used to choose sex- and age-partitioned ranges.
    reference_text
        The lab's own reference range, when it sent one; it takes precedence.
    profile, lang
        As for :func:`interpret`.
    scheme
        A classification scheme to use instead of the profile's (e.g.
        ``"HbA1c_ADA_NGSP"`` under the Nordic profile).
    audience
        ``"patient"`` or ``"clinician"``.

    Returns
    -------
    Finding
        A frozen model; ``finding.model_dump_json()`` serialises it.

    Examples
    --------
    >>> f = interpret_one("magnesium", "0,62", "mmol/L", sex="female", age_years=50)
    >>> f.flag
    <Flag.L: 'L'>
    """
    from labinterp.single import interpret_single

    return interpret_single(
        analyte,
        value,
        unit,
        sex=sex,
        age_years=age_years,
        reference_text=reference_text,
        profile=profile,
        lang=lang,
        scheme=scheme,
        audience=audience,
    )


def findings(interpreted: pd.DataFrame) -> list[Finding]:
    """Return one :class:`~labinterp.models.Finding` per row of an interpreted frame.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`interpret`.

    Returns
    -------
    list of Finding
        In row order; ``derived_from`` holds the ``source_row`` numbers of the
        results a derived row was computed from.
    """
    out = []
    for _, record in interpreted.iterrows():
        get = {k: _none_if_nan(v) for k, v in record.items()}
        flag_text = get.get("flag") or None
        has_range = bool(get.get("reference_source"))
        derived_from = get.get("derived_from")
        out.append(
            Finding(
                analyte=get.get("analyte"),
                status=Status(get["status"]),
                problem=get.get("problem"),
                raw_value=None if get.get("raw_value") is None else str(get["raw_value"]),
                raw_unit=get.get("raw_unit"),
                comparator=get.get("comparator") or None,
                value=get.get("value"),
                unit=get.get("unit"),
                value_canonical=get.get("value_canonical"),
                unit_canonical=get.get("unit_canonical"),
                reference_low=_finite(get.get("reference_low")),
                reference_high=_finite(get.get("reference_high")),
                reference_low_inclusive=get.get("reference_low_inclusive") if has_range else None,
                reference_high_inclusive=get.get("reference_high_inclusive") if has_range else None,
                critical_low=get.get("critical_low"),
                critical_high=get.get("critical_high"),
                reference_source=get.get("reference_source"),
                reference_citation=get.get("reference_citation"),
                flag=Flag(flag_text) if flag_text else None,
                scheme=get.get("scheme"),
                category=get.get("category"),
                explanation=get.get("explanation"),
                sources=tuple(s for s in (get.get("explanation_sources") or "").split("; ") if s),
                caveats=tuple(c for c in (get.get("caveats") or "").split(CAVEAT_SEPARATOR) if c),
                equation=get.get("equation"),
                derived_from=tuple(int(p) for p in str(derived_from).split(";"))
                if derived_from
                else (),
            )
        )
    return out


def _finite(value: Any) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)
