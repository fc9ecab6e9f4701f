"""Serial results: previous value, change and the reference change value (RCV)."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

import labinterp
from labinterp.catalogue import biological_variation
from labinterp.equations import reference_change_value
from labinterp.errors import LabinterpWarning
from labinterp.steps.history import HISTORY_COLUMNS

from .conftest import DATA, EXAMPLES

SERIES = pd.DataFrame(
    {
        "patient_id": ["p", "p", "p", "q"],
        "collected_at": ["2026-03-01", "2026-01-01", "2026-02-01", "2026-01-01"],
        "analyte": ["creatinine"] * 4,
        "raw_value": ["100", "80", "88", "70"],
        "raw_unit": ["umol/L"] * 4,
        "sex": ["M"] * 4,
        "age_years": [50] * 4,
    }
)


def test_synthetic_series_with_known_changes() -> None:
    """80 -> 88 (+10 %) is within the creatinine RCV (12.98 %); 88 -> 100 (+13.6 %) is not."""
    out = labinterp.interpret(SERIES, derive=False)
    changes = labinterp.history(out)
    assert list(changes.columns) == list(HISTORY_COLUMNS)
    rcv = reference_change_value(1.3, 4.5)  # HNT creatinine CVA/CVI (biological_variation.toml)
    assert changes["rcv_pct"].dropna().unique().tolist() == [round(rcv, 1)]  # as printed
    by_value = changes.assign(value=out["value_canonical"]).set_index("value")
    assert by_value.loc[88.0, "change_pct"] == pytest.approx(10.0)
    assert not by_value.loc[88.0, "significant_change"]
    assert by_value.loc[100.0, "change_pct_exact"] == pytest.approx(100 / 88 * 100 - 100)
    assert by_value.loc[100.0, "change_pct"] == 13.6  # one decimal, as written
    assert by_value.loc[100.0, "significant_change"]
    assert pd.isna(by_value.loc[80.0, "significant_change"])  # the first result has no previous
    assert pd.isna(by_value.loc[70.0, "previous_value"])  # another patient is never compared


def test_lognormal_form_decides_differently_at_the_edge() -> None:
    """The log-normal upward limit (13.86 %) is wider than the symmetric one (12.98 %)."""
    out = labinterp.interpret(SERIES, derive=False)
    changes = labinterp.history(out, form="lognormal")
    rise = changes.loc[out["value_canonical"] == 100.0]
    assert rise["rcv_up_pct"].iloc[0] > rise["rcv_pct"].iloc[0] > rise["change_pct"].iloc[0] - 1
    assert not rise["significant_change"].iloc[0]


def test_lab_cva_override() -> None:
    """A laboratory's own CVA replaces the default in the RCV."""
    out = labinterp.interpret(SERIES, derive=False)
    changes = labinterp.history(out, cva_pct={"creatinine": 3.0})
    assert changes["rcv_pct"].dropna().iloc[0] == round(reference_change_value(3.0, 4.5), 1)


def test_only_like_is_compared_with_like() -> None:
    """Derived eGFR is compared with eGFR from the same equation; a unit change is noted."""
    data = SERIES.copy()
    data.loc[2, ["raw_value", "raw_unit"]] = ["0.9955", "mg/dL"]  # 88 µmol/L written in mg/dL
    out = labinterp.interpret(data)
    changes = labinterp.history(out)
    derived = out["status"] == "derived"
    assert (changes.loc[derived, "history_note"].dropna() == "no_biological_variation").all()
    assert "unit_changed" in changes.loc[~derived, "history_note"].tolist()


def test_censored_values_are_not_compared() -> None:
    """A '<' value gets no change and says why."""
    data = SERIES.copy()
    data.loc[2, "raw_value"] = "<90"
    changes = labinterp.history(labinterp.interpret(data, derive=False))
    assert changes.loc[2, "history_note"] == "censored" and pd.isna(changes.loc[2, "change_pct"])


def test_interpret_with_history_adds_columns_and_caveats() -> None:
    """interpret(history=True) adds the columns and a significant/within-variation caveat."""
    out = labinterp.interpret(SERIES, derive=False, history=True)
    assert set(HISTORY_COLUMNS) <= set(out.columns)
    caveats = out.set_index("value_canonical")["caveats"]
    assert "likely to be a real change" in caveats.loc[100.0]
    assert "within the expected" in caveats.loc[88.0]


