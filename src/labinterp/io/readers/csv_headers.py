"""Which CSV column fills which results-frame field, by its header.

The header synonyms are data (``data/columns.toml``, read by
:func:`labinterp.catalogue.column_fields`); headers are compared after
:func:`labinterp.catalogue.header_key` (case, spaces, underscores, hyphens, dots and
diacritics ignored). A caller's ``columns=`` mapping comes first, then a header that is
a field's own name, then the synonyms in the file's column order; the first column to
claim a field fills it. Every column that fills no field, is no declared results-frame
column and is no result column of a wide file is named in one
:class:`~labinterp.errors.LabinterpWarning` per read, with how to map it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from labinterp import catalogue, schema
from labinterp.errors import LabinterpWarning, ReadError

__all__ = [
    "HeaderMap",
    "check_columns",
    "map_headers",
    "replaced_in_output",
    "warn_unread_fields",
    "warn_unused",
]


def check_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Check a caller's ``{header: field}`` mapping; return it keyed by normalised header.

    Parameters
    ----------
    columns
        Headers as written in the file, each with the field it fills.

    Returns
    -------
    dict
        ``{header_key(header): field}``.

    Raises
    ------
    ReadError
        When a field is not one a header can fill (the message lists those fields), or
        a header is empty.

    Examples
    --------
    >>> check_columns({"Måling": "raw_value"})
    {'maling': 'raw_value'}
    """
    fields = catalogue.column_fields()
    wrong = sorted({str(field) for field in (columns or {}).values() if field not in fields})
    if wrong:
        raise ReadError(
            f"not a field a column can fill: {', '.join(map(repr, wrong))}; the fields "
            f"are: {', '.join(fields)}.",
            field="columns",
        )
    checked: dict[str, str] = {}
    for header, field in (columns or {}).items():
        key = catalogue.header_key(str(header))
        if not key:
            raise ReadError("columns= maps an empty header; name the column.", field="columns")
        checked[key] = field
    return checked


@dataclass(frozen=True)
class HeaderMap:
    """What a file's header line says about its columns.

    Attributes
    ----------
    fields
        Each header that fills a field, with that field.
    unfilled
        Each header that names a field another column already fills, with that field.
    absent
        Headers of the caller's ``columns=`` that the file does not have, as given.
    """

    fields: dict[str, str]
    unfilled: dict[str, str]
    absent: tuple[str, ...]

    def unused(self, headers: Iterable[str], used: Iterable[str] = ()) -> list[str]:
        """Return the headers not used for interpretation, in the file's order.

        A header is used when it fills a field, is in ``used`` (the result columns of a
        wide file) or is the name of a declared results-frame column (carried through).
        """
        kept = {*self.fields, *used, *(c.name for c in schema.columns("results"))}
        return [header for header in headers if header not in kept]


def map_headers(
    headers: Sequence[str], columns: Mapping[str, str] | None = None, name: str = "<bytes>"
) -> HeaderMap:
    """Decide which field each header fills.

    Parameters
    ----------
    headers
        The file's header line, in column order.
    columns
        The caller's ``{header: field}`` mapping; it comes before the synonyms.
    name
        How to name the input in error messages.

    Returns
    -------
    HeaderMap

    Raises
    ------
    ReadError
        When ``columns=`` names a field no column can fill, or when a column named
        exactly as a field would sit beside the column ``columns=`` gave that field.

    Examples
    --------
    >>> found = map_headers(["Test_Name", "Result", "Ref. Range", "value"])
    >>> found.fields
    {'Test_Name': 'source_name', 'Result': 'raw_value', 'Ref. Range': 'lab_reference_text'}
    >>> found.unfilled
    {'value': 'raw_value'}
    """
    explicit = check_columns(columns)
    exact = {field: field for field in catalogue.column_fields()}
    synonyms = catalogue.header_synonyms()
    fields: dict[str, str] = {}
    unfilled: dict[str, str] = {}
    filled_by: dict[str, str] = {}
    for index, pick in (
        (explicit, catalogue.header_key),
        (exact, str),
        (synonyms, catalogue.header_key),
    ):
        for header in headers:
            field = index.get(pick(header))
            if field is None or header in fields or header in unfilled:
                continue
            if field in filled_by:
                unfilled[header] = field
            else:
                fields[header], filled_by[field] = field, header
    clash = sorted(set(filled_by) & (set(headers) - set(fields)))
    if clash:
        raise ReadError(
            f"{name}, line 1: the columns {clash[0]!r} and {filled_by[clash[0]]!r} would "
            f"both be {clash[0]}; map one of them to another field with columns=.",
            field="columns",
        )
    given = {catalogue.header_key(h) for h in headers}
    absent = tuple(str(h) for h in (columns or {}) if catalogue.header_key(str(h)) not in given)
    return HeaderMap(fields, unfilled, absent)


