"""Trend plots, the HTML report, and its rendering in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import labinterp

from .conftest import DATA

TOM = DATA / "fhir" / "Tom_Goodwin_e20de9eb-6f2d-4871-a43f-bbede53293ed.json"
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def synthea() -> pd.DataFrame:
    return labinterp.interpret(labinterp.read_fhir(TOM), profile="us", history=True)


def _patient(frame: pd.DataFrame) -> str:
    return str(frame["patient_id"].dropna().iloc[0])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in {"src", "href"}]


def test_report_html_is_self_contained(synthea: pd.DataFrame, tmp_path: Path) -> None:
    """The report parses, embeds its plot as data and loads nothing from outside."""
    page = labinterp.report(synthea, patient_id=_patient(synthea)).to_html(tmp_path / "r.html")
    text = page.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    assert "table" in parser.tags and "img" in parser.tags
    assert all(url.startswith("data:image/png;base64,") for url in parser.urls)
    assert not re.search(r"https?://", text.split("<h2>Sources</h2>")[0])
    assert "Sources" in text and "KDIGO2012" in text


def test_report_escapes_everything_from_input(tmp_path: Path) -> None:
    """Hostile text in the input (values, ranges, ids) is escaped, never executed."""
    frame = pd.DataFrame(
        {
            "patient_id": [HOSTILE, HOSTILE],
            "collected_at": ["2026-01-01", "2026-01-01"],
            "source_name": ["S-Magnesium", HOSTILE],
            "raw_value": [HOSTILE, "1"],
            "raw_unit": ["mmol/L", "mmol/L"],
            "lab_reference_text": [HOSTILE, None],
        }
    )
    out = labinterp.interpret(frame)
    html = labinterp.report(out, patient_id=HOSTILE)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("CI"),
    reason="Chromium is installed by .ci/run; not available here",
)
def test_report_renders_in_headless_chromium(synthea: pd.DataFrame, tmp_path: Path) -> None:
    """Headless Chromium renders the report to a screenshot with visible content."""
    import matplotlib.image

    page = labinterp.report(synthea, patient_id=_patient(synthea)).to_html(tmp_path / "r.html")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 1400 and pixels.shape[1] == 1200
    dark = (pixels[..., :3].mean(axis=2) < 0.3).mean()  # text and table rules
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
    assert missing.exit_code == 2 and "no results for this patient" in missing.output
