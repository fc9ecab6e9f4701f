"""Trend plots of a patient's results (matplotlib, in the ``[plot]`` extra).

Only analytes with results at two or more times are drawn: one result is not a trend.
Every word on a plot comes from the text catalogue of the chosen language (``plot.*`` and
``name.analyte.*`` entries, ``equation.*`` for derived series), dates included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from labinterp.catalogue import Text
from labinterp.errors import UnknownAnalyteError
from labinterp.names import analyte_key, analyte_name
from labinterp.steps.explain import equation_name
from labinterp.times import instants

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MIN_RESULTS", "PLOTTABLE", "plot_results", "trend_analytes"]

#: Statuses of rows whose value is plotted.
PLOTTABLE = ("ok", "derived", "no_reference", "missing_context")
#: An analyte is drawn when it has results at this many distinct times.
MIN_RESULTS = 2
#: Flags drawn as outside the reference interval.
_OUTSIDE = ("L", "H", "LL", "HH", "A", "AA")
_BAND = "tab:green"


def _patient_rows(interpreted: pd.DataFrame, patient_id: Any) -> pd.DataFrame:
    """Return the patient's plottable rows in order of collection instant, with ``_x``.

    ``_at`` is the instant (UTC); ``_x``, where the point is drawn, is that instant at
    the UTC offset of the patient's latest result, so the axis reads as local dates.
    """
    rows = interpreted[interpreted["patient_id"].astype("string") == str(patient_id)]
    if rows.empty:
        raise LookupError("The frame has no results for this patient.")
    rows = rows[rows["status"].isin(PLOTTABLE) & rows["collected_at"].notna()]
    rows = rows[np.isfinite(rows["value_canonical"].astype("float64"))]
    offset = rows["collected_at_offset"] if "collected_at_offset" in rows.columns else None
    rows = rows.assign(_at=instants(rows["collected_at"], offset)).sort_values("_at", kind="stable")
    shift = pd.Timedelta(0)
    if offset is not None:
        known = rows["collected_at_offset"].dropna()
        if len(known):
            shift = pd.Timedelta(minutes=int(known.iloc[-1]))
    return rows.assign(_x=rows["_at"] + shift)


def _trends(rows: pd.DataFrame) -> list[str]:
    """Analytes (in order of first result) with results at ``MIN_RESULTS`` or more times."""
    times = rows.groupby(rows["analyte"].astype(object), sort=False)["_at"].nunique()
    return [str(a) for a, n in times.items() if n >= MIN_RESULTS]


def trend_analytes(interpreted: pd.DataFrame, *, patient_id: Any) -> list[str]:
    """Return the analytes :func:`plot_results` draws for a patient.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret`.
    patient_id
        The patient.

    Returns
    -------
    list of str
        Analyte keys with a value at two or more collection times, in order of the
        first result; empty when there is no trend to draw.

    Raises
    ------
    LookupError
        When the frame has no results for the patient.
    """
    return _trends(_patient_rows(interpreted, patient_id))


def _wanted(rows: pd.DataFrame, analytes: Sequence[str] | None) -> list[str]:
    """Return the analyte keys asked for (keys or names in any language), in order."""
    if analytes is None:
        return [str(a) for a in pd.unique(rows["analyte"].astype(object)) if pd.notna(a)]
    keys = []
    for name in analytes:
        key = analyte_key(name)
        if key is None:
            raise UnknownAnalyteError(
                "Unknown analyte: give a catalogue key or an analyte's name.", field="analyte"
            )
        keys.append(key)
    return list(dict.fromkeys(keys))


def _says(text: Text, key: str) -> str:
    entry = text.get(f"plot.{key}")
    return entry.text if entry is not None else key


def _band(ax: Axes, data: pd.DataFrame, text: Text) -> None:
    """Shade the reference interval; an open end runs to the edge of the axis."""
    x = data["_x"].to_numpy()
    low = data["reference_low"].astype("float64").replace([-np.inf], np.nan)
    high = data["reference_high"].astype("float64").replace([np.inf], np.nan)
    has = (low.notna() | high.notna()).to_numpy(dtype=bool)
    if not has.any():
        return
    for limit in (low, high):
        if limit.notna().any():
            ax.step(x, limit.to_numpy(), where="mid", color=_BAND, linewidth=1)
    ax.autoscale_view()
    bottom, top = ax.get_ylim()
    room = 0.15 * (top - bottom)  # an open side shows beyond its limit
    if low.isna().any() and high.notna().any():
        bottom = min(bottom, float(high.min()) - room)
    if high.isna().any() and low.notna().any():
        top = max(top, float(low.max()) + room)
    ax.set_ylim(bottom, top)  # the open ends of the band run to these edges
    ax.fill_between(
        x,
        low.fillna(bottom).to_numpy(),
        high.fillna(top).to_numpy(),
        where=has,
        step="mid",
        alpha=0.18,
        color=_BAND,
        linewidth=0,
        label=_says(text, "reference"),
    )


def _panel(ax: Axes, data: pd.DataFrame, analyte: str, text: Text) -> None:
    """Draw one analyte: its series, flagged points, significant changes and band."""
    x = data["_x"].to_numpy()
    value = data["value_canonical"].astype("float64").to_numpy()
    equation = data["equation"].astype(object) if "equation" in data.columns else None
    series = pd.Series("", index=data.index, dtype=object)
    if equation is not None:
        series = equation.where(data["status"] == "derived", "").fillna("")
    for name in pd.unique(series):
        part = (series == name).to_numpy(dtype=bool)
        label = _says(text, "result")
        if name:
            label = _says(text, "derived").replace("{equation}", equation_name(name, text))
        ax.plot(x[part], value[part], marker="o", linestyle="--" if name else "-", label=label)
    outside = data["flag"].isin(_OUTSIDE).to_numpy(dtype=bool)
    if outside.any():
        ax.scatter(
            x[outside], value[outside], color="tab:red", zorder=3, label=_says(text, "flagged")
        )
    if "significant_change" in data.columns:
        significant = data["significant_change"].fillna(False).to_numpy(dtype=bool)
        if significant.any():
            ax.scatter(
                x[significant],
                value[significant],
                s=170,
                facecolors="none",
                edgecolors="black",
                linewidths=1.5,
                zorder=4,
                label=_says(text, "significant"),
            )
    _band(ax, data, text)
    units = data["unit_canonical"].dropna().astype(str).unique()
    ax.set_title(analyte_name(analyte, text.lang), loc="left", fontsize="medium")
    ax.set_ylabel(", ".join(units))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(alpha=0.3)


def _date_axis(ax: Axes, x: pd.Series, text: Text) -> None:
    """Ticks and labels that fit the span of the data (years, months, days or minutes)."""
    from matplotlib import dates

    days = (x.max() - x.min()) / pd.Timedelta(days=1)
    untyped: Any = dates  # matplotlib.dates has no annotations
    if days >= 3 * 365:
        pattern, locator = "year", untyped.YearLocator(base=math.ceil(days / 365 / 7) or 1)
    elif days >= 90:
        pattern, locator = "month", untyped.MonthLocator(interval=math.ceil(days / 30 / 7) or 1)
    elif days >= 2:
        pattern, locator = "day", untyped.DayLocator(interval=math.ceil(days / 7) or 1)
    else:
        pattern, locator = "minute", untyped.AutoDateLocator(minticks=2, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(untyped.DateFormatter(_says(text, f"date.{pattern}")))
    ax.set_xlabel(_says(text, "collected"))


def plot_results(
    interpreted: pd.DataFrame,
    *,
    patient_id: Any,
    analytes: Sequence[str] | None = None,
    lang: str | None = None,
    when_empty: Literal["raise", "explain"] = "raise",
) -> Figure:
    """Plot one patient's results over time, one panel per analyte with a trend.

    Each panel shows the values in the reporting unit, the reference interval used for
    each result (shaded; an interval with one limit is shaded from that limit to the
    edge of the panel), results outside it (red) and, when the frame has the history
    columns, results whose change from the previous one exceeds the reference change
    value (circled). Points are ordered by their collection instant (the time with its
    UTC offset) and drawn at the UTC offset of the latest result. An analyte with results
    at fewer than two times is not drawn; the figure names it.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret` (with ``history=True`` to
        mark significant changes).
    patient_id
        The patient to plot.
    analytes
        Analytes to plot, in order, by catalogue key or by name in any language
        (``"hba1c"``, ``"Kreatinin"``); all of the patient's analytes by default.
    lang
        Language of the words and dates on the plot; by default the one the frame was
        interpreted in (``attrs["labinterp"]["lang"]``), else English.
    when_empty
        When no analyte has a trend: ``"raise"`` a :class:`LookupError`, or
        ``"explain"`` it in a figure without panels.

    Returns
    -------
    labinterp.figure.TrendFigure
        A matplotlib Figure that shows itself as a PNG image in Jupyter.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install 'labinterp[plot]'``).
    LookupError
        When the frame has no results for the patient, or (``when_empty="raise"``) no
        analyte asked for has a trend.
    labinterp.UnknownAnalyteError
        When an analyte asked for is neither a catalogue key nor a known name.
    """
    try:
        from labinterp.figure import TrendFigure
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("Plots need matplotlib: pip install 'labinterp[plot]'.") from exc

    made = interpreted.attrs.get("labinterp", {})
    text = Text(lang or str(made.get("lang", "en")), "patient")
    rows = _patient_rows(interpreted, patient_id)
    wanted = _wanted(rows, analytes)
    trends = set(_trends(rows))
    drawn = [a for a in wanted if a in trends]
    skipped = [analyte_name(a, text.lang) for a in wanted if a not in trends]
    note = f"{_says(text, 'not_drawn')} {', '.join(skipped)}" if skipped else ""
    if not drawn:
        if when_empty == "raise":
            raise LookupError("No analyte asked for has results at two or more times to plot.")
        figure = TrendFigure(figsize=(8, 1.4), layout="constrained")
        message = "\n".join(m for m in (_says(text, "nothing"), note) if m)
        figure.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
        return figure
    figure = TrendFigure(figsize=(9, 0.4 + 2.6 * len(drawn)), layout="constrained")
    axes = figure.subplots(len(drawn), 1, sharex=True, squeeze=False)[:, 0]
    for ax, analyte in zip(axes, drawn, strict=True):
        _panel(ax, rows[rows["analyte"] == analyte], analyte, text)
    _date_axis(axes[-1], rows.loc[rows["analyte"].isin(drawn), "_x"], text)
    if note:
        figure.supxlabel(note, fontsize="small", ha="left", x=0.01)
    return figure
