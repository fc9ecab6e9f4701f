"""Derived rows: eGFR from creatinine (and cystatin C), HbA1c on both scales with eAG."""

from __future__ import annotations

import pandas as pd
import pytest

import labinterp
from labinterp import schema
from labinterp.equations import egfr_ckd_epi_2009_cr, egfr_ekfc_cr
from labinterp.units import ureg


def _run(rows: list[dict[str, object]], **options: object) -> pd.DataFrame:
    return labinterp.interpret(pd.DataFrame(rows), **options)  # type: ignore[arg-type]


CREA = {
    "analyte": "creatinine",
    "raw_value": "78",
    "raw_unit": "umol/L",
    "sex": "K",
    "age_years": 54,
}


@pytest.mark.parametrize(
    ("profile", "equation"),
    [
        ("no", "egfr_ckd_epi_2009_cr"),
        ("dk", "egfr_ckd_epi_2009_cr"),
        ("se", "egfr_lund_malmo_revised"),
        ("us", "egfr_ckd_epi_2021_cr"),
    ],
)
def test_profile_default_equation(profile: str, equation: str) -> None:
    """Each profile derives eGFR with its default adult equation, right after the creatinine."""
    out = _run([CREA], profile=profile)
    assert out["status"].tolist() == ["ok", "derived"]
    assert out["equation"].tolist()[1] == equation
    assert out["derived_from"].tolist()[1] == "0"
    assert out["unit_canonical"].tolist()[1] == "mL/min/1.73m²"


def test_derived_value_is_the_equation_value() -> None:
    """The derived eGFR is the equation's value (CKD-EPI 2009, no race) as labs report it.

    Laboratories report eGFR as a whole number (ARUP_eGFR); flag and stage use that value.
    """
    out = _run([CREA])
    expected = egfr_ckd_epi_2009_cr(creatinine=78 * ureg("umol/L"), age_years=54, sex="female")
    assert out["value_canonical"].iloc[1] == round(float(expected.magnitude))
    assert out["category"].iloc[1] == "G2" and out["scheme"].iloc[1] == "KDIGO_GFR"


def test_equation_override() -> None:
    """egfr_equation= overrides the profile's equation."""
    out = _run([CREA], egfr_equation="ekfc_cr")
    expected = egfr_ekfc_cr(creatinine=78 * ureg("umol/L"), age_years=54, sex="female")
    assert out["equation"].iloc[1] == "egfr_ekfc_cr"
    assert out["value_canonical"].iloc[1] == round(float(expected.magnitude))


def test_same_patient_in_mg_dl_and_umol_l() -> None:
    """The same creatinine written in mg/dL and in µmol/L derives the same eGFR."""
    out = _run([CREA, {**CREA, "raw_value": "0.8824", "raw_unit": "mg/dL"}])
    derived = out[out["status"] == "derived"]["value_canonical"].tolist()
    assert derived[0] == derived[1]


@pytest.mark.parametrize(
    ("context", "equation", "note"),
    [
        ({"age_years": 8}, "egfr_ekfc_cr", None),
        ({"age_years": 8, "height_cm": 128}, "egfr_schwartz_bedside", None),
        ({"age_years": 1.5}, None, "outside the range"),
        ({"age_years": 1.5, "height_cm": 80}, "egfr_schwartz_bedside", None),
        ({"age_years": 0.5, "height_cm": 65}, None, "outside the range"),
        ({"sex": None}, None, "age and sex"),
        ({"age_years": None}, None, "age and sex"),
        ({"raw_value": "<30"}, None, "censored"),
    ],
)
def test_children_and_missing_context(
    context: dict[str, object], equation: str | None, note: str | None
) -> None:
    """Children get EKFC or bedside Schwartz; otherwise the creatinine row says why not."""
    out = _run([{**CREA, **context}])
    derived = out[out["status"] == "derived"]
    if equation is None:
        assert derived.empty
        assert note in out["caveats"].iloc[0]
    else:
        assert derived["equation"].tolist() == [equation]


def test_lab_reported_egfr_is_kept() -> None:
    """A lab's own eGFR stays as sent; the derived one is a separate row."""
    lab = {
        "analyte": "egfr",
        "raw_value": "71",
        "raw_unit": "mL/min/1.73m2",
        "sex": "K",
        "age_years": 54,
    }
    out = _run([CREA, lab])
    # The derived row has no raw value (missing, as pandas marks it in a text column).
    assert out["raw_value"].isna().tolist() == [False, True, False]
    assert out["raw_value"].dropna().tolist() == ["78", "71"]
    assert out["status"].tolist() == ["ok", "derived", "ok"]


