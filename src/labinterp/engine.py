"""The engine: a results frame in, the interpreted frame out.

:func:`interpret` runs the steps of :mod:`labinterp.steps` in order, each vectorised
over the whole frame: read (identify, values, units, plausibility), derive, ranges,
flags, schemes, then the frame is assembled and explained (context rules, texts),
with serial changes on request. Every input row appears in the output exactly once,
with a ``status`` and, when it is not ``ok``, a ``problem`` a person can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from labinterp import frames, schema
from labinterp.catalogue import (
    RangeCatalogue,
    Text,
    get_profile,
    load_range_catalogue,
)
from labinterp.dates import complete_context
from labinterp.errors import MissingColumnError, ReasonCode
from labinterp.io.readers.csv_headers import warn_unread_fields
from labinterp.models import Profile
from labinterp.perf import ColumnCodes, objects
from labinterp.samples import sample_sets
from labinterp.steps.convert import comparator_codes, reporting_unit_column, reporting_units
from labinterp.steps.derive import (
    DERIVED_FROM,
    Basis,
    derive_corrected_calcium,
    derive_egfr,
    derived_rows_frame,
    hba1c_columns,
    heights,
    joined,
)
from labinterp.steps.explain import finalise_text, render
from labinterp.steps.flags import (
    CRITICAL_UNDECIDED,
    FLAG_ORDER,
    FLAG_UNDECIDED,
    at_reporting_resolution,
    flags,
)
from labinterp.steps.history import with_history
from labinterp.steps.kidney import with_assessments
from labinterp.steps.layout import Layout, Passing, assemble, derived_labels
from labinterp.steps.ranges import (
    People,
    Ranges,
    catalogue_ranges,
    lab_ranges,
    reported_equation,
    specimen_codes,
)
from labinterp.steps.read import read
from labinterp.steps.reported import as_reported
from labinterp.steps.schemes import Classified, SchemeInputs, apply_schemes, inflamed_sample_sets
from labinterp.steps.source import (
    derived_status,
    source_columns,
    source_status_codes,
    uninterpreted,
    withheld,
    withhold,
)
from labinterp.steps.state import (
    CODED_COLUMNS,
    NOTE_BIT,
    STATUS_NUMBER,
    BoolArray,
    IntArray,
    LabTexts,
    ObjArray,
    Outcome,
    Rows,
    analyte_keys,
    analyte_names,
    coded_column,
    column,
    raise_first_invalid,
    sex_names,
)
from labinterp.times import instants, time_zone
from labinterp.values import Decimal
from labinterp.vocab import Status

__all__ = ["interpret"]

OnInvalid = Literal["record", "raise"]


@dataclass(frozen=True)
class _Run:
    """What one call of :func:`interpret` decides before the steps run."""

    profile: Profile
    catalogue: RangeCatalogue
    text: Text
    frame: pd.DataFrame  # the input with its context completed and ``source_row`` set
    coded: ColumnCodes

    def target(self, name: str) -> str | None:
        """Return the profile's reporting unit of an analyte (``None``: none)."""
        return self.profile.units.get(name)

    def made_with(self) -> dict[str, str]:
        """Return the options the frame was interpreted with, kept in its ``attrs``."""
        return {
            "lang": self.text.lang,
            "audience": self.text.audience,
            "profile": self.profile.name,
        }


