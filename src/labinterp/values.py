"""Parsing of result values as written in lab exports.

Accepted: decimal comma or point, an optional comparator (``<``, ``>``, ``<=``,
``>=``, ``≤``, ``≥``) with or without spaces, a leading sign, and a decimal exponent
(``1.5E3``, as FHIR decimals and spreadsheets write large and small numbers). Everything else
(blanks, text such as "hemolysert" or "se kommentar") is kept verbatim and gets
status ``unparsed_value``. A separator that could be either a decimal or a
thousands separator (``1,234``, ``1.234``) is never guessed: it gets status
``ambiguous_value`` unless the decimal separator is known for the whole column.

Parsing works on the distinct values of a column, so a million rows with a few
thousand distinct strings cost a few thousand regular-expression matches.

Parsing never raises on a number's size: a number beyond the range of a float (a
309-digit value, ``1E+400``, a Python ``int`` such as ``10**400``) becomes an infinity
of its sign, which the plausibility step refuses (status ``implausible_value``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from labinterp.errors import ReasonCode
from labinterp.perf import objects

__all__ = [
    "ParsedColumn",
    "ParsedValue",
    "as_float",
    "infer_decimal",
    "parse_column",
    "parse_value",
    "parse_values",
]

Decimal = Literal["auto", ",", "."]

_NUMBER = re.compile(
    r"^(?P<cmp><=|>=|=<|=>|≤|≥|<|>)?\s*(?P<num>[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+))"
    r"(?P<exp>[eE][+-]?\d+)?$"
)
_THOUSANDS_LIKE = re.compile(r"^[+-]?[1-9]\d{0,2}(?P<sep>[.,])\d{3}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u202f.,]\d{3}){1,}(?:[.,]\d+)?$")
_COMPARATORS = {
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "=<": "<=",
    "=>": ">=",
    "≤": "<=",
    "≥": ">=",
}
_SPACE = re.compile(r"[\s\u00a0\u202f]+")

#: Plain unsigned numbers in ASCII digits (most values), parsed column-wise; anything
#: else goes through :func:`parse_value` one distinct value at a time.
_PLAIN = r"^[0-9]+(?:[.,][0-9]+)?$"
_PLAIN_THOUSANDS_LIKE = r"^[1-9][0-9]{0,2}[.,][0-9]{3}$"

_AMBIGUOUS_SEPARATOR = (
    "The separator could mark decimals or thousands; state the file's decimal "
    "separator (decimal=',' or decimal='.')."
)
_COMMA_BUT_POINT_DECLARED = (
    "The value has a decimal comma but the source was declared to use decimal points."
)


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """The parsed form of one raw value.

    Attributes
    ----------
    comparator
        ``""``, ``"<"``, ``">"``, ``"<="`` or ``">="``.
    value
        The number, or NaN when the value could not be parsed.
    status
        ``None`` when parsed, else a :class:`~labinterp.errors.ReasonCode`.
    problem
        A sentence a person can act on, when ``status`` is set.
    """

    comparator: str
    value: float
    status: ReasonCode | None = None
    problem: str | None = None


def _strip(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def parse_value(text: object, decimal: Decimal = "auto") -> ParsedValue:
    """Parse one raw result value.

    Parameters
    ----------
    text
        The value as written (string, number or missing).
    decimal
        The decimal separator of the source: ``","``, ``"."`` or ``"auto"``
        (either, but a 3-digit group after a single separator is ambiguous).

    Returns
    -------
    ParsedValue

    Examples
    --------
    >>> parse_value("0,82")
    ParsedValue(comparator='', value=0.82, status=None, problem=None)
    >>> parse_value("< 5").comparator
    '<'
    >>> parse_value("1,234").status
    <ReasonCode.AMBIGUOUS_VALUE: 'ambiguous_value'>
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ParsedValue("", np.nan, ReasonCode.UNPARSED_VALUE, "No value was given.")
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        return ParsedValue("", as_float(text))
    raw = _strip(str(text))
    if not raw:
        return ParsedValue("", np.nan, ReasonCode.UNPARSED_VALUE, "No value was given.")
    compact = raw.replace(" ", "") if _GROUPED.match(raw) is None else raw
    match = _NUMBER.match(compact)
    if match is None:
        if _GROUPED.match(raw.lstrip("<>=≤≥ ")):
            return ParsedValue(
                "",
                np.nan,
                ReasonCode.UNPARSED_VALUE,
                "The value uses thousands separators; export numbers without grouping.",
            )
        return ParsedValue(
            "",
            np.nan,
            ReasonCode.UNPARSED_VALUE,
            "The value is text, not a number; see the raw value and the lab's comment.",
        )
    number = match.group("num")
    exponent = match.group("exp") or ""
    # A mantissa before an exponent is never written with thousands separators.
    thousands = None if exponent else _THOUSANDS_LIKE.match(number)
    if thousands is not None and thousands.group("sep") != decimal:
        return ParsedValue("", np.nan, ReasonCode.AMBIGUOUS_VALUE, _AMBIGUOUS_SEPARATOR)
    if decimal == "." and "," in number:
        return ParsedValue("", np.nan, ReasonCode.AMBIGUOUS_VALUE, _COMMA_BUT_POINT_DECLARED)
    comparator = _COMPARATORS.get(match.group("cmp") or "", "")
    # float() of decimal text never raises on size: beyond a float's range it gives
    # an infinity (or zero), in time linear in the text's length.
    return ParsedValue(comparator, float(number.replace(",", ".") + exponent))


