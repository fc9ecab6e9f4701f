"""The ``labinterp`` command."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from labinterp.errors import LabinterpError, ReadError
from labinterp.engine import interpret as interpret_frame
from labinterp.io.readers.detect import detect_format, read
from labinterp.io.writers.safe import FORMULA_START, is_formula
from labinterp.perf import factorized, shared_pool
from labinterp.stream import Grouping, iter_csv, patient_batches
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


#: The text columns that ``--texts table`` moves to the companion texts file.
TABLE_TEXT_COLUMNS = (
    "explanation",
    "explanation_sources",
    "caveats",
    "caveat_rules",
    "reference_citation",
)


def texts_path(output: Path) -> Path:
    """Return the companion texts file of a CSV output (``out.csv`` -> ``out.texts.csv``)."""
    return output.with_name(f"{output.stem}.texts.csv")


class ProfileName(StrEnum):
    """Country profiles."""

    no = "no"
    se = "se"
    dk = "dk"
    us = "us"


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


def _csv_column(values: pd.Series) -> Any:
    """Return a column as an Arrow array of CSV text, made safe once per distinct value.

    Text cells that a spreadsheet would run as a formula get a leading quote
    (:func:`labinterp.io.safe.neutralise_formulas`); numbers are left alone.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes, dtype=np.int64)
        uniques: Any = values.cat.categories
    elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return pa.array(values, from_pandas=True)
    elif pd.api.types.is_datetime64_any_dtype(values):
        # As pandas writes them: the date alone when every time is midnight.
        codes, moments = pd.factorize(values, use_na_sentinel=True)
        times = pd.DatetimeIndex(moments)
        with_time = bool((times != times.normalize()).any())
        texts = times.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")
        return _dictionary(codes, list(texts))
    else:
        if isinstance(values.dtype, pd.StringDtype):
            text = pa.array(values)
            if not pc.any(pc.match_substring_regex(text, FORMULA_START)).as_py():
                return text  # no cell starts like a formula: written as it is
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Arrow's writer writes dictionary arrays as their texts: each text is formatted once.
    return _dictionary(codes, [f"'{u}" if is_formula(u) else str(u) for u in uniques])


def _dictionary(codes: Any, texts: list[str]) -> Any:
    """Return an Arrow dictionary array of ``texts`` (int32 indices; code -1: missing)."""
    import pyarrow as pa

    indices = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, type=pa.int32(), mask=indices < 0), pa.array(texts, type=pa.string())
    )


#: Rows formatted as CSV per piece; pieces are formatted in parallel, written in order.
CSV_PIECE_ROWS = 5_000
#: Formatted pieces held at most while earlier ones are written.
_PIECES_AHEAD = 2


def _formatters() -> ThreadPoolExecutor:
    return shared_pool("labinterp-csv", 2)


