"""Equations for children: the bedside (IDMS) Schwartz equation (Schwartz2009).

Creatinine in mg/dL, height in cm. EKFC (:mod:`labinterp.equations.egfr.ekfc`) also
covers children from 2 years.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import EGFR_DISPLAY, EGFR_PINT, Batch

__all__ = ["egfr_schwartz_bedside"]

#: Bedside Schwartz (Schwartz2009 abstract: "0.413*(height/serum creatinine)",
#: height in cm, creatinine in mg/dL).
SCHWARTZ_BEDSIDE_K: Final = 0.413


def egfr_schwartz_bedside(*, creatinine: Any, height_cm: Any) -> Any:
    r"""Estimate GFR in children with the bedside (IDMS) Schwartz equation.

    .. math::

        \mathrm{eGFR} = 0.413 \cdot \mathrm{height} / S_{cr}

    with height in cm and :math:`S_{cr}` in mg/dL (the SI form 36.5 x height /
    µmol/L is the same equation with 0.413 x 88.4).

    Parameters
    ----------
    creatinine
        Serum creatinine [any concentration unit], IDMS-traceable, a pint Quantity.
    height_cm
        Height [cm].

    Returns
    -------
    pint.Quantity or pandas.Series
        eGFR [mL/min/1.73 m²].

    References
    ----------
    Schwartz2009.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_schwartz_bedside(creatinine=0.6 * ureg("mg/dL"), height_cm=101).magnitude, 1)
    69.5
    """
    batch = Batch()
    scr, height = batch.broadcast(
        batch.creatinine_mg_dl(creatinine),
        batch.number(height_cm, field="height_cm", unit="cm"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        egfr = SCHWARTZ_BEDSIDE_K * height / scr
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_schwartz_bedside")
