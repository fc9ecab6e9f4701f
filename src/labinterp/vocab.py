"""Controlled vocabularies: sex, flags (HL7 v2 table 0078) and row status."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

from labinterp.errors import ReasonCode

__all__ = [
    "SAID_SPECIMENS",
    "Flag",
    "PanelGroup",
    "SaidSpecimen",
    "Sex",
    "Status",
    "specimen_numbers",
]

#: The panels laboratories group results in (``analytes.toml`` ``group``; the command line
#: and the report show results grouped so, named by ``name.group.<group>``).
PanelGroup = Literal[
    "kidney",
    "liver",
    "lipids",
    "diabetes",
    "thyroid",
    "blood_count",
    "iron",
    "minerals",
    "vitamins",
    "inflammation",
    "muscle",
    "other",
]

#: What a test's code or name can say about its sample where the limits depend on it
#: (``specimens`` in ``analytes.toml``): serum or plasma, and the patient's state, which
#: NPU writes in the system (``P(fPt)``: plasma of a fasting patient). Range rows, schemes
#: and context rules can be limited to them.
SaidSpecimen = Literal["serum", "plasma", "fasting", "non_fasting"]

#: :data:`SaidSpecimen` in a fixed order (results carry a position in it; -1: not said).
SAID_SPECIMENS: tuple[SaidSpecimen, ...] = ("serum", "plasma", "fasting", "non_fasting")


def specimen_numbers(wanted: Sequence[str]) -> list[int]:
    """Return the positions in :data:`SAID_SPECIMENS` of ``wanted``; ``""`` (not said) is -1.

    Examples
    --------
    >>> specimen_numbers(["", "fasting"])
    [-1, 2]
    """
    return [SAID_SPECIMENS.index(s) if s else -1 for s in wanted]


class Sex(StrEnum):
    """Administrative sex used to choose sex-partitioned reference ranges and equations."""

    FEMALE = "female"
    MALE = "male"

    @classmethod
    def parse(cls, text: object) -> Sex | None:
        """Return the :class:`Sex` for an unambiguous text code, else ``None``.

        Accepts English, Norwegian, Swedish and Danish words and the letter codes
        ``F``/``M`` and ``K`` (kvinne/kvinna/kvinde). Numeric codes are never
        accepted here; they need an explicit mapping from the caller.

        Examples
        --------
        >>> Sex.parse("K")
        <Sex.FEMALE: 'female'>
        >>> Sex.parse("1") is None
        True
        """
        if isinstance(text, Sex):
            return text
        if not isinstance(text, str):
            return None
        return _SEX_CODES.get(text.strip().casefold())


_SEX_CODES: dict[str, Sex] = {
    "female": Sex.FEMALE,
    "f": Sex.FEMALE,
    "k": Sex.FEMALE,
    "kvinne": Sex.FEMALE,
    "kvinna": Sex.FEMALE,
    "kvinde": Sex.FEMALE,
    "woman": Sex.FEMALE,
    "male": Sex.MALE,
    "m": Sex.MALE,
    "mann": Sex.MALE,
    "man": Sex.MALE,
    "mand": Sex.MALE,
}


class Flag(StrEnum):
    """Abnormal flags from HL7 v2 table 0078 (the subset labinterp assigns)."""

    N = "N"
    L = "L"
    H = "H"
    LL = "LL"
    HH = "HH"
    A = "A"


class Status(StrEnum):
    """Row status: ``ok``, ``derived`` or one of the :class:`ReasonCode` values."""

    OK = "ok"
    DERIVED = "derived"
    UNPARSED_VALUE = ReasonCode.UNPARSED_VALUE.value
    AMBIGUOUS_VALUE = ReasonCode.AMBIGUOUS_VALUE.value
    UNKNOWN_ANALYTE = ReasonCode.UNKNOWN_ANALYTE.value
    UNKNOWN_UNIT = ReasonCode.UNKNOWN_UNIT.value
    INCOMPATIBLE_UNIT = ReasonCode.INCOMPATIBLE_UNIT.value
    IMPLAUSIBLE_VALUE = ReasonCode.IMPLAUSIBLE_VALUE.value
    NO_REFERENCE = ReasonCode.NO_REFERENCE.value
    MISSING_CONTEXT = ReasonCode.MISSING_CONTEXT.value
    INDETERMINATE = ReasonCode.INDETERMINATE.value
    CONFLICTING_ANALYTE = ReasonCode.CONFLICTING_ANALYTE.value
    WITHDRAWN = ReasonCode.WITHDRAWN.value
    CANCELLED = ReasonCode.CANCELLED.value
    LIKELY_UNIT_ERROR = ReasonCode.LIKELY_UNIT_ERROR.value
    RACE_ADJUSTED = ReasonCode.RACE_ADJUSTED.value
    NOT_LABORATORY = ReasonCode.NOT_LABORATORY.value
