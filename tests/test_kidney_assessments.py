"""The kidney assessments (KDIGO heat map, KFRE) read as a user would: both paths, invariants.

A sample set (one patient, one collection time) with an eGFR in a KDIGO G category and a
urine ACR in an A category gets a ``ckd_risk`` row and, where the 4-variable KFRE applies,
``kfre_2y`` and ``kfre_5y`` rows. These tests check the frame path against the single
path, the placement and count of the rows, the choice of eGFR, the KFRE values against
:func:`labinterp.equations.kfre`, the reasons given where no KFRE was computed, and a
large export.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.catalogue import Text
from labinterp.equations import kdigo_risk, kfre
from labinterp.steps.explain import CAVEAT_SEPARATOR

#: What the assessments are, in the order they follow their sources.
ASSESSED = ("ckd_risk", "kfre_2y", "kfre_5y")
#: Creatinine's molar mass [g/mol] (analytes.toml [creatinine]): 1 mg/mmol = 1000/113.12 mg/g.
MG_G_PER_MG_MMOL = 1000 / 113.12
EGFR_UNIT = "mL/min/1.73m2"
SEX_CODE = {"female": "F", "male": "M", None: None}
AT = "2024-03-01T08:00"
LATER = "2024-03-03T08:00"  # 48 h after AT
#: The KFRE calibration of each profile: the original in the US, Tangri 2016's elsewhere.
REGION = {
    "no": "non_north_american",
    "se": "non_north_american",
    "dk": "non_north_american",
    "us": "north_american",
}


def _frame(
    panel: list[dict[str, Any]],
    *,
    sex: str | None,
    age: float | None,
    patient: str = "p1",
    at: str | None = AT,
) -> pd.DataFrame:
    """One sample set as an export: the panel's results with the patient's context."""
    return pd.DataFrame(
        [
            {
                "patient_id": patient,
                "sex": sex,
                "age_years": age,
                "collected_at": at,
                "source_name": r["analyte"],
                "raw_value": r["value"],
                "raw_unit": r["unit"],
                "source_status": r.get("source_status"),
            }
            for r in panel
        ]
    )


def _positions(text: object) -> tuple[int, ...]:
    """Return the frame's ``derived_from`` text ("0;1") as positions."""
    return tuple(int(p) for p in str(text).split(";")) if pd.notna(text) else ()


