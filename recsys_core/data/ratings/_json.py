"""JSON lines (the Amazon review dumps) and JSON arrays of objects."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from recsys_core.data.ratings._columns import Spec, resolve_columns
from recsys_core.data.ratings._content import SNIFF_BYTES, head_bytes, not_utf8_at
from recsys_core.data.ratings._lines import first_invalid_utf8, line_locator
from recsys_core.data.ratings._memory import PYTHON_OBJECT_FACTOR, check_memory, per_row_bytes
from recsys_core.data.ratings._text import first_line, size_text
from recsys_core.data.ratings._types import RawTable, SourceData
from recsys_core.errors import RecsysError

_JSON_BLOCK = 1 << 23  # one JSON object must fit in a block; long review texts need room
_JSON_SNIFF_BYTES = 1 << 20
_SEPARATORS = re.compile(r"[\s,]*")  # between the objects of a JSON array


def read_json_lines(data: SourceData, spec: Spec, given: Mapping[str, str], fmt: str) -> RawTable:
    """Read the mapped fields of JSON lines with the types the first records show."""
    records, sampled = sniff_json_records(data)
    keys = record_keys(records)
    column_map = resolve_columns(keys, spec, given, data.name)
    schema = pa.schema([(col, _json_type(records, col, role, data.name)) for role, col in column_map.items()])
    text = np.mean([sum(len(str(r.get(col, ""))) for col in column_map.values()) for r in records])
    rows = data.buffer.size * len(records) / max(sampled, 1)
    check_memory(data, rows, rows * per_row_bytes(float(text), "time" in column_map))
    try:
        table = _parse_json_lines(data.buffer, schema)
    except pa.ArrowInvalid as exc:
        raise _json_lines_error(data, schema, exc) from exc
    table = table.select(list(column_map.values())).rename_columns(list(column_map))
    return RawTable(
        name=data.name,
        format=fmt,
        table=table,
        column_map=column_map,
        source_columns=tuple(keys),
        encoding=data.encoding,
        locate=line_locator(data.buffer, 0, False, None, None),
        unit="line",
    )


def _parse_json_lines(buffer: pa.Buffer, schema: pa.Schema) -> pa.Table:
    return pajson.read_json(
        pa.BufferReader(buffer),
        read_options=pajson.ReadOptions(block_size=_JSON_BLOCK),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )


def _json_lines_error(data: SourceData, schema: pa.Schema, exc: Exception) -> RecsysError:
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
            f"{data.name} could not be read as JSON lines ({first_line(exc)}). Each line must be one "
            "complete JSON object, and each field must keep one type (e.g. the rating always a number)."
        )
    number, length = low + 1, int(ends[low] - starts[low])
    if length > _JSON_BLOCK:
        return RecsysError(
            f"{data.name}: line {number:,} is {size_text(length)} long, more than one JSON record can be "
            f"({size_text(_JSON_BLOCK)}). Write one rating per line."
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
    repeated = _repeated_keys(text)
    if repeated:
        return RecsysError(
            f"{data.name}: line {number:,} has the field {repeated[0]!r} more than once; each field may "
            "appear once per record. Fix or delete that line."
        )
    odd = [f for f in schema if _json_mismatch(record.get(f.name), f.type)] or list(schema)
    fields = ", ".join(
        f"{f.name!r} is {_json_kind(record.get(f.name))} {record.get(f.name)!r}"[:80] for f in odd
    )
    others = "the earlier lines" if number > 1 else "the lines after it"
    return RecsysError(
        f"{data.name}: on line {number:,}, {fields}, unlike {others}: each field must keep one "
        "type, e.g. the rating always a number and the IDs always text. Fix or delete that line."
    )


def _repeated_keys(text: str) -> list[str]:
    """Keys that one JSON object of ``text`` (at any depth) holds twice; json.loads keeps the last."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in items]
        repeated.extend(key for key in dict.fromkeys(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return repeated


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


def sniff_json_records(data: SourceData, limit: int = 50) -> tuple[list[dict], int]:
    """The first complete records, to learn the field names and types, and the bytes they span."""
    head = head_bytes(data.buffer, _JSON_SNIFF_BYTES)
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


def record_keys(records: list[dict]) -> list[str]:
    """The field names of ``records``, in the order they first appear."""
    return list(dict.fromkeys(k for r in records for k in r))


def json_array_keys(data: SourceData, limit: int = 50) -> list[str]:
    """The field names of the first objects of a JSON array, from its first megabyte only."""
    text = head_bytes(data.buffer, _JSON_SNIFF_BYTES).decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    records: list[dict] = []
    position = _SEPARATORS.match(text, text.index("[") + 1).end()
    while len(records) < limit and text.startswith("{", position):
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break  # cut by the window, or broken: the records before it say enough
        records.append(record)
        position = _SEPARATORS.match(text, position).end()
    if not records:
        raise RecsysError(
            f"{data.name} starts with '[' but no JSON object follows in its first "
            f"{_JSON_SNIFF_BYTES // (1 << 20)} MB: expected a JSON array of objects, one per rating."
        )
    return record_keys(records)


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


def read_json_array(data: SourceData, spec: Spec, given: Mapping[str, str], fmt: str) -> RawTable:
    """Read the mapped fields of a JSON array of objects (parsed whole, after a memory check)."""
    # json.loads builds Python objects for the whole array: estimate them before parsing.
    head = head_bytes(data.buffer, SNIFF_BYTES)
    rows = max(data.buffer.size * head.count(b"{") / max(len(head), 1), 1.0)
    check_memory(data, rows, data.buffer.size * (1 + PYTHON_OBJECT_FACTOR) + rows * per_row_bytes(0.0, True))
    try:
        records = json.loads(memoryview(data.buffer).tobytes())
    except UnicodeDecodeError as exc:
        found = first_invalid_utf8(data.buffer)
        if found is not None:
            raise not_utf8_at(data.name, *found) from exc
        raise
    except json.JSONDecodeError as exc:
        raise RecsysError(
            f"{data.name} starts with '[' but is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RecsysError(f"{data.name}: expected a JSON array of objects, one per rating.")
    if not records:
        raise RecsysError(f"{data.name} is an empty JSON array: there are no ratings to load.")
    keys = record_keys(records[:1000])
    column_map = resolve_columns(keys, spec, given, data.name)
    columns = {}
    for role, col in column_map.items():
        values = [r.get(col) for r in records]
        try:
            columns[role] = pa.array(values, type=_json_type(records[:1000], col, role, data.name))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise RecsysError(
                f"{data.name}: field {col!r} does not keep one type in every record ({first_line(exc)}): "
                "each field must keep one type, e.g. the rating always a number and the IDs always text."
            ) from exc
    return RawTable(
        name=data.name,
        format=fmt,
        table=pa.table(columns),
        column_map=column_map,
        source_columns=tuple(keys),
        encoding=data.encoding,
        unit="record",
    )
