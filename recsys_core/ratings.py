"""Load and validate explicit ratings: one entry point for every file a user might bring.

:func:`load_ratings` turns a path or an uploaded file object into a :class:`Ratings` table with
the columns ``user`` (str), ``item`` (str), ``rating`` (float64) and, when the source has times,
``timestamp`` (``datetime64[ns]``, UTC without a zone). It reads

* CSV with or without a header row, delimiter ``,`` ``;`` tab or ``|`` sniffed, UTF-8 with or
  without BOM, UTF-16 (decoded), optionally gzip/bzip2/xz-compressed (detected by the
  magic bytes, not the file name);
* Parquet;
* JSON lines (the Amazon 2014/2018/2023 review dumps) and JSON arrays of objects.

Columns are found by their usual names (``UserID``, ``reviewerID``, ``asin``, ``overall``,
``unixReviewTime`` …, case and ``_`` ignored) unless a :class:`ColumnMap` names them. A file
without a header is read as ``user, item, rating[, time]``. IDs are kept exactly as written
(``0594481813`` keeps its leading zero). Every problem with the input raises
:class:`~recsys_core.errors.RecsysError` saying what is wrong, where and how to fix it; no other
exception escapes, whatever the bytes.

The reader is built for the full Amazon Electronics file (7.8 million rows): pyarrow parses the
CSV on all cores with every column read as text, the ID columns stay Arrow-backed strings, and
duplicate detection and the k-core filter work on integer codes with numpy.

Hostile files are refused before they cost much: a file that would not fit in memory is refused
after sampling its first rows (see :func:`available_memory` and ``memory_budget``), compressed
files are decompressed in bounded steps after their first megabyte has been checked, and a
first line without a line break or with thousands of fields is refused before any parsing.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import lzma
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from recsys_core.errors import RecsysError

__all__ = [
    "MEMORY_BUDGET",
    "ColumnMap",
    "LoadReport",
    "Ratings",
    "available_memory",
    "k_core",
    "load_products",
    "load_ratings",
]

#: Accepted ``source`` arguments: a path, or a binary file object such as Streamlit's
#: ``UploadedFile`` or an ``io.BytesIO`` with a ``name`` attribute.
Source = str | os.PathLike | BinaryIO

# Column names are compared after lower-casing and dropping everything but letters and digits,
# so "UserID", "user_id", "UserId" and "user id" all read as "userid". Order = preference when
# a file has several candidates.
_USER_NAMES = ("userid", "user", "reviewerid", "customerid", "reviewer", "uid")
# Amazon 2023 files carry both: parent_asin groups colour/size variants and is what McAuley's
# reviews are keyed by ("the asin in previous Amazon datasets is actually parent ID"), so it
# wins over asin.
_ITEM_NAMES = ("productid", "prodid", "itemid", "parentasin", "asin", "item", "product", "iid")
_RATING_NAMES = ("rating", "overall", "stars", "starrating", "score", "ratingvalue")
_TIME_NAMES = ("timestamp", "unixreviewtime", "time", "date", "datetime", "reviewdate", "ratingdate")
_NAME_NAMES = ("name", "title", "productname", "producttitle", "itemname")
_CATEGORY_NAMES = ("category", "maincategory", "maincat", "categories", "productcategory", "genre", "genres")

#: More distinct values than this is a measurement, not a star rating (1-10 has 10, 0-10 11).
MAX_RATING_LEVELS = 11
#: Larger values are not ratings on any scale people use (0-100 being the widest).
MAX_RATING_VALUE = 100.0

#: ColumnMap value meaning "this source has no such column": ``time=-`` loads without times.
_SKIP = "-"
_SNIFF_BYTES = 1 << 16
_SHOWN_ROWS = 5  # offending rows quoted in a message
_JSON_BLOCK = 1 << 23  # one JSON object must fit in a block; long review texts need room
_JSON_SNIFF_BYTES = 1 << 20
_CSV_BLOCK = 1 << 24  # pyarrow's block: one CSV row must fit in it

#: Bytes that may be used to load a file; ``None`` means "what the machine has free" (see
#: :func:`available_memory`). Tests and small machines can set it, as can ``memory_budget``.
MEMORY_BUDGET: int | None = None
# Working memory per loaded rating besides its ID text: the parsed columns, integer codes, sort
# keys for duplicate detection, the float ratings and the DataFrame. Peak RSS growth measured
# with this loader: 181 B/row for 3 million rows with 24-byte IDs and timestamps, 263 B/row for
# 2 million rows with 80-byte IDs, no times; 2 x text + 160 (+ 24 with times) covers both.
_BYTES_PER_ROW = 160
_BYTES_PER_TIME = 24
_TEXT_COPIES = 2
# json.loads of a JSON array builds a Python dict per record: about 4 bytes per byte of JSON.
_PYTHON_OBJECT_FACTOR = 4
# The first line must end within this many bytes and have at most this many fields: a header
# of a ratings table is a few dozen bytes, and pyarrow allocates per column before parsing.
_FIRST_LINE_LIMIT = 1 << 20
MAX_COLUMNS = 10_000
# Decompression runs in bounded steps so that a small archive cannot expand unchecked.
_INFLATE_IN = 1 << 14
_INFLATE_OUT = 1 << 22
_PEEK_BYTES = 1 << 20

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


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


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
            role = _ROLE_ALIASES.get(_normalise(key))
            if not sep or role is None or not name.strip():
                raise RecsysError(
                    f"Cannot read the column mapping {part!r}: write field=COLUMN pairs separated by "
                    "commas, with fields user, item, rating and time, e.g. "
                    "user=UserID,item=ProductID,rating=Rating,time=Timestamp."
                )
            if role in values:
                raise RecsysError(f"The column mapping {text!r} names the {role} column twice.")
            if name.strip() == _SKIP and role != "time":
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


@dataclass(frozen=True)
class Ratings:
    """A validated ratings table and the report of how it was loaded.

    Treat ``frame`` as read-only (copy it before changing it): :meth:`summary` reuses counts
    computed while loading.

    Attributes
    ----------
    frame
        Columns ``user`` (str), ``item`` (str), ``rating`` (float64) and, only when the source
        has times, ``timestamp`` (``datetime64[ns]``). One row per (user, item) pair.
    report
        :class:`LoadReport`.
    """

    frame: pd.DataFrame
    report: LoadReport
    # Distinct users/items counted while loading, valid while len(frame) == _counted_rows.
    _n_users: int | None = field(default=None, repr=False, compare=False)
    _n_items: int | None = field(default=None, repr=False, compare=False)
    _counted_rows: int = field(default=-1, repr=False, compare=False)

    @property
    def has_timestamps(self) -> bool:
        return "timestamp" in self.frame.columns

    def __len__(self) -> int:
        return len(self.frame)

    def summary(self) -> dict[str, Any]:
        """JSON-ready overview (the ``recsys inspect --json`` object).

        Returns
        -------
        dict
            ``rows, users, items, rating_counts, time_min, time_max, duplicates_dropped`` plus
            ``rows_read`` and ``kcore_dropped``. ``rating_counts`` maps the rating written
            without a trailing ``.0`` (``"5"``, ``"4.5"``) to its count, highest rating first;
            the times are ISO dates (``YYYY-MM-DD``) or ``None`` without timestamps.
        """
        frame = self.frame
        cached = self._n_users is not None and self._n_items is not None and len(frame) == self._counted_rows
        users = self._n_users if cached else int(frame["user"].nunique())
        items = self._n_items if cached else int(frame["item"].nunique())
        values, counts = np.unique(frame["rating"].to_numpy(np.float64), return_counts=True)
        rating_counts = {
            _format_rating(v): int(c) for v, c in sorted(zip(values, counts, strict=True), reverse=True)
        }
        time_min = time_max = None
        if self.has_timestamps and len(frame):
            time_min = pd.Timestamp(frame["timestamp"].min()).date().isoformat()
            time_max = pd.Timestamp(frame["timestamp"].max()).date().isoformat()
        return {
            "rows": len(frame),
            "users": int(users),
            "items": int(items),
            "rating_counts": rating_counts,
            "time_min": time_min,
            "time_max": time_max,
            "duplicates_dropped": self.report.duplicates_dropped,
            "kcore_dropped": self.report.kcore_dropped,
            "rows_read": self.report.rows_read,
        }

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        columns: ColumnMap | str | None = None,
        source: str = "in-memory table",
        min_user_ratings: int = 1,
        min_item_ratings: int = 1,
    ) -> Ratings:
        """Validate a ``DataFrame`` exactly as :func:`load_ratings` validates a file.

        Columns are detected by name as in a file (``user``/``item``/``rating``/``timestamp``
        or ``UserID``/``ProductID``/…). Row numbers in messages are 1-based positions.
        """
        _check_minimums(min_user_ratings, min_item_ratings)
        column_map = _coerce_columns(columns)
        if not isinstance(frame, pd.DataFrame):
            raise RecsysError(f"Expected a pandas DataFrame of ratings, got {type(frame).__name__}.")
        try:
            raw = _frame_table(frame, source, column_map)
            return _finish(raw, min_user_ratings, min_item_ratings)
        except RecsysError:
            raise
        except Exception as exc:  # the contract: only RecsysError leaves this module
            raise _wrap(exc, source, "ratings") from exc


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def load_ratings(
    source: Source,
    *,
    columns: ColumnMap | str | None = None,
    min_user_ratings: int = 1,
    min_item_ratings: int = 1,
    memory_budget: int | None = None,
) -> Ratings:
    """Read, validate and clean a ratings file.

    Parameters
    ----------
    source
        A path (``str`` or ``Path``) or a binary file object with a ``name`` (Streamlit's
        ``UploadedFile``, ``io.BytesIO`` with ``.name`` set).
    columns
        Overrides column detection: a :class:`ColumnMap` or its text form
        ``"user=COL,item=COL,rating=COL,time=COL"`` (any subset).
    min_user_ratings, min_item_ratings
        k-core filter: repeatedly drop users and items with fewer ratings until every one left
        has at least this many. 1 keeps everything.
    memory_budget
        Bytes the load may use. A file whose estimated size once loaded (from its size and its
        first rows) exceeds it is refused before it is read whole. ``None``: :data:`MEMORY_BUDGET`
        if set, else the memory the machine has free (:func:`available_memory`).

    Returns
    -------
    Ratings
        ``frame`` with ``user``, ``item``, ``rating`` (and ``timestamp`` when the source has
        times), one row per (user, item) pair, the latest rating kept (by time, else the last
        row); ``report`` says what was read and dropped.

    Raises
    ------
    RecsysError
        For any input that cannot be used, with what is wrong, where (column, 1-based line
        numbers) and how to fix it. No other exception escapes.
    """
    _check_minimums(min_user_ratings, min_item_ratings)
    column_map = _coerce_columns(columns)
    budget = _check_budget(memory_budget)
    name = _source_name(source)
    try:
        data = _open_source(source, name, budget)
        raw = _read_table(data, _RATINGS_SPEC, column_map)
        return _finish(raw, min_user_ratings, min_item_ratings)
    except RecsysError:
        raise
    except Exception as exc:  # the contract: only RecsysError leaves this module
        raise _wrap(exc, name, "ratings") from exc


def load_products(source: Source, *, memory_budget: int | None = None) -> pd.DataFrame:
    """Read a product catalogue: which name and category each item ID has.

    Parameters
    ----------
    source
        CSV (with a header), Parquet or JSON lines, e.g. the Amazon ``meta_*.json`` dumps. The
        ID column is found like the item column of :func:`load_ratings` (``ProductID``,
        ``asin``, ``parent_asin`` …), the name in ``name``/``title``, the category in
        ``category``/``main_category``/``categories`` (lists are joined with ``" > "``).
    memory_budget
        As for :func:`load_ratings`.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` (str), ``name`` (str; the ID where the name is missing) and
        ``category`` (str, possibly empty); one row per item, the first one kept.
    """
    budget = _check_budget(memory_budget)
    name = _source_name(source)
    try:
        data = _open_source(source, name, budget)
        raw = _read_table(data, _PRODUCTS_SPEC, {})
        return _finish_products(raw)
    except RecsysError:
        raise
    except Exception as exc:  # the contract: only RecsysError leaves this module
        raise _wrap(exc, name, "product list") from exc


def k_core(frame: pd.DataFrame, min_user_ratings: int = 1, min_item_ratings: int = 1) -> pd.DataFrame:
    """Keep only users and items with enough ratings, repeating until nothing changes.

    Dropping a sparse item can push a user below the minimum and vice versa, so the filter
    iterates to the fixed point (the "k-core").

    Parameters
    ----------
    frame
        Ratings with ``user`` and ``item`` columns.
    min_user_ratings, min_item_ratings
        The minimum number of ratings every remaining user / item must have.

    Returns
    -------
    pandas.DataFrame
        The surviving rows in their original order, with a fresh ``RangeIndex``.
    """
    _check_minimums(min_user_ratings, min_item_ratings)
    users, user_ids = pd.factorize(frame["user"])
    items, item_ids = pd.factorize(frame["item"])
    keep = _kcore_mask(users, items, len(user_ids), len(item_ids), min_user_ratings, min_item_ratings)
    return frame.loc[keep].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Source bytes: paths, uploads, compression, encodings, binary formats
# --------------------------------------------------------------------------------------------


@dataclass
class _Data:
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


def _source_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, str | os.PathLike) and str(name) else "uploaded file"


def _open_source(source: object, name: str, budget: int | None = None) -> _Data:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise RecsysError(
                f"File not found: {name}. Check the path (relative paths start in {Path.cwd()})."
            )
        if path.is_dir():
            raise RecsysError(f"{name} is a folder, not a file: give the path of the ratings file inside it.")
        if not path.is_file():
            raise RecsysError(
                f"{name} is not a regular file (a device or pipe?): save the ratings to a file."
            )
        if path.stat().st_size == 0:
            raise RecsysError(f"{name} is empty (0 bytes): there are no ratings to load.")
        # Memory-mapped: a 300 MB CSV is parsed straight from the page cache, never copied.
        buffer = pa.memory_map(str(path)).read_buffer()
    elif isinstance(source, bytes | bytearray | memoryview):
        buffer = pa.py_buffer(bytes(source))
    elif hasattr(source, "getvalue") or hasattr(source, "read"):
        buffer = pa.py_buffer(_read_file_object(source, name))
    else:
        raise RecsysError(
            f"Cannot load ratings from a {type(source).__name__}: pass a file path or an open binary file."
        )
    if buffer.size == 0:
        raise RecsysError(f"{name} is empty (0 bytes): there are no ratings to load.")
    return _decode(_Data(name, buffer, budget=budget))


def _read_file_object(source: Any, name: str) -> bytes:
    if hasattr(source, "getvalue"):  # BytesIO and Streamlit's UploadedFile: the whole upload
        content = source.getvalue()
    else:
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        content = source.read()
    if isinstance(content, str):
        # A text-mode file object: its text is what the user meant.
        return content.encode("utf-8")
    if not isinstance(content, bytes | bytearray | memoryview):
        raise RecsysError(
            f"Reading {name} returned {type(content).__name__}, not bytes: open it in binary mode."
        )
    return bytes(content)


_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel (.xls) or Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"\x80\x04\x95", "a Python pickle"),
)


def _decode(data: _Data) -> _Data:
    """Undo compression and non-UTF-8 encodings; refuse binary formats with a useful message."""
    label = _compression_of(_head(data.buffer, 16))
    if label is not None:
        return _decode(_decompress(data, label))
    head = _head(data.buffer, _SNIFF_BYTES)
    _refuse_binary(head, data.name)
    if head.startswith(b"PAR1"):
        return data
    text_encoding = _utf16_encoding(data.buffer)
    if text_encoding is not None:
        text = _transcode(data, text_encoding)
        return _Data(data.name, text, data.compression, "utf-16", data.budget, data.held + text.size)
    if head.startswith(b"\xef\xbb\xbf"):
        data = _Data(data.name, data.buffer.slice(3), data.compression, "utf-8-sig", data.budget, data.held)
        if data.buffer.size == 0:
            raise RecsysError(f"{data.name} contains only a byte-order mark: there are no ratings to load.")
        head = head[3:]
    _check_text(head, data.name, complete=data.buffer.size <= len(head))
    return data


def _refuse_binary(head: bytes, name: str) -> None:
    """Refuse spreadsheets, images, archives and other binary formats by their first bytes."""
    if head.startswith(b"PAR1"):
        return
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise RecsysError(_zip_message(head, name))
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise RecsysError(
                f"{name} looks like {what}, not a ratings table: save the ratings as CSV, Parquet "
                "or JSON lines."
            )


def _head(buffer: pa.Buffer, size: int) -> bytes:
    """The first ``size`` bytes (fewer if the buffer is shorter)."""
    return buffer.slice(0, min(size, buffer.size)).to_pybytes()


def _compression_of(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


class _ZlibStream:
    """zlib's gzip decompressor with the ``needs_input`` interface of the bz2/lzma ones."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=31)

    @property
    def eof(self) -> bool:
        return self._inflater.eof

    @property
    def unused_data(self) -> bytes:
        return self._inflater.unused_data

    @property
    def needs_input(self) -> bool:
        return not self._inflater.unconsumed_tail

    @property
    def buffered(self) -> int:
        """Input given but not consumed yet."""
        return len(self._inflater.unconsumed_tail)

    def decompress(self, data: bytes | memoryview, max_length: int) -> bytes:
        tail = self._inflater.unconsumed_tail
        return self._inflater.decompress(tail + bytes(data) if tail else data, max_length)


def _decompressor(label: str) -> Any:
    if label == "gzip":
        return _ZlibStream()
    if label == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _inflate(buffer: pa.Buffer, label: str) -> Iterator[tuple[bytes, int]]:
    """Decompressed pieces (at most ``_INFLATE_OUT`` bytes each) and the input consumed so far
    (exact for gzip; bz2 and xz buffer up to one ``_INFLATE_IN`` piece out of sight).

    Concatenated members/streams are read one after the other, zero padding after the last
    is ignored (gzip(1) does the same), and data that ends early raises ``EOFError``.
    """
    view = memoryview(buffer)
    position, pending = 0, b""
    while True:
        stream = _decompressor(label)
        while not stream.eof:
            piece: bytes | memoryview = b""
            if stream.needs_input:
                if pending:
                    piece, pending = pending, b""
                else:
                    piece = view[position : position + _INFLATE_IN]
                    position += len(piece)
            chunk = stream.decompress(piece, _INFLATE_OUT)
            if chunk:
                yield chunk, position - len(pending) - getattr(stream, "buffered", 0)
            elif not len(piece) and not stream.eof:
                raise EOFError("the compressed data ends before the end-of-stream marker")
        pending = stream.unused_data
        if not pending.strip(b"\x00") and not np.frombuffer(view[position:], dtype=np.uint8).any():
            return


def _decompress(data: _Data, label: str) -> _Data:
    """Check the start of the decompressed text, estimate the whole, then decompress in steps."""
    if data.compression is not None:
        raise RecsysError(f"{data.name} is compressed twice ({data.compression} inside): decompress it.")
    damaged = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
    peeked: list[bytes] = []
    consumed, peeked_size, finished = 0, 0, True
    try:
        for chunk, consumed in _inflate(data.buffer, label):  # noqa: B007 (consumed is used below)
            peeked.append(chunk)
            peeked_size += len(chunk)
            if peeked_size >= _PEEK_BYTES:
                finished = False
                break
    except damaged as exc:
        raise RecsysError(
            f"{data.name} is a truncated or damaged {label} file ({exc}); download or compress it again."
        ) from exc
    head = b"".join(peeked)
    if not head:
        raise RecsysError(
            f"{data.name} is a {label} file that contains nothing: there are no ratings to load."
        )
    if _compression_of(head[:16]) is not None:
        raise RecsysError(f"{data.name} is compressed twice ({label} inside {label}): decompress it first.")
    # A small archive of zeros or an image expands to gigabytes: judge it by its first megabyte.
    _refuse_binary(head, data.name)
    if not head.startswith(b"PAR1") and _utf16_encoding(pa.py_buffer(head)) is None:
        _check_text(head[:_SNIFF_BYTES], data.name, complete=finished and len(head) <= _SNIFF_BYTES)
    if finished:
        size = len(head)
    else:
        ratio_size = data.buffer.size * len(head) / max(consumed, 1)
        trailer = int.from_bytes(_tail(data.buffer, 4), "little") if label == "gzip" else 0
        # gzip's trailer holds the size modulo 4 GiB of the last member only: trust it when it
        # agrees, within a factor of 4, with the compression ratio of the first megabyte.
        size = trailer if len(head) <= trailer and ratio_size / 4 <= trailer <= ratio_size * 4 else ratio_size
    lines = max(head.count(b"\n"), 1)
    rows = size * lines / len(head)
    # The decompressed text itself plus the least any row costs: a lower bound, refined once the
    # columns are known.
    _check_memory(data, rows, size + rows * _BYTES_PER_ROW)
    if finished:  # the peek was the whole content
        return _Data(data.name, pa.py_buffer(head), label, budget=data.budget, held=len(head))
    del peeked, head
    limit, given = _budget(data)
    content = bytearray()
    try:
        for chunk, _ in _inflate(data.buffer, label):
            content += chunk
            if limit is not None and len(content) > limit:
                del content
                raise _memory_error(data, rows, limit + 1, limit, given, more_than=True)
    except damaged as exc:
        raise RecsysError(
            f"{data.name} is a truncated or damaged {label} file ({exc}); download or compress it again."
        ) from exc
    return _Data(data.name, pa.py_buffer(content), label, budget=data.budget, held=len(content))


def _tail(buffer: pa.Buffer, size: int) -> bytes:
    size = min(size, buffer.size)
    return buffer.slice(buffer.size - size, size).to_pybytes()


def _zip_message(head: bytes, name: str) -> str:
    if b"xl/" in head:
        return (
            f"{name} looks like an Excel workbook, not a CSV file: open it in Excel or LibreOffice "
            "and export it as CSV (File > Save As > CSV UTF-8)."
        )
    if b"word/" in head:
        return f"{name} looks like a Word document, not a ratings table: export the ratings as CSV."
    if b"content.xml" in head and b"opendocument.spreadsheet" in head:
        return (
            f"{name} looks like a LibreOffice spreadsheet (.ods), not a CSV file: export it as CSV "
            "(File > Save As > Text CSV)."
        )
    return f"{name} is a ZIP archive: extract the ratings file from it and load that file."


def _utf16_encoding(buffer: pa.Buffer) -> str | None:
    head = _head(buffer, 4096)
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # Without a BOM, UTF-16 text of ASCII characters has a NUL in every other byte.
    if len(head) >= 4 and head.count(b"\x00") * 3 >= len(head):
        even, odd = head[0::2], head[1::2]
        if odd.count(b"\x00") >= 0.9 * len(odd) and even.count(b"\x00") <= 0.1 * len(even):
            return "utf-16-le"
        if even.count(b"\x00") >= 0.9 * len(even) and odd.count(b"\x00") <= 0.1 * len(odd):
            return "utf-16-be"
    return None


def _transcode(data: _Data, encoding: str) -> pa.Buffer:
    # UTF-16 doubles the text and the UTF-8 copy is held beside it: check before decoding.
    _check_memory(data, data.buffer.size / 64, 2 * data.buffer.size)
    try:
        text = memoryview(data.buffer).tobytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise RecsysError(
            f"{data.name} looks like {encoding.upper()} text but cannot be decoded ({exc.reason} at byte "
            f"{exc.start}); save it again as CSV UTF-8."
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RecsysError(f"{data.name} contains no data (only blank space): there are no ratings to load.")
    return pa.py_buffer(text.encode("utf-8"))


def _check_text(head: bytes, name: str, *, complete: bool) -> None:
    """Refuse non-text bytes early, with the line of the first bad byte.

    ``complete``: ``head`` is the whole file, so a character cut at its end is an error too.
    """
    if b"\x00" in head:
        raise RecsysError(
            f"{name} is a binary file (it contains NUL bytes), not text: save the ratings as CSV "
            "(UTF-8), Parquet or JSON lines."
        )
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if controls > max(8, len(head) // 100):
        raise RecsysError(
            f"{name} is a binary file ({controls} control bytes in its first {len(head):,}), not "
            "text: save the ratings as CSV (UTF-8), Parquet or JSON lines."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniffing window is fine.
        if complete or not (exc.reason == "unexpected end of data" and exc.start >= len(head) - 3):
            raise _not_utf8(name, head, exc.start) from exc


# --------------------------------------------------------------------------------------------
# Memory: refuse what would not fit before reading it whole
# --------------------------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory this process can still use, or ``None`` if the system does not say.

    ``MemAvailable`` from ``/proc/meminfo`` (free memory plus the page cache that can be
    reclaimed), lowered to the container's cgroup limit when one is set, else
    ``os.sysconf`` free pages.
    """
    available = None
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for line in meminfo:
                if line.startswith(b"MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    headroom = _cgroup_headroom()
    return available if headroom is None else min(available, headroom)


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, then v1), if it has a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text == "max":
                return None
            limit = int(limit_text)
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
            return None
        return max(limit - usage, 0)
    return None


def _check_budget(memory_budget: object) -> int | None:
    if memory_budget is None:
        return None
    whole = isinstance(memory_budget, int | np.integer) and not isinstance(memory_budget, bool)
    if not whole or memory_budget < 1:
        raise RecsysError(f"memory_budget must be a positive number of bytes, not {memory_budget!r}.")
    return int(memory_budget)


def _budget(data: _Data) -> tuple[int | None, bool]:
    """The bytes this load may use and whether they were set (``False``: the machine's free memory)."""
    if data.budget is not None:
        return data.budget, True
    if MEMORY_BUDGET is not None:
        return MEMORY_BUDGET, True
    return available_memory(), False


def _check_memory(data: _Data, rows: float, need: float) -> None:
    """Refuse a load whose estimated memory ``need`` (bytes) exceeds the budget."""
    budget, given = _budget(data)
    if given:
        need += data.held
    if budget is not None and need > budget:
        raise _memory_error(data, rows, need, budget, given)


def _memory_error(
    data: _Data, rows: float, need: float, budget: int, given: bool, *, more_than: bool = False
) -> RecsysError:
    have = f"the memory budget is {_bytes(budget)}" if given else f"this machine has {_bytes(budget)} free"
    amount = f"more than {_bytes(need)}" if more_than else f"about {_bytes(need)}"
    return RecsysError(
        f"{data.name}: this file has about {_about_rows(rows)} ratings and would need {amount} of memory; "
        f"{have}. Split the file or use a machine with more memory."
    )


def _about_rows(rows: float) -> str:
    if rows >= 1e6:
        return f"{rows / 1e6:.1f} million"
    return f"{max(round(rows, -2 if rows >= 1000 else 0), 1):,.0f}"


def _bytes(size: float) -> str:
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} GB"
    if size >= 1 << 20:
        return f"{size / (1 << 20):.0f} MB"
    return f"{max(size / 1024, 1):.0f} KB"


def _per_row_bytes(text_bytes: float, has_time: bool) -> float:
    """Estimated peak bytes per loaded row, from the text of the columns it reads."""
    return _TEXT_COPIES * text_bytes + _BYTES_PER_ROW + (_BYTES_PER_TIME if has_time else 0)


def _not_utf8(name: str, text: bytes, position: int) -> RecsysError:
    return _not_utf8_at(name, text.count(b"\n", 0, position) + 1, text[position])


def _not_utf8_at(name: str, line: int, byte: int) -> RecsysError:
    return RecsysError(
        f"{name} is not UTF-8 text: line {line:,} has the byte 0x{byte:02X}, which UTF-8 does "
        "not allow (the file is probably in a legacy encoding such as Windows-1252). Save it as "
        "'CSV UTF-8' (Excel) or re-encode it, e.g. iconv -f cp1252 -t utf-8."
    )


# --------------------------------------------------------------------------------------------
# Tables: sniffing and parsing each format into role-named Arrow columns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """What to look for: candidate names per role, which roles are required."""

    what: str  # "ratings" / "products"
    candidates: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # Column order assumed for a CSV file without header (None: a header is required).
    headerless: tuple[str, ...] | None
    labels: dict[str, str]  # role -> how messages name it


_RATINGS_SPEC = _Spec(
    what="ratings",
    candidates={"user": _USER_NAMES, "item": _ITEM_NAMES, "rating": _RATING_NAMES, "time": _TIME_NAMES},
    required=("user", "item", "rating"),
    headerless=("user", "item", "rating", "time"),
    labels={"user": "user ID", "item": "product ID", "rating": "rating", "time": "timestamp"},
)
_PRODUCTS_SPEC = _Spec(
    what="products",
    candidates={"item": _ITEM_NAMES, "name": _NAME_NAMES, "category": _CATEGORY_NAMES},
    required=("item", "name"),
    headerless=None,
    labels={"item": "product ID", "name": "product name", "category": "category"},
)
_EXAMPLE_NAMES = {
    "user": "UserID, user_id, reviewerID",
    "item": "ProductID, item_id, asin, parent_asin",
    "rating": "Rating, overall, stars, score",
    "time": "Timestamp, unixReviewTime, date",
    "name": "name, title",
    "category": "category, main_category",
}


@dataclass
class _RawTable:
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


def _normalise(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _resolve_columns(
    available: Sequence[str],
    spec: _Spec,
    given: Mapping[str, str],
    name: str,
    original: Sequence[str] | None = None,
) -> dict[str, str]:
    """Pick the source column for each role: explicit names first, then the known names.

    ``original`` holds the header as written when ``available`` had repeated names made unique
    (``Rating``, ``Rating.1``): a role whose column name appears twice is ambiguous.
    """
    chosen: dict[str, str] = {}
    for role, wanted in given.items():
        if role not in spec.candidates or wanted == _SKIP:
            continue
        match = _find_column(available, wanted)
        if match is None:
            raise RecsysError(
                f"{name} has no column {wanted!r} (asked for as the {spec.labels[role]} column). "
                f"Columns found: {_list(available)}."
            )
        chosen[role] = match
    normalised = {col: _normalise(col) for col in available}
    for role, candidates in spec.candidates.items():
        if role in chosen or given.get(role) == _SKIP:
            continue
        taken = set(chosen.values())
        for candidate in candidates:
            match = next((c for c in available if normalised[c] == candidate and c not in taken), None)
            if match is not None:
                chosen[role] = match
                break
    missing = [role for role in spec.required if role not in chosen]
    if missing:
        role = missing[0]
        others = " or ".join(spec.labels[r] for r in missing[1:])
        also = f" (nor a {others} column)" if others else ""
        how = (
            f", or say which column it is with --columns {role}=COLUMN (ColumnMap({role}=...) in Python)"
            if spec.what == "ratings"
            else "; a product list needs a header row naming its columns"
        )
        raise RecsysError(
            f"{name} has no {spec.labels[role]} column{also}. Columns found: {_list(available)}. "
            f"Name the column one of {_EXAMPLE_NAMES[role]} (any case){how}."
        )
    used = list(chosen.values())
    duplicated = {c for c in used if used.count(c) > 1}
    if duplicated:
        raise RecsysError(f"The column mapping uses {_list(sorted(duplicated))} for more than one field.")
    _refuse_ambiguous(chosen, list(available), list(original or available), spec, given, name)
    return chosen


def _refuse_ambiguous(
    chosen: Mapping[str, str],
    available: list[str],
    original: list[str],
    spec: _Spec,
    given: Mapping[str, str],
    name: str,
) -> None:
    """Refuse a field whose column name is repeated (``Rating,Rating`` or ``rating,Rating``)."""
    keys = [_normalise(c) for c in original]
    for role, column in chosen.items():
        position = available.index(column)
        wanted = given.get(role, "").strip()
        if wanted.isdigit() or (wanted == column and column != original[position]):
            continue  # chosen by position, or by the unique name a repeated column was given
        twins = [k for k, key in enumerate(keys) if key == keys[position]]
        if len(twins) > 1:
            label = spec.labels[role]
            positions = ", ".join(str(k + 1) for k in twins)
            how = (
                f" or choose one by position with --columns {role}={twins[0] + 1} "
                f'(ColumnMap({role}="{twins[0] + 1}") in Python)'
                if spec.what == "ratings"
                else ""
            )
            raise RecsysError(
                f"{name} has {len(twins)} columns named like {original[position]!r} (columns {positions}: "
                f"{_list([original[k] for k in twins])}), so it is not clear which one holds the {label}s. "
                f"Rename the others{how}."
            )


def _find_column(available: Sequence[str], wanted: str) -> str | None:
    """The column called ``wanted`` (exactly, then ignoring case/punctuation), else the
    ``wanted``-th column when it is a number."""
    if wanted in available:
        return wanted
    folded = [c for c in available if c.casefold() == wanted.casefold()]
    if folded:
        return folded[0]
    loose = [c for c in available if _normalise(c) == _normalise(wanted)]
    if len(loose) == 1:
        return loose[0]
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(available):
        return available[int(wanted) - 1]
    return None


def _list(names: Sequence[str]) -> str:
    shown = [repr(str(n)) for n in names[:20]]
    more = f" and {len(names) - 20} more" if len(names) > 20 else ""
    return (", ".join(shown) or "(none)") + more


def _read_table(data: _Data, spec: _Spec, given: Mapping[str, str]) -> _RawTable:
    fmt_suffix = f".{data.compression.replace('gzip', 'gz')}" if data.compression else ""
    if _head(data.buffer, 4) == b"PAR1":
        return _read_parquet(data, spec, given, "parquet" + fmt_suffix)
    head = _head(data.buffer, _SNIFF_BYTES)
    first = head.lstrip()[:1]
    if not first:
        raise RecsysError(f"{data.name} contains no data (only blank lines): there are no ratings to load.")
    if first == b"<":
        _refuse_markup(head.lstrip()[:512].lower(), data.name)
    if first == b"{":
        return _read_json_lines(data, spec, given, "jsonl" + fmt_suffix)
    if first == b"[":
        return _read_json_array(data, spec, given, "json" + fmt_suffix)
    return _read_csv(data, spec, given, "csv" + fmt_suffix)


def _refuse_markup(start: bytes, name: str) -> None:
    """A web page or XML saved under a .csv name: say so instead of "single column"."""
    if re.match(rb"<!doctype html|<html|<head|<body|<!--", start) or b"<html" in start:
        raise RecsysError(
            f"{name} is a web page (HTML), not a ratings table: the download probably returned a "
            "sign-in or error page. Download the file itself (for example with Save Link As) and load that."
        )
    first_line = start.split(b"\n", 1)[0]
    tag_only = re.match(rb"<[a-z_][\w.-]*[ >]", start) and not re.search(rb"[,;\t|]", first_line)
    if start.startswith(b"<?xml") or tag_only:
        raise RecsysError(
            f"{name} is an XML document, not a ratings table: export the ratings as CSV, Parquet or "
            "JSON lines."
        )


def _sniff_lines(data: _Data) -> list[str]:
    head = _head(data.buffer, _SNIFF_BYTES)
    if data.buffer.size > len(head):
        # The last line may be cut by the window.
        head = head[: head.rfind(b"\n") + 1] or head
    text = head.decode("utf-8", errors="replace")
    # Only the CSV line ends: str.splitlines would also split at U+2028 and other characters
    # that an ID may contain.
    return [line for line in re.split(r"\r\n?|\n", text) if line.strip()][:200]


def _check_first_line(data: _Data) -> None:
    """Refuse a first line without a line break or with thousands of fields, before parsing.

    pyarrow sizes its parser by the first row's field count, so a line of ten million commas
    would allocate ten million column builders; a line of hundreds of megabytes would be copied
    into Python strings by the sniffer. Counting bytes in the first megabyte costs nothing.
    """
    head = _head(data.buffer, _FIRST_LINE_LIMIT + 1)
    start = len(head) - len(head.lstrip(b"\r\n"))
    number = head.count(b"\n", 0, start) + 1
    found = [k for k in (head.find(b"\n", start), head.find(b"\r", start)) if k >= 0]
    end = min(found) if found else -1
    if end < 0:
        if len(head) - start > _FIRST_LINE_LIMIT:
            raise RecsysError(
                f"{data.name}: line {number} is longer than {_bytes(_FIRST_LINE_LIMIT)} without a line "
                "break, so this is not a table with one rating per line. Check that this is the ratings "
                "file: a CSV export starts with a short header such as UserID,ProductID,Rating,Timestamp."
            )
        end = len(head)
    line = head[start:end]
    counts = {d: line.count(d.encode()) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=counts.__getitem__)
    if counts[delimiter] + 1 > MAX_COLUMNS:
        raise RecsysError(
            f"{data.name}: line {number} has {counts[delimiter] + 1:,} fields separated by "
            f"{_delimiter_name(delimiter)}; a ratings table has a few columns (user, product, rating, "
            f"time), and more than {MAX_COLUMNS:,} are refused. Check that this is the ratings file and "
            "that each rating is on its own line."
        )


def _detect_delimiter(lines: list[str], name: str) -> str:
    best: tuple[float, int, int] | None = None
    choice = None
    sample = "\n".join(lines[:100])
    for rank, delimiter in enumerate((",", ";", "\t", "|")):
        # Line by line, so that one unbalanced quote cannot swallow the rest of the sample, and
        # record by record, so that quoted line breaks do not cut records: the better one counts.
        by_line = [len(next(csv.reader([line], delimiter=delimiter), [])) for line in lines[:100]]
        try:
            by_record = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            by_record = []
        for widths in (by_line, by_record):
            if not widths:
                continue
            mode = max(set(widths), key=lambda w: (widths.count(w), w))
            if mode < 2:
                continue
            score = (widths.count(mode) / len(widths), mode, -rank)
            if best is None or score > best:
                best, choice = score, delimiter
    if choice is None:
        raise RecsysError(
            f"{name} has a single column (no comma, semicolon, tab or | between values on its first "
            f"line: {lines[0][:80]!r}). A ratings file needs at least user, product and rating columns."
        )
    return choice


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _has_header(first: list[str], spec: _Spec, given: Mapping[str, str]) -> bool:
    """Whether the first CSV row names the columns rather than holding the first rating."""
    if spec.headerless is None:
        return True
    named = {role: col for role, col in given.items() if not col.strip().isdigit()}
    if named and all(col in first or _find_column(first, col) is not None for col in named.values()):
        return True
    known = {n for names in spec.candidates.values() for n in names}
    if any(_normalise(c) in known for c in first):
        return True
    # Without names, the first row is data when its rating field is a number.
    rating = given.get("rating", "3")
    position = int(rating) - 1 if rating.strip().isdigit() else 2
    return not (0 <= position < len(first) and _is_number(first[position]))


def _read_csv(data: _Data, spec: _Spec, given: Mapping[str, str], fmt: str) -> _RawTable:
    _check_first_line(data)
    lines = _sniff_lines(data)
    if not lines:
        raise RecsysError(f"{data.name} contains no data (only blank lines): there are no ratings to load.")
    delimiter = _detect_delimiter(lines, data.name)
    first = next(csv.reader(lines[:1], delimiter=delimiter))
    width = len(first)
    has_header = _has_header(first, spec, given)
    notes: list[str] = []
    if has_header:
        written = [c.strip() or f"column {i + 1}" for i, c in enumerate(first)]
        names = _unique_names(written)
        column_map = _resolve_columns(names, spec, given, data.name, original=written)
    else:
        names = [str(i + 1) for i in range(width)]
        assert spec.headerless is not None
        column_map = _resolve_headerless(names, first, spec, given, data.name)
        order = ", ".join(f"{role}={col}" for role, col in column_map.items())
        notes.append(f"No header row: read the columns by position ({order}).")
    needed = list(dict.fromkeys(column_map.values()))
    _check_csv_memory(data, lines, delimiter, has_header, [names.index(c) for c in needed], column_map)
    invalid: list[str] = []
    invalid_count = [0]

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if not row.text.strip():
            return "skip"  # a line of spaces is a blank line, as pyarrow treats empty ones
        invalid_count[0] += 1
        if len(invalid) < _SHOWN_ROWS:
            invalid.append(row.text)
        return "skip"

    # Quoted line breaks make the parser slower; only pay for them when quotes appear.
    quoted = any('"' in line for line in lines)
    read_options = pacsv.ReadOptions(
        column_names=names, skip_rows=1 if has_header else 0, block_size=_CSV_BLOCK
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=quoted, invalid_row_handler=on_invalid
    )
    convert_options = pacsv.ConvertOptions(
        include_columns=needed,
        # Every column as text: IDs such as 0594481813 must not become numbers, and bad ratings
        # are reported with their line numbers instead of as a parser error.
        column_types={col: pa.string() for col in needed},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data.buffer),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
    except pa.ArrowInvalid as exc:
        raise _csv_error(data, exc, quoted) from exc
    if invalid_count[0]:
        numbered = sorted(zip(_lines_of_texts(data.buffer, invalid), invalid, strict=True))
        shown = "; ".join(f"line {number}: {text[:60]!r}" for number, text in numbered)
        raise RecsysError(
            f"{data.name}: {_n(invalid_count[0], 'row')} without {width} fields separated by "
            f"{_delimiter_name(delimiter)} like the first line ({shown}). Fix or delete those rows; "
            "values that contain the delimiter must be quoted."
        )
    table = table.rename_columns([_role_of(column_map, col) for col in table.column_names])
    locate = _csv_locator(data.buffer, 1 if has_header else 0, quoted, delimiter, width)
    table, locate = _drop_empty_rows(table, spec, locate, notes)
    return _RawTable(
        name=data.name,
        format=fmt,
        table=table,
        column_map=column_map,
        source_columns=tuple(names),
        has_header=has_header,
        delimiter=delimiter,
        encoding=data.encoding,
        notes=notes,
        locate=locate,
        unit="line",
    )


def _check_csv_memory(
    data: _Data,
    lines: list[str],
    delimiter: str,
    has_header: bool,
    positions: list[int],
    column_map: Mapping[str, str],
) -> None:
    """Estimate rows and memory from the sniffed lines and refuse a file that would not fit."""
    sample = lines[1:] if has_header and len(lines) > 1 else lines
    try:
        widths = [
            sum(len(fields[k].encode("utf-8")) for k in positions if k < len(fields))
            for fields in csv.reader(sample, delimiter=delimiter)
        ]
    except csv.Error:
        widths = [len(line.encode("utf-8")) for line in sample]
    text = float(np.mean(widths)) if widths else 0.0
    line_bytes = max(sum(len(line.encode("utf-8")) + 1 for line in lines) / len(lines), 1.0)
    rows = data.buffer.size / line_bytes
    _check_memory(data, rows, rows * _per_row_bytes(text, "time" in column_map))


def _drop_empty_rows(
    table: pa.Table, spec: _Spec, locate: Callable[[np.ndarray], np.ndarray], notes: list[str]
) -> tuple[pa.Table, Callable[[np.ndarray], np.ndarray]]:
    """Skip rows that are only delimiters (",,," lines that spreadsheets write after the data)."""
    empty = None
    # Lengths come from the offsets alone, and the first column decides in the common case. A
    # row of spaces between the delimiters is not skipped: its blank rating is reported.
    for role in spec.required:
        if role not in table.column_names:
            return table, locate
        blank = pc.equal(pc.binary_length(table.column(role)), 0)
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return table, locate
    assert empty is not None
    mask = _true_mask(empty)
    kept = np.flatnonzero(~mask)
    notes.append(f"Skipped {_n(int(mask.sum()), 'empty row')} (only delimiters, as spreadsheets write).")
    return table.filter(pa.array(~mask)), lambda rows: locate(kept[np.asarray(rows, dtype=np.int64)])


def _resolve_headerless(
    names: list[str], first: list[str], spec: _Spec, given: Mapping[str, str], name: str
) -> dict[str, str]:
    """Columns of a file without header: as given (positions), the rest in the usual order."""
    assert spec.headerless is not None
    chosen: dict[str, str] = {}
    for role, wanted in given.items():
        if role not in spec.candidates or wanted == _SKIP:
            continue
        match = _find_column(names, wanted)
        if match is None:
            raise RecsysError(
                f"{name} has no header row, so its columns are numbered 1 to {len(names)}: {wanted!r} "
                "is not one of them. Give positions, e.g. user=1,item=2,rating=3."
            )
        chosen[role] = match
    for role, column in zip(spec.headerless, names, strict=False):
        if role in chosen or column in chosen.values() or given.get(role) == _SKIP:
            continue
        # A fourth column is the time only if it looks like one (unix time or a date).
        if role == "time" and not re.fullmatch(_TIME_LIKE, first[int(column) - 1]):
            continue
        chosen[role] = column
    missing = [spec.labels[r] for r in spec.required if r not in chosen]
    if missing:
        raise RecsysError(
            f"{name} has no header row and only {len(names)} columns, so there is no {missing[0]} "
            "column. Add a header row (e.g. UserID,ProductID,Rating,Timestamp)."
        )
    return chosen


_TIME_LIKE = r"\s*(-?\d+(\.\d*)?|\d{4}-\d\d-\d\d.*)\s*"


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


def _role_of(column_map: Mapping[str, str], column: str) -> str:
    return next(role for role, col in column_map.items() if col == column)


def _delimiter_name(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}[delimiter]


def _csv_error(data: _Data, exc: Exception, quoted: bool) -> RecsysError:
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message:
        found = _first_invalid_utf8(data.buffer)
        if found is not None:
            return _not_utf8_at(data.name, *found)
    if "straddling" in message:
        long = _long_record(data.buffer, quoted, _CSV_BLOCK)
        if long is not None:
            number, size, physical = long
            if physical:
                return RecsysError(
                    f"{data.name}: line {number:,} is {_bytes(size)} long, more than a row can be "
                    f"({_bytes(_CSV_BLOCK)}); it cannot hold one rating. Check that each rating is on its "
                    "own line."
                )
            return RecsysError(
                f"{data.name}: a quoted value that starts on line {number:,} runs on for {_bytes(size)}: "
                'a quote (") is probably never closed. Fix the quotes on that line.'
            )
    return RecsysError(
        f"{data.name} could not be parsed as CSV: {message.strip()}. Check that it is a plain CSV "
        "file with one rating per line and that quotes are balanced."
    )


def _first_invalid_utf8(buffer: pa.Buffer) -> tuple[int, int] | None:
    """(line number, byte) of the first byte that is not UTF-8, reading 16 MB at a time."""
    step, offset, carry = 1 << 24, 0, b""
    lines_before = 0
    while offset < buffer.size:
        piece = buffer.slice(offset, min(step, buffer.size - offset)).to_pybytes()
        chunk = carry + piece
        try:
            chunk.decode("utf-8")
            carry = b""
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start >= len(chunk) - 3:
                carry = chunk[exc.start :]
                chunk = chunk[: exc.start]
            else:
                return lines_before + chunk.count(b"\n", 0, exc.start) + 1, chunk[exc.start]
        lines_before += chunk.count(b"\n")
        offset += len(piece)
    return None


def _long_record(buffer: pa.Buffer, quoted: bool, limit: int) -> tuple[int, int, bool] | None:
    """The first line longer than ``limit`` bytes, or (with quotes) the first record that long.

    Returns ``(line number, length, whether it is one physical line)`` or ``None``. Lines are
    scanned 16 MB at a time, so a 200 MB line costs no 200 MB temporary array.
    """
    content = np.frombuffer(buffer, dtype=np.uint8)
    step = 1 << 24
    line_start, lines_before = 0, 0
    for offset in range(0, len(content) + 1, step):
        newlines = np.flatnonzero(content[offset : offset + step] == 10) + offset
        ends = np.concatenate(([line_start - 1], newlines))
        gaps = np.diff(ends) - 1
        long = np.flatnonzero(gaps > limit)
        if len(long):
            return lines_before + int(long[0]) + 1, int(gaps[long[0]]), True
        lines_before += len(newlines)
        if len(newlines):
            line_start = int(newlines[-1]) + 1
    if len(content) - line_start > limit:
        return lines_before + 1, len(content) - line_start, True
    if not quoted:
        return None
    newlines = np.flatnonzero(content == 10)
    breaks = _record_breaks(content, newlines)
    record_starts = np.concatenate(([0], breaks + 1))
    record_lengths = np.diff(np.concatenate((record_starts, [len(content) + 1]))) - 1
    long = np.flatnonzero(record_lengths > limit)
    if not len(long):
        return None
    start = record_starts[long[0]]
    return int(np.searchsorted(newlines, start)) + 1, int(record_lengths[long[0]]), False


def _record_breaks(content: np.ndarray, newlines: np.ndarray) -> np.ndarray:
    """The newlines outside double quotes: an even number of quotes precedes them."""
    quotes = np.flatnonzero(content == 34)
    if not len(quotes):
        return newlines
    return newlines[(np.searchsorted(quotes, newlines) & 1) == 0]


def _lines_of_texts(buffer: pa.Buffer, texts: list[str]) -> list[int | str]:
    """File line numbers of rows quoted by the parser, repeated rows at their successive places."""
    view = memoryview(buffer)
    resume: dict[str, int] = {}
    numbers: list[int | str] = []
    for text in texts:
        # A prefix finds the row: the whole text may be megabytes (a line of a million fields).
        prefix = text[:200]
        pattern = re.compile(rb"(?m)^" + re.escape(prefix.encode("utf-8")))
        match = pattern.search(view, resume.get(prefix, 0))
        if match is None:
            numbers.append("?")
            continue
        resume[prefix] = match.end()
        before = np.frombuffer(buffer, dtype=np.uint8, count=match.start())
        numbers.append(int(np.count_nonzero(before == 10)) + 1)
    return numbers


def _csv_locator(
    buffer: pa.Buffer, header_lines: int, quoted: bool, delimiter: str | None, width: int | None
) -> Callable[[np.ndarray], np.ndarray]:
    """Maps 0-based data rows to 1-based file lines; the scan runs once, on the first error."""
    cache: list[np.ndarray] = []

    def locate(rows: np.ndarray) -> np.ndarray:
        if not cache:
            cache.append(_record_lines(buffer, header_lines, quoted, delimiter, width))
        lines = cache[0]
        rows = np.asarray(rows, dtype=np.int64)
        if not len(lines):
            return rows + header_lines + 1
        return lines[np.minimum(rows, len(lines) - 1)]

    return locate


def _record_lines(
    buffer: pa.Buffer, header_lines: int, quoted: bool, delimiter: str | None, width: int | None
) -> np.ndarray:
    """1-based line of every data record, skipping what the parser skips.

    Records end at newlines outside quotes (a quoted value may span lines). The parser skips
    empty lines and, through the invalid-row handler, lines of blanks; a line of tabs in a
    tab-separated file with as many fields as the header is a row (of empty values).
    """
    content = np.frombuffer(buffer, dtype=np.uint8)
    if not len(content):
        return np.zeros(0, dtype=np.int64)
    newlines = np.flatnonzero(content == 10)
    breaks = _record_breaks(content, newlines) if quoted else newlines
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(content)]))
    if starts[-1] >= len(content):  # nothing after the final line break
        starts, ends = starts[:-1], ends[:-1]
    printable = np.ones(256, dtype=bool)
    printable[[9, 10, 13, 32]] = False
    blank = ~np.logical_or.reduceat(printable[content], starts)
    if delimiter == "\t" and width is not None:
        tabs = np.flatnonzero(content == 9)
        fields = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts) + 1
        lengths = ends - starts - (content[np.maximum(ends - 1, 0)] == 13)
        blank &= ~((fields == width) & (lengths > 0))
    kept = starts[~blank]
    return (np.searchsorted(newlines, kept) + 1)[header_lines:]


def _read_json_lines(data: _Data, spec: _Spec, given: Mapping[str, str], fmt: str) -> _RawTable:
    records, sampled = _sniff_json_records(data)
    keys = list(dict.fromkeys(k for r in records for k in r))
    column_map = _resolve_columns(keys, spec, given, data.name)
    schema = pa.schema([(col, _json_type(records, col, role, data.name)) for role, col in column_map.items()])
    text = np.mean([sum(len(str(r.get(col, ""))) for col in column_map.values()) for r in records])
    rows = data.buffer.size * len(records) / max(sampled, 1)
    _check_memory(data, rows, rows * _per_row_bytes(float(text), "time" in column_map))
    try:
        table = _parse_json_lines(data.buffer, schema)
    except pa.ArrowInvalid as exc:
        raise _json_lines_error(data, schema, exc) from exc
    table = table.select(list(column_map.values())).rename_columns(list(column_map))
    return _RawTable(
        name=data.name,
        format=fmt,
        table=table,
        column_map=column_map,
        source_columns=tuple(keys),
        encoding=data.encoding,
        locate=_csv_locator(data.buffer, 0, False, None, None),
        unit="line",
    )


def _parse_json_lines(buffer: pa.Buffer, schema: pa.Schema) -> pa.Table:
    return pajson.read_json(
        pa.BufferReader(buffer),
        read_options=pajson.ReadOptions(block_size=_JSON_BLOCK),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )


def _json_lines_error(data: _Data, schema: pa.Schema, exc: Exception) -> RecsysError:
    """Name the first line pyarrow cannot read (its own "row" counts within a block).

    Bisection over line ranges: each step parses half of the remaining range, so finding the
    line costs about one more pass over the file, and only when the file is broken.
    """
    content = np.frombuffer(data.buffer, dtype=np.uint8)
    breaks = np.flatnonzero(content == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks + 1, [len(content)]))

    def fails(first: int, stop: int) -> bool:
        piece = data.buffer.slice(int(starts[first]), int(ends[stop - 1] - starts[first]))
        try:
            _parse_json_lines(piece, schema)
        except pa.ArrowInvalid:
            return True
        return False

    low, high = 0, len(starts)
    while high - low > 1:
        middle = (low + high) // 2
        if fails(low, middle):
            high = middle
        else:
            low = middle
    if not fails(low, low + 1):
        return RecsysError(
            f"{data.name} could not be read as JSON lines ({_first_line(exc)}). Each line must be one "
            "complete JSON object, and each field must keep one type (e.g. the rating always a number)."
        )
    number, length = low + 1, int(ends[low] - starts[low])
    if length > _JSON_BLOCK:
        return RecsysError(
            f"{data.name}: line {number:,} is {_bytes(length)} long, more than one JSON record can be "
            f"({_bytes(_JSON_BLOCK)}). Write one rating per line."
        )
    text = data.buffer.slice(int(starts[low]), length).to_pybytes().decode("utf-8", errors="replace")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return RecsysError(
            f"{data.name}: line {number:,} is not valid JSON ({error.msg}: {text.strip()[:60]!r}). Each "
            "line must be one complete JSON object; fix or delete that line."
        )
    if not isinstance(record, dict):
        return RecsysError(
            f"{data.name}: line {number:,} is JSON but not an object ({{...}}): {text.strip()[:60]!r}."
        )
    odd = [f for f in schema if _json_mismatch(record.get(f.name), f.type)] or list(schema)
    fields = ", ".join(
        f"{f.name!r} is {_json_kind(record.get(f.name))} {record.get(f.name)!r}"[:80] for f in odd
    )
    return RecsysError(
        f"{data.name}: on line {number:,}, {fields}, unlike the earlier lines: each field must keep one "
        "type, e.g. the rating always a number and the IDs always text. Fix or delete that line."
    )


def _json_mismatch(value: object, expected: pa.DataType) -> bool:
    if value is None:
        return False
    if pa.types.is_floating(expected) or pa.types.is_integer(expected):
        whole_ok = pa.types.is_floating(expected) or not isinstance(value, float)
        return isinstance(value, bool) or not isinstance(value, int | float) or not whole_ok
    if pa.types.is_string(expected):
        return not isinstance(value, str)
    return False


def _json_kind(value: object) -> str:
    kinds = {str: "the text", bool: "the boolean", int: "the number", float: "the number"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _sniff_json_records(data: _Data, limit: int = 50) -> tuple[list[dict], int]:
    """The first complete records, to learn the field names and types, and the bytes they span."""
    head = _head(data.buffer, _JSON_SNIFF_BYTES)
    if data.buffer.size > len(head):
        head = head[: head.rfind(b"\n") + 1]  # drop the line cut by the window
    records: list[dict] = []
    position = 0
    for number, line in enumerate(head.split(b"\n"), start=1):
        position += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            raise RecsysError(
                f"{data.name} starts like JSON lines, but line {number} is not valid JSON ({reason}). "
                'Each line must be one JSON object, e.g. {"user_id": "A1", "asin": "B2", '
                '"rating": 5}.'
            ) from exc
        if not isinstance(record, dict):
            raise RecsysError(f"{data.name}: line {number} is JSON but not an object ({{...}}).")
        records.append(record)
        if len(records) >= limit:
            break
    if not records:
        raise RecsysError(
            f"{data.name} starts like JSON lines, but its first line is longer than "
            f"{_JSON_SNIFF_BYTES // (1 << 20)} MB: write one rating per line."
        )
    return records, min(position, len(head))


def _json_type(records: list[dict], column: str, role: str, name: str) -> pa.DataType:
    value = next((r[column] for r in records if r.get(column) is not None), None)
    if isinstance(value, bool):
        raise RecsysError(f"{name}: field {column!r} holds true/false values, which cannot be a {role}.")
    if isinstance(value, int | float):
        if role in ("rating", "time"):
            return pa.float64()
        return pa.int64() if isinstance(value, int) else pa.float64()
    if isinstance(value, list) and role == "category":
        return pa.list_(pa.string())
    if isinstance(value, dict | list):
        raise RecsysError(
            f"{name}: field {column!r} holds {type(value).__name__}s, not plain values, so it cannot be "
            f"the {role} column; choose another with columns=..."
        )
    return pa.string()


def _read_json_array(data: _Data, spec: _Spec, given: Mapping[str, str], fmt: str) -> _RawTable:
    # json.loads builds Python objects for the whole array: estimate them before parsing.
    head = _head(data.buffer, _SNIFF_BYTES)
    rows = max(data.buffer.size * head.count(b"{") / max(len(head), 1), 1.0)
    _check_memory(
        data, rows, data.buffer.size * (1 + _PYTHON_OBJECT_FACTOR) + rows * _per_row_bytes(0.0, True)
    )
    try:
        records = json.loads(memoryview(data.buffer).tobytes())
    except UnicodeDecodeError as exc:
        found = _first_invalid_utf8(data.buffer)
        if found is not None:
            raise _not_utf8_at(data.name, *found) from exc
        raise
    except json.JSONDecodeError as exc:
        raise RecsysError(
            f"{data.name} starts with '[' but is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RecsysError(f"{data.name}: expected a JSON array of objects, one per rating.")
    if not records:
        raise RecsysError(f"{data.name} is an empty JSON array: there are no ratings to load.")
    keys = list(dict.fromkeys(k for r in records[:1000] for k in r))
    column_map = _resolve_columns(keys, spec, given, data.name)
    columns = {}
    for role, col in column_map.items():
        values = [r.get(col) for r in records]
        try:
            columns[role] = pa.array(values, type=_json_type(records[:1000], col, role, data.name))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise RecsysError(
                f"{data.name}: field {col!r} does not keep one type in every record ({_first_line(exc)}): "
                "each field must keep one type, e.g. the rating always a number and the IDs always text."
            ) from exc
    return _RawTable(
        name=data.name,
        format=fmt,
        table=pa.table(columns),
        column_map=column_map,
        source_columns=tuple(keys),
        encoding=data.encoding,
        unit="record",
    )


# The Parquet footer (schema and statistics) is read whole: a ratings file's is kilobytes.
_PARQUET_FOOTER_LIMIT = 64 << 20


def _read_parquet(data: _Data, spec: _Spec, given: Mapping[str, str], fmt: str) -> _RawTable:
    tail = _tail(data.buffer, 8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] == b"PAR1" and footer > _PARQUET_FOOTER_LIMIT:
        raise RecsysError(
            f"{data.name}: the Parquet file's metadata alone is {_bytes(footer)}, far more than a ratings "
            "table has (a few columns). Write the ratings to a file of their own."
        )
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data.buffer))
        names = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise RecsysError(
            f"{data.name} starts like a Parquet file but cannot be opened ({exc}); it is probably "
            "truncated or damaged. Write it again."
        ) from exc
    column_map = _resolve_columns(names, spec, given, data.name)
    _check_parquet_memory(data, parquet.metadata, column_map)
    try:
        table = parquet.read(columns=list(column_map.values()), use_threads=True)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise RecsysError(
            f"{data.name} is a damaged Parquet file: reading its columns {_list(list(column_map.values()))} "
            f"failed ({_first_line(exc)}). Write the file again."
        ) from exc
    table = table.select(list(column_map.values())).rename_columns(list(column_map))
    return _RawTable(
        name=data.name,
        format=fmt,
        table=table,
        column_map=column_map,
        source_columns=tuple(names),
    )


def _check_parquet_memory(data: _Data, metadata: pq.FileMetaData, column_map: Mapping[str, str]) -> None:
    """Rows are in the footer, and so is each column's uncompressed size."""
    rows = metadata.num_rows
    wanted = set(column_map.values())
    text = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema.split(".")[0] in wanted:
                text += chunk.total_uncompressed_size
    _check_memory(data, rows, rows * _per_row_bytes(0.0, "time" in column_map) + _TEXT_COPIES * text)


def _frame_table(frame: pd.DataFrame, name: str, given: Mapping[str, str]) -> _RawTable:
    names = [str(c) for c in frame.columns]
    column_map = _resolve_columns(names, _RATINGS_SPEC, given, name)
    by_name = dict(zip(names, frame.columns, strict=True))
    columns = {}
    for role, col in column_map.items():
        series = frame[by_name[col]]
        try:
            columns[role] = pa.chunked_array([pa.array(series, from_pandas=True)])
        except (pa.ArrowException, TypeError, ValueError):
            # Mixed Python objects: their text is what they are.
            columns[role] = pa.chunked_array([pa.array(series.astype(str).where(series.notna()))])
    return _RawTable(
        name=name,
        format="dataframe",
        table=pa.table(columns),
        column_map=column_map,
        source_columns=tuple(names),
    )


# --------------------------------------------------------------------------------------------
# Validation and cleaning
# --------------------------------------------------------------------------------------------


def _finish(raw: _RawTable, min_user_ratings: int, min_item_ratings: int) -> Ratings:
    table = raw.table
    n = table.num_rows
    if n == 0:
        has = "a header but no data rows" if raw.has_header else "no data rows"
        raise RecsysError(f"{raw.name} has {has}: there are no ratings to load.")
    users = _ids(raw, "user")
    items = _ids(raw, "item")
    ratings = _ratings(raw)
    notes = list(raw.notes)
    times, time_format = (None, None)
    if "time" in table.column_names:
        times, time_format = _timestamps(raw)
        if times is None:
            notes.append(f"The {raw.column_map['time']!r} column is empty everywhere: ignored.")
        else:
            notes.append(f"Timestamps read as {time_format}.")

    user_codes, item_codes, n_users, n_items = _encode_pairs(users, items)
    keep = np.ones(n, dtype=bool)
    duplicates = _duplicate_rows(user_codes, item_codes, n_items, times)
    keep[duplicates] = False
    kcore_dropped = 0
    if min_user_ratings > 1 or min_item_ratings > 1:
        survivors = _kcore_mask(
            user_codes[keep], item_codes[keep], n_users, n_items, min_user_ratings, min_item_ratings
        )
        kcore_dropped = int((~survivors).sum())
        kept_rows = np.flatnonzero(keep)
        keep[kept_rows[~survivors]] = False
        if not keep.any():
            raise RecsysError(
                f"The k-core filter (at least {min_user_ratings} ratings per user and "
                f"{min_item_ratings} per product) removes all {n - len(duplicates):,} ratings of "
                f"{raw.name}: lower the minimums."
            )
    if len(duplicates) or kcore_dropped:
        n_users = int(np.count_nonzero(np.bincount(user_codes[keep], minlength=n_users)))
        n_items = int(np.count_nonzero(np.bincount(item_codes[keep], minlength=n_items)))
        levels = np.unique(ratings[keep])
        if len(levels) < 2:
            why = "the k-core filter" if kcore_dropped else "keeping the latest rating of each pair"
            raise RecsysError(
                f"After {why}, every rating left in {raw.name} is {_format_rating(levels[0])}: a "
                "recommender needs at least two different rating values."
                + (" Lower the k-core minimums." if kcore_dropped else "")
            )

    mask = None if keep.all() else pa.array(keep)
    columns = {
        "user": _to_str_series(users, mask),
        "item": _to_str_series(items, mask),
        "rating": ratings if mask is None else ratings[keep],
    }
    if times is not None:
        columns["timestamp"] = times if mask is None else times[keep]
    frame = pd.DataFrame(columns)
    report = LoadReport(
        source=raw.name,
        format=raw.format,
        rows_read=n,
        duplicates_dropped=len(duplicates),
        kcore_dropped=kcore_dropped,
        column_map=ColumnMap(**{r: c for r, c in raw.column_map.items() if r != "time" or times is not None}),
        source_columns=raw.source_columns,
        has_header=raw.has_header,
        delimiter=raw.delimiter,
        encoding=raw.encoding,
        time_format=time_format,
        notes=tuple(notes),
    )
    return Ratings(frame=frame, report=report, _n_users=n_users, _n_items=n_items, _counted_rows=len(frame))


def _to_str_series(ids: pa.ChunkedArray, mask: pa.Array | None) -> pd.Series:
    if mask is not None:
        ids = ids.filter(mask)
    series = ids.to_pandas()
    # pandas 3 already maps Arrow strings to its Arrow-backed "str" dtype (no Python objects);
    # older pandas returns object, which astype turns into the same logical type.
    return series if series.dtype == "str" else series.astype("str")


def _where(raw: _RawTable, rows: np.ndarray, values: Sequence[object] | None = None) -> str:
    """'lines 3, 7, 12' (with values when given) for the first offending rows."""
    shown = np.asarray(rows[:_SHOWN_ROWS], dtype=np.int64)
    numbers = raw.locate(shown)
    if values is None:
        listed = ", ".join(str(int(n)) for n in numbers)
    else:
        listed = ", ".join(f"{int(n)} ({_show(v)})" for n, v in zip(numbers, values, strict=False))
    plural = "s" if len(shown) > 1 else ""
    more = ", …" if len(rows) > _SHOWN_ROWS else ""
    return f"{raw.unit}{plural} {listed}{more}"


def _show(value: object) -> str:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    return repr(value) if isinstance(value, str) else str(value)


def _ids(raw: _RawTable, role: str) -> pa.ChunkedArray:
    column = raw.table.column(role)
    label = raw.column_map[role]
    kind = "user" if role == "user" else "product"
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
        bad = _true_indices(pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(column), 0)))
        raise RecsysError(
            f"{raw.name}, column {label!r}: {_n(len(bad), 'row')} without a {kind} ID "
            f"({_where(raw, bad)}). "
            "Fill in or delete those rows."
        )
    return column


_NUMBER = r"^\s*[-+]?(\d+[.,]?\d*|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(nan|inf|infinity)\s*$"


def _ratings(raw: _RawTable) -> np.ndarray:
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
        missing = np.isnan(values) & _true_mask(pc.is_null(column))
        bad = np.flatnonzero(missing)
        if len(bad):
            raise RecsysError(
                f"{raw.name}, column {label!r}: {_are(len(bad), 'rating')} missing ({_where(raw, bad)}). "
                "Fill in or delete those rows."
            )
    else:
        raise RecsysError(
            f"{raw.name}: the rating column {label!r} has type {column.type}; ratings must be numbers "
            "(e.g. 1-5 stars). If another column holds the ratings, pass columns rating=NAME."
        )
    values = np.ascontiguousarray(values, dtype=np.float64)
    _check_scale(raw, values, label)
    return values


def _parse_numbers(raw: _RawTable, column: pa.ChunkedArray, label: str) -> np.ndarray:
    try:
        return column.cast(pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # slow path below finds (and names) the offending rows
    text = pc.utf8_trim_whitespace(column)
    if raw.delimiter not in (",", None):
        # "4,5" in a semicolon-separated file from a European-locale spreadsheet.
        text = pc.replace_substring(text, ",", ".")
    valid = pc.fill_null(pc.match_substring_regex(text, _NUMBER, ignore_case=True), False)
    bad = _true_indices(pc.invert(valid))
    if len(bad):
        shown = column.take(pa.array(bad[:_SHOWN_ROWS])).to_pylist()
        hint = ""
        if any(re.fullmatch(r"\s*[-+]?\d+([.,]\d+)?\s*[^\d\s.,/].*", str(v or ""), re.S) for v in shown):
            hint = " The values have words after the number (e.g. '5 stars'): keep only the number."
        raise RecsysError(
            f"{raw.name}, rating column {label!r}: {_are(len(bad), 'value')} missing or non-numeric "
            f"({_where(raw, bad, shown)}). Ratings must be numbers such as 4 or 4.5: fix or delete "
            f"those rows.{hint}"
        )
    try:
        return text.cast(pa.float64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = pd.to_numeric(pd.Series(text.to_pylist()), errors="coerce").to_numpy(np.float64)
        nonfinite = pc.match_substring_regex(text, r"nan|inf", ignore_case=True)
        bad = np.flatnonzero(np.isnan(numbers) & ~_true_mask(nonfinite))
        if len(bad):
            shown = column.take(pa.array(bad[:_SHOWN_ROWS])).to_pylist()
            raise RecsysError(
                f"{raw.name}, rating column {label!r}: {_are(len(bad), 'value')} not numbers "
                f"({_where(raw, bad, shown)}). Fix or delete those rows."
            ) from None
        return numbers


def _check_scale(raw: _RawTable, values: np.ndarray, label: str) -> None:
    fix = (
        "Ratings must be stars or points on a small scale such as 1-5, 0.5-5 or 1-10. If another "
        "column holds the ratings, pass columns rating=NAME."
    )
    nonfinite = np.flatnonzero(~np.isfinite(values))
    if len(nonfinite):
        raise RecsysError(
            f"{raw.name}, column {label!r}: {_are(len(nonfinite), 'rating')} NaN or infinite "
            f"({_where(raw, nonfinite, [_format_rating(v) for v in values[nonfinite[:_SHOWN_ROWS]]])}). {fix}"
        )
    negative = np.flatnonzero(values < 0)
    if len(negative):
        low, high = values.min(), values.max()
        shift = _format_rating(1 - low)
        raise RecsysError(
            f"{raw.name}, column {label!r}: {_are(len(negative), 'rating')} negative "
            f"({_where(raw, negative, [_format_rating(v) for v in values[negative[:_SHOWN_ROWS]]])}). {fix} "
            f"For a scale centred on 0 ({_format_rating(low)} to {_format_rating(high)} here), add {shift} "
            f"to every rating to make it {_format_rating(low + 1 - low)} to {_format_rating(high + 1 - low)}."
        )
    levels = np.unique(values)
    if len(levels) > MAX_RATING_LEVELS:
        examples = ", ".join(_format_rating(v) for v in levels[:: max(1, len(levels) // 6)][:6])
        raise RecsysError(
            f"{raw.name}: column {label!r} has {len(levels):,} different values ({examples}, …), which "
            f"does not look like ratings (at most {MAX_RATING_LEVELS} levels expected). {fix}"
        )
    if levels[-1] > MAX_RATING_VALUE:
        too_big = np.flatnonzero(values > MAX_RATING_VALUE)
        raise RecsysError(
            f"{raw.name}: column {label!r} has values up to {_format_rating(levels[-1])} "
            f"({_where(raw, too_big)}), too large for a rating. {fix}"
        )
    if len(levels) < 2:
        raise RecsysError(
            f"{raw.name}: every rating in column {label!r} is {_format_rating(levels[0])}. A recommender "
            "learns from the difference between liked and disliked products, so it needs at least two "
            "different rating values."
        )


# Unix time magnitudes: below 1e11 seconds (year 5138) it is seconds, and so on.
_UNITS = ((1e11, "s", 10**9), (1e14, "ms", 10**6), (1e17, "us", 10**3), (np.inf, "ns", 1))
_UNIT_NAMES = {
    "s": "unix seconds",
    "ms": "unix milliseconds",
    "us": "unix microseconds",
    "ns": "unix nanoseconds",
}
_NS_LIMIT = np.iinfo(np.int64).max


def _timestamps(raw: _RawTable) -> tuple[np.ndarray | None, str | None]:
    """``datetime64[ns]`` values (``None`` if the column is empty everywhere) and the format read."""
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
    for numeric in (pa.int64(), pa.float64()):  # unix times, the common case, first
        try:
            cast = column.cast(numeric)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return _from_numbers(raw, cast, label, column)
    empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0), True)
    if pc.all(empty).as_py():
        return None, None
    return _from_text_dates(raw, column, label)


def _from_numbers(
    raw: _RawTable,
    column: pa.ChunkedArray,
    label: str,
    text: pa.ChunkedArray | None,
    unit: tuple[int, str] | None = None,
) -> tuple[np.ndarray, str]:
    """Unix times (unit from the magnitude unless given) or YYYYMMDD numbers -> ``datetime64[ns]``."""
    missing = _true_mask(pc.is_null(column)) if column.null_count else None
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
    if unit is None and values.dtype.kind == "i" and 19_000_101 <= low and high <= 21_001_231:
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
    raw: _RawTable, values: np.ndarray, scale: int, label: str, text: pa.ChunkedArray | None, fmt: str
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


def _from_text_dates(raw: _RawTable, column: pa.ChunkedArray, label: str) -> tuple[np.ndarray, str]:
    # Dates repeat (a few thousand days in millions of ratings): parse each distinct text once.
    encoded = column.combine_chunks().dictionary_encode() if column.num_chunks else column
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary
    try:
        parsed = dictionary.cast(pa.timestamp("ns"))
        fmt = "ISO dates"
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        texts = pd.Series(dictionary.to_pylist(), dtype=object)
        parsed_pd = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
        fmt = "ISO dates"
        if parsed_pd.isna().any():
            retry = pd.to_datetime(texts[parsed_pd.isna()], format="mixed", utc=True, errors="coerce")
            parsed_pd = parsed_pd.fillna(retry) if retry.notna().any() else parsed_pd
            fmt = "dates"
        # Microseconds hold any year; values outside datetime64[ns] (1677-2262) become missing.
        micros = parsed_pd.dt.tz_localize(None).dt.as_unit("us").to_numpy().view(np.int64)
        valid = parsed_pd.notna().to_numpy() & (np.abs(micros) < _NS_LIMIT // 1000)
        parsed = pa.array(np.where(valid, micros * 1000, 0), type=pa.int64(), mask=~valid).cast(
            pa.timestamp("ns")
        )
    per_row = parsed.take(encoded.indices)
    missing = _true_indices(pc.is_null(per_row))
    if len(missing):
        shown = column.take(pa.array(missing[:_SHOWN_ROWS])).to_pylist()
        raise RecsysError(
            f"{raw.name}, timestamp column {label!r}: {_are(len(missing), 'value')} not dates or unix "
            f"times ({_where(raw, missing, shown)}). Use unix seconds (1365811200) or ISO dates "
            '(2013-04-13), or load without times with --columns time=- (ColumnMap(time="-")).'
        )
    return per_row.cast(pa.int64()).to_numpy(zero_copy_only=False).view("datetime64[ns]"), fmt


def _bad_times(
    raw: _RawTable, bad: np.ndarray, label: str, text: pa.ChunkedArray | None, values: np.ndarray
) -> NoReturn:
    first = bad[:_SHOWN_ROWS]
    shown = text.take(pa.array(first)).to_pylist() if text is not None else values[first].tolist()
    raise RecsysError(
        f"{raw.name}, timestamp column {label!r}: {_are(len(bad), 'value')} missing or out of range "
        f"({_where(raw, bad, shown)}). Use unix seconds (1365811200) or ISO dates (2013-04-13)."
    )


def _true_indices(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.flatnonzero(_true_mask(mask))


def _true_mask(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    filled = pc.fill_null(mask, False)
    if isinstance(filled, pa.ChunkedArray):
        if filled.num_chunks == 0:
            return np.zeros(0, dtype=bool)
        filled = filled.combine_chunks()
    return filled.to_numpy(zero_copy_only=False).astype(bool, copy=False)


# --------------------------------------------------------------------------------------------
# Duplicates and k-core on integer codes
# --------------------------------------------------------------------------------------------


def _encode_pairs(users: pa.ChunkedArray, items: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Integer codes (order of first appearance) and distinct counts for users and items."""
    # One column after the other: hashing is memory-bound, and two threads measured slower.
    user_codes, n_users = _encode(users)
    item_codes, n_items = _encode(items)
    return user_codes, item_codes, n_users, n_items


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    encoded = column.dictionary_encode()
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), 0
    # Arrow shares one dictionary across the chunks of an encoded ChunkedArray.
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in encoded.chunks])
    return codes.astype(np.int64, copy=False), len(encoded.chunk(0).dictionary)


def _duplicate_rows(
    user_codes: np.ndarray, item_codes: np.ndarray, n_items: int, times: np.ndarray | None
) -> np.ndarray:
    """Rows to drop so that each (user, item) pair keeps its latest rating (ties: the last row)."""
    key = user_codes * np.int64(max(n_items, 1)) + item_codes
    ordered = np.sort(key)  # sorting beats hashing for millions of int64 keys
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return np.zeros(0, dtype=np.int64)
    repeated = np.unique(repeated)
    slot = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    rows = np.flatnonzero(repeated[slot] == key)
    sort_keys = (rows, key[rows]) if times is None else (rows, times[rows].view(np.int64), key[rows])
    order = rows[np.lexsort(sort_keys)]
    grouped = key[order]
    last_of_pair = np.append(grouped[1:] != grouped[:-1], True)
    return np.sort(order[~last_of_pair])


def _kcore_mask(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, min_user: int, min_item: int
) -> np.ndarray:
    keep = np.ones(len(users), dtype=bool)
    while True:
        user_counts = np.bincount(users[keep], minlength=n_users)
        item_counts = np.bincount(items[keep], minlength=n_items)
        too_few = keep & ((user_counts[users] < min_user) | (item_counts[items] < min_item))
        if not too_few.any():
            return keep
        keep &= ~too_few


# --------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------


def _finish_products(raw: _RawTable) -> pd.DataFrame:
    if raw.table.num_rows == 0:
        raise RecsysError(f"{raw.name} has no product rows.")
    items = _ids(raw, "item")
    names = _text_column(raw, "name")
    names = pc.if_else(pc.equal(pc.utf8_length(names), 0), items, names)
    if "category" in raw.table.column_names:
        categories = _text_column(raw, "category")
    else:
        categories = pa.chunked_array([pc.fill_null(pa.nulls(raw.table.num_rows, pa.string()), "")])
    frame = pd.DataFrame(
        {
            "item": _to_str_series(items, None),
            "name": _to_str_series(names, None),
            "category": _to_str_series(categories, None),
        }
    )
    return frame.drop_duplicates("item", keep="first").reset_index(drop=True)


def _text_column(raw: _RawTable, role: str) -> pa.ChunkedArray:
    column = raw.table.column(role)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        column = pc.binary_join(column.cast(pa.list_(pa.string())), " > ")
    elif not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return pc.fill_null(column.cast(pa.string()), "")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    """``"1 row"``, ``"1,234 rows"``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _are(count: int, noun: str) -> str:
    """``"1 value is"``, ``"3 values are"``."""
    return _n(count, noun) + (" is" if count == 1 else " are")


def _format_rating(value: float) -> str:
    """``5.0 -> "5"``, ``4.5 -> "4.5"``: the shortest text that reads back as the same number."""
    return np.format_float_positional(float(value), trim="-")


def _coerce_columns(columns: ColumnMap | str | Mapping[str, str] | None) -> dict[str, str]:
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


def _check_minimums(min_user_ratings: int, min_item_ratings: int) -> None:
    for label, value in (("min_user_ratings", min_user_ratings), ("min_item_ratings", min_item_ratings)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise RecsysError(
                f"{label} must be a whole number of at least 1 (1 keeps everything), not {value!r}."
            )


def _wrap(exc: Exception, name: str, what: str) -> RecsysError:
    """Explain a failure that got past the specific checks (the parser's words, in context)."""
    if isinstance(exc, UnicodeError):
        detail = "it is not valid UTF-8 text; save it as CSV UTF-8"
    elif isinstance(exc, EOFError | zlib.error):
        detail = f"the compressed data is truncated or damaged ({exc}); compress it again"
    elif isinstance(exc, MemoryError):
        detail = "it does not fit in memory; load a smaller sample"
    elif isinstance(exc, PermissionError):
        detail = "permission denied; check that the file can be read"
    elif isinstance(exc, pa.ArrowException):
        detail = _first_line(exc)
    else:
        detail = f"{type(exc).__name__}: {_first_line(exc)}"
    return RecsysError(f"Could not read the {what} in {name}: {detail}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__
