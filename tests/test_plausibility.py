"""Impossible values are never ok, and likely unit mix-ups are named, in both paths.

The limits are those of ``analytes.toml``; each parametrized case names the source of
the limit it exercises.
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue
from labinterp.steps import plausibility
from labinterp.steps.state import CLASSIFIABLE
from labinterp.units import conversion, normalise_unit
from labinterp.values import parse_value

TEXT_DIR = Path(labinterp.__file__).parent / "data" / "text"
BELOW = plausibility.PLAUSIBLE_BELOW
EXAMPLES = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))

#: Problem constants and their text catalogue ids.
PROBLEMS = {
    "implausible_not_finite": plausibility.NOT_FINITE,
    "implausible_negative": plausibility.NEGATIVE,
    "implausible_below": plausibility.PLAUSIBLE_BELOW,
    "implausible_above": plausibility.PLAUSIBLE_ABOVE,
    "likely_unit_below": plausibility.LIKELY_UNIT_BELOW,
    "likely_unit_above": plausibility.LIKELY_UNIT_ABOVE,
    "likely_unit_unusual": plausibility.LIKELY_UNIT_UNUSUAL,
}


def both_paths(analyte: str, value: object, unit: str, profile: str = "no") -> list[tuple]:
    """Status, flag, problem and value of one result, from interpret_one and from a frame."""
    one = labinterp.interpret_one(analyte, value, unit, sex="F", age_years=50, profile=profile)
    row = labinterp.interpret(
        pd.DataFrame(
            {
                "analyte": [analyte],
                "raw_value": pd.Series([value], dtype=object),
                "raw_unit": [unit],
                "sex": ["F"],
                "age_years": [50],
            }
        ),
        profile=profile,
    ).iloc[0]
    flag = row["flag"] if isinstance(row["flag"], str) else None
    problem = row["problem"] if isinstance(row["problem"], str) else None
    return [
        (one.status.value, one.flag.value if one.flag else None, one.problem, one.value),
        (row["status"], flag, problem, row["value"]),
    ]


def test_every_analyte_has_cited_plausibility_limits() -> None:
    """Every analyte has a lower limit (cited, or the physical 0) and every limit a source."""
    sources = catalogue.sources()
    for key, spec in catalogue.analytes().items():
        if spec.unit is None:  # a category alone (the CKD prognosis) has no value
            continue
        assert spec.plausible_low is not None and spec.plausible_low >= 0, key
        for limit in ("plausible_low", "plausible_high", "usual_low", "usual_high"):
            if getattr(spec, limit) is not None:
                assert getattr(spec, f"{limit}_source") in sources, (key, limit)
                assert getattr(spec, f"{limit}_locator"), (key, limit)


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "problem"),
    [
        # a concentration (here a ratio of amounts) is never negative: Hoelzel2004
        ("hba1c", -3, "mmol/mol", plausibility.NEGATIVE),
        ("crp", "-0,5", "mg/L", plausibility.NEGATIVE),  # IUPAC_MassConcentration
        ("egfr", "-5", "mL/min/1.73m2", plausibility.NEGATIVE),  # KidneyEpi_R
        # beyond the range of a float: never a measured result
        pytest.param("magnesium", "9" * 309, "mmol/L", plausibility.NOT_FINITE, id="309 digits"),
        pytest.param("ferritin", 10**400, "ug/L", plausibility.NOT_FINITE, id="int 10**400"),
        pytest.param("ferritin", -(10**5000), "ug/L", plausibility.NOT_FINITE, id="-10**5000"),
        ("vitamin_d_25oh", "1E+400", "nmol/L", plausibility.NOT_FINITE),
        ("creatinine", math.inf, "µmol/L", plausibility.NOT_FINITE),
        ("creatinine", "1e307", "mg/dL", plausibility.NOT_FINITE),  # overflows converted
        ("ferritin", "<1e400", "ug/L", plausibility.NOT_FINITE),  # censored, still refused
        # below the lowest reportable ferritin (FDA_K193650_LiaisonFerritin), in any unit
        ("ferritin", "0,2", "µg/L", BELOW.format(source="FDA_K193650_LiaisonFerritin")),
        # magnesium technical range (Reditus_MagnesiumC502); 0.05 mg/dL is no better
        ("magnesium", "0,05", "mmol/L", BELOW.format(source="Reditus_MagnesiumC502")),
    ],
)
def test_impossible_values_are_implausible(
    analyte: str, value: object, unit: str, problem: str
) -> None:
    """Negative, overflowing and out-of-limit values get implausible_value and no flag."""
    for status, flag, said, _ in both_paths(analyte, value, unit):
        assert (status, flag, said) == ("implausible_value", None, problem)


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "problem", "likely", "profile"),
    [
        # 50,000 ug/L is above the usual 10,000 ug/L (Allen2008); 50 ug/L is everyday
        ("ferritin", "50", "mg/L", plausibility.LIKELY_UNIT_UNUSUAL, "µg/L", "no"),
        ("ferritin", "50", "mg/L", plausibility.LIKELY_UNIT_UNUSUAL, "ng/mL", "us"),
        # under the usual 20 mmol/mol (ExeterDiabetes_EHRBiomarkr), 6.5 % is usual
        ("hba1c", "6,5", "mmol/mol", plausibility.LIKELY_UNIT_UNUSUAL, "%", "no"),
        ("hba1c", "14", "mmol/mol", plausibility.LIKELY_UNIT_UNUSUAL, "%", "no"),
        # above 195 mmol/mol (ExeterDiabetes_EHRBiomarkr); 48 mmol/mol is usual
        ("hba1c", "48", "%", plausibility.LIKELY_UNIT_ABOVE, "mmol/mol", "no"),
        ("hba1c", "48", "%", plausibility.LIKELY_UNIT_ABOVE, "mmol/mol", "us"),
        # under 5.3 umol/L (Reditus_CreatininePlusC502): 1.1 mg/dL is 97 umol/L
        ("creatinine", "1,1", "µmol/L", plausibility.LIKELY_UNIT_BELOW, "mg/dL", "no"),
        # above 2500 umol/L (ExeterDiabetes_EHRBiomarkr): 88 umol/L is usual
        ("creatinine", "88", "mg/dL", plausibility.LIKELY_UNIT_ABOVE, "µmol/L", "no"),
        ("creatinine", "88", "mg/dL", plausibility.LIKELY_UNIT_ABOVE, "µmol/L", "us"),
        # albumin 10-60 g/L, haemoglobin 30-250 g/L (ExeterDiabetes_EHRBiomarkr)
        ("albumin", "3,8", "g/L", plausibility.LIKELY_UNIT_BELOW, "g/dL", "no"),
        # 13.5 is also usual in mmol/L (Danish units, 1 mmol/L = 16.1145 g/L, ICSH1995)
        ("hemoglobin", "13,5", "g/L", plausibility.LIKELY_UNIT_BELOW, "mmol/L, g/dL", "se"),
    ],
)
def test_likely_unit_mix_ups_name_the_unit(
    analyte: str, value: str, unit: str, problem: str, likely: str, profile: str
) -> None:
    """A value usual only in another unit gets likely_unit_error naming it; never changed."""
    for status, flag, said, number in both_paths(analyte, value, unit, profile):
        assert (status, flag, said) == ("likely_unit_error", None, problem.format(unit=likely))
        assert number == float(value.replace(",", "."))


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "profile"),
    [
        # real extreme ferritin: Schram2015 found 113 adults above 50,000 ug/L
        ("ferritin", "50000", "µg/L", "no"),
        ("ferritin", "15000", "ng/mL", "us"),
        # 5 mg/L = 5,000 ug/L is within the usual 10,000 ug/L (Allen2008): a result
        ("ferritin", "5", "mg/L", "no"),
        # a real low HbA1c: 18 % would be above the usual 140 mmol/mol (MLabs_AfinionHbA1c)
        ("hba1c", "18", "mmol/mol", "no"),
        ("hba1c", "3,9", "%", "us"),
        ("hba1c", "18", "%", "us"),
        # a severe CRP: no usual range, no plausibility upper limit
        ("crp", "500", "mg/L", "no"),
        ("magnesium", "3,5", "mmol/L", "no"),
    ],
)
def test_real_extreme_results_are_kept(analyte: str, value: str, unit: str, profile: str) -> None:
    """A value rare in its unit but usual in no other unit is a result with a flag."""
    for status, flag, said, _ in both_paths(analyte, value, unit, profile):
        assert status == "ok" and flag is not None and said is None


def test_censored_values_are_not_refused_unless_infinite() -> None:
    """'<0.3' ferritin is below the measuring range, a result; '<1e400' is not a number."""
    assert labinterp.interpret_one("ferritin", "<0,3", "µg/L", sex="F", age_years=30).flag == "L"
    status = labinterp.interpret_one("ferritin", "<1e400", "µg/L", sex="F", age_years=30).status
    assert status == "implausible_value"


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_problem_sentences_are_in_the_text_catalogue(lang: str) -> None:
    """Each problem constant is the English text, and every language has it, same placeholders."""
    texts = tomllib.loads((TEXT_DIR / f"{lang}.toml").read_text(encoding="utf-8"))["problem"]
    for key, constant in PROBLEMS.items():
        for audience in ("patient", "clinician"):
            text = texts[key][audience]["text"]
            if lang == "en":
                assert text == constant
            holes = {p for p in ("{unit}", "{source}") if p in constant}
            assert {p for p in ("{unit}", "{source}") if p in text} == holes, (lang, key)


def _limits(analyte: str, profile: str) -> tuple[float, float, str]:
    spec = catalogue.get_analyte(analyte)
    target = catalogue.get_profile(profile).units[analyte]
    affine = conversion(spec.unit, target, analyte)
    low = -math.inf if spec.plausible_low is None else float(affine(spec.plausible_low))
    high = math.inf if spec.plausible_high is None else float(affine(spec.plausible_high))
    return low, high, target


def _units(analyte: str) -> list[str]:
    reported = [p.units[analyte] for p in catalogue.profiles().values() if analyte in p.units]
    return sorted({*reported, catalogue.get_analyte(analyte).unit})


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.from_regex(r"\A-?[0-9]{1,400}([.,][0-9]{1,5})?([eE][+-]?[0-9]{1,4})?\Z"),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(sorted(k for k, s in catalogue.analytes().items() if s.unit is not None)),
    NUMBERS,
    st.data(),
    st.sampled_from(["no", "us"]),
)
def test_outside_the_limits_is_never_interpreted(
    analyte: str, value: object, data: st.DataObject, profile: str
) -> None:
    """For every analyte and any number, a value outside the limits is never ok; nothing raises."""
    unit = data.draw(st.sampled_from(_units(analyte)))
    low, high, target = _limits(analyte, profile)
    finding = labinterp.interpret_one(analyte, value, unit, sex="M", age_years=50, profile=profile)
    canonical = finding.value_canonical
    inside = canonical is not None and math.isfinite(canonical) and low <= canonical <= high
    if finding.status.value in CLASSIFIABLE:  # interpreted: ok, no_reference, ...
        assert inside, (finding.status, canonical, low, high)
    if finding.status == "ok":
        assert finding.unit_canonical == normalise_unit(target).display
    if math.isinf(parse_value(value).value):  # beyond a float's range: no number is kept
        assert finding.status == "implausible_value" and finding.value is None
    elif not inside and finding.value is not None:
        assert finding.status.value in ("implausible_value", "likely_unit_error")
        assert finding.flag is None and finding.problem
    row = labinterp.interpret(
        pd.DataFrame(
            {
                "analyte": [analyte],
                "raw_value": pd.Series([value], dtype=object),
                "raw_unit": [unit],
                "sex": ["M"],
                "age_years": [50],
            }
        ),
        profile=profile,
    ).iloc[0]
    assert row["status"] == finding.status.value  # the frame path, the same rule
    assert not math.isinf(row["value"]) and not math.isinf(row["value_canonical"])
