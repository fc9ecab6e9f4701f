"""The kidney equations beyond eGFR: the KDIGO heat map, AKI staging and the KFRE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.equations import (
    ALBUMINURIA_CATEGORIES,
    GFR_CATEGORIES,
    KFRE_POPULATION,
    RISKS,
    aki_criteria,
    aki_stage,
    kdigo_risk,
    kfre,
    kfre_applies,
)
from labinterp.equations.aki import AKI_BASELINES
from labinterp.equations.egfr.inputs import Measured
from labinterp.errors import InvalidResultError
from labinterp.vocab import Sex

from .conftest import load_vectors, vector_id

START = np.datetime64("2024-03-01T08:00", "ns")
MINUTE = np.timedelta64(60_000_000_000, "ns")

# ---------------------------------------------------------------------------
# KDIGO heat map

HEAT_MAP = load_vectors("kdigo_risk.csv")


def test_heat_map_vectors_cover_all_18_cells() -> None:
    """The vector file holds every cell of the grid exactly once."""
    cells = {(row["gfr_category"], row["albuminuria_category"]) for row in HEAT_MAP}
    assert len(HEAT_MAP) == 18
    assert cells == {(g, a) for g in GFR_CATEGORIES for a in ALBUMINURIA_CATEGORIES}


@pytest.mark.parametrize("row", HEAT_MAP, ids=vector_id)
def test_heat_map_vectors(row: dict[str, str]) -> None:
    """Each cell gives the published risk."""
    assert kdigo_risk(row["gfr_category"], row["albuminuria_category"]) == row["risk"]


def test_heat_map_element_wise_keeps_the_index() -> None:
    """Series in, Series out with the same index; unknown and missing labels give None."""
    gfr = pd.Series(["G1", "G3b", "G3", None, "g3a"], index=[10, 20, 30, 40, 50])
    out = kdigo_risk(gfr, pd.Series(["A1", "A2", "A1", "A1", "A1"], index=gfr.index))
    assert list(out.index) == [10, 20, 30, 40, 50]
    assert out.tolist() == ["low", "very_high", None, None, None]
    assert kdigo_risk(np.array(["G5", "G2"]), "A1").tolist() == ["very_high", "low"]
    assert kdigo_risk("G1", float("nan")) is None
    assert kdigo_risk("G1", 1) is None


def test_heat_map_rejects_misaligned_input() -> None:
    """Different lengths or two different indexes raise instead of guessing."""
    with pytest.raises(InvalidResultError):
        kdigo_risk(["G1", "G2"], ["A1", "A2", "A3"])
    with pytest.raises(InvalidResultError):
        kdigo_risk(pd.Series(["G1"], index=[1]), pd.Series(["A1"], index=[2]))


@given(
    st.integers(0, len(GFR_CATEGORIES) - 2),
    st.integers(0, len(ALBUMINURIA_CATEGORIES) - 1),
)
def test_heat_map_monotone_in_gfr(g: int, a: int) -> None:
    """A worse GFR category never lowers the risk."""
    albuminuria = ALBUMINURIA_CATEGORIES[a]
    better = RISKS.index(kdigo_risk(GFR_CATEGORIES[g], albuminuria))
    assert RISKS.index(kdigo_risk(GFR_CATEGORIES[g + 1], albuminuria)) >= better


@given(
    st.integers(0, len(GFR_CATEGORIES) - 1),
    st.integers(0, len(ALBUMINURIA_CATEGORIES) - 2),
)
def test_heat_map_monotone_in_albuminuria(g: int, a: int) -> None:
    """A worse albuminuria category never lowers the risk."""
    gfr = GFR_CATEGORIES[g]
    better = RISKS.index(kdigo_risk(gfr, ALBUMINURIA_CATEGORIES[a]))
    assert RISKS.index(kdigo_risk(gfr, ALBUMINURIA_CATEGORIES[a + 1])) >= better


# ---------------------------------------------------------------------------
# AKI

AKI = load_vectors("aki_kdigo.csv")
AKI_CASES = sorted({row["case"] for row in AKI})


def _case(name: str) -> list[dict[str, str]]:
    return [row for row in AKI if row["case"] == name]


@pytest.mark.parametrize("name", AKI_CASES)
def test_aki_vectors(name: str) -> None:
    """Each series built at a KDIGO Table 2 boundary gives its stage and criterion."""
    rows = _case(name)
    first = rows[0]
    times = START + np.array([int(r["minutes"]) for r in rows]) * MINUTE
    known = float(first["baseline_umol_l"]) if first["baseline_umol_l"] else None
    frame = aki_criteria(
        times,
        [float(r["creatinine_umol_l"]) for r in rows],
        baseline=first["baseline"],  # type: ignore[arg-type]
        absolute_needs_rise=first["absolute_needs_rise"] == "true",
        baseline_umol_l=known,
    )
    expected = [int(r["stage"]) if r["stage"] else None for r in rows]
    got = [None if pd.isna(s) else int(s) for s in frame["stage"]]
    assert got == expected, first["locator"]
    assert frame["criterion"].tolist() == [r["criterion"] or None for r in rows]


def test_aki_vectors_staged_together_as_groups() -> None:
    """All default-option cases staged at once, one group each, give the same stages."""
    rows = [
        r
        for r in AKI
        if r["baseline"] == "rolling_min"
        and r["absolute_needs_rise"] == "true"
        and not r["baseline_umol_l"]
    ]
    times = START + np.array([int(r["minutes"]) for r in rows]) * MINUTE
    stages = aki_stage(
        times, [float(r["creatinine_umol_l"]) for r in rows], groups=[r["case"] for r in rows]
    )
    expected = [int(r["stage"]) if r["stage"] else None for r in rows]
    assert [None if pd.isna(s) else int(s) for s in stages] == expected


def test_aki_threshold_is_exact_in_floating_point() -> None:
    """88.4 -> 132.6 is a ratio of 1.5 and 88.4 -> 114.9 a rise of 26.5, though not in binary."""
    assert 132.6 / 88.4 != 1.5 or 114.9 - 88.4 != 26.5  # the representation is inexact
    frame = aki_criteria(START + np.array([0, 3 * 24 * 60]) * MINUTE, [88.4, 132.6])
    assert frame["stage"].tolist()[1] == 1
    frame = aki_criteria(START + np.array([0, 60]) * MINUTE, [88.4, 114.9])
    assert frame["stage"].tolist()[1] == 1


def test_aki_criteria_columns_and_series_index() -> None:
    """A Series keeps its index; the criteria show the baselines, rise and ratio."""
    index = pd.Index(["a", "b", "c"])
    times = pd.Series(START + np.array([0, 24 * 60, 6 * 24 * 60]) * MINUTE, index=index)
    values = pd.Series([80.0, 100.0, 120.0], index=index)
    frame = aki_criteria(times, values)
    assert list(frame.index) == ["a", "b", "c"]
    assert list(frame.columns) == [
        "stage",
        "baseline_48h_umol_l",
        "baseline_7d_umol_l",
        "rise_umol_l",
        "ratio",
        "criterion",
    ]
    assert str(frame["stage"].dtype) == "Int8"
    assert math.isnan(frame.loc["c", "baseline_48h_umol_l"])  # 5 days after the last
    assert frame.loc["c", "baseline_7d_umol_l"] == 80.0
    assert frame.loc["c", "ratio"] == pytest.approx(1.5)
    assert frame.loc["c", "criterion"] == "ratio"
    stages = aki_stage(times, values)
    assert isinstance(stages, pd.Series)
    assert list(stages.index) == ["a", "b", "c"]
    assert str(stages.dtype) == "Int8"


def test_aki_tz_aware_times_are_compared_in_utc() -> None:
    """Times in two zones are ordered by the instant, not by the wall clock."""
    times = pd.Series(
        [pd.Timestamp("2024-03-01 10:00", tz="Europe/Oslo"), pd.Timestamp("2024-03-01 09:30Z")]
    )
    # 10:00 Oslo is 09:00 UTC: the first result is the earlier one.
    assert aki_stage(times, [88.4, 120.0]).tolist() == [pd.NA, 1]


def test_aki_missing_time_or_value_raises_without_values() -> None:
    """A missing time or value raises ValueError; the message holds no value."""
    times = START + np.array([0, 60]) * MINUTE
    with pytest.raises(ValueError, match="AKI staging needs a collection time") as info:
        aki_stage(times, [88.4, float("nan")])
    assert "88.4" not in str(info.value)
    with pytest.raises(ValueError, match="AKI staging needs a collection time"):
        aki_stage(np.array([START, np.datetime64("NaT")]), [88.4, 120.0])
    with pytest.raises(ValueError, match="AKI staging needs a collection time"):
        aki_stage(times, [88.4, 120.0], groups=["p1", None])


def test_aki_rejects_text_times_and_bad_options() -> None:
    """Text is not parsed into times; unknown baselines and impossible values raise."""
    with pytest.raises(ValueError, match="datetime"):
        aki_stage(["2024-03-01", "2024-03-02"], [88.4, 120.0])
    times = START + np.array([0, 60]) * MINUTE
    with pytest.raises(ValueError, match="baseline"):
        aki_stage(times, [88.4, 120.0], baseline="overall_min")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        aki_stage(times, [88.4, 0.0])
    with pytest.raises(ValueError, match="lengths"):
        aki_stage(times, [88.4])


def test_aki_known_baseline_per_group() -> None:
    """A known baseline per group replaces the 7-day baseline of that group only."""
    times = START + np.array([0, 0]) * MINUTE
    stages = aki_stage(times, [176.8, 176.8], groups=["p1", "p2"], baseline_umol_l={"p1": 88.4})
    assert stages.tolist() == [2, pd.NA]


def test_aki_large_input_is_vectorised() -> None:
    """200,000 results in 2,000 groups (minutes if the windows were found row by row)."""
    rng = np.random.default_rng(24)
    n = 200_000
    groups = rng.integers(0, 2_000, n)
    times = START + rng.integers(0, 60 * 24 * 60, n) * MINUTE
    values = rng.uniform(40.0, 500.0, n).round(1)
    frame = aki_criteria(times, values, groups=groups)
    assert len(frame) == n
    # Spot-check a few rows against a direct reading of the rule.
    for i in rng.integers(0, n, 25):
        same = (groups == groups[i]) & (times < times[i])
        window = same & (times >= times[i] - 7 * 24 * 60 * MINUTE)
        expected = values[window].min() if window.any() else np.nan
        np.testing.assert_equal(frame["baseline_7d_umol_l"].iloc[i], expected)


_SERIES = st.lists(
    st.tuples(st.integers(0, 12 * 24), st.integers(300, 6000)), min_size=1, max_size=12
)


@settings(max_examples=80, deadline=None)
@given(_SERIES, st.sampled_from(AKI_BASELINES), st.booleans(), st.randoms(use_true_random=False))
def test_aki_input_order_does_not_change_the_answer(
    results: list[tuple[int, int]], baseline: str, needs_rise: bool, shuffle: object
) -> None:
    """Staging a shuffled series gives each result the same stage."""
    hours = np.array([h for h, _ in results])
    values = np.array([v / 10 for _, v in results])
    times = START + hours * 60 * MINUTE
    order = np.arange(len(results))
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    kwargs = {"baseline": baseline, "absolute_needs_rise": needs_rise}
    straight = aki_criteria(times, values, **kwargs)  # type: ignore[arg-type]
    shuffled = aki_criteria(times[order], values[order], **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(shuffled, straight.iloc[order].reset_index(drop=True))


@settings(max_examples=80, deadline=None)
@given(_SERIES, st.integers(0, 11), st.integers(1, 3000), st.booleans())
def test_aki_stage_monotone_in_the_current_value(
    results: list[tuple[int, int]], pick: int, raise_by: int, needs_rise: bool
) -> None:
    """A higher value of one result never lowers that result's stage."""
    hours = np.array([h for h, _ in results])
    values = np.array([v / 10 for _, v in results])
    i = pick % len(results)
    times = START + hours * 60 * MINUTE
    before = aki_stage(times, values, absolute_needs_rise=needs_rise)[i]
    higher = values.copy()
    higher[i] += raise_by / 10
    after = aki_stage(times, higher, absolute_needs_rise=needs_rise)[i]
    if pd.isna(before):
        return
    assert not pd.isna(after)
    assert after >= before


