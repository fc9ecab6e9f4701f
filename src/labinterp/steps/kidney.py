"""Kidney assessments: CKD prognosis (the KDIGO heat map) and kidney-failure risk (KFRE).

A sample set (same patient and collection time) with an eGFR that has a KDIGO GFR
category and a urine albumin/creatinine ratio (ACR) that has a KDIGO albuminuria
category gets derived rows (status ``derived``), placed after the later of the two:

- ``ckd_risk``: the heat map's risk for the pair of categories
  (:func:`labinterp.equations.kdigo_risk`; scheme ``KDIGO_CKD_RISK``), with no value;
- ``kfre_2y`` and ``kfre_5y``: the 4-variable Kidney Failure Risk Equation in % where it
  applies (:func:`labinterp.equations.kfre_applies`: eGFR 10–59, age known), with the
  profile's calibration (``kfre_region``) and sex known; where it does not, a note on
  the ``ckd_risk`` row says why no risk was computed.

Which eGFR of a sample set: the laboratory's own, else the creatinine–cystatin C eGFR
(the more accurate where both exist: ``note.egfr_cr_cys_preferred``), else the
creatinine eGFR; which ACR: the last of the sample set. Both paths call
:func:`assess` on row-aligned arrays and :func:`assessment_texts` for the words; the
frame path inserts the rows (:func:`with_assessments`), the single path makes findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import schema
from labinterp.catalogue import Text
from labinterp.equations.kdigo import ALBUMINURIA_CATEGORIES, GFR_CATEGORIES, HEAT_MAP
from labinterp.equations.kfre import KFRE_EQUATIONS, kfre, kfre_applies
from labinterp.models import Finding, Profile, Relation
from labinterp.precision import round_reported
from labinterp.samples import in_sets_of, sample_sets
from labinterp.steps.explain import CAVEAT_SEPARATOR, caveat_parts
from labinterp.steps.layout import derived_labels
from labinterp.steps.schemes import classify_one
from labinterp.steps.state import (
    CLASSIFIABLE,
    NOTE_BIT,
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    column,
)
from labinterp.steps.verdict import compose, decide
from labinterp.times import instants
from labinterp.units import conversion
from labinterp.vocab import Status

__all__ = [
    "ASSESSED",
    "KFRE_FROM_AGE",
    "USABLE",
    "Assessment",
    "KidneyBasis",
    "assess",
    "assessment_finding",
    "assessment_texts",
    "with_assessments",
]

#: GFR categories outside the KFRE's population (CKD G3-G5: KFRE_POPULATION).
_ABOVE_POPULATION = ("G1", "G2")
#: The KFRE is computed from this age: the equation's age term is centred at 70.4 years
#: (Tangri2011_KFRE) and no paediatric validation was found; 18 is the age Norwegian
#: laboratories calculate eGFR from (Metodebok_eGFR).
KFRE_FROM_AGE = 18.0

#: The analytes this step derives, in the order they follow their sources.
ASSESSED = ("ckd_risk", "kfre_2y", "kfre_5y")
#: The scheme whose categories the heat map gives, and the one for the 5-year risk.
_RISK_SCHEME = "KDIGO_CKD_RISK"
_KFRE_SCHEME = "KFRE_KDIGO2024"
_PERCENT = "%"


@dataclass(frozen=True)
class KidneyBasis:
    """What the assessments need of the interpreted rows, row-aligned.

    Attributes
    ----------
    analyte, category
        Catalogue key and scheme category per row (``None``: none).
    value, unit
        The value in the reporting unit (``value_canonical``) and that unit.
    comparator
        ``""`` for an exact value, else ``<``, ``<=``, ``>``, ``>=``.
    usable
        The row was read and compared (status ``ok`` or ``derived``).
    derived, equation
        Whether the row was derived, and with which equation (``None``: reported).
    sets
        Sample-set numbers (-1: none).
    age, sex
        Age in years (NaN: unknown) and ``"female"``, ``"male"`` or ``""``.
    aki
        Per row, whether its sample set's creatinine has an acute kidney injury stage
        of 1 or more (only with history): the eGFR is then no steady-state estimate.
    """

    analyte: ObjArray
    category: ObjArray
    value: FloatArray
    unit: ObjArray
    comparator: ObjArray
    usable: BoolArray
    derived: BoolArray
    equation: ObjArray
    sets: IntArray
    age: FloatArray
    sex: ObjArray
    aki: BoolArray  # an eGFR of a sample set with acute kidney injury (history's aki_stage)


#: Statuses of rows an assessment may use: their value and unit were read (a lab eGFR
#: without the patient's sex has a G category: missing_context), or they were derived.
USABLE = (*CLASSIFIABLE, Status.DERIVED.value)


@dataclass(frozen=True)
class Assessment:
    """One derived assessment: what it is, what it was made from, its category and notes."""

    egfr: int  # the eGFR row's position
    acr: int  # the ACR row's position
    analyte: str
    value: float  # % for the KFRE, NaN for the heat map
    scheme: str | None
    category: str | None
    equation: str
    notes: int  # note bits (note.<id> texts)

    @property
    def after(self) -> int:
        """The position of the later source row, after which the assessment is placed."""
        return max(self.egfr, self.acr)

    @property
    def unit(self) -> str | None:
        """The assessment's unit (``None``: a category only)."""
        return None if np.isnan(self.value) else _PERCENT


