"""Shared pieces of the eGFR equation modules: input handling, output units, coefficients.

For the modules of :mod:`labinterp.equations.egfr` only; not part of the public API.
:class:`Batch` reads one call's inputs (lab values as pint Quantities or
:class:`Measured` values, converted to the unit an equation needs; plain numbers; sex
codes), remembers a Series index, broadcasts and builds the result. The engine passes
:class:`Measured` values, converted through the factor table of
:func:`labinterp.units.conversion`, so a run builds no pint registry (about 0.2 s of
every process); a caller's pint Quantities are read as before. :class:`SexSpecific`
holds a coefficient with one value per sex; :func:`spline` is the two-slope term of
CKD-EPI and EKFC.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.series import shared_index
from labinterp.errors import InvalidResultError, UnitError, UnitsRequiredError
from labinterp.units import conversion, is_quantity, unit_registry
from labinterp.vocab import Sex

if TYPE_CHECKING:
    #: The pint unit of :data:`EGFR_PINT` (module ``__getattr__``, built on first use).
    EGFR_UNIT: Any
    #: The pint unit of :data:`CRCL_PINT` (module ``__getattr__``, built on first use).
    CRCL_UNIT: Any

__all__ = [
    "CRCL_DISPLAY",
    "CRCL_PINT",
    "CRCL_UNIT",
    "EGFR_DISPLAY",
    "EGFR_PINT",
    "EGFR_UNIT",
    "Batch",
    "Bools",
    "Floats",
    "Measured",
    "SexSpecific",
    "spline",
]

#: Float array, the type every equation term is computed in.
Floats = npt.NDArray[np.float64]
#: Boolean array (for example, where the sex is female).
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SexSpecific:
    """A coefficient with one value for women and one for men."""

    female: float
    male: float

    def pick(self, female: Bools) -> Floats:
        """Return the female or male value element-wise."""
        return np.where(female, self.female, self.male).astype(np.float64)


@dataclass(frozen=True, slots=True)
class Measured:
    """Lab values with their unit as text (a unit of the alias table), without pint.

    The equations take it where they take a pint Quantity and then return one too:
    ``magnitude`` in the ``unit`` of the result.
    """

    magnitude: Any
    unit: str


#: Unit of body-surface-normalised GFR (standard_body_surface = 1.73 m², units.txt), as
#: pint writes it; :data:`EGFR_UNIT` is the pint unit.
EGFR_PINT: Final = "mL/min/_1_73_m2"
#: Unit of the Cockcroft–Gault creatinine clearance (absolute, not normalised).
CRCL_PINT: Final = "mL/min"
EGFR_DISPLAY: Final = "mL/min/1.73m²"
CRCL_DISPLAY: Final = "mL/min"


def __getattr__(name: str) -> Any:
    """Give :data:`EGFR_UNIT` and :data:`CRCL_UNIT`, pint units built on first use."""
    if name == "EGFR_UNIT":
        return _pint_unit(EGFR_PINT)
    if name == "CRCL_UNIT":
        return _pint_unit(CRCL_PINT)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# Input handling


class Batch:
    """Collect inputs, remember a Series index, broadcast, and build the result."""

    def __init__(self) -> None:
        self.index: pd.Index | None = None
        #: Whether a lab value came as :class:`Measured` (the result is one then).
        self.measured = False

    def _keep_index(self, value: pd.Series[Any], field: str) -> None:
        self.index = shared_index(value, index=self.index, field=field)

    def lab_value(self, value: Any, *, field: str, unit: str, analyte: str) -> Floats:
        """Return the magnitude of a lab-value Quantity converted to ``unit``."""
        example = _EXAMPLE_UNIT.get(field, unit)
        if isinstance(value, Measured):
            self.measured = True
            written = value.unit
            magnitude = value.magnitude
        elif not is_quantity(value) or _dimensionless(value.units):
            hint = (
                f" pint cannot hold a pandas Series: pass "
                f"labinterp.ureg.Quantity(column.to_numpy(), {example!r}) and give the other "
                "arguments as Series to keep the index."
                if isinstance(value, pd.Series)
                else ""
            )
            raise UnitsRequiredError(
                f"{field} needs a unit: pass a pint Quantity, for example "
                f"88 * labinterp.ureg({example!r}).{hint}",
                field=field,
            )
        else:
            written, magnitude = _unit_text(value.units), value.magnitude
        try:
            factor = conversion(written, unit, analyte)
        except UnitError as exc:
            raise type(exc)(
                f"{field}: {exc.message} Give it as a concentration such as {example}.",
                field=field,
                reason=exc.reason,
            ) from exc
        return np.asarray(factor(np.asarray(magnitude, dtype=np.float64)), np.float64)

    def number(self, value: Any, *, field: str, unit: str) -> Floats:
        """Return a plain number (or a Quantity converted to ``unit``) as floats."""
        if is_quantity(value):
            return np.asarray(value.to(unit).magnitude, dtype=np.float64)
        problem = f"{field} must be a number, an array of numbers or a Series of numbers."
        if isinstance(value, pd.Series):
            self._keep_index(value, field)
            if value.dtype.kind not in "biuf" and not pd.api.types.is_numeric_dtype(value):
                raise InvalidResultError(problem, field=field)
            return value.to_numpy(dtype=np.float64, na_value=np.nan)
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise InvalidResultError(problem, field=field)
        return array.astype(np.float64)

    def female(self, value: Any) -> Bools:
        """Return True where sex is female; raise for anything not unambiguous."""
        if isinstance(value, pd.Series):
            self._keep_index(value, "sex")
            values: Any = value.to_numpy(dtype=object)
        elif isinstance(value, (list, tuple, np.ndarray)):
            values = np.asarray(value, dtype=object)
        else:
            parsed = Sex.parse(value)
            if parsed is None:
                raise InvalidResultError(_SEX_PROBLEM, field="sex")
            return np.asarray(parsed is Sex.FEMALE)
        if values.size < 64:  # a panel's few rows: no hashing set-up (~10 µs)
            flat = values.ravel().tolist()
            seen = list(dict.fromkeys(flat))
            position = {item: i for i, item in enumerate(seen)}
            codes = np.array([position[item] for item in flat], dtype=np.int64)
            uniques = np.array(seen, dtype=object)
        else:
            codes, uniques = pd.factorize(values.ravel(), use_na_sentinel=True)
        lookup = [Sex.parse(item) for item in uniques]
        bad = [i for i, parsed in enumerate(lookup) if parsed is None]
        if (codes < 0).any() or bad:
            first = int(np.flatnonzero((codes < 0) | np.isin(codes, bad))[0])
            raise InvalidResultError(_SEX_PROBLEM, field="sex", row=first)
        is_female = np.asarray([parsed is Sex.FEMALE for parsed in lookup], dtype=bool)
        return np.asarray(is_female[codes].reshape(values.shape), dtype=bool)

    def broadcast(self, *arrays: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        """Broadcast the inputs against each other (and the Series length)."""
        try:
            out = list(np.broadcast_arrays(*arrays))
        except ValueError as exc:
            raise InvalidResultError(
                "The inputs have different lengths; give arrays and Series of one length "
                "(scalars are repeated)."
            ) from exc
        if self.index is not None and out[0].shape != (len(self.index),):
            raise InvalidResultError(
                "The inputs have different lengths; give arrays and Series of one length "
                "(scalars are repeated)."
            )
        return out

    def result(self, values: Floats, *, unit: str, display: str, name: str) -> Any:
        """Return the result in ``unit`` (pint's spelling).

        A float64 Series for Series input, else a Quantity, or :class:`Measured` when the
        lab values came as :class:`Measured`.
        """
        if self.index is not None:
            series = pd.Series(np.asarray(values, dtype=np.float64), index=self.index, name=name)
            series.attrs["unit"] = display
            return series
        magnitude = float(values) if np.ndim(values) == 0 else np.asarray(values, np.float64)
        if self.measured:
            return Measured(magnitude, unit)
        return unit_registry().Quantity(magnitude, _pint_unit(unit))

    def creatinine_mg_dl(self, creatinine: Any) -> Floats:
        """Return creatinine [mg/dL] (CKD-EPI, MDRD, Schwartz, Cockcroft-Gault)."""
        return self.lab_value(creatinine, field="creatinine", unit="mg/dL", analyte="creatinine")

    def creatinine_umol_l(self, creatinine: Any) -> Floats:
        """Return creatinine [µmol/L] (EKFC, Lund-Malmö: their native unit)."""
        return self.lab_value(creatinine, field="creatinine", unit="umol/L", analyte="creatinine")

    def cystatin_mg_l(self, cystatin_c: Any) -> Floats:
        """Return cystatin C [mg/L]."""
        return self.lab_value(cystatin_c, field="cystatin_c", unit="mg/L", analyte="cystatin_c")

    def age(self, age_years: Any) -> Floats:
        """Return age [years] as floats."""
        return self.number(age_years, field="age_years", unit="year")


_EXAMPLE_UNIT: Final = {"creatinine": "umol/L", "cystatin_c": "mg/L"}
_SEX_PROBLEM: Final = (
    "sex is not recognised; pass labinterp.Sex.FEMALE or labinterp.Sex.MALE, or an "
    "unambiguous code such as 'female', 'male', 'F', 'M' or 'K'."
)


def spline(ratio: Floats, alpha: Any, beta: Any) -> Floats:
    """Return min(ratio, 1)^alpha x max(ratio, 1)^beta (the CKD-EPI/EKFC two-slope term)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.minimum(ratio, 1.0) ** alpha * np.maximum(ratio, 1.0) ** beta, dtype=np.float64
        )


@lru_cache(maxsize=64)
def _unit_text(units: Any) -> str:
    """Return a pint unit as text, formatted once per unit."""
    return f"{units:D}"


@lru_cache(maxsize=64)
def _dimensionless(units: Any) -> bool:
    """Return whether a pint unit is dimensionless, worked out once per unit."""
    return bool(unit_registry().Quantity(1.0, units).dimensionless)


@lru_cache(maxsize=8)
def _pint_unit(text: str) -> Any:
    """Return the pint unit of a unit written as pint reads it, parsed once."""
    return unit_registry().Unit(text)
