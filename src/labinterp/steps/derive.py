"""Derived results: eGFR from creatinine (and cystatin C), HbA1c on both scales with eAG.

Which equation applies is decided here, from the profile (or ``egfr_equation=``) and
the equations' declared applicability (:data:`labinterp.equations.APPLICABILITY`);
the equation bodies never check ages. A creatinine result for which no eGFR can be
derived records why in its ``caveats``. A lab-reported eGFR is never overwritten: the
derived eGFR is a row of its own with status ``derived``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from labinterp import equations
from labinterp.equations import APPLICABILITY
from labinterp.equations.hba1c import eag_from_hba1c
from labinterp.errors import CatalogueError
from labinterp.models import Profile
from labinterp.perf import objects
from labinterp.samples import sample_sets
from labinterp.units import conversion, ureg

__all__ = ["EQUATION_NAMES", "DerivedEGFR", "derive_egfr", "equation_function", "hba1c_columns"]

#: Display names of the equations, for captions and caveats.
EQUATION_NAMES: dict[str, str] = {
    "egfr_ckd_epi_2021_cr": "CKD-EPI 2021 (creatinine)",
    "egfr_ckd_epi_2009_cr": "CKD-EPI 2009 (creatinine, no race factor)",
    "egfr_ekfc_cr": "EKFC (creatinine)",
    "egfr_lund_malmo_revised": "Lund-Malmö revised (creatinine)",
    "egfr_mdrd_idms": "MDRD IDMS (creatinine, no race factor)",
    "egfr_schwartz_bedside": "bedside Schwartz (creatinine, height)",
    "egfr_ckd_epi_2012_cys": "CKD-EPI 2012 (cystatin C)",
    "egfr_ckd_epi_2012_cr_cys": "CKD-EPI 2012 (creatinine and cystatin C, no race factor)",
    "egfr_ckd_epi_2021_cr_cys": "CKD-EPI 2021 (creatinine and cystatin C)",
}

BoolArray = npt.NDArray[np.bool_]

#: Children (under 18) get bedside Schwartz when their height is known, else EKFC from age 2.
_CHILD_WITH_HEIGHT = "egfr_schwartz_bedside"
_CHILD = "egfr_ekfc_cr"
_ADULT_AGE = 18.0


def equation_function(name: str) -> Callable[..., Any]:
    """Return the equation function for a profile name (``ckd_epi_2009_cr``) or full name.

    Raises
    ------
    CatalogueError
        When the name is not an eGFR equation.
    """
    full = name if name in APPLICABILITY else f"egfr_{name}"
    if full not in APPLICABILITY:
        known = ", ".join(sorted(APPLICABILITY))
        raise CatalogueError(f"Unknown eGFR equation; use one of: {known}.")
    function: Callable[..., Any] = getattr(equations, full)
    return function


@dataclass(frozen=True)
class DerivedEGFR:
    """Derived eGFR rows, ready to be interpreted, and notes for the source rows.

    Attributes
    ----------
    rows
        An input frame (``analyte`` = ``egfr``) with ``raw_value`` the computed eGFR,
        ``equation`` and ``derived_from`` (the source rows' ``source_row``), and
        ``_source_position`` (the source row's position, for ordering).
    notes
        Per source position, the id of the note saying why no eGFR was derived
        (``note.<id>`` in the text catalogues; ``None`` where one was derived).
    """

    rows: pd.DataFrame
    notes: npt.NDArray[np.object_]


def _age_ok(name: str, age: float | npt.NDArray[np.float64]) -> BoolArray:
    """Where an equation applies at the age (an array, or a 0-d array for one age)."""
    rule = APPLICABILITY[name]
    ok = np.isfinite(age)
    with np.errstate(invalid="ignore"):
        if rule["age_min"] is not None:
            ok &= age >= rule["age_min"]
        if rule["age_max"] is not None:
            ok &= age < rule["age_max"]
    return np.asarray(ok, dtype=bool)


def derive_egfr(
    interpreted: pd.DataFrame,
    usable: BoolArray,
    profile: Profile,
    equation: str | None = None,
) -> DerivedEGFR:
    """Compute eGFR for every creatinine result with a usable value, age and sex.

    Parameters
    ----------
    interpreted
        The interpreted frame (one row per input result).
    usable
        Rows whose value and unit were read (a missing range does not matter).
    profile
        The profile; its ``egfr_equation`` is the adult default.
    equation
        An equation name overriding the profile's (``"ekfc_cr"``, ``"ckd_epi_2021_cr"`` ...).

    Returns
    -------
    DerivedEGFR
    """
    n = len(interpreted)
    notes = objects(n)
    adult_name = equation or profile.egfr_equation
    analyte = interpreted["analyte"].to_numpy(dtype=object)
    creatinine = usable & (analyte == "creatinine")
    if adult_name is None or not creatinine.any():
        return DerivedEGFR(pd.DataFrame(), notes)
    adult_fn = equation_function(adult_name)
    adult = adult_fn.__name__
    cmp = interpreted["comparator"].to_numpy(dtype=object)
    censored = creatinine & (cmp != "")
    notes[censored] = "no_egfr_censored"
    rows = creatinine & ~censored
    sex = interpreted["sex"].to_numpy(dtype=object)
    age = pd.to_numeric(interpreted["age_years"], errors="coerce").to_numpy(dtype="float64")
    has_sex = np.isin(sex, ["female", "male"])
    missing = rows & (~has_sex | ~np.isfinite(age))
    notes[missing] = "no_egfr_context"
    rows &= ~missing
    height = (
        pd.to_numeric(interpreted["height_cm"], errors="coerce").to_numpy(dtype="float64")
        if "height_cm" in interpreted.columns
        else np.full(n, np.nan)
    )
    # The equation per row, as a position in ``names`` (-1: none; one position per name,
    # also when the adult equation is the children's).
    names = list(dict.fromkeys((adult, _CHILD_WITH_HEIGHT, _CHILD)))
    chosen = np.full(n, -1, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        child = rows & (age < _ADULT_AGE)
    chosen[rows & ~child & _age_ok(adult, age)] = names.index(adult)
    with_height = child & np.isfinite(height) & _age_ok(_CHILD_WITH_HEIGHT, age)
    chosen[with_height] = names.index(_CHILD_WITH_HEIGHT)
    chosen[child & ~with_height & _age_ok(_CHILD, age)] = names.index(_CHILD)
    outside = rows & (chosen < 0)
    notes[outside] = "no_egfr_age"
    unit = interpreted["unit_canonical"].to_numpy(dtype=object)
    value = interpreted["value_canonical"].to_numpy(dtype="float64")
    parts = []
    for position in pd.unique(chosen[chosen >= 0]):  # in the order of their first rows
        name = names[position]
        picked = np.flatnonzero(chosen == position)
        for unit_name in pd.unique(unit[picked]):
            idx = picked[unit[picked] == unit_name]
            scr = ureg.Quantity(value[idx], _pint_unit(str(unit_name)))
            fn = getattr(equations, str(name))
            if name == _CHILD_WITH_HEIGHT:
                result = fn(creatinine=scr, height_cm=height[idx])
            else:
                result = fn(creatinine=scr, age_years=age[idx], sex=sex[idx])
            parts.append((idx, str(name), np.asarray(result.magnitude, dtype="float64")))
    frame = _rows_frame(interpreted, parts)
    return DerivedEGFR(frame, notes)


def _pint_unit(display: str) -> str:
    """Return the pint expression for a displayed unit (``µmol/L``)."""
    from labinterp.units import normalise_unit

    return normalise_unit(display).pint


_CONTEXT = ("patient_id", "sex", "age_years", "birth_date", "collected_at", "height_cm")


def _rows_frame(
    interpreted: pd.DataFrame, parts: list[tuple[npt.NDArray[np.intp], str, Any]]
) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame()
    frames = []
    for idx, name, egfr in parts:
        # Take only the context columns of the source rows (not every column).
        rows = len(idx)
        frame = pd.DataFrame(
            {
                **{
                    c: interpreted[c].take(idx).reset_index(drop=True)
                    for c in _CONTEXT
                    if c in interpreted.columns
                },
                "analyte": pd.Series(objects(rows, "egfr"), dtype=object),
                "raw_value": egfr,
                "raw_unit": pd.Series(objects(rows, "mL/min/1.73m2"), dtype=object),
                "equation": pd.Series(objects(rows, name), dtype=object),
                "derived_from": pd.Series(
                    _as_text(interpreted["source_row"].take(idx)), dtype=object
                ),
                "_source_position": idx,
            },
            copy=False,
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _as_text(values: pd.Series) -> npt.NDArray[np.object_]:
    """Return the values as text (``str`` of each); integers are converted by Arrow."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        text = pa.array(values.to_numpy()).cast(pa.string())
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(values.astype(str).to_numpy(dtype=object), dtype=object)


def derive_egfr_cr_cys(
    interpreted: pd.DataFrame,
    usable: BoolArray,
    equation: str,
    sets: npt.NDArray[np.int64] | None = None,
) -> pd.DataFrame:
    """Compute eGFR from creatinine and cystatin C measured in the same sample set.

    A sample set is the same patient and collection time; rows without either form
    none. Adults only (the creatinine-cystatin C equations' range). ``sets`` gives the
    sample-set numbers when they are already known (:func:`labinterp._frames.sample_sets`).

    Returns
    -------
    pandas.DataFrame
        Input rows for the derived eGFR (empty when no pair exists).
    """
    needed = {"patient_id", "collected_at"}
    if not needed <= set(interpreted.columns):
        return pd.DataFrame()
    fn = equation_function(equation)
    name = fn.__name__
    cmp = interpreted["comparator"].to_numpy(dtype=object)
    analyte = interpreted["analyte"].to_numpy(dtype=object)
    key = (
        sets
        if sets is not None
        else sample_sets(interpreted["patient_id"], interpreted["collected_at"])
    )
    base = usable & (cmp == "") & (key >= 0)
    crea = np.flatnonzero(base & (analyte == "creatinine"))
    cys = np.flatnonzero(base & (analyte == "cystatin_c"))
    if not len(crea) or not len(cys):
        return pd.DataFrame()
    cys_by_key = {key[i]: i for i in cys}
    pairs = [(i, cys_by_key[key[i]]) for i in crea if key[i] in cys_by_key]
    sex = interpreted["sex"].to_numpy(dtype=object)
    age = pd.to_numeric(interpreted["age_years"], errors="coerce").to_numpy(dtype="float64")
    pairs = [
        (i, j) for i, j in pairs if sex[i] in ("female", "male") and _age_ok(name, age[[i]])[0]
    ]
    if not pairs:
        return pd.DataFrame()
    ci = np.array([i for i, _ in pairs])
    cj = np.array([j for _, j in pairs])
    unit = interpreted["unit_canonical"].to_numpy(dtype=object)
    value = interpreted["value_canonical"].to_numpy(dtype="float64")
    scr = np.array(
        [conversion(str(unit[i]), "umol/L", "creatinine")(value[i]) for i in ci], dtype="float64"
    )
    scys = np.array(
        [conversion(str(unit[j]), "mg/L", "cystatin_c")(value[j]) for j in cj], dtype="float64"
    )
    egfr = fn(
        creatinine=ureg.Quantity(scr, "umol/L"),
        cystatin_c=ureg.Quantity(scys, "mg/L"),
        age_years=age[ci],
        sex=sex[ci],
    )
    frame = _rows_frame(interpreted, [(ci, name, np.asarray(egfr.magnitude, dtype="float64"))])
    source_row = interpreted["source_row"].astype("string").to_numpy()
    frame["derived_from"] = [f"{source_row[i]};{source_row[j]}" for i, j in pairs]
    return frame


def hba1c_columns(
    analyte: npt.NDArray[np.object_] | pd.Categorical[Any],
    value_canonical: npt.NDArray[np.float64],
    unit_canonical: npt.NDArray[np.object_],
    usable: BoolArray,
) -> dict[str, npt.NDArray[np.float64]]:
    """HbA1c on both scales and the estimated average glucose, for HbA1c rows.

    ``analyte`` may be a categorical (compared by code).

    Returns
    -------
    dict
        ``hba1c_ifcc_mmol_mol``, ``hba1c_ngsp_percent`` and ``eag_mg_dl`` arrays (NaN
        on other rows).
    """
    n = len(analyte)
    ifcc = np.full(n, np.nan)
    ngsp = np.full(n, np.nan)
    eag = np.full(n, np.nan)
    rows = np.flatnonzero(usable & np.asarray(analyte == "hba1c", dtype=bool))
    units = unit_canonical[rows]
    for unit in pd.unique(units):
        idx = rows[units == unit]
        ifcc[idx] = conversion(str(unit), "mmol/mol", "hba1c")(value_canonical[idx])
        ngsp[idx] = conversion(str(unit), "%", "hba1c")(value_canonical[idx])
    eag[rows] = np.asarray(eag_from_hba1c(ngsp[rows]).to("mg/dL").magnitude, dtype="float64")
    return {"hba1c_ifcc_mmol_mol": ifcc, "hba1c_ngsp_percent": ngsp, "eag_mg_dl": eag}
