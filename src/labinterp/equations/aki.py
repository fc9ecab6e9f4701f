r"""Acute kidney injury (KDIGO 2012) staged from serial serum creatinine.

KDIGO2012_AKI (recommendation 2.1.1 and Table 2, "Staging of AKI") defines AKI by
serum creatinine as a rise of at least 0.3 mg/dL (26.5 µmol/L) within 48 hours, or a
rise to at least 1.5 times the baseline known or presumed to have occurred within the
prior 7 days, and stages it:

============  ======================================================================
Stage         Serum creatinine
============  ======================================================================
1             1.5–1.9 times baseline, or a rise of at least 26.5 µmol/L
2             2.0–2.9 times baseline
3             3.0 times baseline or more, or a rise to at least 353.6 µmol/L
============  ======================================================================

(the urine-output criteria, renal replacement therapy and the paediatric eGFR < 35
criterion need data a blood-test export does not carry and are not applied).

The work is in µmol/L throughout: 26.5 and 353.6 µmol/L are the guideline's own SI
figures, never converted from 0.3 and 4.0 mg/dL and back.

Choices, each documented in ``docs/equations/aki.md``:

* **Baseline.** Each result is compared with the earlier results of the same series:
  the rise with the baseline of the previous 48 hours, the ratio with the baseline of the
  previous 7 days. ``baseline="rolling_min"`` (default) takes the lowest earlier value
  in the window, ``"rolling_first"`` the earliest, ``"rolling_mean"`` their mean: the
  rolling baselines pyAKI offers (pyAKI2024). A known baseline (``baseline_umol_l``,
  pyAKI's CONSTANT) replaces the 7-day baseline of the ratio.
* **Windows** are ``[t - 48 h, t)`` and ``[t - 7 d, t)``: a result exactly 48 h (7 d)
  earlier counts; a result at the same instant is not earlier (two results with one
  collection time never baseline each other).
* **Thresholds** are inclusive, with a relative tolerance of 1e-9 so that floating-point
  representation does not turn an exact threshold into a miss (88.4 → 132.6 µmol/L is a
  ratio of exactly 1.5).
* **Absolute criterion.** ``absolute_needs_rise=True`` (default): 353.6 µmol/L or more
  gives stage 3 only when the result also meets the AKI definition (the 26.5 µmol/L rise
  or the 1.5 ratio); AKIN2007 asked for an acute rise of 44 µmol/L with its 354 µmol/L
  criterion. ``False`` (as pyAKI): every result of 353.6 µmol/L or more is stage 3, the
  first of a series too.
* **No baseline, no stage**: a result with no earlier result in either window (and no
  known baseline) is ``<NA>``, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.series import shared_index
from labinterp.errors import InvalidResultError

__all__ = [
    "AKI_ABSOLUTE_UMOL_L",
    "AKI_BASELINES",
    "AKI_RATIO_STAGES",
    "AKI_RATIO_WINDOW",
    "AKI_RISE_UMOL_L",
    "AKI_RISE_WINDOW",
    "aki_criteria",
    "aki_stage",
]

#: Rise that defines AKI stage 1 within 48 h [µmol/L] (KDIGO2012_AKI Table 2, 0.3 mg/dL).
AKI_RISE_UMOL_L: Final = 26.5
#: Creatinine that gives stage 3 [µmol/L] (KDIGO2012_AKI Table 2, 4.0 mg/dL).
AKI_ABSOLUTE_UMOL_L: Final = 353.6
#: Ratio to baseline from which each stage starts (KDIGO2012_AKI Table 2).
AKI_RATIO_STAGES: Final = ((3, 3.0), (2, 2.0), (1, 1.5))
#: Window of the rise criterion ("within 48 hours", KDIGO2012_AKI recommendation 2.1.1).
AKI_RISE_WINDOW: Final = pd.Timedelta(hours=48)
#: Window of the ratio criterion ("within the prior 7 days", recommendation 2.1.1).
AKI_RATIO_WINDOW: Final = pd.Timedelta(days=7)
#: The rolling baselines offered (pyAKI2024's ROLLING_MIN, ROLLING_FIRST, ROLLING_MEAN).
AKI_BASELINES: Final = ("rolling_min", "rolling_first", "rolling_mean")

#: Relative tolerance of the inclusive thresholds (floating-point representation only).
_TOLERANCE: Final = 1e-9
_MISSING: Final = (
    "AKI staging needs a collection time and a value for every result; "
    "{what} is missing, so no stage was computed (remove or complete those results)."
)

Floats = npt.NDArray[np.float64]
Baseline = Literal["rolling_min", "rolling_first", "rolling_mean"]


def aki_stage(
    times: Any,
    creatinine_umol_l: Any,
    *,
    groups: Any = None,
    baseline: Baseline = "rolling_min",
    absolute_needs_rise: bool = True,
    baseline_umol_l: Any = None,
) -> Any:
    """Return the KDIGO 2012 AKI stage (0–3) at each serum creatinine result.

    Parameters
    ----------
    times
        Collection time of each result: datetime64 values, a DatetimeIndex or a datetime
        Series (tz-aware times are converted to UTC). Any order; the answer comes in the
        input order.
    creatinine_umol_l
        Serum creatinine [µmol/L], one number per result (array, list or Series).
    groups
        Optional series codes (for example patient codes), one per result: each group is
        staged on its own results only. ``None``: all results are one series.
    baseline
        ``"rolling_min"`` (default: the lowest earlier result in the window),
        ``"rolling_first"`` (the earliest) or ``"rolling_mean"`` (their mean).
    absolute_needs_rise
        ``True`` (default): the 353.6 µmol/L criterion gives stage 3 only together with
        a rise of 26.5 µmol/L in 48 h or a ratio of 1.5 in 7 days. ``False``: any result
        of 353.6 µmol/L or more is stage 3.
    baseline_umol_l
        A known baseline [µmol/L] used for the ratio instead of the rolling 7-day
        baseline: one number for every group, or a mapping / Series from group code to
        number (a group without one uses the rolling baseline).

    Returns
    -------
    pandas.arrays.IntegerArray or pandas.Series
        Stages as nullable ``Int8`` in input order; a Series with the input's index when
        ``creatinine_umol_l`` or ``times`` is a Series. ``<NA>`` where no earlier result
        lies in either window and no known baseline applies; 0 where a baseline exists
        and no criterion is met.

    Raises
    ------
    ValueError
        A missing time or value, a value that is not a positive finite number, an
        unknown ``baseline``, or inputs of different lengths (never with the values).

    See Also
    --------
    aki_criteria : the same staging with the baselines, rise, ratio and criterion.

    Notes
    -----
    pyAKI's other baselines are not offered: FIXED_MIN / FIXED_MEAN (calendar-fixed
    windows, so the baseline jumps at window edges) and OVERALL_FIRST / OVERALL_MEAN /
    OVERALL_MIN (use results from the whole stay, later ones included, so a stage could
    change when later results arrive); CONSTANT is ``baseline_umol_l``; CALCULATED
    (back-calculated from Cockcroft–Gault with assumed clearance) needs weight and is an
    assumption, not a result. pyAKI's hourly resampling with forward fill is not done:
    each result is compared with the results actually measured in the window.

    References
    ----------
    KDIGO2012_AKI (recommendation 2.1.1, Table 2), AKIN2007, pyAKI2024.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["2024-01-01T08:00", "2024-01-02T08:00", "2024-01-03T08:00"],
    ...              dtype="datetime64[ns]")
    >>> aki_stage(t, [88.4, 114.9, 265.2]).tolist()
    [<NA>, 1, 3]
    """
    criteria = aki_criteria(
        times,
        creatinine_umol_l,
        groups=groups,
        baseline=baseline,
        absolute_needs_rise=absolute_needs_rise,
        baseline_umol_l=baseline_umol_l,
    )
    if shared_index(times, creatinine_umol_l) is None:
        return criteria["stage"].array
    return criteria["stage"].rename("aki_stage")


def aki_criteria(
    times: Any,
    creatinine_umol_l: Any,
    *,
    groups: Any = None,
    baseline: Baseline = "rolling_min",
    absolute_needs_rise: bool = True,
    baseline_umol_l: Any = None,
) -> pd.DataFrame:
    """Return the AKI stage of each result with what it was judged on.

    Takes the inputs of :func:`aki_stage` and stages the same way.

    Parameters
    ----------
    times, creatinine_umol_l, groups, baseline, absolute_needs_rise, baseline_umol_l
        As for :func:`aki_stage`.

    Returns
    -------
    pandas.DataFrame
        One row per result in input order (the input Series' index, else a RangeIndex),
        with columns ``stage`` (``Int8``, as :func:`aki_stage`), ``baseline_48h_umol_l``
        and ``baseline_7d_umol_l`` (the baselines, NaN where the window holds no earlier
        result; the 7-day one is the known baseline where given), ``rise_umol_l`` (result
        minus the 48-hour baseline), ``ratio`` (result over the 7-day baseline) and
        ``criterion``: ``"ratio"``, ``"rise"`` or ``"absolute"``, the criterion that set
        the stage (``None`` for stage 0 or no stage). When two criteria give the same
        stage, the first of ratio, rise, absolute is named.

    Raises
    ------
    ValueError
        As for :func:`aki_stage`.

    References
    ----------
    KDIGO2012_AKI (recommendation 2.1.1, Table 2), pyAKI2024.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["2024-01-01T08:00", "2024-01-03T08:00"], dtype="datetime64[ns]")
    >>> aki_criteria(t, [88.4, 132.6])[["stage", "ratio", "criterion"]]
       stage  ratio criterion
    0   <NA>    NaN      None
    1      1    1.5     ratio
    """
    if baseline not in AKI_BASELINES:
        raise InvalidResultError(
            f"baseline must be one of {', '.join(AKI_BASELINES)}.", field="baseline"
        )
    index = shared_index(times, creatinine_umol_l, groups)
    ns = _times_ns(times)
    values = _values(creatinine_umol_l)
    if ns.shape != values.shape:
        raise InvalidResultError(_LENGTHS)
    codes, uniques = _group_codes(groups, values.size)
    order = np.lexsort((values, ns, codes))  # ties at one instant: lowest first
    g, t, v = codes[order], ns[order], values[order]
    b48 = _rolling(g, t, v, AKI_RISE_WINDOW, baseline)
    b7 = _rolling(g, t, v, AKI_RATIO_WINDOW, baseline)
    known = _known_baselines(baseline_umol_l, uniques)[g]
    b7 = np.where(np.isfinite(known), known, b7)
    sorted_frame = _judge(v, b48, b7, absolute_needs_rise=absolute_needs_rise)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    frame = sorted_frame.iloc[inverse].reset_index(drop=True)
    if index is not None:
        frame.index = index
    return frame


_LENGTHS: Final = (
    "The inputs have different lengths; give one collection time, one value "
    "(and one group code) per result."
)


def _judge(value: Floats, b48: Floats, b7: Floats, *, absolute_needs_rise: bool) -> pd.DataFrame:
    """Stage each result from its value and baselines (any order, row by row)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = value - b48
        ratio = value / b7
    rise_met = _at_least(rise, AKI_RISE_UMOL_L)
    ratio_stage = np.zeros(value.shape, dtype=np.int8)
    for ratio_step, threshold in reversed(AKI_RATIO_STAGES):  # 1.5, 2.0, 3.0
        ratio_stage[_at_least(ratio, threshold)] = ratio_step
    absolute = _at_least(value, AKI_ABSOLUTE_UMOL_L)
    if absolute_needs_rise:
        absolute &= rise_met | (ratio_stage >= 1)
    stage = np.maximum(ratio_stage, np.where(absolute, 3, rise_met.astype(np.int8)))
    staged = np.isfinite(b48) | np.isfinite(b7) | absolute
    criterion = np.full(value.shape, None, dtype=object)
    criterion[(stage > 0) & absolute & (stage == 3)] = "absolute"
    criterion[(stage == 1) & rise_met] = "rise"
    criterion[(stage > 0) & (ratio_stage == stage)] = "ratio"
    return pd.DataFrame(
        {
            "stage": pd.arrays.IntegerArray(stage.astype(np.int8), ~staged),
            "baseline_48h_umol_l": b48,
            "baseline_7d_umol_l": b7,
            "rise_umol_l": rise,
            "ratio": ratio,
            "criterion": pd.Series(criterion, dtype=object),
        }
    )


