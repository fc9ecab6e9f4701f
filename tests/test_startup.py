"""What a start imports: ``labinterp --version``/``--help`` and ``import labinterp`` stay light.

Each check runs a fresh interpreter and lists the heavy libraries found in
``sys.modules``; nothing is timed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Libraries no start of the command or of the package may import.
HEAVY = (
    "pandas",
    "pint",
    "pyarrow",
    "pydantic",
    "rich",
    "jinja2",
    "babel",
    "fhir.resources",
    "hl7",
    "matplotlib",
    "dask",
    "polars",
    "labinterp.engine",
)

#: The README's example export (it holds creatinine rows).
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "nordic_export.csv"


def _printed(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the lines it printed."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def _imported_after(code: str, *argv: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; return which of :data:`HEAVY` it imported."""
    probe = (
        f"import sys\nsys.argv[1:] = {list(argv)!r}\n{code}\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    return {name for name in _printed(probe)[-1].split(",") if name}


def test_import_labinterp_imports_no_heavy_library() -> None:
    assert _imported_after("import labinterp") == set()


_RUN_APP = "from labinterp.cli import app\ntry:\n    app()\nexcept SystemExit:\n    pass"


@pytest.mark.parametrize("argv", [("--version",), ("--help",)])
def test_version_and_help_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    assert _imported_after(_RUN_APP, *argv) == set()


def test_a_commands_help_imports_no_heavy_library_of_ours() -> None:
    # typer itself reads a subcommand's parameters through pydantic
    assert _imported_after(_RUN_APP, "interpret", "--help") <= {"pydantic"}


def test_public_names_resolve_on_first_use() -> None:
    import labinterp

    for name in labinterp.__all__:
        assert getattr(labinterp, name) is not None, name
    assert set(labinterp.__all__) <= set(dir(labinterp))
    with pytest.raises(AttributeError):
        labinterp.no_such_name  # noqa: B018


def test_the_accessor_is_there_when_pandas_comes_after() -> None:
    code = (
        "import labinterp\nimport pandas as pd\n"
        "frame = pd.DataFrame({'analyte': ['magnesium'], 'raw_value': ['0.82'], "
        "'raw_unit': ['mmol/L'], 'age_years': [40]})\n"
        "print(frame.labinterp.interpret()['flag'].tolist())\n"
        "print(pd.__spec__.loader is pd.__loader__, type(pd.__loader__).__name__)"
    )
    assert _printed(code) == ["['N']", "True SourceFileLoader"]


def test_the_choices_offered_are_the_catalogues() -> None:
    from labinterp import catalogue, choices

    assert choices.profile_names() == list(catalogue.profiles())
    assert choices.field_names() == list(catalogue.column_fields())
    assert choices.languages() == sorted(
        item.name.removesuffix(".toml")
        for item in (catalogue.resources.files("labinterp") / "data" / "text").iterdir()
        if item.name.endswith(".toml")
    )


def test_interpreting_an_export_with_creatinine_builds_no_unit_registry() -> None:
    # Units of the alias table convert through the factor table, and the engine hands the
    # eGFR equations Measured values: pint is not needed (about 0.2 s of every run).
    code = (
        "import labinterp\nfrom pathlib import Path\n"
        f"frame = labinterp.read_csv(Path({str(EXAMPLE)!r}))\n"
        "result = labinterp.interpret(frame)\n"
        "assert (result['status'] == 'derived').sum() > 0"
    )
    assert "pint" not in _imported_after(code)


@pytest.mark.parametrize(
    "before", ["import importlib.util; importlib.util.find_spec('pandas')", "import polars"]
)
def test_the_accessor_survives_a_look_for_pandas_before_it_loads(before: str) -> None:
    pytest.importorskip("polars")
    code = (
        f"import labinterp\n{before}\nimport pandas as pd\n"
        "print(hasattr(pd.DataFrame, 'labinterp'))"
    )
    assert _printed(code) == ["True"]


def test_the_entry_point_gives_back_what_it_changed() -> None:
    # run() pauses the collector and keeps dask out for the command; a caller that runs it
    # in its own process (and catches SystemExit) gets both back.
    code = (
        "import gc, sys\nsys.argv = ['labinterp', '--version']\n"
        "from labinterp.cli import run\ntry:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(gc.isenabled(), sys.modules.get('dask', 'absent') is not None)"
    )
    assert _printed(code)[-1].split() == ["True", "True"]
