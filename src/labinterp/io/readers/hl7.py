r"""Read HL7 v2 result messages (ORU^R01 and relatives) into the results frame.

Every OBX segment becomes one row, even when parts of it cannot be read: the
row then has what is known and empty cells elsewhere. Values, units, ranges,
flags and context are kept as text exactly as written, after HL7 escape
decoding; parsing them is left to :func:`labinterp.interpret`.

Fields, repetitions and components are split, and escape sequences decoded, by
python-hl7 (the ``hl7`` package) with each message's own encoding characters
(MSH-1, MSH-2). This module adds what python-hl7 leaves to its caller:

- bytes: UTF-8 (with or without BOM), else cp1252 line by line, or UTF-16 with a BOM;
- MLLP framing bytes (0x0B, 0x1C) and CR, LF, CRLF or mixed segment ends;
- several messages per input (each starts at MSH; blank lines between them are
  ignored) and batch envelopes (FHS, BHS, BTS, FTS), which are skipped;
- a line that does not start with a segment ID continues the previous segment
  (a line break inside a field, e.g. wrapped FT text), joined with ``\n``;
- segments before the first MSH are read with HL7's default separators, so no OBX
  is lost;
- escape sequences are handed to python-hl7 one at a time: an escape character
  with no closing partner, a sequence python-hl7 rejects and one it does not know
  (``\Zxx\``) are kept as written, where python-hl7 would drop them (or the rest
  of the field); highlighting (``\H\``, ``\N\``) is dropped instead of becoming
  ``_``, and ``\.br\`` becomes ``\n``; the sequences python-hl7 only logs (the
  empty one, kept, and the character-set switches ``\C..\``, ``\M..\``, dropped) are
  decided here, so the result does not depend on the warning filters;
- python-hl7 logs field contents when an escape sequence is malformed; those
  records are dropped while this module reads, so no result value reaches a log.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import hl7
import pandas as pd

from labinterp.errors import ReadError
from labinterp.io.readers.source import load_source

__all__ = ["HL7_COLUMNS", "parse_hl7", "read_hl7"]

#: Columns of the frame returned by :func:`parse_hl7`, in order: the glossary's input
#: columns (declared in labinterp.schema), then the HL7-specific ones.
HL7_COLUMNS: tuple[str, ...] = (
    "source_row",
    "patient_id",
    "sex",
    "age_years",
    "birth_date",
    "collected_at",
    "source_code",
    "source_code_system",
    "source_name",
    "raw_value",
    "raw_unit",
    "lab_reference_text",
    "lab_flag",
    "value_type",
    "result_status",
    "corrected",
    "message_control_id",
    "order_id",
    "obx_set_id",
)

#: OBX-2 value types whose OBX-5 is a coded element; the text component is the value.
_CODED_TYPES = frozenset({"CE", "CF", "CNE", "CWE"})

#: Components of a coded OBX-5 tried in order for its text (0-based): text,
#: alternate text, original text, identifier, alternate identifier.
_CODED_TEXT_ORDER = (1, 4, 8, 0, 3)

#: Separates the repetitions of one field when they are joined into one cell.
_REPETITION_JOIN = "~"

#: Overrides of python-hl7's escape table: highlighting on/off marks are dropped
#: (python-hl7 writes ``_``), and formatting line breaks become ``\n`` (not ``\r``).
_ESCAPE_OVERRIDES: Mapping[str, str] = {
    "H": "",
    "N": "",
    ".br": "\n",
    ".sp": "\n",
    ".ce": "\n",
}

#: First characters of escape sequences that decode to nothing by design: highlighting
#: (``\H\``, ``\N\``), formatting commands (``\.fi\``) and character-set switches
#: (``\C..\``, ``\M..\``), which python-hl7 does not implement.
_DROPPED_SEQUENCES = frozenset({"H", "N", ".", "C", "M"})

#: Sequences python-hl7 logs instead of decoding: the empty one (``\\``, kept as
#: written) and the character-set switches (``\C..\``, ``\M..\``, dropped).
_LOGGED_SEQUENCES = frozenset({"", "C", "M"})

#: Characters a field separator is taken from in practice (MSH-1 is ``|`` almost always).
_ASCII_PUNCTUATION = frozenset(string.punctuation)

#: Envelope segments of batch files; they carry no results.
_ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})

#: Segments that declare the separators in their fourth character.
_HEADERS = frozenset({"MSH", "FHS", "BHS"})

#: Header put before segments that come before any MSH (HL7's default encoding).
_DEFAULT_HEADER = "MSH|^~\\&|"

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Control characters that never occur in HL7 text (tab, LF, CR, VT, FF, SUB and FS may).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x19\x1b\x1d-\x1f]")
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x19\x1b\x1d-\x1f]")
#: MLLP start (VT) and end (FS) blocks, form feed and DOS end-of-file end a segment.
_FRAMING = re.compile("[\x0b\x0c\x1a\x1c]")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")

#: Set while this module reads, so python-hl7's log records (which quote field
#: contents) are dropped; other users of python-hl7 are not affected.
_READING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "labinterp_hl7_reading", default=False
)


def _outside_reading(record: logging.LogRecord) -> bool:
    """Pass python-hl7's log records only while this module is not reading (a log filter)."""
    return not _READING.get()


