"""The eGFR equations give the same numbers for Measured values as for pint Quantities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labinterp.equations.egfr import EQUATIONS
from labinterp.equations.egfr.inputs import Measured
from labinterp.units import unit_registry

#: Units as the engine writes them (the alias table's pint spellings) and in pint.
CREATININE = ["umol/L", "mg/dL"]
CYSTATIN_C = ["mg/L"]


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(EQUATIONS)),
    creatinine=st.floats(0.2, 15.0),
    unit=st.sampled_from(CREATININE),
    cystatin_c=st.floats(0.3, 6.0),
    age=st.floats(18, 100),
    sex=st.sampled_from(["female", "male"]),
)
def test_measured_equals_quantity(
    name: str, creatinine: float, unit: str, cystatin_c: float, age: float, sex: str
) -> None:
    equation = EQUATIONS[name]
    ureg = unit_registry()
    value = creatinine * (88.42 if unit == "umol/L" else 1.0)
    given = {
        "age_years": np.array([age]),
        "sex": np.array([sex], dtype=object),
        "height_cm": np.array([80 + age]),
        "weight_kg": np.array([40 + age / 2]),
    }
    arguments = {k: v for k, v in given.items() if k in equation.inputs}
    measured, quantity = dict(arguments), dict(arguments)
    if "creatinine" in equation.inputs:
        measured["creatinine"] = Measured(np.array([value]), unit)
        quantity["creatinine"] = ureg.Quantity(np.array([value]), unit)
    if "cystatin_c" in equation.inputs:
        measured["cystatin_c"] = Measured(np.array([cystatin_c]), "mg/L")
        quantity["cystatin_c"] = ureg.Quantity(np.array([cystatin_c]), "mg/L")
    plain = equation(**measured)
    pinted = equation(**quantity)
    assert isinstance(plain, Measured)
    assert plain.unit in ("mL/min/_1_73_m2", "mL/min")
    assert str(pinted.units) == str(ureg.Unit(plain.unit))
    np.testing.assert_array_equal(plain.magnitude, pinted.magnitude)


def test_a_measured_value_in_an_unknown_unit_is_refused() -> None:
    with pytest.raises(Exception, match="unit"):
        EQUATIONS["egfr_ckd_epi_2021_cr"](
            creatinine=Measured(np.array([80.0]), "furlong"), age_years=50, sex="female"
        )
