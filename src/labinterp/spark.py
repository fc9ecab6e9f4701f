"""The interpreted frame as a Spark schema, for ``applyInPandas``.

PySpark interprets a Spark DataFrame patient by patient with
``df.groupBy("patient_id").applyInPandas(labinterp.interpret, schema)``, where ``schema``
is the Spark schema of what :func:`labinterp.interpret` returns for ``df``:
:func:`schema` (a ``pyspark.sql.types.StructType``, with pyspark installed) or :func:`ddl`
(the same as a DDL string, without pyspark). Both come from the declared Arrow schema
(:func:`labinterp.frames.arrow_schema`): categoricals are strings, wall-clock times are
``TIMESTAMP_NTZ``, and the input's other columns keep their Spark types.

Examples
--------
>>> from labinterp import spark
>>> spark.ddl(["patient_id", "analyte", "raw_value"]).split(", ")[:3]
['`source_row` BIGINT', '`patient_id` STRING', '`sex` STRING']
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from labinterp import frames
from labinterp import schema as declared

__all__ = ["ddl", "schema"]

#: Spark SQL type names with their ``pyspark.sql.types`` class, by Arrow type test.
_SPARK_TYPES: tuple[tuple[str, str], ...] = (
    ("BOOLEAN", "BooleanType"),
    ("TINYINT", "ByteType"),
    ("SMALLINT", "ShortType"),
    ("INT", "IntegerType"),
    ("BIGINT", "LongType"),
    ("FLOAT", "FloatType"),
    ("DOUBLE", "DoubleType"),
    ("STRING", "StringType"),
    ("TIMESTAMP_NTZ", "TimestampNTZType"),
    ("TIMESTAMP", "TimestampType"),
    ("DATE", "DateType"),
)


def _spark_type(arrow: pa.DataType) -> str:
    """Return the Spark SQL type name of an Arrow type."""
    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    checks = (
        pa.types.is_boolean(arrow),
        pa.types.is_int8(arrow),
        pa.types.is_int16(arrow),
        pa.types.is_int32(arrow),
        pa.types.is_int64(arrow),
        pa.types.is_float32(arrow),
        pa.types.is_float64(arrow),
        pa.types.is_string(arrow) or pa.types.is_large_string(arrow),
        pa.types.is_timestamp(arrow) and arrow.tz is None,
        pa.types.is_timestamp(arrow),
        pa.types.is_date32(arrow),
    )
    for (name, _), found in zip(_SPARK_TYPES, checks, strict=True):
        if found:
            return name
    raise TypeError(f"no Spark type for the Arrow type {arrow}; cast the column first.")


def _fields(input_schema: Any, history: bool) -> list[tuple[str, str | Any, bool]]:
    """Return ``(name, Spark type name or the input's Spark type, nullable)`` per column."""
    given: dict[str, Any] = {}
    if hasattr(input_schema, "fieldNames"):  # a pyspark StructType
        given = {field.name: field.dataType for field in input_schema.fields}
        input_schema = list(given)
    names = set(declared.interpreted().names)
    return [
        (
            field.name,
            given[field.name]
            if field.name in given and field.name not in names
            else _spark_type(field.type),
            field.nullable,
        )
        for field in frames.arrow_schema(input_schema, history=history)
    ]


def ddl(input_schema: Any, *, history: bool = False) -> str:
    """Return the Spark schema of the interpreted frame as a DDL string.

    Parameters
    ----------
    input_schema
        The input Spark DataFrame's ``.schema``, its Arrow schema, or its column names
        (then every column that is not declared is a string).
    history
        Whether ``history=True`` is passed to :func:`labinterp.interpret`.

    Returns
    -------
    str
        ``"`source_row` BIGINT, `patient_id` STRING, ..."``; a column that is never
        missing has ``NOT NULL``.

    Raises
    ------
    TypeError
        When an input column's Arrow type has no Spark type.
    """
    return ", ".join(
        f"`{name}` {kind if isinstance(kind, str) else kind.simpleString()}"
        + ("" if nullable else " NOT NULL")
        for name, kind, nullable in _fields(input_schema, history)
    )


def schema(input_schema: Any, *, history: bool = False) -> Any:
    """Return the Spark schema of the interpreted frame (needs pyspark).

    Parameters
    ----------
    input_schema
        The input Spark DataFrame's ``.schema``, its Arrow schema, or its column names.
    history
        Whether ``history=True`` is passed to :func:`labinterp.interpret`.

    Returns
    -------
    pyspark.sql.types.StructType
        One field per column :func:`labinterp.interpret` returns, in its order.

    Examples
    --------
    >>> import labinterp, labinterp.spark  # doctest: +SKIP
    >>> out = labinterp.spark.schema(df.schema)  # doctest: +SKIP
    >>> df.groupBy("patient_id").applyInPandas(labinterp.interpret, out)  # doctest: +SKIP
    """
    from pyspark.sql import types

    classes = dict(_SPARK_TYPES)
    return types.StructType(
        [
            types.StructField(
                name, getattr(types, classes[kind])() if isinstance(kind, str) else kind, nullable
            )
            for name, kind, nullable in _fields(input_schema, history)
        ]
    )
