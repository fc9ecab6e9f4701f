import math
import os
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labinterp import values as values_module
from labinterp.errors import ReasonCode
from labinterp.values import (
    _NUMBER,
    _THOUSANDS_LIKE,
    ParsedValue,
    _strip,
    infer_decimal,
    parse_value,
    parse_values,
)


@pytest.mark.parametrize(
    ("text", "comparator", "value"),
    [
        ("0,82", "", 0.82),
        ("0.82", "", 0.82),
        ("  12 ", "", 12.0),
        ("<5", "<", 5.0),
        ("< 5", "<", 5.0),
        ("> 90", ">", 90.0),
        (">=7", ">=", 7.0),
        ("<= 0,5", "<=", 0.5),
        ("≤0,5", "<=", 0.5),
        ("≥ 90", ">=", 90.0),
        ("-1,5", "", -1.5),
        (",5", "", 0.5),
        ("1234", "", 1234.0),
    ],
)
def test_numbers_and_comparators(text: str, comparator: str, value: float) -> None:
    """Decimal comma/point and every comparator spelling parse to the same number."""
    parsed = parse_value(text)
    assert (parsed.comparator, parsed.value, parsed.status) == (comparator, value, None)


@pytest.mark.parametrize("text", ["hemolysert", "se kommentar", "ikke utført", "see comment", "?7"])
def test_text_results_are_unparsed(text: str) -> None:
    """Text results get unparsed_value and no number."""
    parsed = parse_value(text)
    assert parsed.status is ReasonCode.UNPARSED_VALUE
    assert math.isnan(parsed.value)


@pytest.mark.parametrize("text", ["", "   ", None, float("nan")])
def test_blanks_are_unparsed(text: object) -> None:
    """A blank value is unparsed_value, not zero."""
    assert parse_value(text).status is ReasonCode.UNPARSED_VALUE


@pytest.mark.parametrize("text", ["1,234", "1.234", "12,500", "<1,000"])
def test_ambiguous_separator_is_never_guessed(text: str) -> None:
    """A single separator before exactly three digits could be thousands: it gets a status."""
    assert parse_value(text).status is ReasonCode.AMBIGUOUS_VALUE


def test_declared_decimal_resolves_ambiguity() -> None:
    """With the decimal separator declared, 1,234 is 1.234 and 1.234 is ambiguous."""
    assert parse_value("1,234", decimal=",").value == 1.234
    assert parse_value("1.234", decimal=",").status is ReasonCode.AMBIGUOUS_VALUE
    assert parse_value("1.234", decimal=".").value == 1.234


def test_thousands_grouping_is_unparsed() -> None:
    """Grouped thousands ('1 234', '1,234,567') are refused, never guessed."""
    assert parse_value("1 234").status is ReasonCode.UNPARSED_VALUE
    assert parse_value("1,234,567").status is ReasonCode.UNPARSED_VALUE


def test_infer_decimal_from_unambiguous_values() -> None:
    """A column whose unambiguous decimals all use a comma has a decimal comma."""
    assert infer_decimal(["0,71", "1,234", "hemolysert"]) == ","
    assert infer_decimal(["0.71", "1,234"]) == "."
    assert infer_decimal(["0.71", "0,5"]) == "auto"
    assert infer_decimal(["1,234", "12"]) == "auto"


def test_parse_values_keeps_index_and_length() -> None:
    """The vectorised parser returns one row per input, with the input's index."""
    raw = pd.Series(["0,71", None, "x", "0,71"], index=[10, 11, 12, 13])
    parsed = parse_values(raw)
    assert parsed.index.tolist() == [10, 11, 12, 13]
    assert parsed["value"].iloc[0] == 0.71 and parsed["value"].iloc[3] == 0.71
    assert parsed["status"].tolist()[1:3] == ["unparsed_value", "unparsed_value"]


VALUE_TEXT = st.one_of(
    st.text(alphabet="0123456789,. <>=≤≥+-abc٣\u00a0", max_size=9),
    st.from_regex(r"\A[0-9]{1,4}([.,][0-9]{1,3})?\Z"),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False),
)


