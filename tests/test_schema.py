"""The results and interpreted frames declared once (labinterp.schema)."""

from __future__ import annotations

import io
import time
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import labinterp
from labinterp import catalogue, schema
from labinterp.dates import complete_context
from labinterp.errors import LabinterpWarning, MissingColumnError, ReadError
from labinterp.vocab import Flag, Status

from .conftest import DATA, EXAMPLES

STEPS = set(typing.get_args(schema.Step))


def _read_naming(path: Path, unused: str) -> pd.DataFrame:
    """Read a CSV export whose column ``unused`` is named as not used for interpretation."""
    with pytest.warns(LabinterpWarning, match=unused):
        return labinterp.read_csv(path)


def _inputs() -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    found = [
        ("nordic", labinterp.read_csv(EXAMPLES / "nordic_export.csv"), {"decimal": ","}),
        ("nordic_wide", _read_naming(EXAMPLES / "nordic_wide.csv", "Kommentar"), {}),
        ("us", labinterp.read_csv(EXAMPLES / "us_export.csv"), {"profile": "us"}),
    ]
    for path in sorted((DATA / "hl7").glob("*.[th]*")):
        found.append((path.name, labinterp.read_hl7(path), {"profile": "us"}))
    for path in sorted((DATA / "fhir").glob("*.json")):
        found.append((path.name, labinterp.read_fhir(path), {"profile": "us"}))
    return found


@pytest.fixture(scope="module")
def inputs() -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    return _inputs()


@pytest.fixture(scope="module")
def nordic() -> pd.DataFrame:
    frame = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    return labinterp.interpret(frame, decimal=",", history=True)


@pytest.mark.parametrize("kind", ["results", "interpreted"])
def test_every_column_is_declared_once_with_a_step_and_a_meaning(kind: str) -> None:
    """Names are unique; every column has known steps, a meaning and an Arrow field."""
    columns = schema.columns(kind)
    names = [c.name for c in columns]
    assert len(names) == len(set(names))
    arrow = schema.results() if kind == "results" else schema.interpreted()
    assert isinstance(arrow, pa.Schema) and arrow.names == names
    for column in columns:
        assert column.steps and set(column.steps) <= STEPS, column.name
        assert column.meaning.endswith(".") and "\n" not in column.meaning, column.name
        assert column.always or column.when, column.name
        field = arrow.field(column.name)
        assert field.metadata[b"meaning"] == column.meaning.encode()
        assert field.metadata[b"always"] == (b"true" if column.always else b"false")
        assert schema.column(column.name, kind) is column


def test_reader_columns_are_declared() -> None:
    """Every column a reader can produce (header aliases, HL7, FHIR) is a results column."""
    from labinterp.io.readers.csv import HEADER_ALIASES
    from labinterp.io.readers.fhir import FHIR_COLUMNS
    from labinterp.io.readers.hl7 import HL7_COLUMNS

    declared = {c.name for c in schema.columns("results")}
    produced = {*HEADER_ALIASES.values(), *HL7_COLUMNS, *FHIR_COLUMNS}
    produced |= {"source_row", "age_years", "read_problem", "source_column", "height_cm"}
    assert produced <= declared, sorted(produced - declared)


def test_interpreted_columns_are_declared_and_ordered(inputs) -> None:
    """The interpreted frame adds only declared columns, in interpreted_order's order."""
    declared = {c.name for c in schema.columns("interpreted")}
    for name, frame, options in inputs:
        for history in (False, True):
            out = labinterp.interpret(frame, history=history, **options)
            assert set(out.columns) - set(frame.columns) <= declared, name
            expected = schema.interpreted_order(frame.columns, history=history)
            assert list(out.columns) == expected, (name, history)
            always = [c.name for c in schema.columns("interpreted") if c.always]
            assert set(always) <= set(out.columns), name


def test_interpreted_order_for_a_bare_frame() -> None:
    """Without context columns there is no read_problem; sex and analyte pass as raw_*."""
    bare = schema.interpreted_order(["analyte", "raw_value", "raw_unit", "batch", "sex"])
    assert bare.index("batch") == bare.index("derived_from") + 1
    assert "read_problem" not in bare and "superseded" not in bare
    exact = [c.name for c in schema.columns() if c.name.endswith("_exact") and c.always]
    assert bare[-3 - len(exact) :] == ["raw_sex", "raw_analyte", *exact, "caveat_rules"]
    with_history = schema.interpreted_order(["raw_value", "age_years"], history=True)
    assert with_history.index("read_problem") == with_history.index("derived_from") + 1
    assert with_history[-2:] == ["history_note", "caveat_rules"]


