"""Write an interpreted frame as FHIR R4 Observations in a ``collection`` Bundle.

Each row of the interpreted frame becomes one Observation, built with the R4B
models of ``fhir.resources`` (FHIR 4.3, wire-compatible with R4 for
Observation, Patient and Bundle). Rows that were interpreted (``status`` ``ok``
or ``derived``) carry the value as a ``valueQuantity`` with its UCUM unit, the
flag as an HL7 v3 ObservationInterpretation code, the reference range that was
used, and the explanation as a note. Rows that could not be interpreted carry
their raw value as ``valueString`` and the ``problem`` as a note, and no
interpretation. ``Observation.status`` is the status the source gave
(``source_status``): a result the source withdrew is written ``entered-in-error`` and a
cancelled one ``cancelled``, both without interpretation; a result with no status from
the source is ``final`` (``corrected`` when marked corrected). One Patient resource per
patient carries sex and birth date.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.reference import Reference
from pydantic import BaseModel, ValidationError

from labinterp.equations.egfr import EQUATIONS
from labinterp.equations.kdigo import KDIGO_RISK_INPUTS
from labinterp.equations.kfre import KFRE_EQUATIONS, KFRE_INPUTS
from labinterp.errors import InvalidResultError, MissingColumnError
from labinterp.io.writers.fhir_resources import (
    FLAG_DISPLAY,
    Values,
    cell_text,
    derived_from,
    observation,
    patient_entries,
    source_rows,
)
from labinterp.io.writers.files import replaced_when_done
from labinterp.times import localize, time_zone

__all__ = [
    "FLAG_DISPLAY",
    "to_fhir",
    "to_fhir_json",
    "to_fhir_ndjson",
    "write_fhir",
    "write_fhir_ndjson",
]

_DECIMAL_MARK = "\x00labinterp-decimal:"
_DECIMAL_TOKEN = re.compile(r'"\\u0000labinterp-decimal:([-+0-9.Ee]+)"')


#: The inputs of the kidney assessments, by the name their ``equation`` column gives.
ASSESSMENT_INPUTS = {
    "kdigo_risk": KDIGO_RISK_INPUTS,
    **dict.fromkeys(KFRE_EQUATIONS.values(), KFRE_INPUTS),
}


def to_fhir(
    interpreted: pd.DataFrame,
    *,
    values: Values = "reported",
    timezone: str | None = None,
) -> Bundle:
    """Build a FHIR R4 ``collection`` Bundle of Observations from an interpreted frame.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.
    values
        ``"reported"`` (default): the value in the unit the lab reported
        (``value``/``unit``), with the digits of ``raw_value`` (``19.0`` stays
        ``19.0``). ``"canonical"``: the value in the profile's reporting unit
        (``value_canonical``/``unit_canonical``); where that unit differs from the
        reported one the converted value is written to six significant digits.
    timezone
        IANA zone (``"America/Chicago"``) of floating ``collected_at`` times, those
        without a ``collected_at_offset`` (the frame was interpreted without a zone).
        Every other time is written with its own offset, the one it was read with
        (``08:10+01:00`` stays ``08:10+01:00``). Without a zone a floating time is
        written as its date, with a note giving the local time; a floating midnight
        is a date. Daylight-saving gaps and folds are read as
        :func:`labinterp.times.localize` says.

    Returns
    -------
    fhir.resources.R4B.bundle.Bundle
        Observations in frame order (entry ``i`` is row ``i``), then one Patient
        per patient with a known sex or birth date. ``code`` is a catalogue LOINC
        code for the reported unit where the source code is not LOINC or is a
        LOINC code for another unit (the source coding is kept beside it);
        otherwise the source code. Use :func:`to_fhir_json` for JSON that keeps
        the decimal digits (``model_dump_json`` writes decimals as floats).

    Raises
    ------
    MissingColumnError
        When the frame has no ``status`` column (it was not interpreted).
    InvalidResultError
        When a row cannot be written as a valid Observation; names the row.
    """
    zone = _checked(interpreted, values, timezone)
    patients = patient_entries(interpreted)
    subjects = {
        p.key: Reference(
            reference=p.full_url,
            identifier=p.resource.identifier[0] if p.resource.identifier else None,
        )
        for p in patients
    }
    records = _records(interpreted, zone)
    urls = [f"urn:uuid:{uuid.uuid4()}" for _ in records]
    entries = [
        BundleEntry(fullUrl=url, resource=resource)
        for url, resource in zip(
            urls, _observations(records, values=values, subjects=subjects, refs=urls), strict=True
        )
    ]
    patient_list = [BundleEntry(fullUrl=p.full_url, resource=p.resource) for p in patients]
    return Bundle(type="collection", entry=[*entries, *patient_list] or None)


def _checked(interpreted: pd.DataFrame, values: str, timezone: str | None) -> ZoneInfo | None:
    """Check the writer's arguments; return the time zone of floating times."""
    if "status" not in interpreted.columns:
        raise MissingColumnError(
            "The frame has no status column; pass the frame returned by labinterp.interpret().",
            field="status",
        )
    if values not in ("reported", "canonical"):
        raise ValueError("values must be 'reported' or 'canonical'.")
    try:
        return time_zone(timezone)
    except ValueError as exc:
        raise ValueError(f"Unknown time zone {timezone!r}; use an IANA name.") from exc


