"""Conditions of the health-check panel: sex, fasting state, and another result above a limit.

Sex-specific schemes, the fasting state a code or name says, and context rules on another
result above a threshold.

Each case names its source; both paths (a frame and a single result) must agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue
from labinterp.models import Rule
from labinterp.steps.context import beyond, beyond_one, thresholds


def _frame_row(name: str, value: float, unit: str, **context: Any) -> pd.Series:
    frame = pd.DataFrame(
        [{"source_name": name, "raw_value": str(value), "raw_unit": unit, **context}]
    )
    return labinterp.interpret(frame, profile=context.get("profile", "no")).iloc[0]


# -- HDL: desirable levels for women and for men ---------------------------------------

# labhandbok.no (Lip_Labhandbok_HDL): "HDL-kolesterol bør være ≥1,0 mmol/L hos menn og
# ≥1,3 mmol/L hos kvinner"; the reference interval (Lip_Furst_HDL) is women 1.0-2.7,
# men 0.8-2.1 mmol/L.
HDL_CASES = [
    ("female", 1.2, "N", "HDL_Nordic_female", "below_desirable"),
    ("female", 1.3, "N", "HDL_Nordic_female", "desirable"),
    ("female", 0.9, "L", "HDL_Nordic_female", "below_desirable"),
    ("male", 0.9, "N", "HDL_Nordic_male", "below_desirable"),
    ("male", 1.0, "N", "HDL_Nordic_male", "desirable"),
    ("male", 1.2, "N", "HDL_Nordic_male", "desirable"),
]


@pytest.mark.parametrize("profile", ["no", "se", "dk"])
@pytest.mark.parametrize(("sex", "value", "flag", "scheme", "category"), HDL_CASES)
def test_hdl_desirable_level_depends_on_sex(
    profile: str, sex: str, value: float, flag: str, scheme: str, category: str
) -> None:
    one = labinterp.interpret_one(
        "hdl_cholesterol", value, "mmol/L", sex=sex, age_years=45, profile=profile
    )
    assert (one.flag, one.scheme, one.category) == (flag, scheme, category)
    row = _frame_row("HDL-kolesterol", value, "mmol/L", sex=sex, age_years=45, profile=profile)
    assert (row["flag"], row["scheme"], row["category"]) == (flag, scheme, category)


def test_hdl_without_a_sex_or_an_age_says_both() -> None:
    en = catalogue.text_catalogue("en")
    one = labinterp.interpret_one("hdl_cholesterol", 1.2, "mmol/L", profile="no")
    assert one.category is None
    assert en["note.scheme_sex_unknown.patient"].text in one.caveats
    assert en["note.scheme_age_unknown.patient"].text in one.caveats


def test_hdl_without_a_sex_under_the_us_profile_has_no_scheme_note() -> None:
    """The US profile has no HDL scheme (Mayo's sex-specific limits are the range itself)."""
    note = catalogue.text_catalogue("en")["note.scheme_sex_unknown.patient"].text
    one = labinterp.interpret_one("hdl_cholesterol", 45, "mg/dL", age_years=45, profile="us")
    assert one.category is None and note not in one.caveats


def test_hdl_without_a_sex_gets_no_category_and_says_why() -> None:
    note = catalogue.text_catalogue("en")["note.scheme_sex_unknown.patient"].text
    one = labinterp.interpret_one("hdl_cholesterol", 1.2, "mmol/L", age_years=45, profile="no")
    assert one.category is None and note in one.caveats
    row = _frame_row("HDL-kolesterol", 1.2, "mmol/L", age_years=45, profile="no")
    assert pd.isna(row["category"]) and note in row["caveats"]


def test_a_scheme_for_one_sex_must_name_a_sex() -> None:
    with pytest.raises(ValueError, match="sex"):
        catalogue.schemes()["HDL_Nordic_female"].model_validate(
            {
                **catalogue.schemes()["HDL_Nordic_female"].model_dump(),
                "sex": "unknown",
            }
        )


def test_hdl_in_mg_dl_is_converted_before_the_desirable_level() -> None:
    """47 mg/dL is 1.2155 mmol/L (factor 38.67, LHNCBC_FlowsheetLOINC), reported 1.2."""
    one = labinterp.interpret_one(
        "hdl_cholesterol", 47, "mg/dL", sex="female", age_years=45, profile="no"
    )
    assert one.category == "below_desirable"


# -- triglycerides: the fasting state the code or name says -------------------------------

# Lip_EAS2016_NonFasting, Table 3: a non-fasting triglyceride is flagged from 2 mmol/L
# (175 mg/dL); Lip_HMR_Triglycerider: fasting reference interval >= 18 y 0.45-2.60 mmol/L;
# TG_ESC2019: optimal < 1.7 mmol/L (fasting); Lip_Furst_FSTriglyserider: > 10 mmol/L
# pancreatitis risk. TRIIKFAS is Fürst's non-fasting test (Lip_Furst_TriglyseriderIkkeFastende).
TG_CASES = [
    ("TRIIKFAS", 1.99, "mmol/L", "no", "N", 2.0, "desirable"),
    ("TRIIKFAS", 2.0, "mmol/L", "no", "H", 2.0, "raised"),
    ("TRIIKFAS", 10.0, "mmol/L", "dk", "H", 2.0, "raised"),
    ("TRIIKFAS", 10.01, "mmol/L", "se", "H", 2.0, "pancreatitis_risk"),
    ("fS-Triglyserider", 2.0, "mmol/L", "no", "N", 2.6, "raised"),
    ("fS-Triglyserider", 1.6, "mmol/L", "no", "N", 2.6, "optimal"),
    ("Triglyserider", 2.0, "mmol/L", "no", "N", 2.6, "raised"),
    ("NPU04094", 2.0, "mmol/L", "no", "N", 2.6, "raised"),
    ("TRIIKFAS", 174, "mg/dL", "us", "N", 175, "desirable"),
    ("TRIIKFAS", 175, "mg/dL", "us", "H", 175, "raised"),
]


@pytest.mark.parametrize(("name", "value", "unit", "profile", "flag", "high", "category"), TG_CASES)
def test_triglycerides_are_read_against_the_fasting_state_the_name_says(
    name: str, value: float, unit: str, profile: str, flag: str, high: float, category: str | None
) -> None:
    one = labinterp.interpret_one(name, value, unit, sex="male", age_years=50, profile=profile)
    assert (one.flag, one.reference_high, one.category) == (flag, high, category)
    row = _frame_row(name, value, unit, sex="male", age_years=50, profile=profile)
    assert (row["flag"], row["reference_high"]) == (flag, high)
    assert (None if pd.isna(row["category"]) else row["category"]) == category


def test_each_fasting_state_gets_its_own_caveat() -> None:
    en = catalogue.text_catalogue("en")
    fasting = en["caveat.triglycerides_fasting.patient"].text
    non_fasting = en["caveat.triglycerides_non_fasting.patient"].text
    said = {
        name: labinterp.interpret_one(name, 1.5, "mmol/L", sex="male", age_years=50).caveats
        for name in ("Triglyserider", "fS-Triglyserider", "TRIIKFAS")
    }
    assert fasting in said["Triglyserider"] and non_fasting not in said["Triglyserider"]
    assert fasting not in said["fS-Triglyserider"] and non_fasting not in said["fS-Triglyserider"]
    assert non_fasting in said["TRIIKFAS"] and fasting not in said["TRIIKFAS"]


def test_a_laboratory_range_is_not_said_to_be_the_non_fasting_limit() -> None:
    """With the lab's own range, the caveat about the catalogue's non-fasting limit is wrong."""
    non_fasting = catalogue.text_catalogue("en")["caveat.triglycerides_non_fasting.patient"].text
    one = labinterp.interpret_one(
        "TRIIKFAS", 2.3, "mmol/L", sex="male", age_years=50, reference_text="0.45-2.60"
    )
    assert (one.flag, one.reference_high) == ("N", 2.6)
    assert non_fasting not in one.caveats
    row = _frame_row(
        "TRIIKFAS", 2.3, "mmol/L", sex="male", age_years=50, lab_reference_text="0.45-2.60"
    )
    assert non_fasting not in row["caveats"]


def test_a_child_s_non_fasting_result_uses_the_fasting_interval_and_says_so() -> None:
    """No non-fasting limit under 18 y: HMR's 1-18 y fasting interval (0.43-2.75 mmol/L)."""
    en = catalogue.text_catalogue("en")
    one = labinterp.interpret_one("TRIIKFAS", 2.5, "mmol/L", sex="female", age_years=10)
    assert (one.flag, one.reference_high, one.category) == ("N", 2.75, None)
    assert en["caveat.triglycerides_non_fasting.patient"].text in one.caveats
    assert en["note.scheme_adults_only.patient"].text in one.caveats  # the non-fasting scheme
    assert en["caveat.triglycerides_fasting.patient"].text not in one.caveats


def test_a_us_child_s_non_fasting_result_has_no_range() -> None:
    """The US catalogue has no children's triglyceride row (Lip_Mayo_LPSC: adults 18 and up)."""
    one = labinterp.interpret_one("TRIIKFAS", 150, "mg/dL", sex="male", age_years=10, profile="us")
    assert one.flag is None and one.reference_high is None
    assert str(one.status) == "no_reference"


# -- calculated LDL with high triglycerides: a rule on another result "above" ----------------

# Lip_NHANES_TRIGLY_I: Friedewald "valid for triglycerides <= 400 mg/dL" (4.516 mmol/L with
# its factor 0.01129); Lip_NHI_LDLKalkulator: "mindre enn 4,5 mmol/l". The rule fires above
# 400 mg/dL.
LDL_CASES = [
    (4.51, "mmol/L", "no", False),
    (4.52, "mmol/L", "no", True),
    (6.0, "mmol/L", "se", True),
    (400, "mg/dL", "us", False),
    (401, "mg/dL", "us", True),
]


@pytest.mark.parametrize(("tg", "unit", "profile", "fires"), LDL_CASES)
def test_calculated_ldl_is_doubted_when_triglycerides_are_above_400_mg_dl(
    tg: float, unit: str, profile: str, fires: bool
) -> None:
    caveat = catalogue.text_catalogue("en")["caveat.ldl_high_triglycerides.patient"].text
    panel = labinterp.interpret_panel(
        [
            {"analyte": "ldl_cholesterol", "value": 3.1, "unit": "mmol/L"},
            {"analyte": "triglycerides", "value": tg, "unit": unit},
        ],
        sex="female",
        age_years=50,
        collected_at="2026-03-01T08:00",
        profile=profile,
    )
    assert (caveat in panel[0].caveats) is fires
    frame = pd.DataFrame(
        {
            "patient_id": ["p", "p"],
            "collected_at": ["2026-03-01T08:00"] * 2,
            "analyte": ["ldl_cholesterol", "triglycerides"],
            "raw_value": ["3.1", str(tg)],
            "raw_unit": ["mmol/L", unit],
            "sex": ["female"] * 2,
            "age_years": [50, 50],
        }
    )
    rules = str(labinterp.interpret(frame, profile=profile)["caveat_rules"].iloc[0])
    assert ("ldl_high_triglycerides" in rules) is fires


def test_an_above_threshold_is_converted_to_the_reporting_unit() -> None:
    """4.5 mmol/L of triglycerides is 398.6 mg/dL (88.57 mg/dL per mmol/L, NHANES 0.01129)."""
    rule = Rule.model_validate(
        {"id": "t", "sources": [], "with": {"analyte": "triglycerides", "above": 4.5}}
    )
    assert thresholds(rule, {"triglycerides": "mmol/L"}) == (None, pytest.approx(4.5))
    assert thresholds(rule, {"triglycerides": "mg/dL"})[1] == pytest.approx(4.5 / 0.01129, 1e-4)
    in_mg = Rule.model_validate(
        {
            "id": "t",
            "sources": [],
            "with": {"analyte": "triglycerides", "above": 400, "unit": "mg/dL"},
        }
    )
    assert thresholds(in_mg, {"triglycerides": "mg/dL"}) == (None, 400.0)
    assert thresholds(in_mg, {"triglycerides": "mmol/L"})[1] == pytest.approx(400 * 0.01129, 1e-4)


# -- a censored result meets a threshold only if every value it stands for does ------------

values = st.floats(-50, 50, allow_nan=False)
bounds = st.one_of(st.none(), st.floats(-50, 50, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(values, st.sampled_from(["", "<", "<=", ">", ">="])), min_size=1),
    bounds,
    bounds,
)
def test_beyond_is_what_every_value_a_censored_result_stands_for_meets(
    rows: list[tuple[float, str]], below: float | None, above: float | None
) -> None:
    """The array and scalar readings agree, and agree with the values a comparator allows.

    ``<v`` stands for values just under v, ``<=v`` for v and under, and so on: a
    condition holds if it holds at the end of that interval that is hardest for it.
    """
    value = np.array([v for v, _ in rows])
    comparator = np.array([c for _, c in rows], dtype=object)
    got = beyond(value, comparator, below, above)
    for i, (v, c) in enumerate(rows):
        assert got[i] == beyond_one(v, c, below, above)
        highest = math.inf if c in (">", ">=") else v  # the largest value it stands for
        lowest = -math.inf if c in ("<", "<=") else v
        strict_top = c == "<"  # the top value itself is excluded
        strict_bottom = c == ">"
        ok_below = below is None or (highest <= below if strict_top else highest < below)
        ok_above = above is None or (lowest >= above if strict_bottom else lowest > above)
        assert got[i] == (ok_below and ok_above)


def test_a_censored_triglyceride_doubts_ldl_only_when_surely_above_the_limit() -> None:
    """TG '<5' may be under 4.516 mmol/L and '>4.5' may be too; '>5' is surely above."""

    def fires(value: str) -> bool:
        frame = pd.DataFrame(
            {
                "patient_id": ["p", "p"],
                "collected_at": ["2026-03-01T08:00"] * 2,
                "analyte": ["ldl_cholesterol", "triglycerides"],
                "raw_value": ["3.1", value],
                "raw_unit": ["mmol/L", "mmol/L"],
                "sex": ["female"] * 2,
                "age_years": [50, 50],
            }
        )
        rules = str(labinterp.interpret(frame, profile="no")["caveat_rules"].iloc[0])
        panel = labinterp.interpret_panel(
            [
                {"analyte": "ldl_cholesterol", "value": 3.1, "unit": "mmol/L"},
                {"analyte": "triglycerides", "value": value, "unit": "mmol/L"},
            ],
            sex="female",
            age_years=50,
            collected_at="2026-03-01T08:00",
        )
        caveat = catalogue.text_catalogue("en")["caveat.ldl_high_triglycerides.patient"].text
        assert ("ldl_high_triglycerides" in rules) == (caveat in panel[0].caveats)
        return "ldl_high_triglycerides" in rules

    assert not fires("<5")
    assert not fires(">4.5")
    assert fires(">5")
    assert fires("6.0")


@pytest.mark.parametrize(("value", "fires"), [("400", False), (">400", True), ("401", True)])
def test_the_us_limit_is_friedewald_s_own_400_mg_dl(value: str, fires: bool) -> None:
    """Stated in mg/dL as NHANES states it, the threshold is 400 mg/dL exactly there."""
    caveat = catalogue.text_catalogue("en")["caveat.ldl_high_triglycerides.patient"].text
    panel = labinterp.interpret_panel(
        [
            {"analyte": "ldl_cholesterol", "value": 120, "unit": "mg/dL"},
            {"analyte": "triglycerides", "value": value, "unit": "mg/dL"},
        ],
        sex="female",
        age_years=50,
        collected_at="2026-03-01T08:00",
        profile="us",
    )
    assert (caveat in panel[0].caveats) is fires
