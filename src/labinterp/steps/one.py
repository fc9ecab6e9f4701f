"""One result: the steps of :func:`labinterp.interpret` for a single result or a panel.

A :class:`Result` holds one result while the steps run on it (analyte, value, unit,
range, flag, scheme, notes). The per-group functions are those the frame path calls
once per distinct value; the eGFR choice, inflammation and reporting resolution are
the frame path's array functions on the panel's few rows; flags, categories and
context rules use the scalar twins beside their array versions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from labinterp.catalogue import RangeCatalogue, Text, analytes
from labinterp.errors import ReasonCode
from labinterp.models import Finding, Profile
from labinterp.names import specimen_of
from labinterp.steps.context import RuleRow, render_rules, rule_bits_one
from labinterp.steps.convert import group_conversion, unit_info
from labinterp.steps.derive import Basis, derive_corrected_calcium, derive_egfr, joined
from labinterp.steps.explain import caveat_parts, equation_name, problem_text
from labinterp.steps.flags import (
    CRITICAL_UNDECIDED,
    FLAG_UNDECIDED,
    at_reporting_resolution_one,
    flag_one,
)
from labinterp.steps.history import superseded
from labinterp.steps.identify import Identified, resolve_analyte
from labinterp.steps.kept import Kept
from labinterp.steps.lab_flag import agreement_one, read_lab_flag
from labinterp.steps.plausibility import implausible
from labinterp.steps.ranges import (
    CATALOGUE_CRITICAL,
    LAB_CITATION,
    CatalogueChoice,
    choose_catalogue_range,
    lab_range,
    reported_equation,
)
from labinterp.steps.reported import limit_as_written, shown_canonical
from labinterp.steps.schemes import classify_one, inflamed_sample_sets, unclassified_note_one
from labinterp.steps.source import (
    corrected_statuses,
    derived_status,
    entered_in_error,
    is_withheld,
    read_status,
    status_names,
    status_note,
    withhold_one,
)
from labinterp.steps.state import CLASSIFIABLE, NOTE_BIT, analyte_number
from labinterp.steps.verdict import compose, decide, lab_disagreement
from labinterp.units import normalise_unit
from labinterp.values import as_float, parse_value
from labinterp.vocab import Flag, Status

__all__ = [
    "Context",
    "Result",
    "classify_results",
    "derive_results",
    "finding",
    "interpret_result",
    "number",
    "rule_bits_of",
    "rule_row",
    "supersede",
]


#: Answers of the analyte lookup (per analyte catalogue) and of the catalogue range
#: choice (per range catalogue), kept across calls: clinic software asks the same ones.
_IDENTIFIED = Kept()
_RANGE_CHOICES = Kept()


@dataclass
class Result:
    """One result being interpreted (mutable while the steps run)."""

    raw_value: Any
    raw_unit: Any
    analyte: str | None = None
    status: str | None = None
    problem: str | None = None
    readable: bool = True  # a derived value was read without a problem (so compared)
    comparator: str = ""
    value: float = math.nan
    unit: str | None = None
    unit_pint: str | None = None
    scale: float = math.nan
    offset: float = 0.0
    value_canonical: float = math.nan
    unit_canonical: str | None = None
    low: float = math.nan
    high: float = math.nan
    low_inclusive: bool = True
    high_inclusive: bool = True
    critical_low: float = math.nan
    critical_high: float = math.nan
    critical_inclusive: tuple[bool, bool] = (False, False)  # a value at the limit is critical
    reference_source: str | None = None
    reference_citation: str | None = None
    notes: int = 0
    flag: str = ""
    scheme: str | None = None
    category: str | None = None
    equation: str | None = None
    derived_from: tuple[int, ...] = ()
    source_status: int = -1  # a position in schema.SOURCE_STATUSES (-1: none sent)
    lab_flag: Any = None
    source_code: Any = None
    agrees_with_lab: bool | None = None
    specimen: str = ""  # serum or plasma, where the code or name says it (specimen_of)

    @property
    def withheld(self) -> bool:
        """Whether the source withdrew or cancelled the result (not interpreted, not used)."""
        return is_withheld(self.source_status)

    def record(self, code: ReasonCode, problem: str | None) -> None:
        """Record a status and its problem unless one is already recorded."""
        if self.status is None:
            self.status = code.value
            self.problem = problem


@dataclass(frozen=True)
class Context:
    """What every result of a panel shares."""

    profile: Profile
    catalogue: RangeCatalogue
    raw_sex: Any
    sex: str  # "female", "male" or ""
    age: float
    height_cm: float
    month: int | None
    schemes: tuple[str, ...]
    inflammation: bool | None

    def target(self, name: str) -> str | None:
        """Return the profile's reporting unit of an analyte (``None``: none)."""
        return self.profile.units.get(name)


