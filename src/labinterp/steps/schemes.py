"""Schemes: place each usable result in the categories of a classification scheme.

A scheme (``schemes.toml``) names an analyte, a unit and ordered categories (KDIGO G
stages, HbA1c diabetes ranges, vitamin D status, ferritin stores); the first scheme of
the profile's list that fits a result wins. :func:`apply_schemes` works on arrays;
:func:`classify_one` is its scalar twin for one result, held equal by property tests.
Inflammation (for ferritin) is read from the ``ferritin_inflammation`` context rule:
a result of the rule's marker analyte, flagged as the rule says, in the same sample set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp import catalogue
from labinterp.catalogue import rule
from labinterp.errors import CatalogueError, UnitError
from labinterp.models import Scheme, SchemeCategory
from labinterp.samples import in_sets_of
from labinterp.steps.cutoffs import categorise_one, category_codes
from labinterp.steps.flags import fixed_precision
from labinterp.steps.state import NOTE_BIT, SEXES
from labinterp.units import Affine, conversion
from labinterp.vocab import specimen_numbers

__all__ = [
    "INFLAMMATION_RULE",
    "Classified",
    "SchemeInputs",
    "apply_schemes",
    "checked_schemes",
    "classify_one",
    "inflamed_sample_sets",
    "unclassified_note_one",
]

#: The context rule whose ``with`` condition says what shows inflammation.
INFLAMMATION_RULE = "ferritin_inflammation"

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SchemeInputs:
    """What the schemes need from one interpretation run, row-aligned."""

    analyte: pd.Categorical[Any]  # compared by code
    value: FloatArray  # as parsed, in the row's own unit
    comparator: ObjArray
    censored: BoolArray  # the comparator is not ""
    scale: FloatArray  # row unit -> reporting unit
    offset: FloatArray
    flag: pd.Categorical[Any]  # compared by code; "" (no flag) is a category
    usable: BoolArray  # the value and unit were read (a missing range does not matter)
    age: FloatArray
    sex: IntArray  # position in labinterp.steps.state.SEXES (0: not known)
    specimen: IntArray  # what the code or name says: position in SAID_SPECIMENS (-1: not said)
    inflamed: BoolArray


def inflamed_sample_sets(
    analyte: ObjArray | pd.Categorical[Any], flag: ObjArray | pd.Categorical[Any], sets: IntArray
) -> BoolArray:
    """Mark rows whose sample set (same patient and collection time) shows inflammation.

    What shows inflammation is the ``with`` condition of the ``ferritin_inflammation``
    context rule (``rules.toml``: a CRP flagged ``H`` or ``HH``), so the scheme and the
    caveat read it from one place. ``sets`` numbers the sample sets
    (:func:`labinterp.samples.sample_sets`); rows without a patient or a collection
    time (-1) form none and are not marked. Analytes and flags may be categoricals
    (compared by code).
    """
    marker = rule(INFLAMMATION_RULE)
    raised = np.asarray(analyte == marker.with_analyte, dtype=bool)
    if marker.with_flags:
        flagged = np.zeros(len(raised), dtype=bool)
        for name in marker.with_flags:
            flagged |= np.asarray(flag == name, dtype=bool)
        raised &= flagged
    return in_sets_of(sets, raised)


def _bounds(categories: Sequence[SchemeCategory]) -> tuple[list[float], list[bool], list[str]]:
    uppers = [float(c.upper) for c in categories[:-1] if c.upper is not None]
    inclusive = [c.upper_inclusive for c in categories[:-1]]
    return uppers, inclusive, [c.label for c in categories]


class _Labels:
    """The labels a scheme gives, numbered in the order they are first given."""

    def __init__(self) -> None:
        self.labels: list[str] = []

    def number(self, label: str) -> int:
        if label not in self.labels:
            self.labels.append(label)
        return self.labels.index(label)


@dataclass(frozen=True)
class _Cut:
    """One set of a scheme's cut-offs: its unit and its categories."""

    unit: str
    categories: Sequence[SchemeCategory]
    inflamed: Sequence[SchemeCategory]