def warn_unused(header_map: HeaderMap, unused: Sequence[str]) -> None:
    """Issue one :class:`~labinterp.errors.LabinterpWarning` naming the unused columns.

    Nothing is issued when every column is used and every ``columns=`` header was
    found. The warning names headers only, never values.

    Parameters
    ----------
    header_map
        The file's header map.
    unused
        The headers not used for interpretation (:meth:`HeaderMap.unused`).
    """
    if not unused and not header_map.absent:
        return
    filled_by = {field: header for header, field in header_map.fields.items()}
    parts = []
    if unused:
        replaced = set(replaced_in_output(unused))
        named = [
            f"{header!r} ({field} is filled by {filled_by[field]!r})"
            if (field := header_map.unfilled.get(header)) is not None
            else f"{header!r} (interpret() replaces it with its own {header}: rename it to keep it)"
            if header in replaced
            else repr(header)
            for header in unused
        ]
        parts.append(
            f"{len(unused)} input column(s) not used for interpretation (kept unchanged "
            f"in the output): {', '.join(named)}."
        )
    if header_map.absent:
        parts.append(
            "columns= names header(s) the file does not have: "
            f"{', '.join(map(repr, header_map.absent))}."
        )
    parts.append(
        "To use a column, map its header to a field: columns={'<header>': '<field>'} in "
        "Python, --column '<header>=<field>' on the command line. Fields: "
        f"{', '.join(catalogue.column_fields())}."
    )
    warnings.warn(" ".join(parts), LabinterpWarning, stacklevel=4)


def replaced_in_output(columns: Iterable[object]) -> list[str]:
    """Return the columns :func:`labinterp.interpret` writes a column of the same name for.

    An input column named ``status``, ``category`` or ``explanation`` would be replaced
    by the computed one in the output; the warnings name such columns.
    """
    given = [str(c) for c in columns]
    read = {c.name for c in schema.columns("results")}
    written = {c.name for c in schema.columns("interpreted")} - read
    return [c for c in given if c in written]


def warn_unread_fields(columns: Iterable[object]) -> None:
    """Warn once about frame columns that look like a field the frame does not have.

    :func:`labinterp.interpret` reads a frame's columns by their field names
    (``raw_unit``), not by the header synonyms :func:`labinterp.read_csv` maps: a column
    ``unit`` beside no ``raw_unit`` would otherwise pass through unread, and every
    result would say it has no unit. A frame :func:`labinterp.interpret` made (it has
    ``caveat_rules``) is not warned about: its ``reference_low`` is the range it used,
    not a laboratory's. The warning names columns only, never values.

    Parameters
    ----------
    columns
        The frame's column names.
    """
    given = {str(c) for c in columns}
    if schema.column("caveat_rules").name in given:
        return  # labinterp's own output: its reference_low is no lab's range
    fields = catalogue.column_fields()
    synonyms = catalogue.header_synonyms()
    unread: dict[str, str] = {}
    for name in sorted(given - set(fields)):
        field = synonyms.get(catalogue.header_key(name))
        if field is not None and field not in given and field not in unread.values():
            unread[name] = field
    replaced = [c for c in replaced_in_output(sorted(given)) if c not in unread]
    if not unread and not replaced:
        return
    parts = []
    if unread:
        named = ", ".join(f"{name!r} (as {field})" for name, field in unread.items())
        renames = ", ".join(f"{name!r}: {field!r}" for name, field in unread.items())
        parts.append(
            f"{len(unread)} column(s) look like fields this frame lacks and were not read: "
            f"{named}. interpret() reads columns by their field names; rename them "
            f"(frame.rename(columns={{{renames}}})) or read the file with "
            "labinterp.read_csv, which maps such headers."
        )
    if replaced:
        parts.append(
            f"{len(replaced)} column(s) have the name of a column interpret() writes, which "
            f"replaces them in the output: {', '.join(map(repr, replaced))}; rename them to "
            "keep them."
        )
    warnings.warn(" ".join(parts), LabinterpWarning, stacklevel=4)
