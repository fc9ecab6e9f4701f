"""Read FHIR R4 Observations (JSON resources, Bundles, NDJSON bulk exports) into the results frame.

Every resource is validated with the R4B models of the ``fhir.resources`` package
(``fhir.resources.R4B``, FHIR 4.3, which reads R4 Observations and Patients
unchanged) and the columns are taken from the validated models. Decimals are
read as :class:`decimal.Decimal` from the JSON text, so ``raw_value`` keeps the
precision the sender wrote (``19.0`` stays ``"19.0"``). An Observation that does
not validate still gives a row: its ``read_problem`` names the resource and the
field, and it carries no values. Input that cannot be read at all raises
:class:`~labinterp.errors.ReadError`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

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

from labinterp.errors import ReadError
from labinterp.dates import complete_context
from labinterp.io.readers.source import load_source

__all__ = [
    "FHIR_COLUMNS",
    "LOINC_SYSTEM",
    "UCUM_SYSTEM",
    "V3_INTERPRETATION_SYSTEM",
    "parse_fhir",
    "read_fhir",
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

#: Columns of the frame :func:`parse_fhir` returns, in order (``age_years`` follows,
#: computed from ``birth_date`` and ``collected_at``).
FHIR_COLUMNS: tuple[str, ...] = (
    "source_row",
    "component_index",
    "component_of",
    "observation_id",
    "observation_status",
    "corrected",
    "patient_id",
    "sex",
    "birth_date",
    "collected_at",
    "source_code",
    "source_code_system",
    "source_name",
    "value_type",
    "raw_value",
    "raw_unit",
    "unit_system",
    "lab_reference_text",
    "reference_applies_to",
    "reference_age",
    "lab_flag",
    "data_absent_reason",
    "read_problem",
)

_TEXT_COLUMNS = tuple(
    c
    for c in FHIR_COLUMNS
    if c
    not in {
        "source_row",
        "component_index",
        "component_of",
        "corrected",
        "birth_date",
        "collected_at",
    }
)

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
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class _Item:
    """One resource of the input with its position and (in Bundles) its fullUrl."""

    position: int
    resource: Mapping[str, Any]
    full_url: str | None


@dataclass(frozen=True, slots=True)
class _PatientInfo:
    """What the results frame takes from a Patient resource."""

    sex: str | None
    birth_date: pd.Timestamp | None
    problem: str | None


# -- input ----------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    """Decode JSON bytes: UTF-8 (BOM dropped) or UTF-16 with a BOM."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"{name}, byte {exc.start}: not valid UTF-16 text.") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{name}, byte {exc.start}: not valid UTF-8; FHIR JSON must be UTF-8 encoded."
        ) from exc


def _loads(text: str) -> Any:
    """Parse JSON keeping every decimal as written (``19.0`` stays ``Decimal('19.0')``)."""
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal)


def _json_error(name: str, exc: json.JSONDecodeError) -> ReadError:
    # JSONDecodeError.msg describes the syntax ("Expecting ',' delimiter"), never the content.
    return ReadError(
        f"{name}, line {exc.lineno}, column {exc.colno}: not valid JSON "
        f"({exc.msg}); the file may be truncated.",
    )


def _looks_like_ndjson(lines: Sequence[str]) -> bool:
    """NDJSON when there are several non-blank lines and the first is a whole JSON object."""
    filled = [line for line in lines if line.strip()]
    if len(filled) < 2:
        return False
    try:
        first = _loads(filled[0])
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(first, dict)


def _resource_type(value: object) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("resourceType")
        return kind if isinstance(kind, str) and kind else None
    return None


def _items_from_ndjson(lines: Sequence[str], name: str) -> list[_Item]:
    items: list[_Item] = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            resource = _loads(line)
        except json.JSONDecodeError as exc:
            raise ReadError(
                f"{name}, line {index + 1}, column {exc.colno}: not valid JSON ({exc.msg}); "
                "NDJSON needs one whole resource per line."
            ) from exc
        if _resource_type(resource) is None:
            raise ReadError(
                f"{name}, line {index + 1}: not a FHIR resource (no resourceType); "
                "NDJSON needs one resource per line."
            )
        items.append(_Item(index, resource, None))
    return items


