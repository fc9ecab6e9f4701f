"""Ranges: the lab's own range first, else the catalogue row for the result's sex and age.

A lab range text is read once per distinct (text, analyte, unit factor); the catalogue
choice is made once per (analyte, sex, age band, lab range used) group with
:func:`choose_catalogue_range`, which the single-result path calls too. Where the lab's
range was used, only the catalogue's critical limits are taken. Where the sex or age
is missing, a critical limit every catalogue row that could apply agrees on is still
taken (the range stays undecided): see :func:`agreed_critical_limits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import RangeCatalogue, Text
from labinterp.equations.egfr import equation
from labinterp.errors import ReasonCode, UnitError
from labinterp.models import Profile, ReferenceRange
from labinterp.perf import factorize_rows, objects
from labinterp.range_text import LabRange, parse_range_text
from labinterp.steps.convert import affine_or_nan
from labinterp.steps.explain import equation_name
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
    present,
)
from labinterp.units import Affine, conversion

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
    "reported_equation",
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
    citation: IntArray  # a position in ``cited`` (-1: none)
    caveats: npt.NDArray[np.int64]
    sourced: npt.NDArray[np.bool_]  # a range was found (the lab's or the catalogue's)
    lab: npt.NDArray[np.bool_]  # the lab's own range was used
    cited: dict[str, int]  # each distinct citation once, numbered

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
            citation=np.full(n, -1, dtype=np.int64),
            caveats=np.zeros(n, dtype=np.int64),
            sourced=np.zeros(n, dtype=bool),
            lab=np.zeros(n, dtype=bool),
            cited={},
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

    def converted(limit: float) -> float:
        return limit * scale + offset if np.isfinite(limit) else limit

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
    ) -> None:
        self.sex = sex  # "female", "male" or ""
        self.sex_number = sex_number  # position in SEXES
        self.age = age
        # The equation a derived row was computed with: a position in ``equations``
        # (-1: an input row, whose equation is not known).
        self.equation = np.full(len(age), -1, dtype=np.int64) if equation is None else equation
        self.equations = equations
        self.reported = reported  # the equation the profile's laboratories report with

    def equation_of(self, row: int) -> str:
        """Return the equation of a row: derived with, else the profile's reported one."""
        code = int(self.equation[row])
        return self.equations[code] if code >= 0 else self.reported


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


#: No range: the catalogue's limits for the analyte were made for other equations.
OTHER_EQUATION = (
    "The catalogue's reference limits for this analyte were made for other equations "
    "({equations}), so this estimate is not flagged."
)


LAB_CITATION = "reference range supplied by the laboratory"

#: Where a citation names the source of the critical limits apart from the range's.
CRITICAL_CITATION = "critical limits"


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


def reported_equation(profile: Profile) -> str:
    """Return the eGFR equation a profile's laboratories report with (its own default).

    An eGFR as a laboratory reported it names no equation; it is compared with the
    limits made for the equation the profile's laboratories use (``egfr_equation`` of
    the profile: CKD-EPI 2009 in Norway and Denmark, Lund-Malmö revised in Sweden).
    """
    return equation(profile.egfr_equation).key if profile.egfr_equation else ""


def choose_catalogue_range(
    cat: RangeCatalogue,
    name: str,
    to_unit: str,
    *,
    sex: str,
    age: float,
    lab_used: bool,
    equation: str = "",
) -> CatalogueChoice:
    """Choose the catalogue row for one result: the first that covers its sex and age.

    A row made for some equations only (``equations``, eGFR) is used for a result
    computed with one of them (an eGFR as the lab reported it: the profile's
    :func:`reported_equation`); a result computed with another equation gets no range
    from it, and where that leaves none, a problem that says so.

    Unknown sex or age never match a row partitioned by them. Where the lab's own
    range was used, only the first covering row with critical limits counts, for its
    critical limits (the lab's range text carries none).

    When no row covers the result because its sex or age is unknown, a critical limit
    is still taken where every row that could apply (every sex when the sex is
    unknown, every age band when the age is unknown) states the same limit; see
    :func:`agreed_critical_limits`. The reference range itself stays undecided.

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
    equation
        The equation an eGFR was computed with (``""``: not an eGFR).

    Returns
    -------
    CatalogueChoice
    """
    has_sex, has_age = sex != "", not np.isnan(age)
    missing_sex = missing_age = False
    possible: list[tuple[ReferenceRange, Affine]] = []
    other_equation: set[str] = set()
    for spec in cat.for_analyte(name):
        if equation and spec.equations and equation not in spec.equations:
            other_equation.update(spec.equations)
            continue
        try:
            affine = conversion(spec.unit, to_unit, name)
        except UnitError:
            continue
        needs_age = spec.age_min is not None or spec.age_max is not None
        if not lab_used and ((spec.sex != "any" and not has_sex) or (needs_age and not has_age)):
            missing_sex |= spec.sex != "any" and not has_sex
            missing_age |= not missing_sex
        if _could_apply(spec, sex, age):
            possible.append((spec, affine))
        covered = (
            (spec.sex == "any" or sex == spec.sex)
            and (spec.age_min is None or (has_age and age >= spec.age_min))
            and (spec.age_max is None or (has_age and age < spec.age_max))
        )
        if not covered:
            continue
        critical_low = affine_or_nan(affine, spec.critical_low)
        critical_high = affine_or_nan(affine, spec.critical_high)
        if lab_used:
            if spec.critical_low is None and spec.critical_high is None:
                continue
            return CatalogueChoice(
                critical_low=critical_low,
                critical_high=critical_high,
                citation=f"{LAB_CITATION}; {CRITICAL_CITATION}: {spec.source}, {spec.locator}",
                critical_note=True,
            )
        return CatalogueChoice(
            low=affine_or_nan(affine, spec.low),
            high=affine_or_nan(affine, spec.high),
            low_inclusive=spec.low_inclusive,
            high_inclusive=spec.high_inclusive,
            critical_low=critical_low,
            critical_high=critical_high,
            source=f"catalogue:{cat.info.name}",
            citation=f"{spec.source}, {spec.locator}",
        )
    return _without_row(
        possible,
        lab_used=lab_used,
        missing=(missing_sex, missing_age),
        other_equation=other_equation,
        known=has_sex and has_age,
    )


