"""The benchmark's exports are read and interpreted as real ones are (bench/exports.py).

A benchmark must time real work: at least 99 % of an export's rows come back ``ok`` or
``derived``, every column is recognised, and the floor script flags the same rows.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import labinterp

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from exports import HEADERS, make_export  # noqa: E402


@pytest.mark.parametrize(("style", "profile"), [("nordic", "no"), ("us", "us")])
def test_export_is_interpreted_not_refused(tmp_path: Path, style: str, profile: str) -> None:
    path = make_export(tmp_path / f"{style}.csv", 3_000, style)
    raw = path.read_bytes()
    if style == "nordic":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # Latin-1, as Norwegian lab systems write it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # floating US times are named in a warning
        frame = labinterp.read_csv(path)
        result = labinterp.interpret(frame, profile=profile)
    source = pd.read_csv(
        path,
        sep=";" if style == "nordic" else ",",
        dtype=str,
        encoding="latin-1" if style == "nordic" else "utf-8",
    )
    assert list(source.columns) == HEADERS[style]
    assert len(source) >= 3_000
    assert (result["status"] != "derived").sum() == len(source)  # no row lost
    good = result["status"].isin(["ok", "derived"]).mean()
    assert good >= 0.99
    assert (result["status"] == "derived").sum() > 0  # creatinine gives an eGFR
    for field in (
        "patient_id",
        "sex",
        "birth_date",
        "collected_at",
        "source_code",
        "source_name",
        "raw_value",
        "raw_unit",
        "lab_reference_text",
        "lab_flag",
    ):
        assert frame[field].notna().any(), field
    assert frame["age_years"].notna().all()  # from the birth date and the collection time


def test_same_seed_same_file(tmp_path: Path) -> None:
    first = make_export(tmp_path / "a.csv", 2_000, "us").read_bytes()
    again = make_export(tmp_path / "b.csv", 2_000, "us").read_bytes()
    other = make_export(tmp_path / "c.csv", 2_000, "us", seed=1).read_bytes()
    assert first == again
    assert first != other


@pytest.mark.parametrize("style", ["nordic", "us"])
def test_floor_script_flags_every_row(tmp_path: Path, style: str) -> None:
    pytest.importorskip("polars")
    path = make_export(tmp_path / f"{style}.csv", 2_000, style)
    out = tmp_path / "floor.parquet"
    done = subprocess.run(
        [sys.executable, str(BENCH / "floor.py"), "polars", style, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = int(done.stdout)
    floor = pd.read_parquet(out)
    numbers = floor["value"].notna().sum()
    assert (
        rows
        == len(floor)
        == len(
            pd.read_csv(path, sep=";" if style == "nordic" else ",", encoding="latin-1", dtype=str)
        )
    )
    assert numbers > 0.9 * rows
    assert set(floor["computed_flag"].dropna()) <= {"L", "N", "H"}
