"""Frames of other engines, and the interpreted frame's Arrow schema for a given input.

:func:`labinterp.interpret` works on pandas. A Polars ``DataFrame`` or a
``pyarrow.Table`` passed to it is converted through Arrow first (:func:`as_pandas`), and
the result is a pandas DataFrame; ``polars.from_pandas(result)`` gives Polars back.

:func:`arrow_schema` gives the Arrow schema of what ``interpret`` returns for input with
a given schema: the declared columns (:func:`labinterp.schema.interpreted`) in the order
``interpret`` gives them, and the input's other columns with their own types. Dask
(:mod:`labinterp.dask`) writes Parquet with it and Spark (:mod:`labinterp.spark`)
converts it to a Spark schema.

Examples
--------
>>> import pyarrow as pa
>>> from labinterp import frames
>>> table = pa.table({"patient_id": ["a"], "analyte": ["magnesium"],
...                   "raw_value": ["0,62"], "raw_unit": ["mmol/L"], "age_years": [50.0]})
>>> import labinterp
>>> labinterp.interpret(table)["flag"].tolist()
['L']
>>> frames.arrow_schema(table.schema).field("flag").type
DictionaryType(dictionary<values=string, indices=int8, ordered=1>)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from labinterp import schema

__all__ = ["arrow_schema", "as_pandas"]


def as_pandas(frame: Any) -> Any:
    """Return a Polars DataFrame or an Arrow table as pandas; anything else unchanged.

    Parameters
    ----------
    frame
        A ``polars.DataFrame``, a ``pyarrow.Table``, or anything else (returned as it is,
        for the caller to check).

    Returns
    -------
    pandas.DataFrame or object
        The frame converted through Arrow: text stays text (the pandas text dtype),
        integers with missing values become floats, times keep their unit until
        :func:`labinterp.interpret` casts the declared columns.

    Raises
    ------
    TypeError
        For a Polars ``LazyFrame`` (collect it first).
    """
    if isinstance(frame, pa.Table):
        return frame.to_pandas()
    kind = type(frame)
    if kind.__module__.split(".")[0] != "polars":
        return frame
    if kind.__name__ == "LazyFrame":
        raise TypeError("interpret() takes a Polars DataFrame; call .collect() on the LazyFrame.")
    return frame.to_arrow().to_pandas()


def arrow_schema(input_schema: pa.Schema | Iterable[str], *, history: bool = False) -> pa.Schema:
    """Return the Arrow schema of the interpreted frame for input with this schema.

    Parameters
    ----------
    input_schema
        The Arrow schema of the frame passed to :func:`labinterp.interpret`, or only its
        column names (then every column that is not declared is text).
    history
        Whether ``history=True`` is passed to ``interpret``.

    Returns
    -------
    pyarrow.Schema
        The columns in the order ``interpret`` gives them
        (:func:`labinterp.schema.interpreted_order`): declared columns as declared
        (with their metadata), the input's other columns with their own types, nullable
        (derived rows leave them empty).
    """
    given = (
        input_schema
        if isinstance(input_schema, pa.Schema)
        else pa.schema([(name, pa.string()) for name in input_schema])
    )
    declared = schema.interpreted()
    fields = []
    for name in schema.interpreted_order(given.names, history=history):
        if name in declared.names:
            fields.append(declared.field(name))
        else:
            fields.append(given.field(name).with_nullable(True))
    return pa.schema(fields)
