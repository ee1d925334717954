"""1-based line numbers for messages: record starts, overlong records, the first byte that is
not UTF-8 and the lines of rows the CSV parser quoted."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa


def first_invalid_utf8(buffer: pa.Buffer) -> tuple[int, int] | None:
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


def long_record(buffer: pa.Buffer, quoted: bool, limit: int) -> tuple[int, int, bool] | None:
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


def lines_of_texts(buffer: pa.Buffer, texts: list[str]) -> list[int | str]:
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


def line_locator(
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
