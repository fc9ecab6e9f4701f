"""Where the records of CSV bytes end, the header, and the layout of the rows.

Records are what Python's :mod:`csv` module reads: a ``"`` opens a quoted field only
at the start of a field; elsewhere (``5'11"``) it is an ordinary character, and a line
break inside a quoted field belongs to the field. The field reader
(:mod:`labinterp.io.readers.csv_fields`) numbers rows by the line their record starts
on; the streamed reader (:mod:`labinterp.stream`) cuts a file only where a record ends.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from labinterp.errors import ReadError

__all__ = [
    "Header",
    "Layout",
    "RecordBreaks",
    "RecordStarts",
    "header_record",
    "is_blank",
    "one_line_records",
    "record_breaks",
    "record_layout",
    "record_starts",
    "unreadable_record",
]

_LF, _CR, _QUOTE = ord("\n"), ord("\r"), ord('"')


class RecordBreaks(NamedTuple):
    """The line breaks of CSV bytes that end a record (see :func:`record_breaks`)."""

    #: Offset just past each line break that ends a record (blank lines included).
    ends: np.ndarray
    #: Line breaks in the bytes up to and including each of those.
    lines: np.ndarray
    #: Whether the bytes end inside a quoted field.
    open_quote: bool
    #: Carriage returns that are not part of a CRLF line end.
    lone_returns: int


def record_breaks(data: bytes, sep: str) -> RecordBreaks:
    r"""Find the line breaks that end a record, as Python's csv module reads them.

    A line break is ``\n``, ``\r\n`` or a lone ``\r``; one inside a quoted field
    belongs to the field. A ``"`` opens a quoted field only at the start of a field
    (after the delimiter, a line break or the start of the bytes); inside one, ``""``
    is a quote and a single ``"`` closes it. Any other ``"`` is an ordinary character.
    Only the quotes are looked at one by one, and only when some ``"`` sits where
    counting quotes would misread it, so files with quoted fields cost little more
    than files without.

    Parameters
    ----------
    data
        UTF-8 (or single-byte encoded) CSV bytes, starting at the start of a record.
    sep
        The field delimiter (one character).

    Returns
    -------
    RecordBreaks
        Where each record ends, how many line breaks precede that end, whether the
        bytes end inside a quoted field, and how many carriage returns end no CRLF.

    Examples
    --------
    >>> found = record_breaks(b'a;5\'11";x\nb;"p\nq"\n', ";")
    >>> found.ends.tolist(), found.lines.tolist()
    ([10, 18], [1, 3])
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(arr == _LF)
    lone_returns = 0
    if b"\r" in data:
        returns = np.flatnonzero(arr == _CR)
        after = np.minimum(returns + 1, len(arr) - 1)
        lone = returns[(returns + 1 == len(arr)) | (arr[after] != _LF)]
        lone_returns = len(lone)
        if lone_returns:
            breaks = np.sort(np.concatenate([breaks, lone]))
    lines = np.arange(1, len(breaks) + 1)
    open_quote = False
    if b'"' in data:
        quotes = np.flatnonzero(arr == _QUOTE)
        toggles = _toggles(arr, quotes, sep)
        outside = np.searchsorted(toggles, breaks) % 2 == 0
        breaks, lines = breaks[outside], lines[outside]
        open_quote = len(toggles) % 2 == 1
    return RecordBreaks(breaks + 1, lines, open_quote, lone_returns)


def _toggles(arr: np.ndarray, quotes: np.ndarray, sep: str) -> np.ndarray:
    """Return the quotes that open or close a quoted field (an escaped ``""`` counts twice).

    Outside a quoted field a quote opens one only at the start of a field; inside,
    every quote toggles (a ``""`` pair closes and reopens, with nothing between).
    When every quote that counting would take for an opening one is at the start of
    a field or right after a closing quote, counting is exact (the usual case, checked
    on those quotes alone); otherwise the quotes in unquoted fields are found one after
    another, each with one search.
    """
    opening = quotes[0::2]
    fine = _at_field_start(arr, opening, sep)
    if not fine.all():
        escaped = np.flatnonzero(~fine)
        escaped = escaped[escaped > 0]
        fine[escaped] = quotes[2 * escaped - 1] == opening[escaped] - 1
    if fine.all():
        return quotes
    at_start = _at_field_start(arr, quotes, sep)
    ok = at_start.copy()
    ok[1:] |= quotes[1:] - quotes[:-1] == 1  # right after the previous quote
    # Quotes that may stand in an unquoted field, by the parity of their position.
    suspects = (np.flatnonzero(~ok[0::2]) * 2, np.flatnonzero(~ok[1::2]) * 2 + 1)
    toggles = np.ones(len(quotes), dtype=bool)
    at = 0  # the next quote, outside any quoted field, not right after a closing quote
    while at < len(quotes):
        if not at_start[at]:
            toggles[at] = False  # an ordinary character
            at += 1
            continue
        ahead = suspects[at % 2]
        found = int(np.searchsorted(ahead, at, side="right"))
        if found == len(ahead):
            break
        at = int(ahead[found])
        toggles[at] = False
        at += 1
    return quotes[toggles]


