"""A patient's results as a self-contained HTML report (renders in Jupyter and browsers).

Everything taken from the input or the text catalogues is HTML-escaped; the page loads
nothing from outside (styles inline, trend plots embedded as PNG data).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labinterp import catalogue
from labinterp.io.writers.files import replaced_when_done
from labinterp.times import instants, time_texts

__all__ = ["Report", "report"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:.4em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.flag-L,.flag-H{color:#b35c00;font-weight:600}
.flag-LL,.flag-HH{color:#b00020;font-weight:700}.caveat{color:#555;font-size:.9em}
.sources li{font-size:.85em;color:#444}img{max-width:100%}
"""


def _esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if not np.isfinite(number):
        return ""
    return _esc(f"{number:.4g}")


def _range_text(row: pd.Series) -> str:
    low, high = row.get("reference_low"), row.get("reference_high")
    low_ok = low is not None and np.isfinite(float(low)) if pd.notna(low) else False
    high_ok = high is not None and np.isfinite(float(high)) if pd.notna(high) else False
    if low_ok and high_ok:
        return f"{_number(low)}–{_number(high)}"
    if low_ok:
        return f"{'≥' if row.get('reference_low_inclusive') else '>'} {_number(low)}"
    if high_ok:
        return f"{'≤' if row.get('reference_high_inclusive') else '<'} {_number(high)}"
    return ""


class Report:
    """One patient's latest results with explanations, caveats, sources and trends.

    Create it with :func:`report`. In Jupyter it renders itself; ``to_html(path)``
    writes a standalone file.
    """

    def __init__(self, interpreted: pd.DataFrame, patient_id: Any) -> None:
        rows = interpreted[interpreted["patient_id"].astype("string") == str(patient_id)]
        if rows.empty:
            raise LookupError("The frame has no results for this patient.")
        self._rows = rows
        self._patient_id = patient_id

    def _latest(self) -> pd.DataFrame:
        rows = self._rows[self._rows["analyte"].notna()]
        if "collected_at" in rows.columns:
            # In order of the collection instants; each time shown with its own offset.
            offset = rows.get("collected_at_offset")
            shown = time_texts(rows["collected_at"], offset, sep=" ")
            rows = rows.assign(
                _at=instants(rows["collected_at"], offset),
                _when=pd.Series(shown, index=rows.index, dtype=object),
            ).sort_values("_at", kind="stable", na_position="first")
        series = (
            rows["equation"].astype(object).fillna("reported") if "equation" in rows else "reported"
        )
        grouped = rows.assign(_series=series).groupby(
            ["analyte", "_series"], sort=False, observed=True
        )
        return grouped.tail(1)

    def _plot(self) -> str:
        try:
            from labinterp.plot import plot_results

            figure = plot_results(self._rows, patient_id=self._patient_id)
        except (ImportError, LookupError):
            return ""
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<h2>Trends</h2><img alt="Trend plots" src="data:image/png;base64,{data}">'

    def _sources(self, keys: set[str]) -> str:
        bibliography = catalogue.sources()
        items = []
        for key in sorted(keys):
            source = bibliography.get(key)
            if source is None:
                continue
            parts = [
                source.authors,
                f"({source.year})" if source.year else None,
                source.title,
                source.container,
                f"doi:{source.doi}" if source.doi else None,
            ]
            text = ". ".join(p for p in parts if p)
            items.append(f"<li><b>{_esc(key)}</b>: {_esc(text)}</li>")
        return f'<h2>Sources</h2><ul class="sources">{"".join(items)}</ul>' if items else ""

    def html_body(self) -> str:
        """Return the report's HTML without the surrounding document."""
        latest = self._latest()
        body = [
            "<h1>Laboratory results</h1>",
            "<h2>Latest results</h2>",
            "<table>",
            "<tr><th>Analyte</th><th>Result</th><th>Unit</th><th>Reference</th>"
            "<th>Flag</th><th>Category</th><th>Collected</th><th>Explanation</th></tr>",
        ]
        keys: set[str] = set()
        for _, row in latest.iterrows():
            value = row.get("value_canonical")
            shown = f"{_esc(row.get('comparator') or '')}{_number(value)}"
            if not _number(value):
                shown = _esc(row.get("raw_value"))
            flag = _esc(row.get("flag"))
            caveats = "".join(
                f'<div class="caveat">{_esc(c)}</div>'
                for c in str(row.get("caveats") or "").split(" | ")
                if c
            )
            problem = (
                f'<div class="caveat">{_esc(row.get("problem"))}</div>'
                if pd.notna(row.get("problem"))
                else ""
            )
            name = _esc(row.get("analyte"))
            if row.get("status") == "derived":
                name += f" <small>(derived: {_esc(row.get('equation'))})</small>"
            body.append(
                f"<tr><td>{name}</td><td>{shown}</td><td>{_esc(row.get('unit_canonical'))}</td>"
                f'<td>{_range_text(row)}</td><td class="flag-{flag}">{flag}</td>'
                f"<td>{_esc(row.get('category'))}</td><td>{_esc(row.get('_when'))}</td>"
                f"<td>{_esc(row.get('explanation'))}{caveats}{problem}</td></tr>"
            )
            keys |= {k for k in str(row.get("explanation_sources") or "").split("; ") if k}
        body.append("</table>")
        body.append(self._plot())
        body.append(self._sources(keys))
        return "\n".join(body)

    def _repr_html_(self) -> str:
        return f"<div><style>{_STYLE}</style>{self.html_body()}</div>"

    def to_html(self, path: str | Path) -> Path:
        """Write a standalone HTML file and return its path.

        The file is written under a hidden name and renamed into place when complete.
        """
        target = Path(path)
        document = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            "<title>Laboratory results</title>"
            f"<style>{_STYLE}</style></head><body>{self.html_body()}</body></html>"
        )
        with replaced_when_done(target) as partial:
            partial.write_text(document, encoding="utf-8")
        return target


def report(interpreted: pd.DataFrame, *, patient_id: Any) -> Report:
    """Build a report of one patient's results.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret` (``history=True`` marks
        significant changes in the trend plots).
    patient_id
        The patient.

    Returns
    -------
    Report
        Renders as HTML in Jupyter; ``.to_html(path)`` writes a file.

    Raises
    ------
    LookupError
        When the frame has no results for the patient.
    """
    return Report(interpreted, patient_id)
