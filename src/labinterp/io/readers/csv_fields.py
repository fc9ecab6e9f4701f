"""CSV bytes to a frame of text fields: the encoding, the delimiter and the field reader.

The steps below the CSV reader (:mod:`labinterp.io.readers.csv`) that the streamed
reader (:mod:`labinterp.stream`) also uses: it decodes and sniffs a file's start once,
cuts the rest into pieces where records end
(:func:`labinterp.io.readers.csv_records.record_breaks`) and reads each piece with the
layout of the file's first rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pandas as pd

from labinterp.errors import ReadError
from labinterp.io.readers.csv_records import (
    Header,
    Layout,
    header_record,
    is_blank,
    one_line_records,
    record_layout,
    record_starts,
    unreadable_record,
)

__all__ = [
    "SNIFF_CHARS",
    "Fields",
    "decode",
    "decode_keeping_utf8",
    "detect_delimiter",
    "read_fields",
    "read_fields_arrow",
    "read_fields_csv",
]

#: How much of the text the delimiter is guessed from (its first 50 lines at most).
SNIFF_CHARS = 1 << 16


def decode(data: bytes) -> str:
    """Decode export bytes: UTF-8 (BOM dropped), else line by line UTF-8 or cp1252.

    Exports assembled from several systems can mix UTF-8 and Latin-1 lines; decoding each
    line on its own reads both without mojibake (``µ`` is 0xB5 in Latin-1, C2 B5 in UTF-8).
    cp1252 decodes every byte, so this never fails.

    Parameters
    ----------
    data
        The bytes of an export (or of its start).

    Returns
    -------
    str
        The text.

    Examples
    --------
    >>> decode("Kalium;µmol/L".encode("cp1252"))
    'Kalium;µmol/L'
    """
    return decode_keeping_utf8(data)[0]


def decode_keeping_utf8(data: bytes) -> tuple[str, bytes | None]:
    r"""Decode as :func:`decode` does; also return the UTF-8 bytes of the text if at hand.

    Each line (ended by ``\n``, ``\r\n`` or ``\r``, as :meth:`bytes.splitlines`
    splits) that is valid UTF-8 is read as UTF-8, any other line as cp1252 with
    undefined bytes replaced (U+FFFD); a UTF-8 BOM at the start is dropped.

    Parameters
    ----------
    data
        The bytes of an export.

    Returns
    -------
    (str, bytes or None)
        The text, and its UTF-8 bytes (without a BOM) when the whole input was valid
        UTF-8, so a reader of bytes need not encode the text again; otherwise ``None``.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        # The start first: a failed decode of the whole costs as much as one that works
        # (0.011 s on a 17 MB batch), and a file that is not UTF-8 mostly shows it early.
        codecs.getincrementaldecoder("utf-8")().decode(data[:SNIFF_CHARS])
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    # Lines are told apart with NumPy and decoded in runs of one kind (one call for a
    # file that is wholly cp1252) instead of one call per line, and a cp1252 run without
    # bytes 0x80-0x9F (where cp1252 and Latin-1 differ) as Latin-1, 25 times faster:
    # on a 200,000-line Latin-1 batch (17 MB) 0.02 s instead of 0.20 s.
    errors = {"utf-8": "strict", "cp1252": "replace", "latin-1": "strict"}
    text = "".join(
        data[start:end].decode(codec, errors[codec]) for start, end, codec in _line_runs(data)
    )
    return text, None


