"""The whole verdict: flag, category, their relation and the text, held together.

One grid, run through the frame path once per profile: every analyte × sex × a grid of
ages × values at and around every range limit, critical limit and scheme cut-off, in
every unit a profile reports the analyte in. Over it, no explanation joins a flag text
and a category text that point different ways; the relation follows the flag's and the
category's directions; the text names the category the row carries; and where a range
limit and a scheme cut-off are the same number, flag and category fall on the same side
of it.
"""

from __future__ import annotations

import itertools
import math
import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.catalogue import Text, schemes, text_catalogue
from labinterp.errors import LabinterpWarning, UnitError
from labinterp.models import FLAG_DIRECTION, ReferenceRange, Scheme
from labinterp.steps.flags import fixed_precision
from labinterp.steps.ranges import reported_equation
from labinterp.steps.verdict import CRITICAL, compose, decide, lab_disagreement
from labinterp.units import conversion

PROFILES = tuple(catalogue.profiles())
SEXES = ("female", "male", None)
AGES = (None, 2.0, 4.0, 12.0, 17.0, 30.0, 55.0, 75.0, 90.0)
LANGS = ("en", "nb", "sv")


def _units(analyte: str) -> list[str]:
    """Every unit a profile reports the analyte in, and every scheme's and range's unit."""
    units = [p.units[analyte] for p in catalogue.profiles().values() if analyte in p.units]
    for scheme in schemes().values():
        if scheme.analyte == analyte and scheme.unit:
            units += [scheme.unit, *(c.unit for c in scheme.in_units)]
    for name in ("nordic", "us"):
        units += [
            r.unit for r in catalogue.load_range_catalogue(name).ranges if r.analyte == analyte
        ]
    return list(dict.fromkeys(units))


def _thresholds(analyte: str) -> list[tuple[float, str]]:
    """Every range limit, critical limit and scheme cut-off of the analyte, with its unit."""
    found: list[tuple[float, str]] = []
    for name in ("nordic", "us"):
        for r in catalogue.load_range_catalogue(name).ranges:
            if r.analyte == analyte:
                limits = (r.low, r.high, r.critical_low, r.critical_high)
                found += [(float(x), r.unit) for x in limits if x is not None and math.isfinite(x)]
    for scheme in schemes().values():
        if scheme.analyte != analyte or not scheme.unit:
            continue
        sets = [(scheme.unit, scheme.categories, scheme.inflamed_categories)]
        sets += [(c.unit, c.categories, c.inflamed_categories) for c in scheme.in_units]
        if scheme.below_age_min is not None:
            young = scheme.below_age_min
            sets.append((young.unit, young.categories, young.inflamed_categories))
        for unit, *categories in sets:
            found += [(float(c.upper), unit) for cats in categories for c in cats if c.upper]
    return found


def _values(analyte: str) -> list[tuple[float, str]]:
    """Values at and around every threshold, in every unit the analyte is reported in."""
    out: set[tuple[float, str]] = set()
    for (threshold, unit), target in itertools.product(_thresholds(analyte), _units(analyte)):
        try:
            step = conversion(unit, target, analyte)
        except UnitError:
            continue
        x = threshold * step.scale + step.offset
        for near in (x, x * 0.999, x * 1.001, x * 0.98, x * 1.02, x * 0.9, x * 1.1):
            if near > 0:
                out.add((float(f"{near:.4g}"), target))
    return sorted(out)


@cache
def _grid(profile: str) -> pd.DataFrame:
    """Return the interpreted grid of one profile (the frame path, all rows at once)."""
    rows: list[dict[str, Any]] = []
    for analyte in catalogue.analytes():
        values = _values(analyte)
        for sex, age in itertools.product(SEXES, AGES):
            rows += [
                {
                    "analyte": analyte,
                    "raw_value": repr(value),
                    "raw_unit": unit,
                    "sex": sex,
                    "age_years": age,
                }
                for value, unit in values
            ]
    frame = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LabinterpWarning)
        return labinterp.interpret(frame, profile=profile, decimal=".", derive=False)


def _cell(value: Any) -> str:
    return "" if pd.isna(value) else str(value)


