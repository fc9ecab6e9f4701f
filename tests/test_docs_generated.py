"""The generated documentation pages are current (``python scripts/generate_docs.py``)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from labinterp import catalogue, schema

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "generate_docs.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_docs", module)
    spec.loader.exec_module(module)
    return module


GENERATE = _load_script()


@pytest.mark.parametrize("page", list(GENERATE.PAGES))
def test_generated_page_is_current(page: str) -> None:
    """Every generated page under docs/ is exactly what the data and the schema generate."""
    current = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert current == GENERATE.render(page), (
        f"docs/{page} is stale: run `{GENERATE.COMMAND}` and commit the page."
    )


def test_pages_name_the_command_that_generates_them() -> None:
    """Every generated page names the command that regenerates it."""
    for page in GENERATE.PAGES:
        assert f"`{GENERATE.COMMAND}`" in GENERATE.render(page), page


def test_check_reports_a_stale_page(tmp_path) -> None:
    """A stale page is reported; writing makes every page current and keeps the prose."""
    for page in GENERATE.PAGES:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(GENERATE.render(page), encoding="utf-8")
    assert GENERATE.stale_pages(tmp_path) == []
    (tmp_path / "sources.md").write_text("# stale\n", encoding="utf-8")
    frame_page = tmp_path / "results-frame.md"
    prose = "# Frame\n\nHand-written.\n\n"
    frame_page.write_text(f"{prose}{GENERATE.BEGIN}\nold table\n{GENERATE.END}\nAfter.\n")
    assert GENERATE.stale_pages(tmp_path) == ["sources.md", "results-frame.md"]
    assert GENERATE.write_pages(tmp_path) == ["sources.md", "results-frame.md"]
    assert GENERATE.stale_pages(tmp_path) == []
    rewritten = frame_page.read_text(encoding="utf-8")
    assert rewritten.startswith(prose) and rewritten.endswith(f"{GENERATE.END}\nAfter.\n")
    assert "old table" not in rewritten


def test_check_command_passes_on_the_repository() -> None:
    """The --check command line exits 0 on the committed pages."""
    assert GENERATE.main(["--check"]) == 0


def test_results_frame_page_lists_every_declared_column() -> None:
    """docs/results-frame.md has a row for every column of both frames, with its dtype."""
    page = (ROOT / "docs" / "results-frame.md").read_text(encoding="utf-8")
    for kind in ("results", "interpreted"):
        for column in schema.columns(kind):
            assert f"| `{column.name}` | " in page, column.name
    assert "| `flag` | category (ordered: LL &lt; L &lt; N &lt; H &lt; HH) |" in page


def test_csv_page_lists_every_header_synonym() -> None:
    """docs/formats/csv.md has one row per field of columns.toml with each of its synonyms."""
    page = (ROOT / "docs" / "formats" / "csv.md").read_text(encoding="utf-8")
    table = page[page.index(GENERATE.COLUMNS_BEGIN) : page.index(GENERATE.END)]
    for spec in catalogue.column_fields().values():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{spec.field}` |"))
        for synonym in spec.synonyms[1:]:
            assert synonym in row, (spec.field, synonym)
    assert "| field | English | Norwegian | Swedish | Danish | system exports |" in table