def _cut_sets(scheme: Scheme) -> list[_Cut]:
    """Return the scheme's cut-off sets: its own unit first, then ``in_units``, then the young."""
    cuts = [_Cut(str(scheme.unit), scheme.categories, scheme.inflamed_categories)]
    cuts += [_Cut(c.unit, c.categories, c.inflamed_categories) for c in scheme.in_units]
    young = scheme.below_age_min
    if young is not None:
        cuts.append(_Cut(young.unit, young.categories, young.inflamed_categories))
    return cuts


def _not_for_person(scheme: Scheme, age: FloatArray, sex: IntArray) -> IntArray:
    """Return the note bit of rows the scheme gives no category for who they are (0: none).

    The HbA1c schemes state adult criteria only (``age_min = 18``): a row of a known age
    under it gets ``scheme_adults_only``, a row without an age ``scheme_age_unknown``;
    neither gets a category. A scheme with ``below_age_min`` cut-offs needs an age too.
    A scheme for one sex gives a row without a known sex ``scheme_sex_unknown``.
    """
    bits = np.zeros(len(age), dtype=np.int64)
    if scheme.sex is not None:
        bits[sex == 0] = NOTE_BIT["scheme_sex_unknown"]
    if scheme.age_min is None:
        return bits
    bits[np.isnan(age)] |= NOTE_BIT["scheme_age_unknown"]
    if scheme.below_age_min is None:
        with np.errstate(invalid="ignore"):
            bits[np.isfinite(age) & (age < scheme.age_min)] |= NOTE_BIT["scheme_adults_only"]
    return bits


#: np.isclose's default tolerances, for the unit test in :func:`_placement`.
_RTOL, _ATOL = 1e-05, 1e-08


def _tried(
    scheme: Scheme, cuts: Sequence[_Cut], reporting: str, candidates: Sequence[int]
) -> Iterator[tuple[int, Affine]]:
    """Yield the candidate cut-off sets in the order they are tried, with their conversion.

    Later sets first (they take the results already in their unit), the first set last
    (it takes the rest); a set whose unit the reporting unit cannot reach is skipped.
    """
    for k in (*candidates[1:], candidates[0]):
        try:
            yield k, conversion(reporting, cuts[k].unit, scheme.analyte)
        except UnitError:
            continue


def _composed(scale: Any, offset: Any, to_cut: Affine) -> tuple[Any, Any, Any]:
    """Compose a result's conversion with a cut-off set's; also whether it converts at all.

    Works alike on floats and arrays. "No conversion" is np.isclose's test
    (|a - b| <= atol + rtol * |b|, its default tolerances) of scale 1 and offset 0,
    written out: the same answers, NaN and infinities included, without its set-up,
    which cost ~10 µs per call on the single path.
    """
    total_scale = scale * to_cut.scale
    total_offset = offset * to_cut.scale + to_cut.offset
    same = (abs(total_scale - 1.0) <= _ATOL + _RTOL) & (abs(total_offset) <= _ATOL)
    return total_scale, total_offset, same