def _at_field_start(arr: np.ndarray, positions: np.ndarray, sep: str) -> np.ndarray:
    """Tell which positions start a field: after a line break, the delimiter, or at 0."""
    marker = sep.encode("utf-8")
    before = np.zeros(256, dtype=bool)  # bytes a field starts after
    before[[_LF, _CR, *marker[-1:]]] = True
    start: np.ndarray = before[arr[positions - 1]]  # positions[0] may be 0: set below
    if len(marker) > 1:  # a delimiter of several bytes: all of them before the position
        follows = positions >= len(marker)
        for back, byte in enumerate(reversed(marker), start=1):
            follows &= arr[positions - back] == byte
        start &= follows | (arr[positions - 1] == _LF) | (arr[positions - 1] == _CR)
    if len(positions) and positions[0] == 0:
        start[0] = True
    return start


class RecordStarts(NamedTuple):
    """The records of CSV bytes that are not blank lines (see :func:`record_starts`)."""

    #: Offset where each record starts.
    starts: np.ndarray
    #: The 1-based line each record starts on.
    lines: np.ndarray
    #: Whether the bytes end inside a quoted field (in their last record).
    open_quote: bool
    #: Carriage returns that are not part of a CRLF line end.
    lone_returns: int


def record_starts(data: bytes, sep: str) -> RecordStarts:
    r"""Find where the records that are not blank lines start, and on which line.

    Parameters
    ----------
    data, sep
        As for :func:`record_breaks`.

    Returns
    -------
    RecordStarts
        Start offsets and 1-based lines of the records that hold something (a blank
        line, empty between its line breaks, is not one).

    Examples
    --------
    >>> record_starts(b'a;b\n\n"x\ny";z\nc;d', ";").lines.tolist()
    [1, 3, 5]
    """
    found = record_breaks(data, sep)
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = found.ends
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    lines = np.concatenate([[1], found.lines[:-1] + 1]).astype(np.int64)
    last = ends - 1
    crlf = (arr[last] == _LF) & (last > 0) & (arr[np.maximum(last - 1, 0)] == _CR)
    filled = last - crlf > starts  # something before the line break
    starts, lines = starts[filled], lines[filled]
    tail = int(ends[-1]) if len(ends) else 0
    if tail < len(data):  # a last record without a line break
        starts = np.append(starts, tail)
        lines = np.append(lines, int(found.lines[-1]) + 1 if len(ends) else 1)
    return RecordStarts(starts, lines, found.open_quote, found.lone_returns)


def one_line_records(data: bytes, start: int, rows: int, sep: str) -> np.ndarray | None:
    """Give the lines of ``rows`` records from ``start`` when each is one line (no scan).

    When the bytes from ``start`` hold no blank line and exactly ``rows`` lines, and a
    reader found ``rows`` records there, each record is one line: records do not share
    lines, and each takes at least one. Only the last line can then leave a quoted
    field open, so only it is scanned.

    Parameters
    ----------
    data
        CSV bytes; ``start`` is the start of a record.
    start
        Where the records begin.
    rows
        How many records a reader found from ``start``.
    sep
        The field delimiter.

    Returns
    -------
    numpy.ndarray or None
        ``1 .. rows``, each record's line counted from ``start``; ``None`` when the
        lines are not one per record (or hold a lone carriage return or an unclosed
        quoted field): :func:`record_starts` then finds them.
    """
    arr = np.frombuffer(data, dtype=np.uint8)[start:]
    feeds = np.flatnonzero(arr == _LF)
    last = int(feeds[-1]) + 1 if len(feeds) else 0  # where the last line starts
    if last == len(arr) and len(feeds):
        last = int(feeds[-2]) + 1 if len(feeds) > 1 else 0
    if len(feeds) + (len(arr) > 0 and arr[-1] != _LF) != rows:
        return None
    begins = np.concatenate([[0], feeds[:-1] + 1])[: len(feeds)]
    lengths = feeds - begins
    if ((lengths == 0) | ((lengths == 1) & (arr[feeds - 1] == _CR))).any():
        return None  # a blank line
    if data.find(b"\r", start) >= 0 and data.count(b"\r", start) != data.count(b"\r\n", start):
        return None
    tail = data[start + last :]
    if b'"' in tail and record_breaks(tail, sep).open_quote:
        return None
    return np.arange(1, rows + 1)


