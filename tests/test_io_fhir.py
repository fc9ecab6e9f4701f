"""FHIR R4 reader (io.readers.fhir) and writer (io.writers.fhir) on public samples."""

from __future__ import annotations

import copy
import io
import json
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.errors import MissingColumnError, ReadError
from labinterp.io.readers.fhir import FHIR_COLUMNS, parse_fhir, read_fhir
from labinterp.io.writers.fhir import to_fhir, to_fhir_json
from labinterp.units import normalise_unit

DATA = Path(__file__).parent / "data" / "fhir"
F204 = "observation-example-f204-creatinine.json"
F205 = "observation-example-f205-egfr.json"
US_CORE = "Observation-serum-creatinine.json"
MAIDA = "Maida_Gerhold_40f86343-0170-40ca-b4ca-21ab9094da93.json"
TOM = "Tom_Goodwin_e20de9eb-6f2d-4871-a43f-bbede53293ed.json"
JENA = "Jena_Terry_5b386eef-1ca3-4f74-85e7-3a5b31602fff.json"
SAMPLES = [F204, F205, US_CORE, MAIDA, TOM, JENA]

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LOINC = "http://loinc.org"

# Rows per code, counted by hand from the JSON: one per Observation with a value, one per
# component for an Observation whose values are only in components (blood pressure panels
# 55284-4 give 8462-4 + 8480-6; f205 eGFR 33914-3 gives 48643-1 + 48642-3).
EXPECTED_CODES: dict[str, dict[str, int]] = {
    F204: {"20005": 1},
    F205: {"48643-1": 1, "48642-3": 1},
    US_CORE: {"2160-0": 1},
    MAIDA: {
        "18262-6": 2, "20565-8": 4, "2069-3": 4, "2085-9": 2, "2093-3": 2, "21000-5": 2,
        "2339-0": 4, "2571-8": 2, "29463-7": 4, "2947-0": 4, "32207-3": 2, "32623-1": 2,
        "33914-3": 4, "38483-4": 4, "39156-5": 4, "4544-3": 2, "4548-4": 4, "49765-1": 4,
        "6298-4": 4, "6299-2": 4, "6690-2": 2, "718-7": 2, "72166-2": 4, "72514-3": 4,
        "777-3": 2, "785-6": 2, "786-4": 2, "787-2": 2, "789-8": 2, "8302-2": 4,
        "8462-4": 4, "8480-6": 4,
    },
    TOM: {
        "10834-0": 1, "1742-6": 1, "1751-7": 1, "18262-6": 3, "1920-8": 1, "1975-2": 1,
        "20565-8": 4, "20570-8": 1, "2069-3": 4, "2085-9": 3, "2093-3": 3, "21000-5": 3,
        "2339-0": 4, "2571-8": 3, "2885-2": 1, "29463-7": 6, "2947-0": 4, "32207-3": 3,
        "32623-1": 3, "33914-3": 1, "38483-4": 4, "39156-5": 6, "4544-3": 2, "4548-4": 4,
        "49765-1": 4, "6298-4": 4, "6299-2": 4, "6690-2": 3, "6768-6": 1, "718-7": 3,
        "72166-2": 6, "72514-3": 6, "777-3": 3, "785-6": 3, "786-4": 3, "787-2": 3,
        "789-8": 3, "8302-2": 6, "8462-4": 6, "8480-6": 6,
    },
    JENA: {
        "10230-1": 2, "10834-0": 7, "1742-6": 7, "1751-7": 7, "18262-6": 9, "1920-8": 7,
        "1975-2": 7, "20565-8": 9, "2069-3": 9, "2085-9": 9, "2093-3": 9, "21000-5": 2,
        "2339-0": 9, "2571-8": 9, "2885-2": 7, "29463-7": 8, "2947-0": 9, "32207-3": 2,
        "32623-1": 2, "33762-6": 1, "33914-3": 15, "38483-4": 9, "39156-5": 8, "4544-3": 2,
        "49765-1": 9, "6298-4": 9, "6299-2": 9, "6690-2": 2, "6768-6": 7, "718-7": 2,
        "72166-2": 8, "72514-3": 8, "777-3": 2, "785-6": 2, "786-4": 2, "787-2": 2,
        "789-8": 2, "8302-2": 8, "8331-1": 1, "8462-4": 8, "8480-6": 8,
    },
}  # fmt: skip


