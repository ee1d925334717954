"""Build the corpus of bad and odd ratings files in ``tests/data/corpus/``.

Small files are committed; this script is how they were made (``python tests/data/make_corpus.py``
rewrites them, byte for byte the same except the Parquet files, whose metadata names the
pyarrow version). Large files (a 200 MB line, ten million columns, a gzip bomb) are never
committed: ``tests/test_corpus.py`` calls :data:`GENERATED` to write them into a temporary
folder. What each file must do when loaded is declared in ``corpus/EXPECTATIONS.toml``.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

RATINGS = "UserID,ProductID,Rating\n"


def _png() -> bytes:
    """A valid 1x1 transparent PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _xlsx() -> bytes:
    """A minimal but well-formed Excel workbook (Office Open XML in a ZIP) with three ratings."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="ratings" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><sheetData>'
            + "".join(
                f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{u}</t></is></c>'
                f'<c r="B{r}" t="inlineStr"><is><t>{i}</t></is></c><c r="C{r}"><v>{s}</v></c></row>'
                for r, (u, i, s) in enumerate([("A1", "0001", 5), ("A2", "0002", 3), ("A3", "0001", 4)], 1)
            )
            + "</sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def _xls() -> bytes:
    """The 512-byte header of an OLE2 compound file, which is what an Excel 97-2003 .xls starts with."""
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # signature
        + b"\x00" * 16  # CLSID
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)  # versions, byte order, sector shifts
        + b"\x00" * 6
        + struct.pack("<IIIIIIII", 0, 1, 1, 0, 0x1000, 0xFFFFFFFE, 0, 0xFFFFFFFE)
        + struct.pack("<I", 0)
    )
    return header + b"\xff" * (512 - len(header))


def _gzip(content: bytes) -> bytes:
    # mtime=0 keeps the bytes the same on every run.
    return gzip.compress(content, mtime=0)


def _truncated_gzip() -> bytes:
    rows = "".join(f"A{u * 7919 % 100003:06d},{u * 104729 % 99991:010d},{1 + u % 5}\n" for u in range(3000))
    whole = _gzip((RATINGS + rows).encode())
    return whole[: len(whole) // 2]


def _parquet(**columns) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def _parquet_files() -> dict[str, bytes]:
    import pyarrow as pa

    ids = {"user": ["A1", "A2", "A3"], "item": ["0001", "0002", "0003"]}
    return {
        "parquet_rating_text.parquet": _parquet(**ids, rating=["5", "good", "4"]),
        "parquet_float_ids.parquet": _parquet(
            user=[1.0, 2.0, 3.0], item=["0001", "0002", "0003"], rating=[5, 3, 4]
        ),
        "parquet_int_ids.parquet": _parquet(
            user=pa.array([10, 11, 12, 10], pa.int64()),
            item=pa.array([7, 8, 7, 8], pa.int32()),
            rating=pa.array([5, 3, 4, 2], pa.int8()),
        ),
        "parquet_nested_rating.parquet": _parquet(
            **ids, rating=pa.array([[5], [3, 4], []], pa.list_(pa.int64()))
        ),
        "parquet_struct_item.parquet": _parquet(
            user=["A1", "A2", "A3"],
            item=pa.array([{"asin": "0001"}, {"asin": "0002"}, {"asin": "0003"}]),
            rating=[5, 3, 4],
        ),
    }


def _json_lines(count: int, broken: dict[int, str], blank: set[int] = frozenset()) -> bytes:
    """``count`` lines of JSON records; line numbers (1-based) in ``broken`` replaced, in ``blank`` empty."""
    lines = []
    for number in range(1, count + 1):
        if number in blank:
            lines.append("")
        elif number in broken:
            lines.append(broken[number])
        else:
            record = {"user_id": f"U{number}", "asin": f"B{number % 7:09d}", "rating": 1 + number % 5}
            lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def committed_files() -> dict[str, bytes]:
    """Every committed corpus file, by name."""
    utf16_text = (
        "UserID\tProductID\tRating\r\nMüller\t0594481813\t5\r\nÇelik\tB00001\t3\r\nMüller\tB00001\t4\r\n"
    )
    be_text = "UserID,ProductID,Rating\nA1,0594481813,5\nZoë,B00001,2\n"
    special = (
        RATINGS
        + '"Smith, John",0594481813,5\n'
        + '"O""Brien","B00 ""X""",4\n'
        + "Müller,caf\u00e9,3\n"  # é as one code point (NFC)
        + "Müller,cafe\u0301,2\n"  # e + combining acute (NFD): a different ID
        + "\U0001f44d\U0001f3fdfan,\U0001f3a7-pro,1\n"
        + '" 007 ","=HYPERLINK(""http://x"")",5\n'
    )
    scale_0_10 = RATINGS + "".join(f"u{k:02d},i{k % 3},{min(k, 10)}\n" for k in range(12))
    budget = RATINGS + "".join(f"A{k:04d},B{k % 37:09d},{1 + k % 5}\n" for k in range(200))
    files = {
        "empty.csv": b"",
        "header_only.csv": b"UserID,ProductID,Rating,Timestamp\r\n",
        "no_rating_column.csv": b"user_id,prod_id,review_title\nA1,0594481813,Great cable\nA2,B00001,Broke\n",
        "no_id_column.csv": b"Rating,Comment,Date\n5,great,2014-01-01\n3,ok,2014-01-02\n",
        "non_numeric_ratings.csv": (RATINGS + "A1,0001,5\nA2,0002,five\nA3,0003,4\nA4,0004,good\n").encode(),
        "missing_ratings.csv": (RATINGS + "A1,0001,5\nA2,0002,\nA3,0003,4\nA4,0004,\n").encode(),
        "spreadsheet_xlsx.csv": _xlsx(),
        "old_excel_xls.csv": _xls(),
        "image_png.csv": _png(),
        "utf16_le_bom_tabs.csv": ("\ufeff" + utf16_text).encode("utf-16-le"),
        "utf16_be_bom.csv": ("\ufeff" + be_text).encode("utf-16-be"),
        "utf16_be_no_bom.csv": be_text.encode("utf-16-be"),
        "utf8_bom.csv": ("\ufeff" + RATINGS + "A1,0594481813,5\nA2,B00001,3\n").encode(),
        "mixed_delimiters.csv": (RATINGS + "A1,0001,5\nA2;0002;4\nA3,0003,3\nA4;0004;2\n").encode(),
        "quoted_newlines.csv": (
            b'UserID,ProductID,Rating,Review\nA1,0001,5,"Great.\nWould buy again."\n'
            b'A2,0002,3,"ok, I guess"\nA3,0001,4,"two\n\nparagraphs"\n'
        ),
        "quoted_newlines_bad_rating.csv": (
            b'UserID,ProductID,Rating,Review\nA1,0001,5,"Great.\nWould buy again."\n'
            b'A2,0002,x,"ok"\nA3,0001,4,"two\n\nparagraphs"\nA4,0003,y,"z"\n'
        ),
        "rating_with_stars.csv": (RATINGS + "A1,0001,5 stars\nA2,0002,4 stars\nA3,0003,1 star\n").encode(),
        "negative_scale.csv": (
            RATINGS + "A1,0001,-2\nA2,0002,-1\nA3,0003,0\nA4,0004,1\nA5,0005,2\n"
        ).encode(),
        "scale_0_to_10.csv": scale_0_10.encode(),
        "nan_inf_ratings.csv": (
            RATINGS + "A1,0001,5\nA2,0002,nan\nA3,0003,inf\nA4,0004,-inf\nA5,0005,NaN\nA6,0006,3\n"
        ).encode(),
        "one_user.csv": (
            b"UserID,ProductID,Rating,Timestamp\nA1,0001,5,1400000000\nA1,0002,3,1400000100\n"
            b"A1,0003,4,1400000200\nA1,0004,1,1400000300\n"
        ),
        "one_product.csv": (
            b"UserID,ProductID,Rating,Timestamp\nA1,0001,5,1400000000\nA2,0001,3,1400000100\n"
            b"A3,0001,4,1400000200\nA4,0001,1,1400000300\n"
        ),
        "one_rating_value.csv": (RATINGS + "A1,0001,4\nA2,0002,4\nA3,0001,4\n").encode(),
        "zero_bytes.csv.gz": b"",
        "gzip_of_nothing.csv.gz": _gzip(b""),
        "truncated.csv.gz": _truncated_gzip(),
        "ids_special.csv": special.encode(),
        "broken_line.jsonl": _json_lines(3, {2: '{"user_id": "U2", "asin": "B2", "rating"'}),
        "broken_line_late.jsonl": _json_lines(
            80, {75: '{"user_id": "U75", "asin": "B75" "rating": 3}'}, blank={10}
        ),
        "json_field_changes_type.jsonl": _json_lines(
            60, {58: '{"user_id": "U58", "asin": "B000000002", "rating": "five"}'}
        ),
        "json_array.json": (
            b'[{"user_id": "U1", "asin": "0001", "rating": 5},\n'
            b' {"user_id": "U2", "asin": "0002", "rating": 2},\n'
            b' {"user_id": "U1", "asin": "0002", "rating": 4}]\n'
        ),
        "json_array_mixed_types.json": (
            b'[{"user": "U1", "item": "0001", "rating": 5}, {"user": "U2", "item": "0002", "rating": "two"}]'
        ),
        "json_array_of_numbers.json": b"[1, 2, 3]\n",
        "crlf_iso_dates.csv": (
            b"UserID,ProductID,Rating,Timestamp\r\nA1,0001,5,2014-07-23\r\nA2,0002,3,2014-07-24\r\n"
        ),
        "trailing_empty_lines.csv": (RATINGS + "A1,0001,5\nA2,0002,3\n\n\n   \n\t\n\n").encode(),
        "excel_trailing_delimiters.csv": b"UserID,ProductID,Rating\r\nA1,0001,5\r\nA2,0002,3\r\n,,\r\n,,\r\n",
        "empty_row_then_bad_rating.csv": (RATINGS + "A1,0001,5\n,,\nA2,0002,x\n").encode(),
        "duplicate_header_rating.csv": b"UserID,ProductID,Rating,Rating\nA1,0001,5,1\nA2,0002,3,2\n",
        "duplicate_header_other.csv": b"UserID,ProductID,Rating,Note,Note\nA1,0001,5,a,b\nA2,0002,3,c,d\n",
        "mixed_timestamps.csv": (
            b"UserID,ProductID,Rating,Timestamp\nA1,0001,5,2014-01-01\nA2,0002,4,1365811200\n"
            b"A3,0003,3,yesterday\nA4,0004,2,2014-01-04\n"
        ),
        "unix_milliseconds.csv": (
            b"UserID,ProductID,Rating,Timestamp\nA1,0001,5,1588687728923\nA2,0002,3,1262304000000\n"
        ),
        "html_page.csv": (
            b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
            b"<body><form>Please, sign in to download ratings.csv</form></body></html>\n"
        ),
        "legacy_cp1252.csv": (RATINGS + "A1,0001,5\nCafé,0002,4\n").encode("cp1252"),
        "prose.csv": b"These are my ratings\nI liked most of them\n",
        "memory_budget.csv": budget.encode(),
        "memory_budget.csv.gz": _gzip(budget.encode()),
    }
    files.update(_parquet_files())
    files.update(_issue12_files())
    return files


