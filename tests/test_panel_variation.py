"""Biological variation of the health-check panel: catalogue entries, printed RCVs, history.

Each Nordic handbook page used in ``biological_variation.toml`` prints its CVA and CVI
and, for most, the "kritisk differanse" it derives from them as 2.8 x CVT (UNN states
the rule). The vectors below are those printed figures, tagged with their source and
locator; the RCV is recomputed from the catalogue entry with
:func:`labinterp.equations.variation.reference_change_value` at ``z = 2.8 / sqrt(2)``.
"""

from __future__ import annotations

import math
import tomllib
from typing import NamedTuple

import pytest

from labinterp.catalogue import analytes, biological_variation, sources
from labinterp.equations.variation import reference_change_value
from tests.conftest import check_history_beyond_rcv

#: Norwegian handbooks print the critical difference as 2.8 x CVT.
Z_HANDBOOK = 2.8 / math.sqrt(2)


class Printed(NamedTuple):
    """A published figure for one analyte: its CVs and what the page derives from them."""

    analyte: str
    cva_pct: float
    cvi_pct: float
    kind: str  # "rcv" (2.8 x CVT) or "cvt" (total variation only)
    printed: float
    tolerance: float  # half a unit of the last printed digit, or 0.1 where noted
    source: str
    locator: str


PUBLISHED = [
    Printed(
        "sodium",
        1.0,
        0.5,
        "rcv",
        3.1,
        0.05,
        "UNN_UsikkerhetISvaret",
        "'Eksempler på utregning', Natrium: VKb 0,5, VKa 1, '2,8 x VKt' 3,1",
    ),
    Printed(
        "glucose",
        1.6,
        6.5,
        "rcv",
        18.7,
        0.05,
        "UNN_UsikkerhetISvaret",
        "'Eksempler på utregning', Glucose: VKb 6,5, VKa 1,6, '2,8 x VKt' 18,7",
    ),
    Printed(
        "iron",
        3.2,
        26.5,
        "rcv",
        74.7,
        0.05,
        "UNN_UsikkerhetISvaret",
        "'Eksempler på utregning', Jern: VKb 26,5, VKa 3,2, '2,8 x VKt' 74,7",
    ),
    Printed(
        "cholesterol",
        0.95,
        5.3,
        "rcv",
        15.08,
        0.005,
        "BV_HNT_Kolesterol",
        "Analytisk og biologisk variasjon (3,1 mmol/L); Kritisk differanse 15,08 %",
    ),
    Printed(
        "hdl_cholesterol",
        2.53,
        5.70,
        "rcv",
        17.46,
        0.005,
        "BV_HNT_HDLKolesterol",
        "Analytisk og biologisk variasjon (1,0 mmol/L); Kritisk differanse 17,46 %",
    ),
    Printed(
        "alt",
        1.8,
        10.1,
        "rcv",
        29,
        0.5,
        "BV_HNT_ALAT",
        "Analytisk og biologisk variasjon (47 U/L); Kritisk differanse 29 %",
    ),
    Printed(
        "ast",
        1.5,
        9.6,
        "rcv",
        27,
        0.5,
        "BV_HNT_ASAT",
        "Analytisk og biologisk variasjon (50 U/L); Kritisk differanse 27 %",
    ),
    Printed(
        "ggt",
        1.9,
        9.1,
        "rcv",
        26.0,
        0.05,
        "BV_HNT_GT",
        "Analytisk og biologisk variasjon (42 U/L); Kritisk differanse 26,0 %",
    ),
    # The page rounds in between: its CVs give 16.53 %, it prints 16.6 %.
    Printed(
        "alp",
        2.6,
        5.3,
        "rcv",
        16.6,
        0.1,
        "BV_HNT_ALP",
        "Analytisk og biologisk variasjon (100 U/L); Kritisk differanse 16,6 %",
    ),
    Printed(
        "urate",
        0.9,
        8.6,
        "rcv",
        24.2,
        0.05,
        "BV_HNT_Urat",
        "Analytisk og biologisk variasjon (280 µmol/L); Kritisk differanse 24,2 %",
    ),
    Printed(
        "ck",
        1.4,
        15.0,
        "rcv",
        42,
        0.5,
        "BV_HNT_CK",
        "Analytisk og biologisk variasjon (110 U/L); Kritisk differanse 42 %",
    ),
    Printed(
        "free_t4",
        3.0,
        7.7,
        "rcv",
        23.1,
        0.05,
        "BV_HNT_FT4",
        "Analytisk og biologisk variasjon (12,5 pmol/L); Kritisk differanse 23,1 %",
    ),
    # The page rounds in between: its CVs give 44.83 %, it prints 44.9 %.
    Printed(
        "vitamin_b12",
        5.6,
        15.0,
        "rcv",
        44.9,
        0.1,
        "BV_HNT_VitaminB12",
        "Analytisk og biologisk variasjon (350 pmol/L); Kritisk differanse 44,9 %",
    ),
    Printed(
        "urea",
        1.9,
        12.1,
        "rcv",
        34,
        0.5,
        "BV_HNT_Karbamid",
        "Analytisk og biologisk variasjon (6,6 mmol/L); Kritisk differanse 34 %",
    ),
    Printed(
        "phosphate",
        1.2,
        8.2,
        "rcv",
        23,
        0.5,
        "BV_HNT_Fosfat",
        "Analytisk og biologisk variasjon (1,4 mmol/L); Kritisk differanse 23 %",
    ),
    # The page rounds in between: its CVs give 11.65 %, it prints 11.7 %.
    Printed(
        "potassium",
        0.7,
        4.1,
        "rcv",
        11.7,
        0.1,
        "BV_HNT_Kalium",
        "Analytisk og biologisk variasjon (3,9 mmol/L); Kritisk differanse 11,7 %",
    ),
    Printed(
        "folate",
        5.0,
        24.0,
        "rcv",
        68.6,
        0.05,
        "BV_HNT_Folat",
        "Analytisk og biologisk variasjon (30 nmol/L); Kritisk differanse 68,6 %",
    ),
    Printed(
        "bilirubin",
        1.6,
        21.8,
        "cvt",
        21.9,
        0.05,
        "Furst_Analysevariasjon",
        "Analysevariasjon table, S-Bilirubin: 1,6 % / 21,8 % / total 21,9 %",
    ),
    Printed(
        "hematocrit",
        2.1,
        2.8,
        "cvt",
        3.5,
        0.05,
        "BV_Furst_Hematokrit",
        "B-Hematokrit: analytisk 2,1 %, biologisk 2,8 %, total 3,5 %",
    ),
]