@pytest.mark.parametrize("profile", PROFILES)
def test_the_grid_is_interpreted(profile: str) -> None:
    """The grid reaches every analyte with flags and categories (it tests something)."""
    out = _grid(profile)
    assert len(out) > 5000
    interpreted = out[out["flag"].notna()]
    ranged = catalogue.load_range_catalogue(catalogue.get_profile(profile).catalogue)
    flagged = {  # assessments, and analytes the profile's catalogue has no range for, have none
        k
        for k, s in catalogue.analytes().items()
        if s.specimen != "calculated" and ranged.for_analyte(k)
    }
    assert set(interpreted["analyte"].astype(str)) == flagged
    assert {"agree", "differ", "no_comparison"} <= set(out["relation"].astype(str))


@pytest.mark.parametrize("profile", PROFILES)
def test_no_explanation_joins_a_flag_text_and_a_category_text_pointing_apart(
    profile: str,
) -> None:
    """The 26 contradictions of the audit (e.g. "adequate stores" + "iron deficiency")."""
    out = _grid(profile)
    texts = text_catalogue("en")
    combos = out[["analyte", "flag", "scheme", "category", "explanation"]].astype(object)
    for analyte, flag, scheme, category, explanation in combos.drop_duplicates().itertuples(
        index=False
    ):
        flag, category = _cell(flag), _cell(category)
        if not flag or not category or not isinstance(explanation, str):
            continue
        flag_entry = texts.get(f"{analyte}.flag.{flag}.patient") or texts[f"_flag.{flag}.patient"]
        category_entry = texts.get(f"category.{scheme}.{category}.patient")
        if category_entry is None or schemes()[scheme].from_flags:
            continue  # a category that restates the flag has no text of its own
        both = flag_entry.text in explanation and category_entry.text in explanation
        apart = FLAG_DIRECTION[flag] != schemes()[scheme].direction(category)
        assert not (both and apart), (analyte, flag, scheme, category)


@pytest.mark.parametrize("profile", PROFILES)
def test_relation_follows_the_directions_and_the_text_names_the_category(profile: str) -> None:
    """Agree / differ from the flag's and the category's directions; the category is named."""
    out = _grid(profile)
    names = text_catalogue("en")
    combos = out[["analyte", "flag", "scheme", "category", "relation", "explanation"]]
    for analyte, flag, scheme, category, relation, explanation in (
        combos.astype(object).drop_duplicates().itertuples(index=False)
    ):
        flag, category, scheme = _cell(flag), _cell(category), _cell(scheme)
        if not category or schemes()[scheme].from_flags:
            expected = "agree" if category and flag else "no_comparison"
            assert relation == expected, (analyte, flag, scheme, category)
            continue
        if not flag:
            assert relation == "no_comparison"
        else:
            agree = FLAG_DIRECTION[flag] == schemes()[scheme].direction(category)
            assert relation == ("agree" if agree else "differ"), (analyte, flag, category)
        text = names[f"category.{scheme}.{category}.patient"].text
        name = names[f"name.category.{scheme}.{category}"].text
        assert text in explanation or f"“{name}”" in explanation, (analyte, flag, category)
        if relation == "differ":
            assert explanation.count("but by ") == 1  # one sentence names both
        if relation == "agree" and flag in ("L", "H"):
            assert explanation.count(", and by ") == 1


Band = tuple[str, float, float]  # the range's sex, age_min, age_max


def _shared_cut_offs(profile: str) -> list[tuple[str, float, str, bool, Band]]:
    """Range limits (adults) that are also a cut-off of the profile's scheme, same unit.

    Each as (analyte, value, unit, whether the two agree on which side the value is, the
    range's band).
    """
    name = catalogue.get_profile(profile).catalogue
    out = []
    for scheme_name in catalogue.get_profile(profile).schemes:
        scheme = schemes()[scheme_name]
        if scheme.from_flags:
            continue
        reported = reported_equation(catalogue.get_profile(profile))
        rows = catalogue.load_range_catalogue(name).ranges
        usable = tuple(r for r in rows if not r.equations or reported in r.equations)
        for r in _first_covering(usable):
            if r.analyte != scheme.analyte or (r.age_max is not None and r.age_max <= 18):
                continue
            if scheme.sex is not None and r.sex not in (scheme.sex, "any"):
                continue  # a scheme for one sex meets only that sex's ranges
            band = (
                r.sex if scheme.sex is None else scheme.sex,
                r.age_min or 0.0,
                r.age_max if r.age_max is not None else math.inf,
            )
            shared = _shared(scheme, r.unit, r.low, r.low_inclusive, r.high, r.high_inclusive)
            out += [(*found, band) for found in shared]
    return sorted(set(out))


