import logging
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import Flag, Status
from labinterp.errors import InvalidResultError, LabinterpError, MissingColumnError

STATUSES = {s.value for s in Status}


def frame(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_nordic_example_end_to_end(nordic_example) -> None:
    """The bundled Nordic export is read (Latin-1, ';', decimal comma) and every row interpreted."""
    source = labinterp.read_csv(nordic_example)
    everything = labinterp.interpret(source)
    out = everything[everything["status"] != "derived"]
    assert len(out) == len(source)
    assert out["source_row"].tolist() == source["source_row"].tolist()
    assert set(everything["status"]) <= STATUSES
    derived = everything[everything["status"] == "derived"]
    egfr = derived[derived["analyte"] == "egfr"]
    assert egfr["derived_from"].tolist() == ["3", "8", "19"]  # creatinine rows with age/sex
    # P005 has a creatinine and a urine ACR: CKD prognosis and kidney-failure risk follow.
    kidney = derived[derived["analyte"].isin(["ckd_risk", "kfre_2y", "kfre_5y"])]
    assert kidney["analyte"].tolist() == ["ckd_risk", "kfre_2y", "kfre_5y"]
    # P006 (a health-check panel) has calcium with albumin: albumin-corrected calcium.
    corrected = derived[derived["analyte"] == "calcium_albumin_corrected"]
    assert len(corrected) == 1 and corrected["value"].iloc[0] == pytest.approx(2.30)
    assert set(kidney["derived_from"]) == {"19;20"}
    assert kidney["category"].tolist()[0] == "very_high"  # G3b with A3
    by_row = out.set_index("source_row")
    assert by_row.loc[2, "raw_unit"] == "mmol/L" and by_row.loc[3, "unit"] == "µmol/L"
    assert by_row.loc[2, "flag"] == "L" and by_row.loc[2, "reference_source"] == "lab"
    assert by_row.loc[14, "flag"] == "LL"  # 0,45 mmol/L under the 0.50 critical limit
    assert (
        by_row.loc[13, "status"] == "unparsed_value" and by_row.loc[13, "raw_value"] == "hemolysert"
    )
    assert by_row.loc[15, "status"] == "unknown_analyte"  # copper is not in the catalogue
    assert by_row.loc[17, "status"] == "missing_context"  # creatinine without sex
    assert by_row.loc[4, "flag"] == "N"  # eGFR '>60' against a lab range '>60'


@pytest.mark.parametrize("profile", ["no", "us"])
def test_columns_factorized_in_threads_give_the_same_frame(
    nordic_example, us_example, monkeypatch, profile: str
) -> None:
    """Hashing the text columns in background threads (large frames) changes no output."""
    from labinterp import perf

    source = labinterp.read_csv(nordic_example if profile == "no" else us_example)
    monkeypatch.setattr(perf, "THREADED_ROWS", 10**9)
    in_turn = labinterp.interpret(source, profile=profile, history=True)
    monkeypatch.setattr(perf, "THREADED_ROWS", 0)
    threaded = labinterp.interpret(source, profile=profile, history=True)
    pd.testing.assert_frame_equal(threaded, in_turn)


def test_us_example_with_us_profile(us_example) -> None:
    """US units are normalised to US reporting units with the US catalogue."""
    out = labinterp.interpret(labinterp.read_csv(us_example), profile="us")
    by_row = out.set_index("source_row")
    assert by_row.loc[2, "unit_canonical"] == "mg/dL"
    assert by_row.loc[11, "value_canonical_exact"] == pytest.approx(2.0 / 2 * 2.4305)  # 2 mEq/L
    assert by_row.loc[11, "value_canonical"] == 2.4  # Mg in mg/dL: one decimal
    assert by_row.loc[12, "status"] == "unparsed_value"
    assert by_row.loc[4, "unit_canonical"] == "%"
    assert (by_row["reference_source"].dropna() == "catalogue:us").all()


def test_lab_range_takes_precedence_over_catalogue() -> None:
    """A parseable lab range is used first and reported as such."""
    out = labinterp.interpret(
        frame(
            analyte=["magnesium", "magnesium"],
            raw_value=["0,75", "0,75"],
            raw_unit=["mmol/L"] * 2,
            lab_reference_text=["0,80 - 1,00", None],
            age_years=[40, 40],
        )
    )
    assert out["reference_source"].tolist() == ["lab", "catalogue:nordic"]
    assert out["flag"].tolist() == ["L", "N"]


def test_lab_range_in_another_unit_is_converted() -> None:
    """A lab range written with a unit is converted like the value."""
    out = labinterp.interpret(
        frame(
            analyte=["magnesium"],
            raw_value=["1.8"],
            raw_unit=["mg/dL"],
            lab_reference_text=["1.6 - 2.6 mg/dL"],
        )
    )
    assert out.loc[0, "reference_low"] == pytest.approx(1.6 / 2.4305)
    assert out.loc[0, "flag"] == "N"


def test_unreadable_lab_range_falls_back_with_a_caveat() -> None:
    """An unreadable lab range is not used, and the caveat says so."""
    out = labinterp.interpret(
        frame(
            analyte=["magnesium"],
            raw_value=["0,80"],
            raw_unit=["mmol/L"],
            lab_reference_text=["see report"],
            age_years=[50],
        )
    )
    assert out.loc[0, "reference_source"] == "catalogue:nordic"
    assert "could not be read" in out.loc[0, "caveats"]


def test_catalogue_range_by_sex_and_age() -> None:
    """Creatinine ranges follow sex (NORIP adults) and age (paediatric bands)."""
    out = labinterp.interpret(
        frame(
            analyte=["creatinine"] * 3,
            raw_value=["95", "95", "95"],
            raw_unit=["umol/L"] * 3,
            sex=["K", "M", "M"],
            age_years=[40, 40, 8],
        ),
        derive=False,
    )
    assert out["flag"].tolist() == ["H", "N", "H"]
    assert out["reference_high"].tolist()[:2] == [90.0, 105.0]


@pytest.mark.parametrize(
    ("columns", "status", "words"),
    [
        (
            {
                "analyte": ["creatinine"],
                "raw_value": ["80"],
                "raw_unit": ["umol/L"],
                "age_years": [40],
            },
            "missing_context",
            "sex",
        ),
        (
            {"analyte": ["creatinine"], "raw_value": ["80"], "raw_unit": ["umol/L"], "sex": ["F"]},
            "missing_context",
            "age",
        ),
        (
            {
                "analyte": ["creatinine"],
                "raw_value": ["80"],
                "raw_unit": ["umol/L"],
                "sex": ["1"],
                "age_years": [40],
            },
            "missing_context",
            "sex",
        ),
        (
            {"source_name": ["Kobber"], "raw_value": ["15"], "raw_unit": ["umol/L"]},
            "unknown_analyte",
            "not recognised",
        ),
        (
            {"analyte": ["magnesium"], "raw_value": ["0,8"], "raw_unit": ["mmol/banana"]},
            "unknown_unit",
            "unit",
        ),
        (
            {"analyte": ["magnesium"], "raw_value": ["0,8"], "raw_unit": [None]},
            "unknown_unit",
            "unit",
        ),
        (
            {"analyte": ["creatinine"], "raw_value": ["80"], "raw_unit": ["%"]},
            "incompatible_unit",
            "unit",
        ),
        (
            {"analyte": ["magnesium"], "raw_value": ["ikke utført"], "raw_unit": ["mmol/L"]},
            "unparsed_value",
            "text",
        ),
        (
            {"analyte": ["magnesium"], "raw_value": ["1.234"], "raw_unit": ["mmol/L"]},
            "ambiguous_value",
            "separator",
        ),
        (
            {
                "analyte": ["magnesium"],
                "raw_value": ["<0,8"],
                "raw_unit": ["mmol/L"],
                "age_years": [40],
            },
            "indeterminate",
            "censored",
        ),
    ],
)
def test_bad_input_gets_a_status_and_an_actionable_problem(
    columns: dict[str, list[object]], status: str, words: str
) -> None:
    """Bad input keeps its row, with a status and a problem naming what to fix; never flag N."""
    out = labinterp.interpret(pd.DataFrame(columns))
    assert out.loc[0, "status"] == status
    assert words in out.loc[0, "problem"]
    assert pd.isna(out.loc[0, "flag"])  # no flag: missing


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "side"),
    [
        ("creatinine", "1,1", "µmol/L", "below"),  # a mg/dL value written as µmol/L
        ("hba1c", "48", "%", "above"),  # an IFCC value written as %
        ("albumin", "3,8", "g/L", "below"),  # a g/dL value written as g/L
        ("magnesium", "0,05", "mmol/L", "below"),
        # below the lowest reportable ferritin of the FDA-cleared assays read (0.46 µg/L,
        # FDA 510(k) K193650); µg/L and ng/mL are the same number, so no unit is named
        ("ferritin", "0,2", "µg/L", "below"),
        ("ferritin", "0.2", "ng/mL", "below"),
    ],
)
def test_unit_mix_ups_are_implausible(analyte: str, value: str, unit: str, side: str) -> None:
    """Values outside the cited plausibility limits are refused, never flagged.

    Where the number would be usual in another unit of the analyte, the status is
    likely_unit_error and the problem names that unit; otherwise implausible_value.
    """
    out = labinterp.interpret(
        frame(analyte=[analyte], raw_value=[value], raw_unit=[unit], sex=["M"], age_years=[50])
    )
    assert side in out.loc[0, "problem"] and pd.isna(out.loc[0, "flag"])
    likely = {"creatinine": "mg/dL", "hba1c": "mmol/mol", "albumin": "g/dL"}.get(analyte)
    if likely:  # the value is never corrected, but the likely unit is named
        assert out.loc[0, "status"] == "likely_unit_error"
        assert f"but usual in {likely}:" in out.loc[0, "problem"]
        assert out.loc[0, "value"] == float(value.replace(",", "."))
    else:
        assert out.loc[0, "status"] == "implausible_value"


