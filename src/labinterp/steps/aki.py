"""Acute kidney injury: the KDIGO 2012 stage of each creatinine result in a patient's series.

With ``history=True`` every reported creatinine result (read, exact, not superseded) of
a patient is staged against the same patient's earlier results
(:func:`labinterp.equations.aki_stage`, in µmol/L, with its defaults: the lowest earlier
result in 48 h and in 7 days, windows and thresholds inclusive, the absolute criterion
only with an acute rise). A stage of 1 or more puts a caveat on the creatinine result
and on the eGFRs of its sample set (reported or derived): the eGFR equations assume a
steady state. A creatinine result without a collection time or a patient is not staged,
and says so; the order of results is never guessed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.aki import aki_stage
from labinterp.samples import in_sets_of, sample_sets
from labinterp.steps.state import NOTE_BIT, IntArray
from labinterp.steps.state import column as column_of
from labinterp.times import instants
from labinterp.units import conversion
from labinterp.vocab import Status

__all__ = ["aki_notes", "aki_stages"]


def _creatinine_rows(frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Return the reported creatinine results whose exact value was read."""
    status = frame["status"].to_numpy(dtype=object)
    rows = np.array(frame["analyte"].astype(object) == "creatinine", dtype=bool)
    rows &= status == Status.OK.value
    rows &= np.isfinite(frame["value_canonical"].to_numpy(dtype="float64", na_value=np.nan))
    comparator = frame["comparator"].astype(object)
    rows &= (comparator.isna() | (comparator == "")).to_numpy()
    if "superseded" in frame.columns:
        rows &= ~frame["superseded"].fillna(False).to_numpy(dtype=bool)
    return rows


def aki_stages(frame: pd.DataFrame) -> pd.arrays.IntegerArray:
    """Return the AKI stage per row: creatinine results of a patient in time order.

    Parameters
    ----------
    frame
        An interpreted frame.

    Returns
    -------
    pandas.arrays.IntegerArray
        ``Int8`` stages, row-aligned; ``<NA>`` on other rows, on a creatinine result
        without an earlier one in 7 days, and where the time or the patient is missing.
    """
    n = len(frame)
    stage = pd.array(np.full(n, pd.NA), dtype="Int8")
    staged, moments = _placed(frame)
    if not len(staged):
        return stage
    value = frame["value_canonical"].to_numpy(dtype="float64")[staged]
    unit = frame["unit_canonical"].astype(object).to_numpy()[staged]
    umol = np.empty(len(staged))
    for name in pd.unique(unit):
        same = unit == name
        umol[same] = conversion(str(name), "umol/L", "creatinine")(value[same])
    patient = column_of(frame, "patient_id").astype("string").to_numpy()[staged]
    codes, _ = pd.factorize(patient)
    stage[staged] = aki_stage(moments.to_numpy()[staged], umol, groups=codes)
    return stage


def _placed(frame: pd.DataFrame) -> tuple[IntArray, pd.Series]:
    """Return the creatinine rows with a patient and a time, and every row's instant."""
    moments = instants(column_of(frame, "collected_at"), column_of(frame, "collected_at_offset"))
    placed = column_of(frame, "patient_id").notna().to_numpy() & moments.notna().to_numpy()
    return np.flatnonzero(_creatinine_rows(frame) & placed), moments


def aki_notes(frame: pd.DataFrame, stage: pd.arrays.IntegerArray) -> IntArray:
    """Return the note bits the AKI stages add, row-aligned.

    ``aki_egfr_unreliable`` on a creatinine result of stage 1 or more and on the
    creatinine and eGFR results of its sample set; ``aki_no_time`` on a creatinine
    result that could not be staged for want of a time or a patient.
    """
    notes = np.zeros(len(frame), dtype=np.int64)
    rows = _creatinine_rows(frame)
    if not rows.any():
        return notes
    staged, moments = _placed(frame)
    unplaced = rows.copy()
    unplaced[staged] = False
    notes[unplaced] |= NOTE_BIT["aki_no_time"]
    injured = np.asarray(pd.array(stage).fillna(0), dtype=np.int64) >= 1
    if injured.any():  # the creatinine and the eGFRs of its sample set
        sets = sample_sets(column_of(frame, "patient_id"), moments)
        hit = in_sets_of(sets, injured)
        kidney = np.isin(frame["analyte"].astype(object), ["creatinine", "egfr"])
        notes[(hit & kidney) | injured] |= NOTE_BIT["aki_egfr_unreliable"]
    return notes
