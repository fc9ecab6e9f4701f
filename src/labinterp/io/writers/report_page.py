"""What the report shows, worked out from the interpreted rows: header, cards, sources.

Every visible word comes from the text catalogue (``name.report.*``, ``report.*``,
``name.flag.*``, ``name.category.*``, the analytes' display names); numbers are written
for the language's locale with Babel. The template (``templates/report_body.html.j2``)
only lays this out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import pandas as pd
from babel.dates import format_datetime
from babel.numbers import format_decimal

from labinterp import catalogue
from labinterp.catalogue import Text
from labinterp.errors import CatalogueError
from labinterp.io.writers.report_grid import Grid, kdigo_grid
from labinterp.names import analyte_name
from labinterp.precision import reporting_decimals
from labinterp.steps.explain import CAVEAT_SEPARATOR, equation_name
from labinterp.vocab import PanelGroup

__all__ = ["Bar", "Card", "Page", "bar_geometry", "format_number", "format_when", "page_of"]

#: Babel locales of the text catalogue's languages.
LOCALES = {"en": "en_GB", "nb": "nb_NO", "sv": "sv_SE"}

#: How each flag is shown: its tone (colour class) in the range picture and the legend. A
#: result whose range and clinical category point different ways has a tone of its own.
TONES = {"N": "normal", "L": "off", "H": "off", "LL": "critical", "HH": "critical", "": "none"}

#: Width of the range picture in its own units.
WIDTH = 300.0

_WORDS = (
    *("title", "patient", "collected", "profile", "ranges", "ranges_lab", "results"),
    *("trends", "sources", "reference", "no_reference", "critical", "category"),
    *("collected_at", "derived", "more", "caveats", "not_interpreted", "legend"),
    *("legend_band", "legend_not_compared", "legend_differs", "as_reported"),
)

#: A sentence ends at one of these, followed by a space (the texts' own punctuation).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Bar:
    """The range picture of one result, in the picture's units (0 to :data:`WIDTH`)."""

    band: tuple[float, float] | None  # the reference interval, one-sided to an edge
    critical: tuple[float, ...]  # critical limits
    marker: float | None  # the value
    label: str  # what the picture shows, in words (its accessible name)


@dataclass(frozen=True)
class Card:
    """One result as the report shows it."""

    number: int
    name: str
    lab_name: str
    derived: str
    value: str
    unit: str
    verdict: str
    tone: str
    bar: Bar
    range_text: str
    when: str
    category: str
    problem: str
    text: str
    cites: tuple[int, ...]
    caveats: tuple[str, ...]
    about: str
    grid: Grid | None = None  # the KDIGO heat map of a ``ckd_risk`` row


@dataclass(frozen=True)
class Panel:
    """The cards of one panel, as laboratories group results (kidney, liver, lipids ...)."""

    key: str
    name: str
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Source:
    """One numbered reference."""

    text: str
    url: str


@dataclass
class Page:
    """The whole report: header, legend, cards, trends and numbered sources."""

    lang: str
    words: dict[str, str]
    patient: str
    collected: str
    profile: str
    ranges: str
    legend: list[tuple[str, str]]
    disclaimer: str
    cards: list[Card] = field(default_factory=list)
    trends: str = ""
    sources: list[Source] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)


def format_number(value: float, decimals: int, lang: str) -> str:
    r"""Write a number for the language's locale with a fixed number of decimals.

    Examples
    --------
    >>> format_number(1234.5, 1, "nb")
    '1\xa0234,5'
    >>> format_number(0.82, 2, "sv")
    '0,82'
    """
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return str(format_decimal(value, format=pattern, locale=LOCALES.get(lang, "en_GB")))


def format_when(value: Any, lang: str) -> str:
    """Write a collection time (the wall clock the source wrote) for the locale.

    Examples
    --------
    >>> import pandas as pd
    >>> format_when(pd.Timestamp("2026-01-15 08:10"), "nb")
    '15.01.2026, 08:10'
    """
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    return str(format_datetime(stamp.to_pydatetime(), "short", locale=LOCALES.get(lang, "en_GB")))


def decimals_of(text: Any) -> int:
    """Return how many decimals a number is written with (``"0,82"``: 2; ``"78"``: 0)."""
    digits = re.search(r"[.,](\d+)\s*$", str(text).strip())
    return len(digits.group(1)) if digits else 0


