"""Units: normalise each distinct unit and convert to the profile's reporting unit.

One conversion factor (scale and offset) is found per distinct (analyte, unit) group;
a unit that does not measure the analyte records ``incompatible_unit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labinterp.catalogue import get_analyte
from labinterp.errors import ReasonCode, UnitError
from labinterp.perf import factorize_rows
from labinterp.precision import without_float_noise_one
from labinterp.schema import COMPARATORS
from labinterp.steps.state import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    Outcome,
    analyte_keys,
)
from labinterp.units import Affine, conversion, normalise_unit, unit_registry

__all__ = [
    "RATIO_GIVEN_AS_CONCENTRATION",
    "UnitInfo",
    "affine_or_nan",
    "comparator_codes",
    "convert_groups",
    "group_conversion",
    "measures_per_volume",
    "reporting_unit_column",
    "reporting_units",
    "unit_info",
]


#: A concentration given for a ratio to another analyte (``per`` in analytes.toml): most
#: often a urine albumin in mg/L where the albumin/creatinine ratio is expected.
RATIO_GIVEN_AS_CONCENTRATION = (
    "The unit is a concentration, but this test is a ratio to urine creatinine "
    "({unit} or mg/g): the value may be a concentration measured on its own, such as "
    "urine albumin in mg/L, which cannot be read as the ratio; check the test and the unit."
)


@dataclass(frozen=True)
class UnitInfo:
    """One unit as written: its pint expression and display form, or why it is unknown."""

    pint: str | None
    display: str | None
    problem: str | None


def unit_info(item: Any) -> UnitInfo:
    """Normalise one unit as written (any value; only text can be a unit)."""
    try:
        unit = normalise_unit(item if isinstance(item, str) else "")
    except UnitError as exc:
        return UnitInfo(None, None, exc.message)
    return UnitInfo(unit.pint, unit.display, None)


def group_conversion(
    name: str, unit: str, target: Callable[[str], str | None]
) -> tuple[float, float, str | None]:
    """Scale and offset from ``unit`` to the reporting unit of ``name``, or a problem."""
    to_unit = target(name)
    if to_unit is None:
        return np.nan, 0.0, "The profile has no reporting unit for this analyte."
    try:
        affine = conversion(unit, to_unit, name)
    except UnitError:
        if get_analyte(name).per is not None and measures_per_volume(unit):
            shown = normalise_unit(to_unit).display
            return np.nan, 0.0, RATIO_GIVEN_AS_CONCENTRATION.format(unit=shown)
        return (
            np.nan,
            0.0,
            f"The unit does not measure {name} in a way labinterp can convert to "
            f"{normalise_unit(to_unit).display}; check the unit column.",
        )
    return float(affine.scale), float(affine.offset), None


def convert_groups(
    number: IntArray,
    unit_pint: ObjArray,
    unit_code: IntArray,
    target: Callable[[str], str | None],
    outcome: Outcome,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Return per-row scale and offset to the reporting unit, one factor per unit group.

    ``number`` and ``unit_code`` number the analytes and units (-1: none; ``unit_pint``
    holds each unit code's pint expression), so groups are found without comparing
    strings. The third array returned numbers each row's (analyte, unit) group (-1: no
    analyte or unit).
    """
    keys = analyte_keys()
    codes, first = factorize_rows(number, unit_code)
    group_scale = np.full(len(first), np.nan)
    group_offset = np.zeros(len(first))
    group_problem: list[str | None] = [None] * len(first)
    usable_group = np.zeros(len(first), dtype=bool)
    for i, row in enumerate(first):
        code, unit = int(number[row]), int(unit_code[row])
        if code < 0 or unit < 0:
            continue  # no analyte or no unit: recorded already
        usable_group[i] = True
        group_scale[i], group_offset[i], group_problem[i] = group_conversion(
            keys[code], unit_pint[unit], target
        )
    scale = group_scale[codes]
    offset = group_offset[codes]
    group = np.where(usable_group[codes], codes, -1)
    failing = np.array([p is not None for p in group_problem], dtype=bool)
    if failing.any():
        row_problem = np.array(group_problem, dtype=object)[codes]
        outcome.record(failing[codes], ReasonCode.INCOMPATIBLE_UNIT, row_problem)
    return scale, offset, group


def measures_per_volume(unit: str) -> bool:
    """Return whether a unit is a concentration (an amount or mass per volume).

    ``unit`` is any spelling :func:`normalise_unit` accepts; text that is not a unit
    gives ``False``.

    Examples
    --------
    >>> measures_per_volume("mg/L"), measures_per_volume("mg/mmol")
    (True, False)
    """
    try:
        pint_text = normalise_unit(unit).pint
    except UnitError:
        return False
    dimensionality = unit_registry().parse_units(pint_text).dimensionality
    return dimensionality.get("[length]") == -3


def reporting_units(target: Callable[[str], str | None]) -> ObjArray:
    """Return the displayed reporting unit per analyte number (last entry, for -1: None)."""
    units = [target(name) for name in analyte_keys()]
    shown = [normalise_unit(u).display if u else None for u in units]
    return np.array([*shown, None], dtype=object)


def reporting_unit_column(
    target: Callable[[str], str | None], number: IntArray
) -> pd.Categorical[Any]:
    """Return the profile's reporting unit per row, each distinct unit held once."""
    codes, units = pd.factorize(reporting_units(target), use_na_sentinel=True)
    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int64)[number], categories=pd.Index(units, dtype=object)
    )


def comparator_codes(comparator: ObjArray, censored: BoolArray) -> IntArray:
    """Return each row's comparator as a position in the declared comparators (-1: none)."""
    codes = np.full(len(comparator), -1, dtype=np.int64)
    at = np.flatnonzero(censored)
    known = {c: i for i, c in enumerate(COMPARATORS)}
    codes[at] = [known[c] for c in comparator[at]]
    return codes


def affine_or_nan(affine: Affine, value: float | None) -> float:
    """Convert a limit (``None``: NaN, an open limit), without the conversion's float noise.

    Converted values are compared at the same significant digits
    (:func:`~labinterp.precision.without_float_noise_array`), so a value and a limit
    that are the same amount compare equal.
    """
    return without_float_noise_one(float(affine(value))) if value is not None else np.nan