for _library_logger in (hl7.util.logger, hl7.containers.logger):
    _library_logger.addFilter(_outside_reading)


@dataclass
class _Segment:
    """One segment as written: its 1-based number in the input, its ID and its text."""

    number: int
    kind: str
    text: str


@dataclass
class _Message:
    """The segments of one message; ``headless`` when they come before any MSH."""

    segments: list[_Segment] = field(default_factory=list)
    headless: bool = False


# -- input --------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    """Decode bytes: UTF-16 with BOM, UTF-8 (BOM dropped), else cp1252 line by line.

    Messages from several systems can share a file; each line that is not valid UTF-8
    is read as cp1252 on its own, so a Latin-1 line does not turn the UTF-8 ones into
    mojibake.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"{name}, byte {exc.start}: the input starts with a UTF-16 byte order mark "
                "but is not valid UTF-16; save it as UTF-8."
            ) from None
        _check_text(text, name)
        return text
    binary = _BINARY_BYTES.search(data)
    if binary is not None:
        raise ReadError(
            f"{name}, byte {binary.start()}: binary data (a control character that HL7 "
            "text never contains); this is not an HL7 v2 file."
        )
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    offset = start
    for line in data[start:].splitlines(keepends=True):
        try:
            parts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError as exc:
                raise ReadError(
                    f"{name}, byte {offset + exc.start}: the bytes are neither UTF-8 nor "
                    "cp1252 (Windows Latin-1) text; save the file as UTF-8."
                ) from None
        offset += len(line)
    return "".join(parts)


def _check_text(text: str, name: str) -> None:
    binary = _BINARY_CHARS.search(text)
    if binary is not None:
        raise ReadError(
            f"{name}, character {binary.start()}: a control character that HL7 text "
            "never contains; this is not an HL7 v2 message."
        )


def _starts_segment(line: str, separator: str) -> bool:
    kind = line[:3]
    if not _SEGMENT_ID.fullmatch(kind):
        return False
    return kind in _HEADERS or len(line) == 3 or line[3] == separator


def _split_segments(text: str, name: str) -> list[_Segment]:
    """Split text into segments at any line end; continuation lines join the previous one.

    Raises
    ------
    ReadError
        When a line starts like an OBX segment with another field separator than its
        message declares: joined to the segment before it, its result would be lost.
    """
    # Each segment's lines, joined once at the end: joining continuation lines one by
    # one would copy the segment for every line (quadratic time).
    texts: list[list[str]] = []
    separator = "|"
    for line in _LINE_END.split(_FRAMING.sub("\n", text)):
        if not line.strip():
            continue
        candidate = line.lstrip(" \t")
        if _starts_segment(candidate, separator):
            if candidate[:3] in _HEADERS and len(candidate) > 3:
                separator = candidate[3]
            texts.append([candidate])
            continue
        if candidate[:3] == "OBX" and candidate[3:4] in _ASCII_PUNCTUATION:
            raise ReadError(
                f"{name}, segment {len(texts) + 1}: an OBX segment is separated with "
                f"'{candidate[3]}', but its message declares '{separator}' as field "
                "separator (MSH-1), so its result cannot be read; correct either.",
                field="MSH-1",
            )
        if texts:
            texts[-1].append(line)
        # A line before the first segment is not HL7 (e.g. a title line); it is skipped.
    joined = ("\n".join(lines) for lines in texts)
    return [_Segment(i, t[:3], t) for i, t in enumerate(joined, start=1)]


