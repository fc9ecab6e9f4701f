"""Small vectorised helpers shared by the interpretation steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["factorize_rows", "sample_sets"]

IntArray = npt.NDArray[np.int64]


def factorize_rows(*columns: Any) -> tuple[IntArray, IntArray]:
    """Return a number for each distinct combination of several row-aligned columns.

    Missing values count as a value of their own. Much faster than factorizing a
    MultiIndex: each column is factorized once and the codes are combined.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The combination code of every row, and the position of the first row of
        each combination (so ``column[first[code]]`` recovers the values).
    """
    combined: IntArray | None = None
    for column in columns:
        values = (
            column
            if isinstance(column, (pd.Series, pd.Index, pd.Categorical))
            else np.asarray(column)
        )
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        codes = np.asarray(codes, dtype=np.int64)
        if combined is None:
            combined = codes
        else:
            mixed, _ = pd.factorize(combined * (len(uniques) + 1) + codes)
            combined = np.asarray(mixed, dtype=np.int64)
    if combined is None:
        raise ValueError("factorize_rows needs at least one column")
    _, first = np.unique(combined, return_index=True)
    # Renumber so that codes follow the order of first appearance.
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[combined], np.asarray(first[order], dtype=np.int64)


def sample_sets(patient: Any, collected: Any) -> IntArray:
    """Return sample-set numbers (same patient and collection time); -1 where one is missing."""
    patients = pd.Series(patient)
    times = pd.Series(collected)
    codes, _ = factorize_rows(patients, times)
    missing = patients.isna().to_numpy() | times.isna().to_numpy()
    return np.where(missing, -1, codes)