def _placement(
    scheme: Scheme,
    value: FloatArray,
    *,
    scale: FloatArray,
    offset: FloatArray,
    age: FloatArray,
    reporting: str | None,
) -> tuple[IntArray, FloatArray]:
    """Choose each row's cut-off set (-1: none) and its value in that set's unit.

    The one rule for both paths: a result is classified against the cut-offs in its
    own unit when the scheme has them (a unit that needs no conversion, as ng/mL for
    ug/L), compared as given; otherwise it is converted to the scheme's first unit and
    rounded to ``resolution`` there, as laboratories report it. Analytes with a
    :func:`~labinterp.steps.flags.fixed_precision` (eGFR) are compared at it, as the
    flag is. Under ``age_min`` the ``below_age_min`` cut-offs apply, or none.
    """
    n = len(value)
    which = np.full(n, -1, dtype=np.int64)
    x = np.full(n, np.nan)
    cuts = _cut_sets(scheme)
    young = scheme.below_age_min is not None
    with np.errstate(invalid="ignore"):
        too_young = (
            ~(age >= scheme.age_min) if scheme.age_min is not None else np.zeros(n, dtype=bool)
        )
    if reporting is None:
        return which, x
    groups = [(~too_young, list(range(len(cuts) - young)))]
    if young:  # the young's cut-offs need a known age; without one, no category
        groups.append((too_young & ~np.isnan(age), [len(cuts) - 1]))
    for rows, candidates in groups:
        for k, to_cut in _tried(scheme, cuts, reporting, candidates):
            # NaN and values beyond a float after conversion (inf) are results as the
            # scalar twin gives them, not faults: no warning.
            with np.errstate(invalid="ignore", over="ignore"):
                total_scale, total_offset, same = _composed(scale, offset, to_cut)
                converted = ~same
                take = rows & (which < 0) & (~converted | (k == candidates[0]))
                which[take] = k
                x[take] = np.where(converted, value * total_scale + total_offset, value)[take]
                moved = take & converted
                if scheme.resolution is not None and moved.any():
                    x[moved] = np.round(x[moved] / scheme.resolution) * scheme.resolution
    fixed = fixed_precision(scheme.analyte)
    if fixed:
        x = np.round(x / fixed) * fixed
    return which, x


def _placement_one(
    scheme: Scheme, value: float, *, scale: float, offset: float, age: float, reporting: str | None
) -> tuple[int, float]:
    """Choose one row's cut-off set and its value there; the scalar twin of :func:`_placement`."""
    if reporting is None:
        return -1, math.nan
    cuts = _cut_sets(scheme)
    young = scheme.below_age_min is not None
    if scheme.age_min is not None and not age >= scheme.age_min:
        if not young or math.isnan(age):
            return -1, math.nan
        candidates = [len(cuts) - 1]
    else:
        candidates = list(range(len(cuts) - young))
    for k, to_cut in _tried(scheme, cuts, reporting, candidates):
        total_scale, total_offset, same = _composed(scale, offset, to_cut)
        converted = not same
        if converted and k != candidates[0]:
            continue
        x = value * total_scale + total_offset if converted else value
        if converted and scheme.resolution is not None:
            x = _rounded(x, scheme.resolution)
        fixed = fixed_precision(scheme.analyte)
        return k, _rounded(x, fixed) if fixed else x
    return -1, math.nan


def _rounded(x: float, step: float) -> float:
    """Round to a multiple of ``step`` as ``np.round`` does (half to even)."""
    return round(x / step) * step if math.isfinite(x / step) else x / step * step


