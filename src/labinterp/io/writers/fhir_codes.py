"""Observation.code for a row: the source's coding with its system, and a LOINC code.

The source code is written with the URI of its code system: LOINC (``http://loinc.org``),
NPU (``urn:oid:1.2.208.176.2.1``) and the Norwegian laboratory code list NLK
(``urn:oid:2.16.578.1.12.4.1.1.7280``), from the ``source_code_system`` the source gave,
or, where the source gave none, from the code's own form (``NPU`` and five digits is an
NPU code, ``NOR`` and five digits an NLK code) or from the catalogue (a LOINC code it
lists). Beside it comes a LOINC code from the catalogue that fits the reported unit, and
for a derived eGFR the LOINC code of the equation it was computed with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding

from labinterp import catalogue
from labinterp.errors import UnitError, UnknownAnalyteError
from labinterp.io.readers.fhir import LOINC_SYSTEM
from labinterp.units import conversion

__all__ = ["EGFR_LOINC", "NLK_SYSTEM", "NPU_SYSTEM", "code_system", "observation_code"]

#: NPU terminology (IFCC/IUPAC), as its OID.
NPU_SYSTEM = "urn:oid:1.2.208.176.2.1"
#: Norsk laboratoriekodeverk (NLK), Volven code list 7280 (source ``HL7NO_VkpObservation``).
NLK_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.7280"

#: Spellings of each system a source may give in ``source_code_system``.
_SYSTEMS: Mapping[str, str] = {
    "LN": LOINC_SYSTEM,
    "LOINC": LOINC_SYSTEM,
    LOINC_SYSTEM.upper(): LOINC_SYSTEM,
    "URN:OID:2.16.840.1.113883.6.1": LOINC_SYSTEM,
    "2.16.840.1.113883.6.1": LOINC_SYSTEM,
    "NPU": NPU_SYSTEM,
    NPU_SYSTEM.upper(): NPU_SYSTEM,
    "1.2.208.176.2.1": NPU_SYSTEM,
    "NLK": NLK_SYSTEM,
    NLK_SYSTEM.upper(): NLK_SYSTEM,
    "2.16.578.1.12.4.1.1.7280": NLK_SYSTEM,
}

#: Code forms that name their system: NPU codes are ``NPU`` and five digits; the
#: national NLK codes ``NOR`` and five digits (source ``HL7NO_VkpObservation``).
_FORMS = ((re.compile(r"^NPU\d{5}$"), NPU_SYSTEM), (re.compile(r"^NOR\d{5}$"), NLK_SYSTEM))

#: LOINC code of a derived eGFR, by the equation's key (LOINC names in sources.toml:
#: ``LOINC_eGFR_Codes``). Equations without a LOINC term of their own get none.
EGFR_LOINC: Mapping[str, str] = {
    "egfr_ckd_epi_2021_cr": "98979-8",
    "egfr_ckd_epi_2021_cr_cys": "98980-6",
    "egfr_ckd_epi_2009_cr": "62238-1",
    "egfr_mdrd_idms": "33914-3",
}

#: LOINC property of the catalogue's codes, as the unit must express it: mass or
#: substance concentration, HbA1c on the NGSP (%) or IFCC (mmol/mol) scale. eGFR
#: codes differ by equation, not by unit (see ``EGFR_LOINC``).
_LOINC_KIND: Mapping[str, str] = {
    "19123-9": "mass",
    "2601-3": "substance",
    "2160-0": "mass",
    "14682-9": "substance",
    "77140-2": "substance",
    "4548-4": "ngsp",
    "17856-6": "ngsp",
    "17855-8": "ngsp",
    "4549-2": "ngsp",
    "59261-8": "ifcc",
    "2276-4": "mass",
    "62292-8": "mass",
    "1989-3": "mass",
    "14635-7": "substance",
    "1988-5": "mass",
    "30522-7": "mass",
    "1751-7": "mass",
    "718-7": "mass",
    "33863-2": "mass",
}

#: Codes kept when the lab sent them but never put in place of another code: they
#: name a method, a specimen or a narrower analyte than the result may have
#: (HPLC/calculated HbA1c, serum/plasma/blood creatinine, 25-OH vitamin D3 only,
#: high-sensitivity CRP).
_NEVER_CHOSEN = frozenset(
    {"17856-6", "17855-8", "4549-2", "77140-2", "1989-3", "14635-7", "30522-7"}
)


def _catalogue_loinc_codes() -> frozenset[str]:
    return frozenset(code for spec in catalogue.analytes().values() for code in spec.loinc)


def code_system(code: str, system: str | None) -> str | None:
    """Return the URI of a source code's system, or ``None`` when it is not known.

    Parameters
    ----------
    code
        The source code (``"NPU02647"``, ``"2160-0"``).
    system
        The system as the source wrote it (``"LN"``, ``"NPU"``, a URI), or ``None``.

    Returns
    -------
    str or None
        LOINC, NPU or NLK as their URIs; any other URI as given; a short local name
        (``"L"``, ``"99zzz"``) gives ``None``. Without a system, the code's form (NPU,
        NOR) or the catalogue's LOINC codes decide; otherwise ``None``.

    Examples
    --------
    >>> code_system("NPU02647", None), code_system("NOR25909", "NLK")
    ('urn:oid:1.2.208.176.2.1', 'urn:oid:2.16.578.1.12.4.1.1.7280')
    >>> code_system("2160-0", "LN"), code_system("CRE", "L")
    ('http://loinc.org', None)
    """
    if system is not None:
        known = _SYSTEMS.get(system.strip().upper())
        if known is not None:
            return known
        return system if ":" in system and " " not in system else None
    for form, uri in _FORMS:
        if form.match(code):
            return uri
    return LOINC_SYSTEM if code in _catalogue_loinc_codes() else None


def _unit_kind(analyte: str, unit: str) -> str | None:
    """Which LOINC property a unit expresses for an analyte (see ``_LOINC_KIND``)."""
    if analyte == "egfr":
        return "gfr"
    if analyte == "hba1c":
        return {"%": "ngsp", "mmol/mol": "ifcc"}.get(unit)
    for kind, reference in (("mass", "g/L"), ("substance", "mol/L")):
        try:
            conversion(unit, reference)
        except UnitError:
            continue
        return kind
    return None


def _catalogue_loinc(analyte: str, kind: str) -> str | None:
    try:
        codes = catalogue.get_analyte(analyte).loinc
    except UnknownAnalyteError:
        return None
    for code in codes:
        if _LOINC_KIND.get(code) == kind and code not in _NEVER_CHOSEN:
            return code
    return None


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    return str(value).strip() or None


def _chosen_loinc(
    row: Mapping[str, Any], analyte: str | None, unit: str | None, source_loinc: str | None
) -> str | None:
    """Return a catalogue LOINC where the source gave none, or one for another unit."""
    if analyte is None:
        return None
    if _text(row.get("status")) == "derived" and analyte == "egfr":
        return EGFR_LOINC.get(_text(row.get("equation")) or "")
    if unit is None:
        return None
    kind = _unit_kind(analyte, unit)
    fits = source_loinc is not None and _LOINC_KIND.get(source_loinc, kind) == kind
    return _catalogue_loinc(analyte, kind) if kind is not None and not fits else None


def observation_code(
    row: Mapping[str, Any], unit: str | None, interpreted: bool
) -> CodeableConcept:
    """Observation.code: the source coding with its system, and a LOINC code.

    Parameters
    ----------
    row
        One row of an interpreted frame.
    unit
        The unit the value is written in (``None`` when no value is written).
    interpreted
        Whether the row was interpreted (``ok`` or ``derived``).

    Returns
    -------
    fhir.resources.R4B.codeableconcept.CodeableConcept
        A catalogue LOINC that fits the unit (a derived eGFR: its equation's LOINC) first,
        where the source gave no LOINC code or one for another unit; then the source
        coding. ``text`` is the source's name, else the catalogue's.
    """
    name = _text(row.get("source_name"))
    code = _text(row.get("source_code"))
    analyte = _text(row.get("analyte"))
    source: Coding | None = None
    system: str | None = None
    if code is not None:
        code = " ".join(code.split())
        system = code_system(code, _text(row.get("source_code_system")))
        display = name if system == LOINC_SYSTEM else None
        source = Coding(system=system, code=code, display=display)
    source_loinc = code if system == LOINC_SYSTEM else None
    chosen = _chosen_loinc(row, analyte, unit, source_loinc) if interpreted else None
    codings = [Coding(system=LOINC_SYSTEM, code=chosen)] if chosen is not None else []
    if source is not None and not (chosen is not None and source_loinc is not None):
        codings.append(source)
    if name is None and analyte is not None:
        try:
            name = catalogue.get_analyte(analyte).display.get("en")
        except UnknownAnalyteError:
            name = analyte
    if not codings and name is None:
        name = "Laboratory result"
    return CodeableConcept(coding=codings or None, text=name)
