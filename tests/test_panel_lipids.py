"""Lipids and fasting glucose: flags, categories, conversions, codes, names and texts.

Flags and categories at both sides of each cited limit, published unit equivalents, every
listed code and name, and the en/nb/sv texts for both audiences.
"""

from __future__ import annotations

import pytest

import labinterp
from labinterp import catalogue
from tests.conftest import interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_lipids.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CATEGORIES = [r for r in VECTORS if r["kind"] == "category"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]
ANALYTES = ["glucose", "cholesterol", "ldl_cholesterol", "hdl_cholesterol", "triglycerides"]
SCHEMES = ["Glucose_WHO2006", "Glucose_ADA", "Cholesterol_Nordic", "LDL_ESC2019", "TG_ESC2019"]


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_at_the_cited_limits(row: dict[str, str]) -> None:
    """Just inside and just outside each cited limit, by sex, age and profile."""
    finding = interpret_vector(row)
    assert finding.status == "ok"
    assert finding.flag == row["expected"]
    assert finding.reference_source.startswith("catalogue")
    assert finding.reference_citation.startswith(row["source"])


@pytest.mark.parametrize("row", CATEGORIES, ids=[vector_id(r) for r in CATEGORIES])
def test_categories_at_the_cited_cut_offs(row: dict[str, str]) -> None:
    """Decision-limit schemes: both sides of every cut-off, in the unit reported."""
    finding = interpret_vector(row, scheme=row["scheme"])
    assert finding.scheme == row["scheme"]
    assert finding.category == row["expected"]


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_published_conversions(row: dict[str, str]) -> None:
    """mg/dL <-> mmol/L with the cited molar masses agrees with the printed equivalents.

    Tolerance: half a unit in the last printed digit, or 0.1 % for a factor printed to
    four significant digits (NHANES 0.02586, 0.01129).
    """
    converted = labinterp.convert(
        float(row["value"]), row["unit"], row["to_unit"], analyte=row["analyte"]
    )
    expected = float(row["expected"])
    decimals = len(row["expected"].partition(".")[2])
    assert abs(converted - expected) <= max(0.5 * 10**-decimals, 1e-3 * abs(expected))


def _names_and_codes() -> list[tuple[str, str]]:
    return [
        (key, name)
        for key in ANALYTES
        for name in (*catalogue.get_analyte(key).codes, *catalogue.get_analyte(key).aliases)
    ]


@pytest.mark.parametrize(("key", "name"), _names_and_codes())
def test_every_name_and_code_identifies_the_analyte(key: str, name: str) -> None:
    """Each listed code and name, as an export writes it, resolves to its analyte."""
    unit = "mg/dL" if name[0].isdigit() and "-" in name else "mmol/L"
    finding = labinterp.interpret_one(name, "1.0", unit, sex="female", age_years=40)
    assert finding.analyte == key


def test_a_code_that_says_no_fasting_state_gets_the_fasting_interval_and_its_caveat() -> None:
    """NPU04094 (P-Triglyserid: system P, not P(fPt)) says neither fasting nor non-fasting.

    Lip_HMR_Triglycerider: fasting interval >= 18 y 0.45-2.60 mmol/L, so 2.3 is N; the
    caveat says the interval is for a fasting sample.
    """
    finding = labinterp.interpret_one("NPU04094", "2.3", "mmol/L", sex="male", age_years=40)
    fasting = catalogue.text_catalogue("en")["caveat.triglycerides_fasting.patient"].text
    assert finding.analyte == "triglycerides"
    assert (finding.flag, finding.reference_high) == ("N", 2.6)
    assert fasting in finding.caveats


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_texts_exist_for_both_audiences(lang: str, audience: str) -> None:
    """About, every flag, every category and the fasting caveats, in each language."""
    keys = [f"{a}.about" for a in ANALYTES]
    keys += [f"{a}.flag.{f}" for a in ANALYTES for f in ("N", "L", "H", "LL", "HH")]
    keys += [f"category.{s}.{c.label}" for s in SCHEMES for c in catalogue.schemes()[s].categories]
    keys += ["caveat.glucose_fasting", "caveat.triglycerides_fasting"]
    texts = catalogue.text_catalogue(lang)
    for key in keys:
        assert texts[f"{key}.{audience}"].text.strip(), key
    for key in ANALYTES:
        assert texts[f"name.analyte.{key}"].text.strip(), key


def test_raised_glucose_carries_the_fasting_caveat() -> None:
    """The interval is for a fasting sample; a raised result says so, a low one does not."""
    high = labinterp.interpret_one("Glucose", "8.0", "mmol/L", sex="male", age_years=50)
    low = labinterp.interpret_one("Glucose", "3.5", "mmol/L", sex="male", age_years=50)
    assert any("fasting" in c for c in high.caveats)
    assert not any("fasting" in c for c in low.caveats)


def test_nordic_ldl_within_interval_can_be_above_the_goal() -> None:
    """A reference interval is not a risk limit: 3.5 mmol/L at 40 y is N but above the goal."""
    finding = labinterp.interpret_one(
        "LDL-kolesterol", "3.5", "mmol/L", sex="male", age_years=40, scheme="LDL_ESC2019"
    )
    assert finding.flag == "N"
    assert finding.category == "above_low_risk_goal"