def _at_least(values: Floats, threshold: float) -> npt.NDArray[np.bool_]:
    """Return ``values >= threshold`` with a tiny relative tolerance; NaN is False."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold - abs(threshold) * _TOLERANCE, dtype=bool)


def _rolling(
    g: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    v: Floats,
    window: pd.Timedelta,
    how: str,
) -> Floats:
    """Return each row's baseline over the earlier rows of its group in ``[t - w, t)``.

    The rows are sorted by group, then time. Vectorised: the window bounds come from one
    merged sort, the minimum from a sparse table (O(n log n)).
    """
    lo = _first_at_or_after(g, t, t - int(window.value))
    hi = _first_at_or_after(g, t, t)
    count = hi - lo
    out = np.full(v.shape, np.nan)
    has = count > 0
    if how == "rolling_first":
        out[has] = v[lo[has]]
    elif how == "rolling_mean":
        cumulative = np.concatenate(([0.0], np.cumsum(v)))
        out[has] = (cumulative[hi[has]] - cumulative[lo[has]]) / count[has]
    else:
        out[has] = _range_min(v, lo[has], hi[has])
    return out


def _first_at_or_after(
    g: npt.NDArray[np.int64], t: npt.NDArray[np.int64], when: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return, per row, the position of the first row of its group at or after ``when``.

    ``g`` and ``t`` are sorted by group, then time; row ``i`` asks for ``(g[i], when[i])``.
    One merged sort of rows and questions (a question sorts before a row at its instant).
    """
    n = g.size
    keys_g = np.concatenate((g, g))
    keys_t = np.concatenate((t, when))
    is_question = np.concatenate((np.zeros(n, dtype=np.int8), np.ones(n, dtype=np.int8)))
    merged = np.lexsort((1 - is_question, keys_t, keys_g))
    question = merged >= n
    rows_before: npt.NDArray[np.int64] = np.cumsum(~question) - (~question)
    out = np.empty(n, dtype=np.int64)
    out[merged[question] - n] = rows_before[question]
    return out


