"""The CKD-EPI equations: creatinine, cystatin C, and creatinine with cystatin C.

Creatinine 2009 and 2021, cystatin C 2012, creatinine–cystatin C 2012 and 2021.
Creatinine in mg/dL, cystatin C in mg/L (converted from any unit by
:class:`~labinterp.equations.egfr.inputs.Batch`). No race coefficient: CKD-EPI 2009
(×1.159) and 2012 creatinine–cystatin C (×1.08) were published with one; labinterp
computes them without it, as Nordic laboratories report CKD-EPI 2009 and as the
2021 refit does (Inker2021).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from labinterp.equations.egfr.inputs import EGFR_DISPLAY, EGFR_PINT, Batch, SexSpecific, spline

__all__ = [
    "egfr_ckd_epi_2009_cr",
    "egfr_ckd_epi_2012_cr_cys",
    "egfr_ckd_epi_2012_cys",
    "egfr_ckd_epi_2021_cr",
    "egfr_ckd_epi_2021_cr_cys",
]

#: CKD-EPI κ for serum creatinine [mg/dL], shared by the 2009, 2012 and 2021
#: creatinine equations (Levey2009 Table 2; Inker2012; Inker2021; NKF_CKDEPICr2021).
CKD_EPI_KAPPA_MG_DL: Final = SexSpecific(female=0.7, male=0.9)
#: CKD-EPI κ for cystatin C [mg/L] (Inker2012; Inker2021; NKF_CKDEPICys2012).
CKD_EPI_CYS_KAPPA_MG_L: Final = 0.8

#: CKD-EPI 2021 creatinine (Inker2021, race-free "AS" equation; NKF_CKDEPICr2021):
#: 142 x min(Scr/κ,1)^α x max(Scr/κ,1)^-1.200 x 0.9938^age x 1.012 [female].
CKD_EPI_2021_CR_CONSTANT: Final = 142.0
CKD_EPI_2021_CR_ALPHA: Final = SexSpecific(female=-0.241, male=-0.302)
CKD_EPI_2021_CR_BETA: Final = -1.200
CKD_EPI_2021_CR_AGE_BASE: Final = 0.9938
CKD_EPI_2021_CR_FEMALE: Final = 1.012

#: CKD-EPI 2009 creatinine, per-sex constants as tabulated in Levey2009 Table 2
#: (144 women, 141 men; the single-equation form 141 x 1.018 [female] in
#: NKF_CKDEPICr2009 gives 143.54 for women, 0.33 % lower). Race factor 1.159 and
#: the Black constants 166/163 deliberately not implemented.
CKD_EPI_2009_CR_CONSTANT: Final = SexSpecific(female=144.0, male=141.0)
CKD_EPI_2009_CR_ALPHA: Final = SexSpecific(female=-0.329, male=-0.411)
CKD_EPI_2009_CR_BETA: Final = -1.209
CKD_EPI_2009_CR_AGE_BASE: Final = 0.993

#: CKD-EPI 2012 cystatin C (Inker2012; NKF_CKDEPICys2012):
#: 133 x min(Scys/0.8,1)^-0.499 x max(Scys/0.8,1)^-1.328 x 0.996^age x 0.932 [female].
CKD_EPI_2012_CYS_CONSTANT: Final = 133.0
CKD_EPI_2012_CYS_ALPHA: Final = -0.499
CKD_EPI_2012_CYS_BETA: Final = -1.328
CKD_EPI_2012_CYS_AGE_BASE: Final = 0.996
CKD_EPI_2012_CYS_FEMALE: Final = 0.932

#: CKD-EPI 2012 creatinine-cystatin C, single-equation form (Inker2012; as
#: implemented in nephro CKDEpi.creat.cys and epocakir, Epocakir_R). Race factor
#: 1.08 deliberately not implemented.
CKD_EPI_2012_CR_CYS_CONSTANT: Final = 135.0
CKD_EPI_2012_CR_CYS_CR_ALPHA: Final = SexSpecific(female=-0.248, male=-0.207)
CKD_EPI_2012_CR_CYS_CR_BETA: Final = -0.601
CKD_EPI_2012_CR_CYS_CYS_ALPHA: Final = -0.375
CKD_EPI_2012_CR_CYS_CYS_BETA: Final = -0.711
CKD_EPI_2012_CR_CYS_AGE_BASE: Final = 0.995
CKD_EPI_2012_CR_CYS_FEMALE: Final = 0.969

#: CKD-EPI 2021 creatinine-cystatin C (Inker2021; as in kidney.epi
#: egfr.ckdepi.cr_cys.2021, KidneyEpi_R).
CKD_EPI_2021_CR_CYS_CONSTANT: Final = 135.0
CKD_EPI_2021_CR_CYS_CR_ALPHA: Final = SexSpecific(female=-0.219, male=-0.144)
CKD_EPI_2021_CR_CYS_CR_BETA: Final = -0.544
CKD_EPI_2021_CR_CYS_CYS_ALPHA: Final = -0.323
CKD_EPI_2021_CR_CYS_CYS_BETA: Final = -0.778
CKD_EPI_2021_CR_CYS_AGE_BASE: Final = 0.9961
CKD_EPI_2021_CR_CYS_FEMALE: Final = 0.963


def egfr_ckd_epi_2021_cr(*, creatinine: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the race-free CKD-EPI 2021 creatinine equation.

    .. math::

        \mathrm{eGFR} = 142 \cdot \min(S_{cr}/\kappa, 1)^{\alpha}
        \cdot \max(S_{cr}/\kappa, 1)^{-1.200} \cdot 0.9938^{\mathrm{age}}
        \cdot 1.012\,[\text{female}]

    with :math:`S_{cr}` in mg/dL, κ = 0.7 (female) / 0.9 (male) and
    α = −0.241 (female) / −0.302 (male).

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
    Inker2021 (equation; Suppl. Table S11 test values), NKF_CKDEPICr2021.

    Examples
    --------
    >>> from labinterp import ureg
    >>> egfr = egfr_ckd_epi_2021_cr(creatinine=1.0 * ureg("mg/dL"), age_years=50, sex="female")
    >>> round(egfr.to("mL/min/_1_73_m2").magnitude)
    69
    >>> round(egfr_ckd_epi_2021_cr(creatinine=80 * ureg("umol/L"), age_years=50, sex="M").magnitude)
    103
    """
    batch = Batch()
    scr, age, female = batch.broadcast(
        batch.creatinine_mg_dl(creatinine), batch.age(age_years), batch.female(sex)
    )
    ratio = scr / CKD_EPI_KAPPA_MG_DL.pick(female)
    egfr = (
        CKD_EPI_2021_CR_CONSTANT
        * spline(ratio, CKD_EPI_2021_CR_ALPHA.pick(female), CKD_EPI_2021_CR_BETA)
        * CKD_EPI_2021_CR_AGE_BASE**age
        * np.where(female, CKD_EPI_2021_CR_FEMALE, 1.0)
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ckd_epi_2021_cr")


def egfr_ckd_epi_2009_cr(*, creatinine: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the CKD-EPI 2009 creatinine equation, without the race factor.

    .. math::

        \mathrm{eGFR} = C \cdot \min(S_{cr}/\kappa, 1)^{\alpha}
        \cdot \max(S_{cr}/\kappa, 1)^{-1.209} \cdot 0.993^{\mathrm{age}}

    with :math:`S_{cr}` in mg/dL, C = 144 (female) / 141 (male) as tabulated in
    Levey 2009 Table 2, κ = 0.7 / 0.9 and α = −0.329 / −0.411. The published
    factor for Black race (1.159; constants 166/163) is deliberately not
    implemented and there is no race parameter.

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
    Levey2009 (Table 2), NKF_CKDEPICr2009 (single-equation form 141 x 1.018 [female]).

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_ckd_epi_2009_cr(creatinine=1.4 * ureg("mg/dL"), age_years=60, sex="male")
    ...       .magnitude, 2)
    54.22
    """
    batch = Batch()
    scr, age, female = batch.broadcast(
        batch.creatinine_mg_dl(creatinine), batch.age(age_years), batch.female(sex)
    )
    ratio = scr / CKD_EPI_KAPPA_MG_DL.pick(female)
    egfr = (
        CKD_EPI_2009_CR_CONSTANT.pick(female)
        * spline(ratio, CKD_EPI_2009_CR_ALPHA.pick(female), CKD_EPI_2009_CR_BETA)
        * CKD_EPI_2009_CR_AGE_BASE**age
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ckd_epi_2009_cr")


def egfr_ckd_epi_2012_cys(*, cystatin_c: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the CKD-EPI 2012 cystatin C equation.

    .. math::

        \mathrm{eGFR} = 133 \cdot \min(S_{cys}/0.8, 1)^{-0.499}
        \cdot \max(S_{cys}/0.8, 1)^{-1.328} \cdot 0.996^{\mathrm{age}}
        \cdot 0.932\,[\text{female}]

    with :math:`S_{cys}` in mg/L (standardised to ERM-DA471/IFCC).

    Parameters
    ----------
    cystatin_c
        Serum cystatin C [any mass concentration unit], a pint Quantity.
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
    Inker2012, NKF_CKDEPICys2012.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_ckd_epi_2012_cys(cystatin_c=1.2 * ureg("mg/L"), age_years=20, sex="male")
    ...       .magnitude, 2)
    71.65
    """
    batch = Batch()
    scys, age, female = batch.broadcast(
        batch.cystatin_mg_l(cystatin_c), batch.age(age_years), batch.female(sex)
    )
    egfr = (
        CKD_EPI_2012_CYS_CONSTANT
        * spline(scys / CKD_EPI_CYS_KAPPA_MG_L, CKD_EPI_2012_CYS_ALPHA, CKD_EPI_2012_CYS_BETA)
        * CKD_EPI_2012_CYS_AGE_BASE**age
        * np.where(female, CKD_EPI_2012_CYS_FEMALE, 1.0)
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ckd_epi_2012_cys")


def egfr_ckd_epi_2012_cr_cys(*, creatinine: Any, cystatin_c: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the CKD-EPI 2012 creatinine–cystatin C equation, without race.

    .. math::

        \mathrm{eGFR} = 135 \cdot \min(S_{cr}/\kappa, 1)^{\alpha}
        \cdot \max(S_{cr}/\kappa, 1)^{-0.601}
        \cdot \min(S_{cys}/0.8, 1)^{-0.375} \cdot \max(S_{cys}/0.8, 1)^{-0.711}
        \cdot 0.995^{\mathrm{age}} \cdot 0.969\,[\text{female}]

    with :math:`S_{cr}` in mg/dL, :math:`S_{cys}` in mg/L, κ = 0.7 / 0.9 and
    α = −0.248 (female) / −0.207 (male). The published factor for Black race
    (1.08) is deliberately not implemented and there is no race parameter.

    Parameters
    ----------
    creatinine
        Serum creatinine [any concentration unit], a pint Quantity.
    cystatin_c
        Serum cystatin C [any mass concentration unit], a pint Quantity.
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
    Inker2012.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_ckd_epi_2012_cr_cys(
    ...     creatinine=1.5 * ureg("mg/dL"), cystatin_c=1.2 * ureg("mg/L"), age_years=20, sex="M"
    ... ).magnitude, 2)
    67.34
    """
    batch = Batch()
    scr, scys, age, female = batch.broadcast(
        batch.creatinine_mg_dl(creatinine),
        batch.cystatin_mg_l(cystatin_c),
        batch.age(age_years),
        batch.female(sex),
    )
    egfr = (
        CKD_EPI_2012_CR_CYS_CONSTANT
        * spline(
            scr / CKD_EPI_KAPPA_MG_DL.pick(female),
            CKD_EPI_2012_CR_CYS_CR_ALPHA.pick(female),
            CKD_EPI_2012_CR_CYS_CR_BETA,
        )
        * spline(
            scys / CKD_EPI_CYS_KAPPA_MG_L,
            CKD_EPI_2012_CR_CYS_CYS_ALPHA,
            CKD_EPI_2012_CR_CYS_CYS_BETA,
        )
        * CKD_EPI_2012_CR_CYS_AGE_BASE**age
        * np.where(female, CKD_EPI_2012_CR_CYS_FEMALE, 1.0)
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ckd_epi_2012_cr_cys")


def egfr_ckd_epi_2021_cr_cys(*, creatinine: Any, cystatin_c: Any, age_years: Any, sex: Any) -> Any:
    r"""Estimate GFR with the race-free CKD-EPI 2021 creatinine–cystatin C equation.

    .. math::

        \mathrm{eGFR} = 135 \cdot \min(S_{cr}/\kappa, 1)^{\alpha}
        \cdot \max(S_{cr}/\kappa, 1)^{-0.544}
        \cdot \min(S_{cys}/0.8, 1)^{-0.323} \cdot \max(S_{cys}/0.8, 1)^{-0.778}
        \cdot 0.9961^{\mathrm{age}} \cdot 0.963\,[\text{female}]

    with :math:`S_{cr}` in mg/dL, :math:`S_{cys}` in mg/L, κ = 0.7 / 0.9 and
    α = −0.219 (female) / −0.144 (male).

    Parameters
    ----------
    creatinine
        Serum creatinine [any concentration unit], a pint Quantity.
    cystatin_c
        Serum cystatin C [any mass concentration unit], a pint Quantity.
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
    Inker2021.

    Examples
    --------
    >>> from labinterp import ureg
    >>> round(egfr_ckd_epi_2021_cr_cys(
    ...     creatinine=1.4 * ureg("mg/dL"), cystatin_c=0.8 * ureg("mg/L"), age_years=60, sex="M"
    ... ).magnitude, 2)
    83.97
    """
    batch = Batch()
    scr, scys, age, female = batch.broadcast(
        batch.creatinine_mg_dl(creatinine),
        batch.cystatin_mg_l(cystatin_c),
        batch.age(age_years),
        batch.female(sex),
    )
    egfr = (
        CKD_EPI_2021_CR_CYS_CONSTANT
        * spline(
            scr / CKD_EPI_KAPPA_MG_DL.pick(female),
            CKD_EPI_2021_CR_CYS_CR_ALPHA.pick(female),
            CKD_EPI_2021_CR_CYS_CR_BETA,
        )
        * spline(
            scys / CKD_EPI_CYS_KAPPA_MG_L,
            CKD_EPI_2021_CR_CYS_CYS_ALPHA,
            CKD_EPI_2021_CR_CYS_CYS_BETA,
        )
        * CKD_EPI_2021_CR_CYS_AGE_BASE**age
        * np.where(female, CKD_EPI_2021_CR_CYS_FEMALE, 1.0)
    )
    return batch.result(egfr, unit=EGFR_PINT, display=EGFR_DISPLAY, name="egfr_ckd_epi_2021_cr_cys")
