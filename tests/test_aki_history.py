"""Acute kidney injury in interpret(history=True): the stage of each creatinine result."""

from __future__ import annotations

import pandas as pd
import pytest

import labinterp


def _series(values: list[str], times: list[str | None], unit: str = "µmol/L", **extra: object):
    rows = [
        {
            "patient_id": extra.get("patient", "p1"),
            "sex": "F",
            "age_years": 60,
            "collected_at": t,
            "source_name": "Creatinine",
            "raw_value": v,
            "raw_unit": unit,
        }
        for v, t in zip(values, times, strict=True)
    ]
    return pd.DataFrame(rows)


DAYS = ["2026-03-01 08:00", "2026-03-02 08:00", "2026-03-03 08:00", "2026-03-05 08:00"]


def _creatinine(out: pd.DataFrame) -> pd.DataFrame:
    return out[out["analyte"] == "creatinine"]


def test_stages_follow_kdigo_and_the_first_result_is_not_staged() -> None:
    """80 -> 100 -> 130 (rise 30 umol/L in 48 h: stage 1) -> 90 (KDIGO2012_AKI Table 2)."""
    out = labinterp.interpret(_series(["80", "100", "130", "90"], DAYS), history=True)
    stages = _creatinine(out)["aki_stage"].tolist()
    assert stages[0] is pd.NA  # no earlier result: no baseline, never 0
    assert stages[1:] == [0, 1, 0]


def test_a_stage_puts_the_steady_state_caveat_on_creatinine_and_its_egfr() -> None:
    """The eGFR of the injured sample set says it is unreliable; the others do not."""
    out = labinterp.interpret(
        _series(["80", "100", "130", "90"], DAYS), history=True, audience="clinician"
    )
    said = "eGFR equations assume steady-state creatinine"
    marked = out["caveats"].astype(str).str.contains(said, regex=False)
    injured_time = pd.Timestamp(DAYS[2])
    assert set(out.loc[marked, "analyte"].astype(str)) == {"creatinine", "egfr"}
    assert (out.loc[marked, "collected_at"] == injured_time).all()
    assert marked.sum() == 2


def test_us_units_are_staged_in_umol_per_l() -> None:
    """1.0 -> 1.3 mg/dL is a rise of 26.5 umol/L (x 88.4): stage 1, not a 0.2998 miss."""
    out = labinterp.interpret(
        _series(["1.0", "1.3"], DAYS[:2], unit="mg/dL"), profile="us", history=True
    )
    assert _creatinine(out)["aki_stage"].tolist()[1] == 1


def test_a_high_stable_creatinine_is_not_stage_3_without_a_rise() -> None:
    """>= 353.6 umol/L needs an acute rise by default (AKIN reading): stable 400 is stage 0."""
    out = labinterp.interpret(_series(["400", "405"], DAYS[:2]), history=True)
    assert _creatinine(out)["aki_stage"].tolist()[1] == 0
    risen = labinterp.interpret(_series(["300", "400"], DAYS[:2]), history=True)
    assert _creatinine(risen)["aki_stage"].tolist()[1] == 3


def test_a_result_without_time_is_not_staged_and_says_why() -> None:
    """No collection time: aki_stage empty and a caveat; the order is never guessed."""
    out = labinterp.interpret(
        _series(["80", "130"], [DAYS[0], None]), history=True, audience="clinician"
    )
    row = _creatinine(out).iloc[1]
    assert row["aki_stage"] is pd.NA
    assert "No AKI staging: no collection time" in str(row["caveats"])


def test_patients_are_staged_apart() -> None:
    """Another patient's low result is never a baseline."""
    frame = pd.concat(
        [_series(["60"], DAYS[:1], patient="a"), _series(["100"], DAYS[1:2], patient="b")]
    )
    out = labinterp.interpret(frame.reset_index(drop=True), history=True)
    assert _creatinine(out)["aki_stage"].isna().all()


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_without_history_there_is_no_stage_column(lang: str) -> None:
    """aki_stage is a history column: interpret() without history=True does not add it."""
    out = labinterp.interpret(_series(["80", "130"], DAYS[:2]), lang=lang)
    assert "aki_stage" not in out.columns
