"""Units: the one pint registry, unit-string normalisation and conversion factors.

All conversions go through :data:`ureg`. Mass <-> substance conversions use the
analyte's molar mass through pint's ``chemistry`` context; milliequivalents use
the analyte's valence through the ``valence`` context defined here; a ratio to the
amount of another analyte (``per`` in ``analytes.toml``: a urine albumin/creatinine
ratio in mg/mmol) becomes a mass ratio (mg/g) through that analyte's molar mass in the
``ratio_per`` context defined here. HbA1c on the
NGSP (%) and IFCC (mmol/mol) scales are different measurement scales, related by
the IFCC/NGSP master equation (:data:`IFCC_TO_NGSP`, :data:`NGSP_TO_IFCC`; also used
by :mod:`labinterp.equations.hba1c`), never by pint's dimensionless ``percent`` <->
``mmol/mol`` factor.

Conversion factors are computed once per (analyte, from-unit, to-unit) and cached;
frames apply them vectorised per unit group. The factors between the units of the alias
table are also written out by pint ahead of time (``data/unit_factors.csv``, made by
``scripts/unit_factors.py`` and checked against pint by the tests), so that a conversion
between them needs no registry: building it and importing pint take about 0.3 s of a
start. The registry is built on first use (:func:`unit_registry`, :data:`ureg`).
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import ucum
from labinterp.errors import IncompatibleUnitError, UnitError, UnitsRequiredError, UnknownUnitError

if TYPE_CHECKING:
    import pint

    #: The labinterp unit registry (see :func:`unit_registry`).
    ureg: pint.UnitRegistry[Any]

__all__ = [
    "FACTOR_SOURCES",
    "FACTOR_TABLE",
    "HBA1C_MASTER_INTERCEPT",
    "HBA1C_MASTER_SLOPE",
    "IFCC_TO_NGSP",
    "NGSP_TO_IFCC",
    "QUANTITY_UNIT_CONFLICT",
    "Affine",
    "NormalisedUnit",
    "conversion",
    "convert",
    "factor_sources_digest",
    "is_quantity",
    "normalise_unit",
    "pint_conversion",
    "unit_registry",
    "ureg",
]


@lru_cache(maxsize=1)
def unit_registry() -> pint.UnitRegistry[Any]:
    """Return the labinterp unit registry, built on first use (also :data:`ureg`).

    Use it to attach units to lab values, e.g. ``88 * unit_registry()("umol/L")``.
    """
    import pint

    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    definitions = resources.files("labinterp") / "data" / "units.txt"
    with resources.as_file(definitions) as path:
        registry.load_definitions(str(path))
    valence = pint.Context("valence", defaults={"valence": 1})

    def _eq_to_mol(reg: Any, value: Any, valence: float = 1) -> Any:
        return value / valence / reg.equivalent * reg.mole

    def _mol_to_eq(reg: Any, value: Any, valence: float = 1) -> Any:
        return value * valence / reg.mole * reg.equivalent

    for src, dst, fn in (
        ("[equivalent]", "[substance]", _eq_to_mol),
        ("[substance]", "[equivalent]", _mol_to_eq),
        ("[equivalent] / [volume]", "[substance] / [volume]", _eq_to_mol),
        ("[substance] / [volume]", "[equivalent] / [volume]", _mol_to_eq),
    ):
        valence.add_transformation(src, dst, fn)  # type: ignore[arg-type]
    registry.add_context(valence)
    # A ratio to the amount of another substance (mg albumin per mmol creatinine) and the
    # same ratio per mass of it (mg/g): the denominator's molar mass `per_mw` converts.
    ratio_per = pint.Context("ratio_per", defaults={"per_mw": 1})

    def _per_amount_to_mass(reg: Any, value: Any, per_mw: Any = 1) -> Any:
        return value / per_mw

    def _per_mass_to_amount(reg: Any, value: Any, per_mw: Any = 1) -> Any:
        return value * per_mw

    ratio_per.add_transformation("[mass] / [substance]", "[]", _per_amount_to_mass)  # type: ignore[arg-type]
    ratio_per.add_transformation("[]", "[mass] / [substance]", _per_mass_to_amount)  # type: ignore[arg-type]
    registry.add_context(ratio_per)
    registry.formatter.default_format = "~P"
    return registry


def __getattr__(name: str) -> Any:
    """Give :data:`ureg`, the registry of :func:`unit_registry`, built on first use."""
    if name == "ureg":
        return unit_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class NormalisedUnit:
    """A recognised unit string.

    Attributes
    ----------
    pint
        Expression that :data:`ureg` parses.
    display
        The normalised spelling written to the ``unit`` column (e.g. ``µmol/L``).
    """

    pint: str
    display: str


_SPACES = re.compile(r"\s+")
#: The longest unit text read (units in exports are a few characters; pint's parser takes
#: quadratic time in the length, so a longer cell is refused without parsing).
MAX_UNIT_LENGTH: Final = 256
_UNKNOWN_UNIT: Final = (
    "The unit is not recognised; add its spelling to unit_aliases.csv "
    "or convert the export to a standard unit."
)
#: Division slash (U+2215) and fraction slash (U+2044), read as "/".
_SLASHES: Final = str.maketrans({"\u2215": "/", "\u2044": "/"})


def _alias_key(text: str) -> str:
    key = text.strip().casefold()
    key = key.replace("\u00b5", "u").replace("\u03bc", "u").replace("mcg", "ug")
    key = key.translate(_SLASHES)
    return _SPACES.sub("", key)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, NormalisedUnit]:
    table: dict[str, NormalisedUnit] = {}
    source = resources.files("labinterp") / "data" / "unit_aliases.csv"
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        table[_alias_key(row["spelling"])] = NormalisedUnit(row["pint"], row["display"])
    for row in rows:  # the table's own pint spellings (profiles' reporting units) too
        table.setdefault(_alias_key(row["pint"]), NormalisedUnit(row["pint"], row["display"]))
    return table


@lru_cache(maxsize=1)
def _display_of_unit() -> dict[str, str]:
    """Return the display spelling of each unit of the alias table, keyed by its pint form."""
    shown: dict[str, str] = {}
    for unit in _aliases().values():
        shown.setdefault(_pint_text(unit_registry().parse_units(unit.pint)), unit.display)
    return shown


def _canonical_pint(text: str) -> pint.Unit | None:
    """Return the unit when ``text`` is written as :data:`ureg` writes units, else ``None``."""
    try:
        parsed = unit_registry().parse_units(text)
    except Exception:  # pint raises several unrelated types for bad strings
        return None
    return parsed if _pint_text(parsed) == text else None


def _pint_text(unit: pint.Unit) -> str:
    """Write a unit out in pint's own names (``milligram / liter``), which pint reads back."""
    return format(unit, "D")


