"""Packaged data: analytes, sources, profiles, text catalogues and range catalogues.

Everything is read once through :mod:`importlib.resources`, validated into frozen
pydantic models and cached. Data files are only ever parsed as TOML or CSV.
A site adds its own range catalogue as a directory (``catalogue.toml`` +
``ranges.csv``) and passes its path as ``catalogue=``; nothing is patched.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import ValidationError

from labinterp.choices import AUDIENCES
from labinterp.errors import CatalogueError, LabinterpWarning, UnknownAnalyteError
from labinterp.models import (
    AnalyteSpec,
    BiologicalVariation,
    CatalogueInfo,
    ColumnField,
    Profile,
    ReferenceRange,
    Rule,
    Scheme,
    Source,
    TextEntry,
)

__all__ = [
    "AUDIENCES",
    "PLACEHOLDER",
    "PROBLEM_PREFIX",
    "RangeCatalogue",
    "Text",
    "analytes",
    "biological_variation",
    "column_fields",
    "get_analyte",
    "get_profile",
    "header_key",
    "header_synonyms",
    "index_headers",
    "load_range_catalogue",
    "lookup_code",
    "lookup_name",
    "profiles",
    "rule",
    "rules",
    "schemes",
    "sources",
    "text_catalogue",
]

_DATA = resources.files("labinterp") / "data"


def _read_toml(path: Traversable | Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot be read ({exc.strerror}).") from exc


def _validation_message(path: object, where: str, exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'row'}: {err['msg']}" for err in exc.errors()
    )
    return f"{path}, {where}: {problems}"


_Keyed = TypeVar("_Keyed", Source, AnalyteSpec, Scheme, ColumnField)


@lru_cache(maxsize=1)
def schemes() -> Mapping[str, Scheme]:
    """Return the classification schemes (``schemes.toml``) keyed by name."""
    return _load_keyed("schemes.toml", Scheme, key_field="name")


def _load_keyed(filename: str, model: type[_Keyed], key_field: str = "key") -> dict[str, _Keyed]:
    """Validate every top-level table of a TOML data file into ``model``."""
    path = _DATA / filename
    out: dict[str, _Keyed] = {}
    for key, entry in _read_toml(path).items():
        try:
            out[key] = model(**{key_field: key}, **entry)
        except ValidationError as exc:
            raise CatalogueError(_validation_message(path, f"[{key}]", exc)) from exc
    return out


@lru_cache(maxsize=1)
def sources() -> Mapping[str, Source]:
    """Return the bibliography (``sources.toml``) keyed by source key."""
    return _load_keyed("sources.toml", Source)


@lru_cache(maxsize=1)
def analytes() -> Mapping[str, AnalyteSpec]:
    """Return the analyte catalogue (``analytes.toml``) keyed by analyte key."""
    return _load_keyed("analytes.toml", AnalyteSpec)


def get_analyte(key: str) -> AnalyteSpec:
    """Return one analyte by its catalogue key.

    Raises
    ------
    UnknownAnalyteError
        When the key is not in the catalogue.
    """
    try:
        return analytes()[key]
    except KeyError:
        known = ", ".join(sorted(analytes()))
        raise UnknownAnalyteError(
            f"Unknown analyte key; use one of: {known}.", field="analyte"
        ) from None


_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_WS = re.compile(r"\s+")


def name_key(text: str) -> str:
    """Normalise an analyte name for lookup (case, width, dashes, spaces, zero-width)."""
    text = unicodedata.normalize("NFKC", text).replace("\u200b", "")
    text = _DASHES.sub("-", text)
    return _WS.sub(" ", text).strip().casefold()


@lru_cache(maxsize=1)
def _code_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in analytes().values():
        for code in spec.codes:
            key = code.strip().casefold()
            if index.setdefault(key, spec.key) != spec.key:
                raise CatalogueError(f"analytes.toml: code {code} is listed for two analytes.")
    return index


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in analytes().values():
        names = {spec.key, *spec.aliases, *spec.display.values()}
        for name in names:
            key = name_key(name)
            if index.setdefault(key, spec.key) != spec.key:
                raise CatalogueError(f"analytes.toml: name {name!r} is listed for two analytes.")
    return index


def lookup_code(code: str) -> str | None:
    """Return the analyte key for a LOINC, NPU or NLK code, or ``None``."""
    return _code_index().get(code.strip().casefold())


def lookup_name(name: str) -> str | None:
    """Return the analyte key for a name or alias as written in exports, or ``None``."""
    return _name_index().get(name_key(name))


#: Dropped from headers before they are compared: whitespace, underscores, dots, hyphens
#: and dashes, zero-width characters and the byte-order mark.
_HEADER_DROPPED = re.compile(r"[\s_.\-\u2010-\u2015\u2212\u200b-\u200d\ufeff]+")
#: Letters without a Unicode decomposition, read as exports write them without the letter.
_HEADER_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l"})


def header_key(text: str) -> str:
    """Normalise a CSV header for comparison.

    Case, whitespace, underscores, hyphens (and other dashes), dots, zero-width
    characters and diacritics are ignored: the text is decomposed (NFKD) and its
    combining marks dropped (``å``, ``ä``, ``ö`` read as ``a``, ``a``, ``o``); ``ø``
    reads as ``o`` and ``æ`` as ``ae``, which have no decomposition.

    Examples
    --------
    >>> header_key("Ref. Range") == header_key("ref_range") == header_key("RefRange")
    True
    >>> header_key("Prøvetakingstidspunkt"), header_key("Födelseår"), header_key("Værdi")
    ('provetakingstidspunkt', 'fodelsear', 'vaerdi')
    """
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _HEADER_DROPPED.sub("", bare.translate(_HEADER_LETTERS))


@lru_cache(maxsize=1)
def column_fields() -> Mapping[str, ColumnField]:
    """Return each results-frame field with its CSV header synonyms (``columns.toml``).

    Raises
    ------
    CatalogueError
        When an entry is malformed or a header is listed for two fields.
    """
    fields = _load_keyed("columns.toml", ColumnField, key_field="field")
    index_headers(fields.values())
    return fields


def index_headers(fields: Iterable[ColumnField]) -> dict[str, str]:
    """Return ``{normalised header: field}`` for the synonyms of ``fields``.

    Raises
    ------
    CatalogueError
        When a header is empty once normalised, or two fields claim the same header.
    """
    index: dict[str, str] = {}
    for spec in fields:
        for synonym in spec.synonyms:
            if not (key := header_key(synonym)):
                raise CatalogueError(f"columns.toml, [{spec.field}]: {synonym!r} is no header.")
            if (claimed := index.setdefault(key, spec.field)) != spec.field:
                raise CatalogueError(
                    f"columns.toml: the header {synonym!r} is listed for both {claimed} and "
                    f"{spec.field}; a header can fill one field only."
                )
    return index


@lru_cache(maxsize=1)
def header_synonyms() -> Mapping[str, str]:
    """Return ``{normalised header: field}`` for every synonym in ``columns.toml``."""
    return MappingProxyType(index_headers(column_fields().values()))


@lru_cache(maxsize=1)
def profiles() -> Mapping[str, Profile]:
    """Return the country profiles (``profiles/*.toml``) keyed by name."""
    out: dict[str, Profile] = {}
    for item in sorted((_DATA / "profiles").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        try:
            profile = Profile(**_read_toml(item))
        except ValidationError as exc:
            raise CatalogueError(_validation_message(item, "profile", exc)) from exc
        out[profile.name] = profile
    return out


def get_profile(name: str | Profile) -> Profile:
    """Return a profile by name (``no``, ``se``, ``dk``, ``us``).

    Raises
    ------
    CatalogueError
        When the profile does not exist.
    """
    if isinstance(name, Profile):
        return name
    try:
        return profiles()[name]
    except KeyError:
        known = ", ".join(sorted(profiles()))
        raise CatalogueError(f"Unknown profile; use one of: {known}.") from None


#: Placeholders the code fills in texts: the eGFR equation's name, the catalogue's title,
#: and in the verdict's sentences a scheme's and a category's name and two flags' names.
#: Problem sentences (``problem.<id>``) name theirs freely: the recorded English sentence
#: gives their values.
TEXT_PLACEHOLDERS = frozenset({"equation", "catalogue", "scheme", "category", "lab_flag", "flag"})
#: A placeholder in a text: ``{name}``.
PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Text keys of problem sentences: ``problem.<id>``.
PROBLEM_PREFIX = "problem."


@lru_cache(maxsize=8)
def text_catalogue(lang: str = "en") -> Mapping[str, TextEntry]:
    """Return the explanation texts of one language keyed by dotted path.

    Keys are ``"<analyte>.about"``, ``"<analyte>.flag.<FLAG>"``, ``"_flag.<FLAG>"``,
    ``"category.<scheme>.<label>"``, ``"caveat.<rule>"``, ``"note.<id>"``,
    ``"equation.<key>"``, ``"problem.<id>"`` and ``"verdict.<...>"``, each followed by
    the audience, and the names ``"name.<...>"``, which serve both audiences.
    """
    path = _DATA / "text" / f"{lang}.toml"
    if not path.is_file():
        known = ", ".join(
            sorted(p.name[:-5] for p in (_DATA / "text").iterdir() if p.name.endswith(".toml"))
        )
        raise CatalogueError(f"No text catalogue for that language; available: {known}.")
    out: dict[str, TextEntry] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        if "text" in node and not isinstance(node["text"], Mapping):
            try:
                out[prefix] = TextEntry(**node)
            except ValidationError as exc:
                raise CatalogueError(_validation_message(path, f"[{prefix}]", exc)) from exc
            return
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", _read_toml(path))
    known_keys = set(sources())
    english = text_catalogue("en") if lang != "en" else out
    for key, entry in out.items():
        missing = sorted(set(entry.sources) - known_keys)
        if missing:
            raise CatalogueError(f"{path}, [{key}]: unknown source key(s) {', '.join(missing)}.")
        if key.startswith(PROBLEM_PREFIX):
            allowed = _placeholders(english[key].text) if key in english else set()
            use = "those of the English sentence"
        else:
            allowed, use = set(TEXT_PLACEHOLDERS), ", ".join(sorted(TEXT_PLACEHOLDERS))
        unknown = sorted(_placeholders(entry.text) - allowed)
        if unknown:
            raise CatalogueError(
                f"{path}, [{key}]: placeholder(s) {', '.join(unknown)} are never filled; "
                f"use only {use}."
            )
    return out


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _reference_ranges_root() -> Traversable | Path:
    packaged = resources.files("labinterp") / "reference_ranges"
    if packaged.is_dir():
        return packaged
    # Running from a source checkout (editable install): the top-level directory.
    return Path(__file__).resolve().parents[2] / "reference_ranges"


@dataclass(frozen=True)
class RangeCatalogue:
    """A validated reference-range catalogue.

    Attributes
    ----------
    info
        Name, version and population from ``catalogue.toml``.
    ranges
        All rows of ``ranges.csv``.
    origin
        Where it was read from (for messages).
    """

    info: CatalogueInfo
    ranges: tuple[ReferenceRange, ...]
    origin: str

    def title_in(self, text: Text) -> str:
        """Return the title in the text's language (``name.catalogue.<name>``, else its own)."""
        return text.name(f"name.catalogue.{self.info.name}", self.info.title)

    def for_analyte(self, analyte: str) -> tuple[ReferenceRange, ...]:
        """Return the rows for one analyte, in file order."""
        return self._by_analyte.get(analyte, ())

    @cached_property
    def _by_analyte(self) -> dict[str, tuple[ReferenceRange, ...]]:
        grouped: dict[str, list[ReferenceRange]] = {}
        for row in self.ranges:
            grouped.setdefault(row.analyte, []).append(row)
        return {name: tuple(rows) for name, rows in grouped.items()}


_RANGE_COLUMNS = tuple(ReferenceRange.model_fields)


def _parse_range_cell(column: str, text: str) -> object:
    text = text.strip()
    if text == "":
        return None
    if column.endswith("_inclusive"):
        lowered = text.casefold()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise ValueError("expected true or false")
    if column in {"age_min", "age_max", "low", "high", "critical_low", "critical_high"}:
        return float(text)
    if column == "equations":
        return tuple(name.strip() for name in text.split(";") if name.strip())
    return text


#: The file naming a range catalogue; ``catalog.toml`` is still read where it is the only one.
INFO_FILE = "catalogue.toml"
_LEGACY_INFO_FILE = "catalog.toml"


def _info_path(directory: Traversable | Path) -> Traversable | Path:
    path = directory / INFO_FILE
    legacy = directory / _LEGACY_INFO_FILE
    return legacy if not path.is_file() and legacy.is_file() else path


def _load_ranges(directory: Traversable | Path) -> RangeCatalogue:
    info_path = _info_path(directory)
    csv_path = directory / "ranges.csv"
    try:
        info = CatalogueInfo(**_read_toml(info_path))
    except ValidationError as exc:
        raise CatalogueError(_validation_message(info_path, info_path.name, exc)) from exc
    rows: list[ReferenceRange] = []
    try:
        text = csv_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{csv_path}: cannot be read as UTF-8 text ({exc}).") from exc
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        unknown = [c for c in header if c not in _RANGE_COLUMNS]
        if unknown:
            raise CatalogueError(f"{csv_path}, line 1: unknown column(s) {', '.join(unknown)}.")
        for line_no, raw in enumerate(reader, start=2):
            values: dict[str, object] = {}
            for column_no, column in enumerate(header, start=1):
                try:
                    values[column] = _parse_range_cell(column, raw.get(column) or "")
                except ValueError as exc:
                    raise CatalogueError(
                        f"{csv_path}, line {line_no}, column {column_no} ({column}): {exc}."
                    ) from exc
            cleaned = {k: v for k, v in values.items() if v is not None}
            try:
                rows.append(ReferenceRange.model_validate(cleaned))
            except ValidationError as exc:
                raise CatalogueError(_validation_message(csv_path, f"line {line_no}", exc)) from exc
    return RangeCatalogue(info=info, ranges=tuple(rows), origin=str(directory))


@lru_cache(maxsize=16)
def _load_named(name: str) -> RangeCatalogue:
    root = _reference_ranges_root()
    directory = root / name
    if not directory.is_dir():
        raise CatalogueError(f"No packaged range catalogue named {name!r}.")
    return _load_ranges(directory)


def load_range_catalogue(catalogue: str | Path | RangeCatalogue) -> RangeCatalogue:
    """Load a range catalogue by packaged name (``"nordic"``, ``"us"``) or directory path.

    Parameters
    ----------
    catalogue
        A packaged catalogue name, a directory holding ``catalogue.toml`` and
        ``ranges.csv``, or an already loaded :class:`RangeCatalogue`.

    Returns
    -------
    RangeCatalogue
        The validated catalogue.

    Raises
    ------
    CatalogueError
        When the catalogue is missing or any row is invalid (the message names
        the file, line and column).
    """
    if isinstance(catalogue, RangeCatalogue):
        return catalogue
    if isinstance(catalogue, Path) or (
        isinstance(catalogue, str) and ("/" in catalogue or "\\" in catalogue)
    ):
        directory = Path(catalogue)
        if not directory.is_dir():
            raise CatalogueError(f"{directory}: not a directory with {INFO_FILE} and ranges.csv.")
        return _load_ranges(directory)
    return _load_named(catalogue)


# -- context rules, texts, biological variation -----------------------------------


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """Return the context rules of ``rules.toml``, validated, in file order.

    Raises
    ------
    CatalogueError
        When a rule has an unknown field, an unknown analyte or source key.
    """
    path = _DATA / "rules.toml"
    known_sources = set(sources())
    out = []
    for rule_id, entry in _read_toml(path).items():
        try:
            rule = Rule.model_validate({**entry, "id": rule_id})
        except ValidationError as exc:
            raise CatalogueError(_validation_message(path, f"[{rule_id}]", exc)) from exc
        missing = set(rule.sources) - known_sources
        if missing:
            raise CatalogueError(f"{path}, [{rule_id}]: unknown source key(s) {sorted(missing)}.")
        for name in (rule.analyte, rule.with_analyte):
            if name is not None and name not in analytes():
                raise CatalogueError(f"{path}, [{rule_id}]: unknown analyte {name!r}.")
        out.append(rule)
    return tuple(out)


def rule(rule_id: str) -> Rule:
    """Return one context rule by its id (a key of ``rules.toml``).

    Raises
    ------
    CatalogueError
        When there is no such rule.
    """
    for candidate in rules():
        if candidate.id == rule_id:
            return candidate
    raise CatalogueError(f"No context rule {rule_id!r} in rules.toml.")


class Text:
    """Texts of one language and audience, with English fallback for missing keys."""

    def __init__(self, lang: str, audience: str) -> None:
        if audience not in AUDIENCES:
            raise CatalogueError(f"Unknown audience; use one of: {', '.join(AUDIENCES)}.")
        self.lang = lang
        self.audience = audience
        self._texts = text_catalogue(lang)
        self._english = text_catalogue("en") if lang != "en" else self._texts
        self._warned: set[str] = set()

    def get(self, key: str) -> TextEntry | None:
        """Return the entry for ``key`` (no audience suffix; a name serves both), or ``None``."""
        full = f"{key}.{self.audience}"
        entry = self._texts.get(full)
        if entry is None and full not in self._english and key in self._english:
            full = key  # one entry for both audiences
            entry = self._texts.get(full)
        if entry is None and full in self._english:
            if full not in self._warned:
                self._warned.add(full)
                warnings.warn(
                    f"Text {full!r} is missing in language {self.lang!r}; English is used.",
                    LabinterpWarning,
                    stacklevel=3,
                )
            entry = self._english[full]
        return entry

    def name(self, key: str, default: str) -> str:
        """Return the text of ``key`` (a name: ``name.catalogue.nordic``), else ``default``."""
        entry = self.get(key)
        return entry.text if entry is not None else default


@lru_cache(maxsize=1)
def biological_variation() -> Mapping[str, BiologicalVariation]:
    """Return ``biological_variation.toml`` keyed by analyte, validated.

    Raises
    ------
    CatalogueError
        When an entry is malformed or cites a source key that does not exist.
    """
    path = _DATA / "biological_variation.toml"
    known = set(sources())
    out: dict[str, BiologicalVariation] = {}
    for analyte, entry in _read_toml(path).items():
        try:
            spec = BiologicalVariation(**entry)
        except ValidationError as exc:
            raise CatalogueError(f"{path}, [{analyte}]: {exc.errors()[0]['msg']}") from exc
        missing = {spec.cvi_source, spec.cva_source} - known
        if missing:
            raise CatalogueError(f"{path}, [{analyte}]: unknown source key(s) {sorted(missing)}.")
        out[analyte] = spec
    return out