def _write_csv(frame: pd.DataFrame, target: Any, *, header: bool) -> None:
    """Append a frame as CSV with Arrow's writer (several times faster than pandas').

    The rows are formatted in pieces in two threads (Arrow's writer releases the GIL)
    and written in order, with at most a few formatted pieces held in memory.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.table({str(c): _csv_column(frame[c]) for c in frame.columns})

    def formatted(start: int) -> Any:
        sink = pa.BufferOutputStream()
        options = pa_csv.WriteOptions(include_header=header and start == 0)
        pa_csv.write_csv(table.slice(start, CSV_PIECE_ROWS), sink, write_options=options)
        return sink.getvalue()

    starts = range(0, max(table.num_rows, 1), CSV_PIECE_ROWS)
    out = sys.stdout.buffer if target is sys.stdout else None
    with contextlib.ExitStack() as stack:
        handle = out or stack.enter_context(open(target, "wb" if header else "ab"))
        pending: deque[Future[Any]] = deque()
        for start in starts:
            pending.append(_formatters().submit(formatted, start))
            if len(pending) > _PIECES_AHEAD:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())
        handle.flush()


def _text_array(values: pd.Series) -> Any:
    """Return an object column as an Arrow string array (anything not text as its str)."""
    import pyarrow as pa

    try:  # text and missing values only: converted directly
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array(values.astype("string"), type=pa.string())


def _with_text_ids(frame: pd.DataFrame, ids: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Replace the long text columns by ids into the texts file.

    ``ids`` maps (column, text) to its id and grows with each batch, so a text has one id
    for the whole run; ids are numbered in order of first appearance.
    """
    frame = frame.copy(deep=False)
    for name in TABLE_TEXT_COLUMNS:
        if name not in frame.columns:
            continue
        found = factorized(frame[name].array)  # a categorical by its own codes
        codes, texts = found.codes, found.uniques
        # Only the texts this batch uses get an id (in order of category).
        used = np.bincount(codes + 1, minlength=len(texts) + 1)[1:] > 0
        new_code = np.append(np.cumsum(used) - 1, -1)  # code -1 (missing) stays -1
        keys = [
            ids.setdefault((name, str(t)), f"T{len(ids) + 1}")
            for t, u in zip(texts, used, strict=True)
            if u
        ]
        frame[name] = pd.Categorical.from_codes(
            new_code[codes], categories=pd.Index(keys, dtype=object)
        )
    return frame


def _partial(path: Path) -> Path:
    """Return the hidden name a file is written under until it is complete."""
    return path.with_name(f".{path.name}.partial")


