"""Derive: eGFR from creatinine (and cystatin C), HbA1c on both scales with eAG.

Which equation applies is decided here, once for both paths (frames and single
results): from the profile (or ``egfr_equation=``) and the equations' declared age
bands (:data:`labinterp.equations.egfr.EQUATIONS`); the equation bodies never check
ages. A creatinine result for which no eGFR can be derived records why (a note id,
``note.<id>`` in the text catalogues). A lab-reported eGFR is never overwritten: a
derived eGFR is a row of its own with status ``derived``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from labinterp.equations.calcium import CALCIUM_CORRECTIONS
from labinterp.equations.egfr import equation
from labinterp.equations.egfr.inputs import Measured
from labinterp.equations.hba1c import eag_mg_dl
from labinterp.perf import objects
from labinterp.precision import round_reported_array
from labinterp.steps.flags import fixed_precision
from labinterp.steps.state import BoolArray, FloatArray, IntArray, ObjArray
from labinterp.units import conversion, normalise_unit

__all__ = [
    "CORRECTED_CALCIUM",
    "DERIVED_FROM",
    "EGFR_UNIT",
    "Basis",
    "Derived",
    "derive_corrected_calcium",
    "derive_egfr",
    "derived_rows_frame",
    "hba1c_columns",
    "heights",
    "joined",
]

#: The unit a derived eGFR is written in.
EGFR_UNIT = "mL/min/1.73m2"
#: Children (under 18) get bedside Schwartz when their height is known, else EKFC from age 2.
_CHILD_WITH_HEIGHT = "egfr_schwartz_bedside"
_CHILD = "egfr_ekfc_cr"
_ADULT_AGE = 18.0


@dataclass(frozen=True)
class Basis:
    """What deriving needs of the rows it may derive from, row-aligned.

    Attributes
    ----------
    analyte
        Catalogue key per row (``None`` where not recognised).
    usable
        The value and unit were read (a missing range does not matter).
    comparator
        ``""`` for an exact value, else ``<``, ``<=``, ``>``, ``>=``.
    sex
        ``"female"``, ``"male"`` or ``""`` (missing or not recognised).
    age, height
        Age in years and height in cm (NaN when unknown).
    value_canonical, unit_canonical
        The value in the profile's reporting unit, and that unit as displayed.
    sets
        Sample-set numbers (same patient and collection time; -1: none).
    """

    analyte: ObjArray
    usable: BoolArray
    comparator: ObjArray
    sex: ObjArray
    age: FloatArray
    height: FloatArray
    value_canonical: FloatArray
    unit_canonical: ObjArray
    sets: IntArray


@dataclass(frozen=True)
class Derived:
    """Derived eGFR values and the notes of creatinine rows that got none.

    Attributes
    ----------
    source
        Per value, the basis row it was derived from (its creatinine row).
    partner
        Per value, the cystatin C row it was derived with (-1: creatinine only).
    equation
        Per value, the equation's key (``"egfr_ckd_epi_2021_cr"``).
    egfr
        Per value, the eGFR in :data:`EGFR_UNIT`.
    notes
        Per basis row, the note id saying why no eGFR was derived (``None``: no note).
    value_notes
        Per value, the note id the derived row carries (``None``: no note).
    analyte, unit
        Per value, what it is and its unit (``None``: all eGFRs in :data:`EGFR_UNIT`).
    """

    source: IntArray
    partner: IntArray
    equation: ObjArray
    egfr: FloatArray
    notes: ObjArray
    value_notes: ObjArray
    analyte: ObjArray | None = None
    unit: ObjArray | None = None

    def analytes(self) -> ObjArray:
        """Return each value's analyte key."""
        return self.analyte if self.analyte is not None else objects(len(self.source), "egfr")

    def units(self) -> ObjArray:
        """Return each value's unit."""
        return self.unit if self.unit is not None else objects(len(self.source), EGFR_UNIT)

    def __len__(self) -> int:
        return len(self.source)