#: Entries without a printed difference or total: only their catalogue entry is checked.
UNPRINTED = {"mch": (2.0, 1.4, "BV_UNN_MCH")}

#: A typical adult level per analyte [catalogue unit], near the level the source quotes.
LEVEL = {
    "sodium": 140.0,
    "glucose": 5.5,
    "iron": 18.0,
    "cholesterol": 5.0,
    "hdl_cholesterol": 1.3,
    "alt": 30.0,
    "ast": 25.0,
    "ggt": 30.0,
    "alp": 70.0,
    "urate": 300.0,
    "ck": 120.0,
    "free_t4": 15.0,
    "vitamin_b12": 350.0,
    "urea": 5.0,
    "phosphate": 1.0,
    "potassium": 4.0,
    "folate": 15.0,
    "bilirubin": 10.0,
    "hematocrit": 0.42,
    "mch": 30.0,
}

NEW = sorted(LEVEL)


def test_every_new_entry_loads_with_its_sources() -> None:
    """The catalogue holds each new analyte with positive CVs and existing source keys."""
    table = biological_variation()
    known = set(sources())
    catalogue = analytes()
    for analyte in NEW:
        entry = table[analyte]
        assert analyte in catalogue
        assert entry.cvi_pct > 0 and entry.cva_pct > 0
        assert {entry.cvi_source, entry.cva_source} <= known
        assert entry.cvi_locator and entry.cva_locator and entry.note


@pytest.mark.parametrize("row", PUBLISHED, ids=lambda r: f"{r.source}:{r.analyte}")
def test_entry_reproduces_the_printed_figure(row: Printed) -> None:
    """The entry holds the page's CVs; the RCV (or CVT) from them is what the page prints."""
    entry = biological_variation()[row.analyte]
    assert (entry.cva_pct, entry.cvi_pct) == (row.cva_pct, row.cvi_pct)
    assert entry.cvi_source == row.source
    if row.kind == "rcv":
        computed = reference_change_value(entry.cva_pct, entry.cvi_pct, z=Z_HANDBOOK)
    else:
        computed = math.hypot(entry.cva_pct, entry.cvi_pct)
    assert computed == pytest.approx(row.printed, abs=row.tolerance)


@pytest.mark.parametrize("analyte", sorted(UNPRINTED))
def test_unprinted_entry_holds_the_page_values(analyte: str) -> None:
    entry = biological_variation()[analyte]
    cva, cvi, source = UNPRINTED[analyte]
    assert (entry.cva_pct, entry.cvi_pct, entry.cvi_source) == (cva, cvi, source)


def test_every_entry_says_it_is_a_handbook_figure() -> None:
    """Every entry says it is a handbook figure, as the file header states."""
    from importlib import resources

    text = (resources.files("labinterp") / "data" / "biological_variation.toml").read_text("utf-8")
    for analyte, entry in tomllib.loads(text).items():
        assert "not an EFLM estimate" in entry["note"], analyte


@pytest.mark.parametrize("analyte", NEW)
def test_history_flags_a_change_beyond_the_rcv(analyte: str) -> None:
    """A rise of 1.5 x the RCV computed from the entry (z = 1.96) is significant; 0.5 x is not."""
    check_history_beyond_rcv(analyte, LEVEL[analyte])
