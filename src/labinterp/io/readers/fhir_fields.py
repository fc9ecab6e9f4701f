"""What the FHIR reader takes from validated R4B models: codes, values, ranges, dates, patients.

Each function reads one part of an Observation (or of its subject's Patient) as the
results frame writes it: text exactly as sent, decimals with the digits the sender wrote,
dates as timestamps (a dateTime with its UTC offset). :mod:`labinterp.io.readers.fhir`
puts the parts into rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.observation import (
    Observation,
    ObservationComponent,
    ObservationReferenceRange,
)
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.range import Range
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError

from labinterp.io.readers.fhir_json import Entry

__all__ = [
    "LOINC_SYSTEM",
    "UCUM_SYSTEM",
    "V3_INTERPRETATION_SYSTEM",
    "PatientInfo",
    "code_fields",
    "concept_text",
    "effective",
    "has_value",
    "interpretation_flag",
    "patient_index",
    "range_fields",
    "subject",
    "timestamp",
    "validation_summary",
    "value_fields",
]

#: Code system URL of LOINC; codings with this system are preferred for ``source_code``.
LOINC_SYSTEM = "http://loinc.org"
#: Code system URL of UCUM; ``raw_unit`` is the quantity's code when this is its system.
UCUM_SYSTEM = "http://unitsofmeasure.org"
#: HL7 v3 ObservationInterpretation (the codes of HL7 v2 table 0078: N, L, H, LL, HH, A).
V3_INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_V2_0078_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0078"
#: Other spellings of the LOINC system seen in exports (the HL7 OID of LOINC).
_LOINC_SYSTEMS = frozenset({LOINC_SYSTEM, "urn:oid:2.16.840.1.113883.6.1"})

#: Zero-width characters that some generators put inside display names (U+200B etc.).
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
#: ``Patient/<id>`` at the end of a reference (relative or absolute, optionally versioned).
_PATIENT_REF = re.compile(r"(?:^|/)(Patient/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
#: The value[x] choices of Observation and ObservationComponent, in FHIR order.
_VALUE_FIELDS: tuple[str, ...] = (
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)


@dataclass(frozen=True, slots=True)
class PatientInfo:
    """What the results frame takes from a Patient resource."""

    sex: str | None
    birth_date: pd.Timestamp | None
    problem: str | None


# -- small readers of validated models --------------------------------------------


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _ZERO_WIDTH.sub("", text).strip()
    return cleaned or None


#: Longest positional text a decimal with an exponent is written out to; beyond it the
#: decimal keeps its exponent (``1E+100000000`` is not expanded to 100 million digits).
_MAX_POSITIONAL = 100


def _decimal_text(value: Decimal) -> str:
    """Write a decimal as written, in positional notation (``1E+2`` becomes ``100``).

    The length of the positional form is worked out from the exponent before anything
    is expanded; a decimal whose positional form would be longer than
    :data:`_MAX_POSITIONAL` characters keeps its exponent (``1E+400``), which
    :func:`labinterp.values.parse_value` reads (as an infinity, refused as implausible).
    """
    text = str(value)
    if "E" not in text and "e" not in text:
        return text
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or Infinity: no positional form
        return text
    width = len(digits) + exponent if exponent >= 0 else max(len(digits), -exponent) + 1
    return format(value, "f") if width <= _MAX_POSITIONAL else text


def _unit(quantity: Quantity) -> str | None:
    """UCUM code when the system is UCUM, else the human-readable unit."""
    if quantity.system == UCUM_SYSTEM and quantity.code:
        return str(quantity.code)
    return str(quantity.unit) if quantity.unit else None


def _number(quantity: Quantity | None) -> str | None:
    if quantity is None or quantity.value is None:
        return None
    return _decimal_text(Decimal(quantity.value))


def concept_text(concept: CodeableConcept | None) -> str | None:
    """Return a concept's text, else its first coding display, else its first code."""
    if concept is None:
        return None
    if concept.text:
        return _clean(concept.text)
    for coding in concept.coding or []:
        if coding.display:
            return _clean(coding.display)
    for coding in concept.coding or []:
        if coding.code:
            return str(coding.code)
    return None