def _start(
    frame: pd.DataFrame,
    *,
    profile: str | Profile,
    catalogue: str | Path | RangeCatalogue | None,
    lang: str,
    audience: str,
    on_invalid: str,
    timezone: str | None,
) -> _Run:
    """Check the frame and the options; complete the context columns."""
    frame = frames.as_pandas(frame)  # a Polars frame or an Arrow table, through Arrow
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("interpret() takes a pandas DataFrame; use labinterp.read_csv() first.")
    if "raw_value" not in frame.columns:
        raise MissingColumnError(
            "The frame has no raw_value column; name the result column raw_value "
            "(or read the file with labinterp.read_csv).",
            field="raw_value",
        )
    if not {"analyte", "source_code", "source_name"} & set(frame.columns):
        raise MissingColumnError(
            "The frame has no analyte, source_code or source_name column to identify analytes.",
            field="analyte",
        )
    if on_invalid not in ("record", "raise"):
        raise ValueError("on_invalid must be 'record' or 'raise'.")
    warn_unread_fields(frame.columns)
    chosen = get_profile(profile)
    text = Text(lang, audience)  # fails early on an unknown language or audience
    cat = load_range_catalogue(catalogue if catalogue is not None else chosen.catalogue)
    zone = time_zone(timezone if timezone is not None else chosen.time.zone)
    out = (
        complete_context(frame, timezone=zone, warn_floating=True)
        if schema.CONTEXT_COLUMNS & set(frame.columns)
        else frame.copy()
    )
    if "source_row" not in out.columns:
        out["source_row"] = np.arange(len(frame), dtype="int64")
    return _Run(chosen, cat, text, out, ColumnCodes(out, CODED_COLUMNS))


