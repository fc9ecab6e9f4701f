"""Context: which context rules (``rules.toml``) apply to each result, and their caveats.

A rule names an analyte and conditions (flag, derived, age, month, profile, where the
range came from, another result of the same sample set). :func:`rule_caveats` evaluates
every rule vectorised over the rows; :func:`rule_bits_one` is its scalar twin for the
single-result path, held equal by property tests. Caveat texts are ``caveat.<rule id>``
in the text catalogues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import Text, rules
from labinterp.perf import factorize_rows, factorized
from labinterp.samples import in_sets_of

__all__ = ["RuleRow", "fill_placeholders", "render_rules", "rule_bits_one", "rule_caveats"]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders from ``values``; unknown ones stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def rule_caveats(
    columns: Mapping[str, Any], profile: str, text: Text, values: Mapping[str, Any]
) -> tuple[ObjArray, ObjArray, ObjArray, npt.NDArray[np.int64]]:
    """Evaluate the context rules, vectorised per rule, and render their caveats.

    Parameters
    ----------
    columns
        Row-aligned arrays: ``analyte``, ``flag``, ``value_canonical``,
        ``age_years``, ``collected_at``, ``sample_set`` (numbers from
        :func:`labinterp._frames.sample_sets`), ``reference_source``, ``derived``.
    profile
        The profile's name (for rules limited to profiles).
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
    # Compare small integer codes rather than strings, row by row.
    # (Categoricals are factorized by their codes.)
    analyte_codes, analyte_names = _numbered(columns["analyte"])
    flag_codes, flag_names = _numbered(columns["flag"])
    analyte_index = {name: i for i, name in enumerate(analyte_names)}
    flag_index = {name: i for i, name in enumerate(flag_names)}

    n = len(analyte_codes)
    found: dict[str | None, npt.NDArray[np.intp]] = {}

    def rows_of(name: str | None) -> npt.NDArray[np.intp]:
        # Each rule works on the rows of its analyte only (all rows when it names none).
        if name not in found:
            code = analyte_index.get(name, -2) if name is not None else None
            found[name] = np.arange(n) if code is None else np.flatnonzero(analyte_codes == code)
        return found[name]

    def has_flag(idx: npt.NDArray[np.intp], names: Sequence[str]) -> BoolArray:
        wanted = [flag_index[f] for f in names if f in flag_index]
        return _among(flag_codes[idx], wanted, len(flag_index))

    def months_of(idx: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        collected = pd.Series(columns["collected_at"]).iloc[idx]
        if not pd.api.types.is_datetime64_any_dtype(collected):
            collected = pd.to_datetime(collected, errors="coerce")
        return np.asarray(collected.dt.month.fillna(0), dtype=np.int64)  # 0: no date

    sources: list[Any] = []

    def source_codes_of(idx: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], Any]:
        if not sources:  # factorized once, when a rule first needs it
            sources.extend(_numbered(columns["reference_source"]))
        return sources[0][idx], sources[1]

    sets = np.asarray(columns["sample_set"], dtype=np.int64)
    age = np.asarray(columns["age_years"], dtype="float64")
    derived = np.asarray(columns["derived"], dtype=bool)
    measured = np.asarray(columns["value_canonical"], dtype="float64")
    active = rules()
    # Bits are gathered per analyte's rows, then written to the rows once per analyte.
    bits_of: dict[str | None, npt.NDArray[np.int64]] = {}
    for position, rule in enumerate(active):
        if rule.profiles and profile not in rule.profiles:
            continue
        idx = rows_of(rule.analyte)
        keep = np.ones(len(idx), dtype=bool)
        if rule.flags:
            keep &= has_flag(idx, rule.flags)
        if rule.derived is not None:
            keep &= derived[idx] == rule.derived
        if rule.age_outside is not None:
            low, high = rule.age_outside
            with np.errstate(invalid="ignore"):
                keep &= (age[idx] < low) | (age[idx] > high)
        if rule.months:
            keep &= _among(months_of(idx), rule.months, 13)
        if rule.reference_source == "none":
            codes_here, _ = source_codes_of(idx)
            keep &= (codes_here < 0) & (analyte_codes[idx] >= 0)
        elif rule.reference_source is not None:
            codes_here, source_names = source_codes_of(idx)
            prefix = rule.reference_source
            matching = [i for i, s in enumerate(source_names) if str(s).startswith(prefix)]
            keep &= _among(codes_here, matching, len(source_names))
        if rule.with_analyte is not None:
            others = rows_of(rule.with_analyte)
            other = np.ones(len(others), dtype=bool)
            if rule.with_flags:
                other &= has_flag(others, rule.with_flags)
            if rule.with_below is not None:
                with np.errstate(invalid="ignore"):
                    other &= measured[others] < rule.with_below
            # In a sample set that holds such a result.
            keep &= in_sets_of(sets, others[other])[idx]
        local = bits_of.setdefault(rule.analyte, np.zeros(len(idx), dtype=np.int64))
        local |= keep.astype(np.int64) << position
    bits = bits_of.pop(None, None)
    bits = np.zeros(n, dtype=np.int64) if bits is None else bits
    for name, local in bits_of.items():
        bits[rows_of(name)] |= local
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


def rule_bits_one(
    row: RuleRow,
    sample_set: Sequence[RuleRow],
    *,
    age: float,
    month: int | None,
    reference_source: str | None,
    profile: str,
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
        came from (``"lab"``, ``"catalogue:<name>"`` or ``None``) and the profile.

    Returns
    -------
    int
        Bit *i* set when rule *i* of :func:`rules` applies.
    """
    bits = 0
    for position, rule in enumerate(rules()):
        if rule.profiles and profile not in rule.profiles:
            continue
        if rule.analyte is not None and row.analyte != rule.analyte:
            continue
        if rule.flags and row.flag not in rule.flags:
            continue
        if rule.derived is not None and row.derived != rule.derived:
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
        if rule.with_analyte is not None and not any(
            other.analyte == rule.with_analyte
            and (not rule.with_flags or other.flag in rule.with_flags)
            and (rule.with_below is None or other.value_canonical < rule.with_below)
            for other in sample_set
        ):
            continue
        bits |= 1 << position
    return bits
