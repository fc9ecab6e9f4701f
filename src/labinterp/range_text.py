"""Reference ranges: parse lab-supplied range text and choose catalogue rows.

A range supplied by the lab with the result takes precedence when it can be
parsed and its unit agrees with the result's; otherwise the profile's catalogue
is used, partitioned by sex and age. The chosen range is reported with its
provenance (``reference_source``, ``reference_citation``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labinterp.values import parse_value

__all__ = ["LabRange", "parse_range_text", "parse_range_texts"]

_NUM = r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)"
_DASH = r"(?:-|–|—|\u2212|_| to )"
_BETWEEN = re.compile(
    rf"^(?P<low>{_NUM})\s*{_DASH}\s*(?P<high>{_NUM})?\s*(?P<unit>[A-Za-zµμ%].*)?$"
)
_UPTO = re.compile(rf"^{_DASH}\s*(?P<high>{_NUM})\s*(?P<unit>[A-Za-zµμ%].*)?$")
_BOUND = re.compile(rf"^(?P<cmp><=|>=|=<|=>|≤|≥|<|>)\s*(?P<num>{_NUM})\s*(?P<unit>[A-Za-zµμ%].*)?$")


@dataclass(frozen=True, slots=True)
class LabRange:
    """A range parsed from the text a lab sent (``lab_reference_text``).

    Bounds are in the unit of the text (``unit``) or, when the text has none,
    in the result's unit.
    """

    low: float
    high: float
    low_inclusive: bool
    high_inclusive: bool
    unit: str | None = None


def _number(text: str) -> float | None:
    parsed = parse_value(text, decimal=",") if "," in text else parse_value(text, decimal=".")
    return None if parsed.status is not None or parsed.comparator else parsed.value


def parse_range_text(text: object) -> LabRange | None:
    """Parse a reference range as labs write it.

    Accepts ``"0,71 - 0,94"``, ``"0.71-0.94"``, ``"60 - "`` (open upper end),
    ``"- 5"``, ``"< 5"``, ``">90"``, ``"<= 5"``, ``"70_105"`` (HL7 v2), each
    optionally followed by a unit (``"0.71-0.94 mmol/L"``).

    Parameters
    ----------
    text
        The range text; anything that is not a string gives ``None``.

    Returns
    -------
    LabRange or None
        ``None`` when the text is empty or not a range labinterp can read.

    Examples
    --------
    >>> parse_range_text("0,71 - 0,94")
    LabRange(low=0.71, high=0.94, low_inclusive=True, high_inclusive=True, unit=None)
    >>> parse_range_text(">90")
    LabRange(low=90.0, high=inf, low_inclusive=False, high_inclusive=True, unit=None)
    """
    if not isinstance(text, str):
        return None
    cleaned = re.sub(r"[\s\u00a0]+", " ", text).strip()
    if not cleaned:
        return None
    match = _BOUND.match(cleaned)
    if match:
        value = _number(match.group("num"))
        if value is None:
            return None
        cmp = match.group("cmp")
        unit = (match.group("unit") or "").strip() or None
        if cmp in {"<", "<=", "=<", "≤"}:
            return LabRange(-np.inf, value, True, cmp != "<", unit)
        return LabRange(value, np.inf, cmp != ">", True, unit)
    match = _BETWEEN.match(cleaned)
    if match:
        low = _number(match.group("low"))
        high_text = match.group("high")
        high = _number(high_text) if high_text else np.inf
        if low is None or high is None or low > high:
            return None
        unit = (match.group("unit") or "").strip() or None
        return LabRange(low, high, True, True, unit)
    match = _UPTO.match(cleaned)
    if match:
        high = _number(match.group("high"))
        if high is None:
            return None
        unit = (match.group("unit") or "").strip() or None
        return LabRange(-np.inf, high, True, True, unit)
    return None


def parse_range_texts(texts: pd.Series) -> pd.DataFrame:
    """Parse a column of range texts, vectorised over its distinct values.

    Returns
    -------
    pandas.DataFrame
        Columns ``lab_low``, ``lab_high``, ``lab_low_inclusive``,
        ``lab_high_inclusive``, ``lab_range_unit``, ``lab_range_parsed`` (bool:
        a text was present and read) and ``lab_range_present`` (bool), with the
        index of ``texts``.
    """
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    parsed = [parse_range_text(u) for u in uniques]
    present = [isinstance(u, str) and bool(u.strip()) for u in uniques]
    parsed.append(None)
    present.append(False)
    table = pd.DataFrame(
        {
            "lab_low": [p.low if p else np.nan for p in parsed],
            "lab_high": [p.high if p else np.nan for p in parsed],
            "lab_low_inclusive": [p.low_inclusive if p else True for p in parsed],
            "lab_high_inclusive": [p.high_inclusive if p else True for p in parsed],
            "lab_range_unit": [p.unit if p else None for p in parsed],
            "lab_range_parsed": [p is not None for p in parsed],
            "lab_range_present": present,
        }
    )
    taken = table.iloc[np.where(codes < 0, len(parsed) - 1, codes)]
    taken.index = texts.index
    return taken