@cache
def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_text(name))
    return loaded


@cache
def _parsed(name: str) -> pd.DataFrame:
    return read_fhir(DATA / name)


def _read(name: str) -> pd.DataFrame:
    return _parsed(name).copy()


def _bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": r} for r in resources],
    }


def _observations(bundle: Bundle) -> list[Observation]:
    return [e.resource for e in bundle.entry or [] if isinstance(e.resource, Observation)]


# -- reader: rows and values --------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_rows_per_code(name: str) -> None:
    """Each sample gives exactly the hand-counted number of rows per code."""
    frame = _read(name)
    assert dict(Counter(frame["source_code"])) == EXPECTED_CODES[name]
    assert frame["read_problem"].isna().all()


def test_columns_are_stable() -> None:
    """The frame has the documented columns in order, then age_years."""
    at = FHIR_COLUMNS.index("collected_at") + 1
    expected = [*FHIR_COLUMNS[:at], "collected_at_offset", *FHIR_COLUMNS[at:], "age_years"]
    assert list(_read(F204).columns) == expected


def test_f204_local_code_passes_through() -> None:
    """A local-code-only Observation keeps its code, display and SNOMED-coded unit text."""
    row = _read(F204).iloc[0]
    assert row["source_row"] == 0
    assert row["source_code"] == "20005"
    assert row["source_code_system"] == "https://intranet.aumc.nl/labtestcodes"
    assert row["source_name"] == "Creatinine(Serum)"
    assert row["raw_value"] == "122"
    assert row["raw_unit"] == "umol/L"
    assert row["unit_system"] == "http://snomed.info/sct"
    assert row["lab_reference_text"] == "64 - 104"
    assert row["lab_flag"] == "H"
    assert row["patient_id"] == "Patient/f201"
    assert row["observation_id"] == "f204"
    assert pd.isna(row["collected_at"])
    assert row["sex"] is None


def test_f204_is_identified_by_name() -> None:
    """The name lookup identifies the local-code creatinine and uses the lab range."""
    out = labinterp.interpret(_read(F204), profile="no", derive=False)
    assert out.loc[0, "analyte"] == "creatinine"
    assert out.loc[0, "status"] == "ok"
    assert (out.loc[0, "reference_low"], out.loc[0, "reference_high"]) == (64.0, 104.0)
    assert out.loc[0, "flag"] == "H"


def test_f205_components() -> None:
    """f205 gives one row per component with comparator, UCUM unit, range, age and appliesTo."""
    frame = _read(F205)
    assert frame["source_code"].tolist() == ["48643-1", "48642-3"]
    assert frame["source_code_system"].tolist() == ["LN", "LN"]
    assert frame["raw_value"].tolist() == [">60", "60"]
    assert frame["raw_unit"].tolist() == ["mL/min/{1.73_m2}", "mL/min/{1.73_m2}"]
    assert frame["lab_reference_text"].tolist() == [">= 60", ">= 60"]
    assert frame["reference_age"].tolist() == [">= 18 a", ">= 18 a"]
    assert frame["reference_applies_to"].tolist() == ["non-black/african-american", None]
    assert frame["source_row"].tolist() == [0, 0]
    assert frame["component_index"].tolist() == [0, 1]
    assert frame["component_of"].tolist() == [0, 0]
    assert frame["lab_flag"].isna().all()


def test_us_core_creatinine() -> None:
    """US Core 2160-0 keeps "1.0" mg/dL (unit text, no code), range 0.2 - 0.6 and the date."""
    row = _read(US_CORE).iloc[0]
    assert row["source_code"] == "2160-0"
    assert row["source_name"] == "Creat SerPl-mCnc"
    assert row["raw_value"] == "1.0"
    assert row["raw_unit"] == "mg/dL"
    assert row["lab_reference_text"] == "0.2 - 0.6"
    assert row["lab_flag"] is None
    assert row["collected_at"] == pd.Timestamp("2005-07-05")