class _Writer:
    """Write interpreted batches to a temporary file, renamed into place at the end.

    Batches are written in a background thread, one at a time and in order, so the next
    batch is read and interpreted while the previous one is written (Arrow's writers
    release the GIL). An error in writing is raised at the next batch or at the end.
    """

    def __init__(self, path: Path | None, fmt: OutputFormat, *, text_table: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.partial = _partial(path) if path is not None else None
        # With a text table: per (column, text), its id; the texts are written at the end.
        self.text_ids: dict[tuple[str, str], str] | None = {} if text_table else None
        self.columns: list[str] | None = None
        self._parquet: Any = None
        self._fhir: list[pd.DataFrame] = []
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labinterp-write")
        self._pending: Future[None] | None = None

    def submit(self, frame: pd.DataFrame) -> None:
        """Write a batch after the one before it, without waiting for it to be written."""
        self._wait()
        self._pending = self._thread.submit(self.write, frame)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def write(self, frame: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = list(frame.columns)
        frame = frame.reindex(columns=self.columns)
        first = self._parquet is None and not self._fhir and not self._started
        target: Any = sys.stdout if self.partial is None else self.partial
        if self.fmt is OutputFormat.csv:
            if self.text_ids is not None:
                frame = _with_text_ids(frame, self.text_ids)
            _write_csv(frame, target, header=first)
        elif self.fmt is OutputFormat.jsonl:
            text = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
            self._append(text, first)
        elif self.fmt is OutputFormat.parquet:
            self._write_parquet(frame)
        else:
            self._fhir.append(frame)
        self._started = True

    _started = False

    def _append(self, text: str, first: bool) -> None:
        if self.partial is None:
            sys.stdout.write(text)
            return
        with self.partial.open("w" if first else "a", encoding="utf-8") as handle:
            handle.write(text)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.partial is None:
            raise ReadError("Parquet output needs -o/--output.")
        # Text columns as strings; the categorical text columns as dictionaries (each
        # distinct text converted once) with one index type for every batch.
        columns: dict[str, Any] = {}
        for name in frame.columns:
            values = frame[name]
            if isinstance(values.dtype, pd.CategoricalDtype):
                columns[str(name)] = _dictionary(
                    values.cat.codes, [str(c) for c in values.cat.categories]
                )
            elif values.dtype == object:
                columns[str(name)] = _text_array(values)
            else:
                columns[str(name)] = pa.Array.from_pandas(values)
        table = pa.table(columns)
        if self._parquet is None:
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(self.partial, self._schema)
        self._parquet.write_table(table.cast(self._schema))

    def close(self) -> None:
        self._wait()
        self._thread.shutdown()
        if self._parquet is not None:
            self._parquet.close()
        if self.text_ids is not None and self.path is not None:
            texts = texts_path(self.path)
            partial = _partial(texts)
            table = pd.DataFrame(
                [(i, column, text) for (column, text), i in self.text_ids.items()],
                columns=["id", "column", "text"],
            )
            _write_csv(table, partial, header=True)
            os.replace(partial, texts)
        if self._fhir:
            from labinterp.io.writers.fhir import to_fhir_json

            self._append(to_fhir_json(pd.concat(self._fhir)), True)
        if self.partial is not None and self.path is not None and self.partial.exists():
            os.replace(self.partial, self.path)

    def abandon(self) -> None:
        # Let a write in progress end (its error no longer matters), then remove the file.
        with contextlib.suppress(Exception):
            self._wait()
        self._thread.shutdown(cancel_futures=True)
        if self._parquet is not None:
            self._parquet.close()
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)
        if self.text_ids is not None and self.path is not None:
            _partial(texts_path(self.path)).unlink(missing_ok=True)


def _batches(
    input_path: Path, in_memory: bool, progress: Progress, read_options: dict[str, Any]
) -> Iterator[pd.DataFrame]:
    """Yield the input in batches: streamed for CSV, else read whole and cut by rows."""
    size = input_path.stat().st_size if input_path.exists() else 0
    task = progress.add_task("interpreting", total=size or None)
    head = b""
    if input_path.exists():
        with input_path.open("rb") as handle:
            head = handle.read(4096)
    if not in_memory and head and detect_format(head, str(input_path)) == "csv":
        for frame, consumed in iter_csv(input_path, batch_lines=CHUNK_ROWS, **read_options):
            progress.update(task, completed=consumed)
            yield frame
        return
    frame = read(input_path, **read_options)
    if frame.empty:
        raise ReadError(f"{input_path}: no results were found in the file.")
    step = len(frame) if in_memory else CHUNK_ROWS
    for start in range(0, len(frame), step):
        yield frame.iloc[start : start + step]
        progress.update(task, completed=size * min(1.0, (start + step) / len(frame)))


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
        for flag in ("LL", "L", "N", "H", "HH"):
            if counts["flag"][flag]:
                flags.add_row(flag, str(counts["flag"][flag]))
        console.print(flags)


@app.command()
def interpret(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A lab export: CSV (long or wide), HL7 v2 ORU, FHIR R4 JSON/NDJSON.",
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write the interpreted rows.")
    ] = None,
    profile: Annotated[ProfileName, typer.Option(help="Country profile.")] = ProfileName.no,
    lang: Annotated[
        str, typer.Option(help="Language of the explanations: en, nb (Norwegian), sv (Swedish).")
    ] = "en",
    audience: Annotated[
        str, typer.Option(help="Who reads the explanations: patient or clinician.")
    ] = "patient",
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.csv,
    catalogue: Annotated[
        Path | None,
        typer.Option(help="A site range catalogue directory (catalogue.toml + ranges.csv)."),
    ] = None,
    code_map: Annotated[
        Path | None,
        typer.Option(help="CSV with columns code,analyte for a lab's local codes (CSV input)."),
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Add changes and reference change values.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first row that cannot be interpreted.")
    ] = False,
    in_memory: Annotated[
        bool,
        typer.Option(
            "--in-memory",
            help="Read the whole file at once (for inputs not grouped by patient).",
        ),
    ] = False,
    texts: Annotated[
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
    ] = TextsOption.inline,
) -> None:
    """Interpret every row of INPUT and write the interpreted frame.

    CSV input is streamed in batches that keep each patient's rows together, so
    memory stays flat however large the file; the output is written to a temporary
    name and renamed when complete.
    """
    console = Console(stderr=True)
    options: dict[str, Any] = {
        "profile": profile.value,
        "lang": lang,
        "audience": audience,
        "catalogue": catalogue,
        "history": history,
        "on_invalid": "raise" if strict else "record",
    }
    read_options: dict[str, Any] = {"code_map": code_map} if code_map else {}
    text_table = texts is TextsOption.table
    if text_table and (output_format is not OutputFormat.csv or output is None):
        console.print(
            "[red]error:[/red] --texts table needs CSV output to a file (-o/--output).",
            highlight=False,
        )
        raise typer.Exit(code=2)
    writer = _Writer(output, output_format, text_table=text_table)
    counts: dict[str, Counter[str]] = {"status": Counter(), "flag": Counter()}
    rows = 0
    grouping = Grouping()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            for batch in patient_batches(
                _batches(input_path, in_memory, progress, read_options), grouping
            ):
                if "decimal" not in options and "raw_value" in batch.columns:
                    options["decimal"] = infer_decimal(list(pd.unique(batch["raw_value"])))
                result = interpret_frame(batch, **options)
                rows += int((result["status"] != "derived").sum())
                # Counted per distinct value, not row by row.
                flag = result["flag"]
                for name, values in (("status", result["status"]), ("flag", flag[flag != ""])):
                    for value, count in values.value_counts().items():
                        counts[name][str(value)] += int(count)
                writer.submit(result)  # the frame is only read by the writer from here on
        if rows == 0:
            raise ReadError(f"{input_path}: no results were found in the file.")
        writer.close()
    except LabinterpError as exc:
        writer.abandon()
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    except ImportError as exc:
        writer.abandon()
        console.print(
            f"[red]error:[/red] {exc}; install the extra for this format: "
            "labinterp[hl7] (HL7 v2) or labinterp[fhir] (FHIR).",
            highlight=False,
        )
        raise typer.Exit(code=2) from None
    except OSError as exc:
        writer.abandon()
        console.print(
            f"[red]error:[/red] cannot write {output or 'the output'} ({exc.strerror}).",
            highlight=False,
        )
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        writer.abandon()
        console.print("[red]interrupted:[/red] no output was written.")
        raise typer.Exit(code=130) from None
    _summary(counts, rows, console)
    if not grouping.grouped:
        console.print(
            "[yellow]warning:[/yellow] the input is not grouped by patient: some patients' "
            "rows are apart, so context rules, derived values and history saw them in "
            "separate batches. Sort the file by patient, or use --in-memory."
        )
    if output is not None:
        console.print(f"written to {output}")
        if text_table:
            console.print(f"texts written to {texts_path(output)}")
    if output_format is OutputFormat.csv and rows >= LARGE_CSV_ROWS and not text_table:
        console.print(
            "tip: CSV repeats each explanation in full on every row; --texts table writes "
            "each text once to a companion file (about a sixth of the size), and --format "
            "parquet stores each text once (about 1/80 of the size).",
            soft_wrap=True,
        )


@app.command("report")
def report_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="A lab export (any format).")],
    patient: Annotated[str, typer.Option("--patient", help="The patient's id in the export.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    profile: Annotated[ProfileName, typer.Option(help="Country profile.")] = ProfileName.no,
    lang: Annotated[str, typer.Option(help="Language: en, nb, sv.")] = "en",
    audience: Annotated[str, typer.Option(help="patient or clinician.")] = "patient",
) -> None:
    """Write one patient's results, explanations and trends as a standalone HTML file."""
    from labinterp.io.writers.html import report

    console = Console(stderr=True)
    try:
        frame = read(input_path)
        result = interpret_frame(
            frame, profile=profile.value, lang=lang, audience=audience, history=True
        )
        written = report(result, patient_id=patient).to_html(output)
    except (LabinterpError, LookupError) as exc:
        message = exc.message if isinstance(exc, LabinterpError) else str(exc)
        console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    console.print(f"written to {written}")


if __name__ == "__main__":  # pragma: no cover
    app()
