"""The KDIGO heat map as the report shows it: the grid, the patient's cell marked.

A ``ckd_risk`` row (the heat map's risk of one sample set, see
:mod:`labinterp.steps.kidney`) names its eGFR and ACR rows in ``derived_from``; their
KDIGO categories (``KDIGO_GFR`` G1..G5, ``KDIGO_ACR`` A1..A3) place the patient in the
grid. The cells' risks are :data:`labinterp.equations.kdigo.HEAT_MAP`; the axis ranges
are the cut-offs of the schemes (``schemes.toml``), in the unit the ACR was classified in
(mg/mmol or mg/g); every word comes from the text catalogue (``name.report.grid_*``,
``name.category.*``). Nothing is guessed: a row whose sources cannot be found, or whose
categories do not give its risk, gets no grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from labinterp import catalogue
from labinterp.catalogue import Text
from labinterp.equations.kdigo import ALBUMINURIA_CATEGORIES, GFR_CATEGORIES, HEAT_MAP, RISKS
from labinterp.errors import UnitError
from labinterp.models import Scheme, SchemeCategory
from labinterp.precision import reporting_decimals
from labinterp.units import conversion

__all__ = ["Grid", "GridCell", "GridHeading", "kdigo_grid", "source_rows"]

#: The schemes of the grid's two axes and of its cells.
GFR_SCHEME, ACR_SCHEME, RISK_SCHEME = "KDIGO_GFR", "KDIGO_ACR", "KDIGO_CKD_RISK"

#: Writes a number for the report's locale (the report's own formatting).
Number = Callable[[float], str]


@dataclass(frozen=True)
class GridHeading:
    """One row (GFR) or column (albuminuria) heading of the grid."""

    label: str  # the category: "G3a", "A2"
    name: str  # its name in words: "G3a (mildly to moderately decreased)"
    limits: str  # its range from the scheme's cut-offs: "45–59", "< 3"
    marked: bool  # the patient's row or column


@dataclass(frozen=True)
class GridCell:
    """One cell: its risk (a key of :data:`~labinterp.equations.kdigo.RISKS`) and label."""

    risk: str
    label: str  # the risk in words, short: "High"
    marked: bool  # the patient's cell


@dataclass(frozen=True)
class Grid:
    """The heat map of one ``ckd_risk`` row, in the report's language and audience."""

    title: str
    gfr_axis: str  # the rows' heading
    gfr_unit: str  # the unit of their ranges
    acr_axis: str  # the columns' heading
    acr_unit: str  # the unit of their ranges (the one the ACR was classified in)
    columns: tuple[GridHeading, ...]
    rows: tuple[tuple[GridHeading, tuple[GridCell, ...]], ...]
    you: str  # what the marked cell is ("your result"), for screen readers
    marked: str  # the sentence saying which cell is marked, and how
    legend_title: str
    legend: tuple[tuple[str, str], ...]  # (risk, its name with its colour)


def _get(row: pd.Series, name: str) -> Any:
    value = row.get(name)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _key(row: pd.Series) -> str | None:
    """Return how a derived row names a source row: its own sources, else its row number."""
    made = _get(row, "derived_from")
    if made is not None:
        return str(made)
    number = _get(row, "source_row")
    return None if number is None else str(number)


def _same(a: Any, b: Any) -> bool:
    """Whether two collection times are the same (both missing counts as the same)."""
    a_missing, b_missing = a is None or pd.isna(a), b is None or pd.isna(b)
    return (a_missing and b_missing) or (not a_missing and not b_missing and a == b)