def interpret(
    frame: pd.DataFrame,
    *,
    profile: str | Profile = "no",
    catalogue: str | Path | RangeCatalogue | None = None,
    lang: str = "en",
    on_invalid: OnInvalid = "record",
    decimal: Decimal | None = None,
    schemes: Sequence[str] | None = None,
    inflammation: bool | None = None,
    derive: bool = True,
    egfr_equation: str | None = None,
    audience: str = "patient",
    history: bool = False,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Interpret a results frame.

    Parameters
    ----------
    frame
        A results frame (:func:`labinterp.schema.results`): one row per result with at
        least ``raw_value`` and ``raw_unit``, and ``analyte``, ``source_code`` or
        ``source_name`` to identify the analyte. Optional context: ``sex``,
        ``age_years``, ``lab_reference_text``, ``patient_id``, ``collected_at``.
    profile
        Country profile: ``"no"`` (default), ``"se"``, ``"dk"`` or ``"us"``. It
        chooses the reporting units and the range catalogue.
    catalogue
        A range catalogue to use instead of the profile's: a packaged name
        (``"nordic"``, ``"us"``), a directory with ``catalogue.toml`` and
        ``ranges.csv``, or a loaded :class:`~labinterp.catalogue.RangeCatalogue`.
    lang
        Language of the explanations and caveats: ``"en"``, ``"nb"`` or ``"sv"``.
    on_invalid
        ``"record"`` (default) keeps every row and records its ``status`` and
        ``problem``; ``"raise"`` raises :class:`~labinterp.errors.InvalidResultError`
        for the first row that could not be interpreted.
    decimal
        Decimal separator of ``raw_value`` (``","`` or ``"."``); ``None`` infers it
        from the column's unambiguous values.
    schemes
        Classification schemes to apply (names in ``schemes.toml``, first match per
        analyte wins); ``None`` uses the profile's.
    inflammation
        Whether inflammation is present, for schemes that depend on it (ferritin);
        ``None`` takes it from the ``ferritin_inflammation`` context rule (a raised CRP
        in the same sample set: same patient and collection time).
    derive
        Add derived rows (status ``derived``): eGFR for every creatinine result with
        age and sex, and eGFR from creatinine and cystatin C of the same sample set.
    egfr_equation
        The adult eGFR equation instead of the profile's (``"ckd_epi_2021_cr"``,
        ``"ekfc_cr"``, ``"lund_malmo_revised"``, ...).
    audience
        ``"patient"`` (plain words) or ``"clinician"`` (terse, with caveats).
    history
        Add the serial-change columns of :func:`labinterp.history` (previous value,
        change, reference change value, ``significant_change``) and a caveat saying
        whether a change is significant.
    timezone
        The IANA time zone (``"Europe/Oslo"``, ``"America/Chicago"``) of collection
        times written without a UTC offset; ``None`` takes the profile's (``no``:
        Europe/Oslo, ``se``: Europe/Stockholm, ``dk``: Europe/Copenhagen; ``us`` names
        none, so such times stay floating local times, with one
        :class:`~labinterp.errors.LabinterpWarning`). Offsets written in the source are
        always kept; ``collected_at_offset`` holds them (see :mod:`labinterp.times`).

    Returns
    -------
    pandas.DataFrame
        The interpreted frame (:func:`labinterp.schema.interpreted`): every input row
        exactly once, in input order, each derived row right after the row it was
        derived from (``derived_from`` names the source rows; derived rows get index
        labels of their own), HbA1c on both scales with eAG, and any other input columns.

    Raises
    ------
    MissingColumnError
        When the frame has no ``raw_value`` column or nothing to identify analytes.
    ValueError
        When ``timezone`` is not an IANA time zone.
    InvalidResultError
        With ``on_invalid="raise"``, for the first row that is not ``ok``.
    """
    run = _start(
        frame,
        profile=profile,
        catalogue=catalogue,
        lang=lang,
        audience=audience,
        on_invalid=on_invalid,
        timezone=timezone,
    )
    texts, lab_text = LabTexts.of(run.frame, run.coded)
    stated, _ = source_status_codes(run.frame)
    # A result the source withdrew or cancelled is read, then withheld from everything.
    rows = withhold(read(run.frame, decimal, run.target, lab_text, run.coded), stated)
    moments = instants(column(run.frame, "collected_at"), column(run.frame, "collected_at_offset"))
    sets_in = sample_sets(coded_column(run.frame, "patient_id", run.coded), moments)
    made = _derive(run, rows, sets_in, egfr_equation, stated) if derive else _Made.of(rows, stated)
    rows = made.rows
    shown = uninterpreted(rows, withheld(made.source_status))  # what interpreting steps see
    passing = Passing(run.frame, made.layout)  # input columns into output order, meanwhile
    outcome = Outcome.resume(rows)
    # Rows read without a problem stay usable for schemes: what is recorded from here on
    # (no range, missing context, indeterminate) leaves the value and unit readable.
    usable = outcome.open()
    ranges = _ranges(run, shown, texts, made, outcome)
    flag_coded = _flag(run, rows, ranges, outcome)
    outcome.settle(made.layout.derived, Status.DERIVED)  # the reason a range is missing stays
    if on_invalid == "raise":
        raise_first_invalid(outcome, run.frame["source_row"], made.layout.source)
    sets = sets_in[made.layout.source]  # a derived row belongs to its source row's sample set
    classified = _classify(
        run, rows, flag_coded, usable=usable, sets=sets, said=ranges, chosen=(schemes, inflammation)
    )
    ranges.caveats |= classified.notes
    columns = _columns(
        run,
        rows,
        ranges,
        flag=flag_coded,
        classified=classified,
        outcome=outcome,
        made=made,
        usable=usable,
    )
    rendered = render(
        pd.Categorical.from_codes(shown.number, categories=pd.Index(analyte_keys())),
        flag_coded,
        classified.scheme_coded,
        classified.category_coded,
        rows=_rule_inputs(
            run, rows, made, passing=passing, sets=sets, ranges=ranges, usable=usable
        ),
        profile=run.profile,
        cat=run.catalogue,
        text=run.text,
    )
    index = derived_labels(run.frame.index, made.layout.positions)
    out = as_reported(assemble(columns, made.layout, run.frame.index, index, passing))
    out = with_history(out) if history else out
    # The caller's own columns pass through as they came when they cannot be cast.
    written = finalise_text(out, rendered, run.catalogue.title_in(run.text))
    result = schema.conform(written, "interpreted", keep=frame.columns)
    result = with_assessments(result, run.profile, run.text) if derive else result
    result.attrs["labinterp"] = run.made_with()  # for the report: language, audience, profile
    return result


@dataclass(frozen=True)
class _Made:
    """Input rows with the derived rows placed after their sources, read alike."""

    rows: Rows
    layout: Layout
    notes: IntArray  # interpretation-note bits per output row
    derived_from: ObjArray  # per derived row
    equation: ObjArray  # per derived row
    source_status: IntArray  # per output row, a position in schema.SOURCE_STATUSES

    def equations(self, inputs: int) -> tuple[IntArray, pd.Index]:
        """Per output row, the number of its equation (-1: an input row); and the names."""
        codes, names = pd.factorize(self.equation)  # of the derived rows
        return self.layout.place(np.full(inputs, -1, dtype=np.int64), codes), pd.Index(names)

    @classmethod
    def of(cls, rows: Rows, stated: IntArray, notes: IntArray | None = None) -> _Made:
        """Return the input rows alone (nothing derived), with their notes and statuses."""
        n = len(rows.number)
        layout = Layout.of(n, np.zeros(0, dtype=np.int64))
        notes = np.zeros(n, dtype=np.int64) if notes is None else notes
        return cls(rows, layout, notes, objects(0), objects(0), stated)


def _derive(
    run: _Run, rows: Rows, sets: IntArray, egfr_equation: str | None, stated: IntArray
) -> _Made:
    """Derive eGFR and corrected-calcium rows; read them; place them after their sources.

    Creatinine rows that get no eGFR note why; a derived row takes the least final status.
    """
    n = len(rows.number)
    notes = np.zeros(n, dtype=np.int64)
    keys = analyte_keys()
    # Only the rows values are derived from (creatinine, cystatin C, calcium, albumin).
    sources = np.flatnonzero(np.isin(rows.number, [keys.index(k) for k in DERIVED_FROM]))
    if not len(sources):
        return _Made.of(rows, stated)
    numbers = rows.number[sources]
    basis = Basis(
        analyte=analyte_names(numbers),
        usable=rows.open[sources],
        comparator=rows.comparator[sources],
        sex=sex_names(rows.sex_number[sources]),
        age=rows.age[sources],
        height=heights(run.frame, sources),
        value_canonical=rows.value_canonical[sources],
        unit_canonical=reporting_units(run.target)[numbers],
        sets=sets[sources],
    )
    adult = egfr_equation or run.profile.egfr_equation
    derived = joined(
        derive_egfr(basis, adult, run.profile.egfr_cr_cys_equation),
        derive_corrected_calcium(basis, run.profile.calcium_correction),
    )
    noted = np.flatnonzero(pd.notna(derived.notes))
    notes[sources[noted]] = [NOTE_BIT[note] for note in derived.notes[noted]]
    if not len(derived):
        return _Made.of(rows, stated, notes)
    frame = derived_rows_frame(run.frame, sources, basis, derived)
    layout = Layout.of(n, frame.pop("_source_position").to_numpy(dtype="int64"))
    derived_from = frame.pop("derived_from").to_numpy(dtype=object)
    equation = frame.pop("equation").to_numpy(dtype=object)
    blank = np.full(len(frame), -1, dtype=np.int64)
    placed = rows.stacked(read(frame, None, run.target, blank), layout)
    notes = layout.place(notes, _note_bits(derived.value_notes))
    partner = np.where(derived.partner >= 0, stated[sources[derived.partner]], -1)
    status = derived_status(stated[sources[derived.source]], partner)
    return _Made(placed, layout, notes, derived_from, equation, layout.place(stated, status))


def _note_bits(ids: ObjArray) -> IntArray:
    """Return the note bits of note ids (``None``: no note)."""
    return np.array([NOTE_BIT[i] if i is not None else 0 for i in ids], dtype=np.int64)


def _ranges(run: _Run, rows: Rows, texts: LabTexts, made: _Made, outcome: Outcome) -> Ranges:
    """Choose each row's range: the lab's own first, then the catalogue's."""
    ranges = Ranges.empty(len(rows.number))
    ranges.caveats |= made.notes
    lab_used = lab_ranges(texts, rows, run.target, ranges)
    pending = ~lab_used & (rows.number >= 0)
    equation, equation_names = made.equations(len(run.frame))
    people = People(rows.sex(), rows.sex_number, rows.age, equation=equation)
    people.unit, people.unit_names = rows.unit_code, rows.unit_names
    people.specimen = specimen_codes(run.frame, rows.number, made.layout.source)
    ranges.specimen = people.specimen
    people.equations, people.reported = tuple(equation_names), reported_equation(run.profile)
    catalogue_ranges(
        run.catalogue,
        rows.number,
        people,
        pending=pending,
        target=run.target,
        ranges=ranges,
        outcome=outcome,
    )
    ranges.caveats[rows.sex_unrecognised] |= NOTE_BIT["sex_unrecognised"]
    return ranges


