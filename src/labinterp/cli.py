"""The ``labinterp`` command: it parses the options and calls the library.

Reading in batches is :func:`labinterp.stream.read_batches`, interpreting
:func:`labinterp.interpret`, writing :class:`labinterp.io.writers.BatchWriter` and the
HTML report :func:`labinterp.report`; this module adds the progress bar, the summary and
the messages and exit codes.

Exit codes: 0 success; 1 a failure while running (an input that cannot be read, a row
that stops a ``--strict`` run, an output that cannot be written); 2 a usage error (an
unknown option or value, an INPUT that is not a file, an output over the input); 130
interrupted (Ctrl-C), 128 + the signal's number when ended by SIGTERM or SIGHUP; 141 when
the reader of standard output went away (``| head``), silently.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer

from labinterp.cli_options import (
    DEFAULT_AUDIENCE,
    DEFAULT_LANG,
    DEFAULT_PROFILE,
    DEFAULT_REPORT,
    AudienceOpt,
    CatalogueOpt,
    CodeMapOpt,
    ColumnOpt,
    EncodingOpt,
    FormatOpt,
    HistoryOpt,
    InMemoryOpt,
    InputArg,
    LangOpt,
    OutputFormat,
    OutputOpt,
    PatientOpt,
    ProfileOpt,
    QuietOpt,
    ReportInputArg,
    ReportOutputOpt,
    SexMapOpt,
    StrictOpt,
    TextsOpt,
    TextsOption,
    TimezoneOpt,
    VerboseOpt,
    column_map,
    pairs,
)
from labinterp.cli_summary import print_summary
from labinterp.errors import LabinterpError, LabinterpWarning

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from labinterp.io.writers.batches import BatchWriter, Format
    from labinterp.stream import Grouping

# pandas, rich, the readers, the engine and the writers are imported by the functions
# that use them, so that ``labinterp --version`` and ``--help`` start as fast as typer
# alone (about 60 ms, where importing them all takes about a second).

app = typer.Typer(
    name="labinterp",
    help=(
        "Interpret blood-test exports: units, reference ranges, flags and cited explanations. "
        "Exit codes: 0 success, 1 failure while running (or a --strict stop), 2 usage error."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: option texts are shown as written
    pretty_exceptions_show_locals=False,  # a traceback never shows patient data
)

#: Rows interpreted per step; inputs larger than this show a progress bar.
CHUNK_ROWS = 100_000
#: From this many rows on, a CSV run ends with a hint about Parquet output.
LARGE_CSV_ROWS = 200_000
#: The name that stands for standard input (INPUT) or standard output (-o).
STDIO = Path("-")
#: Exit codes.
EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 130, 141


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


def interpret_frame(frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Interpret one batch with :func:`labinterp.interpret` (imported on first use)."""
    from labinterp.engine import interpret as interpret_batch

    _started()
    return interpret_batch(frame, **options)


def read_batches(source: Path, **options: Any) -> Iterator[tuple[pd.DataFrame, float]]:
    """Read a file in batches with :func:`labinterp.stream.read_batches` (imported on use)."""
    from labinterp.stream import read_batches as batches_of

    return batches_of(source, **options)


def _say(console: Console, label: str, style: str, message: str) -> None:
    """Print ``label: message``; the message is printed as it is, never read as markup."""
    from rich.text import Text

    console.print(
        Text.assemble((f"{label}:", style), " ", message), highlight=False, soft_wrap=True
    )


def _error(console: Console, message: str) -> None:
    _say(console, "error", "red", message)


def _stop(console: Console, message: str, code: int) -> NoReturn:
    _error(console, message)
    raise typer.Exit(code=code)


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
                _say(console, "warning", "yellow", str(message))

        warnings.showwarning = show
        yield


