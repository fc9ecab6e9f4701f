"""Property tests for every parser: nothing but a LabinterpError ever escapes.

CI runs a modest number of examples. For a long run (the figures in the closing notes):

    LABINTERP_FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import string
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.errors import LabinterpError, LabinterpWarning, UnitError
from labinterp.range_text import parse_range_text
from labinterp.units import normalise_unit
from labinterp.values import parse_value

from .conftest import DATA

EXAMPLES = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

HL7 = sorted(p.read_bytes() for p in (DATA / "hl7").iterdir() if p.suffix in {".hl7", ".txt"})
FHIR = sorted(p.read_bytes() for p in (DATA / "fhir").glob("*.json"))
PIECES = [
    *("0,82", "<5", "≥ 3", "1,234", "hemolysert", "mmol/L", "µmol/l", "Resultat", "Enhet"),
    *("Analyse", "S-Magnesium", "Kjønn", "K", ";", ",", "\t", "\n", "\r\n", '"', "-", " "),
]


@FUZZ
@given(st.one_of(st.text(max_size=20), st.sampled_from(PIECES)))
def test_value_parser_never_raises(text: str) -> None:
    """Any value string parses to a number or a status, never an exception."""
    parsed = parse_value(text)
    assert (parsed.status is None) != bool(np.isnan(parsed.value))


@FUZZ
@given(st.text(max_size=24))
def test_range_parser_never_raises(text: str) -> None:
    """Any range string is read or refused (None), and a read range is ordered."""
    parsed = parse_range_text(text)
    assert parsed is None or parsed.low <= parsed.high


@FUZZ
@given(st.text(max_size=16))
def test_unit_parser_raises_only_unit_errors(text: str) -> None:
    """Any unit string normalises or raises a UnitError."""
    with contextlib.suppress(UnitError):
        normalise_unit(text)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.tuples(
            st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from(["utf-8", "cp1252"])
        ).map(lambda pair: "".join(pair[0]).encode(pair[1], errors="replace")),
    )
)
def test_csv_reader_raises_only_labinterp_errors(data: bytes) -> None:
    """Any bytes read as CSV give a frame (every data line kept) or a LabinterpError."""
    try:
        with warnings.catch_warnings():  # columns not used for interpretation are named
            warnings.simplefilter("ignore", LabinterpWarning)
            frame = labinterp.read_csv(data)
    except LabinterpError:
        return
    if {"analyte", "source_code", "source_name"} & set(frame.columns):
        out = labinterp.interpret(frame)
        assert (out["status"] != "derived").sum() == len(frame)


#: Cell text for the round trip: delimiters, quotes and line breaks inside a cell, and
#: characters that UTF-8 and cp1252 write differently.
CELL = st.text(alphabet='ab1,5;"\t\n\r <µøå', min_size=1, max_size=8).filter(
    lambda t: t == t.strip() and not t.startswith("=")
)


@FUZZ
@given(
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=12),
)
def test_csv_long_export_round_trips(
    sep: str,
    encoding: str,
    newline: str,
    quote_all: bool,
    rows: list[tuple[str, str, str, str]],
) -> None:
    """Every record of a long export comes back once, its cells exactly as written.

    Delimiters, quotes and line breaks inside cells, three encodings, two line endings and
    both quoting styles. The delimiter is given, and so is cp1252 (UTF-8 is detected).
    """
    # Python's writer leaves a lone carriage return unquoted with "\n" line ends, and an
    # unquoted one ends a line (old Mac files): such a file has more records.
    assume(quote_all or newline == "\r\n" or not any("\r" in c for r in rows for c in r))
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline, quoting=quoting)
    writer.writerows([("Pasient", "Analyse", "Resultat", "Enhet"), *rows])
    # A short cp1252 text can also be valid UTF-8 (the bytes of "åµµ" are one CJK
    # character), so it is named.
    named = "cp1252" if encoding == "cp1252" else None
    frame = labinterp.read_csv(buffer.getvalue().encode(encoding), delimiter=sep, encoding=named)
    assert len(frame) == len(rows)
    read = frame[["patient_id", "source_name", "raw_value", "raw_unit"]]
    assert [tuple(r) for r in read.itertuples(index=False)] == rows


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for position, kind, payload in edits:
        if not buffer:
            break
        at = position % len(buffer)
        if kind == 0:
            del buffer[at : at + len(payload) + 1]
        elif kind == 1:
            buffer[at:at] = payload
        elif kind == 2:
            buffer[at : at + 1] = payload
        else:
            del buffer[at:]
    return bytes(buffer)


PUNCTUATION = [bytes([c]) for c in string.punctuation.encode()]
BYTES = [b"|", b"^", b"~", b"\r", b"\n", b"\\", b'"', b"{", b"}", b",", b"\x00", b"\xb5", b""]
EDITS = st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.sampled_from(BYTES)), max_size=5
)


@FUZZ
@given(st.sampled_from(HL7), EDITS)
def test_hl7_reader_on_mutated_real_messages(message: bytes, edits: list) -> None:
    """Mutated real HL7 messages never crash, and no OBX segment is lost.

    Dropped fields, wrong separators and truncation either raise a LabinterpError or
    give a row for every line that starts like an OBX segment.
    """
    mutated = _mutate(message, edits)
    try:
        frame = labinterp.read_hl7(mutated)
    except LabinterpError:
        return
    lines = re.split(rb"\r\n|\r|\n", re.sub(rb"[\x0b\x0c\x1a\x1c]", b"\n", mutated))
    starts = [line.lstrip(b" \t") for line in lines]
    obx = sum(s[:3] == b"OBX" and (len(s) == 3 or s[3:4] in PUNCTUATION) for s in starts)
    assert len(frame) >= obx
    if len(frame):
        out = labinterp.interpret(frame)
        assert (out["status"] != "derived").sum() == len(frame)


@FUZZ
@given(st.sampled_from(FHIR), EDITS)
def test_fhir_reader_on_mutated_real_resources(resource: bytes, edits: list) -> None:
    """Mutated real FHIR resources never crash the reader, and no Observation is lost.

    When the mutated text is still JSON, every Observation in it (the resource itself,
    a Bundle entry or an array element) has a row at its position.
    """
    mutated = _mutate(resource, edits)
    try:
        frame = labinterp.read_fhir(mutated)
    except LabinterpError:
        return
    assert isinstance(frame, pd.DataFrame)
    try:
        document = json.loads(mutated)
    except ValueError:
        return
    rows = set(frame["source_row"]) if "source_row" in frame.columns else set()
    assert _observation_positions(document) <= rows


def _observation_positions(document: object) -> set[int]:
    """Positions of the Observations in a resource, a Bundle or an array of resources."""

    def observation(item: object) -> bool:
        return isinstance(item, dict) and item.get("resourceType") == "Observation"

    if isinstance(document, list):
        return {i for i, item in enumerate(document) if observation(item)}
    if not isinstance(document, dict):
        return set()
    if document.get("resourceType") == "Bundle" and isinstance(document.get("entry"), list):
        entries = document["entry"]
        return {
            i
            for i, entry in enumerate(entries)
            if isinstance(entry, dict) and observation(entry.get("resource"))
        }
    return {0} if observation(document) else set()
