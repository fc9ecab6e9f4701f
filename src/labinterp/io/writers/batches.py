"""Write an interpreted frame in any output format, whole or batch by batch.

:func:`write` writes a whole frame; :class:`BatchWriter` takes the batches of a large
run one after another and writes each in a background thread while the next one is
interpreted. Either way the file is written under a temporary name and renamed into place
when complete (:mod:`labinterp.io.writers.files`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Literal

import pandas as pd

from labinterp.io.writers.csv import CsvOutput, Texts
from labinterp.io.writers.files import Output, PartialFile, write_whole
from labinterp.io.writers.jsonl import JsonlOutput
from labinterp.io.writers.parquet import ParquetOutput

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "BatchWriter",
    "FhirOutput",
    "Format",
    "NdjsonOutput",
    "format_of",
    "open_output",
    "write",
]

#: Output formats.
Format = Literal["csv", "parquet", "jsonl", "fhir", "ndjson"]
#: The output formats, in the order the command line lists them.
FORMATS: tuple[Format, ...] = ("csv", "parquet", "jsonl", "fhir", "ndjson")
#: The format each file name ending stands for (``.json``: a FHIR Bundle, ``.ndjson``:
#: Bulk FHIR NDJSON).
SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".json": "fhir",
    ".ndjson": "ndjson",
}


def format_of(path: Path) -> Format | None:
    """Return the output format a file name stands for, or ``None`` when it says none.

    Examples
    --------
    >>> format_of(Path("out.parquet")), format_of(Path("Bundle.JSON")), format_of(Path("x.txt"))
    ('parquet', 'fhir', None)
    """
    return SUFFIXES.get(path.suffix.lower())


class FhirOutput(PartialFile):
    """Collect batches and write them as one FHIR R4 Bundle (JSON) at :meth:`close`.

    Needs the ``[fhir]`` extra, imported when the Bundle is written.

    Parameters
    ----------
    path
        The file, written under a temporary name and renamed into place; ``None`` writes
        to standard output.
    """

    def __init__(self, path: Path | None) -> None:
        super().__init__(path)
        self._frames: list[pd.DataFrame] = []

    def write(self, frame: pd.DataFrame) -> None:
        """Hold the next batch of rows (a Bundle is written whole)."""
        self._frames.append(frame)

    def close(self) -> None:
        """Write the Bundle and rename the file into place."""
        if not self._frames:
            return
        from labinterp.io.writers.fhir import to_fhir_json

        self.handle().write(to_fhir_json(pd.concat(self._frames)).encode("utf-8"))
        self.finish()


class _AbandonedError(Exception):
    """Ends the frames an NDJSON writer reads, so that it removes its temporary file."""


#: Batches held at most while the NDJSON writer catches up.
_NDJSON_AHEAD = 2


class NdjsonOutput:
    """Write batches as Bulk FHIR NDJSON, streamed through one call of the FHIR writer.

    The batches are handed to :func:`labinterp.io.writers.fhir.write_fhir_ndjson` in a
    thread of its own, a few at a time, so memory stays flat; it writes the file under
    a temporary name and renames it when complete. Needs the ``[fhir]`` extra.

    Parameters
    ----------
    path
        The file (NDJSON needs one; ``None`` raises :class:`ValueError`).
    """

    def __init__(self, path: Path | None) -> None:
        if path is None:
            raise ValueError("NDJSON output needs a file (-o/--output).")
        # Imported by name: the FHIR writer module needs the [fhir] extra.
        write_fhir_ndjson = importlib.import_module("labinterp.io.writers.fhir").write_fhir_ndjson
        self.path = path
        self._frames: queue.Queue[pd.DataFrame | BaseException | None] = queue.Queue(_NDJSON_AHEAD)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(write_fhir_ndjson,), name="labinterp-ndjson", daemon=True
        )
        self._thread.start()

    def _batches(self) -> Iterator[pd.DataFrame]:
        while (frame := self._frames.get()) is not None:
            if isinstance(frame, BaseException):
                raise frame
            yield frame

    def _run(self, write_fhir_ndjson: Callable[[Iterator[pd.DataFrame], Path], Path]) -> None:
        try:
            write_fhir_ndjson(self._batches(), self.path)
        except BaseException as error:  # raised again in the writer's own thread
            self._error = error

    def _put(self, item: pd.DataFrame | BaseException | None) -> None:
        while self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._frames.put(item, timeout=0.1)
                return
        self._raise()

    def _raise(self) -> None:
        if self._error is not None and not isinstance(self._error, _AbandonedError):
            raise self._error

    def write(self, frame: pd.DataFrame) -> None:
        """Hand the next batch of rows to the writer."""
        self._raise()
        self._put(frame)

    def close(self) -> None:
        """Wait until the file is written and in place."""
        self._put(None)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop the writer, which removes its temporary file."""
        with contextlib.suppress(BaseException):
            self._put(_AbandonedError())
        self._thread.join()


