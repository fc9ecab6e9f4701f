"""Values placed in ordered categories by their upper cut-offs (the schemes' binning).

No scheme knowledge here: :mod:`labinterp.steps.schemes` chooses the cut-offs, the
comparators and the labels; these functions place values among them, for arrays
(:func:`categorise`, :func:`category_codes`) and one value (:func:`categorise_one`, the
scalar twin).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["categorise", "categorise_one", "category_codes"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def categorise(
    value: FloatArray,
    comparator: npt.NDArray[np.object_],
    uppers: Sequence[float],
    upper_inclusive: Sequence[bool],
    labels: Sequence[str],
) -> npt.NDArray[np.object_]:
    """Place values in ordered categories, vectorised.

    Category *i* holds the values below ``uppers[i]`` (up to and including it when
    ``upper_inclusive[i]``) that are not in an earlier category; the last label
    takes the rest. Lower bounds are therefore inclusive unless the category
    below is upper-inclusive. A censored value gets a category only when every
    value it stands for falls in the same one.

    Parameters
    ----------
    value
        Numbers in the scheme's unit (NaN where there is none).
    comparator
        ``""``, ``"<"``, ``"<="``, ``">"`` or ``">="`` per value.
    uppers, upper_inclusive
        Bounds of all categories but the last, increasing.
    labels
        One label per category (``len(uppers) + 1``).

    Returns
    -------
    numpy.ndarray
        The label per value, ``""`` where it cannot be given.

    Examples
    --------
    >>> import numpy as np
    >>> labels = ["G5", "G4", "G3b", "G3a", "G2", "G1"]
    >>> cmp = np.array(["", "", "<"], dtype=object)
    >>> categorise(np.array([59.9, 60.0, 14.0]), cmp, [15, 30, 45, 60, 90], [False] * 5, labels)
    array(['G3a', 'G2', 'G5'], dtype=object)
    """
    codes = category_codes(value, comparator, uppers, upper_inclusive)
    return np.array([*labels, ""], dtype=object)[codes]


def category_codes(
    value: FloatArray,
    comparator: npt.NDArray[np.object_],
    uppers: Sequence[float],
    upper_inclusive: Sequence[bool],
    *,
    censored: BoolArray | None = None,
) -> npt.NDArray[np.int64]:
    """Return each value's category as its position (-1 where none can be given).

    The same placement as :func:`categorise`, as numbers. ``censored`` may give where
    ``comparator`` is not ``""`` when already known.

    Examples
    --------
    >>> import numpy as np
    >>> cmp = np.array(["", "", "<"], dtype=object)
    >>> category_codes(np.array([59.9, 60.0, 14.0]), cmp, [15, 30, 45, 60, 90], [False] * 5)
    array([3, 4, 0])
    """
    value = np.asarray(value, dtype="float64")
    cmp = np.asarray(comparator, dtype=object)
    bounds = np.asarray(uppers, dtype="float64")
    inclusive = np.asarray(upper_inclusive, dtype=bool)

    last = len(bounds)
    # A bound that is not upper-inclusive belongs to the category above it.
    shut = np.append(~inclusive, False)

    def index(x: FloatArray) -> npt.NDArray[np.int64]:
        # Number of bounds the value is beyond (bounds increase).
        below_x = np.searchsorted(bounds, x, side="left")
        at_bound = np.searchsorted(bounds, x, side="right") > below_x
        return np.asarray(below_x + (at_bound & shut[below_x]), dtype=np.int64)

    exact = index(value)
    low, high = exact, exact.copy()
    # Censored values (usually few) span the categories their comparator reaches.
    censored_at = np.flatnonzero(cmp != "" if censored is None else censored)
    if len(censored_at):
        c, x, at = cmp[censored_at], value[censored_at], exact[censored_at]
        below = index(np.nextafter(x, -np.inf))
        above = index(np.nextafter(x, np.inf))
        low = exact.copy()
        low[censored_at] = np.select(
            [(c == "<") | (c == "<="), c == ">", c == ">="], [0, above, at], at
        )
        high[censored_at] = np.select(
            [c == "<", c == "<=", (c == ">") | (c == ">=")], [below, at, last], at
        )
    codes = np.where(low == high, np.clip(low, 0, last), -1)
    codes[np.isnan(value)] = -1
    return np.asarray(codes, dtype=np.int64)


def categorise_one(
    value: float,
    comparator: str,
    uppers: Sequence[float],
    upper_inclusive: Sequence[bool],
    labels: Sequence[str],
) -> str:
    """Place one value in ordered categories; the scalar twin of :func:`categorise`.

    Returns
    -------
    str
        The label, ``""`` where it cannot be given.

    Examples
    --------
    >>> categorise_one(59.9, "", [15, 30, 45, 60, 90], [False] * 5,
    ...                ["G5", "G4", "G3b", "G3a", "G2", "G1"])
    'G3a'
    """
    if math.isnan(value):
        return ""

    def index(x: float) -> int:
        return sum(
            (x > b) if inc else (x >= b) for b, inc in zip(uppers, upper_inclusive, strict=True)
        )

    last = len(uppers)
    exact = index(value)
    if comparator in ("<", "<="):
        low, high = 0, index(math.nextafter(value, -math.inf)) if comparator == "<" else exact
    elif comparator in (">", ">="):
        low = index(math.nextafter(value, math.inf)) if comparator == ">" else exact
        high = last
    else:
        low = high = exact
    return labels[min(max(low, 0), last)] if low == high else ""
