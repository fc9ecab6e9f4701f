"""Read long-format CSV exports (one row per result) into the results frame.

Handles what Nordic and US exports look like: ``;``, ``,`` or tab delimiters,
UTF-8 (with or without BOM) or Latin-1/cp1252 encodings, decimal commas, and
header names in English, Norwegian, Swedish and Danish. Every cell is read as
text so ``raw_value`` and ``raw_unit`` stay exactly as written; parsing happens
in :func:`labinterp.interpret`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from labinterp import catalogue
from labinterp.dates import complete_context
from labinterp.errors import ReadError, UnknownAnalyteError
from labinterp.io.readers.csv_fields import decode_keeping_utf8, detect_delimiter, read_fields
from labinterp.io.readers.csv_headers import map_headers, warn_unused
from labinterp.io.readers.csv_records import Layout
from labinterp.io.readers.source import load_source

__all__ = ["HEADER_ALIASES", "apply_code_map", "parse_csv", "read_csv"]


class _HeaderSynonyms(Mapping[str, str]):
    """``{normalised header: field}`` of ``data/columns.toml``, read on first use."""

    def __getitem__(self, key: str) -> str:
        return catalogue.header_synonyms()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(catalogue.header_synonyms())

    def __len__(self) -> int:
        return len(catalogue.header_synonyms())


#: Header synonyms, normalised (:func:`labinterp.catalogue.header_key`), with the field
#: each fills: :func:`labinterp.catalogue.header_synonyms`, read from ``columns.toml``.
HEADER_ALIASES: Mapping[str, str] = _HeaderSynonyms()

#: The file line of the first data row: a file read in parts warns only for its first part.

_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]+)[\)\]]\s*$")


def _analyte_column(header: str) -> tuple[str, str | None] | None:
    """Return (name, unit) when a wide-form header names a result column, else None.

    A header is a result column when it carries a unit in brackets
    (``Kreatinin (µmol/L)``, ``HbA1c [mmol/mol]``) or its name is a known analyte.
    """
    match = _UNIT_IN_HEADER.match(header)
    if match:
        return match.group("name").strip(), match.group("unit").strip()
    if catalogue.lookup_name(header) or catalogue.lookup_code(header):
        return header.strip(), None
    return None


def _melt_wide(
    frame: pd.DataFrame, result_columns: dict[str, tuple[str, str | None]], lines: np.ndarray
) -> pd.DataFrame:
    """Turn one row per sample into one row per result; empty cells are not results."""
    context = [c for c in frame.columns if c not in result_columns]
    frame = frame.assign(source_row=lines)
    parts = []
    for position, (column, (name, unit)) in enumerate(result_columns.items()):
        cells = frame[column]
        present = cells.notna() & (cells.astype("string").str.strip() != "")
        part = frame.loc[present, ["source_row", *context]].copy()
        part["source_column"] = column
        part["source_name"] = name
        part["raw_value"] = cells[present]
        part["raw_unit"] = unit
        part["_order"] = position
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long = long.sort_values(["source_row", "_order"], kind="stable").drop(columns="_order")
    return long.reset_index(drop=True)


def _load_code_map(code_map: Mapping[str, str] | str | os.PathLike[str]) -> dict[str, str]:
    if isinstance(code_map, Mapping):
        return {str(k).strip(): v for k, v in code_map.items()}
    path = Path(code_map)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    except (OSError, pd.errors.ParserError, ValueError) as exc:
        raise ReadError(f"{path}: the code map cannot be read ({type(exc).__name__}).") from exc
    if not {"code", "analyte"} <= set(table.columns):
        raise ReadError(f"{path}, line 1: a code map needs the columns code and analyte.")
    return dict(zip(table["code"].str.strip(), table["analyte"].str.strip(), strict=True))


def apply_code_map(
    frame: pd.DataFrame, code_map: Mapping[str, str] | str | os.PathLike[str]
) -> pd.DataFrame:
    """Set ``analyte`` from a lab's local codes (``source_code``) through an explicit map.

    Parameters
    ----------
    frame
        A results frame with ``source_code``.
    code_map
        A mapping ``{local code: analyte key}`` or the path of a CSV file with the
        columns ``code`` and ``analyte`` (an empty analyte marks a code as known
        but not covered). Codes missing from the map are left to the
        catalogue's own code and name lookup.

    Returns
    -------
    pandas.DataFrame
        The frame with ``analyte`` filled where the map knows the code.

    Raises
    ------
    UnknownAnalyteError
        When the map names an analyte key that is not in the catalogue.
    """
    mapping = _load_code_map(code_map)
    unknown = sorted({a for a in mapping.values() if a and a not in catalogue.analytes()})
    if unknown:
        raise UnknownAnalyteError(
            "The code map names analyte keys that are not in the catalogue "
            f"({', '.join(unknown)}).",
            field="analyte",
        )
    if "source_code" not in frame.columns:
        return frame
    out = frame.copy()
    mapped = out["source_code"].astype("string").str.strip().map(mapping)
    mapped = mapped.where(mapped != "", None)
    if "analyte" in out.columns:
        mapped = out["analyte"].where(out["analyte"].notna(), mapped)
    out["analyte"] = mapped
    return out


def read_csv(
    source: str | os.PathLike[str] | IO[Any] | bytes,
    *,
    columns: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    shape: Literal["auto", "long", "wide"] = "auto",
    code_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    sex_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    r"""Read a long-format CSV export into a results frame.

    Parameters
    ----------
    source
        A path, an open file (text or binary), or bytes.
    columns
        Explicit mapping from the file's header names to results-frame fields
        (``{"Måling": "raw_value"}``); applied before the header synonyms of
        ``data/columns.toml`` (``labinterp.catalogue.column_fields()``). Headers are
        compared ignoring case, spaces, underscores, hyphens, dots and diacritics.
    delimiter
        Field delimiter; detected (``;``, ``,``, tab, ``|``) when ``None``.
    encoding
        Text encoding; detected (UTF-8, UTF-8 with BOM, else cp1252/Latin-1)
        when ``None``.
    shape
        ``"long"`` (one row per result), ``"wide"`` (one row per sample, one
        column per analyte with the unit in the header, e.g. ``Kreatinin (µmol/L)``)
        or ``"auto"``: wide when no result-value column is found but result
        columns are.
    code_map
        A lab's local codes mapped to analyte keys (a mapping, or a CSV file
        with columns ``code`` and ``analyte``); see :func:`apply_code_map`.
    sex_map
        Explicit mapping of sex codes, e.g. ``{"1": "male", "2": "female"}``;
        numeric codes are never read without one.

    Returns
    -------
    pandas.DataFrame
        Values, units and ranges as text exactly as written, field names where
        a header is recognised, other columns kept as written, dates parsed,
        ``age_years`` derived from birth and collection dates when absent, and
        ``source_row`` = the 1-based line number in the file (the header is
        line 1; blank lines and line breaks inside quoted fields are counted).
        Wide files add ``source_column``, the header of the result's column.

    Raises
    ------
    ReadError
        When the file cannot be opened, decoded or parsed, has a row whose fields
        do not fit the header, or has no result-value column (the message names the
        file and position), or when ``columns`` names a field no column can fill.

    Warns
    -----
    LabinterpWarning
        Once per read, naming the columns that are not used for interpretation
        (they pass through unchanged) and how to map them.

    Examples
    --------
    >>> frame = read_csv(b"Analyse;Resultat;Enhet\nS-Magnesium;0,82;mmol/L\n")
    >>> frame[["source_name", "raw_value", "raw_unit"]].iloc[0].tolist()
    ['S-Magnesium', '0,82', 'mmol/L']
    """
    data, name = load_source(source)
    return parse_csv(
        data,
        name=name,
        columns=columns,
        delimiter=delimiter,
        encoding=encoding,
        shape=shape,
        code_map=code_map,
        sex_map=sex_map,
    )


def parse_csv(
    data: bytes | str,
    *,
    name: str = "<bytes>",
    columns: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    shape: Literal["auto", "long", "wide"] = "auto",
    code_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    sex_map: Mapping[str, str] | None = None,
    first_line: int | None = None,
    layout: Layout | None = None,
    report_unused: bool = True,
) -> pd.DataFrame:
    """Parse CSV text or bytes; see :func:`read_csv` for the options.

    Parameters
    ----------
    data
        The file's bytes (encoding detected) or text.
    name
        How to name the input in error messages.
    columns, delimiter, encoding, shape, code_map, sex_map
        As for :func:`read_csv`.
    first_line
        The file's line number of the line after the header, for a text that is the
        header followed by a later part of the file; ``None`` when the text is the
        whole file.
    layout
        The file's layout decided from its first rows, for a later part of a file
        read in parts (see :func:`labinterp.io.readers.csv_records.record_layout`).
    report_unused
        Whether to name the columns not used for interpretation (a file read in
        parts names them with its first part only, so once per file).

    Returns
    -------
    pandas.DataFrame
        The results frame.
    """
    text, utf8 = _text(data if isinstance(data, bytes) else data.encode("utf-8"), name, encoding)
    sep = delimiter or detect_delimiter(text)
    fields = read_fields(text, sep, name, utf8, first_line=first_line, layout=layout)
    frame = fields.frame
    headers = [str(c) for c in frame.columns]
    header_map = map_headers(headers, columns, name)
    frame = frame.rename(columns=header_map.fields)
    wide_columns = {
        c: found
        for c in frame.columns
        if c not in header_map.fields.values() and (found := _analyte_column(str(c))) is not None
    }
    wanted_wide = shape == "wide" or (shape == "auto" and "raw_value" not in frame.columns)
    melted = wanted_wide and bool(wide_columns)
    if melted:
        frame = _melt_wide(frame, wide_columns, fields.lines)
    elif "raw_value" not in frame.columns or shape == "wide":
        raise ReadError(
            f"{name}, line 1: no result-value column was recognised; name it "
            "(e.g. Resultat, Result, Value), pass columns={'<header>': 'raw_value'}, "
            "or for one column per analyte write the unit in the header "
            "('Kreatinin (µmol/L)')."
        )
    else:
        frame.insert(0, "source_row", fields.lines)
    if "lab_reference_text" not in frame.columns and (
        {"lab_reference_low", "lab_reference_high"} & set(frame.columns)
    ):
        frame["lab_reference_text"] = _joined_limits(frame)
    if code_map is not None:
        frame = apply_code_map(frame, code_map)
    if report_unused:
        warn_unused(header_map, header_map.unused(headers, wide_columns if melted else ()))
    return complete_context(frame, sex_map=sex_map)


def _text(data: bytes, name: str, encoding: str | None) -> tuple[str, bytes | None]:
    """Decode a file's bytes (detected, or as ``encoding``); also its UTF-8 bytes if at hand."""
    if encoding is None:
        text, utf8 = decode_keeping_utf8(data)
    else:
        utf8 = None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"{name}, byte {exc.start}: cannot be decoded as {encoding}; "
                "leave encoding= unset to detect it."
            ) from exc
        except LookupError as exc:
            raise ReadError(f"{name}: unknown encoding {encoding!r}.") from exc
    if not text or text.isspace():  # (not strip(): no copy of the text)
        raise ReadError(f"{name}: the file is empty.")
    return text, utf8


def _joined_limits(frame: pd.DataFrame) -> pd.Series:
    """Return the lab's range as text (``low - high``) from two limit columns."""
    empty = pd.Series(None, index=frame.index, dtype="object")
    low = frame["lab_reference_low"] if "lab_reference_low" in frame.columns else empty
    high = frame["lab_reference_high"] if "lab_reference_high" in frame.columns else empty
    joined = low.fillna("").astype("string") + " - " + high.fillna("").astype("string")
    return joined.where(low.notna() | high.notna(), None)