@lru_cache(maxsize=4096)
def normalise_unit(text: str) -> NormalisedUnit:
    """Recognise a unit string as written in a lab export or sent as a UCUM code.

    The spellings labs write come first (``unit_aliases.csv``: ``mmol/l``, ``µmol/L``,
    ``ml/min/1,73 m2`` ...), then UCUM codes as FHIR and HL7 send them (``%{HbA1c}``,
    ``10*9/L``, ``[IU]/L``, ``mmol/mol{Hb}``; see :mod:`labinterp.ucum`), then pint's own
    unit expressions. A text that is a valid UCUM code is read as UCUM only.

    Parameters
    ----------
    text
        The unit as written, e.g. ``"umol/l"``, ``"µmol/L"``, ``"ml/min/1,73 m2"``,
        ``"mmol/mol{Hb}"``.

    Returns
    -------
    NormalisedUnit
        The pint expression and the normalised display spelling: the alias table's
        spelling of the same unit where it has one, else a UCUM code as sent.

    Raises
    ------
    UnknownUnitError
        When the string is empty, not a unit labinterp recognises, or a UCUM code it
        cannot use (an annotation it does not know, a number factor, an undefined atom).

    Examples
    --------
    >>> normalise_unit("umol/l").display
    'µmol/L'
    >>> normalise_unit("mL/min/{1.73_m2}").display
    'mL/min/1.73m²'
    >>> normalise_unit("%{HbA1c}").display
    '%'
    >>> normalise_unit("[IU]/L").display
    'IU/L'
    """
    if not isinstance(text, str) or not text.strip():
        raise UnknownUnitError("No unit was given; a result needs a unit to be interpreted.")
    known = _aliases().get(_alias_key(text))
    if known is not None:
        return known
    if len(text) > MAX_UNIT_LENGTH:  # pint's parser takes quadratic time in the length
        raise UnknownUnitError(_UNKNOWN_UNIT)
    canonical = _canonical_pint(text)
    if canonical is not None:
        return NormalisedUnit(text, _display_of_unit().get(text, f"{canonical:~P}"))
    from_ucum = ucum.read_ucum(text, unit_registry())
    if from_ucum is not None:
        pint_text = _pint_text(from_ucum)
        return NormalisedUnit(pint_text, _display_of_unit().get(pint_text, text.strip()))
    candidate = text.strip().replace("\u00b5", "u").replace("\u03bc", "u").translate(_SLASHES)
    try:
        parsed = unit_registry().parse_units(candidate)
    except Exception as exc:  # pint raises several unrelated types for bad strings
        raise UnknownUnitError(_UNKNOWN_UNIT) from exc
    return NormalisedUnit(_pint_text(parsed), f"{parsed:~P}")