def bar_geometry(value: float, limits: tuple[float, float, float, float], label: str) -> Bar:
    """Place a value, its reference interval and critical limits on the picture.

    ``limits`` are the reference interval's low and high and the critical low and high
    (NaN: none). The scale runs a quarter of the span beyond the outermost point on each
    side (not below zero for positive quantities); a one-sided interval runs to the
    picture's edge.
    """
    low, high, critical_low, critical_high = limits
    points = [x for x in (value, low, high, critical_low, critical_high) if _finite(x)]
    if not points:
        return Bar(None, (), None, label)
    lowest, highest = min(points), max(points)
    span = (highest - lowest) or abs(highest) or 1.0
    start, end = lowest - span / 4, highest + span / 4
    if lowest >= 0:
        start = max(start, 0.0)

    def x(v: float) -> float:
        return round(WIDTH * (v - start) / (end - start), 1)

    band = None
    if _finite(low) or _finite(high):
        band = (x(low) if _finite(low) else 0.0, x(high) if _finite(high) else WIDTH)
    critical = tuple(x(c) for c in (critical_low, critical_high) if _finite(c))
    return Bar(band, critical, x(value) if _finite(value) else None, label)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _get(row: pd.Series, name: str) -> Any:
    value = row.get(name)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def once(parts: Iterable[str], seen: set[str]) -> tuple[str, ...]:
    """Return the parts with every sentence already shown (``seen``) left out."""
    kept = []
    for part in parts:
        fresh = [s for s in _sentences(part) if s not in seen]
        seen.update(fresh)
        if fresh:
            kept.append(" ".join(fresh))
    return tuple(kept)


class _Numbers:
    """Numbers of one report, in its language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def limit(self, value: Any, decimals: int) -> str:
        return format_number(float(value), decimals, self.lang) if _finite(value) else ""

    def range_text(self, row: pd.Series, decimals: int, words: dict[str, str]) -> str:
        low, high = _get(row, "reference_low"), _get(row, "reference_high")
        has_low, has_high = _finite(low), _finite(high)
        unit = str(_get(row, "unit_canonical") or "")
        if has_low and has_high:
            shown = f"{self.limit(low, decimals)}–{self.limit(high, decimals)}"
        elif has_low:
            shown = ("≥ " if _get(row, "reference_low_inclusive") else "> ") + self.limit(
                low, decimals
            )
        elif has_high:
            shown = ("≤ " if _get(row, "reference_high_inclusive") else "< ") + self.limit(
                high, decimals
            )
        else:
            return words["no_reference"]
        critical = [
            f"{signs[bool(_get(row, f'critical_{side}_inclusive'))]} {self.limit(value, decimals)}"
            for side, signs in (("low", ("<", "≤")), ("high", (">", "≥")))
            if _finite(value := _get(row, f"critical_{side}"))
        ]
        extra = f"; {words['critical']} {', '.join(critical)}" if critical else ""
        return f"{words['reference']} {shown} {unit}{extra}".strip()


class _Sources:
    """Source keys numbered in the order the report first cites them."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def cite(self, keys: Sequence[str]) -> tuple[int, ...]:
        numbers = []
        for key in keys:
            if key not in self.keys:
                self.keys.append(key)
            numbers.append(self.keys.index(key) + 1)
        return tuple(dict.fromkeys(numbers))

    def listed(self) -> list[Source]:
        bibliography = catalogue.sources()
        out = []
        for key in self.keys:
            source = bibliography.get(key)
            if source is None:
                out.append(Source(key, ""))
                continue
            parts = [source.authors, f"({source.year})" if source.year else None]
            parts += [source.title, source.container]
            url = source.url or (f"https://doi.org/{source.doi}" if source.doi else "")
            out.append(Source(". ".join(str(p) for p in parts if p), url or ""))
        return out


@dataclass(frozen=True)
class _Shown:
    """What a page has shown so far: its numbers' language, its sources, its sentences."""

    numbers: _Numbers
    sources: _Sources
    seen: set[str]
    rows: pd.DataFrame | None = None  # all the patient's rows (the grid's sources)

    def grid(self, row: pd.Series, text: Text) -> Grid | None:
        """Return the KDIGO heat map of a ``ckd_risk`` row (``None``: not one, or no sources)."""
        if self.rows is None or _get(row, "analyte") != "ckd_risk":
            return None
        lang = self.numbers.lang
        return kdigo_grid(
            row,
            self.rows,
            text,
            lambda value: format_number(value, decimals_of(f"{value:.6g}"), lang),
        )