# ---------------------------------------------------------------------------
# KFRE

KFRE = load_vectors("kfre.csv")


@pytest.mark.parametrize("row", KFRE, ids=vector_id)
def test_kfre_vectors(row: dict[str, str]) -> None:
    """The published worked examples are reproduced."""
    risk = kfre(
        age_years=float(row["age_years"]),
        sex=row["sex"],
        egfr=float(row["egfr"]),
        acr_mg_g=float(row["acr_mg_g"]),
        years=int(row["years"]),
        region=row["region"],  # type: ignore[arg-type]
    )
    assert risk == pytest.approx(float(row["expected"]), abs=float(row["abs_tol"]))


def test_kfre_kinds_of_input() -> None:
    """Series keep their index; Quantity and Measured eGFR are converted; ACR <= 0 is NaN."""
    ages = pd.Series([65.0, 70.0], index=["x", "y"])
    risk = kfre(
        age_years=ages,
        sex=pd.Series(["M", Sex.FEMALE], index=ages.index),
        egfr=19.0,
        acr_mg_g=30.0,
        years=2,
    )
    assert list(risk.index) == ["x", "y"]
    assert risk["x"] == pytest.approx(0.063123, abs=5e-7)
    quantity = labinterp.ureg.Quantity(19.0, "mL/min/_1_73_m2")
    measured = Measured(19.0, "mL/min/1.73m²")
    expected = kfre(age_years=65, sex="male", egfr=19.0, acr_mg_g=30.0)
    assert kfre(age_years=65, sex="male", egfr=quantity, acr_mg_g=30.0) == expected
    assert kfre(age_years=65, sex="male", egfr=measured, acr_mg_g=30.0) == expected
    array = kfre(age_years=65, sex="male", egfr=np.array([19.0, 19.0]), acr_mg_g=[30.0, 0.0])
    assert array[0] == pytest.approx(expected)
    assert math.isnan(array[1])


