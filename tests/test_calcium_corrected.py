"""Albumin-corrected calcium: the Norwegian and the Swedish formulas, derived in both paths."""

from __future__ import annotations

import pandas as pd
import pytest

import labinterp
from labinterp.equations.calcium import CALCIUM_CORRECTIONS
from tests.conftest import load_vectors, vector_id

VECTORS = load_vectors("calcium_corrected.csv")


@pytest.mark.parametrize("row", VECTORS, ids=[vector_id(r) for r in VECTORS])
def test_published_vectors(row: dict[str, str]) -> None:
    """Each formula gives the published or worked value at two decimals."""
    fn = CALCIUM_CORRECTIONS[row["equation"]]
    got = fn(float(row["calcium_mmol_l"]), float(row["albumin_g_l"]))
    assert round(got, 2) == float(row["expected"])


def _panel(calcium: str = "1,85", albumin: str = "24") -> list[dict[str, str]]:
    return [
        {"analyte": "P-Kalsium", "value": calcium, "unit": "mmol/L"},
        {"analyte": "P-Albumin", "value": albumin, "unit": "g/L"},
    ]


def _frame(panel: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "patient_id": "p",
                "sex": "F",
                "age_years": 50,
                "collected_at": "2026-01-01 08:00",
                "source_name": r["analyte"],
                "raw_value": r["value"],
                "raw_unit": r["unit"],
            }
            for r in panel
        ]
    )


@pytest.mark.parametrize(
    ("profile", "equation", "value"),
    [("no", "calcium_corrected_nordic", 2.20), ("se", "calcium_corrected_karolinska", 2.00)],
)
def test_derived_after_the_calcium_in_both_paths(profile: str, equation: str, value: float) -> None:
    """Fürst's example in Norway (2.20); the Swedish formula gives 2.00 for the same sample."""
    found = labinterp.interpret_panel(_panel(), sex="F", age_years=50, profile=profile)
    derived = [f for f in found if f.analyte == "calcium_albumin_corrected"]
    assert [(f.value, f.equation, f.derived_from) for f in derived] == [(value, equation, (0, 1))]
    out = labinterp.interpret(_frame(_panel()), profile=profile)
    assert out["analyte"].astype(str).tolist()[:2] == ["calcium", "calcium_albumin_corrected"]
    row = out.iloc[1]
    assert (row["value"], row["equation"], row["derived_from"]) == (value, equation, "0;1")
    single_flag = found[1].flag.value if found[1].flag else None
    assert (None if pd.isna(row["flag"]) else row["flag"]) == single_flag


def test_the_norwegian_limits_are_not_used_for_the_swedish_formula() -> None:
    """The catalogue's limits were made for the Norwegian formula: a Swedish value says so."""
    found = labinterp.interpret_panel(_panel(), sex="F", age_years=50, profile="se")
    derived = next(f for f in found if f.analyte == "calcium_albumin_corrected")
    assert derived.flag is None and derived.problem is not None
    assert "other equations" in derived.problem


@pytest.mark.parametrize(
    ("panel", "profile"),
    [
        (_panel(calcium="<1,5"), "no"),  # censored: no exact value
        (_panel()[:1], "no"),  # no albumin in the sample set
        (_panel(), "dk"),  # no correction chosen for Denmark
        (_panel(), "us"),  # nor for the US (no cited US formula)
    ],
)
def test_no_corrected_calcium(panel: list[dict[str, str]], profile: str) -> None:
    """Nothing is derived without an exact calcium, an albumin, or a chosen correction."""
    found = labinterp.interpret_panel(panel, sex="F", age_years=50, profile=profile)
    assert "calcium_albumin_corrected" not in {f.analyte for f in found}
