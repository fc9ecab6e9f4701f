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
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from labinterp import catalogue
from labinterp.dates import complete_context
from labinterp.errors import ReadError, UnknownAnalyteError
from labinterp.io.readers.csv_fields import decode_keeping_utf8, detect_delimiter, read_fields
from labinterp.io.readers.csv_records import Layout
from labinterp.io.readers.source import load_source

__all__ = ["HEADER_ALIASES", "apply_code_map", "parse_csv", "read_csv"]

#: Header names (case-insensitive, as written in exports) mapped to glossary columns.
HEADER_ALIASES: Mapping[str, str] = {
    # patient
    "patient_id": "patient_id",
    "patient": "patient_id",
    "patient id": "patient_id",
    "pasient-id": "patient_id",
    "pasient_id": "patient_id",
    "pasientid": "patient_id",
    "pasient": "patient_id",
    "patient-id": "patient_id",
    "mrn": "patient_id",
    "subject_id": "patient_id",
    # sex
    "sex": "sex",
    "gender": "sex",
    "kjønn": "sex",
    "kjonn": "sex",
    "kön": "sex",
    "kon": "sex",
    "køn": "sex",
    # age and dates
    "age": "age_years",
    "age_years": "age_years",
    "alder": "age_years",
    "ålder": "age_years",
    "birth_date": "birth_date",
    "date of birth": "birth_date",
    "dob": "birth_date",
    "fødselsdato": "birth_date",
    "födelsedatum": "birth_date",
    "fødselsdag": "birth_date",
    "collected_at": "collected_at",
    "collection date": "collected_at",
    "sample date": "collected_at",
    "prøvedato": "collected_at",
    "prøvetakingsdato": "collected_at",
    "provtagningsdatum": "collected_at",
    "provdatum": "collected_at",
    "prøvetagningsdato": "collected_at",
    "charttime": "collected_at",
    # analyte identity
    "analyte": "analyte",
    "source_code": "source_code",
    "code": "source_code",
    "kode": "source_code",
    "kod": "source_code",
    "npu": "source_code",
    "npu-kode": "source_code",
    "npu-kod": "source_code",
    "nlk-kode": "source_code",
    "loinc": "source_code",
    "analysekode": "source_code",
    "analyskod": "source_code",
    "source_code_system": "source_code_system",
    "code_system": "source_code_system",
    "source_name": "source_name",
    "test": "source_name",
    "test name": "source_name",
    "analyse": "source_name",
    "analys": "source_name",
    "analysenavn": "source_name",
    "analysnamn": "source_name",
    "undersøgelse": "source_name",
    "komponent": "source_name",
    # value, unit, range, flag
    "raw_value": "raw_value",
    "value": "raw_value",
    "result": "raw_value",
    "resultat": "raw_value",
    "svar": "raw_value",
    "verdi": "raw_value",
    "värde": "raw_value",
    "værdi": "raw_value",
    "raw_unit": "raw_unit",
    "unit": "raw_unit",
    "units": "raw_unit",
    "enhet": "raw_unit",
    "enhed": "raw_unit",
    "lab_reference_text": "lab_reference_text",
    "reference range": "lab_reference_text",
    "reference interval": "lab_reference_text",
    "ref range": "lab_reference_text",
    "referanseområde": "lab_reference_text",
    "referanseomrade": "lab_reference_text",
    "referanseverdi": "lab_reference_text",
    "referensintervall": "lab_reference_text",
    "referensområde": "lab_reference_text",
    "referenceinterval": "lab_reference_text",
    "reference_low": "lab_reference_low",
    "ref_range_lower": "lab_reference_low",
    "lower limit": "lab_reference_low",
    "nedre grense": "lab_reference_low",
    "nedre referansegrense": "lab_reference_low",
    "undre gräns": "lab_reference_low",
    "reference_high": "lab_reference_high",
    "ref_range_upper": "lab_reference_high",
    "upper limit": "lab_reference_high",
    "øvre grense": "lab_reference_high",
    "øvre referansegrense": "lab_reference_high",
    "övre gräns": "lab_reference_high",
    "lab_flag": "lab_flag",
    "flag": "lab_flag",
    "abnormal flag": "lab_flag",
    "flagg": "lab_flag",
    "markering": "lab_flag",
    "avvik": "lab_flag",
}


#: Glossary columns a header can map to; never taken for wide-form result columns.
GLOSSARY_INPUTS = frozenset(HEADER_ALIASES.values())


def _header_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(name)).strip().casefold().split())


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
        Explicit mapping from the file's header names to glossary columns
        (``{"Prøvesvar": "raw_value"}``); applied before the built-in aliases.
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
        Values, units and ranges as text exactly as written, glossary column
        names where recognised, other columns kept as written, dates parsed,
        ``age_years`` derived from birth and collection dates when absent, and
        ``source_row`` = the 1-based line number in the file (the header is
        line 1; blank lines and line breaks inside quoted fields are counted).
        Wide files add ``source_column``, the header of the result's column.

    Raises
    ------
    ReadError
        When the file cannot be opened, decoded or parsed, has a row whose fields
        do not fit the header, or has no result-value column; the message names
        the file and position.

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

    Returns
    -------
    pandas.DataFrame
        The results frame.
    """
    text, utf8 = _text(data if isinstance(data, bytes) else data.encode("utf-8"), name, encoding)
    sep = delimiter or detect_delimiter(text)
    fields = read_fields(text, sep, name, utf8, first_line=first_line, layout=layout)
    frame = _glossary_names(fields.frame, columns)
    wide_columns = {
        c: found
        for c in frame.columns
        if c not in GLOSSARY_INPUTS and (found := _analyte_column(str(c))) is not None
    }
    wanted_wide = shape == "wide" or (shape == "auto" and "raw_value" not in frame.columns)
    if wanted_wide and wide_columns:
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
    if not text.strip():
        raise ReadError(f"{name}: the file is empty.")
    return text, utf8


def _glossary_names(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """Rename headers to glossary columns: ``columns`` first, then the built-in aliases.

    The first header that maps to a glossary column takes it; later ones keep their names.
    """
    explicit = {_header_key(k): v for k, v in (columns or {}).items()}
    rename: dict[str, str] = {}
    taken: set[str] = set()
    for column in frame.columns:
        key = _header_key(column)
        target = explicit.get(key) or HEADER_ALIASES.get(key)
        if target and target not in taken:
            rename[column] = target
            taken.add(target)
    return frame.rename(columns=rename)


def _joined_limits(frame: pd.DataFrame) -> pd.Series:
    """Return the lab's range as text (``low - high``) from two limit columns."""
    empty = pd.Series(None, index=frame.index, dtype="object")
    low = frame["lab_reference_low"] if "lab_reference_low" in frame.columns else empty
    high = frame["lab_reference_high"] if "lab_reference_high" in frame.columns else empty
    joined = low.fillna("").astype("string") + " - " + high.fillna("").astype("string")
    return joined.where(low.notna() | high.notna(), None)
