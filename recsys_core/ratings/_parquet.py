"""Parquet: columns read by name, rows and sizes taken from the footer."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from recsys_core.errors import RecsysError
from recsys_core.ratings._columns import Spec, resolve_columns
from recsys_core.ratings._content import tail_bytes
from recsys_core.ratings._memory import TEXT_COPIES, check_memory, per_row_bytes
from recsys_core.ratings._text import first_line, name_list, size_text
from recsys_core.ratings._types import RawTable, SourceData

# The Parquet footer (schema and statistics) is read whole: a ratings file's is kilobytes.
_PARQUET_FOOTER_LIMIT = 64 << 20


def read_parquet(data: SourceData, spec: Spec, given: Mapping[str, str], fmt: str) -> RawTable:
    """Read the mapped columns of a Parquet file."""
    parquet, names = open_parquet(data)
    column_map = resolve_columns(names, spec, given, data.name)
    table = _read_columns(data, parquet, column_map)
    return RawTable(
        name=data.name,
        format=fmt,
        table=table.select(list(column_map.values())).rename_columns(list(column_map)),
        column_map=column_map,
        source_columns=tuple(names),
    )


def open_parquet(data: SourceData) -> tuple[pq.ParquetFile, list[str]]:
    """The Parquet file and its column names, refusing a damaged file or an outsized footer."""
    tail = tail_bytes(data.buffer, 8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] == b"PAR1" and footer > _PARQUET_FOOTER_LIMIT:
        raise RecsysError(
            f"{data.name}: the Parquet file's metadata alone is {size_text(footer)}, far more than a ratings "
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
    return parquet, names


def _read_columns(data: SourceData, parquet: pq.ParquetFile, column_map: Mapping[str, str]) -> pa.Table:
    """The mapped columns, once the footer says that they fit in memory."""
    _check_parquet_memory(data, parquet.metadata, column_map)
    try:
        table = parquet.read(columns=list(column_map.values()), use_threads=True)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        columns = name_list(list(column_map.values()))
        raise RecsysError(
            f"{data.name} is a damaged Parquet file: reading its columns {columns} "
            f"failed ({first_line(exc)}). Write the file again."
        ) from exc
    return table


def _check_parquet_memory(data: SourceData, metadata: pq.FileMetaData, column_map: Mapping[str, str]) -> None:
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
    check_memory(data, rows, rows * per_row_bytes(0.0, "time" in column_map) + TEXT_COPIES * text)
