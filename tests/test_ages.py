"""Ages: from birth date, age or birth year; children never estimated; impossible ages refused."""

from __future__ import annotations

from datetime import date, timedelta

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import labinterp
from labinterp import catalogue, dates
from labinterp.equations.egfr import EQUATIONS
from labinterp.errors import InvalidResultError

from .conftest import EXAMPLES

CREATININE = {"source_name": "P-Kreatinin", "raw_value": "80", "raw_unit": "umol/L"}


def _context(**columns: list[object]) -> pd.DataFrame:
    return dates.complete_context(pd.DataFrame(columns))


def _creatinine(**context: object) -> pd.DataFrame:
    row = {"patient_id": "p1", "sex": "female", **CREATININE, **context}
    return pd.DataFrame([row])


# -- which age is used -----------------------------------------------------------------


def test_birth_year_gives_the_age_from_the_middle_of_the_year() -> None:
    """1958 at 1 March 2026: from 2 July 1958 (mid-year), so within half a year of the truth."""
    out = _context(birth_year=[1958], collected_at=["2026-03-01 08:00"])
    middle = pd.Timestamp("1958-01-01") + pd.Timedelta(days=365 / 2)
    expected = (pd.Timestamp("2026-03-01 08:00") - middle).days / 365.2425
    assert out.loc[0, "age_years"] == pytest.approx(expected)
    youngest = (pd.Timestamp("2026-03-01") - pd.Timestamp("1958-12-31")).days / 365.2425
    oldest = (pd.Timestamp("2026-03-01") - pd.Timestamp("1958-01-01")).days / 365.2425
    assert youngest < out.loc[0, "age_years"] < oldest
    assert pd.isna(out.loc[0, "read_problem"])


@pytest.mark.parametrize(
    ("born", "collected", "age_given"),
    [
        (2007, "2026-01-02", True),  # 18 or 19 at collection: adult either way
        (2008, "2026-12-30", False),  # 17 or 18: may be a child
        (2010, "2026-06-01", False),
        (2025, "2026-06-01", False),
    ],
)
def test_birth_year_never_gives_a_child_an_age(born: int, collected: str, age_given: bool) -> None:
    """An age from a birth year only when the patient is 18 at the youngest; else named."""
    out = _context(birth_year=[born], collected_at=[collected])
    assert pd.notna(out.loc[0, "age_years"]) is age_given
    assert (out.loc[0, "read_problem"] == dates.BIRTH_YEAR_CHILD) is not age_given


def test_a_possible_child_gets_no_egfr_from_a_birth_year() -> None:
    """No age from a birth year at 17 or 18: no eGFR, the creatinine row says why."""
    child = labinterp.interpret(_creatinine(birth_year=2008, collected_at="2026-06-01 08:00"))
    assert (child["status"] != "derived").all()
    assert child.loc[0, "read_problem"] == dates.BIRTH_YEAR_CHILD
    adult = labinterp.interpret(_creatinine(birth_year=2007, collected_at="2026-06-01 08:00"))
    assert (adult["status"] == "derived").sum() == 1


def test_child_limit_is_the_highest_child_band_edge() -> None:
    """CHILD_UNTIL is where the equations turn adult, and a child band edge of the catalogues."""
    edges = {e for eq in EQUATIONS.values() for e in (eq.age_min, eq.age_max) if e is not None}
    assert max(edges) == dates.CHILD_UNTIL
    for name in ("nordic", "us"):
        ranges = catalogue.load_range_catalogue(name).ranges
        band_edges = {e for r in ranges for e in (r.age_min, r.age_max) if e is not None}
        assert dates.CHILD_UNTIL in band_edges
        # No band edge between 18 and early adulthood: the edges above are adult decades.
        assert max(e for e in band_edges if e < 25) == dates.CHILD_UNTIL


@settings(max_examples=300, deadline=None)
@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=110 * 366),
)
def test_birth_year_estimate_is_safe_for_every_birth_date(birth: date, days: int) -> None:
    """Whatever the birth date in the year, a given estimate is within half a year, and adult."""
    collected = birth + timedelta(days=days)
    out = _context(birth_year=[birth.year], collected_at=[str(collected)])
    estimate = out.loc[0, "age_years"]
    if pd.isna(estimate):
        return
    exact = (pd.Timestamp(collected) - pd.Timestamp(birth)).days / 365.2425
    assert exact >= dates.CHILD_UNTIL
    assert abs(estimate - exact) <= 0.5 + 1 / 365


