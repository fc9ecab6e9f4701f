"""Series inputs of the equations: one index they share, kept for the result."""

from __future__ import annotations

from typing import Any

import pandas as pd

from labinterp.errors import InvalidResultError

__all__ = ["shared_index"]


def shared_index(
    *values: Any, index: pd.Index | None = None, field: str | None = None
) -> pd.Index | None:
    """Return the index the Series among ``values`` share (``None``: no Series).

    Parameters
    ----------
    values
        An equation's inputs; only pandas Series count.
    index
        An index already kept from earlier inputs, which the Series must share too.
    field
        The argument named in the error, where one is checked at a time.

    Raises
    ------
    InvalidResultError
        When two Series have different indexes.
    """
    for value in values:
        if isinstance(value, pd.Series):
            if index is None:
                index = value.index
            elif not index.equals(value.index):
                raise InvalidResultError(
                    "Series arguments must share one index; align them first "
                    "(for example, take them from the same DataFrame).",
                    field=field,
                )
    return index
