"""FHIR JSON input to resources: one resource, a Bundle, a JSON array or NDJSON lines.

The first step of the FHIR reader (:mod:`labinterp.io.readers.fhir`): bytes are decoded
(UTF-8, or UTF-16 with a BOM), JSON is parsed with every decimal kept as written, and
the resources are listed with their position in the input; nothing is validated here.

An integer literal too long for Python to convert (more digits than
``sys.int_info.default_max_str_digits``, 4,300) is refused with a :class:`ReadError`
naming the entry and the field, never the number.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from labinterp.errors import ReadError

__all__ = ["Entry", "entries"]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of the input with its position and (in Bundles) its fullUrl."""

    position: int
    resource: Mapping[str, Any]
    full_url: str | None


def _decode(data: bytes, name: str) -> str:
    """Decode JSON bytes: UTF-8 (BOM dropped) or UTF-16 with a BOM."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"{name}, byte {exc.start}: not valid UTF-16 text.") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{name}, byte {exc.start}: not valid UTF-8; FHIR JSON must be UTF-8 encoded."
        ) from exc


class _LongInteger:
    """Stands in for an integer literal too long to convert; only its length is kept."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _integer_limit() -> int:
    """Digits of the longest integer literal converted (Python's default limit, or less)."""
    default = sys.int_info.default_max_str_digits
    current = sys.get_int_max_str_digits()
    return min(current, default) if current else default


def _integer(literal: str) -> int | _LongInteger:
    digits = len(literal) - literal.startswith("-")
    return _LongInteger(digits) if digits > _integer_limit() else int(literal)


def _loads(text: str) -> tuple[Any, bool]:
    """Parse JSON keeping every decimal as written (``19.0`` stays ``Decimal('19.0')``).

    Returns the document and whether it holds a :class:`_LongInteger`: an integer
    literal too long to convert fails the fast parse, and the text is parsed again with
    a hook that marks it.
    """
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal), False
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer beyond Python's int max str digits
        hooked = json.loads(text, parse_float=Decimal, parse_constant=Decimal, parse_int=_integer)
        return hooked, True


def _long_integers(node: object) -> Iterator[tuple[str, int]]:
    """Yield the path (``component[0].valueInteger``) and length of each long integer."""
    stack: list[tuple[str, object]] = [("", node)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _LongInteger):
            yield path, item.digits
        elif isinstance(item, Mapping):
            stack.extend((f"{path}.{key}" if path else str(key), v) for key, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item))


def _refuse_long_integers(node: object, where: str) -> None:
    """Raise :class:`ReadError` naming the first long integer's field (never its digits)."""
    for path, digits in _long_integers(node):
        raise ReadError(
            f"{where}: the integer in {path or 'the document'} has {digits} digits, more than "
            f"can be read (at most {_integer_limit()}); it cannot be a result.",
            field=path or None,
        )


def _json_error(name: str, exc: json.JSONDecodeError) -> ReadError:
    # JSONDecodeError.msg describes the syntax ("Expecting ',' delimiter"), never the content.
    return ReadError(
        f"{name}, line {exc.lineno}, column {exc.colno}: not valid JSON "
        f"({exc.msg}); the file may be truncated.",
    )


def _looks_like_ndjson(lines: Sequence[str]) -> bool:
    """NDJSON when there are several non-blank lines and the first is a whole JSON object."""
    filled = [line for line in lines if line.strip()]
    if len(filled) < 2:
        return False
    try:
        first, _ = _loads(filled[0])
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(first, dict)


def _resource_type(value: object) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("resourceType")
        return kind if isinstance(kind, str) and kind else None
    return None


def _entries_from_ndjson(lines: Sequence[str], name: str) -> list[Entry]:
    items: list[Entry] = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            resource, marked = _loads(line)
        except json.JSONDecodeError as exc:
            raise ReadError(
                f"{name}, line {index + 1}, column {exc.colno}: not valid JSON ({exc.msg}); "
                "NDJSON needs one whole resource per line."
            ) from exc
        if _resource_type(resource) is None:
            raise ReadError(
                f"{name}, line {index + 1}: not a FHIR resource (no resourceType); "
                "NDJSON needs one resource per line."
            )
        if marked:
            _refuse_long_integers(resource, f"{name}, line {index + 1}")
        items.append(Entry(index, resource, None))
    return items


def _entries_from_document(document: object, name: str, marked: bool = False) -> list[Entry]:
    """Resources of a parsed JSON document: one resource, a Bundle, or an array of resources.

    ``marked``: the document holds integers too long to convert; one in a resource is
    refused, naming its entry and field.
    """
    items = _document_entries(document, name)
    if marked:
        where = "item" if isinstance(document, list) else "entry"
        for item in items:
            _refuse_long_integers(item.resource, f"{name}, {where} {item.position}")
    return items


def _document_entries(document: object, name: str) -> list[Entry]:
    if isinstance(document, list):
        items = []
        for index, resource in enumerate(document):
            if _resource_type(resource) is None:
                raise ReadError(
                    f"{name}, item {index}: not a FHIR resource (no resourceType); a JSON "
                    "array must hold FHIR resources."
                )
            items.append(Entry(index, resource, None))
        return items
    kind = _resource_type(document)
    if kind is None or not isinstance(document, Mapping):
        raise ReadError(
            f"{name}, line 1: JSON without a resourceType is not FHIR; give an Observation, "
            "a Bundle or an NDJSON bulk export."
        )
    if kind != "Bundle":
        return [Entry(0, document, None)]
    entries = document.get("entry", [])
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ReadError(f"{name}: the Bundle's entry is not a list; it cannot be read.")
    items = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        resource = entry.get("resource")
        if _resource_type(resource) is None or not isinstance(resource, Mapping):
            continue
        full_url = entry.get("fullUrl")
        items.append(Entry(index, resource, full_url if isinstance(full_url, str) else None))
    return items


def entries(data: str | bytes | Mapping[str, Any] | list[Any], name: str) -> list[Entry]:
    """List the resources of FHIR JSON input, in input order.

    Parameters
    ----------
    data
        JSON text or bytes (one resource, a Bundle, an array of resources, or NDJSON),
        or the already-parsed ``dict``/``list``.
    name
        How to name the input in error messages.

    Returns
    -------
    list of Entry
        Each resource with its position: the Bundle entry, array item or NDJSON line
        (0-based). Bundle entries without a resource are skipped.

    Raises
    ------
    ReadError
        When the input is empty, not UTF-8 (or UTF-16 with a BOM), not valid JSON, or
        JSON that is not FHIR (no ``resourceType``).
    """
    if isinstance(data, Mapping | list):
        return _entries_from_document(data, name)
    if isinstance(data, bytes | bytearray):
        text = _decode(bytes(data), name)
    elif isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
    else:
        raise ReadError(
            f"{name}: parse_fhir() takes JSON text, bytes, a dict or a list, "
            f"not {type(data).__name__}."
        )
    if not text.strip():
        raise ReadError(f"{name}: the file is empty.")
    # Split on LF only: str.splitlines() would also split inside JSON strings that hold
    # U+2028, U+0085 and other characters JSON allows unescaped.
    lines = text.split("\n")
    if _looks_like_ndjson(lines):
        return _entries_from_ndjson(lines, name)
    try:
        document, marked = _loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(name, exc) from exc
    return _entries_from_document(document, name, marked)