def _items_from_document(document: object, name: str) -> list[_Item]:
    """Resources of a parsed JSON document: one resource, a Bundle, or an array of resources."""
    if isinstance(document, list):
        items = []
        for index, resource in enumerate(document):
            if _resource_type(resource) is None:
                raise ReadError(
                    f"{name}, item {index}: not a FHIR resource (no resourceType); a JSON "
                    "array must hold FHIR resources."
                )
            items.append(_Item(index, resource, None))
        return items
    kind = _resource_type(document)
    if kind is None or not isinstance(document, Mapping):
        raise ReadError(
            f"{name}, line 1: JSON without a resourceType is not FHIR; give an Observation, "
            "a Bundle or an NDJSON bulk export."
        )
    if kind != "Bundle":
        return [_Item(0, document, None)]
    entries = document.get("entry", [])
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ReadError(f"{name}: the Bundle's entry is not a list; it cannot be read.")
    items = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        resource = entry.get("resource")
        if _resource_type(resource) is None or not isinstance(resource, Mapping):
            continue
        full_url = entry.get("fullUrl")
        items.append(_Item(index, resource, full_url if isinstance(full_url, str) else None))
    return items


def _items(data: str | bytes | Mapping[str, Any] | list[Any], name: str) -> list[_Item]:
    if isinstance(data, Mapping | list):
        return _items_from_document(data, name)
    if isinstance(data, bytes | bytearray):
        text = _decode(bytes(data), name)
    elif isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
    else:
        raise ReadError(
            f"{name}: parse_fhir() takes JSON text, bytes, a dict or a list, "
            f"not {type(data).__name__}."
        )
    if not text.strip():
        raise ReadError(f"{name}: the file is empty.")
    # Split on LF only: str.splitlines() would also split inside JSON strings that hold
    # U+2028, U+0085 and other characters JSON allows unescaped.
    lines = text.split("\n")
    if _looks_like_ndjson(lines):
        return _items_from_ndjson(lines, name)
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(name, exc) from exc
    return _items_from_document(document, name)


# -- small readers of validated models --------------------------------------------


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _ZERO_WIDTH.sub("", text).strip()
    return cleaned or None


def _decimal_text(value: Decimal) -> str:
    """Write a decimal as written, in positional notation (``1E+2`` becomes ``100``)."""
    text = str(value)
    return format(value, "f") if "E" in text or "e" in text else text


def _unit(quantity: Quantity) -> str | None:
    """UCUM code when the system is UCUM, else the human-readable unit."""
    if quantity.system == UCUM_SYSTEM and quantity.code:
        return str(quantity.code)
    return str(quantity.unit) if quantity.unit else None


def _number(quantity: Quantity | None) -> str | None:
    if quantity is None or quantity.value is None:
        return None
    return _decimal_text(Decimal(quantity.value))


def _concept_text(concept: CodeableConcept | None) -> str | None:
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


def _code_fields(concept: CodeableConcept | None) -> dict[str, Any]:
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


def _flag(interpretations: Sequence[CodeableConcept] | None) -> str | None:
    """Return the code of the first interpretation, preferring HL7 v3/v2 flag codings."""
    if not interpretations:
        return None
    codings = [c for c in interpretations[0].coding or [] if c.code]
    for coding in codings:
        if coding.system in (V3_INTERPRETATION_SYSTEM, _V2_0078_SYSTEM):
            return str(coding.code)
    return str(codings[0].code) if codings else None


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


