"""The KDIGO 2012 heat map: prognosis of CKD by GFR and albuminuria category.

KDIGO 2012 (Chapter 1, the colour grid "Prognosis of CKD by GFR and albuminuria
categories"; retained by KDIGO 2024) crosses the six GFR categories with the three
albuminuria categories into four risk levels: green ("low risk", if no other marker of
kidney disease, no CKD), yellow ("moderately increased risk"), orange ("high risk") and
red ("very high risk"). The grid is :data:`HEAT_MAP`; :func:`kdigo_risk` reads it for a
pair of labels or element-wise for arrays and Series.

This module places nothing in a category: the GFR category of an eGFR and the
albuminuria category of an ACR come from the caller (the engine's classification
schemes). A label this grid does not hold (``"G3"``, ``"g3a"``, a missing value) gives
``None``: never a guess, and the caller records why.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.equations.series import shared_index
from labinterp.errors import InvalidResultError

__all__ = [
    "ALBUMINURIA_CATEGORIES",
    "GFR_CATEGORIES",
    "HEAT_MAP",
    "KDIGO_RISK_INPUTS",
    "RISKS",
    "kdigo_risk",
]

#: GFR categories, best first (KDIGO2012 Table 5, recommendation 1.2.3).
GFR_CATEGORIES: Final = ("G1", "G2", "G3a", "G3b", "G4", "G5")
#: Albuminuria categories, best first (KDIGO2012 Table 6, recommendation 1.2.4).
ALBUMINURIA_CATEGORIES: Final = ("A1", "A2", "A3")
#: Risk levels of the heat map, lowest first: green, yellow, orange, red.
RISKS: Final = ("low", "moderately_increased", "high", "very_high")
#: The catalogue analytes whose categories the heat map combines (for derivedFrom).
KDIGO_RISK_INPUTS: Final = ("egfr", "acr")

# Row per GFR category, column per albuminuria category: index into RISKS.
_GRID: Final = np.array(
    [
        [0, 1, 2],  # G1
        [0, 1, 2],  # G2
        [1, 2, 3],  # G3a
        [2, 3, 3],  # G3b
        [3, 3, 3],  # G4
        [3, 3, 3],  # G5
    ],
    dtype=np.int8,
)

#: The heat map as a constant: ``(gfr_category, albuminuria_category) -> risk``.
#: KDIGO2012 Chapter 1, "Prognosis of CKD by GFR and albuminuria categories" (its figure
#: number in the guideline was not verified); the grid is cross-checked against its
#: reproduction in WJD2017_HeatMap (Table 1). KDIGO2024 keeps the same grid.
HEAT_MAP: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        (gfr, albuminuria): RISKS[_GRID[row, column]]
        for row, gfr in enumerate(GFR_CATEGORIES)
        for column, albuminuria in enumerate(ALBUMINURIA_CATEGORIES)
    }
)


def kdigo_risk(gfr_category: Any, albuminuria_category: Any) -> Any:
    """Return the KDIGO 2012 prognosis (heat-map colour) of a GFR and albuminuria category.

    Parameters
    ----------
    gfr_category
        ``"G1"``, ``"G2"``, ``"G3a"``, ``"G3b"``, ``"G4"`` or ``"G5"``, written exactly so
        (:data:`GFR_CATEGORIES`): one label, an array/list of labels or a Series.
    albuminuria_category
        ``"A1"``, ``"A2"`` or ``"A3"`` (:data:`ALBUMINURIA_CATEGORIES`), same kinds.

    Returns
    -------
    str, None, numpy.ndarray or pandas.Series
        ``"low"``, ``"moderately_increased"``, ``"high"`` or ``"very_high"``
        (:data:`RISKS`). For two single labels a str; element-wise otherwise (an object
        array, or an object Series named ``"kdigo_risk"`` with the input's index when
        either input is a Series). A missing value or a label the grid does not hold
        (another spelling, ``"G3"`` without a or b) gives ``None``: never a guess; the
        caller records the problem.

    Raises
    ------
    InvalidResultError
        Two Series with different indexes, or inputs of different lengths.

    Notes
    -----
    "low" in G1/G2 with A1 means no CKD if there is no other marker of kidney damage
    (KDIGO2012). The risk levels are monotone: a worse GFR or albuminuria category never
    gives a lower risk.

    References
    ----------
    KDIGO2012 (Chapter 1, heat map; Tables 5 and 6), KDIGO2024, WJD2017_HeatMap.

    Examples
    --------
    >>> kdigo_risk("G3a", "A2")
    'high'
    >>> kdigo_risk("G2", "A1")
    'low'
    >>> print(kdigo_risk("G3", "A1"))
    None
    >>> kdigo_risk(["G1", "G4", None], ["A3", "A1", "A2"]).tolist()
    ['high', 'very_high', None]
    """
    index = shared_index(gfr_category, albuminuria_category)
    scalar = index is None and np.ndim(gfr_category) == 0 and np.ndim(albuminuria_category) == 0
    gfr = _codes(gfr_category, GFR_CATEGORIES)
    albuminuria = _codes(albuminuria_category, ALBUMINURIA_CATEGORIES)
    try:
        gfr, albuminuria = np.broadcast_arrays(gfr, albuminuria)
    except ValueError as exc:
        raise InvalidResultError(_LENGTHS) from exc
    if index is not None and gfr.shape != (len(index),):
        raise InvalidResultError(_LENGTHS)
    known = (gfr >= 0) & (albuminuria >= 0)
    risks = np.asarray(RISKS, dtype=object)
    out = np.full(gfr.shape, None, dtype=object)
    out[known] = risks[_GRID[gfr[known], albuminuria[known]]]
    if scalar:
        return out.item()
    if index is not None:
        return pd.Series(out, index=index, name="kdigo_risk", dtype=object)
    return out


_LENGTHS: Final = (
    "The inputs have different lengths; give arrays and Series of one length "
    "(a single label is repeated)."
)


def _codes(values: Any, labels: tuple[str, ...]) -> npt.NDArray[np.intp]:
    """Return each value's position in ``labels`` (-1 for missing or unknown)."""
    if isinstance(values, pd.Series):
        array = values.to_numpy(dtype=object)
    else:
        array = np.asarray(values, dtype=object)
    flat = array.ravel()
    # Only exact str labels match: a number, None or NaN never equals a label.
    keys = [item if isinstance(item, str) else None for item in flat.tolist()]
    codes = pd.Index(labels).get_indexer(pd.Index(keys, dtype=object))
    return np.asarray(codes, dtype=np.intp).reshape(array.shape)
