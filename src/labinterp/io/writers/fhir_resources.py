"""FHIR R4 resources for the rows of an interpreted frame: Observations and Patients.

The pieces :func:`labinterp.io.writers.fhir.to_fhir` assembles into a Bundle: each row
becomes an Observation (code, value, interpretation, reference range, notes), each
patient with a known sex or birth date a Patient, built with the R4B models of
``fhir.resources``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import numpy as np
import pandas as pd
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from labinterp import catalogue
from labinterp.errors import UnitError, UnknownAnalyteError
from labinterp.io.readers.fhir import LOINC_SYSTEM, UCUM_SYSTEM, V3_INTERPRETATION_SYSTEM
from labinterp.times import offset_text
from labinterp.units import conversion, normalise_unit
from labinterp.vocab import Status

__all__ = ["FLAG_DISPLAY", "Values", "cell_text", "derived_from", "observation", "patient_entries"]

#: Which value an Observation carries: as the lab reported it, or in the profile's unit.
Values = Literal["reported", "canonical"]

#: HL7 v3 ObservationInterpretation displays for the flags labinterp assigns.
FLAG_DISPLAY: Mapping[str, str] = {
    "N": "Normal",
    "L": "Low",
    "H": "High",
    "LL": "Critically low",
    "HH": "Critically high",
    "A": "Abnormal",
}

_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: LOINC property of the catalogue's codes, as the unit must express it: mass or
#: substance concentration, HbA1c on the NGSP (%) or IFCC (mmol/mol) scale. eGFR
#: codes differ by equation, not by unit, and are listed under ``gfr``.
_LOINC_KIND: Mapping[str, str] = {
    "19123-9": "mass",
    "2601-3": "substance",
    "2160-0": "mass",
    "14682-9": "substance",
    "77140-2": "substance",
    "4548-4": "ngsp",
    "17856-6": "ngsp",
    "17855-8": "ngsp",
    "4549-2": "ngsp",
    "59261-8": "ifcc",
    "2276-4": "mass",
    "62292-8": "mass",
    "1989-3": "mass",
    "14635-7": "substance",
    "1988-5": "mass",
    "30522-7": "mass",
    "1751-7": "mass",
    "718-7": "mass",
    "33863-2": "mass",
}

#: Codes kept when the lab sent them but never put in place of another code: they
#: name a method, a specimen or a narrower analyte than the result may have
#: (HPLC/calculated HbA1c, serum/plasma/blood creatinine, 25-OH vitamin D3 only,
#: high-sensitivity CRP).
_NEVER_CHOSEN = frozenset(
    {"17856-6", "17855-8", "4549-2", "77140-2", "1989-3", "14635-7", "30522-7"}
)

#: UCUM codes for the ``unit`` spellings labinterp writes where they differ.
_UCUM: Mapping[str, str] = {
    "mL/min/1.73m²": "mL/min/{1.73_m2}",
    "mEq/L": "meq/L",
}

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$")
_COMPARATOR = re.compile(r"^\s*(<=|>=|=<|=>|≤|≥|<|>)\s*")
_ID_NAMESPACE = uuid.UUID("6f1f4b52-8d0e-4c2b-9a63-1d5c7e0f2a11")


# -- cell helpers -----------------------------------------------------------------


def _present(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, float | np.floating):
        return not math.isnan(value)
    if isinstance(value, str):
        return bool(value.strip())
    return True


def cell_text(value: Any) -> str | None:
    """Return a cell as stripped text, or ``None`` when it is missing or blank."""
    return str(value).strip() if _present(value) else None


def _finite(value: Any) -> float | None:
    if not _present(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _significant(value: float) -> Decimal:
    """Round a converted number to six significant digits (drops conversion noise)."""
    return Decimal(format(value, ".6g"))


def _reported_decimal(raw_value: Any, value: float) -> Decimal:
    """Return the reported number with the digits of ``raw_value`` when they agree.

    ``raw_value`` may carry a comparator and a decimal comma (``"<0,5"``); the
    digits are kept when they parse to ``value``, else ``value`` itself is used.
    """
    raw = cell_text(raw_value)
    if raw is not None:
        digits = _COMPARATOR.sub("", raw).replace(" ", "").replace("\u00a0", "")
        if "," in digits and "." not in digits:
            digits = digits.replace(",", ".")
        try:
            parsed = Decimal(digits)
        except InvalidOperation:
            parsed = None
        if parsed is not None and parsed.is_finite() and math.isclose(float(parsed), value):
            return parsed
    return Decimal(repr(value))


def _ucum(display: str) -> str:
    """UCUM code of a labinterp unit spelling (``µmol/L`` -> ``umol/L``)."""
    return _UCUM.get(display, display.replace("µ", "u"))


def _display(unit: Any) -> str | None:
    text = cell_text(unit)
    if text is None:
        return None
    try:
        return normalise_unit(text).display
    except UnitError:
        return text


# -- code ---------------------------------------------------------------------------


def _unit_kind(analyte: str, unit: str) -> str | None:
    """Which LOINC property a unit expresses for an analyte (see ``_LOINC_KIND``)."""
    if analyte == "egfr":
        return "gfr"
    if analyte == "hba1c":
        return {"%": "ngsp", "mmol/mol": "ifcc"}.get(unit)
    for kind, reference in (("mass", "g/L"), ("substance", "mol/L")):
        try:
            conversion(unit, reference)
        except UnitError:
            continue
        return kind
    return None


def _catalogue_loinc(analyte: str, kind: str) -> str | None:
    try:
        codes = catalogue.get_analyte(analyte).loinc
    except UnknownAnalyteError:
        return None
    for code in codes:
        if _LOINC_KIND.get(code) == kind and code not in _NEVER_CHOSEN:
            return code
    return None


def _source_coding(code: str | None, system: str | None, name: str | None) -> Coding | None:
    if code is None:
        return None
    code = " ".join(code.split())
    if system in ("LN", LOINC_SYSTEM):
        return Coding(system=LOINC_SYSTEM, code=code, display=name)
    # Short system names (NPU, L, 99zzz ...) are not URIs and are left out.
    uri = system if system is not None and ":" in system and " " not in system else None
    return Coding(system=uri, code=code)


def _code(row: Mapping[str, Any], unit: str | None, interpreted: bool) -> CodeableConcept:
    """Observation.code: a catalogue LOINC that fits the unit, else the source code."""
    name = cell_text(row.get("source_name"))
    code = cell_text(row.get("source_code"))
    system = cell_text(row.get("source_code_system"))
    analyte = cell_text(row.get("analyte"))
    source = _source_coding(code, system, name)
    is_loinc = system in ("LN", LOINC_SYSTEM)
    chosen: str | None = None
    if interpreted and analyte is not None and unit is not None:
        kind = _unit_kind(analyte, unit)
        fits = is_loinc and code is not None and _LOINC_KIND.get(code, kind) == kind
        if kind is not None and not fits:
            chosen = _catalogue_loinc(analyte, kind)
    codings = [Coding(system=LOINC_SYSTEM, code=chosen)] if chosen is not None else []
    if source is not None and not (chosen is not None and is_loinc):
        codings.append(source)
    if name is None and analyte is not None:
        try:
            name = catalogue.get_analyte(analyte).display.get("en")
        except UnknownAnalyteError:
            name = analyte
    if not codings and name is None:
        name = "Laboratory result"
    return CodeableConcept(coding=codings or None, text=name)


# -- value, range, time -------------------------------------------------------------


def _quantity(value: Decimal, unit: str, comparator: str | None = None) -> Quantity:
    return Quantity(
        value=value,
        comparator=comparator or None,
        unit=unit,
        system=UCUM_SYSTEM,
        code=_ucum(unit),
    )


def _value_and_unit(
    row: Mapping[str, Any], values: Values
) -> tuple[Decimal | None, str | None, str | None]:
    """Return the number, the unit it is in, and the unit the reference range is in."""
    unit = _display(row.get("unit"))
    canonical = _display(row.get("unit_canonical"))
    value = _finite(row.get("value"))
    if values == "canonical" and canonical is not None and canonical != unit:
        converted = _finite(row.get("value_canonical"))
        return (None if converted is None else _significant(converted)), canonical, canonical
    if value is None or unit is None:
        return None, unit, canonical
    return _reported_decimal(row.get("raw_value"), value), unit, canonical


def _reference_range(
    row: Mapping[str, Any], unit: str, range_unit: str | None
) -> ObservationReferenceRange | None:
    """Return the range used (``reference_low``/``high``) in the value's unit."""
    low, high = _finite(row.get("reference_low")), _finite(row.get("reference_high"))
    if low is None and high is None:
        return None
    if range_unit is not None and range_unit != unit:
        analyte = cell_text(row.get("analyte"))
        try:
            affine = conversion(range_unit, unit, analyte)
        except (UnitError, UnknownAnalyteError):
            return None
        low = None if low is None else float(affine(low))
        high = None if high is None else float(affine(high))
    exclusive = [
        f"> {_significant(low)}"
        if low is not None and row.get("reference_low_inclusive") is False
        else None,
        f"< {_significant(high)}"
        if high is not None and row.get("reference_high_inclusive") is False
        else None,
    ]
    text = " and ".join(t for t in exclusive if t) or None
    return ObservationReferenceRange(
        low=None if low is None else _quantity(_significant(low), unit),
        high=None if high is None else _quantity(_significant(high), unit),
        text=text,
    )


