"""Execute docs/notebooks/walkthrough.ipynb and store its outputs (figures as images).

Usage: ``python scripts/run_notebook.py`` from the repository root, after a change that
alters what the walkthrough shows. Timing metadata is dropped so reruns differ only
where the outputs do.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "walkthrough.ipynb"


def main() -> None:
    """Run every cell in the notebook's folder and write the notebook back."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, NOTEBOOK)


if __name__ == "__main__":
    main()