def _first_covering(rows: tuple[ReferenceRange, ...]) -> list[ReferenceRange]:
    """Return the rows a result of the grid (not derived) can be given: the first covering."""
    kept: list[ReferenceRange] = []
    for row in rows:
        lo, hi = row.age_min or 0.0, math.inf if row.age_max is None else row.age_max
        if not any(
            k.analyte == row.analyte
            and (k.sex == row.sex or "any" in (k.sex, row.sex))
            and max(lo, k.age_min or 0.0) < min(hi, math.inf if k.age_max is None else k.age_max)
            for k in kept
        ):
            kept.append(row)
    return kept


def _shared(
    scheme: Scheme,
    unit: str,
    low: float | None,
    low_inclusive: bool,
    high: float | None,
    high_inclusive: bool,
) -> list[tuple[str, float, str, bool]]:
    sets = [(scheme.unit, scheme.categories)] + [(c.unit, c.categories) for c in scheme.in_units]
    out = []
    for cut_unit, categories in sets:
        if cut_unit != unit:
            continue
        for c in categories[:-1]:
            # At the cut-off the category above starts unless the one below is inclusive.
            if low is not None and c.upper == low:
                out.append((scheme.analyte, low, unit, low_inclusive != c.upper_inclusive))
            if high is not None and c.upper == high:
                out.append((scheme.analyte, high, unit, high_inclusive == c.upper_inclusive))
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_flag_and_category_agree_at_shared_cut_offs(profile: str) -> None:
    """Where a range limit is a scheme cut-off, flag and category change at the same value.

    Compared at the reporting precision both use: the US HbA1c 5.65 % is reported 5.7 %
    (flag H, prediabetes), the US vitamin D 19.95 ng/mL is below 20 for both, a derived
    eGFR of 59.6 is 60 for both. Where the range and the scheme disagree on the cut-off
    itself (the Nordic HbA1c upper reference limit 42 mmol/mol is inclusive, NICE's
    increased risk starts at 42), the value at the cut-off is the one exception: its
    flag and category may point different ways, and then the relation is ``differ`` and
    the text says so (the tests above).
    """
    shared = _shared_cut_offs(profile)
    assert shared, "each profile shares at least one cut-off between range and scheme"
    out = _grid(profile)
    adults = out[(out["age_years"] >= 18) & out["flag"].notna() & out["category"].notna()]
    for analyte, cut, unit, same_side, (sex, age_min, age_max) in shared:
        near = adults[
            (adults["analyte"] == analyte)
            & (adults["raw_unit"].astype(str) == unit)
            & np.isclose(adults["value"], cut, rtol=0.03)
            & (adults["age_years"] >= age_min)
            & (adults["age_years"] < age_max)
            & ((adults["sex"] == sex) if sex != "any" else True)
        ]
        assert len(near), (analyte, cut, unit)
        if not same_side:  # the cut-off itself (as reported) is on different sides
            reported_as_cut = np.abs(near["value"] - cut) <= (fixed_precision(analyte) or 0) / 2
            near = near[~reported_as_cut & (near["value"] != cut)]
        for _, group in near.groupby(["sex", "age_years"], dropna=False, observed=True):
            pairs = set(zip(group["flag"].astype(str), group["category"].astype(str), strict=True))
            flags = {f for f, _ in pairs}
            categories = {c for _, c in pairs}
            # One flag per category and one category per flag: they change together.
            assert len(pairs) == len(flags) == len(categories), (analyte, cut, sorted(pairs))


# -- the verdict's sentences, in every language and audience ------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_every_differ_sentence_names_the_scheme_and_the_category(lang: str, audience: str) -> None:
    """Each scheme and category has a name, filled into the one differ sentence."""
    text = Text(lang, audience)
    for scheme in schemes().values():
        if scheme.from_flags:
            continue
        labels = {c.label for c in scheme.categories} | {
            c.label for c in scheme.inflamed_categories
        }
        labels |= {scheme.high_from_reference} - {None}
        for label, flag in itertools.product(sorted(labels), ("LL", "L", "N", "H", "HH")):
            verdict = decide(scheme.analyte, flag, scheme.name, label)
            written, _ = compose(verdict, flag, text)
            assert written and "{" not in written
            if verdict.relation == "differ":
                scheme_name = text.get(f"name.scheme.{scheme.name}")
                category_name = text.get(f"name.category.{scheme.name}.{label}")
                assert scheme_name is not None and category_name is not None
                assert scheme_name.text in written and category_name.text in written
            if verdict.relation == "agree" and flag in CRITICAL:
                assert f"{scheme.analyte}.flag.{flag}" in verdict.keys