def test_synthea_same_timestamp_creatinine_both_kept() -> None:
    """Tom Goodwin's two different creatinine values at one timestamp are both rows."""
    frame = _read(TOM)
    rows = frame[
        (frame["source_code"] == "38483-4")
        & (frame["collected_at"] == pd.Timestamp("2020-05-12 23:55:41"))
    ]
    assert rows["raw_value"].tolist() == ["1.0606523555763823", "3.416782423247231"]
    assert rows["source_row"].tolist() == [139, 163]
    assert rows["raw_unit"].tolist() == ["mg/dL", "mg/dL"]


def test_synthea_zero_width_space_stripped() -> None:
    """Jena Terry's display with U+200B reads as the plain name; no name keeps one."""
    frame = _read(JENA)
    assert not frame["source_name"].str.contains("\u200b").any()
    egfr = frame[frame["source_code"] == "33914-3"]
    assert dict(Counter(egfr["source_name"])) == {
        "Estimated Glomerular Filtration Rate": 8,
        "Glomerular filtration rate/1.73 sq M.predicted": 7,
    }
    row = frame[frame["source_row"] == 402].iloc[0]
    assert row["source_name"] == "Glomerular filtration rate/1.73 sq M.predicted"
    assert (row["raw_value"], row["raw_unit"]) == ("28.251004251807487", "mL/min")


def test_synthea_duplicate_creatinine_rows_kept() -> None:
    """Jena Terry's nine creatinine Observations, duplicates included, are nine rows."""
    frame = _read(JENA)
    assert (frame["source_code"] == "38483-4").sum() == 9


def test_patient_context_from_bundle() -> None:
    """Sex and birth date come from the Bundle's Patient, matched by its urn:uuid fullUrl."""
    frame = _read(MAIDA)
    assert set(frame["patient_id"]) == {"urn:uuid:3552e945-2598-4993-b617-4133ab2ed914"}
    assert set(frame["sex"]) == {"female"}
    assert set(frame["birth_date"]) == {pd.Timestamp("1985-11-08")}
    first = frame[frame["source_code"] == "4548-4"].iloc[0]
    assert first["collected_at"] == pd.Timestamp("2011-06-24 15:26:27")
    expected_age = (pd.Timestamp("2011-06-24 15:26:27") - pd.Timestamp("1985-11-08")).days
    assert first["age_years"] == pytest.approx(expected_age / 365.2425)


def test_patient_matched_by_relative_reference() -> None:
    """A subject "Patient/f201" is matched to a Patient resource with id f201."""
    patient = {"resourceType": "Patient", "id": "f201", "gender": "male"}
    frame = parse_fhir(_bundle(_json(F204), patient))
    assert frame.loc[0, "sex"] == "male"


@pytest.mark.parametrize(
    ("written", "expected"),
    [("19.0", "19.0"), ("1.10", "1.10"), ("122", "122"), ("1e2", "100"), ("0.000012", "0.000012")],
)
def test_decimal_precision_kept(written: str, expected: str) -> None:
    """raw_value keeps the digits written in the JSON text."""
    text = _text(US_CORE).replace('"value": 1.0', f'"value": {written}', 1)
    assert parse_fhir(text).loc[0, "raw_value"] == expected


def test_value_string_and_codeable_concept() -> None:
    """A valueString is taken as written and a valueCodeableConcept by its text."""
    base = _json(US_CORE)
    del base["valueQuantity"]
    as_string = dict(base, valueString="<0.1")
    as_concept = dict(base, valueCodeableConcept={"text": "Hemolysed"})
    frame = parse_fhir([as_string, as_concept])
    assert frame["raw_value"].tolist() == ["<0.1", "Hemolysed"]
    assert frame["value_type"].tolist() == ["String", "CodeableConcept"]
    assert frame["raw_unit"].isna().all()


@pytest.mark.parametrize("kind", ["collection", "transaction", "searchset", "batch"])
def test_bundle_types(kind: str) -> None:
    """Bundles of every type give one row per value, source_row = entry index."""
    frame = parse_fhir(json.dumps(_bundle(_json(F204), _json(F205), kind=kind)))
    assert frame["source_code"].tolist() == ["20005", "48643-1", "48642-3"]
    assert frame["source_row"].tolist() == [0, 1, 1]


