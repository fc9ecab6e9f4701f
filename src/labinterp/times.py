"""Times as instants: UTC offsets as written, time zones, daylight-saving changes, ISO text.

``collected_at`` keeps the wall-clock time as the source wrote it and
``collected_at_offset`` its UTC offset in minutes east of UTC: an offset written in the
source (``+01:00``, ``-0700``, ``Z``) is kept (:func:`parse_times`), a time written without
one is read in the time zone the caller or the profile names (:func:`localize`), and
without a zone it stays a *floating* local time (offset missing). A date without a time
of day is a calendar day, not an instant: it stays floating. :func:`instants` gives the
moment in UTC, for ordering and sample sets; :func:`time_texts` writes each time back
with its own offset.

Local times that a daylight-saving change skipped or repeated are read as RFC 5545
section 3.3.5 says (RFC5545): a skipped time with the offset in force before the change,
a repeated time as its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from labinterp.perf import factorize_rows

__all__ = [
    "DATE_FORMATS",
    "FLOATING_TIMES",
    "MAX_OFFSET_MINUTES",
    "OFFSET_DISAGREES",
    "TIME_FOLD",
    "TIME_GAP",
    "instants",
    "localize",
    "offset_text",
    "parse_times",
    "time_text_codes",
    "time_texts",
    "time_zone",
]

#: Date and date-time spellings accepted in exports, tried in this order. Day-first
#: slashed dates (01/02/2026) are not accepted: they are ambiguous between day-first
#: and month-first conventions. A trailing UTC offset is read apart (:func:`parse_times`).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y%m%d",
    "%Y%m%d%H%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d%H%M%S.%f",
)

#: A UTC offset (``Z``, ``+01:00``, ``-0700``) as ISO 8601 and HL7 v2 TS write it, and a
#: time with its trailing offset (the time ends in a digit).
_OFFSET_PART = r"Z|[+-]\d{2}:?\d{2}"
_OFFSET = rf"^(?P<time>.*?\d)(?P<offset>{_OFFSET_PART})?$"
#: How a text with an offset (as :data:`_OFFSET` reads it) ends.
_OFFSET_END = rf"({_OFFSET_PART})$"
#: The widest UTC offset a dateTime may carry (FHIR R4 dateTime: -13:59 to +14:00).
MAX_OFFSET_MINUTES = 14 * 60

# -- sentences (read_problem; the text catalogue has them as problem.<id>) ------------

#: problem.time_gap: a local time the clocks skipped.
TIME_GAP = (
    "collected_at is a local time that the clocks skipped when they went forward; it was "
    "read with the UTC offset in force before the change (see collected_at_offset)."
)
#: problem.time_fold: a local time the clocks repeated.
TIME_FOLD = (
    "collected_at is a local time that occurred twice when the clocks went back; the first "
    "occurrence, the earlier instant, was taken (see collected_at_offset)."
)
#: problem.offset_disagrees: an offset in the text and another in collected_at_offset.
OFFSET_DISAGREES = (
    "collected_at carries a UTC offset that differs from collected_at_offset; the offset "
    "written in collected_at was used."
)
#: The warning when times of day stay floating (no time zone known); once per read.
FLOATING_TIMES = (
    "Collection times written without a UTC offset were kept as floating local times: no "
    "time zone is known (the profile names none). Pass timezone= (--timezone) to read "
    "them as instants in that zone."
)


def parse_times(texts: pd.Series, *, fast: bool = True) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse times written in any of :data:`DATE_FORMATS` with an optional UTC offset.

    Parameters
    ----------
    texts
        Times as written (strings; datetimes, naive or with a time zone; date objects).
    fast
        Read texts written exactly in a fixed-width, zero-padded spelling of a format
        (``2026-03-01 08:10``, ``01.03.2026``, ``20260301``) by arithmetic, and only the
        others through pandas. The result is the same either way; ``False`` reads every
        text through pandas, format by format, the definition of what is accepted.

    Returns
    -------
    (pandas.Series, pandas.Series, pandas.Series)
        The wall-clock times as written (``datetime64[ns]``), their UTC offsets in
        minutes east of UTC (``Int64``; missing where none was written) and a boolean
        Series marking non-empty values that could not be read (among them offsets
        beyond ±14:00).

    Examples
    --------
    >>> texts = pd.Series(["2026-03-01T08:10+01:00", "200808151030-0700"])
    >>> wall, offset, failed = parse_times(texts)
    >>> [str(t) for t in wall], offset.tolist()
    (['2026-03-01 08:10:00', '2008-08-15 10:30:00'], [60, -420])
    """
    if isinstance(texts.dtype, pd.DatetimeTZDtype):
        wall = texts.dt.tz_localize(None).astype("datetime64[ns]")
        utc = texts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
        minutes = (wall - utc) / pd.Timedelta(minutes=1)
        return wall, minutes.round().astype("Int64"), pd.Series(False, index=texts.index)
    if pd.api.types.is_datetime64_any_dtype(texts):
        offset = pd.Series(pd.NA, index=texts.index, dtype="Int64")
        return texts.astype("datetime64[ns]"), offset, pd.Series(False, index=texts.index)
    # Exports repeat the same times many times: parse each distinct value once.
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    if _has_aware(uniques):
        # Equal instants with other offsets are equal objects: tell them apart as text.
        written = texts.map(lambda v: v.isoformat() if isinstance(v, datetime) else v)
        codes, uniques = pd.factorize(written, use_na_sentinel=True)
    # The distinct values stay as they come (Arrow-backed text is not made Python objects).
    distinct = pd.Series(uniques, copy=False, dtype=uniques.dtype)  # no inference: as they are
    times, minutes_east, failed = _parse_distinct(distinct, fast=fast)
    taken = np.where(codes < 0, len(uniques), codes)  # the last entry: missing
    walls = np.append(times, np.datetime64("NaT", "ns"))
    offsets = np.append(minutes_east, np.nan)
    bad = np.append(failed, False)
    return (
        pd.Series(walls[taken], index=texts.index, dtype="datetime64[ns]"),
        pd.Series(offsets[taken], index=texts.index).astype("Int64"),
        pd.Series(bad[taken], index=texts.index, dtype=bool),
    )


