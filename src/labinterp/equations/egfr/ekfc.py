"""EKFC (European Kidney Function Consortium) creatinine equation and its Q value.

Creatinine and Q in µmol/L, the equation's native unit. Covers children from 2 years
and adults with one equation (Pottel2021).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import (
    EGFR_DISPLAY,
    EGFR_PINT,
    Batch,
    Bools,
    Floats,
    SexSpecific,
    spline,
)

__all__ = ["egfr_ekfc_cr", "ekfc_q"]

#: EKFC creatinine (Pottel2021): 107.3 x (Scr/Q)^α x 0.990^(age-40) [age > 40],
#: α = -0.322 for Scr/Q < 1 and -1.132 otherwise.
EKFC_CONSTANT: Final = 107.3
EKFC_ALPHA: Final = -0.322
EKFC_BETA: Final = -1.132
EKFC_AGE_BASE: Final = 0.990
EKFC_AGE_PIVOT_YEARS: Final = 40.0
#: Adult Q [µmol/L] = median creatinine of healthy adults, 62 women / 80 men
#: (Pottel2017 Introduction: "62 µmol/L (0.70 mg/dL) for females"; Pottel2021).
EKFC_Q_ADULT_UMOL_L: Final = SexSpecific(female=62.0, male=80.0)
#: Q for ages 2-25 [µmol/L]: ln Q = c0 + c1 age + c2 ln(age) + c3 age² + c4 age³
#: (Pottel2021; identical in kidney.epi egfr.ekfc.cr, KidneyEpi_R, and nephro).
EKFC_Q_POLY_FEMALE: Final = (3.080, 0.177, -0.223, -0.00596, 0.0000686)
EKFC_Q_POLY_MALE: Final = (3.200, 0.259, -0.543, -0.00763, 0.0000790)
EKFC_Q_POLY_AGE_MAX_YEARS: Final = 25.0


def _q_umol_l(age: Floats, female: Bools) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        log_age = np.log(age)
        poly = {}
        for key, (c0, c1, c2, c3, c4) in (
            (True, EKFC_Q_POLY_FEMALE),
            (False, EKFC_Q_POLY_MALE),
        ):
            poly[key] = np.exp(c0 + c1 * age + c2 * log_age + c3 * age**2 + c4 * age**3)
    child = np.where(female, poly[True], poly[False])
    return np.asarray(
        np.where(age <= EKFC_Q_POLY_AGE_MAX_YEARS, child, EKFC_Q_ADULT_UMOL_L.pick(female)),
        dtype=np.float64,
    )


def ekfc_q(*, age_years: Any, sex: Any) -> Any:
    r"""Return the EKFC Q value: median creatinine of healthy people of that age and sex.

    For 2 ≤ age ≤ 25 years

    .. math::

        \ln Q = c_0 + c_1\,\mathrm{age} + c_2 \ln(\mathrm{age})
        + c_3\,\mathrm{age}^2 + c_4\,\mathrm{age}^3

    (:data:`EKFC_Q_POLY_FEMALE`, :data:`EKFC_Q_POLY_MALE`); above 25 years
    Q = 62 µmol/L (female) / 80 µmol/L (male).

    Parameters
    ----------
    age_years
        Age [years].
    sex
        :class:`labinterp.Sex` or an unambiguous code.

    Returns
    -------
    pint.Quantity or pandas.Series
        Q [µmol/L].

    References
    ----------
    Pottel2021 (polynomial and adult Q), Pottel2017 (adult Q 62/80 µmol/L).

    Examples
    --------
    >>> round(ekfc_q(age_years=10, sex="male").to("umol/L").magnitude, 1)
    47.3
    >>> ekfc_q(age_years=40, sex="female").to("umol/L").magnitude
    62.0
    """
    batch = Batch()
    age, female = batch.broadcast(batch.age(age_years), batch.female(sex))
    return batch.result(_q_umol_l(age, female), unit="umol/L", display="µmol/L", name="ekfc_q")


def egfr_ekfc_cr(*, creatinine: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the EKFC (European Kidney Function Consortium) creatinine equation.

    .. math::

        \mathrm{eGFR} = 107.3 \cdot (S_{cr}/Q)^{\alpha}
        \cdot 0.990^{(\mathrm{age} - 40)}\,[\mathrm{age} > 40]

    with α = −0.322 for :math:`S_{cr}/Q < 1` and −1.132 otherwise, creatinine and
    Q in µmol/L (the equation's native unit). Q comes from :func:`ekfc_q`: the
    polynomial for ages 2-25 years and 62 (female) / 80 (male) µmol/L above 25.

    Parameters
    ----------
    creatinine
        Serum/plasma creatinine [any concentration unit], a pint Quantity.
    age_years
        Age [years].
    sex
        :class:`labinterp.Sex` or an unambiguous code.

    Returns
    -------
    pint.Quantity or pandas.Series
        eGFR [mL/min/1.73 m²].

    References
    ----------
    Pottel2021 (equation and Q), Pottel2017 (adult Q).

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_ekfc_cr(creatinine=123.76 * ureg("umol/L"), age_years=60, sex="male")
    ...       .magnitude, 2)
    53.56
    """
    batch = Batch()
    scr, age, female = batch.broadcast(
        batch.creatinine_umol_l(creatinine), batch.age(age_years), batch.female(sex)
    )
    ratio = scr / _q_umol_l(age, female)
    egfr = (
        EKFC_CONSTANT
        * spline(ratio, EKFC_ALPHA, EKFC_BETA)
        * np.where(age > EKFC_AGE_PIVOT_YEARS, EKFC_AGE_BASE ** (age - EKFC_AGE_PIVOT_YEARS), 1.0)
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ekfc_cr")