def _egfr_rank(basis: KidneyBasis, row: int) -> int:
    """Rank an eGFR row of a sample set: the lab's, then creatinine-cystatin C, then creatinine."""
    if not basis.derived[row]:
        return 0
    return 1 if "cr_cys" in str(basis.equation[row]) else 2


def _pairs(basis: KidneyBasis) -> list[tuple[int, int]]:
    """Return (eGFR row, ACR row) per sample set that has both, in the order of the ACR rows."""
    base = basis.usable & (basis.sets >= 0)
    egfr = np.flatnonzero(
        base & (basis.analyte == "egfr") & np.isin(basis.category, GFR_CATEGORIES)
    )
    acr = np.flatnonzero(
        base & (basis.analyte == "acr") & np.isin(basis.category, ALBUMINURIA_CATEGORIES)
    )
    if not len(egfr) or not len(acr):
        return []
    chosen: dict[int, int] = {}
    for row in egfr.tolist():
        s = int(basis.sets[row])
        if s not in chosen or _egfr_rank(basis, row) < _egfr_rank(basis, chosen[s]):
            chosen[s] = row
    last_acr = {int(basis.sets[row]): row for row in acr.tolist()}  # the last one wins
    return sorted(
        ((chosen[s], a) for s, a in last_acr.items() if s in chosen), key=lambda p: max(p)
    )


def assess(basis: KidneyBasis, profile: Profile) -> list[Assessment]:
    """Return the kidney assessments of every sample set with an eGFR and an ACR.

    Parameters
    ----------
    basis
        The interpreted rows.
    profile
        The country profile (its ``kfre_region`` chooses the KFRE calibration).

    Returns
    -------
    list of Assessment
        Per sample set, the heat-map risk and, where the KFRE applies, the 2- and
        5-year kidney-failure risks, ordered by the position they follow.
    """
    made: list[Assessment] = []
    for e, a in _pairs(basis):
        risk = HEAT_MAP[(str(basis.category[e]), str(basis.category[a]))]
        kfre_rows, why_not = _kfre(basis, e, a, profile)
        notes = NOTE_BIT["ckd_risk_one_time"] | (NOTE_BIT[why_not] if why_not else 0)
        made.append(Assessment(e, a, "ckd_risk", np.nan, _RISK_SCHEME, risk, "kdigo_risk", notes))
        made.extend(kfre_rows)
    return made


