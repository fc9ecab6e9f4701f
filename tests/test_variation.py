import math
import tomllib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labinterp.equations.variation import (
    reference_change_value,
    reference_change_value_lognormal,
)
from labinterp.errors import InvalidResultError

from .conftest import ROOT, load_vectors, vector_id

DATA = ROOT / "src" / "labinterp" / "data"
KRITISK_DIFFERANSE = load_vectors("rcv_kritisk_differanse.csv")
SYMMETRIC = load_vectors("rcv_symmetric_z196.csv")
LOGNORMAL = load_vectors("rcv_lognormal.csv")
VECTOR_ROWS = KRITISK_DIFFERANSE + SYMMETRIC + LOGNORMAL

cv_pct = st.floats(min_value=0.1, max_value=300.0, allow_nan=False)


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _at_precision(actual: float, expected: str) -> bool:
    """Return whether ``actual`` rounds to ``expected`` at the precision it is written with."""
    return abs(actual - float(expected)) <= 0.5 * 10 ** -_decimals(expected) + 1e-9


def _toml(name: str) -> dict[str, Any]:
    with (DATA / name).open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize("row", KRITISK_DIFFERANSE, ids=vector_id)
def test_kritisk_differanse_vectors(row: dict[str, str]) -> None:
    """The printed 'kritisk differanse' (k x CVT, k = 2.8) is the RCV with z = k / sqrt(2)."""
    z = float(row["k"]) / math.sqrt(2.0)
    actual = reference_change_value(float(row["cva_pct"]), float(row["cvi_pct"]), z=z)
    assert _at_precision(actual, row["expected_rcv_pct"]), (row["expected_rcv_pct"], actual)


@pytest.mark.parametrize("row", SYMMETRIC, ids=vector_id)
def test_symmetric_vectors(row: dict[str, str]) -> None:
    """The symmetric RCV with an exact Z matches the recomputed values."""
    actual = reference_change_value(float(row["cva_pct"]), float(row["cvi_pct"]), z=float(row["z"]))
    assert _at_precision(actual, row["expected_rcv_pct"]), (row["expected_rcv_pct"], actual)


@pytest.mark.parametrize("row", LOGNORMAL, ids=vector_id)
def test_lognormal_vectors(row: dict[str, str]) -> None:
    """The log-normal RCV for a rise and a fall matches the recomputed values."""
    up, down = reference_change_value_lognormal(
        float(row["cva_pct"]), float(row["cvi_pct"]), z=float(row["z"])
    )
    assert _at_precision(up, row["expected_up_pct"]), (row["expected_up_pct"], up)
    assert _at_precision(down, row["expected_down_pct"]), (row["expected_down_pct"], down)


def test_symmetric_series_keeps_index() -> None:
    """A Series of CVs gives a float64 Series with the same index."""
    cva = pd.Series([1.3, 2.5], index=["kreatinin", "ferritin"])
    cvi = pd.Series([4.5, 12.8], index=["kreatinin", "ferritin"])
    result = reference_change_value(cva, cvi)
    assert isinstance(result, pd.Series)
    assert list(cva.index) == list(result.index)
    assert result.dtype == np.float64
    expected = [12.98, 36.15]
    assert expected == [round(v, 2) for v in result]


def test_lognormal_series_keeps_index() -> None:
    """Both log-normal limits of a Series input are Series with the input's index."""
    cvi = pd.Series([4.5, 12.8], index=[10, 20])
    up, down = reference_change_value_lognormal(pd.Series([1.3, 2.5], index=[10, 20]), cvi)
    expected_up, expected_down = [13.86, 43.33], [-12.17, -30.23]
    assert list(cvi.index) == list(up.index) == list(down.index)
    assert expected_up == [round(v, 2) for v in up]
    assert expected_down == [round(v, 2) for v in down]


def test_array_in_array_out_and_scalar_in_float_out() -> None:
    """An array gives an array of the same length and scalars give a float."""
    result = reference_change_value(np.array([1.3, 2.2]), 4.5)
    assert isinstance(result, np.ndarray)
    assert result.shape == (2,)
    assert isinstance(reference_change_value(1.3, 4.5), float)
    up, down = reference_change_value_lognormal(1.3, 4.5)
    assert isinstance(up, float) and isinstance(down, float)