def test_creatinine_and_cystatin_c_of_one_sample_set() -> None:
    """Creatinine and cystatin C of the same sample set also derive the cr-cys equation."""
    base = {"patient_id": "p1", "collected_at": "2026-02-01 08:00", "sex": "M", "age_years": 60}
    out = _run(
        [
            {**base, "analyte": "creatinine", "raw_value": "90", "raw_unit": "umol/L"},
            {**base, "analyte": "cystatin_c", "raw_value": "1.1", "raw_unit": "mg/L"},
        ],
        profile="us",
    )
    derived = out[out["status"] == "derived"]
    assert derived["equation"].tolist() == ["egfr_ckd_epi_2021_cr", "egfr_ckd_epi_2021_cr_cys"]
    assert derived["derived_from"].tolist() == ["0", "0;1"]


def test_derived_rows_have_their_own_index_labels() -> None:
    """Derived rows never reuse an input row's index label."""
    data = pd.DataFrame([CREA, CREA], index=[10, 20])
    out = labinterp.interpret(data)
    assert out.index.tolist() == [10, 21, 20, 22] and out.index.is_unique


@pytest.mark.parametrize(
    ("value", "unit", "ifcc", "ngsp", "eag"),
    [("48", "mmol/mol", 48.0, 6.543, 141.1), ("6,5", "%", 47.53, 6.5, 139.85)],
)
def test_hba1c_on_both_scales_with_eag(
    value: str, unit: str, ifcc: float, ngsp: float, eag: float
) -> None:
    """HbA1c rows carry IFCC mmol/mol, NGSP % (master equation) and eAG (ADAG) in mg/dL.

    The full precision is in the ``_exact`` columns; the columns themselves are written as
    laboratories print them (whole mmol/mol, one decimal %, whole mg/dL).
    """
    out = _run([{"analyte": "hba1c", "raw_value": value, "raw_unit": unit}])
    assert out["hba1c_ifcc_mmol_mol_exact"].iloc[0] == pytest.approx(ifcc, abs=0.01)
    assert out["hba1c_ngsp_percent_exact"].iloc[0] == pytest.approx(ngsp, abs=0.001)
    assert out["eag_mg_dl_exact"].iloc[0] == pytest.approx(eag, abs=0.1)
    assert out["hba1c_ifcc_mmol_mol"].iloc[0] == round(ifcc)
    assert out["hba1c_ngsp_percent"].iloc[0] == round(ngsp, 1)
    assert out["eag_mg_dl"].iloc[0] == round(eag)


def test_no_derivation_when_disabled() -> None:
    """derive=False returns the input rows only."""
    assert len(_run([CREA], derive=False)) == 1


def test_unknown_equation_is_an_error() -> None:
    """An unknown equation name raises CatalogueError naming the choices."""
    with pytest.raises(labinterp.CatalogueError, match="Unknown eGFR equation"):
        _run([CREA], egfr_equation="cockcroft")


def test_derived_rows_keep_the_input_columns_and_their_dtypes() -> None:
    """A derived row copies its source's context as written; other input columns are empty."""
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(["p1", "p2"], dtype=object),
            "sex": ["K", "M"],
            "age_years": [54, 60],
            "source_name": ["P-Kreatinin", "P-Kreatinin"],
            "raw_value": pd.Series(["78", "90"], dtype=object),
            "raw_unit": ["µmol/L", "µmol/L"],
            "batch": pd.Series([7, 8], dtype="int64"),
        }
    )
    out = labinterp.interpret(frame)
    derived = out[out["status"] == "derived"]
    assert out["status"].tolist() == ["ok", "derived", "ok", "derived"]
    declared = schema.dtypes("interpreted")  # input text columns become the text dtype
    assert out["patient_id"].dtype == declared["patient_id"]
    assert out["raw_value"].dtype == declared["raw_value"]
    assert derived["patient_id"].tolist() == ["p1", "p2"]
    assert derived["raw_sex"].tolist() == ["K", "M"]  # as written in the source row
    assert derived["sex"].tolist() == ["female", "male"]
    assert derived["raw_value"].isna().all() and derived["source_row"].isna().all()
    assert out["batch"].tolist()[::2] == [7, 8] and derived["batch"].isna().all()


