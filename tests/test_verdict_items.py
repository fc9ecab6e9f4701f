"""Audit items of the one-verdict review: each on both paths (frames and single results)."""

from __future__ import annotations

import pandas as pd
import pytest

import labinterp
from labinterp.equations import egfr_schwartz_bedside
from labinterp.units import ureg

# --- bedside Schwartz does not use sex -------------------------------------------------

CHILD_CREA = {"analyte": "creatinine", "raw_value": "0.6", "raw_unit": "mg/dL", "age_years": 8}


def test_bedside_schwartz_without_sex_frame() -> None:
    """A child with height and no sex gets bedside Schwartz (0.413 x height / SCr, Schwartz2009)."""
    out = labinterp.interpret(pd.DataFrame([{**CHILD_CREA, "height_cm": 101}]))
    derived = out[out["status"] == "derived"]
    assert derived["equation"].tolist() == ["egfr_schwartz_bedside"]
    expected = egfr_schwartz_bedside(creatinine=0.6 * ureg("mg/dL"), height_cm=101).magnitude
    assert derived["value_canonical"].iloc[0] == pytest.approx(expected, abs=0.5)
    assert expected == pytest.approx(69.5, abs=0.05)  # 0.413 * 101 / 0.6


def test_bedside_schwartz_without_sex_panel() -> None:
    """The single path derives the same bedside Schwartz eGFR without sex."""
    panel = labinterp.interpret_panel(
        [{"analyte": "creatinine", "value": "0.6", "unit": "mg/dL"}], age_years=8, height_cm=101
    )
    assert [f.status.value for f in panel][1:] == ["derived"]  # creatinine's range needs sex
    assert panel[1].equation == "egfr_schwartz_bedside"
    frame = labinterp.interpret(pd.DataFrame([{**CHILD_CREA, "height_cm": 101}]))
    assert panel[1].value_canonical == frame["value_canonical"].iloc[1]


@pytest.mark.parametrize("height", [None, 101])
def test_equations_that_use_sex_still_need_it(height: float | None) -> None:
    """Without sex, EKFC (a child without height) and adult equations derive nothing; say why."""
    for age in (8, 54):
        rows = [{**CHILD_CREA, "age_years": age, "height_cm": height}]
        out = labinterp.interpret(pd.DataFrame(rows))
        panel = labinterp.interpret_panel(
            [{"analyte": "creatinine", "value": "0.6", "unit": "mg/dL"}],
            age_years=age,
            height_cm=height,
        )
        if age == 8 and height is not None:
            continue  # bedside Schwartz, above
        assert (out["status"] != "derived").all()
        assert "age and sex" in out["caveats"].iloc[0]
        assert len(panel) == 1 and any("age and sex" in c for c in panel[0].caveats)
