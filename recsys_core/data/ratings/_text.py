"""Small helpers shared by the loader's modules: name folding and the wording of messages."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from recsys_core.errors import RecsysError

SHOWN_ROWS = 5  # offending rows quoted in a message


def normalise(name: object) -> str:
    """A column name folded for matching: lower case, letters and digits only (``User_ID`` -> ``userid``)."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def name_list(names: Sequence[str]) -> str:
    """``'a', 'b', 'c'`` (the first 20 names, then how many more) for messages."""
    shown = [repr(str(n)) for n in names[:20]]
    more = f" and {len(names) - 20} more" if len(names) > 20 else ""
    return (", ".join(shown) or "(none)") + more


def size_text(size: float) -> str:
    """A byte count for messages: ``3 KB``, ``12 MB``, ``1.5 GB``."""
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} GB"
    if size >= 1 << 20:
        return f"{size / (1 << 20):.0f} MB"
    return f"{max(size / 1024, 1):.0f} KB"


def count_text(count: int, noun: str) -> str:
    """``"1 row"``, ``"1,234 rows"``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def count_are(count: int, noun: str) -> str:
    """``"1 value is"``, ``"3 values are"``."""
    return count_text(count, noun) + (" is" if count == 1 else " are")


def format_rating(value: float) -> str:
    """``5.0 -> "5"``, ``4.5 -> "4.5"``: the shortest text that reads back as the same number."""
    return np.format_float_positional(float(value), trim="-")


def wrap_error(exc: Exception, name: str, what: str) -> RecsysError:
    """Explain a failure that got past the specific checks (the parser's words, in context)."""
    if isinstance(exc, UnicodeError):
        detail = "it is not valid UTF-8 text; save it as CSV UTF-8"
    elif isinstance(exc, EOFError | zlib.error):
        detail = f"the compressed data is truncated or damaged ({exc}); compress it again"
    elif isinstance(exc, MemoryError):
        detail = "it does not fit in memory; load a smaller sample"
    elif isinstance(exc, PermissionError):
        detail = "permission denied; check that the file can be read"
    elif isinstance(exc, pa.ArrowException):
        detail = first_line(exc)
    else:
        detail = f"{type(exc).__name__}: {first_line(exc)}"
    return RecsysError(f"Could not read the {what} in {name}: {detail}.")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text (its class name if it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__
