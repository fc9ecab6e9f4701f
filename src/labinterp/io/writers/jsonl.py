"""Write interpreted frames as JSON lines: one JSON object per row, dates in ISO form.

A time with a UTC offset beside it (``collected_at`` and ``collected_at_offset``) is written
with that offset (``"2026-03-01T08:10:00+01:00"``), a floating one without
(:func:`labinterp.times.time_texts`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from labinterp.io.writers.files import PartialFile, write_whole
from labinterp.times import time_texts

__all__ = ["JsonlOutput", "jsonl_text", "write_jsonl"]


def jsonl_text(frame: pd.DataFrame) -> str:
    """Return the rows of a frame as JSON lines (text as written, not ASCII-escaped).

    Parameters
    ----------
    frame
        The rows.

    Returns
    -------
    str
        One JSON object per line, each line ended by a line break (no rows: no text).

    Examples
    --------
    >>> print(jsonl_text(pd.DataFrame({"analyte": ["ferritin"], "value": [12.5]})), end="")
    {"analyte":"ferritin","value":12.5}
    """
    if frame.empty:
        return ""
    timed = {
        str(name): pd.Series(
            time_texts(frame[name], frame[f"{name}_offset"]), index=frame.index, dtype=object
        )
        for name in frame.columns
        if f"{name}_offset" in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[name])
    }
    written = frame.assign(**timed) if timed else frame
    text: str = written.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
    return text


class JsonlOutput(PartialFile):
    """Write a frame as JSON lines in batches.

    Parameters
    ----------
    path
        The file, written under a temporary name and renamed at :meth:`close`; ``None``
        writes to standard output.
    """

    def write(self, frame: pd.DataFrame) -> None:
        """Write the next batch of rows."""
        self.handle().write(jsonl_text(frame).encode("utf-8"))

    def close(self) -> None:
        """Rename the file into place."""
        self.finish()


def write_jsonl(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write an interpreted frame as JSON lines, as ``labinterp interpret --format jsonl`` does.

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
    write_whole(JsonlOutput(target), frame)
    return target
