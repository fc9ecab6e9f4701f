"""The lab's own flag: kept as sent in ``lab_flag``, compared in ``agrees_with_lab``.

Codes: HL7 v2.5.1 table 0078 (HL7v2_Table0078) and FHIR R4 v3-ObservationInterpretation
(FHIR_R4_ObservationInterpretation). The comparison is defined in
:mod:`labinterp.steps.lab_flag` and documented in docs/formats/hl7.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.catalogue import Text
from labinterp.schema import FLAGS
from labinterp.steps.lab_flag import (
    LAB_CODES,
    LAB_FLAGS,
    NOT_COMPARABLE,
    agreement,
    agreement_one,
    lab_flag_codes,
    read_lab_flag,
)

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parent.parent / "docs"
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
NOT_COMPARED = Text("en", "patient").get("note.lab_flag_not_compared")


def _code(name: str) -> int:
    return LAB_CODES.index(name)


# -- reading -------------------------------------------------------------------------

READ = {
    "LL": "LL", "L": "L", "N": "N", "H": "H", "HH": "HH", "A": "A", "AA": "AA",
    "h": "H", " l ": "L", "HU": "H", "LU": "L", "H>": "H", "L<": "L",
    "HIGH": "H", "low": "L", "Normal": "N", "abnormal": "A",
    "høy": "H", "lav": "L", "HØJ": "H", "hög": "H", "låg": "L",
    "L~A": "L", "A~HH": "HH", "AA~A": "AA", "H~H": "H", "H~U": "H",
    "H^High^HL70078": "H", "LL^Critical low^HL70078~A": "LL",
}  # fmt: skip
NOT_COMPARABLE_TEXTS = ["*", "+", "-", "<", ">", "HX", "LX", "U", "D", "B", "W", "S", "R",
    "I", "POS", "NEG", "DET", "ND", "IND", "E", "xyz", "166717003", "H~L", "LL~L", "N~A",
    "L~AA", "H~N"]  # fmt: skip


@pytest.mark.parametrize(("written", "meant"), sorted(READ.items()))
def test_flags_read(written: str, meant: str) -> None:
    assert read_lab_flag(written) == _code(meant)


@pytest.mark.parametrize("written", [*NOT_COMPARABLE_TEXTS, 5, 1.0])
def test_flags_not_comparable(written: Any) -> None:
    assert read_lab_flag(written) == NOT_COMPARABLE


@pytest.mark.parametrize("written", [None, "", "  ", "~", "^", np.nan, pd.NA])
def test_no_flag_given(written: Any) -> None:
    assert read_lab_flag(written) == -1


def test_table_holds_only_comparable_codes() -> None:
    assert set(LAB_FLAGS.values()) <= set(LAB_CODES)
    assert all(key == key.upper() for key in LAB_FLAGS)


# -- the comparison ------------------------------------------------------------------

#: The comparison as documented: for each lab code, the flags of labinterp it agrees with.
AGREES_WITH = {
    "LL": {"LL"},
    "L": {"L"},
    "N": {"N"},
    "H": {"H"},
    "HH": {"HH"},
    "A": {"LL", "L", "H", "HH"},
    "AA": {"LL", "HH"},
}


@pytest.mark.parametrize("lab", LAB_CODES)
@pytest.mark.parametrize("ours", [*FLAGS, ""])
def test_agreement_as_documented(lab: str, ours: str) -> None:
    expected = None if ours == "" else ours in AGREES_WITH[lab]
    assert agreement_one(lab, ours) == (expected, False)


@pytest.mark.parametrize("ours", [*FLAGS, ""])
def test_no_or_uncomparable_lab_flag_is_never_compared(ours: str) -> None:
    assert agreement_one(None, ours) == (None, False)
    assert agreement_one("*", ours) == (None, True)


lab_text = st.one_of(
    st.none(),
    st.sampled_from([*READ, *NOT_COMPARABLE_TEXTS]),
    st.text(alphabet="HLNA~^ <>*", max_size=6),
)


@PROPERTY
@given(st.lists(st.tuples(lab_text, st.sampled_from([*FLAGS, ""])), min_size=1, max_size=20))
def test_agreement_equals_agreement_one(rows: list[tuple[str | None, str]]) -> None:
    """The array comparison (frame path) is the scalar one (single path), row by row."""
    labs = lab_flag_codes(pd.Series([lab for lab, _ in rows], dtype=object))
    ours = np.array([FLAGS.index(f) if f else len(FLAGS) for _, f in rows], dtype=np.int64)
    agrees, not_compared = agreement(labs, ours)
    for i, (lab, flag) in enumerate(rows):
        expected, flagged = agreement_one(lab, flag)
        assert (None if pd.isna(agrees[i]) else bool(agrees[i])) == expected
        assert bool(not_compared[i]) == flagged


# -- in the frame --------------------------------------------------------------------


def _magnesium(value: str, lab_flag: Any, **columns: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "analyte": ["magnesium"],
            "raw_value": [value],
            "raw_unit": ["mmol/L"],
            "sex": ["female"],
            "age_years": [54.0],
            "lab_reference_text": ["0.71-0.94"],
            "lab_flag": [lab_flag],
            **{k: [v] for k, v in columns.items()},
        }
    )


def test_lab_ll_against_our_l_disagrees() -> None:
    """Mg 0.65 with the lab's 0.71-0.94: L here; a lab flag LL disagrees on criticality."""
    out = labinterp.interpret(_magnesium("0.65", "LL"))
    row = out.iloc[0]
    assert (row["flag"], row["lab_flag"], row["agrees_with_lab"]) == ("L", "LL", False)
    assert NOT_COMPARED is not None and NOT_COMPARED.text not in row["caveats"]


