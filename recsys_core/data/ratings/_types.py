"""The loader's data types: the public ``ColumnMap`` and ``LoadReport``, and the internal
``SourceData`` (bytes being read) and ``RawTable`` (role-named columns as read)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from recsys_core.data.ratings._text import normalise
from recsys_core.errors import RecsysError

#: Accepted ``source`` arguments: a path, or a binary file object such as Streamlit's
#: ``UploadedFile`` or an ``io.BytesIO`` with a ``name`` attribute.
Source = str | os.PathLike | BinaryIO

#: ColumnMap value meaning "this source has no such column": ``time=-`` loads without times.
SKIP = "-"

_ROLE_ALIASES = {
    "user": "user",
    "users": "user",
    "userid": "user",
    "item": "item",
    "items": "item",
    "product": "item",
    "itemid": "item",
    "productid": "item",
    "rating": "rating",
    "ratings": "rating",
    "score": "rating",
    "time": "time",
    "timestamp": "time",
    "date": "time",
}


@dataclass(frozen=True)
class ColumnMap:
    """Which source column holds which field; ``None`` means "detect it".

    Parameters
    ----------
    user, item, rating, time
        Column names as written in the file's header (matched exactly first, then ignoring
        case, spaces and underscores), or 1-based positions (``"1"``, ``"2"`` …), which is
        the only way to name the columns of a file without header. ``time="-"`` ignores the
        timestamps.
    """

    user: str | None = None
    item: str | None = None
    rating: str | None = None
    time: str | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnMap:
        """Parse ``"user=COL,item=COL,rating=COL,time=COL"`` (any subset, any order).

        ``product`` and ``timestamp`` are accepted for ``item`` and ``time``.
        """
        values: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in str(text).split(","))):
            key, sep, name = part.partition("=")
            role = _ROLE_ALIASES.get(normalise(key))
            if not sep or role is None or not name.strip():
                raise RecsysError(
                    f"Cannot read the column mapping {part!r}: write field=COLUMN pairs separated by "
                    "commas, with fields user, item, rating and time, e.g. "
                    "user=UserID,item=ProductID,rating=Rating,time=Timestamp."
                )
            if role in values:
                raise RecsysError(f"The column mapping {text!r} names the {role} column twice.")
            if name.strip() == SKIP and role != "time":
                raise RecsysError(f"The {role} column cannot be left out ({role}=-): ratings need it.")
            values[role] = name.strip()
        return cls(**values)

    def given(self) -> dict[str, str]:
        """The fields that were set (not ``None`` or blank), as ``{field: column}``."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {role: str(v).strip() for role, v in values.items() if v is not None and str(v).strip()}

    def __str__(self) -> str:
        return ",".join(f"{role}={name}" for role, name in self.given().items())


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_ratings` read and what it changed.

    Attributes
    ----------
    source
        File name (or ``"uploaded file"``).
    format
        ``csv``, ``csv.gz``, ``parquet``, ``jsonl``, ``json`` … (compression appended).
    rows_read
        Data rows in the source.
    duplicates_dropped
        Rows removed because a later rating of the same (user, item) pair exists.
    kcore_dropped
        Rows removed by the minimum-ratings-per-user/item filter.
    column_map
        The source column used for each field (detected or as given).
    source_columns
        All columns of the source, in order (``"1"``, ``"2"`` … for a file without header).
    has_header
        Whether the first line was a header (``None`` for Parquet and JSON).
    delimiter
        The CSV delimiter (``None`` for other formats).
    encoding
        ``utf-8``, ``utf-8-sig`` (with BOM) or ``utf-16``.
    time_format
        How timestamps were read (``unix seconds``, ``ISO dates`` …) or ``None``.
    notes
        Human-readable remarks about guesses the loader made.
    """

    source: str
    format: str
    rows_read: int
    duplicates_dropped: int
    kcore_dropped: int
    column_map: ColumnMap
    source_columns: tuple[str, ...]
    has_header: bool | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    time_format: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class SourceData:
    """The source's bytes after decompression and transcoding to UTF-8."""

    name: str
    buffer: pa.Buffer
    compression: str | None = None
    encoding: str = "utf-8"
    # Bytes the load may use; None: what the machine has free when checked.
    budget: int | None = None
    # Bytes this load already holds (decompressed or transcoded text), counted against a set
    # budget; the machine's free memory already excludes them.
    held: int = 0
    # Remarks for the LoadReport made while opening the source (trailing bytes ignored …).
    notes: list[str] = field(default_factory=list)


@dataclass
class RawTable:
    """Role-named columns as read, plus what is needed to explain problems."""

    name: str
    format: str
    table: pa.Table  # columns named by role
    column_map: dict[str, str]  # role -> source column
    source_columns: tuple[str, ...]
    has_header: bool | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    # Maps 0-based data-row indices to 1-based numbers, and what to call them ("line"/"row").
    locate: Callable[[np.ndarray], np.ndarray] = lambda rows: rows + 1
    unit: str = "row"


def coerce_columns(columns: ColumnMap | str | Mapping[str, str] | None) -> dict[str, str]:
    """The ``columns`` argument as ``{field: column}`` (a ColumnMap, its text form or a mapping)."""
    if columns is None:
        return {}
    if isinstance(columns, str):
        columns = ColumnMap.parse(columns)
    elif isinstance(columns, Mapping):
        columns = ColumnMap.parse(",".join(f"{k}={v}" for k, v in columns.items()))
    if not isinstance(columns, ColumnMap):
        raise RecsysError(
            f"columns must be a ColumnMap or text like 'user=A,item=B', not {type(columns).__name__}."
        )
    return columns.given()
