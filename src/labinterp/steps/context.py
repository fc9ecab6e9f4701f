"""Context: which context rules (``rules.toml``) apply to each result, and their caveats.

A rule names an analyte and conditions (flag, the direction its caveat speaks of,
derived, whether the value was compared with a range, age, month, profile, where the
range came from, another result of the same sample set). :func:`rule_caveats` evaluates
every rule vectorised over the rows; :func:`rule_bits_one` is its scalar twin for the
single-result path, held equal by property tests. Caveat texts are ``caveat.<rule id>``
in the text catalogues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import Text, get_analyte, get_profile, rules
from labinterp.models import Profile, Rule
from labinterp.perf import factorize_rows, factorized
from labinterp.precision import without_float_noise_array, without_float_noise_one
from labinterp.samples import in_sets_of
from labinterp.units import conversion
from labinterp.vocab import specimen_numbers

__all__ = [
    "RuleRow",
    "beyond",
    "beyond_one",
    "fill_placeholders",
    "render_rules",
    "rule_bits",
    "rule_bits_one",
    "rule_caveats",
    "thresholds",
]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

#: The flags a caveat of each direction does not fit (``Rule.direction``).
_AGAINST: dict[str, tuple[str, ...]] = {"low": ("H", "HH"), "high": ("L", "LL")}


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders from ``values``; unknown ones stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class _Columns:
    """The rows the rules look at, with text columns numbered once (categoricals by code)."""

    def __init__(self, columns: Mapping[str, Any], units: Mapping[str, str]) -> None:
        self.analyte, analyte_names = _numbered(columns["analyte"])
        self.flag, flag_names = _numbered(columns["flag"])
        self.analyte_index = {name: i for i, name in enumerate(analyte_names)}
        self.flag_index = {name: i for i, name in enumerate(flag_names)}
        self.n = len(self.analyte)
        self.sets = np.asarray(columns["sample_set"], dtype=np.int64)
        self.age = np.asarray(columns["age_years"], dtype="float64")
        self.derived = np.asarray(columns["derived"], dtype=bool)
        self.compared = np.asarray(columns["compared"], dtype=bool)
        self.measured = np.asarray(columns["value_canonical"], dtype="float64")
        compared_as = columns.get("comparator")  # "<", ">" ...: a censored value
        self.comparator = (
            np.full(self.n, "", dtype=object) if compared_as is None else np.asarray(compared_as)
        )
        said = columns.get("specimen")  # a position in SAID_SPECIMENS (-1: not said)
        self.specimen = np.full(self.n, -1) if said is None else np.asarray(said, dtype=np.int64)
        self._columns = columns
        self._units = units
        self._found: dict[str | None, npt.NDArray[np.intp]] = {}
        self._sources: tuple[npt.NDArray[np.int64], Sequence[Any]] | None = None

    def rows_of(self, name: str | None) -> npt.NDArray[np.intp]:
        """Return the rows of an analyte (all rows for ``None``); each rule works on those."""
        if name not in self._found:
            code = self.analyte_index.get(name, -2) if name is not None else None
            self._found[name] = (
                np.arange(self.n) if code is None else np.flatnonzero(self.analyte == code)
            )
        return self._found[name]

    def has_flag(self, idx: npt.NDArray[np.intp], names: Sequence[str]) -> BoolArray:
        """Mark the rows in ``idx`` whose flag is one of ``names``."""
        wanted = [self.flag_index[f] for f in names if f in self.flag_index]
        return _among(self.flag[idx], wanted, len(self.flag_index))

    def months(self, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        """Return the collection month of the rows in ``idx`` (0: no date)."""
        collected = pd.Series(self._columns["collected_at"]).iloc[idx]
        if not pd.api.types.is_datetime64_any_dtype(collected):
            collected = pd.to_datetime(collected, errors="coerce")
        return np.asarray(collected.dt.month.fillna(0), dtype=np.int64)

    def source_codes(self, idx: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.int64], Any]:
        """Return where the range of each row came from, numbered, and the names."""
        if self._sources is None:  # factorized once, when a rule first needs it
            self._sources = _numbered(self._columns["reference_source"])
        return self._sources[0][idx], self._sources[1]

    def holds(self, rule: Rule, idx: npt.NDArray[np.intp]) -> BoolArray:
        """Mark the rows in ``idx`` (the rule's analyte's rows) where the rule applies."""
        keep = np.ones(len(idx), dtype=bool)
        if rule.flags:
            keep &= self.has_flag(idx, rule.flags)
        if rule.direction is not None:
            keep &= ~self.has_flag(idx, _AGAINST[rule.direction])
        if rule.derived is not None:
            keep &= self.derived[idx] == rule.derived
        if rule.compared is not None:
            keep &= self.compared[idx] == rule.compared
        if rule.specimens:
            keep &= np.isin(self.specimen[idx], specimen_numbers(rule.specimens))
        if rule.age_outside is not None:
            low, high = rule.age_outside
            with np.errstate(invalid="ignore"):
                keep &= (self.age[idx] < low) | (self.age[idx] > high)
        if rule.months:
            keep &= _among(self.months(idx), rule.months, 13)
        if rule.reference_source is not None:
            keep &= self._range_from(rule.reference_source, idx)
        if rule.with_analyte is not None:
            keep &= self._with(rule, idx)
        return keep

    def _range_from(self, wanted: str, idx: npt.NDArray[np.intp]) -> BoolArray:
        codes, names = self.source_codes(idx)
        if wanted == "none":
            return (codes < 0) & (self.analyte[idx] >= 0)
        matching = [i for i, s in enumerate(names) if str(s).startswith(wanted)]
        return _among(codes, matching, len(names))

    def _with(self, rule: Rule, idx: npt.NDArray[np.intp]) -> BoolArray:
        others = self.rows_of(rule.with_analyte)
        other = self.compared[others].copy()  # a value not read (or race-adjusted) says nothing
        if rule.with_flags:
            other &= self.has_flag(others, rule.with_flags)
        below, above = thresholds(rule, self._units)
        if below is not None or above is not None:
            measured = without_float_noise_array(self.measured[others])  # as the thresholds
            other &= beyond(measured, self.comparator[others], below, above)
        # In a sample set that holds such a result.
        return in_sets_of(self.sets, others[other])[idx]


def beyond(
    value: npt.NDArray[np.float64],
    comparator: npt.NDArray[np.object_],
    below: float | None,
    above: float | None,
) -> BoolArray:
    """Mark values below ``below`` and above ``above`` (strictly), whatever a censored one is.

    A censored value stands for every value its comparator allows: ``<5`` is below 30
    but not surely above 4.5; ``>4.5`` is above 4.5 but not surely above 4.516. The
    condition holds only where it holds for all of them.
    """
    lt, le = comparator == "<", comparator == "<="
    gt, ge = comparator == ">", comparator == ">="
    ok = np.ones(len(value), dtype=bool)
    with np.errstate(invalid="ignore"):
        if below is not None:
            ok &= np.where(lt, value <= below, value < below) & ~(gt | ge)
        if above is not None:
            ok &= np.where(gt, value >= above, value > above) & ~(lt | le)
    return ok


def beyond_one(value: float, comparator: str, below: float | None, above: float | None) -> bool:
    """Return :func:`beyond` for one value (its scalar twin)."""
    if below is not None and not (
        comparator not in (">", ">=") and (value <= below if comparator == "<" else value < below)
    ):
        return False
    return above is None or (
        comparator not in ("<", "<=") and (value >= above if comparator == ">" else value > above)
    )


def thresholds(rule: Rule, units: Mapping[str, str]) -> tuple[float | None, float | None]:
    """Return a rule's ``with.below`` and ``with.above`` in the reporting unit of its analyte.

    ``rules.toml`` states the thresholds in ``with.unit``, the unit their source states
    them in, or else the analyte's catalogue unit (``analytes.toml`` ``unit``); results
    are compared in the profile's reporting unit (``units``), so the thresholds are
    converted (without the conversion's float noise), never compared as written. Both
    are strict: the other result must lie below ``below`` and above ``above``.
    """
    to_unit = None if rule.with_analyte is None else units.get(rule.with_analyte)
    below, above, unit = rule.with_below, rule.with_above, rule.with_unit
    return (
        None if below is None else _threshold(rule.with_analyte, below, unit, to_unit),
        None if above is None else _threshold(rule.with_analyte, above, unit, to_unit),
    )


@lru_cache(maxsize=256)
def _threshold(
    analyte: str | None, bound: float, from_unit: str | None, to_unit: str | None
) -> float:
    if analyte is None or to_unit is None:  # no reporting unit: no converted value
        return bound
    stated = from_unit or get_analyte(analyte).unit
    return without_float_noise_one(float(conversion(stated, to_unit, analyte)(bound)))


def rule_bits(columns: Mapping[str, Any], profile: str | Profile) -> npt.NDArray[np.int64]:
    """Evaluate the context rules, vectorised per rule: per row, bit *i* for rule *i*.

    Parameters
    ----------
    columns
        Row-aligned arrays: ``analyte``, ``flag``, ``value_canonical``,
        ``age_years``, ``collected_at``, ``sample_set`` (numbers from
        :func:`labinterp.samples.sample_sets`), ``reference_source``, ``derived`` and
        ``compared`` (the value was read, so it was compared with a range if it had one:
        false for a problem found while reading, such as ``implausible_value``); and
        optionally ``comparator`` (``"<"``, ``">"`` ... for censored values, which meet a
        ``with`` threshold only if every value they stand for does) and ``specimen``, the
        specimen each row's code or name says (a position in
        :data:`labinterp.vocab.SAID_SPECIMENS`, -1: not said; missing: none says one).
    profile
        The profile, or its name (for rules limited to profiles, and the reporting units
        that thresholds are converted to).

    Returns
    -------
    numpy.ndarray
        The rule bits per row.
    """
    chosen = get_profile(profile)
    rows = _Columns(columns, chosen.units)
    # Bits are gathered per analyte's rows, then written to the rows once per analyte.
    bits_of: dict[str | None, npt.NDArray[np.int64]] = {}
    for position, rule in enumerate(rules()):
        if rule.profiles and chosen.name not in rule.profiles:
            continue
        idx = rows.rows_of(rule.analyte)
        local = bits_of.setdefault(rule.analyte, np.zeros(len(idx), dtype=np.int64))
        local |= rows.holds(rule, idx).astype(np.int64) << position
    bits = bits_of.pop(None, None)
    bits = np.zeros(rows.n, dtype=np.int64) if bits is None else bits
    for name, local in bits_of.items():
        bits[rows.rows_of(name)] |= local
    return bits


def rule_caveats(
    columns: Mapping[str, Any], profile: str | Profile, text: Text, values: Mapping[str, Any]
) -> tuple[ObjArray, ObjArray, ObjArray, npt.NDArray[np.int64]]:
    """Evaluate the context rules (:func:`rule_bits`) and render their caveats.

    Parameters
    ----------
    columns, profile
        As for :func:`rule_bits`.
    text
        The texts to render.
    values
        Row-aligned placeholder values (``equation``, ``catalogue``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Per distinct combination of caveats: a tuple of caveat texts, a tuple of the
        source keys they cite and a tuple of the rule ids that applied; and per row, the
        number of its combination (an index into the three tables).
    """
    bits = rule_bits(columns, profile)
    codes, first = factorize_rows(bits, *values.values())
    uniques = [(bits[i], *("" if pd.isna(v[i]) else v[i] for v in values.values())) for i in first]
    names = list(values)
    rendered = np.empty(len(uniques), dtype=object)
    cited = np.empty(len(uniques), dtype=object)
    applied = np.empty(len(uniques), dtype=object)
    for i, combo in enumerate(uniques):
        mask_bits, *filled = combo
        fill = {k: str(v) for k, v in zip(names, filled, strict=True) if v != ""}
        rendered[i], cited[i], applied[i] = render_rules(int(mask_bits), fill, text)
    return rendered, cited, applied, codes


def _numbered(values: Any) -> tuple[npt.NDArray[np.int64], Sequence[Any]]:
    """Return codes (-1: missing) and the values they number; a categorical's own codes."""
    found = factorized(values)
    return found.codes, list(found.uniques)


def _among(codes: npt.NDArray[np.integer[Any]], wanted: Sequence[int], size: int) -> BoolArray:
    """Mark the rows whose code (below ``size``; -1: missing) is one of ``wanted``."""
    table = np.zeros(size + 1, dtype=bool)
    table[list(wanted)] = True
    return np.asarray(table[codes], dtype=bool)  # -1 takes the last entry, never marked


def render_rules(
    bits: int, fill: Mapping[str, str], text: Text
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Render the caveats of the rules whose bits are set (bit *i* is rule *i*).

    Returns
    -------
    (tuple, tuple, tuple)
        The caveat texts, the source keys they cite, and the rule ids.
    """
    texts: list[str] = []
    keys_cited: list[str] = []
    ids: list[str] = []
    for position, rule in enumerate(rules()):
        if bits & (1 << position):
            ids.append(rule.id)
            entry = text.get(f"caveat.{rule.id}")
            if entry is not None:
                texts.append(fill_placeholders(entry.text, fill))
                keys_cited.extend(entry.sources)
    return tuple(texts), tuple(dict.fromkeys(keys_cited)), tuple(ids)


@dataclass(frozen=True)
class RuleRow:
    """What the context rules need from one result (see :func:`rule_bits_one`)."""

    analyte: str | None
    flag: str
    value_canonical: float
    derived: bool
    #: The value was read, so it was compared with a range if it had one.
    compared: bool = True
    #: The specimen its code or name says (``""``: none; :data:`labinterp.vocab.SaidSpecimen`).
    specimen: str = ""
    #: ``"<"``, ``">"`` ... for a censored value (``""``: exact).
    comparator: str = ""


def _fits_row(rule: Rule, row: RuleRow) -> bool:
    """Return whether the result's own fields (analyte, flag, derived, compared) fit the rule."""
    return not (
        (rule.analyte is not None and row.analyte != rule.analyte)
        or (rule.flags and row.flag not in rule.flags)
        or (rule.direction is not None and row.flag in _AGAINST[rule.direction])
        or (rule.derived is not None and row.derived != rule.derived)
        or (rule.compared is not None and row.compared != rule.compared)
        or not rule.takes(row.specimen)
    )


def rule_bits_one(
    row: RuleRow,
    sample_set: Sequence[RuleRow],
    *,
    age: float,
    month: int | None,
    reference_source: str | None,
    profile: str | Profile,
) -> int:
    """Evaluate the context rules for one result; the scalar twin of :func:`rule_caveats`.

    Parameters
    ----------
    row
        The result.
    sample_set
        Every result of its sample set (same patient and collection time), itself
        included; empty when the result belongs to none.
    age, month, reference_source, profile
        The patient's age (NaN when unknown), the collection month, where the range
        came from (``"lab"``, ``"catalogue:<name>"`` or ``None``) and the profile (or
        its name).

    Returns
    -------
    int
        Bit *i* set when rule *i* of :func:`rules` applies.
    """
    chosen = get_profile(profile)
    bits = 0
    for position, rule in enumerate(rules()):
        if rule.profiles and chosen.name not in rule.profiles:
            continue
        if not _fits_row(rule, row):
            continue
        if rule.age_outside is not None and not (
            age < rule.age_outside[0] or age > rule.age_outside[1]
        ):
            continue
        if rule.months and month not in rule.months:
            continue
        if rule.reference_source == "none":
            if reference_source is not None or row.analyte is None:
                continue
        elif rule.reference_source is not None and not (reference_source or "").startswith(
            rule.reference_source
        ):
            continue
        below, above = thresholds(rule, chosen.units)
        if rule.with_analyte is not None and not any(
            other.analyte == rule.with_analyte
            and other.compared
            and (not rule.with_flags or other.flag in rule.with_flags)
            and beyond_one(
                without_float_noise_one(other.value_canonical), other.comparator, below, above
            )
            for other in sample_set
        ):
            continue
        bits |= 1 << position
    return bits
