"""Shared fixtures and helpers for the labinterp tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VECTORS = Path(__file__).parent / "vectors"
DATA = Path(__file__).parent / "data"
EXAMPLES = ROOT / "examples"


def load_vectors(name: str) -> list[dict[str, str]]:
    """Read a published-vector CSV; every row must carry tag, source and locator."""
    with (VECTORS / name).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        assert row["tag"] in {"published", "derived", "regression"}
        assert row["source"] and row["locator"]
    return rows


def interpret_vector(row: dict[str, str], **extra: Any) -> Any:
    """Interpret a vector row (analyte, value, unit, sex, age, profile) as one result.

    An empty ``sex`` is no sex; ``extra`` goes to :func:`labinterp.interpret_one`
    (``scheme=`` ...).
    """
    import labinterp

    return labinterp.interpret_one(
        row["analyte"],
        row["value"],
        row["unit"],
        sex=row["sex"] or None,
        age_years=float(row["age"]),
        profile=row["profile"],
        **extra,
    )


def vector_id(row: dict[str, str]) -> str:
    """Return a readable pytest id naming the source of a vector row."""
    values = "/".join(v for k, v in row.items() if k not in {"tag", "source", "locator"})
    return f"{row['source']}:{values}"


@pytest.fixture
def nordic_example() -> Path:
    return EXAMPLES / "nordic_export.csv"


@pytest.fixture
def us_example() -> Path:
    return EXAMPLES / "us_export.csv"


def check_history_beyond_rcv(analyte: str, level: float) -> None:
    """Check that ``labinterp.history`` flags a change beyond the analyte's RCV, and no less.

    Two results a month apart, the first at ``level`` (catalogue unit): a rise of 1.5 x
    the RCV computed from the catalogue entry (z = 1.96) is significant, one of 0.5 x is
    not, so the check does not depend on a printed figure.
    """
    import pandas as pd

    import labinterp
    from labinterp.catalogue import analytes, biological_variation
    from labinterp.equations.variation import reference_change_value

    entry = biological_variation()[analyte]
    rcv = reference_change_value(entry.cva_pct, entry.cvi_pct)
    unit = analytes()[analyte].unit
    for multiple, expected in ((1.5, True), (0.5, False)):
        second_value = level * (1 + multiple * rcv / 100)
        data = pd.DataFrame(
            {
                "patient_id": ["p", "p"],
                "collected_at": ["2026-01-05", "2026-02-05"],
                "analyte": [analyte, analyte],
                "raw_value": [f"{level:.6g}", f"{second_value:.6g}"],
                "raw_unit": [unit, unit],
                "sex": ["F", "F"],
                "age_years": [45, 45],
            }
        )
        out = labinterp.interpret(data, derive=False, decimal=".")
        assert (out["status"] == "ok").all(), out["problem"].tolist()
        second = labinterp.history(out).iloc[1]
        assert second["history_note"] != "no_biological_variation", analyte
        assert second["rcv_pct"] == pytest.approx(rcv, abs=0.05)
        assert bool(second["significant_change"]) is expected, (analyte, multiple)


def check_printed_conversion(row: dict[str, str]) -> None:
    """Check a conversion vector to the digits its published equivalent is printed with."""
    import labinterp

    got = labinterp.convert(
        float(row["value"]), row["unit"], row["to_unit"], analyte=row["analyte"]
    )
    expected = row["expected"]
    decimals = len(expected.split(".")[1]) if "." in expected else 0
    assert round(got, decimals) == pytest.approx(float(expected))


def check_conversion_both_ways(row: dict[str, str]) -> None:
    """Check a conversion vector both ways: there within 0.02 %, and back to the value."""
    import labinterp

    value, analyte = float(row["value"]), row["analyte"]
    there = labinterp.convert(value, row["unit"], row["to_unit"], analyte=analyte)
    assert there == pytest.approx(float(row["expected"]), rel=2e-4)
    back = labinterp.convert(there, row["to_unit"], row["unit"], analyte=analyte)
    assert back == pytest.approx(value, rel=1e-9)
