"""Vital signs, survey scores and imaging measurements are not laboratory results."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.steps.identify import NOT_LABORATORY, not_laboratory_kind

DATA = Path(labinterp.__file__).parent / "data" / "not_laboratory.csv"
#: The three Synthea bundles (Apache-2.0; tests/data/fhir/README.md).
SYNTHEA = sorted((Path(__file__).parent / "data" / "fhir").glob("*_*-*-*-*-*.json"))


def test_every_listed_code_cites_a_source_and_is_no_analyte() -> None:
    """Each row cites a bibliography key; no listed code also identifies an analyte."""
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = set(catalogue.sources())
    assert rows
    for row in rows:
        assert row["source"] in keys and row["locator"], row["code"]
        assert row["kind"] in {"vital_sign", "survey", "social_history", "imaging"}
        assert catalogue.lookup_code(row["code"]) is None, row["code"]
    assert len({r["code"] for r in rows}) == len(rows)


@pytest.mark.parametrize(
    ("code", "kind"), [("8480-6", "vital_sign"), ("29463-7", "vital_sign"), ("72514-3", "survey")]
)
def test_vital_signs_get_a_status_of_their_own(code: str, kind: str) -> None:
    """A blood pressure in a CSV export is not_laboratory, with a sentence that says so."""
    assert not_laboratory_kind(code) == kind
    frame = pd.DataFrame(
        [{"source_code": code, "source_name": "Systolic", "raw_value": "128", "raw_unit": "mm[Hg]"}]
    )
    out = labinterp.interpret(frame)
    assert out.loc[0, "status"] == "not_laboratory"
    assert out.loc[0, "problem"] == NOT_LABORATORY
    nb = labinterp.interpret(frame, lang="nb")
    assert "ikke et laboratoriesvar" in str(nb.loc[0, "problem"])


def test_an_analyte_column_is_not_overridden() -> None:
    """A caller's analyte key wins; the list only names codes that identify nothing."""
    frame = pd.DataFrame(
        [
            {
                "analyte": "magnesium",
                "source_code": "8480-6",
                "raw_value": "0.8",
                "raw_unit": "mmol/L",
            }
        ]
    )
    assert labinterp.interpret(frame).loc[0, "status"] != "not_laboratory"


def test_synthea_vital_signs_are_not_counted_as_unknown_analytes() -> None:
    """Synthea bundles: weights, heights, blood pressures and smoking status are not unknown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(SYNTHEA) == 3
        frame = pd.concat([labinterp.read(f) for f in SYNTHEA], ignore_index=True)
        out = labinterp.interpret(frame, profile="us")
    vital = out[out["source_code"].isin(["8480-6", "8462-4", "29463-7", "8302-2", "39156-5"])]
    assert len(vital) > 50
    assert (vital["status"] == "not_laboratory").all()
