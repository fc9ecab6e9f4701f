"""Health-check panel: red cell count, haematocrit and the red cell indices MCH, MCHC, RDW.

Flags and conversions from the cited laboratory pages (tests/vectors/panel_blood.csv);
the names and codes the catalogue lists identify their analyte; the texts exist in every
language for both audiences.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue
from tests.conftest import check_conversion_both_ways, interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_blood.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]

ANALYTES = ("erythrocytes", "hematocrit", "mch", "mchc", "rdw")
LANGS = ("en", "nb", "sv")


def test_the_vector_file_covers_every_analyte() -> None:
    """Each analyte has flag vectors."""
    assert {r["analyte"] for r in FLAGS} == set(ANALYTES)
    assert {r["profile"] for r in FLAGS} >= {"no", "se", "dk", "us"}


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_against_the_cited_interval(row: dict[str, str]) -> None:
    """A value just inside or outside a cited limit gets the flag the limit implies."""
    finding = interpret_vector(row)
    assert finding.status == "ok", finding.problem
    assert finding.flag == row["expected"]
    assert finding.reference_source == f"catalogue:{'us' if row['profile'] == 'us' else 'nordic'}"


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_conversions(row: dict[str, str]) -> None:
    """Conversions follow the cited molar mass and unit definitions, both ways."""
    check_conversion_both_ways(row)


@given(value=st.floats(min_value=0.01, max_value=1e4, allow_nan=False))
@settings(max_examples=50, deadline=None)
def test_mass_and_substance_round_trip(value: float) -> None:
    """MCH (pg <-> fmol) and MCHC (g/dL <-> mmol/L) convert back to the value given."""
    for analyte, a, b in (("mch", "pg", "fmol"), ("mchc", "g/dL", "mmol/L")):
        there = labinterp.convert(value, a, b, analyte=analyte)
        assert math.isclose(labinterp.convert(there, b, a, analyte=analyte), value, rel_tol=1e-9)


@pytest.mark.parametrize("analyte", ANALYTES)
def test_every_name_and_code_identifies_the_analyte(analyte: str) -> None:
    """Each listed alias (any case) and code points to its analyte and to no other."""
    spec = catalogue.get_analyte(analyte)
    assert spec.aliases
    for name in spec.aliases:
        assert catalogue.lookup_name(name) == analyte, name
        assert catalogue.lookup_name(name.upper()) == analyte, name
    for code in spec.codes:
        assert catalogue.lookup_code(code) == analyte, code


@pytest.mark.parametrize(
    ("name", "analyte"),
    [
        ("B-Erytrocytter", "erythrocytes"),
        ("B-EPK", "erythrocytes"),
        ("Erythrocytes [#/volume] in Blood", "erythrocytes"),
        ("RBC", "erythrocytes"),
        ("Red Blood Cells", "erythrocytes"),
        ("B-Hematokrit", "hematocrit"),
        ("B-EVF", "hematocrit"),
        ("Hematocrit [Volume Fraction] of Blood", "hematocrit"),
        ("Hematocrit", "hematocrit"),
        ("MCH", "mch"),
        ("MCHC", "mchc"),
        ("RDW", "rdw"),
    ],
)
def test_names_as_nordic_and_us_labs_print_them(name: str, analyte: str) -> None:
    """The task's examples and the sample exports' labels (MIMIC-IV, Synthea) are recognised."""
    assert catalogue.lookup_name(name) == analyte


def test_rdw_sd_is_not_taken_for_rdw() -> None:
    """RDW-SD (fL) is another quantity than RDW-CV (%): its names are not RDW's."""
    assert catalogue.lookup_name("RDW-SD") != "rdw"
    assert catalogue.lookup_code("21000-5") != "rdw"
    assert catalogue.lookup_code("788-0") == "rdw"


@pytest.mark.parametrize("lang", LANGS)
def test_texts_exist_for_both_audiences(lang: str) -> None:
    """About and flag texts in every language, each with sources."""
    texts = catalogue.text_catalogue(lang)
    keys = [f"{a}.about" for a in ANALYTES]
    keys += [f"{a}.flag.{f}" for a in ANALYTES for f in ("N", "L", "H", "LL", "HH")]
    for key in keys:
        for audience in ("patient", "clinician"):
            entry = texts[f"{key}.{audience}"]
            assert entry.text.strip() and entry.sources, (key, audience)
    assert all(f"name.analyte.{a}" in texts for a in ANALYTES)


def test_a_percent_haematocrit_is_read_as_the_fraction_it_is() -> None:
    """42 % is 0.42 L/L: a fraction's units convert (a man's NORIP 0.40-0.50: N)."""
    finding = labinterp.interpret_one("hematocrit", "42", "%", sex="male", age_years=40)
    assert finding.status == "ok"
    assert finding.value_canonical == pytest.approx(0.42)
    assert finding.flag == "N"