#: The start of note.egfr_cr_cys_preferred (KDIGO2024, Fu2023) in each language.
PREFERRED = {
    "en": "This sample gave two estimates of kidney filtration (eGFR)",
    "nb": "Nyrefunksjonen (eGFR) er beregnet på to måter",
    "sv": "Njurfunktionen (eGFR) har beräknats på två sätt",
}


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_creatinine_and_cr_cys_egfr_say_which_is_preferred(lang: str) -> None:
    """Both eGFRs of a sample set with creatinine and cystatin C note that cr-cys is preferred.

    A creatinine alone, in another sample set of the same frame, gets no such note.
    """
    base = {"patient_id": "p1", "collected_at": "2026-02-01 08:00", "sex": "M", "age_years": 60}
    later = {**base, "collected_at": "2026-03-01 08:00"}
    out = _run(
        [
            {**base, "analyte": "creatinine", "raw_value": "90", "raw_unit": "umol/L"},
            {**base, "analyte": "cystatin_c", "raw_value": "1.1", "raw_unit": "mg/L"},
            {**later, "analyte": "creatinine", "raw_value": "90", "raw_unit": "umol/L"},
        ],
        profile="us",
        lang=lang,
    )
    derived = out[out["status"] == "derived"]
    assert derived["equation"].tolist() == [
        "egfr_ckd_epi_2021_cr",
        "egfr_ckd_epi_2021_cr_cys",
        "egfr_ckd_epi_2021_cr",
    ]
    noted = [PREFERRED[lang] in (c or "") for c in derived["caveats"]]
    assert noted == [True, True, False]
    measured = out[out["status"] != "derived"]
    assert not any(PREFERRED[lang] in (c or "") for c in measured["caveats"])


def _cr_cys_panel(**options: str) -> list[labinterp.Finding]:
    """Interpret creatinine and cystatin C in one panel of a man of 60 (US profile)."""
    return labinterp.interpret_panel(
        [
            {"analyte": "creatinine", "value": "90", "unit": "umol/L"},
            {"analyte": "cystatin_c", "value": "1.1", "unit": "mg/L"},
        ],
        sex="M",
        age_years=60,
        profile="us",
        **options,
    )


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_panel_creatinine_and_cr_cys_egfr_say_which_is_preferred(lang: str) -> None:
    """interpret_panel notes both eGFRs of a creatinine + cystatin C panel alike."""
    panel = _cr_cys_panel(lang=lang)
    egfr = [f for f in panel if f.analyte == "egfr"]
    assert [f.equation for f in egfr] == ["egfr_ckd_epi_2021_cr", "egfr_ckd_epi_2021_cr_cys"]
    assert all(any(PREFERRED[lang] in c for c in f.caveats) for f in egfr)
    others = [f for f in panel if f.analyte != "egfr"]
    assert not any(PREFERRED[lang] in c for f in others for c in f.caveats)


def test_creatinine_alone_has_no_preferred_note() -> None:
    """A creatinine without cystatin C gives one eGFR and no note on which is preferred."""
    out = _run([CREA])
    assert out["status"].tolist() == ["ok", "derived"]
    assert not any(PREFERRED["en"] in (c or "") for c in out["caveats"])
    panel = labinterp.interpret_panel(
        [{"analyte": "creatinine", "value": "78", "unit": "umol/L"}], sex="K", age_years=54
    )
    assert [f.analyte for f in panel] == ["creatinine", "egfr"]
    assert not any(PREFERRED["en"] in c for f in panel for c in f.caveats)


def test_clinician_text_names_the_preferred_equation() -> None:
    """The clinician note names eGFRcr-cys as generally the more accurate estimate.

    KDIGO 2024 Recommendation 1.2.2.1 (1C), cited by number (KDIGO2024).
    """
    panel = _cr_cys_panel(audience="clinician")
    egfr = [f for f in panel if f.analyte == "egfr"]
    assert len(egfr) == 2
    for f in egfr:
        assert any(
            "eGFRcr-cys is generally the more accurate estimate" in c and "Rec. 1.2.2.1" in c
            for c in f.caveats
        )