def _from_frame(out: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the assessment rows of an interpreted frame, as comparable records."""
    rows = out[out["analyte"].isin(ASSESSED)]
    return [
        {
            "analyte": r["analyte"],
            "value": None if pd.isna(r["value"]) else float(r["value"]),
            "category": None if pd.isna(r["category"]) else r["category"],
            "scheme": None if pd.isna(r["scheme"]) else r["scheme"],
            "equation": r["equation"],
            "explanation": r["explanation"],
            "caveats": tuple(str(r["caveats"]).split(CAVEAT_SEPARATOR))
            if pd.notna(r["caveats"])
            else (),
            "derived_from": _positions(r["derived_from"]),
            "status": r["status"],
        }
        for _, r in rows.iterrows()
    ]


def _from_panel(found: list[Any]) -> list[dict[str, Any]]:
    """Return the assessment findings of the single path, as comparable records."""
    return [
        {
            "analyte": f.analyte,
            "value": f.value,
            "category": f.category,
            "scheme": f.scheme,
            "equation": f.equation,
            "explanation": f.explanation,
            "caveats": tuple(f.caveats),
            "derived_from": tuple(f.derived_from),
            "status": f.status.value,
        }
        for f in found
        if f.analyte in ASSESSED
    ]


def _panel(egfr: float | str, acr: float | str, acr_unit: str = "mg/mmol") -> list[dict[str, Any]]:
    """Return a panel of a lab eGFR and an ACR."""
    return [
        {"analyte": "egfr", "value": str(egfr), "unit": EGFR_UNIT},
        {"analyte": "acr", "value": str(acr), "unit": acr_unit},
    ]


def _by_analyte(found: list[Any]) -> dict[str, Any]:
    return {f.analyte: f for f in found}


def _note(key: str, lang: str = "en", audience: str = "patient") -> str:
    entry = Text(lang, audience).get(f"note.{key}")
    assert entry is not None
    return entry.text


# --- 1. the frame path and the single path agree -------------------------------------

_RESULT = st.one_of(
    st.builds(
        lambda v: {"analyte": "creatinine", "value": str(v), "unit": "µmol/L"},
        st.integers(30, 700),
    ),
    st.builds(
        lambda v: {"analyte": "cystatin_c", "value": f"{v / 100:.2f}", "unit": "mg/L"},
        st.integers(50, 600),
    ),
    st.builds(
        lambda v: {"analyte": "egfr", "value": str(v), "unit": EGFR_UNIT},
        st.integers(5, 130),
    ),
    st.builds(
        lambda v, u: {"analyte": "acr", "value": f"{v / 10:.1f}", "unit": u},
        st.integers(0, 4000),
        st.sampled_from(["mg/mmol", "mg/g"]),
    ),
    st.sampled_from(
        [
            {"analyte": "acr", "value": "<3", "unit": "mg/mmol"},
            {"analyte": "egfr", "value": ">90", "unit": EGFR_UNIT},
            {"analyte": "acr", "value": "4.1", "unit": None},
            {
                "analyte": "acr",
                "value": "40",
                "unit": "mg/mmol",
                "source_status": "entered-in-error",
            },
        ]
    ),
)


#: The unit each profile reports the ACR in (unit_canonical).
REPORTED_ACR_UNIT = {"no": "mg/mmol", "se": "mg/mmol", "dk": "mg/g", "us": "mg/g"}


def _in_reporting_unit(result: dict[str, Any], profile: str) -> dict[str, Any]:
    """Return an exact ACR in the profile's reporting unit and its precision, else as it is.

    The frame path rounds a converted ACR before the KFRE and the single path does not
    (test_kfre_uses_the_unrounded_acr); the comparison of the paths keeps clear of that.
    """
    if result["analyte"] != "acr" or result["unit"] not in REPORTED_ACR_UNIT.values():
        return result
    if str(result["value"])[:1] in "<>":
        return result
    unit = REPORTED_ACR_UNIT[profile]
    number = float(result["value"])
    value = f"{number:.1f}" if unit == "mg/mmol" else str(round(number))
    return {**result, "unit": unit, "value": value}


#: A panel with an eGFR or its sources, an ACR and anything else, in any order.
_PANEL = st.tuples(
    st.lists(_RESULT, max_size=3),
    st.sampled_from(
        [
            [{"analyte": "creatinine", "value": "160", "unit": "µmol/L"}],
            [
                {"analyte": "creatinine", "value": "120", "unit": "µmol/L"},
                {"analyte": "cystatin_c", "value": "1.9", "unit": "mg/L"},
            ],
            [{"analyte": "egfr", "value": "38", "unit": EGFR_UNIT}],
        ]
    ),
    _RESULT.filter(lambda r: r["analyte"] == "acr"),
).flatmap(lambda parts: st.permutations([*parts[0], *parts[1], parts[2]]))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    panel=_PANEL,
    age=st.one_of(st.integers(10, 95), st.floats(10, 95).map(lambda a: round(a, 2)), st.none()),
    sex=st.sampled_from(["female", "male", "female", "male", None]),
    profile=st.sampled_from(["no", "se", "dk", "us"]),
    lang=st.sampled_from(["en", "nb", "sv"]),
    audience=st.sampled_from(["patient", "clinician"]),
)
def test_frame_and_single_paths_give_the_same_assessments(
    panel: list[dict[str, Any]],
    age: float | None,
    sex: str | None,
    profile: str,
    lang: str,
    audience: str,
) -> None:
    """Same rows (analyte, value, category, scheme, equation, texts, sources) on both paths."""
    panel = [_in_reporting_unit(r, profile) for r in panel]
    kwargs = {"profile": profile, "lang": lang, "audience": audience}
    single = labinterp.interpret_panel(panel, sex=SEX_CODE[sex], age_years=age, **kwargs)
    frame = labinterp.interpret(_frame(panel, sex=SEX_CODE[sex], age=age), **kwargs)
    assert _from_frame(frame) == _from_panel(single)
    # The rest of the rows agree too: the assessments do not disturb them.
    assert frame["analyte"].tolist() == [f.analyte for f in single]


# --- 2. invariants --------------------------------------------------------------------


def _rank(row: pd.Series) -> int:
    """Rank an eGFR: the lab's first, then creatinine-cystatin C, then creatinine."""
    if row["status"] != "derived":
        return 0
    return 1 if "cr_cys" in str(row["equation"]) else 2


def _check_invariants(inputs: pd.DataFrame, out: pd.DataFrame) -> int:
    """Check placement, count, category and eGFR choice; return the number of ckd_risk rows."""
    kept = out[out["status"] != "derived"]
    # No input row lost or moved, none changed.
    assert kept["source_row"].tolist() == list(range(len(inputs)))
    assert kept["raw_value"].tolist() == inputs["raw_value"].tolist()
    by_source = {int(r): i for i, r in enumerate(out["source_row"]) if pd.notna(r)}
    flat = out.reset_index(drop=True)
    usable = flat["status"].isin(["ok", "derived"])
    key = flat["patient_id"].astype(str) + "|" + flat["collected_at"].astype(str)
    expected_sets = {}
    for k in key.unique():
        here = flat[(key == k) & usable]
        egfr = here[(here["analyte"] == "egfr") & here["category"].str.fullmatch("G[1-5]a?b?")]
        acr = here[(here["analyte"] == "acr") & here["category"].isin(["A1", "A2", "A3"])]
        if len(egfr) and len(acr):
            best = min(_rank(r) for _, r in egfr.iterrows())
            chosen = next(i for i, r in egfr.iterrows() if _rank(r) == best)
            expected_sets[k] = (chosen, acr.index[-1])
    risks = flat[flat["analyte"] == "ckd_risk"]
    assert sorted(key[risks.index]) == sorted(expected_sets)
    for i, r in risks.iterrows():
        e, a = expected_sets[key[i]]
        assert r["category"] == kdigo_risk(flat.loc[e, "category"], flat.loc[a, "category"])
        assert i == max(e, a) + 1  # right after its later source row
        # derived_from names the chosen eGFR's sources and the ACR.
        egfr_sources = _positions(flat.loc[e, "derived_from"]) or (int(flat.loc[e, "source_row"]),)
        assert set(_positions(r["derived_from"])) == {*egfr_sources, int(flat.loc[a, "source_row"])}
        # ... all of them input rows of this sample set.
        assert all(key[by_source[p]] == key[i] for p in _positions(r["derived_from"]))
    for i, r in flat[flat["analyte"].isin(["kfre_2y", "kfre_5y"])].iterrows():
        assert flat.loc[i - (1 if r["analyte"] == "kfre_2y" else 2), "analyte"] == "ckd_risk"
    assert out.index.is_unique
    return len(risks)


_SET = st.one_of(_PANEL, st.lists(_RESULT, min_size=1, max_size=4))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sets=st.lists(
        st.tuples(
            _SET,
            st.sampled_from(["p1", "p2"]),
            st.sampled_from([AT, "2024-03-02T08:00"]),
            st.sampled_from(["F", "M"]),
        ),
        min_size=1,
        max_size=5,
    ),
    profile=st.sampled_from(["no", "se", "dk", "us"]),
)
def test_one_risk_per_sample_set_with_both_categories(
    sets: list[tuple[list[dict[str, Any]], str, str, str]], profile: str
) -> None:
    """One ckd_risk per sample set with an eGFR G and an ACR A category, after both, none else."""
    sexes: dict[str, str] = {}
    parts = []
    for panel, patient, at, sex in sets:
        sex = sexes.setdefault(patient, sex)
        parts.append(_frame(panel, sex=sex, age=70, patient=patient, at=at))
    inputs = pd.concat(parts, ignore_index=True)
    out = labinterp.interpret(inputs, profile=profile)
    _check_invariants(inputs, out)