def code_fields(concept: CodeableConcept | None) -> dict[str, Any]:
    """``source_code``, ``source_code_system`` and ``source_name`` from Observation.code."""
    codings: list[Coding] = [c for c in (concept.coding if concept else None) or [] if c.code]
    loinc = next((c for c in codings if c.system in _LOINC_SYSTEMS), None)
    chosen = loinc or (codings[0] if codings else None)
    name = _clean(concept.text) if concept is not None and concept.text else None
    if name is None and chosen is not None and chosen.display:
        name = _clean(chosen.display)
    if name is None:
        name = next((_clean(c.display) for c in codings if c.display), None)
    return {
        "source_code": str(chosen.code) if chosen is not None else None,
        "source_code_system": "LN"
        if loinc is not None
        else (str(chosen.system) if chosen is not None and chosen.system else None),
        "source_name": name,
    }


def interpretation_flag(interpretations: Sequence[CodeableConcept] | None) -> str | None:
    """Return the codes of every interpretation, joined with ``~`` as HL7 repetitions are.

    Of each interpretation the HL7 v3 (or v2 table 0078) coding's code is taken, else
    its first coding's code, else its text, so that ``lab_flag`` holds what was sent.
    """
    found: list[str] = []
    for concept in interpretations or ():
        codings = [c for c in concept.coding or [] if c.code]
        flag = next(
            (c for c in codings if c.system in (V3_INTERPRETATION_SYSTEM, _V2_0078_SYSTEM)),
            codings[0] if codings else None,
        )
        text = str(flag.code) if flag is not None else _clean(concept.text)
        if text and text not in found:
            found.append(text)
    return "~".join(found) or None


def _bounds_text(low: str | None, high: str | None, unit: str | None) -> str | None:
    if low is not None and high is not None:
        text = f"{low} - {high}"
    elif low is not None:
        text = f">= {low}"
    elif high is not None:
        text = f"<= {high}"
    else:
        return None
    return f"{text} {unit}" if unit else text


def range_fields(
    ranges: Sequence[ObservationReferenceRange] | None, value_unit: str | None
) -> dict[str, Any]:
    """Columns from ``referenceRange[0]``; its unit is written only when it differs."""
    empty = {"lab_reference_text": None, "reference_applies_to": None, "reference_age": None}
    if not ranges:
        return empty
    first = ranges[0]
    low, high = _number(first.low), _number(first.high)
    range_unit = next((_unit(q) for q in (first.low, first.high) if q is not None), None)
    shown_unit = range_unit if range_unit and range_unit != value_unit else None
    text = _bounds_text(low, high, shown_unit)
    if text is None and first.text:
        text = str(first.text).strip() or None
    applies = [t for t in (concept_text(c) for c in first.appliesTo or []) if t]
    return {
        "lab_reference_text": text,
        "reference_applies_to": "; ".join(applies) or None,
        "reference_age": _age_text(first.age),
    }


def _age_text(age: Range | None) -> str | None:
    if age is None:
        return None
    unit = next((_unit(q) for q in (age.low, age.high) if q is not None), None)
    return _bounds_text(_number(age.low), _number(age.high), unit)


def value_fields(holder: Observation | ObservationComponent) -> dict[str, Any]:
    """``raw_value``, ``raw_unit``, ``unit_system`` and ``value_type`` of one value[x]."""
    fields: dict[str, Any] = {
        "value_type": None,
        "raw_value": None,
        "raw_unit": None,
        "unit_system": None,
        "read_problem": None,
    }
    present = next((f for f in _VALUE_FIELDS if getattr(holder, f, None) is not None), None)
    if present is None:
        return fields
    fields["value_type"] = present.removeprefix("value")
    value: Any = getattr(holder, present)
    if isinstance(value, Quantity):
        number = _number(value)
        if number is not None and value.comparator:
            number = f"{value.comparator}{number}"
        fields.update(raw_value=number, raw_unit=_unit(value), unit_system=value.system)
    elif isinstance(value, CodeableConcept):
        fields["raw_value"] = concept_text(value)
    elif isinstance(value, bool):
        fields["raw_value"] = "true" if value else "false"
    elif isinstance(value, str | int):
        fields["raw_value"] = str(value)
    elif isinstance(value, dt.date | dt.time):
        fields["raw_value"] = value.isoformat()
    else:
        fields["read_problem"] = (
            f"{present} is not read by labinterp; give the result as valueQuantity, "
            "valueString or valueCodeableConcept."
        )
    return fields


