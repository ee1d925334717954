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

:func:`peek_columns` reads only the column names from a file's first bytes, with the same
sniffers, for choosing the columns by hand, and :func:`columns_by_name` says which fields their
names give away (English and German names, ``Kunde``, ``Artikel``, ``Sterne``); column failures
raise :class:`~recsys_core.errors.ColumnsError`, which carries the file's column names and keeps
the command line's ``--columns`` hint apart from the reason.

The package's private modules, in the order a load runs through them: ``_sources`` (paths and
uploads) with ``_compression`` and ``_content`` (magic bytes, encodings), ``_memory`` (the
guard), ``_formats`` (which reader) with ``_csv``, ``_json`` and ``_parquet`` (``_lines``
locates rows in messages), ``_columns`` (which column is which), ``_values`` and ``_times``
(validation), ``_cleaning`` (duplicates, k-core), and ``_load`` / ``_products`` / ``_peek`` for
the public functions; ``_types`` and ``_text`` hold the shared types and message helpers.
"""

from __future__ import annotations

import sys
import types

from recsys_core.data.ratings import _memory
from recsys_core.data.ratings._cleaning import k_core
from recsys_core.data.ratings._columns import columns_by_name, is_number
from recsys_core.data.ratings._csv import MAX_COLUMNS
from recsys_core.data.ratings._load import Ratings, load_ratings
from recsys_core.data.ratings._memory import (
    MEMORY_BUDGET,
    address_space_limit,
    available_memory,
    cgroup_memory_limit,
    cpu_count,
    meminfo,
)
from recsys_core.data.ratings._peek import peek_columns, peek_table
from recsys_core.data.ratings._products import load_products
from recsys_core.data.ratings._types import ColumnMap, LoadReport, Source
from recsys_core.data.ratings._values import MAX_ID_LENGTH, MAX_RATING_LEVELS, MAX_RATING_VALUE

__all__ = [
    "MAX_COLUMNS",
    "MAX_ID_LENGTH",
    "MAX_RATING_LEVELS",
    "MAX_RATING_VALUE",
    "MEMORY_BUDGET",
    "ColumnMap",
    "LoadReport",
    "Ratings",
    "Source",
    "address_space_limit",
    "available_memory",
    "cgroup_memory_limit",
    "columns_by_name",
    "cpu_count",
    "is_number",
    "k_core",
    "load_products",
    "load_ratings",
    "meminfo",
    "peek_columns",
    "peek_table",
]

# The memory guard reads these two from its own module; setting them here (as callers and tests
# do: ``recsys_core.data.ratings.MEMORY_BUDGET = ...``) must reach it.
_GUARD_SETTINGS = frozenset({"MEMORY_BUDGET", "available_memory"})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in _GUARD_SETTINGS:
            setattr(_memory, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
