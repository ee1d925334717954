"""CSV: first-line checks, delimiter and header sniffing, and the pyarrow parse."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from recsys_core.data.ratings._columns import (
    Spec,
    is_header_row,
    resolve_columns,
    resolve_headerless,
    role_of,
    unique_names,
)
from recsys_core.data.ratings._content import SNIFF_BYTES, head_bytes, not_utf8_at
from recsys_core.data.ratings._lines import first_invalid_utf8, line_locator, lines_of_texts, long_record
from recsys_core.data.ratings._memory import check_memory, per_row_bytes
from recsys_core.data.ratings._text import SHOWN_ROWS, count_text, size_text
from recsys_core.data.ratings._types import RawTable, SourceData
from recsys_core.data.ratings._values import true_mask
from recsys_core.errors import RecsysError

_CSV_BLOCK = 1 << 24  # pyarrow's block: one CSV row must fit in it
# The first line must end within this many bytes and have at most this many fields: a header
# of a ratings table is a few dozen bytes, and pyarrow allocates per column before parsing.
_FIRST_LINE_LIMIT = 1 << 20
MAX_COLUMNS = 10_000
# Excel writes (and reads) "sep=;" as a first line naming the delimiter.
_SEP_HINT = re.compile(r'^"?sep=([^"\r\n])"?\s*$')


def _sniff_lines(data: SourceData) -> list[str]:
    head = head_bytes(data.buffer, SNIFF_BYTES)
    if data.buffer.size > len(head):
        # The last line may be cut by the window.
        head = head[: head.rfind(b"\n") + 1] or head
    text = head.decode("utf-8", errors="replace")
    # Only the CSV line ends: str.splitlines would also split at U+2028 and other characters
    # that an ID may contain.
    return [line for line in re.split(r"\r\n?|\n", text) if line.strip()][:200]


def _check_first_line(data: SourceData) -> None:
    """Refuse a first line without a line break or with thousands of fields, before parsing.

    pyarrow sizes its parser by the first row's field count, so a line of ten million commas
    would allocate ten million column builders; a line of hundreds of megabytes would be copied
    into Python strings by the sniffer. Counting bytes in the first megabyte costs nothing.
    """
    head = head_bytes(data.buffer, _FIRST_LINE_LIMIT + 1)
    start = len(head) - len(head.lstrip(b"\r\n"))
    number = head.count(b"\n", 0, start) + 1
    found = [k for k in (head.find(b"\n", start), head.find(b"\r", start)) if k >= 0]
    end = min(found) if found else -1
    if end < 0:
        if len(head) - start > _FIRST_LINE_LIMIT:
            raise RecsysError(
                f"{data.name}: line {number} is longer than {size_text(_FIRST_LINE_LIMIT)} without a line "
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


@dataclass(frozen=True)
class CsvLayout:
    """What the first lines of a CSV file say about the whole."""

    lines: list[str]  # the sniffed lines, blank ones left out
    delimiter: str
    first: list[str]  # the fields of the first line
    has_header: bool
    # Column names: the header as written (blank names numbered), or "1", "2" … without header.
    written: list[str]
    names: list[str]  # ``written`` with repeated names made unique ("Rating", "Rating.1")
    skip: int = 0  # lines before the data rows: Excel's "sep=" line and the header


def _delimiter_hint(lines: list[str]) -> str | None:
    """The delimiter an Excel ``sep=;`` first line names, or ``None``."""
    match = _SEP_HINT.match(lines[0]) if lines else None
    return match.group(1) if match else None


def sniff_csv(data: SourceData, spec: Spec, given: Mapping[str, str]) -> CsvLayout:
    """Check the first line, then find the delimiter and whether the first line is a header."""
    _check_first_line(data)
    lines = _sniff_lines(data)
    if not lines:
        raise RecsysError(f"{data.name} contains no data (only blank lines): there are no ratings to load.")
    hint = _delimiter_hint(lines)
    if hint is not None:
        lines = lines[1:]
        if not lines:
            raise RecsysError(f"{data.name} has only Excel's 'sep={hint}' line: there are no ratings.")
    delimiter = hint or _detect_delimiter(lines, data.name)
    first = next(csv.reader(lines[:1], delimiter=delimiter))
    has_header = is_header_row(first, spec, given)
    if has_header:
        written = [c.strip() or f"column {i + 1}" for i, c in enumerate(first)]
        names = unique_names(written)
    else:
        written = names = [str(i + 1) for i in range(len(first))]
    skip = (hint is not None) + has_header
    return CsvLayout(lines, delimiter, first, has_header, written, names, skip)


def read_csv(data: SourceData, spec: Spec, given: Mapping[str, str], fmt: str) -> RawTable:
    """Read the mapped columns of a CSV file as text, with rows located by their file lines."""
    layout = sniff_csv(data, spec, given)
    notes: list[str] = []
    if layout.has_header:
        column_map = resolve_columns(layout.names, spec, given, data.name, original=layout.written)
    else:
        column_map = resolve_headerless(layout.names, layout.first, spec, given, data.name)
        order = ", ".join(f"{role}={col}" for role, col in column_map.items())
        notes.append(f"No header row: read the columns by position ({order}).")
    if layout.skip > layout.has_header:
        notes.append(f"Skipped Excel's first line 'sep={layout.delimiter}' and used that delimiter.")
    needed = list(dict.fromkeys(column_map.values()))
    _check_csv_memory(data, layout, [layout.names.index(c) for c in needed], "time" in column_map)
    # Quoted line breaks make the parser slower; only pay for them when quotes appear.
    quoted = any('"' in line for line in layout.lines)
    table = _parse(data, layout, needed, quoted)
    table = table.rename_columns([role_of(column_map, col) for col in table.column_names])
    locate = line_locator(data.buffer, layout.skip, quoted, layout.delimiter, len(layout.first))
    table, locate = _drop_empty_rows(table, spec, locate, notes)
    return RawTable(
        name=data.name,
        format=fmt,
        table=table,
        column_map=column_map,
        source_columns=tuple(layout.names),
        has_header=layout.has_header,
        delimiter=layout.delimiter,
        encoding=data.encoding,
        notes=notes,
        locate=locate,
        unit="line",
    )


def _parse(data: SourceData, layout: CsvLayout, needed: list[str], quoted: bool) -> pa.Table:
    """The ``needed`` columns as text; rows of another width are refused with their lines."""
    invalid: list[str] = []
    invalid_count = [0]

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if not row.text.strip():
            return "skip"  # a line of spaces is a blank line, as pyarrow treats empty ones
        invalid_count[0] += 1
        if len(invalid) < SHOWN_ROWS:
            invalid.append(row.text)
        return "skip"

    read_options = pacsv.ReadOptions(column_names=layout.names, skip_rows=layout.skip, block_size=_CSV_BLOCK)
    parse_options = pacsv.ParseOptions(
        delimiter=layout.delimiter, newlines_in_values=quoted, invalid_row_handler=on_invalid
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
        numbered = sorted(zip(lines_of_texts(data.buffer, invalid), invalid, strict=True))
        shown = "; ".join(f"line {number}: {text[:60]!r}" for number, text in numbered)
        raise RecsysError(
            f"{data.name}: {count_text(invalid_count[0], 'row')} without {len(layout.first)} fields "
            f"separated by {_delimiter_name(layout.delimiter)} like the first line ({shown}). Fix or "
            "delete those rows; values that contain the delimiter must be quoted."
        )
    return table


def _check_csv_memory(data: SourceData, layout: CsvLayout, positions: list[int], has_time: bool) -> None:
    """Estimate rows and memory from the sniffed lines and refuse a file that would not fit."""
    lines = layout.lines
    sample = lines[1:] if layout.has_header and len(lines) > 1 else lines
    # Line by line, as the rows are counted: an unclosed quote must not join the sample into one
    # huge record (the parser names the quote's line; a 150 MB file is not 50 GB of text).
    widths = []
    for line in sample:
        try:
            fields = next(csv.reader([line], delimiter=layout.delimiter), [])
        except csv.Error:
            fields = [line]
        widths.append(sum(len(fields[k].encode("utf-8")) for k in positions if k < len(fields)))
    text = float(np.mean(widths)) if widths else 0.0
    line_bytes = max(sum(len(line.encode("utf-8")) + 1 for line in lines) / len(lines), 1.0)
    rows = data.buffer.size / line_bytes
    check_memory(data, rows, rows * per_row_bytes(text, has_time))


def _drop_empty_rows(
    table: pa.Table, spec: Spec, locate: Callable[[np.ndarray], np.ndarray], notes: list[str]
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
    mask = true_mask(empty)
    kept = np.flatnonzero(~mask)
    notes.append(
        f"Skipped {count_text(int(mask.sum()), 'empty row')} (only delimiters, as spreadsheets write)."
    )
    return table.filter(pa.array(~mask)), lambda rows: locate(kept[np.asarray(rows, dtype=np.int64)])


def _delimiter_name(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs"}.get(delimiter, repr(delimiter))


def _csv_error(data: SourceData, exc: Exception, quoted: bool) -> RecsysError:
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message:
        found = first_invalid_utf8(data.buffer)
        if found is not None:
            return not_utf8_at(data.name, *found)
    if "straddling" in message:
        long = long_record(data.buffer, quoted, _CSV_BLOCK)
        if long is not None:
            number, size, physical = long
            if physical:
                return RecsysError(
                    f"{data.name}: line {number:,} is {size_text(size)} long, more than a row can be "
                    f"({size_text(_CSV_BLOCK)}); it cannot hold one rating. Check that each rating is on its "
                    "own line."
                )
            return RecsysError(
                f"{data.name}: a quoted value that starts on line {number:,} runs on for {size_text(size)}: "
                'a quote (") is probably never closed. Fix the quotes on that line.'
            )
    return RecsysError(
        f"{data.name} could not be parsed as CSV: {message.strip()}. Check that it is a plain CSV "
        "file with one rating per line and that quotes are balanced."
    )
