"""Every shipped data file validates (DESIGN §7)."""

from __future__ import annotations

import itertools

import pytest

from labinterp import catalogue
from labinterp.errors import UnitError
from labinterp.units import conversion, normalise_unit

from .conftest import ROOT

CATALOGUES = ["nordic", "us"]
LANGS = ["en"]


def test_sources_load_and_have_titles() -> None:
    """The bibliography loads and every entry has a kind and a title."""
    sources = catalogue.sources()
    assert len(sources) > 10
    assert all(s.title for s in sources.values())


@pytest.mark.parametrize("name", CATALOGUES)
def test_range_rows_cite_existing_sources(name: str) -> None:
    """Every range row names a source key that is in sources.toml, with a locator."""
    keys = set(catalogue.sources())
    for row in catalogue.load_range_catalogue(name).ranges:
        assert row.source in keys, row.source
        assert row.locator.strip()


@pytest.mark.parametrize("name", CATALOGUES)
def test_range_units_measure_the_analyte(name: str) -> None:
    """Every range unit parses and converts to the analyte's catalogue unit."""
    for row in catalogue.load_range_catalogue(name).ranges:
        spec = catalogue.get_analyte(row.analyte)
        normalise_unit(row.unit)
        conversion(row.unit, spec.unit, row.analyte)


@pytest.mark.parametrize("name", CATALOGUES)
def test_range_rows_are_ordered_and_critical_limits_outside(name: str) -> None:
    """Limits are ordered (low <= high) and critical limits lie outside the range."""
    for row in catalogue.load_range_catalogue(name).ranges:
        if row.low is not None and row.high is not None:
            assert row.low <= row.high
        if row.critical_low is not None and row.low is not None:
            assert row.critical_low <= row.low
        if row.critical_high is not None and row.high is not None:
            assert row.critical_high >= row.high


@pytest.mark.parametrize("name", CATALOGUES)
def test_no_overlapping_age_bands(name: str) -> None:
    """For each analyte, no person (sex, age) is covered by two rows for one equation.

    Rows in different units are separate sets (a result is compared with the rows in
    its reporting unit where there are any: ``steps.ranges.rows_in_unit``).
    """
    rows = catalogue.load_range_catalogue(name).ranges
    for a, b in itertools.combinations(rows, 2):
        if a.analyte != b.analyte or a.specimen != b.specimen or a.unit != b.unit:
            continue
        if a.equations and b.equations and not set(a.equations) & set(b.equations):
            continue  # made for different eGFR equations
        sexes_overlap = a.sex == b.sex or "any" in (a.sex, b.sex)
        lo = max(
            a.age_min if a.age_min is not None else -1.0,
            b.age_min if b.age_min is not None else -1.0,
        )
        hi = min(
            a.age_max if a.age_max is not None else 1e9, b.age_max if b.age_max is not None else 1e9
        )
        assert not (sexes_overlap and lo < hi), (a.analyte, a.sex, a.age_min, b.sex, b.age_min)


@pytest.mark.parametrize("name", CATALOGUES)
def test_every_range_analyte_is_in_the_catalogue(name: str) -> None:
    """Range rows only name analytes that analytes.toml defines."""
    known = set(catalogue.analytes())
    assert {r.analyte for r in catalogue.load_range_catalogue(name).ranges} <= known


def test_analytes_cite_sources_and_units_parse() -> None:
    """Molar masses, valences and plausibility limits cite sources that exist; units parse."""
    keys = set(catalogue.sources())
    for spec in catalogue.analytes().values():
        if spec.unit is not None:  # a category alone has none
            normalise_unit(spec.unit)
        assert spec.cited_sources <= keys, (spec.key, spec.cited_sources - keys)


def test_codes_and_aliases_are_unique() -> None:
    """No code or name points to two analytes (the indexes raise if one does)."""
    assert catalogue.lookup_code("NPU02647") == "magnesium"
    assert catalogue.lookup_name("P-Kreatinin") == "creatinine"


@pytest.mark.parametrize("profile", ["no", "se", "dk", "us"])
def test_profile_units_convert_from_catalogue_units(profile: str) -> None:
    """Every profile reporting unit is reachable from the analyte's catalogue unit."""
    chosen = catalogue.get_profile(profile)
    valued = {k for k, spec in catalogue.analytes().items() if spec.unit is not None}
    assert set(chosen.units) == valued
    for analyte, unit in chosen.units.items():
        try:
            conversion(catalogue.get_analyte(analyte).unit, unit, analyte)
        except UnitError as exc:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"{profile}: {analyte} {unit}: {exc}")


