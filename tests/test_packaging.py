"""The wheel ships the data files: build it, install it in a fresh venv, run it elsewhere."""

from __future__ import annotations

import site
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("labinterp-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_data_files(wheel: Path) -> None:
    """Reference ranges, analytes, sources, profiles, text and py.typed are in the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "labinterp/reference_ranges/nordic/ranges.csv",
        "labinterp/reference_ranges/nordic/catalogue.toml",
        "labinterp/reference_ranges/us/ranges.csv",
        "labinterp/data/analytes.toml",
        "labinterp/data/sources.toml",
        "labinterp/data/profiles/no.toml",
        "labinterp/data/text/en.toml",
        "labinterp/data/unit_aliases.csv",
        "labinterp/data/columns.toml",
        "labinterp/py.typed",
    ):
        assert required in names, required


@pytest.mark.slow
def test_installed_wheel_interprets_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv with only the wheel installed interprets a row from another directory."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # The dependencies come from this test run's environment, appended after the new
    # environment's own site-packages, so the installed wheel is what gets imported.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = textwrap.dedent(
        """
        import labinterp, sys
        assert labinterp.__file__.startswith(sys.argv[1]), labinterp.__file__
        f = labinterp.interpret_one("P-Magnesium", "0,62", "mmol/L", age_years=50)
        print(f.flag.value, f.reference_source, f.reference_citation.split(",")[0])
        """
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [str(python), "-c", script, str(env_dir)],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split()[:2] == ["L", "catalogue:nordic"]
    cli = subprocess.run(
        [str(env_dir / "bin" / "labinterp"), "--version"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    assert cli.stdout.startswith("labinterp ")
