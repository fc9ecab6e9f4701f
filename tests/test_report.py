"""Trend plots, the HTML report, and its rendering in a real browser."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import labinterp
from labinterp import catalogue

from .conftest import DATA

TOM = DATA / "fhir" / "Tom_Goodwin_e20de9eb-6f2d-4871-a43f-bbede53293ed.json"
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def synthea() -> pd.DataFrame:
    return labinterp.interpret(labinterp.read_fhir(TOM), profile="us", history=True)


def _patient(frame: pd.DataFrame) -> str:
    return str(frame["patient_id"].dropna().iloc[0])


class _Collector(HTMLParser):
    """The tags, loaded URLs (src), links (href), ids and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.loaded: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.classes: list[str] = []
        self.text: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        self.loaded += [v or "" for k, v in attrs if k == "src"]
        self.links += [v or "" for k, v in attrs if k == "href"]
        self.ids |= {found["id"] or ""} if "id" in found else set()
        self.classes += (found.get("class") or "").split()
        if tag == "html":
            self.lang = found.get("lang") or ""

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def _parsed(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


@pytest.fixture(scope="module")
def nordic() -> pd.DataFrame:
    """Return the bundled Nordic example (P001: a low Mg, a normal creatinine, ...)."""
    frame = labinterp.read(Path(__file__).parents[1] / "examples" / "nordic_export.csv")
    return frame


def _nordic_report(nordic: pd.DataFrame, lang: str, path: Path) -> Path:
    out = labinterp.interpret(nordic, profile="no", lang=lang, history=True)
    return labinterp.report(out, patient_id="P001").to_html(path / f"report-{lang}.html")


def test_report_html_is_self_contained(synthea: pd.DataFrame, tmp_path: Path) -> None:
    """The report parses, embeds pictures as data or inline SVG and loads nothing outside."""
    page = labinterp.report(synthea, patient_id=_patient(synthea)).to_html(tmp_path / "r.html")
    parsed = _parsed(page.read_text(encoding="utf-8"))
    assert "svg" in parser_tags(parsed) and "img" in parsed.tags
    assert all(url.startswith("data:image/png;base64,") for url in parsed.loaded)
    # Links (not loads): to the numbered sources on the page, and the sources' own pages.
    assert all(link.startswith(("#source-", "https://", "http://")) for link in parsed.links)
    assert any(link.startswith("#source-") for link in parsed.links)
    assert parsed.lang == "en"


def parser_tags(parsed: _Collector) -> set[str]:
    """Return the tags of a parsed page."""
    return set(parsed.tags)


@pytest.mark.parametrize("lang", ["nb", "sv"])
def test_report_speaks_the_frames_language(nordic: pd.DataFrame, lang: str, tmp_path: Path) -> None:
    """Every word of the page in nb/sv: no English heading, legend or name; decimal commas."""
    text = _nordic_report(nordic, lang, tmp_path).read_text(encoding="utf-8")
    parsed = _parsed(text)
    assert parsed.lang == lang
    english = catalogue.text_catalogue("en")
    own = catalogue.text_catalogue(lang)
    words = " ".join(parsed.text)
    for key, entry in english.items():
        if key.startswith("name.report.") and own[key].text != entry.text:
            assert entry.text not in parsed.text, key  # no English heading or label
    for internal in ("vitamin_d_25oh", "egfr_ckd_epi_2009_cr", "increased_risk", "age_years"):
        assert internal not in words
    assert "reference_citation" not in words
    assert "0,62" in words and "0.62" not in words  # P001's magnesium, as written in nb/sv
    assert own["report.disclaimer.patient"].text in words
    assert "P001" in words


def test_every_result_has_its_range_picture_and_numbered_sources(
    nordic: pd.DataFrame, tmp_path: Path
) -> None:
    """One card per result, each with its range picture; every citation links to a source."""
    parsed = _parsed(_nordic_report(nordic, "nb", tmp_path).read_text(encoding="utf-8"))
    cards = parsed.classes.count("card")
    assert cards >= 5
    assert parsed.classes.count("bar") == cards
    cited = {link[1:] for link in parsed.links if link.startswith("#source-")}
    assert cited and cited <= parsed.ids


def test_each_sentence_is_shown_once_per_page(nordic: pd.DataFrame, tmp_path: Path) -> None:
    """A caveat sentence already shown (in a card or an earlier card) is not repeated."""
    from labinterp.io.writers.report_page import once

    seen: set[str] = set()
    assert once(["A. B.", "B. C."], seen) == ("A. B.", "C.")
    assert once(["C."], seen) == ()
    parsed = _parsed(_nordic_report(nordic, "sv", tmp_path).read_text(encoding="utf-8"))
    items = [t for t in parsed.text if len(t) > 80]
    assert len(items) == len(set(items))


def test_range_picture_geometry() -> None:
    """Interval, critical limits and value are placed in order; one-sided bands reach the edge."""
    from labinterp.io.writers.report_page import WIDTH, bar_geometry

    bar = bar_geometry(0.62, (0.71, 0.94, 0.50, 2.00), "Mg")
    assert bar.band is not None and bar.marker is not None
    low_critical, high_critical = bar.critical
    assert 0 <= low_critical < bar.marker < bar.band[0] < bar.band[1] < high_critical <= WIDTH
    one_sided = bar_geometry(74.0, (56.0, math.nan, math.nan, math.nan), "eGFR")
    assert one_sided.band is not None and one_sided.band[1] == WIDTH
    assert bar_geometry(math.nan, (math.nan,) * 4, "none").marker is None


#: Lays the page out 375 px wide (a phone; headless windows are at least 500 px) and
#: counts the elements that reach beyond it.
_OVERFLOW_PROBE = (
    "<script>document.documentElement.style.width='375px';"
    "var over=Array.from(document.querySelectorAll('main *')).filter("
    "function(e){return e.getBoundingClientRect().right>375.5;});"
    "document.body.setAttribute('data-overflow',String(over.length));"
    "document.body.setAttribute('data-width',"
    "String(document.querySelector('main').getBoundingClientRect().width));</script>"
)


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


_NEEDS_CHROMIUM = pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("CI"),
    reason="Chromium is installed by .ci/run; not available here",
)


