"""Statuses from the source: FHIR ``Observation.status`` and HL7 v2 OBX-11, read once.

Each result's status as the source gave it is read into the FHIR R4 ObservationStatus
vocabulary (``FHIR_R4_ObservationStatus``; :data:`labinterp.schema.SOURCE_STATUSES`) from,
in this order, the caller's ``source_status`` column, the FHIR reader's
``observation_status`` and the HL7 reader's ``result_status`` (OBX-11, HL7 v2 table 0085).
What the status means for interpretation:

- ``entered-in-error`` (HL7 ``W``, ``D``) and ``cancelled`` (``X``, ``N``): the row is
  kept as sent but not interpreted (status ``withdrawn`` or ``cancelled`` with a
  problem sentence), and nothing else uses it: no eGFR is derived from it, no context
  rule or inflammation looks at it, history leaves it out;
- ``registered`` and ``preliminary`` (``I``, ``O``, ``P``, ``R``, ``S``): interpreted,
  with the note ``preliminary`` (a derived eGFR takes the least final status of its
  sources);
- ``corrected`` and ``amended`` (``C``, ``A``, ``B``): interpreted; a correction
  supersedes earlier results of the same test and sample;
- ``unknown``, and any text that is not a status of either vocabulary: interpreted, with
  the note ``status_unknown`` (never taken as final without a word).

The HL7 codes follow HL7 v2.5.1 table 0085 (``HL7v2_Table0085``; ``A``, ``B`` and ``V``
from later versions) and, where it gives a target, the HL7 v2-to-FHIR concept map
(``HL7_V2toFHIR_0085``). Choices where the map gives none: ``N`` (not asked: the
observation was not sought) is ``cancelled``, the FHIR status of a measurement not
started; ``O`` (order detail, no result) is ``registered``, the FHIR status with no
result available; ``R`` (entered, not verified) and ``S`` (partial) are ``preliminary``;
``U`` (changed to final without retransmission) and ``V`` (verified) are ``final``;
``B`` (appended: reviewed, values unchanged) is ``amended``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Final

import numpy as np
import pandas as pd

from labinterp import schema
from labinterp.errors import ReasonCode
from labinterp.perf import factorized
from labinterp.schema import SOURCE_STATUSES, STATUS_COLUMNS
from labinterp.steps.history import superseded
from labinterp.steps.lab_flag import agreement, lab_flag_codes
from labinterp.steps.layout import Layout
from labinterp.steps.state import (
    NOTE_BIT,
    STATUS_NUMBER,
    BoolArray,
    IntArray,
    Rows,
    column,
)

__all__ = [
    "CANCELLED",
    "HL7_RESULT_STATUS",
    "WITHDRAWN",
    "corrected_rows",
    "corrected_statuses",
    "derived_status",
    "entered_in_error",
    "is_withheld",
    "read_status",
    "source_columns",
    "source_status_codes",
    "status_column",
    "status_names",
    "status_note",
    "status_notes",
    "uninterpreted",
    "withheld",
    "withhold",
    "withhold_one",
]

#: HL7 v2 table 0085 (OBX-11, observation result status) in FHIR ObservationStatus terms.
HL7_RESULT_STATUS: Final[Mapping[str, str]] = {
    "A": "amended",
    "B": "amended",
    "C": "corrected",
    "D": "entered-in-error",
    "F": "final",
    "I": "registered",
    "N": "cancelled",
    "O": "registered",
    "P": "preliminary",
    "R": "preliminary",
    "S": "preliminary",
    "U": "final",
    "V": "final",
    "W": "entered-in-error",
    "X": "cancelled",
}

WITHDRAWN = (
    "The laboratory marked this result as entered in error (withdrawn); it was not "
    "interpreted or used for other results. Ask the laboratory for the valid result."
)

CANCELLED = (
    "The laboratory reports no result for this test (cancelled, not performed or not "
    "obtainable); what was sent was not interpreted or used for other results. Ask the "
    "laboratory whether a new sample is needed."
)

_CODE = {name: i for i, name in enumerate(SOURCE_STATUSES)}
_UNKNOWN = _CODE["unknown"]
#: Per status code: the reason a row is not interpreted (``None``: it is interpreted).
_WITHHELD: Final[Mapping[int, tuple[ReasonCode, str]]] = {
    _CODE["entered-in-error"]: (ReasonCode.WITHDRAWN, WITHDRAWN),
    _CODE["cancelled"]: (ReasonCode.CANCELLED, CANCELLED),
}

#: Per status code (the last entry for -1, none sent): withheld, corrected, the note bits.
_IS_WITHHELD = np.zeros(len(SOURCE_STATUSES) + 1, dtype=bool)
_IS_WITHHELD[list(_WITHHELD)] = True
_IS_CORRECTED = np.zeros(len(SOURCE_STATUSES) + 1, dtype=bool)
_IS_CORRECTED[[_CODE["corrected"], _CODE["amended"]]] = True
_NOTES = np.zeros(len(SOURCE_STATUSES) + 1, dtype=np.int64)
_NOTES[[_CODE["registered"], _CODE["preliminary"]]] = NOTE_BIT["preliminary"]
_NOTES[_UNKNOWN] = NOTE_BIT["status_unknown"]

#: How final a status is, for a result derived from several (the least final wins):
#: not yet final, unknown, final (final, amended, corrected); none sent comes last.
_RANK = np.array([0, 0, 2, 2, 2, 2, 2, 1, 3], dtype=np.int64)  # by code; last: -1 (none)
_OF_RANK = np.array([_CODE["preliminary"], _UNKNOWN, _CODE["final"], -1], dtype=np.int64)

#: Texts of a ``corrected`` column that mean yes (any case); anything else means no.
_YES = frozenset({"true", "t", "yes", "y", "1", "ja", "j"})


def read_status(text: Any) -> tuple[int, bool]:
    """Read one status as sent: a FHIR ObservationStatus code or an HL7 OBX-11 code.

    Parameters
    ----------
    text
        The status as written (any case, surrounding spaces ignored).

    Returns
    -------
    (int, bool)
        The status's position in :data:`labinterp.schema.SOURCE_STATUSES` (-1 when
        none was sent), and whether the text was not recognised (then the position is
        that of ``unknown``).

    Examples
    --------
    >>> [SOURCE_STATUSES[read_status(t)[0]] for t in ("W", "final", " x ")]
    ['entered-in-error', 'final', 'cancelled']
    >>> read_status("endelig")
    (7, True)
    """
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return -1, False
    written = str(text).strip()
    if not written:
        return -1, False
    word = written.casefold()
    if word in _CODE:
        return _CODE[word], False
    mapped = HL7_RESULT_STATUS.get(written.upper())
    if mapped is not None:
        return _CODE[mapped], False
    return _UNKNOWN, True


def source_status_codes(frame: pd.DataFrame) -> tuple[IntArray, BoolArray]:
    """Return each row's status code (-1: none sent) and where it was not recognised.

    The first of :data:`STATUS_COLUMNS` that holds a status for a row gives it; each
    distinct text is read once.
    """
    n = len(frame)
    codes = np.full(n, -1, dtype=np.int64)
    unrecognised = np.zeros(n, dtype=bool)
    for name in STATUS_COLUMNS:
        if name not in frame.columns:
            continue
        coded = factorized(column(frame, name))
        read = [read_status(text) for text in coded.uniques]
        table = np.array([code for code, _ in read] + [-1], dtype=np.int64)
        strange = np.array([bad for _, bad in read] + [False], dtype=bool)
        at = np.where(coded.codes < 0, len(read), coded.codes)
        take = (codes < 0) & (table[at] >= 0)
        codes[take] = table[at][take]
        unrecognised[take] = strange[at][take]
    return codes, unrecognised


def withheld(codes: IntArray) -> BoolArray:
    """Mark the results the source withdrew or cancelled (not interpreted, not used)."""
    return np.asarray(_IS_WITHHELD[codes], dtype=bool)


def is_withheld(code: int) -> bool:
    """Whether the source withdrew or cancelled a result; the scalar twin of :func:`withheld`."""
    return bool(_IS_WITHHELD[code])


def withhold(rows: Rows, codes: IntArray) -> Rows:
    """Record ``withdrawn`` or ``cancelled`` on the rows the source withdrew or cancelled.

    The source's word comes first: it replaces whatever reading the row recorded, and
    the row is no longer open to interpretation or to use by other rows.
    """
    hit = withheld(codes)
    if not hit.any():
        return rows
    status, number = rows.status.copy(), rows.status_number.copy()
    problem, still_open = rows.problem.copy(), rows.open.copy()
    for code, (reason, sentence) in _WITHHELD.items():
        mask = codes == code
        status[mask] = reason.value
        number[mask] = STATUS_NUMBER[reason.value]
        problem[mask] = sentence
    still_open[hit] = False
    return replace(rows, status=status, status_number=number, problem=problem, open=still_open)


def withhold_one(code: int) -> tuple[str, str]:
    """Return the status and problem of one result the source withdrew or cancelled.

    The scalar twin of :func:`withhold`.

    Raises
    ------
    KeyError
        When the status does not withhold the result (see :func:`withheld`).
    """
    reason, sentence = _WITHHELD[code]
    return reason.value, sentence


def entered_in_error(codes: IntArray) -> BoolArray:
    """Mark the results the source withdrew (``entered-in-error``: HL7 ``W``, ``D``)."""
    return np.asarray(codes == _CODE["entered-in-error"], dtype=bool)


def uninterpreted(rows: Rows, hidden: BoolArray) -> Rows:
    """Return the rows with the analyte of the ``hidden`` ones taken away.

    What no range, explanation or context rule may see: a withheld result keeps its
    analyte in the output, but no step that interprets results or looks at other
    results of the sample set finds it.
    """
    if not hidden.any():
        return rows
    return replace(rows, number=np.where(hidden, -1, rows.number))


def status_notes(codes: IntArray) -> IntArray:
    """Return the note bits a status gives: ``preliminary`` or ``status_unknown``.

    ``registered`` and ``preliminary`` give ``preliminary``; ``unknown`` (also for a
    status not recognised) gives ``status_unknown``.
    """
    return np.asarray(_NOTES[codes], dtype=np.int64)


def status_note(code: int) -> int:
    """Return the note bits of one status; the scalar twin of :func:`status_notes`."""
    return int(_NOTES[code])


def derived_status(*sources: IntArray) -> IntArray:
    """Return the status of results derived from others: the least final of theirs.

    Each argument holds, per derived result, the status code of one of its sources
    (-1: none sent, or no such source). Not yet final (``registered``,
    ``preliminary``) gives ``preliminary``; else ``unknown`` gives ``unknown``; else
    any final status (``final``, ``amended``, ``corrected``) gives ``final``; no
    status sent gives none.
    """
    rank = np.full(len(sources[0]) if sources else 0, len(_OF_RANK) - 1, dtype=np.int64)
    for codes in sources:
        rank = np.minimum(rank, _RANK[codes])
    return _OF_RANK[rank]


def corrected_statuses(codes: IntArray) -> BoolArray:
    """Mark the statuses of a correction: ``corrected`` or ``amended`` (a new array)."""
    return np.array(_IS_CORRECTED[codes], dtype=bool)


def corrected_rows(frame: pd.DataFrame, codes: IntArray) -> BoolArray:
    """Mark corrected results: status ``corrected`` or ``amended``, or a yes in ``corrected``.

    A ``corrected`` column holds booleans, or yes/no text (``true``/``false``, ``Y``/``N``,
    ``yes``/``no``, ``1``/``0``, ``ja``/``nei``): only a yes counts (``N`` is no).
    """
    corrected = corrected_statuses(codes)
    if "corrected" in frame.columns:
        coded = factorized(frame["corrected"])
        table = np.array([*(_is_yes(v) for v in coded.uniques), False], dtype=bool)
        corrected |= table[np.where(coded.codes < 0, len(coded.uniques), coded.codes)]
    return corrected


def _is_yes(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(value == 1)
    return isinstance(value, str) and value.strip().casefold() in _YES


def status_column(codes: IntArray) -> pd.Categorical[Any]:
    """Return status codes as the ``source_status`` column (-1: missing)."""
    return pd.Categorical.from_codes(codes, dtype=schema.column("source_status").dtype)


def status_names(codes: Iterable[int]) -> list[str | None]:
    """Return the status name of each code (``None`` for -1)."""
    return [SOURCE_STATUSES[c] if c >= 0 else None for c in codes]


def source_columns(
    frame: pd.DataFrame,
    layout: Layout,
    *,
    number: IntArray,
    stated: IntArray,
    flag: IntArray,
    notes: IntArray,
) -> dict[str, Any]:
    """Return the interpreted columns that weigh what the source said, in output order.

    Parameters
    ----------
    frame
        The input frame.
    layout
        Where each output row comes from.
    number, stated, flag
        Per output row: the analyte number, the source status code (derived rows: see
        :func:`derived_status`) and labinterp's flag (a position in
        :data:`labinterp.schema.FLAGS`; -1 or ``len(FLAGS)``: none).
    notes
        The interpretation-note bits so far, per output row.

    Returns
    -------
    dict
        ``source_status``; ``agrees_with_lab`` (the lab's flag compared with
        labinterp's); ``superseded`` when the input has ``corrected`` or a status
        column (results a later correction or withdrawal of the same test and sample
        replaced); ``_notes``: the notes with the status notes, ``superseded``,
        ``withdrawn_later`` and ``lab_flag_not_compared`` added, and none on a withheld
        result.
    """
    n = len(frame)
    lab = layout.place(
        lab_flag_codes(column(frame, "lab_flag")), np.full(len(layout.positions), -1)
    )
    agrees, not_compared = agreement(lab, flag)
    notes = notes | status_notes(stated)
    notes[not_compared] |= NOTE_BIT["lab_flag_not_compared"]
    out: dict[str, Any] = {"source_status": status_column(stated), "agrees_with_lab": agrees}
    if not {"corrected", *STATUS_COLUMNS}.isdisjoint(frame.columns):
        stated_in, number_in = stated[layout.where[:n]], number[layout.where[:n]]
        by_correction = superseded(frame, number_in, corrected_rows(frame, stated_in))
        by_withdrawal = superseded(frame, number_in, entered_in_error(stated_in))
        notes[by_correction[layout.source]] |= NOTE_BIT["superseded"]
        notes[by_withdrawal[layout.source]] |= NOTE_BIT["withdrawn_later"]
        out["superseded"] = (by_correction | by_withdrawal)[layout.source]
    notes[withheld(stated)] = 0
    out["_notes"] = notes
    return out
