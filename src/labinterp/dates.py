"""Dates, ages and sex codes: the context every reader and the engine complete the same way.

Dates are parsed from the spellings exports use (:data:`labinterp.times.DATE_FORMATS`);
collection times become instants as :mod:`labinterp.times` says (the wall-clock time and
its UTC offset). **Ages** come from birth date and collection time first, then from
``age_years``, then from ``birth_year`` (for adults only: see :data:`CHILD_UNTIL`). Ages
below 0, above :data:`MAX_AGE_YEARS` or that look like a year are refused
(:func:`refused_ages`). A disagreement between the sources is named in ``read_problem``,
never picked silently. Sex codes are read through an explicit map. Readers call
:func:`complete_context` on the frame they build, and the engine again with the time zone.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.errors import InvalidResultError, LabinterpWarning
from labinterp.times import (
    DATE_FORMATS,
    FLOATING_TIMES,
    MAX_OFFSET_MINUTES,
    OFFSET_DISAGREES,
    TIME_FOLD,
    TIME_GAP,
    localize,
    parse_times,
    time_zone,
)
from labinterp.values import as_float

__all__ = [
    "AGE_DISAGREES_BIRTH_DATE",
    "AGE_DISAGREES_BIRTH_YEAR",
    "AGE_LIKE_YEAR",
    "AGE_OUT_OF_RANGE",
    "BIRTH_AGE_OUT_OF_RANGE",
    "BIRTH_YEAR_CHILD",
    "BIRTH_YEAR_DISAGREES_BIRTH_DATE",
    "BIRTH_YEAR_OUT_OF_RANGE",
    "BIRTH_YEAR_UNREADABLE",
    "CHILD_UNTIL",
    "DATE_FORMATS",
    "MAX_AGE_YEARS",
    "YEAR_LIKE_AGE",
    "complete_context",
    "month_of",
    "parse_dates",
    "refused_ages",
]

#: Average length of a year in days (Gregorian calendar), for ages in fractional years.
_DAYS_PER_YEAR = 365.2425
#: Ages above this many years are refused: the oldest verified human lived 122 years and
#: 164 days (Robine2019).
MAX_AGE_YEARS = 125.0
#: An "age" of this many years or more is taken for a year typed into the age column.
YEAR_LIKE_AGE = 1900.0
#: The highest age band edge of a child: every eGFR equation and catalogue range band at
#: or above it is an adult one (``EQUATIONS`` age_min/age_max, ``ranges.csv`` age bands).
#: An age from a birth year alone is used only when the patient is this old at least.
CHILD_UNTIL = 18.0

# -- sentences (read_problem; the text catalogue has them as problem.<id>) ------------

#: problem.age_like_year
AGE_LIKE_YEAR = (
    "age_years looks like a year, not an age; it was not used (a year of birth belongs in "
    "a birth_year column)."
)
#: problem.age_out_of_range
AGE_OUT_OF_RANGE = "age_years is below 0 or above 125 years; it was not used."
#: problem.birth_age_out_of_range
BIRTH_AGE_OUT_OF_RANGE = (
    "The age from birth_date and collected_at is below 0 or above 125 years; it was not used."
)
#: problem.birth_year_unreadable
BIRTH_YEAR_UNREADABLE = "birth_year is not a whole year; it was not used."
#: problem.birth_year_out_of_range
BIRTH_YEAR_OUT_OF_RANGE = (
    "birth_year gives an age below 0 or above 125 years at collection; it was not used."
)
#: problem.birth_year_child
BIRTH_YEAR_CHILD = (
    "Only the year of birth is known and the patient may be under 18, where reference "
    "ranges and eGFR equations change with age; no age was used. Give the birth date or "
    "the age."
)
#: problem.age_disagrees_birth_date
AGE_DISAGREES_BIRTH_DATE = (
    "age_years differs by a year or more from the age from birth_date and collected_at; "
    "the age from the dates was used."
)
#: problem.age_disagrees_birth_year
AGE_DISAGREES_BIRTH_YEAR = "age_years does not fit birth_year; age_years was used."
#: problem.birth_year_disagrees_birth_date
BIRTH_YEAR_DISAGREES_BIRTH_DATE = "birth_year is not the year of birth_date; birth_date was used."


# -- parsing --------------------------------------------------------------------------


def parse_dates(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dates written in any of :data:`DATE_FORMATS`, vectorised.

    Parameters
    ----------
    texts
        Dates as written (strings, or already datetimes).

    Returns
    -------
    (pandas.Series, pandas.Series)
        The wall-clock values (``datetime64[ns]``, naive: a UTC offset is not kept; use
        :func:`parse_times` for times whose offset matters) and a boolean Series marking
        non-empty texts that could not be read.
    """
    wall, _, failed = parse_times(texts)
    return wall, failed


