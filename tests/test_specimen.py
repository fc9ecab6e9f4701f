"""Ranges for one specimen: serum and plasma potassium (NORIP: serum 3.6-4.6, plasma 3.5-4.4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import labinterp
from labinterp.names import specimen_of
from labinterp.steps.catalogue_row import NEEDS_SPECIMEN

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("S-Kalium", 3.6, 4.6),  # serum (HNT_Kalium, NORIP)
        ("Plasma-kalium", 3.5, 4.4),  # plasma (HNT_Kalium, NORIP)
        ("Kalium", 3.5, 4.6),  # not said: the row for any specimen (Karolinska)
    ],
)
def test_the_specimen_the_name_says_chooses_the_row(name: str, low: float, high: float) -> None:
    """Both paths: the name's specimen picks its rows; an unsaid one the general row."""
    found = labinterp.interpret_one(name, "4.5", "mmol/L", sex="F", age_years=50)
    assert (found.reference_low, found.reference_high) == (low, high)
    frame = pd.DataFrame(
        [
            {
                "source_name": name,
                "raw_value": "4.5",
                "raw_unit": "mmol/L",
                "sex": "F",
                "age_years": 50,
            }
        ]
    )
    out = labinterp.interpret(frame)
    assert (out.loc[0, "reference_low"], out.loc[0, "reference_high"]) == (low, high)
    assert out.loc[0, "flag"] == found.flag


def test_a_child_with_a_serum_sample_gets_the_band_for_any_specimen() -> None:
    """No serum band for children: the band given for any specimen applies (not no range)."""
    found = labinterp.interpret_one("S-Kalium", "4.0", "mmol/L", sex="M", age_years=10)
    assert found.status == "ok" and found.reference_low is not None


def test_specimen_of_reads_codes_and_names() -> None:
    """Codes compare ignoring case, names as the catalogue reads names."""
    assert specimen_of("potassium", "nor25614") == "serum"
    assert specimen_of("potassium", "  plasma-KALIUM ") == "plasma"
    assert specimen_of("potassium", "Kalium") is None
    assert specimen_of("magnesium", "S-Magnesium") is None


def test_without_a_general_row_an_unsaid_specimen_is_missing_context(tmp_path: Path) -> None:
    """A site catalogue with serum and plasma rows only: the range waits for the specimen."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "reference_ranges" / "nordic", site)
    ranges = site / "ranges.csv"
    lines = ranges.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith("potassium,serum_plasma,")]
    ranges.write_text("".join(kept), encoding="utf-8")
    rows = [
        {"source_name": n, "raw_value": "4.5", "raw_unit": "mmol/L", "sex": "F", "age_years": 50}
        for n in ("Kalium", "S-Kalium")
    ]
    out = labinterp.interpret(pd.DataFrame(rows), catalogue=str(site))
    assert out.loc[0, "status"] == "missing_context"
    assert out.loc[0, "problem"] == NEEDS_SPECIMEN
    assert out.loc[1, "status"] == "ok" and out.loc[1, "reference_high"] == 4.6