def _kfre(
    basis: KidneyBasis, e: int, a: int, profile: Profile
) -> tuple[list[Assessment], str | None]:
    """Return the KFRE rows of a pair, or why none was computed (a note id).

    The population is judged on the eGFR as staged (a 59.6 reported as 60 is G2: not
    CKD G3-G5), before censoring (an eGFR "> 60" is outside it, not merely inexact).
    """
    if basis.category[e] in _ABOVE_POPULATION:
        return [], "kfre_egfr_not_below_60"
    if basis.aki[e]:
        return [], "kfre_aki"
    if basis.comparator[e] or basis.comparator[a]:
        return [], "kfre_censored"
    reason = kfre_applies(float(basis.age[e]), float(basis.value[e]))
    if reason is not None:
        return [], f"kfre_{reason}"
    if basis.age[e] < KFRE_FROM_AGE:
        return [], "kfre_child"
    if basis.sex[e] not in ("female", "male"):
        return [], "kfre_sex_missing"
    acr_mg_g = float(conversion(str(basis.unit[a]), "mg/g", "acr")(float(basis.value[a])))
    if not acr_mg_g > 0:
        return [], "kfre_acr_zero"
    region = profile.kfre_region
    equation = KFRE_EQUATIONS[region]
    rows = []
    for years, analyte in ((2, "kfre_2y"), (5, "kfre_5y")):
        risk = kfre(
            age_years=float(basis.age[e]),
            sex=str(basis.sex[e]),
            egfr=float(basis.value[e]),
            acr_mg_g=acr_mg_g,
            years=years,
            region=region,
        )
        percent = round_reported(100.0 * float(risk), analyte, _PERCENT)
        value = float("nan") if percent is None else percent
        scheme, category = classify_one(
            [_KFRE_SCHEME],
            analyte,
            value,
            comparator="",
            scale=1.0,
            offset=0.0,
            flag="",
            age=float(basis.age[e]),
            sex=str(basis.sex[e]),
            specimen="",
            inflamed=False,
            target=lambda _name: _PERCENT,
        )
        rows.append(
            Assessment(
                e, a, analyte, value, scheme, category, equation, NOTE_BIT["kfre_population"]
            )
        )
    return rows, None


def assessment_texts(
    item: Assessment, text: Text
) -> tuple[Relation, str | None, list[str], list[str]]:
    """Return an assessment's relation, explanation, source keys and caveats.

    The words are those of every result (:func:`labinterp.steps.verdict.decide` and
    :func:`~labinterp.steps.verdict.compose`; notes by
    :func:`labinterp.steps.explain.caveat_parts`): the analyte's ``about`` text, then
    its category's.
    """
    verdict = decide(item.analyte, "", item.scheme or "", item.category or "")
    explanation, cited = compose(verdict, "", text)
    caveats, sources = caveat_parts([], [], cited, item.notes, text)
    return verdict.relation, explanation, sources, caveats


def assessment_finding(item: Assessment, text: Text, derived_from: tuple[int, ...]) -> Finding:
    """Return an assessment as a :class:`~labinterp.models.Finding` (the single path's)."""
    relation, explanation, sources, caveats = assessment_texts(item, text)
    value = None if np.isnan(item.value) else item.value
    return Finding.model_construct(
        analyte=item.analyte,
        status=Status.DERIVED,
        value=value,
        unit=item.unit,
        value_canonical=value,
        value_canonical_exact=value,
        unit_canonical=item.unit,
        scheme=item.scheme,
        category=item.category,
        relation=relation,
        explanation=explanation,
        sources=tuple(sources),
        caveats=tuple(caveats),
        equation=item.equation,
        derived_from=derived_from,
    )


def _objects(values: pd.Series) -> ObjArray:
    """Return a column as objects, ``None`` where missing."""
    out = np.asarray(values.to_numpy(dtype=object), dtype=object)
    out[pd.isna(out)] = None
    return out


