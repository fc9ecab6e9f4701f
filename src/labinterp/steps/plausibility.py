"""Plausibility: impossible values are refused, and likely unit mix-ups are named.

One rule, for the frame and for a single result (:func:`implausible`):

- a value that is not a finite number (an overflow: a 309-digit value, ``1E+400``) is
  never plausible (``implausible_value``);
- a value outside the analyte's plausibility limits (cited in ``analytes.toml``, or the
  physical limit: a concentration is never negative) is ``implausible_value``;
- a value outside the plausibility limits, or outside the analyte's cited usual range,
  whose number would be usual in another unit the analyte is reported in (the profiles'
  units and the catalogue unit) is ``likely_unit_error``, naming that unit. A value that
  is rare in its unit but usual in no other stays a result: a real extreme value is not
  refused because it is extreme.

Nothing is changed: a likely unit is only named in the problem, for a person to check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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

__all__ = [
    "LIKELY_UNIT_ABOVE",
    "LIKELY_UNIT_BELOW",
    "LIKELY_UNIT_UNUSUAL",
    "NEGATIVE",
    "NOT_FINITE",
    "PLAUSIBLE_ABOVE",
    "PLAUSIBLE_BELOW",
    "check_plausible",
    "implausible",
]

#: Problem (``problem.implausible_not_finite``): the number overflowed.
NOT_FINITE = (
    "The value is not a finite number (it is beyond the range of numbers that can be "
    "read), so it cannot be a measured result; check the value at the source."
)
#: Problem (``problem.implausible_negative``): a negative concentration.
NEGATIVE = (
    "The value is below zero, which this result can never be; check the value and its "
    "sign at the source."
)
#: Problem (``problem.implausible_below``); ``{source}`` is the limit's source key.
PLAUSIBLE_BELOW = (
    "The value is below what is plausible for this test in this unit (limit: {source}); "
    "check the unit and the value at the source."
)
#: Problem (``problem.implausible_above``); ``{source}`` is the limit's source key.
PLAUSIBLE_ABOVE = (
    "The value is above what is plausible for this test in this unit (limit: {source}); "
    "check the unit and the value at the source."
)
#: Problem (``problem.likely_unit_below``); ``{unit}`` names the likely unit(s).
LIKELY_UNIT_BELOW = (
    "The value is below what is plausible in the unit given, but usual in {unit}: the "
    "unit is probably wrong. Check the unit at the source; the value was not changed."
)
#: Problem (``problem.likely_unit_above``); ``{unit}`` names the likely unit(s).
LIKELY_UNIT_ABOVE = (
    "The value is above what is plausible in the unit given, but usual in {unit}: the "
    "unit is probably wrong. Check the unit at the source; the value was not changed."
)
#: Problem (``problem.likely_unit_unusual``); ``{unit}`` names the likely unit(s).
LIKELY_UNIT_UNUSUAL = (
    "The value would be extremely rare in the unit given, but usual in {unit}: the unit "
    "is probably wrong. Check the unit at the source; the value was not changed."
)


@dataclass(frozen=True)
class _Limits:
    """An analyte's limits in one reporting unit (NaN: an open side)."""

    low: float
    high: float
    low_source: str
    high_source: str
    usual_low: float  # the typical range: the usual range within the plausibility limits
    usual_high: float


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
    """Record implausible values and likely unit mix-ups, by :func:`implausible`'s rule.

    The arrays only choose the rows that may be refused (a number that is not finite, or
    one outside an analyte's plausibility limits or usual range); :func:`implausible`
    decides once per distinct value, unit and converted value.
    """
    keys = analyte_keys()
    with np.errstate(invalid="ignore"):
        overflow = np.isinf(value) | (np.isfinite(value) & np.isinf(value_canonical))
    candidate = overflow & (number >= 0)
    for code in present(number):
        to_unit = target(keys[code])
        if to_unit is None:
            continue
        limits = _limits(keys[code], to_unit)
        with np.errstate(invalid="ignore"):
            # NaN limits compare False: an open side refuses nothing.
            outside = (
                (value_canonical < limits.low)
                | (value_canonical > limits.high)
                | (value_canonical < limits.usual_low)
                | (value_canonical > limits.usual_high)
            )
        candidate |= (number == code) & outside & ~censored
    if not candidate.any():
        return
    idx = np.flatnonzero(candidate)
    codes, first = factorize_rows(
        number[idx], value[idx], unit_display[idx], value_canonical[idx], censored[idx]
    )
    verdicts = [
        implausible(
            keys[number[i]],
            float(value[i]),
            unit_display[i],
            float(value_canonical[i]),
            target(keys[number[i]]),
            censored=bool(censored[i]),
        )
        for i in idx[first]
    ]
    problem = objects(len(value))
    problem[idx] = np.array([v[1] if v else None for v in verdicts], dtype=object)[codes]
    for reason in (ReasonCode.IMPLAUSIBLE_VALUE, ReasonCode.LIKELY_UNIT_ERROR):
        hit = np.array([v is not None and v[0] is reason for v in verdicts], dtype=bool)
        if hit.any():
            mask = np.zeros(len(value), dtype=bool)
            mask[idx] = hit[codes]
            outcome.record(mask, reason, problem)


