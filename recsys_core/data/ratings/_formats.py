"""Which reader a source needs (Parquet, JSON lines, JSON array or CSV), by its first bytes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from recsys_core.data.ratings._columns import Spec
from recsys_core.data.ratings._content import SNIFF_BYTES, head_bytes
from recsys_core.data.ratings._csv import read_csv
from recsys_core.data.ratings._json import read_json_array, read_json_lines
from recsys_core.data.ratings._parquet import read_parquet
from recsys_core.data.ratings._types import RawTable, SourceData
from recsys_core.errors import RecsysError

_READERS = {"parquet": read_parquet, "jsonl": read_json_lines, "json": read_json_array, "csv": read_csv}


def format_of(data: SourceData) -> str:
    """``parquet``, ``jsonl``, ``json`` or ``csv``, from the first bytes; markup is refused."""
    if head_bytes(data.buffer, 4) == b"PAR1":
        return "parquet"
    head = head_bytes(data.buffer, SNIFF_BYTES).lstrip()
    if not head:
        raise RecsysError(f"{data.name} contains no data (only blank lines): there are no ratings to load.")
    if head[:1] == b"<":
        _refuse_markup(head[:512].lower(), data.name)
    return {b"{": "jsonl", b"[": "json"}.get(head[:1], "csv")


def read_table(data: SourceData, spec: Spec, given: Mapping[str, str]) -> RawTable:
    """Role-named columns of the source, by the reader its format needs."""
    kind = format_of(data)
    suffix = f".{data.compression.replace('gzip', 'gz')}" if data.compression else ""
    return _READERS[kind](data, spec, given, kind + suffix)


def _refuse_markup(start: bytes, name: str) -> None:
    """A web page or XML saved under a .csv name: say so instead of "single column"."""
    if re.match(rb"<!doctype html|<html|<head|<body|<!--", start) or b"<html" in start:
        raise RecsysError(
            f"{name} is a web page (HTML), not a ratings table: the download probably returned a "
            "sign-in or error page. Download the file itself (for example with Save Link As) and load that."
        )
    first_line = start.split(b"\n", 1)[0]
    tag_only = re.match(rb"<[a-z_][\w.-]*[ >]", start) and not re.search(rb"[,;\t|]", first_line)
    if start.startswith(b"<?xml") or tag_only:
        raise RecsysError(
            f"{name} is an XML document, not a ratings table: export the ratings as CSV, Parquet or "
            "JSON lines."
        )
