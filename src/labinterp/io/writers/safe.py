"""Safe outputs: neutralise spreadsheet formula injection in CSV text and header cells."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["FORMULA_START", "is_formula", "neutralise_formulas", "safe_cell"]

#: Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A regular expression (RE2 and Python syntax) for text starting with a trigger; only
#: such text can be a formula (:func:`is_formula` decides).
FORMULA_START = r"^[=+\-@\t\r]"
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote.

    A text cell or column name starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a leading ``'``; numeric columns and text that is just a number
    (``-1,5``) are left alone.

    Parameters
    ----------
    frame
        Any frame about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        A copy with the risky text cells and column names prefixed.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "-1,5", "ok"]}))["a"].tolist()
    ["'=1+1", '-1,5', 'ok']
    >>> list(neutralise_formulas(pd.DataFrame({"=HYPERLINK()": [1]})).columns)
    ["'=HYPERLINK()"]
    """
    out = frame.copy()
    out.columns = pd.Index([safe_cell(c) if is_formula(c) else c for c in out.columns])
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        # Text columns repeat a few values many times: check each distinct value once.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        risky_unique = np.array([is_formula(u) for u in uniques] + [False], dtype=bool)
        risky = risky_unique[codes]
        if risky.any():
            fixed = np.asarray(values, dtype=object).copy()
            fixed[risky] = np.array([safe_cell(u) for u in uniques], dtype=object)[codes[risky]]
            out[column] = pd.Series(fixed, index=out.index, dtype=object)
    return out


def is_formula(value: object) -> bool:
    """Return whether a spreadsheet would run this cell as a formula (text only).

    Examples
    --------
    >>> is_formula("=1+1"), is_formula("-1,5"), is_formula(-2.0)
    (True, False, False)
    """
    if not isinstance(value, str):
        return False
    return value.startswith(_TRIGGERS) and _NUMBER.match(value) is None


def safe_cell(value: object) -> str:
    """Return a cell's text as CSV output writes it: a formula gets a leading ``'``.

    Examples
    --------
    >>> safe_cell("=1+1"), safe_cell("-1,5"), safe_cell(2.5)
    ("'=1+1", '-1,5', '2.5')
    """
    return f"'{value}" if is_formula(value) else str(value)
