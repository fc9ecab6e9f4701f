"""The cut-off placement's written-out tolerance is NumPy's ``isclose`` (steps/schemes.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from labinterp.steps import schemes


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_the_written_out_tolerance_is_numpys_isclose(a: float) -> None:
    with np.errstate(invalid="ignore"):
        assert bool(np.abs(a - 1.0) <= schemes._ATOL + schemes._RTOL) == bool(np.isclose(a, 1.0))
        assert bool(np.abs(a) <= schemes._ATOL) == bool(np.isclose(a, 0.0))