def test_non_observation_resources_skipped() -> None:
    """A Bundle without Observations gives an empty frame with the standard columns."""
    frame = parse_fhir(_bundle({"resourceType": "Patient", "id": "p1", "gender": "female"}))
    assert len(frame) == 0
    at = FHIR_COLUMNS.index("collected_at") + 1
    expected = [*FHIR_COLUMNS[:at], "collected_at_offset", *FHIR_COLUMNS[at:], "age_years"]
    assert list(frame.columns) == expected


def test_ndjson_bulk_export() -> None:
    """NDJSON gives rows per line; source_row is the 0-based line; Patients match by id."""
    patient = {"resourceType": "Patient", "id": "f201", "gender": "male"}
    lines = [json.dumps(r) for r in (_json(F204), _json(F205), _json(US_CORE), patient)]
    frame = parse_fhir("\n".join(lines) + "\n")
    assert frame["source_code"].tolist() == ["20005", "48643-1", "48642-3", "2160-0"]
    assert frame["source_row"].tolist() == [0, 1, 1, 2]
    assert frame["sex"].tolist() == ["male", "male", "male", None]
    assert frame["raw_value"].tolist() == ["122", ">60", "60", "1.0"]


def test_ndjson_blank_lines_keep_line_positions() -> None:
    """Blank NDJSON lines are skipped but still counted in source_row."""
    text = json.dumps(_json(F204)) + "\n\n" + json.dumps(_json(US_CORE)) + "\n"
    assert parse_fhir(text.encode()).loc[:, "source_row"].tolist() == [0, 2]


def test_ndjson_crlf_and_line_separator_inside_strings() -> None:
    """CRLF line ends are accepted and U+2028 inside a JSON string does not split a line."""
    resource = dict(_json(US_CORE), valueString="a\u2028b")
    del resource["valueQuantity"]
    line = json.dumps(resource, ensure_ascii=False)
    frame = parse_fhir(f"{line}\r\n{line}\r\n")
    assert frame["raw_value"].tolist() == ["a\u2028b", "a\u2028b"]
    assert frame["source_row"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2013-04-04T14:34:00+01:00", pd.Timestamp("2013-04-04 14:34:00")),
        ("2013-04-04T14:34:00.459-05:00", pd.Timestamp("2013-04-04 14:34:00.459")),
        ("2013-04-04T14:34:00Z", pd.Timestamp("2013-04-04 14:34:00")),
        ("2005-07-05", pd.Timestamp("2005-07-05")),
    ],
)
def test_collection_time_keeps_wall_clock(written: str, expected: pd.Timestamp) -> None:
    """An effectiveDateTime keeps the wall-clock time as written (its offset beside it)."""
    resource = dict(_json(US_CORE), effectiveDateTime=written)
    assert parse_fhir(resource).loc[0, "collected_at"] == expected


def test_partial_dates_not_used() -> None:
    """A year-month collection date and birth date are left empty with a read_problem."""
    resource = dict(_json(US_CORE), effectiveDateTime="2005-07")
    patient = {"resourceType": "Patient", "id": "example", "birthDate": "1980-02"}
    row = parse_fhir([resource, patient]).iloc[0]
    assert pd.isna(row["collected_at"]) and pd.isna(row["birth_date"])
    assert row["read_problem"] == (
        "birth_date is a partial date (year, or year and month); it was not used. "
        "collected_at is a partial date (year, or year and month); it was not used."
    )
    assert row["raw_value"] == "1.0"


def test_invalid_observation_gives_problem_row() -> None:
    """An Observation failing validation gives a row naming entry and field, with no values."""
    broken = copy.deepcopy(_json(US_CORE))
    broken["valueQuantity"]["value"] = "abc123"
    frame = parse_fhir(_bundle(broken, _json(F204)))
    assert frame["source_row"].tolist() == [0, 1]
    problem = frame.loc[0, "read_problem"]
    assert "entry 0" in problem
    assert "valueQuantity.value" in problem
    assert "abc123" not in problem
    assert frame.loc[0, ["raw_value", "raw_unit", "source_code"]].isna().all()
    assert frame.loc[1, "raw_value"] == "122"
    assert frame.loc[1, "read_problem"] is None


def test_read_fhir_accepts_path_buffer_and_bytes() -> None:
    """read_fhir reads a path, a binary buffer and bytes alike."""
    data = (DATA / US_CORE).read_bytes()
    for source in (DATA / US_CORE, str(DATA / US_CORE), io.BytesIO(data), data):
        assert read_fhir(source).loc[0, "raw_value"] == "1.0"