def _range_min(v: Floats, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]) -> Floats:
    """Return ``min(v[lo:hi])`` for each pair (all non-empty), from a sparse table."""
    length = hi - lo
    if length.size == 0:
        return np.empty(0, dtype=np.float64)
    level = np.frexp(length.astype(np.float64))[1].astype(np.int64) - 1  # floor(log2)
    tables = [v]
    while (1 << len(tables)) <= int(length.max()):
        width = 1 << (len(tables) - 1)
        previous = tables[-1]
        tables.append(np.minimum(previous[:-width], previous[width:]))
    out = np.empty(lo.shape, dtype=np.float64)
    for j, table in enumerate(tables):
        mask = level == j
        if mask.any():
            out[mask] = np.minimum(table[lo[mask]], table[hi[mask] - (1 << j)])
    return out


def _times_ns(times: Any) -> npt.NDArray[np.int64]:
    """Return the collection times as int64 nanoseconds (UTC for tz-aware times)."""
    raw: Any = times.array if isinstance(times, (pd.Series, pd.Index)) else np.asarray(times)
    if raw.ndim != 1:
        raise InvalidResultError("times must be a one-dimensional sequence of datetimes.")
    dtype = raw.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        stamps = pd.DatetimeIndex(raw)
    else:
        stamps = _object_times(np.asarray(raw, dtype=object))
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    if stamps.hasnans:
        raise InvalidResultError(_MISSING.format(what="a collection time"), field="times")
    return np.asarray(stamps.as_unit("ns").asi8, dtype=np.int64)


