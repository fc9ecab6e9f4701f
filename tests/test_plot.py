"""Trend plots: only trends, words in the frame's language, one-sided bands, instants."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import labinterp
from labinterp import catalogue
from labinterp.names import analyte_key, analyte_name
from labinterp.plot import plot_results, trend_analytes
from labinterp.times import offset_text

from .conftest import DATA

pytest.importorskip("matplotlib")

TOM = DATA / "fhir" / "Tom_Goodwin_e20de9eb-6f2d-4871-a43f-bbede53293ed.json"


@pytest.fixture(scope="module")
def synthea() -> pd.DataFrame:
    return labinterp.interpret(labinterp.read_fhir(TOM), profile="us", history=True)


def _patient(frame: pd.DataFrame) -> str:
    return str(frame["patient_id"].dropna().iloc[0])


def _magnesium(times: list[str], values: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "patient_id": "p1",
            "analyte": "magnesium",
            "raw_value": values,
            "raw_unit": "mmol/L",
            "collected_at": times,
            "age_years": 40,
            "sex": "F",
        }
    )
    return labinterp.interpret(frame, history=True)


def _legend(ax) -> set[str]:
    return {t.get_text() for t in ax.get_legend().get_texts()}


def test_plot_has_one_panel_per_trend(synthea: pd.DataFrame, tmp_path: Path) -> None:
    """One panel per analyte with a trend; names, units and legend come from the catalogue."""
    figure = synthea.labinterp.plot(patient_id=_patient(synthea), analytes=["hba1c", "creatinine"])
    axes = figure.get_axes()
    assert [ax.get_title(loc="left") for ax in axes] == ["HbA1c", "Creatinine"]
    assert [ax.get_ylabel() for ax in axes] == ["%", "mg/dL"]
    assert _legend(axes[1]) == {
        "Reference interval",
        "Result",
        "Outside the reference interval",
        "Significant change (RCV)",
    }
    assert axes[-1].get_xlabel() == "Sample date"
    path = tmp_path / "plot.png"
    figure.savefig(path)
    assert path.stat().st_size > 10_000


def test_plot_in_norwegian_and_swedish(synthea: pd.DataFrame) -> None:
    """Titles, legends, the date axis and the derived series' name are in the language."""
    patient = _patient(synthea)
    nb = synthea.labinterp.plot(patient_id=patient, analytes=["hba1c", "egfr"], lang="nb")
    assert nb.get_axes()[0].get_title(loc="left") == "HbA1c (langtidsblodsukker)"
    assert "Beregnet (CKD-EPI 2021 (kreatinin))" in _legend(nb.get_axes()[1])
    assert nb.get_axes()[-1].get_xlabel() == "Prøvedato"
    sv = synthea.labinterp.plot(patient_id=patient, analytes=["creatinine"], lang="sv")
    assert _legend(sv.get_axes()[0]) >= {"Referensintervall", "Signifikant förändring (RCV)"}


def test_analytes_by_display_name(synthea: pd.DataFrame) -> None:
    """An analyte may be asked for by its name in any language, not only by its key."""
    patient = _patient(synthea)
    by_name = synthea.labinterp.plot(
        patient_id=patient, analytes=["Kreatinin", "HbA1c (långtidsblodsocker)", "eGFR"]
    )
    titles = [ax.get_title(loc="left") for ax in by_name.get_axes()]
    assert titles == ["Creatinine", "HbA1c", analyte_name("egfr")]
    with pytest.raises(labinterp.UnknownAnalyteError):
        synthea.labinterp.plot(patient_id=patient, analytes=["not an analyte"])


def test_single_results_are_not_trends(synthea: pd.DataFrame) -> None:
    """An analyte with one result is not drawn, and the figure names it."""
    patient = _patient(synthea)
    assert "albumin" not in trend_analytes(synthea, patient_id=patient)
    figure = synthea.labinterp.plot(patient_id=patient, analytes=["hba1c", "albumin"])
    assert len(figure.get_axes()) == 1
    assert figure._supxlabel.get_text() == "Not drawn, fewer than two results: Albumin"
    # Nothing to draw: the accessor explains it, plot_results raises.
    alone = synthea.labinterp.plot(patient_id=patient, analytes=["albumin"], lang="sv")
    assert not alone.get_axes()
    assert "Ingen analys har två eller fler resultat" in alone.texts[0].get_text()
    with pytest.raises(LookupError):
        plot_results(synthea, patient_id=patient, analytes=["albumin"])
    with pytest.raises(LookupError):
        synthea.labinterp.plot(patient_id="nobody")


