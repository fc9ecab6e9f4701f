"""Classification schemes: every boundary, the rounding rule, censored values, context."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.errors import CatalogueError
from labinterp.steps.cutoffs import categorise


def _category(analyte: str, value: str, unit: str, scheme: str, **context: object) -> str | None:
    finding = labinterp.interpret_one(
        analyte,
        value,
        unit,
        scheme=scheme,
        sex=context.get("sex", "F"),
        age_years=context.get("age_years", 50),
        profile=str(context.get("profile", "no")),
    )
    return finding.category


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90", "G1"),
        ("89,4", "G2"),
        ("60", "G2"),
        ("59,4", "G3a"),
        ("45", "G3a"),
        ("44,4", "G3b"),
        ("30", "G3b"),
        ("29,4", "G4"),
        ("15", "G4"),
        ("14,4", "G5"),
        ("<15", "G5"),
        (">90", "G1"),
        (">60", ""),
    ],
)
def test_kdigo_gfr_boundaries(value: str, expected: str) -> None:
    """KDIGO G categories: lower bounds inclusive (KDIGO 2012 Table 5); '>60' is undecidable.

    eGFR is staged as a whole number, as laboratories report it (ARUP_eGFR), so 89.4 is
    G2 and 89.5 (reported 90) is G1.
    """
    assert (_category("egfr", value, "mL/min/1.73m2", "KDIGO_GFR") or "") == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("41", "mmol/mol", "normal"),
        ("42", "mmol/mol", "increased_risk"),
        ("47", "mmol/mol", "increased_risk"),
        ("48", "mmol/mol", "diabetes_range"),
        # converted values are rounded to whole mmol/mol first: 6.5 % = 47.53 -> 48
        ("6,5", "%", "diabetes_range"),
        ("6,4", "%", "increased_risk"),
        ("5,9", "%", "normal"),
        ("6,0", "%", "increased_risk"),  # 6.0 % = 42.08 mmol/mol, reported as 42
    ],
)
def test_hba1c_nordic_boundaries_and_rounding(value: str, unit: str, expected: str) -> None:
    """Nordic IFCC bands < 42, 42-47, >= 48 mmol/mol, classifying converted values as reported."""
    assert _category("hba1c", value, unit, "HbA1c_Nordic_IFCC") == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("5,6", "%", "normal"),
        ("5,7", "%", "prediabetes"),
        ("6,4", "%", "prediabetes"),
        ("6,5", "%", "diabetes_range"),
        # mmol/mol results are classified against ADA's own mmol/mol cut-offs
        # (prediabetes 39-47, diabetes >= 48), not converted to % (47 = 6.45 %)
        ("46", "mmol/mol", "prediabetes"),
        ("47", "mmol/mol", "prediabetes"),
        ("48", "mmol/mol", "diabetes_range"),
        ("39", "mmol/mol", "prediabetes"),
        ("38", "mmol/mol", "normal"),
    ],
)
def test_hba1c_ada_boundaries_and_rounding(value: str, unit: str, expected: str) -> None:
    """ADA bands < 5.7, 5.7-6.4, >= 6.5 %, converted values rounded to 0.1 % first."""
    assert _category("hba1c", value, unit, "HbA1c_ADA_NGSP", profile="us") == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("12", "nmol/L", "severe_deficiency"),
        ("12,5", "nmol/L", "deficiency"),
        ("24", "nmol/L", "deficiency"),
        ("25", "nmol/L", "insufficient"),
        ("49", "nmol/L", "insufficient"),
        ("50", "nmol/L", "sufficient"),
        ("20", "ng/mL", "sufficient"),  # 49.92 nmol/L, reported as 50
        ("<10", "nmol/L", "severe_deficiency"),
        ("<20", "nmol/L", ""),
    ],
)
def test_vitamin_d_nordic_boundaries(value: str, unit: str, expected: str) -> None:
    """Nordic cut-offs 12.5/25/50 nmol/L (Helsedirektoratet as printed by Fürst)."""
    assert (_category("vitamin_d_25oh", value, unit, "VitD_Nordic") or "") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("29", "deficient"),
        ("30", "inadequate"),
        ("49", "inadequate"),
        ("50", "sufficient"),
        ("125", "sufficient"),
        ("126", "potentially_excessive"),
    ],
)
def test_vitamin_d_iom_boundaries(value: str, expected: str) -> None:
    """IOM 2011: < 30, 30-< 50, 50-125, > 125 nmol/L."""
    assert _category("vitamin_d_25oh", value, "nmol/L", "VitD_IOM2011", profile="us") == expected


@pytest.mark.parametrize(
    ("value", "inflammation", "expected"),
    [
        ("14", False, "iron_deficiency"),
        ("15", False, "low_stores"),
        ("29", False, "low_stores"),
        ("30", False, "normal"),
        ("200", False, "normal"),
        ("201", False, "high"),
        ("69", True, "iron_deficiency"),
        ("70", True, "normal"),
    ],
)
def test_ferritin_who_boundaries(value: str, inflammation: bool, expected: str) -> None:
    """WHO 2020: < 15 (or < 70 with inflammation); 15-29 low stores; above the URL high."""
    frame = pd.DataFrame(
        {
            "analyte": ["ferritin"],
            "raw_value": [value],
            "raw_unit": ["ug/L"],
            "sex": ["F"],
            "age_years": [40],
        }
    )
    out = labinterp.interpret(frame, inflammation=inflammation)
    assert out.loc[0, "category"] == expected


def test_ferritin_inflammation_from_crp_in_the_same_sample_set() -> None:
    """A raised CRP in the same sample set switches ferritin to the inflammation threshold."""
    frame = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b"],
            "collected_at": ["2026-01-05"] * 3,
            "analyte": ["crp", "ferritin", "ferritin"],
            "raw_value": ["40", "50", "50"],
            "raw_unit": ["mg/L", "ug/L", "ug/L"],
            "sex": ["F"] * 3,
            "age_years": [40] * 3,
        }
    )
    out = labinterp.interpret(frame)
    assert out["category"].astype(object).fillna("").tolist() == ["", "iron_deficiency", "normal"]


def test_ferritin_normal_needs_a_reference_range() -> None:
    """Without a range, a ferritin of 500 cannot be called normal (it may be above the URL)."""
    frame = pd.DataFrame(
        {
            "analyte": ["ferritin", "ferritin"],
            "raw_value": ["500", "10"],
            "raw_unit": ["ug/L"] * 2,
            "age_years": [40, 40],
        }
    )
    out = labinterp.interpret(frame)  # no sex: no catalogue range
    assert out["status"].tolist() == ["missing_context", "missing_context"]
    assert out["category"].astype(object).fillna("").tolist() == ["", "iron_deficiency"]


def test_ferritin_who_under_five_thresholds() -> None:
    """Under age 5 WHO's under-5 threshold (< 12 ug/L) applies, not the >= 5 y one (< 15)."""
    assert _category("ferritin", "10", "ug/L", "Ferritin_WHO2020", age_years=3) == "iron_deficiency"
    assert _category("ferritin", "13", "ug/L", "Ferritin_WHO2020", age_years=3) != "iron_deficiency"
    assert _category("ferritin", "13", "ug/L", "Ferritin_WHO2020", age_years=5) == "iron_deficiency"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0,49", "critical_low"),
        ("0,50", "low"),
        ("0,70", "low"),
        ("0,71", "normal"),
        ("0,94", "normal"),
        ("0,95", "high"),
        ("2,00", "high"),
        ("2,01", "critical_high"),
    ],
)
def test_magnesium_categories_follow_flags(value: str, expected: str) -> None:
    """Mg categories follow the NORIP range and the 0.50/2.00 critical limits."""
    assert _category("magnesium", value, "mmol/L", "Mg") == expected


