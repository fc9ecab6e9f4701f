"""PySpark: the interpreted frame as a Spark schema, and applyInPandas on a local Spark."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest

import labinterp
import labinterp.spark
from labinterp import frames, schema

from .conftest import EXAMPLES


def _nordic() -> pd.DataFrame:
    return labinterp.read_csv(EXAMPLES / "nordic_export.csv")


def _parsed(ddl: str) -> list[tuple[str, str]]:
    """Split a DDL string into (name, type) pairs."""
    pairs = []
    for part in ddl.split(", "):
        name, kind = part.split(" ", 1)
        assert name.startswith("`") and name.endswith("`"), part
        pairs.append((name.strip("`"), kind))
    return pairs


@pytest.mark.parametrize("history", [False, True])
def test_ddl_has_every_column_interpret_gives_in_its_order(history: bool) -> None:
    """The DDL names interpret's columns in order; each declared type maps as documented."""
    frame = _nordic().assign(batch=1)
    out = labinterp.interpret(frame, decimal=",", history=history)
    arrow = pa.Schema.from_pandas(frame, preserve_index=False)
    pairs = _parsed(labinterp.spark.ddl(arrow, history=history))
    assert [name for name, _ in pairs] == list(out.columns)
    kinds = dict(pairs)
    assert kinds["flag"] == "STRING"  # an ordered categorical is a string in Spark
    assert kinds["status"] == "STRING NOT NULL"
    assert kinds["value"] == "DOUBLE"
    assert kinds["source_row"] == "BIGINT"
    assert kinds["collected_at"] == "TIMESTAMP_NTZ"  # wall-clock time as the source wrote it
    assert kinds["collected_at_offset"] == "BIGINT"
    assert kinds["reference_low_inclusive"] == "BOOLEAN"
    assert kinds["batch"] == "BIGINT"  # the input's own column keeps its type


def test_every_declared_arrow_type_has_a_spark_type() -> None:
    """No declared column of the interpreted frame is left without a Spark type."""
    names = schema.interpreted().names
    pairs = dict(_parsed(labinterp.spark.ddl(names, history=True)))
    assert set(pairs) == set(names)
    allowed = {"STRING", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP_NTZ"}
    assert {kind.removesuffix(" NOT NULL") for kind in pairs.values()} <= allowed


def test_an_input_type_without_a_spark_type_is_named() -> None:
    """A column Spark cannot hold is an error naming its type, not a silent string."""
    given = pa.schema([("raw_value", pa.string()), ("analyte", pa.string()), ("x", pa.binary())])
    with pytest.raises(TypeError, match="no Spark type for the Arrow type binary"):
        labinterp.spark.ddl(given)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for a local Spark")
    session = (
        sql.SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as plain values (missing as None), in a fixed order whatever the engine."""
    plain = frame.astype(object)
    plain = plain.where(plain.notna(), None)
    rows = [tuple(row) for row in plain.itertuples(index=False)]
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


# PySpark warns about pandas 3 and about the options bound with functools.partial.
@pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore::UserWarning", "ignore:The copy keyword is deprecated"
)
def test_apply_in_pandas_on_local_spark_equals_pandas(spark) -> None:
    """groupBy("patient_id").applyInPandas(interpret, labinterp.spark.schema(df.schema))."""
    frame = _nordic()
    df = spark.createDataFrame(frame)  # type: ignore[attr-defined]
    out = labinterp.spark.schema(df.schema, history=True)
    assert out.simpleString().startswith("struct<source_row:bigint,patient_id:string,")
    interpret = functools.partial(labinterp.interpret, decimal=",", history=True)
    result = df.groupBy("patient_id").applyInPandas(interpret, out).toPandas()
    expected = schema.conform(labinterp.interpret(frame, decimal=",", history=True))
    assert list(result.columns) == list(expected.columns)
    assert _rows(result) == _rows(expected)


def test_schema_and_ddl_agree(spark) -> None:
    """The StructType and the DDL string describe the same columns and types."""
    from pyspark.sql.types import StructType

    names = list(_nordic().columns)
    struct = labinterp.spark.schema(names, history=True)
    assert isinstance(struct, StructType)
    parsed = _parsed(labinterp.spark.ddl(names, history=True))
    assert [(f.name, f.dataType.simpleString().upper()) for f in struct.fields] == [
        (name, kind.removesuffix(" NOT NULL")) for name, kind in parsed
    ]
    assert frames.arrow_schema(names, history=True).names == struct.fieldNames()
