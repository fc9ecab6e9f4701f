"""UCUM codes in real exports, the registry against ucumvert's own, and Danish haemoglobin."""

from __future__ import annotations

import csv
import math
import warnings
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import labinterp
from labinterp import catalogue, ucum
from labinterp.errors import UnknownUnitError
from labinterp.models import Rule
from labinterp.steps import context
from labinterp.steps.context import thresholds
from labinterp.units import normalise_unit, ureg

DATA = Path(__file__).parent / "data"
SAMPLES = sorted((DATA / "fhir").glob("*.json")) + sorted(
    p for p in (DATA / "hl7").iterdir() if p.suffix in {".hl7", ".txt"}
)

#: Units in the samples that are refused, and why; every other one is recognised.
REFUSED = {
    "{score}": ucum.ANNOTATION_PROBLEM,  # Synthea's PHQ score: an annotation, no unit
    "Ratio": None,  # a Winpath word, not a unit: the generic unknown-unit problem
}


def _sample_units() -> set[str]:
    units: set[str] = set()
    for path in SAMPLES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", labinterp.LabinterpWarning)
            frame = labinterp.read(path)
        units |= {u for u in frame["raw_unit"] if isinstance(u, str)}
    return units


def test_every_unit_of_the_sample_exports_is_recognised_or_refused_with_a_reason() -> None:
    """FHIR valueQuantity codes and HL7 OBX-6 units of tests/data: read, or refused by name."""
    units = _sample_units()
    assert {"mL/min/{1.73_m2}", "mm[Hg]", "10*3/uL", "Cel", "iU/mL", "x10^9/L"} <= units
    for unit in sorted(units):
        if unit in REFUSED:
            with pytest.raises(UnknownUnitError) as caught:
                normalise_unit(unit)
            if REFUSED[unit] is not None:
                assert caught.value.message == REFUSED[unit]
        else:
            assert normalise_unit(unit).display, unit


def _official_examples() -> list[str]:
    """Return the codes of UCUM's table of common units, as ucumvert ships it."""
    table = resources.files("ucumvert") / "vendor" / "ucum_examples.tsv"
    with table.open(encoding="utf-8") as handle:
        return [row["UCUM_CODE"] for row in csv.DictReader(handle, delimiter="\t")]


#: Atoms labinterp's registry defines apart from ucumvert's on purpose: an equivalent is
#: converted through the analyte's valence (ucumvert: 1 eq = 1 mol), and an international
#: unit is not commensurable with any other unit (ucumvert: dimensionless).
DEFINED_APART = ("eq", "[IU]", "[iU]")


def test_the_registry_agrees_with_ucumverts_own_on_the_official_codes() -> None:
    """Every common UCUM code both registries define means the same in both, but on purpose."""
    import ucumvert

    theirs = ucumvert.PintUcumRegistry()
    parser = ucumvert.get_ucum_parser()
    ours_reader = ucumvert.UcumToPintTransformer(ureg=ureg)
    theirs_reader = ucumvert.UcumToPintTransformer(ureg=theirs)
    compared = 0
    for code in _official_examples():
        try:
            tree = ucumvert.parse_ucum(code, parser)
            expected = theirs_reader.transform(tree).to_base_units()
            got = ours_reader.transform(tree).to_base_units()
        except Exception:  # undefined in one of them, or not a quantity (an annotation)
            continue
        if any(atom in code for atom in DEFINED_APART):
            continue
        compared += 1
        assert str(got.dimensionality) == str(expected.dimensionality), code
        assert math.isclose(got.magnitude, expected.magnitude, rel_tol=1e-9), code
    assert compared > 600


BASE = {"patient_id": "p1", "collected_at": "2026-01-15 08:00", "sex": "F", "age_years": 50}
HBA1C = {"analyte": "hba1c", "raw_value": "44", "raw_unit": "mmol/mol"}


def _danish(hb: str, unit: str = "mmol/L") -> pd.DataFrame:
    rows = [HBA1C, {"analyte": "hemoglobin", "raw_value": hb, "raw_unit": unit}]
    return labinterp.interpret(pd.DataFrame([{**BASE, **r} for r in rows]), profile="dk")


def test_danish_haemoglobin_is_read_in_mmol_per_litre() -> None:
    """Hb 6,5 mmol/L (a Danish report, NPU02319) is flagged L against NORIP in mmol/L."""
    out = _danish("6,5")
    hb = out[out["analyte"] == "hemoglobin"].iloc[0]
    assert hb["status"] == "ok"
    assert hb["unit_canonical"] == "mmol/L"
    assert hb["value_canonical"] == pytest.approx(6.5)
    # NORIP women 11.7-15.3 g/dL (nordic ranges.csv) in mmol/L at 16,114.5 g/mol.
    assert hb["reference_low"] == pytest.approx(117 / 16.1145, rel=1e-9)
    assert hb["reference_high"] == pytest.approx(153 / 16.1145, rel=1e-9)
    assert hb["flag"] == "L"


def test_the_anaemia_caveat_fires_for_danish_data() -> None:
    """HbA1c with a low haemoglobin in mmol/L carries the anaemia caveat; a normal Hb does not."""
    low = _danish("6,5")
    assert "hba1c_anaemia" in low.loc[low["analyte"] == "hba1c", "caveat_rules"].iloc[0]
    normal = _danish("8,5")
    assert normal.loc[normal["analyte"] == "hemoglobin", "flag"].iloc[0] == "N"
    cell = normal.loc[normal["analyte"] == "hba1c", "caveat_rules"].iloc[0]
    assert "hba1c_anaemia" not in (cell if isinstance(cell, str) else "")