@pytest.mark.parametrize(
    ("acr", "patient", "at", "risks"),
    [
        ({"value": "12", "unit": "mg/mmol"}, "p1", AT, 1),
        ({"value": "12", "unit": "mg/mmol"}, "p1", "2024-03-02T08:00", 0),  # another time
        ({"value": "12", "unit": "mg/mmol"}, "p2", AT, 0),  # another patient
        ({"value": "12", "unit": None}, "p1", AT, 0),  # no unit: no category
        ({"value": "12", "unit": "mg/mmol", "source_status": "entered-in-error"}, "p1", AT, 0),
        ({"value": "<40", "unit": "mg/mmol"}, "p1", AT, 0),  # censored across A1-A3
        ({"value": "<3", "unit": "mg/mmol"}, "p1", AT, 1),  # censored but A1
    ],
    ids=["same-set", "other-time", "other-patient", "no-unit", "withdrawn", "censored", "<3"],
)
def test_which_sample_sets_get_a_risk(
    acr: dict[str, Any], patient: str, at: str, risks: int
) -> None:
    """Only an eGFR and an ACR of the same patient and time, both categorised, make a risk."""
    egfr = _frame(_panel(45, 1)[:1], sex="F", age=70)
    other = _frame([{"analyte": "acr", **acr}], sex="F", age=70, patient=patient, at=at)
    inputs = pd.concat([egfr, other], ignore_index=True)
    out = labinterp.interpret(inputs, profile="no")
    assert _check_invariants(inputs, out) == risks
    single = labinterp.interpret_panel(
        [*_panel(45, 1)[:1], {"analyte": "acr", **acr}], sex="F", age_years=70
    )
    if patient == "p1" and at == AT:
        assert sum(f.analyte == "ckd_risk" for f in single) == risks