def _group_messages(segments: list[_Segment], name: str) -> list[_Message]:
    """Group segments into messages: each MSH starts one; envelope segments are dropped."""
    if not any(s.kind == "MSH" for s in segments):
        raise ReadError(
            f"{name}, segment 1: no MSH segment was found, so this is not an HL7 v2 "
            "message; each message starts with a line like 'MSH|^~\\&|...'."
        )
    messages: list[_Message] = []
    for segment in segments:
        if segment.kind in _ENVELOPE:
            continue
        if segment.kind == "MSH":
            messages.append(_Message([segment]))
        elif messages:
            messages[-1].segments.append(segment)
        else:
            messages.append(_Message([segment], headless=True))
    return messages


def _header_text(segment: _Segment, name: str) -> str:
    """Return the MSH text for python-hl7 after checking its separators (MSH-1, MSH-2)."""
    text = segment.text
    where = f"{name}, segment {segment.number}"
    if len(text) < 4 or text[3].isalnum() or text[3].isspace():
        raise ReadError(
            f"{where}: the MSH segment does not declare its field separator (MSH-1); "
            "it must start like 'MSH|^~\\&|'.",
            field="MSH-1",
        )
    separator = text[3]
    end = text.find(separator, 4)
    characters = text[4:] if end < 0 else text[4:end]
    if (
        len(set(characters)) != len(characters)
        or separator in characters
        or any(c.isalnum() or c.isspace() for c in characters)
    ):
        raise ReadError(
            f"{where}: the MSH encoding characters (MSH-2) are not valid; they must be "
            "distinct punctuation characters, usually '^~\\&'.",
            field="MSH-2",
        )
    # python-hl7 finds MSH-2's end at the next field separator; make sure there is one.
    return text if end >= 0 else text + separator


def _parse_message(message: _Message, name: str) -> tuple[Any, list[Any]]:
    """Parse one message with python-hl7; return it and its segments, aligned to ours."""
    first = message.segments[0]
    if message.headless:
        lines = [_DEFAULT_HEADER, *(s.text for s in message.segments)]
    else:
        lines = [_header_text(first, name), *(s.text for s in message.segments[1:])]
    try:
        parsed = hl7.parse("\r".join(lines))
    except Exception as exc:
        # python-hl7's messages can quote segment contents, so only the type is named.
        raise ReadError(
            f"{name}, segment {first.number}: the message starting here cannot be parsed "
            f"as HL7 v2 ({type(exc).__name__})."
        ) from None
    tree = list(parsed)
    return parsed, tree[1:] if message.headless else tree


# -- fields -------------------------------------------------------------------


def _items(node: Any) -> list[Any]:
    """Children of a python-hl7 container; a leaf string is its own only child."""
    if node is None:
        return []
    if isinstance(node, list):
        return list(node)
    return [node]