@pytest.mark.parametrize(
    "value",
    [
        "0,5",  # just above the lowest reportable ferritin (0.46 µg/L, FDA 510(k) K193650)
        "2",  # a real severe iron deficiency
        "<0,46",  # censored below the measuring range: a result, not a unit mix-up
    ],
)
def test_very_low_ferritin_is_kept(value: str) -> None:
    """Ferritin at or above the lowest reportable limit, or censored below it, is a low result."""
    out = labinterp.interpret(
        frame(analyte=["ferritin"], raw_value=[value], raw_unit=["µg/L"], sex=["F"], age_years=[30])
    )
    assert out.loc[0, "status"] == "ok"
    assert out.loc[0, "flag"] == "L"


def test_implausible_value_is_not_flagged() -> None:
    """Haemoglobin 13.5 'g/L' (a g/dL value in the wrong unit) is a unit error, not low."""
    out = labinterp.interpret(
        frame(
            analyte=["hemoglobin"], raw_value=["13,5"], raw_unit=["g/L"], sex=["M"], age_years=[50]
        )
    )
    assert out.loc[0, "status"] == "likely_unit_error"
    assert pd.isna(out.loc[0, "flag"])


def test_code_and_name_disagreeing_is_not_guessed() -> None:
    """When the code says magnesium and the name says creatinine, the row says they conflict."""
    out = labinterp.interpret(
        frame(
            source_code=["NPU02647"],
            source_name=["P-Kreatinin"],
            raw_value=["1"],
            raw_unit=["mmol/L"],
        )
    )
    assert out.loc[0, "status"] == "conflicting_analyte"
    assert "point to different analytes" in out.loc[0, "problem"]


