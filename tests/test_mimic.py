"""The MIMIC-IV demo worked example (examples/mimic-iv-demo) interprets end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

import labinterp
from labinterp.errors import LabinterpWarning

from .conftest import DATA, EXAMPLES

MIMIC = DATA / "mimic-iv-demo"


def _example() -> ModuleType:
    path = EXAMPLES / "mimic-iv-demo" / "interpret_mimic.py"
    spec = importlib.util.spec_from_file_location("interpret_mimic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: MIMIC-IV labevents columns that fill no field: named once when the file is read.
UNUSED = (
    "'labevent_id', 'hadm_id', 'specimen_id', 'order_provider_id', 'storetime', "
    "'valuenum' (raw_value is filled by 'value'), 'priority', 'comments'."
)


@pytest.fixture(scope="module")
def interpreted() -> pd.DataFrame:
    with pytest.warns(LabinterpWarning) as caught:
        frame = _example().read_mimic_labevents(
            MIMIC / "labevents_target_analytes.csv", MIMIC / "patients.csv"
        )
    assert [str(w.message).split(": ", 1)[1].split(" To use")[0] for w in caught] == [UNUSED]
    return labinterp.interpret(frame, profile="us")


@pytest.fixture(scope="module")
def events(interpreted: pd.DataFrame) -> pd.DataFrame:
    return interpreted[interpreted["status"] != "derived"]


def test_every_lab_event_is_interpreted_once(events: pd.DataFrame) -> None:
    """All 6,446 lab events come back once, with the expected count per analyte and status."""
    assert len(events) == 6446
    assert events["source_row"].is_unique
    keyed = events.assign(analyte=events["analyte"].astype(object).fillna("(none)"))
    counts = keyed.groupby(["analyte", "status"]).size().to_dict()
    assert counts == {
        ("creatinine", "ok"): 3003,  # 50912 and 52546
        ("egfr", "unparsed_value"): 742,  # MIMIC writes eGFR only as free text in comments
        ("ferritin", "ok"): 76,
        ("hba1c", "ok"): 117,
        ("magnesium", "ok"): 2470,
        ("vitamin_d_25oh", "ok"): 33,
        ("(none)", "unknown_analyte"): 5,  # 52024 creatinine in whole blood is not covered
    }


def test_every_creatinine_gets_a_derived_egfr(interpreted: pd.DataFrame) -> None:
    """Each of the 3,003 creatinine events (all adults with sex) gets a CKD-EPI 2021 eGFR row."""
    derived = interpreted[interpreted["status"] == "derived"]
    assert len(derived) == 3003
    assert set(derived["equation"]) == {"egfr_ckd_epi_2021_cr"}
    assert derived["category"].notna().all()  # a KDIGO G category for every one


def test_mimic_limits_are_the_lab_range_and_flags_agree(interpreted: pd.DataFrame) -> None:
    """Where MIMIC gave limits, labinterp uses them, and its flag agrees with MIMIC's 'abnormal'.

    Agreement is counted over rows with MIMIC limits and a numeric value: labinterp
    L/H/LL/HH against MIMIC 'abnormal', N against an empty MIMIC flag. All 5,699 agree,
    so there is no disagreement to explain.
    """
    with_limits = interpreted["lab_reference_text"].notna() & (interpreted["status"] == "ok")
    # derived rows never carry MIMIC's limits, so they are not in this count
    assert with_limits.sum() == 5699
    assert (interpreted.loc[with_limits, "reference_source"] == "lab").all()
    mimic_abnormal = interpreted["lab_flag"].fillna("") == "abnormal"
    ours_abnormal = interpreted["flag"].isin(["L", "H", "LL", "HH"])
    agree = (mimic_abnormal == ours_abnormal) & with_limits
    assert agree.sum() == with_limits.sum()


def test_redacted_values_use_mimic_valuenum(interpreted: pd.DataFrame) -> None:
    """Values redacted to '___' are read from MIMIC's valuenum and marked as such."""
    from_valuenum = interpreted["value_from"] == "valuenum"
    assert from_valuenum.sum() == 202
    analyte = interpreted.loc[from_valuenum, "analyte"].astype(object)
    assert analyte.fillna("(none)").value_counts().to_dict() == {
        "hba1c": 117,
        "creatinine": 40,
        "vitamin_d_25oh": 28,
        "magnesium": 16,
        "(none)": 1,  # an item the map marks as not covered
    }


def test_egfr_rows_explain_the_missing_value(events: pd.DataFrame) -> None:
    """The eGFR rows have no value, so they say so; the text stays in MIMIC's comments column."""
    egfr = events[events["analyte"] == "egfr"]
    assert (egfr["problem"] == "No value was given.").all()
    assert egfr["comments"].str.contains("GFR", case=False).mean() > 0.9


def test_code_map_is_the_bundled_one() -> None:
    """The bundled map covers every item of the slice (covered or explicitly not covered)."""
    table = pd.read_csv(EXAMPLES / "mimic-iv-demo" / "code_map.csv", comment="#", dtype=str)
    items = pd.read_csv(MIMIC / "labevents_target_analytes.csv", usecols=["itemid"], dtype=str)
    assert set(items["itemid"]) <= set(table["code"])
    assert Path(MIMIC / "README.md").read_text(encoding="utf-8").count("ODbL") >= 1
