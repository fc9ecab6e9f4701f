"""Interpret a ``dask.dataframe`` partition by partition (in the ``[dask]`` extra).

The frame is first shuffled so that each patient's rows share a partition; every
partition is then interpreted by :func:`labinterp.interpret` with the same options,
so context rules, derived values and history see a patient's whole sample set.

The result's ``meta`` (its columns and dtypes before anything is computed) comes from
:mod:`labinterp.schema`: the declared columns with their declared dtypes, in the order
``interpret`` gives them, and the input's other columns with the input's dtypes. Every
partition is conformed to it, so the lazy dtypes are the computed ones and
``.to_parquet(...)`` writes one Arrow schema for all partitions; :func:`to_parquet` writes
the declared columns with their declared Arrow types (:func:`labinterp.schema.interpreted`).

:func:`read_csv` reads raw exports (any delimiter, decimal commas, Latin-1, Norwegian,
Swedish, Danish or English headers) as :func:`labinterp.read_csv` does, one partition per
file, from local paths or any fsspec store (``s3://``, ``gs://``, ``az://`` ...).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from functools import partial
from pathlib import PurePosixPath
from typing import Any, Literal

import pandas as pd

from labinterp import interpret as interpret_frame
from labinterp import schema
from labinterp.dtypes import TEXT
from labinterp.errors import ReadError
from labinterp.io.readers.csv import parse_csv

__all__ = ["interpret", "meta", "read_csv", "to_parquet"]

#: How much of the first file is read to learn the columns before anything is computed.
_SAMPLE_BYTES = 1 << 20


def interpret(ddf: Any, *, by: str | None = "patient_id", **options: Any) -> Any:
    """Interpret a dask DataFrame of results.

    Parameters
    ----------
    ddf
        A ``dask.dataframe.DataFrame`` with the results-frame columns
        (:func:`labinterp.schema.results`).
    by
        The column that keeps rows together; ``patient_id`` by default. Without it
        (or with ``by=None``) partitions are interpreted as they are.
    **options
        Passed to :func:`labinterp.interpret` (``profile=``, ``lang=``, ``history=``
        ...). Pass ``decimal=`` when partitions might disagree about the decimal
        separator.

    Returns
    -------
    dask.dataframe.DataFrame
        The interpreted frame, lazily; ``.compute()`` gives a pandas DataFrame and
        ``.to_parquet(path)`` writes it.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd, labinterp.dask
    >>> pdf = pd.DataFrame({"patient_id": ["a"], "analyte": ["magnesium"],
    ...                     "raw_value": ["0,62"], "raw_unit": ["mmol/L"], "age_years": [50]})
    >>> labinterp.dask.interpret(dd.from_pandas(pdf, npartitions=1)).compute()["flag"].tolist()
    ['L']
    """
    if by is not None and by in ddf.columns:
        ddf = ddf.shuffle(on=by)
    expected = meta(ddf._meta, history=bool(options.get("history", False)))
    return ddf.map_partitions(
        _interpret_partition, options, expected.iloc[0:0], meta=_unknown_categories(expected)
    )


def meta(input_meta: pd.DataFrame, *, history: bool = False) -> pd.DataFrame:
    """Return the interpreted frame without rows, for input with these columns and dtypes.

    Parameters
    ----------
    input_meta
        A frame (usually without rows) with the input's columns and dtypes.
    history
        Whether ``history=True`` is passed to ``interpret``.

    Returns
    -------
    pandas.DataFrame
        The columns in the order ``interpret`` gives them: declared columns with their
        declared dtypes (a categorical whose categories come from the data has none
        yet), the input's other columns with their own dtypes, where integers and
        booleans become nullable (derived rows leave them empty).
    """
    declared = schema.dtypes("interpreted")
    columns: dict[str, pd.Series] = {}
    for name in schema.interpreted_order(input_meta.columns, history=history):
        dtype = declared[name] if name in declared else _nullable(input_meta.dtypes[name])
        columns[name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(columns, index=input_meta.index[:0])


def _nullable(dtype: Any) -> Any:
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return pd.BooleanDtype()
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return pd.Int64Dtype()
    return dtype


def _unknown_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark the categoricals whose categories come from the data as unknown to Dask."""
    from dask.dataframe.utils import UNKNOWN_CATEGORIES

    unknown = pd.Index([UNKNOWN_CATEGORIES], dtype=object)
    dynamic = {
        name: pd.CategoricalDtype(unknown, ordered=dtype.ordered)
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories) == 0
    }
    return frame.astype(dynamic) if dynamic else frame


def _interpret_partition(
    partition: pd.DataFrame, options: dict[str, Any], expected: pd.DataFrame
) -> pd.DataFrame:
    out = schema.conform(interpret_frame(partition, **options), "interpreted")
    # Passed-through integers and booleans: nullable, with or without derived rows.
    widened = {
        name: dtype
        for name, dtype in zip(expected.columns, expected.dtypes, strict=True)
        if isinstance(dtype, pd.Int64Dtype | pd.BooleanDtype) and out[name].dtype != dtype
    }
    return out.astype(widened) if widened else out


