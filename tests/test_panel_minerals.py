"""Minerals: sodium, potassium, calcium (total and albumin-corrected), phosphate.

Flags and conversions from the cited laboratory handbooks and factors
(``tests/vectors/panel_minerals.csv``, each row tagged with its source and locator);
names and codes as Nordic and US laboratories print them; texts in every language;
the potassium sample-handling and calcium-with-low-albumin caveats.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from tests.conftest import check_printed_conversion, interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_minerals.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]
MINERALS = ("sodium", "potassium", "calcium", "calcium_albumin_corrected", "phosphate")


def _flag_params() -> list[object]:
    """Every flag vector; those with ``specimen_rows`` need the serum or plasma row."""
    return [pytest.param(r, id=vector_id(r)) for r in FLAGS]


@pytest.mark.parametrize("row", _flag_params())
def test_flags_at_the_cited_limits(row: dict[str, str]) -> None:
    """At a printed limit: normal; just outside: flagged; beyond a phone limit: critical."""
    finding = interpret_vector(row)
    assert finding.status == "ok"
    assert finding.flag == row["expected"]


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_published_conversion_factors(row: dict[str, str]) -> None:
    """Converted values equal the published factor to the digits it is printed with."""
    check_printed_conversion(row)


def test_conversions_round_trip() -> None:
    """mmol/L -> mg/dL -> mmol/L gives the value back for calcium and phosphate."""
    for analyte in ("calcium", "calcium_albumin_corrected", "phosphate"):
        there = labinterp.convert(2.37, "mmol/L", "mg/dL", analyte=analyte)
        assert math.isclose(labinterp.convert(there, "mg/dL", "mmol/L", analyte=analyte), 2.37)


#: Names and codes as the cited laboratories print them (sources.toml notes quote them).
PRINTED = {
    "sodium": [
        "S-Natrium",  # Min_Furst_SNatrium
        "P-Natrium",  # Min_LHB_Natrium
        "NOR25613",  # Min_Furst_SNatrium
        "NPU03429",  # Min_LHB_Natrium
        "2951-2",  # Min_Mayo_NAS
        "Sodium, S",  # Min_Mayo_NAS
        "Sodium",  # MIMIC-IV d_labitems 50983
    ],
    "potassium": [
        "S-Kalium",  # Min_Furst_SKalium
        "P-Kalium",  # Min_LHB_Kalium, Min_Karolinska_PKalium
        "Kalium;P",  # Min_Sundhed_Kalium
        "P—Kalium-ion; stofk. = ? mmol/l",  # Min_Sundhed_Kalium
        "NOR25614",  # Min_Furst_SKalium
        "NPU03230",  # Min_Sundhed_Kalium
        "2823-3",  # Min_Mayo_KCCL, Min_Mayo_KPS
        "Potassium, P",  # Min_Mayo_KPS
        "Potassium",  # MIMIC-IV d_labitems 50971
    ],
    "calcium": [
        "S-Calsium",  # Min_Unilabs_Referanseverdier
        "P-Calcium",  # Min_Karolinska_PCalcium
        "Calcium;P",  # Min_RegionSjaelland_Calcium
        "NPU01443",  # Min_SUS_Kalsium, Min_RegionSjaelland_Calcium
        "17861-6",  # MIMIC-IV LOINC map, Min_MedPage_SerumCalcium
        "2000-8",  # Min_MedPage_SerumCalcium
        "Calcium, Total",  # MIMIC-IV d_labitems 50893
        "Calcium, Total, S",  # Min_Mayo_CA
    ],
    "calcium_albumin_corrected": [
        "P-Kalsium (albuminkorrigert)",
        "P-Kalsium albkorr.",  # Min_Furst_KalsiumKorrigertOld
        "P-Kalsium alb.korr.",  # Min_Furst_KalsiumKorrigert
        "S-Kalsium korrigert",
        "S-Calsium korrigert",  # Min_Unilabs_Referanseverdier
        "Ca-korr",
        "KALSKORR",  # Min_Furst_KalsiumKorrigert
        "Calcium (albuminkorrigeret);P",  # Min_RegionSjaelland_CalciumKorr
        "Calcium corrected for albumin",
        "NOR15246",  # Min_Furst_KalsiumKorrigertOld, Min_SUS_KalsiumKorrigert
        "NPU04169",  # Min_Furst_KalsiumKorrigert, Min_RegionSjaelland_CalciumKorr
    ],
    "phosphate": [
        "S-Fosfat",
        "P-Fosfat (uorg)",  # Min_LHB_Fosfat
        "NPU03096",  # Min_SUS_Fosfat, Min_NEL_Fosfat
        "2777-1",  # Min_Mayo_PHOS
        "Phosphorus (Inorganic), S",  # Min_Mayo_PHOS
        "Phosphate",  # MIMIC-IV d_labitems 50970
    ],
}


@pytest.mark.parametrize("analyte", MINERALS)
def test_printed_names_and_codes_identify_the_analyte(analyte: str) -> None:
    """Each name and code a cited laboratory prints identifies the analyte."""
    for text in PRINTED[analyte]:
        assert labinterp.interpret_one(text, "1", "mmol/L").analyte == analyte, text


@pytest.mark.parametrize("analyte", MINERALS)
def test_every_listed_name_and_code_identifies_the_analyte(analyte: str) -> None:
    """Every alias and code in analytes.toml (and the specimen lists) leads to the analyte."""
    spec = catalogue.get_analyte(analyte)
    for text in (*spec.aliases, *spec.codes):
        assert labinterp.interpret_one(text, "1", "mmol/L").analyte == analyte, text
    said = {t for texts in spec.specimens.values() for t in texts}
    assert said <= set(spec.aliases) | set(spec.codes)


def test_potassium_names_that_say_the_specimen() -> None:
    """S-Kalium says serum, Plasma-kalium plasma; P-Kalium does not (Norway uses it for serum)."""
    specimens = catalogue.get_analyte("potassium").specimens
    assert "S-Kalium" in specimens["serum"] and "NOR25614" in specimens["serum"]
    assert "Plasma-kalium" in specimens["plasma"]
    assert all("P-Kalium" not in names for names in specimens.values())
    rows = [r for r in catalogue.load_range_catalogue("nordic").ranges if r.analyte == "potassium"]
    limits = {r.specimen: (r.low, r.high) for r in rows if r.age_min == 18}
    assert limits == {"serum_plasma": (3.5, 4.6), "serum": (3.6, 4.6), "plasma": (3.5, 4.4)}


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_texts_in_every_language_and_audience(lang: str, audience: str) -> None:
    """About and flag texts, names and caveats exist and cite sources."""
    texts = catalogue.text_catalogue(lang)
    for analyte in MINERALS:
        for part in ("about", "flag.N", "flag.L", "flag.H", "flag.LL", "flag.HH"):
            entry = texts[f"{analyte}.{part}.{audience}"]
            assert entry.text and entry.sources, (analyte, part)
        assert texts[f"name.analyte.{analyte}"].text
    for rule in ("k_sample_handling", "ca_low_albumin"):
        assert texts[f"caveat.{rule}.{audience}"].sources


def test_every_profile_reports_the_minerals() -> None:
    """Nordic profiles report mmol/L; the US profile mg/dL for calcium and phosphate."""
    for name in ("no", "se", "dk"):
        units = catalogue.get_profile(name).units
        assert {units[a] for a in MINERALS} == {"mmol/L"}
    us = catalogue.get_profile("us").units
    assert (us["sodium"], us["potassium"], us["calcium"], us["phosphate"]) == (
        "mmol/L",
        "mmol/L",
        "mg/dL",
        "mg/dL",
    )


def test_corrected_calcium_has_no_us_range() -> None:
    """No US interval was cited for a corrected calcium: the engine says there is none."""
    finding = labinterp.interpret_one(
        "calcium_albumin_corrected", "9.0", "mg/dL", age_years=40, profile="us"
    )
    assert finding.flag is None
    assert finding.status == "no_reference"


BASE = {"patient_id": "p1", "collected_at": "2026-01-15 08:00", "sex": "F", "age_years": 50}


def _rules(rows: list[dict[str, str]], analyte: str) -> set[str]:
    out = labinterp.interpret(pd.DataFrame([{**BASE, **r} for r in rows]))
    cell = out.loc[out["analyte"] == analyte, "caveat_rules"].iloc[0]
    return set(cell.split("; ")) if isinstance(cell, str) else set()


def test_high_potassium_gets_the_sample_handling_caveat() -> None:
    """A high potassium may come from haemolysis or a delayed sample; a normal one has no caveat."""
    high = [{"analyte": "S-Kalium", "raw_value": "5,4", "raw_unit": "mmol/L"}]
    normal = [{"analyte": "S-Kalium", "raw_value": "4,0", "raw_unit": "mmol/L"}]
    assert "k_sample_handling" in _rules(high, "potassium")
    assert "k_sample_handling" not in _rules(normal, "potassium")


@pytest.mark.parametrize("calcium", ["2,05", "2,70"])
def test_calcium_with_low_albumin_gets_the_albumin_caveat(calcium: str) -> None:
    """A low or high calcium beside a low albumin gets the caveat; a normal albumin does not."""
    ca = {"analyte": "S-Kalsium", "raw_value": calcium, "raw_unit": "mmol/L"}
    low_alb = {"analyte": "albumin", "raw_value": "28", "raw_unit": "g/L"}
    normal_alb = {"analyte": "albumin", "raw_value": "40", "raw_unit": "g/L"}
    assert "ca_low_albumin" in _rules([ca, low_alb], "calcium")
    assert "ca_low_albumin" not in _rules([ca, normal_alb], "calcium")
    normal_ca = {**ca, "raw_value": "2,30"}
    assert "ca_low_albumin" not in _rules([normal_ca, low_alb], "calcium")
