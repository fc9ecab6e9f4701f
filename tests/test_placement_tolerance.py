"""Cut-off placement (steps/schemes.py): the scalar twin equals the array version.

The written-out tolerance is NumPy's ``isclose``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labinterp import catalogue
from labinterp.steps import schemes
from labinterp.units import Affine


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_the_written_out_tolerance_is_numpys_isclose(a: float) -> None:
    with np.errstate(invalid="ignore"):
        assert bool(np.abs(a - 1.0) <= schemes._ATOL + schemes._RTOL) == bool(np.isclose(a, 1.0))
        assert bool(np.abs(a) <= schemes._ATOL) == bool(np.isclose(a, 0.0))


@given(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)
)
def test_no_conversion_is_numpys_isclose_on_floats_and_arrays(scale: float, offset: float) -> None:
    expected = bool(np.isclose(scale, 1.0) and np.isclose(offset, 0.0))
    with np.errstate(invalid="ignore", over="ignore"):
        one = schemes._composed(scale, offset, Affine(1.0))[2]
        many = schemes._composed(np.array([scale]), np.array([offset]), Affine(1.0))[2]
    assert bool(one) == expected
    assert bool(many[0]) == expected


SCHEMES = sorted(catalogue.schemes())
UNITS = sorted({u for p in catalogue.profiles().values() for u in p.units.values()})


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(SCHEMES),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 500)),
    scale=st.sampled_from([1.0, 1.0 + 5e-6, 1.0 + 2e-5, 0.0885, 88.4, 2.496, 10.0, math.nan]),
    offset=st.sampled_from([0.0, 5e-9, 2e-8, -2.15, math.nan]),
    age=st.one_of(st.just(math.nan), st.floats(0, 125)),
    reporting=st.one_of(st.none(), st.sampled_from(UNITS)),
)
@example(  # a value that overflows to inf when converted: a result, not a warning
    name="Ferritin_WHO2020",
    value=1.797693134862316e302,
    scale=1.0,
    offset=0.0,
    age=math.nan,
    reporting="g/L",
)
def test_placement_one_equals_placement(
    name: str, value: float, scale: float, offset: float, age: float, reporting: str | None
) -> None:
    scheme = catalogue.schemes()[name]
    which, x = schemes._placement(
        scheme,
        np.array([value]),
        scale=np.array([scale]),
        offset=np.array([offset]),
        age=np.array([age]),
        reporting=reporting,
    )
    one_which, one_x = schemes._placement_one(
        scheme, value, scale=scale, offset=offset, age=age, reporting=reporting
    )
    assert one_which == int(which[0])
    if one_which >= 0:
        assert one_x == x[0] or (math.isnan(one_x) and math.isnan(x[0]))