def _records(interpreted: pd.DataFrame, zone: ZoneInfo | None) -> list[dict[str, Any]]:
    return _plain(_with_offsets(interpreted, zone))


def _with_offsets(interpreted: pd.DataFrame, zone: ZoneInfo | None) -> pd.DataFrame:
    """Return the frame with the offsets of its floating times in ``zone`` filled in."""
    if zone is None or "collected_at" not in interpreted.columns:
        return interpreted
    wall = pd.to_datetime(interpreted["collected_at"]).astype("datetime64[ns]")
    given = (
        interpreted["collected_at_offset"]
        if "collected_at_offset" in interpreted.columns
        else pd.Series(pd.NA, index=interpreted.index)
    )
    offset, _, _ = localize(wall, pd.to_numeric(given).astype("Int64"), zone)
    return interpreted.assign(collected_at_offset=offset)


def _sources_by_row(
    records: list[dict[str, Any]], refs: list[str]
) -> dict[int, list[tuple[str, str | None]]]:
    """For each source row, the references of its rows a derived value may come from.

    A derived eGFR names source rows (``derived_from``); of the rows read from those source
    rows (a wide export gives several per line), the ones whose analyte is an input of the
    row's equation (creatinine, cystatin C) are its sources. A kidney assessment (CKD
    prognosis, KFRE) is derived from an eGFR and an ACR: a derived eGFR is found through
    the source rows it was itself derived from.
    """
    by_row: dict[int, list[tuple[str, str | None]]] = {}
    for ref, record in zip(refs, records, strict=True):
        source_row = record.get("source_row")
        analyte = cell_text(record.get("analyte"))
        derived = cell_text(record.get("status")) == "derived"
        if isinstance(source_row, int | np.integer) and not derived:
            by_row.setdefault(int(source_row), []).append((ref, analyte))
        elif derived and analyte == "egfr":  # an assessment's eGFR, found by its sources
            for row in source_rows(record.get("derived_from")):
                by_row.setdefault(row, []).append((ref, analyte))
    return by_row


def _observations(
    records: list[dict[str, Any]],
    *,
    values: Values,
    subjects: Mapping[str, Reference],
    refs: list[str],
    sources: dict[int, list[tuple[str, str | None]]] | None = None,
) -> Iterator[Observation]:
    """Yield one Observation per row, in row order; ``refs[i]`` is how row ``i`` is referenced.

    A generator, so that NDJSON holds one resource at a time, not a batch of them.

    ``derivedFrom`` of a derived row points at the rows it was computed from (see
    :func:`_sources_by_row`).
    """
    if sources is None:
        sources = _sources_by_row(records, refs)
    for position, record in enumerate(records):
        patient_id = cell_text(record.get("patient_id"))
        equation = cell_text(record.get("equation")) or ""
        wanted = (
            EQUATIONS[equation].inputs
            if equation in EQUATIONS
            else ASSESSMENT_INPUTS.get(equation, ())
        )
        by_input = {
            row: [ref for ref, analyte in sources.get(row, ()) if analyte in wanted]
            for row in source_rows(record.get("derived_from"))
        }
        try:
            resource = observation(
                record,
                values=values,
                subject=subjects.get(patient_id) if patient_id else None,
                derived_from=derived_from(record.get("derived_from"), by_input),
            )
        except ValidationError as exc:
            fields = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "(resource)"
                for e in exc.errors(include_url=False, include_input=False)
            )
            row = record.get("source_row")
            raise InvalidResultError(
                f"Row {position} cannot be written as a FHIR Observation ({fields}); "
                "check its code, unit and date columns.",
                row=int(row) if isinstance(row, int | np.integer) else None,
            ) from exc
        yield resource