@pytest.mark.parametrize(("value", "expected"), [("44", "low"), ("45", "normal"), ("91", "high")])
def test_creatinine_categories(value: str, expected: str) -> None:
    """Creatinine low/normal/high against the female NORIP range 45-90 µmol/L."""
    assert _category("creatinine", value, "umol/L", "Creatinine") == expected


def test_profiles_choose_their_schemes() -> None:
    """Nordic profiles use the Nordic HbA1c and vitamin D schemes, us uses ADA and IOM."""
    adult = {"age_years": 50}
    assert labinterp.interpret_one("hba1c", "44", "mmol/mol", **adult).scheme == "HbA1c_Nordic_IFCC"
    assert (
        labinterp.interpret_one("hba1c", "6.1", "%", profile="us", **adult).scheme
        == "HbA1c_ADA_NGSP"
    )
    assert (
        labinterp.interpret_one("vitamin_d_25oh", "40", "nmol/L", profile="se").scheme
        == "VitD_Nordic"
    )
    assert (
        labinterp.interpret_one("vitamin_d_25oh", "40", "ng/mL", profile="us").scheme
        == "VitD_IOM2011"
    )
    for profile in catalogue.profiles().values():
        assert set(profile.schemes) <= set(catalogue.schemes())


def test_unknown_scheme_is_an_error() -> None:
    """Asking for a scheme that does not exist raises CatalogueError."""
    with pytest.raises(CatalogueError, match="Unknown classification scheme"):
        labinterp.interpret_one("hba1c", "44", "mmol/mol", scheme="HbA1c_Mystery")


def test_schemes_cite_existing_sources() -> None:
    """Every scheme cites keys that are in sources.toml."""
    keys = set(catalogue.sources())
    for scheme in catalogue.schemes().values():
        assert {scheme.source, *scheme.also_sources} <= keys, scheme.name


