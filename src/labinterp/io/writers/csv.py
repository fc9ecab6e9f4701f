"""Write interpreted frames as CSV with Arrow's writer, texts inline or in a texts table.

Every text field is quoted, booleans are ``true``/``false``, numbers are in their shortest
round-trip form and dates are ISO (the date alone when every time is midnight). A time with
a UTC offset beside it (``collected_at`` and ``collected_at_offset``) is written with that
offset (``2026-03-01 08:10:00+01:00``), a floating one without
(:func:`labinterp.times.time_text_codes`). Text
cells and header cells that a spreadsheet would run as a formula get a leading ``'``
(:mod:`labinterp.io.writers.safe`).

With ``texts="table"`` the long text columns (:data:`TABLE_TEXT_COLUMNS`) hold ids
(``T1``, ``T2`` ...) and each distinct text is written once to a companion file
(:func:`texts_path`) with the columns ``id``, ``column`` and ``text``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from labinterp.io.writers.arrow import dictionary_array
from labinterp.io.writers.files import PartialFile, write_whole
from labinterp.io.writers.safe import FORMULA_START, safe_cell
from labinterp.perf import factorized, shared_pool
from labinterp.times import time_text_codes

__all__ = [
    "CSV_PIECE_ROWS",
    "TABLE_TEXT_COLUMNS",
    "CsvOutput",
    "Texts",
    "csv_column",
    "texts_path",
    "with_text_ids",
    "write_csv",
    "write_rows",
]

#: Where CSV output puts the explanation, caveat and range-citation texts: on every row
#: (``"inline"``) or once in a companion texts file (``"table"``).
Texts = Literal["inline", "table"]

#: The text columns that a texts table moves to the companion texts file.
TABLE_TEXT_COLUMNS = (
    "explanation",
    "explanation_sources",
    "caveats",
    "caveat_rules",
    "reference_citation",
)

#: Rows formatted as CSV per piece; pieces are formatted in parallel, written in order.
CSV_PIECE_ROWS = 5_000
#: Formatted pieces held at most while earlier ones are written.
_PIECES_AHEAD = 2


def texts_path(output: Path) -> Path:
    """Return the companion texts file of a CSV output (``out.csv`` -> ``out.texts.csv``).

    Examples
    --------
    >>> texts_path(Path("runs/out.csv")).as_posix()
    'runs/out.texts.csv'
    """
    return output.with_name(f"{output.stem}.texts.csv")


def csv_column(values: pd.Series, offset: pd.Series | None = None) -> Any:
    """Return a column as an Arrow array of CSV text, made safe once per distinct value.

    Text cells that a spreadsheet would run as a formula get a leading quote
    (:func:`labinterp.io.writers.safe.neutralise_formulas`); numbers are left alone.

    Parameters
    ----------
    values
        A column of an interpreted frame.
    offset
        For a time column, its UTC offsets in minutes east of UTC (the column
        ``<name>_offset``): each time is written with its own offset.

    Returns
    -------
    pyarrow.Array
        The column as Arrow's CSV writer should write it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes, dtype=np.int64)
        uniques: Any = values.cat.categories
    elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return pa.array(values, from_pandas=True)
    elif pd.api.types.is_datetime64_any_dtype(values) and offset is not None:
        numbers, written = time_text_codes(values, offset, sep=" ")
        missing = pd.isna(written)
        return dictionary_array(np.where(missing[numbers], -1, numbers), list(written.astype(str)))
    elif pd.api.types.is_datetime64_any_dtype(values):
        # As pandas writes them: the date alone when every time is midnight.
        codes, moments = pd.factorize(values, use_na_sentinel=True)
        times = pd.DatetimeIndex(moments)
        with_time = bool((times != times.normalize()).any())
        texts = times.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")
        return dictionary_array(codes, list(texts))
    else:
        if isinstance(values.dtype, pd.StringDtype):
            text = pa.array(values)
            if not pc.any(pc.match_substring_regex(text, FORMULA_START)).as_py():
                return text  # no cell starts like a formula: written as it is
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Arrow's writer writes dictionary arrays as their texts: each text is formatted once.
    return dictionary_array(codes, [safe_cell(u) for u in uniques])