@pytest.mark.parametrize("lang", LANGS)
def test_lab_disagreement_names_both_flags_and_the_range(lang: str) -> None:
    """The caveat names the lab's flag, the flag here and where each range came from."""
    from labinterp.steps.lab_flag import LAB_CODES

    text = Text(lang, "patient")
    names = {code: text.name(f"name.flag.{code}", code) for code in LAB_CODES}
    high, low = LAB_CODES.index("H"), LAB_CODES.index("L")
    catalogue_said = lab_disagreement(high, "N", from_lab=False, catalogue="Katalog X", text=text)
    assert catalogue_said is not None
    assert f"{names['H']}" in catalogue_said.text and names["N"] in catalogue_said.text
    assert "Katalog X" in catalogue_said.text and names["HH"] not in catalogue_said.text
    lab_said = lab_disagreement(low, "N", from_lab=True, catalogue="Katalog X", text=text)
    assert lab_said is not None and "Katalog X" not in lab_said.text  # the lab's own range
    critical = lab_disagreement(low, "LL", from_lab=True, catalogue="Katalog X", text=text)
    assert critical is not None and "Katalog X" in critical.text  # its critical limits
    assert names["LL"] in critical.text
    assert lab_disagreement(-1, "N", from_lab=True, catalogue="", text=text) is None
    assert lab_disagreement(2, "", from_lab=True, catalogue="", text=text) is None


#: Where each category lies, as its source words it (independent of schemes.toml):
#: KDIGO 2012 Table 5 calls G2 "mildly decreased" (relative to young adults), G1 "normal
#: or high"; ADA and NICE call prediabetes and 42-47 mmol/mol increased risk; IOM 2011,
#: Helsedirektoratet and WHO 2020 name deficiency, inadequacy and low stores.
EXPECTED_DIRECTIONS = {
    "KDIGO_GFR": {"G1": "normal", **dict.fromkeys(("G2", "G3a", "G3b", "G4", "G5"), "low")},
    "HbA1c_Nordic_IFCC": {"normal": "normal", "increased_risk": "high", "diabetes_range": "high"},
    "HbA1c_ADA_NGSP": {"normal": "normal", "prediabetes": "high", "diabetes_range": "high"},
    "VitD_Nordic": {
        **dict.fromkeys(("severe_deficiency", "deficiency", "insufficient"), "low"),
        "sufficient": "normal",
    },
    "VitD_IOM2011": {
        "deficient": "low",
        "inadequate": "low",
        "sufficient": "normal",
        "potentially_excessive": "high",
    },
    "Ferritin_WHO2020": {
        "iron_deficiency": "low",
        "low_stores": "low",
        "normal": "normal",
        "high": "high",
    },
    # KDIGO 2012 Table 6: "normal to mildly increased", "moderately", "severely increased".
    "KDIGO_ACR": {"A1": "normal", "A2": "high", "A3": "high"},
    # KDIGO heat map: green low risk; yellow, orange and red increased risk.
    "KDIGO_CKD_RISK": {
        "low": "normal",
        **dict.fromkeys(("moderately_increased", "high", "very_high"), "high"),
    },
    # KDIGO 2024 PP 2.2.1: a 5-year risk from 3-5 % calls for considering referral.
    "KFRE_KDIGO2024": {
        "below_referral_range": "normal",
        "referral_range": "high",
        "above_referral_range": "high",
    },
    # WHO 2006: impaired fasting glucose and the diabetes range lie above normal.
    "Glucose_WHO2006": {
        "normal": "normal",
        "impaired_fasting_glucose": "high",
        "diabetes_range": "high",
    },
    # ADA Table 2.2/2.5: prediabetes and diabetes lie above normal fasting glucose.
    "Glucose_ADA": {"normal": "normal", "prediabetes": "high", "diabetes_range": "high"},
    # Haraldsplass: "ønskelig nivå <5 mmol/L"; from 5 the risk is assessed.
    "Cholesterol_Nordic": {"desirable": "normal", "above_desirable": "high"},
    # labhandbok.no: HDL "bør være ≥1,3 mmol/L hos kvinner" / "≥1,0 mmol/L hos menn".
    "HDL_Nordic_female": {"below_desirable": "low", "desirable": "normal"},
    "HDL_Nordic_male": {"below_desirable": "low", "desirable": "normal"},
    # EAS/EFLM 2016: non-fasting triglycerides flagged from 2 mmol/L; Fürst: > 10 pancreatitis.
    "TG_EAS2016_NonFasting": {
        "desirable": "normal",
        "raised": "high",
        "pancreatitis_risk": "high",
    },
    # ESC/EAS 2019: below the low-risk goal; above it; "> 4.9 mmol/L" markedly elevated.
    "LDL_ESC2019": {
        "below_low_risk_goal": "normal",
        "above_low_risk_goal": "high",
        "markedly_raised": "high",
    },
    # ESC/EAS 2019 via HMR: optimal < 1.7; Fürst: > 10 mmol/L risk of pancreatitis.
    "TG_ESC2019": {"optimal": "normal", "raised": "high", "pancreatitis_risk": "high"},
    # Helse Møre og Romsdal: "Beslutningsgrense for folat mangel: <10 nmol/L".
    "Folate_WHO": {"deficiency": "low", "adequate": "normal"},
    # Fürst: B12 deficiency likely / possible / borderline ("grenseområde") / unlikely.
    "B12_Furst": {
        **dict.fromkeys(("deficiency_likely", "possible_deficiency", "borderline"), "low"),
        "deficiency_unlikely": "normal",
    },
}