def _issue12_files() -> dict[str, bytes]:
    """Issue 12: IDs over the length limit, day/month order, Excel's sep= line, messages."""
    dated = "UserID,ProductID,Rating,Date\n"
    return {
        "id_too_long.csv": (RATINGS + "A1,0001,5\nA2,0002,3\n" + "X" * 1001 + ",0003,4\n").encode(),
        "dates_day_first.csv": (
            dated + "A1,0001,5,02/03/2014\nA2,0002,3,13/02/2014\nA3,0003,4,01/04/2014\n"
        ).encode(),
        "dates_month_first.csv": (dated + "A1,0001,5,02/03/2014\nA2,0002,3,02/13/2014\n").encode(),
        "dates_ambiguous.csv": (dated + "A1,0001,5,01/02/2014\nA2,0002,3,02/03/2014\n").encode(),
        "dates_conflicting.csv": (dated + "A1,0001,5,13/02/2014\nA2,0002,3,02/13/2014\n").encode(),
        "excel_sep_hint.csv": b"sep=;\r\nUserID;ProductID;Rating\r\nA1;0001;5\r\nA2;0002;3\r\nA3;0001;x\r\n",
        "excel_sep_hint_ok.csv": b"sep=;\nUserID;ProductID;Rating\nA1;0001;5\nA2;0002;4,5\n",
        "jsonl_duplicate_key.jsonl": (
            b'{"user_id": "U1", "user_id": "U9", "asin": "B1", "rating": 5}\n'
            b'{"user_id": "U2", "asin": "B2", "rating": 3}\n'
        ),
        "gzip_trailing_garbage.csv.gz": _gzip((RATINGS + "A1,0001,5\nA2,0002,3\n").encode())
        + b"\nthis is not gzip\n",
        "scale_0_1.csv": (RATINGS + "".join(f"u{k},i{k % 4},{k % 2}\n" for k in range(8))).encode(),
    }