def _stamp(value: Any) -> pd.Timestamp | None:
    if not _present(value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp


def _effective(value: Any, offset: Any) -> tuple[str | None, str | None]:
    """Format a collection time as a FHIR dateTime, with a note when its time is not in it.

    A time with its UTC offset is written with that same offset (``08:10+01:00`` stays
    ``08:10+01:00``). A floating time (no offset) cannot be a FHIR dateTime with a time of
    day, which needs an offset: the date alone is written, and the note says the time.
    A floating midnight is a date.

    Returns
    -------
    (str or None, str or None)
        The dateTime, and the note (``None`` when the dateTime says everything).
    """
    stamp = _stamp(value)
    if stamp is None:
        return None, None
    if _present(offset):
        return stamp.isoformat() + offset_text(float(offset)), None
    day = stamp.date().isoformat()
    if stamp == stamp.normalize():
        return day, None
    return day, (
        f"Collected at {stamp.time().isoformat()} local time; the time zone is not known, "
        "so effectiveDateTime gives the date only."
    )


# -- patients -----------------------------------------------------------------------


def _subject(patient_id: str) -> tuple[Reference, str | None, str | None]:
    """Return a subject reference for a patient id, with the Patient's fullUrl and id."""
    if patient_id.startswith(("urn:uuid:", "urn:oid:")):
        tail = patient_id.rsplit(":", 1)[-1]
        return Reference(reference=patient_id), patient_id, tail if _FHIR_ID.match(tail) else None
    match = _PATIENT_REF.search(patient_id)
    if match:
        absolute = patient_id if re.match(r"^https?://", patient_id) else None
        return Reference(reference=patient_id), absolute, match.group(1)
    if _FHIR_ID.match(patient_id):
        return Reference(reference=f"Patient/{patient_id}"), None, patient_id
    full_url = f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, patient_id)}"
    return (
        Reference(reference=full_url, identifier=Identifier(value=patient_id)),
        full_url,
        None,
    )