@dataclass(frozen=True, slots=True)
class Affine:
    """A conversion ``y = scale * x + offset``.

    Nearly every lab conversion is a pure factor (``offset == 0``); HbA1c between
    the NGSP and IFCC scales is affine.
    """

    scale: float
    offset: float = 0.0

    def __call__(self, values: Any) -> Any:
        """Apply the conversion to a scalar, array or Series."""
        if self.offset == 0.0:
            return values * self.scale
        return values * self.scale + self.offset


#: Master equation slope and intercept, NGSP % = 0.09148 * IFCC + 2.152
#: (Hoelzel2004, Clin Chem 50:166, "master equation"; NGSP_IFCC web page).
HBA1C_MASTER_SLOPE: Final = 0.09148
HBA1C_MASTER_INTERCEPT: Final = 2.152

#: HbA1c from the IFCC scale [mmol/mol] to the NGSP scale [%] (the master equation).
IFCC_TO_NGSP: Final = Affine(HBA1C_MASTER_SLOPE, HBA1C_MASTER_INTERCEPT)
#: HbA1c from the NGSP scale [%] to the IFCC scale [mmol/mol] (its algebraic inverse).
NGSP_TO_IFCC: Final = Affine(1.0 / HBA1C_MASTER_SLOPE, -HBA1C_MASTER_INTERCEPT / HBA1C_MASTER_SLOPE)


@dataclass(frozen=True, slots=True)
class _AnalyteUnits:
    molar_mass: float | None
    valence: float | None
    scales: tuple[tuple[str, str], ...]
    per_molar_mass: float | None = None  # of the ratio's denominator (AnalyteSpec.per)
    same: tuple[tuple[str, str], ...] = ()  # pint forms: a unit read as another
    fraction: bool = False  # a dimensionless fraction (L/L and %): its units convert


