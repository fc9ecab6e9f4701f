"""Flags (HL7 v2 table 0078) from a value and a reference range, vectorised.

Boundaries are taken as the range states them (``low_inclusive``,
``high_inclusive``). A result below ``critical_low`` is ``LL`` and above
``critical_high`` is ``HH``; one equal to a critical limit is critical only where the
limit is inclusive (``critical_inclusive``: a source's "≤ 20"). Where the reference
range is undecided but the critical limits are known (``range_known`` False), only
``LL`` and ``HH`` are given.

Censored values (``<5``, ``>90``) stand for an interval of possible true values.
The flag is given only when every value in that interval has the same flag:
``<5`` against a lower limit of 15 is ``L``; ``>90`` against a lower limit of 60 is
``N``; ``<0.5`` against 0.3-1.0 cannot be decided. When the interval is wholly
low (or wholly high) but straddles a critical limit, the flag is ``L`` (``H``)
and the result is marked indeterminate as to criticality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from labinterp.catalogue import get_analyte
from labinterp.models import Profile
from labinterp.precision import (
    reporting_step,
    without_float_noise_array,
    without_float_noise_one,
)
from labinterp.schema import FLAGS
from labinterp.steps.state import IntArray, analyte_number

__all__ = [
    "CRITICAL_UNDECIDED",
    "FLAG_ORDER",
    "FLAG_UNDECIDED",
    "FlagResult",
    "at_reporting_resolution",
    "at_reporting_resolution_one",
    "fixed_precision",
    "flag_one",
    "flags",
]

#: Flags in the order they occur along the number line (the schema's ordered categories).
FLAG_ORDER: Final = FLAGS
_LL, _L, _N, _H, _HH = range(5)

FloatArray = npt.NDArray[np.float64]


BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FlagResult:
    """Flags for an array of results.

    Attributes
    ----------
    flag
        ``"LL"``, ``"L"``, ``"N"``, ``"H"``, ``"HH"`` or ``""`` (no range, or undecidable).
    indeterminate
        True where a censored value straddles a reference or critical limit.
    code
        The flag as its position in :data:`FLAG_ORDER` (``len(FLAG_ORDER)`` for ``""``).
    """

    flag: npt.NDArray[np.object_]
    indeterminate: BoolArray
    code: npt.NDArray[np.int64]


def _fill(values: FloatArray, open_end: float) -> FloatArray:
    """Replace NaN (no limit) by the open end, keeping infinities as they are."""
    array = np.asarray(values, dtype="float64")
    return np.where(np.isnan(array), open_end, array)


def _category_exact(
    x: FloatArray,
    *,
    low: FloatArray,
    high: FloatArray,
    low_inc: BoolArray,
    high_inc: BoolArray,
    crit_low: FloatArray,
    crit_high: FloatArray,
    crit_inc: tuple[BoolArray, BoolArray],
) -> npt.NDArray[np.int64]:
    below = np.where(low_inc, x < low, x <= low)
    above = np.where(high_inc, x > high, x >= high)
    cat = np.full(x.shape, _N, dtype=np.int64)
    cat[below] = _L
    cat[above] = _H
    cat[np.where(crit_inc[0], x <= crit_low, x < crit_low)] = _LL
    cat[np.where(crit_inc[1], x >= crit_high, x > crit_high)] = _HH
    return cat


def _category_left(
    v: FloatArray, low: FloatArray, high: FloatArray, crit_low: FloatArray, crit_high: FloatArray
) -> npt.NDArray[np.int64]:
    """Flag of the values just below ``v`` (the top of the interval ``(-inf, v)``)."""
    return np.select(
        [v <= crit_low, v <= low, v <= high, v <= crit_high], [_LL, _L, _N, _H], default=_HH
    )


def _category_right(
    v: FloatArray, low: FloatArray, high: FloatArray, crit_low: FloatArray, crit_high: FloatArray
) -> npt.NDArray[np.int64]:
    """Flag of the values just above ``v`` (the bottom of the interval ``(v, inf)``)."""
    return np.select(
        [v < crit_low, v < low, v < high, v < crit_high], [_LL, _L, _N, _H], default=_HH
    )


def flags(
    value: FloatArray,
    comparator: npt.NDArray[np.object_],
    low: FloatArray,
    high: FloatArray,
    low_inclusive: BoolArray,
    high_inclusive: BoolArray,
    critical_low: FloatArray,
    critical_high: FloatArray,
    *,
    censored: BoolArray | None = None,
    range_known: BoolArray | None = None,
    critical_inclusive: tuple[BoolArray, BoolArray] | None = None,
) -> FlagResult:
    """Compute HL7 0078 flags for results against their ranges.

    Parameters
    ----------
    value
        Numeric values (NaN where unparsed), in the range's unit.
    comparator
        ``""``, ``"<"``, ``"<="``, ``">"``, ``">="`` per result.
    low, high
        Range limits; NaN or infinite where open.
    low_inclusive, high_inclusive
        Whether a value equal to the limit is within the range.
    critical_low, critical_high
        Critical limits; NaN where none.
    censored
        Where ``comparator`` is not ``""``, when already known (saves comparing text).
    range_known
        False where the reference range is undecided (the sex or age it depends on is
        missing) and only critical limits are known: such a result is flagged ``LL`` or
        ``HH`` beyond them, and otherwise not at all. ``None``: known everywhere.
    critical_inclusive
        Whether a value equal to ``critical_low`` (first) or ``critical_high`` (second)
        is critical. ``None``: neither is (critical limits are strict).

    Returns
    -------
    FlagResult

    Examples
    --------
    >>> import numpy as np
    >>> a = lambda *x: np.array(x, dtype=float)
    >>> r = flags(a(5.0), np.array(["<"], dtype=object), a(15), a(np.inf),
    ...           np.array([True]), np.array([True]), a(np.nan), a(np.nan))
    >>> r.flag.tolist()
    ['L']
    """
    value = np.asarray(value, dtype="float64")
    low = _fill(low, -np.inf)
    high = _fill(high, np.inf)
    crit_low = _fill(critical_low, -np.inf)
    crit_high = _fill(critical_high, np.inf)
    low_inc = np.asarray(low_inclusive, dtype=bool)
    high_inc = np.asarray(high_inclusive, dtype=bool)
    cmp = np.asarray(comparator, dtype=object)
    if critical_inclusive is None:
        strict = np.zeros(value.shape, dtype=bool)
        critical_inclusive = (strict, strict)

    exact = _category_exact(
        value,
        low=low,
        high=high,
        low_inc=low_inc,
        high_inc=high_inc,
        crit_low=crit_low,
        crit_high=crit_high,
        crit_inc=(
            np.asarray(critical_inclusive[0], dtype=bool),
            np.asarray(critical_inclusive[1], dtype=bool),
        ),
    )
    lo_cat, hi_cat = exact, exact.copy()
    # Censored values (usually few) span the categories their comparator reaches.
    censored_at = np.flatnonzero(cmp != "" if censored is None else censored)
    if len(censored_at):
        c, at = cmp[censored_at], exact[censored_at]
        x, lo, hi = value[censored_at], low[censored_at], high[censored_at]
        c_lo, c_hi = crit_low[censored_at], crit_high[censored_at]
        left = _category_left(x, lo, hi, c_lo, c_hi)
        right = _category_right(x, lo, hi, c_lo, c_hi)
        bottom = np.select([np.isfinite(c_lo), np.isfinite(lo)], [_LL, _L], default=_N)
        top = np.select([np.isfinite(c_hi), np.isfinite(hi)], [_HH, _H], default=_N)
        is_lt, is_le = c == "<", c == "<="
        is_gt, is_ge = c == ">", c == ">="
        lo_cat = exact.copy()
        lo_cat[censored_at] = np.select([is_lt | is_le, is_gt, is_ge], [bottom, right, at], at)
        hi_cat[censored_at] = np.select([is_lt, is_le, is_gt | is_ge], [left, at, top], at)

    # The flag as a position in FLAG_ORDER, with len(FLAG_ORDER) for no flag.
    none = len(FLAG_ORDER)
    code = np.where(lo_cat == hi_cat, lo_cat, none)
    wholly_low = (lo_cat <= _L) & (hi_cat <= _L) & (lo_cat != hi_cat)
    wholly_high = (lo_cat >= _H) & (hi_cat >= _H) & (lo_cat != hi_cat)
    code[wholly_low] = _L
    code[wholly_high] = _H
    has_range = (
        np.isfinite(low) | np.isfinite(high) | np.isfinite(crit_low) | np.isfinite(crit_high)
    )
    usable = has_range & ~np.isnan(value)
    code[~usable] = none
    if range_known is not None:
        code[~np.asarray(range_known, dtype=bool) & (code != _LL) & (code != _HH)] = none
    indeterminate = usable & (lo_cat != hi_cat)
    flag = np.array([*FLAG_ORDER, ""], dtype=object)[code]
    return FlagResult(flag=flag, indeterminate=indeterminate, code=code)


def _exact_one(
    x: float,
    *,
    low: float,
    high: float,
    low_inc: bool,
    high_inc: bool,
    cl: float,
    ch: float,
    crit_inc: tuple[bool, bool],
) -> int:
    # The same precedence as the array version: HH, LL, H, L, N.
    if x >= ch if crit_inc[1] else x > ch:
        return _HH
    if x <= cl if crit_inc[0] else x < cl:
        return _LL
    if x > high if high_inc else x >= high:
        return _H
    if x < low if low_inc else x <= low:
        return _L
    return _N


def _left_one(v: float, low: float, high: float, cl: float, ch: float) -> int:
    for bound, cat in ((cl, _LL), (low, _L), (high, _N), (ch, _H)):
        if v <= bound:
            return cat
    return _HH


def _right_one(v: float, low: float, high: float, cl: float, ch: float) -> int:
    for bound, cat in ((cl, _LL), (low, _L), (high, _N), (ch, _H)):
        if v < bound:
            return cat
    return _HH


def _open(limit: float | None, end: float) -> float:
    return end if limit is None or math.isnan(limit) else limit


def flag_one(
    value: float,
    comparator: str,
    low: float | None,
    high: float | None,
    low_inclusive: bool,
    high_inclusive: bool,
    critical_low: float | None,
    critical_high: float | None,
    *,
    range_known: bool = True,
    critical_inclusive: tuple[bool, bool] = (False, False),
) -> tuple[str, bool]:
    """Compute the flag of one result; the scalar twin of :func:`flags`.

    Clinic software interprets one result at a time, where array set-up would cost
    more than the work. The rules are those of :func:`flags` (a property test checks
    that both agree on random inputs); ``range_known`` and ``critical_inclusive`` are as
    there.

    Returns
    -------
    (str, bool)
        The flag (``""`` when none can be given) and whether the result is
        indeterminate.

    Examples
    --------
    >>> flag_one(5.0, "<", 15.0, None, True, True, None, None)
    ('L', False)
    """
    lo = _open(low, -math.inf)
    hi = _open(high, math.inf)
    cl = _open(critical_low, -math.inf)
    ch = _open(critical_high, math.inf)
    if math.isnan(value) or not (
        math.isfinite(lo) or math.isfinite(hi) or math.isfinite(cl) or math.isfinite(ch)
    ):
        return "", False
    exact = _exact_one(
        value,
        low=lo,
        high=hi,
        low_inc=low_inclusive,
        high_inc=high_inclusive,
        cl=cl,
        ch=ch,
        crit_inc=critical_inclusive,
    )
    bottom = _LL if math.isfinite(cl) else _L if math.isfinite(lo) else _N
    top = _HH if math.isfinite(ch) else _H if math.isfinite(hi) else _N
    if comparator in ("<", "<="):
        lo_cat = bottom
        hi_cat = _left_one(value, lo, hi, cl, ch) if comparator == "<" else exact
    elif comparator in (">", ">="):
        lo_cat = _right_one(value, lo, hi, cl, ch) if comparator == ">" else exact
        hi_cat = top
    else:
        lo_cat = hi_cat = exact
    if lo_cat == hi_cat:
        critical = lo_cat in (_LL, _HH)
        return (FLAG_ORDER[lo_cat] if range_known or critical else ""), False
    if not range_known:
        return "", True
    if lo_cat <= _L and hi_cat <= _L:
        return "L", True
    if lo_cat >= _H and hi_cat >= _H:
        return "H", True
    return "", True


CRITICAL_UNDECIDED = (
    "The censored value lies outside the reference range, but whether it passes the "
    "critical limit cannot be decided."
)


FLAG_UNDECIDED = (
    "The censored value (with < or >) spans a reference limit, so no flag can be decided."
)


#: Analytes compared at their reporting precision whatever their unit or origin: eGFR as
#: a whole number, as laboratories report and stage it (ARUP_eGFR: categories 45-59,
#: 60-89). The precision itself is the analyte catalogue's (:mod:`labinterp.precision`).
_ALWAYS_AT_PRECISION: Final = ("egfr",)


def fixed_precision(analyte: str | None) -> float | None:
    """Return the precision an analyte is always compared at (``None``: as given).

    A computed eGFR carries digits no laboratory reports: 59.6 is reported 60 and
    staged G2 (ARUP_eGFR). Flags and scheme categories both use this precision, the
    catalogue's reporting precision in the analyte's own unit.
    """
    if analyte not in _ALWAYS_AT_PRECISION:
        return None
    return reporting_step(analyte, get_analyte(analyte).unit)


def _resolution(profile: Profile, analyte: str) -> float | None:
    """Return the step a converted value of ``analyte`` is compared at under ``profile``."""
    if analyte not in profile.resolution:
        return None
    return reporting_step(analyte, profile.units.get(analyte))


def at_reporting_resolution(
    profile: Profile,
    number: IntArray,
    value_canonical: FloatArray,
    scale: FloatArray,
    offset: FloatArray,
) -> FloatArray:
    """Round converted values to the profile's reporting resolution before comparing.

    A value converted from another unit or scale carries digits the lab never
    reported (6.5 % is 47.53 mmol/mol); labs report 48, and the classification
    follows the reported number. Values already in the reporting unit are
    compared as given, except analytes with a :func:`fixed_precision` (eGFR), which
    are always compared at it. Other converted values lose the conversion's float
    noise (:func:`~labinterp.precision.without_float_noise_array`), so 2000 /mm³ is
    2.0 × 10⁹/L at a limit of 2.0.
    """
    converted = (scale != 1.0) | (offset != 0.0)
    out = value_canonical.copy()
    finite = np.isfinite(value_canonical)
    noisy = converted & finite
    out[noisy] = without_float_noise_array(value_canonical[noisy])
    for name in profile.resolution:
        step = _resolution(profile, name)
        if name in _ALWAYS_AT_PRECISION or step is None:
            continue
        rows = converted & (number == analyte_number(name)) & finite
        out[rows] = np.round(value_canonical[rows] / step) * step
    for name in _ALWAYS_AT_PRECISION:
        step = fixed_precision(name)
        if step is None:
            continue
        rows = (number == analyte_number(name)) & finite
        out[rows] = np.round(value_canonical[rows] / step) * step
    return out


def at_reporting_resolution_one(
    profile: Profile, analyte: str | None, value_canonical: float, scale: float, offset: float
) -> float:
    """Round one converted value to the reporting resolution; the scalar twin.

    The rule of :func:`at_reporting_resolution`, for one result (a property test holds
    both equal).
    """
    fixed = fixed_precision(analyte)
    step = fixed or (_resolution(profile, analyte) if analyte else None)
    converted = not (scale == 1.0 and offset == 0.0)
    if not math.isfinite(value_canonical) or not (converted or fixed):
        return value_canonical
    if not step:
        return without_float_noise_one(value_canonical)
    return float(np.round(value_canonical / step) * step)
