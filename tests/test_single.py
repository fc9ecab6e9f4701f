"""The single-result path (interpret_one, interpret_panel) against the frame path.

The clinic-software functions run the rules on plain values; the frame path runs
them on arrays. These tests hold both to the same answers on random inputs, and the
scalar flag and category functions to their array twins. Examples checked by hand
come first.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labinterp
import labinterp.equations
from labinterp import catalogue
from labinterp.errors import InvalidResultError
from labinterp.steps.cutoffs import categorise, categorise_one
from labinterp.steps.flags import (
    at_reporting_resolution,
    at_reporting_resolution_one,
    flag_one,
    flags,
)

EXAMPLES = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# -- examples -------------------------------------------------------------------


def test_panel_keeps_order_and_adds_egfr_after_creatinine() -> None:
    panel = labinterp.interpret_panel(
        [
            {"analyte": "P-Magnesium", "value": "0,62", "unit": "mmol/L"},
            {"analyte": "P-Kreatinin", "value": "78", "unit": "µmol/L"},
            {"analyte": "CRP", "value": "3", "unit": "mg/L"},
        ],
        sex="K",
        age_years=54,
        collected_at="2026-01-15",
    )
    assert [f.analyte for f in panel] == ["magnesium", "creatinine", "egfr", "crp"]
    egfr = panel[2]
    assert egfr.status is labinterp.Status.DERIVED
    assert egfr.derived_from == (1,)
    assert egfr.equation == "egfr_ckd_epi_2009_cr"  # the Norwegian profile's default
    assert egfr.raw_value is None
    # The value is the equation's (tested against published vectors in test_egfr.py), as
    # laboratories report it: a whole number (ARUP_eGFR).
    expected = labinterp.equations.egfr_ckd_epi_2009_cr(
        creatinine=labinterp.ureg.Quantity(78.0, "umol/L"), age_years=54.0, sex="female"
    )
    assert egfr.value == round(float(expected.magnitude))


def test_panel_context_rule_sees_the_whole_sample() -> None:
    # WHO 2020: ferritin is read against a higher threshold with inflammation (CRP raised).
    results = [
        {"analyte": "ferritin", "value": "40", "unit": "µg/L"},
        {"analyte": "crp", "value": "60", "unit": "mg/L"},
    ]
    inflamed = labinterp.interpret_panel(results, sex="female", age_years=40)
    alone = labinterp.interpret_panel(results[:1], sex="female", age_years=40)
    assert any("CRP" in c or "inflammation" in c.lower() for c in inflamed[0].caveats)
    assert inflamed[0].category != alone[0].category


def test_panel_missing_key_names_position_not_value() -> None:
    with pytest.raises(InvalidResultError) as info:
        labinterp.interpret_panel([{"analyte": "magnesium", "value": "SECRET-77"}])
    assert "unit" in str(info.value) and "SECRET" not in str(info.value)


def test_panel_refuses_a_frame_and_non_mappings() -> None:
    with pytest.raises(TypeError):
        labinterp.interpret_panel(pd.DataFrame({"analyte": ["magnesium"]}))  # type: ignore[arg-type]
    with pytest.raises(InvalidResultError) as info:
        labinterp.interpret_panel([("magnesium", "0,8", "mmol/L")])  # type: ignore[list-item]
    assert info.value.row == 0


def test_panel_refuses_unreadable_collection_time() -> None:
    with pytest.raises(InvalidResultError):
        labinterp.interpret_panel([], collected_at="15/01/2026")


def test_finding_json_has_equation_and_sources() -> None:
    panel = labinterp.interpret_panel(
        [{"analyte": "creatinine", "value": "80", "unit": "µmol/L"}],
        sex="male",
        age_years=60,
        profile="se",
    )
    payload = panel[1].model_dump_json()
    assert '"equation":"egfr_lund_malmo_revised"' in payload
    assert panel[1].sources


def test_panel_honours_the_source_status_and_compares_the_lab_flag() -> None:
    """A withdrawn creatinine gives no eGFR; a later correction supersedes; LL vs L disagree."""
    panel = labinterp.interpret_panel(
        [
            {"analyte": "creatinine", "value": "80", "unit": "µmol/L", "source_status": "W"},
            {"analyte": "magnesium", "value": "0,65", "unit": "mmol/L", "lab_flag": "LL",
             "reference_text": "0,71-0,94"},
            {"analyte": "magnesium", "value": "0,66", "unit": "mmol/L", "source_status": "C",
             "reference_text": "0,71-0,94"},
        ],
        sex="K",
        age_years=54,
        collected_at="2026-01-15",
    )  # fmt: skip
    assert [f.status.value for f in panel] == ["withdrawn", "ok", "ok"]
    assert panel[0].source_status == "entered-in-error" and panel[0].caveats == ()
    assert (panel[1].flag, panel[1].lab_flag, panel[1].agrees_with_lab) == ("L", "LL", False)
    assert any("corrected result" in c for c in panel[1].caveats)
    assert panel[2].source_status == "corrected"


# -- scalar twins of the array functions ------------------------------------------

limit = st.one_of(st.none(), st.floats(-5, 200, allow_nan=False), st.just(math.inf))
number = st.one_of(st.floats(-10, 250, allow_nan=False), st.just(math.nan))
comparators = st.sampled_from(["", "<", "<=", ">", ">="])


@PROPERTY
@given(
    number,
    comparators,
    limit,
    limit,
    st.booleans(),
    st.booleans(),
    limit,
    limit,
    st.tuples(st.booleans(), st.booleans()),
)
def test_flag_one_equals_flags(
    value: float,
    cmp: str,
    low: float | None,
    high: float | None,
    low_inc: bool,
    high_inc: bool,
    crit_low: float | None,
    crit_high: float | None,
    crit_inc: tuple[bool, bool],
) -> None:
    def arr(x: float | None, sign: float = 1.0) -> np.ndarray:
        return np.array([np.nan if x is None else x * (sign if math.isinf(x) else 1.0)])

    low_a = arr(low, -1.0)
    array = flags(
        np.array([value]),
        np.array([cmp], dtype=object),
        low_a,
        arr(high),
        np.array([low_inc]),
        np.array([high_inc]),
        arr(crit_low, -1.0),
        arr(crit_high),
        critical_inclusive=(np.array([crit_inc[0]]), np.array([crit_inc[1]])),
    )
    scalar = flag_one(
        value,
        cmp,
        None if low is None else float(low_a[0]),
        high,
        low_inc,
        high_inc,
        None if crit_low is None else float(arr(crit_low, -1.0)[0]),
        crit_high,
        critical_inclusive=crit_inc,
    )
    assert scalar == (array.flag[0], bool(array.indeterminate[0]))


@PROPERTY
@given(
    number,
    comparators,
    st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=5, unique=True),
    st.data(),
)
def test_categorise_one_equals_categorise(
    value: float, cmp: str, bounds: list[float], data: Any
) -> None:
    uppers = sorted(bounds)
    inclusive = data.draw(st.lists(st.booleans(), min_size=len(uppers), max_size=len(uppers)))
    labels = [f"c{i}" for i in range(len(uppers) + 1)]
    array = categorise(np.array([value]), np.array([cmp], dtype=object), uppers, inclusive, labels)
    assert categorise_one(value, cmp, uppers, inclusive, labels) == array[0]


flag_row = st.tuples(
    number,
    comparators,
    limit,
    limit,
    st.booleans(),
    st.booleans(),
    limit,
    limit,
    st.tuples(st.booleans(), st.booleans()),
)


@PROPERTY
@given(st.lists(flag_row, min_size=1, max_size=12))
def test_flags_of_many_rows_equal_flag_one_row_by_row(rows: list[tuple[Any, ...]]) -> None:
    """Mixing censored and exact values in one array flags each as it would alone."""

    def limits(index: int, sign: float) -> np.ndarray:
        out = [np.nan if r[index] is None else r[index] for r in rows]
        return np.array([x * sign if math.isinf(x) else x for x in out], dtype=float)

    result = flags(
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows], dtype=object),
        limits(2, -1.0),
        limits(3, 1.0),
        np.array([r[4] for r in rows]),
        np.array([r[5] for r in rows]),
        limits(6, -1.0),
        limits(7, 1.0),
        critical_inclusive=(np.array([r[8][0] for r in rows]), np.array([r[8][1] for r in rows])),
    )
    for i, (value, cmp, low, high, low_inc, high_inc, crit_low, crit_high, crit_inc) in enumerate(
        rows
    ):
        expected = flag_one(
            value,
            cmp,
            None if low is None else float(limits(2, -1.0)[i]),
            high,
            low_inc,
            high_inc,
            None if crit_low is None else float(limits(6, -1.0)[i]),
            crit_high,
            critical_inclusive=crit_inc,
        )
        assert expected == (result.flag[i], bool(result.indeterminate[i]))


@PROPERTY
@given(
    st.lists(st.tuples(number, comparators), min_size=1, max_size=12),
    st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=5, unique=True),
    st.data(),
)
def test_categorise_many_rows_equals_categorise_one_row_by_row(
    rows: list[tuple[float, str]], bounds: list[float], data: Any
) -> None:
    """Mixing censored and exact values in one array categorises each as it would alone."""
    uppers = sorted(bounds)
    inclusive = data.draw(st.lists(st.booleans(), min_size=len(uppers), max_size=len(uppers)))
    labels = [f"c{i}" for i in range(len(uppers) + 1)]
    values = np.array([v for v, _ in rows])
    cmps = np.array([c for _, c in rows], dtype=object)
    array = categorise(values, cmps, uppers, inclusive, labels)
    for i, (value, cmp) in enumerate(rows):
        assert categorise_one(value, cmp, uppers, inclusive, labels) == array[i]


# -- the panel against the frame path -----------------------------------------------

ANALYTES = [
    *catalogue.analytes(),
    "P-Magnesium",
    "P-Kreatinin",
    "B-HbA1c",
    "P-Ferritin",
    "S-25-OH-Vitamin D",
    "CRP",
    "2160-0",
    "4548-4",
    "19123-9",
    "Blodsukker etter middag",
]
UNITS = [
    "mmol/L", "µmol/L", "mg/dL", "mg/L", "g/L", "g/dL", "µg/L", "ng/mL", "nmol/L",
    "mmol/mol", "%", "mL/min/1.73m2", "mEq/L", "furlongs", "", None,
]  # fmt: skip
value_text = st.one_of(
    st.floats(0, 400, allow_nan=False).map(lambda v: f"{v:.2f}"),
    st.floats(0, 400, allow_nan=False).map(lambda v: f"{v:.1f}".replace(".", ",")),
    st.integers(0, 400).map(str),
    st.sampled_from(["<5", "> 90", "<=0,5", "positiv", "", "1,234", "48"]),
    st.floats(0, 400, allow_nan=False),
    st.none(),
)
# Statuses as FHIR and HL7 OBX-11 send them (HL7v2_Table0085), and unknown ones.
STATUSES_SENT = ["final", "preliminary", "corrected", "entered-in-error", "cancelled", "unknown",
                 "F", "P", "C", "W", "X", "D", "I", "endelig", "", None]  # fmt: skip
# The lab's own flags (HL7v2_Table0078), words, repetitions and spellings not compared.
LAB_FLAGS_SENT = ["LL", "L", "N", "H", "HH", "A", "AA", "høy", "low", "L~A", "H~L", "*", "POS",
                  ""]  # fmt: skip
result = st.fixed_dictionaries(
    {
        "analyte": st.sampled_from(ANALYTES),
        "value": value_text,
        "unit": st.sampled_from(UNITS),
    },
    optional={
        "reference_text": st.sampled_from(
            ["0,71 - 0,94", "0.71-0.94", "< 5", "60 -", "3.5-5.0 mg/dL", "se kommentar", ""]
        ),
        "source_status": st.sampled_from(STATUSES_SENT),
        "lab_flag": st.sampled_from(LAB_FLAGS_SENT),
    },
)


def _frame_findings(results: list[dict[str, Any]], **context: Any) -> list[labinterp.Finding]:
    rows = []
    for r in results:
        key = r["analyte"] if r["analyte"] in catalogue.analytes() else None
        value = r["value"]
        rows.append(
            {
                "patient_id": "p",
                "collected_at": context["collected_at"],
                "sex": context["sex"],
                "age_years": context["age_years"],
                "analyte": key,
                "source_code": None if key else r["analyte"],
                "source_name": None if key else r["analyte"],
                "raw_value": value if value is None or isinstance(value, str) else float(value),
                "raw_unit": r["unit"],
                "lab_reference_text": r.get("reference_text"),
                "source_status": r.get("source_status"),
                "lab_flag": r.get("lab_flag"),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "patient_id", "collected_at", "sex", "age_years", "analyte", "source_code",
            "source_name", "raw_value", "raw_unit", "lab_reference_text", "source_status",
            "lab_flag",
        ],
    )  # fmt: skip
    out = labinterp.interpret(
        frame,
        profile=context["profile"],
        lang=context["lang"],
        audience=context["audience"],
        inflammation=context["inflammation"],
    )
    return labinterp.findings(out)


def _same(a: labinterp.Finding, b: labinterp.Finding) -> None:
    left, right = a.model_dump(), b.model_dump()
    for key in left:
        x, y = left[key], right[key]
        if isinstance(x, float) and isinstance(y, float):
            assert x == pytest.approx(y, rel=1e-9, nan_ok=True), key
        else:
            assert x == y, key


@PROPERTY
@given(
    results=st.lists(result, max_size=7),
    sex=st.sampled_from([None, "K", "M", "female", "male", "x", ""]),
    age=st.sampled_from([None, 0.5, 1.5, 5.0, 15.0, 17.99, 18.0, 45.0, 70.5, 95.0]),
    profile=st.sampled_from(["no", "se", "dk", "us"]),
    collected=st.sampled_from(["2026-01-15", "2026-07-01"]),
    lang=st.sampled_from(["en", "nb", "sv"]),
    audience=st.sampled_from(["patient", "clinician"]),
    inflammation=st.sampled_from([None, True, False]),
)
def test_panel_equals_frame_path(
    results: list[dict[str, Any]],
    sex: str | None,
    age: float | None,
    profile: str,
    collected: str,
    lang: str,
    audience: str,
    inflammation: bool | None,
) -> None:
    context = {
        "sex": sex,
        "age_years": age,
        "profile": profile,
        "collected_at": collected,
        "lang": lang,
        "audience": audience,
        "inflammation": inflammation,
    }
    expected = _frame_findings(results, **context)
    got = labinterp.interpret_panel(
        results,
        sex=sex,
        age_years=age,
        collected_at=collected,
        profile=profile,
        lang=lang,
        audience=audience,
        inflammation=inflammation,
    )
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        _same(a, b)


@PROPERTY
@given(
    result=result,
    sex=st.sampled_from([None, "K", "M", "x"]),
    age=st.sampled_from([None, 5.0, 45.0, 95.0]),
    profile=st.sampled_from(["no", "us"]),
    lang=st.sampled_from(["en", "nb", "sv"]),
    audience=st.sampled_from(["patient", "clinician"]),
)
def test_interpret_one_equals_frame_path(
    result: dict[str, Any],
    sex: str | None,
    age: float | None,
    profile: str,
    lang: str,
    audience: str,
) -> None:
    frame = pd.DataFrame(
        [
            {
                "raw_value": result["value"]
                if result["value"] is None or isinstance(result["value"], str)
                else float(result["value"]),
                "raw_unit": result["unit"],
                "sex": sex,
                "age_years": age,
                "lab_reference_text": result.get("reference_text"),
                "analyte": result["analyte"] if result["analyte"] in catalogue.analytes() else None,
                "source_code": None
                if result["analyte"] in catalogue.analytes()
                else result["analyte"],
                "source_name": None
                if result["analyte"] in catalogue.analytes()
                else result["analyte"],
                "source_status": result.get("source_status"),
                "lab_flag": result.get("lab_flag"),
            }
        ]
    )
    expected = labinterp.findings(
        labinterp.interpret(frame, profile=profile, derive=False, lang=lang, audience=audience)
    )[0]
    got = labinterp.interpret_one(
        result["analyte"],
        result["value"],
        result["unit"],
        sex=sex,
        age_years=age,
        reference_text=result.get("reference_text"),
        profile=profile,
        source_status=result.get("source_status"),
        lab_flag=result.get("lab_flag"),
        lang=lang,
        audience=audience,
    )
    _same(got, expected)


@PROPERTY
@given(
    profile=st.sampled_from(["no", "se", "dk", "us"]),
    analyte=st.sampled_from([*catalogue.analytes(), None]),
    value=st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.just(float("inf"))),
    scale=st.sampled_from([1.0, 0.5, 10.93, 88.42]),
    offset=st.sampled_from([0.0, -23.5, 2.15]),
)
def test_reporting_resolution_one_equals_the_array_version(
    profile: str, analyte: str | None, value: float, scale: float, offset: float
) -> None:
    """The scalar twin rounds a converted value as the array version does."""
    chosen = catalogue.get_profile(profile)
    keys = list(catalogue.analytes())
    number = np.array([keys.index(analyte) if analyte else -1], dtype=np.int64)
    array = at_reporting_resolution(
        chosen, number, np.array([value]), np.array([scale]), np.array([offset])
    )[0]
    one = at_reporting_resolution_one(chosen, analyte, value, scale, offset)
    assert one == array or (np.isnan(one) and np.isnan(array))


def test_a_derived_value_that_cannot_be_read_is_not_said_to_be_compared() -> None:
    """A cystatin C of 0 gives an eGFR beyond every number: not compared, on both paths.

    Under the Danish profile the creatinine-cystatin C equation has no limits of its own,
    so no range; the range_missing caveat (about a comparison) must not attach to it.
    """
    results = [
        {"analyte": "creatinine", "value": "1.00", "unit": "mmol/L"},
        {"analyte": "cystatin_c", "value": "0.00", "unit": "mmol/L"},
    ]
    context = {"sex": "K", "age_years": 18.0, "profile": "dk", "collected_at": "2026-01-15"}
    context |= {"lang": "en", "audience": "patient", "inflammation": True}
    panel = labinterp.interpret_panel(
        results,
        sex="K",
        age_years=18.0,
        profile="dk",
        collected_at="2026-01-15",
        inflammation=True,
    )
    frame = _frame_findings(results, **context)
    assert len(panel) == len(frame)
    for got, expected in zip(panel, frame, strict=True):
        _same(got, expected)
    unread = [f for f in panel if f.equation == "egfr_ckd_epi_2012_cr_cys"]
    assert unread and not any("No reference range" in c for c in unread[0].caveats)
