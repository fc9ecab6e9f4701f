"""Health-check panel: thyroid, iron status, vitamins B12 and folate, blood count.

Flags, categories and conversions from the cited laboratory pages (tests/vectors/
panel_thyroid.csv); the names and codes the catalogue lists identify their analyte; the
texts exist in every language for both audiences; the context rules fire on a sample set
that meets their condition and not on one that does not.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue
from tests.conftest import check_conversion_both_ways, interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_thyroid.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CATEGORIES = [r for r in VECTORS if r["kind"] == "category"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]

ANALYTES = (
    "tsh",
    "free_t4",
    "iron",
    "transferrin_saturation",
    "vitamin_b12",
    "folate",
    "leukocytes",
    "platelets",
    "mcv",
)
SCHEMES = ("Folate_WHO", "B12_Furst")
RULES = (
    "tsh_high_free_t4_low",
    "tsh_low_free_t4_high",
    "ferritin_iron_overload",
    "mcv_high_b12_low",
    "mcv_high_folate_low",
    "mcv_low_ferritin_low",
)
LANGS = ("en", "nb", "sv")


def test_the_vector_file_covers_every_analyte() -> None:
    """Each analyte has flag vectors and a conversion or a one-unit catalogue."""
    assert {r["analyte"] for r in FLAGS} == set(ANALYTES)


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_against_the_cited_interval(row: dict[str, str]) -> None:
    """A value just inside or outside a cited limit gets the flag the limit implies."""
    finding = interpret_vector(row)
    assert finding.status == "ok", finding.problem
    assert finding.flag == row["expected"]
    assert finding.reference_source == f"catalogue:{'us' if row['profile'] == 'us' else 'nordic'}"


@pytest.mark.parametrize("row", CATEGORIES, ids=[vector_id(r) for r in CATEGORIES])
def test_deficiency_categories(row: dict[str, str]) -> None:
    """The folate and B12 decision limits classify as the cited laboratory prints them."""
    finding = interpret_vector(row, scheme=row["scheme"])
    assert finding.scheme == row["scheme"]
    assert finding.category == row["expected"]


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_conversions(row: dict[str, str]) -> None:
    """Conversions follow the cited molar masses and unit definitions, both ways."""
    check_conversion_both_ways(row)


@given(value=st.floats(min_value=0.01, max_value=1e4, allow_nan=False))
@settings(max_examples=50, deadline=None)
def test_mass_and_substance_round_trip(value: float) -> None:
    """Every mass <-> substance pair of the panel converts back to the value given."""
    for analyte, a, b in (
        ("free_t4", "pmol/L", "ng/dL"),
        ("iron", "umol/L", "ug/dL"),
        ("vitamin_b12", "pmol/L", "pg/mL"),
        ("folate", "nmol/L", "ng/mL"),
    ):
        there = labinterp.convert(value, a, b, analyte=analyte)
        assert math.isclose(labinterp.convert(there, b, a, analyte=analyte), value, rel_tol=1e-9)


@pytest.mark.parametrize("analyte", ANALYTES)
def test_every_name_and_code_identifies_the_analyte(analyte: str) -> None:
    """Each listed alias (any case) and code points to its analyte and to no other."""
    spec = catalogue.get_analyte(analyte)
    assert spec.aliases and spec.codes
    for name in spec.aliases:
        assert catalogue.lookup_name(name) == analyte, name
        assert catalogue.lookup_name(name.upper()) == analyte, name
    for code in spec.codes:
        assert catalogue.lookup_code(code) == analyte, code


@pytest.mark.parametrize(
    ("name", "analyte"),
    [
        ("B-LPK", "leukocytes"),
        ("B-TPK", "platelets"),
        ("B-Leukocytter", "leukocytes"),
        ("B-Trombocytter", "platelets"),
        ("B-MCV", "mcv"),
        ("S-Kobalamin", "vitamin_b12"),
        ("S-TSH", "tsh"),
        ("Thyroxine (T4), Free", "free_t4"),
        ("Transferrin Saturation", "transferrin_saturation"),
        ("Leukocytes [#/volume] in Blood by Automated count", "leukocytes"),
    ],
)
def test_names_as_nordic_and_us_labs_print_them(name: str, analyte: str) -> None:
    """The issue's examples and the sample exports' labels are recognised."""
    assert catalogue.lookup_name(name) == analyte


@pytest.mark.parametrize("lang", LANGS)
def test_texts_exist_for_both_audiences(lang: str) -> None:
    """About and flag texts, scheme categories and caveats in every language."""
    texts = catalogue.text_catalogue(lang)
    keys = [f"{a}.about" for a in ANALYTES]
    keys += [f"{a}.flag.{f}" for a in ANALYTES for f in ("N", "L", "H", "LL", "HH")]
    keys += [f"caveat.{r}" for r in RULES]
    for scheme in SCHEMES:
        labels = [c.label for c in catalogue.schemes()[scheme].categories]
        keys += [f"category.{scheme}.{label}" for label in labels]
        assert f"name.scheme.{scheme}" in texts
        assert all(f"name.category.{scheme}.{label}" in texts for label in labels)
    for key in keys:
        for audience in ("patient", "clinician"):
            entry = texts[f"{key}.{audience}"]
            assert entry.text.strip() and entry.sources, (key, audience)
    assert all(f"name.analyte.{a}" in texts for a in ANALYTES)


BASE = {"patient_id": "p1", "collected_at": "2026-01-15 08:00", "sex": "F", "age_years": 50}


def _rules_for(rows: list[dict[str, str]], analyte: str) -> set[str]:
    out = labinterp.interpret(pd.DataFrame([{**BASE, **r} for r in rows]))
    cell = out.loc[out["analyte"] == analyte, "caveat_rules"].iloc[0]
    return set(cell.split("; ")) if isinstance(cell, str) else set()


def _row(analyte: str, value: str, unit: str) -> dict[str, str]:
    return {"analyte": analyte, "raw_value": value, "raw_unit": unit}


TSH_HIGH = _row("tsh", "8,0", "mIU/L")
TSH_LOW = _row("tsh", "0,05", "mIU/L")
FERRITIN_HIGH = _row("ferritin", "600", "ug/L")
MCV_HIGH = _row("mcv", "105", "fL")
MCV_LOW = _row("mcv", "75", "fL")


@pytest.mark.parametrize(
    ("rule", "triggering", "not_triggering", "analyte"),
    [
        (
            "tsh_high_free_t4_low",
            [TSH_HIGH, _row("free_t4", "7,0", "pmol/L")],
            [TSH_HIGH, _row("free_t4", "12", "pmol/L")],
            "tsh",
        ),
        (
            "tsh_low_free_t4_high",
            [TSH_LOW, _row("free_t4", "30", "pmol/L")],
            [TSH_LOW, _row("free_t4", "12", "pmol/L")],
            "tsh",
        ),
        (
            "ferritin_iron_overload",
            [FERRITIN_HIGH, _row("transferrin_saturation", "70", "%")],
            [FERRITIN_HIGH, _row("transferrin_saturation", "30", "%")],
            "ferritin",
        ),
        (
            "mcv_high_b12_low",
            [MCV_HIGH, _row("vitamin_b12", "90", "pmol/L")],
            [MCV_HIGH, _row("vitamin_b12", "400", "pmol/L")],
            "mcv",
        ),
        (
            "mcv_high_folate_low",
            [MCV_HIGH, _row("folate", "4,0", "nmol/L")],
            [MCV_HIGH, _row("folate", "15", "nmol/L")],
            "mcv",
        ),
        (
            "mcv_low_ferritin_low",
            [MCV_LOW, _row("ferritin", "8", "ug/L")],
            [MCV_LOW, _row("ferritin", "80", "ug/L")],
            "mcv",
        ),
    ],
)
def test_context_rules(rule: str, triggering: list, not_triggering: list, analyte: str) -> None:
    """Each rule fires when the other result of the sample set meets it, and only then."""
    assert rule in _rules_for(triggering, analyte)
    assert rule not in _rules_for(not_triggering, analyte)


def test_tsh_caveat_is_not_attached_to_a_normal_tsh() -> None:
    """A normal TSH with a low free T4 gets no hypothyroidism caveat."""
    rows = [_row("tsh", "2,0", "mIU/L"), _row("free_t4", "7,0", "pmol/L")]
    assert "tsh_high_free_t4_low" not in _rules_for(rows, "tsh")


def test_us_units_are_the_profile_units() -> None:
    """A US white cell count in K/uL (= 10^3/µL) is read, not taken for kelvin."""
    finding = labinterp.interpret_one(
        "leukocytes", "6.1", "K/uL", sex="male", age_years=40, profile="us"
    )
    assert finding.status == "ok"
    assert finding.flag == "N"