def _with_decimals(model: Any, dumped: Any) -> None:
    """Put the models' Decimals back where ``model_dump`` wrote floats."""
    if isinstance(model, BaseModel) and isinstance(dumped, dict):
        for name, field in type(model).model_fields.items():
            key = field.alias or name
            if key not in dumped:
                continue
            value = getattr(model, name)
            if isinstance(value, Decimal):
                dumped[key] = value
            else:
                _with_decimals(value, dumped[key])
    elif isinstance(model, list) and isinstance(dumped, list) and len(model) == len(dumped):
        for index, (item, out) in enumerate(zip(model, dumped, strict=True)):
            if isinstance(item, Decimal):
                dumped[index] = item
            else:
                _with_decimals(item, out)


def _encode(value: object) -> str:
    if isinstance(value, Decimal):
        text = str(value)
        return _DECIMAL_MARK + (format(value, "f") if "E" in text else text)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_fhir_json(
    interpreted: pd.DataFrame,
    *,
    values: Values = "reported",
    timezone: str | None = None,
    indent: int | None = None,
) -> str:
    """Serialise :func:`to_fhir`'s Bundle as FHIR JSON, keeping decimals as written.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.
    values, timezone
        As for :func:`to_fhir`.
    indent
        Indentation of the JSON (``None``: one line).

    Returns
    -------
    str
        The Bundle as JSON. Decimal values keep their digits (``19.0``,
        ``1.10``), which ``Bundle.model_dump_json`` would write as floats.

    Examples
    --------
    >>> import pandas as pd, labinterp
    >>> frame = pd.DataFrame({"source_name": ["Creatinine"], "raw_value": ["1.10"],
    ...                       "raw_unit": ["mg/dL"], "sex": ["female"], "age_years": [50]})
    >>> text = to_fhir_json(labinterp.interpret(frame, profile="us"))
    >>> '"valueQuantity":{"value":1.10,' in text
    True
    """
    bundle = to_fhir(interpreted, values=values, timezone=timezone)
    dumped = bundle.model_dump(mode="json")
    _with_decimals(bundle, dumped)
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        dumped, default=_encode, ensure_ascii=False, indent=indent, separators=separators
    )
    return _DECIMAL_TOKEN.sub(r"\1", text)


