"""gzip, bzip2 and xz, detected by their magic bytes and decompressed in bounded steps."""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Iterator
from typing import Protocol

import numpy as np
import pyarrow as pa

from recsys_core.data.ratings._content import (
    SNIFF_BYTES,
    check_text,
    refuse_binary,
    tail_bytes,
    utf16_encoding,
)
from recsys_core.data.ratings._memory import BYTES_PER_ROW, budget_of, check_memory, memory_error
from recsys_core.data.ratings._types import SourceData
from recsys_core.errors import RecsysError

# Decompression runs in bounded steps so that a small archive cannot expand unchecked.
_INFLATE_IN = 1 << 14
_INFLATE_OUT = 1 << 22
_PEEK_BYTES = 1 << 20
# What a truncated or corrupt archive raises while it is decompressed.
_DAMAGED = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``bzip2`` or ``xz`` by the magic bytes at the start of ``head``, else ``None``."""
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


class _Decompressor(Protocol):
    """What ``_inflate`` uses of zlib's, bz2's and lzma's decompressors."""

    eof: bool
    unused_data: bytes
    needs_input: bool

    def decompress(self, data: bytes | memoryview, max_length: int) -> bytes: ...


def _decompressor(label: str) -> _Decompressor:
    if label == "gzip":
        return _ZlibStream()
    if label == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _inflate(buffer: pa.Buffer, label: str, trailing: list[int] | None = None) -> Iterator[tuple[bytes, int]]:
    """Decompressed pieces (at most ``_INFLATE_OUT`` bytes each) and the input consumed so far
    (exact for gzip; bz2 and xz buffer up to one ``_INFLATE_IN`` piece out of sight).

    Concatenated members/streams are read one after the other, zero padding after the last
    is ignored (gzip(1) does the same), and data that ends early raises ``EOFError``. Other
    bytes after a complete stream that do not start another are ignored too, as ``gzip -d``
    does with a warning: their count is appended to ``trailing``.
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
        if compression_of((pending + bytes(view[position : position + 16]))[:16]) != label:
            if trailing is not None:
                trailing.append(len(pending) + len(view) - position)
            return


def peek_inflated(
    data: SourceData, label: str, limit: int = _PEEK_BYTES, trailing: list[int] | None = None
) -> tuple[bytes, int, bool]:
    """The decompressed content up to at least ``limit`` bytes (whole pieces), the compressed
    bytes consumed for it, and whether that is the whole content (then ``trailing`` holds the
    count of bytes ignored after the compressed data, if any)."""
    peeked: list[bytes] = []
    consumed, size = 0, 0
    try:
        for chunk, consumed in _inflate(data.buffer, label, trailing):
            peeked.append(chunk)
            size += len(chunk)
            if size >= limit:
                return b"".join(peeked), consumed, False
    except _DAMAGED as exc:
        raise _damaged(data, label, exc) from exc
    return b"".join(peeked), consumed, True


def decompress(data: SourceData, label: str) -> SourceData:
    """Check the start of the decompressed text, estimate the whole, then decompress in steps."""
    if data.compression is not None:
        raise RecsysError(f"{data.name} is compressed twice ({data.compression} inside): decompress it.")
    trailing: list[int] = []
    head, consumed, finished = peek_inflated(data, label, trailing=trailing)
    if not head:
        raise RecsysError(
            f"{data.name} is a {label} file that contains nothing: there are no ratings to load."
        )
    if compression_of(head[:16]) is not None:
        raise RecsysError(f"{data.name} is compressed twice ({label} inside {label}): decompress it first.")
    # A small archive of zeros or an image expands to gigabytes: judge it by its first megabyte.
    refuse_binary(head, data.name)
    if not head.startswith(b"PAR1") and utf16_encoding(pa.py_buffer(head)) is None:
        check_text(head[:SNIFF_BYTES], data.name, complete=finished and len(head) <= SNIFF_BYTES)
    size = len(head) if finished else _estimated_size(data, label, len(head), consumed)
    lines = max(head.count(b"\n"), 1)
    rows = size * lines / len(head)
    # The decompressed text itself plus the least any row costs: a lower bound, refined once the
    # columns are known.
    check_memory(data, rows, size + rows * BYTES_PER_ROW)
    if finished:  # the peek was the whole content
        notes = _trailing_notes(label, trailing)
        return SourceData(
            data.name, pa.py_buffer(head), label, budget=data.budget, held=len(head), notes=notes
        )
    del head
    limit, given = budget_of(data)
    content = bytearray()
    try:
        for chunk, _ in _inflate(data.buffer, label, trailing):
            content += chunk
            if limit is not None and len(content) > limit:
                del content
                raise memory_error(data, rows, limit + 1, limit, given, more_than=True)
    except _DAMAGED as exc:
        raise _damaged(data, label, exc) from exc
    notes = _trailing_notes(label, trailing)
    return SourceData(
        data.name, pa.py_buffer(content), label, budget=data.budget, held=len(content), notes=notes
    )


def _trailing_notes(label: str, trailing: list[int]) -> list[str]:
    if not trailing:
        return []
    return [
        f"Ignored {trailing[-1]:,} bytes of trailing garbage after the end of the {label} data, as "
        f"{label.replace('ip2', '')} -d does; the {label} data itself is complete."
    ]


def _estimated_size(data: SourceData, label: str, peeked: int, consumed: int) -> float:
    """The decompressed size, from the ratio of the first ``peeked`` bytes (and gzip's trailer)."""
    ratio_size = data.buffer.size * peeked / max(consumed, 1)
    trailer = int.from_bytes(tail_bytes(data.buffer, 4), "little") if label == "gzip" else 0
    # gzip's trailer holds the size modulo 4 GiB of the last member only: trust it when it
    # agrees, within a factor of 4, with the compression ratio of the first megabyte.
    return trailer if peeked <= trailer and ratio_size / 4 <= trailer <= ratio_size * 4 else ratio_size


def _damaged(data: SourceData, label: str, exc: Exception) -> RecsysError:
    return RecsysError(
        f"{data.name} is a truncated or damaged {label} file ({exc}); download or compress it again."
    )
