"""Column names from the first bytes of a table, for choosing its columns by hand."""

from __future__ import annotations

from recsys_core.errors import RecsysError
from recsys_core.ratings._columns import RATINGS_SPEC
from recsys_core.ratings._csv import sniff_csv
from recsys_core.ratings._formats import format_of
from recsys_core.ratings._json import json_array_keys, record_keys, sniff_json_records
from recsys_core.ratings._parquet import open_parquet
from recsys_core.ratings._sources import open_head
from recsys_core.ratings._text import first_line


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