def _has_aware(uniques: Iterable[object]) -> bool:
    """Whether distinct values hold a datetime with a time zone (text alone never does)."""
    if pd.api.types.infer_dtype(uniques, skipna=True) == "string":
        return False  # no Python loop over the texts (0.25 s for 330,000 distinct ones)
    return any(isinstance(u, datetime) and u.tzinfo is not None for u in uniques)


def _parse_distinct(
    values: pd.Series, *, fast: bool
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Parse distinct values (text, or datetime objects written as their ISO text).

    Returns the wall times, the offsets written (minutes; NaN: none) and where a non-empty
    value could not be read.
    """
    text, found = _split_offset(values)
    present = _mask(pc.not_equal(text, ""))
    minutes = np.full(len(values), np.nan)
    written = _mask(pc.is_valid(found))
    if written.any():
        offsets = pd.Series(found.filter(pa.array(written)).to_pylist(), dtype=object)
        minutes[written] = _offset_minutes(offsets).to_numpy()
    with np.errstate(invalid="ignore"):
        bad_offset = written & (np.isnan(minutes) | (np.abs(minutes) > MAX_OFFSET_MINUTES))
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = present & ~bad_offset
    if fast:
        wall, read = _read_fixed(text)
        read &= todo
        out[read], todo[read] = wall[read], False
    if todo.any():
        rest = pd.Series(text.filter(pa.array(todo)).to_pylist(), dtype=object)
        wall, read = _read_formats(rest)
        where = np.flatnonzero(todo)
        out[where], todo[where] = wall, ~read
    failed = (todo | bad_offset) & present
    kept = np.where(~np.isnat(out) & ~bad_offset, minutes, np.nan)
    return out, kept, failed


def _read_formats(text: pd.Series) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """Read texts with the first of :data:`DATE_FORMATS` that reads each, through pandas.

    This is the definition of what is accepted; :func:`_read_fixed` only reads faster the
    texts it is certain of. Returns the wall times and where they were read.
    """
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = np.ones(len(text), dtype=bool)
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        # Dates outside what a nanosecond timestamp holds (years before 1678 or after
        # 2261) are typing errors in lab data: they stay unread, with a read_problem.
        hit = (parsed.notna() & parsed.between(pd.Timestamp.min, pd.Timestamp.max)).to_numpy()
        where = np.flatnonzero(todo)[hit]
        out[where] = parsed[hit].to_numpy(dtype="datetime64[ns]")
        todo[where] = False
    return out, ~todo


def _split_offset(values: pd.Series) -> tuple[pa.Array, pa.Array]:
    """Split texts into the time as written and its trailing UTC offset (null: none).

    Arrow's regular expressions over the distinct texts.
    """
    texts = pa.array(values.astype("string"), type=pa.string())
    if isinstance(texts, pa.ChunkedArray):  # Arrow-backed text may come in chunks
        texts = texts.combine_chunks()
    stripped = pc.utf8_trim_whitespace(texts)
    # Only a text that ends like an offset can have one: the full expression, ten times
    # slower, reads those alone (0.2 s less on 330,000 distinct times without offsets).
    maybe = pc.fill_null(pc.match_substring_regex(stripped, _OFFSET_END), False)
    found = pc.extract_regex(stripped.filter(maybe), _OFFSET)
    time = pc.if_else(pc.is_valid(found), found.field("time"), stripped.filter(maybe))
    offset = found.field("offset")
    offset = pc.if_else(pc.equal(offset, ""), pa.scalar(None, pa.string()), offset)
    none = pa.nulls(len(stripped), pa.string())
    return pc.replace_with_mask(stripped, maybe, time), pc.replace_with_mask(none, maybe, offset)


def _mask(flags: pa.Array) -> npt.NDArray[np.bool_]:
    """Return an Arrow boolean array as a NumPy one, null as False."""
    return np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)


def _offset_minutes(found: pd.Series) -> pd.Series:
    """Return offsets written as ``Z``, ``+hh:mm`` or ``+hhmm`` in minutes (NaN: none)."""
    digits = found.str.replace(":", "", regex=False).str[1:]
    hours = pd.to_numeric(digits.str[:2], errors="coerce")
    mins = pd.to_numeric(digits.str[2:4], errors="coerce")
    sign = found.str[0].map({"+": 1.0, "-": -1.0}).astype("float64")
    total = (sign * (hours * 60 + mins)).where(mins < 60)
    utc = found.eq("Z").fillna(False).to_numpy(dtype=bool)
    return total.mask(utc, 0.0).astype("float64")


# -- the fast path: fixed-width spellings read by arithmetic ----------------------------
#
# pandas reads a text in a format that is not ISO 8601 through strptime, about 10 µs a
# value, after a failed pass for each earlier format. Reading the digits at fixed
# positions with NumPy instead takes parse_times on the collection times of a
# 1,000,000-row Nordic export (330,000 distinct dd.mm.yyyy hh:mm) from 3.9 s to 0.35 s.
#
# Why the result is the same as reading through DATE_FORMATS in order (_read_formats):
# a text is read here only when it is exactly the zero-padded spelling of one format F
# (a digit at each position of F's fields, F's own literal at every other one) and every
# field is valid, so F reads it, to the same value: at full width each field's digits
# can only be where the shape has them. No format before F in DATE_FORMATS reads it:
# the formats differ in their literals (``-``, ``.``, ``T``, space, colons) or, for the
# digits-only ones, in length; every strptime field matches digits only (``%d`` also a
# space before a digit, which no shape has there) and pandas reads the whole text, so
# an earlier format meets a literal the text does not have, or ends before the text.
# Anything else -- digits not padded, fractions of a second, an invalid or out-of-range
# field (second 60, which pandas rolls over; years 1677 and 2262, partly outside the
# nanosecond range) -- goes to _read_formats unchanged. tests/test_times_fast.py
# compares both paths on generated texts.

#: The zero-padded width of each field of DATE_FORMATS.
_FIELD_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
#: Years the fast path reads: every moment in them fits a nanosecond timestamp.
_FAST_YEARS = (pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1)


class _Shape(NamedTuple):
    """The fixed-width spelling of a format: its width, literals and field positions."""

    width: int
    literals: dict[int, int]  # position: the character's byte
    fields: dict[str, int]  # field letter (as in the format): first position


def _shape(fmt: str) -> _Shape:
    """Return the zero-padded spelling of a format of :data:`DATE_FORMATS`."""
    literals: dict[int, int] = {}
    fields: dict[str, int] = {}
    position, chars = 0, iter(fmt)
    for char in chars:
        if char == "%":
            letter = next(chars)
            fields[letter] = position
            position += _FIELD_WIDTHS[letter]
        else:
            literals[position] = ord(char)
            position += 1
    return _Shape(position, literals, fields)


#: The formats without fractions of a second, in the order of DATE_FORMATS.
_SHAPES = tuple(_shape(fmt) for fmt in DATE_FORMATS if "%f" not in fmt)


def _read_fixed(text: pa.Array) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """Read the texts written exactly in a fixed-width spelling of a format, by arithmetic.

    Returns the wall times and where they were read; a text not read here is left to
    :func:`_read_formats` (see the comment above).
    """
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    read = np.zeros(len(text), dtype=bool)
    lengths = pc.fill_null(pc.binary_length(text), -1).to_numpy(zero_copy_only=False)
    for width in sorted({s.width for s in _SHAPES}):
        rows = np.flatnonzero(lengths == width)
        if not len(rows):
            continue
        chars = _bytes(text.take(pa.array(rows)), width)
        digits = chars - np.uint8(ord("0"))  # a byte below "0" wraps to above 9
        for shape in (s for s in _SHAPES if s.width == width):
            fits = _fits(chars, digits, shape) & ~read[rows]  # the first format first
            wall, valid = _wall_times(digits[fits], shape)
            taken = rows[fits][valid]
            out[taken], read[taken] = wall[valid], True
    return out, read


def _bytes(text: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """Return texts of ``width`` bytes each as a matrix of bytes, one row a text."""
    # All of one width, the texts lie back to back in Arrow's data buffer.
    wide = pa.types.is_large_string(text.type)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64 if wide else np.int32)
    first = int(offsets[text.offset])
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    return data[first : first + len(text) * width].reshape(len(text), width)


def _fits(
    chars: npt.NDArray[np.uint8], digits: npt.NDArray[np.uint8], shape: _Shape
) -> npt.NDArray[np.bool_]:
    """Where the texts have the shape's literals and a digit at every other position."""
    literals = np.array(list(shape.literals.values()), dtype=np.uint8)
    fits = (chars[:, list(shape.literals)] == literals).all(axis=1)
    others = [p for p in range(shape.width) if p not in shape.literals]
    return np.asarray(fits & (digits[:, others] <= 9).all(axis=1), dtype=bool)


def _wall_times(
    digits: npt.NDArray[np.uint8], shape: _Shape
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.bool_]]:
    """Build the wall times from the fields; return them and where every field is valid."""

    def field(letter: str) -> npt.NDArray[np.int64]:
        if letter not in shape.fields:
            return np.zeros(len(digits), dtype=np.int64)
        start = shape.fields[letter]
        value = np.zeros(len(digits), dtype=np.int64)
        for position in range(start, start + _FIELD_WIDTHS[letter]):
            value = value * 10 + digits[:, position]
        return value

    year, month, day = field("Y"), field("m"), field("d")
    hour, minute, second = field("H"), field("M"), field("S")
    valid = (year >= _FAST_YEARS[0]) & (year <= _FAST_YEARS[1]) & (month >= 1) & (month <= 12)
    valid &= (hour < 24) & (minute < 60) & (second < 60) & (day >= 1)
    months = np.where(valid, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    valid &= day <= ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    seconds = ((np.where(valid, day, 1) - 1) * 24 + hour) * 3600 + minute * 60 + second
    wall = first.astype("datetime64[ns]") + seconds.astype("timedelta64[s]")
    return wall, valid


def time_zone(name: str | ZoneInfo | None) -> ZoneInfo | None:
    """Return an IANA time zone by name (``None`` stays ``None``: no zone known).

    Raises
    ------
    ValueError
        When the name is not an IANA time zone.
    """
    if name is None or isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            "Unknown time zone; use an IANA name such as Europe/Oslo or America/Chicago."
        ) from exc


