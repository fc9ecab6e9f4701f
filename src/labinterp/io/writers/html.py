"""A patient's results as a self-contained HTML report (renders in Jupyter and browsers).

The page is a Jinja2 template (``templates/``) with autoescaping, so everything taken
from the input or the text catalogues is HTML-escaped; it loads nothing from outside
(styles inline, range pictures as inline SVG, trend plots embedded as PNG data), prints
(print styles) and reads on a phone (it reflows to the screen's width). What it shows
is worked out in :mod:`labinterp.io.writers.report_page`.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from labinterp.catalogue import Text, get_profile
from labinterp.io.writers.files import replaced_when_done
from labinterp.io.writers.report_page import Page, page_of
from labinterp.times import instants

__all__ = ["Report", "report"]

_STYLE = """
.labinterp-report{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;
max-width:52rem;margin:0 auto;padding:1rem;line-height:1.45}
.labinterp-report h1{font-size:1.5rem;margin:.2rem 0 .6rem}
.labinterp-report h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
.labinterp-report h3{font-size:1.15rem;margin:1rem 0 .4rem}
.labinterp-report h4{font-size:1.05rem;margin:0 0 .3rem}
.labinterp-report h4 small{font-weight:400;color:#555}
.about{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;margin:0}
.about div{min-width:10rem}.about dt{font-size:.8rem;color:#555}.about dd{margin:0;font-weight:600;
overflow-wrap:anywhere}
.legend ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;margin:0}
.swatch{display:inline-block;width:1.2em;height:.8em;margin-right:.35em;border-radius:.2em;
vertical-align:middle}
.card{border:1px solid #d0d0d0;border-radius:.5rem;padding:.8rem 1rem;margin:.8rem 0;
break-inside:avoid}
.value{margin:.1rem 0 .3rem;font-size:1.05rem}.value .number{font-size:1.4rem;font-weight:700}
.verdict{font-weight:700;margin-left:.6rem;white-space:nowrap}
.range{margin:.2rem 0 .4rem}.range figcaption{font-size:.85rem;color:#444}
.bar{width:100%;height:2.2rem;display:block}
.track{fill:#ececec}.band,.swatch.band{fill:#cfe8d6;background:#cfe8d6}
.critical,.swatch.critical{fill:#b00020;background:#b00020}
.verdict-normal{color:#1b6e34;fill:#1b6e34;background:#1b6e34}
.verdict-off{color:#9a4f00;fill:#9a4f00;background:#9a4f00}
.verdict-critical{color:#b00020;fill:#b00020;background:#b00020}
.verdict-none{color:#555;fill:#555;background:#555}
.verdict-differs{color:#5b3a8e;fill:#5b3a8e;background:#5b3a8e}
.verdict.verdict-normal,.verdict.verdict-off,.verdict.verdict-critical,.verdict.verdict-none,
.verdict.verdict-differs{background:none;white-space:normal}
.category{margin:.2rem 0;font-weight:600}.problem{color:#7a0016}
.caveats h5{font-size:.9rem;margin:.6rem 0 .2rem}.caveats ul{margin:0;padding-left:1.2rem}
.caveats li{font-size:.92rem;color:#333;margin:.15rem 0}
.cite{font-size:.8rem;text-decoration:none}
details summary{cursor:pointer;color:#0b4f8a;margin-top:.4rem}
.trends{max-width:100%;height:auto}
.sources li{font-size:.85rem;color:#333;overflow-wrap:anywhere;margin:.2rem 0}
footer{margin-top:2rem;padding-top:.8rem;border-top:1px solid #ccc;font-size:.92rem}
.kdigo{margin:.4rem 0 .6rem}
.kdigo-grid{border-collapse:separate;border-spacing:2px;width:100%;max-width:40rem;
font-size:.85rem;line-height:1.25}
.kdigo-grid caption{text-align:left;font-weight:700;margin-bottom:.3rem}
.kdigo-grid th{font-weight:400;text-align:left;vertical-align:top;padding:.2rem}
.kdigo-grid th.axis{font-weight:700;font-size:.8rem}.kdigo-grid thead th.axis:not(.corner){
text-align:center}
.kdigo-grid .grid-name{display:block;font-size:.75rem;color:#333}
.kdigo-grid .limits{display:block;font-weight:700;white-space:nowrap}
.kdigo-grid .grid-unit{display:block;font-weight:400}.kdigo-grid th.mine{background:#e8e8e8}
.risk{text-align:center;vertical-align:middle;padding:.45rem .15rem;color:#1a1a1a;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.risk-low{background:#7ccc7f}.risk-moderately_increased{background:#ffe14d}
.risk-high{background:#ff9f43}.risk-very_high{background:#c62828;color:#fff}
.swatch.risk-low,.swatch.risk-moderately_increased,.swatch.risk-high,.swatch.risk-very_high{
border:1px solid #555;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.risk.marked{outline:4px solid #1a1a1a;outline-offset:-4px;box-shadow:inset 0 0 0 6px #fff;
font-weight:700}
.grid-marked{font-weight:600;margin:.4rem 0 .2rem}.grid-legend-title{margin:.3rem 0 .1rem;
font-size:.85rem;color:#444}
.grid-legend{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;
font-size:.9rem}
.kdigo figcaption .text,.kdigo figcaption .when{margin:.4rem 0 0}.kdigo .when{font-size:.85rem;
color:#444}
@media (max-width:30rem){.kdigo-grid{border-spacing:1px;font-size:.8rem}
.kdigo-grid th.axis{font-size:.75rem}.kdigo-grid .grid-name{font-size:.7rem}}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;
clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap;border:0}
@media print{.card{border-color:#999}details{display:none}a{color:inherit}}
"""

#: The report's templates: autoescaped, loaded from the package.
_TEMPLATES = Environment(
    loader=PackageLoader("labinterp.io.writers", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=False,
    lstrip_blocks=False,
)


class Report:
    """One patient's latest results, each as a card, with trends and numbered sources.

    Create it with :func:`report`. In Jupyter it renders itself; ``to_html(path)``
    writes a standalone file. Every word is in the report's language and audience.
    """

    def __init__(
        self,
        interpreted: pd.DataFrame,
        patient_id: Any,
        *,
        lang: str | None = None,
        audience: str | None = None,
    ) -> None:
        rows = interpreted[interpreted["patient_id"].astype("string") == str(patient_id)]
        if rows.empty:
            raise LookupError("The frame has no results for this patient.")
        made = interpreted.attrs.get("labinterp", {})
        self._rows = rows
        self._patient_id = patient_id
        self._text = Text(
            lang or made.get("lang", "en"), audience or made.get("audience", "patient")
        )
        profile = made.get("profile")
        self._profile = (
            self._text.name(f"name.profile.{profile}", get_profile(profile).title)
            if profile
            else ""
        )

    def _latest(self) -> pd.DataFrame:
        rows = self._rows[self._rows["analyte"].notna()]
        if "collected_at" in rows.columns:
            # In order of the collection instants (each time with its own offset).
            offset = rows.get("collected_at_offset")
            rows = rows.assign(_at=instants(rows["collected_at"], offset)).sort_values(
                "_at", kind="stable", na_position="first"
            )
        series = (
            rows["equation"].astype(object).fillna("reported") if "equation" in rows else "reported"
        )
        grouped = rows.assign(_series=series).groupby(
            ["analyte", "_series"], sort=False, observed=True
        )
        return grouped.tail(1)

    def _trends(self) -> str:
        """Return the trend plots as base64 PNG (analytes with two or more results)."""
        try:
            from labinterp.plot import plot_results, trend_analytes

            repeated = trend_analytes(self._rows, patient_id=self._patient_id)
            if not repeated:
                return ""
            figure = plot_results(
                self._rows, patient_id=self._patient_id, analytes=repeated, lang=self._text.lang
            )
        except (ImportError, LookupError):
            return ""
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def page(self) -> Page:
        """Return what the report shows (header, cards, sources), before layout."""
        return page_of(
            self._latest(),
            patient=self._patient_id,
            text=self._text,
            profile=self._profile,
            trends=self._trends(),
            rows=self._rows,
        )

    def html_body(self) -> str:
        """Return the report's HTML without the surrounding document."""
        return _TEMPLATES.get_template("report_body.html.j2").render(page=self.page())

    def _repr_html_(self) -> str:
        return f"<div><style>{_STYLE}</style>{self.html_body()}</div>"

    def to_html(self, path: str | Path) -> Path:
        """Write a standalone HTML file and return its path.

        The file is written to a temporary file beside it (created exclusively, with an
        unpredictable name) and renamed into place when complete.
        """
        target = Path(path)
        document = _TEMPLATES.get_template("report.html.j2").render(page=self.page(), style=_STYLE)
        with replaced_when_done(target) as partial:
            partial.write_text(document, encoding="utf-8")
        return target


def report(
    interpreted: pd.DataFrame,
    *,
    patient_id: Any,
    lang: str | None = None,
    audience: str | None = None,
) -> Report:
    """Build a report of one patient's results.

    Parameters
    ----------
    interpreted
        A frame returned by :func:`labinterp.interpret` (``history=True`` marks
        significant changes in the trend plots).
    patient_id
        The patient.
    lang, audience
        The report's language (``"en"``, ``"nb"``, ``"sv"``) and audience
        (``"patient"``, ``"clinician"``); ``None`` takes those the frame was
        interpreted with, else English for patients.

    Returns
    -------
    Report
        Renders as HTML in Jupyter; ``.to_html(path)`` writes a file.

    Raises
    ------
    LookupError
        When the frame has no results for the patient.
    """
    return Report(interpreted, patient_id, lang=lang, audience=audience)
