import math

import numpy as np
import pytest

from labinterp.range_text import LabRange, parse_range_text
from labinterp.steps.flags import flags

INF = math.inf


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,71 - 0,94", LabRange(0.71, 0.94, True, True)),
        ("0.71-0.94", LabRange(0.71, 0.94, True, True)),
        ("60     - 105", LabRange(60, 105, True, True)),
        ("60 - ", LabRange(60, INF, True, True)),
        ("- 5", LabRange(-INF, 5, True, True)),
        ("< 5", LabRange(-INF, 5, True, False)),
        ("<= 5", LabRange(-INF, 5, True, True)),
        (">90", LabRange(90, INF, False, True)),
        (">=90", LabRange(90, INF, True, True)),
        ("70_105", LabRange(70, 105, True, True)),
        ("0.71-0.94 mmol/L", LabRange(0.71, 0.94, True, True, "mmol/L")),
    ],
)
def test_lab_range_texts(text: str, expected: LabRange) -> None:
    """Lab range texts as Nordic and US labs write them parse to bounds and inclusivity."""
    assert parse_range_text(text) == expected


@pytest.mark.parametrize("text", ["", "x", "0-2-7.2", ">2-7.2", "5 - 1", None])
def test_unreadable_range_texts(text: object) -> None:
    """Malformed or reversed ranges are not read (the catalogue is used instead)."""
    assert parse_range_text(text) is None


def _flag(
    value: float,
    comparator: str = "",
    low: float = 0.71,
    high: float = 0.94,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    critical_low: float = math.nan,
    critical_high: float = math.nan,
) -> tuple[str, bool]:
    result = flags(
        np.array([value]),
        np.array([comparator], dtype=object),
        np.array([low]),
        np.array([high]),
        np.array([low_inclusive]),
        np.array([high_inclusive]),
        np.array([critical_low]),
        np.array([critical_high]),
    )
    return str(result.flag[0]), bool(result.indeterminate[0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.70, "L"),
        (0.71, "N"),
        (0.94, "N"),
        (0.95, "H"),
        (0.50, "L"),
        (0.49, "LL"),
        (2.00, "H"),
        (2.01, "HH"),
    ],
)
def test_flags_at_every_boundary(value: float, expected: str) -> None:
    """Inclusive range limits are normal; critical limits are strict (NORIP Mg with 0.50/2.00)."""
    assert _flag(value, critical_low=0.50, critical_high=2.00) == (expected, False)


def test_exclusive_limits() -> None:
    """A range printed '>60' makes 60 itself low; '<5' makes 5 itself high."""
    assert _flag(60, low=60, high=INF, low_inclusive=False) == ("L", False)
    assert _flag(60.1, low=60, high=INF, low_inclusive=False) == ("N", False)
    assert _flag(5, low=-INF, high=5, high_inclusive=False) == ("H", False)


@pytest.mark.parametrize(
    ("value", "comparator", "low", "high", "expected"),
    [
        (5, "<", 15, INF, ("L", False)),  # <5 against a lower limit of 15 is low
        (90, ">", 60, INF, ("N", False)),  # >90 against a lower limit of 60 is normal
        (0.5, "<", 0.3, 1.0, ("", True)),  # <0.5 against 0.3-1.0 cannot be decided
        (0.3, "<", 0.3, 1.0, ("L", False)),  # every value below 0.3 is low
        (0.3, "<=", 0.3, 1.0, ("", True)),  # 0.3 itself is normal, below is low
        (1.0, ">", 0.3, 1.0, ("H", False)),
        (1.0, ">=", 0.3, 1.0, ("", True)),
        (60, ">", 60, INF, ("N", False)),
    ],
)
def test_censored_values(
    value: float, comparator: str, low: float, high: float, expected: tuple[str, bool]
) -> None:
    """A censored value is flagged only when every value it stands for has that flag."""
    assert _flag(value, comparator, low, high) == expected


def test_censored_value_straddling_a_critical_limit() -> None:
    """'<0.6' under a 0.71 lower limit and a 0.50 critical limit is low, criticality undecided."""
    assert _flag(0.6, "<", critical_low=0.50) == ("L", True)
    assert _flag(0.4, "<", critical_low=0.50) == ("LL", False)


def test_no_range_no_flag() -> None:
    """Without any limit there is no flag, never 'N'."""
    assert _flag(1.0, low=math.nan, high=math.nan) == ("", False)
