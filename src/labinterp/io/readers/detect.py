"""Pick the reader for an export from its content (the file name is only a tie-breaker)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd

from labinterp.errors import ReadError
from labinterp.io.readers.source import load_source

__all__ = ["Format", "detect_format", "read"]

Format = Literal["csv", "hl7", "fhir"]

#: Options only the CSV reader takes.
_CSV_OPTIONS = ("columns", "code_map", "delimiter", "encoding", "shape", "sex_map")
_FORMAT_NAMES = {"hl7": "HL7 v2", "fhir": "FHIR"}

_MLLP_START = b"\x0b"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def detect_format(data: bytes, name: str = "<bytes>") -> Format:
    r"""Tell HL7 v2, FHIR JSON/NDJSON and CSV apart by their first bytes.

    Parameters
    ----------
    data
        The start of the export (a few kilobytes are enough).
    name
        File name, used only when the content does not decide.

    Returns
    -------
    {"csv", "hl7", "fhir"}

    Raises
    ------
    ReadError
        When the data are empty or binary.

    Examples
    --------
    >>> detect_format(b"MSH|^~\\&|LAB|...")
    'hl7'
    >>> detect_format(b'{"resourceType": "Bundle"}')
    'fhir'
    """
    head = data[:4096]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    stripped = head.lstrip(b" \t\r\n")
    if not stripped:
        raise ReadError(f"{name}: the file is empty.")
    if stripped.startswith(_MLLP_START) or stripped[:3] == b"MSH" or b"\rMSH|" in head:
        return "hl7"
    if stripped[:1] in (b"{", b"["):
        return "fhir"
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ReadError(f"{name}, byte {nul}: binary data, not a lab export.")
    suffix = Path(name).suffix.casefold()
    if suffix in {".hl7", ".oru"}:
        return "hl7"
    if suffix in {".json", ".ndjson"}:
        return "fhir"
    return "csv"


def read(source: str | os.PathLike[str] | IO[Any] | bytes, **options: Any) -> pd.DataFrame:
    """Read any supported export into the results frame.

    The format is detected from the content (:func:`detect_format`): HL7 v2
    (``MSH`` segments, MLLP framing), FHIR R4 JSON or NDJSON, else CSV.

    Parameters
    ----------
    source
        A path, an open file (text or binary), or bytes.
    **options
        Passed to the chosen reader (e.g. ``columns=``, ``code_map=`` for CSV).

    Returns
    -------
    pandas.DataFrame
        The results frame.

    Raises
    ------
    ReadError
        When the input cannot be read at all, or a CSV option (``columns=``,
        ``code_map=``, ...) is given for HL7 v2 or FHIR input.
    """
    data, name = load_source(source)
    kind = detect_format(data, name)
    if kind == "csv":
        from labinterp.io.readers.csv import parse_csv

        return parse_csv(data, name=name, **options)
    given = sorted(k for k in _CSV_OPTIONS if options.get(k) is not None)
    if given:
        raise ReadError(
            f"{name}: {', '.join(f'{k}=' for k in given)} applies to CSV input only; "
            f"this input is {_FORMAT_NAMES[kind]}."
        )
    options = {k: v for k, v in options.items() if k not in _CSV_OPTIONS}
    parse: Callable[..., pd.DataFrame]
    try:
        if kind == "hl7":
            from labinterp.io.readers.hl7 import parse_hl7 as parse
        else:
            from labinterp.io.readers.fhir import parse_fhir as parse
    except ImportError as exc:
        raise ReadError(
            f"{name}: reading {kind.upper()} needs the [{kind}] extra: "
            f"pip install 'labinterp[{kind}]'."
        ) from exc
    return parse(data, name=name, **options)