def write_fhir(
    interpreted: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    values: Values = "reported",
    timezone: str | None = None,
    indent: int | None = None,
) -> Path:
    """Write an interpreted frame as a FHIR R4 Bundle (JSON) to a file.

    The file is written under a hidden temporary name in the same directory and renamed
    into place when complete, so a reader never sees a partial file.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.
    path
        The file to write.
    values, timezone, indent
        As for :func:`to_fhir_json`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    text = to_fhir_json(interpreted, values=values, timezone=timezone, indent=indent)
    with replaced_when_done(target) as partial:
        partial.write_text(text, encoding="utf-8")
    return target


# -- Bulk Data NDJSON -------------------------------------------------------------------


def _resource_json(resource: BaseModel) -> str:
    """One resource as one line of JSON, decimals as written."""
    dumped = resource.model_dump(mode="json")
    _with_decimals(resource, dumped)
    text = json.dumps(dumped, default=_encode, ensure_ascii=False, separators=(",", ":"))
    return _DECIMAL_TOKEN.sub(r"\1", text)


def _ndjson_lines(
    interpreted: pd.DataFrame, *, values: Values, timezone: str | None, seen: set[str]
) -> Iterator[tuple[str, str]]:
    """Yield ``(resource type, JSON line)``: new Patients first, then the Observations.

    References are relative (``Patient/<id>``, ``Observation/<id>``) as in a Bulk Data
    export; a patient already in ``seen`` (an earlier batch) is not written again.
    """
    zone = _checked(interpreted, values, timezone)
    patients = patient_entries(interpreted)
    subjects = {p.key: Reference(reference=f"Patient/{p.id}") for p in patients}
    for patient in patients:
        if patient.id not in seen:
            seen.add(patient.id)
            yield "Patient", _resource_json(patient.resource)
    frame = _with_offsets(interpreted, zone)
    ids = [str(uuid.uuid4()) for _ in range(len(frame))]
    refs = [f"Observation/{i}" for i in ids]
    # The rows a derived value may come from, from the whole batch (a derived row and its
    # sources can fall in different chunks); then the rows a chunk at a time, so that a
    # batch's memory is one chunk of records, not the batch's.
    keys = frame[[c for c in ("source_row", "status", "analyte") if c in frame.columns]]
    sources = _sources_by_row(_plain(keys), refs)
    for start in range(0, len(frame), _NDJSON_CHUNK):
        chunk = slice(start, start + _NDJSON_CHUNK)
        records = _plain(frame.iloc[chunk])
        resources = _observations(
            records, values=values, subjects=subjects, refs=refs[chunk], sources=sources
        )
        for resource_id, resource in zip(ids[chunk], resources, strict=True):
            resource.id = resource_id
            yield "Observation", _resource_json(resource)


#: Rows turned into Observations at a time when writing NDJSON.
_NDJSON_CHUNK = 2_000


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a frame's rows as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def to_fhir_ndjson(
    interpreted: pd.DataFrame,
    *,
    values: Values = "reported",
    timezone: str | None = None,
) -> str:
    """Serialise an interpreted frame as FHIR NDJSON: one resource per line.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.
    values, timezone
        As for :func:`to_fhir`.

    Returns
    -------
    str
        One Patient per patient, then one Observation per row (in row order), each a
        line of JSON ending in a newline. Every resource has an ``id``; subjects read
        ``Patient/<id>`` and ``derivedFrom`` ``Observation/<id>``, as in a FHIR Bulk Data
        export. :func:`write_fhir_ndjson` writes the same lines, one file per type.

    Examples
    --------
    >>> import json, pandas as pd, labinterp
    >>> frame = pd.DataFrame({"patient_id": ["P1"], "source_name": ["Creatinine"],
    ...                       "raw_value": ["1.10"], "raw_unit": ["mg/dL"],
    ...                       "sex": ["female"], "age_years": [50]})
    >>> lines = to_fhir_ndjson(labinterp.interpret(frame, profile="us")).splitlines()
    >>> [json.loads(line)["resourceType"] for line in lines]
    ['Patient', 'Observation', 'Observation']
    """
    return "".join(
        line + "\n"
        for _, line in _ndjson_lines(interpreted, values=values, timezone=timezone, seen=set())
    )


def write_fhir_ndjson(
    frames: Iterable[pd.DataFrame],
    path: Path,
    *,
    values: Values = "reported",
    timezone: str | None = None,
) -> Path:
    """Write interpreted frames as FHIR Bulk Data NDJSON, one batch at a time.

    Each frame is turned into lines and written before the next is read, so memory stays
    that of one batch (plus the ids of the patients already written).

    Parameters
    ----------
    frames
        Interpreted frames (:func:`labinterp.interpret`), for example the batches of a
        large export.
    path
        A file ending in ``.ndjson`` (or ``.jsonl``): every resource in that one file,
        each Patient before its first Observation. Any other path is a directory: it gets
        ``Patient.ndjson`` and ``Observation.ndjson``, one resource type per file as the
        Bulk Data specification writes its output files.
    values, timezone
        As for :func:`to_fhir`.

    Returns
    -------
    pathlib.Path
        ``path``. Every file is written under a hidden name and renamed when complete.
    """
    target = Path(path)
    seen: set[str] = set()
    if target.suffix.lower() in (".ndjson", ".jsonl"):
        with replaced_when_done(target) as partial, partial.open("w", encoding="utf-8") as out:
            for frame in frames:
                for _, line in _ndjson_lines(frame, values=values, timezone=timezone, seen=seen):
                    out.write(line + "\n")
        return target
    target.mkdir(parents=True, exist_ok=True)
    with (
        replaced_when_done(target / "Patient.ndjson") as patients_partial,
        replaced_when_done(target / "Observation.ndjson") as observations_partial,
        patients_partial.open("w", encoding="utf-8") as patients,
        observations_partial.open("w", encoding="utf-8") as observations,
    ):
        for frame in frames:
            for kind, line in _ndjson_lines(frame, values=values, timezone=timezone, seen=seen):
                (patients if kind == "Patient" else observations).write(line + "\n")
    return target
