"""The generated factor table (``data/unit_factors.csv``) is what pint gives, and is used.

:func:`labinterp.units.conversion` reads the factors between the alias table's units from
the table instead of building a pint registry; these tests regenerate the table with pint
and compare, and check that a conversion from the table is the one pint computes.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from importlib import resources
from types import ModuleType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labinterp import catalogue
from labinterp.errors import UnitError
from labinterp.models import AnalyteSpec
from labinterp.units import NormalisedUnit, conversion, normalise_unit, pint_conversion

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "unit_factors.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unit_factors", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spellings() -> list[str]:
    source = resources.files("labinterp") / "data" / "unit_aliases.csv"
    with source.open(encoding="utf-8") as handle:
        return [row["spelling"] for row in csv.DictReader(handle)]


SPELLINGS = _spellings()
ANALYTES = [None, *sorted(catalogue.analytes())]


def test_the_checked_in_table_is_what_pint_gives_now() -> None:
    script = _load_script()
    assert script.TABLE.read_text(encoding="utf-8") == script.table()


def _outcome(compute: object) -> tuple[str, object]:
    try:
        return "factor", compute()  # type: ignore[operator]
    except UnitError as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SPELLINGS),
    st.sampled_from(SPELLINGS),
    st.sampled_from(ANALYTES),
)
@example("iu/l", "ukat/l", "alp")  # an enzyme's IU/L is U/L (same_units), then µkat/L
def test_a_conversion_is_the_one_pint_computes(src: str, dst: str, analyte: str | None) -> None:
    """Every pair of alias spellings, with any analyte: the same factor or the same error."""
    spec = catalogue.analytes().get(analyte) if analyte else None
    if spec is not None and spec.scales:  # measurement scales are not pint conversions
        return
    by_table = _outcome(lambda: conversion(src, dst, analyte))
    by_pint = _outcome(lambda: pint_conversion(_read_as(src, spec), _read_as(dst, spec), analyte))
    assert by_table == by_pint


def _read_as(unit: str, spec: AnalyteSpec | None) -> NormalisedUnit:
    """Return the unit as the analyte reads it: ``same_units`` (IU/L is U/L for an enzyme)."""
    written = normalise_unit(unit)
    for same, meant in (spec.same_units if spec is not None else {}).items():
        if normalise_unit(same).pint == written.pint:
            return normalise_unit(meant)
    return written


@pytest.mark.parametrize(
    ("code", "pint_loaded"),
    [
        ("labinterp.convert(1.0, 'mg/dL', 'umol/L', analyte='creatinine')", False),
        ("labinterp.convert(48, 'mmol/mol', '%', analyte='hba1c')", False),
        ("labinterp.convert(1.0, 'mg/dL', 'mg/dL')", False),
        ("labinterp.convert(1.0, 'kg/m3', 'g/L')", True),  # not in the table: pint
    ],
)
def test_pint_is_imported_only_for_a_unit_outside_the_table(code: str, pint_loaded: bool) -> None:
    probe = f"import sys, labinterp\nprint({code})\nprint('pint' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[-1] == str(pint_loaded)


def test_a_table_made_from_other_data_files_is_not_used(monkeypatch) -> None:
    from labinterp import units

    assert units._factor_table()  # the shipped table matches the shipped data files
    units._factor_table.cache_clear()
    units.conversion.cache_clear()
    monkeypatch.setattr(units, "factor_sources_digest", lambda: "0" * 64)
    try:
        assert units._factor_table() == {}
        factor = units.conversion("mg/dL", "umol/L", "creatinine").scale
        expected = units.pint_conversion(
            units.normalise_unit("mg/dL"), units.normalise_unit("umol/L"), "creatinine"
        ).scale
        assert factor == expected
    finally:
        units._factor_table.cache_clear()
        units.conversion.cache_clear()