def implausible(
    name: str,
    value: float,
    unit_display: Any,
    value_canonical: float,
    to_unit: str | None,
    *,
    censored: bool = False,
) -> tuple[ReasonCode, str] | None:
    """Return the status and problem of a value that cannot be taken as written, else ``None``.

    Parameters
    ----------
    name
        The analyte's catalogue key.
    value
        The number as written (NaN when there is none).
    unit_display
        The unit as normalised for display (the written unit).
    value_canonical
        The number in the reporting unit ``to_unit`` (NaN when it cannot be converted).
    to_unit
        The profile's reporting unit of the analyte (``None``: none, nothing is checked
        but whether the number is finite).
    censored
        Whether the value came with a comparator (``<0.46``): a censored value is only
        checked for being a finite number.

    Returns
    -------
    tuple of (ReasonCode, str) or None
        ``IMPLAUSIBLE_VALUE`` or ``LIKELY_UNIT_ERROR`` with the problem sentence.
    """
    if math.isnan(value):
        return None
    if math.isinf(value) or math.isinf(value_canonical):
        return ReasonCode.IMPLAUSIBLE_VALUE, NOT_FINITE
    if censored or to_unit is None or math.isnan(value_canonical):
        return None
    limits = _limits(name, to_unit)
    below, above = value_canonical < limits.low, value_canonical > limits.high
    if below and value < 0:
        return ReasonCode.IMPLAUSIBLE_VALUE, NEGATIVE
    if below or above:
        units = _usual_units(name, value, unit_display, to_unit, limits)
        if units:
            sentence = LIKELY_UNIT_BELOW if below else LIKELY_UNIT_ABOVE
            return ReasonCode.LIKELY_UNIT_ERROR, sentence.format(unit=units)
        sentence, source = (
            (PLAUSIBLE_BELOW, limits.low_source) if below else (PLAUSIBLE_ABOVE, limits.high_source)
        )
        return ReasonCode.IMPLAUSIBLE_VALUE, sentence.format(source=source)
    if value_canonical < limits.usual_low or value_canonical > limits.usual_high:
        units = _usual_units(name, value, unit_display, to_unit, limits)
        if units:
            return ReasonCode.LIKELY_UNIT_ERROR, LIKELY_UNIT_UNUSUAL.format(unit=units)
    return None


@lru_cache(maxsize=256)
def _limits(name: str, to_unit: str) -> _Limits:
    """Return an analyte's plausibility limits and typical range in ``to_unit``."""
    spec = get_analyte(name)
    try:
        affine = conversion(spec.unit or to_unit, to_unit, name)
    except UnitError:  # no limits in a unit the catalogue unit does not convert to
        return _Limits(np.nan, np.nan, "", "", np.nan, np.nan)
    low = affine_or_nan(affine, spec.plausible_low)
    high = affine_or_nan(affine, spec.plausible_high)
    usual_low = affine_or_nan(affine, spec.usual_low)
    usual_high = affine_or_nan(affine, spec.usual_high)
    return _Limits(
        low=low,
        high=high,
        low_source=spec.plausible_low_source or "",
        high_source=spec.plausible_high_source or "",
        usual_low=float(np.fmax(low, usual_low)),  # fmax/fmin: NaN (open) loses
        usual_high=float(np.fmin(high, usual_high)),
    )


@lru_cache(maxsize=64)
def _reported_units(name: str) -> tuple[str, ...]:
    """Return the units an analyte is reported in: each profile's, then the catalogue unit."""
    own = get_analyte(name).unit
    return tuple(
        dict.fromkeys(
            [p.units[name] for p in profiles().values() if name in p.units]
            + ([own] if own is not None else [])
        )
    )


def _usual_units(
    name: str, value: float, unit_display: Any, to_unit: str, limits: _Limits
) -> str | None:
    """Name the other reported units in which the number would be usual (``None``: none).

    The profile's reporting unit comes first; units that give the same number (µg/L
    and ng/mL) are named once, by the first.
    """
    named: dict[float, str] = {}
    for candidate in dict.fromkeys((to_unit, *_reported_units(name))):
        display = normalise_unit(candidate).display
        if display == unit_display:
            continue
        try:
            converted = float(conversion(candidate, to_unit, name)(value))
        except UnitError:
            continue
        usual = math.isfinite(converted) and not (
            converted < limits.usual_low or converted > limits.usual_high
        )
        if usual and display is not None:
            named.setdefault(round(converted, 9), display)
    return ", ".join(named.values()) or None
