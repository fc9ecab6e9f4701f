"""Output files appear whole or not at all: written under a temporary name, then renamed.

Every writer in :mod:`labinterp.io.writers` writes to a temporary file beside the target
(:func:`create_partial`: an unpredictable name, created exclusively, never through a
symbolic link) and renames it into place only when complete (``os.replace``, atomic
within one file system), so a reader never sees half a file and a failed run leaves the
previous output alone. :func:`partials_removed_on_signals` removes the temporary files
when the process is ended by a signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

import pandas as pd

__all__ = [
    "Output",
    "PartialFile",
    "SameFileError",
    "create_partial",
    "finish",
    "partials_removed_on_signals",
    "refuse_same_file",
    "replaced_when_done",
    "write_whole",
]

#: The temporary files being written now, removed when a signal ends the process.
_LIVE: set[Path] = set()
_LIVE_LOCK = threading.Lock()


class SameFileError(ValueError):
    """An output would be written over an input file."""


def create_partial(path: Path) -> tuple[Path, IO[bytes]]:
    """Create the temporary file a target is written under until it is complete.

    The file is made in the target's directory (so the final rename stays on one file
    system) with an unpredictable hidden name (``.<name>.<random>.partial``), created
    exclusively: an existing file or symbolic link of that name is never opened.

    Parameters
    ----------
    path
        The target file.

    Returns
    -------
    (pathlib.Path, binary file)
        The temporary file's path and the file, open for writing.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     partial, handle = create_partial(Path(folder) / "out.csv")
    ...     handle.close()
    ...     partial.name.startswith(".out.csv.") and partial.name.endswith(".partial")
    True
    """
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    partial = Path(name)
    with _LIVE_LOCK:
        _LIVE.add(partial)
    return partial, os.fdopen(descriptor, "wb")


def _forget(partial: Path) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(partial)


def _file_mode(path: Path) -> int:
    """Return the mode the finished file gets: the old file's, else what umask allows."""
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def finish(partial: Path, path: Path) -> None:
    """Rename a complete temporary file into place (with the mode a new file would get)."""
    os.chmod(partial, _file_mode(path))
    os.replace(partial, path)
    _forget(partial)


def remove_partial(partial: Path) -> None:
    """Remove a temporary file (nothing happens when it is gone)."""
    partial.unlink(missing_ok=True)
    _forget(partial)


@contextlib.contextmanager
def replaced_when_done(path: Path) -> Iterator[Path]:
    """Give a new temporary file to write ``path`` under; rename it into place at the end.

    The temporary file exists (empty) when the block starts (:func:`create_partial`).
    When the block raises, it is removed and the exception passes on.

    Parameters
    ----------
    path
        The file to write.

    Yields
    ------
    pathlib.Path
        The temporary file.
    """
    partial, handle = create_partial(path)
    handle.close()
    try:
        yield partial
        finish(partial, path)
    except BaseException:
        remove_partial(partial)
        raise


def refuse_same_file(output: Path, *inputs: Path) -> None:
    """Raise when ``output`` is one of ``inputs`` (same path, link or hard link).

    Parameters
    ----------
    output
        A file about to be written.
    *inputs
        The files the run reads.

    Raises
    ------
    SameFileError
        When writing ``output`` would replace an input.
    """
    for source in inputs:
        same = output.resolve() == source.resolve()
        if not same and output.exists() and source.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(output, source)
        if same:
            raise SameFileError(f"{output} is the input file; write the output elsewhere.")


def _remove_live_partials() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for partial in live:
        with contextlib.suppress(OSError):
            remove_partial(partial)


#: The signals that end a run and remove its temporary files (those that exist here).
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def partials_removed_on_signals() -> Iterator[None]:
    """Remove the temporary files being written when SIGTERM or SIGHUP ends the process.

    While the block runs (in the main thread), such a signal removes every temporary
    file and raises :class:`SystemExit` with code 128 + the signal's number, so the
    program's own clean-up runs too. SIGINT raises :class:`KeyboardInterrupt` as
    always; the writers remove their files on any exception. The previous handlers
    are restored at the end.

    Yields
    ------
    None
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ended(signum: int, frame: FrameType | None) -> None:
        _remove_live_partials()
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, ended) for number in _SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class PartialFile:
    """The file an output writes, under a temporary name until complete.

    The temporary file is created at the first :meth:`handle`.

    Parameters
    ----------
    path
        The file; ``None`` writes to standard output (there is no temporary file).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.partial: Path | None = None
        self._handle: IO[bytes] | None = None

    def handle(self) -> IO[bytes]:
        """Return the open temporary file (standard output when there is no path)."""
        if self.path is None:
            return sys.stdout.buffer
        if self._handle is None:
            self.partial, self._handle = create_partial(self.path)
        return self._handle

    def finish(self) -> None:
        """Close the temporary file and rename it into place."""
        if self.path is None:
            sys.stdout.flush()
            return
        self.handle()  # an output with no rows is still written
        assert self._handle is not None and self.partial is not None
        self._handle.close()
        finish(self.partial, self.path)

    def abandon(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
        if self.partial is not None:
            remove_partial(self.partial)


class Output(Protocol):
    """A writer of one output file that takes a frame in batches (see :func:`write_whole`)."""

    def write(self, frame: pd.DataFrame) -> None:
        """Write the next batch of rows."""

    def close(self) -> None:
        """Finish the file and rename it into place."""

    def abandon(self) -> None:
        """Remove what was written; the target is left as it was."""


def write_whole(output: Output, frame: pd.DataFrame) -> None:
    """Write a whole frame with an :class:`Output`, removing the temporary file on failure.

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