def _range_fields(
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
    applies = [t for t in (_concept_text(c) for c in first.appliesTo or []) if t]
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


def _value_fields(holder: Observation | ObservationComponent) -> dict[str, Any]:
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
        fields["raw_value"] = _concept_text(value)
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


def _has_value(holder: Observation | ObservationComponent) -> bool:
    return any(getattr(holder, f, None) is not None for f in _VALUE_FIELDS)


def _timestamp(value: object, column: str) -> tuple[pd.Timestamp | None, str | None]:
    """Convert a FHIR date or dateTime to a naive timestamp, or say why it cannot be.

    The offset is dropped and the wall-clock time kept as written, the same rule as
    for CSV and HL7 v2 input (``io/_context.py``). Partial dates (``2013``,
    ``2013-04``) are not used.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        return None, (f"{column} is a partial date (year, or year and month); it was not used.")
    if not isinstance(value, dt.date):
        return None, None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    try:
        stamp = pd.Timestamp(value).as_unit("ns")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None, f"{column} is outside the supported date range; it was not used."
    return stamp, None


def _effective(observation: Observation) -> object:
    if observation.effectiveDateTime is not None:
        return observation.effectiveDateTime
    if observation.effectivePeriod is not None:
        return observation.effectivePeriod.start
    return observation.effectiveInstant


# -- patients -------------------------------------------------------------------


def _validation_summary(exc: Exception) -> str:
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


def _from_patient(patient: Patient) -> _PatientInfo:
    """Sex (``female``/``male`` only; ``other``/``unknown`` are left empty) and birth date."""
    gender = str(patient.gender) if patient.gender else None
    born, problem = _timestamp(patient.birthDate, "birth_date")
    return _PatientInfo(gender if gender in ("female", "male") else None, born, problem)


def _patient_info(resource: Mapping[str, Any], position: int) -> _PatientInfo:
    try:
        patient = Patient.model_validate(resource)
    except Exception as exc:  # the validator sees untrusted input; nothing may escape
        return _PatientInfo(
            None,
            None,
            f"The subject's Patient resource (entry {position}) failed FHIR R4 validation at "
            f"{_validation_summary(exc)}; sex and birth date were not read.",
        )
    return _from_patient(patient)


def _patient_index(items: Iterable[_Item]) -> dict[str, _PatientInfo]:
    """Patients by every key a subject reference may use: fullUrl and ``Patient/<id>``."""
    index: dict[str, _PatientInfo] = {}
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


def _subject(
    observation: Observation, patients: Mapping[str, _PatientInfo]
) -> tuple[str | None, _PatientInfo | None]:
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


# -- observations ---------------------------------------------------------------


def _blank_row(position: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FHIR_COLUMNS)
    row["source_row"] = position
    row["corrected"] = False
    return row


def _observation_rows(
    observation: Observation, position: int, patients: Mapping[str, _PatientInfo]
) -> list[dict[str, Any]]:
    patient_id, patient = _subject(observation, patients)
    status = str(observation.status) if observation.status else None
    collected_at, date_problem = _timestamp(_effective(observation), "collected_at")
    shared: dict[str, Any] = {
        "observation_id": str(observation.id) if observation.id else None,
        "observation_status": status,
        "corrected": status in ("corrected", "amended"),
        "patient_id": patient_id,
        "sex": patient.sex if patient else None,
        "birth_date": patient.birth_date if patient else None,
        "collected_at": collected_at,
    }
    patient_problem = patient.problem if patient else None
    components = observation.component or []
    if not _has_value(observation) and any(_has_value(c) for c in components):
        holders: list[tuple[int | None, Observation | ObservationComponent]] = list(
            enumerate(components)
        )
    else:
        holders = [(None, observation)]
    rows = []
    for component_index, holder in holders:
        row = _blank_row(position)
        row.update(shared)
        row["component_index"] = component_index
        row["component_of"] = position if component_index is not None else None
        row.update(_code_fields(holder.code))
        values = _value_fields(holder)
        row.update(values)
        row.update(_range_fields(holder.referenceRange, values["raw_unit"]))
        row["lab_flag"] = _flag(holder.interpretation)
        row["data_absent_reason"] = _concept_text(holder.dataAbsentReason)
        problems = (values["read_problem"], patient_problem, date_problem)
        row["read_problem"] = " ".join(p for p in problems if p) or None
        rows.append(row)
    return rows


def _invalid_row(position: int, problem: str) -> dict[str, Any]:
    row = _blank_row(position)
    row["read_problem"] = problem
    return row


def _rows(items: Sequence[_Item]) -> list[dict[str, Any]]:
    patients = _patient_index(items)
    rows: list[dict[str, Any]] = []
    for item in items:
        if item.resource.get("resourceType") != "Observation":
            continue
        try:
            observation = Observation.model_validate(item.resource)
        except Exception as exc:  # the validator sees untrusted input; nothing may escape
            rows.append(
                _invalid_row(
                    item.position,
                    f"The Observation (entry {item.position}) failed FHIR R4 validation at "
                    f"{_validation_summary(exc)}; no values were read from it.",
                )
            )
            continue
        try:
            rows.extend(_observation_rows(observation, item.position, patients))
        except Exception as exc:  # a model field of an unexpected shape
            rows.append(
                _invalid_row(
                    item.position,
                    f"The Observation (entry {item.position}) could not be read "
                    f"({type(exc).__name__}); no values were read from it.",
                )
            )
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FHIR_COLUMNS))
    frame["source_row"] = frame["source_row"].astype("int64")
    for column in ("component_index", "component_of"):
        frame[column] = frame[column].astype("Int64")
    for column in ("birth_date", "collected_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["corrected"] = frame["corrected"].astype("bool")
    for column in _TEXT_COLUMNS:
        # Object dtype with None for missing text, the same under pandas 2 and 3.
        text = frame[column].astype(object)
        frame[column] = text.where(text.notna(), None)
    return complete_context(frame)


# -- public API -----------------------------------------------------------------


def parse_fhir(
    data: str | bytes | dict[str, Any] | list[Any], *, name: str = "<json>"
) -> pd.DataFrame:
    """Parse FHIR R4 JSON (text, bytes or already-parsed objects) into a results frame.

    Parameters
    ----------
    data
        One Observation, a Bundle (any type: collection, transaction, searchset,
        batch ...), a JSON array of resources, or NDJSON (one resource per line,
        as in bulk-data exports), as text, UTF-8 bytes, or the parsed ``dict`` /
        ``list``. Parsed objects keep the precision their parser kept (a ``float``
        ``1.10`` reads as ``"1.1"``); give text or bytes to keep it as written.
    name
        How to name the input in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per Observation value, or, for an Observation without a value
        whose components have values, one row per component (``component_index``
        0, 1, ... and ``component_of`` = the parent's ``source_row``). Columns are
        :data:`FHIR_COLUMNS` then ``age_years``. ``source_row`` is the 0-based
        position of the Observation in the input (Bundle entry, array item, or
        NDJSON line). Non-Observation resources give no rows; Patients supply
        ``sex`` and ``birth_date``.

    Raises
    ------
    ReadError
        When the input cannot be read at all: empty, not UTF-8, not valid JSON
        (the message gives line and column; for NDJSON the line), or JSON that
        is not FHIR (no ``resourceType``). Nothing else is raised.

    Examples
    --------
    >>> text = '''{"resourceType": "Observation", "status": "final",
    ...   "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}],
    ...            "text": "Creat SerPl-mCnc"},
    ...   "valueQuantity": {"value": 1.0, "unit": "mg/dL",
    ...                     "system": "http://unitsofmeasure.org", "code": "mg/dL"}}'''
    >>> frame = parse_fhir(text)
    >>> frame.loc[0, ["source_code", "raw_value", "raw_unit"]].tolist()
    ['2160-0', '1.0', 'mg/dL']
    """
    try:
        items = _items(data, name)
    except RecursionError as exc:
        raise ReadError(f"{name}: the JSON is nested too deeply to be read.") from exc
    return _frame(_rows(items))


def read_fhir(source: str | os.PathLike[str] | IO[Any] | bytes) -> pd.DataFrame:
    """Read a FHIR R4 JSON or NDJSON file into a results frame.

    Parameters
    ----------
    source
        A path, an open file (text or binary), or bytes.

    Returns
    -------
    pandas.DataFrame
        As for :func:`parse_fhir`.

    Raises
    ------
    ReadError
        When the file cannot be opened or read at all; the message names the
        file and the position.
    """
    data, name = load_source(source)
    return parse_fhir(data, name=name)