def test_kfre_north_american_baseline_is_higher_risk() -> None:
    """The original (North American) S0 is lower, so the same patient's risk is higher."""
    common = {"age_years": 60, "sex": "female", "egfr": 25.0, "acr_mg_g": 300.0}
    for years in (2, 5):
        assert kfre(**common, years=years, region="north_american") > kfre(**common, years=years)


def test_kfre_rejects_unknown_options() -> None:
    """Only 2 or 5 years and the two regions are accepted."""
    common = {"age_years": 60, "sex": "female", "egfr": 25.0, "acr_mg_g": 300.0}
    with pytest.raises(ValueError, match="2 or 5"):
        kfre(**common, years=3)
    with pytest.raises(ValueError, match="region"):
        kfre(**common, region="europe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sex"):
        kfre(**{**common, "sex": "unknown"})


def test_kfre_population_and_reasons() -> None:
    """The declared population and the reason codes the engine reads."""
    assert KFRE_POPULATION.egfr_below == 60.0
    assert KFRE_POPULATION.egfr_at_least == 10.0
    assert KFRE_POPULATION.not_on_dialysis
    assert kfre_applies(70, 59.9) is None
    assert kfre_applies(70, 10.0) is None
    assert kfre_applies(70, 60.0) == "egfr_not_below_60"
    assert kfre_applies(70, 9.9) == "egfr_below_10"
    assert kfre_applies(float("nan"), 30.0) == "age_missing"
    ages = pd.Series([70.0, 70.0], index=[3, 4])
    reasons = kfre_applies(ages, pd.Series([30.0, np.nan], index=[3, 4]))
    assert list(reasons.index) == [3, 4]
    assert reasons.tolist() == [None, "egfr_missing"]
