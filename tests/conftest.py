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
