"""Output files appear whole or not at all: written under a hidden name, renamed when done.

Every writer in :mod:`labinterp.io.writers` writes to :func:`partial_path` and renames the
file into place only when it is complete (``os.replace``, atomic within one file system),
so a reader never sees half a file and a failed run leaves the previous output alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pandas as pd

__all__ = ["Output", "PartialFile", "finish", "partial_path", "replaced_when_done", "write_whole"]


def partial_path(path: Path) -> Path:
    """Return the hidden name a file is written under until it is complete.

    Examples
    --------
    >>> partial_path(Path("out/results.csv")).as_posix()
    'out/.results.csv.partial'
    """
    return path.with_name(f".{path.name}.partial")


def finish(partial: Path, path: Path) -> None:
    """Rename a complete partial file into place (nothing happens when none was written)."""
    if partial.exists():
        os.replace(partial, path)


@contextlib.contextmanager
def replaced_when_done(path: Path) -> Iterator[Path]:
    """Give the partial name to write ``path`` under; rename it into place at the end.

    When the block raises, the partial file is removed and the exception passes on.

    Parameters
    ----------
    path
        The file to write.

    Yields
    ------
    pathlib.Path
        The partial name (see :func:`partial_path`).
    """
    partial = partial_path(path)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finish(partial, path)


class PartialFile:
    """The file an output writes, under its partial name until complete.

    Parameters
    ----------
    path
        The file; ``None`` writes to standard output (there is no partial file).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.partial = partial_path(path) if path is not None else None

    def finish(self) -> None:
        """Rename the complete partial file into place."""
        if self.partial is not None and self.path is not None:
            finish(self.partial, self.path)

    def abandon(self) -> None:
        """Remove the partial file; the target is left as it was."""
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)


class Output(Protocol):
    """A writer of one output file that takes a frame in batches (see :func:`write_whole`)."""

    def write(self, frame: pd.DataFrame) -> None:
        """Write the next batch of rows."""

    def close(self) -> None:
        """Finish the file and rename it into place."""

    def abandon(self) -> None:
        """Remove what was written; the target is left as it was."""


def write_whole(output: Output, frame: pd.DataFrame) -> None:
    """Write a whole frame with an :class:`Output`, removing the partial file on failure.

    Parameters
    ----------
    output
        A new writer of one of the formats.
    frame
        The rows to write.
    """
    try:
        output.write(frame)
        output.close()
    except BaseException:
        output.abandon()
        raise