def test_on_invalid_raise_names_row_not_value() -> None:
    """on_invalid='raise' names the row and reason, never the patient or the value."""
    data = frame(
        patient_id=["SENTINEL-PID-7781"],
        analyte=["magnesium"],
        raw_value=["9876,54321"],
        raw_unit=["bananas"],
    )
    with pytest.raises(InvalidResultError) as info:
        labinterp.interpret(data, on_invalid="raise")
    message = str(info.value)
    assert "Row 0" in message and info.value.row == 0
    assert "SENTINEL" not in message and "9876" not in message


def test_missing_columns_raise_a_clear_error() -> None:
    """A frame without raw_value or analyte identity raises MissingColumnError."""
    with pytest.raises(MissingColumnError, match="raw_value"):
        labinterp.interpret(frame(analyte=["magnesium"]))
    with pytest.raises(MissingColumnError, match="identify"):
        labinterp.interpret(frame(raw_value=["1"]))
    assert issubclass(MissingColumnError, KeyError) and issubclass(
        MissingColumnError, LabinterpError
    )


def test_hba1c_in_percent_is_reported_in_mmol_per_mol() -> None:
    """HbA1c 6.5 % becomes 47.5 mmol/mol through the master equation under the Nordic profile."""
    out = labinterp.interpret(frame(analyte=["hba1c"], raw_value=["6,5"], raw_unit=["%"]))
    assert out.loc[0, "value_canonical_exact"] == pytest.approx((6.5 - 2.152) / 0.09148)
    assert out.loc[0, "value_canonical"] == 48.0  # whole mmol/mol, as laboratories print it
    assert out.loc[0, "unit_canonical"] == "mmol/mol"