def test_categorise_inclusive_upper_bound() -> None:
    """An upper-inclusive bound keeps the boundary value in the lower category."""
    got = categorise(
        np.array([125.0, 125.5]), np.array(["", ""], dtype=object), [125], [True], ["a", "b"]
    )
    assert got.tolist() == ["a", "b"]


def test_cut_offs_in_other_units_cite_existing_sources() -> None:
    """Cut-offs in another unit or for another age cite keys that are in sources.toml."""
    keys = set(catalogue.sources())
    for scheme in catalogue.schemes().values():
        extra = [*scheme.in_units, *([scheme.below_age_min] if scheme.below_age_min else [])]
        assert {c.source for c in extra} <= keys, scheme.name


def _both_paths(
    analyte: str, value: str, unit: str, *, profile: str, age: float = 50, **kw: object
) -> list[tuple[object, object]]:
    """(flag, category) from the frame path and from the one-result path."""
    frame = pd.DataFrame(
        {
            "analyte": [analyte],
            "raw_value": [value],
            "raw_unit": [unit],
            "sex": ["F"],
            "age_years": [age],
        }
    )
    row = labinterp.interpret(frame, profile=profile, derive=False, **kw).iloc[0]  # type: ignore[arg-type]
    one = labinterp.interpret_one(analyte, value, unit, sex="F", age_years=age, profile=profile)
    frame_category = row["category"] if pd.notna(row["category"]) else None
    return [
        (str(row["flag"]), frame_category),
        (str(one.flag.value if one.flag else ""), one.category),
    ]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        # IOM 2011 Summary: < 12 ng/mL (30 nmol/L) at risk of deficiency, >= 20 ng/mL
        # (50 nmol/L) sufficient for practically all, > 50 ng/mL (125 nmol/L) concern.
        ("19.95", "ng/mL", "inadequate"),
        ("11.9", "ng/mL", "deficient"),
        ("12", "ng/mL", "inadequate"),
        ("20", "ng/mL", "sufficient"),
        ("50", "ng/mL", "sufficient"),
        ("50.1", "ng/mL", "potentially_excessive"),
        # A result in nmol/L is classified against IOM's nmol/L cut-offs, unconverted.
        ("49.8", "nmol/L", "inadequate"),
        ("29.9", "nmol/L", "deficient"),
        ("125", "nmol/L", "sufficient"),
    ],
)
def test_iom_vitamin_d_in_the_result_unit(value: str, unit: str, expected: str) -> None:
    """IOM2011 cut-offs in the result's own unit; the flag agrees at the 20 ng/mL limit."""
    for flag, category in _both_paths("vitamin_d_25oh", value, unit, profile="us"):
        assert category == expected
        if unit == "ng/mL" and float(value) < 20:
            assert flag in {"L", "LL"}  # below the range and not "sufficient"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        # ADA2021_SOC_Abridged Table 2.2/2.5: prediabetes 5.7-6.4 % (39-47 mmol/mol),
        # diabetes >= 6.5 % (48 mmol/mol).
        ("47", "mmol/mol", "prediabetes"),
        ("48", "mmol/mol", "diabetes_range"),
        ("39", "mmol/mol", "prediabetes"),
        ("38", "mmol/mol", "normal"),
        ("6.4", "%", "prediabetes"),
        ("6.5", "%", "diabetes_range"),
        ("5.7", "%", "prediabetes"),
    ],
)
def test_ada_hba1c_in_the_result_unit(value: str, unit: str, expected: str) -> None:
    """ADA's mmol/mol cut-offs classify mmol/mol results: 47 mmol/mol is not diabetes."""
    for _flag, category in _both_paths("hba1c", value, unit, profile="us"):
        assert category == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("59,6", "G2"), ("59,4", "G3a"), ("89,5", "G1"), ("14,6", "G4"), ("14,4", "G5")],
)
def test_egfr_staged_as_a_whole_number(value: str, expected: str) -> None:
    """The eGFR is staged as the whole number labs report (ARUP_eGFR): 59.6 is 60, G2."""
    for _flag, category in _both_paths("egfr", value, "mL/min/1.73m2", profile="us"):
        assert category == expected