# -- reader: errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"", "x.json: the file is empty"),
        (b" \n\t\n", "x.json: the file is empty"),
        (b'{"resourceType": "Observation", "status": "fin', "x.json, line 1, column 43"),
        (b'{\n  "resourceType": "Bundle",\n  "entry": [\n', "x.json, line 4, column 1"),
        (b'{"foo": 1}', "x.json, line 1: JSON without a resourceType"),
        (b"42", "x.json, line 1: JSON without a resourceType"),
        (b'{"resourceType": 5}', "x.json, line 1: JSON without a resourceType"),
        (b'[{"resourceType": "Observation"}, {"id": 1}]', "x.json, item 1"),
        (b'{"resourceType": "Bundle", "entry": {"a": 1}}', "x.json: the Bundle's entry"),
        (b'{"resourceType": "Observation", "id": "caf\xe9"}', "x.json, byte 42: not valid UTF-8"),
        (b"[" * 100_000, "x.json: the JSON is nested too deeply"),
        (
            b'{"resourceType": "Patient"}\n{"resourceType": "Patient"}\n{"resourceType": "Obs',
            "x.json, line 3, column 18",
        ),
        (b'{"resourceType": "Patient"}\n{"id": "1"}\n', "x.json, line 2: not a FHIR resource"),
    ],
)
def test_unreadable_input_raises_read_error(data: bytes, where: str) -> None:
    """Input that cannot be read at all raises ReadError naming the source and position."""
    with pytest.raises(ReadError) as info:
        parse_fhir(data, name="x.json")
    assert str(info.value).startswith(where)


def test_truncated_sample_names_line_and_column() -> None:
    """A sample cut in the middle raises ReadError with the line and column of the end."""
    text = _text(F205)[:3000]
    last_line = text.count("\n") + 1
    with pytest.raises(ReadError, match=rf"^f205\.json, line {last_line}, column \d+: not valid"):
        parse_fhir(text, name="f205.json")


@pytest.mark.parametrize("data", [42, None, 1.5, object()])
def test_wrong_input_type_raises_read_error(data: Any) -> None:
    """Anything but text, bytes, a dict or a list raises ReadError, not TypeError."""
    with pytest.raises(ReadError, match="parse_fhir\\(\\) takes JSON text"):
        parse_fhir(data)


def test_missing_file_raises_read_error(tmp_path: Path) -> None:
    """A path that does not exist raises ReadError naming it."""
    missing = tmp_path / "nope.json"
    with pytest.raises(ReadError, match=r"nope\.json: cannot be opened"):
        read_fhir(missing)


def test_error_messages_carry_no_values_or_identifiers() -> None:
    """ReadError messages name positions, never the patient or the result value."""
    line = '{"resourceType": "Observation", "subject": {"reference": "Patient/secret-77"}, '
    line += '"valueQuantity": {"value": 987.654'
    text = json.dumps(_json(F204)) + "\n" + line + "\n"
    with pytest.raises(ReadError) as info:
        parse_fhir(text, name="bulk.ndjson")
    message = str(info.value)
    assert message.startswith("bulk.ndjson, line 2, column ")
    assert "987.654" not in message
    assert "secret-77" not in message


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len((DATA / F205).read_bytes())))
def test_any_prefix_reads_or_raises_read_error(cut: int) -> None:
    """Every prefix of a sample either reads or raises ReadError, nothing else."""
    data = (DATA / F205).read_bytes()[:cut]
    try:
        frame = parse_fhir(data)
    except ReadError:
        return
    assert cut == len(data) and len(frame) == 2


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(
        [
            "valueQuantity",
            "code",
            "subject",
            "component",
            "referenceRange",
            "interpretation",
            "effectiveDateTime",
            "status",
            "resourceType",
            "id",
        ]
    ),
    value=_JSON,
)
def test_damaged_observation_never_raises_other_errors(field: str, value: object) -> None:
    """Replacing any element with arbitrary JSON gives rows or a ReadError, nothing else."""
    resource = _json(F205)
    resource[field] = value
    bundle = _bundle(resource, _json(F204))
    try:
        frame = parse_fhir(json.dumps(bundle))
    except ReadError:
        return
    assert frame["source_code"].iloc[-1] == "20005"
    damaged_type = field == "resourceType" and value != "Observation"
    # An entry whose resource is no longer an Observation gives no row; any other gives one.
    assert (0 in frame["source_row"].tolist()) is not damaged_type


