"""What the first bytes say: binary formats refused by their signatures, UTF-16 detected,
text checked for NUL and control bytes and for UTF-8."""

from __future__ import annotations

import pyarrow as pa

from recsys_core.errors import RecsysError

#: Bytes of a source looked at to tell its format, encoding and layout.
SNIFF_BYTES = 1 << 16

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel (.xls) or Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"\x80\x04\x95", "a Python pickle"),
)


def refuse_binary(head: bytes, name: str) -> None:
    """Refuse spreadsheets, images, archives and other binary formats by their first bytes."""
    if head.startswith(b"PAR1"):
        return
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise RecsysError(_zip_message(head, name))
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise RecsysError(
                f"{name} looks like {what}, not a ratings table: save the ratings as CSV, Parquet "
                "or JSON lines."
            )


def head_bytes(buffer: pa.Buffer, size: int) -> bytes:
    """The first ``size`` bytes (fewer if the buffer is shorter)."""
    return buffer.slice(0, min(size, buffer.size)).to_pybytes()


def tail_bytes(buffer: pa.Buffer, size: int) -> bytes:
    """The last ``size`` bytes (fewer if the buffer is shorter)."""
    size = min(size, buffer.size)
    return buffer.slice(buffer.size - size, size).to_pybytes()


def _zip_message(head: bytes, name: str) -> str:
    if b"xl/" in head:
        return (
            f"{name} looks like an Excel workbook, not a CSV file: open it in Excel or LibreOffice "
            "and export it as CSV (File > Save As > CSV UTF-8)."
        )
    if b"word/" in head:
        return f"{name} looks like a Word document, not a ratings table: export the ratings as CSV."
    if b"content.xml" in head and b"opendocument.spreadsheet" in head:
        return (
            f"{name} looks like a LibreOffice spreadsheet (.ods), not a CSV file: export it as CSV "
            "(File > Save As > Text CSV)."
        )
    return f"{name} is a ZIP archive: extract the ratings file from it and load that file."


def utf16_encoding(buffer: pa.Buffer) -> str | None:
    """The UTF-16/32 codec the text is in (by its BOM, or NUL bytes in ASCII text), else ``None``."""
    head = head_bytes(buffer, 4096)
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # Without a BOM, UTF-16 text of ASCII characters has a NUL in every other byte.
    if len(head) >= 4 and head.count(b"\x00") * 3 >= len(head):
        even, odd = head[0::2], head[1::2]
        if odd.count(b"\x00") >= 0.9 * len(odd) and even.count(b"\x00") <= 0.1 * len(even):
            return "utf-16-le"
        if even.count(b"\x00") >= 0.9 * len(even) and odd.count(b"\x00") <= 0.1 * len(odd):
            return "utf-16-be"
    return None


def check_text(head: bytes, name: str, *, complete: bool) -> None:
    """Refuse non-text bytes early, with the line of the first bad byte.

    ``complete``: ``head`` is the whole file, so a character cut at its end is an error too.
    """
    if b"\x00" in head:
        raise RecsysError(
            f"{name} is a binary file (it contains NUL bytes), not text: save the ratings as CSV "
            "(UTF-8), Parquet or JSON lines."
        )
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if controls > max(8, len(head) // 100):
        raise RecsysError(
            f"{name} is a binary file ({controls} control bytes in its first {len(head):,}), not "
            "text: save the ratings as CSV (UTF-8), Parquet or JSON lines."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniffing window is fine.
        if complete or not (exc.reason == "unexpected end of data" and exc.start >= len(head) - 3):
            raise _not_utf8(name, head, exc.start) from exc


def _not_utf8(name: str, text: bytes, position: int) -> RecsysError:
    return not_utf8_at(name, text.count(b"\n", 0, position) + 1, text[position])


def not_utf8_at(name: str, line: int, byte: int) -> RecsysError:
    """The message for a byte that UTF-8 does not allow, with its line."""
    return RecsysError(
        f"{name} is not UTF-8 text: line {line:,} has the byte 0x{byte:02X}, which UTF-8 does "
        "not allow (the file is probably in a legacy encoding such as Windows-1252). Save it as "
        "'CSV UTF-8' (Excel) or re-encode it, e.g. iconv -f cp1252 -t utf-8."
    )