def _without_row(
    possible: Sequence[tuple[ReferenceRange, Affine]],
    *,
    lab_used: bool,
    missing: tuple[bool, bool],
    other_equation: set[str],
    known: bool,
) -> CatalogueChoice:
    """Return what a result that no catalogue row covers gets, and why (``missing``: sex, age)."""
    missing_sex, missing_age = missing
    if lab_used:
        problem = None
    elif missing_sex or missing_age:
        problem = (ReasonCode.MISSING_CONTEXT, _NEEDS_SEX if missing_sex else _NEEDS_AGE)
    elif other_equation:
        english = Text("en", "clinician")
        made_for = ", ".join(sorted(equation_name(e, english) for e in other_equation))
        return CatalogueChoice(
            problem=(ReasonCode.NO_REFERENCE, OTHER_EQUATION.format(equations=made_for))
        )
    else:
        return CatalogueChoice(problem=(ReasonCode.NO_REFERENCE, _NO_REFERENCE))
    if known:  # every row that could apply covers the result: none has limits
        return CatalogueChoice(problem=problem)
    return _critical_only(possible, lab_used=lab_used, problem=problem)


def _critical_only(
    possible: Sequence[tuple[ReferenceRange, Affine]],
    *,
    lab_used: bool,
    problem: tuple[ReasonCode, str] | None,
) -> CatalogueChoice:
    """Return the critical limits every possible row agrees on, without a range."""
    critical_low, critical_high, cited = agreed_critical_limits(possible)
    if cited is None:
        return CatalogueChoice(problem=problem)
    return CatalogueChoice(
        critical_low=critical_low,
        critical_high=critical_high,
        citation=f"{LAB_CITATION}; {cited}" if lab_used else cited,
        critical_note=lab_used,
        problem=problem,
    )


def _could_apply(spec: ReferenceRange, sex: str, age: float) -> bool:
    """Whether a catalogue row could apply to a result: it covers what is known."""
    known_age = not np.isnan(age)
    return (
        (spec.sex == "any" or sex in ("", spec.sex))
        and (spec.age_min is None or not known_age or age >= spec.age_min)
        and (spec.age_max is None or not known_age or age < spec.age_max)
    )


def _same(value: float) -> float | None:
    """Return a limit as a key where equal limits meet (NaN, no limit: ``None``)."""
    return None if np.isnan(value) else float(f"{value:.12g}")


def agreed_critical_limits(
    rows: Sequence[tuple[ReferenceRange, Affine]],
) -> tuple[float, float, str | None]:
    """Return the critical limits every given catalogue row states alike, and their citation.

    Each limit is taken on its own: the lower limit where every row has the same
    lower limit, the upper likewise; a row without a limit disagrees with one that has
    it. The citation names each source the limits came from (its first row's locator).

    Parameters
    ----------
    rows
        The catalogue rows that could apply to a result, each with the conversion of
        its unit to the reporting unit.

    Returns
    -------
    (float, float, str or None)
        The lower and upper critical limit (NaN: none agreed) and the citation
        (``None`` when no limit is agreed).
    """
    lows = {_same(affine_or_nan(affine, spec.critical_low)) for spec, affine in rows}
    highs = {_same(affine_or_nan(affine, spec.critical_high)) for spec, affine in rows}
    low = lows.pop() if len(lows) == 1 else None
    high = highs.pop() if len(highs) == 1 else None
    if low is None and high is None:
        return np.nan, np.nan, None
    first: dict[str, str] = {}
    for spec, _ in rows:
        first.setdefault(spec.source, spec.locator)
    sources = "; ".join(f"{source}, {locator}" for source, locator in first.items())
    return (
        np.nan if low is None else low,
        np.nan if high is None else high,
        f"{CRITICAL_CITATION}, the same in every band that could apply: {sources}",
    )


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
    by_value, firsts = factorize_rows(
        number, people.sex_number, people.age, pending, people.equation
    )
    band = _age_bands(cat, number[firsts], people.age[firsts])
    grouped, first = factorize_rows(
        number[firsts], people.sex_number[firsts], band, pending[firsts], people.equation[firsts]
    )
    codes = grouped[by_value]
    keys = analyte_keys()
    choices = [
        choose_catalogue_range(
            cat,
            keys[number[row]],
            target(keys[number[row]]) or "",
            sex=people.sex[row],
            age=people.age[row],
            lab_used=not pending[row],
            equation=people.equation_of(row),
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
