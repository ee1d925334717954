"""Column names and first rows of a table, from its first bytes, for choosing its columns by hand."""

from __future__ import annotations

import csv

import pandas as pd

from recsys_core.data.ratings._columns import RATINGS_SPEC
from recsys_core.data.ratings._csv import sniff_csv
from recsys_core.data.ratings._formats import format_of
from recsys_core.data.ratings._json import json_array_keys, record_keys, sniff_json_records
from recsys_core.data.ratings._parquet import open_parquet
from recsys_core.data.ratings._sources import open_head
from recsys_core.data.ratings._text import first_line
from recsys_core.errors import RecsysError


def peek_columns(data: bytes, name: str, max_bytes: int = 1 << 20) -> list[str]:
    """The column names of a ratings table, read from its first bytes with the loader's sniffers.

    Compression and encoding are undone, and the CSV delimiter and header row are found, exactly
    as :func:`load_ratings` finds them, so the names offered are the names it accepts in a
    :class:`ColumnMap`.

    Parameters
    ----------
    data
        The file's bytes: CSV (with or without header, gzip/bzip2/xz or not), JSON lines, a
        JSON array of objects, or Parquet.
    name
        The file's name, for messages.
    max_bytes
        How much of the decompressed text is read. Parquet is read whole (its schema is in its
        footer).

    Returns
    -------
    list of str
        The header's names (blank ones as ``column N``, repeated ones made unique as the loader
        makes them: ``Rating``, ``Rating.1``); ``column 1``, ``column 2`` … for a CSV file
        without header (its columns are mapped by position); the field names of the first JSON
        records; the Parquet schema's names.

    Raises
    ------
    RecsysError
        When the bytes are not a table the loader could read.
    """
    if max_bytes < 1:
        raise RecsysError(f"max_bytes must be a positive number of bytes, not {max_bytes!r}.")
    try:
        head = open_head(data, name, max_bytes)
        kind = format_of(head)
        if kind == "parquet":
            return open_parquet(head)[1]
        if kind == "jsonl":
            return record_keys(sniff_json_records(head)[0])
        if kind == "json":
            return json_array_keys(head)
        layout = sniff_csv(head, RATINGS_SPEC, {})
    except RecsysError:
        raise
    except Exception as exc:  # the contract: only RecsysError leaves this package
        raise RecsysError(
            f"Could not read the column names of {name}: {first_line(exc)}. Check that it is a CSV, "
            "CSV.gz, Parquet or JSON-lines file."
        ) from exc
    if layout.has_header:
        return layout.names
    return [f"column {k + 1}" for k in range(len(layout.names))]


def peek_table(data: bytes, name: str, max_rows: int = 200, max_bytes: int = 1 << 20) -> pd.DataFrame:
    """The first rows of a ratings table as text, under the names :func:`peek_columns` gives.

    Read with the same sniffers (compression, encoding, delimiter, header), so the app can guess
    which column is which from the values. Values stay strings (``None`` where missing): a guess
    looks at what is written, before any parsing. A table the loader cannot read raises its
    :class:`RecsysError`; a JSON array or Parquet file without rows gives an empty frame.
    """
    names = peek_columns(data, name, max_bytes)
    head = open_head(data, name, max_bytes)
    kind = format_of(head)
    if kind == "parquet":
        parquet = open_parquet(head)[0]
        rows = parquet.read_row_group(0).slice(0, max_rows).to_pylist() if parquet.num_row_groups else []
        return _as_text(pd.DataFrame(rows, columns=names))
    if kind in ("jsonl", "json"):
        records = sniff_json_records(head)[0] if kind == "jsonl" else []
        return _as_text(pd.DataFrame(records[:max_rows], columns=names))
    layout = sniff_csv(head, RATINGS_SPEC, {})
    body = layout.lines[1:] if layout.has_header else layout.lines  # ``lines`` has no "sep=" line
    rows = list(csv.reader(body[:max_rows], delimiter=layout.delimiter))
    width = len(names)
    return pd.DataFrame([(row + [None] * width)[:width] for row in rows], columns=names, dtype=object)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))
