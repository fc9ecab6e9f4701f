"""Arrow arrays for the CSV and Parquet writers: texts stored once, objects as text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dictionary_array", "text_array"]


def dictionary_array(codes: Any, texts: list[str]) -> Any:
    """Return an Arrow dictionary array of ``texts`` (int32 indices; code -1: missing).

    Arrow's writers write a dictionary array as its texts, so each distinct text is
    formatted (CSV) or stored per row group (Parquet) once.

    Parameters
    ----------
    codes
        Integer codes into ``texts``, -1 where the value is missing.
    texts
        The distinct texts.

    Returns
    -------
    pyarrow.DictionaryArray
        The column.
    """
    import pyarrow as pa

    indices = np.asarray(codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, type=pa.int32(), mask=indices < 0), pa.array(texts, type=pa.string())
    )


def text_array(values: pd.Series) -> Any:
    """Return an object column as an Arrow string array (anything not text as its str).

    Parameters
    ----------
    values
        A column of object dtype.

    Returns
    -------
    pyarrow.StringArray
        The texts, missing values kept missing.
    """
    import pyarrow as pa

    try:  # text and missing values only: converted directly
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array(values.astype("string"), type=pa.string())
