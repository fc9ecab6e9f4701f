"""Interpret large exports in bounded memory, keeping each patient's rows together.

CSV files are read in batches of lines (:func:`iter_csv`; :func:`read_batches` also cuts
HL7 v2 and FHIR exports, read whole, into batches); batches are re-cut so that the
consecutive rows of one patient are never split, because context rules, derived values
and history need a patient's whole sample set. When the input is not grouped by patient
(a patient's rows appear again after other patients' rows), :class:`Grouping` records it
so the caller can say so: the rows are still all interpreted, but rules and history see
the separated parts apart.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from labinterp.errors import ReadError
from labinterp.io.readers.csv import parse_csv
from labinterp.io.readers.csv_fields import decode, detect_delimiter
from labinterp.io.readers.detect import detect_format, read

__all__ = ["BATCH_LINES", "Grouping", "iter_csv", "patient_batches", "read_batches"]

#: Lines read per batch when streaming a CSV file.
BATCH_LINES = 200_000


def iter_csv(
    path: str | os.PathLike[str], *, batch_lines: int = BATCH_LINES, **options: Any
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Read a CSV export in batches of lines.

    Parameters
    ----------
    path
        The file.
    batch_lines
        Lines per batch.
    **options
        Passed to :func:`labinterp.io.readers.csv.parse_csv` (``columns=``, ``code_map=`` ...).

    Yields
    ------
    (pandas.DataFrame, int)
        A results frame with the file's own line numbers as ``source_row``, and the
        number of bytes read so far (for progress).

    Raises
    ------
    ReadError
        When the file cannot be opened or a batch cannot be parsed.
    """
    source = Path(path)
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise ReadError(f"{source}: cannot be opened ({exc.strerror}).") from exc
    with handle:
        header = handle.readline()
        if not header.strip():
            raise ReadError(f"{source}: the file is empty.")
        sample = decode(header + b"".join(handle.readline() for _ in range(50)))
        handle.seek(len(header))
        options.setdefault("delimiter", detect_delimiter(sample))
        first_line = 2
        consumed = len(header)
        for piece in _pieces(handle, batch_lines):
            consumed += len(piece)
            frame = parse_csv(header + piece, name=str(source), first_line=first_line, **options)
            first_line += piece.count(b"\n")
            yield frame, consumed


def read_batches(
    path: str | os.PathLike[str],
    *,
    batch_rows: int = BATCH_LINES,
    in_memory: bool = False,
    **options: Any,
) -> Iterator[tuple[pd.DataFrame, float]]:
    """Read an export of any format in batches.

    CSV is streamed (:func:`iter_csv`); HL7 v2 and FHIR exports, and any input with
    ``in_memory=True``, are read whole and cut by rows.

    Parameters
    ----------
    path
        The file.
    batch_rows
        Lines (CSV) or rows per batch.
    in_memory
        Read the whole file at once and give it as one batch.
    **options
        Passed to the reader (``columns=``, ``code_map=`` ... for CSV).

    Yields
    ------
    (pandas.DataFrame, float)
        A results frame and how many of the file's bytes it has got to (for progress).

    Raises
    ------
    ReadError
        When the file cannot be read, or a file read whole holds no results.
    """
    source = Path(path)
    size = source.stat().st_size if source.exists() else 0
    head = b""
    if source.exists():
        with source.open("rb") as handle:
            head = handle.read(4096)
    if not in_memory and head and detect_format(head, str(source)) == "csv":
        yield from iter_csv(source, batch_lines=batch_rows, **options)
        return
    frame = read(source, **options)
    if frame.empty:
        raise ReadError(f"{source}: no results were found in the file.")
    step = len(frame) if in_memory else batch_rows
    for start in range(0, len(frame), step):
        yield frame.iloc[start : start + step], size * min(1.0, (start + step) / len(frame))


#: Bytes read from the file at a time.
_BLOCK_BYTES = 1 << 22


def _pieces(handle: BinaryIO, lines: int) -> Iterator[bytes]:
    """Yield the rest of a file in pieces of ``lines`` lines, read in large blocks.

    A piece never ends inside a quoted field (a quoted field may hold line breaks):
    it ends at a line break after an even number of ``"`` characters. The last piece
    holds what is left.
    """
    held: list[bytes] = []
    counted = 0  # line breaks in ``held``
    while True:
        block = handle.read(_BLOCK_BYTES)
        if block:
            held.append(block)
            counted += block.count(b"\n")
            if counted < lines:
                continue
        buffer = b"".join(held)
        if not block:
            if buffer:
                yield buffer
            return
        start = 0
        for end in _record_ends(buffer, lines):
            yield buffer[start:end]
            start = end
        rest = buffer[start:]
        held, counted = ([rest], rest.count(b"\n")) if rest else ([], 0)


def _record_ends(buffer: bytes, lines: int) -> list[int]:
    """Return where each run of ``lines`` whole lines ends, past quoted line breaks.

    ``buffer`` starts at the start of a record.
    """
    data = np.frombuffer(buffer, dtype=np.uint8)
    breaks = np.flatnonzero(data == _NEWLINE)
    if b'"' in buffer:
        # Quotes before each line break (files seldom hold many quotes).
        quotes = np.searchsorted(np.flatnonzero(data == _QUOTE), breaks)
        ends = np.flatnonzero(quotes % 2 == 0)  # line breaks that end a record
    else:  # no quoted fields: every line break ends a record
        ends = np.arange(len(breaks))
    cuts: list[int] = []
    line = 0  # lines before the next piece
    while True:
        i = int(np.searchsorted(ends, line + lines - 1))
        if i == len(ends):
            return cuts
        cuts.append(int(breaks[ends[i]]) + 1)
        line = int(ends[i]) + 1


_NEWLINE, _QUOTE = ord("\n"), ord('"')


@dataclass
class Grouping:
    """Whether the input was grouped by patient (filled in while batches are cut)."""

    grouped: bool = True
    _finished: set[str] = field(default_factory=set)


def patient_batches(
    frames: Iterable[pd.DataFrame], grouping: Grouping, key: str = "patient_id"
) -> Iterator[pd.DataFrame]:
    """Re-cut frames so that no run of one patient's consecutive rows is split.

    The rows of the last patient in a frame are held back and put in front of the
    next frame. Frames without ``key`` pass through unchanged.
    """
    carry: pd.DataFrame | None = None
    for frame in frames:
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
            carry = None
        if key not in frame.columns or frame.empty:
            yield frame
            continue
        patients = frame[key].astype("string").fillna("")
        last = patients.iloc[-1]
        tail_start = len(frame)
        while tail_start > 0 and patients.iloc[tail_start - 1] == last:
            tail_start -= 1
        body, carry = frame.iloc[:tail_start], frame.iloc[tail_start:]
        _note_groups(patients.iloc[:tail_start], grouping)
        if not body.empty:
            yield body
    if carry is not None and not carry.empty:
        _note_groups(carry[key].astype("string").fillna(""), grouping)
        yield carry


def _note_groups(patients: pd.Series, grouping: Grouping) -> None:
    """Record patients whose run has ended; one seen again means the input is not grouped."""
    starts = patients.ne(patients.shift()).fillna(True).astype(bool)
    runs = patients[starts]
    names = [p for p in runs.tolist() if p]
    if grouping.grouped and (len(set(names)) < len(names) or grouping._finished & set(names)):
        grouping.grouped = False
    grouping._finished.update(names)