def _object_times(raw: npt.NDArray[Any]) -> pd.DatetimeIndex:
    """Return datetime objects as a DatetimeIndex: all naive, or all tz-aware in UTC."""
    if pd.api.types.infer_dtype(raw, skipna=True) not in ("datetime", "datetime64", "empty"):
        raise InvalidResultError(
            "times must be datetime values (datetime64, pandas Timestamps or a datetime "
            "Series); text is not parsed here.",
            field="times",
        )
    present = [item for item in raw.tolist() if not pd.isna(item)]
    aware = {getattr(item, "tzinfo", None) is not None for item in present}
    if len(aware) > 1:
        raise InvalidResultError(
            "times mix tz-aware and naive values; give them all tz-aware or all naive.",
            field="times",
        )
    if True in aware:
        return pd.DatetimeIndex(pd.to_datetime(raw, utc=True))
    return pd.DatetimeIndex(raw)


def _values(creatinine_umol_l: Any) -> Floats:
    """Return the creatinine values as floats; raise for missing or impossible ones."""
    problem = "creatinine_umol_l must be numbers in µmol/L, one per result."
    if isinstance(creatinine_umol_l, pd.Series):
        if not pd.api.types.is_numeric_dtype(creatinine_umol_l.dtype):
            raise InvalidResultError(problem, field="creatinine_umol_l")
        values = creatinine_umol_l.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            values = np.asarray(creatinine_umol_l, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidResultError(problem, field="creatinine_umol_l") from exc
    if values.ndim != 1:
        raise InvalidResultError(problem, field="creatinine_umol_l")
    if np.isnan(values).any():
        raise InvalidResultError(_MISSING.format(what="a value"), field="creatinine_umol_l")
    if not (np.isfinite(values) & (values > 0)).all():
        raise InvalidResultError(
            "creatinine_umol_l must be positive finite numbers in µmol/L.",
            field="creatinine_umol_l",
        )
    return values


def _group_codes(groups: Any, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Return an integer code per result and the group of each code."""
    if groups is None:
        return np.zeros(n, dtype=np.int64), np.array([None], dtype=object)
    raw = groups.to_numpy(dtype=object) if isinstance(groups, pd.Series) else groups
    array = np.asarray(raw, dtype=object)
    if array.shape != (n,):
        raise InvalidResultError(_LENGTHS, field="groups")
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    if (codes < 0).any():
        raise InvalidResultError(_MISSING.format(what="a group code"), field="groups")
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _known_baselines(baseline_umol_l: Any, uniques: npt.NDArray[Any]) -> Floats:
    """Return the known baseline per group code (NaN where none is known)."""
    if baseline_umol_l is None:
        return np.full(uniques.size, np.nan)
    if isinstance(baseline_umol_l, (Mapping, pd.Series)):
        lookup = dict(baseline_umol_l.items())
        known = np.array([lookup.get(group, np.nan) for group in uniques], dtype=np.float64)
    else:
        known = np.full(uniques.size, float(baseline_umol_l))
    if ((known <= 0) | np.isinf(known)).any():
        raise InvalidResultError(
            "baseline_umol_l must be positive finite numbers in µmol/L.",
            field="baseline_umol_l",
        )
    return known