class _Fields:
    """Decoded access to the fields of one parsed message's segments."""

    def __init__(self, message: Any) -> None:
        self._message = message
        self._escape = str(message.esc or "")

    def decode(self, raw: str) -> str | None:
        """Decode HL7 escape sequences; ``None`` for an empty result.

        Each sequence is decoded by python-hl7 on its own, so one it cannot decode is
        kept as written instead of spoiling or emptying the rest of the field.
        """
        if not raw:
            return None
        escape = self._escape
        if not escape or escape not in raw:
            return raw
        parts = raw.split(escape)
        tail = ""
        if len(parts) % 2 == 0:
            # An unpaired escape character: keep it and what follows as written.
            tail = escape + parts.pop()
        text = "".join(
            part if index % 2 == 0 else self._sequence(part) for index, part in enumerate(parts)
        )
        return text + tail or None

    def _sequence(self, body: str) -> str:
        """Decode one escape sequence (without its delimiters) or return it as written."""
        written = f"{self._escape}{body}{self._escape}"
        if body[:1] in _LOGGED_SEQUENCES and body not in _ESCAPE_OVERRIDES:
            # python-hl7 would log these through the deprecated Logger.warn, which warns
            # (an error under -W error) and would change what is decoded: decided here.
            return "" if body else written
        try:
            decoded = str(self._message.unescape(written, app_map=dict(_ESCAPE_OVERRIDES)))
        except Exception:
            # python-hl7 raises on some malformed sequences (e.g. a bad count in \.spx\).
            return written
        if not decoded and body[:1] not in _DROPPED_SEQUENCES:
            # python-hl7 drops sequences it does not know (\Zxx\, bad \X..\); keep them.
            return written
        return decoded

    @staticmethod
    def field(segment: Any, number: int) -> Any:
        """Field ``number`` of a parsed segment (MSH counts MSH-1 as field 1), or None."""
        if not isinstance(segment, list) or number >= len(segment):
            return None
        return segment[number]

    def whole(self, segment: Any, number: int) -> str | None:
        """Return the whole field as written (all repetitions and components), decoded."""
        node = self.field(segment, number)
        return None if node is None else self.decode(str(node))

    def component(
        self, segment: Any, number: int, component: int = 1, repetition: int = 1
    ) -> str | None:
        """One component (1-based) of one repetition (1-based) of a field, decoded."""
        repetitions = _items(self.field(segment, number))
        if len(repetitions) < repetition:
            return None
        components = _items(repetitions[repetition - 1])
        if len(components) < component:
            return None
        return self.decode(str(components[component - 1]))

    def first_identifier(self, segment: Any, number: int) -> str | None:
        """Return the first component of the first repetition that has one (PID-3 CX.1)."""
        for index in range(1, len(_items(self.field(segment, number))) + 1):
            found = self.component(segment, number, 1, index)
            if found:
                return found
        return None

    def value(self, segment: Any, value_type: str | None) -> str | None:
        """OBX-5 as text: SN joined, coded types by their text, others as written."""
        kind = (value_type or "").strip().upper()
        rendered: list[str] = []
        for repetition in _items(self.field(segment, 5)):
            components = _items(repetition)
            if kind == "SN":
                text = "".join(self.decode(str(c)) or "" for c in components[:4])
            elif kind in _CODED_TYPES:
                text = _first(
                    self.decode(str(components[i]))
                    for i in _CODED_TEXT_ORDER
                    if i < len(components)
                )
            else:
                text = self.decode(str(repetition)) or ""
            rendered.append(text)
        return _REPETITION_JOIN.join(rendered) if any(rendered) else None


def _first(texts: Iterable[str | None]) -> str:
    return next((t for t in texts if t), "")


# -- rows ---------------------------------------------------------------------


def _message_rows(message: _Message, name: str, first_row: int) -> list[dict[str, Any]]:
    """One row per OBX of a message, numbered from ``first_row``."""
    parsed, tree = _parse_message(message, name)
    fields = _Fields(parsed)
    control_id = None if message.headless else fields.whole(tree[0], 10)
    pid: Any = None
    obr: Any = None
    rows: list[dict[str, Any]] = []
    for index, segment in enumerate(message.segments):
        node = tree[index] if index < len(tree) else None
        if segment.kind == "PID":
            pid = node
        elif segment.kind == "OBR":
            obr = node
        elif segment.kind == "OBX":
            value_type = fields.component(node, 2)
            status = fields.component(node, 11)
            rows.append(
                {
                    "source_row": first_row + len(rows),
                    "patient_id": fields.first_identifier(pid, 3),
                    "sex": fields.component(pid, 8),
                    "age_years": None,
                    "birth_date": fields.component(pid, 7),
                    "collected_at": fields.component(obr, 7) or fields.component(node, 14),
                    "source_code": fields.component(node, 3, 1),
                    "source_code_system": fields.component(node, 3, 3),
                    "source_name": fields.component(node, 3, 2),
                    "raw_value": fields.value(node, value_type),
                    "raw_unit": fields.component(node, 6, 1) or fields.component(node, 6, 2),
                    "lab_reference_text": fields.whole(node, 7),
                    "lab_flag": fields.whole(node, 8),
                    "value_type": value_type,
                    "result_status": status,
                    "corrected": (status or "").strip() == "C",
                    "message_control_id": control_id,
                    "order_id": fields.component(obr, 2) or fields.component(obr, 3),
                    "obx_set_id": fields.whole(node, 1),
                }
            )
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(HL7_COLUMNS))
    return frame.astype({"source_row": "int64", "age_years": "float64", "corrected": "bool"})


