"""The names the command line offers, read from the packaged data without validating it.

``labinterp --help`` lists the country profiles, the languages, the audiences and the
results-frame fields. Reading their names here takes a few milliseconds where loading the
validated catalogue (:mod:`labinterp.catalogue`, with pydantic models) takes about 100 ms,
most of a fast start; the catalogue validates the same files when a command runs, and a
test checks that both give the same names.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["AUDIENCES", "field_names", "languages", "profile_names"]

#: Who reads the texts: each text key has one entry per audience.
AUDIENCES: tuple[str, ...] = ("patient", "clinician")

# The package's own directory, as the catalogue's ``importlib.resources.files`` gives it
# for an installed package; importing importlib.resources would take longer than the
# reading done here.
_DATA = Path(__file__).parent / "data"


def profile_names() -> list[str]:
    """Return the names of the country profiles (``profiles/*.toml``), in file-name order."""
    items = sorted((_DATA / "profiles").iterdir(), key=lambda item: item.name)
    return [
        str(tomllib.loads(item.read_text(encoding="utf-8"))["name"])
        for item in items
        if item.name.endswith(".toml")
    ]


def languages() -> list[str]:
    """Return the languages with a text catalogue (``text/<lang>.toml``), sorted."""
    return sorted(
        item.name.removesuffix(".toml")
        for item in (_DATA / "text").iterdir()
        if item.name.endswith(".toml")
    )


def field_names() -> list[str]:
    """Return the results-frame fields a CSV column can fill (``columns.toml``), in order."""
    return list(tomllib.loads((_DATA / "columns.toml").read_text(encoding="utf-8")))