def _classify(
    scheme: Scheme, inputs: SchemeInputs, idx: IntArray, target: Callable[[str], str | None]
) -> tuple[IntArray, list[str]]:
    """Categorise the rows in ``idx``: a label number per row (-1: none) and the labels."""
    labels = _Labels()
    number = labels.number
    flag_codes = np.asarray(inputs.flag.codes)[idx]
    flag_number = {name: i for i, name in enumerate(inputs.flag.categories)}

    def flagged(*names: str) -> BoolArray:
        wanted = [flag_number[f] for f in names if f in flag_number]
        return np.isin(flag_codes, wanted)

    if scheme.from_flags:
        by_flag = np.full(len(flag_number) + 1, -1, dtype=np.int64)  # last: no flag (-1)
        for name, label in scheme.from_flags.items():
            given = number(label)
            if name in flag_number:
                by_flag[flag_number[name]] = given
        return by_flag[flag_codes], labels.labels
    which, value = _placement(
        scheme,
        inputs.value[idx],
        scale=inputs.scale[idx],
        offset=inputs.offset[idx],
        age=inputs.age[idx],
        reporting=target(scheme.analyte),
    )
    comparator = inputs.comparator[idx]
    censored = inputs.censored[idx]
    inflamed = inputs.inflamed[idx]

    def placed(categories: Sequence[SchemeCategory], rows: BoolArray) -> IntArray:
        uppers, inclusive, names = _bounds(categories)
        numbers = np.array([*(number(n) for n in names), -1], dtype=np.int64)
        found = category_codes(
            value[rows], comparator[rows], uppers, inclusive, censored=censored[rows]
        )
        return numbers[found]

    out = np.full(len(idx), -1, dtype=np.int64)
    cuts = _cut_sets(scheme)
    for k, cut in enumerate(cuts):
        rows = which == k
        out[rows] = placed(cut.categories, rows)
        if cut.inflamed:
            hot = rows & inflamed
            out[hot] = placed(cut.inflamed, hot)
    if scheme.high_from_reference:
        # "normal" means "not above the upper reference limit": it needs a range.
        out[flagged("H", "HH") & (out >= 0)] = number(scheme.high_from_reference)
        top = [number(label) for label in _top_labels(cuts)]
        out[flagged("") & np.isin(out, top)] = -1
    return out, labels.labels


def _top_labels(cuts: Sequence[_Cut]) -> set[str]:
    """Return the labels of the top categories ("normal": not above the upper limit)."""
    top = {c.categories[-1].label for c in cuts}
    return top | {c.inflamed[-1].label for c in cuts if c.inflamed}


def checked_schemes(names: Sequence[str]) -> Mapping[str, Scheme]:
    """Return the scheme catalogue after checking that every name is in it.

    Raises
    ------
    CatalogueError
        When a name is not a known scheme.
    """
    known = catalogue.schemes()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CatalogueError(
            f"Unknown classification scheme(s) {', '.join(unknown)}; use: {', '.join(known)}."
        )
    return known


@dataclass(frozen=True)
class Classified:
    """Scheme and category per row, as text and as categoricals (grouped by their codes)."""

    scheme: ObjArray  # ``None`` where no scheme applies
    category: ObjArray
    scheme_coded: pd.Categorical[str]
    category_coded: pd.Categorical[str]
    notes: IntArray  # why no category: age (``scheme_adults_only``, ...) or sex not known


def apply_schemes(
    names: Sequence[str], inputs: SchemeInputs, target: Callable[[str], str | None]
) -> Classified:
    """Classify rows with the named schemes; the first scheme for an analyte wins.

    Parameters
    ----------
    names
        Scheme names (keys of ``schemes.toml``), in order of preference.
    inputs
        Row-aligned arrays from the interpretation.
    target
        The profile's reporting unit per analyte.

    Returns
    -------
    Classified
        ``scheme`` and ``category`` per row (``None`` where no scheme applies).

    Raises
    ------
    CatalogueError
        When a name is not a known scheme.
    """
    known = checked_schemes(names)
    n = len(inputs.analyte)
    scheme_code = np.full(n, -1, dtype=np.int64)
    category_code = np.full(n, -1, dtype=np.int64)
    labels_seen: dict[str, int] = {}
    # Compare analyte codes, not strings; each scheme works on its own rows only.
    codes = np.asarray(inputs.analyte.codes)
    number = {name: i for i, name in enumerate(inputs.analyte.categories)}
    open_rows = inputs.usable.copy()
    age_notes = np.zeros(n, dtype=np.int64)
    distinct = list(dict.fromkeys(names))
    for name in names:
        scheme = known[name]
        if scheme.analyte not in number:
            continue
        idx = np.flatnonzero(open_rows & (codes == number[scheme.analyte]))
        if scheme.specimens:  # not for these results at all: no note either
            idx = idx[np.isin(inputs.specimen[idx], specimen_numbers(scheme.specimens))]
        age_notes[idx] |= _not_for_person(scheme, inputs.age[idx], inputs.sex[idx])
        if scheme.sex is not None:
            idx = idx[inputs.sex[idx] == SEXES.index(scheme.sex)]
        if not len(idx):
            continue
        numbers, labels = _classify(scheme, inputs, idx, target)
        given = numbers >= 0
        rows = idx[given]
        local = numbers[given]
        scheme_code[rows] = distinct.index(name)
        shared = [labels_seen.setdefault(label, len(labels_seen)) for label in labels]
        category_code[rows] = np.array(shared, dtype=np.int64)[local] if labels else -1
        open_rows[rows] = False
    return Classified(
        np.array([*distinct, None], dtype=object)[scheme_code],
        np.array([*labels_seen, None], dtype=object)[category_code],
        pd.Categorical.from_codes(scheme_code, categories=pd.Index(distinct)),
        pd.Categorical.from_codes(category_code, categories=pd.Index(list(labels_seen))),
        np.where(scheme_code < 0, age_notes, 0).astype(np.int64),
    )