# -- public -------------------------------------------------------------------


def parse_hl7(text: str | bytes, *, name: str = "<text>") -> pd.DataFrame:
    r"""Parse HL7 v2 result messages (text or bytes) into the results frame.

    Parameters
    ----------
    text
        One or more messages: text, or bytes (UTF-8, cp1252 or UTF-16 with a BOM).
        MLLP framing and CR, LF or CRLF segment ends are accepted.
    name
        How to name the input in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per OBX segment, in input order, with the columns of
        :data:`HL7_COLUMNS`. ``source_row`` is the 1-based position of the OBX
        among all OBX segments of the input (the first OBX of the second
        message follows the last OBX of the first), so it is stable across
        runs. Text cells are strings after HL7 escape decoding, ``None`` when
        empty; ``corrected`` is ``True`` where OBX-11 is ``C``. A message
        without OBX adds no rows; when no message has one the frame is empty.

    Raises
    ------
    ReadError
        When the input cannot be read at all: empty, binary, not decodable,
        without an MSH segment, or with an MSH segment whose separators are not
        valid. The message names the input and the byte or segment (segments
        counted from 1, blank lines not counted), never a field's content.

    Examples
    --------
    >>> frame = parse_hl7(
    ...     "MSH|^~\\&|LAB||||20240105||ORU^R01|MSG1|P|2.5.1\r"
    ...     "OBX|1|NM|2601-3^Magnesium^LN||0.82|mmol/L|0.71-0.94|N|||F\r"
    ... )
    >>> frame[["source_code", "raw_value", "raw_unit", "lab_reference_text"]].iloc[0].tolist()
    ['2601-3', '0.82', 'mmol/L', '0.71-0.94']
    """
    token = _READING.set(True)
    try:
        if isinstance(text, str):
            _check_text(text, name)
            decoded = text.removeprefix("\ufeff")
        else:
            decoded = _decode(bytes(text), name)
        if not decoded.strip():
            raise ReadError(f"{name}, byte 0: the input is empty.")
        messages = _group_messages(_split_segments(decoded, name), name)
        rows: list[dict[str, Any]] = []
        for message in messages:
            rows.extend(_message_rows(message, name, len(rows) + 1))
        return _frame(rows)
    finally:
        _READING.reset(token)


def read_hl7(path_or_buffer: str | os.PathLike[str] | IO[Any] | bytes) -> pd.DataFrame:
    r"""Read an HL7 v2 file (one or more ORU messages) into the results frame.

    Parameters
    ----------
    path_or_buffer
        A path, an open file (binary or text), or bytes.

    Returns
    -------
    pandas.DataFrame
        One row per OBX segment; see :func:`parse_hl7`.

    Raises
    ------
    ReadError
        When the file cannot be opened or read; see :func:`parse_hl7`.

    Examples
    --------
    >>> frame = read_hl7(b"MSH|^~\\&|LAB||||||ORU^R01|1|P|2.5\rOBX|1|ST|X^Note||seen\r")
    >>> frame.loc[0, "raw_value"]
    'seen'
    """
    if isinstance(path_or_buffer, str) and (
        "\r" in path_or_buffer
        or "\n" in path_or_buffer
        or path_or_buffer.lstrip("\ufeff\x0b \t").startswith("MSH|")
    ):
        raise ReadError(
            "<text>: read_hl7 takes a path, a file or bytes, and was given message text; "
            "use parse_hl7(text) instead."
        )
    try:
        data, name = load_source(path_or_buffer)
    except ReadError:
        raise
    except (OSError, ValueError) as exc:
        raise ReadError(
            f"{getattr(path_or_buffer, 'name', '<input>')}: cannot be read ({type(exc).__name__})."
        ) from None
    return parse_hl7(data, name=name)
