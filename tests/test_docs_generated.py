"""The generated documentation pages are current (``python scripts/generate_docs.py``)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

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
    """Every generated page under docs/ is exactly what the data generates."""
    current = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert current == GENERATE.PAGES[page](), (
        f"docs/{page} is stale: run `{GENERATE.COMMAND}` and commit the page."
    )


def test_pages_name_the_command_that_generates_them() -> None:
    """Every generated page names the command that regenerates it."""
    for page, render in GENERATE.PAGES.items():
        assert f"`{GENERATE.COMMAND}`" in render(), page


def test_check_reports_a_stale_page(tmp_path, capsys) -> None:
    """--check exits 1 naming a stale page; writing makes every page current."""
    for page, render in GENERATE.PAGES.items():
        (tmp_path / page).write_text(render(), encoding="utf-8")
    assert GENERATE.stale_pages(tmp_path) == []
    first = next(iter(GENERATE.PAGES))
    (tmp_path / first).write_text("# stale\n", encoding="utf-8")
    assert GENERATE.stale_pages(tmp_path) == [first]
    assert GENERATE.write_pages(tmp_path) == [first]
    assert GENERATE.stale_pages(tmp_path) == []


def test_check_command_passes_on_the_repository(capsys) -> None:
    """The --check command line exits 0 on the committed pages."""
    assert GENERATE.main(["--check"]) == 0
