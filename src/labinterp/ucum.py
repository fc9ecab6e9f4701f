"""UCUM codes, as FHIR and HL7 send units, read into a pint registry.

The grammar (every UCUM atom and prefix, from UCUM's own ``ucum-essence.xml``) and the
names of the atoms in pint come from `ucumvert <https://pypi.org/project/ucumvert/>`_;
the atoms are looked up in the registry given, so a code means in labinterp what the
registry defines (equivalents through the analyte's valence, international units as a
dimension of their own: see ``data/units.txt``).

Annotations in braces are read here, not dropped: UCUM gives them no meaning, but labs use
them for meaning. ``data/ucum_annotations.csv`` lists the ones labinterp understands: a
*label* that only names what is measured (``%{HbA1c}``, ``mmol/mol{Hb}``) is left out, and
a *per* annotation at the end of a code divides by the unit it names
(``mL/min/{1.73_m2}``: per 1.73 m² of body surface). Any other annotation, or one in
another place, makes the code unknown with :data:`ANNOTATION_PROBLEM`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from labinterp.errors import UnknownUnitError

__all__ = [
    "ANNOTATION_PROBLEM",
    "FACTOR_PROBLEM",
    "UNDEFINED_PROBLEM",
    "Annotation",
    "known_annotations",
    "read_ucum",
]

#: Problem of a code whose annotation labinterp does not understand.
ANNOTATION_PROBLEM: Final = (
    "The unit carries a UCUM annotation in braces that labinterp does not know; an "
    "annotation can change what the unit means, so the result was not converted. Check "
    "the unit at the source."
)
#: Problem of a code with a number factor (``10.L/min``, ``meq/(24.h)``).
FACTOR_PROBLEM: Final = (
    "The unit contains a number factor (such as 10.L or /(24.h)) that labinterp does not "
    "convert; check the unit at the source."
)
#: Problem of a valid UCUM code whose unit labinterp's registry does not define.
UNDEFINED_PROBLEM: Final = (
    "The unit is a UCUM code for a unit labinterp does not define, so the result was not "
    "converted; check the unit at the source."
)

#: The longest text tried as a UCUM code. Codes in lab messages are a few characters; the
#: parser's time grows faster than the length, so longer text is not tried.
MAX_CODE_LENGTH: Final = 64

# A UCUM code is printable ASCII without spaces; annotations hold ASCII 33-126 but braces.
_CODE = re.compile(r"[!-~]+")
_ANNOTATION = re.compile(r"\{([!-z|~]*)\}")
_TRAILING = re.compile(r"/\{([!-z|~]*)\}\Z")
_OPERATORS = "/.("


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotation labinterp understands (a row of ``data/ucum_annotations.csv``).

    Attributes
    ----------
    means
        ``"label"``: names what is measured and is left out, only where it follows a unit;
        ``"per"``: the code is divided by ``pint``, only as the code's last component.
    pint
        The pint unit of a ``per`` annotation (empty for a label).
    """

    means: str
    pint: str


@lru_cache(maxsize=1)
def known_annotations() -> dict[str, Annotation]:
    """Return the annotations labinterp understands, keyed by their casefolded text."""
    table: dict[str, Annotation] = {}
    source = resources.files("labinterp") / "data" / "ucum_annotations.csv"
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table[row["annotation"].casefold()] = Annotation(row["means"], row["pint"])
    return table


class _NotUnderstoodError(Exception):
    """An annotation that is not understood where it stands."""


def _without_annotations(code: str) -> tuple[str, str | None]:
    """Return the code without its understood annotations, and the unit to divide by."""
    known = known_annotations()
    per: str | None = None
    trailing = _TRAILING.search(code)
    if trailing is not None:
        found = known.get(trailing.group(1).casefold())
        if found is not None and found.means == "per" and trailing.start() > 0:
            per, code = found.pint, code[: trailing.start()]

    def label(match: re.Match[str]) -> str:
        found = known.get(match.group(1).casefold())
        follows_a_unit = match.start() > 0 and code[match.start() - 1] not in _OPERATORS
        if found is None or found.means != "label" or not follows_a_unit:
            raise _NotUnderstoodError
        return ""

    return _ANNOTATION.sub(label, code), per


@lru_cache(maxsize=2)
def _reader(registry: Any) -> tuple[Any, Any]:
    """Build the UCUM parser and a transformer into ``registry``, once, on first use."""
    import ucumvert  # imported on first use: most exports need no UCUM parsing

    return ucumvert.get_ucum_parser(), ucumvert.UcumToPintTransformer(ureg=registry)


def read_ucum(text: str, registry: Any) -> Any | None:
    """Read a UCUM code into a unit of ``registry``.

    Parameters
    ----------
    text
        The unit as sent, e.g. ``"%{HbA1c}"``, ``"10*9/L"``, ``"[IU]/L"``.
    registry
        The pint registry whose units the code's atoms name.

    Returns
    -------
    pint.Unit or None
        The unit, or ``None`` when the text is not a UCUM code (it may still be a unit
        spelling of another kind).

    Raises
    ------
    UnknownUnitError
        When the text is a UCUM code that labinterp cannot use: an annotation it does not
        understand (:data:`ANNOTATION_PROBLEM`), a number factor (:data:`FACTOR_PROBLEM`)
        or an atom the registry does not define (:data:`UNDEFINED_PROBLEM`).

    Examples
    --------
    >>> from labinterp.units import ureg
    >>> format(read_ucum("mmol/mol{Hb}", ureg), "D")
    'millimole / mole'
    >>> read_ucum("umol/l per litre", ureg) is None
    True
    """
    code = text.strip()
    if len(code) > MAX_CODE_LENGTH or _CODE.fullmatch(code) is None:
        return None
    parser, transformer = _reader(registry)
    import ucumvert

    try:
        body, per = _without_annotations(code)
        understood = True
    except _NotUnderstoodError:
        body, per, understood = _ANNOTATION.sub("", code), None, False
    if not understood or not body:  # {score}: annotations only, no unit at all
        raise UnknownUnitError(ANNOTATION_PROBLEM)
    try:
        tree = ucumvert.parse_ucum(body, parser)
    except ucumvert.InvalidUcumError:
        return None
    try:
        quantity = transformer.transform(tree)
        if per is not None:
            quantity = quantity / registry(per)
    except Exception as exc:  # lark wraps pint's errors for an undefined atom
        raise UnknownUnitError(UNDEFINED_PROBLEM) from exc
    if not isinstance(quantity, registry.Quantity):  # "1": a plain number in some versions
        quantity = registry.Quantity(quantity)
    if quantity.magnitude != 1:
        raise UnknownUnitError(FACTOR_PROBLEM)
    return quantity.units
