"""Other engines' frames: Polars and Arrow input through Arrow, and the output's Arrow schema."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import labinterp
from labinterp import frames, schema

from .conftest import EXAMPLES


def _nordic() -> pd.DataFrame:
    return labinterp.read_csv(EXAMPLES / "nordic_export.csv")


def test_an_arrow_table_is_interpreted_as_its_pandas_frame() -> None:
    """interpret(pyarrow.Table) equals interpret of the same frame in pandas."""
    frame = _nordic()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    expected = labinterp.interpret(frame, decimal=",", history=True)
    pd.testing.assert_frame_equal(labinterp.interpret(table, decimal=",", history=True), expected)


def test_a_polars_frame_is_interpreted_as_its_pandas_frame() -> None:
    """interpret(polars.DataFrame) returns pandas, equal to interpreting the pandas frame."""
    pl = pytest.importorskip("polars")
    frame = _nordic()
    expected = labinterp.interpret(frame, decimal=",", history=True)
    result = labinterp.interpret(pl.from_pandas(frame), decimal=",", history=True)
    assert isinstance(result, pd.DataFrame)
    pd.testing.assert_frame_equal(result, expected)
    back = pl.from_pandas(result)  # the documented way back to Polars
    assert back.columns == list(expected.columns)
    assert (
        back["flag"].to_list()
        == expected["flag"].astype(object).where(expected["flag"].notna(), None).tolist()
    )


def test_a_polars_lazy_frame_is_refused_with_what_to_do() -> None:
    """A LazyFrame is not collected behind the caller's back."""
    pl = pytest.importorskip("polars")
    lazy = pl.from_pandas(_nordic()).lazy()
    with pytest.raises(TypeError, match=r"\.collect\(\)"):
        labinterp.interpret(lazy)


def test_other_objects_are_still_refused() -> None:
    """Only pandas, Polars and Arrow frames are taken."""
    with pytest.raises(TypeError, match="pandas DataFrame"):
        labinterp.interpret([{"raw_value": "1"}])  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [False, True])
def test_arrow_schema_is_the_schema_of_what_interpret_returns(history: bool) -> None:
    """The declared columns as declared, the input's own columns with their type, in order."""
    frame = _nordic().assign(batch=1, checked=True)
    out = labinterp.interpret(frame, decimal=",", history=history)
    found = frames.arrow_schema(pa.Schema.from_pandas(frame, preserve_index=False), history=history)
    assert found.names == list(out.columns)
    declared = schema.interpreted()
    for field in found:
        if field.name in declared.names:
            assert field.equals(declared.field(field.name), check_metadata=True)
    assert found.field("batch").type == pa.int64() and found.field("batch").nullable
    assert found.field("checked").type == pa.bool_()
    # The interpreted frame itself converts to Arrow with this schema.
    table = pa.Table.from_pandas(schema.conform(out), schema=found, preserve_index=False)
    assert table.num_rows == len(out)


def test_arrow_schema_from_column_names_types_other_columns_as_text() -> None:
    """Given only names, a column that is not declared is text."""
    found = frames.arrow_schema(["patient_id", "analyte", "raw_value", "ward"])
    assert found.field("ward").type == pa.string()
    assert found.field("flag").type == schema.interpreted().field("flag").type