def test_missing_cv_gives_nan() -> None:
    """A missing CV (NaN) gives NaN for that element only."""
    result = reference_change_value(np.array([1.3, np.nan]), 4.5)
    expected = 12.98
    assert expected == round(result[0], 2)
    assert math.isnan(result[1])


@given(cva=cv_pct, cvi=cv_pct)
def test_lognormal_up_exceeds_symmetric_exceeds_down(cva: float, cvi: float) -> None:
    """At Z = 1.96 the log-normal rise limit exceeds the symmetric RCV, which exceeds the fall."""
    symmetric = reference_change_value(cva, cvi)
    up, down = reference_change_value_lognormal(cva, cvi)
    assert up > symmetric > abs(down)
    assert down < 0


@given(cva=cv_pct, cvi=cv_pct, z=st.floats(min_value=0.5, max_value=4.0))
def test_lognormal_limits_are_reciprocal(cva: float, cvi: float, z: float) -> None:
    """A rise to the upper limit and a fall to the lower limit cancel: (1 + up)(1 + down) = 1."""
    up, down = reference_change_value_lognormal(cva, cvi, z=z)
    expected = 1.0
    # Through exp() and percent scaling the product is exact to about 1e-12, not to the ulp.
    assert expected == pytest.approx((1 + up / 100) * (1 + down / 100), rel=1e-9)


@pytest.mark.parametrize("function", [reference_change_value, reference_change_value_lognormal])
@pytest.mark.parametrize(
    ("cva", "cvi", "field"),
    [
        (-1.3, 4.5, "cva_pct"),
        (1.3, -4.5, "cvi_pct"),
        (np.array([1.3, -0.1]), 4.5, "cva_pct"),
        (1.3, pd.Series([4.5, -4.5]), "cvi_pct"),
    ],
)
def test_negative_cv_raises(function: Any, cva: Any, cvi: Any, field: str) -> None:
    """A negative CV raises InvalidResultError, a ValueError, naming the argument."""
    with pytest.raises(InvalidResultError) as caught:
        function(cva, cvi)
    assert isinstance(caught.value, ValueError)
    assert field == caught.value.field


@pytest.mark.parametrize("z", [0.0, -1.96, float("nan"), "high"])
def test_nonpositive_or_non_numeric_z_raises(z: Any) -> None:
    """Z must be a positive number."""
    with pytest.raises(InvalidResultError):
        reference_change_value(1.3, 4.5, z=z)


def test_series_with_different_indexes_raise() -> None:
    """Two Series that do not share an index are refused rather than silently aligned."""
    with pytest.raises(InvalidResultError):
        reference_change_value(pd.Series([1.3], index=[0]), pd.Series([4.5], index=[1]))


def test_non_numeric_cv_raises() -> None:
    """A CV given as text is refused."""
    with pytest.raises(InvalidResultError):
        reference_change_value("1,3", 4.5)


# ---------------------------------------------------------------------------
# Data integrity of biological_variation.toml


BIOLOGICAL_VARIATION = _toml("biological_variation.toml")


def test_biological_variation_sources_exist() -> None:
    """Every source key in biological_variation.toml is a key of sources.toml."""
    keys = set(_toml("sources.toml"))
    cited = {
        entry[field]
        for entry in BIOLOGICAL_VARIATION.values()
        for field in ("cvi_source", "cva_source")
    }
    assert set() == cited - keys


def test_rcv_vector_sources_exist() -> None:
    """Every source key named by the RCV vectors is a key of sources.toml."""
    keys = set(_toml("sources.toml"))
    assert set() == {row["source"] for row in VECTOR_ROWS} - keys


def test_biological_variation_rows_are_complete() -> None:
    """Every row names a catalogue analyte and has positive CVs, sources, locators and a note."""
    analytes = set(_toml("analytes.toml"))
    fields = {
        "cvi_pct",
        "cvi_source",
        "cvi_locator",
        "cva_pct",
        "cva_source",
        "cva_locator",
        "note",
    }
    for analyte, entry in BIOLOGICAL_VARIATION.items():
        assert analyte in analytes, analyte
        assert fields == set(entry), analyte
        assert entry["cvi_pct"] > 0 and entry["cva_pct"] > 0, analyte
        assert all(str(entry[f]).strip() for f in fields), analyte