def as_float(number: int | float | np.integer[Any] | np.floating[Any]) -> float:
    """Return a number as a float; one beyond a float's range is an infinity of its sign.

    Examples
    --------
    >>> as_float(10**400)
    inf
    """
    try:
        return float(number)
    except OverflowError:  # a Python int (or long double) beyond the range of a float
        return -math.inf if number < 0 else math.inf


def infer_decimal(texts: pd.Series | np.ndarray | list[object]) -> Decimal:
    """Infer a column's decimal separator from its unambiguous values.

    A value such as ``0,82`` or ``12.5`` shows the separator unambiguously. When
    every unambiguous decimal in the column uses the same separator, that is the
    column's separator; otherwise (none, or both kinds) the answer is ``"auto"``.

    Parameters
    ----------
    texts
        Distinct raw values of one column.

    Returns
    -------
    {"auto", ",", "."}
    """
    seen: set[str] = set()
    texts = list(texts)
    plain = _plain_numbers(texts)
    if plain is not None:
        numbers, is_plain, thousands_like = plain
        shown = is_plain & ~thousands_like
        has_comma = np.asarray(pc.fill_null(pc.match_substring(numbers, ","), False))
        has_point = np.asarray(pc.fill_null(pc.match_substring(numbers, "."), False))
        if (shown & has_comma).any():
            seen.add(",")
        if (shown & has_point & ~has_comma).any():
            seen.add(".")
        texts = [t for t, p in zip(texts, is_plain, strict=True) if not p]
    for text in texts:
        if not isinstance(text, str):
            continue
        match = _NUMBER.match(_strip(text).replace(" ", ""))
        if match is None:
            continue
        number = match.group("num")
        if _THOUSANDS_LIKE.match(number):
            continue
        if "," in number:
            seen.add(",")
        elif "." in number:
            seen.add(".")
    return seen.pop() if len(seen) == 1 else "auto"  # type: ignore[return-value]


def parse_values(raw: pd.Series, decimal: Decimal | None = None) -> pd.DataFrame:
    """Parse a column of raw values, vectorised over its distinct values.

    Parameters
    ----------
    raw
        Raw values (strings, numbers or missing), any index.
    decimal
        The decimal separator; ``None`` infers it with :func:`infer_decimal`.

    Returns
    -------
    pandas.DataFrame
        Columns ``comparator``, ``value``, ``status``, ``problem`` with ``raw``'s index.
    """
    parsed = parse_column(raw, decimal)
    rows = parsed.rows
    return pd.DataFrame(
        {
            "comparator": pd.Series(parsed.comparator[rows], dtype=object, copy=False),
            "value": parsed.value[rows],
            "status": pd.Series(parsed.status[rows], dtype=object, copy=False),
            "problem": pd.Series(parsed.problem[rows], dtype=object, copy=False),
        },
        copy=False,
    ).set_axis(raw.index)


