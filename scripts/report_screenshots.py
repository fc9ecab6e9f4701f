"""Render the example report in Norwegian and Swedish and take screenshots for the docs.

``python scripts/report_screenshots.py`` writes ``docs/images/report-nb.png`` and
``docs/images/report-sv.png`` (phone width, 390 px) and the HTML beside them in a
temporary directory. It needs Chromium (``chromium`` on the PATH), as the report tests do.

The example patient has one abnormal result (magnesium 0.62 mmol/L, below the range),
one borderline result (HbA1c 42 mmol/mol: at the upper reference limit, in NICE's
increased-risk band) and one normal result (creatinine 78 µmol/L, with its eGFR).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

import labinterp

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"

#: The example patient: as a Norwegian laboratory export would give the results.
EXAMPLE = pd.DataFrame(
    {
        "patient_id": ["EKSEMPEL-1"] * 3,
        "sex": ["K"] * 3,
        "age_years": [54] * 3,
        "collected_at": ["2026-01-15 08:10"] * 3,
        "source_code": ["NPU02647", "NPU27300", "NPU04998"],
        "source_name": ["P-Magnesium", "B-HbA1c", "P-Kreatinin"],
        "raw_value": ["0,62", "42", "78"],
        "raw_unit": ["mmol/L", "mmol/mol", "µmol/L"],
    }
)


def report_html(lang: str, folder: Path) -> Path:
    """Write the example report in a language and return its path."""
    out = labinterp.interpret(EXAMPLE, profile="no", lang=lang, decimal=",")
    return labinterp.report(out, patient_id="EKSEMPEL-1").to_html(folder / f"report-{lang}.html")


def screenshot(page: Path, target: Path, folder: Path) -> None:
    """Take a full-length phone-width screenshot of a page with headless Chromium."""
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={folder / 'profile'}",
            f"--screenshot={target}", "--window-size=390,2600", page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip


def main() -> int:
    """Write the screenshots; return the exit status."""
    if shutil.which("chromium") is None:
        print("chromium is not on the PATH", file=sys.stderr)
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for lang in ("nb", "sv"):
            target = IMAGES / f"report-{lang}.png"
            screenshot(report_html(lang, folder), target, folder)
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