def _stdout_closed() -> None:
    """Send what is left for standard output nowhere: its reader has gone."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def _failures_reported(
    console: Console, output: Path | None, undo: Callable[[], None] | None = None
) -> Iterator[None]:
    """Turn a failed run into a one-line message and an exit code; no output is left.

    ``undo`` (a callable) removes what was written so far.
    """

    def abandon() -> None:
        if undo is not None:
            undo()

    try:
        yield
    except LabinterpError as exc:
        abandon()
        _stop(console, str(exc), EXIT_FAILURE)
    except ImportError as exc:
        abandon()
        _stop(
            console,
            f"{exc}; install the extra for this format: pip install 'labinterp[hl7]' "
            "(HL7 v2) or pip install 'labinterp[fhir]' (FHIR).",
            EXIT_FAILURE,
        )
    except BrokenPipeError:
        abandon()
        _stdout_closed()
        raise typer.Exit(code=EXIT_BROKEN_PIPE) from None
    except OSError as exc:
        abandon()
        _stop(console, f"cannot write {output or 'the output'} ({exc.strerror}).", EXIT_FAILURE)
    except KeyboardInterrupt:
        abandon()
        _say(console, "interrupted", "red", "no output was written.")
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except SystemExit:  # ended by a signal
        abandon()
        raise


def _progressing(
    batches: Iterable[tuple[pd.DataFrame, float]], progress: Progress, task: TaskID
) -> Iterator[pd.DataFrame]:
    for frame, done in batches:
        progress.update(task, completed=done)
        yield frame


def _input_batches(
    source: Path | None, *, in_memory: bool, read_options: dict[str, Any]
) -> tuple[Iterator[tuple[pd.DataFrame, float]], Any]:
    """Return the input's batches and a function giving an empty frame of the input.

    Standard input (``source`` is ``None``) is read whole.
    """
    from labinterp.io.readers.detect import read

    if source is not None:
        batches = read_batches(source, batch_rows=CHUNK_ROWS, in_memory=in_memory, **read_options)
        return batches, lambda: read(source, **read_options)
    whole = read(sys.stdin.buffer, **read_options)
    steps = range(0, len(whole), CHUNK_ROWS)
    return ((whole.iloc[at : at + CHUNK_ROWS], 0.0) for at in steps), lambda: whole


def _run(
    source: Path | None,
    *,
    in_memory: bool,
    read_options: dict[str, Any],
    options: dict[str, Any],
    writer: BatchWriter,
    grouping: Grouping,
    console: Console,
    verbose: bool,
) -> tuple[dict[str, Counter[str]], int]:
    """Read, interpret and write the input batch by batch; return the counts and rows."""
    import pandas as pd
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from labinterp.stream import patient_batches
    from labinterp.values import infer_decimal

    counts: dict[str, Counter[str]] = {"status": Counter(), "flag": Counter(), "panel": Counter()}
    rows = batches_written = 0
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        size = source.stat().st_size if source is not None else 0
        task = progress.add_task("interpreting", total=size or None)
        batches, empty = _input_batches(source, in_memory=in_memory, read_options=read_options)
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
            by = result.groupby(["analyte", "flag"], observed=True, dropna=False).size()
            for pair, count in by.items():
                analyte, flag = pair if isinstance(pair, tuple) else (pair, None)
                counts["panel"][f"{analyte}\t{'' if pd.isna(flag) else flag}"] += int(count)
            writer.submit(result)  # the frame is only read by the writer from here on
            batches_written += 1
            if verbose:
                console.print(f"batch {batches_written}: {len(result)} rows", highlight=False)
    if batches_written == 0:  # a header and no rows: an empty result with every column
        writer.submit(interpret_frame(empty().iloc[:0], **options))
    return counts, rows


def _closing_notes(
    console: Console,
    *,
    grouped: bool,
    output: Path | None,
    text_table: bool,
    large_csv: bool,
    quiet: bool,
) -> None:
    from rich.text import Text

    from labinterp.io.writers.csv import texts_path

    if not grouped:
        _say(
            console,
            "warning",
            "yellow",
            "the input is not grouped by patient: some patients' rows are apart, so "
            "context rules, derived values and history saw them in separate batches. "
            "Sort the file by patient, or use --in-memory.",
        )
    if quiet:
        return
    if output is not None:
        console.print(Text(f"written to {output}"), highlight=False, soft_wrap=True)
        if text_table:
            console.print(Text(f"texts written to {texts_path(output)}"), highlight=False)
    if large_csv and not text_table:
        console.print(
            "tip: CSV repeats each explanation in full on every row; --texts table writes "
            "each text once to a companion file (about a sixth of the size), and --format "
            "parquet stores each text once (about 1/80 of the size).",
            soft_wrap=True,
        )


def _checked_zone(timezone: str | None, console: Console) -> str | None:
    """Return the --timezone value, or stop with a message when it is not an IANA zone."""
    from labinterp.times import time_zone

    try:
        time_zone(timezone)
    except ValueError as exc:
        _stop(console, str(exc), EXIT_USAGE)
    return timezone


def _checked_input(input_path: Path, console: Console) -> Path | None:
    """Return INPUT as a file path (``None``: standard input), or stop with a usage error."""
    if input_path == STDIO:
        return None
    if input_path.is_dir():
        message = f"{input_path} is a directory; INPUT must be a file (or - for stdin)."
        _stop(console, message, EXIT_USAGE)
    if not input_path.exists():
        _stop(console, f"{input_path}: no such file.", EXIT_USAGE)
    return input_path


def _checked_output(
    output: Path | None,
    output_format: OutputFormat | None,
    source: Path | None,
    console: Console,
) -> tuple[Path | None, Format]:
    """Return the output file (``None``: standard output) and its format, or stop."""
    from labinterp.io.writers.batches import format_of

    if output is None or output == STDIO:
        chosen = output_format.value if output_format else "csv"
        if chosen in ("parquet", "ndjson"):
            _stop(console, f"{chosen} output needs a file: give -o FILE.", EXIT_USAGE)
        return None, chosen  # type: ignore[return-value]
    if output.is_dir():
        _stop(console, f"{output} is a directory; -o must name a file.", EXIT_USAGE)
    named = format_of(output)
    if output_format is None and named is None:
        hint = (
            "; an HTML report is written by 'labinterp report'" if output.suffix == ".html" else ""
        )
        _stop(
            console,
            f"cannot tell the output format from the name {output.name}: give --format "
            f"({', '.join(f.value for f in OutputFormat)}){hint}.",
            EXIT_USAGE,
        )
    _checked_not_input(output, source, console)
    return output, (output_format.value if output_format else named)  # type: ignore[return-value]


def _checked_not_input(output: Path, source: Path | None, console: Console) -> None:
    from labinterp.io.writers.files import SameFileError, refuse_same_file

    try:
        refuse_same_file(output, *([source] if source is not None else []))
    except SameFileError as exc:
        _stop(console, str(exc), EXIT_USAGE)


def _read_options(
    code_map: Path | None, column: list[str] | None, sex_map: list[str] | None, encoding: str | None
) -> dict[str, Any]:
    """Return the options for the reader from the CSV options given."""
    found: dict[str, Any] = {
        "code_map": code_map,
        "columns": column_map(column) if column else None,
        "sex_map": pairs(sex_map, "") if sex_map else None,
        "encoding": encoding,
    }
    return {name: value for name, value in found.items() if value is not None}


# A command's parameters are its command-line options, one each.
@app.command()
def interpret(  # noqa: PLR0913
    input_path: InputArg,
    output: OutputOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    lang: LangOpt = DEFAULT_LANG,
    audience: AudienceOpt = DEFAULT_AUDIENCE,
    output_format: FormatOpt = None,
    catalogue: CatalogueOpt = None,
    code_map: CodeMapOpt = None,
    history: HistoryOpt = False,
    strict: StrictOpt = False,
    in_memory: InMemoryOpt = False,
    texts: TextsOpt = TextsOption.inline,
    column: ColumnOpt = None,
    sex_map: SexMapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Interpret every row of INPUT and write the interpreted frame.

    CSV input is streamed in batches that keep each patient's rows together, so
    memory stays flat however large the file; the output is written to a temporary
    name and renamed when complete.
    """
    from rich.console import Console
    from rich.text import Text

    from labinterp.io.writers.batches import BatchWriter
    from labinterp.io.writers.csv import texts_path
    from labinterp.io.writers.files import partials_removed_on_signals
    from labinterp.stream import Grouping

    console = Console(stderr=True)
    source = _checked_input(input_path, console)
    target, chosen = _checked_output(output, output_format, source, console)
    text_table = texts is TextsOption.table
    if text_table and (chosen != "csv" or target is None):
        _stop(console, "--texts table needs CSV output to a file (-o/--output).", EXIT_USAGE)
    if text_table and target is not None:
        _checked_not_input(texts_path(target), source, console)
    options: dict[str, Any] = {
        "profile": profile.value,
        "lang": lang.value,
        "audience": audience.value,
        "catalogue": catalogue,
        "history": history,
        "on_invalid": "raise" if strict else "record",
        "timezone": _checked_zone(timezone, console),
    }
    if verbose:
        console.print(Text(f"writing {chosen} to {target or 'standard output'}"))
    grouping = Grouping()
    with partials_removed_on_signals():
        writers: list[BatchWriter] = []

        def undo() -> None:
            for opened in writers:
                opened.abandon()

        with _failures_reported(console, target, undo):
            writer = BatchWriter(target, chosen, texts=texts.value)
            writers.append(writer)
            with _warnings_shown(console):
                counts, rows = _run(
                    source,
                    in_memory=in_memory,
                    read_options=_read_options(code_map, column, sex_map, encoding),
                    options=options,
                    writer=writer,
                    grouping=grouping,
                    console=console,
                    verbose=verbose,
                )
            writer.close()
    if not quiet:
        print_summary(console, counts, rows, lang=lang.value)
    _closing_notes(
        console,
        grouped=grouping.grouped,
        output=target,
        text_table=text_table,
        large_csv=chosen == "csv" and rows >= LARGE_CSV_ROWS,
        quiet=quiet,
    )


