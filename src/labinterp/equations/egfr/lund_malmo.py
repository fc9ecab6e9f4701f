"""Revised Lund–Malmö (LMR) creatinine equation, developed in Swedish adults (Bjork2011).

Plasma creatinine in µmol/L, the equation's native unit.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import EGFR_DISPLAY, EGFR_PINT, Batch, SexSpecific

__all__ = ["egfr_lund_malmo_revised"]

#: Revised Lund-Malmö (Bjork2011; as in kidney.epi egfr.lm.cr, KidneyEpi_R):
#: exp(X - 0.0158 age + 0.438 ln(age)), pCr in µmol/L.
LMR_THRESHOLD_UMOL_L: Final = SexSpecific(female=150.0, male=180.0)
LMR_INTERCEPT: Final = SexSpecific(female=2.50, male=2.56)
LMR_LINEAR_SLOPE: Final = SexSpecific(female=0.0121, male=0.00968)
LMR_LOG_SLOPE: Final = 0.926
LMR_AGE_LINEAR: Final = -0.0158
LMR_AGE_LOG: Final = 0.438


def egfr_lund_malmo_revised(*, creatinine: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the revised Lund–Malmö (LMR) creatinine equation.

    .. math::

        \mathrm{eGFR} = e^{X - 0.0158\,\mathrm{age} + 0.438 \ln(\mathrm{age})}

    with pCr in µmol/L and

    * female, pCr < 150: X = 2.50 + 0.0121 (150 − pCr); pCr ≥ 150: X = 2.50 − 0.926 ln(pCr/150)
    * male, pCr < 180: X = 2.56 + 0.00968 (180 − pCr); pCr ≥ 180: X = 2.56 − 0.926 ln(pCr/180)

    Parameters
    ----------
    creatinine
        Plasma creatinine [any concentration unit], a pint Quantity.
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
    Bjork2011.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_lund_malmo_revised(creatinine=1.0 * ureg("mg/dL"), age_years=40, sex="M")
    ...       .magnitude)
    84
    """
    batch = Batch()
    pcr, age, female = batch.broadcast(
        batch.creatinine_umol_l(creatinine), batch.age(age_years), batch.female(sex)
    )
    threshold = LMR_THRESHOLD_UMOL_L.pick(female)
    intercept = LMR_INTERCEPT.pick(female)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(
            pcr < threshold,
            intercept + LMR_LINEAR_SLOPE.pick(female) * (threshold - pcr),
            intercept - LMR_LOG_SLOPE * np.log(pcr / threshold),
        )
        egfr = np.exp(x + LMR_AGE_LINEAR * age + LMR_AGE_LOG * np.log(age))
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_lund_malmo_revised")