def _flag(run: _Run, rows: Rows, ranges: Ranges, outcome: Outcome) -> pd.Categorical[Any]:
    """Flag each open row against its range; record the undecidable; the rest are ok."""
    open_rows = outcome.open()
    # A row whose range waits for its sex or age is still flagged beyond the critical
    # limits every band agrees on (only LL or HH).
    undecided = outcome.number == STATUS_NUMBER[Status.MISSING_CONTEXT.value]
    compared = at_reporting_resolution(
        run.profile, rows.number, rows.value_canonical, rows.scale, rows.offset
    )
    result = flags(
        np.where(open_rows | undecided, compared, np.nan),
        rows.comparator,
        ranges.low,
        ranges.high,
        ranges.low_inclusive,
        ranges.high_inclusive,
        ranges.critical_low,
        ranges.critical_high,
        censored=rows.censored,
        range_known=~undecided,
        critical_inclusive=(ranges.critical_low_inclusive, ranges.critical_high_inclusive),
    )
    undecided = result.indeterminate & open_rows
    partial = undecided & (result.code != len(FLAG_ORDER))  # with a flag
    outcome.record(partial, ReasonCode.INDETERMINATE, CRITICAL_UNDECIDED)
    outcome.record(undecided, ReasonCode.INDETERMINATE, FLAG_UNDECIDED)
    outcome.settle(outcome.open(), Status.OK)
    return pd.Categorical.from_codes(result.code, categories=pd.Index([*FLAG_ORDER, ""]))


