"""The catalogue row for one result: its sex, age, unit and (eGFR) equation.

Both paths call :func:`choose_catalogue_range`, the frame path once per (analyte, sex,
age band, lab range used, equation, unit) group (:func:`labinterp.steps.ranges.
catalogue_ranges`), the single path per result. Where the sex or age is missing, a
critical limit every row that could apply agrees on is still taken (the range stays
undecided): see :func:`agreed_critical_limits`. Where an analyte's limits are given in
several units, the rows of the unit the result was reported in are used
(:func:`rows_in_unit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from labinterp.catalogue import RangeCatalogue, Text
from labinterp.equations.egfr import equation
from labinterp.errors import ReasonCode, UnitError
from labinterp.models import Profile, ReferenceRange
from labinterp.steps.convert import affine_or_nan
from labinterp.steps.explain import equation_name
from labinterp.units import Affine, conversion
from labinterp.vocab import SAID_SPECIMENS

__all__ = [
    "CRITICAL_CITATION",
    "LAB_CITATION",
    "NEEDS_SPECIMEN",
    "OTHER_EQUATION",
    "CatalogueChoice",
    "agreed_critical_limits",
    "choose_catalogue_range",
    "multi_unit_analytes",
    "reported_equation",
    "rows_in_unit",
]

_NEEDS_SEX = (
    "The reference range depends on sex, and the sex is missing or not recognised; "
    "add a sex column (female/male) or the lab's own range."
)


_NEEDS_AGE = (
    "The reference range depends on age, and the age is missing; add age_years "
    "(or birth and collection dates) or the lab's own range."
)


#: Problem of a result whose range depends on the specimen, which its code or name does
#: not say (``problem.range_needs_specimen``).
NEEDS_SPECIMEN = (
    "The reference range depends on the specimen (serum or plasma), and the test's code "
    "or name does not say which; add the lab's own range, or a code or name that names "
    "the specimen (such as S-Kalium or P-Kalium)."
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
    critical_low_inclusive: bool = False
    critical_high_inclusive: bool = False
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
    unit: str = "",
    specimen: str = "",
) -> CatalogueChoice:
    """Choose the catalogue row for one result: the first that covers its sex and age.

    Where the catalogue gives an analyte's limits in several units, the rows in the
    unit the result was reported in are used, else those in the reporting unit
    (:func:`rows_in_unit`).

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
    unit
        The unit the result was reported in (``""``: not known).
    specimen
        ``"serum"`` or ``"plasma"`` where the result's code or name says it
        (:func:`labinterp.names.specimen_of`); ``""``: not said. Rows for one specimen
        apply only to it; where they are all there is, an unsaid specimen leaves the
        range undecided, as an unknown sex does.

    Returns
    -------
    CatalogueChoice
    """
    has_sex, has_age = sex != "", not np.isnan(age)
    missing_sex = missing_age = missing_specimen = False
    possible: list[tuple[ReferenceRange, Affine]] = []
    other_equation: set[str] = set()
    rows = _for_specimen(cat.for_analyte(name), specimen)
    for spec in rows_in_unit(rows, name, unit, to_unit):
        if equation and spec.equations and equation not in spec.equations:
            other_equation.update(spec.equations)
            continue
        try:
            affine = conversion(spec.unit, to_unit, name)
        except UnitError:
            continue
        fits = _specimen_fits(spec, specimen)
        if fits is False:
            continue
        missing_specimen |= fits is None and not lab_used
        needs_age = spec.age_min is not None or spec.age_max is not None
        if not lab_used and ((spec.sex != "any" and not has_sex) or (needs_age and not has_age)):
            missing_sex |= spec.sex != "any" and not has_sex
            missing_age |= not missing_sex
        if _could_apply(spec, sex, age):
            possible.append((spec, affine))
        covered = (
            fits is True
            and (spec.sex == "any" or sex == spec.sex)
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
                critical_low_inclusive=spec.critical_low_inclusive,
                critical_high_inclusive=spec.critical_high_inclusive,
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
            critical_low_inclusive=spec.critical_low_inclusive,
            critical_high_inclusive=spec.critical_high_inclusive,
            source=f"catalogue:{cat.info.name}",
            citation=f"{spec.source}, {spec.locator}",
        )
    return _without_row(
        possible,
        lab_used=lab_used,
        missing=(missing_sex, missing_age, missing_specimen),
        other_equation=other_equation,
        known=has_sex and has_age and not missing_specimen,
    )


def _for_specimen(rows: Sequence[ReferenceRange], specimen: str) -> Sequence[ReferenceRange]:
    """Return the rows for a result's specimen: its own first where it is said.

    Then the rows for any specimen (a serum result of a child whose band is given for
    any specimen only); where there are neither, every row (:func:`_specimen_fits` then
    leaves the range undecided for a specimen not said).
    """
    if not any(row.specimen in SAID_SPECIMENS for row in rows):
        return rows
    own = [row for row in rows if specimen and row.specimen == specimen]
    general = [row for row in rows if row.specimen not in SAID_SPECIMENS]
    return [*own, *general] or rows


def _specimen_fits(spec: ReferenceRange, specimen: str) -> bool | None:
    """Whether a row applies to a result's specimen (``None``: the specimen is not said)."""
    if spec.specimen not in SAID_SPECIMENS:
        return True  # a row for serum and plasma alike, or the analyte's only specimen
    if not specimen:
        return None
    return spec.specimen == specimen


