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
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from labinterp.errors import UnitError, UnknownAnalyteError
from labinterp.io.readers.fhir import UCUM_SYSTEM, V3_INTERPRETATION_SYSTEM
from labinterp.io.writers.fhir_codes import observation_code
from labinterp.precision import reporting_decimals, round_reported
from labinterp.times import offset_text
from labinterp.units import conversion, normalise_unit
from labinterp.vocab import Status

__all__ = [
    "CHANGE_DISPLAY",
    "FLAG_DISPLAY",
    "PatientEntry",
    "Values",
    "cell_text",
    "derived_from",
    "observation",
    "patient_entries",
    "source_rows",
]

#: Which value an Observation carries: as the lab reported it, or in the profile's unit.
Values = Literal["reported", "canonical"]

#: HL7 v3 ObservationInterpretation displays for the flags labinterp assigns.
FLAG_DISPLAY: Mapping[str, str] = {
    "N": "Normal",
    "L": "Low",
    "H": "High",
    "LL": "Critical low",
    "HH": "Critical high",
    "A": "Abnormal",
}

#: HL7 v3 ObservationInterpretation codes for a significant change from the previous result.
CHANGE_DISPLAY: Mapping[str, str] = {
    "U": "Significant change up",
    "D": "Significant change down",
}

_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

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
    if cell_text(row.get("status")) == Status.DERIVED.value:
        return _at_reporting_precision(value, cell_text(row.get("analyte")), unit), unit, canonical
    return _reported_decimal(row.get("raw_value"), value), unit, canonical


def _at_reporting_precision(value: float, analyte: str | None, unit: str) -> Decimal:
    """Write a computed value with its analyte's reporting decimals (``74``, not ``74.0``)."""
    decimals = reporting_decimals(analyte, unit)
    rounded = round_reported(value, analyte, unit)
    if decimals is None or rounded is None:
        return _significant(value)
    return Decimal(format(rounded, f".{decimals}f"))


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


class PatientEntry(NamedTuple):
    """One patient's Patient resource and the names it is referenced by.

    Attributes
    ----------
    key
        The ``patient_id`` as in the frame.
    id
        ``Patient.id``: the patient id where it is a valid FHIR id (``P001``; ``f201`` of
        ``Patient/f201``), else a name-based UUID of it.
    full_url
        The entry's ``fullUrl`` in a Bundle: the patient id where it is an absolute URL or
        a ``urn:uuid``/``urn:oid``, else ``urn:uuid:`` and the UUID of the patient id.
    resource
        The Patient (sex, birth date; a plain patient id, ``P001``, also as its identifier).
    """

    key: str
    id: str
    full_url: str
    resource: Patient


def _patient_names(patient_id: str) -> tuple[str, str]:
    """Return ``Patient.id`` and the Bundle ``fullUrl`` for a patient id."""
    name_based = str(uuid.uuid5(_ID_NAMESPACE, patient_id))
    if patient_id.startswith(("urn:uuid:", "urn:oid:")):
        tail = patient_id.rsplit(":", 1)[-1]
        return (tail if _FHIR_ID.match(tail) else name_based), patient_id
    match = _PATIENT_REF.search(patient_id)
    if match:
        absolute = re.match(r"^https?://", patient_id) is not None
        return match.group(1), (patient_id if absolute else f"urn:uuid:{name_based}")
    resource_id = patient_id if _FHIR_ID.match(patient_id) else name_based
    return resource_id, f"urn:uuid:{name_based}"


def patient_entries(frame: pd.DataFrame) -> list[PatientEntry]:
    """Return one Patient per patient id, in order of first appearance.

    Every patient gets a Patient, so that every Observation's subject resolves inside the
    Bundle (or the NDJSON export); sex and birth date are the first known in its rows.

    Parameters
    ----------
    frame
        An interpreted frame.

    Returns
    -------
    list of PatientEntry
        The patients (none when the frame has no ``patient_id`` column).
    """
    entries: list[PatientEntry] = []
    if "patient_id" not in frame.columns:
        return entries
    for patient_id, group in frame.groupby(frame["patient_id"].astype(object), sort=False):
        text = cell_text(patient_id)
        if text is None:
            continue
        resource_id, full_url = _patient_names(text)
        sex = next((s for s in _column(group, "sex") if s in ("female", "male")), None)
        born = _stamp(next((b for b in _column(group, "birth_date") if _present(b)), None))
        named = text == full_url or _PATIENT_REF.search(text) is not None
        patient = Patient(
            id=resource_id,
            gender=sex,
            birthDate=born.date().isoformat() if born is not None else None,
            identifier=None if named else [Identifier(value=text)],
        )
        entries.append(PatientEntry(text, resource_id, full_url, patient))
    return entries


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else []


