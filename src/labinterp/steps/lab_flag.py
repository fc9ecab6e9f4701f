"""The lab's own flag: read once, compared with labinterp's flag.

``lab_flag`` keeps what the source said (HL7 OBX-8, FHIR ``interpretation``, a CSV flag
column). For comparison each repetition (``~``; the code before any ``^``) is read with
:data:`LAB_FLAGS`: the codes of HL7 v2.5.1 table 0078 (``HL7v2_Table0078``), which FHIR
R4 takes over in v3 ObservationInterpretation (``FHIR_R4_ObservationInterpretation``),
plus the significantly-low/high codes of that code system and words exports write.
``agrees_with_lab`` then says whether labinterp's flag agrees:

- ``LL``, ``L``, ``N``, ``H``, ``HH``: only the same flag agrees (``LL`` and ``L``
  disagree on criticality);
- ``A`` (abnormal, no direction): agrees with ``LL``, ``L``, ``H``, ``HH``; not ``N``;
- ``AA`` (critically abnormal): agrees with ``LL`` and ``HH``; not ``L``, ``N``, ``H``;
- empty where the lab gave no flag, where labinterp gave none, and where the lab's
  flag is not comparable: a code of another kind (``<``/``>`` off scale, ``HX``/``LX``
  thresholds, ``U``/``D`` changes, susceptibility, ``POS``/``NEG`` ...), an ambiguous
  spelling (``*``, ``+``, ``-``), an unknown code, or repetitions that contradict each
  other (``H~L``). A flag that is given but not comparable gets the note
  ``lab_flag_not_compared``.

Several comparable repetitions combine into the most specific (``L~A`` is ``L``,
``AA~A`` is ``AA``); repetitions that are not comparable beside a comparable one
(``H~U``) are left aside.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from labinterp.perf import Coded, factorized
from labinterp.schema import FLAGS
from labinterp.steps.state import BoolArray, IntArray

__all__ = [
    "LAB_CODES",
    "LAB_FLAGS",
    "NOT_COMPARABLE",
    "agreement",
    "agreement_one",
    "lab_flag_codes",
    "read_lab_flag",
]

#: The lab's flags that can be compared: table 0078's ``LL L N H HH`` (labinterp's own,
#: in :data:`labinterp.schema.FLAGS` order), then ``A`` and ``AA``.
LAB_CODES: tuple[str, ...] = (*FLAGS, "A", "AA")

#: A lab flag that was given but cannot be compared (its code after ``LAB_CODES``).
NOT_COMPARABLE: Final = len(LAB_CODES)

#: Spellings read for comparison (any case), each to the code of ``LAB_CODES`` it means.
LAB_FLAGS: Final[dict[str, str]] = {
    # HL7 v2.5.1 table 0078 = FHIR R4 v3-ObservationInterpretation.
    **{code: code for code in LAB_CODES},
    # v3-ObservationInterpretation: significantly low/high, not critical (is-a L / H);
    # L< and H> are their deprecated forms.
    "LU": "L",
    "HU": "H",
    "L<": "L",
    "H>": "H",
    # Words exports write: English, Norwegian, Danish, Swedish.
    "LOW": "L",
    "HIGH": "H",
    "NORMAL": "N",
    "ABNORMAL": "A",
    "LAV": "L",
    "HØY": "H",
    "HØJ": "H",
    "LÅG": "L",
    "HÖG": "H",
}

_LL, _L, _N, _H, _HH, _A, _AA = range(len(LAB_CODES))
_DIRECTIONAL = frozenset({_LL, _L, _N, _H, _HH})

#: Agreement of the lab's flag (rows: ``LAB_CODES``, then not comparable, then none)
#: with labinterp's (columns: ``FLAGS``, then none): 1 agrees, 0 disagrees, -1 empty.
_AGREEMENT = np.full((len(LAB_CODES) + 2, len(FLAGS) + 1), -1, dtype=np.int8)
_AGREEMENT[: len(FLAGS), : len(FLAGS)] = np.eye(len(FLAGS), dtype=np.int8)
_AGREEMENT[_A, : len(FLAGS)] = [1, 1, 0, 1, 1]
_AGREEMENT[_AA, : len(FLAGS)] = [1, 0, 0, 0, 1]


def read_lab_flag(text: Any) -> int:
    """Read a lab's flag as sent into a code of :data:`LAB_CODES`.

    Parameters
    ----------
    text
        The flag as the source gave it: ``"LL"``, ``"H~A"`` (HL7 repetitions, FHIR
        codings), ``"H^High^HL70078"`` (HL7 v2.7 CWE), ``"høy"``, ...

    Returns
    -------
    int
        The position in :data:`LAB_CODES`; -1 when no flag was given;
        :data:`NOT_COMPARABLE` when one was, but it cannot be compared.

    Examples
    --------
    >>> [read_lab_flag(t) for t in ("LL", "low", "L~A", "*", None)] == [0, 1, 1, 7, -1]
    True
    """
    if not isinstance(text, str):
        missing = text is None or text is pd.NA or (isinstance(text, float) and text != text)
        return -1 if missing else NOT_COMPARABLE  # a number is no flag code
    parts = [part.split("^", 1)[0].strip() for part in text.split("~")]
    given = [part for part in parts if part]
    if not given:
        return -1
    found = {LAB_CODES.index(LAB_FLAGS[p.upper()]) for p in given if p.upper() in LAB_FLAGS}
    direction = found & _DIRECTIONAL
    if len(direction) > 1 or not found:
        return NOT_COMPARABLE
    if not direction:
        return _AA if _AA in found else _A  # AA refines A
    chosen = direction.pop()
    # A and AA beside a direction must agree with it (L~A is L; L~AA contradicts).
    if any(_AGREEMENT[code, chosen] != 1 for code in found - {chosen}):
        return NOT_COMPARABLE
    return chosen


def lab_flag_codes(lab_flag: Coded | pd.Series) -> IntArray:
    """Read a column of lab flags, each distinct text once (-1: none given)."""
    coded = lab_flag if isinstance(lab_flag, Coded) else factorized(lab_flag)
    table = np.array([*(read_lab_flag(t) for t in coded.uniques), -1], dtype=np.int64)
    return table[np.where(coded.codes < 0, len(coded.uniques), coded.codes)]


def agreement(lab: IntArray, flag: IntArray) -> tuple[pd.arrays.BooleanArray, BoolArray]:
    """Compare the lab's flags with labinterp's, row by row.

    Parameters
    ----------
    lab
        Codes from :func:`lab_flag_codes`.
    flag
        labinterp's flag as a position in :data:`labinterp.schema.FLAGS`
        (``len(FLAGS)`` or -1: none).

    Returns
    -------
    (pandas.arrays.BooleanArray, numpy.ndarray)
        ``agrees_with_lab`` (missing where not compared), and where a lab flag was
        given that cannot be compared.
    """
    ours = np.where((flag < 0) | (flag > len(FLAGS)), len(FLAGS), flag)
    found = _AGREEMENT[lab, ours]
    return pd.arrays.BooleanArray(found == 1, found < 0), lab == NOT_COMPARABLE


def agreement_one(lab_flag: Any, flag: str) -> tuple[bool | None, bool]:
    """Compare one lab flag as sent with labinterp's flag; the scalar twin of :func:`agreement`.

    Returns
    -------
    (bool or None, bool)
        Whether they agree (``None``: not compared), and whether a lab flag was given
        that cannot be compared.

    Examples
    --------
    >>> agreement_one("LL", "L")
    (False, False)
    >>> agreement_one("A", "H")
    (True, False)
    """
    lab = read_lab_flag(lab_flag)
    ours = FLAGS.index(flag) if flag in FLAGS else len(FLAGS)
    found = int(_AGREEMENT[lab, ours])
    return (None if found < 0 else found == 1), lab == NOT_COMPARABLE
