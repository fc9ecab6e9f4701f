"""Trend plots of a patient's results (matplotlib, in the ``[plot]`` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_results"]

_ABNORMAL = ("L", "H", "LL", "HH")


def _patient_rows(interpreted: pd.DataFrame, patient_id: Any) -> pd.DataFrame:
    rows = interpreted[interpreted["patient_id"].astype("string") == str(patient_id)]
    rows = rows[rows["status"].isin(["ok", "derived", "no_reference", "missing_context"])]
    rows = rows[np.isfinite(rows["value_canonical"].astype("float64"))]
    return rows[rows["collected_at"].notna()].sort_values("collected_at", kind="stable")


def plot_results(
    interpreted: pd.DataFrame,
    *,
    patient_id: Any,
    analytes: Sequence[str] | None = None,
) -> Figure:
    """Plot one patient's results over time, one panel per analyte.

    Each panel shows the values in the reporting unit, the reference band used for
    each result (shaded), flagged results (marked) and, when the frame has the
    history columns, results whose change from the previous one exceeds the
    reference change value (circled).

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret` (with ``history=True`` to
        mark significant changes).
    patient_id
        The patient to plot.
    analytes
        Analyte keys to plot, in order; all of the patient's analytes by default.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install 'labinterp[plot]'``).
    LookupError
        When the patient has no plottable result.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("Plots need matplotlib: pip install 'labinterp[plot]'.") from exc

    rows = _patient_rows(interpreted, patient_id)
    names = list(analytes) if analytes is not None else list(pd.unique(rows["analyte"]))
    names = [a for a in names if (rows["analyte"] == a).any()]
    if not names:
        raise LookupError("The patient has no result with a value and a collection time to plot.")
    figure = Figure(figsize=(8, 2.4 * len(names)), layout="constrained")
    axes = figure.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, analyte in zip(axes, names, strict=True):
        data = rows[rows["analyte"] == analyte]
        when = pd.to_datetime(data["collected_at"])
        value = data["value_canonical"].astype("float64")
        low = data["reference_low"].astype("float64").replace([-np.inf], np.nan)
        high = data["reference_high"].astype("float64").replace([np.inf], np.nan)
        if low.notna().any() or high.notna().any():
            # An open end of a range is drawn a little past the edge of the data.
            lowest = np.nanmin([value.min(), low.min(), high.min()])
            highest = np.nanmax([value.max(), low.max(), high.max()])
            margin = 0.1 * ((highest - lowest) or abs(highest) or 1.0)
            bottom = low.fillna(lowest - margin)
            top = high.fillna(highest + margin)
            ax.fill_between(
                when,
                bottom,
                top,
                step="mid",
                alpha=0.18,
                color="tab:green",
                label="reference range",
            )
        # Reported results and each derivation (equation) are separate series.
        equation = data["equation"].astype(object)
        series = equation.where(data["status"] == "derived", "reported").fillna("reported")
        for name in pd.unique(series):
            part = (series == name).to_numpy(dtype=bool)
            ax.plot(
                when[part],
                value[part],
                marker="o",
                linestyle="-" if name == "reported" else "--",
                label="result" if name == "reported" else f"derived ({name})",
            )
        flagged = data["flag"].isin(_ABNORMAL).to_numpy(dtype=bool)
        if flagged.any():
            ax.scatter(when[flagged], value[flagged], color="tab:red", zorder=3, label="flagged")
        if "significant_change" in data.columns:
            significant = data["significant_change"].fillna(False).to_numpy(dtype=bool)
            if significant.any():
                ax.scatter(
                    when[significant],
                    value[significant],
                    s=160,
                    facecolors="none",
                    edgecolors="black",
                    zorder=4,
                    label="significant change",
                )
        unit = data["unit_canonical"].dropna()
        ax.set_ylabel(f"{analyte}\n({unit.iloc[0] if len(unit) else ''})")
        ax.legend(loc="best", fontsize="small")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("collected")
    return figure