def test_interpret_one_returns_a_json_finding() -> None:
    """interpret_one runs the same rules and serialises to JSON."""
    finding = labinterp.interpret_one("S-Magnesium", "0,62", "mmol/L", sex="K", age_years=50)
    assert finding.analyte == "magnesium" and finding.flag is Flag.L
    assert finding.reference_low == 0.71 and finding.reference_high == 0.94
    assert "1 %" in (finding.explanation or "") and finding.sources
    again = labinterp.Finding.model_validate_json(finding.model_dump_json())
    assert again == finding


def test_interpret_one_with_code_and_lab_range() -> None:
    """A code identifies the analyte and the lab's range is preferred."""
    finding = labinterp.interpret_one("NPU04998", "95", "µmol/L", reference_text="45 - 90")
    assert (finding.analyte, finding.flag, finding.reference_source) == (
        "creatinine",
        Flag.H,
        "lab",
    )


def test_accessor_matches_function() -> None:
    """df.labinterp.interpret() equals labinterp.interpret(df)."""
    data = frame(analyte=["magnesium"], raw_value=["0,80"], raw_unit=["mmol/L"], age_years=[30])
    pd.testing.assert_frame_equal(data.labinterp.interpret(), labinterp.interpret(data))


def test_failures_table() -> None:
    """failures() lists the rows that are not ok with their reasons."""
    out = labinterp.interpret(
        frame(
            analyte=["magnesium", "magnesium"],
            raw_value=["0,8", "x"],
            raw_unit=["mmol/L"] * 2,
            age_years=[40, 40],
        )
    )
    table = labinterp.failures(out)
    assert table["source_row"].tolist() == [1] and table["status"].tolist() == ["unparsed_value"]


def test_no_patient_data_in_warnings_or_logs(caplog) -> None:
    """Interpreting bad rows emits no warning or log record carrying identifiers or values."""
    data = frame(
        patient_id=["SENTINEL-PID-4411"],
        analyte=["nonsense"],
        raw_value=["SENTINEL-VAL"],
        raw_unit=["SENTINEL-UNIT"],
        lab_reference_text=["SENTINEL-RANGE"],
    )
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        out = labinterp.interpret(data)
    texts = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    texts += [str(out.loc[0, "problem"])]
    assert not any("SENTINEL" in t for t in texts)


raw_values = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["0,82", "<5", ">90", "1,234", "hemolysert", "", "48", "6.5", "≥ 3"]),
    st.floats(allow_nan=True, allow_infinity=False).map(str),
)
units = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["mmol/L", "µmol/L", "mg/dL", "%", "mmol/mol", "ng/mL"]),
)
names = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["S-Magnesium", "P-Kreatinin", "B-HbA1c", "Ferritin", "CRP"]),
)
ranges_text = st.one_of(
    st.none(), st.text(max_size=8), st.sampled_from(["0,71 - 0,94", ">60", "< 5", "60 - "])
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            names,
            raw_values,
            units,
            ranges_text,
            st.sampled_from([None, "K", "M", "x"]),
            st.one_of(st.none(), st.floats(0, 110)),
        ),
        max_size=25,
    )
)
def test_no_input_row_is_ever_lost(rows: list[tuple[object, ...]]) -> None:
    """Whatever the input, every row comes back exactly once, in order, with a status."""
    data = pd.DataFrame(
        rows,
        columns=["source_name", "raw_value", "raw_unit", "lab_reference_text", "sex", "age_years"],
    )
    everything = labinterp.interpret(data)
    out = everything[everything["status"] != "derived"]
    assert len(out) == len(data)
    assert out["source_row"].tolist() == list(range(len(data)))
    derived = everything[everything["status"] == "derived"]
    assert derived["derived_from"].notna().all() and (derived["analyte"] == "egfr").all()
    assert set(out["status"]) <= STATUSES
    not_ok = out["status"] != "ok"
    assert out.loc[not_ok, "problem"].notna().all()
    flagged_n = out["flag"] == "N"
    assert (out.loc[flagged_n, "status"] == "ok").all()
    assert all(
        isinstance(v, float) and (math.isnan(v) or math.isfinite(v)) for v in out["value_canonical"]
    )


def test_index_is_preserved() -> None:
    """The input index is kept, so results join back onto the caller's frame."""
    data = frame(analyte=["magnesium"] * 2, raw_value=["0,8", "0,9"], raw_unit=["mmol/L"] * 2)
    data.index = pd.Index([101, 205])
    assert labinterp.interpret(data).index.tolist() == [101, 205]
    assert np.array_equal(labinterp.interpret(data)["source_row"].to_numpy(), [0, 1])