@dataclass(frozen=True)
class ParsedColumn:
    """A column's parsed values as a table of entries and each row's entry.

    Attributes
    ----------
    rows
        Per row, the position of its entry in the other arrays.
    comparator, value, status, problem
        Per entry, as in :class:`ParsedValue` (``status`` as the reason code's text).
    """

    rows: npt.NDArray[np.int64]
    comparator: npt.NDArray[np.object_]
    value: npt.NDArray[np.float64]
    status: npt.NDArray[np.object_]
    problem: npt.NDArray[np.object_]


def parse_column(
    raw: pd.Series, decimal: Decimal | None = None, *, codes: Any = None
) -> ParsedColumn:
    """Parse a column of raw values once per distinct value; see :func:`parse_values`.

    ``codes`` may give the column already factorized (an object with ``codes`` and
    ``uniques``, as ``pandas.factorize(raw, use_na_sentinel=True)`` returns them).
    """
    if pd.api.types.is_float_dtype(raw) or pd.api.types.is_integer_dtype(raw):
        return _parse_numbers(raw)
    if codes is not None:
        codes, uniques = codes.codes, codes.uniques
    else:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    distinct = list(uniques)
    if decimal is None:
        decimal = infer_decimal(distinct)
    n = len(distinct)
    # One entry per distinct value, and a last one for the missing values (code -1).
    comparator = objects(n + 1, "")
    value = np.full(n + 1, np.nan)
    status = objects(n + 1)
    problem = objects(n + 1)
    rest = np.ones(n, dtype=bool)
    plain = _plain_numbers(distinct)
    if plain is not None:
        numbers, is_plain, thousands_like = plain
        has_comma = np.asarray(pc.fill_null(pc.match_substring(numbers, ","), False))
        separator = np.where(has_comma, ",", ".")
        ambiguous = is_plain & thousands_like & (separator != decimal)
        declared = is_plain & ~ambiguous & (decimal == ".") & has_comma
        ok = is_plain & ~ambiguous & ~declared
        only_plain = pc.if_else(pa.array(ok), numbers, pa.scalar(None, type=pa.string()))
        read = pc.cast(pc.replace_substring(only_plain, ",", "."), pa.float64())
        value[:n][ok] = np.asarray(read.to_numpy(zero_copy_only=False), dtype="float64")[ok]
        for mask, text in (
            (ambiguous, _AMBIGUOUS_SEPARATOR),
            (declared, _COMMA_BUT_POINT_DECLARED),
        ):
            status[:n][mask] = ReasonCode.AMBIGUOUS_VALUE.value
            problem[:n][mask] = text
        rest = ~is_plain
    for i in [*np.flatnonzero(rest), n]:
        parsed = parse_value(distinct[i] if i < n else None, decimal)
        comparator[i], value[i], problem[i] = parsed.comparator, parsed.value, parsed.problem
        status[i] = parsed.status.value if parsed.status else None
    rows = np.where(codes < 0, n, codes).astype(np.int64, copy=False)
    return ParsedColumn(rows, comparator, value, status, problem)


def _parse_numbers(raw: pd.Series) -> ParsedColumn:
    """Parse a numeric column: every number is its value, a missing one is unparsed."""
    value = raw.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(value)
    empty = parse_value(None)
    # Entries: one per row, then the shared entry for missing values.
    n = len(value)
    status = objects(n + 1)
    problem = objects(n + 1)
    status[n] = empty.status.value if empty.status else None
    problem[n] = empty.problem
    rows = np.where(missing, n, np.arange(n))
    return ParsedColumn(rows, objects(n + 1, ""), np.append(value, np.nan), status, problem)


def _plain_numbers(texts: list[object]) -> tuple[Any, Any, Any] | None:
    """Find the plain numbers among distinct values, column-wise with Arrow.

    Returns
    -------
    tuple or None
        The values as an Arrow string array (null where not text), whether each is a
        plain number, and whether it looks like a thousands group (``1,234``); ``None``
        when there are too few values for it to pay.
    """
    if len(texts) < _COLUMNWISE:
        return None
    numbers = pa.array([t if isinstance(t, str) else None for t in texts], type=pa.string())
    is_plain = np.asarray(pc.fill_null(pc.match_substring_regex(numbers, _PLAIN), False))
    thousands = pc.fill_null(pc.match_substring_regex(numbers, _PLAIN_THOUSANDS_LIKE), False)
    return numbers, is_plain, np.asarray(thousands)


#: Fewer distinct values than this are parsed one by one (column-wise set-up costs more).
_COLUMNWISE = 64
