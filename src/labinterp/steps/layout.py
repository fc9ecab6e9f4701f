"""Layout: where each output row comes from, and the interpreted frame assembled once.

Every input row appears exactly once, in input order; each derived row follows the row
it was derived from. Input columns are taken into output order (in background threads
for large frames) while the ranges, flags and texts are worked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.perf import Soon, threaded
from labinterp.schema import head
from labinterp.steps.state import IntArray

__all__ = ["Layout", "Passing", "assemble", "derived_labels"]


@dataclass(frozen=True)
class Layout:
    """Where each output row comes from: an input row, or a row derived from one.

    Derived rows follow the row they were derived from, in the order they were made.
    """

    order: IntArray  # positions into the input rows followed by the derived rows
    where: IntArray  # the inverse: the output row of each input row, then of each derived row
    derived: npt.NDArray[np.bool_]
    source: IntArray  # the input row each output row is, or was derived from
    positions: IntArray  # per derived row, its source input row

    @classmethod
    def of(cls, n: int, positions: IntArray) -> Layout:
        """Place ``n`` input rows and derived rows (each after its source position)."""
        if not len(positions):  # no derived rows: every row stays where it is
            rows = np.arange(n, dtype=np.int64)
            return cls(rows, rows, np.zeros(n, dtype=bool), rows, positions)
        keys = np.concatenate([np.arange(n, dtype="float64"), positions + 0.5])
        order = np.asarray(np.argsort(keys, kind="stable"), dtype=np.int64)
        where = np.empty_like(order)
        where[order] = np.arange(len(order))
        derived = order >= n
        made = np.where(derived, order - n, 0)
        source = np.where(derived, positions[made], order)
        return cls(order, where, derived, source, positions)

    @property
    def identity(self) -> bool:
        """Whether no row was derived (every row stays where it is)."""
        return len(self.positions) == 0

    def place(self, inputs: Any, made: Any) -> Any:
        """Return input-row and derived-row values together, in output order."""
        if self.identity:
            return inputs
        # Each value is written once, straight to its output row.
        out = np.empty(len(self.order), dtype=np.result_type(inputs, made))
        n = len(self.order) - len(self.positions)
        out[self.where[:n]] = inputs
        out[self.where[n:]] = made
        return out

    def derived_column(self, made: Any) -> Any:
        """Return ``made`` (a pandas array) on the derived rows, missing elsewhere."""
        rows = np.full(len(self.order), -1, dtype=np.int64)
        rows[self.where[len(self.order) - len(self.positions) :]] = np.arange(len(made))
        return made.take(rows, allow_fill=True)

    def context(self, series: pd.Series) -> pd.Series:
        """Return a context column in output order; derived rows copy their source's."""
        if self.identity:
            return series
        return pd.Series(series.array.take(self.source), dtype=series.dtype, copy=False)

    def input_only(self, series: pd.Series) -> pd.Series:
        """Return an input column in output order, missing on derived rows."""
        if self.identity:
            return series
        values: Any = series.array
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
            if series.dtype.kind in "iu":
                values = pd.array(series.to_numpy(), dtype="Int64")
            else:
                values = pd.arrays.NumpyExtensionArray(series.to_numpy(dtype=object))
        rows = np.where(self.derived, -1, self.order)
        taken: pd.Series = pd.Series(
            values.take(rows, allow_fill=True), dtype=values.dtype, copy=False
        )
        return taken


#: Input columns a derived row copies from the row it was derived from.
_COPIED_CONTEXT = frozenset(
    {
        "patient_id",
        "age_years",
        "birth_date",
        "birth_year",
        "collected_at",
        "collected_at_offset",
        "height_cm",
        "raw_sex",
    }
)


class Passing:
    """The input columns in output order (see :class:`Layout`).

    For large frames they are taken in background threads, while the ranges, flags and
    text are worked out, and collected when the frame is assembled.
    """

    def __init__(self, out: pd.DataFrame, layout: Layout) -> None:
        soon = threaded(len(layout.order)) and not layout.identity
        # ``sex`` is written by the interpretation itself; the input's passes as ``raw_sex``.
        self.columns = {
            name: Soon(
                soon, layout.context if name in _COPIED_CONTEXT else layout.input_only, out[name]
            )
            for name in out.columns
            if name != "sex"
        }
        # The sex as written, copied to derived rows.
        self.raw_sex = Soon(soon, layout.context, out["sex"]) if "sex" in out.columns else None


def assemble(
    columns: dict[str, Any],
    layout: Layout,
    input_index: pd.Index,
    derived_index: pd.Index,
    passing: Passing,
) -> pd.DataFrame:
    """Build the interpreted frame once: glossary columns first, each column built once."""
    passed = {
        name: taken.result() for name, taken in passing.columns.items() if name not in columns
    }
    if passing.raw_sex is not None:
        columns["raw_sex"] = passing.raw_sex.result()
    if "analyte" in passing.columns:  # the interpretation writes analyte; as written:
        columns["raw_analyte"] = passing.columns["analyte"].result()
    index = input_index if layout.identity else input_index.append(derived_index).take(layout.order)
    frame: dict[str, Any] = {}
    for name, values in {**passed, **columns}.items():
        if not isinstance(values, pd.Series):  # object arrays stay object (no str inference)
            values = pd.Series(values, dtype=values.dtype, copy=False)
        series = values
        series.index = index
        frame[name] = series
    first = head()
    ordered = [*first, *(c for c in frame if c not in first)]
    return pd.DataFrame({name: frame[name] for name in ordered}, index=index, copy=False)


def derived_labels(index: pd.Index, positions: npt.NDArray[np.int64]) -> pd.Index:
    """Index labels for derived rows that never collide with the input's labels.

    An integer index continues after its largest label; any other index gets
    ``"derived:<source label>"`` labels.
    """
    if pd.api.types.is_integer_dtype(index.dtype) or len(index) == 0:
        start = int(index.max()) + 1 if len(index) else 0
        return pd.RangeIndex(start, start + len(positions))
    return pd.Index([f"derived:{index[p]}" for p in positions], dtype=object)