@pytest.mark.parametrize(
    ("value", "lab", "agrees"),
    [("0.65", "L", True), ("0.65", "A", True), ("0.80", "A", False), ("0.80", "N", True),
     ("0.65", "lav", True), ("0.65", None, None), ("0.65", "", None)],
)  # fmt: skip
def test_agrees_with_lab(value: str, lab: Any, agrees: bool | None) -> None:
    out = labinterp.interpret(_magnesium(value, lab))
    found = out["agrees_with_lab"].iloc[0]
    assert (None if pd.isna(found) else bool(found)) == agrees
    assert out["agrees_with_lab"].dtype == "boolean"


def test_uncomparable_lab_flag_is_named() -> None:
    out = labinterp.interpret(_magnesium("0.65", "*"))
    assert pd.isna(out["agrees_with_lab"].iloc[0])
    assert NOT_COMPARED is not None and NOT_COMPARED.text in out["caveats"].iloc[0]
    # Not on a result that is not interpreted: it has no flag and no notes.
    withdrawn = labinterp.interpret(_magnesium("0.65", "*", result_status="W"))
    assert pd.isna(withdrawn["caveats"].iloc[0])


def test_derived_rows_have_no_lab_flag() -> None:
    frame = _magnesium("0.65", "L").assign(analyte="creatinine", raw_value="80",
                                           raw_unit="µmol/L", lab_reference_text=None)  # fmt: skip
    out = labinterp.interpret(frame)
    assert out["status"].tolist() == ["ok", "derived"]
    assert pd.isna(out["agrees_with_lab"].iloc[1]) and pd.isna(out["lab_flag"].iloc[1])


# -- readers keep what the source said ------------------------------------------------


def test_hl7_obx8_repetitions_are_kept_and_compared() -> None:
    text = (
        "MSH|^~\\&|LAB|SITE|EHR|SITE|20240105083000||ORU^R01|CTRL-1|P|2.5.1\r"
        "PID|1||TEST-1^^^SITE^MR||Doe^Jane||19700102|F\r"
        "OBR|1|ORD-1|||||202401050810\r"
        "OBX|1|NM|2601-3^Magnesium^LN||0.62|mmol/L|0.71-0.94|L~A|||F\r"
        "OBX|2|NM|2601-3^Magnesium^LN||0.62|mmol/L|0.71-0.94|LL^Critical low^HL70078|||F\r"
    )
    frame = labinterp.parse_hl7(text)
    assert frame["lab_flag"].tolist() == ["L~A", "LL^Critical low^HL70078"]
    out = labinterp.interpret(frame)
    assert out["flag"].tolist() == ["L", "L"]
    assert out["agrees_with_lab"].tolist() == [True, False]


def test_fhir_interpretations_all_kept() -> None:
    """Several interpretations, v3 codings preferred over SNOMED ones (FHIR example f204)."""
    resource: dict[str, Any] = json.loads(
        (DATA / "fhir" / "observation-example-f204-creatinine.json").read_text(encoding="utf-8")
    )
    assert labinterp.parse_fhir(resource)["lab_flag"].tolist() == ["H"]
    resource["interpretation"].append(
        {"coding": [{"system": "http://snomed.info/sct", "code": "281302008"}]}
    )
    resource["interpretation"].append({"text": "above range"})
    assert labinterp.parse_fhir(resource)["lab_flag"].tolist() == ["H~281302008~above range"]
    out = labinterp.interpret(labinterp.parse_fhir(resource).assign(sex="male", age_years=40.0))
    assert out["agrees_with_lab"].iloc[0]  # 122 umol/L against the lab's 64-104: H and H


def test_f204_agrees_with_its_lab() -> None:
    """FHIR spec example f204 (CC0): creatinine 122 umol/L, the lab says H."""
    out = labinterp.interpret(
        labinterp.read(DATA / "fhir" / "observation-example-f204-creatinine.json")
    )
    assert (out["flag"].iloc[0], out["agrees_with_lab"].iloc[0]) == ("H", True)


def test_csv_flag_columns_are_read_and_compared() -> None:
    csv = "analyte;raw_value;raw_unit;sex;age_years;lab_reference_text;{}\n".format
    for header in ("avvik", "markering", "flag"):
        frame = labinterp.read_csv(
            (csv(header) + "magnesium;0,65;mmol/L;K;54;0,71-0,94;lav\n").encode()
        )
        out = labinterp.interpret(frame)
        assert (out["lab_flag"].iloc[0], out["agrees_with_lab"].iloc[0]) == ("lav", True), header


def test_mimic_abnormal_flag_is_compared() -> None:
    """MIMIC-IV demo (ODbL, test data): ``flag`` holds ``abnormal`` or nothing."""
    events = pd.read_csv(DATA / "mimic-iv-demo" / "labevents_target_analytes.csv", nrows=400)
    flags = events["flag"]
    assert set(flags.dropna()) == {"abnormal"}
    codes = lab_flag_codes(flags.astype(object))
    assert set(codes.tolist()) == {-1, _code("A")}


# -- the documentation -----------------------------------------------------------------


def test_documented_spellings_are_the_table() -> None:
    """docs/formats/hl7.md lists every spelling read, with the code it means."""
    page = (DOCS / "formats" / "hl7.md").read_text(encoding="utf-8")
    section = page[page.index("## The lab's own flag") :]
    rows = re.findall(r"^\| (`[^|]+`(?:, `[^|]+`)*) \| `([A-Z]+)` \|", section, re.MULTILINE)
    documented = {
        spelling.strip("`").upper(): code
        for spellings, code in rows
        for spelling in spellings.split(", ")
    }
    assert documented == dict(LAB_FLAGS)