def _assert_row_is(row: pd.Series, expected: ParsedValue) -> None:
    assert row["comparator"] == expected.comparator
    same_nan = np.isnan(row["value"]) and np.isnan(expected.value)
    assert row["value"] == expected.value or same_nan
    assert row["status"] == (expected.status.value if expected.status else None)
    assert row["problem"] == expected.problem


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.lists(VALUE_TEXT, min_size=0, max_size=150), st.sampled_from([None, "auto", ",", "."]))
def test_parse_values_equals_parse_value_on_each_value(values: list[object], decimal: Any) -> None:
    """The column-wise parse gives every value what parse_value gives it alone."""
    raw = pd.Series(values, dtype=object)
    used = infer_decimal(list(pd.unique(raw.dropna()))) if decimal is None else decimal
    # Column-wise from the first distinct value on, and at the default size.
    for threshold in (1, values_module._COLUMNWISE):
        with mock.patch.object(values_module, "_COLUMNWISE", threshold):
            table = parse_values(raw, decimal)
        for position, text in enumerate(values):
            _assert_row_is(table.iloc[position], parse_value(text, used))


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.lists(VALUE_TEXT, min_size=0, max_size=150))
def test_infer_decimal_column_wise_equals_one_by_one(values: list[object]) -> None:
    """Inferring the separator column-wise agrees with looking at each value in turn."""
    distinct = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    one_by_one = {
        "," if "," in m.group("num") else "."
        for v in distinct
        if (m := _NUMBER.match(_strip(v).replace(" ", ""))) is not None
        and not _THOUSANDS_LIKE.match(m.group("num"))
        and ("," in m.group("num") or "." in m.group("num"))
    }
    expected = one_by_one.pop() if len(one_by_one) == 1 else "auto"
    for threshold in (1, values_module._COLUMNWISE):
        with mock.patch.object(values_module, "_COLUMNWISE", threshold):
            assert infer_decimal(distinct) == expected


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.sampled_from(["float64", "Float64", "Int64", "int64"]), st.data())
def test_numeric_columns_parse_as_parse_value_parses_numbers(dtype: str, data: Any) -> None:
    """A numeric column gives each number what parse_value gives it (missing: unparsed)."""
    number = st.integers(-(10**9), 10**9) if "int" in dtype.lower() else st.floats()
    cells = st.one_of(number, st.none()) if dtype[0].isupper() else number
    raw = pd.Series(data.draw(st.lists(cells, max_size=50)), dtype=dtype)
    table = parse_values(raw)
    for position, cell in enumerate(raw.astype(object)):
        _assert_row_is(table.iloc[position], parse_value(None if pd.isna(cell) else cell))


@pytest.mark.parametrize(
    ("text", "comparator", "value"),
    [
        ("1.5E3", "", 1500.0),
        ("1,5e3", "", 1500.0),
        ("2.5e-7", "", 2.5e-7),
        ("< 1E2", "<", 100.0),
        ("1.234E3", "", 1234.0),  # a mantissa before an exponent is never thousands
        ("1E+400", "", math.inf),
        ("-1E+400", "", -math.inf),
        ("1E-400", "", 0.0),
        ("9" * 309, "", math.inf),  # beyond a float's range: an infinity, never an error
    ],
)
def test_exponents_and_overflow_parse(text: str, comparator: str, value: float) -> None:
    """Exponent notation is read; a number beyond a float's range becomes an infinity."""
    parsed = parse_value(text)
    assert (parsed.comparator, parsed.value, parsed.status) == (comparator, value, None)


def test_comma_mantissa_with_declared_point_is_still_refused() -> None:
    """'1,5E3' in a column declared to use decimal points is not guessed."""
    assert parse_value("1,5E3", decimal=".").status is ReasonCode.AMBIGUOUS_VALUE


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.integers(min_value=-(10**6000), max_value=10**6000))
def test_huge_ints_never_raise(number: int) -> None:
    """A Python int of any size parses (beyond a float's range: an infinity of its sign)."""
    parsed = parse_value(number)
    assert parsed.status is None
    try:
        expected = float(number)
    except OverflowError:
        expected = math.inf if number > 0 else -math.inf
    assert parsed.value == expected
    column = parse_values(pd.Series([number, None], dtype=object))
    assert column["value"].iloc[0] == parsed.value


def test_very_long_values_parse_in_linear_time() -> None:
    """Ten million digits (or exponent digits) parse at once, to an infinity."""
    assert parse_value("9" * 10_000_000).value == math.inf
    assert parse_value("1e" + "9" * 10_000_000).value == math.inf