def _offsets(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """Return the UTC offsets of a time column (its ``<name>_offset`` column), if any."""
    found = f"{name}_offset"
    return frame[found] if found in frame.columns else None


def _formatters() -> ThreadPoolExecutor:
    return shared_pool("labinterp-csv", 2)


def write_rows(
    frame: pd.DataFrame, target: str | os.PathLike[str] | IO[bytes] | None, *, header: bool
) -> None:
    """Write a frame as CSV with Arrow's writer (several times faster than pandas').

    The rows are formatted in pieces of :data:`CSV_PIECE_ROWS` in two threads (Arrow's
    writer releases the GIL) and written in order, with at most a few formatted pieces
    held in memory.

    Parameters
    ----------
    frame
        The rows.
    target
        The file, an open binary file, or ``None`` for standard output.
    header
        Write the header (its cells made safe like the others); a file named by its
        path is then started afresh, else the rows are appended to it.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.table(
        {safe_cell(str(c)): csv_column(frame[c], _offsets(frame, str(c))) for c in frame.columns}
    )

    def formatted(start: int) -> Any:
        sink = pa.BufferOutputStream()
        options = pa_csv.WriteOptions(include_header=header and start == 0)
        pa_csv.write_csv(table.slice(start, CSV_PIECE_ROWS), sink, write_options=options)
        return sink.getvalue()

    starts = range(0, max(table.num_rows, 1), CSV_PIECE_ROWS)
    with contextlib.ExitStack() as stack:
        if target is None:
            handle: IO[bytes] = sys.stdout.buffer
        elif isinstance(target, str | os.PathLike):
            handle = stack.enter_context(open(target, "wb" if header else "ab"))
        else:
            handle = target
        pending: deque[Future[Any]] = deque()
        for start in starts:
            pending.append(_formatters().submit(formatted, start))
            if len(pending) > _PIECES_AHEAD:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())
        handle.flush()


def with_text_ids(frame: pd.DataFrame, ids: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Replace the long text columns by ids into the texts file.

    Parameters
    ----------
    frame
        A batch of an interpreted frame.
    ids
        Maps (column, text) to its id; it grows with each batch, so a text has one id
        for the whole run. Ids are numbered in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        A shallow copy with ids (categoricals) in :data:`TABLE_TEXT_COLUMNS`.
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


class CsvOutput(PartialFile):
    """Write a frame as CSV in batches: the header with the first, the rows in order.

    Parameters
    ----------
    path
        The file, written under a temporary name and renamed at :meth:`close`; ``None``
        writes to standard output.
    texts
        ``"inline"`` or ``"table"`` (ids in the rows, each text once in
        :func:`texts_path`; needs a file).
    """

    def __init__(self, path: Path | None, *, texts: Texts = "inline") -> None:
        if texts not in ("inline", "table"):
            raise ValueError("texts must be 'inline' or 'table'.")
        if texts == "table" and path is None:
            raise ValueError("A texts table needs CSV output to a file.")
        super().__init__(path)
        # With a texts table: per (column, text), its id; the texts are written at the end.
        self.text_ids: dict[tuple[str, str], str] | None = {} if texts == "table" else None
        self.texts_file = PartialFile(texts_path(path)) if path and texts == "table" else None
        self._started = False

    def write(self, frame: pd.DataFrame) -> None:
        """Write the next batch of rows."""
        if self.text_ids is not None:
            frame = with_text_ids(frame, self.text_ids)
        write_rows(frame, self.handle(), header=not self._started)
        self._started = True

    def close(self) -> None:
        """Write the texts file (with a texts table), then rename the files into place."""
        if self.text_ids is not None and self.texts_file is not None:
            table = pd.DataFrame(
                [(i, column, text) for (column, text), i in self.text_ids.items()],
                columns=["id", "column", "text"],
            )
            write_rows(table, self.texts_file.handle(), header=True)
            self.texts_file.finish()
        self.finish()

    def abandon(self) -> None:
        """Remove the temporary files; the targets are left as they were."""
        super().abandon()
        if self.texts_file is not None:
            self.texts_file.abandon()


def write_csv(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, texts: Texts = "inline"
) -> Path:
    r"""Write an interpreted frame as CSV, as ``labinterp interpret`` does.

    Parameters
    ----------
    frame
        A frame returned by :func:`labinterp.interpret`.
    path
        The file; it appears only when complete.
    texts
        ``"inline"`` (default): the explanation, caveat and range-citation texts on
        every row. ``"table"``: an id on each row and each text once in the companion
        file :func:`texts_path` (``out.csv`` -> ``out.texts.csv``).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, labinterp
    >>> frame = labinterp.interpret(labinterp.read_csv(b"Analyse;Resultat;Enhet\n"
    ...                                                b"S-Magnesium;0,82;mmol/L\n"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = write_csv(frame, Path(folder) / "out.csv", texts="table")
    ...     sorted(p.name for p in written.parent.iterdir())
    ['out.csv', 'out.texts.csv']
    """
    target = Path(path)
    write_whole(CsvOutput(target, texts=texts), frame)
    return target