def rows_in_unit(
    rows: Sequence[ReferenceRange], analyte: str, *units: str
) -> Sequence[ReferenceRange]:
    """Return the rows written in the first of ``units`` that has any, else all rows.

    A catalogue may give an analyte's limits in two units where laboratories print
    different rounded limits in each (urine ACR: < 3 mg/mmol in Norway and Sweden,
    < 30 mg/g in Denmark, and 3 mg/mmol is 26.5 mg/g): a result is compared with the
    rows of the unit it was reported in, as its category is (schemes' ``in_units``), not
    with another unit's limits converted, so flag and category use the same cut-off.
    A unit that equals a row's unit (g/mol and mg/mmol) counts as that unit.
    """
    if len({row.unit for row in rows}) < 2:  # one unit: nothing to choose
        return rows
    for unit in units:
        same = [row for row in rows if unit and _same_unit(unit, row.unit, analyte)]
        if same:
            return same
    return rows


@lru_cache(maxsize=256)
def _same_unit(unit: str, other: str, analyte: str) -> bool:
    """Return whether two units are the same unit of an analyte (factor 1, no offset)."""
    try:
        affine = conversion(unit, other, analyte)
    except UnitError:
        return False
    return bool(np.isclose(affine.scale, 1.0, rtol=1e-12, atol=0.0)) and affine.offset == 0


def multi_unit_analytes(cat: RangeCatalogue) -> list[str]:
    """Return the analytes whose catalogue rows are written in more than one unit."""
    return [
        name
        for name in {row.analyte for row in cat.ranges}
        if len({row.unit for row in cat.for_analyte(name)}) > 1
    ]


def _without_row(
    possible: Sequence[tuple[ReferenceRange, Affine]],
    *,
    lab_used: bool,
    missing: tuple[bool, bool, bool],
    other_equation: set[str],
    known: bool,
) -> CatalogueChoice:
    """Return what a result that no catalogue row covers gets, and why.

    ``missing``: the sex, the age, the specimen.
    """
    missing_sex, missing_age, missing_specimen = missing
    if lab_used:
        problem = None
    elif missing_sex or missing_age:
        problem = (ReasonCode.MISSING_CONTEXT, _NEEDS_SEX if missing_sex else _NEEDS_AGE)
    elif missing_specimen:
        problem = (ReasonCode.MISSING_CONTEXT, NEEDS_SPECIMEN)
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
    (critical_low, low_inclusive), (critical_high, high_inclusive), cited = agreed_critical_limits(
        possible
    )
    if cited is None:
        return CatalogueChoice(problem=problem)
    return CatalogueChoice(
        critical_low=critical_low,
        critical_high=critical_high,
        critical_low_inclusive=low_inclusive,
        critical_high_inclusive=high_inclusive,
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
    """Return a limit as a key where equal limits meet (NaN, no limit: ``None``).

    :func:`~labinterp.steps.convert.affine_or_nan` has already taken the conversion's
    float noise off, so equal amounts are equal floats.
    """
    return None if np.isnan(value) else value


def agreed_critical_limits(
    rows: Sequence[tuple[ReferenceRange, Affine]],
) -> tuple[tuple[float, bool], tuple[float, bool], str | None]:
    """Return the critical limits every given catalogue row states alike, and their citation.

    Each limit is taken on its own: the lower limit where every row has the same
    lower limit, the upper likewise; a row without a limit disagrees with one that has
    it. An agreed limit is inclusive only where every row states it so: a value at it
    is critical only if it is in every band. The citation names each source the limits
    came from (its first row's locator).

    Parameters
    ----------
    rows
        The catalogue rows that could apply to a result, each with the conversion of
        its unit to the reporting unit.

    Returns
    -------
    ((float, bool), (float, bool), str or None)
        The lower and upper critical limit (NaN: none agreed), each with whether it is
        inclusive, and the citation (``None`` when no limit is agreed).
    """
    lows = {_same(affine_or_nan(affine, spec.critical_low)) for spec, affine in rows}
    highs = {_same(affine_or_nan(affine, spec.critical_high)) for spec, affine in rows}
    low = lows.pop() if len(lows) == 1 else None
    high = highs.pop() if len(highs) == 1 else None
    low_inclusive = all(spec.critical_low_inclusive for spec, _ in rows)
    high_inclusive = all(spec.critical_high_inclusive for spec, _ in rows)
    if low is None and high is None:
        return (np.nan, False), (np.nan, False), None
    first: dict[str, str] = {}
    for spec, _ in rows:
        first.setdefault(spec.source, spec.locator)
    sources = "; ".join(f"{source}, {locator}" for source, locator in first.items())
    return (
        (np.nan, False) if low is None else (low, low_inclusive),
        (np.nan, False) if high is None else (high, high_inclusive),
        f"{CRITICAL_CITATION}, the same in every band that could apply: {sources}",
    )