def source_rows(risk: pd.Series, rows: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """Return the eGFR and ACR rows a ``ckd_risk`` row was made from, or ``None``.

    ``derived_from`` lists the eGFR row's key (its own ``derived_from`` for a derived
    eGFR, else its ``source_row``), then the ACR row's ``source_row``. The eGFR row also
    has the risk row's collection time. ``None`` unless exactly one pair of categories is
    found and it gives the row's risk.
    """
    made = _get(risk, "derived_from")
    if made is None:
        return None
    made = str(made)
    categorised = rows[rows["category"].notna()]
    found: dict[tuple[str, str], tuple[pd.Series, pd.Series]] = {}
    for _, acr in categorised[categorised["analyte"] == "acr"].iterrows():
        acr_key = _key(acr)
        if acr_key is None or not made.endswith(f";{acr_key}"):
            continue
        egfr_key = made[: -len(acr_key) - 1]
        for _, egfr in categorised[categorised["analyte"] == "egfr"].iterrows():
            if _key(egfr) == egfr_key and _same(
                _get(egfr, "collected_at"), _get(risk, "collected_at")
            ):
                found[(str(egfr["category"]), str(acr["category"]))] = (egfr, acr)
    if len(found) != 1:
        return None
    (pair, chosen), *_ = found.items()
    return chosen if HEAT_MAP.get(pair) == _get(risk, "category") else None


def _cut_offs(scheme: Scheme, row: pd.Series) -> tuple[Sequence[SchemeCategory], str, float | None]:
    """Return the cut-offs a result was classified with, their unit as shown, and the step.

    A result in the unit of one of the scheme's ``in_units`` is classified there
    (unconverted); any other with the scheme's own cut-offs. The step is the smallest
    difference the unit is reported with (a range ``60–89`` ends one step below 90).
    """
    written = str(_get(row, "unit") or _get(row, "unit_canonical") or "")
    sets: list[tuple[str, Sequence[SchemeCategory], float | None]] = [
        (c.unit, c.categories, None) for c in scheme.in_units
    ]
    sets.append((str(scheme.unit), scheme.categories, scheme.resolution))
    for unit, categories, resolution in sets:
        try:
            same = conversion(written, unit, scheme.analyte)
        except UnitError:
            continue
        if abs(same.scale - 1.0) < 1e-9 and abs(same.offset) < 1e-12:
            decimals = reporting_decimals(scheme.analyte, unit)
            step = 10.0**-decimals if decimals is not None else resolution
            return categories, written, step
    return scheme.categories, str(scheme.unit), scheme.resolution


def _limits(categories: Sequence[SchemeCategory], step: float | None, number: Number) -> list[str]:
    """Return each category's range in words of symbols: ``< 15``, ``15–29``, ``≥ 90``.

    A lower bound is inclusive unless the category below includes its upper bound.
    """
    out = []
    for i, category in enumerate(categories):
        below = categories[i - 1] if i else None
        lower = None if below is None else below.upper
        lower_in = below is None or not below.upper_inclusive
        upper, upper_in = category.upper, category.upper_inclusive
        if lower is None and upper is not None:
            out.append(("≤ " if upper_in else "< ") + number(upper))
        elif lower is not None and upper is None:
            out.append(("≥ " if lower_in else "> ") + number(lower))
        elif lower is not None and upper is not None:
            if step is None and not (lower_in and upper_in):
                out.append(
                    f"{'≥' if lower_in else '>'} {number(lower)}, "
                    f"{'≤' if upper_in else '<'} {number(upper)}"
                )
            else:
                low = lower if lower_in else round(lower + (step or 0.0), 10)
                high = upper if upper_in else round(upper - (step or 0.0), 10)
                out.append(f"{number(low)}–{number(high)}")
        else:
            out.append("")
    return out


def _headings(
    scheme: Scheme, row: pd.Series, labels: Sequence[str], text: Text, number: Number
) -> tuple[tuple[GridHeading, ...], str]:
    """Return an axis's headings (in ``labels`` order) and the unit of their ranges."""
    categories, unit, step = _cut_offs(scheme, row)
    ranges = _limits(categories, step, number)
    limits = dict(zip([c.label for c in categories], ranges, strict=True))
    mine = str(row["category"])
    headings = tuple(
        GridHeading(
            label=label,
            name=text.name(f"name.category.{scheme.name}.{label}", label),
            limits=limits.get(label, ""),
            marked=label == mine,
        )
        for label in labels
    )
    return headings, unit


def kdigo_grid(risk: pd.Series, rows: pd.DataFrame, text: Text, number: Number) -> Grid | None:
    """Return the heat map of a ``ckd_risk`` row, the patient's cell marked.

    Parameters
    ----------
    risk
        The ``ckd_risk`` row.
    rows
        The patient's interpreted rows (those the risk row names among them).
    text
        The report's language and audience.
    number
        Writes a number for the report's locale.

    Returns
    -------
    Grid or None
        ``None`` when the row is not a ``ckd_risk`` row of the heat map, or its eGFR and
        ACR rows cannot be found with the categories that give its risk.
    """
    if _get(risk, "analyte") != "ckd_risk" or _get(risk, "scheme") != RISK_SCHEME:
        return None
    sources = source_rows(risk, rows)
    if sources is None:
        return None
    egfr, acr = sources
    schemes = catalogue.schemes()
    gfr_rows, gfr_unit = _headings(schemes[GFR_SCHEME], egfr, GFR_CATEGORIES, text, number)
    columns, acr_unit = _headings(schemes[ACR_SCHEME], acr, ALBUMINURIA_CATEGORIES, text, number)
    word = _Words(text)
    grid_rows = tuple(
        (
            heading,
            tuple(
                GridCell(
                    risk=HEAT_MAP[(heading.label, column.label)],
                    label=word("cell_" + HEAT_MAP[(heading.label, column.label)]),
                    marked=heading.marked and column.marked,
                )
                for column in columns
            ),
        )
        for heading in gfr_rows
    )
    gfr_name = next(h.name for h in gfr_rows if h.marked)
    acr_name = next(h.name for h in columns if h.marked)
    return Grid(
        title=word("title"),
        gfr_axis=word("gfr_axis"),
        gfr_unit=gfr_unit,
        acr_axis=word("acr_axis"),
        acr_unit=acr_unit,
        columns=columns,
        rows=grid_rows,
        you=word("you"),
        marked=f"{word('marked')}: {gfr_name}, {acr_name}.",
        legend_title=word("legend"),
        legend=tuple(
            (level, text.name(f"name.category.{RISK_SCHEME}.{level}", level)) for level in RISKS
        ),
    )


class _Words:
    """The grid's words: ``name.report.grid_<word>`` of the text catalogue."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __call__(self, word: str) -> str:
        return self.text.name(f"name.report.grid_{word}", word)
