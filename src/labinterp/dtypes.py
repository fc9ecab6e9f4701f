"""Casting a column to its declared dtype: the machinery of :func:`labinterp.schema.conform`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.errors import ReadError

if TYPE_CHECKING:
    from labinterp.schema import Column

__all__ = ["TEXT", "cast_column", "has_dtype"]

#: The text dtype of the running pandas (``str`` from pandas 3, ``object`` before).
TEXT: Any = pd.Series(["text"]).dtype


def has_dtype(dtype: Any, spec: Column) -> bool:
    """Whether a column of this dtype already has the declared one."""
    if spec.type != "category":
        return bool(dtype == spec.dtype)
    if not isinstance(dtype, pd.CategoricalDtype):
        return False
    if spec.vocabulary:
        return bool(dtype == spec.dtype)
    # Categories as objects in every partition, so that partitions concatenate.
    return dtype.ordered == spec.ordered and dtype.categories.dtype == object


def cast_column(series: pd.Series, spec: Column) -> pd.Series:
    """Return a column cast to its declared dtype.

    Raises
    ------
    ReadError
        When it cannot be cast; the message names the column, never a value.
    """
    try:
        if series.dtype == object and not series.notna().any():  # an empty column
            missing = pd.NaT if spec.type == "datetime" else np.nan
            values: Any = pd.Series(missing, index=series.index, dtype=spec.dtype)
        elif spec.type == "category":
            values = _categorical(series, spec)
        elif spec.type == "text" and (series.dtype == object or _is_categorical(series)):
            codes, found = _codes(series)  # each distinct text converted once
            values = pd.array(found, dtype=TEXT).take(codes, allow_fill=True)
        elif spec.type == "text":
            values = series.astype(TEXT)
        elif spec.type == "datetime":
            values = _datetimes(series, spec)
        elif spec.type == "boolean" or pd.api.types.is_numeric_dtype(series.dtype):
            values = series.astype(spec.dtype)
        else:  # numbers written as text
            values = pd.to_numeric(series).astype(spec.dtype)
    except (TypeError, ValueError) as exc:
        raise ReadError(
            f"Column {spec.name!r} cannot be read as {spec.dtype_name} ({type(exc).__name__}).",
            field=spec.name,
        ) from None
    return pd.Series(values, index=series.index, name=series.name, copy=False)


def _is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype)


def _codes(series: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Return each row's code (-1: missing) and the distinct values, as objects."""
    if _is_categorical(series):
        categories: npt.NDArray[np.object_] = np.asarray(series.cat.categories, dtype=object)
        return np.asarray(series.cat.codes, dtype=np.int64), categories
    found, uniques = pd.factorize(series, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if not all(isinstance(value, str) for value in distinct):
        # Numbers that are equal but written differently (9 and 9.0) stay apart as text.
        found, uniques = pd.factorize(series.astype(TEXT), use_na_sentinel=True)
        distinct = np.asarray(uniques, dtype=object)
    return np.asarray(found, dtype=np.int64), distinct


def _categorical(series: pd.Series, spec: Column) -> pd.Categorical[Any]:
    codes, found = _codes(series)
    blank = np.array([value == "" for value in found], dtype=bool)
    if spec.vocabulary is None:
        keep = np.flatnonzero(~blank)
        categories = pd.Index(found[keep], dtype=object)
        mapping = np.full(len(found), -1, dtype=np.int64)
        mapping[keep] = np.arange(len(keep))
        dtype = pd.CategoricalDtype(categories, ordered=spec.ordered)
    else:
        dtype = spec.dtype
        mapping = np.asarray(dtype.categories.get_indexer(found), dtype=np.int64)
        if ((mapping < 0) & ~blank).any():
            raise ValueError("values outside the declared categories")
    mapped = np.append(mapping, -1)[np.where(codes < 0, len(found), codes)]
    return pd.Categorical.from_codes(mapped, dtype=dtype)


def _datetimes(series: pd.Series, spec: Column) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind not in {"datetime64", "datetime", "date", "empty"}:
            raise TypeError("not datetimes")  # text is parsed by the readers, not here
        series = pd.to_datetime(series.astype(object), utc=False)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)  # the wall-clock time, as the readers keep it
    return series.astype(spec.dtype)
