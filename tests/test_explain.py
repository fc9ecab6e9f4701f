"""Explanations in three languages and two audiences, and the context rules."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.catalogue import AUDIENCES, rules
from labinterp.errors import CatalogueError
from labinterp.steps.state import NOTE_IDS

from .conftest import ROOT

TEXT_DIR = ROOT / "src" / "labinterp" / "data" / "text"
#: Every shipped language is held to the same completeness tests.
LANGS = sorted(p.stem for p in TEXT_DIR.glob("*.toml"))
TRANSLATIONS = [lang for lang in LANGS if lang != "en"]


def _leaves(node: dict, prefix: str = "") -> dict[str, dict]:
    out: dict[str, dict] = {}
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and "text" in value:
            out[path] = value
        elif isinstance(value, dict):
            out |= _leaves(value, path)
    return out


def _required_keys() -> set[str]:
    keys = {f"_flag.{f}" for f in ("N", "L", "H", "LL", "HH")}
    for analyte, spec in catalogue.analytes().items():
        keys.add(f"{analyte}.about")
        if spec.specimen != "calculated":  # assessments (steps/kidney) have no range or flag
            keys |= {f"{analyte}.flag.{f}" for f in ("N", "L", "H")}
    for scheme in catalogue.schemes().values():
        keys |= {f"category.{scheme.name}.{label}" for label in scheme.labels}
    keys |= {f"caveat.{rule.id}" for rule in rules()}
    keys |= {f"note.{note}" for note in NOTE_IDS}
    return keys


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_in_every_language_and_audience(lang: str) -> None:
    """Each language has every analyte, flag, category and caveat text for both audiences."""
    texts = catalogue.text_catalogue(lang)
    missing = [
        f"{k}.{a}" for k in sorted(_required_keys()) for a in AUDIENCES if f"{k}.{a}" not in texts
    ]
    assert missing == []


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translations_have_the_same_keys_and_sources_as_english(lang: str) -> None:
    """Translations mirror the English catalogue key for key, citing the same sources."""
    english = _leaves(tomllib.loads((TEXT_DIR / "en.toml").read_text(encoding="utf-8")))
    other = _leaves(tomllib.loads((TEXT_DIR / f"{lang}.toml").read_text(encoding="utf-8")))
    assert set(other) == set(english)
    assert {k: v["sources"] for k, v in other.items()} == {
        k: v["sources"] for k, v in english.items()
    }


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_are_only_the_known_ones(lang: str) -> None:
    """Texts use only the placeholders the code fills (catalogue.TEXT_PLACEHOLDERS).

    Problem sentences name their own (tests/test_problems.py holds them to English's).
    """
    import re

    for key, entry in catalogue.text_catalogue(lang).items():
        if key.startswith("problem."):
            continue
        assert set(re.findall(r"\{(\w+)\}", entry.text)) <= catalogue.TEXT_PLACEHOLDERS, key


def test_unknown_language_or_audience_is_a_clear_error() -> None:
    """An unknown language or audience names the available ones."""
    with pytest.raises(CatalogueError, match=f"available: {', '.join(LANGS)}"):
        labinterp.interpret_one("magnesium", "0,8", "mmol/L", lang="de")
    with pytest.raises(CatalogueError, match="patient, clinician"):
        labinterp.interpret_one("magnesium", "0,8", "mmol/L", audience="nurse")


@pytest.mark.parametrize(("lang", "audience"), [(lang, a) for lang in LANGS for a in AUDIENCES])
def test_explanations_render_in_each_language_and_audience(lang: str, audience: str) -> None:
    """A magnesium result is explained in the chosen language and audience, never empty."""
    finding = labinterp.interpret_one(
        "magnesium", "0,62", "mmol/L", age_years=50, lang=lang, audience=audience
    )
    texts = catalogue.text_catalogue(lang)
    assert texts[f"magnesium.flag.L.{audience}"].text in (finding.explanation or "")
    assert finding.sources and finding.caveats


def test_missing_translation_falls_back_to_english_with_a_warning(monkeypatch) -> None:
    """A key missing in a language is taken from English, with a LabinterpWarning."""
    real = catalogue.text_catalogue.__wrapped__
    partial = dict(real("en"))
    del partial["magnesium.about.patient"]
    monkeypatch.setattr(
        catalogue, "text_catalogue", lambda code: partial if code == "xx" else real(code)
    )
    with pytest.warns(labinterp.LabinterpWarning, match="missing in language 'xx'"):
        finding = labinterp.interpret_one("magnesium", "0,8", "mmol/L", age_years=50, lang="xx")
    english = real("en")["magnesium.about.patient"].text
    assert english in (finding.explanation or "")


BASE = {"patient_id": "p1", "collected_at": "2026-01-15 08:00", "sex": "F", "age_years": 50}


def _rules_for(rows: list[dict[str, object]], analyte: str, **options: object) -> set[str]:
    out = labinterp.interpret(pd.DataFrame([{**BASE, **r} for r in rows]), **options)  # type: ignore[arg-type]
    cell = out.loc[out["analyte"] == analyte, "caveat_rules"].iloc[0]
    return set(cell.split("; ")) if isinstance(cell, str) else set()


MG = {"analyte": "magnesium", "raw_value": "0,80", "raw_unit": "mmol/L"}
MG_HIGH = {**MG, "raw_value": "1,20"}


@pytest.mark.parametrize(
    ("rule", "triggering", "not_triggering", "analyte"),
    [
        (
            "mg_serum_fraction",
            [MG],
            [{"analyte": "ferritin", "raw_value": "50", "raw_unit": "ug/L"}],
            "magnesium",
        ),
        ("mg_haemolysis", [MG_HIGH], [MG], "magnesium"),
        (
            "mg_low_albumin",
            [MG, {"analyte": "albumin", "raw_value": "25", "raw_unit": "g/L"}],
            [MG, {"analyte": "albumin", "raw_value": "42", "raw_unit": "g/L"}],
            "magnesium",
        ),
        (
            "mg_kidney",
            [MG_HIGH, {"analyte": "egfr", "raw_value": "25", "raw_unit": "mL/min/1.73m2"}],
            [MG_HIGH, {"analyte": "egfr", "raw_value": "75", "raw_unit": "mL/min/1.73m2"}],
            "magnesium",
        ),
        (
            "ferritin_inflammation",
            [
                {"analyte": "ferritin", "raw_value": "50", "raw_unit": "ug/L"},
                {"analyte": "crp", "raw_value": "40", "raw_unit": "mg/L"},
            ],
            [
                {"analyte": "ferritin", "raw_value": "50", "raw_unit": "ug/L"},
                {"analyte": "crp", "raw_value": "2", "raw_unit": "mg/L"},
            ],
            "ferritin",
        ),
        (
            "hba1c_anaemia",
            [
                {"analyte": "hba1c", "raw_value": "44", "raw_unit": "mmol/mol"},
                {"analyte": "hemoglobin", "raw_value": "9,0", "raw_unit": "g/dL"},
            ],
            [
                {"analyte": "hba1c", "raw_value": "44", "raw_unit": "mmol/mol"},
                {"analyte": "hemoglobin", "raw_value": "13,5", "raw_unit": "g/dL"},
            ],
            "hba1c",
        ),
        (
            "hba1c_kidney",
            [
                {"analyte": "hba1c", "raw_value": "44", "raw_unit": "mmol/mol"},
                {"analyte": "egfr", "raw_value": "20", "raw_unit": "mL/min/1.73m2"},
            ],
            [
                {"analyte": "hba1c", "raw_value": "44", "raw_unit": "mmol/mol"},
                {"analyte": "egfr", "raw_value": "80", "raw_unit": "mL/min/1.73m2"},
            ],
            "hba1c",
        ),
        (
            "creatinine_confounders",
            [{"analyte": "creatinine", "raw_value": "80", "raw_unit": "umol/L"}],
            [MG],
            "creatinine",
        ),
    ],
)
def test_context_rules(rule: str, triggering: list, not_triggering: list, analyte: str) -> None:
    """Each rule fires on a panel that meets its condition and not on one that does not."""
    assert rule in _rules_for(triggering, analyte)
    if any(r.get("analyte") == analyte for r in not_triggering):
        assert rule not in _rules_for(not_triggering, analyte)


def test_sample_sets_are_per_patient_and_time() -> None:
    """A low albumin of another patient or another time does not touch this magnesium."""
    rows = [MG, {"analyte": "albumin", "raw_value": "25", "raw_unit": "g/L", "patient_id": "p2"}]
    assert "mg_low_albumin" not in _rules_for(rows, "magnesium")


def test_egfr_rules() -> None:
    """Derived eGFR names its equation; ages outside 18-70 carry the validation caveat."""
    crea = {"analyte": "creatinine", "raw_value": "80", "raw_unit": "umol/L"}
    out = labinterp.interpret(pd.DataFrame([{**BASE, **crea, "age_years": 75}]))
    derived = out[out["status"] == "derived"].iloc[0]
    assert {"egfr_equation", "egfr_age"} <= set(derived["caveat_rules"].split("; "))
    assert "CKD-EPI 2009" in derived["caveats"]
    young = labinterp.interpret(pd.DataFrame([{**BASE, **crea, "age_years": 40}]))
    assert "egfr_age" not in young[young["status"] == "derived"].iloc[0]["caveat_rules"]


def test_vitamin_d_season() -> None:
    """A Nordic vitamin D sample from winter or early spring says so; one from August does not."""
    vitd = {"analyte": "vitamin_d_25oh", "raw_value": "45", "raw_unit": "nmol/L"}
    assert "vitd_season" in _rules_for([vitd], "vitamin_d_25oh")
    summer = {**vitd, "collected_at": "2026-08-20 09:00"}
    assert "vitd_season" not in _rules_for([summer], "vitamin_d_25oh")
    assert "vitd_season" not in _rules_for([vitd], "vitamin_d_25oh", profile="us")


def test_range_provenance_rules() -> None:
    """The caveats say whether the lab's range or the catalogue's was used, or none."""
    assert "range_lab" in _rules_for([{**MG, "lab_reference_text": "0,70 - 1,00"}], "magnesium")
    assert "range_catalogue" in _rules_for([MG], "magnesium")
    assert "range_missing" in _rules_for([{**MG, "age_years": None}], "magnesium")


def test_finding_lists_sources_and_caveats() -> None:
    """Finding.sources and Finding.caveats are lists clinic software can show."""
    finding = labinterp.interpret_one("S-Magnesium", "0,62", "mmol/L", sex="K", age_years=54)
    assert isinstance(finding.caveats, tuple) and len(finding.caveats) >= 2
    assert set(finding.sources) <= set(labinterp.sources())


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_cli_translated_output(tmp_path, lang: str) -> None:
    """The CLI writes explanations in the chosen language (--lang nb, --lang sv)."""
    from typer.testing import CliRunner

    from labinterp.cli import app

    out = tmp_path / f"{lang}.csv"
    example = str(ROOT / "examples" / "nordic_export.csv")
    result = CliRunner().invoke(app, ["interpret", example, "--lang", lang, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = pd.read_csv(out)["explanation"].dropna().iloc[0]
    assert any(e.text in text for e in catalogue.text_catalogue(lang).values())


def _catalogue_text(lang: str) -> dict[str, dict]:
    with (TEXT_DIR / f"{lang}.toml").open("rb") as fh:
        return _leaves(tomllib.load(fh))


#: Magnesium entries whose clinician text states where body magnesium is.
MG_DISTRIBUTION_KEYS = ("magnesium.about", "magnesium.flag.N", "caveat.mg_serum_fraction")
#: "extracellular" in each language (Jahnen-Dechent2012: about 1 % of body Mg).
EXTRACELLULAR = {"en": "extracellular", "nb": "ekstracellulært", "sv": "extracellulärt"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", MG_DISTRIBUTION_KEYS)
def test_mg_clinician_text_one_percent_is_extracellular(lang: str, key: str) -> None:
    """About 1 % of body Mg is extracellular, about 0.3 % in serum (Jahnen-Dechent2012, Elin1987).

    Serum is never said to hold 1 % of body magnesium.
    """
    entry = _catalogue_text(lang)[f"{key}.clinician"]
    text = entry["text"]
    assert EXTRACELLULAR[lang] in text
    assert "0.3 %" in text or "0,3 %" in text
    wrong = ("serum holds about 1 %", "serum inneholder ca. 1 %", "serum innehåller omkring 1 %")
    assert not any(w in text for w in wrong)
    assert not text.startswith(("Serum Mg reflects about 1", "S-Mg"))
    assert {"Jahnen-Dechent2012", "Elin1987"} <= set(entry["sources"])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", ["magnesium.about", "caveat.mg_serum_fraction"])
def test_mg_patient_text_keeps_one_percent_outside_cells(lang: str, key: str) -> None:
    """The patient texts place the 1 % in the blood and other body fluids, not in serum alone."""
    text = _catalogue_text(lang)[f"{key}.patient"]["text"]
    assert "1 %" in text
    assert "serum" not in text.lower()


#: "age and sex" in each language; the bedside Schwartz equation uses neither (Schwartz2009).
AGE_AND_SEX = {"en": "age and sex", "nb": "alder og kjønn", "sv": "ålder och kön"}
HEIGHT = {"en": "height", "nb": "høyde", "sv": "längd"}


@pytest.mark.parametrize("lang", LANGS)
def test_equation_caveat_says_schwartz_uses_creatinine_and_height(lang: str) -> None:
    """The equation caveat does not say every eGFR is based on creatinine, age and sex.

    Bedside Schwartz (Schwartz2009) is eGFR = 0.413 × height / creatinine: no sex, no age.
    """
    entries = _catalogue_text(lang)
    caveat = entries["caveat.egfr_equation.patient"]
    creatinine = "creatinine" if lang == "en" else "kreatinin"
    assert f"{creatinine}, {AGE_AND_SEX[lang]}" not in caveat["text"]
    assert "Schwartz" in caveat["text"] and HEIGHT[lang] in caveat["text"]
    assert "Schwartz2009" in caveat["sources"]
    for audience in AUDIENCES:
        name = entries[f"equation.egfr_schwartz_bedside.{audience}"]["text"]
        assert HEIGHT[lang] in name and AGE_AND_SEX[lang] not in name


@pytest.mark.parametrize("lang", LANGS)
def test_schwartz_row_explanation_does_not_claim_sex(lang: str) -> None:
    """A child's derived bedside-Schwartz eGFR is never described as based on sex."""
    rows = pd.DataFrame(
        [
            {
                "analyte": "creatinine",
                "raw_value": "45",
                "raw_unit": "umol/L",
                "sex": "K",
                "age_years": 8,
                "height_cm": 128,
            }
        ]
    )
    out = labinterp.interpret(rows, lang=lang)
    derived = out[out["status"] == "derived"]
    assert derived["equation"].tolist() == ["egfr_schwartz_bedside"]
    caveats = str(derived["caveats"].iloc[0])
    assert "Schwartz" in caveats
    assert f"kreatinin, {AGE_AND_SEX[lang]}" not in caveats
    assert f"creatinine, {AGE_AND_SEX[lang]}" not in caveats


AGE_WORD = {"en": "age", "nb": "alder", "sv": "ålder"}


@pytest.mark.parametrize("lang", LANGS)
def test_cystatin_c_text_matches_age_partitioned_ranges(lang: str) -> None:
    """Cystatin C texts say the intervals depend on age, as the catalogue's ranges do.

    The clinician text quotes the catalogue's own bands (Unilabs_CystatinC, Mayo_CSTCE).
    """
    ranges = pd.concat(
        pd.read_csv(ROOT / "reference_ranges" / name / "ranges.csv") for name in ("nordic", "us")
    )
    cys = ranges[ranges["analyte"] == "cystatin_c"]
    assert cys["age_min"].nunique() > 2  # the catalogue partitions cystatin C by age
    entries = _catalogue_text(lang)
    clinician = entries["cystatin_c.about.clinician"]["text"]
    patient = entries["cystatin_c.about.patient"]["text"]
    assert "< 5 %" not in clinician
    assert AGE_WORD[lang] in patient.lower() and AGE_WORD[lang] in clinician.lower()
    sep = "." if lang == "en" else ","
    for source, age_min in (
        ("Unilabs_CystatinC", 1),
        ("Unilabs_CystatinC", 70),
        ("Mayo_CSTCE", 50),
    ):
        band = cys[(cys["source"] == source) & (cys["age_min"] == age_min)].iloc[0]
        low, high = (f"{v:.2f}".replace(".", sep) for v in (band["low"], band["high"]))
        assert f"{low}–{high}" in clinician
    assert {"Unilabs_CystatinC", "Mayo_CSTCE"} <= set(
        entries["cystatin_c.about.clinician"]["sources"]
    )


def test_swedish_texts_do_not_speak_of_norway() -> None:
    """Swedish readers are not told about Norwegian laboratories or Norway's criteria.

    Swedish laboratories report P-Magnesium, so no Swedish text writes S-Mg.
    """
    for key, entry in _catalogue_text("sv").items():
        if key.startswith(("name.profile.", "name.catalogue.")):
            continue  # the names of the Norwegian profile and catalogue, not claims
        text = entry["text"].lower()
        assert not any(word in text for word in ("norsk", "norska", "norge", "norway")), key
        assert "s-mg" not in text, key


def test_swedish_hba1c_diagnosis_cites_swedish_source() -> None:
    """HbA1c >= 48 mmol/mol is a diagnostic criterion for adults in Sweden since 2014.

    Source: Lakartidningen2013_HbA1cDiagnos (decision of Svensk förening för diabetologi).
    """
    entry = _catalogue_text("sv")["category.HbA1c_Nordic_IFCC.diabetes_range.clinician"]
    assert "≥ 48 mmol/mol" in entry["text"] and "Sverige" in entry["text"]
    assert "Lakartidningen2013_HbA1cDiagnos" in entry["sources"]


def test_norwegian_texts_make_no_swedish_claims_as_norwegian() -> None:
    """Norwegian texts name Sweden only where they attribute a Swedish source as Swedish."""
    for key, entry in _catalogue_text("nb").items():
        if key.startswith("name.profile."):
            continue  # the Swedish profile's name, not a claim
        text = entry["text"].lower()
        if "sverige" in text or "svensk" in text:
            assert "i sverige" in text or "svensk preparatomtale" in text, key
        if "i sverige" in text:
            assert "Lakartidningen2013_HbA1cDiagnos" in entry["sources"], key
        assert "p-mg" not in text, key
