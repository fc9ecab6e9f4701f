"""Safe outputs and privacy: formula injection, and no patient data in errors or logs."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import labinterp
from labinterp.cli import app
from labinterp.errors import LabinterpError
from labinterp.io.writers.safe import neutralise_formulas

PID = "SENTINEL-PID-90817"
VALUE = "77777.5"


def test_csv_output_neutralises_formulas(tmp_path: Path) -> None:
    """Text cells starting with = + - @ are quoted in CSV output; numbers are untouched."""
    source = tmp_path / "in.csv"
    source.write_text(
        "patient_id;Analyse;Resultat;Enhet;Alder\n"
        '=HYPERLINK("x");S-Magnesium;0,82;mmol/L;40\n'
        "@SUM(A1);S-Magnesium;-1,5;mmol/L;40\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert CliRunner().invoke(app, ["interpret", str(source), "-o", str(out)]).exit_code == 0
    written = pd.read_csv(out, dtype=str)
    assert written["patient_id"].tolist() == ['\'=HYPERLINK("x")', "'@SUM(A1)"]
    assert written["raw_value"].tolist() == ["0,82", "-1,5"]


@pytest.mark.parametrize("cell", ["=1", "+A1", "-A1", "@x", "\tcmd", "\rcmd"])
def test_every_trigger_is_neutralised(cell: str) -> None:
    """Every formula trigger of OWASP's CSV injection list is prefixed with a quote."""
    assert neutralise_formulas(pd.DataFrame({"c": [cell]}))["c"].iloc[0] == "'" + cell


def test_numeric_columns_are_untouched() -> None:
    """Negative numbers in numeric columns stay numbers."""
    frame = neutralise_formulas(pd.DataFrame({"v": [-1.5, 2.0]}))
    assert frame["v"].tolist() == [-1.5, 2.0]


def _error_paths(tmp_path: Path) -> list[BaseException]:
    errors: list[BaseException] = []
    attempts = [
        lambda: labinterp.read_csv(f"{PID};{VALUE}\n".encode()),
        lambda: labinterp.read_csv(f"Resultat;Pasient\n{VALUE};{PID};x;y\n".encode()),
        lambda: labinterp.read(b"\x00\x01" + PID.encode()),
        lambda: labinterp.read_fhir(('{"resourceType": "Observation", "id": "' + PID).encode()),
        lambda: labinterp.read_hl7(f"PID|{PID}|{VALUE}\r".encode()),
        lambda: labinterp.convert(float(VALUE), PID, "mmol/L"),
        lambda: labinterp.interpret(
            pd.DataFrame(
                {
                    "patient_id": [PID],
                    "analyte": ["magnesium"],
                    "raw_value": [VALUE],
                    "raw_unit": ["mmol/L"],
                }
            ),
            on_invalid="raise",
        ),
        lambda: labinterp.interpret_one(PID, VALUE, "mmol/L", lang=PID),
        lambda: labinterp.interpret(pd.DataFrame({"patient_id": [PID]})),
    ]
    for attempt in attempts:
        try:
            attempt()
        except (LabinterpError, ImportError) as exc:
            errors.append(exc)
    return errors


def test_no_patient_data_in_errors_warnings_or_logs(tmp_path: Path, caplog) -> None:
    """Sentinel identifiers and values never appear in exception messages, warnings or logs."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        errors = _error_paths(tmp_path)
    assert len(errors) >= 8
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    leaks = [t for t in texts if PID in t or VALUE in t]
    assert leaks == []


def test_cli_errors_carry_no_patient_data(tmp_path: Path) -> None:
    """The CLI's one-line errors name files and lines, not identifiers or values."""
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"Resultat;Analyse;Enhet;Pasient-ID\n{VALUE};S-Magnesium;mmol/X;{PID}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["interpret", str(bad), "--strict"])
    assert result.exit_code == 1
    assert PID not in result.output and VALUE not in result.output


@pytest.mark.parametrize("cell", ["=1", "+A1", "-A1", "@x", "\tcmd", "\rcmd"])
def test_every_trigger_is_neutralised_in_cli_text_columns(cell: str) -> None:
    """Arrow-backed text columns (as read from CSV) are quoted like any other text."""
    from labinterp.io.writers.csv import csv_column
    from labinterp.io.writers.safe import FORMULA_START

    assert re.match(FORMULA_START, cell)
    column = pd.Series([cell, "ok", None, "-1,5"], dtype="string[pyarrow]")
    assert csv_column(column).to_pylist() == ["'" + cell, "ok", None, "-1,5"]
    plain = pd.Series(["ok", None, "-1,5"], dtype="string[pyarrow]")
    assert csv_column(plain).to_pylist() == ["ok", None, "-1,5"]
