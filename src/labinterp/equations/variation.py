r"""Reference change values: whether a change between two results is more than noise.

Two results from the same person differ even when nothing has changed, because
the measurement scatters (analytical CV, CVA) and so does the person's own level
around its set point (within-subject biological CV, CVI). The reference change
value (RCV) is the smallest relative difference between two consecutive results
that those two sources alone would exceed with the chosen probability.

Two published forms are implemented as separate functions:

* :func:`reference_change_value`, the classical symmetric RCV
  (Fraser & Harris 1989; Fraser 2012), one threshold for a rise and a fall;
* :func:`reference_change_value_lognormal`, the log-normal (asymmetric) RCV
  (Fokkema et al. 2006), a larger threshold for a rise than for a fall.

Inputs are percentages (``2.5`` for 2.5 %), outputs are percentages of the
first result. Both functions are vectorised: a scalar gives a float, an array an
array and a Series a float64 Series with the same index; Series arguments must
share one index. A missing CV (NaN) gives NaN; a negative CV raises.

Per-analyte default CVI and CVA values, with their sources, are shipped in
``labinterp/data/biological_variation.toml``; a laboratory should replace the
default CVA with its own long-term analytical CV.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.series import shared_index
from labinterp.errors import InvalidResultError

__all__ = [
    "Z_95_TWO_SIDED",
    "reference_change_value",
    "reference_change_value_lognormal",
]

_Floats = npt.NDArray[np.float64]

#: Standard normal quantile for a two-sided 95 % probability, the Z used for the
#: bidirectional RCV (FraserHarris1989; Fraser2012). Use 1.65 for a one-sided 95 %
#: RCV when only a change in one stated direction is of interest.
Z_95_TWO_SIDED: Final = 1.96

#: Two results each carry the full variance, so the SD of their difference is
#: sqrt(2) times the SD of one result (FraserHarris1989).
_SQRT_2: Final = math.sqrt(2.0)


class _Inputs:
    """Validate the CV arguments, remember a Series index and build the output."""

    def __init__(self) -> None:
        self.index: pd.Index | None = None

    def cv(self, value: Any, field: str) -> _Floats:
        """Return a CV argument [%] as floats; raise for non-numbers and negatives."""
        problem = f"{field} must be a number, an array of numbers or a Series of numbers [%]."
        if isinstance(value, pd.Series):
            self.index = shared_index(value, index=self.index, field=field)
            if not pd.api.types.is_numeric_dtype(value) or pd.api.types.is_bool_dtype(value):
                raise InvalidResultError(problem, field=field)
            array = value.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raw = np.asarray(value)
            if raw.dtype.kind not in "iuf":
                raise InvalidResultError(problem, field=field)
            array = raw.astype(np.float64)
        negative = np.flatnonzero(np.atleast_1d(array) < 0)
        if negative.size:
            raise InvalidResultError(
                f"{field} must be zero or positive: a coefficient of variation "
                "cannot be negative. Give it in percent, for example 2.5 for 2.5 %.",
                field=field,
                row=int(negative[0]) if array.ndim else None,
            )
        return array

    @staticmethod
    def z(value: Any) -> float:
        """Return Z as a float; it must be a positive finite number."""
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidResultError(
                "z must be a single positive number, for example 1.96 (two-sided 95 %).",
                field="z",
            ) from exc
        if not math.isfinite(number) or number <= 0:
            raise InvalidResultError(
                "z must be a single positive number, for example 1.96 (two-sided 95 %).",
                field="z",
            )
        return number

    def combine(self, cva: _Floats, cvi: _Floats) -> _Floats:
        """Broadcast CVA and CVI against each other (and the Series length)."""
        try:
            a, i = np.broadcast_arrays(cva, cvi)
        except ValueError as exc:
            raise InvalidResultError(
                "cva_pct and cvi_pct have different lengths; give arrays and Series "
                "of one length (a scalar is repeated)."
            ) from exc
        if self.index is not None and a.shape != (len(self.index),):
            raise InvalidResultError(
                "cva_pct and cvi_pct have different lengths; give arrays and Series "
                "of one length (a scalar is repeated)."
            )
        return np.asarray(np.hypot(a, i), dtype=np.float64)

    def out(self, values: _Floats, name: str) -> Any:
        """Return a float, an array or a Series named ``name``, like the input."""
        if self.index is not None:
            return pd.Series(values, index=self.index, name=name, dtype="float64")
        if values.ndim == 0:
            return float(values)
        return values


def reference_change_value(cva_pct: Any, cvi_pct: Any, z: float = Z_95_TWO_SIDED) -> Any:
    r"""Symmetric reference change value (RCV) of two consecutive results.

    .. math::

        \mathrm{RCV} = \sqrt{2} \cdot Z \cdot \sqrt{\mathrm{CV_A}^2 + \mathrm{CV_I}^2}

    A difference between two results of the same analyte in the same person,
    expressed as a percentage of the first, is significant at the chosen
    probability when its absolute value exceeds the RCV.

    Parameters
    ----------
    cva_pct
        Analytical coefficient of variation, CVA [%], scalar, array or Series.
        Use the laboratory's own long-term CV where it is known.
    cvi_pct
        Within-subject biological coefficient of variation, CVI [%].
    z
        Standard normal quantile [-]: 1.96 for a two-sided 95 % probability
        (default), 1.65 for one-sided 95 %. Norwegian laboratories that print
        "kritisk differanse" as 2.8 × CVT use ``z = 2.8 / sqrt(2)``.

    Returns
    -------
    Same kind as the input
        RCV [%], the same for a rise and a fall; a Series keeps its index.

    Raises
    ------
    InvalidResultError
        A CV is negative or not a number, Series have different indexes, or
        ``z`` is not a positive number.

    References
    ----------
    FraserHarris1989; Fraser2012.

    Examples
    --------
    >>> round(reference_change_value(1.3, 4.5), 2)
    12.98
    >>> round(reference_change_value(1.3, 4.5, z=2.8 / 2**0.5), 1)
    13.1
    """
    inputs = _Inputs()
    cva = inputs.cv(cva_pct, "cva_pct")
    cvi = inputs.cv(cvi_pct, "cvi_pct")
    factor = _SQRT_2 * inputs.z(z)
    return inputs.out(factor * inputs.combine(cva, cvi), "rcv_pct")


def reference_change_value_lognormal(
    cva_pct: Any, cvi_pct: Any, z: float = Z_95_TWO_SIDED
) -> tuple[Any, Any]:
    r"""Log-normal (asymmetric) reference change values for a rise and a fall.

    .. math::

        \mathrm{CV_T}^2 &= \mathrm{CV_A}^2 + \mathrm{CV_I}^2
            \quad \text{(as fractions)} \\
        \sigma &= \sqrt{\ln\left(\mathrm{CV_T}^2 + 1\right)} \\
        \mathrm{RCV_{up}} &= \exp\left(+Z \sqrt{2}\, \sigma\right) - 1 \\
        \mathrm{RCV_{down}} &= \exp\left(-Z \sqrt{2}\, \sigma\right) - 1

    Treating the results as log-normal makes the threshold for a rise larger than
    the symmetric RCV and the threshold for a fall smaller in magnitude, with
    :math:`(1 + \mathrm{RCV_{up}})(1 + \mathrm{RCV_{down}}) = 1`: a rise of
    43 % and a fall of 30 % are the same distance on the log scale.

    Parameters
    ----------
    cva_pct
        Analytical coefficient of variation, CVA [%], scalar, array or Series.
    cvi_pct
        Within-subject biological coefficient of variation, CVI [%].
    z
        Standard normal quantile [-], 1.96 (two-sided 95 %) by default.

    Returns
    -------
    tuple of (up, down), each the same kind as the input
        ``up`` [%] is positive and ``down`` [%] negative: a change is significant
        when it is above ``up`` or below ``down``. Series keep their index.

    Raises
    ------
    InvalidResultError
        A CV is negative or not a number, Series have different indexes, or
        ``z`` is not a positive number.

    References
    ----------
    Fokkema2006 (the formula as restated in secondary sources; the letter itself
    was not read, see docs/equations/variation.md).

    Examples
    --------
    >>> up, down = reference_change_value_lognormal(2.5, 12.8)
    >>> round(up, 1), round(down, 1)
    (43.3, -30.2)
    """
    inputs = _Inputs()
    cva = inputs.cv(cva_pct, "cva_pct")
    cvi = inputs.cv(cvi_pct, "cvi_pct")
    factor = _SQRT_2 * inputs.z(z)
    cvt = inputs.combine(cva, cvi) / 100.0
    sigma = np.sqrt(np.log1p(cvt * cvt))
    up = 100.0 * np.expm1(factor * sigma)
    down = 100.0 * np.expm1(-factor * sigma)
    return inputs.out(up, "rcv_up_pct"), inputs.out(down, "rcv_down_pct")
