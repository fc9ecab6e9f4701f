r"""The Kidney Failure Risk Equation, 4 variables (age, sex, eGFR, ACR).

Tangri2011_KFRE developed the equation in Canadian patients with CKD G3–G5 referred to
nephrologists; Tangri2016_KFRE validated it in 31 cohorts on four continents and
recalibrated its baseline survival for patients outside North America:

.. math::

    \mathrm{risk}(t) = 1 - S_0(t)^{\exp(\mathrm{LP})}

    \mathrm{LP} = -0.2201\,(\mathrm{age}/10 - 7.036) + 0.2467\,(\mathrm{male} - 0.5642)
                  - 0.5567\,(\mathrm{eGFR}/5 - 7.222)
                  + 0.4510\,(\ln \mathrm{ACR}_{\mathrm{mg/g}} - 5.137)

=======================  ==========  ==========
Region                   S0(2 y)     S0(5 y)
=======================  ==========  ==========
North American           0.9750      0.9240
Non-North American       0.9832      0.9365
=======================  ==========  ==========

The centring value 5.137 is ln(170.2): the ACR is in mg/g (an ACR in mg/mmol must be
converted first). The risk is of kidney failure (dialysis or pre-emptive
transplantation), as a fraction.

Who the equation applies to is :data:`KFRE_POPULATION`; :func:`kfre_applies` gives the
reason a result falls outside it. :func:`kfre` computes for any input and never checks
the population itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.egfr.inputs import EGFR_PINT, Batch, Measured
from labinterp.errors import InvalidResultError
from labinterp.units import is_quantity

__all__ = [
    "KFRE_BASELINE_SURVIVAL",
    "KFRE_EQUATIONS",
    "KFRE_INPUTS",
    "KFRE_POPULATION",
    "KfrePopulation",
    "kfre",
    "kfre_applies",
]

Floats = npt.NDArray[np.float64]
Region = Literal["non_north_american", "north_american"]

#: Coefficients and centring values of the 4-variable equation (Tangri2011_KFRE;
#: the same in Tangri2016_KFRE and Lshpaner_kfre ``risk_pred``).
KFRE_AGE_PER_DECADE: Final = -0.2201
KFRE_AGE_CENTRE_DECADES: Final = 7.036
KFRE_MALE: Final = 0.2467
KFRE_MALE_CENTRE: Final = 0.5642
KFRE_EGFR_PER_5: Final = -0.5567
KFRE_EGFR_CENTRE_PER_5: Final = 7.222
KFRE_LN_ACR: Final = 0.4510
KFRE_LN_ACR_CENTRE: Final = 5.137

#: Baseline survival S0 by (region, years): North American from Tangri2011_KFRE, the
#: non-North-American recalibration from Tangri2016_KFRE (both as in Lshpaner_kfre).
KFRE_BASELINE_SURVIVAL: Final = {
    ("north_american", 2): 0.9750,
    ("north_american", 5): 0.9240,
    ("non_north_american", 2): 0.9832,
    ("non_north_american", 5): 0.9365,
}


@dataclass(frozen=True, slots=True)
class KfrePopulation:
    """Who the KFRE was developed and validated in, as the engine checks it.

    Attributes
    ----------
    egfr_below
        The eGFR [mL/min/1.73 m²] must be below this: CKD G3–G5 (Tangri2011_KFRE,
        Tangri2016_KFRE).
    egfr_at_least
        The lowest eGFR of the development and validation cohorts of Tangri2011_KFRE
        ("estimated GFR, 10-59 mL/min/1.73 m2"); below it the equation is extrapolated.
    not_on_dialysis
        The equation predicts the start of dialysis: it does not apply to a patient on
        dialysis or with a kidney transplant. A blood-test export does not say so; the
        engine states the condition in its explanation.
    sources
        Bibliography keys of the bounds.
    """

    egfr_below: float
    egfr_at_least: float
    not_on_dialysis: bool
    sources: tuple[str, ...]


#: The population of the 4-variable KFRE. No age bound: neither paper's age inclusion
#: criteria could be verified, so none is applied.
#: The catalogue analytes the equation reads (besides age and sex), for derivedFrom.
KFRE_INPUTS: Final = ("egfr", "acr")
#: The name of the equation per calibration (``region``), as the ``equation`` column gives it.
KFRE_EQUATIONS: Final = {
    "north_american": "kfre_4v_north_american",
    "non_north_american": "kfre_4v_non_north_american",
}

KFRE_POPULATION: Final = KfrePopulation(
    egfr_below=60.0,
    egfr_at_least=10.0,
    not_on_dialysis=True,
    sources=("Tangri2011_KFRE", "Tangri2016_KFRE"),
)


def kfre(
    *,
    age_years: Any,
    sex: Any,
    egfr: Any,
    acr_mg_g: Any,
    years: int = 5,
    region: Region = "non_north_american",
) -> Any:
    """Return the 4-variable Kidney Failure Risk Equation's risk of kidney failure.

    Parameters
    ----------
    age_years
        Age [years].
    sex
        :class:`labinterp.Sex` or an unambiguous code (``"female"``, ``"M"``, ``"K"``...).
    egfr
        eGFR [mL/min/1.73 m²]: a number, or a pint Quantity / ``Measured`` value in that
        unit (converted).
    acr_mg_g
        Urine albumin/creatinine ratio [mg/g], a number. An ACR of 0 or less has no
        logarithm and gives NaN.
    years
        Horizon: 2 or 5.
    region
        ``"non_north_american"`` (default; Tangri 2016 recalibration, for Nordic
        patients) or ``"north_american"`` (the original baseline survival).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        The risk as a fraction (0–1): a float for scalar inputs, a float array for
        arrays, a float64 Series named ``"kfre"`` with the index when any input is a
        Series. NaN where an input is missing or the ACR is not positive.

    Raises
    ------
    ValueError
        ``years`` not 2 or 5, an unknown ``region`` or sex, inputs of different lengths.

    Notes
    -----
    The equation computes for any input; who it applies to is :data:`KFRE_POPULATION`
    and :func:`kfre_applies`.

    References
    ----------
    Tangri2011_KFRE (equation, North American S0), Tangri2016_KFRE (non-North-American
    S0), Lshpaner_kfre (an independent implementation: its worked example is a vector).

    Examples
    --------
    >>> round(kfre(age_years=57.28, sex="female", egfr=15.0, acr_mg_g=1762.00184,
    ...            years=2), 4)
    0.4466
    >>> round(kfre(age_years=57.28, sex="female", egfr=15.0, acr_mg_g=1762.00184), 4)
    0.8989
    """
    if years not in (2, 5) or isinstance(years, bool):
        raise InvalidResultError("years must be 2 or 5.", field="years")
    if region not in ("non_north_american", "north_american"):
        raise InvalidResultError(
            "region must be 'non_north_american' or 'north_american'.", field="region"
        )
    batch = Batch()
    age = batch.age(age_years)
    female = batch.female(sex)
    gfr = _egfr(batch, egfr)
    acr = batch.number(acr_mg_g, field="acr_mg_g", unit="mg/g")
    age, female, gfr, acr = batch.broadcast(age, female, gfr, acr)
    with np.errstate(invalid="ignore", divide="ignore"):
        ln_acr = np.log(np.where(acr > 0, acr, np.nan))
        male = np.where(female, 0.0, 1.0)
        lp = (
            KFRE_AGE_PER_DECADE * (age / 10.0 - KFRE_AGE_CENTRE_DECADES)
            + KFRE_MALE * (male - KFRE_MALE_CENTRE)
            + KFRE_EGFR_PER_5 * (gfr / 5.0 - KFRE_EGFR_CENTRE_PER_5)
            + KFRE_LN_ACR * (ln_acr - KFRE_LN_ACR_CENTRE)
        )
        risk = 1.0 - KFRE_BASELINE_SURVIVAL[(region, years)] ** np.exp(lp)
    risk = np.asarray(risk, dtype=np.float64)
    if batch.index is not None:
        return pd.Series(risk, index=batch.index, name="kfre")
    return float(risk) if risk.ndim == 0 else risk


def kfre_applies(age_years: Any, egfr: Any) -> Any:
    """Return why the KFRE does not apply, or None where it does.

    Parameters
    ----------
    age_years
        Age [years]: number, array or Series. Only checked for being present (no age
        bound is applied, see :data:`KFRE_POPULATION`).
    egfr
        eGFR [mL/min/1.73 m²]: number, array or Series.

    Returns
    -------
    str, None, numpy.ndarray or pandas.Series
        ``None`` where the equation applies, else a reason code: ``"egfr_missing"``,
        ``"age_missing"``, ``"egfr_not_below_60"`` (eGFR 60 or more: not CKD G3–G5) or
        ``"egfr_below_10"`` (below the cohorts' range). One code per element (object
        array, or Series named ``"kfre_applies"`` with the input's index).

    References
    ----------
    Tangri2011_KFRE, Tangri2016_KFRE.

    Examples
    --------
    >>> print(kfre_applies(70, 35.0))
    None
    >>> kfre_applies(70, 60.0)
    'egfr_not_below_60'
    >>> kfre_applies([70, 70], [9.0, float("nan")]).tolist()
    ['egfr_below_10', 'egfr_missing']
    """
    batch = Batch()
    age = batch.age(age_years)
    gfr = _egfr(batch, egfr)
    age, gfr = batch.broadcast(age, gfr)
    population = KFRE_POPULATION
    codes = np.full(gfr.shape, None, dtype=object)
    with np.errstate(invalid="ignore"):
        codes[gfr < population.egfr_at_least] = "egfr_below_10"
        codes[gfr >= population.egfr_below] = "egfr_not_below_60"
    codes[np.isnan(age)] = "age_missing"
    codes[np.isnan(gfr)] = "egfr_missing"
    if batch.index is not None:
        return pd.Series(codes, index=batch.index, name="kfre_applies", dtype=object)
    return codes.item() if codes.ndim == 0 else codes


def _egfr(batch: Batch, egfr: Any) -> Floats:
    """Return eGFR [mL/min/1.73 m²] from a number, a Quantity or a Measured value."""
    if isinstance(egfr, Measured) or is_quantity(egfr):
        return batch.lab_value(egfr, field="egfr", unit=EGFR_PINT, analyte="egfr")
    return batch.number(egfr, field="egfr", unit=EGFR_PINT)
