"""The ``labinterp`` command: it parses the options and calls the library.

Reading in batches is :func:`labinterp.stream.read_batches`, interpreting
:func:`labinterp.interpret`, writing :class:`labinterp.io.writers.BatchWriter` and the
HTML report :func:`labinterp.report`; this module adds the progress bar, the summary and
the messages and exit codes.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from labinterp import schema
from labinterp.catalogue import column_fields, profiles
from labinterp.engine import interpret as interpret_frame
from labinterp.errors import LabinterpError, LabinterpWarning, ReadError
from labinterp.io.readers.csv_headers import check_columns
from labinterp.io.readers.detect import read
from labinterp.io.writers.batches import BatchWriter
from labinterp.io.writers.csv import texts_path
from labinterp.io.writers.html import report
from labinterp.stream import Grouping, patient_batches, read_batches
from labinterp.times import time_zone
from labinterp.values import infer_decimal

app = typer.Typer(
    name="labinterp",
    help="Interpret blood-test exports: units, reference ranges, flags and cited explanations.",
    no_args_is_help=True,
    add_completion=False,
)

#: Rows interpreted per step; inputs larger than this show a progress bar.
CHUNK_ROWS = 100_000
#: From this many rows on, a CSV run ends with a hint about Parquet output.
LARGE_CSV_ROWS = 200_000


class OutputFormat(StrEnum):
    """Output file formats."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    fhir = "fhir"


class TextsOption(StrEnum):
    """Where CSV output puts the explanation, caveat and range-citation texts."""

    inline = "inline"
    table = "table"


#: Country profiles: one choice per profile in the catalogue (``profiles/*.toml``).
#: mypy cannot see members made from data, hence the ignore.
ProfileName = StrEnum("ProfileName", [(name, name) for name in profiles()])  # type: ignore[misc]
#: The profile used when none is given.
DEFAULT_PROFILE = ProfileName("no")

