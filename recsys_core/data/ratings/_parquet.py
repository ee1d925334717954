"""Parquet: columns read by name, rows and sizes taken from the footer."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recsys_core.data.ratings._columns import Spec, resolve_columns
from recsys_core.data.ratings._content import tail_bytes
from recsys_core.data.ratings._memory import TEXT_COPIES, check_memory, per_row_bytes
from recsys_core.data.ratings._text import first_line, name_list, size_text
from recsys_core.data.ratings._types import RawTable, SourceData
from recsys_core.errors import RecsysError

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
    """The mapped columns, once the footer (and, for dictionary-encoded text, the decoded
    size) says that they fit in memory."""
    sizes = _column_sizes(parquet.metadata, set(column_map.values()))
    _check_parquet_memory(data, parquet.metadata.num_rows, column_map, sum(sizes.values()))
    encoded = _dictionary_text_columns(parquet, column_map)
    try:
        if encoded:
            # Read as dictionary + indices: a 100,000-character ID repeated 30,000 times is
            # 100 kB here and 3 GB decoded, so decoding waits for the estimate below.
            parquet = pq.ParquetFile(pa.BufferReader(data.buffer), read_dictionary=encoded)
        table = parquet.read(columns=list(column_map.values()), use_threads=True)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        columns = name_list(list(column_map.values()))
        raise RecsysError(
            f"{data.name} is a damaged Parquet file: reading its columns {columns} "
            f"failed ({first_line(exc)}). Write the file again."
        ) from exc
    if encoded:
        decoded = {col: _decoded_bytes(table.column(col)) for col in encoded}
        _check_parquet_memory(data, table.num_rows, column_map, sum({**sizes, **decoded}.values()))
    return table


def _column_sizes(metadata: pq.FileMetaData, wanted: set[str]) -> dict[str, int]:
    """Uncompressed bytes of each wanted column, from the footer (encoded: dictionary + indices)."""
    sizes = dict.fromkeys(wanted, 0)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            top = chunk.path_in_schema.split(".")[0]
            if top in wanted:
                sizes[top] += chunk.total_uncompressed_size
    return sizes


def _dictionary_text_columns(parquet: pq.ParquetFile, column_map: Mapping[str, str]) -> list[str]:
    """The mapped text columns that are dictionary-encoded in every row group."""
    metadata, schema = parquet.metadata, parquet.schema_arrow
    positions = {
        parquet.schema.column(k).path: k for k in range(len(parquet.schema)) if metadata.num_row_groups
    }
    encoded = []
    for col in dict.fromkeys(column_map.values()):
        typ = schema.field(col).type
        if pa.types.is_dictionary(typ):  # written from Arrow dictionary arrays: read as such anyway
            typ = typ.value_type
        text = pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(typ)
        if (
            text
            and col in positions
            and all(
                metadata.row_group(g).column(positions[col]).has_dictionary_page
                for g in range(metadata.num_row_groups)
            )
        ):
            encoded.append(col)
    return encoded


def _decoded_bytes(column: pa.ChunkedArray) -> int:
    """Bytes of text a dictionary column becomes once decoded: each value's length times its uses."""
    total = 0
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            total += chunk.nbytes
            continue
        lengths = pc.binary_length(chunk.dictionary).fill_null(0).to_numpy(zero_copy_only=False)
        uses = np.bincount(chunk.indices.fill_null(0).to_numpy(zero_copy_only=False), minlength=len(lengths))
        total += int(uses[: len(lengths)] @ lengths.astype(np.int64)) + 8 * len(chunk)
    return total


def _check_parquet_memory(data: SourceData, rows: int, column_map: Mapping[str, str], text: int) -> None:
    """Rows and the text of the mapped columns against the budget."""
    check_memory(data, rows, rows * per_row_bytes(0.0, "time" in column_map) + TEXT_COPIES * text)