def patient_entries(frame: pd.DataFrame) -> tuple[dict[str, Reference], list[BundleEntry]]:
    """Return each patient's subject reference, and a Patient entry per known sex or birth date.

    Parameters
    ----------
    frame
        An interpreted frame.

    Returns
    -------
    (dict, list)
        The subject reference by patient id, and the Patient entries in order of first
        appearance (patients with neither a sex nor a birth date get none).
    """
    references: dict[str, Reference] = {}
    entries: list[BundleEntry] = []
    if "patient_id" not in frame.columns:
        return references, entries
    for patient_id, group in frame.groupby(frame["patient_id"].astype(object), sort=False):
        text = cell_text(patient_id)
        if text is None:
            continue
        reference, full_url, resource_id = _subject(text)
        references[text] = reference
        sex = next((s for s in _column(group, "sex") if s in ("female", "male")), None)
        born = next((b for b in _column(group, "birth_date") if _present(b)), None)
        if sex is None and born is None:
            continue
        birth = _stamp(born)
        patient = Patient(
            id=resource_id,
            gender=sex,
            birthDate=birth.date().isoformat() if birth is not None else None,
            identifier=[Identifier(value=text)] if resource_id is None else None,
        )
        entries.append(BundleEntry(fullUrl=full_url, resource=patient))
    return references, entries


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else []