# -- ages -----------------------------------------------------------------------------


def refused_ages(ages: npt.ArrayLike) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Mark the ages that are refused: those that look like a year, and the others.

    The one rule for every path (frames and :func:`labinterp.interpret_one`): an age of
    :data:`YEAR_LIKE_AGE` or more looks like a year typed into the age column; an age
    below 0 or above :data:`MAX_AGE_YEARS` is impossible. Missing ages are not refused.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Where an age looks like a year, and where it is otherwise out of range.

    Examples
    --------
    >>> [m.tolist() for m in refused_ages([1958, 130, -1, 54, float("nan")])]
    [[True, False, False, False, False], [False, True, True, False, False]]
    """
    age = np.asarray(ages, dtype="float64")
    with np.errstate(invalid="ignore"):
        year_like = np.isfinite(age) & (age >= YEAR_LIKE_AGE)
        out_of_range = ~year_like & ((age < 0) | (age > MAX_AGE_YEARS) | np.isinf(age))
    return np.asarray(year_like, dtype=bool), np.asarray(out_of_range, dtype=bool)


class _Problems:
    """Sentences per row, in the order recorded; a sentence already there is not repeated."""

    def __init__(self, given: pd.Series | None, n: int) -> None:
        self.text = np.full(n, None, dtype=object)
        if given is not None:  # a reader's own problem comes first
            kept = given.notna().to_numpy(dtype=bool)
            self.text[kept] = given.to_numpy(dtype=object)[kept]

    def add(self, mask: npt.ArrayLike, sentence: str) -> None:
        """Record a sentence where ``mask``, after the sentences already there."""
        where = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(where):
            return
        codes, before = pd.factorize(pd.Series(self.text[where], dtype=object))
        joined = np.asarray([_joined(b, sentence) for b in before] + [sentence], dtype=object)
        self.text[where] = joined[codes]  # code -1 (no sentence yet): the last entry

    def series(self, index: pd.Index) -> pd.Series:
        return pd.Series(self.text, index=index, dtype=object, copy=False)


def _joined(before: object, new: str) -> str:
    if not isinstance(before, str) or not before:
        return new
    return before if new in before else f"{before} {new}"


def _ages(values: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Read ages (or years) as numbers, once per distinct text.

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        The numbers (NaN where missing or unreadable) and where a non-empty text is not
        a number.
    """
    if pd.api.types.is_numeric_dtype(values):
        given = pd.to_numeric(values, errors="coerce")
        numbers = given.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(numbers, index=values.index), np.zeros(len(values), dtype=bool)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object))
    # an int beyond a float's range is an infinity (then refused), never an OverflowError
    distinct = distinct.map(lambda v: as_float(v) if type(v) is int else v)
    parsed = pd.to_numeric(distinct, errors="coerce")
    written = distinct.astype("string").str.strip()
    bad = (written.notna() & (written != "") & parsed.isna()).to_numpy(dtype=bool)
    taken = np.where(codes < 0, -1, codes)  # -1: the missing entry appended below
    read = np.append(parsed.to_numpy(dtype="float64", na_value=np.nan), np.nan)[taken]
    return pd.Series(read, index=values.index), np.append(bad, False)[taken]


def _years(start: pd.Series, end: pd.Series) -> npt.NDArray[np.float64]:
    """Return the time from ``start`` to ``end`` in fractional years (whole days)."""
    days = (end - start).dt.days.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(days / _DAYS_PER_YEAR, dtype="float64")