def classify_one(
    names: Sequence[str],
    analyte: str,
    value: float,
    *,
    comparator: str,
    scale: float,
    offset: float,
    flag: str,
    age: float,
    sex: str,
    specimen: str,
    inflamed: bool,
    target: Callable[[str], str | None],
) -> tuple[str | None, str | None]:
    """Classify one usable result; the scalar twin of :func:`apply_schemes`.

    ``sex`` is ``"female"``, ``"male"`` or ``""`` (not known): a scheme for one sex
    classifies results of that sex only. ``specimen`` is what the code or name says
    (``""``: nothing); a scheme with ``specimens`` classifies only those it lists.

    Returns
    -------
    (str or None, str or None)
        The scheme and the category, ``(None, None)`` where no scheme applies.
    """
    known = checked_schemes(names)
    for name in names:
        scheme = known[name]
        if scheme.analyte != analyte or scheme.sex not in (None, sex):
            continue
        if not scheme.takes(specimen):
            continue
        label = _classify_one(
            scheme,
            value,
            comparator=comparator,
            scale=scale,
            offset=offset,
            flag=flag,
            age=age,
            inflamed=inflamed,
            target=target,
        )
        if label:
            return name, label
    return None, None


def unclassified_note_one(
    names: Sequence[str], analyte: str, age: float, sex: str, specimen: str
) -> int:
    """Return the note bit for a result no scheme classified for its age or sex, else 0.

    The scalar twin of :attr:`Classified.notes`; call it where :func:`classify_one`
    gave no category.
    """
    known = checked_schemes(names)
    ages = np.array([age], dtype="float64")
    sexes = np.array([SEXES.index(sex) if sex in SEXES else 0], dtype=np.int64)
    bits = 0
    for name in names:
        scheme = known[name]
        if scheme.analyte == analyte and scheme.takes(specimen):
            bits |= int(_not_for_person(scheme, ages, sexes)[0])
    return bits


def _classify_one(
    scheme: Scheme,
    value: float,
    *,
    comparator: str,
    scale: float,
    offset: float,
    flag: str,
    age: float,
    inflamed: bool,
    target: Callable[[str], str | None],
) -> str:
    if scheme.from_flags:
        return scheme.from_flags.get(flag, "")
    cuts = _cut_sets(scheme)
    which, x = _placement_one(
        scheme, value, scale=scale, offset=offset, age=age, reporting=target(scheme.analyte)
    )
    if which < 0:
        return ""
    cut = cuts[which]
    categories = cut.inflamed if inflamed and cut.inflamed else cut.categories
    label = categorise_one(x, comparator, *_bounds(categories))
    if scheme.high_from_reference and label:
        if flag in ("H", "HH"):
            label = scheme.high_from_reference
        elif flag == "" and label in _top_labels(cuts):
            label = ""
    return label