def localize(
    wall: pd.Series, offset: pd.Series, zone: ZoneInfo
) -> tuple[pd.Series, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Give floating times of day their UTC offset in a time zone, never failing.

    A time skipped by a daylight-saving change (the clocks went forward) gets the offset
    in force before the change; a time that occurred twice (the clocks went back) is its
    first occurrence: RFC 5545 section 3.3.5 (RFC5545), which is also what Python's
    ``zoneinfo`` gives with ``fold=0``. Times at midnight are dates without a time of day
    and stay floating; times that have an offset keep it.

    Parameters
    ----------
    wall
        Wall-clock times (``datetime64[ns]``).
    offset
        Their offsets in minutes east of UTC (``Int64``; missing: floating).
    zone
        The time zone of the floating times.

    Returns
    -------
    (pandas.Series, numpy.ndarray, numpy.ndarray)
        The offsets with the floating times of day filled, and where a time was skipped
        (gap) or repeated (fold).

    Examples
    --------
    >>> wall = pd.Series(pd.to_datetime(["2026-03-29 02:30", "2026-10-25 02:30"]))
    >>> filled, gap, fold = localize(wall, pd.Series([pd.NA, pd.NA], dtype="Int64"),
    ...                              ZoneInfo("Europe/Oslo"))
    >>> filled.tolist(), gap.tolist(), fold.tolist()
    ([60, 120], [True, False], [False, True])
    """
    n = len(wall)
    gap, fold = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    todo = (offset.isna() & wall.notna() & (wall != wall.dt.normalize())).to_numpy(dtype=bool)
    if not todo.any():
        return offset, gap, fold
    codes, uniques = pd.factorize(wall[todo])
    times = pd.DatetimeIndex(uniques)
    aware = times.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    utc = aware.tz_convert("UTC").tz_localize(None)
    minutes = np.asarray((times - utc) / pd.Timedelta(minutes=1), dtype="float64")
    skipped = np.zeros(len(times), dtype=bool)
    repeated = np.zeros(len(times), dtype=bool)
    for i in np.flatnonzero(np.asarray(aware.isna())):
        moment: datetime = times[int(i)].to_pydatetime()
        before = moment.replace(tzinfo=zone, fold=0).utcoffset()
        after = moment.replace(tzinfo=zone, fold=1).utcoffset()
        if before is None or after is None:  # pragma: no cover - every IANA zone has one
            continue
        minutes[i] = before.total_seconds() / 60
        skipped[i], repeated[i] = before < after, before > after
    filled = offset.copy()
    where = np.flatnonzero(todo)
    filled.iloc[where] = pd.array(np.round(minutes[codes]), dtype="Int64")
    gap[where], fold[where] = skipped[codes], repeated[codes]
    return filled, gap, fold


def instants(wall: pd.Series, offset: pd.Series | None) -> pd.Series:
    """Return the moments in UTC (naive ``datetime64[ns]``), for ordering and grouping.

    A floating time (offset missing) is placed as if its wall clock were UTC: floating
    times compare among themselves as written. Two times of one instant written with
    different offsets (``08:10+01:00``, ``07:10Z``) give the same value.

    Examples
    --------
    >>> wall = pd.Series(pd.to_datetime(["2026-03-01 08:10", "2026-03-01 07:10"]))
    >>> instants(wall, pd.Series([60, 0], dtype="Int64")).nunique()
    1
    """
    times = pd.to_datetime(wall).astype("datetime64[ns]")
    if offset is None:
        return times
    minutes = pd.to_numeric(offset, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    shift = pd.to_timedelta(np.nan_to_num(minutes, nan=0.0), unit="min")
    return pd.Series(times.to_numpy() - shift.to_numpy(), index=wall.index, copy=False)


def offset_text(minutes: float) -> str:
    """Return an offset in minutes east of UTC as ``+hh:mm`` (``-07:00``, ``+00:00``)."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(int(minutes)), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def time_texts(wall: pd.Series, offset: pd.Series | None, *, sep: str = "T") -> list[str | None]:
    """Write times in ISO 8601 with their own UTC offset; floating times without one.

    A floating time at midnight is a date and is written as the date alone.

    Examples
    --------
    >>> wall = pd.Series(pd.to_datetime(["2026-03-01 08:10"] * 2 + ["2026-03-02 00:00"]))
    >>> time_texts(wall, pd.Series([60, pd.NA, pd.NA], dtype="Int64"), sep=" ")
    ['2026-03-01 08:10:00+01:00', '2026-03-01 08:10:00', '2026-03-02']
    """
    codes, texts = time_text_codes(wall, offset, sep=sep)
    return list(texts[codes])


def time_text_codes(
    wall: pd.Series, offset: pd.Series | None, *, sep: str = "T"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Write times as :func:`time_texts` does, each distinct time once.

    Parameters
    ----------
    wall
        Wall-clock times.
    offset
        Their UTC offsets in minutes east of UTC (missing: floating), or ``None``.
    sep
        What separates the date from the time of day.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        A number per row and the text of each number (``None`` for a missing time), so
        ``texts[codes]`` is :func:`time_texts`.
    """
    stamps = pd.Series(pd.to_datetime(wall), copy=False)
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        # A time with its zone: the zone's wall clock and offset, as parse_times reads it.
        stamps, offset, _ = parse_times(stamps)
    times = stamps.to_numpy()
    if np.datetime_data(times.dtype)[0] not in _TICKS_PER_SECOND:  # minutes, days, ...
        times = times.astype("datetime64[s]")
    minutes = (
        np.full(len(times), np.nan)
        if offset is None
        else pd.to_numeric(offset, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    )
    codes, first = factorize_rows(pd.Series(times, copy=False), pd.Series(minutes, copy=False))
    return codes, _iso_texts(times[first], minutes[first], sep)


#: Ticks per second of the datetime64 units times are written from (others become seconds).
_TICKS_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _iso_texts(
    times: npt.NDArray[np.datetime64], minutes: npt.NDArray[np.float64], sep: str
) -> npt.NDArray[np.object_]:
    """ISO 8601 texts of times, as ``pandas.Timestamp.isoformat`` writes them, vectorised.

    Seconds are always written; fractions only when not zero, with 6 digits (or 9 when
    there are nanoseconds). A time with an offset gets it appended; a floating time at
    midnight is written as its date. Formatting the distinct times of a million-row
    export this way takes about 0.2 s instead of 2.5 s one ``isoformat`` at a time.
    """
    out = np.full(len(times), None, dtype=object)
    present = ~np.isnat(times)
    per_second = _TICKS_PER_SECOND[np.datetime_data(times.dtype)[0]]
    ticks = times.view(np.int64)
    floating = np.isnan(minutes)
    midnight = np.mod(ticks, 86_400 * per_second) == 0
    whole = np.mod(ticks, per_second) == 0
    # Nanoseconds are written only when there are some (as Timestamp.isoformat does).
    nanos = np.mod(ticks, 1000) != 0 if per_second == 10**9 else np.zeros(len(ticks), bool)
    units: tuple[tuple[Literal["D", "s", "us", "ns"], npt.NDArray[np.bool_]], ...] = (
        ("D", present & floating & midnight),
        ("s", present & ~(floating & midnight) & whole),
        ("us", present & ~whole & ~nanos),
        ("ns", present & nanos),
    )
    for unit, chosen in units:
        if chosen.any():
            text = np.datetime_as_string(times[chosen], unit=unit)
            out[chosen] = np.char.replace(text, "T", sep) if sep != "T" else text
    shifted = present & ~floating
    if shifted.any():
        distinct, which = np.unique(minutes[shifted], return_inverse=True)
        suffix = np.array([offset_text(m) for m in distinct], dtype=object)[which]
        out[shifted] = out[shifted] + suffix
    return out