# -- observations ---------------------------------------------------------------------


def _notes(*texts: str | None) -> list[Annotation] | None:
    notes = [Annotation(text=t) for t in texts if t]
    return notes or None


def derived_from(value: Any, urls: Mapping[int, str]) -> list[Reference] | None:
    """Return references to the entries of the rows a derived row was computed from."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return None
    refs = []
    for item in value:
        if isinstance(item, int | np.integer) and int(item) in urls:
            refs.append(Reference(reference=urls[int(item)]))
    return refs or None


def observation(
    row: Mapping[str, Any],
    *,
    values: Values,
    subject: Reference | None,
    derived_from: list[Reference] | None,
) -> Observation:
    """Return one row as an Observation.

    Interpreted rows (``ok``, ``derived``) carry the value with its UCUM unit, the flag,
    the reference range used and the explanation as a note; other rows their raw value
    as ``valueString`` and the problem as a note. The status is the source's
    (``source_status``: a withdrawn result is ``entered-in-error``, with no
    interpretation), else ``final`` (``corrected`` for a corrected result).

    Parameters
    ----------
    row
        One row of an interpreted frame.
    values
        ``"reported"`` or ``"canonical"`` (see :func:`labinterp.io.writers.fhir.to_fhir`).
    subject
        The patient's reference, if any.
    derived_from
        References to the rows the value was computed from, if any.

    Returns
    -------
    fhir.resources.R4B.observation.Observation
        The resource.

    Raises
    ------
    pydantic.ValidationError
        When the row does not make a valid Observation.
    """
    status = cell_text(row.get("status"))
    interpreted = status in (Status.OK.value, Status.DERIVED.value)
    when, time_note = _effective(row.get("collected_at"), row.get("collected_at_offset"))
    number, unit, range_unit = _value_and_unit(row, values) if interpreted else (None, None, None)
    fields: dict[str, Any] = {
        "status": _status(row),
        "category": [
            CodeableConcept(
                coding=[
                    Coding(system=_OBSERVATION_CATEGORY, code="laboratory", display="Laboratory")
                ]
            )
        ],
        "code": _code(row, unit, interpreted),
        "subject": subject,
        "effectiveDateTime": when,
        "derivedFrom": derived_from,
    }
    if interpreted and number is not None and unit is not None:
        fields.update(_result_fields(row, number, unit, range_unit))
    else:
        raw = row.get("raw_value")
        if _present(raw):
            fields["valueString"] = str(raw)
        raw_unit = cell_text(row.get("raw_unit"))
        fields["note"] = _notes(
            cell_text(row.get("problem")),
            f"Unit as sent: {raw_unit}" if raw_unit else None,
        )
    if time_note is not None:
        fields["note"] = [*(fields.get("note") or []), Annotation(text=time_note)]
    return Observation(**fields)


def _status(row: Mapping[str, Any]) -> str:
    """Observation.status: the source's (``source_status``); without one, as ``corrected`` says.

    A result the source withdrew stays ``entered-in-error`` (and carries no
    interpretation); with no status from the source a result is ``final``, or
    ``corrected`` where the ``corrected`` column is true.
    """
    stated = cell_text(row.get("source_status"))
    if stated is not None:
        return stated
    corrected = row.get("corrected")
    return "corrected" if corrected is True or corrected is np.True_ else "final"


def _result_fields(
    row: Mapping[str, Any], number: Decimal, unit: str, range_unit: str | None
) -> dict[str, Any]:
    """Value, interpretation, reference range and notes of an interpreted row."""
    comparator = cell_text(row.get("comparator"))
    fields: dict[str, Any] = {"valueQuantity": _quantity(number, unit, comparator)}
    flag = cell_text(row.get("flag"))
    if flag is not None and flag in FLAG_DISPLAY:
        fields["interpretation"] = [
            CodeableConcept(
                coding=[
                    Coding(
                        system=V3_INTERPRETATION_SYSTEM,
                        code=flag,
                        display=FLAG_DISPLAY[flag],
                    )
                ]
            )
        ]
    reference_range = _reference_range(row, unit, range_unit)
    if reference_range is not None:
        fields["referenceRange"] = [reference_range]
    fields["note"] = _notes(cell_text(row.get("explanation")), cell_text(row.get("caveats")))
    return fields
