"""Read: identify, parse values, normalise and convert units, check plausibility, sex.

What reading a row tells, before any range is chosen: enough to derive from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labinterp.errors import ReasonCode
from labinterp.perf import ColumnCodes, objects
from labinterp.steps.convert import convert_groups, unit_info
from labinterp.steps.identify import identify
from labinterp.steps.plausibility import check_plausible
from labinterp.steps.state import (
    SEXES,
    IntArray,
    ObjArray,
    Outcome,
    Rows,
    apply_affine,
    codes_of,
    column,
)
from labinterp.values import Decimal, parse_column
from labinterp.vocab import Sex

__all__ = ["read"]


@dataclass(frozen=True)
class _Units:
    """Each row's unit as normalised, once per distinct unit as written."""

    display: ObjArray  # per row, the displayed unit (None: none or unknown)
    shown: IntArray  # per row, the displayed unit's position in ``names`` (-1: none)
    names: tuple[str, ...]  # each displayed unit once
    pint: ObjArray  # per distinct unit as written, its pint expression
    convertible: IntArray  # per row, a position in ``pint`` (-1: cannot be converted)


def _units(frame: pd.DataFrame, coded: ColumnCodes | None, outcome: Outcome) -> _Units:
    """Normalise each distinct unit; record the unknown ones."""
    units = codes_of(frame, "raw_unit", coded)
    unit_codes, unit_texts = units.codes, units.uniques
    infos = [unit_info(u) for u in unit_texts] + [unit_info(None)]
    taken = np.where(unit_codes < 0, len(unit_texts), unit_codes)
    names = tuple(dict.fromkeys(u.display for u in infos if u.display is not None))
    shown = np.array(
        [names.index(u.display) if u.display is not None else -1 for u in infos],
        dtype=np.int64,
    )[taken]
    has_problem = np.array([u.problem is not None for u in infos], dtype=bool)[taken]
    if has_problem.any():
        unit_problem = objects(len(taken))
        unit_problem[has_problem] = np.array([u.problem for u in infos], dtype=object)[
            taken[has_problem]
        ]
        outcome.record(has_problem, ReasonCode.UNKNOWN_UNIT, unit_problem)
    converts = np.array([u.pint is not None for u in infos], dtype=bool)[taken]
    return _Units(
        display=np.array([u.display for u in infos], dtype=object)[taken],
        shown=shown,
        names=names,
        pint=np.array([u.pint for u in infos], dtype=object),
        convertible=np.where(converts, taken, -1),
    )


def read(
    frame: pd.DataFrame,
    decimal: Decimal | None,
    target: Callable[[str], str | None],
    lab_text: IntArray,
    coded: ColumnCodes | None = None,
) -> Rows:
    """Recognise analytes, parse values and units, convert, and check plausibility.

    ``coded`` holds columns of ``frame`` already factorized.
    """
    outcome = Outcome(len(frame))
    number = identify(frame, outcome, coded)

    parsed = parse_column(
        column(frame, "raw_value"),
        decimal,
        codes=coded.get("raw_value") if coded is not None else None,
    )
    entry = parsed.rows
    comparator = parsed.comparator[entry]
    censored = (parsed.comparator != "")[entry]  # compared once per distinct value
    value = parsed.value[entry]
    for code in (ReasonCode.UNPARSED_VALUE, ReasonCode.AMBIGUOUS_VALUE):
        hit = (parsed.status == code.value)[entry]  # compared once per distinct value
        if hit.any():
            outcome.record(hit, code, parsed.problem[entry])

    units = _units(frame, coded, outcome)
    scale, offset, unit_group = convert_groups(
        number, units.pint, units.convertible, target, outcome
    )
    with np.errstate(over="ignore"):  # a huge number converts to an infinity, refused below
        value_canonical = apply_affine(scale, offset, value)
    check_plausible(
        number,
        value,
        value_canonical,
        unit_display=units.display,
        censored=censored,
        target=target,
        outcome=outcome,
    )
    # A number beyond a float's range is refused above; no number is kept for it (the
    # raw value keeps what was written), so value columns are finite or NaN.
    beyond = np.isinf(value) | np.isinf(value_canonical)
    if beyond.any():
        value = np.where(beyond, np.nan, value)
        value_canonical = np.where(beyond, np.nan, value_canonical)

    sexes_coded = codes_of(frame, "sex", coded)
    sex_codes, sex_texts = sexes_coded.codes, sexes_coded.uniques
    sexes = [getattr(Sex.parse(t), "value", "") for t in sex_texts] + [""]
    sex_taken = np.where(sex_codes < 0, len(sex_texts), sex_codes)
    sex_number = np.array([SEXES.index(x) for x in sexes], dtype=np.int64)[sex_taken]
    return Rows(
        number=number,
        comparator=comparator,
        censored=censored,
        value=value,
        unit_display=units.display,
        unit_code=units.shown,
        unit_names=units.names,
        scale=scale,
        offset=offset,
        unit_group=unit_group,
        value_canonical=value_canonical,
        sex_number=sex_number,
        sex_unrecognised=(sex_codes >= 0) & (sex_number == 0),
        age=pd.to_numeric(column(frame, "age_years"), errors="coerce").to_numpy(dtype="float64"),
        lab_text=lab_text,
        status=outcome.status,
        status_number=outcome.number,
        problem=outcome.problem,
        open=outcome.open(),
    )
