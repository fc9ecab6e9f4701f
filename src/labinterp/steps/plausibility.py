"""Plausibility: values outside cited limits are refused, naming a unit they would fit.

Nothing is changed: a likely unit is only named in the problem, for a person to check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from labinterp.catalogue import get_analyte, profiles
from labinterp.errors import ReasonCode, UnitError
from labinterp.perf import factorize_rows, objects
from labinterp.steps.convert import affine_or_nan
from labinterp.steps.state import FloatArray, IntArray, ObjArray, Outcome, analyte_keys, present
from labinterp.units import conversion, normalise_unit

__all__ = ["check_plausible", "implausible"]


def check_plausible(
    number: IntArray,
    value: FloatArray,
    value_canonical: FloatArray,
    *,
    unit_display: ObjArray,
    censored: npt.NDArray[np.bool_],
    target: Callable[[str], str | None],
    outcome: Outcome,
) -> None:
    """Mark values outside the cited plausibility limits, naming a unit they would fit."""
    keys = analyte_keys()
    for code in present(number):
        name = keys[code]
        to_unit = target(name)
        limits = _plausible_limits(name, to_unit) if to_unit is not None else None
        if limits is None:
            continue
        low, high = limits
        rows = (number == code) & np.isfinite(value_canonical) & ~censored
        with np.errstate(invalid="ignore"):
            outside = rows & ((value_canonical < low) | (value_canonical > high))
        if not outside.any():
            continue
        idx = np.flatnonzero(outside)
        codes, first = factorize_rows(value[idx], unit_display[idx], value_canonical[idx] < low)
        problems = np.array(
            [
                implausible(name, value[i], unit_display[i], value_canonical[i], to_unit)
                for i in idx[first]
            ],
            dtype=object,
        )
        problem = objects(len(value))
        problem[idx] = problems[codes]
        outcome.record(outside, ReasonCode.IMPLAUSIBLE_VALUE, problem)


@lru_cache(maxsize=256)
def _plausible_limits(name: str, to_unit: str) -> tuple[float, float] | None:
    """Return the plausibility limits in ``to_unit`` (NaN for an open side), or ``None``."""
    spec = get_analyte(name)
    if spec.plausible_low is None and spec.plausible_high is None:
        return None
    affine = conversion(spec.unit, to_unit, name)
    return affine_or_nan(affine, spec.plausible_low), affine_or_nan(affine, spec.plausible_high)


def implausible(
    name: str, value: float, unit_display: Any, value_canonical: float, to_unit: str | None
) -> str | None:
    """Return the problem text for a value outside the plausibility limits, else ``None``."""
    limits = _plausible_limits(name, to_unit) if to_unit is not None else None
    if limits is None or not np.isfinite(value_canonical):
        return None
    low, high = limits
    if value_canonical < low:
        side, source = "below", get_analyte(name).plausible_low_source
    elif value_canonical > high:
        side, source = "above", get_analyte(name).plausible_high_source
    else:
        return None
    base = (
        f"The value is {side} what is plausible for {name} in this unit ({source}), "
        "which usually means a unit mix-up"
    )
    unit = _likely_unit(
        name, value, unit_display=unit_display, to_unit=to_unit or "", low=low, high=high
    )
    if unit:
        return f"{base}; it would be plausible in {unit}: check the unit at the source."
    return f"{base}; check the unit and the value at the source."


def _likely_unit(
    name: str, value: float, *, unit_display: Any, to_unit: str, low: float, high: float
) -> str | None:
    """Return the first common unit in which an implausible number would be plausible.

    Candidates are the analyte's reporting units in every profile, then its catalogue
    unit. Nothing is changed: the unit is only named in the problem.
    """
    candidates = dict.fromkeys(
        [p.units[name] for p in profiles().values() if name in p.units] + [get_analyte(name).unit]
    )
    for candidate in candidates:
        display = normalise_unit(candidate).display
        if display == unit_display:
            continue
        try:
            converted = float(conversion(candidate, to_unit, name)(value))
        except UnitError:
            continue
        if (
            np.isfinite(converted)
            and (np.isnan(low) or converted >= low)
            and (np.isnan(high) or converted <= high)
        ):
            return display
    return None