_LINE_END = re.compile(r"\r\n|\r|\n")


class Header(NamedTuple):
    """The header record of a CSV text and the first data row after it."""

    #: The header's fields, as written.
    fields: list[str]
    #: Where the header record ends in the text (past its line break).
    end: int
    #: Line breaks in the text up to there (blank lines before the header included).
    lines: int
    #: The fields of the first data row, or ``None`` when there is none.
    first_row: list[str] | None


class Layout(NamedTuple):
    """How a file's rows are laid out (see :func:`record_layout`)."""

    #: The header's names (an empty last name left by a trailing delimiter dropped).
    names: tuple[str, ...]
    #: Fields every data row has: ``len(names)``, or one more when every row ends
    #: in an empty field (a delimiter at the end of each line), which is dropped.
    fields: int


def is_blank(row: list[str]) -> bool:
    """Tell whether a row is a blank line (nothing, or white space only): no record."""
    return not row or (len(row) == 1 and not row[0].strip())


def header_record(text: str, sep: str, name: str, *, first_row: bool = True) -> Header | None:
    """Read the header (the first record that is not blank) and the first data row.

    Parameters
    ----------
    text
        CSV text, from the start of a file.
    sep
        The field delimiter.
    name
        How to name the input in error messages.
    first_row
        Whether to read the first data row too.

    Returns
    -------
    Header or None
        ``None`` when the text holds nothing but blank lines.

    Raises
    ------
    ReadError
        When Python's csv module cannot read the first records (see
        :func:`unreadable_record`).
    """
    consumed = [0, 0]  # characters and line breaks handed to the reader

    def lines() -> Iterator[str]:
        at = 0
        while at < len(text):
            found = _LINE_END.search(text, at)
            end = found.end() if found else len(text)
            consumed[0], consumed[1] = end, consumed[1] + (found is not None)
            yield text[at:end]
            at = end

    header: Header | None = None
    reader = csv.reader(lines(), delimiter=sep, quotechar='"')
    try:
        for row in reader:
            if is_blank(row):
                continue
            if header is not None:
                return header._replace(first_row=row)
            header = Header(row, consumed[0], consumed[1], None)
            if not first_row:
                return header
    except csv.Error as exc:
        raise unreadable_record(name, reader.line_num, exc) from exc
    return header


def unreadable_record(name: str, line: int, error: csv.Error) -> ReadError:
    """Word the error for a record Python's csv module cannot read (a field over its limit).

    Parameters
    ----------
    name
        How to name the input.
    line
        The line where reading stopped.
    error
        The csv module's error (its message quotes no field).

    Returns
    -------
    ReadError
        The error to raise.
    """
    return ReadError(f"{name}, line {line}: not a readable CSV record ({error}).")


def record_layout(header: list[str], first_row: list[str] | None) -> Layout:
    """Decide, from the header and the first data row, how many fields every row has.

    A delimiter at the end of every line leaves an empty last field: when the first
    data row has one field more than the header and that field is empty, every row
    must end so, and the field is dropped. A header whose last name is empty (a
    delimiter at its end) names no column when the first data row has nothing there.
    Anything else keeps the header as it is: every row must have its number of fields.

    Parameters
    ----------
    header
        The header's fields.
    first_row
        The first data row's fields, or ``None``.

    Returns
    -------
    Layout
        The column names and the number of fields of every row.

    Examples
    --------
    >>> record_layout(["Analyse", "Resultat"], ["CRP", "<5", ""])
    Layout(names=('Analyse', 'Resultat'), fields=3)
    """
    trailing_name = len(header) > 1 and header[-1] == ""
    names = tuple(header[:-1] if trailing_name else header)
    if first_row is None:
        return Layout(names, len(names))
    if len(first_row) == len(header) + 1 and first_row[-1] == "":
        return Layout(tuple(header), len(header) + 1)
    if trailing_name and (
        len(first_row) == len(names) or (len(first_row) == len(header) and first_row[-1] == "")
    ):
        return Layout(names, len(first_row))
    return Layout(tuple(header), len(header))