def _line_runs(data: bytes) -> Iterator[tuple[int, int, str]]:
    """Cut bytes at line starts into runs of lines of one kind: ``(start, end, codec)``.

    A line with a byte that is in no valid UTF-8 sequence is cp1252 (``latin-1`` for a
    run without bytes 0x80-0x9F, which reads the same); a line with other non-ASCII
    bytes is UTF-8; a line of ASCII reads the same either way and joins the run before
    it (or the first run).
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    high = np.flatnonzero(arr >= 0x80)
    values = arr[high]
    outside = _outside_utf8(values, high)
    c1 = values <= 0x9F  # where cp1252 and Latin-1 differ
    if outside.all():  # every non-ASCII line is cp1252: no need to find the lines
        yield 0, len(data), "cp1252" if c1.any() else "latin-1"
        return
    breaks = np.flatnonzero(arr == ord("\n"))
    if b"\r" in data:
        breaks = np.flatnonzero((arr == ord("\n")) | (arr == ord("\r")))  # CRLF twice: fine
    high_lines = np.searchsorted(breaks, high)  # the line of each non-ASCII byte, sorted
    firsts = np.flatnonzero(np.diff(high_lines, prepend=-1))  # each line's first high byte
    cp1252 = np.logical_or.reduceat(outside, firsts)  # per line
    runs = [0, *(np.flatnonzero(np.diff(cp1252)) + 1).tolist()]  # each run's first line
    begins = [*firsts[runs].tolist(), len(high)]  # each run's first high byte
    starts = [0, *(breaks[high_lines[begins[1:-1]] - 1] + 1).tolist(), len(data)]
    for i, run in enumerate(runs):
        codec = "utf-8"
        if cp1252[run]:
            codec = "cp1252" if c1[begins[i] : begins[i + 1]].any() else "latin-1"
        yield starts[i], starts[i + 1], codec


#: Per byte value: the continuation bytes a UTF-8 sequence it starts needs; 0 for a
#: continuation byte (0x80-0xBF), -1 for a byte that is in no valid sequence.
_NEED = np.array([0] * 0x80 + [0] * 0x40 + [-1] * 2 + [1] * 30 + [2] * 16 + [3] * 5 + [-1] * 11)
#: Per first byte: the range of the second byte (RFC 3629: no overlong forms, no
#: surrogates, nothing beyond U+10FFFF).
_SECOND_LOW = np.full(256, 0x80)
_SECOND_HIGH = np.full(256, 0xBF)
_SECOND_LOW[[0xE0, 0xF0]] = [0xA0, 0x90]
_SECOND_HIGH[[0xED, 0xF4]] = [0x9F, 0x8F]


def _outside_utf8(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Tell which non-ASCII bytes (``values`` at ``positions``) are in no UTF-8 sequence.

    A valid sequence is a start byte followed, at the next positions, by the
    continuation bytes it needs (the second in its range); every continuation byte
    must belong to one.
    """
    need = _NEED[values]
    count = len(values)
    ahead = np.arange(count)
    padded_positions = np.concatenate([positions, np.full(3, -8)])
    padded_values = np.concatenate([values, np.zeros(3, dtype=values.dtype)])
    starts = need > 0
    whole = starts.copy()
    for k in (1, 2, 3):
        follows = (padded_positions[ahead + k] == positions + k) & (
            (padded_values[ahead + k] & 0xC0) == 0x80
        )
        whole &= (need < k) | follows
    second = padded_values[ahead + 1]
    whole &= (second >= _SECOND_LOW[values]) & (second <= _SECOND_HIGH[values])
    owned = np.zeros(count + 3, dtype=bool)
    for k in (1, 2, 3):
        owned[ahead[whole & (need >= k)] + k] = True
    result: np.ndarray = (need < 0) | (starts & ~whole) | ((need == 0) & ~owned[:count])
    return result


