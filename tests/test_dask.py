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


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as objects, missing as None (Dask stores text as Arrow strings)."""
    plain = frame.reset_index(drop=True).astype(object)
    return plain.where(plain.notna(), None)


def test_read_csv_reads_a_raw_nordic_export_as_labinterp_does(client) -> None:
    """Semicolons, decimal commas, Latin-1 and Norwegian headers: the pandas reader's frame."""
    raw = (EXAMPLES / "nordic_export.csv").read_bytes()
    assert "Prøvedato".encode("latin-1") in raw  # the file is Latin-1, headers Norwegian
    expected = schema.conform(labinterp.read_csv(EXAMPLES / "nordic_export.csv"), "results")
    ddf = labinterp.dask.read_csv(EXAMPLES / "nordic_export.csv")
    assert list(ddf.columns) == list(expected.columns)
    computed = ddf.compute()
    _assert_same_dtypes(ddf.dtypes, computed.dtypes)
    pd.testing.assert_frame_equal(_plain(computed), _plain(expected))
    result = labinterp.dask.interpret(ddf, decimal=",", history=True).compute()
    pandas = schema.conform(labinterp.interpret(expected, decimal=",", history=True))
    pd.testing.assert_frame_equal(
        _canonical(result), _canonical(pandas), check_dtype=False, check_index_type=False
    )


def test_read_csv_reads_many_files_from_an_fsspec_store(client) -> None:
    """A glob on an fsspec URL (memory:// stands in for s3://), compressed files, the path."""
    import gzip

    import fsspec

    raw = (EXAMPLES / "nordic_export.csv").read_bytes()
    store = fsspec.filesystem("memory")
    store.pipe("/exports/2026-01.csv", raw)
    store.pipe("/exports/2026-02.csv.gz", gzip.compress(raw))
    try:
        ddf = labinterp.dask.read_csv("memory://exports/*", include_path_column="file")
        assert ddf.npartitions == 2
        frame = ddf.compute()
    finally:
        store.rm("/exports", recursive=True)
    one = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    assert len(frame) == 2 * len(one)
    assert sorted(set(frame["file"])) == ["/exports/2026-01.csv", "/exports/2026-02.csv.gz"]
    for _, part in frame.groupby("file"):
        assert part["source_row"].tolist() == one["source_row"].tolist()
        assert part["raw_value"].tolist() == one["raw_value"].tolist()


def test_read_csv_names_a_file_with_other_columns(client) -> None:
    """Files are read with the first file's columns; another header is an error, not a loss."""
    ddf = labinterp.dask.read_csv([EXAMPLES / "nordic_export.csv", EXAMPLES / "us_export.csv"])
    with pytest.raises(labinterp.ReadError, match=r"us_export\.csv: its columns differ"):
        ddf.compute()
    with pytest.raises(labinterp.ReadError, match="no file matches"):
        labinterp.dask.read_csv(EXAMPLES / "nothing-*.csv")


def test_read_csv_learns_columns_from_a_sample_cut_inside_a_quoted_field(
    client, tmp_path, monkeypatch
) -> None:
    """A sample that ends inside a quoted line break falls back to the whole first file."""
    lines = ["Pasient-ID;Analyse;Resultat;Enhet;Notat"]
    lines += [f'P{i:03d};P-Magnesium;0,8{i % 10};mmol/L;"linje 1\nlinje 2"' for i in range(40)]
    path = tmp_path / "quoted.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    monkeypatch.setattr(labinterp.dask, "_SAMPLE_BYTES", len(lines[0]) + 40)
    with pytest.warns(labinterp.LabinterpWarning, match="Notat"):
        ddf = labinterp.dask.read_csv(path)
    frame = ddf.compute()
    assert len(frame) == 40
    assert frame["source_row"].tolist() == list(range(2, 82, 2))
    assert set(frame["Notat"]) == {"linje 1\nlinje 2"}


@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")
def test_to_parquet_writes_the_declared_arrow_types(client, tmp_path) -> None:
    """labinterp.dask.to_parquet: every declared column has its declared Arrow type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ddf = labinterp.dask.read_csv(EXAMPLES / "nordic_export.csv")
    result = labinterp.dask.interpret(ddf, decimal=",", history=True)
    labinterp.dask.to_parquet(result, tmp_path / "out")
    written = pq.read_schema(next((tmp_path / "out").glob("*.parquet")))
    declared = schema.interpreted()
    for name in result.columns:
        if name not in declared.names:
            continue
        found, wanted = written.field(name).type, declared.field(name).type
        if pa.types.is_dictionary(wanted):  # pyarrow < 14 reads indices back as int32
            assert pa.types.is_dictionary(found), name
            assert (found.value_type, found.ordered) == (wanted.value_type, wanted.ordered), name
        elif pa.types.is_timestamp(wanted):  # pyarrow < 13 writes Parquet 2.4 (µs)
            assert pa.types.is_timestamp(found) and found.tz == wanted.tz, name
        else:
            assert found == wanted, name
    assert len(pd.read_parquet(tmp_path / "out")) == len(result.compute())