def test_biological_variation_data_is_cited() -> None:
    """Every analyte with BV data has a positive CVI and CVA and cites existing sources."""
    keys = set(labinterp.sources())
    for analyte, spec in biological_variation().items():
        assert spec.cvi_pct > 0 and spec.cva_pct > 0, analyte
        assert {spec.cvi_source, spec.cva_source} <= keys


def test_real_sample_with_repeated_results() -> None:
    """On the MIMIC-IV demo, every repeated creatinine and magnesium gets a change and a verdict."""
    path = EXAMPLES / "mimic-iv-demo" / "interpret_mimic.py"
    spec = importlib.util.spec_from_file_location("interpret_mimic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.warns(LabinterpWarning, match="'comments'"):  # MIMIC's unused columns
        frame = module.read_mimic_labevents(
            DATA / "mimic-iv-demo" / "labevents_target_analytes.csv",
            DATA / "mimic-iv-demo" / "patients.csv",
        )
    out = labinterp.interpret(frame, profile="us", derive=False, history=True)
    for analyte in ("creatinine", "magnesium"):
        rows = out[(out["analyte"] == analyte) & (out["status"] == "ok")]
        per_patient = rows.groupby("patient_id").size()
        repeated = int((per_patient - 1).clip(lower=0).sum())
        assert rows["previous_value"].notna().sum() == repeated
        assert rows["significant_change"].notna().sum() == repeated
        assert 0 < rows["significant_change"].sum() < repeated


def _corrected_second(
    analyte: str, values: list[str], unit: str, **extra: list[str]
) -> pd.DataFrame:
    """Three results of one patient: two of one sample (the second corrected), one later."""
    return pd.DataFrame(
        {
            "patient_id": ["p", "p", "p"],
            "collected_at": ["2026-01-01 08:00", "2026-01-01 08:00", "2026-02-01 08:00"],
            "analyte": [analyte] * 3,
            "raw_value": values,
            "raw_unit": [unit] * 3,
            "age_years": [50] * 3,
            "corrected": [False, True, False],
            **extra,
        }
    )


def test_corrected_result_supersedes_the_earlier_one() -> None:
    """A later corrected result replaces the earlier one of the same test and sample."""
    frame = _corrected_second("magnesium", ["0,62", "0,82", "0,80"], "mmol/L")
    out = labinterp.interpret(frame, history=True)
    assert out["superseded"].tolist() == [True, False, False]
    assert "replaced" in out.loc[0, "caveats"]
    assert out.loc[2, "previous_value"] == pytest.approx(0.82)  # compared with the correction
    assert pd.isna(out.loc[0, "previous_value"]) and pd.isna(out.loc[1, "previous_value"])


def test_duplicates_at_the_same_time_are_kept_and_noted() -> None:
    """Two results at the same time are both kept; the second's change is noted as same_time."""
    frame = SERIES.copy()
    frame.loc[2, "collected_at"] = frame.loc[1, "collected_at"]
    changes = labinterp.history(labinterp.interpret(frame, derive=False))
    assert changes.loc[2, "history_note"] == "same_time"
    assert changes["previous_value"].notna().sum() == 2


def test_egfr_derived_from_a_superseded_creatinine_is_superseded_too() -> None:
    """The eGFR of a replaced creatinine is replaced with it; the corrected one's eGFR counts."""
    frame = _corrected_second("creatinine", ["150", "80", "82"], "µmol/L", sex=["female"] * 3)
    out = labinterp.interpret(frame, history=True)
    derived = out[out["status"] == "derived"]
    assert out["superseded"].tolist() == [True, True, False, False, False, False]
    assert derived["derived_from"].tolist() == ["0", "1", "2"]
    assert "replaced" in derived["caveats"].iloc[0]
    # The February eGFR is compared with the corrected sample's eGFR, not the replaced one.
    assert derived["previous_value"].iloc[2] == pytest.approx(derived["value_canonical"].iloc[1])
    assert pd.isna(derived["previous_value"].iloc[1])