@_NEEDS_CHROMIUM
@pytest.mark.parametrize("lang", ["nb", "sv"])
def test_report_renders_on_a_phone_in_headless_chromium(
    nordic: pd.DataFrame, lang: str, tmp_path: Path
) -> None:
    """At 375 px nothing overflows sideways and every card keeps its range picture.

    The page also draws visible content (a screenshot with text and colour).
    """
    import matplotlib.image

    page = _nordic_report(nordic, lang, tmp_path)
    probe = tmp_path / f"probe-{lang}.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", _OVERFLOW_PROBE + "</body>"),
        encoding="utf-8",
    )
    dom = _chromium(["--window-size=375,900", "--dump-dom", probe.as_uri()], tmp_path).stdout
    assert 'data-overflow="0"' in dom and 'data-width="359"' in dom  # 375 less body margins
    rendered = _parsed(dom)
    assert rendered.classes.count("card") == rendered.classes.count("bar") >= 5
    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", "--window-size=375,1400", page.as_uri()], tmp_path)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 1400 and pixels.shape[1] == 375
    dark = (pixels[..., :3].mean(axis=2) < 0.3).mean()  # text
    assert 0.002 < dark < 0.5
    assert np.asarray(pixels).std() > 0.05


def test_cli_report(tmp_path: Path) -> None:
    """Labinterp report writes the HTML for one patient, and fails clearly for an unknown one."""
    from typer.testing import CliRunner

    from labinterp.cli import app

    out = tmp_path / "report.html"
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "report",
            str(TOM),
            "--patient",
            "urn:uuid:da2c7b0a-791a-4b8f-9a30-dc3d8cf1ec75",
            "-o",
            str(out),
            "--profile",
            "us",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = runner.invoke(app, ["report", str(TOM), "--patient", "nobody", "-o", str(out)])
    assert missing.exit_code == 1 and "no results for this patient" in missing.output


def test_a_high_magnesium_card_speaks_of_haemolysis_once() -> None:
    """The flag text, the caveat and the analyte text each used to say it (three times)."""
    frame = pd.DataFrame(
        {
            "patient_id": ["p"],
            "raw_value": ["1.2"],
            "raw_unit": ["mmol/L"],
            "analyte": ["magnesium"],
            "sex": ["female"],
            "age_years": [40.0],
        }
    )
    out = labinterp.interpret(frame, decimal=".")
    card = labinterp.report(out, patient_id="p").page().cards[0]
    shown = " ".join([card.text, *card.caveats]).lower()
    assert card.verdict.startswith("High") and shown.count("haemolys") == 1


def test_a_result_whose_range_and_category_differ_is_not_shown_as_plain_normal(
    tmp_path: Path,
) -> None:
    """HbA1c 42 mmol/mol: within the range, increased risk; its card says both, not "Normal"."""
    frame = pd.DataFrame(
        {
            "patient_id": ["p"],
            "raw_value": ["42"],
            "raw_unit": ["mmol/mol"],
            "analyte": ["hba1c"],
            "age_years": [54.0],
        }
    )
    card = labinterp.report(labinterp.interpret(frame), patient_id="p").page().cards[0]
    assert card.tone == "differs" and card.verdict == "Normal · range and category differ"
    assert card.category.startswith("increased risk of diabetes")


def test_docs_show_a_screenshot_per_language() -> None:
    """The screenshots the docs show exist, phone-wide (scripts/report_screenshots.py)."""
    import matplotlib.image

    for lang in ("nb", "sv"):
        path = Path(__file__).parents[1] / "docs" / "images" / f"report-{lang}.png"
        assert matplotlib.image.imread(path).shape[1] == 390