# -- writer ---------------------------------------------------------------------------


def _lab_frame(rows: list[tuple[str, str, str]], **context: Any) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["source_name", "raw_value", "raw_unit"])
    frame["sex"] = context.get("sex", "female")
    frame["age_years"] = context.get("age_years", 50)
    frame["collected_at"] = context.get("collected_at", "2024-03-01 08:15")
    return frame


@pytest.mark.parametrize(
    ("name", "value", "unit", "code"),
    [
        ("S-Magnesium", "0.82", "mmol/L", "2601-3"),
        ("Magnesium", "2.0", "mg/dL", "19123-9"),
        ("P-Kreatinin", "88", "µmol/L", "14682-9"),
        ("Creatinine", "1.0", "mg/dL", "2160-0"),
        ("HbA1c", "48", "mmol/mol", "59261-8"),
        ("HbA1c", "6.5", "%", "4548-4"),
        ("Ferritin", "12", "ug/L", "2276-4"),
    ],
)
def test_loinc_code_matches_the_unit(name: str, value: str, unit: str, code: str) -> None:
    """The catalogue LOINC code written is the one for the reported unit."""
    out = labinterp.interpret(_lab_frame([(name, value, unit)]), profile="no", derive=False)
    assert out.loc[0, "status"] == "ok"
    observation = _observations(to_fhir(out))[0]
    first = (observation.code.coding or [])[0]
    assert (first.system, first.code) == (LOINC, code)
    assert observation.code.text == name


def test_local_code_kept_beside_chosen_loinc() -> None:
    """f204's local coding stays as the second coding after the chosen LOINC 14682-9."""
    observation = _observations(
        to_fhir(labinterp.interpret(_read(F204), profile="no", derive=False))
    )[0]
    codings = [(c.system, c.code) for c in observation.code.coding or []]
    assert codings == [(LOINC, "14682-9"), ("https://intranet.aumc.nl/labtestcodes", "20005")]


def test_source_loinc_of_another_specimen_is_kept() -> None:
    """Synthea's whole-blood creatinine 38483-4 is not replaced by a serum code."""
    out = labinterp.interpret(_read(TOM), profile="us", derive=False)
    rows = out.index[(out["source_code"] == "38483-4") & (out["status"] == "ok")]
    observations = _observations(to_fhir(out))
    codes = {(observations[i].code.coding or [])[0].code for i in rows}
    assert codes == {"38483-4"}


@pytest.mark.parametrize(
    ("name", "value", "unit", "ucum"),
    [
        ("Creatinine", "70", "µmol/L", "umol/L"),
        ("eGFR", "70", "mL/min/1.73m2", "mL/min/{1.73_m2}"),
        ("HbA1c", "6.1", "%", "%"),
        ("Creatinine", "0.8", "mg/dL", "mg/dL"),
    ],
)
def test_ucum_codes(name: str, value: str, unit: str, ucum: str) -> None:
    """The valueQuantity carries the UCUM code of the reported unit."""
    out = labinterp.interpret(_lab_frame([(name, value, unit)]), profile="no", derive=False)
    quantity = _observations(to_fhir(out))[0].valueQuantity
    assert quantity is not None
    assert (quantity.system, quantity.code) == ("http://unitsofmeasure.org", ucum)


def test_json_keeps_decimal_digits_and_comparator() -> None:
    """to_fhir_json writes 19.0 as 19.0 and 1.10 as 1.10, and the comparator apart."""
    frame = _lab_frame(
        [
            ("eGFR", "19.0", "mL/min/1.73m2"),
            ("eGFR", ">90", "mL/min/1.73m2"),
            ("Creatinine", "1.10", "mg/dL"),
        ]
    )
    text = to_fhir_json(labinterp.interpret(frame, profile="us", derive=False))
    resources = [e["resource"] for e in json.loads(text, parse_float=Decimal)["entry"]]
    quantities = [r["valueQuantity"] for r in resources if r["resourceType"] == "Observation"]
    assert [str(q["value"]) for q in quantities] == ["19.0", "90", "1.10"]
    assert [q.get("comparator") for q in quantities] == [None, ">", None]
    assert '"value":19.0,' in text
    assert '"value":1.10,' in text


