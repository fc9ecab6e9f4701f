"""Write an interpreted frame in any output format, whole or batch by batch.

:func:`write` writes a whole frame; :class:`BatchWriter` takes the batches of a large
run one after another and writes each in a background thread while the next one is
interpreted. Either way the file is written under a hidden name and renamed into place
when complete (:mod:`labinterp.io.writers.files`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Literal

import pandas as pd

from labinterp.io.writers.csv import CsvOutput, Texts
from labinterp.io.writers.files import Output, PartialFile, write_whole
from labinterp.io.writers.jsonl import JsonlOutput
from labinterp.io.writers.parquet import ParquetOutput

__all__ = ["FORMATS", "BatchWriter", "FhirOutput", "Format", "open_output", "write"]

#: Output formats.
Format = Literal["csv", "parquet", "jsonl", "fhir"]
#: The output formats, in the order the command line lists them.
FORMATS: tuple[Format, ...] = ("csv", "parquet", "jsonl", "fhir")


class FhirOutput(PartialFile):
    """Collect batches and write them as one FHIR R4 Bundle (JSON) at :meth:`close`.

    Needs the ``[fhir]`` extra, imported when the Bundle is written.

    Parameters
    ----------
    path
        The file, written under a partial name and renamed into place; ``None`` writes
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

        text = to_fhir_json(pd.concat(self._frames))
        if self.partial is None:
            sys.stdout.write(text)
            return
        with self.partial.open("w", encoding="utf-8") as handle:
            handle.write(text)
        self.finish()


def open_output(path: Path | None, format: Format = "csv", *, texts: Texts = "inline") -> Output:
    """Return the writer of one output file in a format.

    Parameters
    ----------
    path
        The file; ``None`` writes to standard output (not for Parquet).
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
        The file; it is written under a hidden name and appears only when complete.
    format
        ``"csv"`` (default), ``"parquet"``, ``"jsonl"`` or ``"fhir"`` (a FHIR R4
        Bundle; needs the ``[fhir]`` extra).
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
