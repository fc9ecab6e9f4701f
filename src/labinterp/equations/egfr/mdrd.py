"""MDRD Study 4-variable equation for IDMS-traceable creatinine (Levey2006).

Kept for historical comparison; no Nordic profile uses it. Creatinine in mg/dL. The
published race factor (1.212) is not implemented.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import EGFR_DISPLAY, EGFR_PINT, Batch

__all__ = ["egfr_mdrd_idms"]

#: MDRD Study 4-variable equation re-expressed for IDMS-traceable creatinine
#: (Levey2006): 175 x Scr^-1.154 x age^-0.203 x 0.742 [female]. The race factor
#: 1.212 is deliberately not implemented; 186 is the non-IDMS original.
MDRD_IDMS_CONSTANT: Final = 175.0
MDRD_SCR_EXPONENT: Final = -1.154
MDRD_AGE_EXPONENT: Final = -0.203
MDRD_FEMALE: Final = 0.742


def egfr_mdrd_idms(*, creatinine: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the 4-variable MDRD Study equation for IDMS-traceable creatinine.

    .. math::

        \mathrm{eGFR} = 175 \cdot S_{cr}^{-1.154} \cdot \mathrm{age}^{-0.203}
        \cdot 0.742\,[\text{female}]

    with :math:`S_{cr}` in mg/dL. The published factor for Black race (1.212) is
    deliberately not implemented and there is no race parameter.

    Parameters
    ----------
    creatinine
        Serum creatinine [any concentration unit], IDMS-traceable, a pint Quantity.
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
    Levey2006.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_mdrd_idms(creatinine=1.5 * ureg("mg/dL"), age_years=50, sex="female")
    ...       .magnitude, 1)
    36.8
    """
    batch = Batch()
    scr, age, female = batch.broadcast(
        batch.creatinine_mg_dl(creatinine), batch.age(age_years), batch.female(sex)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        egfr = (
            MDRD_IDMS_CONSTANT
            * scr**MDRD_SCR_EXPONENT
            * age**MDRD_AGE_EXPONENT
            * np.where(female, MDRD_FEMALE, 1.0)
        )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_mdrd_idms")
