"""The KDIGO heat map in the patient report: the grid, the patient's cell marked."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from markupsafe import escape

import labinterp
from labinterp import catalogue
from labinterp.catalogue import Text
from labinterp.io.writers.report_page import format_number

LANGS = ("en", "nb", "sv")
GFR_ROWS = ("G1", "G2", "G3a", "G3b", "G4", "G5")
ACR_COLUMNS = ("A1", "A2", "A3")

# (eGFR in mL/min/1.73 m², ACR in mg/mmol) -> (G, A) and the heat map's risk.
# Source: KDIGO2012, Chapter 1, heat map "Prognosis of CKD by GFR and albuminuria
# categories" (green low, yellow moderately increased, orange high, red very high);
# categories by KDIGO2012 Tables 5 and 6.
CASES = [
    (95, 2.0, "G1", "A1", "low"),
    (70, 1.0, "G2", "A1", "low"),
    (70, 10.0, "G2", "A2", "moderately_increased"),
    (50, 2.0, "G3a", "A1", "moderately_increased"),
    (95, 45.0, "G1", "A3", "high"),
    (50, 10.0, "G3a", "A2", "high"),
    (35, 2.0, "G3b", "A1", "high"),
    (35, 45.0, "G3b", "A3", "very_high"),
    (20, 2.0, "G4", "A1", "very_high"),
    (10, 10.0, "G5", "A2", "very_high"),
]


def _rows(
    egfr: float, acr: float, unit: str = "mg/mmol", when: str = "2026-03-01 08:00"
) -> list[dict[str, Any]]:
    base = {"patient_id": "p1", "sex": "female", "age_years": 57.0, "collected_at": when}
    return [
        {**base, "analyte": "egfr", "raw_value": str(egfr), "raw_unit": "mL/min/1.73m2"},
        {**base, "analyte": "acr", "raw_value": str(acr), "raw_unit": unit},
    ]


def _report(
    rows: list[dict[str, Any]], lang: str = "en", audience: str = "patient"
) -> labinterp.Report:
    out = labinterp.interpret(pd.DataFrame(rows), profile="no", lang=lang, audience=audience)
    return labinterp.report(out, patient_id="p1")


class _Grid(HTMLParser):
    """The grid's table as parsed: row headers, cells (classes, text) and tag balance."""

    VOID = frozenset({"br", "wbr", "img", "meta", "link", "hr", "input", "rect", "path"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.in_table = False
        self.rows: list[list[tuple[str, str, str]]] = []  # (tag, class, text) per cell
        self.cell: list[Any] | None = None
        self.captions: list[str] = []
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
        found = dict(attrs)
        if tag == "table" and "kdigo-grid" in (found.get("class") or ""):
            self.in_table = True
        if not self.in_table:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = [tag, found.get("class") or "", ""]
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
        else:
            self.stack.pop()
        if tag in ("td", "th") and self.cell is not None and self.in_table:
            self.rows[-1].append((self.cell[0], self.cell[1], " ".join(self.cell[2].split())))
            self.cell = None
        elif tag == "table":
            self.in_table = False
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell[2] += data
        if self._in_caption:
            self.captions.append(data.strip())


def _grid(html: str) -> _Grid:
    parser = _Grid()
    parser.feed(html)
    parser.close()
    return parser


def _marked(grid: _Grid) -> list[tuple[str, str, str]]:
    """Return (row header text, column, class) of every marked cell."""
    found = []
    for row in grid.rows[2:]:  # two header rows
        for column, (tag, classes, _) in zip(ACR_COLUMNS, row[1:], strict=True):
            if tag == "td" and "marked" in classes.split():
                found.append((row[0][2], column, classes))
    return found


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("egfr", "acr", "gfr", "albuminuria", "risk"), CASES)
def test_the_grid_marks_the_patients_cell(
    lang: str, egfr: float, acr: float, gfr: str, albuminuria: str, risk: str
) -> None:
    """One cell is marked, in the row of the eGFR's G and the column of the ACR's A."""
    html = _report(_rows(egfr, acr), lang).html_body()
    grid = _grid(html)
    assert not grid.errors
    assert len(grid.rows) == 2 + len(GFR_ROWS)
    assert [row[0][2].split()[0] for row in grid.rows[2:]] == list(GFR_ROWS)
    marked = _marked(grid)
    assert len(marked) == 1
    header, column, classes = marked[0]
    assert header.startswith(gfr + " ") and column == albuminuria
    assert f"risk-{risk}" in classes.split()
    text = Text(lang, "patient")
    cell = next(c for row in grid.rows[2:] for c in row if "marked" in c[1].split())
    assert text.name("name.report.grid_you", "") in cell[2]
    # every cell says its risk in words, not by colour alone
    cells = [c for row in grid.rows[2:] for c in row if c[0] == "td"]
    assert len(cells) == 18 and all(c[2] for c in cells)
    for level in ("low", "moderately_increased", "high", "very_high"):
        assert text.name(f"name.category.KDIGO_CKD_RISK.{level}", "") in html


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_says_the_risk_and_the_explanation_in_the_caption(lang: str) -> None:
    """The verdict is the risk's name; the caption holds the legend and the row's explanation."""
    report = _report(_rows(35, 45.0), lang, "clinician")
    card = next(c for c in report.page().cards if c.grid is not None)
    text = Text(lang, "clinician")
    name = text.name("name.category.KDIGO_CKD_RISK.very_high", "")
    assert card.verdict == name[:1].upper() + name[1:]
    assert card.grid is not None and card.grid.legend == tuple(
        (r, text.name(f"name.category.KDIGO_CKD_RISK.{r}", ""))
        for r in ("low", "moderately_increased", "high", "very_high")
    )
    explanation = text.get("category.KDIGO_CKD_RISK.very_high")
    assert explanation is not None and explanation.text[:40] in card.text
    html = report.html_body()
    start = html.index('<figure class="kdigo">')
    caption = html[start : html.index("</figure>", start)]
    assert "<figcaption>" in caption and escape(explanation.text[:40]) in caption
    assert escape(text.name("name.report.grid_you", "")) in html  # the clinician's words
    assert html.count(escape(explanation.text[:40])) == 1  # said once on the page


def test_no_grid_without_an_acr() -> None:
    """An eGFR alone gives no ckd_risk row, and the report no grid."""
    report = _report(_rows(35, 45.0)[:1])
    assert "kdigo" not in report.html_body()
    assert all(card.grid is None for card in report.page().cards)


def test_no_grid_when_the_sources_of_the_risk_are_not_in_the_frame() -> None:
    """A ckd_risk row whose ACR row was taken out keeps its card, without a grid (no guess)."""
    out = labinterp.interpret(pd.DataFrame(_rows(35, 45.0)), profile="no")
    report = labinterp.report(out[out["analyte"] != "acr"], patient_id="p1")
    cards = report.page().cards
    assert any(c.name.startswith("CKD prognosis") for c in cards)
    assert all(card.grid is None for card in cards)
    assert "kdigo-grid" not in report.html_body()


def test_the_latest_sample_sets_cell_is_marked() -> None:
    """Two sample sets: the grid is the later one's (G3b A3), shown once."""
    rows = _rows(95, 2.0, when="2026-01-10 08:00") + _rows(35, 45.0, when="2026-03-01 08:00")
    html = _report(rows).html_body()
    assert html.count('class="kdigo-grid"') == 1
    (header, column, classes), *rest = _marked(_grid(html))
    assert not rest and header.startswith("G3b ") and column == "A3"
    assert "risk-very_high" in classes.split()


def _axis(grid: _Grid) -> tuple[list[str], list[str]]:
    """Return the ranges of the rows (G1..G5) and of the columns (A1..A3)."""
    rows = [row[0][2].rsplit(" ", 2)[-2:] for row in grid.rows[2:]]
    row_ranges = [" ".join(r) if r[0] in "<≥>≤" else r[-1] for r in rows]
    columns = [c[2].rsplit(" ", 2)[-2:] for c in grid.rows[1]]
    column_ranges = [" ".join(c) if c[0] in "<≥>≤" else c[-1] for c in columns]
    return row_ranges, column_ranges


def _ranges_from_the_scheme(name: str, unit: str | None = None) -> list[str]:
    """Return the ranges KDIGO prints, worked out from the scheme's cut-offs (whole numbers)."""
    scheme = catalogue.schemes()[name]
    categories = scheme.categories
    for other in scheme.in_units:
        if other.unit == unit:
            categories = other.categories
    cuts = {c.label: c for c in categories}
    labels = GFR_ROWS if name == "KDIGO_GFR" else ACR_COLUMNS
    order = [c.label for c in categories]
    out = []
    for label in labels:
        i = order.index(label)
        upper = cuts[label].upper
        below = categories[i - 1] if i else None
        lower = below.upper if below else None
        if lower is None:
            out.append(("≤ " if cuts[label].upper_inclusive else "< ") + f"{upper:g}")
        elif upper is None:
            out.append(("> " if below and below.upper_inclusive else "≥ ") + f"{lower:g}")
        else:
            high = upper if cuts[label].upper_inclusive else upper - 1
            low = lower + 1 if below and below.upper_inclusive else lower
            out.append(f"{low:g}–{high:g}")
    return out


@pytest.mark.parametrize(("unit", "acr", "expected_columns"), [
    ("mg/mmol", 10.0, ["< 3", "3–30", "> 30"]),
    ("mg/g", 45.0, ["< 30", "30–300", "> 300"]),
])  # fmt: skip
def test_axis_ranges_are_the_schemes_cut_offs(
    unit: str, acr: float, expected_columns: list[str]
) -> None:
    """KDIGO2012 Tables 5 and 6, in the unit the ACR was reported (and classified) in."""
    html = _report(_rows(50, acr, unit)).html_body()
    rows, columns = _axis(_grid(html))
    assert rows == ["≥ 90", "60–89", "45–59", "30–44", "15–29", "< 15"]
    assert rows == _ranges_from_the_scheme("KDIGO_GFR")
    assert columns == expected_columns == _ranges_from_the_scheme("KDIGO_ACR", unit)
    assert f"{unit}</span>" in html.replace("<wbr>", "")


def test_axis_ranges_follow_the_scheme_data_and_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changed cut-offs change the labels (nothing typed into the template); Babel writes them."""
    out = labinterp.interpret(pd.DataFrame(_rows(50, 10.0)), profile="no", lang="nb")
    schemes = dict(catalogue.schemes())
    gfr, acr = schemes["KDIGO_GFR"], schemes["KDIGO_ACR"]
    gfr_cuts = tuple(
        c.model_copy(update={"upper": 95.0}) if c.label == "G2" else c for c in gfr.categories
    )
    acr_cuts = tuple(
        c.model_copy(update={"upper": 3.5}) if c.label == "A1" else c for c in acr.categories
    )
    schemes["KDIGO_GFR"] = gfr.model_copy(update={"categories": gfr_cuts})
    schemes["KDIGO_ACR"] = acr.model_copy(update={"categories": acr_cuts})
    monkeypatch.setattr(catalogue, "schemes", lambda: schemes)
    rows, columns = _axis(_grid(labinterp.report(out, patient_id="p1").html_body()))
    assert rows[:2] == ["≥ 95", "60–94"]
    assert columns == [f"< {format_number(3.5, 1, 'nb')}", "3,5–30", "> 30"]


def test_the_grid_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Words with markup are shown as text, and the page stays well formed."""
    hostile = "<script>alert('x')</script>"
    out = labinterp.interpret(pd.DataFrame(_rows(50, 10.0)), profile="no")
    name = Text.name

    def spiked(self: Text, key: str, default: str) -> str:
        return hostile if key.startswith("name.report.grid_") else name(self, key, default)

    monkeypatch.setattr(Text, "name", spiked)
    html = labinterp.report(out, patient_id="p1").html_body()
    assert "<script>" not in html and "&lt;script&gt;" in html
    grid = _grid(html)
    assert not grid.errors and not grid.stack
    assert len(_marked(grid)) == 1


_NEEDS_CHROMIUM = pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("CI"),
    reason="Chromium is installed by .ci/run; not available here",
)

_PROBE = (
    "<script>document.documentElement.style.width='375px';"
    "var over=Array.from(document.querySelectorAll('main *')).filter("
    "function(e){return e.getBoundingClientRect().right>375.5;});"
    "var cell=document.querySelector('td.marked').getBoundingClientRect();"
    "document.body.setAttribute('data-overflow',String(over.length));"
    "document.body.setAttribute('data-cell',String(Math.round(cell.width)));</script>"
)


@_NEEDS_CHROMIUM
@pytest.mark.parametrize("lang", LANGS)
def test_the_grid_fits_a_phone(lang: str, tmp_path: Path) -> None:
    """At 375 px the grid (its longest words included) does not overflow sideways."""
    rows = _rows(70, 10.0, "mg/g")
    path = _report(rows, lang, "clinician").to_html(tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(
        path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8"
    )
    dom = subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=375,900", "--dump-dom",
            probe.as_uri(),
        ],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert 'data-overflow="0"' in dom
    width = int(dom.split('data-cell="')[1].split('"')[0])
    assert width >= 50  # a cell wide enough for its word
