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
import tempfile
import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import stream
from labinterp.errors import LabinterpError, LabinterpWarning, ReadError, UnitError
from labinterp.io.readers.csv_fields import read_fields
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


#: Column tags: every cell of a column starts with its tag, so a field that moved to
#: another column shows.
TAGS = "ABCD"
#: Headers that name nothing but the result column, so the fields are kept as written.
NAMES = ["Resultat", "x1", "x2", "x3"]


def _cell(tag: str) -> st.SearchStrategy[str]:
    """Write a cell of the column tagged ``tag`` as a file holds it.

    Empty; unquoted text with quotes inside (``5'11"``); a quoted field holding
    delimiters, ``""``, line breaks and carriage returns; or a quoted field with text
    after its closing quote (read on, as Python's csv module does).
    """
    plain = st.text(alphabet="ab1 µ'\"", max_size=5).map(lambda t: tag + t)
    quoted = st.text(alphabet="ab1µ'\";,\t|\n\r", max_size=6).map(
        lambda t: '"' + (tag + t).replace('"', '""') + '"'
    )
    after = st.tuples(st.sampled_from("ab"), st.text(alphabet='ab"', max_size=2)).map(
        lambda p: f'"{tag}"{p[0]}{p[1]}'
    )
    return st.one_of(st.just(""), plain, quoted, after)


@st.composite
def _exports(draw: st.DrawFn) -> tuple[bytes, str, int | None]:
    """Generate a long export, its delimiter, and the line of the row it breaks (if any).

    Blank lines and lines of spaces between records and before the header; LF, CRLF or
    CR line ends; a delimiter at the end of every row, of the header, or both. A broken
    file has one row (not the first) with one field more or fewer, or ends in a quoted
    field that is never closed.
    """
    sep = draw(st.sampled_from([";", ",", "\t", "|"]))
    k = draw(st.integers(2, 4))
    rows = draw(st.lists(st.tuples(*(_cell(t) for t in TAGS[:k])), min_size=1, max_size=10))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    trailing = draw(st.sampled_from(["", "rows", "header", "both"]))
    fault = draw(st.sampled_from([None, None, "extra", "fewer", "open"]))
    at = draw(st.integers(1, max(1, len(rows) - 1)))
    if len(rows) < 2 or (fault == "fewer" and k < 3):
        fault = None
    header = sep.join(NAMES[:k]) + sep * (trailing in ("header", "both"))
    lines = [""] * draw(st.integers(0, 2)) + [header]
    bad_line = None
    for n, row in enumerate(rows):
        lines += draw(st.lists(st.sampled_from(["", " "]), max_size=2))
        fields = list(row) + [""] * (trailing in ("rows", "both"))
        if n == at and fault is not None:
            broken = {
                "extra": [*fields, "Z"],
                "fewer": [*row[:-1]] + [""] * (trailing in ("rows", "both")),
                "open": [*row[:-1], f'"{TAGS[k - 1]}open'],
            }
            lines.append(sep.join(broken[fault]))
            bad_line = _line_of(lines, newline)
            if fault == "open":
                break
            continue
        lines.append(sep.join(fields))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"]))), sep, bad_line


def _line_of(lines: list[str], newline: str) -> int:
    """Count the file line where the last of ``lines`` starts (quoted line breaks too)."""
    before = newline.join(lines[:-1]) + newline
    return len(list(io.StringIO(before, newline=""))) + 1


def _read_by_pythons_csv(data: bytes, sep: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Read the header, rows and their start lines as Python's csv module does.

    Blank lines and lines of spaces are no records; a delimiter at the end of every row
    (and of the header) leaves an empty last field, dropped.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=sep)
    records, start = [], 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if row and not (len(row) == 1 and not row[0].strip()):
            records.append((line, row))
    header, rows = records[0][1], [row for _, row in records[1:]]
    if header[-1] == "":
        header = header[:-1]
    rows = [row[: len(header)] for row in rows]
    return header, rows, [line for line, _ in records[1:]]


@FUZZ
@given(_exports(), st.integers(1, 64), st.data())
def test_streamed_and_in_memory_reads_find_the_records_pythons_csv_module_finds(
    export: tuple[bytes, str, int | None], block: int, data: st.DataObject
) -> None:
    """No field moves to another column, no record splits, every batch size agrees.

    The in-memory read (Arrow's reader or the csv module's) gives exactly the fields,
    their order and the start lines Python's csv module reads; the streamed read, in
    batches of any number of lines (1 included) and blocks of 1 to 64 bytes, gives
    exactly the in-memory frame. A broken row is refused by both with the same message
    naming its line.
    """
    content, sep, bad_line = export
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", LabinterpWarning)
        path = os.path.join(folder, "export.csv")
        with open(path, "wb") as handle:
            handle.write(content)
        lines = content.count(b"\n") + content.count(b"\r") + 1
        sizes = [1, data.draw(st.integers(1, lines + 1), label="batch_lines")]
        with mock.patch.object(stream, "_BLOCK_BYTES", block):
            if bad_line is not None:
                with pytest.raises(ReadError) as whole_error:
                    labinterp.read_csv(path, delimiter=sep)
                assert f", line {bad_line}:" in str(whole_error.value)
                for size in sizes:
                    with pytest.raises(ReadError) as streamed_error:
                        list(stream.iter_csv(path, batch_lines=size, delimiter=sep))
                    assert str(streamed_error.value) == str(whole_error.value)
                return
            whole = labinterp.read_csv(path, delimiter=sep)
            for size in sizes:
                batches = [f for f, _ in stream.iter_csv(path, batch_lines=size, delimiter=sep)]
                streamed = pd.concat([b for b in batches if len(b)], ignore_index=True)
                pd.testing.assert_frame_equal(streamed, whole)
    fields = read_fields(content.decode("utf-8-sig"), sep, "<t>")
    header, rows, starts = _read_by_pythons_csv(content, sep)
    assert list(fields.frame.columns) == header == NAMES[: len(header)]
    read = fields.frame.astype(object).where(fields.frame.notna(), "").values.tolist()
    assert read == rows
    assert fields.lines.tolist() == whole["source_row"].tolist() == starts
    for column, tag in zip(header, TAGS, strict=False):
        assert fields.frame[column].dropna().str.startswith(tag).all()