def test_one_sided_range_is_a_one_sided_band(synthea: pd.DataFrame) -> None:
    """HbA1c (upper limit only) is shaded to the bottom edge; creatinine's band is closed."""
    figure = synthea.labinterp.plot(patient_id=_patient(synthea), analytes=["hba1c", "creatinine"])
    edges = []
    for ax in figure.get_axes():
        (band,) = [c for c in ax.collections if c.get_label() == "Reference interval"]
        y = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
        bottom, top = ax.get_ylim()
        edges.append((np.isclose(y.min(), bottom), np.isclose(y.max(), top), y.max()))
    assert edges[0][0] and np.isclose(edges[0][2], 5.7)  # open below, closed at 5.7
    assert edges[0][2] < figure.get_axes()[0].get_ylim()[1]
    assert not edges[1][0] and not edges[1][1]


def test_points_are_ordered_by_instant_not_wall_clock() -> None:
    """08:00+02:00 (06:00 UTC) comes before 07:00Z and 07:30Z."""
    out = _magnesium(
        ["2026-03-01T08:00+02:00", "2026-03-01T07:30+00:00", "2026-03-01T07:00+00:00"],
        ["0.80", "0.90", "1.20"],
    )
    (line,) = plot_results(out, patient_id="p1").get_axes()[0].get_lines()[:1]
    assert list(np.round(line.get_ydata(), 2)) == [0.8, 1.2, 0.9]


def test_date_axis_fits_the_data() -> None:
    """Three days: day ticks inside the data's days; no axis running into other years."""
    out = _magnesium(["2026-03-01T08:00", "2026-03-02T09:00", "2026-03-04T08:00"], ["1"] * 3)
    figure = plot_results(out, patient_id="p1", lang="nb")
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.get_axes()[0].get_xticklabels() if t.get_text()]
    assert labels and all(label.endswith(".03.2026") for label in labels)


def test_figure_displays_as_png_in_ipython(synthea: pd.DataFrame) -> None:
    """IPython's display formatter gives the figure as image/png with any backend."""
    from IPython.core.formatters import DisplayFormatter

    figure = synthea.labinterp.plot(patient_id=_patient(synthea), analytes=["hba1c"])
    data, _ = DisplayFormatter().format(figure)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_accessor_report_displays_inline(synthea: pd.DataFrame) -> None:
    """df.labinterp.report(...) is the report, which Jupyter shows as HTML."""
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(synthea.labinterp.report(patient_id=_patient(synthea)))
    assert "labinterp-report" in data["text/html"] and "<svg" in data["text/html"]


@pytest.mark.parametrize("lang", ["en", "nb", "sv"])
def test_names_and_plot_words_in_every_language(lang: str) -> None:
    """Every analyte has a name in each language, which leads back to the analyte."""
    english = {k for k in catalogue.text_catalogue("en") if k.startswith(("plot.", "name.analyte"))}
    texts = catalogue.text_catalogue(lang)
    assert english <= set(texts)
    for key in catalogue.analytes():
        assert f"name.analyte.{key}" in texts
        assert analyte_key(analyte_name(key, lang)) == key


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(-720, 840), st.integers(50, 150)),
        min_size=2,
        max_size=6,
        unique_by=lambda t: t[0] - t[1],
    )
)
def test_drawn_in_order_of_instants(points: list[tuple[int, int, int]]) -> None:
    """Whatever the offsets, the line runs through the results in order of their instants."""
    base = pd.Timestamp("2026-01-01")
    times = [
        (base + pd.Timedelta(minutes=m)).isoformat(timespec="minutes") + offset_text(o)
        for m, o, _ in points
    ]
    out = _magnesium(times, [f"{v / 100:.2f}" for *_, v in points])
    line = plot_results(out, patient_id="p1").get_axes()[0].get_lines()[0]
    order = sorted(points, key=lambda t: t[0] - t[1])
    assert list(np.round(line.get_ydata(), 2)) == [v / 100 for *_, v in order]
    assert np.all(np.diff(line.get_xdata().astype("datetime64[ns]")) > np.timedelta64(0))