def detect_delimiter(text: str) -> str:
    r"""Guess the field delimiter (``;``, ``,``, tab or ``|``) from the first lines.

    Python's :class:`csv.Sniffer` decides from the first 50 whole lines of the first
    :data:`SNIFF_CHARS` characters; when it cannot, the delimiter that occurs most in
    the header line (the first line that is not blank) is taken, and ``,`` when none does.

    Parameters
    ----------
    text
        The start of an export, header first.

    Returns
    -------
    str
        The delimiter.

    Examples
    --------
    >>> detect_delimiter("Analyse;Resultat;Enhet\nS-Magnesium;0,82;mmol/L\n")
    ';'
    """
    head = text[:SNIFF_CHARS]
    lines = head.splitlines()
    if len(head) < len(text) and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        header = next((line for line in lines if line.strip()), "")
        counts = {d: header.count(d) for d in (";", "\t", ",", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


class Fields(NamedTuple):
    """The data rows of a CSV text as text columns, and the line each row starts on."""

    #: One text column per header name (pandas' names for repeated or empty ones),
    #: empty fields missing.
    frame: pd.DataFrame
    #: The 1-based line of the file where each row's record starts.
    lines: np.ndarray


def read_fields(
    text: str,
    sep: str,
    name: str,
    utf8: bytes | None = None,
    *,
    first_line: int | None = None,
    layout: Layout | None = None,
) -> Fields:
    """Read CSV text into text fields, empty fields missing, with each row's line.

    Records are read as Python's csv module reads them (:func:`read_fields_csv`).
    Arrow's multi-threaded reader reads them faster where it reads the same
    (:func:`read_fields_arrow`): it declines, and the csv module reads, a file with
    rows that do not fit the layout, a header that repeats a name or leaves one empty
    (named as pandas names them), a carriage return that ends no CRLF, a quoted field
    left open, one column, or a delimiter that is not ASCII. Blank lines (and lines of
    white space) are not records. Property tests hold both readers equal to Python's
    csv module.

    Parameters
    ----------
    text
        The CSV text, header first (blank lines before it are skipped).
    sep
        The field delimiter, one character.
    name
        How to name the input in error messages.
    utf8
        ``text`` encoded as UTF-8, when at hand (spares encoding it again).
    first_line
        The file's line number of the line after the header record, when ``text`` is
        the header followed by a later part of the file; ``None`` when ``text`` is the
        file from its first line.
    layout
        The file's layout, when decided from its first rows (a part read later);
        ``None``: decided from ``text`` (:func:`record_layout`).

    Returns
    -------
    Fields
        The text columns and the 1-based file line where each row starts (the header
        is on line 1 when the file starts with it).

    Raises
    ------
    ReadError
        When the text is not readable CSV: a row whose number of fields does not fit
        the header, a quoted field left open. The message names the line, never a cell.
    """
    if len(sep) != 1:
        raise ReadError(f"{name}: the delimiter must be one character, not {len(sep)}.")
    header = header_record(text, sep, name, first_row=layout is None)
    if header is None:
        raise ReadError(f"{name}: the file holds no header line.")
    layout = layout or record_layout(header.fields, header.first_row)
    shift = 0 if first_line is None else first_line - header.lines - 1
    fields = _arrow_fields(text, sep, utf8, layout, header, shift=shift)
    return fields or _csv_fields(text, sep, name, layout, header, shift=shift)


def read_fields_arrow(
    text: str, sep: str, utf8: bytes | None = None, *, layout: Layout | None = None
) -> pd.DataFrame | None:
    """Read with Arrow's CSV reader; ``None`` when the file needs the csv module's reader.

    The rows' lines are counted by :mod:`labinterp.io.readers.csv_records`, which reads
    records as Python's csv module does (``one_line_records`` when every record is one
    line, else ``record_starts``); Arrow's rows must match them.

    Parameters
    ----------
    text, sep, utf8, layout
        As for :func:`read_fields`.

    Returns
    -------
    pandas.DataFrame or None
        The fields as Arrow-backed text columns, or ``None`` for a file Arrow's reader
        would read differently from Python's csv module, that breaks the layout, or
        whose header repeats a name or leaves one empty (see :func:`read_fields`).
    """
    header = header_record(text, sep, "<text>")
    if header is None:
        return None
    layout = layout or record_layout(header.fields, header.first_row)
    fields = _arrow_fields(text, sep, utf8, layout, header, shift=0)
    return None if fields is None else fields.frame


def _arrow_fields(
    text: str, sep: str, utf8: bytes | None, layout: Layout, header: Header, *, shift: int
) -> Fields | None:
    """:func:`read_fields_arrow`, with each row's line (in ``text``, plus ``shift``)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not sep.isascii():
        return None
    names = list(layout.names)
    if len(names) < 2 or _column_names(layout.names) != names or _TRAILING in names:
        # In a one-column file a line of spaces is no record; pandas names the columns
        # of a header that repeats a name or leaves one empty.
        return None
    data = text.encode("utf-8") if utf8 is None else utf8
    if data.find(b"\r") >= 0 and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a carriage return outside a line ending: Arrow reads it differently
    body = len(text[: header.end].encode("utf-8"))
    columns = [*names, _TRAILING] if layout.fields > len(names) else names
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(data)[body:])),
            read_options=pacsv.ReadOptions(use_threads=True, column_names=columns),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', double_quote=True, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                # Large strings: the storage of pandas' Arrow-backed strings (no cast).
                column_types=dict.fromkeys(columns, pa.large_string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lines = one_line_records(data, body, table.num_rows, sep)
    if lines is not None:
        lines = lines + header.lines
    else:
        found = record_starts(data, sep)
        lines = found.lines[found.starts >= body]
        if found.open_quote or table.num_rows != len(lines):
            return None
    if len(columns) > len(names):
        if table.column(_TRAILING).null_count != table.num_rows:
            return None
        table = table.select(names)
    return Fields(_text_frame(table), lines + shift)


def read_fields_csv(text: str, sep: str, name: str, *, layout: Layout | None = None) -> Fields:
    """Read with Python's csv module, checking every row against the layout.

    Parameters
    ----------
    text, sep, name, layout
        As for :func:`read_fields`.

    Returns
    -------
    Fields
        The fields, with each row's line in ``text``.

    Raises
    ------
    ReadError
        For a row that does not fit the layout (more or fewer fields than the header,
        or a value after the last column) and a quoted field left open, naming the line.
    """
    header = header_record(text, sep, name)
    if header is None:
        raise ReadError(f"{name}: the file holds no header line.")
    layout = layout or record_layout(header.fields, header.first_row)
    return _csv_fields(text, sep, name, layout, header, shift=0)


def _csv_fields(
    text: str, sep: str, name: str, layout: Layout, header: Header, *, shift: int
) -> Fields:
    """:func:`read_fields_csv`, with each row's line (in ``text``, plus ``shift``)."""
    import pyarrow as pa

    if '"' in text:
        found = record_starts(text.encode("utf-8", errors="surrogatepass"), sep)
        if found.open_quote:
            line = int(found.lines[-1]) + shift
            raise ReadError(f"{name}, line {line}: a quoted field is never closed.")
    names = _column_names(layout.names)
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text[header.end :], newline=""), delimiter=sep)
    start = header.lines + 1 + shift
    try:
        for row in reader:
            line, start = start, header.lines + reader.line_num + 1 + shift
            if is_blank(row):
                continue
            _check_row(row, layout, name, line)
            rows.append(row[: len(names)])
            lines.append(line)
    except csv.Error as exc:
        raise unreadable_record(name, header.lines + reader.line_num + shift, exc) from exc
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    table = pa.table(
        [pa.array([v or None for v in c], pa.large_string()) for c in columns], names=names
    )
    return Fields(_text_frame(table), np.array(lines, dtype=np.int64))