def _classify(
    run: _Run,
    rows: Rows,
    flag: pd.Categorical[Any],
    *,
    usable: BoolArray,
    sets: IntArray,
    said: Ranges,
    chosen: tuple[Sequence[str] | None, bool | None],
) -> Classified:
    """Place usable rows in the categories of the profile's (or the given) schemes.

    ``said`` holds the specimen each row's code or name says; ``chosen`` the schemes and
    the inflammation state the caller gave (``None``: the profile's; read from the rows).
    """
    schemes, inflammation = chosen
    analyte = pd.Categorical.from_codes(rows.number, categories=pd.Index(analyte_keys()))
    inflamed = (
        np.full(len(rows.number), bool(inflammation))
        if inflammation is not None
        else inflamed_sample_sets(analyte, flag, sets)
    )
    inputs = SchemeInputs(
        *(analyte, rows.value, rows.comparator, rows.censored, rows.scale, rows.offset),
        *(flag, usable, rows.age, rows.sex_number, said.specimen, inflamed),
    )
    names = list(schemes) if schemes is not None else list(run.profile.schemes)
    return apply_schemes(names, inputs, run.target)


def _columns(
    run: _Run,
    rows: Rows,
    ranges: Ranges,
    *,
    flag: pd.Categorical[Any],
    classified: Classified,
    outcome: Outcome,
    made: _Made,
    usable: BoolArray,
) -> dict[str, Any]:
    """Return the interpreted columns, row-aligned in output order."""
    total = len(made.layout.order)
    canonical = reporting_units(run.target)[rows.number]
    analyte = pd.Categorical.from_codes(rows.number, categories=pd.Index(analyte_keys()))
    columns: dict[str, Any] = {
        "analyte": _typed("analyte", rows.number),
        "comparator": _typed("comparator", comparator_codes(rows.comparator, rows.censored)),
        "value": rows.value,
        "unit": pd.Categorical.from_codes(
            rows.unit_code, categories=pd.Index(rows.unit_names, dtype=object)
        ),
        "value_canonical": rows.value_canonical,
        "unit_canonical": reporting_unit_column(run.target, rows.number),
        "sex": _typed("sex", rows.sex_number - 1),  # sex numbers: 0 none, 1 female, 2 male
        "reference_low": ranges.low,
        "reference_high": ranges.high,
        "reference_low_inclusive": pd.arrays.BooleanArray(ranges.low_inclusive, ~ranges.sourced),
        "reference_high_inclusive": pd.arrays.BooleanArray(ranges.high_inclusive, ~ranges.sourced),
        "critical_low": ranges.critical_low,
        "critical_high": ranges.critical_high,
        **ranges.critical_inclusive_columns(),
        "reference_source": ranges.sources(run.catalogue),
        "reference_citation": ranges.citations(),
        "flag": _recoded("flag", flag),
        "scheme": _recoded("scheme", classified.scheme_coded),
        "category": _recoded("category", classified.category_coded),
        "_notes": ranges.caveats,
        "status": _typed("status", outcome.number),
        "problem": outcome.problem,
        "derived_from": made.layout.derived_column(
            pd.array(made.derived_from, dtype=schema.column("derived_from").dtype)
        ),
        **hba1c_columns(analyte, rows.value_canonical, canonical, usable),
        "equation": made.layout.derived_column(
            pd.Categorical(
                made.equation, categories=pd.Index(pd.unique(made.equation), dtype=object)
            )
        ),
    }
    if "sex" in run.frame.columns:
        columns["raw_sex"] = run.frame["sex"]  # its place among the columns; in order later
    if "analyte" in run.frame.columns:
        columns["raw_analyte"] = run.frame["analyte"]  # likewise
    for name in schema.head():
        if name not in run.frame.columns and name not in columns:
            columns[name] = objects(total)
    columns.update(
        source_columns(
            run.frame,
            made.layout,
            number=rows.number,
            stated=made.source_status,
            flag=np.asarray(flag.codes, dtype=np.int64),
            notes=ranges.caveats,
        )
    )
    return columns


