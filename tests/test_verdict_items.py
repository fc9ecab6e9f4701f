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


# --- race-adjusted eGFR is kept, not flagged or staged ----------------------------------

MAN = {"sex": "M", "age_years": 50, "patient_id": "p", "collected_at": "2024-06-01T08:00"}
BLACK_MDRD = "48643-1"  # GFR/1.73 sq M predicted among blacks (MDRD), NLM flowsheet
BLACK_CKD_EPI = "88293-6"  # GFR/1.73 sq M predicted among blacks (CKD-EPI)


@pytest.mark.parametrize(
    "identity",
    [
        {"source_code": BLACK_MDRD},
        {"source_code": BLACK_CKD_EPI},
        {"source_name": "GFR Est MDRD Afric American"},
        {"analyte": "egfr", "source_code": BLACK_MDRD},
    ],
)
def test_race_adjusted_egfr_is_kept_but_not_flagged_or_staged(identity: dict[str, str]) -> None:
    """No race in eGFR (Inker2021; Delgado2021): the row stays, with a reason, unflagged."""
    rows = [
        {
            **MAN,
            **identity,
            "raw_value": "25",
            "raw_unit": "mL/min/1.73m2",
            "lab_reference_text": ">60",
        },
        {**MAN, "analyte": "magnesium", "raw_value": "1.30", "raw_unit": "mmol/L"},
    ]
    out = labinterp.interpret(pd.DataFrame(rows), profile="us")
    assert len(out) == 2
    row = out.iloc[0]
    assert row["analyte"] == "egfr" and row["status"] == "race_adjusted"
    assert row["value_canonical"] == 25.0  # kept as sent
    assert pd.isna(row["flag"]) and pd.isna(row["scheme"]) and pd.isna(row["category"])
    assert "adjustment for race" in row["problem"]
    # Another result does not read it as a kidney function (mg_kidney needs eGFR < 30).
    assert out.iloc[1]["flag"] in ("H", "HH")
    assert "mg_kidney" not in str(out.iloc[1]["caveat_rules"])
    nb = labinterp.interpret(pd.DataFrame(rows), profile="us", lang="nb")
    assert "justering for rase" in nb.iloc[0]["problem"]


def test_race_adjusted_egfr_single_path() -> None:
    """interpret_one and interpret_panel say the same as the frame path."""
    finding = labinterp.interpret_one(
        BLACK_MDRD, "25", "mL/min/1.73m2", sex="M", age_years=50, reference_text=">60"
    )
    assert finding.analyte == "egfr" and finding.status.value == "race_adjusted"
    assert finding.flag is None and finding.category is None and finding.value == 25.0
    assert finding.problem is not None and "adjustment for race" in finding.problem
    panel = labinterp.interpret_panel(
        [
            {"analyte": BLACK_MDRD, "value": "25", "unit": "mL/min/1.73m2"},
            {"analyte": "magnesium", "value": "1.30", "unit": "mmol/L"},
        ],
        sex="M",
        age_years=50,
        profile="us",
    )
    assert panel[0].status.value == "race_adjusted"
    assert not any("kidney function is severely reduced" in c for c in panel[1].caveats)


def test_race_free_egfr_codes_are_interpreted() -> None:
    """The 'non-black' codes are the equations without the race factor: read as eGFR."""
    for code in ("48642-3", "88294-4", "62238-1"):
        out = labinterp.interpret(
            pd.DataFrame(
                [{**MAN, "source_code": code, "raw_value": "55", "raw_unit": "mL/min/1.73m2"}]
            ),
            profile="us",
        )
        assert out["status"].iloc[0] == "ok" and out["category"].iloc[0] == "G3a", code


def test_race_adjusted_entries_must_be_listed_codes_or_names() -> None:
    """A race_adjusted entry that is not among the analyte's codes or aliases is refused."""
    from pydantic import ValidationError

    from labinterp import catalogue
    from labinterp.models import AnalyteSpec

    spec = catalogue.get_analyte("egfr")
    assert {BLACK_MDRD, BLACK_CKD_EPI} <= set(spec.race_adjusted)
    with pytest.raises(ValidationError):
        AnalyteSpec.model_validate({**spec.model_dump(), "race_adjusted": ("99999-9",)})


def test_an_implausible_egfr_does_not_count_as_low() -> None:
    """A context rule reads another result only when its value was read and compared."""
    rows = [
        {**MAN, "analyte": "egfr", "raw_value": "-5", "raw_unit": "mL/min/1.73m2"},
        {**MAN, "analyte": "magnesium", "raw_value": "1.30", "raw_unit": "mmol/L"},
    ]
    out = labinterp.interpret(pd.DataFrame(rows))
    assert out["status"].iloc[0] == "implausible_value"
    assert "mg_kidney" not in str(out["caveat_rules"].iloc[1])
    rows[0]["raw_value"] = "25"
    out = labinterp.interpret(pd.DataFrame(rows))
    assert "mg_kidney" in str(out["caveat_rules"].iloc[1])