def _from_birth_year(
    frame: pd.DataFrame, problems: _Problems
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Estimate ages from ``birth_year`` and ``collected_at``.

    The estimate is the time from the middle of the birth year to collection: the true
    age is within half a year of it. It is given only where the patient is at least
    :data:`CHILD_UNTIL` years old at the youngest (collection year - birth year - 1).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The birth years (NaN: none), the estimated ages (NaN where none is given) and
        where the patient may be a child.
    """
    years, unreadable = _ages(frame["birth_year"])
    whole = years.to_numpy(dtype="float64")
    fractional = np.isfinite(whole) & (np.mod(whole, 1) != 0)
    problems.add(unreadable | fractional, BIRTH_YEAR_UNREADABLE)
    whole = np.where(fractional | (whole < 1) | (whole > 9998), np.nan, whole)
    frame["birth_year"] = pd.Series(whole, index=frame.index).astype("Int64")  # as declared
    if "collected_at" not in frame.columns:
        return whole, np.full(len(frame), np.nan), np.zeros(len(frame), dtype=bool)
    collected = frame["collected_at"]
    known = np.isfinite(whole) & collected.notna().to_numpy()
    start = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    start[known] = pd.to_datetime(
        {"year": whole[known].astype(int), "month": 1, "day": 1}, errors="coerce"
    ).to_numpy()
    length = np.where(_is_leap(whole), 366.0, 365.0)
    middle = start + pd.to_timedelta(length / 2, unit="D")
    estimate = _years(middle, collected)
    year_like, out_of_range = refused_ages(estimate)
    problems.add(year_like | out_of_range, BIRTH_YEAR_OUT_OF_RANGE)
    youngest = collected.dt.year.to_numpy(dtype="float64", na_value=np.nan) - whole - 1
    with np.errstate(invalid="ignore"):
        child = known & ~(year_like | out_of_range) & (youngest < CHILD_UNTIL)
    estimate[year_like | out_of_range | child] = np.nan
    return whole, estimate, child


def _is_leap(year: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    y = np.nan_to_num(year, nan=1.0).astype(np.int64)
    return np.asarray(((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0), dtype=bool)


def _complete_ages(frame: pd.DataFrame, problems: _Problems) -> pd.Series | None:
    """Return ``age_years`` from the dates, the given age or the birth year (in that order).

    Returns ``None`` when the frame has no source of an age.
    """
    columns = set(frame.columns)
    if not ({"age_years", "birth_year"} & columns or {"birth_date", "collected_at"} <= columns):
        return None
    nan = np.full(len(frame), np.nan)
    given = nan.copy()
    if "age_years" in frame.columns:
        read, unreadable = _ages(frame["age_years"])
        problems.add(unreadable, "age_years is not a number of years; it was not used.")
        given = read.to_numpy(dtype="float64", copy=True)
        year_like, out_of_range = refused_ages(given)
        problems.add(year_like, AGE_LIKE_YEAR)
        problems.add(out_of_range, AGE_OUT_OF_RANGE)
        given[year_like | out_of_range] = np.nan
    exact = nan.copy()
    if {"birth_date", "collected_at"} <= set(frame.columns):
        exact = _years(frame["birth_date"], frame["collected_at"])
        year_like, out_of_range = refused_ages(exact)
        problems.add(year_like | out_of_range, BIRTH_AGE_OUT_OF_RANGE)
        exact[year_like | out_of_range] = np.nan
    with np.errstate(invalid="ignore"):
        problems.add(np.abs(given - exact) >= 1, AGE_DISAGREES_BIRTH_DATE)
    age = np.where(np.isfinite(exact), exact, given)
    if "birth_year" in frame.columns:
        born, estimate, child = _from_birth_year(frame, problems)
        if "birth_date" in frame.columns:
            year_of_date = frame["birth_date"].dt.year.to_numpy(dtype="float64", na_value=np.nan)
            differs = np.isfinite(born) & np.isfinite(year_of_date) & (year_of_date != born)
            problems.add(differs, BIRTH_YEAR_DISAGREES_BIRTH_DATE)
        difference = _collection_year(frame) - born
        with np.errstate(invalid="ignore"):
            misfit = (
                np.isfinite(given)
                & ~np.isfinite(exact)
                & ((given < difference - 1) | (given >= difference + 1))
            )
        problems.add(misfit, AGE_DISAGREES_BIRTH_YEAR)
        problems.add(child & ~np.isfinite(age), BIRTH_YEAR_CHILD)
        age = np.where(np.isfinite(age), age, estimate)
    return pd.Series(age, index=frame.index, dtype="float64")


def _collection_year(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    if "collected_at" not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(
        frame["collected_at"].dt.year.to_numpy(dtype="float64", na_value=np.nan), dtype="float64"
    )


# -- the context of a frame -------------------------------------------------------------


def _complete_times(
    out: pd.DataFrame, problems: _Problems, zone: ZoneInfo | None
) -> npt.NDArray[np.bool_]:
    """Parse ``collected_at`` into wall clock and offset; localize; return floating times."""
    wall, written, failed = parse_times(out["collected_at"])
    problems.add(
        failed.to_numpy(dtype=bool),
        "collected_at could not be read as a date (use ISO yyyy-mm-dd, dd.mm.yyyy or "
        "dd.mm.yyyy HH:MM).",
    )
    offset = written
    if "collected_at_offset" in out.columns:
        given, _ = _ages(out["collected_at_offset"])  # whole minutes, as numbers
        given = given.where(given.abs() <= MAX_OFFSET_MINUTES).round().astype("Int64")
        differs = (written.notna() & given.notna() & (written != given)).fillna(False)
        problems.add(differs.to_numpy(dtype=bool), OFFSET_DISAGREES)
        offset = written.fillna(given).where(wall.notna())
    offset = offset.astype("Int64")
    if zone is not None:
        offset, gap, fold = localize(wall, offset, zone)
        problems.add(gap, TIME_GAP)
        problems.add(fold, TIME_FOLD)
    out["collected_at"] = wall
    if "collected_at_offset" in out.columns:
        out["collected_at_offset"] = offset
    else:  # beside the time it belongs to
        where = list(out.columns).index("collected_at") + 1
        out.insert(where, "collected_at_offset", offset)
    floating = offset.isna() & wall.notna() & (wall != wall.dt.normalize())
    return np.asarray(floating.to_numpy(dtype=bool), dtype=bool)


def complete_context(
    frame: pd.DataFrame,
    *,
    sex_map: Mapping[str, str] | None = None,
    timezone: str | ZoneInfo | None = None,
    warn_floating: bool = False,
) -> pd.DataFrame:
    """Parse context columns and derive the age where it is missing.

    - ``collected_at`` is parsed to its wall-clock time and ``collected_at_offset`` (minutes
      east of UTC) is added: the offset written in the time, else the column's own, else
      the offset in ``timezone`` for a time of day written without one (:func:`localize`;
      a skipped or repeated local time is named in ``read_problem``).
    - ``birth_date`` is parsed to a date; a date or time that cannot be read becomes
      missing and is reported in ``read_problem``.
    - ``age_years`` is, in this order: the age from ``birth_date`` and ``collected_at``;
      the given age; the age from ``birth_year`` (the middle of the birth year to
      collection, only for patients at least :data:`CHILD_UNTIL` at the youngest).
      Refused ages (:func:`refused_ages`) and disagreements are named in ``read_problem``.
    - ``sex`` codes are replaced through ``sex_map`` when one is given (numeric
      codes such as ``1``/``2`` are only ever read through an explicit map).

    Calling it again on its own result changes nothing.

    Parameters
    ----------
    frame
        A results frame from a reader.
    sex_map
        Explicit mapping from the export's sex codes to ``female``/``male``.
    timezone
        The IANA time zone of times written without a UTC offset; ``None`` keeps them
        floating.
    warn_floating
        Issue one :class:`~labinterp.errors.LabinterpWarning` when times of day stay
        floating (no ``timezone``).

    Returns
    -------
    pandas.DataFrame
        The same rows, with parsed context columns.
    """
    zone = time_zone(timezone)
    out = frame.copy()
    problems = _Problems(out["read_problem"] if "read_problem" in out.columns else None, len(out))
    floating = np.zeros(len(out), dtype=bool)
    if "collected_at" in out.columns:
        floating = _complete_times(out, problems, zone)
    if "birth_date" in out.columns:
        parsed, failed = parse_dates(out["birth_date"])
        out["birth_date"] = parsed
        problems.add(
            failed.to_numpy(dtype=bool),
            "birth_date could not be read as a date (use ISO yyyy-mm-dd, dd.mm.yyyy or "
            "dd.mm.yyyy HH:MM).",
        )
    age = _complete_ages(out, problems)
    if age is not None:
        out["age_years"] = age
    if sex_map is not None and "sex" in out.columns:
        mapping = {str(k).strip().casefold(): v for k, v in sex_map.items()}
        keys = out["sex"].astype("string").str.strip().str.casefold()
        out["sex"] = keys.map(mapping).where(keys.isin(list(mapping)), out["sex"])
    # Always present, so frames read in chunks have the same columns.
    out["read_problem"] = problems.series(out.index)
    if warn_floating and zone is None and floating.any():
        warnings.warn(FLOATING_TIMES, LabinterpWarning, stacklevel=3)
    return out


def month_of(collected_at: datetime | date | str | None) -> int | None:
    """Return the collection month (``None`` without a date).

    Raises
    ------
    InvalidResultError
        When the text is not an ISO 8601 date or time.
    """
    if collected_at is None:
        return None
    if isinstance(collected_at, (datetime, date)):
        return collected_at.month
    try:
        return datetime.fromisoformat(collected_at.strip()).month
    except ValueError:
        raise InvalidResultError(
            "collected_at is not an ISO 8601 date or time (yyyy-mm-dd[THH:MM]).",
            field="collected_at",
        ) from None
