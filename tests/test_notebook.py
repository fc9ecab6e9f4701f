"""The example notebook under docs/ runs from start to end and shows its plot and report."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

PATH = ROOT / "docs" / "notebooks" / "walkthrough.ipynb"


def _outputs(notebook: nbformat.NotebookNode, call: str) -> list[dict]:
    """Return the outputs of the code cell whose source contains ``call``."""
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and call in c.source]
    return [o.get("data", {}) for o in cell.outputs]


def _shows_plot_and_report(notebook: nbformat.NotebookNode) -> None:
    plot = _outputs(notebook, "labinterp.plot(")
    assert any(data.get("image/png") for data in plot), "the plot cell shows no image"
    report = _outputs(notebook, "labinterp.report(")
    assert any("labinterp-report" in "".join(data.get("text/html", "")) for data in report)


def test_walkthrough_notebook_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell runs without error and shows output; the plot is an image, the report HTML.

    The kernel runs with the non-interactive Agg backend, with which a plain matplotlib
    figure would show only as ``<Figure size ...>`` text.
    """
    monkeypatch.setenv("MPLBACKEND", "agg")
    notebook = nbformat.read(PATH, as_version=4)
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(PATH.parent)}}
    ).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.get("output_type") == "error"]
    html = [o for cell in code for o in cell.outputs if "text/html" in o.get("data", {})]
    assert any("Laboratory results" in o["data"]["text/html"] for o in html)
    _shows_plot_and_report(notebook)


def test_stored_walkthrough_shows_its_outputs() -> None:
    """The notebook in docs/ is stored executed, with its plot as an image and its report.

    Readers see them without running it; ``scripts/run_notebook.py`` stores the outputs.
    """
    notebook = nbformat.read(PATH, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.get("output_type") == "error"]
    _shows_plot_and_report(notebook)