# -------------------------------------------------------------------------------------------
# Large files, written at test time
# -------------------------------------------------------------------------------------------

_MB = 1 << 20


def ten_million_columns(folder: Path) -> Path:
    """One line of ten million comma-separated fields (20 MB), then a newline."""
    path = folder / "ten_million_columns.csv"
    with path.open("wb") as out:
        for _ in range(10):
            out.write(b"1," * 1_000_000)
        out.write(b"\n")
    return path


def wide_header(folder: Path) -> Path:
    """A 20,001-field header (40 kB: inside the first megabyte) and one row."""
    path = folder / "wide_header.csv"
    path.write_bytes(b",".join(b"c%d" % k for k in range(20_001)) + b"\n" + b"1," * 20_000 + b"1\n")
    return path


def line_200mb(folder: Path) -> Path:
    """200 MB of letters without a single line break."""
    path = folder / "line_200mb.csv"
    block = b"abcdefgh" * (_MB // 8)
    with path.open("wb") as out:
        for _ in range(200):
            out.write(block)
    return path


def line_200mb_after_header(folder: Path) -> Path:
    """A good header and rating, then a 200 MB line with commas and no line break at its end."""
    path = folder / "line_200mb_after_header.csv"
    block = b"abc,def," * (_MB // 8)
    with path.open("wb") as out:
        out.write(RATINGS.encode() + b"A1,0001,5\n")
        for _ in range(200):
            out.write(block)
    return path


def gzip_bomb(folder: Path) -> Path:
    """200 kB of gzip that expands to 208 MB of NUL bytes (13 members of 16 MB each)."""
    path = folder / "gzip_bomb.csv.gz"
    member = _gzip(bytes(16 * _MB))
    path.write_bytes(member * 13)
    return path


def text_bomb(folder: Path) -> Path:
    """3 MB of gzip that expands to 2 GB of ratings (a header, then 128 members of 16 MB each).

    Each member's trailer says 16 MB, so only the compression ratio of the first megabyte shows
    the real size: the memory guard must refuse the file before inflating it.
    """
    path = folder / "text_bomb.csv.gz"
    row = b"A000000001,B000000001,5\n"
    member = _gzip(row * (16 * _MB // len(row)))
    with path.open("wb") as out:
        out.write(_gzip(RATINGS.encode()))
        for _ in range(128):
            out.write(member)
    return path


def a_folder(folder: Path) -> Path:
    path = folder / "ratings_folder.csv"
    path.mkdir()
    (path / "ratings.csv").write_bytes(RATINGS.encode() + b"A1,0001,5\nA2,0002,3\n")
    return path


def missing_file(folder: Path) -> Path:
    return folder / "no_such_file.csv"


def long_ids(folder: Path) -> Path:
    """Issue 12: 4,000 customers (720 kB), three rows with a 150,000-character ID."""
    path = folder / "long_ids.csv"
    rows = [f"C{k:05d},B{k % 50:09d},{1 + k % 5}\n" for k in range(4000)]
    for k in (100, 2000, 3500):
        rows[k] = "X" * 150_000 + f"{k},B000000001,5\n"
    path.write_bytes((RATINGS + "".join(rows)).encode())
    return path


def dictionary_one_id(folder: Path) -> Path:
    """A 7 kB Parquet file: one 100,000-character ID repeated 30,000 times (3 GB decoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "dictionary_one_id.parquet"
    count = 30_000
    users = pa.DictionaryArray.from_arrays(pa.array([0] * count, pa.int32()), pa.array(["U" * 100_000]))
    items = pa.array([f"B{k % 10}" for k in range(count)])
    pq.write_table(
        pa.table({"user": users, "item": items, "rating": pa.array([1 + k % 5 for k in range(count)])}), path
    )
    return path


def dictionary_many_ids(folder: Path) -> Path:
    """A 6 MB Parquet file: 2 million rows of 1,000 distinct 900-character IDs (1.8 GB decoded)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "dictionary_many_ids.parquet"
    count = 2_000_000
    rng = np.random.default_rng(12)
    names = pa.array([f"{k:04d}" + "x" * 896 for k in range(1000)])
    users = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 1000, count, dtype=np.int32)), names)
    items = pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, 500, count, dtype=np.int32)), pa.array([f"B{k:09d}" for k in range(500)])
    )
    ratings = pa.array(rng.integers(1, 6, count).astype(np.int8))
    pq.write_table(pa.table({"user": users, "item": items, "rating": ratings}), path)
    return path


