"""Dates, ages and sex codes: the context every reader and the engine complete the same way.

Dates are parsed from the spellings exports use (:data:`DATE_FORMATS`), ages are derived
from birth and collection dates where an export gives none, and sex codes are read through
an explicit map. Readers call :func:`complete_context` on the frame they build.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["DATE_FORMATS", "complete_context", "parse_dates"]

#: Date and date-time spellings accepted in exports, tried in this order. Day-first
#: slashed dates (01/02/2026) are not accepted: they are ambiguous between day-first
#: and month-first conventions.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y%m%d",
    "%Y%m%d%H%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d%H%M%S.%f",
)

#: A trailing time-zone designator (``Z``, ``+01:00``, ``-0700``), dropped before parsing:
#: times are kept as the lab wrote them (local wall-clock time).
_OFFSET = r"(?<=\d)(?:Z|[+-]\d{2}:?\d{2})$"

#: Average length of a year in days (Gregorian calendar), for ages in fractional years.
_DAYS_PER_YEAR = 365.2425


def parse_dates(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dates written in any of :data:`DATE_FORMATS`, vectorised.

    Parameters
    ----------
    texts
        Dates as written (strings, or already datetimes).

    Returns
    -------
    (pandas.Series, pandas.Series)
        The parsed values (``datetime64``, naive: a time-zone offset is dropped and
        the wall-clock time kept as written) and a boolean Series marking
        non-empty texts that could not be read.
    """
    if pd.api.types.is_datetime64_any_dtype(texts):
        values = texts.dt.tz_localize(None) if texts.dt.tz is not None else texts
        return values, pd.Series(False, index=texts.index)
    # Exports repeat the same dates many times: parse each distinct text once.
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    if len(uniques) < len(texts):
        parsed, failed = _parse_distinct(pd.Series(np.asarray(uniques, dtype=object)))
        taken = np.where(codes < 0, len(uniques), codes)
        values = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
        bad = np.append(failed.to_numpy(dtype=bool), False)
        return (
            pd.Series(values[taken], index=texts.index, dtype="datetime64[ns]"),
            pd.Series(bad[taken], index=texts.index, dtype=bool),
        )
    return _parse_distinct(texts)


def _parse_distinct(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = texts.astype("string").str.strip().str.replace(_OFFSET, "", regex=True)
    present = text.notna() & (text != "")
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
    todo = present.copy()
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        # Dates outside what a nanosecond timestamp holds (years before 1678 or after
        # 2261) are typing errors in lab data: they stay unread, with a read_problem.
        hit = parsed.notna() & parsed.between(pd.Timestamp.min, pd.Timestamp.max)
        out.loc[hit[hit].index] = parsed[hit].astype("datetime64[ns]")
        todo.loc[hit[hit].index] = False
    return out, todo & present


def _ages(values: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Read ages as numbers, once per distinct text.

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        The ages (NaN where missing or unreadable) and where a non-empty text is not
        a number.
    """
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce"), np.zeros(len(values), dtype=bool)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object))
    parsed = pd.to_numeric(distinct, errors="coerce")
    written = distinct.astype("string").str.strip()
    bad = (written.notna() & (written != "") & parsed.isna()).to_numpy(dtype=bool)
    taken = np.where(codes < 0, -1, codes)  # -1: the missing entry appended below
    numbers = np.append(parsed.to_numpy(dtype="float64", na_value=np.nan), np.nan)[taken]
    return pd.Series(numbers, index=values.index), np.append(bad, False)[taken]


def complete_context(
    frame: pd.DataFrame, *, sex_map: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Parse context columns and derive the age where it is missing.

    - ``collected_at`` and ``birth_date`` are parsed to datetimes; a date that
      cannot be read becomes missing and is reported in ``read_problem``.
    - ``age_years`` is computed from ``birth_date`` and ``collected_at`` (in
      fractional years) where the export gives no age.
    - ``sex`` codes are replaced through ``sex_map`` when one is given (numeric
      codes such as ``1``/``2`` are only ever read through an explicit map).

    Parameters
    ----------
    frame
        A results frame from a reader.
    sex_map
        Explicit mapping from the export's sex codes to ``female``/``male``.

    Returns
    -------
    pandas.DataFrame
        The same rows, with parsed context columns.
    """
    out = frame.copy()
    problems = np.empty(len(out), dtype=object)  # None: no problem (a later one wins)
    for column in ("collected_at", "birth_date"):
        if column not in out.columns:
            continue
        parsed, failed = parse_dates(out[column])
        out[column] = parsed
        problems[failed.to_numpy(dtype=bool)] = (
            f"{column} could not be read as a date (use ISO yyyy-mm-dd, dd.mm.yyyy or "
            "dd.mm.yyyy HH:MM)."
        )
    if "age_years" in out.columns:
        given, unreadable = _ages(out["age_years"])
        out["age_years"] = given
        problems[unreadable] = "age_years is not a number of years; it was not used."
    if {"birth_date", "collected_at"} <= set(out.columns):
        derived = (out["collected_at"] - out["birth_date"]).dt.days / _DAYS_PER_YEAR
        derived = derived.where(derived >= 0)
        if "age_years" in out.columns:
            out["age_years"] = out["age_years"].where(out["age_years"].notna(), derived)
        else:
            out["age_years"] = derived
    if sex_map is not None and "sex" in out.columns:
        mapping = {str(k).strip().casefold(): v for k, v in sex_map.items()}
        keys = out["sex"].astype("string").str.strip().str.casefold()
        out["sex"] = keys.map(mapping).where(keys.isin(list(mapping)), out["sex"])
    # Always present, so frames read in chunks have the same columns.
    if "read_problem" in out.columns:  # a reader's own problem comes first
        given_problem = out["read_problem"]
        kept = given_problem.notna().to_numpy(dtype=bool)
        problems[kept] = given_problem.to_numpy(dtype=object)[kept]
    out["read_problem"] = pd.Series(problems, index=out.index, dtype=object, copy=False)
    if "age_years" in out.columns:
        out["age_years"] = out["age_years"].astype("float64")
    return out
