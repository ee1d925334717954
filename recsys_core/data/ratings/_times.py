"""Timestamps: unix times of any unit, YYYYMMDD numbers, dates and datetimes to ``datetime64[ns]``."""

from __future__ import annotations

from typing import NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys_core.data.ratings._dates import date_order
from recsys_core.data.ratings._text import SHOWN_ROWS, count_are
from recsys_core.data.ratings._types import RawTable
from recsys_core.data.ratings._values import locations, true_indices, true_mask
from recsys_core.errors import RecsysError

# Unix time magnitudes: below 1e11 seconds (year 5138) it is seconds, and so on.
_UNITS = ((1e11, "s", 10**9), (1e14, "ms", 10**6), (1e17, "us", 10**3), (np.inf, "ns", 1))
_UNIT_NAMES = {
    "s": "unix seconds",
    "ms": "unix milliseconds",
    "us": "unix microseconds",
    "ns": "unix nanoseconds",
}
_NS_LIMIT = np.iinfo(np.int64).max


def timestamp_values(raw: RawTable, date_format: str | None = None) -> tuple[np.ndarray | None, str | None]:
    """``datetime64[ns]`` values (``None`` if the column is empty everywhere) and the format read.

    ``date_format`` (``strftime`` codes such as ``%d/%m/%Y``) reads a text column with that
    format only; without it the format is detected.
    """
    column = raw.table.column("time")
    label = raw.column_map["time"]
    typ = column.type
    if pa.types.is_dictionary(typ):
        column = column.cast(typ.value_type)
        typ = column.type
    if column.null_count == len(column):
        return None, None
    if pa.types.is_date(typ):
        column, typ = column.cast(pa.timestamp("s")), pa.timestamp("s")
    if pa.types.is_timestamp(typ):
        if typ.tz is not None:
            column = column.cast(pa.timestamp(typ.unit, tz="UTC"))
        scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[typ.unit]
        return _from_numbers(raw, column.cast(pa.int64()), label, None, (scale, "datetimes"))
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return _from_numbers(raw, column, label, None)
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        raise RecsysError(
            f"{raw.name}: the timestamp column {label!r} has type {typ}; timestamps must be unix times or "
            "dates. Pass columns time=NAME for another column."
        )
    # Unix times, the common case, first (unless the dates' format is given).
    for numeric in (pa.int64(), pa.float64()) if date_format is None else ():
        try:
            cast = column.cast(numeric)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return _from_numbers(raw, cast, label, column)
    empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0), True)
    if pc.all(empty).as_py():
        return None, None
    return _from_text_dates(raw, column, label, date_format)


def _from_numbers(
    raw: RawTable,
    column: pa.ChunkedArray,
    label: str,
    text: pa.ChunkedArray | None,
    unit: tuple[int, str] | None = None,
) -> tuple[np.ndarray, str]:
    """Unix times (unit from the magnitude unless given) or YYYYMMDD numbers -> ``datetime64[ns]``."""
    missing = true_mask(pc.is_null(column)) if column.null_count else None
    if pa.types.is_floating(column.type):
        values = column.to_numpy()
        bad = ~np.isfinite(values)
        if missing is not None:
            bad |= missing
        if bad.any():
            _bad_times(raw, np.flatnonzero(bad), label, text, values)
        if np.array_equal(values, np.round(values)) and np.abs(values).max() < 2**62:
            values = values.astype(np.int64)
    else:
        values = column.to_numpy()
        if missing is not None:
            _bad_times(raw, np.flatnonzero(missing), label, text, values)
        values = values.astype(np.int64, copy=False)
    low, high = values.min(), values.max()
    if unit is None and values.dtype.kind == "i" and 19_000_101 <= low <= high <= 21_001_231:
        # 20140723: dates written as YYYYMMDD numbers, not unix seconds of early 1970.
        days = _yyyymmdd_days(values)
        if days is not None:
            return _scale_times(raw, days, 86_400 * 10**9, label, text, "YYYYMMDD dates")
    if unit is None:
        magnitude = max(abs(float(low)), abs(float(high)))
        name, scale = next((u, s) for limit, u, s in _UNITS if magnitude < limit)
        unit = (scale, _UNIT_NAMES[name])
    return _scale_times(raw, values, unit[0], label, text, unit[1])


def _yyyymmdd_days(values: np.ndarray) -> np.ndarray | None:
    """Days since 1970 for YYYYMMDD integers, or ``None`` if any is not a real date."""
    distinct, inverse = np.unique(values, return_inverse=True)
    parsed = pd.to_datetime(pd.Series(distinct.astype(str)), format="%Y%m%d", errors="coerce")
    if parsed.isna().any():
        return None
    days = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days[inverse]