def test_category_directions_are_the_sources_words() -> None:
    """Every category's direction in schemes.toml is the one its source's wording gives."""
    for name, expected in EXPECTED_DIRECTIONS.items():
        scheme = schemes()[name]
        assert {label: scheme.direction(label) for label in expected} == expected, name
    own = {n for n, s in schemes().items() if not s.from_flags}
    assert own == set(EXPECTED_DIRECTIONS)


def test_a_flag_text_that_speaks_of_categories_is_not_joined_to_another_category() -> None:
    """HbA1c above a lab's range but in the normal category: the generic flag text.

    Not the HbA1c one, which speaks of increased risk and the diabetes range.
    """
    found = labinterp.interpret_one(
        "hba1c", "40", "mmol/mol", reference_text="20-38", age_years=40, profile="no"
    )
    assert (found.flag, found.category, found.relation) == ("H", "normal", "differ")
    assert found.explanation is not None
    assert "diabetes" not in found.explanation.split("“normal”.")[-1]


def test_an_agreeing_off_range_flag_is_named_with_its_category() -> None:
    """An eGFR of 65 in a man of 30 (Fürst: > 68) is L and G2: one sentence names both."""
    found = labinterp.interpret_one(
        "egfr", "65", "mL/min/1.73m2", sex="male", age_years=30, profile="no"
    )
    assert (found.flag, found.category, found.relation) == ("L", "G2", "agree")
    assert found.explanation is not None
    assert "below the reference range used, and by the KDIGO" in found.explanation


def test_a_reported_egfr_is_compared_with_the_limits_for_the_profiles_equation() -> None:
    """A lab's eGFR names no equation: the profile's (what its laboratories report) is used.

    Without a sex, Fürst's sex-specific CKD-EPI limits cannot be chosen under the Norwegian
    profile (missing_context), and the Swedish LM limits are not taken instead.
    """
    no_sex = labinterp.interpret_one("egfr", "75", "mL/min/1.73m2", age_years=30, profile="no")
    assert no_sex.status == "missing_context" and no_sex.flag is None
    swedish = labinterp.interpret_one(
        "egfr", "75", "mL/min/1.73m2", sex="male", age_years=30, profile="se"
    )
    assert swedish.reference_citation is not None
    assert swedish.reference_citation.startswith("Anvisningar_eGFR") and swedish.flag == "L"


