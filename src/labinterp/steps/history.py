"""Serial results: previous value, change, and whether it exceeds the reference change value.

Only like is compared with like: results of the same patient and analyte, both in the
profile's reporting unit, reported results with reported results and derived results
with derived results from the same equation. Results are ordered by their collection
instant (``collected_at`` with its ``collected_at_offset``: :func:`labinterp.times.instants`).
The reference change value (RCV) combines the analyte's within-subject biological
variation (CVI) and an analytical variation (CVA) from
``data/biological_variation.toml``; a laboratory's own CVA can be passed instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import schema
from labinterp.catalogue import biological_variation
from labinterp.equations.variation import (
    reference_change_value,
    reference_change_value_lognormal,
)
from labinterp.perf import factorize_rows
from labinterp.precision import round_reported_array
from labinterp.steps.aki import aki_notes, aki_stages
from labinterp.steps.reported import round_percent
from labinterp.steps.state import CLASSIFIABLE, NOTE_BIT, IntArray
from labinterp.steps.state import column as column_of
from labinterp.times import instants
from labinterp.vocab import Status

__all__ = ["HISTORY_COLUMNS", "history", "superseded", "with_history"]

#: Columns :func:`history` returns, in order: those :mod:`labinterp.schema` declares as
#: filled by the history step.
HISTORY_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in schema.columns("interpreted") if "history" in c.steps
)

RcvForm = Literal["symmetric", "lognormal"]

_COMPARABLE = [*CLASSIFIABLE, Status.DERIVED.value]  # every result whose value was read


def history(
    interpreted: pd.DataFrame,
    *,
    z: float = 1.96,
    form: RcvForm = "symmetric",
    cva_pct: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Compare each result with the same patient's previous result of the same kind.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret` (needs ``patient_id`` and
        ``collected_at``).
    z
        Standard normal quantile of the RCV: 1.96 (two-sided 95 %, default), 1.65
        (one-sided 95 %).
    form
        ``"symmetric"`` (√2·Z·√(CVA² + CVI²), the same limit for a rise and a fall) or
        ``"lognormal"`` (asymmetric limits); both are always reported, ``form``
        chooses which decides ``significant_change``.
    cva_pct
        The laboratory's own analytical CV per analyte [%], replacing the default.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``interpreted``, with :data:`HISTORY_COLUMNS`. Rows without a
        previous result of the same kind have missing values there. ``history_note``
        says ``unit_changed`` or ``code_changed`` (the method may differ) when the
        previous result was reported differently, ``floating_time`` when one of the two
        times has a UTC offset and the other none (their order is then as if the floating
        time were UTC), ``same_time`` when both results
        have the same collection time (duplicates are kept and compared in file
        order), ``censored`` for ``<``/``>`` values (not compared), and
        ``no_biological_variation`` when no CVI is known. Rows marked
        ``superseded`` (an earlier result replaced by a corrected one) are left out.
        ``aki_stage`` is the KDIGO acute kidney injury stage of each creatinine result
        (:func:`labinterp.steps.aki.aki_stages`).
    """
    out = _empty_history(interpreted.index)
    if len(interpreted) == 0 or not {"patient_id", "collected_at"} <= set(interpreted.columns):
        return out
    out["aki_stage"] = aki_stages(interpreted)
    usable, censored = _comparable(interpreted)
    out.loc[censored, "history_note"] = "censored"
    rows = interpreted.loc[usable & ~censored]
    if rows.empty:
        return out
    frame = _series_frame(rows)
    grouped = frame.groupby(["patient", "analyte", "series"], sort=False)
    previous = grouped[["value", "shown", "at", "wall", "offset", "unit", "code"]].shift(1)
    has_previous = previous["value"].notna()
    change_abs = frame["value"] - previous["value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        change_pct = 100.0 * change_abs / previous["value"]
    known, rcv, up, down = _rcv(frame["analyte"], z, cva_pct)
    if form == "symmetric":
        significant = change_pct.abs() > rcv
    elif form == "lognormal":
        significant = (change_pct > up) | (change_pct < down)
    else:
        raise ValueError("form must be 'symmetric' or 'lognormal'.")
    note = _notes(frame, previous, has_previous, known)
    index = frame.index[has_previous.to_numpy()]
    for column, values in (
        ("previous_value", previous["shown"]),
        ("previous_collected_at", previous["wall"]),
        ("previous_collected_at_offset", previous["offset"]),
        ("change_abs", _at_precision(change_abs, frame)),
        ("change_abs_exact", change_abs),
        ("change_pct", _percent(change_pct)),
        ("change_pct_exact", change_pct.replace([np.inf, -np.inf], np.nan)),
        ("rcv_pct", _percent(rcv)),
        ("rcv_up_pct", _percent(up)),
        ("rcv_down_pct", _percent(down)),
    ):
        out.loc[index, column] = values.loc[index]
    decided_index = frame.index[(has_previous & known).to_numpy()]
    out.loc[decided_index, "significant_change"] = significant.loc[decided_index].to_numpy()
    noted = note.notna()
    out.loc[frame.index[noted.to_numpy()], "history_note"] = note[noted].to_numpy()
    return out


def _percent(values: pd.Series) -> pd.Series:
    """Percentages as written (:data:`~labinterp.steps.reported.PERCENT_DECIMALS`)."""
    return pd.Series(round_percent(values), index=values.index)


def _at_precision(values: pd.Series, frame: pd.DataFrame) -> pd.Series:
    """Return a change in the reporting unit at the analyte's reporting precision there."""
    rounded = round_reported_array(values, frame["analyte"].astype(object), frame["unit_canonical"])
    return pd.Series(rounded, index=values.index)


def _empty_history(index: pd.Index) -> pd.DataFrame:
    """Return the history columns with nothing compared yet."""
    out = pd.DataFrame(index=index)
    out["previous_value"] = np.nan
    out["previous_collected_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["previous_collected_at_offset"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for column in ("change_abs", "change_abs_exact", "change_pct", "change_pct_exact"):
        out[column] = np.nan
    for column in ("rcv_pct", "rcv_up_pct", "rcv_down_pct"):
        out[column] = np.nan
    out["significant_change"] = pd.array([pd.NA] * len(index), dtype="boolean")
    out["aki_stage"] = pd.array([pd.NA] * len(index), dtype="Int8")
    out["history_note"] = pd.Series(None, index=out.index, dtype=object)
    return out


def _comparable(interpreted: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return the results that can be compared, and those of them that are censored."""
    status = interpreted["status"].to_numpy(dtype=object)
    # Every result whose value was read, whether or not a range was found for it.
    usable = np.isin(status, _COMPARABLE)
    if "superseded" in interpreted.columns:
        usable &= ~interpreted["superseded"].fillna(False).to_numpy(dtype=bool)
    usable &= interpreted["patient_id"].notna().to_numpy()
    usable &= interpreted["collected_at"].notna().to_numpy()
    usable &= np.isfinite(interpreted["value_canonical"].to_numpy(dtype="float64"))
    comparator = interpreted["comparator"].astype(object)  # "" or missing: exact
    censored = usable & comparator.notna().to_numpy() & (comparator != "").to_numpy()
    return usable, censored


def _series_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Return the compared rows as series (patient, analyte, reported or equation), in time."""
    exact = "value_canonical_exact" if "value_canonical_exact" in rows else "value_canonical"
    equation = rows["equation"].astype(object)
    series = equation.where(rows["status"] == "derived", "reported").fillna("reported")
    frame = pd.DataFrame(
        {
            "patient": rows["patient_id"].astype("string"),
            "analyte": rows["analyte"].astype("string"),
            "series": series.astype("string"),
            "at": instants(rows["collected_at"], column_of(rows, "collected_at_offset")),
            "wall": pd.to_datetime(rows["collected_at"]).astype("datetime64[ns]"),
            "offset": pd.to_numeric(column_of(rows, "collected_at_offset")).astype("Int64"),
            # Changes are computed at full precision; previous_value is written as shown.
            "value": rows[exact].astype("float64"),
            "shown": rows["value_canonical"].astype("float64"),
            "unit_canonical": rows["unit_canonical"].astype(object),
            "unit": rows["raw_unit"].astype("string"),
            "code": rows["source_code"].astype("string")
            if "source_code" in rows
            else pd.Series(pd.NA, index=rows.index, dtype="string"),
        },
        index=rows.index,
    )
    return frame.sort_values(["patient", "analyte", "series", "at"], kind="stable")


def _rcv(
    analyte: pd.Series, z: float, cva_pct: Mapping[str, float] | None
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Return where CVI and CVA are known, and the symmetric, up and down RCV [%]."""
    bv = biological_variation()
    overrides = dict(cva_pct or {})
    cvi = analyte.map({k: v.cvi_pct for k, v in bv.items()}).astype("float64")
    cva = analyte.map({k: overrides.get(k, v.cva_pct) for k, v in bv.items()})
    cva = cva.astype("float64")
    known = cvi.notna() & cva.notna()
    rcv = pd.Series(np.nan, index=analyte.index)
    up = pd.Series(np.nan, index=analyte.index)
    down = pd.Series(np.nan, index=analyte.index)
    if known.any():
        rcv[known] = reference_change_value(cva[known], cvi[known], z=z)
        rcv_up, rcv_down = reference_change_value_lognormal(cva[known], cvi[known], z=z)
        up[known], down[known] = rcv_up, rcv_down
    return known, rcv, up, down


def _notes(
    frame: pd.DataFrame, previous: pd.DataFrame, has_previous: pd.Series, known: pd.Series
) -> pd.Series:
    """Return the history note per compared row (the last that applies wins)."""
    note = pd.Series(None, index=frame.index, dtype=object)
    note[has_previous & ~known] = "no_biological_variation"
    code_changed = has_previous & previous["code"].notna() & (previous["code"] != frame["code"])
    note[code_changed.fillna(False).astype(bool)] = "code_changed"
    unit_changed = has_previous & previous["unit"].notna() & (previous["unit"] != frame["unit"])
    note[unit_changed.fillna(False).astype(bool)] = "unit_changed"
    # One of the two times is floating (no offset) and the other an instant: their order
    # is as if the floating time were UTC, which may be wrong by the unknown offset.
    floating = previous["offset"].isna() != frame["offset"].isna()
    note[(has_previous & floating).fillna(False).astype(bool)] = "floating_time"
    same_time = has_previous & (previous["at"] == frame["at"])
    note[same_time.fillna(False).astype(bool)] = "same_time"
    return note


def with_history(out: pd.DataFrame) -> pd.DataFrame:
    """Add the serial-change columns and a note on each compared result.

    Creatinine results also get their KDIGO acute kidney injury stage
    (:func:`labinterp.steps.aki.aki_stages`, column ``aki_stage``).
    """
    changes = history(out)
    for column in changes.columns:
        out[column] = changes[column].to_numpy()
    notes = out["_notes"].fillna(0).to_numpy(dtype=np.int64).copy()
    significant = changes["significant_change"]
    notes[(significant == True).fillna(False).to_numpy(dtype=bool)] |= NOTE_BIT[  # noqa: E712
        "change_significant"
    ]
    notes[(significant == False).fillna(False).to_numpy(dtype=bool)] |= NOTE_BIT[  # noqa: E712
        "change_within_variation"
    ]
    out["_notes"] = notes | aki_notes(out, out["aki_stage"].array)
    return out


def superseded(
    out: pd.DataFrame, number: IntArray, replacing: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Mark results replaced by a later result of the same test and sample.

    A corrected result (HL7 OBX-11 ``C``, FHIR status ``corrected``), or one the
    laboratory withdrew (``entered-in-error``), given in ``replacing``, supersedes the
    earlier results with the same patient, analyte (or code) and collection time in the
    same input. Both rows stay; the earlier one gets ``superseded = True`` and a note,
    and history leaves it out (as does a result derived from it).
    """
    if not replacing.any():
        return np.zeros(len(out), dtype=bool)
    # The same test: the same analyte, or the same code where the analyte is not known.
    code = np.where(number < 0, pd.factorize(column_of(out, "source_code"))[0], -1)
    moment = instants(column_of(out, "collected_at"), column_of(out, "collected_at_offset"))
    keys, _ = factorize_rows(column_of(out, "patient_id"), number, code, moment)
    position = np.arange(len(out))
    last = pd.Series(np.where(replacing, position, -1)).groupby(keys).transform("max")
    return np.asarray(position < last.to_numpy(), dtype=bool)