def test_interpretation_range_note_time_and_patient() -> None:
    """US Core creatinine exports flag H (v3), range 0.2-0.6, note, date and subject."""
    out = labinterp.interpret(_read(US_CORE), profile="us", derive=False)
    bundle = to_fhir(out)
    observation = _observations(bundle)[0]
    coding = (observation.interpretation or [])[0].coding or []
    assert [(c.system, c.code, c.display) for c in coding] == [(V3, "H", "High")]
    reference_range = (observation.referenceRange or [])[0]
    assert reference_range.low is not None and reference_range.high is not None
    assert (reference_range.low.value, reference_range.high.value) == (
        Decimal("0.2"),
        Decimal("0.6"),
    )
    assert reference_range.low.code == "mg/dL"
    notes = [n.text for n in observation.note or []]
    assert notes[0] == out.loc[0, "explanation"]
    assert str(observation.effectiveDateTime) == "2005-07-05"
    assert observation.subject is not None
    # The subject is the fullUrl of the Patient entry whose id is the source's "example".
    patient = next(e for e in bundle.entry or [] if e.fullUrl == observation.subject.reference)
    assert patient.resource.get_resource_type() == "Patient"
    assert patient.resource.id == "example"
    assert observation.status == "final"


def test_infinite_range_limit_skipped() -> None:
    """f205's '>= 60' range is written with a low limit and no high limit."""
    out = labinterp.interpret(_read(F205), profile="us", derive=False)
    # Its eGFR "among blacks" (48643-1) has a race coefficient: race_adjusted, not
    # interpreted, so written without a range; the race-free one (48642-3) carries it.
    assert out["status"].tolist() == ["race_adjusted", "ok"]
    for observation in _observations(to_fhir(out))[1:]:
        reference_range = (observation.referenceRange or [])[0]
        assert reference_range.low is not None
        assert reference_range.low.value == Decimal("60")
        assert reference_range.high is None


def test_effective_time_gets_zone() -> None:
    """A naive collection time is read in the profile's zone and written with its offset.

    Under a profile without a zone the time stays floating: to_fhir writes it in the zone it
    is given, or else the date alone with a note giving the local time.
    """
    frame = _lab_frame([("Ferritin", "40", "ug/L")])
    oslo = _observations(to_fhir(labinterp.interpret(frame, profile="no", derive=False)))[0]
    assert str(oslo.effectiveDateTime) == "2024-03-01 08:15:00+01:00"
    out = labinterp.interpret(frame, profile="us", derive=False)
    chicago = _observations(to_fhir(out, timezone="America/Chicago"))[0]
    assert str(chicago.effectiveDateTime) == "2024-03-01 08:15:00-06:00"
    floating = _observations(to_fhir(out))[0]
    assert str(floating.effectiveDateTime) == "2024-03-01"
    assert any("08:15:00 local time" in str(n.text) for n in floating.note or [])


def test_corrected_status() -> None:
    """A row whose corrected column is True is written with status corrected."""
    out = labinterp.interpret(
        _lab_frame([("Ferritin", "40", "ug/L")] * 2), profile="no", derive=False
    )
    out["corrected"] = [True, False]
    assert [o.status for o in _observations(to_fhir(out))] == ["corrected", "final"]


def test_uninterpreted_row_written_as_string_with_problem() -> None:
    """Tom Goodwin's eGFR in mL/min (incompatible unit) is a valueString with the problem."""
    out = labinterp.interpret(_read(TOM), profile="us", derive=False)
    index = out.index[out["source_row"] == 169][0]
    assert out.loc[index, "status"] == "incompatible_unit"
    observation = _observations(to_fhir(out))[index]
    assert observation.valueString == "72.82881062364004"
    assert observation.valueQuantity is None
    assert observation.interpretation is None
    assert observation.referenceRange is None
    notes = [n.text for n in observation.note or []]
    assert notes == [out.loc[index, "problem"], "Unit as sent: mL/min"]


