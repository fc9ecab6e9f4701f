"""Statuses from the source: FHIR Observation.status and HL7 OBX-11 are honoured.

A result the source withdrew (``entered-in-error``; OBX-11 ``W``, ``D``) or cancelled
(``cancelled``; ``X``, ``N``) is kept as a row but not interpreted, and nothing else uses
it: no eGFR, no context rule, no inflammation, no history. A preliminary result is
interpreted and marked; a corrected one supersedes the earlier result. The status is
written back to FHIR. Codes: HL7 v2.5.1 table 0085 (HL7v2_Table0085), FHIR R4
ObservationStatus (FHIR_R4_ObservationStatus).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import schema
from labinterp.catalogue import Text
from labinterp.io.writers.csv import write_csv
from labinterp.steps.source import (
    CANCELLED,
    HL7_RESULT_STATUS,
    WITHDRAWN,
    derived_status,
    read_status,
    source_status_codes,
)

DATA = Path(__file__).parent / "data"
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
WHEN = pd.Timestamp("2026-01-15 08:10")


def _note(key: str) -> str:
    entry = Text("en", "patient").get(f"note.{key}")
    assert entry is not None
    return entry.text


def _frame(*rows: tuple[str, str, str, Any], **columns: Any) -> pd.DataFrame:
    """Results of one sample of one woman, 54: (analyte, value, unit, status) per row."""
    frame = pd.DataFrame(
        {
            "patient_id": "p1",
            "collected_at": WHEN,
            "sex": "female",
            "age_years": 54.0,
            "analyte": [r[0] for r in rows],
            "raw_value": [r[1] for r in rows],
            "raw_unit": [r[2] for r in rows],
            "result_status": [r[3] for r in rows],
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


# -- the table -------------------------------------------------------------------------

TABLE_0085 = {
    "F": "final",
    "C": "corrected",
    "A": "amended",
    "B": "amended",
    "P": "preliminary",
    "R": "preliminary",
    "S": "preliminary",
    "I": "registered",
    "O": "registered",
    "U": "final",
    "V": "final",
    "W": "entered-in-error",
    "D": "entered-in-error",
    "X": "cancelled",
    "N": "cancelled",
}


@pytest.mark.parametrize(("code", "status"), sorted(TABLE_0085.items()))
def test_hl7_result_status_codes(code: str, status: str) -> None:
    """Every OBX-11 code of table 0085 reads as documented (either case, with spaces)."""
    for written in (code, code.lower(), f" {code} "):
        found, unrecognised = read_status(written)
        assert schema.SOURCE_STATUSES[found] == status
        assert not unrecognised
    assert dict(HL7_RESULT_STATUS) == TABLE_0085


@pytest.mark.parametrize("status", schema.SOURCE_STATUSES)
def test_fhir_statuses_read_as_themselves(status: str) -> None:
    assert read_status(status) == (schema.SOURCE_STATUSES.index(status), False)
    assert read_status(status.upper())[0] == schema.SOURCE_STATUSES.index(status)


@pytest.mark.parametrize("text", [None, "", "  ", float("nan"), pd.NA])
def test_no_status_sent(text: Any) -> None:
    assert read_status(text) == (-1, False)


@pytest.mark.parametrize("text", ["endelig", "Z", "FF", "final-ish", "1"])
def test_unrecognised_status_is_unknown_and_named(text: str) -> None:
    assert read_status(text) == (schema.SOURCE_STATUSES.index("unknown"), True)


def test_first_status_column_present_wins() -> None:
    frame = pd.DataFrame(
        {
            "source_status": [None, "preliminary", None],
            "observation_status": ["final", "final", None],
            "result_status": ["W", "W", "X"],
        }
    )
    codes, unrecognised = source_status_codes(frame)
    assert [schema.SOURCE_STATUSES[c] for c in codes] == ["final", "preliminary", "cancelled"]
    assert not unrecognised.any()


def test_derived_status_is_the_least_final() -> None:
    code = {name: i for i, name in enumerate(schema.SOURCE_STATUSES)}
    first = np.array([code["final"], code["corrected"], code["final"], -1, -1, code["unknown"]])
    second = np.array([-1, code["preliminary"], code["unknown"], -1, code["final"], -1])
    names = [schema.SOURCE_STATUSES[c] if c >= 0 else None for c in derived_status(first, second)]
    assert names == ["final", "preliminary", "unknown", None, "final", "unknown"]


# -- withdrawn and cancelled -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "problem"),
    [("W", "withdrawn", WITHDRAWN), ("D", "withdrawn", WITHDRAWN), ("X", "cancelled", CANCELLED)],
)
def test_withheld_row_is_kept_not_interpreted_and_derives_nothing(
    code: str, status: str, problem: str
) -> None:
    out = labinterp.interpret(_frame(("creatinine", "80", "µmol/L", code), lab_flag=["N"]))
    assert len(out) == 1  # no eGFR from it
    row = out.iloc[0]
    assert (row["status"], row["problem"]) == (status, problem)
    assert row["analyte"] == "creatinine" and row["value"] == 80.0  # kept as sent
    for name in ("flag", "reference_source", "category", "explanation", "caveats"):
        assert pd.isna(row[name]), name
    assert math.isnan(row["reference_low"]) and pd.isna(row["agrees_with_lab"])
    assert row["source_status"] == {"W": "entered-in-error", "D": "entered-in-error"}.get(
        code, "cancelled"
    )


def test_withdrawn_wins_over_a_reading_problem() -> None:
    out = labinterp.interpret(_frame(("creatinine", "80", "furlongs", "W")))
    assert out["status"].tolist() == ["withdrawn"]


def test_withdrawn_crp_does_not_make_ferritin_inflamed() -> None:
    """WHO 2020: ferritin is read against a higher threshold with inflammation."""

    def category(crp_status: str) -> str:
        out = labinterp.interpret(
            _frame(("ferritin", "40", "µg/L", "F"), ("crp", "60", "mg/L", crp_status))
        )
        return str(out["category"].iloc[0])

    assert category("F") != category("W")
    assert (
        category("W")
        == category("X")
        == str(labinterp.interpret(_frame(("ferritin", "40", "µg/L", "F")))["category"].iloc[0])
    )


def test_withdrawn_egfr_is_not_seen_by_context_rules() -> None:
    """mg_kidney: a high magnesium with an eGFR below 30 in the same sample."""

    def rules(egfr_status: str) -> str:
        out = labinterp.interpret(
            _frame(
                ("magnesium", "1.4", "mmol/L", "F"), ("egfr", "20", "mL/min/1.73m2", egfr_status)
            )
        )
        return str(out["caveat_rules"].iloc[0])

    assert "mg_kidney" in rules("F")
    assert "mg_kidney" not in rules("W")


def test_withdrawn_cystatin_c_is_not_paired() -> None:
    frame = _frame(("creatinine", "80", "µmol/L", "F"), ("cystatin_c", "1.0", "mg/L", "F"))
    paired = labinterp.interpret(frame)
    frame.loc[1, "result_status"] = "W"
    alone = labinterp.interpret(frame)
    assert (paired["derived_from"] == "0;1").any()
    assert not (alone["derived_from"] == "0;1").any()
    assert alone.loc[alone["status"] == "derived", "derived_from"].tolist() == ["0"]


def test_history_leaves_withdrawn_results_out() -> None:
    frame = _frame(
        ("magnesium", "0.80", "mmol/L", "F"),
        ("magnesium", "0.40", "mmol/L", "W"),
        ("magnesium", "0.78", "mmol/L", "F"),
        collected_at=pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
    )
    out = labinterp.interpret(frame, history=True)
    assert out["previous_value"].iloc[2] == pytest.approx(0.80)
    assert math.isnan(out["previous_value"].iloc[1])


def test_a_later_withdrawal_marks_the_earlier_result() -> None:
    """OBX-11 W posts the original as wrong: an earlier result of the test is marked."""
    out = labinterp.interpret(
        _frame(("magnesium", "0.62", "mmol/L", "F"), ("magnesium", "0.62", "mmol/L", "W"))
    )
    assert out["superseded"].tolist() == [True, False]
    assert _note("withdrawn_later") in str(out["caveats"].iloc[0])
    assert out["status"].tolist() == ["ok", "withdrawn"]


# -- preliminary, corrected, unknown ---------------------------------------------------


@pytest.mark.parametrize("code", ["P", "I", "S", "preliminary", "registered"])
def test_preliminary_is_interpreted_and_marked(code: str) -> None:
    out = labinterp.interpret(_frame(("creatinine", "80", "µmol/L", code)))
    assert out["status"].tolist() == ["ok", "derived"]
    assert out["flag"].notna().all()
    assert out["source_status"].tolist() == [
        "registered" if code in "I registered" else "preliminary",
        "preliminary",
    ]
    for caveats in out["caveats"]:
        assert _note("preliminary") in caveats  # the eGFR from it too


def test_corrected_status_supersedes_without_a_corrected_column() -> None:
    out = labinterp.interpret(
        _frame(("magnesium", "0.62", "mmol/L", "F"), ("magnesium", "0.82", "mmol/L", "C"))
    )
    assert out["superseded"].tolist() == [True, False]
    assert out["status"].tolist() == ["ok", "ok"]
    assert out["source_status"].tolist() == ["final", "corrected"]


NO_YES = [("N", False), ("n", False), ("no", False), ("nei", False), ("0", False),
          ("Y", True), ("yes", True), ("true", True), ("1", True)]  # fmt: skip


@pytest.mark.parametrize(("written", "replaces"), NO_YES)
def test_corrected_column_text_no_is_no(written: str, replaces: bool) -> None:
    """A text "N" in a corrected column used to count as true."""
    frame = _frame(("magnesium", "0.62", "mmol/L", None), ("magnesium", "0.82", "mmol/L", None))
    frame = frame.drop(columns="result_status")
    frame["corrected"] = [written, written]
    out = labinterp.interpret(frame)
    assert out["superseded"].tolist() == [replaces, False]


def test_unknown_status_is_interpreted_with_a_note() -> None:
    out = labinterp.interpret(_frame(("magnesium", "0.62", "mmol/L", "endelig")))
    row = out.iloc[0]
    assert (row["status"], row["source_status"], row["flag"]) == ("ok", "unknown", "L")
    assert _note("status_unknown") in row["caveats"]


def test_no_status_column_changes_nothing() -> None:
    frame = _frame(("magnesium", "0.62", "mmol/L", None)).drop(columns="result_status")
    out = labinterp.interpret(frame)
    assert out["source_status"].isna().all()
    assert "superseded" not in out.columns
    assert out["status"].tolist() == ["ok"]


def test_notes_in_every_language() -> None:
    frame = _frame(("magnesium", "0.62", "mmol/L", "P"), ("magnesium", "0.7", "mmol/L", "?"))
    for lang in ("en", "nb", "sv"):
        out = labinterp.interpret(frame, lang=lang, audience="clinician")
        text = Text(lang, "clinician")
        for i, key in enumerate(("preliminary", "status_unknown")):
            entry = text.get(f"note.{key}")
            assert entry is not None and entry.text in out["caveats"].iloc[i]


def test_problem_sentences_are_in_the_text_catalogues() -> None:
    for key, sentence in (("withdrawn", WITHDRAWN), ("cancelled", CANCELLED)):
        english = Text("en", "patient").get(f"problem.{key}")
        assert english is not None and english.text == sentence
        for lang in ("nb", "sv"):
            entry = Text(lang, "patient").get(f"problem.{key}")
            assert entry is not None and entry.text != sentence


# -- a withheld result changes nothing else ------------------------------------------

PANEL = ["creatinine", "cystatin_c", "crp", "ferritin", "magnesium", "egfr", "albumin", "hba1c",
         "hemoglobin"]  # fmt: skip
VALUES = {"creatinine": ("80", "µmol/L"), "cystatin_c": ("1.1", "mg/L"), "crp": ("60", "mg/L"),
          "ferritin": ("40", "µg/L"), "magnesium": ("1.4", "mmol/L"),
          "egfr": ("20", "mL/min/1.73m2"), "albumin": ("30", "g/L"),
          "hba1c": ("48", "mmol/mol"), "hemoglobin": ("100", "g/L")}  # fmt: skip
COMPARED = ["analyte", "value", "flag", "category", "caveats", "explanation", "status",
            "source_status", "derived_from", "value_canonical"]  # fmt: skip


@PROPERTY
@given(
    st.lists(
        st.tuples(st.sampled_from(PANEL), st.sampled_from(["F", "P", "C", None, "W", "X", "D"])),
        min_size=1,
        max_size=8,
        unique_by=lambda r: r[0],
    )
)
def test_withheld_rows_change_nothing_else(rows: list[tuple[str, str | None]]) -> None:
    """The other rows come out as if the withdrawn and cancelled ones were not there."""
    frame = _frame(*((a, *VALUES[a], s) for a, s in rows))
    frame["source_row"] = np.arange(len(frame), dtype="int64")
    kept = frame["result_status"].isin(["W", "X", "D"]).to_numpy()
    whole = labinterp.interpret(frame)
    without = labinterp.interpret(frame[~kept])
    left = whole[
        whole["status"].astype(str).ne("withdrawn") & whole["status"].astype(str).ne("cancelled")
    ]
    pd.testing.assert_frame_equal(
        left[COMPARED].reset_index(drop=True).astype(object),
        without[COMPARED].reset_index(drop=True).astype(object),
    )
    assert (whole["status"].astype(str).isin(["withdrawn", "cancelled"])).sum() == kept.sum()


# -- real samples and FHIR output ------------------------------------------------------


def test_uclh_withdrawn_glucose_sample() -> None:
    """bio_connect_normal_flag.txt (UCLH Emap, GPL-3.0, test data): OBX-11 W."""
    out = labinterp.interpret(labinterp.read(DATA / "hl7" / "bio_connect_normal_flag.txt"))
    assert out["status"].tolist() == ["withdrawn"]
    assert out["source_status"].tolist() == ["entered-in-error"]
    observation = labinterp.to_fhir(out).entry[0].resource
    assert observation.status == "entered-in-error"
    assert observation.interpretation is None and observation.valueQuantity is None


def test_nist_corrected_sample_is_written_corrected() -> None:
    out = labinterp.interpret(
        labinterp.read(DATA / "hl7" / "nist_ORU_R01_2.5.1_SampleTestCase3.hl7")
    )
    assert out["source_status"].tolist() == ["corrected"]
    assert labinterp.to_fhir(out).entry[0].resource.status == "corrected"


def _f204(status: str) -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(
        (DATA / "fhir" / "observation-example-f204-creatinine.json").read_text(encoding="utf-8")
    )
    resource["status"] = status
    return resource


@pytest.mark.parametrize(
    ("status", "row_status", "written"),
    [
        ("final", "ok", "final"),
        ("preliminary", "ok", "preliminary"),
        ("amended", "ok", "amended"),
        ("entered-in-error", "withdrawn", "entered-in-error"),
        ("cancelled", "cancelled", "cancelled"),
        ("unknown", "ok", "unknown"),
    ],
)
def test_fhir_status_is_read_and_written_back(status: str, row_status: str, written: str) -> None:
    """The FHIR spec's creatinine example f204 (CC0) under each status."""
    frame = labinterp.parse_fhir(_f204(status))
    out = labinterp.interpret(frame.assign(sex="male", age_years=40.0))
    assert out["status"].iloc[0] == row_status
    assert len(out) == (2 if row_status == "ok" else 1)  # an eGFR only from a usable result
    bundle = labinterp.to_fhir(out)
    assert bundle.entry[0].resource.status == written
    if row_status != "ok":
        assert bundle.entry[0].resource.interpretation is None


def test_fhir_output_without_a_status_is_final_or_corrected() -> None:
    frame = _frame(("magnesium", "0.62", "mmol/L", None)).drop(columns="result_status")
    out = labinterp.interpret(frame)
    assert labinterp.to_fhir(out).entry[0].resource.status == "final"
    marked = labinterp.interpret(frame.assign(corrected=[True]))
    assert labinterp.to_fhir(marked).entry[0].resource.status == "corrected"


def test_derived_egfr_from_a_preliminary_creatinine_is_written_preliminary() -> None:
    out = labinterp.interpret(_frame(("creatinine", "80", "µmol/L", "P")))
    assert [e.resource.status for e in labinterp.to_fhir(out).entry[:2]] == [
        "preliminary",
        "preliminary",
    ]


def test_csv_output_carries_the_columns(tmp_path: Path) -> None:
    out = labinterp.interpret(_frame(("magnesium", "0.62", "mmol/L", "W"), lab_flag=["LL"]))
    path = tmp_path / "out.csv"
    write_csv(out, path)
    text = path.read_text(encoding="utf-8")
    assert "source_status" in text and "agrees_with_lab" in text and "entered-in-error" in text