def _card(number: int, row: pd.Series, text: Text, shown_on: _Shown) -> Card:
    """Return one result's card (``shown_on``: what the page has shown so far)."""
    numbers, sources, seen = shown_on.numbers, shown_on.sources, shown_on.seen
    words = _words(text)
    analyte = str(_get(row, "analyte") or "")
    flag = str(_get(row, "flag") or "")
    raw = _get(row, "raw_value")
    same_unit = str(_get(row, "unit") or "") == str(_get(row, "unit_canonical") or "")
    decimals = decimals_of(raw) if raw is not None else 0
    value = _get(row, "value_canonical")
    comparator = str(_get(row, "comparator") or "")
    if _finite(value):
        unit = str(_get(row, "unit_canonical") or "")
        shown_decimals = (
            decimals if same_unit and raw is not None else _decimals_for(analyte, unit, value)
        )
        shown = comparator + format_number(float(value), shown_decimals, numbers.lang)
    else:
        shown = str(raw or "")
    about = text.name(f"{analyte}.about", "")
    explanation = str(_get(row, "explanation") or "")
    rest = explanation.removeprefix(about).strip() if about else explanation
    body = once([rest], seen)
    caveats = str(_get(row, "caveats") or "").split(CAVEAT_SEPARATOR)
    scheme, category = _get(row, "scheme"), _get(row, "category")
    verdict = text.name(f"name.flag.{flag}", flag) if flag else words["legend_not_compared"]
    differs = _get(row, "relation") == "differ"
    tone = "differs" if differs and flag not in ("LL", "HH") else TONES.get(flag, "none")
    equation = _get(row, "equation")
    lab_name = str(_get(row, "source_name") or "")
    name = analyte_name(analyte, text.lang) if analyte else lab_name
    range_text = numbers.range_text(row, _limit_decimals(row, analyte), words)
    grid = shown_on.grid(row, text)
    if grid is not None:  # a risk without a value: the verdict is the risk's name
        verdict = text.name(f"name.category.{scheme}.{category}", str(category))
    return Card(
        number=number,
        name=name,
        lab_name=lab_name if lab_name and lab_name != name else "",
        derived=equation_name(str(equation), text) if equation else "",
        value=shown,
        unit=str(
            (_get(row, "unit_canonical") if _finite(value) else None) or _get(row, "raw_unit") or ""
        ),
        verdict=verdict[:1].upper()
        + verdict[1:]
        + (f" · {words['legend_differs']}" if differs else ""),
        tone=tone,
        bar=bar_geometry(
            float(value) if _finite(value) else math.nan,
            (
                _float(row, "reference_low"),
                _float(row, "reference_high"),
                _float(row, "critical_low"),
                _float(row, "critical_high"),
            ),
            f"{name}: {shown} {_get(row, 'unit_canonical') or ''}; {range_text}",
        ),
        range_text=range_text,
        when=format_when(_get(row, "collected_at"), text.lang),
        category=_category(text, scheme, category),
        problem=str(_get(row, "problem") or ""),
        text=" ".join(body),
        cites=sources.cite(
            [k for k in str(_get(row, "explanation_sources") or "").split("; ") if k]
        ),
        caveats=once([c for c in caveats if c], seen),
        about=" ".join(once([about], seen)),
        grid=grid,
    )


def _float(row: pd.Series, name: str) -> float:
    value = _get(row, name)
    return float(value) if _finite(value) else math.nan


def _decimals_for(analyte: str, unit: str, value: float) -> int:
    """Decimals of a value labinterp computed: the analyte's reporting precision.

    Where the catalogue gives none for the unit, the value's own shortest digits.
    """
    decimals = reporting_decimals(analyte, unit)
    return decimals if decimals is not None else decimals_of(f"{value:.12g}")