@pytest.mark.parametrize(
    ("panel", "chosen"),
    [
        # lab eGFR 50 (G3a) beside a creatinine eGFR (G3b) and a cr-cys eGFR: the lab's wins
        (
            [
                ("creatinine", "150", "µmol/L"),
                ("cystatin_c", "1.2", "mg/L"),
                ("egfr", "50", EGFR_UNIT),
            ],
            "lab",
        ),
        # no lab eGFR: creatinine-cystatin C before creatinine alone
        ([("creatinine", "150", "µmol/L"), ("cystatin_c", "2.5", "mg/L")], "cr_cys"),
        ([("creatinine", "150", "µmol/L")], "cr"),
    ],
    ids=["lab", "cr-cys", "cr"],
)
@pytest.mark.parametrize("profile", ["no", "se", "us"])
def test_the_chosen_egfr(panel: list[tuple[str, str, str]], chosen: str, profile: str) -> None:
    """The lab's eGFR, else creatinine-cystatin C, else creatinine: by category and value."""
    results = [{"analyte": a, "value": v, "unit": u} for a, v, u in panel]
    results.append({"analyte": "acr", "value": "12", "unit": "mg/mmol"})
    found = labinterp.interpret_panel(results, sex="M", age_years=66, profile=profile)
    egfrs = [f for f in found if f.analyte == "egfr"]
    if chosen == "lab":
        pick = next(f for f in egfrs if f.status == "ok")
    else:
        pick = next(f for f in egfrs if ("cr_cys" in str(f.equation)) == (chosen == "cr_cys"))
    risk = _by_analyte(found)["ckd_risk"]
    assert risk.category == kdigo_risk(pick.category, "A2")
    kfre_5y = _by_analyte(found).get("kfre_5y")
    if 10 <= pick.value < 60:
        expected = kfre(
            age_years=66,
            sex="male",
            egfr=pick.value,
            acr_mg_g=12 * MG_G_PER_MG_MMOL,
            region=REGION[profile],
        )
        assert kfre_5y.equation == f"kfre_4v_{REGION[profile]}"
        assert kfre_5y is not None
        assert kfre_5y.value == pytest.approx(100 * expected, abs=0.05 + 1e-9)
    inputs = _frame(results, sex="M", age=66)
    _check_invariants(inputs, labinterp.interpret(inputs, profile=profile))


# --- 3. KFRE --------------------------------------------------------------------------


