"""Read FHIR R4 Observations (JSON resources, Bundles, NDJSON bulk exports) into the results frame.

Every resource is validated with the R4B models of the ``fhir.resources`` package
(``fhir.resources.R4B``, FHIR 4.3, which reads R4 Observations and Patients
unchanged) and the columns are taken from the validated models. Decimals are
read as :class:`decimal.Decimal` from the JSON text, so ``raw_value`` keeps the
precision the sender wrote (``19.0`` stays ``"19.0"``). An Observation that does
not validate still gives a row: its ``read_problem`` names the resource and the
field, and it carries no values. Input that cannot be read at all raises
:class:`~labinterp.errors.ReadError`.

The input is listed by :mod:`~labinterp.io.readers.fhir_json` and each validated
resource read by :mod:`~labinterp.io.readers.fhir_fields`; this module builds the rows
and the frame.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

import pandas as pd
from fhir.resources.R4B.observation import Observation, ObservationComponent

from labinterp.dates import complete_context
from labinterp.errors import ReadError
from labinterp.io.readers.fhir_fields import (
    LOINC_SYSTEM,
    UCUM_SYSTEM,
    V3_INTERPRETATION_SYSTEM,
    PatientInfo,
    code_fields,
    concept_text,
    effective,
    has_value,
    interpretation_flag,
    patient_index,
    range_fields,
    subject,
    timestamp,
    validation_summary,
    value_fields,
)
from labinterp.io.readers.fhir_json import Entry, entries
from labinterp.io.readers.source import load_source

__all__ = [
    "FHIR_COLUMNS",
    "LOINC_SYSTEM",
    "UCUM_SYSTEM",
    "V3_INTERPRETATION_SYSTEM",
    "parse_fhir",
    "read_fhir",
]


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


# -- observations ---------------------------------------------------------------


def _blank_row(position: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FHIR_COLUMNS)
    row["source_row"] = position
    row["corrected"] = False
    return row


def _observation_rows(
    observation: Observation, position: int, patients: Mapping[str, PatientInfo]
) -> list[dict[str, Any]]:
    patient_id, patient = subject(observation, patients)
    status = str(observation.status) if observation.status else None
    collected_at, date_problem = timestamp(effective(observation), "collected_at")
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
    if not has_value(observation) and any(has_value(c) for c in components):
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
        row.update(code_fields(holder.code))
        values = value_fields(holder)
        row.update(values)
        row.update(range_fields(holder.referenceRange, values["raw_unit"]))
        row["lab_flag"] = interpretation_flag(holder.interpretation)
        row["data_absent_reason"] = concept_text(holder.dataAbsentReason)
        problems = (values["read_problem"], patient_problem, date_problem)
        row["read_problem"] = " ".join(p for p in problems if p) or None
        rows.append(row)
    return rows


def _invalid_row(position: int, problem: str) -> dict[str, Any]:
    row = _blank_row(position)
    row["read_problem"] = problem
    return row


def _rows(items: Sequence[Entry]) -> list[dict[str, Any]]:
    patients = patient_index(items)
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
                    f"{validation_summary(exc)}; no values were read from it.",
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
    frame["birth_date"] = pd.to_datetime(frame["birth_date"]).astype("datetime64[ns]")
    # Timestamps with their UTC offsets: complete_context keeps each offset.
    frame["collected_at"] = frame["collected_at"].astype(object)
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
        items = entries(data, name)
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
