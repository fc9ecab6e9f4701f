"""Urine albumin/creatinine ratio: codes and names, units, KDIGO A categories, bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.steps.convert import RATIO_GIVEN_AS_CONCENTRATION
from tests.conftest import load_vectors, vector_id

KDIGO = load_vectors("acr_kdigo.csv")


def test_issue_example() -> None:
    """interpret_one("acr", 3.2, "mg/mmol") is KDIGO A2 (and above the < 3 limit)."""
    finding = labinterp.interpret_one("acr", 3.2, "mg/mmol")
    assert finding.category == "A2"
    assert finding.scheme == "KDIGO_ACR"
    assert finding.flag == "H"
    assert finding.status == "ok"


@pytest.mark.parametrize("row", KDIGO, ids=[vector_id(r) for r in KDIGO])
@pytest.mark.parametrize("profile", ["no", "se", "dk", "us"])
def test_kdigo_categories_in_the_unit_reported(row: dict[str, str], profile: str) -> None:
    """KDIGO 2012 Table 6 cut-offs, applied in the unit the result was reported in."""
    finding = labinterp.interpret_one("acr", row["value"], row["unit"], profile=profile)
    assert finding.category == row["expected"]


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value="0.1", max_value="400", places=1),
    unit=st.sampled_from(["mg/mmol", "mg/g", "g/mol", "mg/g{creat}", "10E-3"]),
    profile=st.sampled_from(["no", "se", "dk", "us"]),
)
def test_flag_and_category_never_contradict(value: object, unit: str, profile: str) -> None:
    """Raised above the limit exactly when the category is A2 or A3, in every unit and profile.

    The limit is compared in the unit the result was reported in (the catalogue's row in
    that unit), as the category is, so a 28 mg/g ratio is neither flagged nor staged A2.
    """
    finding = labinterp.interpret_one("acr", str(value), unit, profile=profile)
    assert finding.status == "ok"
    assert (finding.flag in ("H", "HH")) == (finding.category in ("A2", "A3"))
    assert finding.relation == "agree"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("U-Albumin/Kreatinin", None),
        ("U-ACR", None),
        ("U-AKR", None),
        ("U-Albumin/Kreatinin-kvot", None),
        ("Albumin/Creatinine [Mass Ratio] in Urine", None),
        (None, "NPU19661"),
        (None, "NOR15260"),
        (None, "9318-7"),
        (None, "14959-1"),
        (None, "32294-1"),
    ],
)
def test_names_and_codes_as_labs_write_them(name: str | None, code: str | None) -> None:
    """Nordic names, the NPU/NLK codes and the LOINC codes all identify the ACR."""
    frame = pd.DataFrame(
        [{"source_name": name, "source_code": code, "raw_value": "4,1", "raw_unit": "mg/mmol"}]
    )
    out = labinterp.interpret(frame, profile="no")
    assert out.loc[0, "analyte"] == "acr"
    assert out.loc[0, "category"] == "A2"


def test_danish_mass_ratio_unit() -> None:
    """NPU19661 in 10E-3 (= mg/g) against the Danish limit < 30 × 10⁻³."""
    finding = labinterp.interpret_one("acr", "45", "10E-3", profile="dk")
    assert (finding.unit, finding.flag, finding.category) == ("mg/g", "H", "A2")
    assert finding.reference_high == 30


def test_concentration_given_for_a_ratio_is_named() -> None:
    """A urine albumin in mg/L is not read as the ratio; the problem says what it may be."""
    finding = labinterp.interpret_one("acr", "12", "mg/L")
    assert finding.status == "incompatible_unit"
    assert finding.category is None and finding.flag is None
    assert finding.problem == RATIO_GIVEN_AS_CONCENTRATION.format(unit="mg/mmol")
    norwegian = labinterp.interpret_one("acr", "12", "mg/L", lang="nb")
    assert "albumin i urin i mg/L" in str(norwegian.problem)


def test_without_a_unit() -> None:
    """No unit: unknown_unit, never a guess between mg/mmol and mg/g."""
    finding = labinterp.interpret_one("acr", "3,2", None)
    assert finding.status == "unknown_unit"
    assert finding.category is None


def test_raised_ratio_carries_the_transient_caveat() -> None:
    """A raised ACR says that fever, infection and exercise raise it, and to repeat it."""
    finding = labinterp.interpret_one("acr", "12", "mg/mmol", audience="clinician")
    assert any("2 of 3" in caveat for caveat in finding.caveats)
    normal = labinterp.interpret_one("acr", "1,2", "mg/mmol", audience="clinician")
    assert not any("2 of 3" in caveat for caveat in normal.caveats)


def test_a_censored_acr_at_its_converted_limit_is_below_it_on_both_paths() -> None:
    """'<3 mg/mmol' under the Danish profile (mg/g) lies below the limit, not across it.

    The value and the limit are the same conversion of 3 mg/mmol.

    KDIGO2012 Table 6: A1 < 3 mg/mmol.
    """
    one = labinterp.interpret_one("acr", "<3", "mg/mmol", sex="female", age_years=70, profile="dk")
    assert (one.flag, one.category, str(one.status)) == ("N", "A1", "ok")
    frame = pd.DataFrame(
        [{"analyte": "acr", "raw_value": "<3", "raw_unit": "mg/mmol", "sex": "female",
          "age_years": 70}]
    )  # fmt: skip
    row = labinterp.interpret(frame, profile="dk").iloc[0]
    assert (row["flag"], row["category"], row["status"]) == ("N", "A1", "ok")
