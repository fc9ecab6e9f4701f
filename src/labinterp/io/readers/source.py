"""Turn the inputs readers accept (path, file object, bytes) into bytes and a name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from labinterp.errors import ReadError

__all__ = ["load_source"]


def load_source(source: str | os.PathLike[str] | IO[Any] | bytes) -> tuple[bytes, str]:
    """Return the bytes of an input and a name for messages.

    Parameters
    ----------
    source
        A path, an open file (text or binary), or bytes.

    Returns
    -------
    (bytes, str)
        The content and the path (or ``<bytes>``, ``<buffer>``).

    Raises
    ------
    ReadError
        When a path cannot be opened.
    """
    if isinstance(source, bytes):
        return source, "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise ReadError(f"{path}: cannot be opened ({exc.strerror}).") from exc
    data = source.read()
    name = str(getattr(source, "name", "<buffer>"))
    return (data.encode("utf-8") if isinstance(data, str) else bytes(data)), name
