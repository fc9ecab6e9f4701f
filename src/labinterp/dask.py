"""Interpret a ``dask.dataframe`` partition by partition (in the ``[dask]`` extra).

The frame is first shuffled so that each patient's rows share a partition; every
partition is then interpreted by :func:`labinterp.interpret` with the same options,
so context rules, derived values and history see a patient's whole sample set.

The result's ``meta`` (its columns and dtypes before anything is computed) comes from
:mod:`labinterp.schema`: the declared columns with their declared dtypes, in the order
``interpret`` gives them, and the input's other columns with the input's dtypes. Every
partition is conformed to it, so the lazy dtypes are the computed ones and
``.to_parquet(...)`` writes one Arrow schema for all partitions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from labinterp import interpret as interpret_frame
from labinterp import schema

__all__ = ["interpret", "meta"]


def interpret(ddf: Any, *, by: str | None = "patient_id", **options: Any) -> Any:
    """Interpret a dask DataFrame of results.

    Parameters
    ----------
    ddf
        A ``dask.dataframe.DataFrame`` with the results-frame columns
        (:func:`labinterp.schema.results`).
    by
        The column that keeps rows together; ``patient_id`` by default. Without it
        (or with ``by=None``) partitions are interpreted as they are.
    **options
        Passed to :func:`labinterp.interpret` (``profile=``, ``lang=``, ``history=``
        ...). Pass ``decimal=`` when partitions might disagree about the decimal
        separator.

    Returns
    -------
    dask.dataframe.DataFrame
        The interpreted frame, lazily; ``.compute()`` gives a pandas DataFrame and
        ``.to_parquet(path)`` writes it.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd, labinterp.dask
    >>> pdf = pd.DataFrame({"patient_id": ["a"], "analyte": ["magnesium"],
    ...                     "raw_value": ["0,62"], "raw_unit": ["mmol/L"], "age_years": [50]})
    >>> labinterp.dask.interpret(dd.from_pandas(pdf, npartitions=1)).compute()["flag"].tolist()
    ['L']
    """
    if by is not None and by in ddf.columns:
        ddf = ddf.shuffle(on=by)
    expected = meta(ddf._meta, history=bool(options.get("history", False)))
    return ddf.map_partitions(
        _interpret_partition, options, expected.iloc[0:0], meta=_unknown_categories(expected)
    )


def meta(input_meta: pd.DataFrame, *, history: bool = False) -> pd.DataFrame:
    """Return the interpreted frame without rows, for input with these columns and dtypes.

    Parameters
    ----------
    input_meta
        A frame (usually without rows) with the input's columns and dtypes.
    history
        Whether ``history=True`` is passed to ``interpret``.

    Returns
    -------
    pandas.DataFrame
        The columns in the order ``interpret`` gives them: declared columns with their
        declared dtypes (a categorical whose categories come from the data has none
        yet), the input's other columns with their own dtypes, where integers and
        booleans become nullable (derived rows leave them empty).
    """
    declared = schema.dtypes("interpreted")
    columns: dict[str, pd.Series] = {}
    for name in schema.interpreted_order(input_meta.columns, history=history):
        dtype = declared[name] if name in declared else _nullable(input_meta.dtypes[name])
        columns[name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(columns, index=input_meta.index[:0])


def _nullable(dtype: Any) -> Any:
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return pd.BooleanDtype()
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return pd.Int64Dtype()
    return dtype


def _unknown_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark the categoricals whose categories come from the data as unknown to Dask."""
    from dask.dataframe.utils import UNKNOWN_CATEGORIES

    unknown = pd.Index([UNKNOWN_CATEGORIES], dtype=object)
    dynamic = {
        name: pd.CategoricalDtype(unknown, ordered=dtype.ordered)
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories) == 0
    }
    return frame.astype(dynamic) if dynamic else frame


def _interpret_partition(
    partition: pd.DataFrame, options: dict[str, Any], expected: pd.DataFrame
) -> pd.DataFrame:
    out = schema.conform(interpret_frame(partition, **options), "interpreted")
    # Passed-through integers and booleans: nullable, with or without derived rows.
    widened = {
        name: dtype
        for name, dtype in zip(expected.columns, expected.dtypes, strict=True)
        if isinstance(dtype, pd.Int64Dtype | pd.BooleanDtype) and out[name].dtype != dtype
    }
    return out.astype(widened) if widened else out
