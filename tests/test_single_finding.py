"""A finding of the single path is a complete, valid Finding (built without validation).

:func:`labinterp.steps.one.finding` copies a template with every field replaced instead
of validating; these tests hold that the result is what validation would give.
"""

from __future__ import annotations

from typing import Any

import pytest

import labinterp
from labinterp.models import Finding

NORDIC_PANEL = [
    {"analyte": "P-Magnesium", "value": "0,62", "unit": "mmol/L"},
    {"analyte": "P-Kreatinin", "value": "78", "unit": "µmol/L"},
    {"analyte": "B-HbA1c", "value": "44", "unit": "mmol/mol"},
    {"analyte": "P-Ferritin", "value": "12", "unit": "µg/L", "lab_flag": "H"},
    {"analyte": "S-25-OH-Vitamin D", "value": "38", "unit": "nmol/L"},
    {"analyte": "CRP", "value": "<3", "unit": "mg/L", "source_status": "preliminary"},
    {"analyte": "albumin", "value": "41", "unit": "g/L", "source_status": "W"},
    {"analyte": "Ukjent", "value": "abc", "unit": "furlong"},
    {"analyte": "hemoglobin", "value": "112", "unit": "g/L", "reference_text": "117-153"},
]


def _panel(**kwargs: Any) -> list[Finding]:
    return labinterp.interpret_panel(
        NORDIC_PANEL, sex="K", age_years=54, collected_at="2026-01-15", **kwargs
    )


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_panel_findings_equal_their_validated_copies(lang: str) -> None:
    findings = _panel(lang=lang)
    assert len(findings) == len(NORDIC_PANEL) + 1  # the derived eGFR
    for found in findings:
        assert found.model_fields_set == set(Finding.model_fields)
        assert Finding.model_validate(found.model_dump()) == found
        assert Finding.model_validate_json(found.model_dump_json()) == found


def test_one_finding_equals_its_validated_copy() -> None:
    found = labinterp.interpret_one("magnesium", "0,62", "mmol/L", sex="female", age_years=50)
    assert found.model_fields_set == set(Finding.model_fields)
    assert Finding.model_validate(found.model_dump()) == found


def test_findings_do_not_share_state() -> None:
    first, second = _panel()[:2]
    assert first.analyte != second.analyte
    assert first.model_fields_set is not second.model_fields_set