def number(value: Any) -> float:
    """Return a number given as any value (NaN when it is none)."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return as_float(value)  # an int beyond a float's range: an infinity, refused later
    except (TypeError, ValueError):
        return math.nan


def _lab_range(row: Result, text: Any, ctx: Context) -> bool:
    """Fill the row's range from the lab's text; return whether it was used."""
    lab, notes = lab_range(text, row.analyte, row.scale, row.offset, ctx.target)
    row.notes |= notes
    if lab is None:
        return False
    row.low, row.high = lab.low, lab.high
    row.low_inclusive, row.high_inclusive = lab.low_inclusive, lab.high_inclusive
    row.reference_source, row.reference_citation = "lab", LAB_CITATION
    return True


def _catalogue_range(row: Result, lab_used: bool, ctx: Context) -> None:
    """Fill the range (or, after a lab range, the critical limits) from the catalogue."""
    if row.analyte is None:
        return
    analyte, target = row.analyte, ctx.target(row.analyte) or ""
    # The laboratories' own equation is known for an eGFR only (the profile's).
    equation = row.equation or (reported_equation(ctx.profile) if analyte == "egfr" else "")
    # The choice depends on these and the catalogue object only; kept per catalogue, it
    # saves ~5 µs a result (a NaN age is keyed as None: NaN equals nothing).
    age = None if math.isnan(ctx.age) else ctx.age
    choice = _RANGE_CHOICES.answer(
        ctx.catalogue,
        (analyte, target, ctx.sex, age, lab_used, equation, row.unit, row.specimen),
        lambda: choose_catalogue_range(
            ctx.catalogue,
            analyte,
            target,
            sex=ctx.sex,
            age=ctx.age,
            lab_used=lab_used,
            equation=equation,
            unit=row.unit or "",
            specimen=row.specimen,
        ),
    )
    if lab_used:
        if choice.critical_note:
            _take_critical(row, choice)
            row.reference_citation = choice.citation
            row.notes |= CATALOGUE_CRITICAL
        return
    row.low, row.high = choice.low, choice.high
    row.low_inclusive, row.high_inclusive = choice.low_inclusive, choice.high_inclusive
    _take_critical(row, choice)
    row.reference_source, row.reference_citation = choice.source, choice.citation
    if choice.problem is not None:
        row.record(*choice.problem)


def _take_critical(row: Result, choice: CatalogueChoice) -> None:
    """Give a result the catalogue's critical limits, with whether each is inclusive."""
    row.critical_low, row.critical_high = choice.critical_low, choice.critical_high
    row.critical_inclusive = (choice.critical_low_inclusive, choice.critical_high_inclusive)


def _convert(row: Result, ctx: Context) -> None:
    """Normalise the unit, convert to the reporting unit and check plausibility."""
    unit = unit_info(row.raw_unit)
    row.unit, row.unit_pint = unit.display, unit.pint
    if unit.problem is not None:
        row.record(ReasonCode.UNKNOWN_UNIT, unit.problem)
    target = ctx.target(row.analyte) if row.analyte else None
    if row.analyte is not None and row.unit_pint is not None:
        row.scale, row.offset, problem = group_conversion(row.analyte, row.unit_pint, ctx.target)
        if problem is not None:
            row.record(ReasonCode.INCOMPATIBLE_UNIT, problem)
    if math.isfinite(row.value):
        row.value_canonical = row.value * row.scale + row.offset
    else:
        row.value_canonical = row.value
    if row.analyte is not None and target is not None:
        row.unit_canonical = normalise_unit(target).display
    if row.analyte is not None:
        verdict = implausible(
            row.analyte,
            row.value,
            row.unit,
            row.value_canonical,
            target,
            censored=row.comparator != "",
        )
        if verdict is not None:
            row.record(*verdict)
    if math.isinf(row.value) or math.isinf(row.value_canonical):
        row.value = row.value_canonical = math.nan  # refused above; as in the frame path