def _scale_times(
    raw: RawTable, values: np.ndarray, scale: int, label: str, text: pa.ChunkedArray | None, fmt: str
) -> tuple[np.ndarray, str]:
    """Scale to nanoseconds, refusing values that do not fit ``datetime64[ns]`` (1677-2262)."""
    if values.dtype.kind == "f":
        too_big = np.abs(values) * scale >= _NS_LIMIT
        if too_big.any():
            _bad_times(raw, np.flatnonzero(too_big), label, text, values)
        ns = np.round(values * scale).astype(np.int64)
    else:
        too_big = np.abs(values) > _NS_LIMIT // scale
        if too_big.any():
            _bad_times(raw, np.flatnonzero(too_big), label, text, values)
        ns = values * np.int64(scale)
    return ns.view("datetime64[ns]"), fmt


def _from_text_dates(
    raw: RawTable, column: pa.ChunkedArray, label: str, date_format: str | None = None
) -> tuple[np.ndarray, str]:
    # Dates repeat (a few thousand days in millions of ratings): parse each distinct text once.
    encoded = column.combine_chunks().dictionary_encode() if column.num_chunks else column
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary
    if date_format is not None:
        parsed, fmt = _parse_texts(dictionary, format=date_format), f"dates as {date_format}"
    else:
        try:
            parsed, fmt = dictionary.cast(pa.timestamp("ns")), "ISO dates"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed, fmt = _detected_dates(raw, encoded, label)
    per_row = parsed.take(encoded.indices)
    missing = true_indices(pc.is_null(per_row))
    if len(missing):
        shown = column.take(pa.array(missing[:SHOWN_ROWS])).to_pylist()
        fix = (
            f"Check --date-format {date_format} (date_format=...)"
            if date_format is not None
            else "Use unix seconds (1365811200) or ISO dates (2013-04-13)"
        )
        raise RecsysError(
            f"{raw.name}, timestamp column {label!r}: {count_are(len(missing), 'value')} not dates or unix "
            f"times ({locations(raw, missing, shown)}). {fix}.",
            how=' Or load without times with --columns time=- (ColumnMap(time="-")).',
        )
    return per_row.cast(pa.int64()).to_numpy(zero_copy_only=False).view("datetime64[ns]"), fmt


def _detected_dates(raw: RawTable, encoded: pa.DictionaryArray, label: str) -> tuple[pa.Array, str]:
    """Dates in ISO or other layouts; day and month order decided once for the whole column."""
    texts = encoded.dictionary.to_pylist()
    parsed_pd = _parse_pandas(texts, format="ISO8601")
    fmt = "ISO dates"
    if parsed_pd.isna().any():
        failed = parsed_pd.isna().to_numpy()
        indices = encoded.indices.to_numpy(zero_copy_only=False)

        def where(k: int) -> str:
            return locations(raw, np.flatnonzero(indices == k)[:1])

        order = date_order(texts, where, raw.name, label)
        rest = pd.Series(texts, dtype=object)[failed]
        retry = _parse_pandas(rest, format="mixed", dayfirst=bool(order.dayfirst))
        parsed_pd = parsed_pd.fillna(retry) if retry.notna().any() else parsed_pd
        fmt = order.label or "dates"
    return _to_arrow_ns(parsed_pd), fmt


def _parse_texts(dictionary: pa.Array, **options: str | bool) -> pa.Array:
    return _to_arrow_ns(_parse_pandas(dictionary.to_pylist(), **options))


def _parse_pandas(texts: list[str] | pd.Series, **options: str | bool) -> pd.Series:
    series = texts if isinstance(texts, pd.Series) else pd.Series(texts, dtype=object)
    return pd.to_datetime(series, utc=True, errors="coerce", **options)


def _to_arrow_ns(parsed: pd.Series) -> pa.Array:
    """Parsed dates as Arrow ``timestamp[ns]``; outside datetime64[ns] (1677-2262) as missing."""
    # Microseconds hold any year.
    micros = parsed.dt.tz_localize(None).dt.as_unit("us").to_numpy().view(np.int64)
    valid = parsed.notna().to_numpy() & (np.abs(micros) < _NS_LIMIT // 1000)
    return pa.array(np.where(valid, micros * 1000, 0), type=pa.int64(), mask=~valid).cast(pa.timestamp("ns"))


def _bad_times(
    raw: RawTable, bad: np.ndarray, label: str, text: pa.ChunkedArray | None, values: np.ndarray
) -> NoReturn:
    first = bad[:SHOWN_ROWS]
    shown = text.take(pa.array(first)).to_pylist() if text is not None else values[first].tolist()
    raise RecsysError(
        f"{raw.name}, timestamp column {label!r}: {count_are(len(bad), 'value')} missing or out of range "
        f"({locations(raw, bad, shown)}). Use unix seconds (1365811200) or ISO dates (2013-04-13)."
    )