def test_dates_win_over_a_given_age_and_a_disagreement_is_named() -> None:
    """Birth date and collection time first; an age a year or more off is named."""
    out = _context(
        birth_date=["1960-05-05", "1960-05-05"],
        collected_at=["2026-03-01", "2026-03-01"],
        age_years=[65, 70],
    )
    exact = (pd.Timestamp("2026-03-01") - pd.Timestamp("1960-05-05")).days / 365.2425
    assert out["age_years"].tolist() == pytest.approx([exact, exact])
    assert pd.isna(out.loc[0, "read_problem"])  # 65 completed years: agrees
    assert out.loc[1, "read_problem"] == dates.AGE_DISAGREES_BIRTH_DATE


def test_given_age_wins_over_a_birth_year_and_disagreements_are_named() -> None:
    """age_years before birth_year; birth_date before birth_year; each disagreement named."""
    out = _context(
        birth_year=[1958, 1958, 1958],
        birth_date=[None, None, "1961-01-01"],
        collected_at=["2026-03-01", "2026-03-01", "2026-03-01"],
        age_years=[67, 40, None],
    )
    assert out.loc[0, "age_years"] == 67 and pd.isna(out.loc[0, "read_problem"])
    assert out.loc[1, "age_years"] == 40
    assert out.loc[1, "read_problem"] == dates.AGE_DISAGREES_BIRTH_YEAR
    assert out.loc[2, "read_problem"] == dates.BIRTH_YEAR_DISAGREES_BIRTH_DATE
    assert out.loc[2, "age_years"] == pytest.approx(
        (pd.Timestamp("2026-03-01") - pd.Timestamp("1961-01-01")).days / 365.2425
    )


@pytest.mark.parametrize("written", ["1958.5", "nineteen"])
def test_birth_year_that_is_not_a_year(written: str) -> None:
    """A birth year that is not a whole year is not used, and the row says so."""
    out = _context(birth_year=[written], collected_at=["2026-03-01"])
    assert pd.isna(out.loc[0, "age_years"])
    assert out.loc[0, "read_problem"] == dates.BIRTH_YEAR_UNREADABLE


def test_completing_twice_changes_nothing() -> None:
    """complete_context on its own result gives it back (readers, then the engine)."""
    once = _context(
        birth_year=[1958, 2010, 1958],
        birth_date=[None, None, "1960-05-05"],
        collected_at=["2026-03-01 08:10", "2026-03-29 02:30", "2026-10-25 02:30"],
        age_years=[1958, None, 40],
    )
    assert dates.complete_context(once).equals(once)
    zoned = dates.complete_context(once, timezone="Europe/Oslo")
    assert dates.complete_context(zoned, timezone="Europe/Oslo").equals(zoned)


# -- refused ages ------------------------------------------------------------------------


REFUSED = [(1958, dates.AGE_LIKE_YEAR), (1900, dates.AGE_LIKE_YEAR), (-1, dates.AGE_OUT_OF_RANGE)]
REFUSED += [(125.5, dates.AGE_OUT_OF_RANGE), (float("inf"), dates.AGE_OUT_OF_RANGE)]
REFUSED += [(10**400, dates.AGE_OUT_OF_RANGE)]  # an int beyond a float's range: no OverflowError


@pytest.mark.parametrize(("age", "sentence"), REFUSED)
def test_impossible_ages_are_refused_and_give_no_egfr(age: float, sentence: str) -> None:
    """An age of 1958 (a birth year in the age column) gives no eGFR, only a sentence."""
    out = labinterp.interpret(_creatinine(age_years=age))
    assert pd.isna(out.loc[0, "age_years"])
    assert out.loc[0, "read_problem"] == sentence
    assert (out["status"] != "derived").all()
    assert "No eGFR was derived" in str(out.loc[0, "caveats"])


@pytest.mark.parametrize("age", [0, 0.02, 18, 54, 125])
def test_possible_ages_are_kept(age: float) -> None:
    """Ages from 0 to 125 are used as given."""
    out = labinterp.interpret(_creatinine(age_years=age))
    assert out.loc[0, "age_years"] == age and pd.isna(out.loc[0, "read_problem"])


