"""Cockcroft–Gault creatinine clearance (CockcroftGault1976).

An absolute clearance in mL/min, not normalised to 1.73 m², used for drug dosing.
Creatinine in mg/dL, weight in kg.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import CRCL_DISPLAY, CRCL_PINT, Batch

__all__ = ["crcl_cockcroft_gault"]

#: Cockcroft-Gault (CockcroftGault1976): (140 - age) x weight / (72 x Scr) x 0.85 [female].
CG_AGE_OFFSET: Final = 140.0
CG_DIVISOR: Final = 72.0
CG_FEMALE: Final = 0.85


def crcl_cockcroft_gault(*, creatinine: Any, age_years: Any, sex: Any, weight_kg: Any) -> Any:
    r"""Estimate creatinine clearance with the Cockcroft–Gault equation (not normalised).

    .. math::

        \mathrm{CrCl} = \frac{(140 - \mathrm{age}) \cdot \mathrm{weight}}{72 \cdot S_{cr}}
        \cdot 0.85\,[\text{female}]

    with weight in kg and :math:`S_{cr}` in mg/dL. The result is an absolute
    clearance in mL/min, not an eGFR per 1.73 m²; which weight to use (actual,
    ideal, adjusted) depends on the drug and guideline.

    Parameters
    ----------
    creatinine
        Serum creatinine [any concentration unit], a pint Quantity.
    age_years
        Age [years].
    sex
        :class:`labinterp.Sex` or an unambiguous code.
    weight_kg
        Body weight [kg].

    Returns
    -------
    pint.Quantity or pandas.Series
        Creatinine clearance [mL/min].

    References
    ----------
    CockcroftGault1976.

    Examples
    --------
    >>> from labinterp import ureg
    >>> crcl = crcl_cockcroft_gault(
    ...     creatinine=88.4 * ureg("umol/L"), age_years=25, sex="F", weight_kg=60
    ... )
    >>> round(crcl.to("mL/min").magnitude, 2)
    81.46
    """
    batch = Batch()
    scr, age, female, weight = batch.broadcast(
        batch.creatinine_mg_dl(creatinine),
        batch.age(age_years),
        batch.female(sex),
        batch.number(weight_kg, field="weight_kg", unit="kg"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        crcl = (
            (CG_AGE_OFFSET - age) * weight / (CG_DIVISOR * scr) * np.where(female, CG_FEMALE, 1.0)
        )
    return batch.result(crcl, unit=CRCL_PINT, display=CRCL_DISPLAY, name="crcl_cockcroft_gault")
