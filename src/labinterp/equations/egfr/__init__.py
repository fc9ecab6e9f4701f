r"""Estimated GFR and creatinine clearance: one function per published equation, one registry.

The equations live in one module per family (:mod:`~labinterp.equations.egfr.ckd_epi`,
:mod:`~labinterp.equations.egfr.ekfc`, :mod:`~labinterp.equations.egfr.lund_malmo`,
:mod:`~labinterp.equations.egfr.mdrd`, :mod:`~labinterp.equations.egfr.paediatric`,
:mod:`~labinterp.equations.egfr.cockcroft_gault`); every function is importable from
here. :data:`EQUATIONS` is the registry: who each equation applies to (age band,
inputs, steady state), its output unit and its sources, keyed by function name.

Every function takes its lab values as pint Quantities from :data:`labinterp.ureg`
(creatinine in any concentration unit, cystatin C in any mass concentration unit)
and returns a Quantity in mL/min/1.73 m² (``ureg("mL/min/_1_73_m2")``); the
Cockcroft–Gault creatinine clearance is in mL/min and is not normalised to body
surface area. Other numbers carry their unit in their name (``age_years``,
``height_cm``, ``weight_kg``). ``sex`` is a :class:`labinterp.Sex` or an
unambiguous code (``"female"``, ``"M"``, ``"K"``, ...); an unknown sex raises.

Vectorised: scalars, NumPy arrays and pandas Series may be mixed. pint cannot
wrap a pandas Series (it treats Series as an "upcast" type), so a column of lab
values is passed as ``ureg.Quantity(column.to_numpy(), "umol/L")`` and the
other inputs as Series. The result is a Quantity for scalar or array input; when
any input is a Series the result is a float64 Series with that index, values in
the output unit, the unit recorded in ``Series.attrs["unit"]`` and the function
name as the Series name.

No race coefficient is implemented. CKD-EPI 2009, CKD-EPI 2012 and the MDRD
Study equation were published with a factor for Black race (1.159, 1.08 and
1.212); labinterp deliberately has no race parameter and always computes the
value without it, as Nordic laboratories report CKD-EPI 2009 and as the 2021
CKD-EPI refit does (Inker2021).

Who an equation applies to is declared in :data:`EQUATIONS` and checked by the
caller (:meth:`Equation.applies_at`); the equations compute for any input and
never turn an out-of-range age into NaN themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from labinterp.equations.egfr import inputs
from labinterp.equations.egfr.ckd_epi import (
    egfr_ckd_epi_2009_cr,
    egfr_ckd_epi_2012_cr_cys,
    egfr_ckd_epi_2012_cys,
    egfr_ckd_epi_2021_cr,
    egfr_ckd_epi_2021_cr_cys,
)
from labinterp.equations.egfr.cockcroft_gault import crcl_cockcroft_gault
from labinterp.equations.egfr.ekfc import egfr_ekfc_cr, ekfc_q
from labinterp.equations.egfr.inputs import (
    CRCL_DISPLAY,
    EGFR_DISPLAY,
    SexSpecific,
)
from labinterp.equations.egfr.lund_malmo import egfr_lund_malmo_revised
from labinterp.equations.egfr.mdrd import egfr_mdrd_idms
from labinterp.equations.egfr.paediatric import egfr_schwartz_bedside
from labinterp.errors import CatalogueError

if TYPE_CHECKING:
    from labinterp.equations.egfr.inputs import CRCL_UNIT, EGFR_UNIT

__all__ = [
    "CRCL_UNIT",
    "EGFR_UNIT",
    "EQUATIONS",
    "Equation",
    "SexSpecific",
    "crcl_cockcroft_gault",
    "egfr_ckd_epi_2009_cr",
    "egfr_ckd_epi_2012_cr_cys",
    "egfr_ckd_epi_2012_cys",
    "egfr_ckd_epi_2021_cr",
    "egfr_ckd_epi_2021_cr_cys",
    "egfr_ekfc_cr",
    "egfr_lund_malmo_revised",
    "egfr_mdrd_idms",
    "egfr_schwartz_bedside",
    "ekfc_q",
    "equation",
]


@dataclass(frozen=True, slots=True)
class Equation:
    """One registered equation: the function and who it applies to.

    Attributes
    ----------
    key
        The function's name, e.g. ``"egfr_ckd_epi_2021_cr"``.
    function
        The equation (keyword arguments named as in ``inputs``).
    age_min, age_max
        The age band ``[age_min, age_max)`` in years; ``None`` leaves that side open.
    inputs
        Names of the required arguments, e.g. ``("creatinine", "age_years", "sex")``.
    steady_state
        Whether the equation assumes a steady-state marker (true for all).
    output
        Display unit of the result (``"mL/min/1.73m²"`` or ``"mL/min"``).
    sources
        Bibliography keys (``sources.toml``) for the equation and its age band.
    note
        Who the equation was developed in and for, in one sentence.
    """

    key: str
    function: Callable[..., Any]
    age_min: float | None
    age_max: float | None
    inputs: tuple[str, ...]
    steady_state: bool
    output: str
    sources: tuple[str, ...]
    note: str

    def applies_at(self, age_years: npt.ArrayLike, /) -> npt.NDArray[np.bool_]:
        """Return where the equation applies at the age: inside ``[age_min, age_max)``.

        Parameters
        ----------
        age_years
            Age [years]: one number or an array of numbers.

        Returns
        -------
        numpy.ndarray
            Booleans of the shape of ``age_years`` (a 0-d array for one age). A
            missing or non-finite age never applies.

        Examples
        --------
        >>> EQUATIONS["egfr_schwartz_bedside"].applies_at([0.5, 1.0, 17.9, 18.0, float("nan")])
        array([False,  True,  True, False, False])
        """
        age = np.asarray(age_years, dtype=np.float64)
        ok = np.isfinite(age)
        with np.errstate(invalid="ignore"):
            if self.age_min is not None:
                ok &= age >= self.age_min
            if self.age_max is not None:
                ok &= age < self.age_max
        return np.asarray(ok, dtype=bool)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the equation (the arguments are passed on to :attr:`function`)."""
        return self.function(*args, **kwargs)