def interpret_result(
    ctx: Context,
    raw_value: Any,
    raw_unit: Any,
    decimal: Any,
    *,
    key: str | None = None,
    code: Any = None,
    name: Any = None,
    reference_text: Any = None,
    source_status: Any = None,
    lab_flag: Any = None,
    equation: str | None = None,
) -> Result:
    """Run the per-result steps of ``interpret`` up to the flag (not schemes or text).

    A result the source withdrew or cancelled is read, then neither given a range nor
    flagged; the lab's flag is compared with the flag. ``equation`` names the equation
    a derived eGFR was computed with (its range must have been made for it).
    """
    row = Result(raw_value=raw_value, raw_unit=raw_unit, lab_flag=lab_flag, source_code=code)
    row.equation = equation
    row.source_status = read_status(source_status)[0]
    row.analyte, reason, problem = _identified(key, code, name)
    if reason is not None:
        row.record(reason, problem)
    elif row.analyte is not None:
        row.specimen = specimen_of(row.analyte, key, code, name) or ""
    parsed = parse_value(raw_value, decimal)
    row.comparator, row.value = parsed.comparator, parsed.value
    if parsed.status is not None:
        row.record(parsed.status, parsed.problem)
    _convert(row, ctx)
    if row.withheld:
        row.status, row.problem = withhold_one(row.source_status)
        return row
    _flag_result(row, reference_text, ctx)
    return row


def _identified(key: Any, code: Any, name: Any) -> Identified:
    """Return :func:`resolve_analyte`'s answer, kept per analyte catalogue for text keys.

    Only text (or none) is kept: another type could equal a text's key. Saves ~5 µs a
    result (names are normalised and looked up in three indexes).
    """
    if all(v is None or type(v) is str for v in (key, code, name)):
        return _IDENTIFIED.answer(
            analytes(), (key, code, name), lambda: resolve_analyte(key, code, name)
        )
    return resolve_analyte(key, code, name)


def _flag_result(row: Result, reference_text: Any, ctx: Context) -> None:
    """Choose the range, flag the result and compare the lab's flag with it."""
    lab_used = _lab_range(row, reference_text, ctx)
    _catalogue_range(row, lab_used, ctx)
    if ctx.raw_sex is not None and ctx.sex == "":
        row.notes |= NOTE_BIT["sex_unrecognised"]
    compared = at_reporting_resolution_one(
        ctx.profile, row.analyte, row.value_canonical, row.scale, row.offset
    )
    # A result whose range waits for its sex or age is still flagged beyond the
    # critical limits every band agrees on (only LL or HH).
    undecided = row.status == Status.MISSING_CONTEXT.value
    flag, indeterminate = flag_one(
        compared if row.status is None or undecided else math.nan,
        row.comparator,
        row.low,
        row.high,
        row.low_inclusive,
        row.high_inclusive,
        row.critical_low,
        row.critical_high,
        range_known=not undecided,
        critical_inclusive=row.critical_inclusive,
    )
    row.flag = flag
    if indeterminate and row.status is None:
        row.record(ReasonCode.INDETERMINATE, CRITICAL_UNDECIDED if flag else FLAG_UNDECIDED)
    if row.status is None:
        row.status = Status.OK.value
    row.agrees_with_lab, not_compared = agreement_one(row.lab_flag, row.flag)
    if not_compared:
        row.notes |= NOTE_BIT["lab_flag_not_compared"]
    row.notes |= status_note(row.source_status)


def classify_results(rows: Sequence[Result], ctx: Context, in_sample_set: bool) -> None:
    """Set scheme and category of the usable results (a panel is one sample set)."""
    inflamed = ctx.inflammation
    if inflamed is None and not in_sample_set:
        inflamed = False  # a result on its own belongs to no sample set
    if inflamed is None:
        # The panel is one sample set (0); a result on its own is in none (-1).
        analyte = np.array([r.analyte for r in rows], dtype=object)
        flag = np.array([r.flag for r in rows], dtype=object)
        sets = np.full(len(rows), 0 if in_sample_set else -1, dtype=np.int64)
        inflamed = bool(inflamed_sample_sets(analyte, flag, sets).any())
    for row in rows:
        if row.status in CLASSIFIABLE and row.analyte is not None:
            row.scheme, row.category = classify_one(
                ctx.schemes,
                row.analyte,
                row.value,
                comparator=row.comparator,
                scale=row.scale,
                offset=row.offset,
                flag=row.flag,
                age=ctx.age,
                sex=ctx.sex,
                specimen=row.specimen,
                inflamed=inflamed,
                target=ctx.target,
            )
            if row.category is None:
                row.notes |= unclassified_note_one(
                    ctx.schemes, row.analyte, ctx.age, ctx.sex, row.specimen
                )