def _typed(name: str, codes: IntArray) -> pd.Categorical[Any]:
    """Return codes into a declared categorical column's categories as that column."""
    return pd.Categorical.from_codes(codes, dtype=schema.column(name).dtype)


def _recoded(name: str, values: pd.Categorical[Any]) -> pd.Categorical[Any]:
    """Return a categorical with the declared categories of a column (empty: missing)."""
    dtype = schema.column(name).dtype
    # A table from the given categories to the declared ones, with -1 for "" (no flag) and
    # a last entry for missing codes.
    where = np.append(dtype.categories.get_indexer(values.categories), -1)
    return pd.Categorical.from_codes(where[np.asarray(values.codes)], dtype=dtype)


def _rule_inputs(
    run: _Run,
    rows: Rows,
    made: _Made,
    *,
    passing: Passing,
    sets: IntArray,
    ranges: Ranges,
    usable: BoolArray,
) -> dict[str, Any]:
    """Return the row-aligned arrays the context rules need besides analyte and flag."""
    layout = made.layout
    equation_codes, equation_names = made.equations(len(run.frame))
    return {
        "value_canonical": rows.value_canonical,
        "age_years": rows.age,
        "collected_at": (
            passing.columns["collected_at"].result()
            if "collected_at" in passing.columns
            else layout.context(column(run.frame, "collected_at"))
        ),
        "sample_set": sets,
        "reference_source": ranges.sources(run.catalogue),
        "derived": layout.derived,
        "compared": usable,  # read without a problem: compared with its range, if any
        "specimen": ranges.specimen,
        "comparator": rows.comparator,
        "equation": pd.Categorical.from_codes(equation_codes, categories=equation_names),
    }
