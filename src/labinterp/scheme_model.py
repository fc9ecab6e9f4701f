"""Validated model of a classification scheme (``schemes.toml``) and its categories."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from labinterp.frozen import Frozen
from labinterp.vocab import SaidSpecimen

__all__ = ["FLAG_DIRECTION", "Direction", "Scheme", "SchemeCategory", "SchemeCutoffs"]


#: Where a category lies against health, as a flag does against its range.
Direction = Literal["low", "normal", "high"]

#: The direction of each HL7 table 0078 flag (critical flags as their side).
FLAG_DIRECTION: dict[str, Direction] = {
    "LL": "low",
    "L": "low",
    "N": "normal",
    "H": "high",
    "HH": "high",
}


class SchemeCategory(Frozen):
    """One category of a classification scheme: values below ``upper`` (or up to it).

    ``direction`` says where the category lies against health (``"low"``, ``"normal"``,
    ``"high"``), so that a flag and a category can be compared.
    """

    label: str
    direction: Direction
    upper: float | None = None
    upper_inclusive: bool = False


class SchemeCutoffs(Frozen):
    """A scheme's cut-offs in another unit (or for another age), each with its source."""

    unit: str
    source: str
    locator: str
    categories: tuple[SchemeCategory, ...]
    inflamed_categories: tuple[SchemeCategory, ...] = ()


class Scheme(Frozen):
    """A classification scheme of ``schemes.toml``.

    ``in_units`` gives the same categories with cut-offs in other units (a result in
    one of them is classified there, unconverted); ``below_age_min`` gives the cut-offs
    that apply under ``age_min`` (without it, no category is given under ``age_min``).
    A scheme with ``sex`` classifies results of that sex only (a sex-specific decision
    limit is two schemes, one per sex, each with its own texts); one with ``specimens``
    only results whose code or name says one of them (``""``: says none), as a fasting
    limit is not for a sample said to be non-fasting.

    Either ``categories`` (bounds in ``unit``; lower bounds inclusive unless the
    category below has ``upper_inclusive``) or ``from_flags`` (a category per flag).
    A scheme whose categories an equation assigns (``given_by``, the KDIGO heat map's
    :func:`labinterp.equations.kdigo_risk`) lists them without bounds.
    """

    name: str
    analyte: str
    source: str
    locator: str
    unit: str | None = None
    resolution: float | None = None
    also_sources: tuple[str, ...] = ()
    note: str | None = None
    age_min: float | None = None
    sex: Literal["female", "male"] | None = None
    specimens: tuple[SaidSpecimen | Literal[""], ...] = ()
    categories: tuple[SchemeCategory, ...] = ()
    inflamed_categories: tuple[SchemeCategory, ...] = ()
    high_from_reference: str | None = None
    from_flags: dict[str, str] = Field(default_factory=dict)
    in_units: tuple[SchemeCutoffs, ...] = ()
    below_age_min: SchemeCutoffs | None = None
    given_by: str | None = None

    @model_validator(mode="after")
    def _well_formed(self) -> Scheme:
        if bool(self.categories) == bool(self.from_flags):
            raise ValueError("a scheme has either categories or from_flags")
        if self.given_by is not None:
            return self._given()
        for other in self.in_units:
            if [c.label for c in other.categories] != [c.label for c in self.categories] or [
                c.label for c in other.inflamed_categories
            ] != [c.label for c in self.inflamed_categories]:
                raise ValueError("cut-offs in another unit must give the same categories")
        young = self.below_age_min
        if young is not None and self.age_min is None:
            raise ValueError("below_age_min needs age_min")
        extra = [(c.categories, c.inflamed_categories) for c in self.in_units]
        if young is not None:
            extra.append((young.categories, young.inflamed_categories))
        for cats in (self.categories, self.inflamed_categories, *(x for e in extra for x in e)):
            if not cats:
                continue
            uppers = [c.upper for c in cats[:-1] if c.upper is not None]
            if len(uppers) != len(cats) - 1 or cats[-1].upper is not None:
                raise ValueError("every category but the last needs an upper bound")
            if uppers != sorted(uppers) or len(set(uppers)) != len(uppers):
                raise ValueError("category bounds must increase")
        if self.categories and self.unit is None:
            raise ValueError("a scheme with categories needs a unit")
        return self

    @model_validator(mode="after")
    def _directions(self) -> Scheme:
        if any(flag not in FLAG_DIRECTION for flag in self.from_flags):
            raise ValueError("from_flags keys must be HL7 table 0078 flags (LL L N H HH)")
        directions: dict[str, str] = {}
        for category in self._all_categories():
            if directions.setdefault(category.label, category.direction) != category.direction:
                raise ValueError(f"category {category.label!r} is given two directions")
        return self

    def _given(self) -> Scheme:
        """Check a scheme whose categories an equation gives: labels only, no bounds."""
        if any(c.upper is not None for c in self.categories) or self.in_units:
            raise ValueError("categories given by an equation have no bounds")
        return self

    def _all_categories(self) -> list[SchemeCategory]:
        sets = [self.categories, self.inflamed_categories]
        for other in (*self.in_units, *((self.below_age_min,) if self.below_age_min else ())):
            sets += [other.categories, other.inflamed_categories]
        return [category for categories in sets for category in categories]

    def takes(self, specimen: str) -> bool:
        """Return whether the scheme is for a result whose code or name says ``specimen``.

        ``""``: it says none. A scheme without ``specimens`` takes every result.
        """
        return not self.specimens or specimen in self.specimens

    def direction(self, label: str) -> Direction | None:
        """Return where a category of this scheme lies against health (``None``: unknown).

        A category that restates a flag (``from_flags``) lies where the flag does;
        ``high_from_reference`` (above the upper reference limit) is ``"high"``.
        """
        for flag, given in self.from_flags.items():
            if given == label:
                return FLAG_DIRECTION[flag]
        if label == self.high_from_reference:
            return "high"
        for category in self._all_categories():
            if category.label == label:
                return category.direction
        return None

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label the scheme can give, in order."""
        labels = [c.label for c in (*self.categories, *self.inflamed_categories)]
        if self.below_age_min is not None:
            young = self.below_age_min
            labels += [c.label for c in (*young.categories, *young.inflamed_categories)]
        labels += list(self.from_flags.values())
        if self.high_from_reference:
            labels.append(self.high_from_reference)
        return tuple(dict.fromkeys(labels))
