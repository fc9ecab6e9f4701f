"""Hostile sizes cost little: exponents, long integers and wrapped HL7 lines.

No test times anything: each uses a size that would take minutes (quadratic work) or
gigabytes (an expanded exponent) if the reader did what it must not, and asserts the
result, with memory measured by tracemalloc against a generous bound.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

import labinterp
from labinterp.errors import ReadError
from labinterp.io.readers.fhir import parse_fhir
from labinterp.io.readers.hl7 import parse_hl7

MSH = "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101083000||ORU^R01|1|P|2.5"


def observation(value: str, field: str = "valueQuantity") -> str:
    """One ferritin Observation whose value is the JSON literal ``value``."""
    if field == "valueQuantity":
        body = f'"valueQuantity":{{"value":{value},"unit":"ug/L","code":"ug/L"}}'
    else:
        body = f'"{field}":{value}'
    return (
        '{"resourceType":"Observation","status":"final",'
        '"code":{"coding":[{"system":"http://loinc.org","code":"2276-4"}]},' + body + "}"
    )


def test_fhir_exponent_is_not_expanded() -> None:
    """1e100000000 (a 100 MB number if written out) stays as written and is refused."""
    tracemalloc.start()
    try:
        frame = parse_fhir("\n".join([observation("1e100000000")] * 20))  # NDJSON, 20 lines
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # expanded: 20 x 100 MB
    assert frame["raw_value"].tolist() == ["1E+100000000"] * 20
    out = labinterp.interpret(frame)
    assert set(out["status"]) == {"implausible_value"}


@pytest.mark.parametrize(
    ("literal", "raw"),
    [("1E+2", "100"), ("1.5e-7", "0.00000015"), ("1E+400", "1E+400"), ("-2.5E-400", "-2.5E-400")],
)
def test_fhir_exponents_expand_only_within_a_bound(literal: str, raw: str) -> None:
    """Short positional forms are written out as before; long ones keep the exponent."""
    assert parse_fhir(observation(literal)).loc[0, "raw_value"] == raw


def test_fhir_reference_range_exponent_is_not_expanded() -> None:
    """A reference range bound with a huge exponent is kept as written too."""
    resource = json.loads(observation("30"))
    resource["referenceRange"] = [{"low": {"value": 15}, "high": {"value": 1}}]
    text = json.dumps(resource).replace('"high": {"value": 1}', '"high": {"value": 1e99999999}')
    frame = parse_fhir(text)
    assert frame.loc[0, "lab_reference_text"] == "15 - 1E+99999999"


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (observation("9" * 4301, "valueInteger"), "<json>, entry 0: the integer in valueInteger"),
        (
            '{"resourceType":"Bundle","type":"collection","entry":[{"resource":'
            + observation("7")
            + '},{"resource":'
            + observation("-" + "9" * 5000)
            + "}]}",
            "<json>, entry 1: the integer in valueQuantity.value has 5000 digits",
        ),
        (
            observation("5") + "\n" + observation("8" * 100_000, "valueInteger"),
            "<json>, line 2: the integer in valueInteger has 100000 digits",
        ),
        ("[" + observation("9" * 4301, "valueInteger") + "]", "<json>, item 0: the integer in"),
    ],
)
def test_integers_too_long_to_convert_are_a_read_error(document: str, where: str) -> None:
    """A JSON integer beyond Python's int max str digits names its entry and field only."""
    with pytest.raises(ReadError) as info:
        parse_fhir(document)
    assert str(info.value).startswith(where)
    assert "999" not in str(info.value) and "888" not in str(info.value)
    assert info.value.field is not None and "value" in info.value.field


def test_long_integer_through_read_is_a_read_error() -> None:
    """labinterp.read raises ReadError (no bare ValueError) for the same input as bytes."""
    with pytest.raises(ReadError, match="entry 0"):
        labinterp.read(observation("9" * 4301, "valueInteger").encode())


def test_integer_at_the_limit_is_read_and_refused_as_a_value() -> None:
    """4,300 digits convert: the value is read as written and is not a plausible ferritin."""
    frame = parse_fhir(observation("9" * 4300))
    assert frame.loc[0, "raw_value"] == "9" * 4300
    assert labinterp.interpret(frame).loc[0, "status"] == "implausible_value"


def test_hl7_continuation_lines_join_in_linear_time() -> None:
    """500,000 wrapped lines of one OBX (minutes if joined line by line) give one row."""
    lines = 500_000
    text = "\r".join(
        [MSH, "OBX|1|FT|2276-4^Ferritin^LN||first line", *(f"line {i}" for i in range(lines))]
    )
    frame = parse_hl7(text)
    assert len(frame) == 1
    value = frame.loc[0, "raw_value"]
    assert value.count("\n") == lines
    assert value.startswith("first line\nline 0\n") and value.endswith(f"line {lines - 1}")