_CR = ("creatinine", "age_years", "sex")
_CYS = ("cystatin_c", "age_years", "sex")
_CR_CYS = ("creatinine", "cystatin_c", "age_years", "sex")


def _entry(
    function: Callable[..., Any],
    band: tuple[float | None, float | None],
    inputs: tuple[str, ...],
    sources: tuple[str, ...],
    note: str,
    *,
    output: str = EGFR_DISPLAY,
) -> tuple[str, Equation]:
    key = function.__name__
    age_min, age_max = band
    return key, Equation(
        key=key,
        function=function,
        age_min=age_min,
        age_max=age_max,
        inputs=inputs,
        steady_state=True,
        output=output,
        sources=sources,
        note=note,
    )


#: The eGFR equations and the Cockcroft–Gault clearance, keyed by function name.
#: Read-only.
EQUATIONS: Final[Mapping[str, Equation]] = MappingProxyType(
    dict(
        (
            _entry(
                egfr_ckd_epi_2021_cr,
                (18, None),
                _CR,
                ("Inker2021", "Furst_eGFR"),
                "Developed in adults (>= 18 y).",
            ),
            _entry(
                egfr_ckd_epi_2009_cr,
                (18, None),
                _CR,
                ("Levey2009", "Furst_eGFR", "HNT_eGFR"),
                "Developed in adults; Norwegian laboratories report it from 18 y.",
            ),
            _entry(
                egfr_ekfc_cr,
                (2, None),
                _CR,
                ("Pottel2021", "KidneyEpi_R"),
                "Full age spectrum from 2 y; no upper limit (kidney.epi caps at 100 y by default).",
            ),
            _entry(
                egfr_lund_malmo_revised,
                (18, None),
                _CR,
                ("Bjork2011",),
                "Developed in Swedish adults.",
            ),
            _entry(
                egfr_mdrd_idms,
                (18, None),
                _CR,
                ("Levey2006",),
                "Adults; underestimates GFR above 60 mL/min/1.73 m². "
                "Needs IDMS-traceable creatinine.",
            ),
            _entry(
                egfr_schwartz_bedside,
                (1, 18),
                ("creatinine", "height_cm"),
                ("Schwartz2009",),
                "Developed in children 1-16 y with CKD (CKiD); used for ages 1 to < 18 y.",
            ),
            _entry(
                crcl_cockcroft_gault,
                (18, None),
                ("creatinine", "age_years", "sex", "weight_kg"),
                ("CockcroftGault1976",),
                "Adults; creatinine clearance in mL/min (not normalised), for drug dosing.",
                output=CRCL_DISPLAY,
            ),
            _entry(
                egfr_ckd_epi_2012_cys,
                (18, None),
                _CYS,
                ("Inker2012",),
                "Adults; standardised (IFCC-traceable) cystatin C.",
            ),
            _entry(
                egfr_ckd_epi_2012_cr_cys,
                (18, None),
                _CR_CYS,
                ("Inker2012",),
                "Adults; standardised creatinine and cystatin C.",
            ),
            _entry(
                egfr_ckd_epi_2021_cr_cys,
                (18, None),
                _CR_CYS,
                ("Inker2021",),
                "Adults; standardised creatinine and cystatin C.",
            ),
        )
    )
)


def equation(name: str) -> Equation:
    """Return the registered equation for a full name or a profile's short name.

    Parameters
    ----------
    name
        The function name (``"egfr_ckd_epi_2009_cr"``, ``"crcl_cockcroft_gault"``) or
        the name a country profile uses, without ``egfr_`` (``"ckd_epi_2009_cr"``).

    Returns
    -------
    Equation

    Raises
    ------
    CatalogueError
        When the name is not a registered equation; the message lists them.

    Examples
    --------
    >>> equation("ckd_epi_2009_cr").key
    'egfr_ckd_epi_2009_cr'
    >>> equation("egfr_ekfc_cr").age_min
    2
    """
    full = name if name in EQUATIONS else f"egfr_{name}"
    if full not in EQUATIONS:
        known = ", ".join(sorted(EQUATIONS))
        raise CatalogueError(f"Unknown eGFR equation; use one of: {known}.")
    return EQUATIONS[full]


def __getattr__(name: str) -> Any:
    """Give :data:`EGFR_UNIT` and :data:`CRCL_UNIT`, pint units built on first use."""
    if name in ("EGFR_UNIT", "CRCL_UNIT"):
        return getattr(inputs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
