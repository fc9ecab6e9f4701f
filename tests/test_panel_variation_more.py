"""Biological variation of the health-check panel, second pass: entries, printed figures, history.

Each entry added for LDL cholesterol, triglycerides, platelets, MCHC and the red cell count
is checked against the figures its page prints (tagged with source and locator): the
page's CVs, and where the page prints a difference or a total CV, that figure recomputed
from the entry. ``labinterp.history`` must flag a change beyond the RCV computed from the
entry and leave a smaller one unflagged.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest

from labinterp.catalogue import analytes, biological_variation, sources
from labinterp.equations.variation import reference_change_value
from tests.conftest import check_history_beyond_rcv

#: Norwegian handbooks print the critical difference as 2.8 x CVT.
Z_HANDBOOK = 2.8 / math.sqrt(2)


class Page(NamedTuple):
    """What one page prints for an analyte: its CVs and, if any, the figure derived from them."""

    analyte: str
    cva_pct: float
    cvi_pct: float
    kind: str  # "rcv" (2.8 x CVT), "cvt" (total CV) or "" (nothing derived is printed)
    printed: float | None
    tolerance: float  # half a unit of the last printed digit
    source: str
    locator: str


PAGES = [
    Page(
        "ldl_cholesterol",
        1.7,
        8.3,
        "rcv",
        23.7,
        0.05,
        "BV2_HNT_LDLKolesterol",
        "Analytisk og biologisk variasjon (1,8 mmol/L); Kritisk differanse 23,7 %",
    ),
    # The same page prints CV total 8,5 %.
    Page(
        "ldl_cholesterol",
        1.7,
        8.3,
        "cvt",
        8.5,
        0.05,
        "BV2_HNT_LDLKolesterol",
        "Analytisk og biologisk variasjon (1,8 mmol/L); CV total 8,5 %",
    ),
    # NEL labels the total CV "Kritisk differanse": sqrt(3.0^2 + 3.2^2) = 4.39 %.
    Page(
        "erythrocytes",
        3.0,
        3.2,
        "cvt",
        4.4,
        0.05,
        "BV2_NEL_Erytrocytter",
        "Analytisk og biologisk variasjon: 3,0 % / 3,2 % / 'Kritisk differanse: 4,4%'",
    ),
    # The stored copy ends before the total variation.
    Page(
        "triglycerides",
        3.0,
        20.0,
        "",
        None,
        0.0,
        "BV2_NEL_Triglyserider",
        "Analytisk og biologisk variasjon: 'Analytisk variasjon: 3%', 'Intraindividuell ...: 20%'",
    ),
    # UNN prints the CVA as an upper bound ("< 6 %") and no difference.
    Page(
        "platelets",
        6.0,
        9.1,
        "",
        None,
        0.0,
        "BV2_UNN_Trombocytter",
        "'VKa (analytisk variasjon) < 6 %'; 'Biologisk variasjon (intraindividuell) 9,1%'",
    ),
    Page(
        "mchc",
        2.0,
        1.1,
        "",
        None,
        0.0,
        "BV2_UNN_MCHC",
        "'VKa (analytisk variasjon) <2 %'; 'Biologisk variasjon (intraindividuell) 1,1%'",
    ),
]

#: A typical adult level per analyte [catalogue unit].
LEVEL = {
    "ldl_cholesterol": 3.0,
    "triglycerides": 1.2,
    "platelets": 250.0,
    "mchc": 33.0,
    "erythrocytes": 4.8,
}

NEW = sorted(LEVEL)

#: Alternatives named in the notes: the page agrees on the CVI (same figure).
SAME_CVI_ELSEWHERE = {
    "ldl_cholesterol": "BV2_SUS_LDLKolesterol",
    "triglycerides": "BV2_HNT_Triglyserid",
    "platelets": "BV2_NEL_Trombocytter",
}


def test_every_new_entry_loads_with_its_sources() -> None:
    """Each new analyte is in the catalogue with positive CVs and existing source keys."""
    table = biological_variation()
    known = set(sources())
    catalogue = analytes()
    for analyte in NEW:
        entry = table[analyte]
        assert analyte in catalogue
        assert entry.cvi_pct > 0 and entry.cva_pct > 0
        assert {entry.cvi_source, entry.cva_source} <= known
        assert entry.cvi_source.startswith("BV2_")
        assert entry.cvi_locator and entry.cva_locator
        assert "not an EFLM estimate" in entry.note


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.source}:{p.analyte}:{p.kind or 'cvs'}")
def test_entry_holds_the_page_values_and_reproduces_its_figure(page: Page) -> None:
    """The entry holds the page's CVs; where the page derives a figure, the entry gives it."""
    entry = biological_variation()[page.analyte]
    assert (entry.cva_pct, entry.cvi_pct) == (page.cva_pct, page.cvi_pct)
    assert entry.cvi_source == entry.cva_source == page.source
    if page.kind == "rcv":
        computed = reference_change_value(entry.cva_pct, entry.cvi_pct, z=Z_HANDBOOK)
    elif page.kind == "cvt":
        computed = math.hypot(entry.cva_pct, entry.cvi_pct)
    else:
        return
    assert computed == pytest.approx(page.printed, abs=page.tolerance)


@pytest.mark.parametrize("analyte", sorted(SAME_CVI_ELSEWHERE))
def test_the_alternative_named_in_the_note_is_a_known_source(analyte: str) -> None:
    entry = biological_variation()[analyte]
    key = SAME_CVI_ELSEWHERE[analyte]
    assert key in sources()
    assert f"[{key}]" in entry.note


@pytest.mark.parametrize("analyte", NEW)
def test_history_flags_a_change_beyond_the_rcv(analyte: str) -> None:
    """A rise of 1.5 x the RCV computed from the entry (z = 1.96) is significant; 0.5 x is not."""
    check_history_beyond_rcv(analyte, LEVEL[analyte])
