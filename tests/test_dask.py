"""The Dask path, on a two-worker LocalCluster: the pandas result, Parquet, and lazy dtypes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import labinterp
from labinterp import schema

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import labinterp.dask  # noqa: E402

from .conftest import DATA, EXAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Order rows the same way whatever the partitioning (derived rows after their source)."""
    keyed = frame.assign(
        _row=frame["source_row"].astype("Float64"),
        _from=frame["derived_from"].astype(object).fillna(""),
        _eq=frame["equation"].astype(object).fillna(""),
    )
    keyed["_row"] = keyed["_row"].fillna(
        keyed["_from"].str.split(";").str[0].replace("", None).astype("Float64") + 0.5
    )
    ordered = keyed.sort_values(["_row", "_eq"], kind="stable").drop(
        columns=["_row", "_from", "_eq"]
    )
    ordered = ordered.reset_index(drop=True).astype(object)
    return ordered.where(ordered.notna(), None)  # Dask stores text as Arrow strings (NA)


def _assert_same_dtypes(lazy: pd.Series, computed: pd.Series) -> None:
    """Equal dtypes; a categorical whose categories Dask cannot know is categorical."""
    assert list(lazy.index) == list(computed.index)
    for name, dtype in lazy.items():
        if isinstance(dtype, pd.CategoricalDtype) and "__UNKNOWN_CATEGORIES__" in list(
            dtype.categories
        ):
            assert isinstance(computed[name], pd.CategoricalDtype), name
            assert computed[name].ordered == dtype.ordered, name
        else:
            assert computed[name] == dtype, (name, dtype, computed[name])


def _with_extra_columns() -> pd.DataFrame:
    """Return the Nordic example with integer and boolean columns to pass through."""
    frame = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    return frame.assign(
        batch=np.arange(len(frame), dtype="int64"), checked=np.arange(len(frame)) % 2 == 0
    )


def test_dask_equals_pandas_on_a_local_cluster(client) -> None:
    """Interpreting with labinterp.dask on two workers gives exactly the pandas result."""
    frame = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    expected = schema.conform(labinterp.interpret(frame, decimal=",", history=True))
    ddf = dd.from_pandas(frame, npartitions=3)
    result = labinterp.dask.interpret(ddf, decimal=",", history=True).compute()
    assert len(result) == len(expected)
    pd.testing.assert_frame_equal(
        _canonical(result), _canonical(expected), check_dtype=False, check_index_type=False
    )


# Dask's Parquet writer calls set_index(inplace=True), deprecated in pandas 3.1.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")
def test_documented_example_writes_parquet(client, tmp_path) -> None:
    """labinterp.dask.interpret(ddf, ...).to_parquet(path) works and reads back every row."""
    frame = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    expected = labinterp.interpret(frame, profile="no", decimal=",", history=True)
    ddf = dd.from_pandas(frame, npartitions=3)
    result = labinterp.dask.interpret(ddf, profile="no", decimal=",", history=True)
    result.to_parquet(tmp_path / "interpreted")
    back = pd.read_parquet(tmp_path / "interpreted")
    assert len(back) == len(expected)
    assert list(back.columns) == list(expected.columns)
    assert sorted(back["source_row"].dropna().astype(int)) == sorted(
        expected["source_row"].dropna().astype(int)
    )
    assert (
        _canonical(back)["flag"].tolist() == _canonical(schema.conform(expected))["flag"].tolist()
    )


@pytest.mark.parametrize(
    ("name", "read", "options"),
    [
        ("nordic", _with_extra_columns, {"decimal": ",", "history": True}),
        (
            "hl7",
            lambda: labinterp.read_hl7(DATA / "hl7" / "winpath_LabDuplicateResultSegment.txt"),
            {"profile": "us"},
        ),
        (
            "fhir",
            lambda: labinterp.read_fhir(
                DATA / "fhir" / "Jena_Terry_5b386eef-1ca3-4f74-85e7-3a5b31602fff.json"
            ),
            {"profile": "us", "history": True},
        ),
    ],
)
def test_lazy_dtypes_equal_computed_dtypes(client, name, read, options) -> None:
    """The lazy frame's columns and dtypes are those of the computed frame."""
    ddf = dd.from_pandas(read(), npartitions=2)
    result = labinterp.dask.interpret(ddf, **options)
    computed = result.compute()
    _assert_same_dtypes(result.dtypes, computed.dtypes)
    declared = schema.dtypes("interpreted")
    for column in ("flag", "status", "analyte", "source_row", "reference_low_inclusive"):
        assert computed[column].dtype == declared[column], (name, column)


def test_meta_follows_the_schema_and_the_input() -> None:
    """meta(): interpret's column order, declared dtypes, the input's other dtypes widened."""
    frame = _with_extra_columns()
    meta = labinterp.dask.meta(frame.iloc[0:0], history=True)
    out = labinterp.interpret(frame, decimal=",", history=True)
    assert list(meta.columns) == list(out.columns)
    assert len(meta) == 0
    assert meta["flag"].dtype == schema.column("flag").dtype
    assert meta["batch"].dtype == "Int64" and meta["checked"].dtype == "boolean"
    assert meta["read_problem"].dtype == schema.column("read_problem").dtype