def _limit_decimals(row: pd.Series, analyte: str) -> int:
    """Decimals of a row's limits: the analyte's reporting precision, or the limits' own."""
    decimals = reporting_decimals(analyte, str(_get(row, "unit_canonical") or ""))
    if decimals is not None:
        return decimals
    needed = [
        decimals_of(f"{float(v):.6g}")
        for v in (_get(row, "reference_low"), _get(row, "reference_high"))
        if _finite(v)
    ]
    return max(needed, default=0)


def _category(text: Text, scheme: Any, category: Any) -> str:
    """Return a category's name in the text's language ("" for none or a restated flag)."""
    if not scheme or not category:
        return ""
    known = catalogue.schemes().get(str(scheme))
    if known is None or known.from_flags:
        return ""
    name = text.name(f"name.category.{scheme}.{category}", str(category))
    return f"{name} · {text.name(f'name.scheme.{scheme}', str(scheme))}"


def _words(text: Text) -> dict[str, str]:
    return {word: text.name(f"name.report.{word}", word) for word in _WORDS}


def page_of(
    latest: pd.DataFrame,
    *,
    patient: Any,
    text: Text,
    profile: str,
    trends: str,
    rows: pd.DataFrame | None = None,
) -> Page:
    """Work out the whole report from each analyte's latest rows.

    Parameters
    ----------
    latest
        The rows to show, one per analyte (and eGFR equation), with ``_when`` (the
        collection time as text) where known.
    patient
        The patient's identifier, as given.
    text
        The language and audience.
    profile
        The profile's title ("" when not known).
    trends
        The trend picture as base64 PNG ("" for none).
    rows
        All the patient's rows: a ``ckd_risk`` card shows the KDIGO heat map with the
        cell of the eGFR and ACR it names marked (``None``: no heat map).
    """
    words = _words(text)
    flag = {f: text.name(f"name.flag.{f}", f) for f in ("LL", "L", "N", "H", "HH")}
    page = Page(
        lang=text.lang,
        words=words,
        patient=str(patient),
        collected=_latest_time(latest, text.lang),
        profile=profile,
        ranges=_range_sources(latest, words, text),
        legend=[
            ("normal", flag["N"]),
            ("off", f"{flag['L']} / {flag['H']}"),
            ("critical", f"{flag['LL']} / {flag['HH']}"),
            ("differs", words["legend_differs"]),
            ("none", words["legend_not_compared"]),
        ],
        disclaimer=text.name("report.disclaimer", ""),
        trends=trends,
    )
    shown_on = _Shown(_Numbers(text.lang), _Sources(), set(), rows)
    for number, (_, row) in enumerate(latest.iterrows(), start=1):
        page.cards.append(_card(number, row, text, shown_on))
    page.sources = shown_on.sources.listed()
    page.panels = _panels(latest, page.cards, text)
    return page


def _panels(latest: pd.DataFrame, cards: list[Card], text: Text) -> list[Panel]:
    """Group the cards by panel (``group`` in analytes.toml), in the order labs print them."""
    spec = catalogue.analytes()
    keys = [
        spec[a].group if isinstance(a, str) and a in spec else "other"
        for a in latest["analyte"].astype(object)
    ]
    order = get_args(PanelGroup)
    return [
        Panel(
            group,
            text.name(f"name.group.{group}", group),
            tuple(card for card, key in zip(cards, keys, strict=True) if key == group),
        )
        for group in order
        if group in keys
    ]


def _latest_time(rows: pd.DataFrame, lang: str) -> str:
    """Return the latest collection time (rows are in order of collection)."""
    if "collected_at" not in rows or not rows["collected_at"].notna().any():
        return ""
    return format_when(rows["collected_at"].dropna().iloc[-1], lang)


def _range_sources(rows: pd.DataFrame, words: dict[str, str], text: Text) -> str:
    """Name where the ranges came from: the laboratory's own, or a catalogue's title."""
    if "reference_source" not in rows:
        return ""
    names = []
    for source in pd.unique(rows["reference_source"].dropna().astype(str)):
        if source == "lab":
            names.append(words["ranges_lab"])
        elif source.startswith("catalogue:"):
            try:
                named = catalogue.load_range_catalogue(source.split(":", 1)[1])
                names.append(named.title_in(text))
            except (CatalogueError, OSError):
                names.append(source.split(":", 1)[1])
    return "; ".join(dict.fromkeys(names))
