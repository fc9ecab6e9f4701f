"""Write interpreted frames as Parquet: text columns stored once per row group.

Categorical text columns are written as Arrow dictionaries (each distinct text converted
once), other text columns as strings, and every batch is cast to the first batch's
schema, so ``pandas.read_parquet`` gives the text columns back as categoricals.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from labinterp.errors import ReadError
from labinterp.io.writers.arrow import dictionary_array, text_array
from labinterp.io.writers.files import PartialFile, write_whole

__all__ = ["ParquetOutput", "arrow_table", "write_parquet"]


def arrow_table(frame: pd.DataFrame) -> Any:
    """Return a frame as the Arrow table the Parquet writer stores.

    Parameters
    ----------
    frame
        The rows.

    Returns
    -------
    pyarrow.Table
        Categorical columns as dictionaries with int32 indices (one index type for
        every batch), object columns as strings, other columns as Arrow converts them.
    """
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for name in frame.columns:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            columns[str(name)] = dictionary_array(
                values.cat.codes, [str(c) for c in values.cat.categories]
            )
        elif values.dtype == object:
            columns[str(name)] = text_array(values)
        else:
            columns[str(name)] = pa.Array.from_pandas(values)
    return pa.table(columns)


class ParquetOutput(PartialFile):
    """Write a frame as Parquet in batches, one row group (or more) per batch.

    Parameters
    ----------
    path
        The file, written under a temporary name and renamed at :meth:`close`. Parquet
        cannot be written to standard output: with ``None`` the first batch raises
        :class:`~labinterp.errors.ReadError`.
    """

    def __init__(self, path: Path | None) -> None:
        super().__init__(path)
        self._writer: Any = None
        self._schema: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        """Write the next batch of rows."""
        import pyarrow.parquet as pq

        if self.path is None:
            raise ReadError("Parquet output needs -o/--output.")
        table = arrow_table(frame)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self.handle(), self._schema)
        self._writer.write_table(table.cast(self._schema))

    def close(self) -> None:
        """Finish the file and rename it into place."""
        if self._writer is not None:
            self._writer.close()
        self.finish()

    def abandon(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        super().abandon()


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write an interpreted frame as Parquet, as ``labinterp interpret --format parquet`` does.

    Parameters
    ----------
    frame
        A frame returned by :func:`labinterp.interpret`.
    path
        The file; it appears only when complete.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    write_whole(ParquetOutput(target), frame)
    return target
