"""The row-combination helpers agree with plain Python definitions."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labinterp import perf
from labinterp.perf import factorize_rows
from labinterp.samples import in_sets_of

EXAMPLES = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))

CELLS = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]), st.integers(0, 3))


def _reference(rows: list[tuple[object, ...]]) -> tuple[list[int], list[int]]:
    """Return first-appearance numbers of the combinations, computed the plain way."""
    seen: dict[tuple[object, ...], int] = {}
    codes, first = [], []
    for position, row in enumerate(rows):
        if row not in seen:
            seen[row] = len(seen)
            first.append(position)
        codes.append(seen[row])
    return codes, first


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.integers(1, 4).flatmap(lambda k: st.lists(st.tuples(*[CELLS] * k), max_size=40)),
    st.booleans(),
)
def test_factorize_rows_matches_first_appearance_numbering(
    rows: list[tuple[object, ...]], table: bool
) -> None:
    """Codes number distinct combinations (missing is a value) in order of first appearance.

    Both ways of numbering the combined codes are checked: with a table (few possible
    combinations) and with a hash.
    """
    width = len(rows[0]) if rows else 1
    columns = [pd.Series([row[i] for row in rows], dtype=object) for i in range(width)]
    # Rows this few always fit the table; limits of 0 force the hash. With the table,
    # the first rows are put in order by sorting or (a limit of 0) by marking.
    limits = (
        {"_DENSE_PER_ROW": 0, "_DENSE_MIN": 0}
        if not table
        else {"_SORT_AT_MOST": 0 if len(rows) % 2 else 4096}
    )
    with mock.patch.multiple(perf, **limits):
        codes, first = factorize_rows(*columns)
    expected_codes, expected_first = _reference(rows) if rows else ([], [])
    assert codes.tolist() == expected_codes
    assert first.tolist() == expected_first


def test_factorize_rows_does_not_overflow_with_many_wide_columns() -> None:
    """Combining many columns of many distinct values renumbers instead of overflowing."""
    n = 50_000
    rng = np.random.default_rng(7)
    columns = [rng.permutation(n) for _ in range(5)]
    codes, first = factorize_rows(*columns)
    assert len(first) == n
    assert np.array_equal(codes, np.arange(n))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.sampled_from(["x", "y", None]), st.booleans())))
def test_factorize_rows_numbers_integers_categoricals_and_booleans_alike(
    rows: list[tuple[int, str | None, bool]],
) -> None:
    """Integer, categorical and boolean columns group exactly as their values do."""
    numbers = np.array([r[0] for r in rows], dtype=np.int64)
    labels = pd.Categorical([r[1] for r in rows], categories=["y", "x"])
    flags = np.array([r[2] for r in rows], dtype=bool)
    codes, first = factorize_rows(numbers, labels, flags)
    expected_codes, expected_first = _reference(rows)
    assert codes.tolist() == expected_codes
    assert first.tolist() == expected_first


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 4), st.booleans()), max_size=30))
def test_in_sets_of_marks_the_rows_sharing_a_set_with_a_member(
    rows: list[tuple[int, bool]],
) -> None:
    """A row is marked when its set (not -1) also holds a member row."""
    sets = np.array([s for s, _ in rows], dtype=np.int64)
    members = np.array([m for _, m in rows], dtype=bool)
    held = {s for s, m in rows if m and s >= 0}
    assert in_sets_of(sets, members).tolist() == [s in held for s, _ in rows]


def test_column_codes_in_threads_equal_factorizing_in_turn(monkeypatch) -> None:
    """Text columns factorized in background threads give pandas.factorize's codes."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "a": pd.array(rng.choice(["x", "y", None], 500), dtype="str"),
            "b": pd.Series(rng.choice(["p", "q"], 500), dtype=object),
        }
    )
    expected = {name: pd.factorize(frame[name], use_na_sentinel=True) for name in frame}
    for threshold in (0, 10**9):  # in threads, then in turn
        monkeypatch.setattr(perf, "THREADED_ROWS", threshold)
        coded = perf.ColumnCodes(frame, ["a", "b", "absent"])
        assert coded.get("absent") is None
        for name, (codes, uniques) in expected.items():
            found = coded.get(name)
            assert found is not None
            assert found.codes.tolist() == codes.tolist()
            assert list(found.uniques) == list(uniques)


def test_soon_takes_back_queued_work_and_waits_for_started_work() -> None:
    """A result still queued is computed by the caller; one already started is waited for."""
    import threading

    pool = perf._pool()
    release = threading.Event()
    busy = [pool.submit(release.wait) for _ in range(pool._max_workers)]  # every worker
    queued = perf.Soon(True, threading.get_ident)
    assert queued.result() == threading.get_ident()  # taken back: run here
    release.set()
    for future in busy:
        future.result()
    running, go = threading.Event(), threading.Event()

    def work() -> str:
        running.set()
        go.wait()
        return threading.current_thread().name

    started = perf.Soon(True, work)
    running.wait()
    go.set()
    assert started.result().startswith("labinterp")  # run by the worker, waited for
    assert perf.Soon(False, lambda: 7).result() == 7


def _rows_in_child(threshold: int) -> int:
    import labinterp

    perf.THREADED_ROWS = threshold
    source = labinterp.read_csv(EXAMPLE)
    return len(labinterp.interpret(source))


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nordic_export.csv"


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_a_forked_child_runs_with_a_pool_of_its_own(monkeypatch) -> None:
    """After the parent used its threads, a forked child interprets (no hang on dead threads)."""
    monkeypatch.setattr(perf, "THREADED_ROWS", 0)
    expected = _rows_in_child(0)  # the parent's pool now has a started worker
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_rows_in_child, (0,)).get(timeout=60) == expected