def derive_results(
    rows: list[Result], ctx: Context, egfr_equation: str | None
) -> list[tuple[int, Result]]:
    """Compute derived eGFR rows for a panel; note on creatinine rows why none was derived.

    The panel is one sample set; the choice of equation is :func:`derive_egfr`'s, as
    for a frame.
    """
    n = len(rows)
    basis = Basis(
        analyte=np.array([r.analyte for r in rows], dtype=object),
        usable=np.array([r.status in CLASSIFIABLE for r in rows], dtype=bool),
        comparator=np.array([r.comparator for r in rows], dtype=object),
        sex=np.full(n, ctx.sex, dtype=object),
        age=np.full(n, ctx.age),
        height=np.full(n, ctx.height_cm),
        value_canonical=np.array([r.value_canonical for r in rows], dtype="float64"),
        unit_canonical=np.array([r.unit_canonical for r in rows], dtype=object),
        sets=np.zeros(n, dtype=np.int64),
    )
    derived = joined(
        derive_egfr(
            basis, egfr_equation or ctx.profile.egfr_equation, ctx.profile.egfr_cr_cys_equation
        ),
        derive_corrected_calcium(basis, ctx.profile.calcium_correction),
    )
    for position, note in enumerate(derived.notes):
        if note is not None:
            rows[position].notes |= NOTE_BIT[note]
    stated = np.array([r.source_status for r in rows], dtype=np.int64)
    partner = np.where(derived.partner >= 0, stated[derived.partner], -1)
    status = derived_status(stated[derived.source], partner)
    made = [
        (
            int(i),
            _derived_row(
                ctx,
                (float(value), str(unit), str(key)),
                str(name),
                (int(i),) if j < 0 else (int(i), int(j)),
                int(s),
            ),
        )
        for i, j, name, value, unit, key, s in zip(
            derived.source,
            derived.partner,
            derived.equation,
            derived.egfr,
            derived.units(),
            derived.analytes(),
            status,
            strict=True,
        )
    ]
    for (_, row), note in zip(made, derived.value_notes, strict=True):
        if note is not None:
            row.notes |= NOTE_BIT[note]
    made.sort(key=lambda item: item[0])  # stable: creatinine eGFR before the pair's
    return made


def supersede(rows: Sequence[Result], derived: Sequence[tuple[int, Result]]) -> None:
    """Note results of the panel that a later correction or withdrawal replaced.

    The panel is one sample set; the rule is :func:`labinterp.steps.history.superseded`'s,
    run on the panel's rows, and a derived eGFR is noted with its creatinine.
    """
    stated = np.array([r.source_status for r in rows], dtype=np.int64)
    corrected, withdrawn = corrected_statuses(stated), entered_in_error(stated)
    if not (corrected.any() or withdrawn.any()):
        return
    frame = pd.DataFrame({"source_code": [r.source_code for r in rows]}, dtype=object)
    number = np.array([analyte_number(r.analyte) if r.analyte else -1 for r in rows])
    bits = np.zeros(len(rows), dtype=np.int64)
    bits[superseded(frame, number, corrected)] |= NOTE_BIT["superseded"]
    bits[superseded(frame, number, withdrawn)] |= NOTE_BIT["withdrawn_later"]
    for row, bit in zip(rows, bits, strict=True):
        if not row.withheld:
            row.notes |= int(bit)
    for position, row in derived:
        row.notes |= int(bits[position])


def _derived_row(
    ctx: Context,
    made: tuple[float, str, str],
    equation: str,
    sources: tuple[int, ...],
    status: int,
) -> Result:
    """Return a derived value (value, unit, analyte) read and classified as the frame path does."""
    value, unit, key = made
    # A derived eGFR is classified without the panel's inflammation; no eGFR scheme has
    # categories for inflammation, so the frame path (which uses its sample set's) agrees.
    derived_ctx = ctx if ctx.inflammation is not None else replace(ctx, inflammation=False)
    row = interpret_result(
        derived_ctx,
        value,
        unit,
        "auto",
        key=key,
        source_status=status_names([status])[0],
        equation=equation,
    )
    classify_results([row], derived_ctx, False)
    row.raw_value = row.raw_unit = None
    # Derived rows keep the status "derived"; whether the value could be compared is kept.
    row.readable = row.status is None or row.status in CLASSIFIABLE
    row.status = Status.DERIVED.value
    row.derived_from = sources
    return row