def read_csv(
    urlpath: str | os.PathLike[str] | list[str],
    *,
    columns: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    shape: Literal["auto", "long", "wide"] = "auto",
    code_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    sex_map: Mapping[str, str] | None = None,
    include_path_column: bool | str = False,
    storage_options: dict[str, Any] | None = None,
) -> Any:
    r"""Read CSV exports into a dask DataFrame of results, one partition per file.

    Each file is read exactly as :func:`labinterp.read_csv` reads it: delimiter,
    encoding and decimal comma as written, headers mapped to fields through
    ``columns=`` and the header synonyms (:func:`labinterp.catalogue.column_fields`),
    values and units kept as text, dates parsed, ``source_row`` the line in its file.
    A file is never split, so a line break inside a quoted field cannot cut a record
    and every line number is the file's own: split very large exports into files.

    Parameters
    ----------
    urlpath
        A path, a glob (``exports/*.csv``) or a list of them; local or any fsspec URL
        (``s3://bucket/2026/*.csv``, ``gs://...``). Compressed files (``.gz``, ``.bz2``,
        ``.xz``, ``.zst``) are decompressed.
    columns, delimiter, encoding, shape, code_map, sex_map
        As for :func:`labinterp.read_csv`.
    include_path_column
        ``True`` (a column ``path``) or a column name: add each row's file, which with
        ``source_row`` locates the row.
    storage_options
        Passed to fsspec (credentials, ``anon=True`` ...).

    Returns
    -------
    dask.dataframe.DataFrame
        A results frame, lazily; pass it to :func:`interpret`. Its columns and dtypes
        come from the first file; every file must have the same columns.

    Raises
    ------
    ReadError
        When no file matches, the first file cannot be read, or (when computed) a file
        cannot be read or has other columns than the first file. Messages name the file,
        never a value.

    Warns
    -----
    LabinterpWarning
        Once, naming the first file's columns that are not used for interpretation.

    Examples
    --------
    >>> import labinterp.dask
    >>> ddf = labinterp.dask.read_csv("examples/nordic_export.csv")  # doctest: +SKIP
    >>> labinterp.dask.interpret(ddf, decimal=",").compute()  # doctest: +SKIP
    """
    import dask.dataframe as dd
    from fsspec.core import get_fs_token_paths  # type: ignore[import-untyped]

    fs, _, paths = get_fs_token_paths(
        [os.fspath(p) for p in urlpath] if isinstance(urlpath, list) else os.fspath(urlpath),
        mode="rb",
        storage_options=storage_options,
    )
    if not paths:
        raise ReadError(f"{_shown(urlpath)}: no file matches.")
    paths = sorted(paths)
    options = {
        "columns": columns,
        "delimiter": delimiter,
        "encoding": encoding,
        "shape": shape,
        "code_map": code_map,
        "sex_map": sex_map,
    }
    path_column = "path" if include_path_column is True else include_path_column or None
    sample = _read_sample(fs, paths[0], options)
    expected = schema.conform(sample, "results").iloc[0:0]
    if path_column:
        expected[path_column] = pd.Series([], dtype=TEXT)
    read = partial(_read_file, fs=fs, options=options, expected=expected, path_column=path_column)
    return dd.from_map(  # type: ignore[no-untyped-call]
        read, paths, meta=expected, enforce_metadata=False
    )


def to_parquet(result: Any, path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Write an interpreted dask DataFrame to Parquet with the declared Arrow types.

    Parameters
    ----------
    result
        What :func:`interpret` returns.
    path
        A directory, local or any fsspec URL (``s3://bucket/interpreted/``).
    **kwargs
        Passed to ``dask.dataframe.DataFrame.to_parquet`` (``storage_options=``,
        ``compression=`` ...).

    Returns
    -------
    object
        What ``to_parquet`` returns (``None``, or a delayed write with
        ``compute=False``).
    """
    declared = schema.interpreted()
    types = {name: declared.field(name).type for name in result.columns if name in declared.names}
    return result.to_parquet(path, schema=types, **kwargs)


def _shown(urlpath: object) -> str:
    return str(urlpath[0]) if isinstance(urlpath, list) and urlpath else str(urlpath)


def _open(fs: Any, path: str) -> Any:
    from fsspec.utils import infer_compression  # type: ignore[import-untyped]

    return fs.open(path, "rb", compression=infer_compression(path))


def _name(path: str) -> str:
    return PurePosixPath(path).name


def _read_sample(fs: Any, path: str, options: dict[str, Any]) -> pd.DataFrame:
    """Read the first file's first lines (the whole file when they cannot stand alone)."""
    try:
        with _open(fs, path) as handle:
            data = handle.read(_SAMPLE_BYTES)
            whole = not handle.read(1)
    except OSError as exc:
        raise ReadError(f"{_name(path)}: cannot be opened ({type(exc).__name__}).") from exc
    if whole:
        return parse_csv(data, name=_name(path), **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:  # up to the last line break: a cut inside a quoted field cannot be read
            frame = parse_csv(data[: data.rfind(b"\n") + 1], name=_name(path), **options)
        except ReadError:
            frame = None
    if frame is None:
        return _read_file(path, fs=fs, options=options, expected=None, path_column=None)
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return frame


def _read_file(
    path: str,
    *,
    fs: Any,
    options: dict[str, Any],
    expected: pd.DataFrame | None,
    path_column: str | None,
) -> pd.DataFrame:
    """Read one file as ``labinterp.read_csv`` does; conform it to the expected frame."""
    try:
        with _open(fs, path) as handle:
            data = handle.read()
    except OSError as exc:
        raise ReadError(f"{_name(path)}: cannot be opened ({type(exc).__name__}).") from exc
    frame = parse_csv(data, name=_name(path), report_unused=expected is None, **options)
    if expected is None:
        return frame
    frame = schema.conform(frame, "results")
    if path_column:
        frame[path_column] = pd.Series(path, index=frame.index, dtype=expected[path_column].dtype)
    if list(frame.columns) != list(expected.columns):
        raise ReadError(
            f"{_name(path)}: its columns differ from the first file's; read files with "
            "different headers separately."
        )
    differ = {
        str(name): dtype
        for name, dtype in expected.dtypes.items()
        if frame.dtypes[str(name)] != dtype
    }
    return frame.astype(differ) if differ else frame
