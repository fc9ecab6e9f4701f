"""CSV bytes to a frame of text fields: the encoding, the delimiter and the field reader.

The steps below the CSV reader (:mod:`labinterp.io.readers.csv`) that the streamed
reader (:mod:`labinterp.stream`) also uses: it decodes and sniffs a file's start once
and reads the rest in pieces.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from labinterp.errors import ReadError

__all__ = [
    "SNIFF_CHARS",
    "decode",
    "decode_keeping_utf8",
    "detect_delimiter",
    "read_fields",
    "read_fields_arrow",
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
    """Decode as :func:`decode` does; also return the UTF-8 bytes of the text if at hand.

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
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
    return "".join(out), None


def detect_delimiter(text: str) -> str:
    r"""Guess the field delimiter (``;``, ``,``, tab or ``|``) from the first lines.

    Python's :class:`csv.Sniffer` decides from the first 50 whole lines of the first
    :data:`SNIFF_CHARS` characters; when it cannot, the delimiter that occurs most in
    the header line is taken, and ``,`` when none does.

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
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in (";", "\t", ",", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_fields(text: str, sep: str, name: str, utf8: bytes | None = None) -> pd.DataFrame:
    """Read CSV text into a frame of text fields, empty fields missing.

    Arrow's multi-threaded reader reads well-formed files; anything it refuses (ragged
    rows, a header with repeated or empty names, one column, a carriage return that
    ends no line, a delimiter of several characters) is read by pandas, which also
    words the error for a file that cannot be read. A property test holds Arrow's
    reading equal to that of Python's csv module wherever Arrow's reader is used.

    Parameters
    ----------
    text
        The CSV text, header first.
    sep
        The field delimiter.
    name
        How to name the input in error messages.
    utf8
        ``text`` encoded as UTF-8, when at hand (spares encoding it again).

    Returns
    -------
    pandas.DataFrame
        One text column per header name, empty fields missing.

    Raises
    ------
    ReadError
        When the text is not readable CSV; the message names the line, never a cell.
    """
    if len(sep) == 1:
        frame = read_fields_arrow(text, sep, utf8)
        if frame is not None:
            return frame
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=True,
            engine="python" if len(sep) > 1 else "c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        where = str(exc).split("\n")[0]
        # pandas' message names the line and the field count, never cell contents.
        raise ReadError(f"{name}: not a readable CSV file ({where}).") from exc
    for column in frame.columns:
        frame[column] = frame[column].replace("", None)
    return frame


def read_fields_arrow(text: str, sep: str, utf8: bytes | None = None) -> pd.DataFrame | None:
    """Read with Arrow's CSV reader; ``None`` when the file needs pandas' reader.

    Parameters
    ----------
    text, sep, utf8
        As for :func:`read_fields`.

    Returns
    -------
    pandas.DataFrame or None
        The fields as Arrow-backed text columns, or ``None`` for a file Arrow's reader
        would read differently from Python's csv module (see :func:`read_fields`).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    returns = text.count("\r")
    if returns and returns != text.count("\r\n"):
        return None  # a carriage return outside a line ending: Arrow reads it differently
    first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    try:
        header = next(csv.reader([first], delimiter=sep, quotechar='"'))
    except (csv.Error, StopIteration):
        return None
    if len(header) < 2 or len(set(header)) != len(header) or not all(h.strip() for h in header):
        # pandas renames repeated and empty names, and in a one-column file skips
        # lines of white space
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8") if utf8 is None else utf8),
            read_options=pacsv.ReadOptions(use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', double_quote=True, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                # Large strings: the storage of pandas' Arrow-backed strings (no cast).
                column_types=dict.fromkeys(header, pa.large_string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.column_names != header:
        return None
    text_type = pd.StringDtype("pyarrow", na_value=np.nan)
    frame: pd.DataFrame = table.to_pandas(types_mapper=lambda _: text_type)
    return frame
