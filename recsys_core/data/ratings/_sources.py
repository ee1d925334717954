"""Source bytes: paths, uploads and bytes opened, decompressed and decoded to UTF-8."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from recsys_core.data.ratings._compression import compression_of, decompress, peek_inflated
from recsys_core.data.ratings._content import (
    SNIFF_BYTES,
    check_text,
    head_bytes,
    refuse_binary,
    utf16_encoding,
)
from recsys_core.data.ratings._memory import check_memory
from recsys_core.data.ratings._types import SourceData
from recsys_core.errors import RecsysError


def source_name(source: object) -> str:
    """The name messages use for a source: its path, its ``name``, or ``uploaded file``."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, str | os.PathLike) and str(name) else "uploaded file"


def open_source(source: object, name: str, budget: int | None = None) -> SourceData:
    """The bytes of a path, upload or bytes object, decompressed and decoded to UTF-8."""
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
    return _decode(SourceData(name, buffer, budget=budget))


def open_head(source: bytes, name: str, max_bytes: int) -> SourceData:
    """The first ``max_bytes`` of a source's text in whole lines, decompressed and decoded as
    :func:`open_source` does; the whole source when it is that short, or Parquet (its schema is
    in its footer)."""
    data = SourceData(name, pa.py_buffer(bytes(source)))
    label = compression_of(head_bytes(data.buffer, 16))
    if label is None:
        head, complete = head_bytes(data.buffer, max_bytes), data.buffer.size <= max_bytes
    else:
        head, _, finished = peek_inflated(data, label, max_bytes)
        complete = finished and len(head) <= max_bytes
        head = head[:max_bytes]
    if complete or head.startswith(b"PAR1") or compression_of(head[:16]) is not None:
        return open_source(source, name)
    encoding = utf16_encoding(pa.py_buffer(head))
    if encoding is not None:
        # The cut may fall inside a character, and only the names are wanted: decode leniently.
        head = head.decode(encoding, errors="ignore").removeprefix("\ufeff").encode("utf-8")
    head = head[: head.rfind(b"\n") + 1] or head  # the last line is cut
    return _decode(SourceData(name, pa.py_buffer(head), label))


def _read_file_object(source: BinaryIO, name: str) -> bytes:
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


def _decode(data: SourceData) -> SourceData:
    """Undo compression and non-UTF-8 encodings; refuse binary formats with a useful message."""
    label = compression_of(head_bytes(data.buffer, 16))
    if label is not None:
        return _decode(decompress(data, label))
    head = head_bytes(data.buffer, SNIFF_BYTES)
    refuse_binary(head, data.name)
    if head.startswith(b"PAR1"):
        return data
    text_encoding = utf16_encoding(data.buffer)
    if text_encoding is not None:
        text = _transcode(data, text_encoding)
        held = data.held + text.size
        return SourceData(data.name, text, data.compression, "utf-16", data.budget, held, data.notes)
    if head.startswith(b"\xef\xbb\xbf"):
        data = SourceData(
            data.name, data.buffer.slice(3), data.compression, "utf-8-sig", data.budget, data.held, data.notes
        )
        if data.buffer.size == 0:
            raise RecsysError(f"{data.name} contains only a byte-order mark: there are no ratings to load.")
        head = head[3:]
    check_text(head, data.name, complete=data.buffer.size <= len(head))
    return data


def _transcode(data: SourceData, encoding: str) -> pa.Buffer:
    # UTF-16 doubles the text and the UTF-8 copy is held beside it: check before decoding.
    check_memory(data, data.buffer.size / 64, 2 * data.buffer.size)
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
