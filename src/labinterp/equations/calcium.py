"""Albumin-corrected calcium: total calcium adjusted to a normal albumin.

About 40-45 % of serum calcium is bound to protein, mostly albumin, so a low albumin
lowers total calcium without changing the free (active) calcium. Nordic laboratories
adjust it linearly; the Norwegian and the Swedish formulas differ:

=====================================  ==========================================  ================
function                               formula (calcium mmol/L, albumin g/L)        source
=====================================  ==========================================  ================
``calcium_corrected_nordic``           Ca + 0.020 × (41.3 − albumin)               Fürst, Unilabs
``calcium_corrected_karolinska``       Ca + 0.01 × (39 − albumin)                  Karolinska
=====================================  ==========================================  ================

Parameters whose names carry their unit take plain numbers in that unit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

__all__ = [
    "CALCIUM_CORRECTIONS",
    "calcium_corrected_karolinska",
    "calcium_corrected_nordic",
]

#: Norwegian formula (Min_Furst_KalsiumKorrigert: 'Kalsium korrigert = S-Kalsium - 0,02 x
#: (S-Albumin - 41,3)'; Min_Unilabs_Referanseverdier: 'Ca + 0,020 (41,3-alb)').
NORDIC_SLOPE: Final = 0.020
NORDIC_ALBUMIN_G_L: Final = 41.3
#: Swedish formula (Min_Karolinska_PCalcium: 'P-Calcium + 0,01 x (39 - P-Albumin)').
KAROLINSKA_SLOPE: Final = 0.01
KAROLINSKA_ALBUMIN_G_L: Final = 39.0


def calcium_corrected_nordic(calcium_mmol_l: Any, albumin_g_l: Any) -> Any:
    """Return albumin-corrected calcium by the Norwegian formula [mmol/L].

    Ca + 0.020 × (41.3 − albumin), as Fürst and Unilabs print it.

    Parameters
    ----------
    calcium_mmol_l
        Total calcium [mmol/L]: a number or an array.
    albumin_g_l
        Albumin [g/L] of the same sample.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> round(calcium_corrected_nordic(1.85, 24), 2)  # Fürst's example: 2.20
    2.2
    """
    return _corrected(calcium_mmol_l, albumin_g_l, NORDIC_SLOPE, NORDIC_ALBUMIN_G_L)


def calcium_corrected_karolinska(calcium_mmol_l: Any, albumin_g_l: Any) -> Any:
    """Return albumin-corrected calcium by the Swedish (Karolinska) formula [mmol/L].

    Ca + 0.01 × (39 − albumin).

    Parameters
    ----------
    calcium_mmol_l
        Total calcium [mmol/L]: a number or an array.
    albumin_g_l
        Albumin [g/L] of the same sample.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> round(calcium_corrected_karolinska(2.10, 29), 2)
    2.2
    """
    return _corrected(calcium_mmol_l, albumin_g_l, KAROLINSKA_SLOPE, KAROLINSKA_ALBUMIN_G_L)


def _corrected(calcium_mmol_l: Any, albumin_g_l: Any, slope: float, reference_g_l: float) -> Any:
    """Return Ca + slope × (reference albumin − albumin): the linear correction."""
    out = np.asarray(calcium_mmol_l, dtype="float64") + slope * (
        reference_g_l - np.asarray(albumin_g_l, dtype="float64")
    )
    return out.item() if out.ndim == 0 else out


#: The corrections by the name a profile gives (``calcium_correction``).
CALCIUM_CORRECTIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "calcium_corrected_nordic": calcium_corrected_nordic,
    "calcium_corrected_karolinska": calcium_corrected_karolinska,
}
