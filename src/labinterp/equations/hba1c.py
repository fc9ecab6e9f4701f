"""HbA1c: the IFCC/NGSP master equation and the ADAG estimated average glucose.

NGSP (DCCT-aligned, %) and IFCC (mmol/mol) are different measurement scales,
not units of one quantity, so these functions take plain numbers on a named
scale rather than pint Quantities.
"""

from __future__ import annotations

from typing import Any, Final

from labinterp.units import (
    HBA1C_MASTER_INTERCEPT,
    HBA1C_MASTER_SLOPE,
    IFCC_TO_NGSP,
    NGSP_TO_IFCC,
    unit_registry,
)

__all__ = [
    "IFCC_TO_NGSP",
    "NGSP_TO_IFCC",
    "eag_from_hba1c",
    "eag_mg_dl",
    "hba1c_ifcc_to_ngsp",
    "hba1c_ngsp_to_ifcc",
]

#: Master equation slope and intercept, NGSP % = 0.09148 * IFCC + 2.152 (Hoelzel2004).
#: The numbers and the conversions :data:`IFCC_TO_NGSP` / :data:`NGSP_TO_IFCC` are
#: defined once in :mod:`labinterp.units`, which converts HbA1c between the scales.
MASTER_SLOPE: Final = HBA1C_MASTER_SLOPE
MASTER_INTERCEPT: Final = HBA1C_MASTER_INTERCEPT

#: ADAG regression, eAG [mg/dL] = 28.7 * A1C [%] - 46.7 (Nathan2008, Diabetes Care 31:1473).
EAG_SLOPE_MG_DL: Final = 28.7
EAG_INTERCEPT_MG_DL: Final = -46.7


def hba1c_ifcc_to_ngsp(ifcc_mmol_per_mol: Any) -> Any:
    r"""Convert HbA1c from the IFCC scale to the NGSP (DCCT) scale.

    .. math:: \mathrm{NGSP} = 0.09148 \cdot \mathrm{IFCC} + 2.152

    Parameters
    ----------
    ifcc_mmol_per_mol
        HbA1c [mmol/mol], scalar, array or Series.

    Returns
    -------
    Same kind as the input
        HbA1c [%] on the NGSP scale.

    References
    ----------
    Hoelzel2004 (master equation).

    Examples
    --------
    >>> round(hba1c_ifcc_to_ngsp(48), 1)
    6.5
    """
    return IFCC_TO_NGSP(ifcc_mmol_per_mol)


def hba1c_ngsp_to_ifcc(ngsp_percent: Any) -> Any:
    r"""Convert HbA1c from the NGSP (DCCT) scale to the IFCC scale.

    .. math:: \mathrm{IFCC} = (\mathrm{NGSP} - 2.152) / 0.09148

    Parameters
    ----------
    ngsp_percent
        HbA1c [%] on the NGSP scale, scalar, array or Series.

    Returns
    -------
    Same kind as the input
        HbA1c [mmol/mol].

    References
    ----------
    Hoelzel2004 (algebraic inverse of the master equation).

    Examples
    --------
    >>> round(hba1c_ngsp_to_ifcc(6.5))
    48
    """
    return NGSP_TO_IFCC(ngsp_percent)


def eag_from_hba1c(ngsp_percent: Any) -> Any:
    r"""Estimated average glucose from HbA1c (ADAG study).

    .. math:: \mathrm{eAG} = 28.7 \cdot \mathrm{A1C} - 46.7

    Parameters
    ----------
    ngsp_percent
        HbA1c [%] on the NGSP scale.

    Returns
    -------
    pint.Quantity
        eAG [mg/dL] (magnitude of the same kind as the input).

    References
    ----------
    Nathan2008 (ADAG), Table.

    Examples
    --------
    >>> round(eag_from_hba1c(7.0).to("mg/dL").magnitude)
    154
    """
    return eag_mg_dl(ngsp_percent) * unit_registry()("mg/dL")


def eag_mg_dl(ngsp_percent: Any) -> Any:
    """Return :func:`eag_from_hba1c` as a plain number in mg/dL (no pint needed).

    Examples
    --------
    >>> round(eag_mg_dl(7.0))
    154
    """
    return EAG_SLOPE_MG_DL * ngsp_percent + EAG_INTERCEPT_MG_DL