def test_derived_egfr_flag_and_stage_at_the_same_precision() -> None:
    """A derived eGFR just under 60 is reported, flagged and staged as 60 (KDIGO2012, ARUP_eGFR)."""
    creatinine = np.round(np.arange(0.95, 1.10, 0.0005), 4)
    frame = pd.DataFrame(
        {
            "analyte": "creatinine",
            "raw_value": [f"{c:.4f}" for c in creatinine],
            "raw_unit": "mg/dL",
            "sex": "F",
            "age_years": 60,
        }
    )
    out = labinterp.interpret(frame, profile="us")
    egfr = out[out["analyte"] == "egfr"]
    exact = labinterp.equations.egfr_ckd_epi_2021_cr(
        creatinine=labinterp.ureg.Quantity(creatinine, "mg/dL"), age_years=60.0, sex="female"
    ).magnitude
    near = (exact >= 59.5) & (exact < 60)
    assert near.any()  # the grid reaches the rounding band
    assert (egfr["value"].to_numpy() == np.round(exact)).all()  # the value shown is reported
    assert (egfr["category"].to_numpy()[near] == "G2").all()
    # The US range's lower limit is 60 (Mayo): a value reported as 60 is within it.
    assert (egfr["flag"].astype(str).to_numpy()[near] == "N").all()


@pytest.mark.parametrize(
    ("scheme", "value", "profile"),
    [("HbA1c_Nordic_IFCC", "50", "no"), ("HbA1c_ADA_NGSP", "50", "us")],
)
def test_hba1c_categories_not_given_under_18(scheme: str, value: str, profile: str) -> None:
    """Diagnostic HbA1c criteria are given for adults (Mayo_HBA1C: for >= 18 y)."""
    for _flag, category in _both_paths("hba1c", value, "mmol/mol", profile=profile, age=17.9):
        assert category is None
    for _flag, category in _both_paths("hba1c", value, "mmol/mol", profile=profile, age=18):
        assert category == "diabetes_range"


@pytest.mark.parametrize(
    ("value", "inflamed", "expected"),
    [
        # WHO2020_Ferritin Recommendations 1 and 2: under 5 y iron deficiency < 12 ug/L,
        # < 30 ug/L with infection or inflammation.
        ("11", False, "iron_deficiency"),
        ("12", False, None),
        ("29", True, "iron_deficiency"),
        ("30", True, None),
    ],
)
def test_ferritin_who_under_5(value: str, inflamed: bool, expected: str | None) -> None:
    """Under age 5 the WHO under-5 cut-offs apply (no low_stores band)."""
    frame = pd.DataFrame(
        {
            "analyte": ["ferritin"],
            "raw_value": [value],
            "raw_unit": ["ug/L"],
            "sex": ["F"],
            "age_years": [3],
        }
    )
    row = labinterp.interpret(frame, profile="no", inflammation=inflamed).iloc[0]
    got = row["category"] if pd.notna(row["category"]) else None
    if expected is None:
        assert got != "iron_deficiency"
    else:
        assert got == expected
    if not inflamed:
        one = labinterp.interpret_one("ferritin", value, "ug/L", sex="F", age_years=3)
        assert one.category == got


def test_hba1c_under_18_says_why_on_both_paths() -> None:
    """A child's HbA1c gets no category and a note citing the adult criteria (Mayo_HBA1C)."""
    frame = pd.DataFrame(
        {
            "analyte": ["hba1c", "hba1c"],
            "raw_value": ["50", "50"],
            "raw_unit": ["mmol/mol", "mmol/mol"],
            "sex": ["F", "F"],
            "age_years": [16, 40],
        }
    )
    out = labinterp.interpret(frame, audience="clinician")
    one = labinterp.interpret_one(
        "hba1c", "50", "mmol/mol", sex="F", age_years=16, audience="clinician"
    )
    adult = labinterp.interpret_one(
        "hba1c", "50", "mmol/mol", sex="F", age_years=40, audience="clinician"
    )
    text = "No scheme category: the diagnostic cut-offs are given for adults"
    assert text in out["caveats"].iloc[0]
    assert text not in out["caveats"].iloc[1]
    assert any(c.startswith(text) for c in one.caveats)
    assert not any(c.startswith(text) for c in adult.caveats)
    assert pd.isna(out["category"].iloc[0]) and one.category is None


def test_a_scheme_that_depends_on_age_gives_no_category_without_one_and_says_why() -> None:
    """Without an age, an age-dependent scheme gives no category and says why.

    HbA1c (adult criteria, Mayo_HBA1C) and ferritin (WHO2020_Ferritin: separate cut-offs
    under 5) get the note scheme_age_unknown; the under-5 cut-offs are never taken for an
    unknown age.
    """
    for analyte, value, unit in (("hba1c", "50", "mmol/mol"), ("ferritin", "13", "ug/L")):
        frame = labinterp.interpret(
            pd.DataFrame([{"analyte": analyte, "raw_value": value, "raw_unit": unit, "sex": "F"}])
        )
        one = labinterp.interpret_one(analyte, value, unit, sex="female")
        assert pd.isna(frame.loc[0, "category"]) and one.category is None
        text = catalogue.Text("en", "patient").get("note.scheme_age_unknown")
        assert text is not None
        assert text.text in str(frame.loc[0, "caveats"])
        assert text.text in one.caveats
