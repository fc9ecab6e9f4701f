"""Validated models for packaged data and for single-result findings.

Data files are validated into frozen pydantic models with ``extra="forbid"`` so a
typo in a site catalogue is an error, not a silently ignored field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from labinterp.frozen import Frozen as _Frozen
from labinterp.scheme_model import (
    FLAG_DIRECTION,
    Direction,
    Scheme,
    SchemeCategory,
)
from labinterp.vocab import Flag, PanelGroup, SaidSpecimen, Sex, Status

__all__ = [
    "FLAG_DIRECTION",
    "AnalyteSpec",
    "BiologicalVariation",
    "CatalogueInfo",
    "ColumnField",
    "Direction",
    "Finding",
    "Profile",
    "ProfileTime",
    "ReferenceRange",
    "Relation",
    "ReportingPrecision",
    "Rule",
    "Scheme",
    "SchemeCategory",
    "Source",
    "TextEntry",
]


#: The specimen a result or a range is for.
Specimen = Literal["serum_plasma", "blood", "urine"] | SaidSpecimen


class Source(_Frozen):
    """One bibliography entry of ``sources.toml``."""

    key: str
    kind: Literal[
        "article",
        "guideline",
        "lab_handbook",
        "book",
        "website",
        "software",
        "standard",
        "dataset",
        "regulatory",
    ]
    title: str
    authors: str | None = None
    container: str | None = None
    year: int | None = None
    volume_pages: str | None = None
    doi: str | None = None
    url: str | None = None
    accessed: str | None = None
    note: str | None = None

    def citation(self) -> str:
        """Return a one-line human-readable citation."""
        parts = [p for p in (self.authors, f"({self.year})" if self.year else None) if p]
        head = " ".join(parts)
        tail = ". ".join(p for p in (self.title, self.container, self.volume_pages) if p)
        link = f" doi:{self.doi}" if self.doi else (f" {self.url}" if self.url else "")
        return f"{head}. {tail}.{link}".strip(". ") if head else f"{tail}.{link}"


class ReportingPrecision(_Frozen):
    """How many decimals laboratories print an analyte with in one unit, with its source.

    ``source`` and ``locator`` name the laboratory text whose printed reference range or
    results show the decimals (Fürst's magnesium "0,71–0,94 mmol/L": 2).
    """

    unit: str
    decimals: Annotated[int, Field(ge=0, le=6)]
    source: Annotated[str, Field(min_length=1)]
    locator: Annotated[str, Field(min_length=1)]


class AnalyteSpec(_Frozen):
    """One analyte of ``analytes.toml``."""

    key: str
    display: dict[str, str]
    specimen: Specimen | Literal["calculated"]
    #: The panel laboratories show the analyte in (the CLI and the report group by it).
    group: PanelGroup = "other"
    #: Where serum and plasma intervals differ: the codes and names that say the specimen
    #: (``{"serum": ["S-Kalium"], "plasma": ["P-Kalium"]}``); its range rows are used.
    specimens: dict[SaidSpecimen, tuple[str, ...]] = Field(default_factory=dict)
    #: Units that are the same unit for this analyte (an enzyme's ``IU/L`` is ``U/L``).
    same_units: dict[str, str] = Field(default_factory=dict)
    dimension: str
    #: The catalogue unit; ``None`` only for an assessment that is a category alone
    #: (``dimension = "category"``: the KDIGO heat map's CKD risk).
    unit: str | None = None
    #: The decimals values are reported with, per unit (computed values are written so).
    reporting: tuple[ReportingPrecision, ...] = ()
    molar_mass_g_per_mol: float | None = None
    molar_mass_source: str | None = None
    molar_mass_locator: str | None = None
    valence: float | None = None
    valence_source: str | None = None
    #: For a ratio to the amount of another analyte (a urine albumin/creatinine ratio in
    #: mg/mmol), that analyte's key: its molar mass converts the ratio to a mass ratio
    #: (mg/g), and a concentration given instead of the ratio is named as such.
    per: str | None = None
    scales: dict[str, str] = Field(default_factory=dict)
    scales_source: str | None = None
    loinc: tuple[str, ...] = ()
    npu: tuple[str, ...] = ()
    nlk: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: Codes and names (among ``loinc``/``npu``/``nlk`` and ``aliases``) of results whose
    #: value includes a race coefficient: identified, but not interpreted.
    race_adjusted: tuple[str, ...] = ()
    plausible_low: float | None = None
    plausible_low_source: str | None = None
    plausible_low_locator: str | None = None
    plausible_high: float | None = None
    plausible_high_source: str | None = None
    plausible_high_locator: str | None = None
    usual_low: float | None = None
    usual_low_source: str | None = None
    usual_low_locator: str | None = None
    usual_high: float | None = None
    usual_high_source: str | None = None
    usual_high_locator: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> AnalyteSpec:
        if (self.unit is None) != (self.dimension == "category"):
            raise ValueError("an analyte has a unit unless its dimension is 'category'")
        if self.molar_mass_g_per_mol is not None and not self.molar_mass_source:
            raise ValueError("molar_mass_g_per_mol needs molar_mass_source")
        if self.valence is not None and not self.valence_source:
            raise ValueError("valence needs valence_source")
        if self.scales and not self.scales_source:
            raise ValueError("scales needs scales_source")
        for limit in ("plausible_low", "plausible_high", "usual_low", "usual_high"):
            if getattr(self, limit) is not None and not (
                getattr(self, f"{limit}_source") and getattr(self, f"{limit}_locator")
            ):
                raise ValueError(f"{limit} needs {limit}_source and {limit}_locator")
        unlisted = set(self.race_adjusted) - set(self.codes) - set(self.aliases)
        if unlisted:
            raise ValueError(f"race_adjusted lists codes or names not listed: {sorted(unlisted)}")
        said = {c for codes in self.specimens.values() for c in codes}
        if said - set(self.codes) - set(self.aliases):
            raise ValueError("specimens lists codes or names that are not the analyte's")
        return self

    @property
    def cited_sources(self) -> frozenset[str]:
        """Source keys cited for this analyte's numbers (molar mass, valence, scales, limits)."""
        keys = (
            self.molar_mass_source,
            self.valence_source,
            self.scales_source,
            self.plausible_low_source,
            self.plausible_high_source,
            self.usual_low_source,
            self.usual_high_source,
            *(precision.source for precision in self.reporting),
        )
        return frozenset(k for k in keys if k)

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes (LOINC, NPU, NLK) that identify this analyte."""
        return self.loinc + self.npu + self.nlk


def _finite_or_none(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


class ReferenceRange(_Frozen):
    """One row of a reference-range catalogue (``reference_ranges/<name>/ranges.csv``).

    Bounds are in ``unit``. The age band is ``[age_min, age_max)`` in years;
    ``None`` means unbounded. A result below ``critical_low`` or above
    ``critical_high`` is critical; a result equal to one is critical where the source
    states the limit inclusive (``critical_low_inclusive``, ``critical_high_inclusive``:
    "≤ 20", "≥ 1000"), else not ("< 1.5"). ``equations`` names the equations an eGFR
    range was made for (``;``-separated in the file; empty: any); an eGFR derived with
    another equation is not compared with it.
    """

    analyte: str
    specimen: Specimen
    sex: Literal["female", "male", "any"]
    age_min: float | None = None
    age_max: float | None = None
    unit: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    critical_low: float | None = None
    critical_high: float | None = None
    critical_low_inclusive: bool = False
    critical_high_inclusive: bool = False
    source: Annotated[str, Field(min_length=1)]
    locator: Annotated[str, Field(min_length=1)]
    note: str | None = None
    equations: tuple[str, ...] = ()

    _nan_to_none = field_validator(
        "age_min", "age_max", "low", "high", "critical_low", "critical_high", mode="before"
    )(_finite_or_none)

    @model_validator(mode="after")
    def _consistent(self) -> ReferenceRange:
        if self.low is None and self.high is None:
            raise ValueError("a range needs a low or a high limit")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low is greater than high")
        if self.age_min is not None and self.age_max is not None and self.age_min >= self.age_max:
            raise ValueError("age_min must be below age_max")
        if self.critical_low is not None and self.low is not None and self.critical_low > self.low:
            raise ValueError("critical_low lies inside the reference range")
        if (
            self.critical_high is not None
            and self.high is not None
            and self.critical_high < self.high
        ):
            raise ValueError("critical_high lies inside the reference range")
        return self

    def applies_to(self, sex: Sex | None, age_years: float | None) -> bool:
        """Whether this row covers a person of this sex and age."""
        if self.sex != "any" and (sex is None or sex.value != self.sex):
            return False
        if self.age_min is not None and (age_years is None or age_years < self.age_min):
            return False
        return not (self.age_max is not None and (age_years is None or age_years >= self.age_max))


class CatalogueInfo(_Frozen):
    """The ``catalogue.toml`` of a reference-range catalogue."""

    name: str
    title: str
    version: str
    population: str
    description: str | None = None


class ProfileTime(_Frozen):
    """How a profile reads times: the IANA zone of times written without a UTC offset.

    ``zone`` is ``None`` where the country spans several zones (``us``): such times stay
    floating wall-clock times unless the caller names a zone.
    """

    zone: str | None = None

    @model_validator(mode="after")
    def _known_zone(self) -> ProfileTime:
        if self.zone is not None:
            try:
                ZoneInfo(self.zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError("time.zone must be an IANA time zone name") from exc
        return self


class Profile(_Frozen):
    """A country profile: reporting units, range catalogue and defaults."""

    name: str
    title: str
    catalogue: str
    language: str
    units: dict[str, str]
    egfr_equation: str | None = None
    egfr_cr_cys_equation: str | None = None
    #: The albumin correction of total calcium (``labinterp.equations.calcium``; None:
    #: no corrected calcium is derived).
    calcium_correction: str | None = None
    schemes: tuple[str, ...] = ()
    #: Analytes whose converted values are compared at their reporting precision (the
    #: analyte catalogue's ``reporting`` decimals in the profile's unit).
    resolution: tuple[str, ...] = ()
    resolution_source: str | None = None
    time: ProfileTime = Field(default_factory=ProfileTime)
    #: The Kidney Failure Risk Equation's population ("north_american" or
    #: "non_north_american": Tangri 2016's recalibration), and its source.
    kfre_region: Literal["north_american", "non_north_american"] = "non_north_american"
    kfre_region_source: str | None = None

    @model_validator(mode="after")
    def _resolution_cited(self) -> Profile:
        if self.resolution and not self.resolution_source:
            raise ValueError("resolution needs resolution_source")
        return self


#: How a result's flag and its scheme category relate (decided by the verdict step).
Relation = Literal["agree", "differ", "no_comparison"]


class ColumnField(_Frozen):
    """One results-frame field and the CSV headers that fill it (``columns.toml``).

    The headers are listed by where they are written: English, Norwegian bokmål,
    Swedish, Danish, and the column names of lab-system and database exports. The
    field's own name is always one of them.
    """

    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    en: tuple[str, ...] = ()
    nb: tuple[str, ...] = ()
    sv: tuple[str, ...] = ()
    da: tuple[str, ...] = ()
    exports: tuple[str, ...] = ()

    @property
    def synonyms(self) -> tuple[str, ...]:
        """Every header of the field, its own name first, as listed."""
        return (self.field, *self.en, *self.nb, *self.sv, *self.da, *self.exports)


class TextEntry(_Frozen):
    """One explanation text with the source keys of its claims."""

    text: Annotated[str, Field(min_length=1)]
    sources: tuple[str, ...] = ()


class Finding(_Frozen):
    """The interpretation of one result, as clinic software consumes it.

    Serialise with ``finding.model_dump_json()``. ``equation`` and ``derived_from`` are
    set on derived results (status ``derived``): the equation's function name and the
    ``source_row`` numbers (in a panel, the positions) of the results it was computed from.
    ``source_status`` is the result's status as the source gave it (FHIR
    ObservationStatus), ``lab_flag`` the lab's own flag as sent and ``agrees_with_lab``
    whether the flag agrees with it (``None``: not compared). ``relation`` says how the
    flag and the category relate (``agree``, ``differ``, ``no_comparison``).
    ``value_canonical`` is written at the analyte's reporting precision when it was
    converted (:mod:`labinterp.precision`), ``value_canonical_exact`` keeps its full
    precision; an open range side or a missing limit is ``None``.
    """

    analyte: str | None
    status: Status
    problem: str | None = None
    raw_value: str | None = None
    raw_unit: str | None = None
    comparator: str | None = None
    value: float | None = None
    unit: str | None = None
    value_canonical: float | None = None
    value_canonical_exact: float | None = None
    unit_canonical: str | None = None
    reference_low: float | None = None
    reference_high: float | None = None
    reference_low_inclusive: bool | None = None
    reference_high_inclusive: bool | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    critical_low_inclusive: bool | None = None
    critical_high_inclusive: bool | None = None
    reference_source: str | None = None
    reference_citation: str | None = None
    flag: Flag | None = None
    lab_flag: str | None = None
    agrees_with_lab: bool | None = None
    scheme: str | None = None
    category: str | None = None
    relation: Relation | None = None
    explanation: str | None = None
    sources: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    equation: str | None = None
    derived_from: tuple[int, ...] = ()
    source_status: str | None = None


class Rule(_Frozen):
    """One context rule of ``rules.toml``: when a caveat is attached to a result.

    Every condition given must hold; ``with`` (flattened into ``with_analyte``,
    ``with_flags``, ``with_below``, ``with_above`` and ``with_unit``, the unit the two
    thresholds are stated in, else the analyte's catalogue unit) asks for another result
    of the same sample set.
    ``direction`` is the way the caveat says the value is pushed (``"low"``: made lower,
    ``"high"``: made higher): the caveat is never attached to a result flagged the other
    way (``H``/``HH`` for ``"low"``, ``L``/``LL`` for ``"high"``). ``compared`` asks
    whether the value was read and compared with a range (not, for example, an
    ``implausible_value`` or ``incompatible_unit`` row). ``specimens`` asks for a result
    whose code or name says one of them (``""``: says none).
    """

    id: str
    sources: tuple[str, ...]
    analyte: str | None = None
    flags: tuple[str, ...] = ()
    direction: Literal["low", "high"] | None = None
    compared: bool | None = None
    derived: bool | None = None
    age_outside: tuple[float, float] | None = None
    months: tuple[int, ...] = ()
    profiles: tuple[str, ...] = ()
    reference_source: str | None = None
    with_analyte: str | None = None
    with_flags: tuple[str, ...] = ()
    with_below: float | None = None
    with_above: float | None = None
    with_unit: str | None = None
    specimens: tuple[SaidSpecimen | Literal[""], ...] = ()
    note: str | None = None

    def takes(self, specimen: str) -> bool:
        """Return whether the rule is for a result whose code or name says ``specimen``."""
        return not self.specimens or specimen in self.specimens

    @model_validator(mode="before")
    @classmethod
    def _flatten_with(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "with" in data:
            data = dict(data)
            other = data.pop("with")
            if not isinstance(other, Mapping):
                raise ValueError("'with' must be a table (analyte, flags, below, above, unit)")
            unknown = set(other) - {"analyte", "flags", "below", "above", "unit"}
            if unknown:
                raise ValueError(f"unknown field(s) in 'with': {', '.join(sorted(unknown))}")
            data.update(
                {
                    "with_analyte": other.get("analyte"),
                    "with_flags": other.get("flags", ()),
                    "with_below": other.get("below"),
                    "with_above": other.get("above"),
                    "with_unit": other.get("unit"),
                }
            )
        return data


class BiologicalVariation(_Frozen):
    """Within-subject (CVI) and default analytical (CVA) variation of one analyte."""

    cvi_pct: float
    cvi_source: str
    cvi_locator: str
    cva_pct: float
    cva_source: str
    cva_locator: str
    note: str | None = None