def unclosed_quote(folder: Path) -> Path:
    """150 MB of good rows after a quote that is never closed on line 3."""
    path = folder / "unclosed_quote.csv"
    block = b"A3,0003,4\n" * (_MB // 10)
    with path.open("wb") as out:
        out.write(RATINGS.encode() + b'A1,0001,5\nA2,"0002,3\n')
        for _ in range(150):
            out.write(block)
    return path


#: Builders of the files that are written at test time, by corpus case name.
GENERATED: dict[str, Callable[[Path], Path]] = {
    "ten_million_columns.csv": ten_million_columns,
    "wide_header.csv": wide_header,
    "line_200mb.csv": line_200mb,
    "line_200mb_after_header.csv": line_200mb_after_header,
    "gzip_bomb.csv.gz": gzip_bomb,
    "text_bomb.csv.gz": text_bomb,
    "ratings_folder.csv": a_folder,
    "no_such_file.csv": missing_file,
    "long_ids.csv": long_ids,
    "dictionary_one_id.parquet": dictionary_one_id,
    "dictionary_many_ids.parquet": dictionary_many_ids,
    "unclosed_quote.csv": unclosed_quote,
}


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for name, content in committed_files().items():
        (CORPUS / name).write_bytes(content)
    print(f"wrote {len(committed_files())} files to {CORPUS}")


if __name__ == "__main__":
    main()