@pytest.mark.parametrize("lang", LANGS)
def test_text_cites_existing_sources(lang: str) -> None:
    """Every explanation text cites only keys that exist in sources.toml."""
    keys = set(catalogue.sources())
    for key, entry in catalogue.text_catalogue(lang).items():
        assert set(entry.sources) <= keys, key


@pytest.mark.parametrize("lang", LANGS)
def test_text_covers_every_analyte_and_flag(lang: str) -> None:
    """Every analyte has an 'about' text and every flag a generic fallback text."""
    texts = catalogue.text_catalogue(lang)
    for audience in ("patient", "clinician"):
        for analyte in catalogue.analytes():
            assert f"{analyte}.about.{audience}" in texts, analyte
        for flag in ("N", "L", "H", "LL", "HH"):
            assert f"_flag.{flag}.{audience}" in texts


def test_magnesium_text_states_the_one_percent_fact() -> None:
    """The magnesium text says serum holds about 1 % of body magnesium, and cites it."""
    about = catalogue.text_catalogue("en")["magnesium.about.patient"]
    assert "1 %" in about.text and about.sources
    normal = catalogue.text_catalogue("en")["magnesium.flag.N.patient"]
    assert "deplet" in normal.text.lower() or "does not rule out" in normal.text.lower()


def test_site_catalogue_errors_name_file_line_and_column(tmp_path) -> None:
    """A broken site catalogue fails with the file, line and column in the message."""
    (tmp_path / "catalog.toml").write_text(
        'name = "site"\ntitle = "t"\nversion = "1"\npopulation = "p"\n', encoding="utf-8"
    )
    header = (
        "analyte,specimen,sex,age_min,age_max,unit,low,high,low_inclusive,high_inclusive,"
        "critical_low,critical_high,source,locator,note\n"
    )
    (tmp_path / "ranges.csv").write_text(
        header + "magnesium,serum_plasma,any,,,mmol/L,0.7,0.9,maybe,true,,,Src,p1,\n",
        encoding="utf-8",
    )
    with pytest.raises(
        catalogue.CatalogueError, match=r"ranges\.csv, line 2, column 9 \(low_inclusive\)"
    ):
        catalogue.load_range_catalogue(tmp_path)
    (tmp_path / "ranges.csv").write_text(
        header + "magnesium,serum_plasma,any,,,mmol/L,0.9,0.7,true,true,,,Src,p1,\n",
        encoding="utf-8",
    )
    with pytest.raises(catalogue.CatalogueError, match="line 2"):
        catalogue.load_range_catalogue(tmp_path)


def test_every_source_is_cited_somewhere() -> None:
    """No bibliography entry is unused by data, text, vectors or code docstrings."""
    cited: set[str] = set()
    for name in CATALOGUES:
        cited |= {r.source for r in catalogue.load_range_catalogue(name).ranges}
    for spec in catalogue.analytes().values():
        cited |= spec.cited_sources
    for entry in catalogue.text_catalogue("en").values():
        cited |= set(entry.sources)
    corpus = "".join(
        p.read_text(encoding="utf-8")
        for pattern in (
            "src/labinterp/**/*.py",
            "src/labinterp/data/**/*.toml",
            "tests/vectors/*.csv",
            "reference_ranges/**/*.csv",
            "src/labinterp/data/analytes.toml",
        )
        for p in ROOT.glob(pattern)
    )
    unused = [key for key in catalogue.sources() if key not in cited and key not in corpus]
    assert unused == []


def test_equation_applicability_cites_existing_sources() -> None:
    """Every equation's applicability (age band, inputs) cites keys in sources.toml."""
    from labinterp.equations.egfr import EQUATIONS

    keys = set(catalogue.sources())
    for name, entry in EQUATIONS.items():
        assert set(entry.sources) <= keys, name


@pytest.mark.parametrize("name", CATALOGUES)
def test_equations_of_a_range_are_known_egfr_equations(name: str) -> None:
    """A range made for some equations names registered equations of its analyte.

    eGFR rows name eGFR equations; albumin-corrected calcium rows the calcium correction
    their limits were made for.
    """
    from labinterp.equations.calcium import CALCIUM_CORRECTIONS
    from labinterp.equations.egfr import EQUATIONS

    known = {"egfr": set(EQUATIONS), "calcium_albumin_corrected": set(CALCIUM_CORRECTIONS)}
    for row in catalogue.load_range_catalogue(name).ranges:
        assert not row.equations or row.analyte in known, row.analyte
        assert set(row.equations) <= known.get(row.analyte, set()), row.equations