def test_patient_resource_written() -> None:
    """Sex and birth date go into one Patient whose fullUrl the subjects reference."""
    out = labinterp.interpret(_read(MAIDA), profile="us", derive=False)
    bundle = to_fhir(out)
    assert bundle.type == "collection"
    patients = [e for e in bundle.entry or [] if e.resource.get_resource_type() == "Patient"]
    assert len(patients) == 1
    assert patients[0].fullUrl == "urn:uuid:3552e945-2598-4993-b617-4133ab2ed914"
    assert patients[0].resource.gender == "female"
    assert str(patients[0].resource.birthDate) == "1985-11-08"


def test_canonical_values() -> None:
    """values='canonical' writes f204's 122 µmol/L in mg/dL, range converted likewise.

    122 µmol/L x 113.12 g/mol (the catalogue's molar mass) = 1.380064 mg/dL, written at
    creatinine's reporting precision in mg/dL (two decimals: 1.38); the lab's
    64 - 104 µmol/L is 0.723968 - 1.176448 mg/dL; six significant digits are written.
    """
    out = labinterp.interpret(_read(F204), profile="us", derive=False)
    observation = _observations(to_fhir(out, values="canonical"))[0]
    assert observation.valueQuantity is not None
    assert (observation.valueQuantity.value, observation.valueQuantity.code) == (
        Decimal("1.38"),
        "mg/dL",
    )
    reference_range = (observation.referenceRange or [])[0]
    assert reference_range.low is not None and reference_range.high is not None
    assert (reference_range.low.value, reference_range.high.value) == (
        Decimal("0.723968"),
        Decimal("1.17645"),
    )


def test_writer_needs_an_interpreted_frame() -> None:
    """A frame without status raises MissingColumnError."""
    with pytest.raises(MissingColumnError):
        to_fhir(pd.DataFrame({"raw_value": ["1"]}))


def test_json_is_valid_fhir() -> None:
    """The JSON validates as an R4B Bundle of Observations and a Patient."""
    out = labinterp.interpret(_read(JENA), profile="us", derive=False)
    bundle = Bundle.model_validate_json(to_fhir_json(out))
    kinds = Counter(e.resource.get_resource_type() for e in bundle.entry or [])
    assert kinds == {"Observation": len(out), "Patient": 1}


# -- round trip -----------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_round_trip(name: str) -> None:
    """parse_fhir(to_fhir_json(interpret(parse_fhir(sample)))) keeps values, units and flags.

    What round-trips, row by row (entry i of the Bundle is row i of the interpreted
    frame): for interpreted rows (status ok), ``raw_value`` equals the interpreted
    frame's ``raw_value`` (comparator and digits as written), ``raw_unit`` normalises
    to its ``unit``, and ``lab_flag`` equals its ``flag``; re-interpreting gives the
    same flags. For other rows, ``raw_value`` is the raw value as sent, with no unit
    and no flag. The name, sex and birth date survive for every row.
    """
    interpreted = labinterp.interpret(_read(name), profile="us", derive=False)
    back = parse_fhir(to_fhir_json(interpreted))
    assert len(back) == len(interpreted)
    assert back["source_row"].tolist() == list(range(len(interpreted)))
    assert back["source_name"].tolist() == interpreted["source_name"].tolist()
    # The interpreted sex is a categorical (missing: NaN); the reader gives None.
    assert (
        back["sex"].tolist()
        == interpreted["sex"].astype(object).where(interpreted["sex"].notna(), None).tolist()
    )
    assert back["birth_date"].equals(interpreted["birth_date"])
    ok = (interpreted["status"] == "ok").to_numpy()
    assert ok.any()
    for i in range(len(interpreted)):
        before, after = interpreted.iloc[i], back.iloc[i]
        if ok[i]:
            assert after["raw_value"] == before["raw_value"]
            assert normalise_unit(after["raw_unit"]).display == before["unit"]
            assert after["lab_flag"] == (None if pd.isna(before["flag"]) else before["flag"])
        else:
            assert after["raw_value"] == before["raw_value"]
            assert after["raw_unit"] is None
            assert after["lab_flag"] is None
    again = labinterp.interpret(back, profile="us", derive=False)
    assert again.loc[ok, "flag"].tolist() == interpreted.loc[ok, "flag"].tolist()
    assert again.loc[ok, "value"].tolist() == interpreted.loc[ok, "value"].tolist()
