"""Times in fixed-width spellings are read by arithmetic, with the same result as pandas.

``parse_times(fast=False)`` reads every text through pandas, format by format in the
order of ``DATE_FORMATS``: the definition of what is accepted. The fast path must give
the same wall times, offsets and failures for every input.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from labinterp.times import DATE_FORMATS, parse_times

#: Years at and around the edges of what a nanosecond timestamp holds (1677-09-21 to
#: 2262-04-11), leap and common years, and years no lab writes.
YEARS = [1, 999, 1600, 1677, 1678, 1900, 1970, 2000, 2023, 2024, 2100, 2261, 2262, 9999]
#: What may follow a time: nothing, offsets valid and not, and spaces.
ENDINGS = ["", "", "", "Z", "+01:00", "-0700", "+14:00", "-14:01", "+01:60", "+0530", " ", "z"]


def _number(draw: st.DrawFn, value: int, width: int) -> str:
    """Write a field zero-padded (mostly), or as plain digits, or space-padded."""
    style = draw(st.sampled_from(["padded"] * 6 + ["plain", "space", "wide"]))
    if style == "padded":
        return str(value).zfill(width)
    if style == "space":
        return str(value).rjust(width)
    return str(value).zfill(width + 1) if style == "wide" else str(value)


@st.composite
def written_times(draw: st.DrawFn) -> str | None:
    """Draw a time as an export might write it, in one of DATE_FORMATS or close to one."""
    kind = draw(st.sampled_from(["format"] * 8 + ["characters", "none", "empty"]))
    if kind == "none":
        return None
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "characters":
        return draw(st.text(alphabet="0123456789-.:T Z+/", max_size=22))
    fields = {
        "Y": (draw(st.sampled_from(YEARS) | st.integers(1600, 2300)), 4),
        "m": (draw(st.integers(0, 13)), 2),
        "d": (draw(st.sampled_from([1, 28, 29, 30, 31]) | st.integers(0, 32)), 2),
        "H": (draw(st.sampled_from([0, 23, 24]) | st.integers(0, 25)), 2),
        "M": (draw(st.sampled_from([0, 59, 60]) | st.integers(0, 61)), 2),
        "S": (draw(st.sampled_from([0, 59, 60, 61]) | st.integers(0, 61)), 2),
        "f": (draw(st.integers(0, 999_999)), draw(st.integers(1, 7))),
    }
    fmt = draw(st.sampled_from(DATE_FORMATS))
    if draw(st.booleans()):  # another separator between date and time
        fmt = fmt.replace(" ", draw(st.sampled_from(["T", "  ", "_", ""])), 1)
    text, parts = "", iter(fmt)
    for char in parts:
        if char == "%":
            value, width = fields[next(parts)]
            text += _number(draw, value, width)
        else:
            text += char
    spaces = draw(st.sampled_from(["", "", " ", "  ", "\t"]))
    return spaces + text + draw(st.sampled_from(ENDINGS)) + draw(st.sampled_from(["", " "]))


def _both(texts: pd.Series) -> None:
    for fast, plain in zip(parse_times(texts), parse_times(texts, fast=False), strict=True):
        pd.testing.assert_series_equal(fast, plain)


@settings(max_examples=600, deadline=None)
@given(st.lists(written_times(), min_size=1, max_size=40), st.sampled_from(["object", "string"]))
def test_fast_path_reads_as_pandas(texts: list[str | None], dtype: str) -> None:
    """Wall time, offset and failure are the same with and without the fast path."""
    _both(pd.Series(texts, dtype=dtype))


@pytest.mark.parametrize(
    "texts",
    [
        ["29.02.2024", "29.02.2023", "29.02.2000", "29.02.1900", "31.04.2026", "30.04.2026"],
        ["2026-03-01 24:00", "2026-03-01 23:60", "2026-03-01 23:59:60", "2026-13-01"],
        ["1677-09-21", "1677-09-22", "2262-04-11", "2262-04-12", "1678-01-01", "2261-12-31"],
        ["2026-3-1", "1.3.2026", "2026-03-01 8:10", "20260301 0810", "2026-03-01T08:10:05.5"],
        ["2026-03-01T08:10+01:00", "2026-03-01 08:10Z", "202603010810-0700", "2026-03-01+15:00"],
        ["  01.03.2026 08:10  ", "", None, "2026-0301", "2026/03/01", "01.03.26"],
    ],
)
def test_edges_read_as_pandas(texts: list[str | None]) -> None:
    """Hand-picked edges: the fast path refuses what it is not certain of."""
    _both(pd.Series(texts, dtype=object))


def test_objects_read_as_pandas() -> None:
    """Datetimes (naive and with an offset), dates, numbers and missing values in a column."""
    aware = datetime(2026, 3, 1, 8, 10, tzinfo=timezone(timedelta(hours=1)))
    given = [datetime(2026, 3, 1, 8, 10), date(2026, 3, 1), aware, pd.Timestamp("2026-03-01")]
    _both(pd.Series([*given, 20260301, 202603010810, 1.5, "01.03.2026", None], dtype=object))
    _both(pd.Series([datetime(2026, 3, 1, 8, 10), datetime(2027, 3, 1, 8, 10, 5)], dtype=object))


def test_edges_of_the_calendar_and_the_timestamp_range() -> None:
    """Leap days, month ends and the nanosecond range, as read (through either path)."""
    texts = ["29.02.2024", "29.02.2023", "31.04.2026", "1677-09-21", "1677-09-22", "2262-04-12"]
    wall, _, failed = parse_times(pd.Series(texts))
    assert failed.tolist() == [False, True, True, True, False, True]
    assert str(wall[0]) == "2024-02-29 00:00:00"
    assert str(wall[4]) == "1677-09-22 00:00:00"


def test_fixed_width_spellings_need_no_strptime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every zero-padded spelling of a format without fractions is read by arithmetic."""
    texts = [
        "2026-03-01",
        "2026-03-01 08:10",
        "2026-03-01 08:10:05",
        "2026-03-01T08:10",
        "2026-03-01T08:10:05+01:00",
        "01.03.2026",
        "01.03.2026 08:10",
        "01.03.2026 08:10:05",
        "20260301",
        "202603010810",
        "20260301081005",
    ]
    expected = parse_times(pd.Series(texts), fast=False)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("read through pandas")

    monkeypatch.setattr(pd, "to_datetime", refused)
    for fast, plain in zip(parse_times(pd.Series(texts)), expected, strict=True):
        pd.testing.assert_series_equal(fast, plain)


def test_many_distinct_times() -> None:
    """A column of many distinct times (a year to the minute) reads as pandas reads it."""
    minutes = pd.date_range("2023-12-31 22:00", periods=20_000, freq="27min")
    nordic = pd.Series(minutes.strftime("%d.%m.%Y %H:%M"))
    iso = pd.Series(minutes.strftime("%Y-%m-%dT%H:%M:%S"))
    for texts in (nordic, iso):
        wall, offset, failed = parse_times(texts)
        assert (wall.to_numpy() == minutes.to_numpy()).all()
        assert offset.isna().all() and not failed.any()
        _both(texts[:2000])


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "object"])
@pytest.mark.parametrize("texts", [[], [None, None], ["2026-03-01", None]])
def test_empty_and_missing_columns(texts: list[str | None], dtype: str) -> None:
    """A column with nothing to read (no values, or all missing) reads as missing times."""
    wall, offset, failed = parse_times(pd.Series(texts, dtype=dtype))
    assert wall.isna().tolist() == [t is None for t in texts]
    assert offset.isna().all() and not failed.any()
    _both(pd.Series(texts, dtype=dtype))