def test_the_lab_disagreement_caveat_is_attached_on_both_paths() -> None:
    """An HL7-style result the lab flagged H that is normal against the lab's own range."""
    one = labinterp.interpret_one(
        "magnesium", "0.80", "mmol/L", reference_text="0.71-0.94", lab_flag="H", profile="no"
    )
    assert one.agrees_with_lab is False
    assert one.caveats[0].startswith("The laboratory marked this result “high”")
    frame = pd.DataFrame(
        {
            "analyte": ["magnesium"],
            "raw_value": ["0.80"],
            "raw_unit": ["mmol/L"],
            "lab_reference_text": ["0.71-0.94"],
            "lab_flag": ["H"],
        }
    )
    out = labinterp.interpret(frame, profile="no", decimal=".")
    assert str(out["caveats"].iloc[0]).startswith(one.caveats[0])


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "profile", "flag", "category", "relation"),
    [
        # Audit items of the coherent-verdict issue, each as the row now reads.
        ("ferritin", "8", "ng/mL", "us", "N", "iron_deficiency", "differ"),
        ("ferritin", "18", "ug/L", "no", "N", "low_stores", "differ"),
        ("vitamin_d_25oh", "180", "nmol/L", "no", "H", "sufficient", "differ"),
        ("vitamin_d_25oh", "19.95", "ng/mL", "us", "L", "inadequate", "agree"),
        ("hba1c", "42", "mmol/mol", "no", "N", "increased_risk", "differ"),
        ("hba1c", "41", "mmol/mol", "no", "N", "normal", "agree"),
    ],
)
def test_audit_rows_read_as_one_verdict(
    analyte: str, value: str, unit: str, profile: str, flag: str, category: str, relation: str
) -> None:
    """The rows the clinical audit named: one relation, and no opposing second claim."""
    found = labinterp.interpret_one(
        analyte, value, unit, sex="female", age_years=30, profile=profile
    )
    assert (found.flag, found.category, found.relation) == (flag, category, relation)
    assert found.explanation is not None
    if relation == "differ":
        assert "but by" in found.explanation
    assert "stores are adequate" not in found.explanation or category == "normal"


def test_lund_malmo_egfr_is_flagged_against_limits_made_for_it() -> None:
    """Swedish profile: a Lund-Malmö eGFR meets Swedish LM limits, not Fürst's CKD-EPI ones.

    Source: Anvisningar_eGFR (anvisningar.se, '18 - 50 > 80'; '51 - 65 > 60'; '> 65 > 60');
    Region Stockholm computes creatinine eGFR with LM revised (RegionStockholm_eGFR).
    A woman of 30 with creatinine 70 µmol/L has LM eGFR 89 (> 80: N); Fürst's CKD-EPI
    limit for her age (> 60) is not used.
    """
    panel = labinterp.interpret_panel(
        [{"analyte": "creatinine", "value": "70", "unit": "umol/L"}],
        sex="female",
        age_years=30,
        profile="se",
    )
    egfr = panel[-1]
    assert egfr.equation == "egfr_lund_malmo_revised"
    assert egfr.reference_low == 80 and egfr.reference_low_inclusive is False
    assert egfr.reference_citation is not None
    assert egfr.reference_citation.startswith("Anvisningar_eGFR")
    assert egfr.flag == "N"


def test_an_egfr_from_an_equation_without_limits_is_not_flagged_and_says_why() -> None:
    """EKFC under the Norwegian profile: Fürst's limits were made for CKD-EPI 2009."""
    for panel in (
        labinterp.interpret_panel(
            [{"analyte": "creatinine", "value": "70", "unit": "umol/L"}],
            sex="female",
            age_years=30,
            profile="no",
            egfr_equation="ekfc_cr",
        ),
        labinterp.findings(
            labinterp.interpret(
                pd.DataFrame(
                    {
                        "analyte": ["creatinine"],
                        "raw_value": ["70"],
                        "raw_unit": ["umol/L"],
                        "sex": ["female"],
                        "age_years": [30.0],
                    }
                ),
                profile="no",
                egfr_equation="ekfc_cr",
            )
        ),
    ):
        egfr = panel[-1]
        assert egfr.equation == "egfr_ekfc_cr" and egfr.flag is None
        assert egfr.category is not None  # still staged
        assert egfr.problem is not None and "made for other equations" in egfr.problem
        assert "CKD-EPI 2009" in egfr.problem and "egfr_" not in egfr.problem