def _basis(frame: pd.DataFrame) -> KidneyBasis:
    """Read the kidney basis from an interpreted frame."""
    status = frame["status"].to_numpy(dtype=object, na_value="")
    moments = instants(column(frame, "collected_at"), column(frame, "collected_at_offset"))
    sets = sample_sets(column(frame, "patient_id"), moments)
    exact = "value_canonical_exact" if "value_canonical_exact" in frame else "value_canonical"
    return KidneyBasis(
        analyte=_objects(frame["analyte"]),
        category=_objects(frame["category"]),
        value=frame[exact].to_numpy(dtype="float64", na_value=np.nan),
        unit=_objects(frame["unit_canonical"]),
        comparator=frame["comparator"].to_numpy(dtype=object, na_value=""),
        usable=np.isin(status, USABLE),
        derived=status == Status.DERIVED.value,
        equation=_objects(frame["equation"]),
        sets=sets,
        age=frame["age_years"].to_numpy(dtype="float64", na_value=np.nan),
        sex=frame["sex"].to_numpy(dtype=object, na_value=""),
        aki=_injured_sets(frame, sets),
    )


def _injured_sets(frame: pd.DataFrame, sets: IntArray) -> BoolArray:
    """Return per row whether its sample set has a creatinine with an AKI stage >= 1."""
    if "aki_stage" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    staged = np.asarray(frame["aki_stage"].fillna(0), dtype=np.int64) >= 1
    return in_sets_of(sets, staged)


def with_assessments(frame: pd.DataFrame, profile: Profile, text: Text) -> pd.DataFrame:
    """Add the kidney assessments of an interpreted frame as derived rows.

    Each follows the later of its eGFR and ACR rows, takes the patient's context from
    the eGFR row and names both source rows in ``derived_from``. A frame without an
    ACR is returned as it came.
    """
    if not (frame["analyte"] == "acr").any():  # a categorical: compared by code
        return frame
    made = assess(_basis(frame), profile)
    if not made:
        return frame
    source = frame["source_row"].to_numpy(dtype=object)
    origin = frame["derived_from"].to_numpy(dtype=object)
    made_from = np.where(pd.notna(origin), origin, source).astype(str)
    where = np.array([item.egfr for item in made], dtype=np.int64)
    context = frame[[c for c in _CONTEXT if c in frame.columns]].iloc[where]
    texts: dict[tuple[str, str | None, str | None, int], Any] = {}
    rows = pd.DataFrame(
        [
            {
                **dict(zip(context.columns, values, strict=True)),
                **_row(item, made_from, texts, text),
            }
            for item, values in zip(made, context.itertuples(index=False), strict=True)
        ]
    )
    rows.index = derived_labels(frame.index, np.array([item.acr for item in made]))
    at = np.array([item.after for item in made], dtype=np.int64)
    order = np.concatenate([np.arange(len(frame), dtype=np.float64), at + 0.5])
    both = pd.concat([frame, rows.astype(object)], axis=0)
    both = both.iloc[np.argsort(order, kind="stable")]
    return schema.conform(both, "interpreted", keep=frame.columns)


#: Context an assessment takes from its eGFR row.
_CONTEXT = (
    "patient_id",
    "sex",
    "raw_sex",
    "age_years",
    "birth_date",
    "birth_year",
    "collected_at",
    "collected_at_offset",
    "height_cm",
)


def _row(
    item: Assessment,
    made_from: npt.NDArray[np.str_],
    texts: dict[tuple[str, str | None, str | None, int], Any],
    text: Text,
) -> dict[str, Any]:
    """Return one assessment's own columns (its texts composed once per kind and notes)."""
    kind = (item.analyte, item.scheme, item.category, item.notes)
    if kind not in texts:
        texts[kind] = assessment_texts(item, text)
    relation, explanation, sources, caveats = texts[kind]
    return {
        "analyte": item.analyte,
        "value": item.value,
        "unit": item.unit,
        "value_canonical": item.value,
        "unit_canonical": item.unit,
        "scheme": item.scheme,
        "category": item.category,
        "relation": relation,
        "explanation": explanation,
        "explanation_sources": "; ".join(sources) if sources else None,
        "caveats": CAVEAT_SEPARATOR.join(caveats) if caveats else None,
        "status": Status.DERIVED.value,
        "derived_from": ";".join(dict.fromkeys(made_from[[item.egfr, item.acr]].tolist())),
        "equation": item.equation,
    }