def _creatinine_plan(basis: Basis, adult: str) -> tuple[IntArray, list[str], ObjArray]:
    """Choose the equation per creatinine row; note why a row gets none.

    Returns the equation per row as a position in the names returned (-1: none) and
    the note ids.
    """
    n = len(basis.analyte)
    notes = objects(n)
    creatinine = basis.usable & (basis.analyte == "creatinine")
    censored = creatinine & (basis.comparator != "")
    notes[censored] = "no_egfr_censored"
    rows = creatinine & ~censored
    age = basis.age
    missing = rows & ~np.isfinite(age)  # the age chooses the equation
    notes[missing] = "no_egfr_context"
    rows &= ~missing
    # One position per name, also when the adult equation is the children's.
    names = list(dict.fromkeys((adult, _CHILD_WITH_HEIGHT, _CHILD)))
    chosen = np.full(n, -1, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        child = rows & (age < _ADULT_AGE)
    chosen[rows & ~child & equation(adult).applies_at(age)] = names.index(adult)
    with_height = child & np.isfinite(basis.height) & equation(_CHILD_WITH_HEIGHT).applies_at(age)
    chosen[with_height] = names.index(_CHILD_WITH_HEIGHT)
    chosen[child & ~with_height & equation(_CHILD).applies_at(age)] = names.index(_CHILD)
    notes[rows & (chosen < 0)] = "no_egfr_age"
    # Sex is needed only by the equations that declare it (bedside Schwartz does not).
    has_sex = (basis.sex == "female") | (basis.sex == "male")
    needs_sex = np.array([_needs_sex(name) for name in names] + [False])
    no_sex = rows & needs_sex[chosen] & ~has_sex
    notes[no_sex] = "no_egfr_context"
    chosen[no_sex] = -1
    return chosen, names, notes


def _needs_sex(name: str) -> bool:
    """Return whether an equation declares sex among its inputs."""
    return "sex" in equation(name).inputs


def _creatinine_egfr(
    basis: Basis, adult: str
) -> tuple[list[tuple[IntArray, str, FloatArray]], ObjArray]:
    """Compute eGFR per equation and unit group, in the order of their first rows."""
    chosen, names, notes = _creatinine_plan(basis, adult)
    parts = []
    unit = basis.unit_canonical
    for position in _first_seen(chosen[chosen >= 0]):  # in the order of their first rows
        name = names[position]
        picked = np.flatnonzero(chosen == position)
        for unit_name in _first_seen(unit[picked]):
            idx = picked[unit[picked] == unit_name]
            scr = Measured(basis.value_canonical[idx], _pint_text(str(unit_name)))
            fn = equation(name)
            if name == _CHILD_WITH_HEIGHT:
                result = fn(creatinine=scr, height_cm=basis.height[idx])
            else:
                result = fn(creatinine=scr, age_years=basis.age[idx], sex=basis.sex[idx])
            parts.append((idx, name, np.asarray(result.magnitude, dtype="float64")))
    return parts, notes


@lru_cache(maxsize=64)
def _pint_text(display: str) -> str:
    """Return a displayed unit as pint writes it (the factor table's key)."""
    return normalise_unit(display).pint


def _first_seen(values: npt.NDArray[Any]) -> list[Any]:
    """Return the distinct values in the order they first occur."""
    if len(values) < 64:  # small panels: no hashing set-up
        return list(dict.fromkeys(values.tolist()))
    return list(pd.unique(values))


def _cr_cys_egfr(basis: Basis, name: str) -> tuple[IntArray, IntArray, FloatArray, str]:
    """Pair creatinine with cystatin C of the same sample set and compute their eGFR.

    Adults only (the creatinine-cystatin C equations' range); the last cystatin C of a
    sample set is its partner.
    """
    fn = equation(name)
    empty = np.zeros(0, dtype=np.int64)
    base = basis.usable & (basis.comparator == "") & (basis.sets >= 0)
    crea = np.flatnonzero(base & (basis.analyte == "creatinine"))
    cys = np.flatnonzero(base & (basis.analyte == "cystatin_c"))
    if not len(crea) or not len(cys):
        return empty, empty, np.zeros(0), fn.key
    cys_by_set = {basis.sets[i]: i for i in cys}
    pairs = [(i, cys_by_set[basis.sets[i]]) for i in crea if basis.sets[i] in cys_by_set]
    ok = fn.applies_at(basis.age)
    pairs = [(i, j) for i, j in pairs if basis.sex[i] in ("female", "male") and ok[i]]
    if not pairs:
        return empty, empty, np.zeros(0), fn.key
    ci = np.array([i for i, _ in pairs], dtype=np.int64)
    cj = np.array([j for _, j in pairs], dtype=np.int64)
    unit, value = basis.unit_canonical, basis.value_canonical
    scr = np.array(
        [conversion(str(unit[i]), "umol/L", "creatinine")(value[i]) for i in ci], dtype="float64"
    )
    scys = np.array(
        [conversion(str(unit[j]), "mg/L", "cystatin_c")(value[j]) for j in cj], dtype="float64"
    )
    egfr = fn(
        creatinine=Measured(scr, _pint_text("µmol/L")),
        cystatin_c=Measured(scys, _pint_text("mg/L")),
        age_years=basis.age[ci],
        sex=basis.sex[ci],
    )
    return ci, cj, np.asarray(egfr.magnitude, dtype="float64"), fn.key


def derive_egfr(basis: Basis, adult: str | None, cr_cys: str | None) -> Derived:
    """Derive eGFR for every creatinine row with a usable value, age and the inputs of its equation.

    Parameters
    ----------
    basis
        The rows to derive from.
    adult
        The adult creatinine equation (the profile's, or ``egfr_equation=``), in either
        spelling ``equation`` accepts; ``None`` derives no creatinine eGFR.
    cr_cys
        The creatinine-cystatin C equation for pairs in one sample set (``None``: none).

    Returns
    -------
    Derived
        Creatinine eGFRs (grouped by equation and unit, in the order of their first
        rows), then creatinine-cystatin C eGFRs; where a sample set has both, both carry
        the note ``egfr_cr_cys_preferred``.
    """
    sources: list[IntArray] = []
    partners: list[IntArray] = []
    names: list[ObjArray] = []
    values: list[FloatArray] = []
    notes = objects(len(basis.analyte))
    creatinine = basis.usable & (basis.analyte == "creatinine")
    if adult is not None and creatinine.any():
        parts, notes = _creatinine_egfr(basis, equation(adult).key)
        for idx, name, egfr in parts:
            sources.append(np.asarray(idx, dtype=np.int64))
            partners.append(np.full(len(idx), -1, dtype=np.int64))
            names.append(objects(len(idx), name))
            values.append(egfr)
    if cr_cys:
        ci, cj, egfr, name = _cr_cys_egfr(basis, cr_cys)
        sources.append(ci)
        partners.append(cj)
        names.append(objects(len(ci), name))
        values.append(egfr)
    if not sources:
        empty = np.zeros(0, dtype=np.int64)
        return Derived(empty, empty, objects(0), np.zeros(0), notes, objects(0))
    source, partner = np.concatenate(sources), np.concatenate(partners)
    return Derived(
        source,
        partner,
        np.concatenate(names),
        _reported(np.concatenate(values)),
        notes,
        _preferred_notes(basis.sets[source], partner),
    )


#: The analytes values are derived from (eGFR, albumin-corrected calcium).
DERIVED_FROM = ("creatinine", "cystatin_c", "calcium", "albumin")
#: The analyte a calcium correction derives, and its unit.
CORRECTED_CALCIUM = "calcium_albumin_corrected"
_CALCIUM_UNIT = "mmol/L"


def derive_corrected_calcium(basis: Basis, correction: str | None) -> Derived:
    """Derive albumin-corrected calcium for each calcium with an albumin of its sample set.

    Both must be read and exact; the last albumin of a sample set is the partner. The
    value is rounded as laboratories report it (``reporting`` in analytes.toml).

    Parameters
    ----------
    basis
        The rows to derive from (calcium and albumin rows among them).
    correction
        A key of :data:`labinterp.equations.calcium.CALCIUM_CORRECTIONS` (the profile's
        ``calcium_correction``); ``None`` derives nothing.

    Returns
    -------
    Derived
        One value per pair, with ``analyte`` and ``unit`` set.
    """
    empty = np.zeros(0, dtype=np.int64)
    none = Derived(empty, empty, objects(0), np.zeros(0), objects(len(basis.analyte)), objects(0))
    if correction is None:
        return none
    base = basis.usable & (basis.comparator == "") & (basis.sets >= 0)
    albumin = {
        int(basis.sets[j]): int(j) for j in np.flatnonzero(base & (basis.analyte == "albumin"))
    }
    calcium = [int(i) for i in np.flatnonzero(base & (basis.analyte == "calcium"))]
    pairs = [(i, albumin[int(basis.sets[i])]) for i in calcium if int(basis.sets[i]) in albumin]
    if not pairs:
        return none
    ci = np.array([i for i, _ in pairs], dtype=np.int64)
    aj = np.array([j for _, j in pairs], dtype=np.int64)
    unit, value = basis.unit_canonical, basis.value_canonical
    ca = np.array([conversion(str(unit[i]), _CALCIUM_UNIT, "calcium")(value[i]) for i in ci])
    alb = np.array([conversion(str(unit[j]), "g/L", "albumin")(value[j]) for j in aj])
    corrected = np.asarray(CALCIUM_CORRECTIONS[correction](ca, alb), dtype="float64")
    n = len(ci)
    return Derived(
        ci,
        aj,
        objects(n, correction),
        round_reported_array(corrected, objects(n, CORRECTED_CALCIUM), objects(n, _CALCIUM_UNIT)),
        objects(len(basis.analyte)),
        objects(n),
        objects(n, CORRECTED_CALCIUM),
        objects(n, _CALCIUM_UNIT),
    )


def joined(first: Derived, second: Derived) -> Derived:
    """Return two derivations as one (values of ``first``, then of ``second``)."""
    if not len(second):
        return first
    if not len(first):
        notes = np.where(pd.notna(first.notes), first.notes, second.notes)
        return replace(second, notes=notes)
    return Derived(
        np.concatenate([first.source, second.source]),
        np.concatenate([first.partner, second.partner]),
        np.concatenate([first.equation, second.equation]),
        np.concatenate([first.egfr, second.egfr]),
        np.where(pd.notna(first.notes), first.notes, second.notes),
        np.concatenate([first.value_notes, second.value_notes]),
        np.concatenate([first.analytes(), second.analytes()]),
        np.concatenate([first.units(), second.units()]),
    )


def _preferred_notes(sets: IntArray, partner: IntArray) -> ObjArray:
    """Note both eGFRs of a sample set that has a creatinine and a creatinine-cystatin C one.

    Where they differ the creatinine-cystatin C eGFR is the more accurate estimate
    (KDIGO2024, Fu2023): each row says so (``note.egfr_cr_cys_preferred``).
    """
    notes = objects(len(sets))
    paired = partner >= 0
    if paired.all() or not paired.any():  # one kind only: nothing to prefer (saves ~15 µs)
        return notes
    both = np.intersect1d(sets[paired], sets[~paired])
    notes[np.isin(sets, both[both >= 0])] = "egfr_cr_cys_preferred"
    return notes


def _reported(egfr: FloatArray) -> FloatArray:
    """Return eGFRs as laboratories report them, at the precision flags and stages use.

    A computed 59.6 is reported 60 and staged G2 (ARUP_eGFR): the value the output shows
    is the value that was flagged and staged.
    """
    precision = fixed_precision("egfr")
    return egfr if precision is None else np.round(egfr / precision) * precision


#: Context a derived row takes from its creatinine row (sex and age as read).
_CONTEXT = ("patient_id", "sex", "age_years", "birth_date", "collected_at", "height_cm")


def derived_rows_frame(
    frame: pd.DataFrame, rows: IntArray, basis: Basis, derived: Derived
) -> pd.DataFrame:
    """Return the derived eGFRs as a results frame to read, with their provenance.

    Parameters
    ----------
    frame
        The input frame; ``rows`` maps basis rows to its positions.
    rows
        Per basis row, its position in ``frame``.
    basis
        The rows derived from (their sex and age, as read, go to the derived rows).
    derived
        What :func:`derive_egfr` derived.

    Returns
    -------
    pandas.DataFrame
        One row per derived value: the context columns of its source row, ``analyte``
        (``egfr``, or what :attr:`Derived.analyte` says), ``raw_value``, ``raw_unit``,
        ``equation``, ``derived_from``
        (the source rows' ``source_row``, ``;``-separated) and ``_source_position`` (the
        creatinine row's position in ``frame``).
    """
    position = rows[derived.source]
    source_row = frame["source_row"]
    derived_from = _as_text(source_row.take(position))
    paired = np.flatnonzero(derived.partner >= 0)
    if len(paired):
        text = source_row.astype("string").to_numpy()
        partner = rows[derived.partner[paired]]
        derived_from[paired] = [
            f"{text[i]};{text[j]}" for i, j in zip(position[paired], partner, strict=True)
        ]
    taken = {
        "sex": pd.Series(basis.sex[derived.source], dtype=object),
        "age_years": basis.age[derived.source],
    }
    return pd.DataFrame(
        {
            **{
                c: taken[c] if c in taken else frame[c].take(position).reset_index(drop=True)
                for c in _CONTEXT
                if c in taken or c in frame.columns
            },
            "analyte": pd.Series(derived.analytes(), dtype=object),
            "raw_value": derived.egfr,
            "raw_unit": pd.Series(derived.units(), dtype=object),
            "equation": pd.Series(derived.equation, dtype=object),
            "derived_from": pd.Series(derived_from, dtype=object),
            "_source_position": position,
        },
        copy=False,
    )


def _as_text(values: pd.Series) -> ObjArray:
    """Return the values as text (``str`` of each); integers are converted by Arrow."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        text = pa.array(values.to_numpy()).cast(pa.string())
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(values.astype(str).to_numpy(dtype=object), dtype=object)


def heights(frame: pd.DataFrame, rows: IntArray) -> FloatArray:
    """Return the height in cm of the given rows (NaN where unknown)."""
    if "height_cm" not in frame.columns:
        return np.full(len(rows), np.nan)
    taken = frame["height_cm"].take(rows)
    return np.asarray(pd.to_numeric(taken, errors="coerce"), dtype="float64")


def hba1c_columns(
    analyte: ObjArray | pd.Categorical[Any],
    value_canonical: FloatArray,
    unit_canonical: ObjArray,
    usable: BoolArray,
) -> dict[str, FloatArray]:
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
    eag[rows] = np.asarray(eag_mg_dl(ngsp[rows]), dtype="float64")
    return {"hba1c_ifcc_mmol_mol": ifcc, "hba1c_ngsp_percent": ngsp, "eag_mg_dl": eag}