def _analyte_units(analyte: str | None) -> _AnalyteUnits:
    if analyte is None:
        return _AnalyteUnits(None, None, ())
    from labinterp.catalogue import get_analyte

    spec = get_analyte(analyte)
    per = get_analyte(spec.per).molar_mass_g_per_mol if spec.per else None
    same = tuple(
        (normalise_unit(a).pint, normalise_unit(b).pint) for a, b in spec.same_units.items()
    )
    return _AnalyteUnits(
        spec.molar_mass_g_per_mol,
        spec.valence,
        tuple(spec.scales.items()),
        per,
        same,
        spec.dimension == "fraction",
    )


def _scale_of(unit: NormalisedUnit, scales: tuple[tuple[str, str], ...]) -> str | None:
    for name, pint_expr in scales:  # the same text is the same unit, without parsing it
        if pint_expr == unit.pint:
            return name
    for name, pint_expr in scales:
        if unit_registry().parse_units(pint_expr) == unit_registry().parse_units(unit.pint):
            return name
    return None


def _same_as(unit: NormalisedUnit, same: tuple[tuple[str, str], ...]) -> NormalisedUnit:
    """Return the unit an analyte reads this one as (``same_units``), else the unit."""
    for written, meant in same:
        if unit.pint == written:
            return normalise_unit(meant)
    return unit


@lru_cache(maxsize=4096)
def conversion(from_unit: str, to_unit: str, analyte: str | None = None) -> Affine:
    """Return the conversion between two unit strings for an analyte.

    Parameters
    ----------
    from_unit, to_unit
        Unit strings as written (any spelling :func:`normalise_unit` accepts).
    analyte
        Catalogue key. Needed for mass <-> substance (molar mass), mEq (valence)
        and HbA1c NGSP <-> IFCC (master equation) conversions.

    Returns
    -------
    Affine
        The conversion, to be applied to values in ``from_unit``.

    Raises
    ------
    UnknownUnitError
        When either unit is not recognised.
    IncompatibleUnitError
        When the units measure different quantities for this analyte.
    """
    info = _analyte_units(analyte)
    src = _same_as(normalise_unit(from_unit), info.same)
    dst = _same_as(normalise_unit(to_unit), info.same)
    if info.scales:
        src_scale, dst_scale = _scale_of(src, info.scales), _scale_of(dst, info.scales)
        if src_scale is None or dst_scale is None:
            raise IncompatibleUnitError(
                f"The unit is not one of the measurement scales of {analyte} "
                f"({', '.join(n for n, _ in info.scales)})."
            )
        return _scale_conversion(src_scale, dst_scale)
    factor = _factor_table().get((src.pint, dst.pint, analyte or ""))
    if factor is not None:
        return Affine(factor)
    return pint_conversion(src, dst, analyte)


#: The factors pint gives between the alias table's units, per analyte (empty: none).
FACTOR_TABLE: Final = "unit_factors.csv"


#: The data files the factor table is made from: a table made from other versions of them
#: is not used (every conversion then asks pint).
FACTOR_SOURCES: Final = ("units.txt", "unit_aliases.csv", "analytes.toml")