def test_vocabularies_follow_the_catalogue_and_the_vocabularies() -> None:
    """Fixed categories: catalogue analytes and schemes, Status, the flags labinterp sets."""
    assert schema.column("analyte").categories == tuple(catalogue.analytes())
    assert schema.column("status").categories == tuple(s.value for s in Status)
    assert set(schema.FLAGS) <= {f.value for f in Flag}
    flag = schema.column("flag").dtype
    assert list(flag.categories) == ["LL", "L", "N", "H", "HH"] and flag.ordered
    labels = set(schema.column("category").categories or ())
    for scheme in catalogue.schemes().values():
        assert {c.label for c in scheme.categories} <= labels
        assert scheme.name in (schema.column("scheme").categories or ())


def test_conform_gives_the_declared_dtypes_and_the_same_csv(inputs) -> None:
    """Conformed output has every declared dtype; written as CSV it is byte-identical."""
    declared = schema.dtypes("interpreted")
    for name, frame, options in inputs:
        out = labinterp.interpret(frame, history=True, **options)
        conformed = schema.conform(out, "interpreted")
        for column in conformed.columns:
            if column in declared and declared[column] != "category":
                assert conformed[column].dtype == declared[column], (name, column)
            elif column in declared:
                assert isinstance(conformed[column].dtype, pd.CategoricalDtype), (name, column)
            else:
                assert conformed[column].dtype == out[column].dtype, (name, column)
        assert conformed.to_csv(index=False) == out.to_csv(index=False), name
        assert schema.conform(conformed, "interpreted") is conformed, name


def test_no_flag_is_missing_not_an_empty_string() -> None:
    """An empty string in a categorical column becomes missing; flags stay ordered."""
    frame = pd.DataFrame({"flag": ["L", "", "HH", None], "comparator": ["", "<", "", ""]})
    out = schema.conform(frame)
    assert out["flag"].isna().tolist() == [False, True, False, True]
    assert (out["flag"] > "N").tolist() == [False, False, True, False]
    assert out["comparator"].tolist()[1] == "<" and out["comparator"].isna().sum() == 3


def test_conform_keeps_undeclared_columns_and_casts_declared_ones() -> None:
    """Integers become nullable where declared, dates lose their offset, others are kept."""
    frame = pd.DataFrame(
        {
            "source_row": np.arange(3),
            "collected_at": pd.to_datetime(["2024-01-05 08:00+01:00"] * 3),
            "superseded": [True, False, True],
            "batch": np.arange(3, dtype="int32"),
            "value": [1, 2, 3],
        }
    )
    out = schema.conform(frame)
    assert out["source_row"].dtype == "Int64" and out["superseded"].dtype == "boolean"
    assert out["collected_at"].dtype == "datetime64[ns]"
    assert out["collected_at"].iloc[0] == pd.Timestamp("2024-01-05 08:00")
    assert out["batch"].dtype == "int32" and out["value"].dtype == "float64"
    assert frame["source_row"].dtype == "int64"  # the input is not changed


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("flag", ["L", "low"]),
        ("value", ["0.5", "five"]),
        ("collected_at", ["2024-01-05", "05.01.2024"]),
        ("analyte", ["magnesium", "unobtainium"]),
    ],
)
def test_conform_names_the_column_it_cannot_cast(column: str, values: list[str]) -> None:
    """A column that cannot be cast raises ReadError naming the column, never a value."""
    with pytest.raises(ReadError) as raised:
        schema.conform(pd.DataFrame({column: values}))
    assert raised.value.field == column and column in str(raised.value)
    assert values[1] not in str(raised.value)


def test_validate_results_checks_columns_and_dtypes() -> None:
    """validate_results names a missing or mistyped column; a conformed frame passes."""
    with pytest.raises(MissingColumnError, match="raw_value"):
        schema.validate_results(pd.DataFrame({"analyte": ["crp"]}))
    with pytest.raises(MissingColumnError, match="analyte"):
        schema.validate_results(pd.DataFrame({"raw_value": ["5"]}))
    frame = pd.DataFrame({"raw_value": ["5"], "analyte": ["crp"], "age_years": ["40"]})
    with pytest.raises(ReadError, match="'age_years'") as raised:
        schema.validate_results(frame)
    assert raised.value.field == "age_years" and "40" not in str(raised.value)
    conformed = schema.conform(frame, "results")
    assert schema.validate_results(conformed) is conformed
    assert conformed["age_years"].tolist() == [40.0]


