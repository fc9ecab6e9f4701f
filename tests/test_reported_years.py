"""Ages from birth dates are written as completed years, as a person counts them."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from labinterp.steps.reported import _completed_years

days = st.datetimes(min_value=datetime(1880, 1, 1), max_value=datetime(2100, 12, 31))


def at_last_birthday(born: datetime, taken: datetime) -> int:
    """Age at the last birthday, counted on the calendar (29 February: 1 March)."""
    return taken.year - born.year - ((taken.month, taken.day) < (born.month, born.day))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(days, st.timedeltas(timedelta(0), timedelta(days=40_000))),
        min_size=1,
        max_size=40,
    )
)
def test_completed_years_are_counted_on_the_calendar(pairs) -> None:
    born = [b.replace(hour=0, minute=0, second=0, microsecond=0) for b, _ in pairs]
    taken = [b + d for b, d in pairs]
    frame = pd.DataFrame(
        {
            "birth_date": pd.Series(born, dtype="datetime64[ns]"),
            "collected_at": pd.Series(taken, dtype="datetime64[ns]"),
        }
    )
    fractional = np.array([d.total_seconds() / 86400 / 365.2425 + 1e-9 for _, d in pairs])
    got = _completed_years(frame, fractional)
    assert got.tolist() == [float(at_last_birthday(b, t)) for b, t in zip(born, taken, strict=True)]


def test_given_ages_and_missing_dates_are_kept() -> None:
    frame = pd.DataFrame(
        {
            "birth_date": pd.to_datetime(["1950-06-15", None, "1950-06-15"]),
            "collected_at": pd.to_datetime(
                ["2026-06-14 00:00", "2026-06-14 00:00", "2026-06-15 08:10"]
            ),
        }
    )
    got = _completed_years(frame, np.array([75.99, 41.5, 76.0]))
    assert got.tolist() == [75.0, 41.5, 76.0]
