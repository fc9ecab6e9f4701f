"""Times written as text, vectorised, against ``pandas.Timestamp.isoformat`` one by one."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from labinterp.times import offset_text, time_texts


def one_by_one(wall: pd.Series, offset: pd.Series, sep: str) -> list[str | None]:
    """Write each time with its own ``isoformat`` and offset; a floating midnight as a date."""
    texts: list[str | None] = []
    for moment, shift in zip(pd.to_datetime(wall), offset, strict=True):
        if pd.isna(moment):
            texts.append(None)
        elif not pd.isna(shift):
            texts.append(moment.isoformat(sep=sep) + offset_text(float(shift)))
        elif moment == moment.normalize():
            texts.append(moment.date().isoformat())
        else:
            texts.append(moment.isoformat(sep=sep))
    return texts


moments = st.one_of(
    st.none(),
    st.integers(
        min_value=pd.Timestamp("1900-01-01").value, max_value=pd.Timestamp("2200-01-01").value
    ),
    # Whole minutes, seconds and midnights are what exports hold: drawn often.
    st.integers(min_value=-600_000, max_value=6_000_000).map(lambda m: m * 60 * 10**9),
    st.integers(min_value=-20_000, max_value=80_000).map(lambda d: d * 86_400 * 10**9),
    st.integers(min_value=0, max_value=10**9).map(lambda s: s * 10**9 + 500_000),
)
offsets = st.one_of(st.none(), st.integers(min_value=-840, max_value=840))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(moments, offsets), max_size=30), st.sampled_from(["T", " "]))
def test_vectorised_texts_equal_isoformat_one_by_one(rows, sep) -> None:
    wall = pd.Series(
        [pd.NaT if m is None else pd.Timestamp(m) for m, _ in rows], dtype="datetime64[ns]"
    )
    offset = pd.Series([pd.NA if o is None else o for _, o in rows], dtype="Int64")
    assert time_texts(wall, offset, sep=sep) == one_by_one(wall, offset, sep)


def test_fractions_offsets_and_dates_as_isoformat_writes_them() -> None:
    written = [
        "2026-03-01 08:10:00.5",
        "2026-03-01 08:10:00.000000500",
        "2026-03-02",
        "2026-03-02",
        None,
        "1969-12-31 23:59:59",
    ]
    wall = pd.Series([pd.Timestamp(w) if w else pd.NaT for w in written], dtype="datetime64[ns]")
    offset = pd.Series([60, pd.NA, pd.NA, -420, 0, pd.NA], dtype="Int64")
    assert time_texts(wall, offset, sep=" ") == [
        "2026-03-01 08:10:00.500000+01:00",
        "2026-03-01 08:10:00.000000500",
        "2026-03-02",
        "2026-03-02 00:00:00-07:00",
        None,
        "1969-12-31 23:59:59",
    ]
    assert time_texts(wall, None)[2] == "2026-03-02"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.integers(min_value=-(10**13), max_value=10**13)),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["s", "ms", "us"]),
)
def test_times_in_other_units_are_written_in_their_own_unit(ticks, unit) -> None:
    # Beyond what nanoseconds hold too: years 1500 or 2500 are written, not wrapped.
    values = np.array([np.datetime64("NaT") if t is None else t for t in ticks], dtype=object)
    wall = pd.Series(np.array(values, dtype=f"datetime64[{unit}]"))
    assert time_texts(wall, None) == one_by_one(wall, pd.Series([pd.NA] * len(wall)), "T")


def test_a_time_with_its_zone_is_written_with_that_zones_offset() -> None:
    wall = pd.Series(pd.to_datetime(["2026-03-01 08:10", "2026-07-01 08:10"])).dt.tz_localize(
        "Europe/Oslo"
    )
    assert time_texts(wall, None) == ["2026-03-01T08:10:00+01:00", "2026-07-01T08:10:00+02:00"]
