"""Reporting precision: the decimals a laboratory prints an analyte with, per unit.

The one place the rule lives is the analyte catalogue (``analytes.toml``, each analyte's
``reporting`` list: unit, decimals, the laboratory text that shows them). Every value
labinterp computes (a converted value, a derived eGFR or HbA1c, a change) is written at
this precision, the flags compare converted values at it (the profile's ``resolution``
names which analytes), and eGFR is always compared at it. A value as the laboratory
reported it is never rounded.

Rounding is numpy's (:func:`numpy.round`: to the nearest, a tie to the even digit), the
same arithmetic the flags and the scheme categories use, so the number shown is the number
that was flagged.

Examples
--------
>>> from labinterp.precision import reporting_decimals, round_reported
>>> reporting_decimals("magnesium", "mmol/L")
2
>>> round_reported(0.6171569635877392, "magnesium", "mmol/L")
0.62
>>> round_reported(98.61439782447194, "egfr", "mL/min/1.73m²")
99.0
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import catalogue
from labinterp.errors import LabinterpError
from labinterp.units import normalise_unit

__all__ = [
    "SIGNIFICANT_DIGITS",
    "reporting_decimals",
    "reporting_step",
    "round_at",
    "round_reported",
    "round_reported_array",
    "without_float_noise",
    "without_float_noise_array",
    "without_float_noise_one",
]

#: Above this magnitude a float has no fractional digits left to round (2**53 ≈ 9.0e15).
_WHOLE: float = 2.0**52


#: Significant digits a converted range limit keeps: the decimal digits of the conversion
#: (0.6 mmol/L x 2.4305 = 1.4583 mg/dL), without the binary noise of the float arithmetic
#: (1.4583000000000002); a float holds 15-17 significant digits.
SIGNIFICANT_DIGITS = 12


def without_float_noise(value: float) -> float:
    """Return ``value`` at :data:`SIGNIFICANT_DIGITS` (infinite and NaN: NaN).

    For numbers compared at full precision, such as a range limit converted from the
    laboratory's unit: the limit keeps its digits, only the float noise goes.
    """
    if not math.isfinite(value):
        return math.nan
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") + 0.0


def without_float_noise_array(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``values`` at :data:`SIGNIFICANT_DIGITS`, for comparing values with limits.

    A converted value or limit carries the conversion's float noise (2000 /mm³ is
    2.0000000000000004 × 10⁹/L, 3 mg/mmol of ACR is 26.520509000000004 mg/g); the two
    sides of a comparison go through this one function, so equal amounts compare equal.
    Each value is scaled by its power of ten and rounded; zero, NaN, infinities and
    values too small or large to scale are kept as they are. The scalar paths call it
    on one value (:func:`without_float_noise_one`).
    """
    x = np.array(values, dtype=np.float64, copy=True, ndmin=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        magnitude = np.abs(x)
        scalable = np.isfinite(x) & (magnitude > 1e-250) & (magnitude < 1e250)
        power = np.floor(np.log10(magnitude[scalable]))
        factor = 10.0 ** (SIGNIFICANT_DIGITS - 1 - power)
        x[scalable] = np.round(x[scalable] * factor) / factor
    return x


def without_float_noise_one(value: float) -> float:
    """Return :func:`without_float_noise_array` of one value (its scalar twin)."""
    return float(without_float_noise_array(value)[0])


def round_at(values: npt.ArrayLike, decimals: int) -> npt.NDArray[np.float64]:
    """Return ``values`` rounded to ``decimals`` (a copy; never ``-0.0``).

    :func:`numpy.round` on the values small enough to have digits there (a huge value is
    kept as it is: scaling it would overflow); missing and infinite values become NaN.
    """
    x = np.array(values, dtype=np.float64, copy=True, ndmin=1)
    x[~np.isfinite(x)] = np.nan
    small = np.abs(x) < _WHOLE
    x[small] = np.round(x[small], decimals) + 0.0  # + 0.0: -0.0 becomes 0.0
    return x


def _spelling(unit: str) -> str:
    try:
        return normalise_unit(unit).display
    except (LabinterpError, ValueError):
        return unit


@cache
def _decimals() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for key, spec in catalogue.analytes().items():
        for precision in spec.reporting:
            found[key, _spelling(precision.unit)] = precision.decimals
    return found


@cache
def reporting_decimals(analyte: str | None, unit: str | None) -> int | None:
    """Return the decimals laboratories print ``analyte`` with in ``unit``.

    Parameters
    ----------
    analyte
        A catalogue analyte key (``"magnesium"``).
    unit
        The unit, in any spelling labinterp reads (``"umol/L"``, ``"µmol/L"``).

    Returns
    -------
    int or None
        The number of decimals; ``None`` when the catalogue gives none for this analyte
        and unit (the value is then written as it is).
    """
    if not analyte or not unit:
        return None
    return _decimals().get((analyte, _spelling(unit)))


def reporting_step(analyte: str | None, unit: str | None) -> float | None:
    """Return the reporting precision as a step (2 decimals: ``0.01``), or ``None``."""
    decimals = reporting_decimals(analyte, unit)
    return None if decimals is None else 10.0**-decimals


def round_reported(value: float | None, analyte: str | None, unit: str | None) -> float | None:
    """Round one computed value to the analyte's reporting precision in ``unit``.

    Parameters
    ----------
    value
        A computed value (converted, derived, a change); ``None`` or NaN stays missing.
    analyte, unit
        The catalogue analyte key and the value's unit.

    Returns
    -------
    float or None
        The value as a laboratory prints it (``0.6171…`` mmol/L magnesium: ``0.62``); the
        value itself when the catalogue gives no precision; ``None`` for a missing or
        infinite value.
    """
    if value is None or not math.isfinite(value):
        return None
    decimals = reporting_decimals(analyte, unit)
    if decimals is None:
        return float(value)
    return float(round_at(value, decimals)[0])


def round_reported_array(
    values: npt.ArrayLike, analytes: npt.ArrayLike, units: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Round computed values to the reporting precision of each row's analyte and unit.

    The array twin of :func:`round_reported`: rows without a precision keep their value,
    and a missing or infinite value becomes NaN (missing).

    Parameters
    ----------
    values
        The values (float).
    analytes, units
        Per row, the analyte key and the unit (missing: not rounded).

    Returns
    -------
    numpy.ndarray
        A new float64 array.
    """
    x = np.asarray(values, dtype=np.float64).copy()
    x[~np.isfinite(x)] = np.nan
    # Categorical columns are grouped by their codes; each (analyte, unit) pair is looked
    # up once, and rows are rounded once per distinct number of decimals.
    analyte_codes, analyte_keys = _coded(analytes)
    unit_codes, unit_texts = _coded(units)
    width = len(unit_texts) + 1  # a last slot for a missing unit (code -1)
    table = np.full((len(analyte_keys) + 1) * width, -1, dtype=np.int64)
    for i, analyte in enumerate(analyte_keys):
        for j, unit in enumerate(unit_texts):
            decimals = reporting_decimals(str(analyte), str(unit))
            if decimals is not None:
                table[i * width + j] = decimals
    pair = np.where(analyte_codes < 0, len(analyte_keys), analyte_codes) * width + np.where(
        unit_codes < 0, len(unit_texts), unit_codes
    )
    decimals_of_row = table[pair]
    for decimals in np.unique(decimals_of_row[decimals_of_row >= 0]):
        rows = decimals_of_row == decimals
        x[rows] = round_at(x[rows], int(decimals))
    return x


def _coded(values: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Return per-row codes (-1: missing) and the distinct values, categoricals by code."""
    array = values.array if isinstance(values, pd.Series) else values
    if isinstance(array, pd.Categorical):
        return np.asarray(array.codes, dtype=np.int64), list(array.categories)
    codes, uniques = pd.factorize(np.asarray(array, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)