def has_value(holder: Observation | ObservationComponent) -> bool:
    """Return whether an Observation or component has a value[x]."""
    return any(getattr(holder, f, None) is not None for f in _VALUE_FIELDS)


def timestamp(value: object, column: str) -> tuple[pd.Timestamp | None, str | None]:
    """Convert a FHIR date or dateTime to a timestamp, or say why it cannot be.

    A dateTime keeps its UTC offset (the timestamp carries it; :mod:`labinterp.times`
    splits it into the wall-clock time and ``collected_at_offset``); a date is a naive
    timestamp at midnight. Partial dates (``2013``, ``2013-04``) are not used.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        return None, (f"{column} is a partial date (year, or year and month); it was not used.")
    if not isinstance(value, dt.date):
        return None, None
    try:
        stamp = pd.Timestamp(value).as_unit("ns")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None, f"{column} is outside the supported date range; it was not used."
    return stamp, None


def effective(observation: Observation) -> object:
    """Return when the sample was taken: effectiveDateTime, the period's start, or the instant."""
    if observation.effectiveDateTime is not None:
        return observation.effectiveDateTime
    if observation.effectivePeriod is not None:
        return observation.effectivePeriod.start
    return observation.effectiveInstant


# -- patients -------------------------------------------------------------------


def validation_summary(exc: Exception) -> str:
    """Fields and error types of a validation error (never the offending values)."""
    if not isinstance(exc, ValidationError):
        return f"(resource) ({type(exc).__name__})"
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(p) for p in error["loc"]) or "(resource)"
        parts.append(f"{where} ({error['type']})")
    shown = "; ".join(parts[:3])
    more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
    return shown + more


def _from_patient(patient: Patient) -> PatientInfo:
    """Sex (``female``/``male`` only; ``other``/``unknown`` are left empty) and birth date."""
    gender = str(patient.gender) if patient.gender else None
    born, problem = timestamp(patient.birthDate, "birth_date")
    return PatientInfo(gender if gender in ("female", "male") else None, born, problem)


def _patient_info(resource: Mapping[str, Any], position: int) -> PatientInfo:
    try:
        patient = Patient.model_validate(resource)
    except Exception as exc:  # the validator sees untrusted input; nothing may escape
        return PatientInfo(
            None,
            None,
            f"The subject's Patient resource (entry {position}) failed FHIR R4 validation at "
            f"{validation_summary(exc)}; sex and birth date were not read.",
        )
    return _from_patient(patient)


def patient_index(items: Iterable[Entry]) -> dict[str, PatientInfo]:
    """Patients by every key a subject reference may use: fullUrl and ``Patient/<id>``."""
    index: dict[str, PatientInfo] = {}
    for item in items:
        if item.resource.get("resourceType") != "Patient":
            continue
        info = _patient_info(item.resource, item.position)
        if item.full_url:
            index.setdefault(item.full_url, info)
        resource_id = item.resource.get("id")
        if isinstance(resource_id, str) and resource_id:
            index.setdefault(f"Patient/{resource_id}", info)
    return index


def subject(
    observation: Observation, patients: Mapping[str, PatientInfo]
) -> tuple[str | None, PatientInfo | None]:
    """Return the subject as written and, when the input holds it, its Patient."""
    subject: Reference | None = observation.subject
    if subject is None:
        return None, None
    reference = str(subject.reference) if subject.reference else None
    if reference is None:
        identifier = subject.identifier
        return (str(identifier.value) if identifier and identifier.value else None), None
    if reference.startswith("#"):
        for contained in observation.contained or []:
            if isinstance(contained, Patient) and contained.id == reference[1:]:
                return reference, _from_patient(contained)
        return reference, None
    info = patients.get(reference)
    if info is None:
        match = _PATIENT_REF.search(reference)
        info = patients.get(match.group(1)) if match else None
    return reference, info
