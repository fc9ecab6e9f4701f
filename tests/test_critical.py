"""Critical limits where the reference range is undecided or is the lab's own.

A critical (phone) limit that is the same in every catalogue band that could apply is
used when the sex or age is missing: the row is flagged ``LL``/``HH`` beyond it, while
its reference range stays undecided (``missing_context``). The catalogue's critical
limits also stand beside a lab range that carries none. Limits: Nordic catalogue,
magnesium 0.50/2.00 mmol/L in every age band (Unilabs_PMagnesium, Furst_SMagnesium),
creatinine above 400 µmol/L in every age and sex band (Unilabs_PKreatinin).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.catalogue import load_range_catalogue
from labinterp.io.readers.hl7 import parse_hl7
from labinterp.models import ReferenceRange
from labinterp.steps.flags import flag_one, flags
from labinterp.steps.ranges import (
    CRITICAL_CITATION,
    LAB_CITATION,
    agreed_critical_limits,
    choose_catalogue_range,
)
from labinterp.units import Affine, conversion

EXAMPLES = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

NOTE = "the critical limits are from the reference catalogue"


def _frame(rows: list[dict[str, object]], **kwargs: object) -> pd.DataFrame:
    columns = ["analyte", "raw_value", "raw_unit", "sex", "age_years", "lab_reference_text"]
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    return labinterp.interpret(frame, **kwargs)  # type: ignore[arg-type]


# -- sex or age missing: the limits every band agrees on ---------------------------------

MG = ("Unilabs_PMagnesium", "Furst_SMagnesium")
CASES = [
    # analyte, value, unit, sex, age, flag, critical_low, critical_high, sources cited
    ("magnesium", "0.3", "mmol/L", None, None, "LL", 0.50, 2.00, MG),
    ("magnesium", "2.4", "mmol/L", "F", None, "HH", 0.50, 2.00, MG),
    ("magnesium", "0.6", "mmol/L", None, None, "", 0.50, 2.00, MG),
    ("creatinine", "900", "µmol/L", None, None, "HH", math.nan, 400.0, ("Unilabs_PKreatinin",)),
    ("creatinine", "900", "µmol/L", None, 40.0, "HH", math.nan, 400.0, ("Unilabs_PKreatinin",)),
    ("creatinine", "900", "µmol/L", "M", None, "HH", math.nan, 400.0, ("Unilabs_PKreatinin",)),
    ("creatinine", "150", "µmol/L", None, None, "", math.nan, 400.0, ("Unilabs_PKreatinin",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "sex", "age", "flag", "low", "high", "cited"), CASES
)
def test_agreed_critical_limits_without_sex_or_age(
    analyte: str,
    value: str,
    unit: str,
    sex: str | None,
    age: float | None,
    flag: str,
    low: float,
    high: float,
    cited: tuple[str, ...],
) -> None:
    """Mg 0.3 mmol/L and creatinine 900 µmol/L are critical whatever the missing sex or age.

    The range stays undecided (missing_context, no L/N/H); both paths give the same row.
    """
    one = labinterp.interpret_one(analyte, value, unit, sex=sex, age_years=age)
    frame = _frame(
        [{"analyte": analyte, "raw_value": value, "raw_unit": unit, "sex": sex, "age_years": age}]
    )
    row = frame.iloc[0]
    assert one.status is labinterp.Status.MISSING_CONTEXT
    assert row["status"] == "missing_context"
    assert (one.flag.value if one.flag else "") == flag
    assert (row["flag"] if isinstance(row["flag"], str) else "") == flag
    assert one.reference_low is None and one.reference_high is None
    assert one.reference_source is None and pd.isna(row["reference_source"])
    assert (one.critical_low or math.nan) == pytest.approx(low, nan_ok=True)
    assert row["critical_low"] == pytest.approx(low, nan_ok=True)
    assert one.critical_high == pytest.approx(high)
    assert row["critical_high"] == pytest.approx(high)
    citation = one.reference_citation or ""
    assert citation == row["reference_citation"]
    assert citation.startswith(CRITICAL_CITATION)
    assert all(source in citation for source in cited)


def test_known_context_is_unchanged() -> None:
    """With sex and age known, the covering band gives range and critical limits as before."""
    one = labinterp.interpret_one("creatinine", "900", "µmol/L", sex="F", age_years=40)
    assert (one.status, one.flag) == (labinterp.Status.OK, labinterp.Flag.HH)
    assert one.reference_source == "catalogue:nordic"
    assert one.reference_citation is not None
    assert one.reference_citation.startswith("Unilabs_PKreatinin")


# -- bands that disagree give no critical limit ----------------------------------------

_INFO = 'name = "split"\ntitle = "t"\nversion = "1"\npopulation = "p"\ndescription = "d"\n'
_HEADER = (
    "analyte,specimen,sex,age_min,age_max,unit,low,high,low_inclusive,high_inclusive,"
    "critical_low,critical_high,source,locator,note\n"
)


@pytest.fixture
def split(tmp_path: Path) -> Path:
    """Magnesium bands whose lower critical limits differ and upper ones agree."""
    (tmp_path / "catalogue.toml").write_text(_INFO, encoding="utf-8")
    (tmp_path / "ranges.csv").write_text(
        _HEADER + "magnesium,serum_plasma,female,18,,mmol/L,0.71,0.94,true,true,0.40,2.00,"
        "Furst_SMagnesium,a,\n"
        + "magnesium,serum_plasma,male,18,,mmol/L,0.71,0.94,true,true,0.50,2.00,"
        "Furst_SMagnesium,b,\n" + "creatinine,serum_plasma,female,18,,umol/L,45,90,true,true,,400,"
        "Unilabs_PKreatinin,c,\n" + "creatinine,serum_plasma,male,18,,umol/L,60,105,true,true,,500,"
        "Unilabs_PKreatinin,d,\n",
        encoding="utf-8",
    )
    return tmp_path


def test_bands_that_disagree_give_no_critical_limit(split: Path) -> None:
    """Only the limit every possible band states alike is used; the other stays open."""
    cat = load_range_catalogue(split)
    mg = choose_catalogue_range(cat, "magnesium", "mmol/L", sex="", age=40.0, lab_used=False)
    assert math.isnan(mg.critical_low) and mg.critical_high == 2.0
    assert mg.problem is not None and mg.problem[0] is labinterp.ReasonCode.MISSING_CONTEXT
    cr = choose_catalogue_range(cat, "creatinine", "umol/L", sex="", age=40.0, lab_used=False)
    assert math.isnan(cr.critical_low) and math.isnan(cr.critical_high)
    assert cr.citation is None
    lab = choose_catalogue_range(cat, "creatinine", "umol/L", sex="", age=40.0, lab_used=True)
    assert (lab.critical_note, lab.citation, lab.problem) == (False, None, None)
    # The frame path uses the same choice.
    out = _frame(
        [
            {"analyte": "magnesium", "raw_value": "0.45", "raw_unit": "mmol/L", "age_years": 40},
            {"analyte": "magnesium", "raw_value": "2.5", "raw_unit": "mmol/L", "age_years": 40},
            {"analyte": "creatinine", "raw_value": "900", "raw_unit": "µmol/L", "age_years": 40},
        ],
        catalogue=split,
    )
    assert out["flag"].astype(object).where(out["flag"].notna(), "").tolist() == ["", "HH", ""]
    assert out["status"].tolist() == ["missing_context"] * 3


def test_agreed_critical_limits_compares_in_the_reporting_unit() -> None:
    """Rows in mg/dL and mmol/L agree when their limits are the same amount."""
    us = load_range_catalogue("us")
    rows = [
        (spec, conversion(spec.unit, "mmol/L", "magnesium")) for spec in us.for_analyte("magnesium")
    ]
    (low, low_inclusive), (high, high_inclusive), cited = agreed_critical_limits(rows)
    # Ridgeview_Magnesium: < 1.0 and > 5.0 mg/dL in every age band; 1 mmol/L = 2.4305 mg/dL.
    assert low == pytest.approx(1.0 / 2.4305) and high == pytest.approx(5.0 / 2.4305)
    assert not low_inclusive and not high_inclusive  # "<" and ">": strict
    assert cited is not None and cited.count("Fairview_Magnesium") == 1
    assert "critical limits: Ridgeview_Magnesium" in cited


@pytest.mark.parametrize("age", [0.0, 3.0, 40.0])
def test_us_magnesium_critical_high_is_the_median_us_limit(age: float) -> None:
    """US Mg critical limits < 1.0 / > 5.0 mg/dL (Ridgeview_Magnesium), in every age band.

    5.0 mg/dL is the median critical-high limit of nine US laboratories (4.0-7.0 mg/dL);
    Fairview's > 7.0 mg/dL is no longer used.
    """
    rows = load_range_catalogue("us").for_analyte("magnesium")
    band = [
        s
        for s in rows
        if (s.age_min is None or s.age_min <= age) and (s.age_max is None or age < s.age_max)
    ]
    assert len(band) == 1
    spec = band[0]
    assert (spec.critical_low, spec.critical_high) == (1.0, 5.0)
    assert spec.source == "Fairview_Magnesium"  # the reference interval's source
    assert "critical limits: Ridgeview_Magnesium" in spec.locator
    assert ">5.0 mg/dL" in spec.locator


@pytest.mark.parametrize(
    ("value", "flag"), [("4.9", "H"), ("5.0", "H"), ("5.1", "HH"), ("0.9", "LL")]
)
def test_us_magnesium_flags_at_the_ridgeview_limits(value: str, flag: str) -> None:
    """Adult US Mg: above 5.0 mg/dL is HH (Ridgeview_Magnesium), 5.0 itself is H."""
    one = labinterp.interpret_one("magnesium", value, "mg/dL", sex="F", age_years=40, profile="us")
    assert one.flag == labinterp.Flag(flag)
    assert one.reference_citation is not None
    assert "critical limits: Ridgeview_Magnesium" in one.reference_citation


# -- the lab's own range: the catalogue's critical limits stand beside it ------------------

_MSH = "MSH|^~\\&|LAB|SITE|EHR|SITE|20240105083000||ORU^R01^ORU_R01|CTRL-1|P|2.5.1"


@pytest.mark.parametrize("birth", ["", "19700102"])
def test_hl7_magnesium_with_the_labs_range_is_critical(birth: str) -> None:
    """Mg 0.45 mmol/L, lab range 0.71-0.94 and lab flag LL: LL, agreeing with the lab.

    With and without a birth date (age): the lower alert limit 0.50 mmol/L is the same in
    every Nordic magnesium band, so the patient's age does not matter.
    """
    text = "\r".join(
        [
            _MSH,
            f"PID|1||TEST-1^^^SITE^MR||Doe^Jane||{birth}|F",
            "OBR|1|ORD-1^EHR|FIL-1^LAB|2601-3^Magnesium^LN|||202401050810",
            "OBX|1|NM|2601-3^Magnesium^LN||0.45|mmol/L|0.71-0.94|LL|||F",
        ]
    )
    out = labinterp.interpret(parse_hl7(text + "\r"))
    row = out.iloc[0]
    assert (row["flag"], row["lab_flag"], bool(row["agrees_with_lab"])) == ("LL", "LL", True)
    assert row["status"] == "ok"
    assert row["reference_source"] == "lab"
    assert (row["reference_low"], row["reference_high"]) == (0.71, 0.94)
    assert (row["critical_low"], row["critical_high"]) == (0.50, 2.00)
    citation = row["reference_citation"]
    assert citation.startswith(f"{LAB_CITATION}; {CRITICAL_CITATION}")
    assert "Furst_SMagnesium" in citation
    assert NOTE in row["caveats"]
    # The single path gives the same.
    age = None if not birth else 53.0
    one = labinterp.interpret_one(
        "2601-3", "0.45", "mmol/L", sex="F", age_years=age, reference_text="0.71-0.94",
        lab_flag="LL",
    )  # fmt: skip
    assert (one.flag, one.agrees_with_lab) == (labinterp.Flag.LL, True)
    assert (one.critical_low, one.critical_high) == (0.50, 2.00)
    assert one.reference_citation is not None and "Furst_SMagnesium" in one.reference_citation
    assert any(NOTE in c for c in one.caveats)


# -- the flag rule without a range: only LL or HH -----------------------------------------

limit = st.one_of(st.none(), st.floats(-5, 200, allow_nan=False))
number = st.one_of(st.floats(-10, 250, allow_nan=False), st.just(math.nan))
comparators = st.sampled_from(["", "<", "<=", ">", ">="])


@PROPERTY
@given(
    st.lists(st.tuples(number, comparators, limit, limit, st.booleans()), min_size=1, max_size=12)
)
def test_flags_without_a_range_equal_flag_one(
    rows: list[tuple[float, str, float | None, float | None, bool]],
) -> None:
    """Without a decided range the two paths give LL, HH or nothing, and agree row by row."""
    crit = [
        (lo, hi) if lo is None or hi is None or lo <= hi else (hi, lo) for _, _, lo, hi, _ in rows
    ]

    def nan(x: float | None) -> float:
        return math.nan if x is None else x

    n = len(rows)
    known = np.array([r[4] for r in rows])
    result = flags(
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows], dtype=object),
        np.full(n, np.nan),
        np.full(n, np.nan),
        np.ones(n, dtype=bool),
        np.ones(n, dtype=bool),
        np.array([nan(lo) for lo, _ in crit]),
        np.array([nan(hi) for _, hi in crit]),
        range_known=known,
    )
    for i, (value, cmp, _, _, is_known) in enumerate(rows):
        expected = flag_one(
            value, cmp, None, None, True, True, crit[i][0], crit[i][1], range_known=is_known
        )
        assert expected == (result.flag[i], bool(result.indeterminate[i]))
        if not is_known:
            assert result.flag[i] in ("LL", "HH", "")


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "flag", "inclusive"),
    [
        # Gap_ARUP_CriticalValues: 'Platelet Count ≤ 20 or ≥ 1000 x 10^3/µL' (inclusive)
        ("platelets", 20, "10^9/L", "LL", (True, True)),
        ("platelets", 1000, "10^9/L", "HH", (True, True)),
        # 'Hemoglobin ≤7 or > 21.0 g/dL': inclusive low, strict high
        ("hemoglobin", 21.0, "g/dL", "H", (True, False)),
        # 'Sodium < 120 or > 160 mmol/L': strict
        ("sodium", 120, "mmol/L", "L", (False, False)),
    ],
)
def test_a_critical_limit_the_source_states_inclusive_is_critical_at_the_limit(
    analyte: str, value: float, unit: str, flag: str, inclusive: tuple[bool, bool]
) -> None:
    """Both paths flag a value at an inclusive critical limit critical, and say so."""
    one = labinterp.interpret_one(analyte, value, unit, sex="female", age_years=40, profile="us")
    assert one.flag == flag
    assert (one.critical_low_inclusive, one.critical_high_inclusive) == inclusive
    frame = pd.DataFrame(
        [{"analyte": analyte, "raw_value": str(value), "raw_unit": unit, "sex": "female",
          "age_years": 40}]
    )  # fmt: skip
    row = labinterp.interpret(frame, profile="us").iloc[0]
    assert row["flag"] == flag
    assert (row["critical_low_inclusive"], row["critical_high_inclusive"]) == inclusive


def test_no_critical_limit_has_no_inclusiveness() -> None:
    """An analyte without critical limits leaves both inclusive columns empty."""
    one = labinterp.interpret_one("ferritin", 50, "µg/L", sex="female", age_years=40, profile="no")
    assert one.critical_low is None and one.critical_low_inclusive is None
    frame = pd.DataFrame(
        [{"analyte": "ferritin", "raw_value": "50", "raw_unit": "µg/L", "sex": "female",
          "age_years": 40}]
    )  # fmt: skip
    row = labinterp.interpret(frame, profile="no").iloc[0]
    assert pd.isna(row["critical_low_inclusive"]) and pd.isna(row["critical_high_inclusive"])


def test_bands_that_differ_only_in_inclusiveness_agree_on_the_strict_limit() -> None:
    """≤ 7 in one band and < 7 in another: 7 is critical only if it is in every band."""
    base = {
        "analyte": "hemoglobin", "specimen": "blood", "unit": "g/dL", "low": 11.6,
        "high": 15.0, "critical_low": 7.0, "source": "X", "locator": "y",
    }  # fmt: skip
    rows = [
        (ReferenceRange.model_validate({**base, "sex": "female", "critical_low_inclusive": True}),
         Affine(1.0)),
        (ReferenceRange.model_validate({**base, "sex": "male"}), Affine(1.0)),
    ]  # fmt: skip
    (low, low_inclusive), _, cited = agreed_critical_limits(rows)
    assert (low, low_inclusive) == (7.0, False) and cited is not None


@pytest.mark.parametrize(("value", "unit"), [(2000, "/mm3"), (2, "K/uL"), (2000, "/uL")])
def test_a_converted_value_at_an_inclusive_critical_limit_is_critical(
    value: float, unit: str
) -> None:
    """2000 /mm³ converts to 2.0000000000000004 × 10⁹/L; without the noise it is 2.0: LL.

    Gap_ARUP_CriticalValues: 'White Blood Cell Count ≤ 2.0 or ≥ 40 x 10^3/µL'.
    """
    one = labinterp.interpret_one("leukocytes", value, unit, sex="male", age_years=40, profile="us")
    assert one.flag == "LL"
    frame = pd.DataFrame(
        [{"analyte": "leukocytes", "raw_value": str(value), "raw_unit": unit, "sex": "male",
          "age_years": 40}]
    )  # fmt: skip
    assert labinterp.interpret(frame, profile="us")["flag"].iloc[0] == "LL"
