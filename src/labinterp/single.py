"""Interpretation of one result or one panel, for clinic software.

Clinic software interprets a handful of results at a time and needs the answer in
well under a millisecond, where building pandas frames would cost more than the
work. This module runs the rules of :func:`labinterp.interpret` on plain Python
values, calling the functions of :mod:`labinterp.steps`:

- the per-group steps (analyte lookup, value and unit parsing, conversion factors,
  plausibility limits, lab range parsing, catalogue range choice, explanation and
  caveat texts) are the very functions the frame path calls once per distinct value;
- the choice of eGFR equation, inflammation from the context rule and the reporting
  resolution are the frame path's array functions, run on the panel's few rows;
- flags, categories and context rules have scalar twins beside their array versions,
  held equal by property tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np

from labinterp.catalogue import (
    RangeCatalogue,
    Text,
    analytes,
    get_profile,
    load_range_catalogue,
)
from labinterp.errors import InvalidResultError, ReasonCode
from labinterp.models import Finding, Profile
from labinterp.steps.context import RuleRow, render_rules, rule_bits_one
from labinterp.steps.convert import group_conversion, unit_info
from labinterp.steps.derive import EGFR_UNIT, Basis, derive_egfr
from labinterp.steps.explain import caveat_parts, compose_explanation, equation_name
from labinterp.steps.flags import (
    CRITICAL_UNDECIDED,
    FLAG_UNDECIDED,
    at_reporting_resolution,
    flag_one,
)
from labinterp.steps.identify import resolve_analyte
from labinterp.steps.plausibility import implausible
from labinterp.steps.ranges import (
    CATALOGUE_CRITICAL,
    LAB_CITATION,
    choose_catalogue_range,
    lab_range,
)
from labinterp.steps.schemes import checked_schemes, classify_one, inflamed_sample_sets
from labinterp.steps.state import CLASSIFIABLE, NOTE_BIT, analyte_keys
from labinterp.units import normalise_unit
from labinterp.values import infer_decimal, parse_value
from labinterp.vocab import Flag, Sex, Status

__all__ = ["interpret_one", "interpret_panel"]


@dataclass
class _Row:
    """One result being interpreted (mutable while the steps run)."""

    raw_value: Any
    raw_unit: Any
    analyte: str | None = None
    status: str | None = None
    problem: str | None = None
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
    reference_source: str | None = None
    reference_citation: str | None = None
    notes: int = 0
    flag: str = ""
    scheme: str | None = None
    category: str | None = None
    equation: str | None = None
    derived_from: tuple[int, ...] = ()

    def record(self, code: ReasonCode, problem: str | None) -> None:
        """Record a status and its problem unless one is already recorded."""
        if self.status is None:
            self.status = code.value
            self.problem = problem


@dataclass(frozen=True)
class _Context:
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
        return self.profile.units.get(name)


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _month(collected_at: datetime | date | str | None) -> int | None:
    if collected_at is None:
        return None
    if isinstance(collected_at, (datetime, date)):
        return collected_at.month
    try:
        return datetime.fromisoformat(collected_at.strip()).month
    except ValueError:
        raise InvalidResultError(
            "collected_at is not an ISO 8601 date or time (yyyy-mm-dd[THH:MM]).",
            field="collected_at",
        ) from None


def _lab_range(row: _Row, text: Any, ctx: _Context) -> bool:
    """Fill the row's range from the lab's text; return whether it was used."""
    lab, notes = lab_range(text, row.analyte, row.scale, row.offset, ctx.target)
    row.notes |= notes
    if lab is None:
        return False
    row.low, row.high = lab.low, lab.high
    row.low_inclusive, row.high_inclusive = lab.low_inclusive, lab.high_inclusive
    row.reference_source, row.reference_citation = "lab", LAB_CITATION
    return True


def _catalogue_range(row: _Row, lab_used: bool, ctx: _Context) -> None:
    """Fill the range (or, after a lab range, the critical limits) from the catalogue."""
    if row.analyte is None:
        return
    choice = choose_catalogue_range(
        ctx.catalogue, row.analyte, ctx.target(row.analyte) or "", ctx.sex, ctx.age, lab_used
    )
    if lab_used:
        if choice.critical_note:
            row.critical_low, row.critical_high = choice.critical_low, choice.critical_high
            row.reference_citation = choice.citation
            row.notes |= CATALOGUE_CRITICAL
        return
    row.low, row.high = choice.low, choice.high
    row.low_inclusive, row.high_inclusive = choice.low_inclusive, choice.high_inclusive
    row.critical_low, row.critical_high = choice.critical_low, choice.critical_high
    row.reference_source, row.reference_citation = choice.source, choice.citation
    if choice.problem is not None:
        row.record(*choice.problem)


def _interpret(
    ctx: _Context,
    raw_value: Any,
    raw_unit: Any,
    decimal: Any,
    *,
    key: str | None = None,
    code: Any = None,
    name: Any = None,
    reference_text: Any = None,
) -> _Row:
    """Run the per-result steps of ``interpret`` up to the flag (not schemes or text)."""
    row = _Row(raw_value=raw_value, raw_unit=raw_unit)
    row.analyte, problem = resolve_analyte(key, code, name)
    if problem is not None:
        row.record(ReasonCode.UNKNOWN_ANALYTE, problem)
    parsed = parse_value(raw_value, decimal)
    row.comparator, row.value = parsed.comparator, parsed.value
    if parsed.status is not None:
        row.record(parsed.status, parsed.problem)
    unit = unit_info(raw_unit)
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
        if row.comparator == "":
            problem = implausible(row.analyte, row.value, row.unit, row.value_canonical, target)
            if problem is not None:
                row.record(ReasonCode.IMPLAUSIBLE_VALUE, problem)
    lab_used = _lab_range(row, reference_text, ctx)
    _catalogue_range(row, lab_used, ctx)
    if ctx.raw_sex is not None and ctx.sex == "":
        row.notes |= NOTE_BIT["sex_unrecognised"]
    compared = _at_reporting_resolution(row, ctx.profile)
    flag, indeterminate = flag_one(
        compared if row.status is None else math.nan,
        row.comparator,
        row.low,
        row.high,
        row.low_inclusive,
        row.high_inclusive,
        row.critical_low,
        row.critical_high,
    )
    row.flag = flag
    if indeterminate and row.status is None:
        row.record(ReasonCode.INDETERMINATE, CRITICAL_UNDECIDED if flag else FLAG_UNDECIDED)
    if row.status is None:
        row.status = Status.OK.value
    return row


def _classify(rows: Sequence[_Row], ctx: _Context, in_sample_set: bool) -> None:
    inflamed = ctx.inflammation
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
                row.comparator,
                row.scale,
                row.offset,
                row.flag,
                ctx.age,
                inflamed,
                ctx.target,
            )


def _derive(rows: list[_Row], ctx: _Context, egfr_equation: str | None) -> list[tuple[int, _Row]]:
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
    derived = derive_egfr(
        basis, egfr_equation or ctx.profile.egfr_equation, ctx.profile.egfr_cr_cys_equation
    )
    for position, note in enumerate(derived.notes):
        if note is not None:
            rows[position].notes |= NOTE_BIT[note]
    made = [
        (
            int(i),
            _derived_row(ctx, float(egfr), str(name), (int(i),) if j < 0 else (int(i), int(j))),
        )
        for i, j, name, egfr in zip(
            derived.source, derived.partner, derived.equation, derived.egfr, strict=True
        )
    ]
    made.sort(key=lambda item: item[0])  # stable: creatinine eGFR before the pair's
    return made


def _derived_row(ctx: _Context, egfr: float, equation: str, sources: tuple[int, ...]) -> _Row:
    # Derived rows are classified on their own, as the frame path's second pass does.
    derived_ctx = ctx if ctx.inflammation is not None else replace(ctx, inflammation=False)
    row = _interpret(derived_ctx, egfr, EGFR_UNIT, "auto", key="egfr")
    _classify([row], derived_ctx, False)
    row.raw_value = row.raw_unit = None
    row.status = Status.DERIVED.value
    row.equation = equation
    row.derived_from = sources
    return row


def _finding(row: _Row, rule_bits: int, ctx: _Context, text: Text) -> Finding:
    explanation, cited = compose_explanation(
        row.analyte or "", row.flag, row.scheme or "", row.category or "", text
    )
    fill = {}
    if row.equation is not None:
        fill["equation"] = equation_name(row.equation, text)
    if row.reference_source is not None:
        fill["catalogue"] = ctx.catalogue.info.title
    rule_texts, rule_sources, _ = render_rules(rule_bits, fill, text)
    caveats, sources = caveat_parts(rule_texts, rule_sources, cited, row.notes, text)
    has_range = row.reference_source is not None
    return Finding.model_construct(
        analyte=row.analyte,
        status=Status(str(row.status)),
        problem=row.problem,
        raw_value=None if row.raw_value is None else str(row.raw_value),
        raw_unit=row.raw_unit,
        comparator=row.comparator or None,
        value=_finite_or_none(row.value, keep_inf=True),
        unit=row.unit,
        value_canonical=_finite_or_none(row.value_canonical, keep_inf=True),
        unit_canonical=row.unit_canonical,
        reference_low=_finite_or_none(row.low),
        reference_high=_finite_or_none(row.high),
        reference_low_inclusive=row.low_inclusive if has_range else None,
        reference_high_inclusive=row.high_inclusive if has_range else None,
        critical_low=_finite_or_none(row.critical_low, keep_inf=True),
        critical_high=_finite_or_none(row.critical_high, keep_inf=True),
        reference_source=row.reference_source,
        reference_citation=row.reference_citation,
        flag=Flag(row.flag) if row.flag else None,
        scheme=row.scheme,
        category=row.category,
        explanation=explanation,
        sources=tuple(sources),
        caveats=tuple(caveats),
        equation=row.equation,
        derived_from=row.derived_from,
    )


def _finite_or_none(value: float, *, keep_inf: bool = False) -> float | None:
    if math.isnan(value) or (not keep_inf and math.isinf(value)):
        return None
    return value


def _context(
    profile: str | Profile,
    sex: Sex | str | None,
    age_years: float | None,
    *,
    schemes: Sequence[str] | None,
    inflammation: bool | None,
    collected_at: datetime | date | str | None = None,
    height_cm: float | None = None,
) -> _Context:
    chosen = get_profile(profile)
    names = tuple(schemes) if schemes is not None else tuple(chosen.schemes)
    checked_schemes(names)
    raw_sex = sex.value if isinstance(sex, Sex) else sex
    parsed = Sex.parse(raw_sex)
    return _Context(
        profile=chosen,
        catalogue=load_range_catalogue(chosen.catalogue),
        raw_sex=raw_sex,
        sex=parsed.value if parsed is not None else "",
        age=_number(age_years),
        height_cm=_number(height_cm),
        month=_month(collected_at),
        schemes=names,
        inflammation=inflammation,
    )


def _raw(value: Any) -> Any:
    """Return the raw value as the frame path holds it: text as is, numbers as floats."""
    if value is None or isinstance(value, str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _identify(analyte: str) -> dict[str, Any]:
    if analyte in analytes():
        return {"key": analyte}
    return {"code": analyte, "name": analyte}


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

    Runs the steps of :func:`labinterp.interpret` on plain values, without building a frame
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
        As for :func:`labinterp.interpret`.
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
    text = Text(lang, audience)
    ctx = _context(
        profile, sex, age_years, schemes=[scheme] if scheme is not None else None, inflammation=None
    )
    raw = _raw(value)
    row = _interpret(
        ctx, raw, unit, infer_decimal([raw]), reference_text=reference_text, **_identify(analyte)
    )
    _classify([row], ctx, in_sample_set=False)
    bits = _rule_bits(_rule_row(row), [], row.reference_source, ctx)
    return _finding(row, bits, ctx, text)


def _at_reporting_resolution(row: _Row, profile: Profile) -> float:
    """Return the value compared with the range (:func:`at_reporting_resolution`)."""
    if row.analyte is None:
        return row.value_canonical
    return float(
        at_reporting_resolution(
            profile,
            np.array([analyte_keys().index(row.analyte)], dtype=np.int64),
            np.array([row.value_canonical], dtype="float64"),
            np.array([row.scale], dtype="float64"),
            np.array([row.offset], dtype="float64"),
        )[0]
    )


def _rule_bits(
    row: RuleRow, sample_set: Sequence[RuleRow], reference_source: str | None, ctx: _Context
) -> int:
    return rule_bits_one(
        row,
        sample_set,
        age=ctx.age,
        month=ctx.month,
        reference_source=reference_source,
        profile=ctx.profile.name,
    )


def _rule_row(row: _Row) -> RuleRow:
    return RuleRow(
        analyte=row.analyte,
        flag=row.flag,
        value_canonical=row.value_canonical,
        derived=row.status == Status.DERIVED.value,
    )


def interpret_panel(
    results: Sequence[Mapping[str, Any]],
    *,
    sex: Sex | str | None = None,
    age_years: float | None = None,
    collected_at: datetime | date | str | None = None,
    height_cm: float | None = None,
    profile: str | Profile = "no",
    lang: str = "en",
    audience: str = "patient",
    schemes: Sequence[str] | None = None,
    inflammation: bool | None = None,
    derive: bool = True,
    egfr_equation: str | None = None,
) -> list[Finding]:
    """Interpret the results of one sample (same patient and collection time).

    The panel is one sample set: context rules see every result of it (ferritin
    with a raised CRP, HbA1c with low haemoglobin, magnesium with a derived eGFR
    below 30), and derived eGFR is added right after its creatinine result. The
    rules are those of :func:`labinterp.interpret` on the same rows with a patient
    and collection time; no pandas frame is built.

    Parameters
    ----------
    results
        One mapping per result with ``analyte`` (catalogue key, code or name as
        written), ``value`` (as written, or a number) and ``unit``, and optionally
        ``reference_text`` (the lab's own range).
    sex, age_years
        The patient's sex and age, used to choose ranges and equations.
    collected_at
        Collection date or time (``datetime``, ``date`` or ISO 8601 text), for
        seasonal caveats.
    height_cm
        Height, for the bedside Schwartz eGFR in children.
    profile, lang, audience, schemes, inflammation, derive, egfr_equation
        As for :func:`labinterp.interpret`.

    Returns
    -------
    list of Finding
        One finding per input result, in input order, each derived eGFR (status
        ``derived``, with ``equation`` and ``derived_from`` giving the positions of
        its source results) right after its creatinine result.

    Raises
    ------
    TypeError
        When ``results`` is not a list (a DataFrame goes to :func:`labinterp.interpret`).
    InvalidResultError
        When a result is not a mapping or has no ``analyte``, ``value`` or ``unit`` key,
        or ``collected_at`` cannot be read.

    Examples
    --------
    >>> panel = interpret_panel(
    ...     [{"analyte": "P-Magnesium", "value": "0,62", "unit": "mmol/L"},
    ...      {"analyte": "P-Kreatinin", "value": "78", "unit": "µmol/L"}],
    ...     sex="K", age_years=54)
    >>> [(f.analyte, f.status.value) for f in panel]
    [('magnesium', 'ok'), ('creatinine', 'ok'), ('egfr', 'derived')]
    """
    text = Text(lang, audience)
    ctx = _context(
        profile,
        sex,
        age_years,
        schemes=schemes,
        inflammation=inflammation,
        collected_at=collected_at,
        height_cm=height_cm,
    )
    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence):
        raise TypeError(
            "interpret_panel() takes a list of mappings (analyte, value, unit); "
            "use interpret() for a DataFrame."
        )
    for position, result in enumerate(results):
        if not isinstance(result, Mapping):
            raise InvalidResultError(
                f"Result {position} of the panel is not a mapping with analyte, value and unit.",
                row=position,
            )
        missing = [k for k in ("analyte", "value", "unit") if k not in result]
        if missing:
            raise InvalidResultError(
                f"Result {position} of the panel has no {', '.join(missing)}.",
                row=position,
                field=missing[0],
            )
    raws = [_raw(r["value"]) for r in results]
    decimal = infer_decimal(list(dict.fromkeys(v for v in raws if isinstance(v, str))))
    rows = [
        _interpret(
            ctx,
            raw,
            result["unit"],
            decimal,
            reference_text=result.get("reference_text"),
            **_identify(str(result["analyte"])),
        )
        for raw, result in zip(raws, results, strict=True)
    ]
    _classify(rows, ctx, in_sample_set=True)
    derived = _derive(rows, ctx, egfr_equation) if derive else []
    ordered: list[_Row] = []
    extra = iter(derived)
    pending = next(extra, None)
    for position, row in enumerate(rows):
        ordered.append(row)
        while pending is not None and pending[0] == position:
            ordered.append(pending[1])
            pending = next(extra, None)
    sample_set = [_rule_row(r) for r in ordered]
    return [
        _finding(r, _rule_bits(rule_row, sample_set, r.reference_source, ctx), ctx, text)
        for r, rule_row in zip(ordered, sample_set, strict=True)
    ]