def test_danish_profile_converts_haemoglobin_sent_in_grams() -> None:
    """Hb 120 g/L under the Danish profile is reported as 7.45 mmol/L."""
    out = _danish("120", "g/L")
    hb = out[out["analyte"] == "hemoglobin"].iloc[0]
    assert hb["value_canonical_exact"] == pytest.approx(120 / 16.1145)
    assert hb["value_canonical"] == 7.4  # Hb in mmol/L: one decimal (Sundhed_Haemoglobin)
    assert hb["flag"] == "N"


def test_danish_panel_agrees_on_the_single_result_path() -> None:
    """interpret_panel gives the Danish Hb the same flag and HbA1c the same anaemia caveat."""
    findings = labinterp.interpret_panel(
        [
            {"analyte": "hba1c", "value": "44", "unit": "mmol/mol"},
            {"analyte": "hemoglobin", "value": "6,5", "unit": "mmol/L"},
        ],
        sex="F",
        age_years=50,
        collected_at="2026-01-15",
        profile="dk",
    )
    hba1c, hb = findings
    assert (hb.flag, hb.unit_canonical) == ("L", "mmol/L")
    caveat = catalogue.text_catalogue("en")["caveat.hba1c_anaemia.patient"].text
    assert caveat in hba1c.caveats


def test_a_rule_threshold_is_converted_to_the_reporting_unit() -> None:
    """A `below` in the catalogue unit (g/L for Hb) is compared in the profile's unit."""
    rule = Rule.model_validate(
        {"id": "t", "sources": [], "with": {"analyte": "hemoglobin", "below": 110}}
    )
    assert thresholds(rule, {"hemoglobin": "g/L"})[0] == pytest.approx(110)
    assert thresholds(rule, {"hemoglobin": "g/dL"})[0] == pytest.approx(11.0)
    assert thresholds(rule, {"hemoglobin": "mmol/L"})[0] == pytest.approx(110 / 16.1145)


def test_rules_compare_thresholds_in_the_reporting_unit_on_both_paths(monkeypatch) -> None:
    """Hb 6.5 mmol/L (105 g/L) is below 110 g/L and 7.0 mmol/L (113 g/L) is not, in both paths."""
    low_hb = Rule.model_validate(
        {
            "id": "test_low_hb",
            "sources": [],
            "analyte": "hba1c",
            "with": {"analyte": "hemoglobin", "below": 110},
        }
    )
    shipped = catalogue.rules()
    monkeypatch.setattr(context, "rules", lambda: (*shipped, low_hb))
    assert "test_low_hb" in _danish("6,5").loc[0, "caveat_rules"]
    assert "test_low_hb" not in _danish("7,0").loc[0, "caveat_rules"]
    bit = 1 << len(shipped)
    for hb, fires in (("6,5", True), ("7,0", False)):
        rows = [
            context.RuleRow("hba1c", "N", 44.0, False),
            context.RuleRow("hemoglobin", "L", float(hb.replace(",", ".")), False),
        ]
        bits = context.rule_bits_one(
            rows[0], rows, age=50.0, month=1, reference_source=None, profile="dk"
        )
        assert bool(bits & bit) is fires


def test_an_unknown_annotation_is_a_row_status_with_its_problem() -> None:
    """HbA1c in mmol/mol{creat} is unknown_unit with the annotation problem, in both paths."""
    frame = pd.DataFrame([{**BASE, **HBA1C, "raw_unit": "mmol/mol{creat}"}])
    row = labinterp.interpret(frame, profile="dk").iloc[0]
    assert (row["status"], row["problem"]) == ("unknown_unit", ucum.ANNOTATION_PROBLEM)
    finding = labinterp.interpret_one("hba1c", "44", "mmol/mol{creat}", profile="dk")
    assert (finding.status, finding.problem) == ("unknown_unit", ucum.ANNOTATION_PROBLEM)


def test_ucum_hba1c_codes_through_interpret() -> None:
    """%{HbA1c} and mmol/mol{Hb} are read as the NGSP and IFCC scales."""
    rows = [
        {**BASE, **HBA1C, "raw_value": "6,5", "raw_unit": "%{HbA1c}"},
        {**BASE, **HBA1C, "raw_value": "48", "raw_unit": "mmol/mol{Hb}", "patient_id": "p2"},
    ]
    out = labinterp.interpret(pd.DataFrame(rows), profile="no")
    assert out["status"].tolist() == ["ok", "ok"]
    assert out["unit"].tolist() == ["%", "mmol/mol"]
    assert out["value_canonical_exact"].tolist() == pytest.approx([47.53, 48.0], abs=0.01)


def test_the_ucum_problems_are_in_the_text_catalogues() -> None:
    """Each UCUM problem sentence has its entry, in English identical to the constant."""
    for key, sentence in (
        ("unit_annotation_unknown", ucum.ANNOTATION_PROBLEM),
        ("unit_factor", ucum.FACTOR_PROBLEM),
        ("unit_not_defined", ucum.UNDEFINED_PROBLEM),
    ):
        for audience in ("patient", "clinician"):
            assert catalogue.text_catalogue("en")[f"problem.{key}.{audience}"].text == sentence
            for lang in ("nb", "sv"):
                assert catalogue.text_catalogue(lang)[f"problem.{key}.{audience}"].text


def test_long_text_is_not_tried_as_a_ucum_code() -> None:
    """A unit cell of 100,000 characters is refused without parsing it as UCUM."""
    assert ucum.read_ucum("m" * 100_000, ureg) is None
    with pytest.raises(UnknownUnitError):
        normalise_unit("mg/" + "d" * 100_000)
