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

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

from labinterp.catalogue import (
    Text,
    analytes,
    get_profile,
    load_range_catalogue,
)
from labinterp.dates import AGE_LIKE_YEAR, AGE_OUT_OF_RANGE, month_of, refused_ages
from labinterp.errors import InvalidResultError
from labinterp.models import Finding, Profile
from labinterp.steps.kidney import USABLE, KidneyBasis, assess, assessment_finding
from labinterp.steps.one import (
    Context,
    Result,
    classify_results,
    derive_results,
    finding,
    interpret_result,
    number,
    rule_bits_of,
    rule_row,
    supersede,
)
from labinterp.steps.schemes import checked_schemes
from labinterp.values import as_float, infer_decimal
from labinterp.vocab import Sex, Status

__all__ = ["interpret_one", "interpret_panel"]


def _context(
    profile: str | Profile,
    sex: Sex | str | None,
    age_years: float | None,
    *,
    schemes: Sequence[str] | None,
    inflammation: bool | None,
    collected_at: datetime | date | str | None = None,
    height_cm: float | None = None,
) -> Context:
    chosen = get_profile(profile)
    names = tuple(schemes) if schemes is not None else tuple(chosen.schemes)
    checked_schemes(names)
    raw_sex = sex.value if isinstance(sex, Sex) else sex
    parsed = Sex.parse(raw_sex)
    return Context(
        profile=chosen,
        catalogue=load_range_catalogue(chosen.catalogue),
        raw_sex=raw_sex,
        sex=parsed.value if parsed is not None else "",
        age=_age(age_years),
        height_cm=number(height_cm),
        month=month_of(collected_at),
        schemes=names,
        inflammation=inflammation,
    )


def _age(age_years: Any) -> float:
    """Return the age as a number (NaN: none), refusing the ages every path refuses.

    Raises
    ------
    InvalidResultError
        When the age looks like a year, or is below 0 or above 125 years
        (:func:`labinterp.dates.refused_ages`).
    """
    age = number(age_years)
    year_like, out_of_range = refused_ages([age])
    if year_like[0] or out_of_range[0]:
        sentence = AGE_LIKE_YEAR if year_like[0] else AGE_OUT_OF_RANGE
        raise InvalidResultError(sentence, field="age_years")
    return age


def _raw(value: Any) -> Any:
    """Return the raw value as the frame path holds it: text as is, numbers as floats."""
    if value is None or isinstance(value, str):
        return value
    try:
        return as_float(value)  # an int beyond a float's range: an infinity, then refused
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
    source_status: str | None = None,
    lab_flag: str | None = None,
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
    source_status
        The result's status as the source gave it: a FHIR ObservationStatus code
        (``"final"``, ``"preliminary"``, ``"entered-in-error"``, ...) or an HL7 OBX-11
        code (``"F"``, ``"P"``, ``"W"``, ...). A withdrawn or cancelled result is not
        interpreted (status ``withdrawn`` or ``cancelled``); a preliminary one is, with
        a note.
    lab_flag
        The lab's own flag as sent (``"LL"``, ``"H"``, ``"høy"``, ...), compared with
        the flag in ``agrees_with_lab``.

    Returns
    -------
    Finding
        A frozen model; ``finding.model_dump_json()`` serialises it.

    Raises
    ------
    InvalidResultError
        When ``age_years`` looks like a year or is below 0 or above 125 years (the
        rule of :func:`labinterp.dates.refused_ages`; the frame path leaves such an
        age missing and says why in ``read_problem``).

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
    row = interpret_result(
        ctx,
        raw,
        unit,
        infer_decimal([raw]),
        reference_text=reference_text,
        source_status=source_status,
        lab_flag=lab_flag,
        **_identify(analyte),
    )
    classify_results([row], ctx, in_sample_set=False)
    bits = rule_bits_of(rule_row(row), [], row.reference_source, ctx)
    return finding(row, bits, ctx, text)


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
        ``reference_text`` (the lab's own range), ``source_status`` and ``lab_flag``
        (as for :func:`labinterp.interpret_one`). A withdrawn or cancelled result is
        kept but not used: no eGFR is derived from it and no context rule sees it.
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
        ``collected_at`` cannot be read, or ``age_years`` is refused (it looks like a
        year, or is below 0 or above 125 years).

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
        interpret_result(
            ctx,
            raw,
            result["unit"],
            decimal,
            reference_text=result.get("reference_text"),
            source_status=result.get("source_status"),
            lab_flag=result.get("lab_flag"),
            **_identify(str(result["analyte"])),
        )
        for raw, result in zip(raws, results, strict=True)
    ]
    classify_results(rows, ctx, in_sample_set=True)
    derived = derive_results(rows, ctx, egfr_equation) if derive else []
    supersede(rows, derived)
    ordered: list[Result] = []
    extra = iter(derived)
    pending = next(extra, None)
    for position, row in enumerate(rows):
        ordered.append(row)
        while pending is not None and pending[0] == position:
            ordered.append(pending[1])
            pending = next(extra, None)
    sample_set = [rule_row(r) for r in ordered]
    found = [
        finding(r, rule_bits_of(this, sample_set, r.reference_source, ctx), ctx, text)
        for r, this in zip(ordered, sample_set, strict=True)
    ]
    return _with_assessments(ordered, found, rows, ctx, text) if derive else found


def _with_assessments(
    ordered: list[Result], found: list[Finding], inputs: list[Result], ctx: Context, text: Text
) -> list[Finding]:
    """Add the kidney assessments of the panel (one sample set), as the frame path does."""
    if not any(r.analyte == "acr" for r in ordered):
        return found
    where = {id(r): i for i, r in enumerate(inputs)}  # input positions of the panel's rows
    basis = KidneyBasis(
        analyte=np.array([r.analyte for r in ordered], dtype=object),
        category=np.array([r.category for r in ordered], dtype=object),
        value=np.array([r.value_canonical for r in ordered], dtype="float64"),
        unit=np.array([r.unit_canonical for r in ordered], dtype=object),
        comparator=np.array([r.comparator for r in ordered], dtype=object),
        usable=np.array([r.status in USABLE for r in ordered]),
        derived=np.array([r.status == Status.DERIVED.value for r in ordered]),
        equation=np.array([r.equation for r in ordered], dtype=object),
        sets=np.zeros(len(ordered), dtype=np.int64),
        age=np.full(len(ordered), ctx.age),
        sex=np.full(len(ordered), ctx.sex, dtype=object),
        aki=np.zeros(len(ordered), dtype=bool),  # a panel has no history
    )
    made = assess(basis, ctx.profile)
    out: list[Finding] = []
    for position, this in enumerate(found):
        out.append(this)
        for item in (m for m in made if m.after == position):
            sources = (
                p
                for i in (item.egfr, item.acr)
                for p in (ordered[i].derived_from or (where[id(ordered[i])],))
            )
            out.append(assessment_finding(item, text, tuple(dict.fromkeys(sources))))
    return out
