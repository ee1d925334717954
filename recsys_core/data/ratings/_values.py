"""Validation of IDs and ratings, and the masks and row references their messages use."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recsys_core.data.ratings._text import SHOWN_ROWS, count_are, count_text, format_rating
from recsys_core.data.ratings._types import RawTable
from recsys_core.errors import RecsysError

#: More distinct values than this is a measurement, not a star rating (1-10 has 10, 0-10 11).
MAX_RATING_LEVELS = 11
#: Larger values are not ratings on any scale people use (0-100 being the widest).
MAX_RATING_VALUE = 100.0
#: Longest user or product ID accepted, in characters. Real IDs are short codes (Amazon's are
#: 10-21 characters); a longer one is a review text or a whole row read as an ID, and each
#: copy of an ID table costs its longest ID times the number of IDs in places.
MAX_ID_LENGTH = 1000


def to_str_series(ids: pa.ChunkedArray, mask: pa.Array | None) -> pd.Series:
    """IDs as a pandas ``str`` Series (rows where ``mask`` is true only, when given)."""
    if mask is not None:
        ids = ids.filter(mask)
    series = ids.to_pandas()
    # pandas 3 already maps Arrow strings to its Arrow-backed "str" dtype (no Python objects);
    # older pandas returns object, which astype turns into the same logical type.
    return series if series.dtype == "str" else series.astype("str")


def locations(raw: RawTable, rows: np.ndarray, values: Sequence[object] | None = None) -> str:
    """'lines 3, 7, 12' (with values when given) for the first offending rows."""
    shown = np.asarray(rows[:SHOWN_ROWS], dtype=np.int64)
    numbers = raw.locate(shown)
    if values is None:
        listed = ", ".join(str(int(n)) for n in numbers)
    else:
        listed = ", ".join(f"{int(n)} ({_show(v)})" for n, v in zip(numbers, values, strict=False))
    plural = "s" if len(shown) > 1 else ""
    more = ", …" if len(rows) > SHOWN_ROWS else ""
    return f"{raw.unit}{plural} {listed}{more}"


def _show(value: object) -> str:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    return repr(value) if isinstance(value, str) else str(value)


def id_column(raw: RawTable, role: str) -> pa.ChunkedArray:
    """The user or item IDs as Arrow strings; refuses other types and missing IDs."""
    column = raw.table.column(role)
    label = raw.column_map[role]
    kind = "user" if role == "user" else "product"
    # Checked before a dictionary-encoded column is decoded: its values are few but may repeat.
    _refuse_long_ids(raw, column, label, kind)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_integer(column.type):
        column = column.cast(pa.string())  # whole-number IDs: their digits are the ID
    elif pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    elif not pa.types.is_string(column.type):
        raise RecsysError(
            f"{raw.name}: the {kind} ID column {label!r} has type {column.type}; IDs must be text (or whole "
            "numbers). Store the IDs as strings."
        )
    if column.null_count or pc.min(pc.utf8_length(column)).as_py() == 0:
        bad = true_indices(pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(column), 0)))
        raise RecsysError(
            f"{raw.name}, column {label!r}: {count_text(len(bad), 'row')} without a {kind} ID "
            f"({locations(raw, bad)}). "
            "Fill in or delete those rows."
        )
    return column


def _refuse_long_ids(raw: RawTable, column: pa.ChunkedArray, label: str, kind: str) -> None:
    """Refuse IDs longer than :data:`MAX_ID_LENGTH` characters, naming their rows."""
    typ = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)) or not column.num_chunks:
        return
    too_long, longest = [], 0
    for chunk in column.chunks:
        values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
        lengths = pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
        if not len(lengths) or lengths.max() <= MAX_ID_LENGTH:
            too_long.append(np.zeros(len(chunk), dtype=bool))
            continue
        longest = max(longest, int(lengths.max()))
        if pa.types.is_dictionary(chunk.type):
            indices = chunk.indices.fill_null(0).to_numpy(zero_copy_only=False)
            too_long.append(lengths[indices] > MAX_ID_LENGTH)
        else:
            too_long.append(lengths > MAX_ID_LENGTH)
    if not longest:
        return
    bad = np.flatnonzero(np.concatenate(too_long))
    raise RecsysError(
        f"{raw.name}, column {label!r}: {count_text(len(bad), 'row')} with a {kind} ID longer than "
        f"{MAX_ID_LENGTH:,} characters ({locations(raw, bad)}; the longest has {longest:,}). IDs are "
        f"short codes such as A3LDPF5FMB782Z: check that {label!r} is the {kind} ID column, or shorten "
        "those IDs."
    )


_NUMBER = r"^\s*[-+]?(\d+[.,]?\d*|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(nan|inf|infinity)\s*$"


def rating_values(raw: RawTable, *, one_value_ok: bool = False) -> np.ndarray:
    """The ratings as float64, refusing missing, non-numeric and off-scale values, and (unless
    ``one_value_ok``, for visitor files) a column with a single value."""
    column = raw.table.column("rating")
    label = raw.column_map["rating"]
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = _parse_numbers(raw, column, label)
    elif (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_decimal(column.type)
    ):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.isnan(values) & true_mask(pc.is_null(column))
        bad = np.flatnonzero(missing)
        if len(bad):
            raise RecsysError(
                f"{raw.name}, column {label!r}: {count_are(len(bad), 'rating')} missing "
                f"({locations(raw, bad)}). Fill in or delete those rows."
            )
    else:
        raise RecsysError(
            f"{raw.name}: the rating column {label!r} has type {column.type}; ratings must be numbers "
            "(e.g. 1-5 stars). If another column holds the ratings, pass columns rating=NAME."
        )
    values = np.ascontiguousarray(values, dtype=np.float64)
    _check_scale(raw, values, label, one_value_ok)
    return values


def _parse_numbers(raw: RawTable, column: pa.ChunkedArray, label: str) -> np.ndarray:
    try:
        return column.cast(pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # slow path below finds (and names) the offending rows
    text = pc.utf8_trim_whitespace(column)
    if raw.delimiter not in (",", None):
        # "4,5" in a semicolon-separated file from a European-locale spreadsheet.
        text = pc.replace_substring(text, ",", ".")
    valid = pc.fill_null(pc.match_substring_regex(text, _NUMBER, ignore_case=True), False)
    bad = true_indices(pc.invert(valid))
    if len(bad):
        shown = column.take(pa.array(bad[:SHOWN_ROWS])).to_pylist()
        hint = ""
        if any(re.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*[^\d\s.,/].*", str(v or ""), re.S) for v in shown):
            hint = " The values have words after the number (e.g. '5 stars'): keep only the number."
        raise RecsysError(
            f"{raw.name}, rating column {label!r}: {count_are(len(bad), 'value')} missing or non-numeric "
            f"({locations(raw, bad, shown)}). Ratings must be numbers such as 4 or 4.5: fix or delete "
            f"those rows.{hint}"
        )
    try:
        return text.cast(pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = pd.to_numeric(pd.Series(text.to_pylist()), errors="coerce").to_numpy(np.float64)
        nonfinite = pc.match_substring_regex(text, r"nan|inf", ignore_case=True)
        bad = np.flatnonzero(np.isnan(numbers) & ~true_mask(nonfinite))
        if len(bad):
            shown = column.take(pa.array(bad[:SHOWN_ROWS])).to_pylist()
            raise RecsysError(
                f"{raw.name}, rating column {label!r}: {count_are(len(bad), 'value')} not numbers "
                f"({locations(raw, bad, shown)}). Fix or delete those rows."
            ) from None
        return numbers


def _check_scale(raw: RawTable, values: np.ndarray, label: str, one_value_ok: bool = False) -> None:
    fix = (
        "Ratings must be stars or points on a small scale such as 1-5, 0.5-5 or 1-10. If another "
        "column holds the ratings, pass columns rating=NAME."
    )
    nonfinite = np.flatnonzero(~np.isfinite(values))
    if len(nonfinite):
        raise RecsysError(
            f"{raw.name}, column {label!r}: {count_are(len(nonfinite), 'rating')} NaN or infinite "
            f"({locations(raw, nonfinite, [format_rating(v) for v in values[nonfinite[:SHOWN_ROWS]]])})."
            f" {fix}"
        )
    negative = np.flatnonzero(values < 0)
    if len(negative):
        low, high = values.min(), values.max()
        shift = format_rating(1 - low)
        raise RecsysError(
            f"{raw.name}, column {label!r}: {count_are(len(negative), 'rating')} negative "
            f"({locations(raw, negative, [format_rating(v) for v in values[negative[:SHOWN_ROWS]]])}). {fix} "
            f"For a scale centred on 0 ({format_rating(low)} to {format_rating(high)} here), add {shift} "
            f"to every rating to make it {format_rating(low + 1 - low)} to {format_rating(high + 1 - low)}."
        )
    levels = np.unique(values)
    if len(levels) > MAX_RATING_LEVELS:
        examples = ", ".join(format_rating(v) for v in levels[:: max(1, len(levels) // 6)][:6])
        raise RecsysError(
            f"{raw.name}: column {label!r} has {len(levels):,} different values ({examples}, …), which "
            f"does not look like ratings (at most {MAX_RATING_LEVELS} levels expected). {fix}"
        )
    if levels[-1] > MAX_RATING_VALUE:
        too_big = np.flatnonzero(values > MAX_RATING_VALUE)
        raise RecsysError(
            f"{raw.name}: column {label!r} has values up to {format_rating(levels[-1])} "
            f"({locations(raw, too_big)}), too large for a rating. {fix}"
        )
    if len(levels) < 2 and not one_value_ok:
        raise RecsysError(
            f"{raw.name}: every rating in column {label!r} is {format_rating(levels[0])}. A recommender "
            "learns from the difference between liked and disliked products, so it needs at least two "
            "different rating values."
        )


def true_indices(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Positions where a boolean Arrow mask is true (nulls count as false)."""
    return np.flatnonzero(true_mask(mask))


def true_mask(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow mask as a numpy array (nulls as false)."""
    filled = pc.fill_null(mask, False)
    if isinstance(filled, pa.ChunkedArray):
        if filled.num_chunks == 0:
            return np.zeros(0, dtype=bool)
        filled = filled.combine_chunks()
    return filled.to_numpy(zero_copy_only=False).astype(bool, copy=False)