InputArg = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT", help="A lab export: CSV (long or wide), HL7 v2 ORU, FHIR R4 JSON/NDJSON."
    ),
]
OutputOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="Where to write the interpreted rows.")
]
ProfileOpt = Annotated[ProfileName, typer.Option(help="Country profile.")]
LangOpt = Annotated[
    str, typer.Option(help="Language of the explanations: en, nb (Norwegian), sv (Swedish).")
]
AudienceOpt = Annotated[str, typer.Option(help="Who reads the explanations: patient or clinician.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
CatalogueOpt = Annotated[
    Path | None,
    typer.Option(help="A site range catalogue directory (catalogue.toml + ranges.csv)."),
]
CodeMapOpt = Annotated[
    Path | None,
    typer.Option(help="CSV with columns code,analyte for a lab's local codes (CSV input)."),
]


def _column_map(values: list[str] | None) -> dict[str, str]:
    """Read ``--column HEADER=field`` options into ``{header: field}``."""
    mapping: dict[str, str] = {}
    for value in values or []:
        header, equals, field = value.rpartition("=")
        if not equals or not header.strip():
            raise typer.BadParameter(
                "write HEADER=field, e.g. --column 'Måling=raw_value'; fields: "
                f"{', '.join(column_fields())}."
            )
        mapping[header] = field.strip()
    try:
        check_columns(mapping)
    except ReadError as exc:
        raise typer.BadParameter(exc.message) from None
    return mapping


def _check_column_map(values: list[str] | None) -> list[str]:
    _column_map(values)
    return list(values or ())  # a list, never None: typer's list conversion takes its len()


ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        metavar="HEADER=FIELD",
        callback=_check_column_map,
        help=(
            "Map a CSV column to a field (repeat for several), e.g. "
            "--column 'Måling=raw_value'. Fields: " + ", ".join(column_fields()) + "."
        ),
    ),
]
HistoryOpt = Annotated[
    bool, typer.Option("--history", help="Add changes and reference change values.")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Stop at the first row that cannot be interpreted.")
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
ReportInputArg = Annotated[Path, typer.Argument(metavar="INPUT", help="A lab export (any format).")]
PatientOpt = Annotated[str, typer.Option("--patient", help="The patient's id in the export.")]
ReportOutputOpt = Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")]
ReportLangOpt = Annotated[str, typer.Option(help="Language: en, nb, sv.")]
ReportAudienceOpt = Annotated[str, typer.Option(help="patient or clinician.")]
#: Where the report is written when no -o/--output is given.
DEFAULT_REPORT = Path("report.html")


def _version(value: bool) -> None:
    if value:
        from labinterp import __version__

        typer.echo(f"labinterp {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Interpret blood-test exports."""


def _error(console: Console, message: str, *, soft_wrap: bool = False) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=soft_wrap)


@contextlib.contextmanager
def _warnings_shown(console: Console) -> Iterator[None]:
    """Show each distinct labinterp warning once, as a ``warning:`` line on the console."""
    shown: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", LabinterpWarning)
        passed = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if not issubclass(category, LabinterpWarning):
                passed(message, category, filename, lineno, file, line)
            elif str(message) not in shown:
                shown.add(str(message))
                console.print(
                    f"[yellow]warning:[/yellow] {escape(str(message))}",
                    highlight=False,
                    soft_wrap=True,
                )

        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _stop_on_failure(writer: BatchWriter, console: Console, output: Path | None) -> Iterator[None]:
    """Turn a failed run into a one-line message and an exit code; no output is left."""
    try:
        yield
    except LabinterpError as exc:
        writer.abandon()
        _error(console, str(exc), soft_wrap=True)
        raise typer.Exit(code=2) from None
    except ImportError as exc:
        writer.abandon()
        _error(
            console,
            f"{exc}; install the extra for this format: "
            "labinterp[hl7] (HL7 v2) or labinterp[fhir] (FHIR).",
        )
        raise typer.Exit(code=2) from None
    except OSError as exc:
        writer.abandon()
        _error(console, f"cannot write {output or 'the output'} ({exc.strerror}).")
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        writer.abandon()
        console.print("[red]interrupted:[/red] no output was written.")
        raise typer.Exit(code=130) from None


def _progressing(
    batches: Iterable[tuple[pd.DataFrame, float]], progress: Progress, task: TaskID
) -> Iterator[pd.DataFrame]:
    for frame, done in batches:
        progress.update(task, completed=done)
        yield frame


def _run(
    input_path: Path,
    *,
    in_memory: bool,
    read_options: dict[str, Any],
    options: dict[str, Any],
    writer: BatchWriter,
    grouping: Grouping,
    console: Console,
) -> tuple[dict[str, Counter[str]], int]:
    """Read, interpret and write the input batch by batch; return the counts and rows."""
    counts: dict[str, Counter[str]] = {"status": Counter(), "flag": Counter()}
    rows = 0
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        size = input_path.stat().st_size if input_path.exists() else 0
        task = progress.add_task("interpreting", total=size or None)
        batches = read_batches(
            input_path, batch_rows=CHUNK_ROWS, in_memory=in_memory, **read_options
        )
        for batch in patient_batches(_progressing(batches, progress, task), grouping):
            if "decimal" not in options and "raw_value" in batch.columns:
                options["decimal"] = infer_decimal(list(pd.unique(batch["raw_value"])))
            result = interpret_frame(batch, **options)
            rows += int((result["status"] != "derived").sum())
            # Counted per distinct value, not row by row.
            for name in ("status", "flag"):  # categoricals: only the values that occur
                for value, count in result[name].value_counts(dropna=True).items():
                    if count:
                        counts[name][str(value)] += int(count)
            writer.submit(result)  # the frame is only read by the writer from here on
    if rows == 0:
        raise ReadError(f"{input_path}: no results were found in the file.")
    return counts, rows


def _summary(counts: dict[str, Counter[str]], rows: int, console: Console) -> None:
    console.print(f"[bold]{rows}[/bold] rows read and interpreted")
    table = Table(title="By status", show_edge=False)
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status, count in sorted(counts["status"].items()):
        table.add_row(str(status), str(count))
    console.print(table)
    if counts["flag"]:
        flags = Table(title="By flag", show_edge=False)
        flags.add_column("flag")
        flags.add_column("rows", justify="right")
        for flag in schema.FLAGS:
            if counts["flag"][flag]:
                flags.add_row(flag, str(counts["flag"][flag]))
        console.print(flags)


def _closing_notes(
    console: Console, *, grouped: bool, output: Path | None, text_table: bool, large_csv: bool
) -> None:
    if not grouped:
        console.print(
            "[yellow]warning:[/yellow] the input is not grouped by patient: some patients' "
            "rows are apart, so context rules, derived values and history saw them in "
            "separate batches. Sort the file by patient, or use --in-memory."
        )
    if output is not None:
        console.print(f"written to {output}")
        if text_table:
            console.print(f"texts written to {texts_path(output)}")
    if large_csv and not text_table:
        console.print(
            "tip: CSV repeats each explanation in full on every row; --texts table writes "
            "each text once to a companion file (about a sixth of the size), and --format "
            "parquet stores each text once (about 1/80 of the size).",
            soft_wrap=True,
        )


def _checked_zone(timezone: str | None, console: Console) -> str | None:
    """Return the --timezone value, or stop with a message when it is not an IANA zone."""
    try:
        time_zone(timezone)
    except ValueError as exc:
        _error(console, str(exc))
        raise typer.Exit(code=2) from None
    return timezone


# A command's parameters are its command-line options, one each.
@app.command()
def interpret(  # noqa: PLR0913
    input_path: InputArg,
    output: OutputOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    lang: LangOpt = "en",
    audience: AudienceOpt = "patient",
    output_format: FormatOpt = OutputFormat.csv,
    catalogue: CatalogueOpt = None,
    code_map: CodeMapOpt = None,
    history: HistoryOpt = False,
    strict: StrictOpt = False,
    in_memory: InMemoryOpt = False,
    texts: TextsOpt = TextsOption.inline,
    column: ColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Interpret every row of INPUT and write the interpreted frame.

    CSV input is streamed in batches that keep each patient's rows together, so
    memory stays flat however large the file; the output is written to a temporary
    name and renamed when complete.
    """
    console = Console(stderr=True)
    text_table = texts is TextsOption.table
    if text_table and (output_format is not OutputFormat.csv or output is None):
        _error(console, "--texts table needs CSV output to a file (-o/--output).")
        raise typer.Exit(code=2)
    options: dict[str, Any] = {
        "profile": profile.value,
        "lang": lang,
        "audience": audience,
        "catalogue": catalogue,
        "history": history,
        "on_invalid": "raise" if strict else "record",
        "timezone": _checked_zone(timezone, console),
    }
    read_options: dict[str, Any] = {"code_map": code_map} if code_map else {}
    if column:
        read_options["columns"] = _column_map(column)
    writer = BatchWriter(output, output_format.value, texts=texts.value)
    grouping = Grouping()
    with _stop_on_failure(writer, console, output), _warnings_shown(console):
        counts, rows = _run(
            input_path,
            in_memory=in_memory,
            read_options=read_options,
            options=options,
            writer=writer,
            grouping=grouping,
            console=console,
        )
        writer.close()
    _summary(counts, rows, console)
    _closing_notes(
        console,
        grouped=grouping.grouped,
        output=output,
        text_table=text_table,
        large_csv=output_format is OutputFormat.csv and rows >= LARGE_CSV_ROWS,
    )


@app.command("report")
def report_command(
    input_path: ReportInputArg,
    patient: PatientOpt,
    output: ReportOutputOpt = DEFAULT_REPORT,
    profile: ProfileOpt = DEFAULT_PROFILE,
    lang: ReportLangOpt = "en",
    audience: ReportAudienceOpt = "patient",
    column: ColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Write one patient's results, explanations and trends as a standalone HTML file."""
    console = Console(stderr=True)
    zone = _checked_zone(timezone, console)
    options = {"columns": _column_map(column)} if column else {}
    try:
        with _warnings_shown(console):
            frame = read(input_path, **options)
            result = interpret_frame(
                frame,
                profile=profile.value,
                lang=lang,
                audience=audience,
                history=True,
                timezone=zone,
            )
            written = report(result, patient_id=patient).to_html(output)
    except (LabinterpError, LookupError) as exc:
        message = exc.message if isinstance(exc, LabinterpError) else str(exc)
        _error(console, message, soft_wrap=True)
        raise typer.Exit(code=2) from None
    console.print(f"written to {written}")


if __name__ == "__main__":  # pragma: no cover
    app()
