"""Computed numbers as laboratories print them, the full precision kept beside them.

Every value labinterp computes is written at the analyte's reporting precision
(:mod:`labinterp.precision`, from the analyte catalogue): a converted ``value_canonical``,
HbA1c on the other scale and the estimated average glucose, an age computed from two dates
(whole years: the age at the last birthday). The full precision stays in a column named
``<column>_exact``. A value as the laboratory reported it (``value``, and
``value_canonical`` where nothing was converted) keeps the laboratory's digits. An open
side of a range (no lower or no upper limit) is missing, never an infinity, and a limit
converted from the laboratory's unit keeps its digits without the float noise.

Flags, categories and changes are decided before this step, on the values as computed (at
the reporting resolution the flags and schemes use), so rounding here changes no verdict.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.precision import (
    reporting_decimals,
    round_at,
    round_reported_array,
    without_float_noise,
)

__all__ = [
    "EXACT",
    "LIMIT_COLUMNS",
    "PERCENT_DECIMALS",
    "as_reported",
    "limit_as_written",
    "round_percent",
    "shown_canonical",
]

#: Computed columns written rounded, and the column keeping each one's full precision.
EXACT: dict[str, str] = {
    "value_canonical": "value_canonical_exact",
    "hba1c_ifcc_mmol_mol": "hba1c_ifcc_mmol_mol_exact",
    "hba1c_ngsp_percent": "hba1c_ngsp_percent_exact",
    "eag_mg_dl": "eag_mg_dl_exact",
    "age_years": "age_years_exact",
    "change_abs": "change_abs_exact",
    "change_pct": "change_pct_exact",
}

#: HbA1c's other scales and eAG: the analyte and unit whose reporting precision they take
#: (eAG is in mg/dL, printed in whole mg/dL as the ADAG study does: Nathan2008).
_HBA1C_UNITS: dict[str, str] = {
    "hba1c_ifcc_mmol_mol": "mmol/mol",
    "hba1c_ngsp_percent": "%",
    "eag_mg_dl": "mg/dL",
}

#: Range limits whose open side is written missing, never as an infinity.
LIMIT_COLUMNS: tuple[str, ...] = (
    "reference_low",
    "reference_high",
    "critical_low",
    "critical_high",
)

#: Percentages (a change, a reference change value) are written with one decimal, as the
#: laboratory handbooks print variation and critical differences (HNT_Magnesium: 'CV
#: biologisk: 3,6 %', 'kritisk differanse 11,0 %').
PERCENT_DECIMALS = 1


def _nonnegative_zero(x: np.ndarray) -> np.ndarray:
    return x + 0.0  # -0.0 + 0.0 is 0.0: a rounded tiny negative is written 0


def round_percent(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return percentages at :data:`PERCENT_DECIMALS` (missing and infinite: NaN)."""
    return round_at(values, PERCENT_DECIMALS)


def shown_canonical(
    value: float, value_canonical: float, analyte: str | None, unit: str | None
) -> float:
    """Return ``value_canonical`` as written: rounded if it was converted, else as read.

    The scalar twin of what :func:`as_reported` does to the column.
    """
    if not math.isfinite(value_canonical) or value_canonical == value:
        return value_canonical
    decimals = reporting_decimals(analyte, unit)
    if decimals is None:
        return value_canonical
    return float(round_at(value_canonical, decimals)[0])


def limit_as_written(value: float) -> float:
    """Return a range limit as written: without float noise, an open side NaN."""
    return without_float_noise(value)


def _column(out: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(out[name], errors="coerce")
    return values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def _completed_years(out: pd.DataFrame, age: np.ndarray) -> np.ndarray:
    """Return ages computed from the birth date as completed years (age at last birthday).

    An age the source gave (a whole number, or one not computed from ``birth_date``) is
    kept as given.
    """
    if "birth_date" not in out.columns or "collected_at" not in out.columns:
        return age
    born = _days(out["birth_date"])
    taken = _days(out["collected_at"])
    computed = np.isfinite(age) & (age != np.floor(age)) & ~np.isnat(born) & ~np.isnat(taken)
    if not computed.any():
        return age
    born, taken = born[computed], taken[computed]
    # Completed years from calendar fields, in NumPy (pandas' .dt accessors took 0.2 s
    # on a million rows): a year is completed on the birthday's month and day.
    years = _year(taken) - _year(born) - (_month_day(taken) < _month_day(born))
    written = age.copy()
    written[computed] = years.astype(np.float64)
    return written


def _days(values: pd.Series) -> npt.NDArray[np.datetime64]:
    """Return times as calendar days (``datetime64[D]``; NaT where missing or unreadable)."""
    times = pd.Series(pd.to_datetime(values, errors="coerce"), copy=False)
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_localize(None)  # the calendar day where the time was taken
    return np.asarray(times.to_numpy()).astype("datetime64[D]")


def _year(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Return the calendar year of each day."""
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def _month_day(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Return month * 100 + day of month."""
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return np.asarray(month * 100 + day, dtype=np.int64)


def as_reported(out: pd.DataFrame) -> pd.DataFrame:
    """Write the computed columns of an interpreted frame at reporting precision.

    Adds ``<column>_exact`` for each rounded column present (:data:`EXACT`), rounds
    ``value_canonical`` where it was converted, the HbA1c scales and eAG, and ages with a
    fraction (to completed years), and writes open range sides missing. ``out`` is
    changed in place and returned.
    """
    exact = _column(out, "value_canonical")
    value = _column(out, "value")
    converted = np.isfinite(exact) & (exact != value)
    rounded = round_reported_array(exact, out["analyte"], out["unit_canonical"])
    out["value_canonical_exact"] = exact
    out["value_canonical"] = _nonnegative_zero(np.where(converted, rounded, exact))
    for name, unit in _HBA1C_UNITS.items():
        if name in out.columns:
            full = _column(out, name)
            out[EXACT[name]] = full
            decimals = reporting_decimals("hba1c", unit)
            out[name] = _nonnegative_zero(full if decimals is None else round_at(full, decimals))
    if "age_years" in out.columns:
        age = _column(out, "age_years")
        out["age_years_exact"] = age
        out["age_years"] = _completed_years(out, age)
    for name in LIMIT_COLUMNS:
        if name in out.columns:
            # Each distinct limit once (hashed; a missing one stays missing).
            codes, distinct = pd.factorize(_column(out, name), use_na_sentinel=True)
            written = np.array(
                [*(without_float_noise(v) for v in distinct), np.nan], dtype=np.float64
            )
            out[name] = written[codes]
    return out