@app.command("report")
def report_command(
    input_path: ReportInputArg,
    patient: PatientOpt,
    output: ReportOutputOpt = DEFAULT_REPORT,
    profile: ProfileOpt = DEFAULT_PROFILE,
    lang: LangOpt = DEFAULT_LANG,
    audience: AudienceOpt = DEFAULT_AUDIENCE,
    column: ColumnOpt = None,
    sex_map: SexMapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write one patient's results, explanations and trends as a standalone HTML file."""
    from rich.console import Console
    from rich.text import Text

    from labinterp.io.readers.detect import read
    from labinterp.io.writers.files import partials_removed_on_signals
    from labinterp.io.writers.html import report

    console = Console(stderr=True)
    source = _checked_input(input_path, console)
    if output == STDIO or output.is_dir():
        _stop(console, "-o must name the HTML file to write.", EXIT_USAGE)
    _checked_not_input(output, source, console)
    zone = _checked_zone(timezone, console)
    options = _read_options(None, column, sex_map, encoding)
    with partials_removed_on_signals(), _failures_reported(console, output):
        try:
            with _warnings_shown(console):
                frame = read(sys.stdin.buffer if source is None else source, **options)
                result = interpret_frame(
                    frame,
                    profile=profile.value,
                    lang=lang.value,
                    audience=audience.value,
                    history=True,
                    timezone=zone,
                )
                written = report(result, patient_id=patient).to_html(output)
        except LookupError as exc:  # no such patient (or an error of the library)
            _stop(console, exc.message if isinstance(exc, LabinterpError) else str(exc), 1)
    if not quiet:
        console.print(Text(f"written to {written}"), highlight=False, soft_wrap=True)


#: Whether :func:`run` turned the garbage collector off for the start (see :func:`_started`).
_COLLECTOR_PAUSED = {"paused": False}


def _started() -> None:
    """Turn the garbage collector back on once the engine is imported (see :func:`run`).

    The objects made so far (modules, the pint registry) live as long as the process:
    they are set aside for good (:func:`gc.freeze`), and collection resumes for the run.
    """
    if _COLLECTOR_PAUSED["paused"]:
        _COLLECTOR_PAUSED["paused"] = False
        gc.freeze()
        gc.enable()


def run() -> None:
    """Run the ``labinterp`` command: the console script's entry point.

    What it changes for the run (dask kept out, the collector paused at the start) is
    given back when the command ends, also to a caller that catches ``SystemExit``.
    """
    kept_out = "dask" not in sys.modules
    if kept_out:
        # pint imports dask when it is installed (pint.compat, for Quantities of dask
        # arrays): about 75 ms of a run that needs pint (UCUM codes), which uses no dask.
        sys.modules["dask"] = None  # type: ignore[assignment]
    if gc.isenabled():
        # Importing pandas and the engine makes some hundred thousand objects that live
        # as long as the process; the collector would walk them again and again: about
        # 0.1 s of a small file's run. It is off until the engine is imported.
        gc.disable()
        _COLLECTOR_PAUSED["paused"] = True
    try:
        app()
    finally:
        if kept_out and sys.modules.get("dask", False) is None:
            del sys.modules["dask"]
        if _COLLECTOR_PAUSED["paused"]:
            _COLLECTOR_PAUSED["paused"] = False
            gc.enable()


if __name__ == "__main__":  # pragma: no cover
    run()
