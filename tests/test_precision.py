"""Numbers as laboratories print them: reporting precision, exact columns, no inf."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue, schema
from labinterp.precision import (
    reporting_decimals,
    reporting_step,
    round_reported,
    round_reported_array,
)
from labinterp.steps.flags import fixed_precision

EXAMPLES = Path(__file__).parent.parent / "examples"
PAIRS = [(key, p.unit) for key, spec in catalogue.analytes().items() for p in spec.reporting]


def test_every_reporting_unit_has_a_cited_precision() -> None:
    """Each analyte has a precision in its own unit and in every profile's unit."""
    keys = set(catalogue.sources())
    for key, spec in catalogue.analytes().items():
        if spec.unit is None:  # a category alone (the CKD prognosis) has no value
            continue
        assert reporting_decimals(key, spec.unit) is not None, key
        for precision in spec.reporting:
            assert precision.source in keys and precision.locator, (key, precision.unit)
    for profile in catalogue.profiles().values():
        for key, unit in profile.units.items():
            assert reporting_decimals(key, unit) is not None, (profile.name, key, unit)


def test_precisions_as_the_cited_laboratories_print_them() -> None:
    """Fürst magnesium '0,71–0,94 mmol/L' (2), Fürst eGFR '>56' (0), Mayo HbA1c '4.0-5.6%' (1)."""
    assert reporting_decimals("magnesium", "mmol/L") == 2  # Furst_SMagnesium
    assert reporting_decimals("egfr", "mL/min/1.73m²") == 0  # Furst_eGFR
    assert reporting_decimals("hba1c", "%") == 1  # Mayo_HBA1C
    assert reporting_decimals("hba1c", "mmol/mol") == 0  # HelseStavanger_HbA1c2018
    assert reporting_decimals("creatinine", "µmol/L") == reporting_decimals("creatinine", "umol/L")
    assert reporting_decimals("magnesium", "furlong") is None


def test_round_reported_examples() -> None:
    """Computed digits no laboratory prints are dropped; missing and inf are missing."""
    assert round_reported(0.6171569635877392, "magnesium", "mmol/L") == 0.62
    assert round_reported(98.61439782447194, "egfr", "mL/min/1.73m2") == 99.0
    assert round_reported(6.1000000000000005, "hba1c", "%") == 6.1
    assert round_reported(-1.42e-14, "magnesium", "mmol/L") == 0.0
    assert math.copysign(1.0, round_reported(-1.42e-14, "magnesium", "mmol/L") or 1.0) == 1.0
    assert round_reported(math.inf, "magnesium", "mmol/L") is None
    assert round_reported(None, "magnesium", "mmol/L") is None
    assert round_reported(1.23456, "magnesium", None) == 1.23456


def test_one_place_for_the_precision() -> None:
    """EGFR's fixed precision and the profiles' resolution come from the analyte catalogue."""
    assert fixed_precision("egfr") == reporting_step("egfr", "mL/min/1.73m2") == 1.0
    assert fixed_precision("magnesium") is None
    for profile in catalogue.profiles().values():
        assert profile.resolution == ("hba1c",)
    assert reporting_step("hba1c", catalogue.get_profile("us").units["hba1c"]) == 0.1
    assert reporting_step("hba1c", catalogue.get_profile("no").units["hba1c"]) == 1.0


@given(
    values=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e4, 1e4)),
        min_size=1,
        max_size=8,
    ),
    pairs=st.lists(st.sampled_from([*PAIRS, (None, None), ("magnesium", None)]), min_size=8),
)
def test_array_rounding_equals_the_scalar(values: list[float], pairs: list[tuple]) -> None:
    """The array version rounds every row as round_reported does (missing: NaN)."""
    chosen = pairs[: len(values)]
    out = round_reported_array(values, [a for a, _ in chosen], [u for _, u in chosen])
    for got, value, (analyte, unit) in zip(out, values, chosen, strict=True):
        one = round_reported(value, analyte, unit)
        assert (one is None and np.isnan(got)) or got == one


def _csv(name: str, profile: str) -> list[dict[str, str]]:
    out = labinterp.interpret(labinterp.read_csv(EXAMPLES / name), profile=profile)
    return list(csv.DictReader(io.StringIO(out.to_csv(index=False))))


@pytest.mark.parametrize(
    ("name", "profile"), [("nordic_export.csv", "no"), ("us_export.csv", "us")]
)
def test_examples_have_no_float_noise_and_no_inf(name: str, profile: str) -> None:
    """Written values carry the digits laboratories print; open range sides are empty."""
    rows = _csv(name, profile)
    rounded = ["value_canonical", "hba1c_ifcc_mmol_mol", "hba1c_ngsp_percent", "eag_mg_dl"]
    for row in rows:
        for column in (*rounded, "age_years", *(c for c in row if "reference_" in c)):
            assert "inf" not in row[column].lower(), (column, row[column])
        for column in rounded:
            text = row[column]
            if text:
                decimals = len(text.split(".")[1]) if "." in text else 0
                assert decimals <= 2, (column, text)