def test_kfre_worked_example() -> None:
    """Lshpaner_kfre README worked example (also the kfre docstring): 44.66 % and 89.89 %.

    Female, 57.28 years, eGFR 15, ACR 1762.00184 mg/g, non-North-American calibration;
    the export's ACR in mg/g is used as it is (1762 mg/g).
    """
    found = _by_analyte(
        labinterp.interpret_panel(_panel(15, 1762, "mg/g"), sex="F", age_years=57.28)
    )
    assert (found["kfre_2y"].value, found["kfre_5y"].value) == (44.7, 89.9)
    assert found["kfre_2y"].unit == found["kfre_5y"].unit == "%"
    assert found["kfre_5y"].category == "above_referral_range"
    assert found["kfre_2y"].equation == "kfre_4v_non_north_american"
    assert found["ckd_risk"].category == "very_high"  # G4 A3


@settings(max_examples=150, deadline=None)
@given(
    age=st.integers(18, 95),
    sex=st.sampled_from(["female", "male"]),
    egfr=st.integers(100, 590).map(lambda v: v / 10),
    acr=st.integers(1, 5000),
    unit=st.sampled_from(["mg/mmol", "mg/g"]),
    profile=st.sampled_from(["no", "se", "dk", "us"]),
)
def test_kfre_values(age: int, sex: str, egfr: float, acr: int, unit: str, profile: str) -> None:
    """The 2- and 5-year risks are kfre() with the ACR in mg/g, the profile's calibration.

    mg/mmol is converted with creatinine's molar mass (× 1000/113.12); the value is the
    risk in % to one decimal, and the 5-year category follows KFRE_KDIGO2024 on the value
    shown: below 3 %, 3-5 % (both ends included), above 5 %.
    """
    value = acr / 10 if unit == "mg/mmol" else float(acr)
    panel = _panel(egfr, value, unit)
    found = _by_analyte(
        labinterp.interpret_panel(panel, sex=SEX_CODE[sex], age_years=age, profile=profile)
    )
    if found["egfr"].category not in ("G3a", "G3b", "G4", "G5"):
        return  # 59.5-59.9 is G2 at the scheme's resolution: see test_kfre_follows_the_g_category
    acr_mg_g = value * MG_G_PER_MG_MMOL if unit == "mg/mmol" else value
    for years in (2, 5):
        row = found[f"kfre_{years}y"]
        exact = 100 * kfre(
            age_years=age,
            sex=sex,
            egfr=egfr,
            acr_mg_g=acr_mg_g,
            years=years,
            region=REGION[profile],
        )
        assert row.value == pytest.approx(exact, abs=0.05 + 1e-9)
        assert row.equation == f"kfre_4v_{REGION[profile]}"
        assert row.derived_from == (0, 1)
        assert row.status == "derived"
    five = found["kfre_5y"]
    expected = (
        "below_referral_range"
        if five.value < 3
        else "referral_range"
        if five.value <= 5
        else "above_referral_range"
    )
    assert (five.scheme, five.category) == ("KFRE_KDIGO2024", expected)
    assert found["kfre_2y"].category is None
    assert found["kfre_2y"].value <= five.value  # a 5-year risk is never below the 2-year one
    # No note that says no risk was computed.
    assert not any("No kidney-failure" in c for c in found["ckd_risk"].caveats)


@pytest.mark.parametrize(
    ("age", "egfr", "acr", "shown", "category"),
    [
        # Inputs found with kfre(): female, non-North-American calibration, ACR in mg/mmol.
        (50, 36, 1.6, 2.9, "below_referral_range"),  # 2.90 %
        (50, 35, 1.3, 3.0, "referral_range"),  # 2.95 %: shown 3.0, classified as shown
        (50, 37, 2.2, 3.0, "referral_range"),  # 2.996 %
        (50, 37, 7.0, 5.0, "referral_range"),  # 4.998 %: 5 % is in the band
        (50, 30, 1.3, 5.1, "above_referral_range"),  # 5.097 %
    ],
)
def test_five_year_category_boundaries(
    age: int, egfr: int, acr: float, shown: float, category: str
) -> None:
    """KFRE_KDIGO2024: 3 % and 5 % both belong to the 3-5 % referral band (KDIGO 2024 PP 2.2.1)."""
    for found in (
        _by_analyte(labinterp.interpret_panel(_panel(egfr, acr), sex="F", age_years=age)),
        {
            r["analyte"]: r
            for r in _from_frame(labinterp.interpret(_frame(_panel(egfr, acr), sex="F", age=age)))
        },
    ):
        five = found["kfre_5y"]
        value, got = (
            (five.value, five.category)
            if not isinstance(five, dict)
            else (
                five["value"],
                five["category"],
            )
        )
        assert (value, got) == (shown, category)


