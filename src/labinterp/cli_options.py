"""The options of the ``labinterp`` command: their choices, checks and help texts.

The choices come from the catalogue: profiles, the text catalogues' languages and the
audiences, read by :mod:`labinterp.choices` (quickly: ``--help`` needs them).
:mod:`labinterp.cli` runs the commands.
"""

from __future__ import annotations

import codecs
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labinterp.choices import AUDIENCES, field_names, languages, profile_names
from labinterp.errors import ReadError


class OutputFormat(StrEnum):
    """Output file formats."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    fhir = "fhir"
    ndjson = "ndjson"


class TextsOption(StrEnum):
    """Where CSV output puts the explanation, caveat and range-citation texts."""

    inline = "inline"
    table = "table"


#: Country profiles: one choice per profile in the catalogue (``profiles/*.toml``).
#: mypy cannot see members made from data, hence the ignores.
ProfileName = StrEnum("ProfileName", [(name, name) for name in profile_names()])  # type: ignore[misc]
#: The profile used when none is given.
DEFAULT_PROFILE = ProfileName("no")
#: Languages: one choice per text catalogue (``data/text/<lang>.toml``).
LangName = StrEnum("LangName", [(name, name) for name in languages()])  # type: ignore[misc]
#: Readers of the explanations: one choice per audience of the catalogue.
AudienceName = StrEnum("AudienceName", [(name, name) for name in AUDIENCES])  # type: ignore[misc]
#: The language and audience used when none is given.
DEFAULT_LANG, DEFAULT_AUDIENCE = LangName("en"), AudienceName("patient")

InputArg = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT",
        help="A lab export: CSV (long or wide), HL7 v2 ORU, FHIR R4 JSON/NDJSON; - reads "
        "standard input (read whole).",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Where to write the interpreted rows; - or none: standard output. The format "
        "follows the name: .csv, .parquet, .jsonl, .json (FHIR Bundle), .ndjson (Bulk FHIR).",
    ),
]
ProfileOpt = Annotated[ProfileName, typer.Option(help="Country profile.")]
LangOpt = Annotated[LangName, typer.Option(help="Language of the explanations.")]
AudienceOpt = Annotated[AudienceName, typer.Option(help="Who reads the explanations.")]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="Output format (default: from the output's name, else csv)."),
]
CatalogueOpt = Annotated[
    Path | None,
    typer.Option(help="A site range catalogue directory (catalogue.toml + ranges.csv)."),
]
CodeMapOpt = Annotated[
    Path | None,
    typer.Option(help="CSV with columns code,analyte for a lab's local codes (CSV input)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also say what is read and written, batch by batch.")
]


def pairs(values: list[str] | None, example: str) -> dict[str, str]:
    """Read ``KEY=VALUE`` options into a mapping (the last ``=`` separates).

    Raises
    ------
    typer.BadParameter
        For a value without ``=`` or without a key; ``example`` shows one.
    """
    mapping: dict[str, str] = {}
    for value in values or []:
        key, equals, field = value.rpartition("=")
        if not equals or not key.strip():
            raise typer.BadParameter(f"write KEY=VALUE, e.g. {example}.")
        mapping[key] = field.strip()
    return mapping


def column_map(values: list[str] | None) -> dict[str, str]:
    """Read ``--column HEADER=field`` options into ``{header: field}``.

    Raises
    ------
    typer.BadParameter
        For a malformed option or a field that is not a results-frame field.
    """
    from labinterp.io.readers.csv_headers import check_columns

    try:
        mapping = pairs(values, "--column 'Måling=raw_value'")
    except typer.BadParameter as exc:
        raise typer.BadParameter(f"{exc.message} Fields: {', '.join(field_names())}.") from None
    try:
        check_columns(mapping)
    except ReadError as exc:
        raise typer.BadParameter(exc.message) from None
    return mapping


def _check_column_map(values: list[str] | None) -> list[str]:
    column_map(values)
    return list(values or ())  # a list, never None: typer's list conversion takes its len()


def _check_sex_map(values: list[str] | None) -> list[str]:
    pairs(values, "--sex-map 1=male --sex-map 2=female")
    return list(values or ())


def _check_encoding(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise typer.BadParameter(f"unknown encoding {value!r} (e.g. utf-8, cp1252).") from None
    return value


ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        metavar="HEADER=FIELD",
        callback=_check_column_map,
        help=(
            "Map a CSV column to a field (repeat for several), e.g. "
            "--column 'Måling=raw_value'. Fields: " + ", ".join(field_names()) + "."
        ),
    ),
]
SexMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sex-map",
        metavar="CODE=SEX",
        callback=_check_sex_map,
        help="Read a sex code of a CSV export (repeat for several), e.g. --sex-map 1=male "
        "--sex-map 2=female; numeric codes are never read without one.",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        callback=_check_encoding,
        help="Text encoding of a CSV export (default: detected; UTF-8, else cp1252).",
    ),
]
HistoryOpt = Annotated[
    bool, typer.Option("--history", help="Add changes and reference change values.")
]
StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Stop at the first row that cannot be interpreted (exit 1)."),
]
InMemoryOpt = Annotated[
    bool,
    typer.Option(
        "--in-memory", help="Read the whole file at once (for inputs not grouped by patient)."
    ),
]
TextsOpt = Annotated[
    TextsOption,
    typer.Option(
        "--texts",
        help=(
            "CSV output: 'inline' writes the explanation, caveat and range-citation "
            "texts on every row; "
            "'table' writes an id on each row and each text once to a companion file "
            "(out.csv -> out.texts.csv)."
        ),
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help=(
            "IANA time zone of times written without a UTC offset (e.g. America/Chicago); "
            "default: the profile's (no: Europe/Oslo, se: Europe/Stockholm, "
            "dk: Europe/Copenhagen; us: none, such times stay floating)."
        ),
    ),
]
ReportInputArg = Annotated[
    Path, typer.Argument(metavar="INPUT", help="A lab export (any format); - reads standard input.")
]
PatientOpt = Annotated[str, typer.Option("--patient", help="The patient's id in the export.")]
ReportOutputOpt = Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")]
#: Where the report is written when no -o/--output is given.
DEFAULT_REPORT = Path("report.html")