def test_converted_value_is_rounded_and_exact_kept() -> None:
    """Mg 1.5 mg/dL is written 0.62 mmol/L; the exact 0.6171… stays in value_canonical_exact."""
    frame = pd.DataFrame(
        {
            "analyte": ["magnesium", "magnesium"],
            "raw_value": ["1.5", "0.625"],
            "raw_unit": ["mg/dL", "mmol/L"],
            "sex": "F",
            "age_years": 50,
        }
    )
    out = labinterp.interpret(frame)
    assert out["value_canonical"].tolist() == [0.62, 0.625]  # the lab's own 3 decimals kept
    assert out["value_canonical_exact"].iloc[0] == pytest.approx(1.5 / 2.4305)
    assert out["value"].tolist() == [1.5, 0.625]
    assert out["flag"].tolist() == ["L", "L"]


def test_open_range_side_is_missing_in_frame_and_finding() -> None:
    """EGFR '>60' has no upper limit: missing in the frame, None in the Finding, never inf."""
    frame = pd.DataFrame(
        {
            "analyte": ["egfr"],
            "raw_value": ["75"],
            "raw_unit": ["mL/min/1.73m2"],
            "sex": ["F"],
            "age_years": [54],
            "lab_reference_text": [">60"],
        }
    )
    out = labinterp.interpret(frame)
    assert out["reference_low"].iloc[0] == 60 and np.isnan(out["reference_high"].iloc[0])
    for name in ("reference_low", "reference_high", "critical_low", "critical_high"):
        assert not np.isinf(out[name].to_numpy(dtype=float)).any()
    finding = labinterp.findings(out)[0]
    assert finding.reference_low == 60 and finding.reference_high is None
    assert finding.critical_low is None and finding.critical_high is None


def test_age_from_birth_date_in_completed_years() -> None:
    """Born 1970-01-16, sampled 2026-01-15: 55 years (56 the next day); exact kept."""
    frame = pd.DataFrame(
        {
            "analyte": ["magnesium"] * 2,
            "raw_value": ["0.8"] * 2,
            "raw_unit": ["mmol/L"] * 2,
            "sex": ["F"] * 2,
            "birth_date": ["1970-01-16", "1970-01-15"],
            "collected_at": ["2026-01-15 08:00", "2026-01-15 08:00"],
        }
    )
    out = labinterp.interpret(frame)
    assert out["age_years"].tolist() == [55.0, 56.0]
    assert out["age_years_exact"].iloc[0] == pytest.approx(55.99, abs=0.01)


def test_history_changes_are_written_at_precision() -> None:
    """Two equal converted magnesium results: change 0 (never -0.0 or 1e-14), exact kept."""
    frame = pd.DataFrame(
        {
            "patient_id": ["p"] * 2,
            "analyte": ["magnesium"] * 2,
            "raw_value": ["1.5", "0.62"],
            "raw_unit": ["mg/dL", "mmol/L"],
            "sex": ["F"] * 2,
            "age_years": [50] * 2,
            "collected_at": ["2026-01-01 08:00", "2026-02-01 08:00"],
        }
    )
    out = labinterp.interpret(frame, history=True)
    last = out.iloc[-1]
    assert last["previous_value"] == 0.62
    assert str(last["change_abs"]) == "0.0"
    assert last["change_abs_exact"] == pytest.approx(0.62 - 1.5 / 2.4305)
    assert schema.column("change_abs_exact").steps == ("history",)


def test_converted_lab_limits_keep_their_digits_without_float_noise() -> None:
    """The lab's 0.6-1.0 mmol/L in mg/dL is 1.4583-2.4305 (x 24.305 / 10), not 1.45830…02."""
    from labinterp.precision import without_float_noise

    frame = pd.DataFrame(
        {
            "analyte": ["magnesium"],
            "raw_value": ["0.83"],
            "raw_unit": ["mmol/L"],
            "sex": ["F"],
            "age_years": [40],
            "lab_reference_text": ["0.6 - 1.0"],
        }
    )
    out = labinterp.interpret(frame, profile="us")
    assert out[["reference_low", "reference_high"]].iloc[0].tolist() == [1.4583, 2.4305]
    assert out["value_canonical"].iloc[0] == 2.0  # 2.017 mg/dL, one decimal (Fairview)
    assert labinterp.findings(out)[0].reference_low == 1.4583
    assert without_float_noise(0.1 + 0.2) == 0.3 and math.isnan(without_float_noise(math.inf))
