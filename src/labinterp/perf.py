"""Vectorised machinery with no domain words: factorisation of columns and a shared thread pool.

The interpretation steps number distinct values (and combinations of values) with
:func:`factorize_rows` and work once per distinct value; large frames spread work that
releases the GIL over :func:`threaded` helpers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "Coded",
    "ColumnCodes",
    "Soon",
    "factorize_rows",
    "factorized",
    "objects",
    "shared_pool",
    "threaded",
]

T = TypeVar("T")
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

#: Combined codes stay below this, far from the int64 limit.
_LIMIT = 2**62
#: Integer columns spanning fewer values than this are numbered without hashing.
_SMALL = 1 << 20
#: Combinations spanning at most this many values per row (or at most ``_DENSE_MIN``
#: values) are numbered with a table instead of a hash.
_DENSE_PER_ROW = 4
_DENSE_MIN = 1 << 16
#: Up to this many distinct combinations, their first rows are put in order by sorting.
_SORT_AT_MOST = 4096


#: Frames with at least this many rows spread work that releases the GIL over threads.
THREADED_ROWS = 50_000


@dataclass(frozen=True)
class Coded:
    """A column already factorized, as ``pandas.factorize(..., use_na_sentinel=True)`` gives.

    ``codes`` number the rows' values (-1: missing); ``uniques`` holds the distinct values.
    :func:`factorize_rows` takes it in place of the column.
    """

    codes: IntArray
    uniques: Any


def factorized(values: Any) -> Coded:
    """Return values factorized (missing is -1); a categorical by its own codes."""
    if isinstance(values, pd.Categorical):
        return Coded(np.asarray(values.codes, dtype=np.int64), values.categories)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return Coded(np.asarray(codes, dtype=np.int64), uniques)


@cache
def shared_pool(name: str, workers: int) -> ThreadPoolExecutor:
    """Return the process's thread pool of this name, made on first use."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)


# A forked child has none of the parent's threads: it starts pools of its own.
if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=shared_pool.cache_clear)


def _pool() -> ThreadPoolExecutor:
    # One worker per core besides the calling thread's (at least one, at most four).
    return shared_pool("labinterp", min(4, max(1, (os.cpu_count() or 2) - 1)))


def threaded(rows: int) -> bool:
    """Whether work on a frame of this many rows is worth spreading over threads."""
    return rows >= THREADED_ROWS and (os.cpu_count() or 1) > 1


class Soon(Generic[T]):
    """A value computed in a background thread, or on first use when not threaded.

    Parameters
    ----------
    in_background
        Start ``fn(*args)`` in the shared pool now; else run it when first asked for.
    fn, *args
        What to compute; ``fn`` must not change its arguments.
    """

    def __init__(self, in_background: bool, fn: Callable[..., T], *args: Any) -> None:
        self._future: Future[T] | None = _pool().submit(fn, *args) if in_background else None
        self._call: tuple[Callable[..., T], tuple[Any, ...]] | None = (fn, args)
        self._value: T | None = None

    def result(self) -> T:
        """Return the value, waiting for it or computing it now.

        Work still queued (not started by a worker) is taken back and done in the calling
        thread, which would otherwise only wait.
        """
        if self._call is not None:
            fn, args = self._call
            future = self._future
            if future is not None and not future.cancel():
                self._value = future.result()
            else:
                self._value = fn(*args)
            self._call, self._future = None, None
        return cast(T, self._value)


class ColumnCodes:
    """Factorize a frame's text columns, in background threads for large frames.

    Hashing Arrow-backed text releases the GIL, so the columns are hashed at the same
    time as each other and as the work that does not need them yet.

    Parameters
    ----------
    frame
        The frame (not changed).
    names
        The columns to factorize; those missing from the frame are skipped.
    """

    def __init__(self, frame: pd.DataFrame, names: Iterable[str]) -> None:
        in_background = threaded(len(frame))
        self._soon = {
            name: Soon(in_background, factorized, frame[name])
            for name in names
            if name in frame.columns
        }

    def get(self, name: str) -> Coded | None:
        """Return the column's codes (waiting for them), ``None`` when not factorized."""
        found = self._soon.get(name)
        return found.result() if found is not None else None


def objects(n: int, value: str | None = None) -> ObjArray:
    """Return an object array holding one value ``n`` times.

    Many times faster than ``np.full(n, value, dtype=object)``, which converts the value
    through a fixed-width string array and, for text, makes a new string per element.
    """
    out = np.empty(n, dtype=object)  # NumPy fills new object arrays with None
    if value is not None:
        out[:] = value
    return out


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
    size = 1  # combined codes are below this
    for column in columns:
        codes, width = _codes(column)
        if combined is None:
            combined, size = codes, width
            continue
        if size * width >= _LIMIT:  # renumber before the product could overflow
            renumbered, seen = pd.factorize(combined)
            combined, size = np.asarray(renumbered, dtype=np.int64), len(seen)
        combined *= width  # in place: every array from _codes is new
        combined += codes
        size *= width
    if combined is None:
        raise ValueError("factorize_rows needs at least one column")
    if not len(combined):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if size <= max(_DENSE_PER_ROW * len(combined), _DENSE_MIN):
        return _number_dense(combined, size)
    # Hash factorization numbers combinations in order of first appearance, so each
    # code's first row is where the running maximum of the codes steps up.
    numbered, _ = pd.factorize(combined)
    rank = np.asarray(numbered, dtype=np.int64)
    steps = np.diff(np.maximum.accumulate(rank), prepend=-1)
    return rank, np.flatnonzero(steps > 0).astype(np.int64)


def _number_dense(combined: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """Return first-appearance numbers of codes below ``size``, from a table, not a hash.

    The same result as hash factorization, in two passes over the rows.
    """
    n = len(combined)
    first_at = np.full(size, n, dtype=np.int64)  # per code, its first row (n: absent)
    np.minimum.at(first_at, combined, np.arange(n, dtype=np.int64))
    keys = np.flatnonzero(first_at < n)
    first = first_at[keys]
    # Codes in order of first appearance; first rows are distinct, so many codes are
    # ordered by marking their rows instead of sorting.
    if len(keys) <= _SORT_AT_MOST:
        order = np.argsort(first, kind="stable")
    else:
        mark = np.full(n, -1, dtype=np.int64)
        mark[first] = np.arange(len(keys))
        order = mark[mark >= 0]
    number = np.empty(size, dtype=np.int64)
    number[keys[order]] = np.arange(len(keys))
    return number[combined], first[order]


def _codes(column: Any) -> tuple[IntArray, int]:
    """Return numbers for one column's values (missing is a value) and their upper bound.

    Small integers and categoricals are numbered by their values and codes, without
    hashing. Factorized codes are shifted up by one, so missing (-1) is 0. Each array
    returned is new.
    """
    if isinstance(column, Coded):
        return np.add(column.codes, 1, dtype=np.int64), len(column.uniques) + 1
    if isinstance(column, pd.Categorical):
        return np.add(column.codes, 1, dtype=np.int64), len(column.categories) + 1
    values = column if isinstance(column, (pd.Series, pd.Index)) else np.asarray(column)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biu" and len(values):
        numbers = np.asarray(values)
        low, high = int(numbers.min()), int(numbers.max())
        if high - low < _SMALL:
            return np.subtract(numbers, low, dtype=np.int64), high - low + 1
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.add(codes, 1, dtype=np.int64), len(uniques) + 1
