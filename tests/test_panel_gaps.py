"""Health-check panel: the cited gaps filled in the reference data.

NORIP haematology (Nordin 2004) for adult leukocytes, platelets and MCV; a plasma
total-protein interval beside the serum one; US critical limits from one laboratory's
published critical-value list. Flags from the cited limits (tests/vectors/panel_gaps.csv):
a value just inside and just outside each limit, the critical ones included.
"""

from __future__ import annotations

import pytest

from labinterp import catalogue
from labinterp.names import specimen_of
from tests.conftest import interpret_vector, load_vectors, vector_id

VECTORS = load_vectors("panel_gaps.csv")
FLAGS = [r for r in VECTORS if r["kind"] == "flag"]


@pytest.mark.parametrize("row", FLAGS, ids=[vector_id(r) for r in FLAGS])
def test_flags_against_the_cited_limits(row: dict[str, str]) -> None:
    """A value just inside or outside a cited limit gets the flag the limit implies.

    The cited source is the one the catalogue row names (as the row's source or, for
    critical limits taken from another list, in the row's locator).
    """
    finding = interpret_vector(row)
    assert finding.status == "ok", finding.problem
    assert finding.flag == row["expected"]
    assert finding.reference_source == f"catalogue:{'us' if row['profile'] == 'us' else 'nordic'}"
    assert finding.reference_citation is not None
    assert row["source"] in finding.reference_citation


def test_every_vector_source_is_in_the_bibliography() -> None:
    """Each vector's source key is a bibliography entry."""
    known = catalogue.sources()
    assert {r["source"] for r in VECTORS} <= set(known)


def test_adult_nordic_blood_counts_cite_norip() -> None:
    """The adult leukocyte, platelet and MCV rows cite the NORIP haematology paper."""
    rows = catalogue.load_range_catalogue("nordic").ranges
    adult = [
        r
        for r in rows
        if r.analyte in {"leukocytes", "platelets", "mcv"} and r.age_min == 18 and r.age_max is None
    ]
    assert {r.analyte for r in adult} == {"leukocytes", "platelets", "mcv"}
    assert all(r.source == "Nordin2004" for r in adult)


@pytest.mark.parametrize(
    ("name", "specimen"),
    [
        ("Protein, Plasma", "plasma"),
        ("Protein, Total, Plasma", "plasma"),
        ("S-Protein", "serum"),
        ("P-Protein", None),  # Norwegian and Danish P- names are used for serum too
        ("Total protein", None),
    ],
)
def test_total_protein_names_say_their_specimen(name: str, specimen: str | None) -> None:
    """Only names that say the specimen choose a specimen's row."""
    assert specimen_of("total_protein", name) == specimen


def test_the_serum_total_protein_row_is_kept() -> None:
    """The plasma row is added beside the serum interval, which stays the general row."""
    rows = [
        r for r in catalogue.load_range_catalogue("nordic").ranges if r.analyte == "total_protein"
    ]
    assert {(r.specimen, r.source) for r in rows} == {
        ("serum_plasma", "Chem_SiV_Protein"),
        ("plasma", "Gap_LSH_Protein"),
    }


def test_us_critical_limits_say_how_they_compare() -> None:
    """Each US row with limits from the critical-value list says strict or inclusive."""
    rows = [
        r
        for r in catalogue.load_range_catalogue("us").ranges
        if "Gap_ARUP_CriticalValues" in (r.locator or "")
    ]
    assert {r.analyte for r in rows} >= {
        "sodium",
        "potassium",
        "calcium",
        "phosphate",
        "bicarbonate",
        "bilirubin",
        "leukocytes",
        "platelets",
        "hematocrit",
        "hemoglobin",
    }
    for r in rows:
        assert r.critical_low is not None or r.critical_high is not None
        assert "strict" in (r.note or "") or "inclusive" in (r.note or ""), r.analyte