def test_conformed_reader_output_is_a_results_frame(inputs) -> None:
    """Every reader's output, conformed, validates; HL7 after the context step.

    The HL7 reader keeps birth and collection times as written (with their UTC offsets);
    the context step that ``interpret`` runs first (:func:`labinterp.dates.complete_context`)
    parses them, as it does for every reader.
    """
    for name, frame, _ in inputs:
        parsed = "collected_at" not in frame or frame["collected_at"].dtype.kind == "M"
        given = frame if parsed else complete_context(frame)
        assert schema.validate_results(schema.conform(given, "results")) is not None, name


def test_conformed_frame_writes_parquet_with_the_declared_schema(nordic) -> None:
    """The declared Arrow schema writes a conformed frame and reads it back."""
    conformed = schema.conform(nordic)
    declared = schema.interpreted()
    fields = [declared.field(c) for c in conformed.columns if c in declared.names]
    table = pa.Table.from_pandas(conformed[[f.name for f in fields]], schema=pa.schema(fields))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    back = pq.read_table(io.BytesIO(buffer.getvalue())).to_pandas()
    assert len(back) == len(conformed)
    assert back["flag"].dtype == conformed["flag"].dtype
    assert back["status"].tolist() == conformed["status"].tolist()


def test_conform_is_cheap_when_dtypes_already_match(nordic) -> None:
    """On a 1,000,000-row frame that already conforms, conform takes a few milliseconds."""
    conformed = schema.conform(nordic)
    rows = np.tile(np.arange(len(conformed)), 1_000_000 // len(conformed) + 1)[:1_000_000]
    big = conformed.take(rows)
    assert big["status"].dtype == conformed["status"].dtype
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        same = schema.conform(big)
        timings.append(time.perf_counter() - start)
    assert same is big
    assert min(timings) < 0.05


def test_categories_are_objects_whatever_the_partition() -> None:
    """Categories are object-dtype even for an empty column, so partitions concatenate."""
    empty = pd.Series(pd.Categorical.from_codes([-1, -1], categories=pd.Index([], dtype=float)))
    frames = [
        pd.DataFrame({"equation": empty, "unit": [None, None]}),
        pd.DataFrame({"equation": ["ckd_epi_2021_cr", None], "unit": ["mmol/L", ""]}),
    ]
    parts = [schema.conform(frame) for frame in frames]
    for part in parts:
        for column in ("equation", "unit"):
            assert part[column].cat.categories.dtype == object, column
    joined = pd.concat(parts, ignore_index=True)
    assert joined["unit"].tolist()[2] == "mmol/L" and joined["unit"].isna().sum() == 3


def test_interpret_passes_through_input_columns_it_cannot_cast() -> None:
    """A caller's column with text where the schema declares numbers comes back as given."""
    frame = pd.DataFrame(
        {
            "analyte": ["crp", "crp"],
            "raw_value": ["3", "4"],
            "raw_unit": ["mg/L", "mg/L"],
            "height_cm": ["110", "unknown"],
            "source_row": ["a", "b"],
        }
    )
    out = labinterp.interpret(frame, derive=False)
    assert out["height_cm"].tolist() == ["110", "unknown"]
    assert out["source_row"].tolist() == ["a", "b"]
    assert out["status"].tolist() == ["ok", "ok"]


def test_text_conversion_keeps_numbers_as_written() -> None:
    """Equal numbers written differently (9 and 9.0) stay apart when made text."""
    raw = pd.Series([9.0, 9, True, None], dtype=object)
    frame = pd.DataFrame({"analyte": ["crp"] * 4, "raw_value": raw, "raw_unit": ["mg/L"] * 4})
    conformed = schema.conform(frame, "results")  # text dtype: str (pandas 3), object before
    assert [str(v) for v in conformed["raw_value"].tolist()[:3]] == ["9.0", "9", "True"]
    assert pd.isna(conformed["raw_value"].iloc[3])