def _check_row(row: list[str], layout: Layout, name: str, line: int) -> None:
    """Refuse a row that does not fit the layout: no field may move to another column."""
    columns = len(layout.names)
    if len(row) != layout.fields:
        expected = f"the header names {columns} column{'s' * (columns != 1)}"
        if layout.fields > columns:
            expected = f"the first row has {layout.fields} ({columns} and an empty one at the end)"
        raise ReadError(
            f"{name}, line {line}: {len(row)} fields where {expected}; a field would be "
            "put in the wrong column, so the file is not read."
        )
    if layout.fields > columns and row[-1] != "":
        raise ReadError(
            f"{name}, line {line}: a value after the header's {columns} columns, where "
            "the first row ends in an empty field."
        )


#: Arrow's name for the empty field after the last column (no header name can be it).
_TRAILING = "\x00trailing field"


def _column_names(names: tuple[str, ...]) -> list[str]:
    """Name columns as pandas does: ``Unnamed: 2`` for an empty name, ``a.1`` for a repeat."""
    if len(set(names)) == len(names) and all(names):
        return list(names)
    line = io.StringIO()
    csv.writer(line, quoting=csv.QUOTE_ALL).writerow(names)
    line.seek(0)
    return [str(c) for c in pd.read_csv(line, dtype=str, nrows=0).columns]


def _text_frame(table: object) -> pd.DataFrame:
    """Turn an Arrow table of large strings into a frame of Arrow-backed text columns."""
    text_type = pd.StringDtype("pyarrow", na_value=np.nan)
    frame: pd.DataFrame = table.to_pandas(  # type: ignore[attr-defined]
        types_mapper=lambda _: text_type
    )
    return frame
