"""The liver panel (ALT, AST, GGT, ALP, bilirubin), urate and CK: data only.

Flags at and just beyond the cited limits (NORIP via the Unilabs table, Swedish µkat/L
limits, Mayo Clinic Laboratories), unit conversions from the cited molar masses and the
katal, every listed name and code, the texts, and the exercise caveat (Pettersson 2008).
Each vector row in ``tests/vectors/panel_liver.csv`` names its source and locator.
"""

from __future__ import annotations

import pytest

import labinterp
from labinterp import catalogue

from .conftest import interpret_vector, load_vectors, vector_id

KEYS = ("alt", "ast", "ggt", "alp", "bilirubin", "urate", "ck")
VECTORS = load_vectors("panel_liver.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]
CONVERSIONS = [r for r in VECTORS if r["kind"] == "convert"]
LANGS = ("en", "nb", "sv")


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_at_the_cited_limits(row: dict[str, str]) -> None:
    """A value at a limit is inside it unless the source prints '<'; one step beyond is out."""
    finding = interpret_vector(row)
    assert finding.status.value == "ok"
    assert finding.flag is not None and finding.flag.value == row["expected"]


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_conversions(row: dict[str, str]) -> None:
    """µkat/L and U/L differ by 60; mass and substance by the cited molar masses."""
    got = labinterp.convert(
        float(row["value"]), row["unit"], row["to_unit"], analyte=row["analyte"]
    )
    assert round(got, _decimals(row["expected"])) == float(row["expected"])


def test_every_analyte_has_flag_and_conversion_vectors() -> None:
    """Each new analyte has vectors in the Nordic and the US catalogue."""
    for key in KEYS:
        profiles = {r["profile"] for r in FLAGS if r["analyte"] == key}
        assert {"no", "us"} <= profiles, key
    assert {r["analyte"] for r in CONVERSIONS} >= {"alt", "ck", "bilirubin", "urate"}


@pytest.mark.parametrize("key", KEYS)
def test_every_listed_name_and_code_identifies_the_analyte(key: str) -> None:
    """Aliases, display names and LOINC/NPU/NLK codes all resolve to the analyte."""
    spec = catalogue.get_analyte(key)
    names = (*spec.aliases, *spec.codes, *spec.display.values(), key)
    assert spec.aliases and spec.loinc and spec.npu
    for name in names:
        assert labinterp.interpret_one(name, "1", spec.unit or "").analyte == key, name


@pytest.mark.parametrize("key", KEYS)
def test_every_profile_reports_the_analyte(key: str) -> None:
    """Sweden reports the enzymes in µkat/L, the US bilirubin and urate in mg/dL."""
    units = {name: catalogue.get_profile(name).units[key] for name in ("no", "se", "dk", "us")}
    enzyme = catalogue.get_analyte(key).dimension == "catalytic_concentration"
    assert units["se"] == ("ukat/L" if enzyme else "umol/L")
    assert units["us"] == ("U/L" if enzyme else "mg/dL")
    assert units["no"] == units["dk"] == ("U/L" if enzyme else "umol/L")


@pytest.mark.parametrize("lang", LANGS)
def test_texts_exist_for_both_audiences(lang: str) -> None:
    """About and flag texts, caveats and names in en/nb/sv, each text citing a source key."""
    texts = catalogue.text_catalogue(lang)
    sources = set(catalogue.sources())
    for key in KEYS:
        assert f"name.analyte.{key}" in texts
        for part in ("about", "flag.N", "flag.L", "flag.H", "flag.LL", "flag.HH"):
            for audience in ("patient", "clinician"):
                entry = texts[f"{key}.{part}.{audience}"]
                assert entry.text and set(entry.sources) <= sources
        assert texts[f"{key}.about.patient"].sources
    for rule in ("alt_exercise_ck", "ast_exercise_ck"):
        for audience in ("patient", "clinician"):
            assert "Liv_Pettersson2008" in texts[f"caveat.{rule}.{audience}"].sources


@pytest.mark.parametrize("enzyme", ["alt", "ast"])
def test_exercise_caveat_needs_a_high_ck_in_the_same_sample(enzyme: str) -> None:
    """Pettersson 2008: after weightlifting ALT and AST rise with CK for at least 7 days."""
    caveat = catalogue.text_catalogue("en")[f"caveat.{enzyme}_exercise_ck.patient"].text
    high = {"analyte": enzyme, "value": "90", "unit": "U/L"}
    with_high_ck = labinterp.interpret_panel(
        [high, {"analyte": "ck", "value": "2500", "unit": "U/L"}], sex="male", age_years=30
    )
    with_normal_ck = labinterp.interpret_panel(
        [high, {"analyte": "ck", "value": "200", "unit": "U/L"}], sex="male", age_years=30
    )
    normal = labinterp.interpret_panel(
        [
            {"analyte": enzyme, "value": "20", "unit": "U/L"},
            {"analyte": "ck", "value": "2500", "unit": "U/L"},
        ],
        sex="male",
        age_years=30,
    )
    assert with_high_ck[0].flag is not None and with_high_ck[0].flag.value == "H"
    assert caveat in with_high_ck[0].caveats
    assert caveat not in with_normal_ck[0].caveats
    assert caveat not in normal[0].caveats


def test_exercise_caveat_is_not_attached_to_ggt() -> None:
    """GGT stays normal after weightlifting (Pettersson 2008): the rule is for ALT and AST."""
    panel = labinterp.interpret_panel(
        [
            {"analyte": "ggt", "value": "200", "unit": "U/L"},
            {"analyte": "ck", "value": "2500", "unit": "U/L"},
        ],
        sex="male",
        age_years=30,
    )
    texts = catalogue.text_catalogue("en")
    for rule in ("alt_exercise_ck", "ast_exercise_ck"):
        assert texts[f"caveat.{rule}.patient"].text not in panel[0].caveats


def test_swedish_results_use_the_swedish_printed_limits() -> None:
    """A male ALT of 1.15 µkat/L (69 U/L) is H against 1.10 µkat/L, N against 70 U/L."""
    swedish = labinterp.interpret_one("P-ALAT", "1,15", "µkat/L", sex="M", age_years=40)
    norwegian = labinterp.interpret_one("S-ALAT", "69", "U/L", sex="M", age_years=40)
    assert swedish.flag is not None and swedish.flag.value == "H"
    assert norwegian.flag is not None and norwegian.flag.value == "N"
