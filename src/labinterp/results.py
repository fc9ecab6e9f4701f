"""What an interpreted frame holds, for a person or a program: failures and findings.

:func:`failures` lists the rows that need attention; :func:`findings` turns each row into
a :class:`~labinterp.models.Finding`, the same model :func:`labinterp.interpret_one`
returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from labinterp.models import Finding
from labinterp.steps.explain import CAVEAT_SEPARATOR
from labinterp.vocab import Flag, Status

__all__ = ["failures", "findings"]


def failures(interpreted: pd.DataFrame) -> pd.DataFrame:
    """Return the rows that could not be interpreted, with their row, field and reason.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_row``, ``analyte``, ``status``, ``problem``.
    """
    bad = ~interpreted["status"].isin([Status.OK.value, Status.DERIVED.value])
    return interpreted.loc[bad, ["source_row", "analyte", "status", "problem"]].reset_index(
        drop=True
    )


def _none_if_nan(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _finite(value: Any) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def findings(interpreted: pd.DataFrame) -> list[Finding]:
    """Return one :class:`~labinterp.models.Finding` per row of an interpreted frame.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.

    Returns
    -------
    list of Finding
        In row order; ``derived_from`` holds the ``source_row`` numbers of the
        results a derived row was computed from.
    """
    return [_finding(record) for _, record in interpreted.iterrows()]


def _finding(record: pd.Series) -> Finding:
    get: Callable[[str], Any] = {k: _none_if_nan(v) for k, v in record.items()}.get
    flag_text = get("flag") or None
    has_range = bool(get("reference_source"))
    derived_from = get("derived_from")
    return Finding(
        analyte=get("analyte"),
        status=Status(get("status")),
        problem=get("problem"),
        raw_value=None if get("raw_value") is None else str(get("raw_value")),
        raw_unit=get("raw_unit"),
        comparator=get("comparator") or None,
        value=get("value"),
        unit=get("unit"),
        value_canonical=get("value_canonical"),
        value_canonical_exact=get("value_canonical_exact"),
        unit_canonical=get("unit_canonical"),
        reference_low=_finite(get("reference_low")),
        reference_high=_finite(get("reference_high")),
        reference_low_inclusive=get("reference_low_inclusive") if has_range else None,
        reference_high_inclusive=get("reference_high_inclusive") if has_range else None,
        critical_low=_finite(get("critical_low")),
        critical_high=_finite(get("critical_high")),
        critical_low_inclusive=get("critical_low_inclusive"),
        critical_high_inclusive=get("critical_high_inclusive"),
        reference_source=get("reference_source"),
        reference_citation=get("reference_citation"),
        flag=Flag(flag_text) if flag_text else None,
        lab_flag=None if get("lab_flag") is None else str(get("lab_flag")),
        agrees_with_lab=get("agrees_with_lab"),
        scheme=get("scheme"),
        category=get("category"),
        relation=get("relation"),
        explanation=get("explanation"),
        sources=tuple(s for s in (get("explanation_sources") or "").split("; ") if s),
        caveats=tuple(c for c in (get("caveats") or "").split(CAVEAT_SEPARATOR) if c),
        equation=get("equation"),
        derived_from=tuple(int(p) for p in str(derived_from).split(";")) if derived_from else (),
        source_status=get("source_status"),
    )
