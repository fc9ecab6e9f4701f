"""Answers the single path keeps across calls belong to the catalogue they were read from.

:mod:`labinterp.steps.kept` keeps the analyte lookup and the catalogue range choice per
catalogue object; a profile with another catalogue, in the same process and in any
order, gets its own catalogue's answers.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import labinterp
from labinterp.catalogue import get_profile
from labinterp.models import Profile
from labinterp.steps.kept import Kept
from tests.test_single import PROPERTY, result

NORDIC = Path(__file__).resolve().parents[1] / "reference_ranges" / "nordic"


def _local_profile(tmp_path: Path) -> Profile:
    """Return the Norwegian profile with a copy of the Nordic catalogue, changed.

    The copy's adult magnesium range is 0.65-0.90 mmol/L (made up for this test)
    instead of NORIP's 0.71-0.94.
    """
    directory = tmp_path / "local"
    shutil.copytree(NORDIC, directory)
    info = directory / "catalogue.toml"
    info.write_text(info.read_text(encoding="utf-8").replace('name = "nordic"', 'name = "local"'))
    ranges = directory / "ranges.csv"
    lines = ranges.read_text(encoding="utf-8").splitlines(keepends=True)
    adult = [i for i, line in enumerate(lines) if line.startswith("magnesium,serum_plasma,any,18,")]
    assert len(adult) == 1
    lines[adult[0]] = lines[adult[0]].replace(",0.71,0.94,", ",0.65,0.90,", 1)
    ranges.write_text("".join(lines), encoding="utf-8")
    return get_profile("no").model_copy(update={"catalogue": str(directory)})


def _magnesium(profile: str | Profile) -> tuple[float | None, float | None, str | None, str]:
    found = labinterp.interpret_one("P-Magnesium", "0,68", "mmol/L", age_years=50, profile=profile)
    assert found.flag is not None
    return found.reference_low, found.reference_high, found.reference_source, found.flag.value


def test_two_catalogues_in_one_process_give_their_own_ranges(tmp_path: Path) -> None:
    local = _local_profile(tmp_path)
    packaged = (0.71, 0.94, "catalogue:nordic", "L")
    changed = (0.65, 0.90, "catalogue:local", "N")
    for _ in range(2):  # in either order, with answers already kept
        assert _magnesium("no") == packaged
        assert _magnesium(local) == changed


def test_panel_under_two_profiles_in_turn() -> None:
    panel = [{"analyte": "creatinine", "value": "78", "unit": "µmol/L"}]
    first = labinterp.interpret_panel(panel, sex="K", age_years=54, profile="no")
    us = labinterp.interpret_panel(panel, sex="K", age_years=54, profile="us")
    again = labinterp.interpret_panel(panel, sex="K", age_years=54, profile="no")
    assert first == again
    assert first[0].reference_source == "catalogue:nordic"
    assert us[0].reference_source == "catalogue:us"


def test_kept_answers_follow_the_catalogue_object() -> None:
    kept = Kept(limit=2, catalogues=1)
    one, other = {"x": 1}, {"x": 2}
    asked: list[int] = []

    def ask(source: dict[str, int]) -> int:
        asked.append(source["x"])
        return source["x"]

    assert kept.answer(one, "x", lambda: ask(one)) == 1
    assert kept.answer(one, "x", lambda: ask(one)) == 1
    assert kept.answer(other, "x", lambda: ask(other)) == 2  # an equal question elsewhere
    assert kept.answer(one, "x", lambda: ask(one)) == 1
    assert asked == [1, 2, 1]  # one catalogue kept at a time: asked again after the other
    assert kept.answer(one, ["unhashable"], lambda: ask(one)) == 1
    for question in ("a", "b", "c"):  # past the limit, the answers are dropped
        kept.answer(one, question, lambda: ask(one))
    assert len(asked) == 7
    kept.answer(one, "c", lambda: ask(one))
    assert len(asked) == 7  # kept
    kept.answer(one, "a", lambda: ask(one))
    assert len(asked) == 8  # dropped at the limit, asked again


@PROPERTY
@given(
    panels=st.lists(st.lists(result, max_size=6), min_size=1, max_size=3),
    sex=st.sampled_from([None, "K", "M", "x"]),
    age=st.sampled_from([None, 1.5, 17.99, 18.0, 54.0, 95.0]),
    profile=st.sampled_from(["no", "se", "us"]),
)
def test_kept_answers_equal_answers_asked_afresh(
    panels: list[list[dict[str, Any]]], sex: str | None, age: float | None, profile: str
) -> None:
    """Panels interpreted with kept answers equal the same panels with every answer asked."""
    context: dict[str, Any] = {"sex": sex, "age_years": age, "profile": profile}
    kept = [labinterp.interpret_panel(p, **context) for p in panels]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Kept, "answer", lambda self, catalogue, question, ask: ask())
        asked = [labinterp.interpret_panel(p, **context) for p in panels]
    assert [[f.model_dump_json() for f in p] for p in kept] == [
        [f.model_dump_json() for f in p] for p in asked
    ]