# -- observations ---------------------------------------------------------------------


def _notes(*texts: str | None) -> list[Annotation] | None:
    notes = [Annotation(text=t) for t in texts if t]
    return notes or None


def derived_from(value: Any, urls: Mapping[int, Sequence[str]]) -> list[Reference] | None:
    """Return references to the entries of the rows a derived row was computed from.

    Parameters
    ----------
    value
        The row's ``derived_from``: source rows as ``"3"`` or ``"3;8"`` (or a list).
    urls
        For each source row, the references of the rows it was computed from.

    Returns
    -------
    list of Reference or None
        One reference per source row entry, in order, without repeats.
    """
    refs: list[str] = []
    for row in source_rows(value):
        refs.extend(u for u in urls.get(row, ()) if u not in refs)
    return [Reference(reference=u) for u in refs] or None


def source_rows(value: Any) -> list[int]:
    """Return the source rows a ``derived_from`` cell names (``"3;8"``: ``[3, 8]``)."""
    if isinstance(value, str):
        items: list[Any] = [p.strip() for p in value.split(";")]
    elif isinstance(value, bytes) or not isinstance(value, Iterable):
        return []
    else:
        items = list(value)
    rows: list[int] = []
    for item in items:
        try:
            rows.append(int(item))
        except (TypeError, ValueError):
            continue
    return rows


def observation(
    row: Mapping[str, Any],
    *,
    values: Values,
    subject: Reference | None,
    derived_from: list[Reference] | None,
) -> Observation:
    """Return one row as an Observation.

    Interpreted rows (``ok``, ``derived``) carry the value with its UCUM unit, the flag,
    the reference range used and the explanation as a note (a category alone, the CKD
    prognosis, as ``valueCodeableConcept``); other rows their raw value
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
        "code": observation_code(row, unit, interpreted),
        "subject": subject,
        "effectiveDateTime": when,
        "derivedFrom": derived_from,
    }
    if interpreted and number is not None and unit is not None:
        fields.update(_result_fields(row, number, unit, range_unit))
    elif interpreted and cell_text(row.get("category")) is not None:
        # A category alone (the KDIGO heat map's CKD prognosis): the category is the value.
        fields["valueCodeableConcept"] = CodeableConcept(text=cell_text(row.get("category")))
        fields["note"] = _notes(cell_text(row.get("explanation")), cell_text(row.get("caveats")))
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


def _change(row: Mapping[str, Any]) -> str | None:
    """``U``/``D`` where history found a significant change up/down (``significant_change``)."""
    significant = row.get("significant_change")
    if not (significant is True or significant is np.True_):
        return None
    change = _finite(row.get("change_abs_exact", row.get("change_abs")))
    if change is None or change == 0:
        change = _finite(row.get("change_abs"))
    if change is None or change == 0:
        return None
    return "U" if change > 0 else "D"


def _result_fields(
    row: Mapping[str, Any], number: Decimal, unit: str, range_unit: str | None
) -> dict[str, Any]:
    """Value, interpretation, reference range and notes of an interpreted row."""
    comparator = cell_text(row.get("comparator"))
    fields: dict[str, Any] = {"valueQuantity": _quantity(number, unit, comparator)}
    flag = cell_text(row.get("flag"))
    interpretation = [
        CodeableConcept(
            coding=[Coding(system=V3_INTERPRETATION_SYSTEM, code=code, display=display[code])]
        )
        for code, display in ((flag, FLAG_DISPLAY), (_change(row), CHANGE_DISPLAY))
        if code is not None and code in display
    ]
    if interpretation:
        fields["interpretation"] = interpretation
    reference_range = _reference_range(row, unit, range_unit)
    if reference_range is not None:
        fields["referenceRange"] = [reference_range]
    fields["note"] = _notes(cell_text(row.get("explanation")), cell_text(row.get("caveats")))
    return fields