def finding(row: Result, rule_bits: int, ctx: Context, text: Text) -> Finding:
    """Return the :class:`~labinterp.models.Finding` of a result, with its texts."""
    verdict = decide(
        "" if row.withheld else row.analyte or "", row.flag, row.scheme or "", row.category or ""
    )
    explanation, cited = compose(verdict, row.flag, text)
    fill = {}
    if row.equation is not None:
        fill["equation"] = equation_name(row.equation, text)
    if row.reference_source is not None:
        fill["catalogue"] = ctx.catalogue.title_in(text)
    rule_texts, rule_sources, _ = render_rules(rule_bits, fill, text)
    caveats, sources = caveat_parts(rule_texts, rule_sources, cited, row.notes, text)
    if row.agrees_with_lab is False:
        said = lab_disagreement(
            read_lab_flag(row.lab_flag),
            row.flag,
            from_lab=row.reference_source == "lab",
            catalogue=ctx.catalogue.title_in(text),
            text=text,
        )
        if said is not None:
            caveats.insert(0, said.text)
    has_range = row.reference_source is not None
    # Every field below is already of its type (the steps return them so), and the set
    # is every field of Finding, so no validation runs: a copy of a template with all
    # fields replaced gives what model_construct gives in under half the time (about
    # 3 µs against 7 µs a finding, 7 findings in a 6-result panel with its eGFR).
    return _FINDING.model_copy(
        update=dict(
            analyte=row.analyte,
            status=Status(str(row.status)),
            problem=problem_text(row.problem, text) if row.problem else row.problem,
            raw_value=None if row.raw_value is None else str(row.raw_value),
            raw_unit=row.raw_unit,
            comparator=row.comparator or None,
            value=_finite_or_none(row.value, keep_inf=True),
            unit=row.unit,
            value_canonical=_finite_or_none(
                shown_canonical(row.value, row.value_canonical, row.analyte, row.unit_canonical),
                keep_inf=True,
            ),
            value_canonical_exact=_finite_or_none(row.value_canonical, keep_inf=True),
            unit_canonical=row.unit_canonical,
            reference_low=_finite_or_none(limit_as_written(row.low)),
            reference_high=_finite_or_none(limit_as_written(row.high)),
            reference_low_inclusive=row.low_inclusive if has_range else None,
            reference_high_inclusive=row.high_inclusive if has_range else None,
            critical_low=_finite_or_none(limit_as_written(row.critical_low)),
            critical_high=_finite_or_none(limit_as_written(row.critical_high)),
            critical_low_inclusive=None
            if math.isnan(row.critical_low)
            else row.critical_inclusive[0],
            critical_high_inclusive=None
            if math.isnan(row.critical_high)
            else row.critical_inclusive[1],
            reference_source=row.reference_source,
            reference_citation=row.reference_citation,
            flag=Flag(row.flag) if row.flag else None,
            lab_flag=None if row.lab_flag is None else str(row.lab_flag),
            agrees_with_lab=row.agrees_with_lab,
            source_status=status_names([row.source_status])[0],
            scheme=row.scheme,
            category=row.category,
            relation=verdict.relation,
            explanation=explanation,
            sources=tuple(sources),
            caveats=tuple(caveats),
            equation=row.equation,
            derived_from=row.derived_from,
        )
    )


#: The template :func:`finding` copies (every field is replaced in the copy).
_FINDING = Finding.model_construct(analyte=None, status=Status.OK)


def _finite_or_none(value: float, *, keep_inf: bool = False) -> float | None:
    if math.isnan(value) or (not keep_inf and math.isinf(value)):
        return None
    return value


def rule_bits_of(
    row: RuleRow, sample_set: Sequence[RuleRow], reference_source: str | None, ctx: Context
) -> int:
    """Return the context-rule bits of one result in its sample set."""
    return rule_bits_one(
        row,
        sample_set,
        age=ctx.age,
        month=ctx.month,
        reference_source=reference_source,
        profile=ctx.profile,
    )


def rule_row(row: Result) -> RuleRow:
    """Return what the context rules need of a result."""
    return RuleRow(
        analyte=None if row.withheld else row.analyte,  # nothing may look at a withheld result
        flag=row.flag,
        value_canonical=row.value_canonical,
        derived=row.status == Status.DERIVED.value,
        compared=row.status in CLASSIFIABLE
        or (row.status == Status.DERIVED.value and row.readable),
        specimen=row.specimen,
        comparator=row.comparator,
    )
