"""The results frame and the interpreted frame, declared once.

Every column labinterp reads or writes is declared here: its name, its pandas dtype and
Arrow type, the step that fills it, a one-line meaning and whether it is always present.
Readers produce a **results frame** (:func:`results`); :func:`labinterp.interpret` returns
an **interpreted frame** (:func:`interpreted`): the results frame's columns plus what the
steps add. Other columns of a frame pass through with their own dtypes.

Dtypes are chosen, not inferred: coded text is categorical (``flag`` ordered
``LL < L < N < H < HH``); "no value" is missing (``NA``, ``NaN``, ``NaT``), never ``""``;
a yes/no that can be unknown is a nullable ``"boolean"``; an integer that can be missing
is ``"Int64"``; measures are ``float64``; times are ``datetime64[ns]`` wall-clock times as
the source wrote them, and ``collected_at_offset`` holds the UTC offset of
``collected_at`` in minutes east of UTC (missing: a floating local time), so each time is
an instant (:mod:`labinterp.times`). Free text has the text dtype of the running pandas
(``str`` from pandas 3, ``object`` before).

Examples
--------
>>> from labinterp import schema
>>> schema.interpreted().field("flag").type
DictionaryType(dictionary<values=string, indices=int8, ordered=1>)
>>> schema.column("value", "interpreted").steps
('values',)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd
import pyarrow as pa

from labinterp import catalogue
from labinterp.dtypes import TEXT, cast_column, has_dtype
from labinterp.errors import MissingColumnError, ReadError
from labinterp.models import Relation
from labinterp.vocab import Sex, Status

__all__ = [
    "COMPARATORS",
    "CONTEXT_COLUMNS",
    "FLAGS",
    "HISTORY_NOTES",
    "RELATIONS",
    "SOURCE_STATUSES",
    "STATUS_COLUMNS",
    "Column",
    "Kind",
    "Step",
    "column",
    "columns",
    "conform",
    "dtypes",
    "head",
    "interpreted",
    "interpreted_order",
    "results",
    "validate_results",
]

Kind = Literal["results", "interpreted"]
Step = Literal[
    "input",
    "identify",
    "values",
    "units",
    "derive",
    "ranges",
    "flags",
    "schemes",
    "verdict",
    "context",
    "explain",
    "history",
]
ColumnType = Literal["text", "float", "integer", "boolean", "datetime", "category"]

#: HL7 v2 table 0078 flags labinterp assigns, in order: ``LL < L < N < H < HH``.
FLAGS: tuple[str, ...] = ("LL", "L", "N", "H", "HH")
#: The context columns completed before interpretation (ages and collection times); a
#: frame with any of them gets ``read_problem``.
CONTEXT_COLUMNS = frozenset(
    {"collected_at", "collected_at_offset", "birth_date", "birth_year", "age_years"}
)
#: How a result's flag and its scheme category relate (``relation``; decided by
#: :mod:`labinterp.steps.verdict`).
RELATIONS: tuple[str, ...] = get_args(Relation)
#: Comparators of censored values, as normalised by the value parser.
COMPARATORS: tuple[str, ...] = ("<", "<=", ">", ">=")
#: Notes of :func:`labinterp.history` on a compared (or not compared) result.
HISTORY_NOTES: tuple[str, ...] = (
    "unit_changed",
    "code_changed",
    "same_time",
    "censored",
    "no_biological_variation",
    "floating_time",
)

#: Result statuses as the source gave them, in the FHIR R4 ObservationStatus vocabulary
#: (HL7 v2 OBX-11 codes are read into it; see :mod:`labinterp.steps.source`).
SOURCE_STATUSES: tuple[str, ...] = (
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
)

#: Columns a result's status is read from, the first present one per row winning: the
#: caller's, the FHIR reader's ``Observation.status``, the HL7 reader's OBX-11.
STATUS_COLUMNS: tuple[str, ...] = ("source_status", "observation_status", "result_status")

#: The text dtype of the running pandas: ``str`` (pandas 3), ``object`` before.
#: Pandas dtype and Arrow type of the types that are not text or categorical.
_SCALARS: dict[str, tuple[Any, pa.DataType]] = {
    "float": (np.dtype("float64"), pa.float64()),
    "integer": (pd.Int64Dtype(), pa.int64()),
    "boolean": (pd.BooleanDtype(), pa.bool_()),
    "datetime": (np.dtype("datetime64[ns]"), pa.timestamp("ns")),
}


def _scheme_categories() -> tuple[str, ...]:
    labels: dict[str, None] = {}
    for scheme in catalogue.schemes().values():
        labels.update(dict.fromkeys(scheme.from_flags.values() if scheme.from_flags else ()))
        labels.update(dict.fromkeys(category.label for category in scheme.categories))
    return tuple(labels)


#: Fixed category sets, by name; a categorical column without one has the categories
#: its data bring (explanations, units, ...).
_VOCABULARIES: dict[str, Callable[[], tuple[str, ...]]] = {
    "flag": lambda: FLAGS,
    "comparator": lambda: COMPARATORS,
    "history_note": lambda: HISTORY_NOTES,
    "status": lambda: tuple(status.value for status in Status),
    "source_status": lambda: SOURCE_STATUSES,
    "sex": lambda: tuple(sex.value for sex in Sex),
    "analyte": lambda: tuple(catalogue.analytes()),
    "scheme": lambda: tuple(scheme.name for scheme in catalogue.schemes().values()),
    "category": _scheme_categories,
    "relation": lambda: RELATIONS,
}


@dataclass(frozen=True)
class Column:
    """One declared column of the results frame or of the interpreted frame.

    Attributes
    ----------
    name
        The column name.
    type
        ``text``, ``float``, ``integer``, ``boolean``, ``datetime`` or ``category``.
    steps
        The steps that fill it (``input``: given by the reader or the caller).
    meaning
        What one value means, in one line.
    always
        Whether every frame of its kind has the column.
    when
        For a column not always present: when it is.
    vocabulary
        For a categorical with fixed categories: the name of their vocabulary.
    ordered
        Whether the categories are ordered.
    nullable
        Whether the column can hold missing values.
    """

    name: str
    type: ColumnType
    steps: tuple[Step, ...]
    meaning: str
    always: bool = False
    when: str = ""
    vocabulary: str | None = None
    ordered: bool = False
    nullable: bool = True

    @property
    def categories(self) -> tuple[str, ...] | None:
        """The fixed categories, or ``None`` (no vocabulary, or not categorical)."""
        return _VOCABULARIES[self.vocabulary]() if self.vocabulary else None

    @property
    def dtype(self) -> Any:
        """The pandas dtype (a categorical without a vocabulary has no categories yet)."""
        if self.type == "text":
            return TEXT
        if self.type == "category":
            return _category_dtype(self.vocabulary, self.ordered)
        if self.type == "integer" and not self.nullable:
            return np.dtype("int64")
        return _SCALARS[self.type][0]

    @property
    def arrow(self) -> pa.DataType:
        """The Arrow type (categoricals are dictionaries of strings)."""
        if self.type == "text":
            return pa.string()
        if self.type != "category":
            return _SCALARS[self.type][1]
        small = self.vocabulary is not None and len(self.categories or ()) < 128
        return pa.dictionary(pa.int8() if small else pa.int32(), pa.string(), self.ordered)

    @property
    def dtype_name(self) -> str:
        """The dtype in words, the same under every pandas version (for documentation)."""
        if self.type == "text":
            return "str"
        if self.type == "category":
            return "category, ordered" if self.ordered else "category"
        return str(self.dtype)

    def field(self) -> pa.Field:
        """Return the column as an Arrow field; its metadata carries the declaration."""
        metadata = {
            "meaning": self.meaning,
            "steps": ",".join(self.steps),
            "always": "true" if self.always else "false",
            "pandas_dtype": self.dtype_name,
        }
        if self.when:
            metadata["when"] = self.when
        return pa.field(self.name, self.arrow, nullable=self.nullable, metadata=metadata)


@cache
def _category_dtype(vocabulary: str | None, ordered: bool) -> pd.CategoricalDtype:
    found = _VOCABULARIES[vocabulary]() if vocabulary else ()  # else: none until data come
    return pd.CategoricalDtype(pd.Index(found, dtype=object), ordered=ordered)


def _c(
    type_: ColumnType, name: str, steps: str, meaning: str, when: str = "", vocabulary: str = ""
) -> Column:
    """Declare a column; it is always present unless ``when`` says when it is."""
    split = cast(tuple[Step, ...], tuple(steps.split()))
    return Column(name, type_, split, meaning, not when, when, vocabulary or None)


_T, _F, _I = partial(_c, "text"), partial(_c, "float"), partial(_c, "integer")
_B, _D, _C = partial(_c, "boolean"), partial(_c, "datetime"), partial(_c, "category")
_R, _HL7, _FHIR, _HIST = "the export has it", "HL7 v2 input", "FHIR input", "history=True"
_RELATION = (
    "How flag and category relate: agree, differ (the reference range and the clinical "
    "scheme point different ways) or no_comparison."
)
_ROW = "readers give it; interpret numbers rows 0..n-1 when absent"
_STATUS = "identify values units ranges flags"  # the first of them that cannot go on
_OFFSET = "UTC offset of collected_at, minutes east of UTC; empty: floating local time."
_SOURCE_STATUS = "The result's status (FHIR or HL7 OBX-11 code); interpret normalises it."
_RAW_ANALYTE = "The analyte column as written (a key, code or name); empty on derived rows."
_NOTE = "history_note"

_RESULTS: tuple[Column, ...] = (
    replace(
        _I("source_row", "input", "Position in the input (CSV line, OBX, entry).", _ROW),
        nullable=False,
    ),
    _T("patient_id", "input", "The patient's identifier as written.", _R),
    _T("sex", "input", "Sex as written (female/male, F/M, K/M, kvinne/mann, ...).", _R),
    _F("age_years", "input", "Age at sampling in years (else from the two dates).", _R),
    _D("birth_date", "input", "Date of birth.", _R),
    _I("birth_year", "input", "Year of birth (an age is estimated from it for adults).", _R),
    _D("collected_at", "input", "Sample collection time, wall clock as written.", _R),
    _I("collected_at_offset", "input", _OFFSET, "the input has collected_at"),
    _T("source_code", "input", "The lab's code for the test (NPU, NLK, LOINC, local).", _R),
    _T("source_code_system", "input", "The code system of source_code, as written.", _R),
    _T("source_name", "input", "The lab's name for the test, as written.", _R),
    _T("analyte", "input", "Catalogue analyte key, from a code map or the caller.", "given"),
    _T("raw_value", "input", "The result exactly as written."),
    _T("raw_unit", "input", "The unit exactly as written.", _R),
    _T("lab_reference_text", "input", "The lab's own reference range as sent.", _R),
    _T("lab_flag", "input", "The lab's own abnormal flag as sent.", _R),
    _T("source_status", "input", _SOURCE_STATUS, "the caller gives it"),
    _T("lab_reference_low", "input", "The lab's lower limit as written (CSV).", "CSV input"),
    _T("lab_reference_high", "input", "The lab's upper limit as written (CSV).", "CSV input"),
    _F("height_cm", "input", "Height in cm, for paediatric eGFR.", "the caller gives it"),
    _T("read_problem", "input", "A context field the reader could not read.", _R),
    _T("source_column", "input", "Wide CSV: the header of the result's column.", "wide CSV"),
    _B("corrected", "input", "A corrected result (OBX-11 C, FHIR corrected).", "HL7 or FHIR"),
    _T("value_type", "input", "HL7 OBX-2 value type, or the FHIR value[x] type.", "HL7 or FHIR"),
    _T("result_status", "input", "HL7 OBX-11 result status.", _HL7),
    _T("message_control_id", "input", "HL7 MSH-10 message control id.", _HL7),
    _T("order_id", "input", "HL7 order number of the result's order.", _HL7),
    _T("obx_set_id", "input", "HL7 OBX-1 set id.", _HL7),
    _I("component_index", "input", "FHIR: position of the component.", _FHIR),
    _I("component_of", "input", "FHIR: source_row of the component's Observation.", _FHIR),
    _T("observation_id", "input", "FHIR Observation id.", _FHIR),
    _T("observation_status", "input", "FHIR Observation status.", _FHIR),
    _T("unit_system", "input", "FHIR valueQuantity.system of the unit.", _FHIR),
    _T("reference_applies_to", "input", "FHIR referenceRange.appliesTo, as text.", _FHIR),
    _T("reference_age", "input", "FHIR referenceRange.age, as text.", _FHIR),
    _T("data_absent_reason", "input", "FHIR dataAbsentReason (no value).", _FHIR),
)
_AS_READ = {c.name: c for c in _RESULTS}


def _in(name: str, meaning: str = "") -> Column:
    """Return a results-frame column as the head of the interpreted frame has it."""
    found = _AS_READ[name]
    return replace(found, always=True, when="", meaning=meaning or found.meaning)


#: The interpreted frame's first columns, always present, in this order.
_HEAD: tuple[Column, ...] = (
    replace(_in("source_row", "Position in the input; empty on derived rows."), nullable=True),
    _in("patient_id"),
    _C("sex", "values", "female or male; empty when missing or not recognised.", "", "sex"),
    _in("age_years", "Age at sampling in years; from the two dates: completed years."),
    *map(_in, ("birth_date", "collected_at", "collected_at_offset")),
    *map(_in, ("source_code", "source_code_system", "source_name")),
    _C("analyte", "identify", "Catalogue analyte key; empty when not known.", "", "analyte"),
    _in("raw_value"),
    _in("raw_unit"),
    _C("comparator", "values", "<, <=, > or >= of a censored value.", "", "comparator"),
    _F("value", "values", "The number read from raw_value."),
    _C("unit", "units", "The unit, normalised spelling."),
    _F("value_canonical", "units", "The value in the reporting unit; converted: as printed."),
    _C("unit_canonical", "units", "The profile's reporting unit."),
    _in("lab_reference_text"),
    _in("lab_flag"),
    _F("reference_low", "ranges", "Lower limit used, reporting unit (empty: open)."),
    _F("reference_high", "ranges", "Upper limit used, reporting unit (empty: open)."),
    _B("reference_low_inclusive", "ranges", "reference_low is in the range; empty: no range."),
    _B("reference_high_inclusive", "ranges", "reference_high is in the range; empty: no range."),
    _F("critical_low", "ranges", "Critical lower limit: below it is LL."),
    _F("critical_high", "ranges", "Critical upper limit: above it is HH."),
    _B("critical_low_inclusive", "ranges", "critical_low itself is LL; empty: no such limit."),
    _B("critical_high_inclusive", "ranges", "critical_high itself is HH; empty: no such limit."),
    _C("reference_source", "ranges", "lab (the lab's own range) or catalogue:<name>."),
    _C(
        "reference_citation",
        "ranges",
        "Source key and locator of the range used; after 'critical limits', the source of "
        "critical limits taken from the catalogue beside the lab's range or without a range.",
    ),
    replace(_C("flag", "flags", "HL7 0078 flag; empty when none.", "", "flag"), ordered=True),
    _B("agrees_with_lab", "flags", "Whether flag agrees with lab_flag; empty: not compared."),
    _C("scheme", "schemes", "The classification scheme applied.", "", "scheme"),
    _C("category", "schemes", "The scheme's category for the value.", "", "category"),
    _C("relation", "verdict", _RELATION, "", "relation"),
    _C("explanation", "explain", "Plain-language explanation in the chosen language."),
    _C("explanation_sources", "explain", "Source keys the explanation and caveats cite."),
    _C("caveats", "context", "Notes on this interpretation, separated by ' | '."),
    _C(
        "source_status",
        "input",
        "The source's result status (FHIR ObservationStatus); empty: none sent.",
        "",
        "source_status",
    ),
    replace(_C("status", _STATUS, "ok, derived or a reason code.", "", "status"), nullable=False),
    _C("problem", _STATUS, "A sentence a person can act on, when status is not ok."),
    _T("derived_from", "derive", "Derived rows: the source rows ('3', '3;4')."),
)
#: Declared input columns the steps do not fill: they pass through after the head, in
#: the input's order, among any other input columns.
_PASSED: tuple[Column, ...] = tuple(
    c for c in _RESULTS if c.name not in {h.name for h in _HEAD} | {"sex"}
)
#: Added after the passed-through columns, in this order (then history, then caveat_rules).
_ADDED: tuple[Column, ...] = (
    _F("hba1c_ifcc_mmol_mol", "derive", "HbA1c rows: IFCC, mmol/mol."),
    _F("hba1c_ngsp_percent", "derive", "HbA1c rows: NGSP, %."),
    _F("eag_mg_dl", "derive", "HbA1c rows: estimated average glucose, mg/dL."),
    _C("equation", "derive", "Derived eGFR rows: the equation (function name)."),
    _T("raw_sex", "input", "The sex as written (copied to derived rows).", "the input has sex"),
    _T("raw_analyte", "input", _RAW_ANALYTE, "the input has analyte"),
    _B(
        "superseded",
        "context",
        "Replaced by a later corrected (or withdrawn) result.",
        "the input has corrected or a result status",
    ),
)
#: Float columns of the history step: name and meaning.
_HISTORY_FLOATS = (
    ("change_abs", "Change from the previous result, at reporting precision."),
    ("change_abs_exact", "change_abs at full precision."),
    ("change_pct", "Change in % of the previous result (one decimal)."),
    ("change_pct_exact", "change_pct at full precision."),
    ("rcv_pct", "Symmetric reference change value, % (one decimal)."),
    ("rcv_up_pct", "Log-normal reference change value for a rise, % (one decimal)."),
    ("rcv_down_pct", "Log-normal reference change value for a fall, % (one decimal)."),
)
_HISTORY: tuple[Column, ...] = (
    _F("previous_value", "history", "The previous result, reporting unit, as written.", _HIST),
    _D("previous_collected_at", "history", "When the previous result was collected.", _HIST),
    _I("previous_collected_at_offset", "history", "UTC offset of it, minutes east.", _HIST),
    *(_F(name, "history", meaning, _HIST) for name, meaning in _HISTORY_FLOATS),
    _B("significant_change", "history", "The change exceeds the RCV; empty: not compared.", _HIST),
    _I("aki_stage", "history", "Creatinine: KDIGO AKI stage 0-3 vs earlier results.", _HIST),
    _C("history_note", "history", "Why a change may mislead or was not computed.", _HIST, _NOTE),
)
#: Full precision of the columns written at reporting precision (labinterp.precision).
_EXACT: tuple[Column, ...] = tuple(
    _F(f"{name}_exact", steps, f"{name} at full precision; {name} is written rounded.")
    for name, steps in (
        ("value_canonical", "units"),
        ("hba1c_ifcc_mmol_mol", "derive"),
        ("hba1c_ngsp_percent", "derive"),
        ("eag_mg_dl", "derive"),
        ("age_years", "input"),
    )
)
_LAST = _C("caveat_rules", "context", "Ids of the context rules behind the caveats.")
_INTERPRETED = (*_HEAD, *_PASSED, *_ADDED, *_EXACT, *_HISTORY, _LAST)

_DECLARED: dict[str, tuple[Column, ...]] = {"results": _RESULTS, "interpreted": _INTERPRETED}
_INDEX: dict[str, dict[str, Column]] = {k: {c.name: c for c in v} for k, v in _DECLARED.items()}
_KINDS: tuple[str, ...] = get_args(Kind)


# -- public API --------------------------------------------------------------------


def _kind(kind: str) -> str:
    if kind not in _DECLARED:
        raise ValueError(f"kind must be one of: {', '.join(_KINDS)}.")
    return kind


def columns(kind: Kind = "interpreted") -> tuple[Column, ...]:
    """Return the declared columns of a frame, in the order the frame has them.

    ``kind`` is ``"results"`` (what readers produce) or ``"interpreted"`` (what
    :func:`labinterp.interpret` returns; the input's other columns follow
    ``derived_from``, in the input's order).
    """
    return _DECLARED[_kind(kind)]


def column(name: str, kind: Kind = "interpreted") -> Column:
    """Return one declared column.

    Raises
    ------
    KeyError
        When ``name`` is not declared for ``kind``.
    """
    return _INDEX[_kind(kind)][name]


def dtypes(kind: Kind = "interpreted") -> dict[str, Any]:
    """Return the declared pandas dtype of every column, by name."""
    return {c.name: c.dtype for c in columns(kind)}


def head() -> tuple[str, ...]:
    """Return the interpreted frame's first columns, always present, in their order."""
    return tuple(c.name for c in _HEAD)


def results() -> pa.Schema:
    """Return the results frame as an Arrow schema (field metadata: meaning, steps, ...)."""
    return pa.schema([c.field() for c in _RESULTS])


def interpreted() -> pa.Schema:
    """Return the interpreted frame as an Arrow schema (field metadata: meaning, steps, ...)."""
    return pa.schema([c.field() for c in _INTERPRETED])


def interpreted_order(input_columns: Iterable[str], *, history: bool = False) -> list[str]:
    """Return the columns :func:`labinterp.interpret` gives for input with these columns.

    Parameters
    ----------
    input_columns
        The columns of the frame passed to ``interpret``.
    history
        Whether ``history=True`` is passed.

    Returns
    -------
    list of str
        The head (always), the input columns that are not in it (``sex`` passes as
        ``raw_sex``, ``analyte`` as ``raw_analyte``), the added columns, the history
        columns and ``caveat_rules``.
    """
    given = list(dict.fromkeys(input_columns))
    if CONTEXT_COLUMNS & set(given) and "read_problem" not in given:
        given.append("read_problem")  # the context columns are completed first
    added = [
        c.name
        for c in _ADDED
        if (c.name != "raw_sex" or "sex" in given)
        and (c.name != "raw_analyte" or "analyte" in given)
        and (c.name != "superseded" or not {"corrected", *STATUS_COLUMNS}.isdisjoint(given))
    ]
    head = [c.name for c in _HEAD]
    exact = [c.name for c in _EXACT]
    order = [*head, *(c for c in given if c not in {*head, *added, *exact, "sex"}), *added, *exact]
    later = [*(c.name for c in _HISTORY if history), _LAST.name]
    return order + [c for c in later if c not in order]


def conform(
    frame: pd.DataFrame, kind: Kind = "interpreted", *, keep: Collection[str] = ()
) -> pd.DataFrame:
    """Cast the declared columns of a frame to their declared dtypes.

    Columns that already have their dtype are not touched (checking costs microseconds
    whatever the length), undeclared columns keep theirs, and the frame is returned
    itself when nothing needs casting. ``""`` in a categorical column becomes missing.

    Parameters
    ----------
    frame
        A results frame or an interpreted frame.
    kind
        ``"results"`` or ``"interpreted"``.
    keep
        Columns kept as they are when they cannot be cast (a caller's own, passed through).

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself, or a shallow copy with the cast columns replaced.

    Raises
    ------
    ReadError
        When a column cannot be cast (text in a numeric column, values outside a
        column's fixed categories, text in a date column); the message names the
        column, never a value.
    """
    declared = _INDEX[_kind(kind)]
    changed: dict[str, pd.Series] = {}
    for name in frame.columns:
        spec = declared.get(name)
        if spec is None or has_dtype(frame.dtypes[name], spec):
            continue
        try:
            changed[name] = cast_column(frame[name], spec)
        except ReadError:
            if name not in keep:
                raise
    if not changed:
        return frame
    out = frame.copy(deep=False)
    for name, values in changed.items():
        out[name] = values
    return out


def validate_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Check that a reader's frame is a results frame, and return it unchanged.

    Parameters
    ----------
    frame
        The frame a reader is about to return (after :func:`conform` with
        ``"results"``).

    Raises
    ------
    MissingColumnError
        When ``raw_value`` is missing, or all of ``analyte``, ``source_code`` and
        ``source_name`` are.
    ReadError
        When a declared column has another dtype than declared (the message names
        the column and both dtypes, never a value).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("A results frame is a pandas DataFrame.")
    if "raw_value" not in frame.columns:
        raise MissingColumnError("The results frame has no raw_value column.", field="raw_value")
    if not {"analyte", "source_code", "source_name"} & set(frame.columns):
        raise MissingColumnError(
            "The results frame has no analyte, source_code or source_name column.",
            field="analyte",
        )
    for name in frame.columns:
        spec = _AS_READ.get(name)
        if spec is not None and not has_dtype(frame.dtypes[name], spec):
            raise ReadError(
                f"Column {name!r} of the results frame has dtype {frame.dtypes[name]}, "
                f"not {spec.dtype_name}; cast it with labinterp.schema.conform(frame, "
                "'results').",
                field=name,
            )
    return frame