def factor_sources_digest() -> str:
    """Return the SHA-256 of :data:`FACTOR_SOURCES`, as the factor table's first line holds it."""
    digest = hashlib.sha256()
    for name in FACTOR_SOURCES:
        digest.update((resources.files("labinterp") / "data" / name).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _factor_table() -> dict[tuple[str, str, str], float]:
    """Return ``{(from pint unit, to pint unit, analyte): factor}`` of :data:`FACTOR_TABLE`.

    Empty when the table was made from other versions of :data:`FACTOR_SOURCES` than the
    installed ones, so that a table can never answer for data it was not made from.
    """
    source = resources.files("labinterp") / "data" / FACTOR_TABLE
    with source.open(encoding="utf-8") as handle:
        made_from = handle.readline().strip().removeprefix("# sources sha256 ")
        if made_from != factor_sources_digest():
            return {}
        return {
            (row["from_unit"], row["to_unit"], row["analyte"]): float(row["factor"])
            for row in csv.DictReader(handle)
        }


def pint_conversion(src: NormalisedUnit, dst: NormalisedUnit, analyte: str | None) -> Affine:
    """Return the conversion factor between two units as pint computes it.

    :func:`conversion` reads the factors between the alias table's units from
    :data:`FACTOR_TABLE`, which this function wrote; other units come here.

    Raises
    ------
    IncompatibleUnitError
        When the units measure different quantities for this analyte.
    """
    import pint

    info = _analyte_units(analyte)
    ureg = unit_registry()
    src_units, dst_units = ureg.parse_units(src.pint), ureg.parse_units(dst.pint)
    if (
        src_units.dimensionality == {}
        and src_units != dst_units
        and info.per_molar_mass is None
        and not info.fraction  # a fraction's L/L and % are the same quantity
    ):
        raise IncompatibleUnitError(
            "Conversions between dimensionless units (such as % and mmol/mol) depend on "
            "the analyte; pass analyte=."
        )
    quantity = ureg.Quantity(1.0, src_units)
    contexts: dict[str, Any] = {}
    if info.molar_mass is not None:
        contexts["mw"] = info.molar_mass * ureg("g/mol")
    try:
        if info.valence is not None and "[equivalent]" in str(src_units.dimensionality) + str(
            dst_units.dimensionality
        ):
            with ureg.context("valence", valence=info.valence):
                if contexts:
                    value = quantity.to(dst_units, "chemistry", **contexts).magnitude
                else:
                    value = quantity.to(dst_units).magnitude
        elif contexts:
            value = quantity.to(dst_units, "chemistry", **contexts).magnitude
        elif info.per_molar_mass is not None:
            per_mw = info.per_molar_mass * ureg("g/mol")
            value = quantity.to(dst_units, "ratio_per", per_mw=per_mw).magnitude
        else:
            value = quantity.to(dst_units).magnitude
    except (pint.DimensionalityError, ArithmeticError, pint.errors.PintError) as exc:
        hint = (
            ""
            if analyte is not None
            else " If the units differ only by mass vs amount of substance, pass analyte=."
        )
        raise IncompatibleUnitError(
            f"The units measure different quantities and cannot be converted.{hint}"
        ) from exc
    factor = float(value)
    if not math.isfinite(factor) or factor == 0.0:
        raise IncompatibleUnitError("The units cannot be converted.")
    return Affine(factor)


def _scale_conversion(src: str, dst: str) -> Affine:
    if src == dst:
        return Affine(1.0)
    if (src, dst) == ("ngsp", "ifcc"):
        return NGSP_TO_IFCC
    if (src, dst) == ("ifcc", "ngsp"):
        return IFCC_TO_NGSP
    raise IncompatibleUnitError(f"No conversion between the {src} and {dst} scales.")


_T = TypeVar("_T", float, "npt.NDArray[np.float64]", "pd.Series[float]")

#: Message of a Quantity whose own unit is not the ``from_unit`` given with it.
QUANTITY_UNIT_CONFLICT: Final = (
    "The value is a pint Quantity whose unit is not from_unit; pass from_unit=None to use "
    "the Quantity's own unit, or a from_unit that is the same unit."
)


@overload
def convert(value: float, from_unit: str, to_unit: str, *, analyte: str | None = ...) -> float: ...
@overload
def convert(
    value: npt.NDArray[np.float64], from_unit: str, to_unit: str, *, analyte: str | None = ...
) -> npt.NDArray[np.float64]: ...
@overload
def convert(
    value: pd.Series[float], from_unit: str, to_unit: str, *, analyte: str | None = ...
) -> pd.Series[float]: ...
@overload
def convert(
    value: pint.Quantity[Any], from_unit: str | None, to_unit: str, *, analyte: str | None = ...
) -> pint.Quantity[Any]: ...
def convert(value: Any, from_unit: str | None, to_unit: str, *, analyte: str | None = None) -> Any:
    """Convert lab values between units.

    Parameters
    ----------
    value
        A number, a sequence, a NumPy array, a pandas Series or a pint Quantity. Series
        keep their index. A Quantity carries its own unit: ``from_unit`` may then be
        ``None``, and when given it must be the same unit.
    from_unit, to_unit
        Unit strings as written in exports or sent as UCUM codes (``"mg/dL"``,
        ``"umol/l"``, ``"%"``, ``"mmol/mol{Hb}"`` ...).
    analyte
        Catalogue key (``"creatinine"``, ``"hba1c"`` ...). Required when the
        conversion depends on the substance: mass <-> amount of substance,
        mEq/L, and HbA1c % (NGSP) <-> mmol/mol (IFCC).

    Returns
    -------
    float, numpy.ndarray, pandas.Series or pint.Quantity
        The converted value(s), same kind as the input (a Quantity in ``to_unit``).

    Raises
    ------
    UnitsRequiredError
        When ``from_unit`` is ``None`` and the value is not a Quantity.
    UnitError
        When a Quantity's own unit is not ``from_unit``
        (:data:`QUANTITY_UNIT_CONFLICT`); :class:`UnknownUnitError` and
        :class:`IncompatibleUnitError` (both UnitErrors) as for :func:`conversion`.

    Examples
    --------
    >>> round(convert(1.0, "mg/dL", "umol/L", analyte="creatinine"), 2)
    88.4
    >>> round(convert(48, "mmol/mol", "%", analyte="hba1c"), 2)
    6.54
    >>> from labinterp.units import ureg
    >>> round(convert(88.4 * ureg("umol/L"), None, "mg/dL", analyte="creatinine"), 2)
    <Quantity(1.0, 'milligram / deciliter')>
    """
    if is_quantity(value):
        return _convert_quantity(value, from_unit, to_unit, analyte)
    if from_unit is None:
        raise UnitsRequiredError(
            "from_unit=None needs a pint Quantity, which carries its own unit; give the "
            "unit of the values."
        )
    transform = conversion(from_unit, to_unit, analyte)
    if isinstance(value, pd.Series):
        return transform(value.astype("float64"))
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(transform(float(value)))
    return transform(np.asarray(value, dtype="float64"))


def is_quantity(value: Any) -> bool:
    """Return whether ``value`` is a pint Quantity (there is none before pint is imported).

    Parameters
    ----------
    value
        Anything.

    Returns
    -------
    bool
        True for a Quantity of any pint registry; pint is never imported to answer.
    """
    pint = sys.modules.get("pint")
    return pint is not None and isinstance(value, pint.Quantity)


def _convert_quantity(
    value: pint.Quantity[Any], from_unit: str | None, to_unit: str, analyte: str | None
) -> pint.Quantity[Any]:
    """Convert a Quantity from its own unit, refusing a ``from_unit`` that differs."""
    own = _unit_in_registry(value.units)
    if from_unit is not None and unit_registry().parse_units(normalise_unit(from_unit).pint) != own:
        raise UnitError(QUANTITY_UNIT_CONFLICT)
    transform = conversion(_pint_text(own), to_unit, analyte)
    magnitude = value.magnitude
    if isinstance(magnitude, (int, float, np.floating, np.integer)):
        converted: Any = float(transform(float(magnitude)))
    else:
        converted = transform(np.asarray(magnitude, dtype="float64"))
    registry = unit_registry()
    return registry.Quantity(converted, registry.parse_units(normalise_unit(to_unit).pint))


def _unit_in_registry(units: Any) -> pint.Unit:
    """Return a Quantity's unit in :data:`ureg` (the Quantity may come from another registry)."""
    try:
        return unit_registry().parse_units(format(units, "D"))
    except Exception as exc:  # pint raises several unrelated types for bad strings
        raise UnknownUnitError(
            "The Quantity's unit is not a unit labinterp recognises; convert it to a "
            "standard unit first."
        ) from exc
