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


# --- caveats whose direction does not fit are not attached ------------------------------

WOMAN = {"sex": "K", "age_years": 50, "patient_id": "p", "collected_at": "2024-06-01T08:00"}


def _mg_with_albumin(mg: str) -> pd.DataFrame:
    rows = [
        {**WOMAN, "analyte": "magnesium", "raw_value": mg, "raw_unit": "mmol/L"},
        {**WOMAN, "analyte": "albumin", "raw_value": "25", "raw_unit": "g/L"},
    ]
    return labinterp.interpret(pd.DataFrame(rows))


def _panel_mg_with_albumin(mg: str) -> labinterp.Finding:
    panel = labinterp.interpret_panel(
        [
            {"analyte": "magnesium", "value": mg, "unit": "mmol/L"},
            {"analyte": "albumin", "value": "25", "unit": "g/L"},
        ],
        sex="K",
        age_years=50,
    )
    return panel[0]


@pytest.mark.parametrize(
    ("mg", "flags", "attached"),
    [("0.60", ("L",), True), ("0.80", ("N",), True), ("1.20", ("H", "HH"), False)],
)
def test_low_albumin_caveat_only_where_its_direction_fits(
    mg: str, flags: tuple[str, ...], attached: bool
) -> None:
    """'Low albumin makes the measured magnesium lower' is never attached to a high magnesium."""
    out = _mg_with_albumin(mg)
    assert out["flag"].iloc[1] == "L"  # albumin 25 g/L is low
    assert out["flag"].iloc[0] in flags
    rules = str(out["caveat_rules"].iloc[0])
    assert ("mg_low_albumin" in rules) is attached
    assert ("mg_serum_fraction" in rules) is attached  # "... does not exclude depletion"
    finding = _panel_mg_with_albumin(mg)
    assert finding.flag is not None and finding.flag.value in flags
    said = " ".join(finding.caveats)
    assert ("albumin is low in the same set of samples" in said) is attached


def test_direction_is_checked_in_the_rule_model() -> None:
    """A direction outside low/high is refused when the rules are read."""
    from pydantic import ValidationError

    from labinterp.models import Rule

    assert Rule(id="x", sources=(), direction="low").direction == "low"
    with pytest.raises(ValidationError):
        Rule(id="x", sources=(), direction="down")  # type: ignore[arg-type]


COMPARED = "compared with the reference range"  # caveat.range_lab, patient, en
RANGE_RULES = {"range_lab", "range_catalogue", "range_missing"}


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [("0.05", "mmol/L", "implausible_value"), ("0.8", "g", "incompatible_unit")],
)
def test_no_comparison_text_on_rows_that_were_not_compared(
    value: str, unit: str, status: str
) -> None:
    """An implausible value or a wrong unit is not said to have been compared with a range."""
    rows = [
        {
            **WOMAN,
            "analyte": "magnesium",
            "raw_value": v,
            "raw_unit": u,
            "lab_reference_text": "0.71-0.94",
        }
        for v, u in ((value, unit), ("0.80", "mmol/L"))
    ]
    out = labinterp.interpret(pd.DataFrame(rows))
    assert out["status"].tolist() == [status, "ok"]
    assert out["reference_source"].notna().all()  # a range was there ...
    assert not RANGE_RULES & set(str(out["caveat_rules"].iloc[0]).split("; "))  # ... unused
    assert COMPARED not in str(out["caveats"].iloc[0])
    assert COMPARED in str(out["caveats"].iloc[1])
    for v, u, expected in ((value, unit, False), ("0.80", "mmol/L", True)):
        finding = labinterp.interpret_one(
            "magnesium", v, u, sex="K", age_years=50, reference_text="0.71-0.94"
        )
        assert finding.reference_source is not None
        assert any(COMPARED in c for c in finding.caveats) is expected
    # Without a lab range, neither the catalogue nor the missing-range text is attached.
    out = labinterp.interpret(pd.DataFrame([{**WOMAN, **rows[0], "lab_reference_text": None}]))
    assert not RANGE_RULES & set(str(out["caveat_rules"].iloc[0]).split("; "))


def test_indeterminate_rows_were_compared() -> None:
    """A censored value that spans a limit was compared (undecided): the range text stays."""
    finding = labinterp.interpret_one(
        "magnesium", "<0.8", "mmol/L", sex="K", age_years=50, reference_text="0.71-0.94"
    )
    assert finding.status.value == "indeterminate"
    assert any(COMPARED in c for c in finding.caveats)
