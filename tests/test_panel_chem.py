"""Chloride, bicarbonate (total CO2), urea and total protein.

Flags and conversions from the cited laboratory handbooks and factors
(``tests/vectors/panel_chem.csv``, each row tagged with its source and locator);
names and codes as Nordic and US laboratories print them; texts in every language.
"""

from __future__ import annotations

import math

import pytest

import labinterp
from labinterp import catalogue
from tests.conftest import check_printed_conversion, interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_chem.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]
CHEM = ("chloride", "bicarbonate", "urea", "total_protein")


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_at_the_cited_limits(row: dict[str, str]) -> None:
    """At a printed limit: normal; just outside: flagged."""
    finding = interpret_vector(row)
    assert finding.status == "ok"
    assert finding.flag == row["expected"]


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_published_conversion_factors(row: dict[str, str]) -> None:
    """Converted values equal the published factor to the digits it is printed with."""
    check_printed_conversion(row)


def test_urea_round_trip_and_factor() -> None:
    """mmol/L urea -> mg/dL urea nitrogen -> mmol/L gives the value back; the factor is 2.8."""
    there = labinterp.convert(5.0, "mmol/L", "mg/dL", analyte="urea")
    assert round(there / 5.0, 1) == 2.8
    assert math.isclose(labinterp.convert(there, "mg/dL", "mmol/L", analyte="urea"), 5.0)


#: Names and codes as the cited laboratories print them (sources.toml notes quote them).
PRINTED = {
    "chloride": [
        "S-Klorid",  # Chem_Furst_Klorid
        "P-Klorid",  # Chem_Furst_Klorid
        "S-KLOR",  # Chem_Furst_Klorid
        "NPU01536",  # Chem_Furst_Klorid
        "Chloride, S",  # Chem_Mayo_CL
        "2075-0",  # Chem_Mayo_CL
        "Chloride",  # MIMIC-IV d_labitems 50902; Synthea display
    ],
    "bicarbonate": [
        "S-Bikarbonat (total CO2)",  # Chem_HMR_Bikarbonat
        "Bicarbonate, S",  # Chem_Mayo_HCO3
        "Carbon Dioxide, Plasma or Serum",  # Chem_Mayo_HCO3
        "1963-8",  # Chem_Mayo_HCO3
        "2028-9",  # Chem_UMich_CO2
        "Bicarbonate",  # MIMIC-IV d_labitems 50882
        "Carbon Dioxide",  # Synthea display
    ],
    "urea": [
        "P-Karbamid",  # Chem_LHB_Karbamid
        "NPU01459",  # Chem_LHB_Karbamid
        "S-Urinstoff (Urea)",  # Chem_Unilabs_Urea
        "P-Urea",  # Chem_Karolinska_Urea
        "Bld Urea Nitrog (BUN), S",  # Chem_Mayo_BUN
        "3094-0",  # Chem_Mayo_BUN
        "Urea Nitrogen",  # MIMIC-IV d_labitems 51006; Synthea display
    ],
    "total_protein": [
        "Protein (total)",  # Chem_SiV_Protein
        "Protein, Total, S",  # Chem_Mayo_TP
        "Protein, Total",  # MIMIC-IV d_labitems 50976
        "Protein [Mass/volume] in Serum or Plasma",  # Synthea display
        "2885-2",  # Synthea code
    ],
}


@pytest.mark.parametrize("analyte", CHEM)
def test_printed_names_and_codes_identify_the_analyte(analyte: str) -> None:
    """Each name and code a cited laboratory prints identifies the analyte."""
    for text in PRINTED[analyte]:
        assert labinterp.interpret_one(text, "1", "mmol/L").analyte == analyte, text


@pytest.mark.parametrize("analyte", CHEM)
def test_every_listed_name_and_code_identifies_the_analyte(analyte: str) -> None:
    """Every alias and code in analytes.toml leads to the analyte."""
    spec = catalogue.get_analyte(analyte)
    for text in (*spec.aliases, *spec.codes):
        assert labinterp.interpret_one(text, "1", "mmol/L").analyte == analyte, text


def test_whole_blood_codes_are_not_mapped() -> None:
    """Synthea's whole-blood LOINC codes are not taken for the serum/plasma analytes."""
    codes = {c for a in CHEM for c in catalogue.get_analyte(a).codes}
    assert not {"2069-3", "20565-8", "6299-2"} & codes


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_texts_in_every_language_and_audience(lang: str, audience: str) -> None:
    """About and flag texts and names exist; the about, N, L and H texts cite sources."""
    texts = catalogue.text_catalogue(lang)
    for analyte in CHEM:
        for part in ("about", "flag.N", "flag.L", "flag.H"):
            entry = texts[f"{analyte}.{part}.{audience}"]
            assert entry.text and entry.sources, (analyte, part)
        for part in ("flag.LL", "flag.HH"):
            assert texts[f"{analyte}.{part}.{audience}"].text, (analyte, part)
        assert texts[f"name.analyte.{analyte}"].text


def test_every_profile_reports_the_analytes() -> None:
    """Nordic profiles report SI units; the US profile BUN in mg/dL and protein in g/dL."""
    for name in ("no", "se", "dk"):
        units = catalogue.get_profile(name).units
        assert [units[a] for a in CHEM] == ["mmol/L", "mmol/L", "mmol/L", "g/L"]
    us = catalogue.get_profile("us").units
    assert [us[a] for a in CHEM] == ["mmol/L", "mmol/L", "mg/dL", "g/dL"]


def test_urea_has_no_nordic_range_for_children() -> None:
    """No cited Nordic source covers children: the engine says there is no range."""
    finding = labinterp.interpret_one("urea", "4.0", "mmol/L", sex="F", age_years=10, profile="no")
    assert finding.flag is None
    assert finding.status == "no_reference"