@pytest.mark.parametrize(
    ("egfr", "acr", "note"),
    [
        ("60", "40", "kfre_egfr_not_below_60"),
        ("95", "40", "kfre_egfr_not_below_60"),
        ("9", "40", "kfre_egfr_below_10"),
        ("9.4", "40", "kfre_egfr_below_10"),
        ("<15", "40", "kfre_censored"),
        ("45", "<3", "kfre_censored"),
        ("45", ">300", "kfre_censored"),
        ("45", "0", "kfre_acr_zero"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_why_no_kfre(egfr: str, acr: str, note: str, lang: str, audience: str) -> None:
    """Outside the KFRE's population, the CKD risk row says why no risk was computed."""
    panel = _panel(egfr, acr)
    found = labinterp.interpret_panel(panel, sex="M", age_years=70, lang=lang, audience=audience)
    by = _by_analyte(found)
    assert "kfre_2y" not in by and "kfre_5y" not in by
    caveats = by["ckd_risk"].caveats
    assert _note(note, lang, audience) in caveats
    assert _note("ckd_risk_one_time", lang, audience) in caveats
    assert _note("kfre_population", lang, audience) not in caveats
    frame = _from_frame(
        labinterp.interpret(_frame(panel, sex="M", age=70), lang=lang, audience=audience)
    )
    assert frame == _from_panel(found)


@pytest.mark.parametrize("egfr", ["10", "59", "59.4"])
def test_kfre_at_the_edges_of_its_population(egfr: str) -> None:
    """An eGFR of 10 or 59 (G3a) is inside the KFRE's population: risks, no why-not note."""
    found = _by_analyte(labinterp.interpret_panel(_panel(egfr, 40), sex="F", age_years=60))
    assert {"kfre_2y", "kfre_5y"} <= set(found)
    assert _note("kfre_population") in found["kfre_5y"].caveats


@pytest.mark.parametrize("egfr", ["59.5", "59.6", "59.9"])
def test_kfre_follows_the_g_category(egfr: str) -> None:
    """A KFRE is given exactly when the eGFR shown is in G3a-G5 (the population stated)."""
    found = _by_analyte(labinterp.interpret_panel(_panel(egfr, 40), sex="F", age_years=60))
    assert found["egfr"].category == "G2"
    assert "kfre_5y" not in found
    assert _note("kfre_egfr_not_below_60") in found["ckd_risk"].caveats


@pytest.mark.parametrize(
    ("sex", "age", "note"),
    [(None, 70, "kfre_sex_missing"), ("F", None, "kfre_age_missing")],
)
def test_kfre_needs_sex_and_age(sex: str | None, age: int | None, note: str) -> None:
    """The heat map needs no sex or age; the KFRE does, and the risk row says so."""
    panel = _panel(45, 12)
    found = _by_analyte(labinterp.interpret_panel(panel, sex=sex, age_years=age))
    assert found["egfr"].category == "G3a"
    assert found["ckd_risk"].category == "high"  # G3a A2
    assert "kfre_5y" not in found
    assert _note(note) in found["ckd_risk"].caveats


@pytest.mark.parametrize(
    ("profile", "acr", "unit", "shown"),
    [("dk", "0.1", "mg/mmol", 3.9), ("us", "0.2", "mg/mmol", 6.4), ("no", "5", "mg/g", 8.4)],
)
def test_kfre_uses_the_unrounded_acr(profile: str, acr: str, unit: str, shown: float) -> None:
    """Both paths compute the KFRE from the ACR as reported, converted exactly to mg/g.

    0.1 mg/mmol is 0.884 mg/g; rounded to whole mg/g (dk) it becomes 1 mg/g and the
    5-year risk at eGFR 20 moves from 3.9 to 4.2 %.
    """
    value = float(acr) * MG_G_PER_MG_MMOL if unit == "mg/mmol" else float(acr)
    exact = kfre(age_years=60, sex="female", egfr=20, acr_mg_g=value, region=REGION[profile])
    assert round(100 * exact, 1) == shown
    panel = _panel(20, acr, unit)
    single = _by_analyte(labinterp.interpret_panel(panel, sex="F", age_years=60, profile=profile))
    assert single["kfre_5y"].value == shown
    frame = labinterp.interpret(_frame(panel, sex="F", age=60), profile=profile)
    assert frame.loc[frame["analyte"] == "kfre_5y", "value"].tolist() == [shown]


# --- 4. the texts read together ---------------------------------------------------------

#: The notes that say why no KFRE was computed.
WHY_NOT = (
    "kfre_censored",
    "kfre_egfr_missing",
    "kfre_age_missing",
    "kfre_egfr_not_below_60",
    "kfre_egfr_below_10",
    "kfre_sex_missing",
    "kfre_acr_zero",
)


def _category_text(scheme: str, category: str, lang: str, audience: str) -> str:
    entry = Text(lang, audience).get(f"category.{scheme}.{category}")
    assert entry is not None
    return entry.text


@settings(max_examples=120, deadline=None)
@given(
    egfr=st.integers(5, 120),
    acr=st.integers(1, 3000).map(lambda v: v / 10),
    age=st.integers(18, 95),
    sex=st.sampled_from(["F", "M"]),
    lang=st.sampled_from(["en", "nb", "sv"]),
    audience=st.sampled_from(["patient", "clinician"]),
)
def test_texts_agree_with_the_numbers(
    egfr: int, acr: float, age: int, sex: str, lang: str, audience: str
) -> None:
    """The risk's words are its category's; a KFRE and a reason for no KFRE never both appear."""
    found = _by_analyte(
        labinterp.interpret_panel(
            _panel(egfr, acr), sex=sex, age_years=age, lang=lang, audience=audience
        )
    )
    risk = found["ckd_risk"]
    assert risk.category == kdigo_risk(found["egfr"].category, found["acr"].category)
    assert risk.explanation.endswith(
        _category_text("KDIGO_CKD_RISK", risk.category, lang, audience)
    )
    reasons = [n for n in WHY_NOT if _note(n, lang, audience) in risk.caveats]
    if "kfre_5y" in found:
        assert reasons == []
        five = found["kfre_5y"]
        assert five.explanation.endswith(
            _category_text("KFRE_KDIGO2024", five.category, lang, audience)
        )
        assert "%" in five.explanation and five.unit == "%"
        for name in ("kfre_2y", "kfre_5y"):
            assert _note("kfre_population", lang, audience) in found[name].caveats
    else:
        assert len(reasons) == 1
        assert reasons[0] == ("kfre_egfr_not_below_60" if egfr >= 60 else "kfre_egfr_below_10")
    assert _note("ckd_risk_one_time", lang, audience) in risk.caveats


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_every_heat_map_cell_has_its_words(lang: str) -> None:
    """All 18 G x A cells give a risk row whose explanation is that risk's text."""
    egfr_of = {"G1": 95, "G2": 75, "G3a": 50, "G3b": 35, "G4": 20, "G5": 12}
    acr_of = {"A1": 1.0, "A2": 12.0, "A3": 80.0}
    for g, egfr in egfr_of.items():
        for a, acr in acr_of.items():
            found = _by_analyte(
                labinterp.interpret_panel(_panel(egfr, acr), sex="F", age_years=60, lang=lang)
            )
            assert (found["egfr"].category, found["acr"].category) == (g, a)
            risk = found["ckd_risk"]
            assert risk.category == kdigo_risk(g, a)
            assert risk.explanation.endswith(
                _category_text("KDIGO_CKD_RISK", risk.category, lang, "patient")
            )


# --- 5. a large export ----------------------------------------------------------------


def test_large_export_where_some_patients_have_an_acr() -> None:
    """200,000 rows, an ACR for every third patient: every input kept, the derived counted.

    Each patient has a creatinine (a derived eGFR), potassium and sodium, and an ACR or
    a haemoglobin; a CKD risk is expected for each patient with an ACR, and 2- and
    5-year KFRE rows where that patient's eGFR is 10-59.
    """
    patients = 50_000
    rng = np.random.default_rng(24)
    ids = np.repeat([f"p{i}" for i in range(patients)], 4)
    has_acr = np.arange(patients) % 3 == 0
    fourth = np.where(has_acr, "U-Albumin/Kreatinin", "B-Hemoglobin")
    names = np.column_stack(
        [
            np.full(patients, "P-Kreatinin"),
            np.full(patients, "P-Kalium"),
            np.full(patients, "P-Natrium"),
            fourth,
        ]
    ).ravel()
    creatinine = rng.integers(45, 700, patients).astype(str)
    acr = np.char.mod("%.1f", rng.uniform(0.2, 250, patients))
    values = np.column_stack(
        [
            creatinine,
            np.full(patients, "4.1"),
            np.full(patients, "140"),
            np.where(has_acr, acr, "135"),
        ]
    ).ravel()
    units = np.column_stack(
        [
            np.full(patients, "µmol/L"),
            np.full(patients, "mmol/L"),
            np.full(patients, "mmol/L"),
            np.where(has_acr, "mg/mmol", "g/L"),
        ]
    ).ravel()
    inputs = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": np.repeat(rng.choice(["F", "M"], patients), 4),
            "age_years": np.repeat(rng.integers(18, 96, patients), 4),
            "collected_at": "2024-03-01T08:00",
            "source_name": names,
            "raw_value": values,
            "raw_unit": units,
        }
    )
    out = labinterp.interpret(inputs, profile="no")
    kept = out[out["status"] != "derived"]
    assert kept["source_row"].tolist() == list(range(len(inputs)))
    egfr = out[(out["analyte"] == "egfr") & (out["status"] == "derived")]
    assert len(egfr) == patients
    with_acr = egfr[egfr["patient_id"].isin(ids[::4][has_acr])]
    in_population = int(((with_acr["value"] >= 10) & (with_acr["value"] < 60)).sum())
    counts = out["analyte"].value_counts()
    assert counts.get("ckd_risk") == int(has_acr.sum())
    assert counts.get("kfre_2y") == counts.get("kfre_5y") == in_population
    assert len(out) == len(inputs) + patients + int(has_acr.sum()) + 2 * in_population
    # Every risk row is its patient's and follows that patient's ACR.
    flat = out.reset_index(drop=True)
    risk = flat.index[flat["analyte"] == "ckd_risk"]
    assert (flat.loc[risk - 1, "analyte"].to_numpy() == "acr").all()
    assert (flat.loc[risk - 1, "patient_id"].to_numpy() == flat.loc[risk, "patient_id"]).all()


def test_no_kfre_for_a_child() -> None:
    """Under 18 years the heat map is given, the KFRE not, and the row says why."""
    found = _by_analyte(labinterp.interpret_panel(_panel(40, 12), sex="F", age_years=10))
    assert found["ckd_risk"].category == "very_high"  # G3b A2
    assert "kfre_5y" not in found
    assert _note("kfre_child") in found["ckd_risk"].caveats


def test_no_kfre_during_acute_kidney_injury() -> None:
    """With history, a creatinine that doubled in 48 h (AKI stage 2) gives no KFRE."""
    rows = [
        {"source_name": "P-Kreatinin", "raw_value": "130", "raw_unit": "µmol/L", "at": AT},
        {"source_name": "P-Kreatinin", "raw_value": "260", "raw_unit": "µmol/L", "at": LATER},
        {"source_name": "U-ACR", "raw_value": "40", "raw_unit": "mg/mmol", "at": LATER},
    ]
    frame = pd.DataFrame(
        [
            {"patient_id": "p1", "sex": "F", "age_years": 60, "collected_at": r.pop("at"), **r}
            for r in rows
        ]
    )
    out = labinterp.interpret(frame, history=True)
    assert out.loc[out["analyte"] == "creatinine", "aki_stage"].tolist()[-1] == 2
    assert "kfre_5y" not in set(out["analyte"].astype(str))
    risk = out[out["analyte"] == "ckd_risk"]
    assert _note("kfre_aki") in str(risk["caveats"].iloc[0])
    without = labinterp.interpret(frame)  # no history: no AKI stage, so the KFRE is given
    assert "kfre_5y" in set(without["analyte"].astype(str))
