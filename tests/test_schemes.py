"""Classification schemes: every boundary, the rounding rule, censored values, context."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.errors import CatalogueError
from labinterp.steps.schemes import categorise


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
        ("89,9", "G2"),
        ("60", "G2"),
        ("59,9", "G3a"),
        ("45", "G3a"),
        ("44,9", "G3b"),
        ("30", "G3b"),
        ("29,9", "G4"),
        ("15", "G4"),
        ("14,9", "G5"),
        ("<15", "G5"),
        (">90", "G1"),
        (">60", ""),
    ],
)
def test_kdigo_gfr_boundaries(value: str, expected: str) -> None:
    """KDIGO G categories: lower bounds inclusive (KDIGO 2012 Table 5); '>60' is undecidable."""
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
        # 46 mmol/mol = 6.36 % -> 6.4; 47 mmol/mol = 6.452 % -> 6.5: ADA's "6.4 % (47)"
        # is approximate, the master equation puts 47 mmol/mol just above 6.45 %
        ("46", "mmol/mol", "prediabetes"),
        ("47", "mmol/mol", "diabetes_range"),
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


def test_ferritin_who_thresholds_not_applied_under_five() -> None:
    """The WHO thresholds used here are for ages 5 and up: younger children get no category."""
    assert _category("ferritin", "10", "ug/L", "Ferritin_WHO2020", age_years=3) is None


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
    assert labinterp.interpret_one("hba1c", "44", "mmol/mol").scheme == "HbA1c_Nordic_IFCC"
    assert labinterp.interpret_one("hba1c", "6.1", "%", profile="us").scheme == "HbA1c_ADA_NGSP"
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