def test_csv_age_column_holding_a_year(tmp_path) -> None:
    """A CSV whose age column holds 1958 gives no eGFR 0.0001 (stage G5), and says why."""
    path = tmp_path / "ages.csv"
    path.write_text(
        "Pasient;Kjønn;Alder;Prøvedato;Analyse;Resultat;Enhet\n"
        "p1;K;1958;2026-03-01 08:10;P-Kreatinin;80;µmol/L\n",
        encoding="utf-8",
    )
    out = labinterp.interpret(labinterp.read_csv(path))
    assert out.loc[0, "read_problem"] == dates.AGE_LIKE_YEAR
    assert "egfr" not in out["analyte"].astype(str).tolist()


def test_impossible_ages_from_dates_and_birth_years_are_refused() -> None:
    """Born after collection, or a birth year 130 years back: no age, a sentence each."""
    out = _context(
        birth_date=["2026-05-01", None],
        birth_year=[None, 1890],
        collected_at=["2026-03-01", "2026-03-01"],
    )
    assert out["age_years"].isna().all()
    assert out.loc[0, "read_problem"] == dates.BIRTH_AGE_OUT_OF_RANGE
    assert out.loc[1, "read_problem"] == dates.BIRTH_YEAR_OUT_OF_RANGE


@pytest.mark.parametrize(("age", "sentence"), REFUSED)
def test_single_path_refuses_the_same_ages(age: float, sentence: str) -> None:
    """interpret_one and interpret_panel refuse what the frame path refuses, same sentence."""
    with pytest.raises(InvalidResultError, match="age_years") as caught:
        labinterp.interpret_one("creatinine", "80", "umol/L", sex="female", age_years=age)
    assert str(caught.value) == sentence
    with pytest.raises(InvalidResultError):
        labinterp.interpret_panel(
            [{"analyte": "creatinine", "value": "80", "unit": "umol/L"}], age_years=age
        )


@settings(max_examples=200, deadline=None)
@given(age=st.floats(min_value=-50, max_value=5000, allow_nan=False))
def test_frame_and_single_paths_refuse_alike(age: float) -> None:
    """One rule: the frame path leaves an age missing exactly where the single path raises."""
    kept = pd.notna(dates.complete_context(pd.DataFrame({"age_years": [age]})).loc[0, "age_years"])
    try:
        labinterp.interpret_one("magnesium", "0.8", "mmol/L", age_years=age)
        raised = False
    except InvalidResultError:
        raised = True
    assert kept is not raised


def test_every_sentence_is_in_the_text_catalogue() -> None:
    """Each new sentence is a problem entry: English as the constant, Norwegian and Swedish too."""
    from labinterp import times

    ids = {
        "age_like_year": dates.AGE_LIKE_YEAR,
        "age_out_of_range": dates.AGE_OUT_OF_RANGE,
        "birth_age_out_of_range": dates.BIRTH_AGE_OUT_OF_RANGE,
        "birth_year_unreadable": dates.BIRTH_YEAR_UNREADABLE,
        "birth_year_out_of_range": dates.BIRTH_YEAR_OUT_OF_RANGE,
        "birth_year_child": dates.BIRTH_YEAR_CHILD,
        "age_disagrees_birth_date": dates.AGE_DISAGREES_BIRTH_DATE,
        "age_disagrees_birth_year": dates.AGE_DISAGREES_BIRTH_YEAR,
        "birth_year_disagrees_birth_date": dates.BIRTH_YEAR_DISAGREES_BIRTH_DATE,
        "time_gap": times.TIME_GAP,
        "time_fold": times.TIME_FOLD,
        "offset_disagrees": times.OFFSET_DISAGREES,
    }
    english = catalogue.text_catalogue("en")
    for key, sentence in ids.items():
        for audience in ("patient", "clinician"):
            assert english[f"problem.{key}.{audience}"].text == sentence
            for lang in ("nb", "sv"):
                translated = catalogue.text_catalogue(lang)[f"problem.{key}.{audience}"].text
                assert translated and translated != sentence, (lang, key)


def test_nordic_example_ages_unchanged() -> None:
    """The shipped Nordic example (plausible ages) reads its ages without a problem."""
    frame = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    assert frame["read_problem"].isna().all()
    assert np.isfinite(frame["age_years"].to_numpy(dtype="float64")).all()