def open_output(path: Path | None, format: Format = "csv", *, texts: Texts = "inline") -> Output:
    """Return the writer of one output file in a format.

    Parameters
    ----------
    path
        The file; ``None`` writes to standard output (not for Parquet or NDJSON).
    format
        One of :data:`FORMATS`.
    texts
        For CSV: ``"inline"`` or ``"table"`` (see :func:`labinterp.io.writers.csv.write_csv`).

    Returns
    -------
    Output
        A writer with ``write(batch)``, ``close()`` and ``abandon()``.

    Raises
    ------
    ValueError
        For an unknown format, or a texts table with another format than CSV.
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown output format {format!r}; use one of: {', '.join(FORMATS)}.")
    if format != "csv" and texts != "inline":
        raise ValueError("A texts table is written with CSV output only.")
    if format == "csv":
        return CsvOutput(path, texts=texts)
    if format == "parquet":
        return ParquetOutput(path)
    if format == "jsonl":
        return JsonlOutput(path)
    if format == "ndjson":
        return NdjsonOutput(path)
    return FhirOutput(path)


class BatchWriter:
    r"""Write interpreted batches to one output file, renamed into place at the end.

    Batches are written in a background thread, one at a time and in order, so the
    next batch is read and interpreted while the previous one is written (Arrow's
    writers release the GIL). An error in writing is raised at the next batch or at
    the end. Every batch is written with the first batch's columns, in its order.

    Parameters
    ----------
    path
        The file; ``None`` writes to standard output (not for Parquet).
    format
        One of :data:`FORMATS`.
    texts
        For CSV: ``"inline"`` or ``"table"``.

    Examples
    --------
    >>> import tempfile, labinterp
    >>> frame = labinterp.interpret(labinterp.read_csv(b"Analyse;Resultat;Enhet\n"
    ...                                                b"S-Magnesium;0,82;mmol/L\n"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with BatchWriter(Path(folder) / "out.parquet", "parquet") as writer:
    ...         writer.submit(frame.iloc[:1])
    ...         writer.submit(frame.iloc[1:])
    ...     len(pd.read_parquet(Path(folder) / "out.parquet")) == len(frame)
    True
    """

    def __init__(
        self, path: Path | None, format: Format = "csv", *, texts: Texts = "inline"
    ) -> None:
        self.path = path
        self.output = open_output(path, format, texts=texts)
        self.columns: list[str] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labinterp-write")
        self._pending: Future[None] | None = None

    def submit(self, frame: pd.DataFrame) -> None:
        """Write a batch after the one before it, without waiting for it to be written.

        The frame is read by the writer from here on: do not change it.
        """
        self._wait()
        self._pending = self._thread.submit(self.write, frame)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def write(self, frame: pd.DataFrame) -> None:
        """Write a batch now, in the calling thread."""
        if self.columns is None:
            self.columns = list(frame.columns)
        self.output.write(frame.reindex(columns=self.columns))

    def close(self) -> None:
        """Wait for the last batch, finish the file and rename it into place."""
        self._wait()
        self._thread.shutdown()
        self.output.close()

    def abandon(self) -> None:
        """Stop writing and remove the partial file; the target is left as it was."""
        # Let a write in progress end (its error no longer matters), then remove the file.
        with contextlib.suppress(Exception):
            self._wait()
        self._thread.shutdown(cancel_futures=True)
        self.output.abandon()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            self.abandon()
            return
        try:
            self.close()
        except BaseException:
            self.abandon()
            raise


def write(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    format: Format = "csv",
    texts: Texts = "inline",
) -> Path:
    r"""Write an interpreted frame to a file, as ``labinterp interpret`` writes it.

    Parameters
    ----------
    frame
        A frame returned by :func:`labinterp.interpret`.
    path
        The file; it is written under a temporary name and appears only when complete.
    format
        ``"csv"`` (default), ``"parquet"``, ``"jsonl"``, ``"fhir"`` (a FHIR R4
        Bundle) or ``"ndjson"`` (Bulk FHIR NDJSON); the FHIR formats need the ``[fhir]``
        extra.
    texts
        For CSV: ``"inline"`` (default) writes the explanation, caveat and
        range-citation texts on every row; ``"table"`` writes an id on each row and
        each text once to a companion file (``out.csv`` -> ``out.texts.csv``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        For an unknown format, or a texts table with another format than CSV.

    Examples
    --------
    >>> import tempfile, labinterp
    >>> frame = labinterp.interpret(labinterp.read_csv(b"Analyse;Resultat;Enhet\n"
    ...                                                b"S-Magnesium;0,82;mmol/L\n"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = write(frame, Path(folder) / "out.jsonl", format="jsonl")
    ...     written.read_text(encoding="utf-8").count("\n") == len(frame)
    True
    """
    target = Path(path)
    write_whole(open_output(target, format, texts=texts), frame)
    return target
